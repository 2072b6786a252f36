//! Helpers for the unit tests.

use crate::emit::emit_module;
use crate::ir::{Expr, Function, FunctionBuilder, LocalId, Module, ScalarType, Stmt, Type};
use crate::passes::{Pass, PassManager};

/// `fn name(params) -> ret { return body(params); }`.
pub(crate) fn ret_fn(
    params: &[(&str, Type)],
    ret: ScalarType,
    body: impl FnOnce(&[LocalId]) -> Expr,
) -> Function {
    let mut f = FunctionBuilder::new("f", Type::Scalar(ret));
    let ids: Vec<LocalId> = params.iter().map(|(n, t)| f.param(n, t.clone())).collect();
    f.push(Stmt::Return(Some(body(&ids))));
    f.finish()
}

/// A module holding `f`.
pub(crate) fn module_of(f: Function) -> Module {
    let mut m = Module::new();
    m.functions.push(f);
    m
}

/// Runs `pass` alone to a fixed point; returns the module and its CUDA text.
pub(crate) fn run_pass(pass: impl Pass + 'static, f: Function) -> (Module, String) {
    let mut m = module_of(f);
    PassManager::new(vec![Box::new(pass)]).run(&mut m).unwrap();
    let cuda = emit_module(&m).unwrap();
    (m, cuda)
}

/// The CUDA text of `f` without optimisation.
pub(crate) fn emit_unoptimised(f: Function) -> String {
    emit_module(&module_of(f)).unwrap()
}

/// The returned expression of the first function's last statement.
pub(crate) fn returned(m: &Module) -> &Expr {
    match m.functions[0].body.last() {
        Some(Stmt::Return(Some(e))) => e,
        other => panic!("no return: {other:?}"),
    }
}

/// Shorthands.
pub(crate) fn t(s: ScalarType) -> Type {
    Type::Scalar(s)
}
