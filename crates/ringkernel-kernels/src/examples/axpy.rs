//! Global mode: `y[i] = a * x[i] + y[i]` with one rounding (`mul_add`), so the device result is
//! bit-identical to the CPU's.

use ringkernel_ir::ir::{BinOp, Expr, FunctionBuilder, Module, Place, ScalarType, Stmt, Type};

use super::at;

/// Name of the per-element function.
pub const FUNCTION: &str = "axpy";

/// `fn axpy(i: u32, a: f32, x: *const f32, y: *mut f32, len: u32) { if i < len { y[i] = a.mul_add(x[i], y[i]) } }`.
pub fn module() -> Module {
    let mut f = FunctionBuilder::new(FUNCTION, Type::Void);
    let i = f.param("i", ScalarType::U32);
    let a = f.param("a", ScalarType::F32);
    let x = f.param("x", Type::ptr_const(ScalarType::F32));
    let y = f.param("y", Type::ptr_mut(ScalarType::F32));
    let len = f.param("len", ScalarType::U32);
    let xi = at(x, Expr::local(i));
    let yi = at(y, Expr::local(i));
    f.push(Stmt::if_else(
        Expr::bin(BinOp::Lt, Expr::local(i), Expr::local(len)),
        vec![Stmt::Store {
            place: Place::Index(Expr::local(y), Expr::local(i)),
            value: Expr::call("mul_add_f32", vec![Expr::local(a), xi, yi]),
        }],
        vec![],
    ));
    let mut m = Module::new();
    m.functions.push(f.finish());
    m
}

/// The CPU reference.
pub fn cpu(a: f32, x: &[f32], y: &mut [f32]) {
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi = a.mul_add(*xi, *yi);
    }
}
