//! Handler failure: the actor fails alone, its ask gets HandlerFailed, queued asks get Dropped.

#![allow(clippy::unwrap_used)] // Tests unwrap: a panic is the failure report.

mod common;

use std::time::Duration;

use common::*;
use ringkernel::prelude::*;
use ringkernel::Envelope;
use ringkernel_core::SpawnError;

#[test]
fn failing_ask_reports_handler_failed_and_actor_is_failed() {
    let rt = cpu_runtime().register::<Counter>().build().unwrap();
    let c = rt.spawn::<Counter>(Total::default()).unwrap();
    c.tell(Add { n: 1 }).unwrap();
    assert_eq!(
        c.ask_blocking(Add { n: FAIL }, WAIT),
        Err(AskError::HandlerFailed {
            actor: c.id(),
            error: HandlerError(7)
        })
    );
    assert_eq!(c.state(), LifecycleState::Failed);
    assert_eq!(c.tell(Add { n: 1 }), Err(SendError::Stopped(c.id())));
    assert_eq!(c.stop(), Err(SendError::Stopped(c.id())));
}

#[test]
fn failure_is_isolated_to_one_actor() {
    let rt = cpu_runtime().register::<Counter>().build().unwrap();
    let actors: Vec<_> = (0..50)
        .map(|_| rt.spawn::<Counter>(Total::default()).unwrap())
        .collect();
    actors[17].tell(Add { n: FAIL }).unwrap();
    assert!(eventually(|| actors[17].state() == LifecycleState::Failed));
    for (i, a) in actors.iter().enumerate() {
        if i != 17 {
            assert_eq!(
                a.ask_blocking(Add { n: 2 }, WAIT).unwrap().sum,
                2,
                "actor {i}"
            );
            assert_eq!(a.state(), LifecycleState::Active);
        }
    }
}

#[test]
fn messages_queued_behind_a_failure_are_dropped_with_their_asks_completed() {
    let g = 0;
    let rt = cpu_runtime().register::<GateActor>().build().unwrap();
    let a = rt.spawn::<GateActor>(Total::default()).unwrap();
    a.tell(gated(g, 1)).unwrap();
    assert!(eventually(|| entered(g) == 1));
    let ask = |v| {
        rt.backend()
            .ask(Envelope::new(ActorId::HOST, a.id(), &gated(g, v)).unwrap())
            .unwrap()
    };
    let before = ask(2);
    let failing = ask(FAIL);
    let behind: Vec<_> = (0..5).map(|_| ask(3)).collect();
    a.tell(gated(g, 4)).unwrap();
    open(g);
    let ok = before.wait(WAIT).unwrap().read::<Total>().unwrap();
    assert_eq!(ok, Total { sum: 3, count: 2 });
    assert_eq!(
        failing.wait(WAIT),
        Err(AskError::HandlerFailed {
            actor: a.id(),
            error: HandlerError(9)
        })
    );
    for p in behind {
        assert_eq!(p.wait(WAIT), Err(AskError::Dropped(a.id())));
    }
    let report = rt.shutdown(WAIT).unwrap();
    assert_eq!(report.dropped, 6, "5 asks and 1 tell behind the failure");
    assert_eq!(report.processed, 3, "two successes and the failing call");
}

#[test]
fn panicking_handler_fails_the_actor_not_the_worker() {
    let rt = cpu_runtime()
        .workers(1)
        .register::<Counter>()
        .build()
        .unwrap();
    let victims: Vec<_> = (0..4)
        .map(|_| rt.spawn::<Counter>(Total::default()).unwrap())
        .collect();
    for v in &victims {
        assert_eq!(
            v.ask_blocking(Add { n: PANIC }, WAIT),
            Err(AskError::HandlerFailed {
                actor: v.id(),
                error: HandlerError(ringkernel_cpu::PANIC_CODE)
            })
        );
        assert_eq!(v.state(), LifecycleState::Failed);
    }
    // The only worker survived four panics.
    let c = rt.spawn::<Counter>(Total::default()).unwrap();
    assert_eq!(c.ask_blocking(Add { n: 5 }, WAIT).unwrap().sum, 5);
}

