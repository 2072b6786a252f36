use super::*;
use crate::ir::{BinOp, FunctionBuilder, Place, ScalarType::*, StructDef, UnOp};
use crate::test_util::{module_of, ret_fn, t};

fn check(f: Function) -> Result<(), IrError> {
    verify_module(&module_of(f))
}

fn check_with_struct(f: Function) -> Result<(), IrError> {
    let mut m = module_of(f);
    m.structs
        .push(StructDef::new("Acc", &[("sum", I64), ("n", U32)]));
    verify_module(&m)
}

#[test]
fn accepts_a_well_typed_program_with_loops_structs_and_intrinsics() {
    let mut f = FunctionBuilder::new("kernel_body", Type::Void);
    let acc = f.param("acc", Type::struct_ptr_mut("Acc"));
    let data = f.param("data", Type::ptr_const(I64));
    let n = f.param("n", t(U32));
    let i = f.local("i", t(U32));
    let x = f.local("x", t(I64));
    f.push(Stmt::ForRange {
        var: i,
        start: Expr::u32(0),
        end: Expr::local(n),
        body: vec![
            Stmt::Let {
                local: x,
                init: Expr::index(Expr::local(data), Expr::local(i)),
            },
            Stmt::If {
                cond: Expr::bin(BinOp::Gt, Expr::local(x), Expr::i64(0)),
                then: vec![Stmt::Store {
                    place: Place::Field(Box::new(Place::Deref(Expr::local(acc))), "sum".into()),
                    value: Expr::add(Expr::field(Expr::local(acc), "sum"), Expr::local(x)),
                }],
                otherwise: vec![Stmt::Expr(Expr::call("thread_fence", vec![]))],
            },
        ],
    });
    f.push(Stmt::Return(None));
    assert_eq!(check_with_struct(f.finish()), Ok(()));
}

#[test]
fn accepts_returns_on_both_branches_and_while_true() {
    let f = {
        let mut b = FunctionBuilder::new("sign", t(I32));
        let x = b.param("x", t(I32));
        b.push(Stmt::if_else(
            Expr::bin(BinOp::Lt, Expr::local(x), Expr::i32(0)),
            vec![Stmt::Return(Some(Expr::i32(-1)))],
            vec![Stmt::Return(Some(Expr::i32(1)))],
        ));
        b.finish()
    };
    assert_eq!(check(f), Ok(()));
    let mut b = FunctionBuilder::new("spin", t(U32));
    b.push(Stmt::While {
        cond: Expr::bool(true),
        body: vec![],
    });
    assert_eq!(check(b.finish()), Ok(()));
}

#[test]
fn rejects_mismatched_binary_operands() {
    let f = ret_fn(&[("a", t(I32)), ("b", t(U32))], I32, |p| {
        Expr::add(Expr::local(p[0]), Expr::local(p[1]))
    });
    assert!(matches!(
        check(f),
        Err(IrError::BinaryOperandMismatch { op: BinOp::Add, .. })
    ));
    // Logical operators need bools; bit operators reject floats.
    let f = ret_fn(&[("a", t(I32))], Bool, |p| {
        Expr::bin(BinOp::And, Expr::local(p[0]), Expr::bool(true))
    });
    assert!(matches!(
        check(f),
        Err(IrError::BinaryOperandMismatch { .. })
    ));
    let f = ret_fn(&[("a", t(F32))], F32, |p| {
        Expr::bin(BinOp::BitAnd, Expr::local(p[0]), Expr::f32(1.0))
    });
    assert!(matches!(
        check(f),
        Err(IrError::BinaryOperandMismatch { .. })
    ));
}

#[test]
fn shifts_accept_any_integer_amount_type() {
    let f = ret_fn(&[("a", t(U64)), ("s", t(I32))], U64, |p| {
        Expr::bin(BinOp::Shl, Expr::local(p[0]), Expr::local(p[1]))
    });
    assert_eq!(check(f), Ok(()));
}

#[test]
fn rejects_negation_of_unsigned() {
    let f = ret_fn(&[("a", t(U32))], U32, |p| {
        Expr::unary(UnOp::Neg, Expr::local(p[0]))
    });
    assert!(matches!(
        check(f),
        Err(IrError::UnaryOperandMismatch { op: UnOp::Neg, .. })
    ));
}

