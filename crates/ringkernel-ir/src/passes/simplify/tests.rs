use super::*;
use crate::ir::{ScalarType, ScalarType::*, Type, UnOp};
use crate::test_util::{ret_fn, returned, run_pass, t};

fn simp(ty: ScalarType, mk: impl FnOnce(Expr, Expr) -> Expr) -> (Expr, String) {
    let f = ret_fn(&[("x", t(ty)), ("y", t(ty))], ty, |p| {
        mk(Expr::local(p[0]), Expr::local(p[1]))
    });
    let (m, cuda) = run_pass(Simplify, f);
    (returned(&m).clone(), cuda)
}

fn simp_bool(ty: ScalarType, mk: impl FnOnce(Expr) -> Expr) -> Expr {
    let f = ret_fn(&[("x", t(ty))], Bool, |p| mk(Expr::local(p[0])));
    returned(&run_pass(Simplify, f).0).clone()
}

#[test]
fn additive_and_multiplicative_identities_on_integers() {
    let (e, cuda) = simp(I32, |x, _| Expr::add(x, Expr::i32(0)));
    assert!(matches!(e, Expr::Local(_)));
    assert!(cuda.contains("return x_0;"), "{cuda}");
    assert!(matches!(
        simp(U64, |x, _| Expr::add(Expr::u64(0), x)).0,
        Expr::Local(_)
    ));
    assert!(matches!(
        simp(U32, |x, _| Expr::mul(x, Expr::u32(1))).0,
        Expr::Local(_)
    ));
    assert!(matches!(
        simp(I64, |x, _| Expr::mul(Expr::i64(1), x)).0,
        Expr::Local(_)
    ));
    assert!(matches!(
        simp(I32, |x, _| Expr::sub(x, Expr::i32(0))).0,
        Expr::Local(_)
    ));
    assert!(matches!(
        simp(U32, |x, _| Expr::bin(BinOp::Div, x, Expr::u32(1))).0,
        Expr::Local(_)
    ));
    assert_eq!(simp(I32, |x, _| Expr::mul(x, Expr::i32(0))).0, Expr::i32(0));
    assert_eq!(
        simp(I64, |x, _| Expr::bin(BinOp::Rem, x, Expr::i64(1))).0,
        Expr::i64(0)
    );
}

#[test]
fn self_cancelling_integer_forms() {
    let (e, cuda) = simp(I32, |x, _| Expr::sub(x.clone(), x));
    assert_eq!(e, Expr::i32(0));
    assert!(cuda.contains("return 0;"), "{cuda}");
    assert_eq!(
        simp(U64, |x, _| Expr::bin(BinOp::BitXor, x.clone(), x)).0,
        Expr::u64(0)
    );
    assert!(matches!(
        simp(U32, |x, _| Expr::bin(BinOp::BitAnd, x.clone(), x)).0,
        Expr::Local(_)
    ));
    // x - y is not x - x.
    assert!(matches!(simp(I32, Expr::sub).0, Expr::Binary(..)));
}

#[test]
fn bitwise_and_shift_identities() {
    assert_eq!(
        simp(U32, |x, _| Expr::bin(BinOp::BitAnd, x, Expr::u32(0))).0,
        Expr::u32(0)
    );
    for op in [BinOp::BitOr, BinOp::BitXor] {
        assert!(matches!(
            simp(I64, |x, _| Expr::bin(op, x, Expr::i64(0))).0,
            Expr::Local(_)
        ));
    }
    for op in [BinOp::Shl, BinOp::Shr] {
        let (e, cuda) = simp(I32, |x, _| Expr::bin(op, x, Expr::u32(0)));
        assert!(matches!(e, Expr::Local(_)));
        assert!(!cuda.contains("& 31u"), "{cuda}");
    }
}

#[test]
fn double_negation_and_double_not() {
    let (e, cuda) = simp(I32, |x, _| {
        Expr::unary(UnOp::Neg, Expr::unary(UnOp::Neg, x))
    });
    assert!(matches!(e, Expr::Local(_)));
    assert!(cuda.contains("return x_0;"));
    // Exact for floats too: two sign flips.
    assert!(matches!(
        simp(F32, |x, _| Expr::unary(
            UnOp::Neg,
            Expr::unary(UnOp::Neg, x)
        ))
        .0,
        Expr::Local(_)
    ));
    assert!(matches!(
        simp(U32, |x, _| Expr::unary(
            UnOp::Not,
            Expr::unary(UnOp::Not, x)
        ))
        .0,
        Expr::Local(_)
    ));
}

#[test]
fn comparisons_with_itself_fold_for_integers_only() {
    assert_eq!(
        simp_bool(I32, |x| Expr::bin(BinOp::Le, x.clone(), x)),
        Expr::bool(true)
    );
    assert_eq!(
        simp_bool(U64, |x| Expr::bin(BinOp::Ne, x.clone(), x)),
        Expr::bool(false)
    );
    // NaN != NaN: never for floats.
    assert!(matches!(
        simp_bool(F32, |x| Expr::bin(BinOp::Eq, x.clone(), x)),
        Expr::Binary(..)
    ));
}

#[test]
fn floats_are_never_simplified() {
    let (e, cuda) = simp(F32, |x, _| Expr::add(x, Expr::f32(0.0)));
    assert!(matches!(e, Expr::Binary(..)));
    assert!(cuda.contains("return x_0 + 0.0f;"), "{cuda}");
    assert!(matches!(
        simp(F64, |x, _| Expr::mul(x, Expr::f64(0.0))).0,
        Expr::Binary(..)
    ));
    assert!(matches!(
        simp(F64, |x, _| Expr::sub(x.clone(), x)).0,
        Expr::Binary(..)
    ));
}

#[test]
fn impure_or_unstable_operands_are_kept() {
    // (1 / y) * 0 may trap: keep it.
    let (e, _) = simp(I32, |_, y| {
        Expr::mul(Expr::bin(BinOp::Div, Expr::i32(1), y), Expr::i32(0))
    });
    assert!(matches!(e, Expr::Binary(BinOp::Mul, ..)));
    // p[0] - p[0] reads memory twice: keep it.
    let f = ret_fn(&[("p", Type::ptr_const(I32))], I32, |p| {
        let load = Expr::index(Expr::local(p[0]), Expr::u32(0));
        Expr::sub(load.clone(), load)
    });
    assert!(matches!(
        returned(&run_pass(Simplify, f).0),
        Expr::Binary(..)
    ));
    // So does s->v ^ s->v (a field load through a pointer).
    let f = ret_fn(&[("s", Type::struct_ptr_mut("S"))], U32, |p| {
        let load = Expr::field(Expr::local(p[0]), "v");
        Expr::bin(BinOp::BitXor, load.clone(), load)
    });
    let mut m = crate::test_util::module_of(f);
    m.structs
        .push(crate::ir::StructDef::new("S", &[("v", U32)]));
    crate::passes::PassManager::new(vec![Box::new(Simplify)])
        .run(&mut m)
        .unwrap();
    assert!(matches!(returned(&m), Expr::Binary(BinOp::BitXor, ..)));
}
