//! Recovery from real device faults (`ringkernel::recovery`) on the GPU: a handler that traps or
//! writes out of bounds kills the persistent kernel and its context (a sticky error); the runtime
//! resets the device, restores the last checkpoint into a new kernel and replays the log. Needs
//! an NVIDIA GPU and fails loudly without one (build with `--features gpu-tests`, run with
//! `--test-threads=1`).

#![allow(clippy::unwrap_used)] // Tests unwrap: a panic is the failure report.

use std::time::{Duration, Instant};

use ringkernel::prelude::*;
use ringkernel::recovery::RecoveryPolicy;
use ringkernel::{AskError, RecoveryReport};
use ringkernel_core::actor::CudaHandler;

#[derive(Clone, Copy, Debug, Default, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C)]
struct Deposit {
    cents: i64,
}
impl Message for Deposit {
    const TYPE_ID: MessageTypeId = MessageTypeId(0x0F11);
}

#[derive(Clone, Copy, Debug, Default, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C)]
struct Balance {
    cents: i64,
    deposits: u64,
}
impl Message for Balance {
    const TYPE_ID: MessageTypeId = MessageTypeId(0x0F12);
}

/// On the device, a deposit of `TRAP` cents executes `__trap()` and one of `WILD` cents writes
/// through a wild pointer: both fault the device. (On the CPU they are plain deposits.)
const TRAP: i64 = -666;
const WILD: i64 = -777;

struct Ledger;
impl Actor for Ledger {
    const NAME: &'static str = "ledger";
    type State = Balance;
    type Msg = Deposit;
    type Reply = Balance;
    fn handle(s: &mut Balance, m: &Deposit, _c: &Context) -> Result<Balance, HandlerError> {
        s.cents += m.cents;
        s.deposits += 1;
        Ok(*s)
    }
    fn cuda_handler() -> Option<CudaHandler> {
        Some(CudaHandler {
            function: "ledger_handle",
            state_type: "Balance",
            msg_type: "Deposit",
            reply_type: "Balance",
            struct_defs: "struct Deposit { long long cents; };\n\
                          struct Balance { long long cents; unsigned long long deposits; };",
            source: "__device__ int ledger_handle(Balance* s, const Deposit* m, Balance* r, const rk_ctx* c) {\n\
                     if (m->cents == -666) __trap();\n\
                     if (m->cents == -777) { *(volatile long long*)(0x10ull + (unsigned long long)s->deposits) = 1; }\n\
                     s->cents += m->cents; s->deposits += 1; *r = *s; return 0; }",
        })
    }
}

const T: Duration = Duration::from_secs(20);

fn runtime() -> Runtime {
    Runtime::builder()
        .backend(Backend::Cuda)
        .register::<Ledger>()
        .recovery(RecoveryPolicy {
            // Only the checkpoints the test takes.
            checkpoint_every: Duration::from_secs(3600),
            ..RecoveryPolicy::default()
        })
        .build()
        .unwrap_or_else(|e| panic!("this test needs a usable NVIDIA GPU: {e}"))
}