#[test]
fn tells_to_a_failing_actor_never_hang_later_asks() {
    let rt = cpu_runtime().register::<Counter>().build().unwrap();
    let c = rt.spawn::<Counter>(Total::default()).unwrap();
    c.tell(Add { n: FAIL }).unwrap();
    // Whatever the race with the failure, an ask completes promptly: a reply (sent before the
    // failure was processed, impossible here as FIFO puts it after), Dropped, or Stopped.
    match c.ask_blocking(Add { n: 1 }, Duration::from_secs(5)) {
        Err(AskError::Dropped(id)) | Err(AskError::Send(SendError::Stopped(id))) => {
            assert_eq!(id, c.id())
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn a_failed_actor_restarts_in_place_with_fresh_state() {
    let rt = cpu_runtime().register::<Counter>().build().unwrap();
    let c = rt.spawn::<Counter>(Total::default()).unwrap();
    c.tell(Add { n: 5 }).unwrap();
    assert!(c.ask_blocking(Add { n: FAIL }, WAIT).is_err());
    assert_eq!(c.state(), LifecycleState::Failed);
    let fresh = Total::default();
    rt.restart(&c, fresh).unwrap();
    assert_eq!(c.state(), LifecycleState::Active);
    // Same id, new state: the old sum is gone.
    assert_eq!(c.ask_blocking(Add { n: 2 }, WAIT).unwrap().sum, 2);
    // It can fail and restart again.
    assert!(c.ask_blocking(Add { n: FAIL }, WAIT).is_err());
    rt.restart(&c, Total::default()).unwrap();
    assert_eq!(c.ask_blocking(Add { n: 3 }, WAIT).unwrap().sum, 3);
}

#[test]
fn only_stopped_actors_restart_and_bad_input_is_typed() {
    let rt = cpu_runtime().register::<Counter>().build().unwrap();
    let c = rt.spawn::<Counter>(Total::default()).unwrap();
    assert!(matches!(
        rt.restart(&c, Total::default()),
        Err(Error::Spawn(SpawnError::NotRestartable {
            actor,
            state: LifecycleState::Active
        })) if actor == c.id()
    ));
    c.stop().unwrap();
    assert!(eventually(|| c.state() == LifecycleState::Terminated));
    // A stopped actor restarts in place (what a supervisor does for siblings it stopped).
    rt.restart(&c, Total { sum: 5, count: 0 }).unwrap();
    assert_eq!(c.ask_blocking(Add { n: 1 }, WAIT).unwrap().sum, 6);
    assert_eq!(
        rt.backend().restart(ActorId::from_raw(999), &[0; 8]),
        Err(SpawnError::UnknownActor(ActorId::from_raw(999)))
    );
    let d = rt.spawn::<Counter>(Total::default()).unwrap();
    let _ = d.ask_blocking(Add { n: FAIL }, WAIT);
    assert!(matches!(
        rt.backend().restart(d.id(), &[0; 3]),
        Err(SpawnError::BadState { len: 3, .. })
    ));
}

/// Two restarts of one failed actor at once, with sends racing them: one restart wins, the
/// other is `NotRestartable`, and nothing the restarted actor accepted is lost or overwritten
/// by the loser (it used to drop the winner's new messages and copy its own state over).
#[test]
fn concurrent_restarts_leave_one_winner_and_lose_nothing() {
    // Thresholds out of reach: 200 failures in a row would otherwise degrade the runtime, and
    // its load shedding refuse the sends this test counts.
    let rt = cpu_runtime()
        .register::<Counter>()
        .degradation(
            ringkernel::Thresholds::new([1e12; 4], [1e12; 4], [1e12; 4], 0.8).unwrap(),
            Duration::from_secs(1),
        )
        .build()
        .unwrap();
    let a = rt.spawn::<Counter>(Total::default()).unwrap();
    for round in 0..2000 {
        let failed = a.ask_blocking(Add { n: FAIL }, WAIT);
        assert!(
            matches!(failed, Err(AskError::HandlerFailed { .. })),
            "{round}: {failed:?}"
        );
        assert_eq!(a.state(), LifecycleState::Failed);
        let gate = std::sync::Barrier::new(3);
        let (r1, r2, sent) = std::thread::scope(|s| {
            let restart = |sum| {
                let (rt, a, gate) = (&rt, &a, &gate);
                s.spawn(move || {
                    gate.wait();
                    rt.restart(a, Total { sum, count: 0 })
                })
            };
            let (h1, h2) = (restart(100), restart(200));
            let h3 = s.spawn(|| {
                gate.wait();
                let since = std::time::Instant::now();
                let mut sent = 0u64;
                while since.elapsed() < Duration::from_millis(5) && sent < 200 {
                    sent += u64::from(a.tell(Add { n: 1 }).is_ok());
                }
                sent
            });
            (h1.join().unwrap(), h2.join().unwrap(), h3.join().unwrap())
        });
        let base = match (&r1, &r2) {
            (Ok(()), Err(Error::Spawn(SpawnError::NotRestartable { .. }))) => 100,
            (Err(Error::Spawn(SpawnError::NotRestartable { .. })), Ok(())) => 200,
            other => panic!("one restart must win and the other be refused: {other:?}"),
        };
        // Every accepted tell was handled after the winning restart.
        assert_eq!(ask_retry(&a, Add { n: 0 }).sum, base + sent);
    }
}

/// Ids are per runtime: a restart through another runtime's handle is refused, not applied to
/// whichever actor has that id here.
#[test]
fn a_restart_through_a_foreign_handle_is_refused() {
    let rt = cpu_runtime().register::<Counter>().build().unwrap();
    let other = cpu_runtime().register::<Counter>().build().unwrap();
    let local = rt.spawn::<Counter>(Total::default()).unwrap();
    let stranger = other.spawn::<Counter>(Total::default()).unwrap();
    assert_eq!(local.id(), stranger.id());
    assert!(local.ask_blocking(Add { n: FAIL }, WAIT).is_err());
    assert!(matches!(
        rt.restart(&stranger, Total { sum: 1000, count: 0 }),
        Err(Error::ForeignActor(id)) if id == stranger.id()
    ));
    assert_eq!(local.state(), LifecycleState::Failed);
}
