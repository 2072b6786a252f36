//! Every kernel mode's generated CUDA compiles with NVRTC for sm_90 (CI, no GPU; fails without
//! NVRTC). The global, stencil and FDTD examples are transpiled from their Rust source; ring mode
//! is compiled inside the real persistent actor kernel.

mod common;

use ringkernel_core::ActorVTable;
use ringkernel_cuda::nvrtc::testing::compile_sm90;
use ringkernel_cuda::program::{persistent_source, KERNEL_NAME};
use ringkernel_ir::kernel::ring::emit_ring_handler;
use ringkernel_kernels::examples::counter::{self, IrCounter};

#[test]
fn global_kernel_compiles() {
    let src = common::axpy_source();
    let ptx = compile_sm90("axpy_kernel.cu", &src);
    assert!(ptx.ptx.contains(&format!(".entry {}", common::AXPY_KERNEL)));
    assert!(ptx.ptx.contains("fma.rn.f32"), "mul_add must stay one FMA");
    // Transpiled from `&[f32]` / `&mut [f32]`: each slice arrives with its length, and an index
    // past it traps where Rust panics.
    assert!(src.contains(&format!(
        "{}(unsigned int rk_n, float rk_p1, const float* rk_p2, unsigned long long rk_p3, float* rk_p4, unsigned long long rk_p5)",
        common::AXPY_KERNEL
    )));
    assert!(
        ptx.ptx.contains("trap;"),
        "the bounds checks reach the device"
    );
}

#[test]
fn stencil_kernels_compile() {
    // The slice form: the tile comes with its cell count, (16 + 4) * (8 + 4) and
    // (8 + 2) * (8 + 2) * (4 + 2), then the cell and the pitches.
    let (s2, s3) = (common::cross2d_source(), common::heat3d_source());
    assert!(
        s2.contains("cross2d(rk_tile, 240ull, c, 20u, x, y, rk_p"),
        "{s2}"
    );
    assert!(
        s3.contains("heat3d(rk_tile, 600ull, c, 10u, 100u, x, y, z, rk_p"),
        "{s3}"
    );
    let p2 = compile_sm90("cross2d_kernel.cu", &common::cross2d_source());
    assert!(p2
        .ptx
        .contains(&format!(".entry {}", common::CROSS2D_KERNEL)));
    assert!(
        p2.ptx.contains(".shared"),
        "the tile lives in shared memory"
    );
    assert!(p2.ptx.contains("bar.sync"));
    let p3 = compile_sm90("heat3d_kernel.cu", &common::heat3d_source());
    assert!(p3
        .ptx
        .contains(&format!(".entry {}", common::HEAT3D_KERNEL)));
    assert!(p3.ptx.contains(".shared"));
}

#[test]
fn fdtd_kernel_compiles() {
    let src = common::fdtd_source();
    // The slice form: each field comes with its length, `n = nx * ny`.
    assert!(src.contains("wave_cell(f[cur], n, f[prev], n, (unsigned int)i, p.nx, p.coef)"));
    let ptx = compile_sm90("wave_fdtd.cu", &src);
    assert!(ptx.ptx.contains(&format!(".entry {}", common::FDTD_KERNEL)));
    // System-scope acquire/release on the mailbox, and the nanosleep in the idle loop.
    assert!(ptx.ptx.contains(".sys"), "no system-scope operations");
    assert!(ptx.ptx.contains("nanosleep"));
}

#[test]
fn ring_handler_compiles_inside_the_persistent_kernel() {
    let h = emit_ring_handler(&counter::module(), counter::FUNCTION).unwrap();
    assert_eq!(
        (
            h.state_type.as_str(),
            h.msg_type.as_str(),
            h.reply_type.as_str()
        ),
        ("Total", "Add", "Total")
    );
    assert!(h.struct_defs.contains("typedef rk_ctx RingCtx;"));
    assert!(h.struct_defs.contains("static_assert(sizeof(Total) == 16"));
    assert!(h
        .source
        .contains("__device__ int counter_handle(Total* s_0, const Add* m_1, Total* r_2, const RingCtx* ctx_3)"));
    let vt = ActorVTable::of::<IrCounter>().unwrap();
    let src = persistent_source(&[vt], false).unwrap();
    let ptx = compile_sm90("persistent_ir_counter.cu", &src);
    assert!(ptx.ptx.contains(&format!(".entry {KERNEL_NAME}")));
}

