//! The CPU backend through the raw `ActorBackend` interface, without the facade.

#![allow(clippy::unwrap_used)] // Tests unwrap: a panic is the failure report.

use std::time::Duration;

use bytemuck::{Pod, Zeroable};
use ringkernel_core::envelope::flags;
use ringkernel_core::{
    Actor, ActorBackend, ActorId, ActorVTable, AskError, BackendKind, Context, Envelope,
    HandlerError, LifecycleState, Message, MessageTypeId, SendError, ShutdownError, SpawnError,
};
use ringkernel_cpu::{CpuBackend, CpuConfig, CpuError};

const WAIT: Duration = Duration::from_secs(10);

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
struct N {
    v: u64,
}
impl Message for N {
    const TYPE_ID: MessageTypeId = MessageTypeId(0x77);
}

struct Sum;
impl Actor for Sum {
    const NAME: &'static str = "sum";
    type State = N;
    type Msg = N;
    type Reply = N;
    fn handle(s: &mut N, m: &N, _: &Context) -> Result<N, HandlerError> {
        if m.v == 0 {
            return Err(HandlerError(3));
        }
        s.v += m.v;
        Ok(*s)
    }
}

fn backend(workers: usize) -> CpuBackend {
    let vt = ActorVTable::of::<Sum>().unwrap();
    CpuBackend::new(&[vt], CpuConfig::default().with_workers(workers)).unwrap()
}

fn env(to: ActorId, v: u64) -> Envelope {
    Envelope::new(ActorId::HOST, to, &N { v }).unwrap()
}

fn spawn(b: &CpuBackend, v: u64) -> ActorId {
    b.spawn(0, bytemuck::bytes_of(&N { v })).unwrap()
}

#[test]
fn kind_description_and_config() {
    let b = backend(3);
    assert_eq!(b.kind(), BackendKind::Cpu);
    assert_eq!(b.description(), "cpu (3 worker threads)");
    assert_eq!(backend(1).description(), "cpu (1 worker thread)");
    assert_eq!(b.config().workers, 3);
}

#[test]
fn bad_config_is_rejected_at_construction() {
    let vt = ActorVTable::of::<Sum>().unwrap();
    let r = CpuBackend::new(&[vt], CpuConfig::default().with_mailbox_capacity(3));
    assert!(matches!(
        r,
        Err(CpuError::BadConfig {
            field: "mailbox_capacity",
            value: 3,
            ..
        })
    ));
}

#[test]
fn spawn_checks_index_and_state_size() {
    let b = backend(1);
    assert!(matches!(b.spawn(1, &[0; 8]), Err(SpawnError::Backend(_))));
    assert_eq!(
        b.spawn(0, &[0; 9]),
        Err(SpawnError::BadState {
            len: 9,
            expected: 8
        })
    );
    let id = spawn(&b, 0);
    assert_eq!(id, ActorId::from_raw(0));
    assert_eq!(b.state_of(id), Some(LifecycleState::Active));
}

#[test]
fn tell_and_ask_through_raw_envelopes() {
    let b = backend(2);
    let id = spawn(&b, 10);
    b.tell(env(id, 5)).unwrap();
    let reply = b.ask(env(id, 1)).unwrap().wait(WAIT).unwrap();
    assert_eq!(reply.read::<N>().unwrap(), N { v: 16 });
    assert!(reply.has_flag(flags::REPLY));
    // The worker counts a message after its reply is out: the count may trail the reply.
    let until = std::time::Instant::now() + WAIT;
    while b.processed() < 2 && std::time::Instant::now() < until {
        std::thread::yield_now();
    }
    assert_eq!(b.processed(), 2);
    assert_eq!(b.pending_asks(), 0);
}

#[test]
fn caller_flags_and_correlation_are_overwritten() {
    let b = backend(1);
    let id = spawn(&b, 0);
    let mut e = env(id, 1);
    e.header.flags = flags::ASK | flags::REPLY | flags::FAILED;
    e.header.correlation = 12345;
    e.header.hlc = u64::MAX;
    // A tell with a forged ASK flag must not complete anyone's ask.
    b.tell(e).unwrap();
    let r = b.ask(env(id, 1)).unwrap().wait(WAIT).unwrap();
    assert_eq!(r.read::<N>().unwrap().v, 2);
    assert_ne!(r.header.correlation, 12345);
    assert!(r.header.hlc < u64::MAX);
}

