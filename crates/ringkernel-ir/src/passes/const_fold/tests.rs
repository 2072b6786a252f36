use super::*;
use crate::ir::ScalarType::*;
use crate::test_util::{emit_unoptimised, ret_fn, returned, run_pass, t};

fn fold(ret: ScalarType, e: Expr) -> (Expr, String) {
    let (m, cuda) = run_pass(ConstFold, ret_fn(&[], ret, |_| e));
    (returned(&m).clone(), cuda)
}

#[test]
fn integer_arithmetic_wraps_like_rust() {
    let (e, cuda) = fold(I32, Expr::add(Expr::i32(i32::MAX), Expr::i32(1)));
    assert_eq!(e, Expr::i32(i32::MIN));
    assert!(cuda.contains("return -2147483647 - 1;"), "{cuda}");
    let (e, _) = fold(U32, Expr::sub(Expr::u32(0), Expr::u32(1)));
    assert_eq!(e, Expr::u32(u32::MAX));
    let (e, _) = fold(U64, Expr::mul(Expr::u64(1 << 63), Expr::u64(2)));
    assert_eq!(e, Expr::u64(0));
    let (e, _) = fold(I64, Expr::unary(UnOp::Neg, Expr::i64(i64::MIN)));
    assert_eq!(e, Expr::i64(i64::MIN));
}

#[test]
fn nested_expressions_fold_bottom_up() {
    let e = Expr::mul(
        Expr::add(Expr::i32(2), Expr::i32(3)),
        Expr::bin(BinOp::Rem, Expr::i32(-7), Expr::i32(4)),
    );
    assert_eq!(fold(I32, e).0, Expr::i32(-15));
    let (e, cuda) = fold(U32, Expr::bin(BinOp::Div, Expr::u32(7), Expr::u32(2)));
    assert_eq!(e, Expr::u32(3));
    assert!(cuda.contains("return 3u;"));
}

#[test]
fn division_that_would_trap_is_left_for_run_time() {
    let by_zero = Expr::bin(BinOp::Div, Expr::i32(1), Expr::i32(0));
    let (e, cuda) = fold(I32, by_zero.clone());
    assert_eq!(e, by_zero);
    assert!(cuda.contains("return rk_div_i32(1, 0);"), "{cuda}");
    let overflow = Expr::bin(BinOp::Rem, Expr::i32(i32::MIN), Expr::i32(-1));
    assert_eq!(fold(I32, overflow.clone()).0, overflow);
}

#[test]
fn shifts_fold_only_in_range() {
    let (e, _) = fold(U32, Expr::bin(BinOp::Shl, Expr::u32(1), Expr::u64(31)));
    assert_eq!(e, Expr::u32(1 << 31));
    let (e, _) = fold(I32, Expr::bin(BinOp::Shr, Expr::i32(-16), Expr::u32(2)));
    assert_eq!(e, Expr::i32(-4));
    let too_far = Expr::bin(BinOp::Shl, Expr::u32(1), Expr::u32(32));
    let (e, cuda) = fold(U32, too_far.clone());
    assert_eq!(e, too_far);
    assert!(
        cuda.contains("return 1u << ((unsigned int)32u & 31u);"),
        "{cuda}"
    );
    let negative = Expr::bin(BinOp::Shl, Expr::u32(1), Expr::i32(-1));
    assert_eq!(fold(U32, negative.clone()).0, negative);
}

#[test]
fn floats_are_not_folded_except_literal_negation() {
    let sum = Expr::add(Expr::f32(0.1), Expr::f32(0.2));
    let (e, cuda) = fold(F32, sum.clone());
    assert_eq!(e, sum);
    assert!(cuda.contains("return 0.1f + 0.2f;"), "{cuda}");
    let (e, cuda) = fold(F64, Expr::unary(UnOp::Neg, Expr::f64(1.5)));
    assert_eq!(e, Expr::f64(-1.5));
    assert!(cuda.contains("return -1.5;"), "{cuda}");
    let cmp = Expr::bin(BinOp::Lt, Expr::f32(1.0), Expr::f32(2.0));
    assert_eq!(fold(Bool, cmp.clone()).0, cmp);
}

#[test]
fn casts_follow_as() {
    assert_eq!(
        fold(U32, Expr::cast(U32, Expr::i32(-1))).0,
        Expr::u32(u32::MAX)
    );
    assert_eq!(
        fold(I32, Expr::cast(I32, Expr::i64(1 << 32 | 5))).0,
        Expr::i32(5)
    );
    assert_eq!(fold(I64, Expr::cast(I64, Expr::i32(-2))).0, Expr::i64(-2));
    assert_eq!(fold(U64, Expr::cast(U64, Expr::bool(true))).0, Expr::u64(1));
    let f2i = Expr::cast(I32, Expr::f32(3.9));
    assert_eq!(fold(I32, f2i.clone()).0, f2i);
}

#[test]
fn comparisons_and_bool_ops_fold() {
    assert_eq!(
        fold(Bool, Expr::bin(BinOp::Lt, Expr::i32(-1), Expr::i32(0))).0,
        Expr::bool(true)
    );
    assert_eq!(
        fold(
            Bool,
            Expr::bin(BinOp::Gt, Expr::u32(1), Expr::u32(u32::MAX))
        )
        .0,
        Expr::bool(false)
    );
    assert_eq!(
        fold(
            Bool,
            Expr::bin(BinOp::BitXor, Expr::bool(true), Expr::bool(true))
        )
        .0,
        Expr::bool(false)
    );
}

#[test]
fn logical_operators_short_circuit_only_where_rust_would() {
    let params = [("b", t(Bool)), ("m", t(U32))];
    let run = |mk: fn(Expr, Expr) -> Expr| {
        let (m, _) = run_pass(
            ConstFold,
            ret_fn(&params, Bool, |p| mk(Expr::local(p[0]), Expr::local(p[1]))),
        );
        returned(&m).clone()
    };
    // true && b -> b; b || false -> b; false && b -> false; b && false -> false (b is pure).
    assert!(matches!(
        run(|b, _| Expr::bin(BinOp::And, Expr::bool(true), b)),
        Expr::Local(_)
    ));
    assert!(matches!(
        run(|b, _| Expr::bin(BinOp::Or, b, Expr::bool(false))),
        Expr::Local(_)
    ));
    assert_eq!(
        run(|b, _| Expr::bin(BinOp::And, Expr::bool(false), b)),
        Expr::bool(false)
    );
    assert_eq!(
        run(|b, _| Expr::bin(BinOp::And, b, Expr::bool(false))),
        Expr::bool(false)
    );
    // An impure left side is still evaluated: `any_sync(m, b) || true` keeps the call.
    let kept = run(|b, m| {
        Expr::bin(
            BinOp::Or,
            Expr::call("any_sync", vec![m, b]),
            Expr::bool(true),
        )
    });
    assert!(matches!(kept, Expr::Binary(BinOp::Or, ..)));
}

#[test]
fn select_with_literal_condition_picks_a_side() {
    let f = ret_fn(&[("x", t(I32))], I32, |p| {
        Expr::select(Expr::bool(false), Expr::i32(1), Expr::local(p[0]))
    });
    let before = emit_unoptimised(f.clone());
    assert!(before.contains("return false ? 1 : x_0;"), "{before}");
    let (m, cuda) = run_pass(ConstFold, f);
    assert!(matches!(returned(&m), Expr::Local(_)));
    assert!(cuda.contains("return x_0;"));
}
