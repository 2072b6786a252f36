//! The example IR functions, run by the interpreter, agree with their plain-Rust CPU references.
//! The interpreter evaluates floats in the same order and precision as the references, so the
//! comparisons are exact. (Ring-mode handlers use struct fields, which the interpreter does not
//! model; the ring example is checked on the GPU and by NVRTC instead.)

mod common;

use common::Rng;
use ringkernel_ir::interp::{run_with_memory, Value};
use ringkernel_ir::ir::Literal;
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

#[test]
fn axpy_interpreted_matches_cpu() {
    let mut rng = Rng(1);
    let n = 257;
    let (x, y) = (rng.vec(n), rng.vec(n));
    let a = rng.unit();
    let m = axpy::module();
    let f = &m.functions[0];
    let mut mem = vec![lits(&x), lits(&y)];
    // Indices past `len` too: the function's own bounds check must hold.
    for i in 0..n as u32 + 5 {
        let args = [
            Value::Scalar(Literal::U32(i)),
            Value::Scalar(Literal::F32(a)),
            Value::Buffer(0),
            Value::Buffer(1),
            Value::Scalar(Literal::U32(n as u32)),
        ];
        run_with_memory(f, &args, &mut mem, 1000).unwrap();
    }
    let mut want = y.clone();
    axpy::cpu(a, &x, &mut want);
    assert_eq!(floats(&mem[1]), want);
}

#[test]
fn cross2d_interpreted_with_tiling_matches_cpu() {
    let mut rng = Rng(2);
    let (nx, ny) = (37, 21); // not multiples of the 16 x 8 tile
    let u = rng.vec(nx * ny);
    let (w1, w2) = (0.15, 0.05);
    let got = run_on_cpu(
        &stencils::cross2d_module(),
        stencils::CROSS2D,
        &stencils::CROSS2D_SPEC,
        &lits(&u),
        [nx as u32, ny as u32, 1],
        &[Literal::F32(w1), Literal::F32(w2)],
    )
    .unwrap();
    assert_eq!(floats(&got), stencils::cross2d_cpu(&u, nx, ny, w1, w2));
}

#[test]
fn heat3d_interpreted_with_tiling_matches_cpu() {
    let mut rng = Rng(3);
    let n = [13usize, 10, 7];
    let u = rng.vec(n.iter().product());
    let k = 0.1;
    let got = run_on_cpu(
        &stencils::heat3d_module(),
        stencils::HEAT3D,
        &stencils::HEAT3D_SPEC,
        &lits(&u),
        n.map(|v| v as u32),
        &[Literal::F32(k)],
    )
    .unwrap();
    assert_eq!(floats(&got), stencils::heat3d_cpu(&u, n, k));
}

#[test]
fn wave_cell_interpreted_matches_the_fdtd_reference() {
    let mut rng = Rng(4);
    let (nx, ny, coef) = (12usize, 9usize, 0.3f32);
    let mut sim = FdtdCpu::new(nx, ny, coef, &rng.vec(nx * ny));
    sim.run(3);
    sim.inject(4, 5, 0.5);
    let m = wave::module();
    let f = &m.functions[0];
    // One more step by the interpreter, from the reference's current and previous fields.
    let cur = sim.field().to_vec();
    let prev = sim.previous().to_vec();
    let mut next = sim.clone();
    next.step();
    let want = next.field().to_vec();
    let mut mem = vec![lits(&cur), lits(&prev)];
    for y in 1..ny - 1 {
        for x in 1..nx - 1 {
            let i = y * nx + x;
            let args = [
                Value::Buffer(0),
                Value::Buffer(1),
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
        global::emit_global(&stencils::cross2d_module(), stencils::CROSS2D, "k").err(),
        stencil::emit_stencil(
            &axpy::module(),
            axpy::FUNCTION,
            "k",
            &stencils::CROSS2D_SPEC,
        )
        .err(),
        fdtd::emit_fdtd_2d(&axpy::module(), axpy::FUNCTION, "k").err(),
        ring::emit_ring_handler(&wave::module(), wave::FUNCTION).err(),
        stencil::emit_stencil(
            &stencils::cross2d_module(),
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
        global::emit_global(&axpy::module(), "missing", "k"),
        Err(IrError::NoSuchFunction { .. })
    ));
    // The counter handler is a valid ring handler but not a global element function.
    assert!(ring::emit_ring_handler(&counter::module(), counter::FUNCTION).is_ok());
    assert!(global::emit_global(&counter::module(), counter::FUNCTION, "k").is_err());
}