#[test]
fn rejects_wrong_intrinsic_arity_types_and_names() {
    let f = ret_fn(&[("a", t(F32))], F32, |p| {
        Expr::call("sqrt_f32", vec![Expr::local(p[0]), Expr::local(p[0])])
    });
    assert!(matches!(
        check(f),
        Err(IrError::IntrinsicArity {
            expected: 1,
            got: 2,
            ..
        })
    ));
    let f = ret_fn(&[("a", t(F64))], F32, |p| {
        Expr::call("sqrt_f32", vec![Expr::local(p[0])])
    });
    assert!(matches!(
        check(f),
        Err(IrError::IntrinsicArgType { index: 0, .. })
    ));
    // An atomic needs a *mut pointer, not a *const one.
    let f = ret_fn(&[("p", Type::ptr_const(U32))], U32, |p| {
        Expr::call("atomic_add_u32", vec![Expr::local(p[0]), Expr::u32(1)])
    });
    assert!(matches!(
        check(f),
        Err(IrError::IntrinsicArgType { index: 0, .. })
    ));
    let f = ret_fn(&[], F32, |_| Expr::call("no_such_thing", vec![]));
    assert!(matches!(check(f), Err(IrError::UnknownIntrinsic { .. })));
}

#[test]
fn rejects_void_intrinsic_used_as_value() {
    let mut b = FunctionBuilder::new("f", Type::Void);
    let x = b.local("x", t(U32));
    b.push(Stmt::Let {
        local: x,
        init: Expr::call("sync_threads", vec![]),
    });
    assert!(matches!(check(b.finish()), Err(IrError::VoidValue { .. })));
}

#[test]
fn rejects_assignment_and_let_type_mismatch() {
    let mut b = FunctionBuilder::new("f", Type::Void);
    let x = b.local("x", t(U32));
    b.push(Stmt::Let {
        local: x,
        init: Expr::u32(1),
    });
    b.push(Stmt::Assign {
        local: x,
        value: Expr::i32(2),
    });
    assert!(matches!(
        check(b.finish()),
        Err(IrError::TypeMismatch { .. })
    ));
    let mut b = FunctionBuilder::new("f", Type::Void);
    let x = b.local("x", t(U64));
    b.push(Stmt::Let {
        local: x,
        init: Expr::u32(1),
    });
    assert!(matches!(
        check(b.finish()),
        Err(IrError::TypeMismatch { .. })
    ));
}

#[test]
fn rejects_wrong_return_types() {
    let f = ret_fn(&[], I64, |_| Expr::i32(1));
    assert!(matches!(check(f), Err(IrError::TypeMismatch { .. })));
    let mut b = FunctionBuilder::new("f", Type::Void);
    b.push(Stmt::Return(Some(Expr::i32(1))));
    assert!(matches!(
        check(b.finish()),
        Err(IrError::TypeMismatch { .. })
    ));
}

#[test]
fn rejects_use_of_undefined_or_out_of_scope_local() {
    let mut b = FunctionBuilder::new("f", t(I32));
    let x = b.local("x", t(I32));
    b.push(Stmt::Return(Some(Expr::local(x))));
    assert!(matches!(
        check(b.finish()),
        Err(IrError::UndefinedLocal { .. })
    ));
    // Defined inside the `if`, read after it.
    let mut b = FunctionBuilder::new("f", t(I32));
    let c = b.param("c", t(Bool));
    let y = b.local("y", t(I32));
    b.push(Stmt::if_else(
        Expr::local(c),
        vec![Stmt::Let {
            local: y,
            init: Expr::i32(1),
        }],
        vec![],
    ));
    b.push(Stmt::Return(Some(Expr::local(y))));
    assert!(matches!(
        check(b.finish()),
        Err(IrError::UndefinedLocal { .. })
    ));
}

#[test]
fn rejects_double_introduction_and_unknown_ids() {
    let mut b = FunctionBuilder::new("f", Type::Void);
    let x = b.local("x", t(I32));
    for _ in 0..2 {
        b.push(Stmt::Let {
            local: x,
            init: Expr::i32(1),
        });
    }
    assert!(matches!(check(b.finish()), Err(IrError::BadLocal { .. })));
    let f = ret_fn(&[], I32, |_| Expr::local(LocalId(9)));
    assert!(matches!(
        check(f),
        Err(IrError::UndefinedLocal { .. } | IrError::BadLocal { .. })
    ));
}

