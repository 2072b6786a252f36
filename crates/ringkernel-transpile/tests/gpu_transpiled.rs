//! GPU differential test: every example handler, transpiled, runs on the GPU through the real
//! runtime (`Backend::Cuda`, the persistent kernel) on random states and messages, and each ask's
//! outcome — reply bytes, or the handler's error code (panics included, as `PANIC_CODE`) — must
//! equal the natively compiled handler's on a host copy of the same state. Floats may differ in
//! the last bits (device math, FMA contraction): they are compared within a few ulps.
//!
//! Needs an NVIDIA GPU and fails loudly without one. Build with
//! `cargo test -p ringkernel-transpile --features gpu-tests --test gpu_transpiled`, run with
//! `--test-threads=1` (or from `gpu-bin/` via `scripts/run-gpu.sh`).

#![allow(clippy::unwrap_used)] // Tests unwrap: a panic is the failure report.

mod common;

use std::marker::PhantomData;
use std::sync::OnceLock;
use std::time::Duration;

use common::compare::bytes_eq;
use common::handlers::{bank, checked, histogram, loops, physics, ticker};
use common::native::run_native;
use common::vtables::{cuda_handler, transpiled};
use ringkernel::prelude::*;
use ringkernel_transpile::probe::ProbeCtx;

const T: Duration = Duration::from_secs(20);
/// Float tolerance in units in the last place.
const ULPS: u64 = 64;

/// An example actor whose CUDA handler is the transpiler's output for its source.
trait Example: Actor {
    const SRC: &'static str;
    fn cell() -> &'static OnceLock<CudaHandler>;
}

macro_rules! example_impl {
    ($module:ident, $actor:ty) => {
        impl Example for $actor {
            const SRC: &'static str = $module::SRC;
            fn cell() -> &'static OnceLock<CudaHandler> {
                static CELL: OnceLock<CudaHandler> = OnceLock::new();
                &CELL
            }
        }
    };
}
example_impl!(bank, bank::Account);
example_impl!(histogram, histogram::Histogram);
example_impl!(loops, loops::Loops);
example_impl!(checked, checked::Checked);
example_impl!(physics, physics::Physics);
example_impl!(ticker, ticker::Ticker);

/// `A` with its transpiled CUDA handler: what `#[gpu_actor]` generates, without the macro.
struct OnGpu<A>(PhantomData<A>);

impl<A: Example> Actor for OnGpu<A> {
    const NAME: &'static str = A::NAME;
    type State = A::State;
    type Msg = A::Msg;
    type Reply = A::Reply;
    fn handle(s: &mut A::State, m: &A::Msg, c: &Context) -> Result<A::Reply, HandlerError> {
        A::handle(s, m, c)
    }
    fn cuda_handler() -> Option<CudaHandler> {
        Some(*A::cell().get_or_init(|| cuda_handler(A::SRC)))
    }
}

/// xorshift: reproducible random words biased to edge cases, like the CPU differential test.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn word(&mut self) -> u32 {
        match self.next() % 12 {
            0..=2 => 0,
            3..=6 => (self.next() % 16) as u32,
            7 => u32::MAX,
            8 => 0x8000_0000,
            _ => self.next() as u32,
        }
    }
    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len.div_ceil(4))
            .flat_map(|_| self.word().to_le_bytes())
            .take(len)
            .collect()
    }
}

/// Spawns `actors` actors of `A` on the GPU with random states and asks each `asks` random
/// messages, checking every outcome against the native handler.
fn differential<A: Example>(seed: u64, actors: usize, asks: usize)
where
    A::State: bytemuck::Pod,
    A::Msg: bytemuck::Pod,
    A::Reply: bytemuck::Pod,
{
    // Under compute-sanitizer (scripts/run-gpu.sh sets this) a few rounds cover every path.
    let (actors, asks) = if std::env::var_os("RK_GPU_TEST_SMALL").is_some() {
        (actors.min(4), asks.min(8))
    } else {
        (actors, asks)
    };
    let probe = transpiled(A::SRC).probe;
    let rt = Runtime::builder()
        .backend(Backend::Cuda)
        .register::<OnGpu<A>>()
        .build()
        .unwrap_or_else(|e| panic!("this test needs a usable NVIDIA GPU: {e}"));
    let mut rng = Rng(seed | 1);
    let (mut ok, mut failed) = (0usize, 0usize);
    for k in 0..actors {
        let mut host_state = rng.bytes(std::mem::size_of::<A::State>());
        let actor = rt
            .spawn::<OnGpu<A>>(bytemuck::pod_read_unaligned(&host_state))
            .unwrap();
        let ctx = ProbeCtx {
            self_id: actor.id().raw(),
            sender: ringkernel::ActorId::HOST.raw(),
            timestamp: 0,
        };
        for n in 0..asks {
            let msg_bytes = rng.bytes(std::mem::size_of::<A::Msg>());
            let msg: A::Msg = bytemuck::pod_read_unaligned(&msg_bytes);
            let want = run_native::<A>(&host_state, &msg_bytes, ctx);
            let got = actor.ask_blocking(msg, T);
            let at = format!(
                "{} seed {seed} actor {k} ask {n}: msg {msg_bytes:?}",
                A::NAME
            );
            match (got, &want.reply) {
                (Ok(reply), Some(expected)) => {
                    bytes_eq(&probe.reply, bytemuck::bytes_of(&reply), expected, ULPS)
                        .unwrap_or_else(|e| panic!("{at}: reply {e}"));
                    host_state = want.state.clone();
                    ok += 1;
                }
                (Err(AskError::HandlerFailed { error, .. }), None) => {
                    assert_eq!(error.0, want.code, "{at}: error code");
                    failed += 1;
                    break; // the actor is Failed now
                }
                (got, _) => panic!(
                    "{at}: GPU gave {:?}, native code {}",
                    got.map(|r| bytemuck::bytes_of(&r).to_vec()),
                    want.code
                ),
            }
        }
    }
    eprintln!(
        "{}: {ok} replies and {failed} handler errors matched",
        A::NAME
    );
    assert!(ok > 0, "no successful ask: the comparison would be vacuous");
    rt.shutdown(T).unwrap();
}

#[test]
fn bank_on_the_gpu_matches_native() {
    differential::<bank::Account>(0xB4A7, 32, 64);
}

#[test]
fn histogram_on_the_gpu_matches_native() {
    differential::<histogram::Histogram>(0x4157, 32, 64);
}

#[test]
fn loops_on_the_gpu_matches_native() {
    differential::<loops::Loops>(0x100B, 32, 64);
}

#[test]
fn checked_on_the_gpu_matches_native() {
    differential::<checked::Checked>(0xC4EC, 32, 64);
}

#[test]
fn physics_on_the_gpu_matches_native() {
    differential::<physics::Physics>(0xF151, 32, 64);
}

#[test]
fn ticker_on_the_gpu_matches_native() {
    differential::<ticker::Ticker>(0x71C4, 8, 64);
}
