//! In-place restarts, lifecycle events, restart of a stopped actor and the watchdog signals of
//! the CPU backend, through the raw `ActorBackend` interface.

#![allow(clippy::unwrap_used)] // Tests unwrap: a panic is the failure report.

use std::time::{Duration, Instant};

use bytemuck::{Pod, Zeroable};
use ringkernel_core::events::ActorEvent;
use ringkernel_core::supervision::Intensity;
use ringkernel_core::{
    Actor, ActorBackend, ActorId, ActorVTable, AskError, Context, Envelope, HandlerError,
    LifecycleState, Message, MessageTypeId, SpawnError, SpawnOptions,
};
use ringkernel_cpu::{CpuBackend, CpuConfig};

const WAIT: Duration = Duration::from_secs(10);

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
struct N {
    v: u64,
}
impl Message for N {
    const TYPE_ID: MessageTypeId = MessageTypeId(0x78);
}

/// Adds; 0 fails with code 3; `SLOW` sleeps for 600 ms first.
struct Sum;
const SLOW: u64 = u64::MAX;
impl Actor for Sum {
    const NAME: &'static str = "sum";
    type State = N;
    type Msg = N;
    type Reply = N;
    fn handle(s: &mut N, m: &N, _: &Context) -> Result<N, HandlerError> {
        match m.v {
            0 => Err(HandlerError(3)),
            SLOW => {
                std::thread::sleep(Duration::from_millis(600));
                Ok(*s)
            }
            v => {
                s.v += v;
                Ok(*s)
            }
        }
    }
}

fn backend(config: CpuConfig) -> CpuBackend {
    CpuBackend::new(&[ActorVTable::of::<Sum>().unwrap()], config).unwrap()
}

fn ask(b: &CpuBackend, to: ActorId, v: u64) -> Result<N, AskError> {
    let env = Envelope::new(ActorId::HOST, to, &N { v }).unwrap();
    let reply = b.ask(env).unwrap().wait(WAIT)?;
    Ok(reply.read::<N>().unwrap())
}

fn tell(b: &CpuBackend, to: ActorId, v: u64) {
    b.tell(Envelope::new(ActorId::HOST, to, &N { v }).unwrap())
        .unwrap();
}

fn policy(max_restarts: u32) -> SpawnOptions {
    SpawnOptions::default().restart(Intensity {
        max_restarts,
        period: Duration::from_secs(60),
    })
}

/// Waits until `n` events arrived.
fn events(b: &CpuBackend, n: usize) -> Vec<ActorEvent> {
    let q = b.events().unwrap();
    let mut got = Vec::new();
    let until = Instant::now() + WAIT;
    while got.len() < n && Instant::now() < until {
        got.extend(q.wait(Duration::from_millis(50)));
    }
    got
}

#[test]
fn a_failed_handler_restarts_in_place_and_the_queue_behind_it_runs_on_the_initial_state() {
    let b = backend(CpuConfig::default().with_workers(1));
    let a = b
        .spawn_with(0, bytemuck::bytes_of(&N { v: 100 }), &policy(2))
        .unwrap();
    assert_eq!(ask(&b, a, 5).unwrap().v, 105);
    // The failing message, then two more queued right behind it.
    tell(&b, a, 0);
    tell(&b, a, 1);
    assert_eq!(ask(&b, a, 1).unwrap().v, 102, "initial 100 + 1 + 1");
    assert_eq!(b.state_of(a), Some(LifecycleState::Active));
    assert_eq!(
        events(&b, 1),
        vec![ActorEvent::Restarted {
            actor: a,
            error: HandlerError(3)
        }]
    );
    // A failing ask gets its error, and the actor restarts again.
    assert!(matches!(
        ask(&b, a, 0),
        Err(AskError::HandlerFailed {
            error: HandlerError(3),
            ..
        })
    ));
    assert_eq!(ask(&b, a, 7).unwrap().v, 107);
    // Third failure within the period: the policy (2) is spent, the actor fails.
    tell(&b, a, 0);
    let evs = events(&b, 2);
    assert_eq!(
        evs.last(),
        Some(&ActorEvent::Failed {
            actor: a,
            error: HandlerError(3)
        }),
        "{evs:?}"
    );
    assert_eq!(b.state_of(a), Some(LifecycleState::Failed));
    assert_eq!(b.events().unwrap().failures(), 3);
}