fn wait_recoveries(rt: &Runtime, n: usize) -> Vec<RecoveryReport> {
    let until = Instant::now() + T;
    while rt.recoveries().len() < n {
        assert!(
            Instant::now() < until,
            "no recovery: {:?}",
            rt.resilience_events()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    rt.recoveries()
}

fn balance(a: &ActorRef<Ledger>) -> Balance {
    a.ask_blocking(Deposit { cents: 0 }, T).unwrap()
}

#[test]
fn a_trap_and_a_wild_write_are_each_recovered_from_the_checkpoint_and_the_log() {
    let rt = runtime();
    assert_eq!(rt.backend_kind(), BackendKind::Cuda);
    let accounts: Vec<_> = (0..8)
        .map(|i| {
            rt.spawn::<Ledger>(Balance {
                cents: i * 1000,
                deposits: 0,
            })
            .unwrap()
        })
        .collect();
    for (i, a) in accounts.iter().enumerate() {
        for c in 1..=100 {
            a.tell(Deposit {
                cents: c + i as i64,
            })
            .unwrap();
        }
    }
    assert_eq!(rt.recovery_checkpoint().unwrap(), 8);
    // After the checkpoint: tells, an answered ask, a new actor.
    for a in &accounts {
        for c in 1..=50 {
            a.tell(Deposit { cents: c }).unwrap();
        }
    }
    let late = rt.spawn::<Ledger>(Balance::default()).unwrap();
    assert_eq!(late.ask_blocking(Deposit { cents: 7 }, T).unwrap().cents, 7);
    // Every tell but the trap counted once; each balance ask deposits 0 and counts itself.
    let cents = |i: usize| i as i64 * 1000 + (5050 + 100 * i as i64) + 1275;

    let t0 = Instant::now();
    accounts[3].tell(Deposit { cents: TRAP }).unwrap();
    let r = wait_recoveries(&rt, 1).remove(0);
    let serving = {
        let b = balance(&accounts[0]);
        (b, t0.elapsed())
    };
    println!("trap recovered: {r:?}; serving again after {:?}", serving.1);
    assert_eq!(r.generation, 1);
    assert!(!r.fault.is_empty());
    assert_eq!(r.restored, 8);
    assert_eq!(r.poisoned.len(), 1, "{r:?}");
    assert_eq!(r.poisoned[0].read::<Deposit>().unwrap().cents, TRAP);
    assert_eq!(
        serving.0,
        Balance {
            cents: cents(0),
            deposits: 151
        }
    );
    for (i, a) in accounts.iter().enumerate() {
        let want = Balance {
            cents: cents(i),
            deposits: if i == 0 { 152 } else { 151 },
        };
        assert_eq!(balance(a), want, "account {i}");
    }
    assert_eq!(
        balance(&late),
        Balance {
            cents: 7,
            deposits: 2
        }
    );

    // A second fault, of another kind, on the new generation.
    rt.recovery_checkpoint().unwrap();
    accounts[5].tell(Deposit { cents: 11 }).unwrap();
    accounts[6].tell(Deposit { cents: WILD }).unwrap();
    let r2 = wait_recoveries(&rt, 2).remove(1);
    println!("wild write recovered: {r2:?}");
    assert_eq!(r2.generation, 2);
    assert_eq!(r2.poisoned.len(), 1, "{r2:?}");
    assert_eq!(r2.poisoned[0].read::<Deposit>().unwrap().cents, WILD);
    // The second checkpoint holds the balances above; the tell of 11 is replayed once.
    let b5 = balance(&accounts[5]);
    assert_eq!(
        b5,
        Balance {
            cents: cents(5) + 11,
            deposits: 153
        }
    );
    assert!(rt.health().live, "{:?}", rt.health());
    rt.shutdown(T).unwrap();
}

#[test]
fn an_ask_waiting_at_the_fault_fails_with_device_lost() {
    let rt = runtime();
    let a = rt.spawn::<Ledger>(Balance::default()).unwrap();
    rt.recovery_checkpoint().unwrap();
    // The trap is queued first: the ask behind it is never processed.
    a.tell(Deposit { cents: TRAP }).unwrap();
    let got = a.ask_blocking(Deposit { cents: 5 }, T);
    assert!(
        matches!(got, Err(AskError::DeviceLost(id)) if id == a.id())
            || matches!(got, Err(AskError::Send(ringkernel::SendError::DeviceLost))),
        "{got:?}"
    );
    let r = wait_recoveries(&rt, 1).remove(0);
    assert_eq!(r.poisoned.len(), 1, "{r:?}");
    // Neither the trap nor the lost ask is in the new state.
    assert_eq!(
        balance(&a),
        Balance {
            cents: 0,
            deposits: 1
        }
    );
}

/// `Ledger` version 2: on the device, every deposit counts double.
struct LedgerV2;
impl Actor for LedgerV2 {
    const NAME: &'static str = "ledger-v2";
    type State = Balance;
    type Msg = Deposit;
    type Reply = Balance;
    fn handle(s: &mut Balance, m: &Deposit, _c: &Context) -> Result<Balance, HandlerError> {
        s.cents += 2 * m.cents;
        s.deposits += 1;
        Ok(*s)
    }
    fn cuda_handler() -> Option<CudaHandler> {
        Some(CudaHandler {
            function: "ledger_v2_handle",
            state_type: "Balance",
            msg_type: "Deposit",
            reply_type: "Balance",
            struct_defs: "struct Deposit { long long cents; };\n\
                          struct Balance { long long cents; unsigned long long deposits; };",
            source: "__device__ int ledger_v2_handle(Balance* s, const Deposit* m, Balance* r, const rk_ctx* c) {\n\
                     s->cents += 2 * m->cents; s->deposits += 1; *r = *s; return 0; }",
        })
    }
}

/// A version whose CUDA source does not compile.
struct LedgerBroken;
impl Actor for LedgerBroken {
    const NAME: &'static str = "ledger-broken";
    type State = Balance;
    type Msg = Deposit;
    type Reply = Balance;
    fn handle(s: &mut Balance, _m: &Deposit, _c: &Context) -> Result<Balance, HandlerError> {
        Ok(*s)
    }
    fn cuda_handler() -> Option<CudaHandler> {
        Some(CudaHandler {
            function: "ledger_broken_handle",
            state_type: "Balance",
            msg_type: "Deposit",
            reply_type: "Balance",
            struct_defs: "struct Deposit { long long cents; };\n\
                          struct Balance { long long cents; unsigned long long deposits; };",
            source: "__device__ int ledger_broken_handle(Balance* s, const Deposit* m, Balance* r, const rk_ctx* c) {\n\
                     return no_such_thing; }",
        })
    }
}

#[test]
fn a_hot_reload_swaps_the_kernel_keeps_state_and_refuses_a_version_that_does_not_compile() {
    let rt = runtime();
    let a = rt.spawn::<Ledger>(Balance::default()).unwrap();
    for c in 1..=10 {
        a.tell(Deposit { cents: c }).unwrap();
    }
    assert_eq!(rt.version_of::<Ledger>().unwrap(), 1);
    let broken =
        rt.reload::<Ledger, LedgerBroken>(2, ringkernel::recovery::ReloadOptions::default());
    assert!(
        matches!(broken, Err(ringkernel::Error::ReloadRejected { .. })),
        "{broken:?}"
    );
    assert_eq!(rt.version_of::<Ledger>().unwrap(), 1);
    assert_eq!(
        balance(&a),
        Balance {
            cents: 55,
            deposits: 11
        }
    );
    let report = rt
        .reload::<Ledger, LedgerV2>(2, ringkernel::recovery::ReloadOptions::default())
        .unwrap();
    println!("hot reload on the GPU: {report:?}");
    assert_eq!(rt.version_of::<Ledger>().unwrap(), 2);
    // Same handle, state kept, the new handler runs on the device.
    assert_eq!(
        a.ask_blocking(Deposit { cents: 5 }, T).unwrap(),
        Balance {
            cents: 65,
            deposits: 12
        }
    );
    rt.shutdown(T).unwrap();
}
