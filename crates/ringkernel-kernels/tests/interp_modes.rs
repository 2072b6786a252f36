//! The transpiled example functions, run by the IR interpreter, agree with the same Rust
//! functions compiled natively, on random inputs (proptest): equal results bit for bit (the
//! interpreter evaluates floats in the native order and precision, `mul_add` as one fused
//! operation), and a native panic (index out of bounds) exactly where the interpreter reports the
//! trap the device would take. (Ring-mode handlers use struct fields, which the interpreter does
//! not model; the ring example is checked on the GPU and by NVRTC instead.)

mod common;

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};

use proptest::prelude::*;
use ringkernel_ir::interp::{run_with_memory, InterpError, Value};
use ringkernel_ir::ir::{Function, Literal, Module};
use ringkernel_ir::kernel::stencil::run_on_cpu;
use ringkernel_ir::kernel::{fdtd, global, ring, stencil};
use ringkernel_ir::IrError;
use ringkernel_kernels::examples::{axpy, counter, stencils, wave};
use ringkernel_kernels::fdtd_cpu::FdtdCpu;

fn lits(v: &[f32]) -> Vec<Literal> {
    v.iter().map(|x| Literal::F32(*x)).collect()
}

fn floats(v: &[Literal]) -> Vec<f32> {
    v.iter()
        .map(|l| match l {
            Literal::F32(x) => *x,
            other => panic!("not f32: {other:?}"),
        })
        .collect()
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

fn function<'m>(m: &'m Module, name: &str) -> &'m Function {
    m.functions
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no function {name}"))
}

