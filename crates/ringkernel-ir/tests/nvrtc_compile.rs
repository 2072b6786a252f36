//! Every emitted form must be valid CUDA C for sm_90: these tests compile generated modules with
//! NVRTC (no GPU needed). Without NVRTC they fail (see `ringkernel_cuda::nvrtc::testing`).
//! `-rdc=true` keeps the otherwise unused `__device__` functions in the PTX, so the test can see
//! that each one was really compiled.

use ringkernel_cuda::nvrtc::testing::{compiler, TEST_ARCH};
use ringkernel_ir::emit::emit_module;
use ringkernel_ir::intrinsics::{Intrinsic, ParamType, TABLE};
use ringkernel_ir::ir::{
    BinOp, Expr, Function, FunctionBuilder, Module, Place, ScalarType, Stmt, StructDef, Type, UnOp,
};
use ringkernel_ir::passes::PassManager;
use ringkernel_ir::verify::verify_module;

fn compile(name: &str, module: &Module) -> String {
    let cuda = emit_module(module).unwrap_or_else(|e| panic!("{e}"));
    let out = compiler()
        .compile(name, &cuda, TEST_ARCH, &["-rdc=true"])
        .unwrap_or_else(|e| panic!("{e}\n--- source ---\n{cuda}"));
    for f in &module.functions {
        assert!(out.ptx.contains(&f.name), "{} missing from PTX", f.name);
    }
    out.ptx
}

fn accepted(f: Function) -> Option<Function> {
    let mut m = Module::new();
    m.functions.push(f);
    verify_module(&m).ok()?;
    m.functions.pop()
}

/// One function per row of `rows`, each calling the intrinsic on its parameters.
fn intrinsic_callers<'a>(rows: impl Iterator<Item = &'a Intrinsic>) -> Module {
    let mut m = Module::new();
    for intr in rows {
        let ret = intr.ret.map_or(Type::Void, Type::Scalar);
        let mut b = FunctionBuilder::new(&format!("use_{}", intr.name), ret.clone());
        let args: Vec<Expr> = intr
            .params
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let ty = match p {
                    ParamType::Scalar(s) => Type::Scalar(*s),
                    ParamType::PtrMut(s) => Type::ptr_mut(*s),
                };
                Expr::local(b.param(&format!("a{i}"), ty))
            })
            .collect();
        let call = Expr::call(intr.name, args);
        if ret == Type::Void {
            b.push(Stmt::Expr(call));
        } else {
            b.push(Stmt::Return(Some(call)));
        }
        m.functions.push(b.finish());
    }
    m
}

#[test]
fn every_intrinsic_compiles() {
    // Every row except the ring-runtime ones, in a plain module (as global/stencil kernels are).
    let m = intrinsic_callers(TABLE.iter().filter(|i| !i.needs_ring_runtime()));
    assert!(m.functions.len() >= 158, "{}", m.functions.len());
    let ptx = compile("ir_intrinsics.cu", &m);
    assert!(ptx.contains("atom.global.add") || ptx.contains("atom.add"));
    assert!(ptx.contains("barrier.cluster") && ptx.contains("redux.sync"));
    // The ring-runtime rows (HLC) inside the persistent kernel's headers, as ring mode uses them.
    let ring = intrinsic_callers(TABLE.iter().filter(|i| i.needs_ring_runtime()));
    assert_eq!(ring.functions.len(), 2);
    let src = format!(
        "{}{}\n{}",
        ringkernel_cuda::layout::device_header(),
        ringkernel_cuda::program::RUNTIME_CUH,
        emit_module(&ring).unwrap()
    );
    let out = compiler()
        .compile("ir_intrinsics_ring.cu", &src, TEST_ARCH, &["-rdc=true"])
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(out.ptx.contains("use_hlc_local"));
    assert!(out.ptx.contains("use_k2k_tell_u64"));
}

#[test]
fn every_operator_on_every_type_compiles() {
    let mut m = Module::new();
    for op in BinOp::ALL {
        for ty in ScalarType::ALL {
            let ret = if op.is_comparison() || matches!(op, BinOp::And | BinOp::Or) {
                ScalarType::Bool
            } else {
                ty
            };
            let mut b = FunctionBuilder::new(&format!("bin_{op:?}_{ty}"), Type::Scalar(ret));
            let x = b.param("x", ty);
            let amount = if matches!(op, BinOp::Shl | BinOp::Shr) {
                ScalarType::I64
            } else {
                ty
            };
            let y = b.param("y", amount);
            b.push(Stmt::Return(Some(Expr::bin(
                op,
                Expr::local(x),
                Expr::local(y),
            ))));
            m.functions.extend(accepted(b.finish()));
        }
    }
    for op in [UnOp::Neg, UnOp::Not] {
        for ty in ScalarType::ALL {
            let mut b = FunctionBuilder::new(&format!("un_{op:?}_{ty}"), Type::Scalar(ty));
            let x = b.param("x", ty);
            b.push(Stmt::Return(Some(Expr::unary(op, Expr::local(x)))));
            m.functions.extend(accepted(b.finish()));
        }
    }
    assert!(m.functions.len() > 70, "{}", m.functions.len());
    compile("ir_operators.cu", &m);
}