#[test]
fn failure_drops_queued_asks_and_counts_them() {
    let b = backend(1);
    let id = spawn(&b, 0);
    // Sends after the failure became visible are refused (Stopped) instead of accepted.
    let asks: Vec<_> = (0..20)
        .map(|i| b.ask(env(id, if i == 3 { 0 } else { 1 })))
        .collect();
    let mut dropped = 0;
    for (i, a) in asks.into_iter().enumerate() {
        match (i, a) {
            (0..=2, Ok(p)) => assert!(p.wait(WAIT).is_ok()),
            (3, Ok(p)) => assert_eq!(
                p.wait(WAIT),
                Err(AskError::HandlerFailed {
                    actor: id,
                    error: HandlerError(3)
                })
            ),
            (4.., Ok(p)) => {
                assert_eq!(p.wait(WAIT), Err(AskError::Dropped(id)));
                dropped += 1;
            }
            (4.., Err(e)) => assert_eq!(e, SendError::Stopped(id)),
            (i, other) => panic!("ask {i}: {other:?}"),
        }
    }
    assert_eq!(b.dropped(), dropped);
    assert_eq!(b.processed(), 4);
    assert_eq!(b.state_of(id), Some(LifecycleState::Failed));
    assert_eq!(b.tell(env(id, 1)), Err(SendError::Stopped(id)));
}

#[test]
fn stopped_state_is_readable_only_once_stopped() {
    let b = backend(2);
    let id = spawn(&b, 1);
    for _ in 0..10 {
        b.tell(env(id, 2)).unwrap();
    }
    assert_eq!(b.stopped_state(id), None);
    b.stop(id).unwrap();
    let deadline = std::time::Instant::now() + WAIT;
    while b.state_of(id) != Some(LifecycleState::Terminated) {
        assert!(std::time::Instant::now() < deadline);
        std::thread::yield_now();
    }
    assert_eq!(
        b.stopped_state(id),
        Some(bytemuck::bytes_of(&N { v: 21 }).to_vec())
    );
    assert_eq!(b.stopped_state(ActorId::from_raw(77)), None);
}

#[test]
fn shutdown_report_and_state_after() {
    let b = backend(2);
    let ids: Vec<_> = (0..4).map(|i| spawn(&b, i)).collect();
    for round in 0..100 {
        for &id in &ids {
            b.tell(env(id, round + 1)).unwrap();
        }
    }
    let report = b.shutdown(WAIT).unwrap();
    assert_eq!(report.processed, 400);
    assert_eq!(report.dropped, 0);
    for (i, &id) in ids.iter().enumerate() {
        assert_eq!(b.state_of(id), Some(LifecycleState::Terminated));
        let want = i as u64 + (1..=100).sum::<u64>();
        assert_eq!(
            b.stopped_state(id),
            Some(bytemuck::bytes_of(&N { v: want }).to_vec())
        );
    }
    assert_eq!(b.shutdown(WAIT), Err(ShutdownError::AlreadyShutDown));
    assert_eq!(b.tell(env(ids[0], 1)), Err(SendError::ShutDown));
    assert_eq!(b.spawn(0, &[0; 8]), Err(SpawnError::ShutDown));
}

#[test]
fn drop_without_shutdown_stops_workers() {
    let b = backend(2);
    let id = spawn(&b, 0);
    let pending = b.ask(env(id, 1)).unwrap();
    drop(b);
    // Processed before the drop finished draining, so the reply arrived.
    assert_eq!(pending.wait(WAIT).unwrap().read::<N>().unwrap().v, 1);
}

#[test]
fn tiny_ready_rings_still_schedule_every_actor() {
    // max_actors == workers: each ready ring has the minimum size.
    let vt = ActorVTable::of::<Sum>().unwrap();
    let b = CpuBackend::new(
        &[vt],
        CpuConfig::default().with_workers(2).with_max_actors(2),
    )
    .unwrap();
    let a = spawn(&b, 0);
    let c = spawn(&b, 0);
    for _ in 0..1000 {
        b.tell(env(a, 1))
            .unwrap_or_else(|_| std::thread::yield_now());
        b.tell(env(c, 1))
            .unwrap_or_else(|_| std::thread::yield_now());
    }
    let ra = b.ask(env(a, 1)).unwrap();
    let rc = b.ask(env(c, 1)).unwrap();
    assert!(ra.wait(WAIT).is_ok());
    assert!(rc.wait(WAIT).is_ok());
}

#[test]
fn many_workers_many_actors() {
    let b = backend(8);
    let ids: Vec<_> = (0..200).map(|_| spawn(&b, 0)).collect();
    std::thread::scope(|s| {
        for t in 0..4 {
            let ids = &ids;
            let b = &b;
            s.spawn(move || {
                for k in 0..50 {
                    for &id in ids {
                        while b.tell(env(id, 1)).is_err() {
                            std::thread::yield_now();
                        }
                    }
                    let _ = (t, k);
                }
            });
        }
    });
    for &id in &ids {
        assert_eq!(
            b.ask(env(id, 1))
                .unwrap()
                .wait(WAIT)
                .unwrap()
                .read::<N>()
                .unwrap()
                .v,
            201
        );
    }
}