#[test]
fn without_a_policy_a_failure_is_final_until_restarted() {
    let b = backend(CpuConfig::default().with_workers(1));
    let a = b.spawn(0, bytemuck::bytes_of(&N { v: 1 })).unwrap();
    tell(&b, a, 0);
    assert_eq!(
        events(&b, 1),
        vec![ActorEvent::Failed {
            actor: a,
            error: HandlerError(3)
        }]
    );
    b.restart(a, bytemuck::bytes_of(&N { v: 40 })).unwrap();
    assert_eq!(ask(&b, a, 2).unwrap().v, 42);
}

#[test]
fn a_stopped_actor_restarts_in_place_and_raises_terminated_first() {
    let b = backend(CpuConfig::default().with_workers(2));
    let a = b.spawn(0, bytemuck::bytes_of(&N { v: 1 })).unwrap();
    // Running: not restartable.
    assert!(matches!(
        b.restart(a, bytemuck::bytes_of(&N { v: 0 })),
        Err(SpawnError::NotRestartable {
            state: LifecycleState::Active,
            ..
        })
    ));
    b.stop(a).unwrap();
    assert_eq!(events(&b, 1), vec![ActorEvent::Terminated { actor: a }]);
    assert_eq!(b.state_of(a), Some(LifecycleState::Terminated));
    b.restart(a, bytemuck::bytes_of(&N { v: 10 })).unwrap();
    assert_eq!(ask(&b, a, 1).unwrap().v, 11);
}

#[test]
fn a_policy_beyond_the_tracked_bound_is_a_typed_error() {
    let b = backend(CpuConfig::default().with_workers(1));
    let r = b.spawn_with(0, bytemuck::bytes_of(&N { v: 1 }), &policy(9));
    assert_eq!(r, Err(SpawnError::RestartPolicy { asked: 9, max: 8 }));
}

#[test]
fn the_watchdog_reports_a_handler_running_past_its_deadline() {
    let b = backend(
        CpuConfig::default()
            .with_workers(1)
            .with_watchdog(Duration::from_millis(100)),
    );
    let a = b.spawn(0, bytemuck::bytes_of(&N { v: 1 })).unwrap();
    assert!(b.signals().hung.is_empty());
    tell(&b, a, SLOW);
    let until = Instant::now() + WAIT;
    let hung = loop {
        let h = b.signals().hung;
        if !h.is_empty() || Instant::now() > until {
            break h;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    assert_eq!(hung.len(), 1);
    assert_eq!(hung[0].0, a);
    assert!(hung[0].1 >= Duration::from_millis(100));
    // Once it returns, nothing is hung.
    assert_eq!(ask(&b, a, 1).unwrap().v, 2);
    assert!(b.signals().hung.is_empty());
}

#[test]
fn queue_fill_rises_while_a_handler_blocks() {
    let b = backend(
        CpuConfig::default()
            .with_workers(1)
            .with_mailbox_capacity(16),
    );
    let a = b.spawn(0, bytemuck::bytes_of(&N { v: 1 })).unwrap();
    tell(&b, a, SLOW);
    std::thread::sleep(Duration::from_millis(50));
    for _ in 0..8 {
        tell(&b, a, 1);
    }
    let s = b.signals();
    assert!(s.max_queue_fill >= 0.4, "{}", s.max_queue_fill);
    assert!(s.allocated > 0);
    assert_eq!(s.device_memory, None);
}