#[test]
fn every_allowed_cast_and_special_literal_compiles() {
    let mut m = Module::new();
    for from in ScalarType::ALL {
        for to in ScalarType::ALL {
            let mut b = FunctionBuilder::new(&format!("cast_{from}_{to}"), Type::Scalar(to));
            let x = b.param("x", from);
            b.push(Stmt::Return(Some(Expr::cast(to, Expr::local(x)))));
            m.functions.extend(accepted(b.finish()));
        }
    }
    let lits = [
        Expr::i32(i32::MIN),
        Expr::i64(i64::MIN),
        Expr::u64(u64::MAX),
        Expr::f32(f32::NAN),
        Expr::f32(f32::NEG_INFINITY),
        Expr::f32(-0.0),
        Expr::f32(1e-40),
        Expr::f64(f64::INFINITY),
        Expr::f64(-1e300),
    ];
    for (k, lit) in lits.into_iter().enumerate() {
        let ty = match lit.as_lit() {
            Some(l) => l.ty(),
            None => unreachable!(),
        };
        let mut b = FunctionBuilder::new(&format!("lit_{k}"), Type::Scalar(ty));
        b.push(Stmt::Return(Some(lit)));
        m.functions.push(b.finish());
    }
    // Casts Rust allows: bool -> bool and the 4 integers (5), each integer -> any non-bool (4 * 6),
    // each float -> any non-bool (2 * 6); plus the literals.
    assert_eq!(m.functions.len(), 5 + 24 + 12 + 9);
    compile("ir_casts.cu", &m);
}

/// A handler-shaped function: struct state, a loop over a message buffer, stores, atomics,
/// warp votes and a select; compiled both as written and after optimisation.
fn handler_module() -> Module {
    let mut m = Module::new();
    m.structs.push(StructDef::new(
        "Balance",
        &[("cents", ScalarType::I64), ("ops", ScalarType::U32)],
    ));
    let mut b = FunctionBuilder::new("apply_deposits", Type::Scalar(ScalarType::I64));
    let state = b.param("state", Type::struct_ptr_mut("Balance"));
    let amounts = b.param("amounts", Type::ptr_const(ScalarType::I64));
    let n = b.param("n", ScalarType::U32);
    let counter = b.param("counter", Type::ptr_mut(ScalarType::U32));
    let i = b.local("i", ScalarType::U32);
    let amount = b.local("amount", ScalarType::I64);
    let scale = b.local("scale", ScalarType::I64);
    let dead = b.local("dead", ScalarType::U32);
    b.push(Stmt::Let {
        local: scale,
        init: Expr::add(Expr::mul(Expr::i64(1), Expr::i64(100)), Expr::i64(0)),
    });
    b.push(Stmt::Let {
        local: dead,
        init: Expr::bin(BinOp::Shl, Expr::call("lane_id", vec![]), Expr::u32(0)),
    });
    b.push(Stmt::ForRange {
        var: i,
        start: Expr::u32(0),
        end: Expr::local(n),
        body: vec![
            Stmt::Let {
                local: amount,
                init: Expr::bin(
                    BinOp::Div,
                    Expr::index(Expr::local(amounts), Expr::local(i)),
                    Expr::local(scale),
                ),
            },
            Stmt::if_else(
                Expr::bin(
                    BinOp::And,
                    Expr::bin(BinOp::Gt, Expr::local(amount), Expr::i64(0)),
                    Expr::bool(true),
                ),
                vec![
                    Stmt::Store {
                        place: Place::Field(
                            Box::new(Place::Deref(Expr::local(state))),
                            "cents".into(),
                        ),
                        value: Expr::add(
                            Expr::field(Expr::local(state), "cents"),
                            Expr::local(amount),
                        ),
                    },
                    Stmt::Expr(Expr::call(
                        "atomic_add_u32",
                        vec![Expr::local(counter), Expr::u32(1)],
                    )),
                ],
                vec![],
            ),
        ],
    });
    b.push(Stmt::if_else(
        Expr::bool(false),
        vec![Stmt::Expr(Expr::call("thread_fence", vec![]))],
        vec![],
    ));
    b.push(Stmt::Return(Some(Expr::select(
        Expr::call("any_sync", vec![Expr::u32(u32::MAX), Expr::bool(true)]),
        Expr::field(Expr::local(state), "cents"),
        Expr::i64(-1),
    ))));
    m.functions.push(b.finish());
    m
}

#[test]
fn handler_compiles_before_and_after_optimisation() {
    let m = handler_module();
    compile("ir_handler.cu", &m);
    let mut opt = m.clone();
    let report = PassManager::standard().run(&mut opt).unwrap();
    assert!(report.reached_fixed_point);
    let cuda = emit_module(&opt).unwrap();
    // The whole optimised function, pinned: `1 * 100 + 0` folded, the unused `lane_id << 0` and
    // the `if false` gone, `&& true` dropped. The division by `scale` stays a checked call:
    // nothing propagates constants through locals yet.
    let expected = "__device__ long long apply_deposits(Balance* state_0, const long long* amounts_1, unsigned int n_2, unsigned int* counter_3) {
    long long scale_6 = 100ll;
    for (unsigned int i_4 = 0u, rk_end_4 = n_2; i_4 < rk_end_4; ++i_4) {
        long long amount_5 = rk_div_i64(amounts_1[i_4], scale_6);
        if (amount_5 > 0ll) {
            (*state_0).cents = (long long)((unsigned long long)state_0->cents + (unsigned long long)amount_5);
            atomicAdd(counter_3, 1u);
        }
    }
    return (__any_sync(4294967295u, true) != 0) ? state_0->cents : (-1ll);
}
";
    assert!(cuda.ends_with(expected), "{cuda}");
    assert!(!cuda.contains("dead_"), "{cuda}");
    assert!(!cuda.contains("__threadfence()"), "{cuda}");
    assert!(cuda.contains("long long scale_6 = 100ll;"), "{cuda}");
    compile("ir_handler_opt.cu", &opt);
}
