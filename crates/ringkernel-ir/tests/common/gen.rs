//! Random well-typed integer/bool programs (shared by the pass property test and the GPU
//! differential test).

use proptest::prelude::*;
use ringkernel_ir::ir::{
    BinOp, Expr, FunctionBuilder, Literal, LocalId, Module, ScalarType, Stmt, Type, UnOp,
};

pub use ScalarType::{Bool, I32, I64, U32, U64};

pub const INTS: [ScalarType; 4] = [I32, U32, I64, U64];
/// Parameter layout: two per integer type, then two bools.
pub const PARAMS: [ScalarType; 10] = [I32, I32, U32, U32, I64, I64, U64, U64, Bool, Bool];
const DEPTH: usize = 4;

fn slot(ty: ScalarType) -> usize {
    match ty {
        I32 => 0,
        U32 => 1,
        I64 => 2,
        U64 => 3,
        _ => 4,
    }
}

pub fn arb_literal(ty: ScalarType) -> BoxedStrategy<Literal> {
    match ty {
        I32 => prop_oneof![
            prop::sample::select(vec![0, 1, -1, 2, 31, 32, i32::MIN, i32::MAX]),
            any::<i32>()
        ]
        .prop_map(Literal::I32)
        .boxed(),
        U32 => prop_oneof![
            prop::sample::select(vec![0, 1, 2, 31, 32, 33, u32::MAX]),
            any::<u32>()
        ]
        .prop_map(Literal::U32)
        .boxed(),
        I64 => prop_oneof![
            prop::sample::select(vec![0, 1, -1, 63, 64, i64::MIN, i64::MAX]),
            any::<i64>()
        ]
        .prop_map(Literal::I64)
        .boxed(),
        U64 => prop_oneof![
            prop::sample::select(vec![0, 1, 63, 64, u64::MAX]),
            any::<u64>()
        ]
        .prop_map(Literal::U64)
        .boxed(),
        _ => any::<bool>().prop_map(Literal::Bool).boxed(),
    }
}

fn leaf(ty: ScalarType) -> BoxedStrategy<Expr> {
    let params: Vec<u32> = (0u32..)
        .zip(PARAMS)
        .filter(|(_, t)| *t == ty)
        .map(|(i, _)| i)
        .collect();
    prop_oneof![
        arb_literal(ty).prop_map(Expr::Lit),
        prop::sample::select(params).prop_map(|i| Expr::local(LocalId(i))),
    ]
    .boxed()
}

