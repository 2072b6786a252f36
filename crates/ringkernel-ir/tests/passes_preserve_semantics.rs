//! Semantic preservation of the passes: random well-typed integer/bool programs are optimised, and
//! (a) the verifier still accepts the result, (b) the reference interpreter gives the same outcome
//! (value or trap) before and after, on random inputs. Also: emission never fails on them.

mod common;

use common::gen::{arb_args, arb_program, build, Bool, INTS};
use proptest::prelude::*;
use ringkernel_ir::emit::emit_module;
use ringkernel_ir::interp;
use ringkernel_ir::ir::{BinOp, Expr, FunctionBuilder, Literal, Module, Stmt, Type};
use ringkernel_ir::passes::PassManager;
use ringkernel_ir::verify::verify_module;

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