/// Mode variants the examples do not cover, as hand-built IR: a `u64` element index, an `f64`
/// stencil (pointer form) with a wide halo and fixed edges that calls a cooperative-groups
/// intrinsic (so the include is emitted), and an FDTD cell function in the pointer form.
#[test]
fn kernel_mode_variants_compile() {
    use ringkernel_ir::ir::{Expr, FunctionBuilder, Module, Place, ScalarType, Stmt, Type};
    use ringkernel_ir::kernel::{global, stencil};

    let mut f = FunctionBuilder::new("fill", Type::Void);
    let i = f.param("i", ScalarType::U64);
    let out = f.param("out", Type::ptr_mut(ScalarType::F64));
    let v = f.param("v", ScalarType::F64);
    f.push(Stmt::Store {
        place: Place::Index(Expr::local(out), Expr::local(i)),
        value: Expr::mul(Expr::local(v), Expr::cast(ScalarType::F64, Expr::local(i))),
    });
    let mut m = Module::new();
    m.functions.push(f.finish());
    let src = global::emit_global(&m, "fill", "fill_kernel").unwrap();
    assert!(src.contains("fill_kernel(unsigned long long rk_n, double* rk_p1, double rk_p2)"));
    let ptx = compile_sm90("fill_kernel.cu", &src);
    assert!(ptx.ptx.contains(".entry fill_kernel"));

    let mut f = FunctionBuilder::new("far", Type::Scalar(ScalarType::F64));
    let tile = f.param("tile", Type::ptr_const(ScalarType::F64));
    let c = f.param("c", ScalarType::U32);
    for n in ["sx", "x", "y"] {
        f.param(n, ScalarType::U32);
    }
    f.push(Stmt::Return(Some(Expr::add(
        Expr::index(Expr::local(tile), Expr::add(Expr::local(c), Expr::u32(3))),
        Expr::cast(ScalarType::F64, Expr::call("cluster_block_rank", vec![])),
    ))));
    let mut m = Module::new();
    m.functions.push(f.finish());
    let spec = stencil::StencilSpec {
        dims: 2,
        tile: [32, 4, 1],
        radius: 3,
        elem: ScalarType::F64,
        boundary: stencil::Boundary::CopyInput,
    };
    let src = stencil::emit_stencil(&m, "far", "far_kernel", &spec).unwrap();
    assert!(src.contains("#include <cooperative_groups.h>"));
    assert!(
        src.contains("__shared__ double rk_tile[380];"),
        "(32 + 6) * (4 + 6) cells"
    );
    let ptx = compile_sm90("far_kernel.cu", &src);
    assert!(ptx.ptx.contains(".entry far_kernel"));

    // The FDTD pointer form (fields without lengths), as hand-built IR writes it.
    let mut f = FunctionBuilder::new("hold", Type::Scalar(ScalarType::F32));
    let u = f.param("u", Type::ptr_const(ScalarType::F32));
    f.param("u_prev", Type::ptr_const(ScalarType::F32));
    let i = f.param("i", ScalarType::U32);
    f.param("nx", ScalarType::U32);
    f.param("coef", ScalarType::F32);
    f.push(Stmt::Return(Some(Expr::index(
        Expr::local(u),
        Expr::local(i),
    ))));
    let mut m = Module::new();
    m.functions.push(f.finish());
    let src = ringkernel_ir::kernel::fdtd::emit_fdtd_2d(&m, "hold", "hold_fdtd").unwrap();
    assert!(src.contains("hold(f[cur], f[prev], (unsigned int)i, p.nx, p.coef)"));
    let ptx = compile_sm90("hold_fdtd.cu", &src);
    assert!(ptx.ptx.contains(".entry hold_fdtd"));
}

/// Kernel functions written in Rust beyond the examples, transpiled for every mode: a `u64`
/// index over `f64` with loops, `match` and intrinsics; a wide-halo `f64` 2D stencil with fixed
/// edges; a 3D `f64` stencil; an FDTD cell with early returns.
#[test]
fn rust_kernel_functions_of_every_mode_compile() {
    use ringkernel_ir::ir::ScalarType;
    use ringkernel_ir::kernel::stencil::{Boundary, StencilSpec};
    use ringkernel_transpile::{transpile_kernel_fn, KernelMode};

    let src = r#"
        const STEPS: u32 = 8;
        pub fn poly(i: u64, c: &[f64], out: &mut [f64], n: u32) {
            let k = i as usize;
            if k >= out.len() { return; }
            let x = k as f64 / f64::max(out.len() as f64, 1.0);
            let mut acc = 0.0;
            for j in 0..c.len() { acc = acc.mul_add(x, c[j]); }
            let mut s = 0u32;
            while s < n.min(STEPS) { s += 1; if s % 5 == 4 { continue; } acc += 1.0; }
            out[k] = match s { 0 => acc, 1..=3 => -acc, _ => acc.abs().sqrt() };
        }
        pub fn wide(t: &[f64], c: u32, sx: u32, x: u32, _y: u32, w: f64) -> f64 {
            let c = c as usize;
            let mut s = 0.0;
            for d in 1..4usize { s += t[c + d] + t[c - d] + t[c + d * sx as usize]; }
            if x % 2 == 0 { w * s } else { s - t[c] }
        }
        #[allow(clippy::too_many_arguments)]
        pub fn box3(t: &[f64], c: u32, sx: u32, sxy: u32, _x: u32, _y: u32, _z: u32) -> f64 {
            let c = c as usize;
            t[c + sx as usize] - t[c - sxy as usize]
        }
        pub fn damped(u: &[f32], up: &[f32], i: u32, nx: u32, coef: f32) -> f32 {
            let i = i as usize;
            if coef <= 0.0 { return u[i]; }
            let lap = u[i + 1] + u[i - 1] + u[i + nx as usize] + u[i - nx as usize] - 4.0 * u[i];
            0.99 * coef.mul_add(lap, 2.0 * u[i] - up[i])
        }
    "#;
    let spec2 = StencilSpec {
        dims: 2,
        tile: [32, 4, 1],
        radius: 3,
        elem: ScalarType::F64,
        boundary: Boundary::CopyInput,
    };
    let spec3 = StencilSpec {
        dims: 3,
        tile: [8, 4, 4],
        radius: 1,
        elem: ScalarType::F64,
        boundary: Boundary::Clamp,
    };
    for (f, mode, kernel) in [
        ("poly", KernelMode::Global, "poly_kernel"),
        ("wide", KernelMode::Stencil(spec2), "wide_kernel"),
        ("box3", KernelMode::Stencil(spec3), "box3_kernel"),
        ("damped", KernelMode::Fdtd2d, "damped_fdtd"),
    ] {
        let out =
            transpile_kernel_fn(src, f, &mode, kernel).unwrap_or_else(|d| panic!("{f}: {d:?}"));
        let ptx = compile_sm90(&format!("{kernel}.cu"), &out.cuda);
        assert!(ptx.ptx.contains(&format!(".entry {kernel}")), "{f}");
    }
}
