//! Shutdown: drain, drop after the drain budget, hung handlers, and what happens afterwards.

#![allow(clippy::unwrap_used)] // Tests unwrap: a panic is the failure report.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::*;
use ringkernel::prelude::*;
use ringkernel::{Envelope, ShutdownError, SpawnError};

fn raw_ask(rt: &Runtime, id: ActorId, m: Gated) -> ringkernel_core::PendingReply {
    rt.backend()
        .ask(Envelope::new(ActorId::HOST, id, &m).unwrap())
        .unwrap()
}

#[test]
fn shutdown_drains_accepted_messages() {
    let rt = cpu_runtime().register::<Counter>().build().unwrap();
    let actors: Vec<_> = (0..8)
        .map(|_| rt.spawn::<Counter>(Total::default()).unwrap())
        .collect();
    for i in 0..10_000u64 {
        tell_retry(&actors[(i % 8) as usize], Add { n: 1 });
    }
    let report = rt.shutdown(WAIT).unwrap();
    assert_eq!(report.processed, 10_000);
    assert_eq!(report.dropped, 0);
    for a in &actors {
        assert_eq!(a.state(), LifecycleState::Terminated);
    }
}

#[test]
fn asks_in_flight_at_shutdown_are_answered_when_drained() {
    let g = 0;
    let rt = cpu_runtime().register::<GateActor>().build().unwrap();
    let a = rt.spawn::<GateActor>(Total::default()).unwrap();
    a.tell(gated(g, 1)).unwrap();
    assert!(eventually(|| entered(g) == 1));
    let asks: Vec<_> = (0..10).map(|_| raw_ask(&rt, a.id(), gated(g, 1))).collect();
    std::thread::scope(|s| {
        s.spawn(|| {
            std::thread::sleep(Duration::from_millis(50));
            open(g);
        });
        let report = rt.shutdown(WAIT).unwrap();
        assert_eq!(report.processed, 11);
        assert_eq!(report.dropped, 0);
    });
    for (i, p) in asks.into_iter().enumerate() {
        assert_eq!(
            p.wait(WAIT).unwrap().read::<Total>().unwrap().count,
            i as u64 + 2
        );
    }
}

#[test]
fn messages_left_after_the_drain_budget_are_dropped_and_asks_completed() {
    let g = 1;
    let deadline = Duration::from_secs(4);
    let rt = cpu_runtime().register::<GateActor>().build().unwrap();
    let a = rt.spawn::<GateActor>(Total::default()).unwrap();
    a.tell(gated(g, 1)).unwrap();
    assert!(eventually(|| entered(g) == 1));
    let asks: Vec<_> = (0..10).map(|_| raw_ask(&rt, a.id(), gated(g, 1))).collect();
    std::thread::scope(|s| {
        // Release the handler after the drain budget (3/4 of the deadline), before the deadline.
        s.spawn(move || {
            std::thread::sleep(deadline * 7 / 8);
            open(g);
        });
        let report = rt.shutdown(deadline).unwrap();
        assert_eq!(report.processed, 1);
        assert_eq!(report.dropped, 10);
    });
    for p in asks {
        assert_eq!(
            p.wait(Duration::from_millis(1)),
            Err(AskError::Dropped(a.id()))
        );
    }
}

#[test]
fn a_hung_handler_makes_shutdown_fail_with_hung_but_completes_every_ask() {
    let g = 2;
    let rt = cpu_runtime().register::<GateActor>().build().unwrap();
    let a = rt.spawn::<GateActor>(Total::default()).unwrap();
    a.tell(gated(g, 1)).unwrap();
    assert!(eventually(|| entered(g) == 1));
    let asks: Vec<_> = (0..5).map(|_| raw_ask(&rt, a.id(), gated(g, 1))).collect();
    let start = Instant::now();
    match rt.shutdown(Duration::from_millis(200)) {
        Err(Error::Shutdown(ShutdownError::Hung(d, why))) => {
            assert_eq!(d, Duration::from_millis(200));
            assert!(why.contains("worker"), "{why}");
        }
        other => panic!("expected Hung, got {other:?}"),
    }
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "shutdown overran its deadline"
    );
    for p in asks {
        assert_eq!(
            p.wait(Duration::from_millis(1)),
            Err(AskError::Dropped(a.id()))
        );
    }
    open(g); // let the detached worker finish
}

