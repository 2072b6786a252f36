//! Persistent FDTD mode: the leapfrog update of the 2D wave equation,
//! `u' = 2u - u_prev + coef * (u[x±1] + u[y±1] - 4u)` with `coef = (c Δt / Δx)²` (stable for
//! `coef <= 0.5`).

use ringkernel_ir::ir::{BinOp, Expr, FunctionBuilder, Module, ScalarType, Stmt, Type};

use super::{at, offset};

/// Name of the cell function.
pub const FUNCTION: &str = "wave_cell";

/// `fn wave_cell(u: *const f32, u_prev: *const f32, i: u32, nx: u32, coef: f32) -> f32`.
pub fn module() -> Module {
    let f32t = Type::Scalar(ScalarType::F32);
    let mut f = FunctionBuilder::new(FUNCTION, f32t.clone());
    let u = f.param("u", Type::ptr_const(ScalarType::F32));
    let up = f.param("u_prev", Type::ptr_const(ScalarType::F32));
    let i = f.param("i", ScalarType::U32);
    let nx = f.param("nx", ScalarType::U32);
    let coef = f.param("coef", f32t.clone());
    let ctr = f.local("ctr", f32t.clone());
    let lap = f.local("lap", f32t);
    let one = Expr::u32(1);
    let row = Expr::local(nx);
    f.push(Stmt::Let {
        local: ctr,
        init: at(u, Expr::local(i)),
    });
    let n = [
        offset(Expr::local(i), 1, one.clone()),
        offset(Expr::local(i), -1, one),
        offset(Expr::local(i), 1, row.clone()),
        offset(Expr::local(i), -1, row),
    ]
    .into_iter()
    .map(|ix| at(u, ix))
    .reduce(Expr::add)
    .unwrap_or(Expr::f32(0.0));
    f.push(Stmt::Let {
        local: lap,
        init: Expr::bin(BinOp::Sub, n, Expr::mul(Expr::f32(4.0), Expr::local(ctr))),
    });
    f.push(Stmt::Return(Some(Expr::add(
        Expr::bin(
            BinOp::Sub,
            Expr::mul(Expr::f32(2.0), Expr::local(ctr)),
            at(up, Expr::local(i)),
        ),
        Expr::mul(Expr::local(coef), Expr::local(lap)),
    ))));
    let mut m = Module::new();
    m.functions.push(f.finish());
    m
}

/// The CPU reference of one interior cell (same operation order as the IR).
pub fn cell(u: &[f32], u_prev: &[f32], i: usize, nx: usize, coef: f32) -> f32 {
    let ctr = u[i];
    let lap = u[i + 1] + u[i - 1] + u[i + nx] + u[i - nx] - 4.0 * ctr;
    2.0 * ctr - u_prev[i] + coef * lap
}
