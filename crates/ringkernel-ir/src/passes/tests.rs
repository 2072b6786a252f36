use super::*;
use crate::emit::emit_module;
use crate::ir::{BinOp, Expr, FunctionBuilder, ScalarType::*, Stmt};
use crate::test_util::{module_of, t};

/// `let y = x * 0 + 5; if y == 5 { return x; } return 0;`: simplification turns the `let` into
/// `5` in one round (bottom-up: `x * 0` → `0`, then `0 + 5` → `5`); a second round confirms the
/// fixed point.
fn cascading() -> Module {
    let mut b = FunctionBuilder::new("f", t(I32));
    let x = b.param("x", t(I32));
    let y = b.local("y", t(I32));
    b.push(Stmt::Let {
        local: y,
        init: Expr::add(Expr::mul(Expr::local(x), Expr::i32(0)), Expr::i32(5)),
    });
    b.push(Stmt::if_else(
        Expr::bin(BinOp::Eq, Expr::local(y), Expr::i32(5)),
        vec![Stmt::Return(Some(Expr::local(x)))],
        vec![],
    ));
    b.push(Stmt::Return(Some(Expr::i32(0))));
    module_of(b.finish())
}

#[test]
fn standard_pipeline_reaches_a_fixed_point() {
    let mut m = cascading();
    let report = PassManager::standard().run(&mut m).unwrap();
    assert!(report.reached_fixed_point);
    // The let's value becomes 5, but y is still read by the `if`: nothing propagates constants
    // through locals yet, so the if stays (constant propagation is future work).
    let cuda = emit_module(&m).unwrap();
    assert!(
        cuda.contains(
            "    int y_1 = 5;\n    if (y_1 == 5) {\n        return x_0;\n    }\n    return 0;\n"
        ),
        "{cuda}"
    );
    assert_eq!(
        report.changes,
        vec![("const-fold", 0), ("simplify", 1), ("dce", 0)]
    );
    assert_eq!(report.iterations, 2);
}

#[test]
fn constant_if_collapses_across_passes() {
    let mut b = FunctionBuilder::new("g", t(U32));
    let x = b.param("x", t(U32));
    let dead = b.local("dead", t(U32));
    b.push(Stmt::if_else(
        Expr::bin(
            BinOp::Lt,
            Expr::u32(1),
            Expr::sub(Expr::u32(5), Expr::u32(2)),
        ),
        vec![
            Stmt::Let {
                local: dead,
                init: Expr::bin(BinOp::BitXor, Expr::local(x), Expr::local(x)),
            },
            Stmt::Return(Some(Expr::add(Expr::local(x), Expr::u32(0)))),
        ],
        vec![],
    ));
    b.push(Stmt::Return(Some(Expr::u32(7))));
    let mut m = module_of(b.finish());
    let report = PassManager::standard().run(&mut m).unwrap();
    assert!(report.reached_fixed_point);
    assert_eq!(
        m.functions[0].body,
        vec![Stmt::Return(Some(Expr::local(x)))]
    );
    let cuda = emit_module(&m).unwrap();
    assert!(cuda.ends_with("__device__ unsigned int g(unsigned int x_0) {\n    return x_0;\n}\n"));
}

#[test]
fn iteration_cap_stops_early_and_still_verifies() {
    let mut m = cascading();
    let report = PassManager::standard()
        .with_max_iterations(1)
        .run(&mut m)
        .unwrap();
    assert_eq!(report.iterations, 1);
    assert!(!report.reached_fixed_point);
}

#[test]
fn invalid_input_is_rejected_before_any_pass_runs() {
    let mut b = FunctionBuilder::new("f", t(I32));
    b.push(Stmt::Return(Some(Expr::u32(1))));
    let mut m = module_of(b.finish());
    let before = m.clone();
    assert!(matches!(
        PassManager::standard().run(&mut m),
        Err(IrError::TypeMismatch { .. })
    ));
    assert_eq!(m, before);
}