#[test]
fn everything_is_refused_after_shutdown() {
    let rt = cpu_runtime().register::<Counter>().build().unwrap();
    let c = rt.spawn::<Counter>(Total::default()).unwrap();
    rt.shutdown(WAIT).unwrap();
    assert_eq!(c.tell(Add { n: 1 }), Err(SendError::ShutDown));
    assert_eq!(
        c.ask_blocking(Add { n: 1 }, WAIT),
        Err(AskError::Send(SendError::ShutDown))
    );
    assert_eq!(c.stop(), Err(SendError::ShutDown));
    assert!(matches!(
        rt.spawn::<Counter>(Total::default()),
        Err(Error::Spawn(SpawnError::ShutDown))
    ));
    assert!(matches!(
        rt.shutdown(WAIT),
        Err(Error::Shutdown(ShutdownError::AlreadyShutDown))
    ));
}

#[test]
fn failed_actors_stay_failed_after_shutdown() {
    let rt = cpu_runtime().register::<Counter>().build().unwrap();
    let bad = rt.spawn::<Counter>(Total::default()).unwrap();
    let good = rt.spawn::<Counter>(Total::default()).unwrap();
    let _ = bad.ask_blocking(Add { n: FAIL }, WAIT);
    rt.shutdown(WAIT).unwrap();
    assert_eq!(bad.state(), LifecycleState::Failed);
    assert_eq!(good.state(), LifecycleState::Terminated);
}

#[test]
fn dropping_the_runtime_shuts_it_down() {
    let rt = cpu_runtime().register::<Counter>().build().unwrap();
    let c = rt.spawn::<Counter>(Total::default()).unwrap();
    c.tell(Add { n: 1 }).unwrap();
    drop(rt);
    assert_eq!(c.tell(Add { n: 1 }), Err(SendError::ShutDown));
    assert_eq!(c.state(), LifecycleState::Terminated);
}

#[test]
fn shutdown_racing_with_senders_accounts_for_every_accepted_message() {
    let rt = cpu_runtime()
        .mailbox_capacity(128)
        .register::<Counter>()
        .build()
        .unwrap();
    let actors: Vec<_> = (0..4)
        .map(|_| rt.spawn::<Counter>(Total::default()).unwrap())
        .collect();
    let accepted = AtomicU64::new(0);
    std::thread::scope(|s| {
        for t in 0..3usize {
            let actors = &actors;
            let accepted = &accepted;
            s.spawn(move || {
                let mut i = t;
                loop {
                    match actors[i % 4].tell(Add { n: 1 }) {
                        Ok(()) => {
                            accepted.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(SendError::Full(_)) => std::thread::yield_now(),
                        Err(SendError::ShutDown) => return,
                        Err(e) => panic!("{e}"),
                    }
                    i += 1;
                }
            });
        }
        std::thread::sleep(Duration::from_millis(30));
        let report = rt.shutdown(WAIT).unwrap();
        // Senders may still be refused after this point, but none can be accepted any more.
        std::thread::sleep(Duration::from_millis(10));
        let n = accepted.load(Ordering::Relaxed);
        assert_eq!(report.processed + report.dropped, n);
        assert!(n > 0);
    });
}

/// Deadlines at both ends: `Duration::MAX` (past what `Instant` can count) used to panic in
/// shutdown and in a blocking ask; a zero shutdown deadline on an idle runtime used to report
/// workers "still inside a handler" that were only on their way out.
#[test]
fn extreme_deadlines_neither_panic_nor_report_a_hang() {
    for _ in 0..20 {
        let rt = cpu_runtime().register::<Counter>().build().unwrap();
        let a = rt.spawn::<Counter>(Total::default()).unwrap();
        assert_eq!(a.ask_blocking(Add { n: 2 }, Duration::MAX).unwrap().sum, 2);
        let report = rt.shutdown(Duration::ZERO).unwrap();
        assert_eq!(report.processed, 1);
    }
    let rt = cpu_runtime().register::<Counter>().build().unwrap();
    rt.spawn::<Counter>(Total::default()).unwrap();
    rt.shutdown(Duration::MAX).unwrap();
}
