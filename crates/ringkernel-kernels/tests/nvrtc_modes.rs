//! Every kernel mode's generated CUDA compiles with NVRTC for sm_90 (CI, no GPU; fails without
//! NVRTC). Ring mode is compiled inside the real persistent actor kernel.

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
}

#[test]
fn stencil_kernels_compile() {
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

/// Mode variants the examples do not cover: a `u64` element index, an `f64` stencil with a wide
/// halo and fixed edges that calls a cooperative-groups intrinsic (so the include is emitted).
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
}