thread_local! {
    /// Set while a native call is expected to panic, so the panic hook stays quiet.
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f`, returning `None` if it panicked (without printing the expected panic).
fn native<T>(f: impl FnOnce() -> T) -> Option<T> {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(Cell::get) {
                default(info);
            }
        }));
    });
    QUIET.with(|q| q.set(true));
    let r = catch_unwind(AssertUnwindSafe(f)).ok();
    QUIET.with(|q| q.set(false));
    r
}

/// The trap a failed bounds check takes in the interpreter (the device's `__trap()`).
fn trapped(r: &Result<Option<Literal>, InterpError>) -> bool {
    matches!(r, Err(InterpError::DivideByZero))
}

fn f32s(max: usize) -> impl Strategy<Value = Vec<f32>> {
    prop::collection::vec(-1.0f32..1.0, 0..max)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Every index, in and past `y`, with `x` of any length: where `x` is shorter than `y` the
    /// native function panics and the transpiled one must trap at the same index.
    #[test]
    fn axpy_native_vs_interpreted(a in -2.0f32..2.0, x in f32s(40), y in f32s(40)) {
        let m = axpy::module().unwrap();
        let f = function(&m, axpy::FUNCTION);
        let mut want = y.clone();
        let mut mem = vec![lits(&x), lits(&y)];
        for i in 0..y.len() as u32 + 4 {
            let ok = native(|| axpy::kernel::axpy(i, a, &x, &mut want)).is_some();
            let args = [
                Value::Scalar(Literal::U32(i)),
                Value::Scalar(Literal::F32(a)),
                Value::Buffer(0),
                Value::Scalar(Literal::U64(x.len() as u64)),
                Value::Buffer(1),
                Value::Scalar(Literal::U64(y.len() as u64)),
            ];
            let r = run_with_memory(f, &args, &mut mem, 1000);
            prop_assert_eq!(ok, r.is_ok(), "index {}: native ok = {}, interpreter {:?}", i, ok, r);
            prop_assert!(ok || trapped(&r), "index {}: {:?}", i, r);
            prop_assert_eq!(bits(&floats(&mem[1])), bits(&want));
        }
    }

    /// The native cell function over the device's tiling vs the interpreter over the same tiling.
    #[test]
    fn cross2d_native_vs_interpreted(
        nx in 1usize..40, ny in 1usize..20, w1 in 0.0f32..0.3, w2 in 0.0f32..0.1, seed: u64,
    ) {
        let u = common::Rng(seed).vec(nx * ny);
        let got = run_on_cpu(
            &stencils::module().unwrap(),
            stencils::CROSS2D,
            &stencils::CROSS2D_SPEC,
            &lits(&u),
            [nx as u32, ny as u32, 1],
            &[Literal::F32(w1), Literal::F32(w2)],
        )
        .unwrap();
        let want = stencils::cross2d_cpu(&u, nx, ny, w1, w2).unwrap();
        prop_assert_eq!(bits(&floats(&got)), bits(&want));
    }

    #[test]
    fn heat3d_native_vs_interpreted(
        nx in 1usize..14, ny in 1usize..11, nz in 1usize..7, k in 0.0f32..0.16, seed: u64,
    ) {
        let n = [nx, ny, nz];
        let u = common::Rng(seed).vec(nx * ny * nz);
        let got = run_on_cpu(
            &stencils::module().unwrap(),
            stencils::HEAT3D,
            &stencils::HEAT3D_SPEC,
            &lits(&u),
            n.map(|v| v as u32),
            &[Literal::F32(k)],
        )
        .unwrap();
        let want = stencils::heat3d_cpu(&u, n, k).unwrap();
        prop_assert_eq!(bits(&floats(&got)), bits(&want));
    }

    /// Every cell index, edges included: an edge cell reads outside the field (natively a
    /// panic), and the transpiled function must trap there too.
    #[test]
    fn wave_cell_native_vs_interpreted(
        nx in 1usize..10, ny in 1usize..8, coef in 0.0f32..0.5, seed: u64,
    ) {
        let mut rng = common::Rng(seed);
        let (u, prev) = (rng.vec(nx * ny), rng.vec(nx * ny));
        let m = wave::module().unwrap();
        let f = function(&m, wave::FUNCTION);
        let mut mem = vec![lits(&u), lits(&prev)];
        for i in 0..(nx * ny) as u32 {
            let want = native(|| wave::kernel::wave_cell(&u, &prev, i, nx as u32, coef));
            let n = Value::Scalar(Literal::U64((nx * ny) as u64));
            let args = [
                Value::Buffer(0),
                n,
                Value::Buffer(1),
                n,
                Value::Scalar(Literal::U32(i)),
                Value::Scalar(Literal::U32(nx as u32)),
                Value::Scalar(Literal::F32(coef)),
            ];
            let r = run_with_memory(f, &args, &mut mem, 1000);
            match want {
                Some(w) => prop_assert_eq!(r, Ok(Some(Literal::F32(w))), "cell {}", i),
                None => prop_assert!(trapped(&r), "cell {}: native panicked, interpreter {:?}", i, r),
            }
        }
    }
}

#[test]
fn wave_cell_interpreted_steps_the_fdtd_reference() {
    let mut rng = common::Rng(4);
    let (nx, ny, coef) = (12usize, 9usize, 0.3f32);
    let mut sim = FdtdCpu::new(nx, ny, coef, &rng.vec(nx * ny));
    sim.run(3);
    sim.inject(4, 5, 0.5);
    let m = wave::module().unwrap();
    let f = function(&m, wave::FUNCTION);
    // One more step by the interpreter, from the reference's current and previous fields.
    let cur = sim.field().to_vec();
    let prev = sim.previous().to_vec();
    let mut next = sim.clone();
    next.step();
    let want = next.field().to_vec();
    let mut mem = vec![lits(&cur), lits(&prev)];
    let n = Value::Scalar(Literal::U64((nx * ny) as u64));
    for y in 1..ny - 1 {
        for x in 1..nx - 1 {
            let i = y * nx + x;
            let args = [
                Value::Buffer(0),
                n,
                Value::Buffer(1),
                n,
                Value::Scalar(Literal::U32(i as u32)),
                Value::Scalar(Literal::U32(nx as u32)),
                Value::Scalar(Literal::F32(coef)),
            ];
            let got = run_with_memory(f, &args, &mut mem, 1000).unwrap();
            assert_eq!(got, Some(Literal::F32(want[i])), "cell ({x}, {y})");
        }
    }
}

#[test]
fn kernel_modes_reject_functions_that_break_their_contract() {
    // axpy as a stencil cell, the stencil cell as a global element function, and so on.
    let wrong = [
        global::emit_global(&stencils::module().unwrap(), stencils::CROSS2D, "k").err(),
        stencil::emit_stencil(
            &axpy::module().unwrap(),
            axpy::FUNCTION,
            "k",
            &stencils::CROSS2D_SPEC,
        )
        .err(),
        fdtd::emit_fdtd_2d(&axpy::module().unwrap(), axpy::FUNCTION, "k").err(),
        ring::emit_ring_handler(&wave::module().unwrap(), wave::FUNCTION).err(),
        stencil::emit_stencil(
            &stencils::module().unwrap(),
            stencils::CROSS2D,
            "k",
            &stencil::StencilSpec {
                radius: 200,
                ..stencils::CROSS2D_SPEC
            },
        )
        .err(),
    ];
    for (k, e) in wrong.into_iter().enumerate() {
        assert!(
            matches!(e, Some(IrError::KernelContract { .. })),
            "case {k}: {e:?}"
        );
    }
    assert!(matches!(
        global::emit_global(&axpy::module().unwrap(), "missing", "k"),
        Err(IrError::NoSuchFunction { .. })
    ));
    // The counter handler is a valid ring handler but not a global element function.
    assert!(ring::emit_ring_handler(&counter::module(), counter::FUNCTION).is_ok());
    assert!(global::emit_global(&counter::module(), counter::FUNCTION, "k").is_err());
}

#[test]
fn the_native_stencil_tiler_rejects_bad_grids_and_specs() {
    use ringkernel_kernels::stencil_cpu::run_native;
    let cell = |tile: &[f32], at: ringkernel_kernels::stencil_cpu::Cell| tile[at.c as usize];
    let spec = stencils::CROSS2D_SPEC;
    // Wrong length, empty grid, a 2D spec with nz > 1.
    assert!(run_native(&spec, &[0.0; 5], [2, 2, 1], cell).is_err());
    assert!(run_native(&spec, &[], [0, 3, 1], cell).is_err());
    assert!(run_native(&spec, &[0.0; 8], [2, 2, 2], cell).is_err());
    // Specs the kernel would reject: no arithmetic overflow, an error.
    for bad in [
        stencil::StencilSpec {
            tile: [0, 8, 1],
            ..spec
        },
        stencil::StencilSpec {
            tile: [u32::MAX, u32::MAX, 1],
            ..spec
        },
        stencil::StencilSpec {
            radius: u32::MAX,
            ..spec
        },
        stencil::StencilSpec { dims: 4, ..spec },
    ] {
        assert!(
            run_native(&bad, &[0.0; 4], [2, 2, 1], cell).is_err(),
            "{bad:?}"
        );
    }
    // The identity cell function returns the grid.
    let u: Vec<f32> = (0..35).map(|v| v as f32).collect();
    assert_eq!(run_native(&spec, &u, [7, 5, 1], cell).unwrap(), u);
}

/// Hand-built IR in the stencil mode's pointer form (no tile length) still runs: an identity
/// cell function returns the grid.
#[test]
fn the_stencil_pointer_form_runs_through_the_interpreter() {
    use ringkernel_ir::ir::{Expr, FunctionBuilder, ScalarType, Stmt, Type};
    let mut f = FunctionBuilder::new("id", Type::Scalar(ScalarType::F32));
    let tile = f.param("tile", Type::ptr_const(ScalarType::F32));
    let c = f.param("c", ScalarType::U32);
    for n in ["sx", "x", "y"] {
        f.param(n, ScalarType::U32);
    }
    f.push(Stmt::Return(Some(Expr::index(
        Expr::local(tile),
        Expr::local(c),
    ))));
    let mut m = Module::new();
    m.functions.push(f.finish());
    let u: Vec<f32> = (0..35).map(|v| v as f32).collect();
    let got = run_on_cpu(&m, "id", &stencils::CROSS2D_SPEC, &lits(&u), [7, 5, 1], &[]).unwrap();
    assert_eq!(floats(&got), u);
}
