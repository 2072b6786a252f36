//! Native vs interpreted: every example handler, compiled by rustc, against the transpiler's
//! lowering of the same source run by `ringkernel_ir::interp` (through the probe functions, after
//! the standard passes), on random states, messages and contexts. Code, state bytes and reply
//! bytes must be equal — panics included (the native panic is the CPU backend's `PANIC_CODE`, the
//! lowered handler's bounds and division guards return it).

mod common;

use common::compare::outcome_eq;
use common::handlers::{bank, checked, histogram, loops, physics, ticker};
use common::native::run_native;
use common::vtables::transpiled;
use proptest::prelude::*;
use ringkernel_core::Actor;
use ringkernel_transpile::probe::{Probe, ProbeCtx};

const FUEL: u64 = 1_000_000;

/// Words biased towards edge cases: small values (valid indices, zero divisors), extremes.
fn word() -> impl Strategy<Value = u32> {
    prop_oneof![
        3 => Just(0),
        4 => 0u32..16,
        3 => any::<u32>(),
        1 => Just(u32::MAX),
        1 => Just(0x8000_0000),
        1 => Just(0x7fff_ffff),
    ]
}

fn bytes(len: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(word(), len.div_ceil(4))
        .prop_map(move |w| w.iter().flat_map(|x| x.to_le_bytes()).take(len).collect())
}

fn ctx() -> impl Strategy<Value = ProbeCtx> {
    (word(), word(), any::<u64>()).prop_map(|(self_id, sender, timestamp)| ProbeCtx {
        self_id,
        sender,
        timestamp,
    })
}

fn check<A: Actor>(
    probe: &Probe,
    state: &[u8],
    msg: &[u8],
    c: ProbeCtx,
) -> Result<(), TestCaseError>
where
    A::Msg: bytemuck::Pod,
    A::Reply: bytemuck::Pod,
{
    let native = run_native::<A>(state, msg, c);
    let lowered = probe
        .run(state, msg, c, FUEL)
        .map_err(|e| TestCaseError::fail(format!("interpreter: {e}")))?;
    // Exact, except that any NaN equals any NaN (payloads are unspecified in Rust).
    outcome_eq(&probe.state, &probe.reply, &lowered, &native, 0)
        .map_err(|e| TestCaseError::fail(format!("{e}\nstate {state:?} msg {msg:?} ctx {c:?}")))?;
    Ok(())
}

macro_rules! differential {
    ($test:ident, $module:ident, $actor:ty) => {
        proptest! {
            #![proptest_config(ProptestConfig::with_cases(512))]
            #[test]
            fn $test(
                state in bytes(std::mem::size_of::<<$actor as Actor>::State>()),
                msg in bytes(std::mem::size_of::<<$actor as Actor>::Msg>()),
                c in ctx(),
            ) {
                thread_local! {
                    static PROBE: Probe = transpiled($module::SRC).probe;
                }
                PROBE.with(|p| check::<$actor>(p, &state, &msg, c))?;
            }
        }
    };
}

differential!(bank_matches_native, bank, bank::Account);
differential!(histogram_matches_native, histogram, histogram::Histogram);
differential!(loops_matches_native, loops, loops::Loops);
differential!(checked_matches_native, checked, checked::Checked);
differential!(physics_matches_native, physics, physics::Physics);
differential!(ticker_matches_native, ticker, ticker::Ticker);

/// The comparison is not vacuous: every outcome kind occurs for these inputs.
#[test]
fn the_examples_reach_ok_error_and_panic_paths() {
    let probe = transpiled(loops::SRC).probe;
    let c = ProbeCtx::default();
    let state = |len: u32| {
        let b = loops::Buf {
            data: [3, -4, 5, 9, -1, 2],
            len,
            ops: 0,
        };
        bytemuck::bytes_of(&b).to_vec()
    };
    let msg = |op: u32, arg: i32| bytemuck::bytes_of(&loops::Op { op, arg }).to_vec();
    let run = |s: &[u8], m: &[u8]| probe.run(s, m, c, FUEL).expect("interpretable");
    assert_eq!(run(&state(6), &msg(1, 0)).code, 0);
    assert_eq!(run(&state(6), &msg(0, 0)).code, loops::EMPTY + 1);
    assert_eq!(
        run(&state(6), &msg(4, 99)).code,
        ringkernel_transpile::PANIC_CODE
    );
    // One past the end is out of bounds too; the last element is not.
    assert_eq!(
        run(&state(6), &msg(4, 6)).code,
        ringkernel_transpile::PANIC_CODE
    );
    assert_eq!(run(&state(6), &msg(4, 5)).code, 0);
    assert_eq!(
        run(&state(6), &msg(3, 0)).code,
        ringkernel_transpile::PANIC_CODE
    );
    let sum = run(&state(6), &msg(1, 0)).reply.expect("ok");
    let answer: loops::Answer = bytemuck::pod_read_unaligned(&sum);
    assert_eq!(answer.value, 3 + 5 + 9 + 2);
    assert_eq!(answer.steps, 6);
}