#[test]
fn rejects_assignment_to_loop_variable() {
    let mut b = FunctionBuilder::new("f", Type::Void);
    let i = b.local("i", t(U32));
    b.push(Stmt::ForRange {
        var: i,
        start: Expr::u32(0),
        end: Expr::u32(4),
        body: vec![Stmt::Assign {
            local: i,
            value: Expr::u32(9),
        }],
    });
    assert!(matches!(
        check(b.finish()),
        Err(IrError::AssignToLoopVar { .. })
    ));
}

#[test]
fn rejects_missing_return_on_a_path() {
    let mut b = FunctionBuilder::new("f", t(I32));
    let c = b.param("c", t(Bool));
    b.push(Stmt::if_else(
        Expr::local(c),
        vec![Stmt::Return(Some(Expr::i32(1)))],
        vec![],
    ));
    assert!(matches!(
        check(b.finish()),
        Err(IrError::MissingReturn { .. })
    ));
}

#[test]
fn rejects_non_bool_conditions() {
    let mut b = FunctionBuilder::new("f", Type::Void);
    b.push(Stmt::While {
        cond: Expr::i32(1),
        body: vec![],
    });
    assert!(matches!(
        check(b.finish()),
        Err(IrError::NonBoolCondition { .. })
    ));
    let f = ret_fn(&[], I32, |_| {
        Expr::select(Expr::u32(1), Expr::i32(1), Expr::i32(2))
    });
    assert!(matches!(check(f), Err(IrError::NonBoolCondition { .. })));
}

#[test]
fn rejects_casts_rust_rejects() {
    let f = ret_fn(&[("a", t(I32))], Bool, |p| {
        Expr::cast(Bool, Expr::local(p[0]))
    });
    assert!(matches!(check(f), Err(IrError::UnsupportedCast { .. })));
    let f = ret_fn(&[("a", t(Bool))], F32, |p| {
        Expr::cast(F32, Expr::local(p[0]))
    });
    assert!(matches!(check(f), Err(IrError::UnsupportedCast { .. })));
    let f = ret_fn(&[("p", Type::ptr_mut(U32))], U64, |p| {
        Expr::cast(U64, Expr::local(p[0]))
    });
    assert!(matches!(check(f), Err(IrError::UnsupportedCast { .. })));
    let f = ret_fn(&[("a", t(Bool)), ("b", t(F64))], I64, |p| {
        Expr::add(
            Expr::cast(I64, Expr::local(p[0])),
            Expr::cast(I64, Expr::local(p[1])),
        )
    });
    assert_eq!(check(f), Ok(()));
}

#[test]
fn rejects_store_to_non_pointer_and_through_const() {
    let mut b = FunctionBuilder::new("f", Type::Void);
    let x = b.param("x", t(U32));
    b.push(Stmt::Store {
        place: Place::Deref(Expr::local(x)),
        value: Expr::u32(1),
    });
    assert!(matches!(
        check(b.finish()),
        Err(IrError::NotAPointer { .. })
    ));
    let mut b = FunctionBuilder::new("f", Type::Void);
    let p = b.param("p", Type::ptr_const(U32));
    b.push(Stmt::Store {
        place: Place::Index(Expr::local(p), Expr::u32(0)),
        value: Expr::u32(1),
    });
    assert!(matches!(
        check(b.finish()),
        Err(IrError::NotAPointer { .. })
    ));
}

#[test]
fn rejects_unknown_fields_structs_and_bad_names() {
    let f = ret_fn(&[("a", Type::struct_ptr_mut("Acc"))], U32, |p| {
        Expr::field(Expr::local(p[0]), "missing")
    });
    assert!(matches!(
        check_with_struct(f),
        Err(IrError::NoSuchField { .. })
    ));
    let f = ret_fn(&[("a", Type::Struct("Nope".into()))], U32, |_| Expr::u32(0));
    assert!(matches!(check(f), Err(IrError::UnknownStruct { .. })));
    let mut f = ret_fn(&[], U32, |_| Expr::u32(0));
    f.name = "while".into();
    assert!(matches!(check(f), Err(IrError::BadIdentifier { .. })));
    let f = ret_fn(&[("rk bad", t(U32))], U32, |_| Expr::u32(0));
    assert!(matches!(check(f), Err(IrError::BadIdentifier { .. })));
}

#[test]
fn errors_display_lowercase_and_name_the_function() {
    let f = ret_fn(&[("a", t(I32)), ("b", t(U32))], I32, |p| {
        Expr::add(Expr::local(p[0]), Expr::local(p[1]))
    });
    let msg = check(f).unwrap_err().to_string();
    assert_eq!(msg, "in `f`: operator `+` cannot take `i32` and `u32`");
}