/// Strategies for every type at every depth, built bottom-up so construction stays linear.
fn expr_table() -> Vec<[BoxedStrategy<Expr>; 5]> {
    let mut table: Vec<[BoxedStrategy<Expr>; 5]> = Vec::new();
    table.push([I32, U32, I64, U64, Bool].map(leaf));
    for d in 1..=DEPTH {
        let below = table[d - 1].clone();
        let sub = |t: ScalarType| below[slot(t)].clone();
        let mk_int = |ty: ScalarType| -> BoxedStrategy<Expr> {
            let arith = prop::sample::select(vec![
                BinOp::Add,
                BinOp::Sub,
                BinOp::Mul,
                BinOp::Div,
                BinOp::Rem,
                BinOp::BitAnd,
                BinOp::BitOr,
                BinOp::BitXor,
            ]);
            let shift = prop::sample::select(vec![BinOp::Shl, BinOp::Shr]);
            let amount = prop_oneof![sub(U32), sub(I32), sub(U64)];
            let cast_src = prop_oneof![sub(I32), sub(U32), sub(I64), sub(U64), sub(Bool)];
            let unary = if ty.is_signed_int() {
                prop::sample::select(vec![UnOp::Neg, UnOp::Not]).boxed()
            } else {
                Just(UnOp::Not).boxed()
            };
            prop_oneof![
                2 => leaf(ty),
                4 => (arith.clone(), sub(ty), sub(ty)).prop_map(|(op, a, b)| Expr::bin(op, a, b)),
                // Same operand twice, so `x - x`, `x ^ x`, … actually occur.
                2 => (arith, sub(ty)).prop_map(|(op, a)| Expr::bin(op, a.clone(), a)),
                1 => (shift, sub(ty), amount).prop_map(|(op, a, b)| Expr::bin(op, a, b)),
                1 => (unary, sub(ty)).prop_map(|(op, a)| Expr::unary(op, a)),
                1 => cast_src.prop_map(move |x| Expr::cast(ty, x)),
                1 => (sub(Bool), sub(ty), sub(ty)).prop_map(|(c, a, b)| Expr::select(c, a, b)),
            ]
            .boxed()
        };
        let cmp_op = prop::sample::select(vec![
            BinOp::Eq,
            BinOp::Ne,
            BinOp::Lt,
            BinOp::Le,
            BinOp::Gt,
            BinOp::Ge,
        ]);
        let int_pair = prop_oneof![
            (sub(I32), sub(I32)),
            (sub(U32), sub(U32)),
            (sub(I64), sub(I64)),
            (sub(U64), sub(U64)),
        ];
        let int_self = prop_oneof![sub(I32), sub(U32), sub(I64), sub(U64)];
        let bool_op = prop::sample::select(vec![
            BinOp::And,
            BinOp::Or,
            BinOp::BitAnd,
            BinOp::BitOr,
            BinOp::BitXor,
            BinOp::Eq,
            BinOp::Ne,
        ]);
        let boolean = prop_oneof![
            2 => leaf(Bool),
            3 => (cmp_op.clone(), int_pair).prop_map(|(op, (a, b))| Expr::bin(op, a, b)),
            1 => (cmp_op, int_self).prop_map(|(op, a)| Expr::bin(op, a.clone(), a)),
            3 => (bool_op, sub(Bool), sub(Bool)).prop_map(|(op, a, b)| Expr::bin(op, a, b)),
            1 => sub(Bool).prop_map(|a| Expr::unary(UnOp::Not, a)),
            1 => (sub(Bool), sub(Bool), sub(Bool)).prop_map(|(c, a, b)| Expr::select(c, a, b)),
        ]
        .boxed();
        table.push([mk_int(I32), mk_int(U32), mk_int(I64), mk_int(U64), boolean]);
    }
    table
}

/// A program: `let t = e1; if c { return e2 } return (read t) ? select(p, t, e3) : e3;`
#[derive(Debug, Clone)]
pub struct Program {
    pub ret: ScalarType,
    pub e1: Expr,
    pub c: Expr,
    pub e2: Expr,
    pub e3: Expr,
    pub read_t: bool,
}

pub fn arb_program() -> impl Strategy<Value = Program> {
    let table = expr_table();
    let top = table[DEPTH].clone();
    prop::sample::select(vec![I32, U32, I64, U64, Bool]).prop_flat_map(move |ret| {
        let e = top[slot(ret)].clone();
        (e.clone(), top[4].clone(), e.clone(), e, any::<bool>()).prop_map(
            move |(e1, c, e2, e3, read_t)| Program {
                ret,
                e1,
                c,
                e2,
                e3,
                read_t,
            },
        )
    })
}

pub fn build(p: &Program) -> Module {
    let mut b = FunctionBuilder::new("prog", Type::Scalar(p.ret));
    let params: Vec<LocalId> = PARAMS
        .iter()
        .enumerate()
        .map(|(i, t)| b.param(&format!("p{i}"), *t))
        .collect();
    let t = b.local("t", p.ret);
    b.push(Stmt::Let {
        local: t,
        init: p.e1.clone(),
    });
    b.push(Stmt::if_else(
        p.c.clone(),
        vec![Stmt::Return(Some(p.e2.clone()))],
        vec![],
    ));
    let last = if p.read_t {
        Expr::select(Expr::local(params[8]), Expr::local(t), p.e3.clone())
    } else {
        p.e3.clone()
    };
    b.push(Stmt::Return(Some(last)));
    let mut m = Module::new();
    m.functions.push(b.finish());
    m
}

pub fn arb_args() -> impl Strategy<Value = Vec<Literal>> {
    PARAMS.map(arb_literal).to_vec()
}
