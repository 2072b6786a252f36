//! Semantic preservation of the passes: random well-typed integer/bool programs are optimised, and
//! (a) the verifier still accepts the result, (b) the reference interpreter gives the same outcome
//! (value or trap) before and after, on random inputs. Also: emission never fails on them.

use proptest::prelude::*;
use ringkernel_ir::emit::emit_module;
use ringkernel_ir::interp;
use ringkernel_ir::ir::{
    BinOp, Expr, FunctionBuilder, Literal, LocalId, Module, ScalarType, Stmt, Type, UnOp,
};
use ringkernel_ir::passes::PassManager;
use ringkernel_ir::verify::verify_module;

use ScalarType::{Bool, I32, I64, U32, U64};

const INTS: [ScalarType; 4] = [I32, U32, I64, U64];
/// Parameter layout: two per integer type, then two bools.
const PARAMS: [ScalarType; 10] = [I32, I32, U32, U32, I64, I64, U64, U64, Bool, Bool];
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

fn arb_literal(ty: ScalarType) -> BoxedStrategy<Literal> {
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
struct Program {
    ret: ScalarType,
    e1: Expr,
    c: Expr,
    e2: Expr,
    e3: Expr,
    read_t: bool,
}

fn arb_program() -> impl Strategy<Value = Program> {
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

fn build(p: &Program) -> Module {
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

fn arb_args() -> impl Strategy<Value = Vec<Literal>> {
    PARAMS.map(arb_literal).to_vec()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn passes_preserve_meaning(p in arb_program(), inputs in prop::collection::vec(arb_args(), 4)) {
        let before = build(&p);
        verify_module(&before).unwrap();
        let mut after = before.clone();
        let report = PassManager::standard().run(&mut after).unwrap();
        prop_assert!(report.reached_fixed_point);
        verify_module(&after).unwrap();
        for args in &inputs {
            let want = interp::run(&before.functions[0], args, 10_000);
            let got = interp::run(&after.functions[0], args, 10_000);
            prop_assert_eq!(&want, &got, "args {:?}\nbefore {:#?}\nafter {:#?}", args, before.functions[0].body, after.functions[0].body);
        }
        // Emission is total on verified IR and deterministic.
        let cuda = emit_module(&after).unwrap();
        prop_assert_eq!(cuda, emit_module(&after).unwrap());
    }

    #[test]
    fn folding_two_literals_matches_the_interpreter(
        ty in prop::sample::select(INTS.to_vec()),
        op in prop::sample::select(BinOp::ALL[..16].to_vec()),
        seeds in (any::<u64>(), any::<u64>(), 0u32..3),
    ) {
        let (x, y, special) = seeds;
        let lit = |v: u64| Literal::int_wrapping(ty, i128::from(v)).unwrap();
        let amount = match special {
            0 => lit(y % 70),
            1 => lit(0),
            _ => lit(y),
        };
        let e = Expr::bin(op, Expr::Lit(lit(x)), Expr::Lit(amount));
        let ret = if op.is_comparison() { Bool } else { ty };
        let mut b = FunctionBuilder::new("f", Type::Scalar(ret));
        b.push(Stmt::Return(Some(e.clone())));
        let mut m = Module::new();
        m.functions.push(b.finish());
        PassManager::standard().run(&mut m).unwrap();
        let want = interp::eval(&e, &Default::default());
        let Some(Stmt::Return(Some(folded))) = m.functions[0].body.last() else {
            panic!("no return");
        };
        match want {
            // Foldable ops become the interpreter's value, or stay (shifts out of range).
            Ok(v) => match folded.as_lit() {
                Some(l) => prop_assert_eq!(l, v),
                None => prop_assert_eq!(interp::eval(folded, &Default::default()), Ok(v)),
            },
            // Trapping ops are never folded away.
            Err(_) => prop_assert_eq!(folded, &e),
        }
    }
}
