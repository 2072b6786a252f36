//! Supervision trees through the public API on the CPU backend: strategies, intensity and
//! escalation, in-place restarts below the tree, killing a subtree, bad specs.

#![allow(clippy::unwrap_used)] // Tests unwrap: a panic is the failure report.

mod common;

use std::time::Duration;

use common::*;
use ringkernel::prelude::*;
use ringkernel::supervision::{Intensity, Strategy};
use ringkernel::{ActorEvent, Error, SpawnOptions, Supervision, SupervisionEvent, SupervisorSpec};

fn runtime() -> Runtime {
    cpu_runtime()
        .register::<Counter>()
        .register::<Echo>()
        .register::<GateActor>()
        .build()
        .unwrap()
}

fn counter(s: &Supervision, path: &str) -> ActorRef<Counter> {
    s.actor::<Counter>(path).unwrap()
}

fn sum(s: &Supervision, path: &str) -> u64 {
    counter(s, path)
        .ask_blocking(Add { n: 0 }, WAIT)
        .unwrap()
        .sum
}

/// Fails `path`'s actor and waits until the tree logged `n` entries.
fn fail_and_wait(s: &Supervision, path: &str, n: usize) -> Vec<SupervisionEvent> {
    counter(s, path).tell(Add { n: FAIL }).unwrap();
    assert!(eventually(|| s.log().len() >= n), "log: {:?}", s.log());
    s.log()
}

fn three(strategy: Strategy) -> SupervisorSpec {
    SupervisorSpec::new(strategy)
        .max_restarts(10, Duration::from_secs(60))
        .actor::<Counter>("a", Total { sum: 1, count: 0 })
        .actor::<Counter>("b", Total { sum: 2, count: 0 })
        .actor::<Counter>("c", Total { sum: 3, count: 0 })
}

/// Adds 100 to every child so a restart (back to the initial state) is visible.
fn bump(s: &Supervision) {
    for p in ["a", "b", "c"] {
        counter(s, p).ask_blocking(Add { n: 100 }, WAIT).unwrap();
    }
}

#[test]
fn one_for_one_restarts_only_the_failed_child_with_its_initial_state() {
    let rt = runtime();
    let s = rt.supervise(three(Strategy::OneForOne)).unwrap();
    let id_b = s.id("b").unwrap();
    bump(&s);
    let log = fail_and_wait(&s, "b", 1);
    assert_eq!(
        log,
        vec![SupervisionEvent::Restarted {
            supervisor: String::new(),
            failed: "b".into(),
            restarted: vec!["b".into()],
        }]
    );
    assert!(eventually(
        || rt.state_of(id_b) == Some(LifecycleState::Active)
    ));
    assert_eq!(s.id("b").unwrap(), id_b, "same id after the restart");
    assert_eq!((sum(&s, "a"), sum(&s, "b"), sum(&s, "c")), (101, 2, 103));
}

#[test]
fn one_for_all_restarts_every_child() {
    let rt = runtime();
    let s = rt.supervise(three(Strategy::OneForAll)).unwrap();
    bump(&s);
    let log = fail_and_wait(&s, "a", 1);
    assert_eq!(
        log[0],
        SupervisionEvent::Restarted {
            supervisor: String::new(),
            failed: "a".into(),
            restarted: vec!["a".into(), "b".into(), "c".into()],
        }
    );
    assert_eq!((sum(&s, "a"), sum(&s, "b"), sum(&s, "c")), (1, 2, 3));
}

#[test]
fn rest_for_one_restarts_the_failed_child_and_those_started_after_it() {
    let rt = runtime();
    let s = rt.supervise(three(Strategy::RestForOne)).unwrap();
    bump(&s);
    fail_and_wait(&s, "b", 1);
    assert_eq!((sum(&s, "a"), sum(&s, "b"), sum(&s, "c")), (101, 2, 3));
}

#[test]
fn exceeding_the_intensity_escalates_to_the_parent_which_restarts_the_subtree() {
    let rt = runtime();
    let spec = SupervisorSpec::new(Strategy::OneForOne)
        .max_restarts(5, Duration::from_secs(60))
        .actor::<Counter>("front", Total { sum: 7, count: 0 })
        .supervisor(
            "pool",
            SupervisorSpec::new(Strategy::OneForOne)
                // OTP's default: 1 restart in 5 s.
                .actor::<Counter>("w1", Total { sum: 10, count: 0 })
                .actor::<Counter>("w2", Total { sum: 20, count: 0 }),
        );
    let s = rt.supervise(spec).unwrap();
    counter(&s, "pool/w2")
        .ask_blocking(Add { n: 5 }, WAIT)
        .unwrap();
    // First failure: restarted by the pool.
    fail_and_wait(&s, "pool/w1", 1);
    // Second within 5 s: the pool escalates; the root restarts the whole pool.
    let log = fail_and_wait(&s, "pool/w1", 3);
    assert_eq!(
        log[1..3],
        [
            SupervisionEvent::Escalated {
                supervisor: "pool".into(),
                failed: "pool/w1".into(),
            },
            SupervisionEvent::Restarted {
                supervisor: String::new(),
                failed: "pool".into(),
                restarted: vec!["pool".into()],
            },
        ]
    );
    assert_eq!(sum(&s, "pool/w1"), 10);
    assert_eq!(
        sum(&s, "pool/w2"),
        20,
        "w2 was stopped and restarted with its initial state"
    );
    assert_eq!(sum(&s, "front"), 7);
    // The pool's bookkeeping is fresh after its restart: one more failure is restarted.
    let log = fail_and_wait(&s, "pool/w2", 4);
    assert!(
        matches!(log[3], SupervisionEvent::Restarted { ref supervisor, .. } if supervisor == "pool")
    );
    assert!(s.is_running());
}

#[test]
fn the_root_gives_up_when_its_own_intensity_is_exceeded() {
    let rt = runtime();
    let spec = SupervisorSpec::new(Strategy::OneForAll)
        .intensity(Intensity {
            max_restarts: 1,
            period: Duration::from_secs(60),
        })
        .actor::<Counter>("a", Total::default())
        .actor::<Counter>("b", Total::default());
    let s = rt.supervise(spec).unwrap();
    fail_and_wait(&s, "a", 1);
    let log = fail_and_wait(&s, "a", 3);
    assert_eq!(log[2], SupervisionEvent::GaveUp);
    assert!(!s.is_running());
    let (a, b) = (s.id("a").unwrap(), s.id("b").unwrap());
    assert_eq!(rt.state_of(a), Some(LifecycleState::Failed));
    assert!(eventually(
        || rt.state_of(b) == Some(LifecycleState::Terminated)
    ));
}

#[test]
fn a_restart_policy_restarts_in_place_below_the_tree_until_it_is_spent() {
    let rt = runtime();
    let policy = SpawnOptions::default().restart(Intensity {
        max_restarts: 2,
        period: Duration::from_secs(60),
    });
    let spec = SupervisorSpec::new(Strategy::OneForOne)
        .max_restarts(5, Duration::from_secs(60))
        .actor_with::<Counter>("x", Total { sum: 4, count: 0 }, policy);
    let s = rt.supervise(spec).unwrap();
    let log = fail_and_wait(&s, "x", 1);
    assert_eq!(
        log[0],
        SupervisionEvent::RestartedInPlace {
            child: "x".into(),
            error: HandlerError(7)
        }
    );
    fail_and_wait(&s, "x", 2);
    // The third failure spends the policy: now the supervisor restarts it (with a fresh policy).
    let log = fail_and_wait(&s, "x", 3);
    assert!(
        matches!(log[2], SupervisionEvent::Restarted { .. }),
        "{log:?}"
    );
    let log = fail_and_wait(&s, "x", 4);
    assert!(
        matches!(log[3], SupervisionEvent::RestartedInPlace { .. }),
        "{log:?}"
    );
    assert_eq!(sum(&s, "x"), 4);
}

#[test]
fn stopping_the_tree_kills_every_actor_and_failures_no_longer_restart() {
    let rt = runtime();
    let s = rt.supervise(three(Strategy::OneForOne)).unwrap();
    let ids: Vec<_> = s.actors().into_iter().map(|(_, id)| id).collect();
    assert_eq!(ids.len(), 3);
    s.stop();
    assert!(!s.is_running());
    for id in ids {
        assert_eq!(rt.state_of(id), Some(LifecycleState::Terminated));
    }
    assert!(s.log().is_empty());
}

/// A shutdown during a restart does not wait out the restart: the sibling the tree is waiting
/// on to stop (its handler is blocked) and the starts to come are logged as failed, and the
/// shutdown keeps its own deadline instead of the tree's 5 s stop wait.
#[test]
fn a_shutdown_during_a_restart_cuts_the_restart_short() {
    let rt = runtime();
    let spec = SupervisorSpec::new(Strategy::OneForAll)
        .actor::<GateActor>("gate", Total::default())
        .actor::<Counter>("a", Total::default());
    let s = rt.supervise(spec).unwrap();
    let gate = s.actor::<GateActor>("gate").unwrap();
    gate.tell(Gated {
        gate: 0,
        _pad: 0,
        v: 1,
    })
    .unwrap();
    assert!(eventually(|| entered(0) == 1));
    counter(&s, "a").tell(Add { n: FAIL }).unwrap();
    // The tree has asked the blocked sibling to stop and waits for it.
    assert!(eventually(
        || rt.state_of(gate.id()) == Some(LifecycleState::Draining)
    ));
    let since = std::time::Instant::now();
    let shut = rt.shutdown(Duration::from_millis(300));
    let took = since.elapsed();
    open(0);
    assert!(
        took < Duration::from_secs(2),
        "shutdown took {took:?} ({shut:?}): it waited for the restart"
    );
    let log = s.log();
    let failed_stop = |e: &SupervisionEvent| {
        matches!(e, SupervisionEvent::StopFailed { child, why }
            if child == "gate" && why.contains("shut down"))
    };
    let abandoned = |name: &str| {
        log.iter().any(|e| {
            matches!(e, SupervisionEvent::RestartFailed { child, why }
                if child == name && why.contains("shut down"))
        })
    };
    assert!(log.iter().any(failed_stop), "{log:?}");
    assert!(abandoned("gate") && abandoned("a"), "{log:?}");
}

#[test]
fn stop_subtree_kills_only_that_subtree() {
    let rt = runtime();
    let spec = SupervisorSpec::new(Strategy::OneForOne)
        .actor::<Counter>("front", Total::default())
        .supervisor(
            "pool",
            SupervisorSpec::new(Strategy::OneForOne)
                .actor::<Counter>("w1", Total::default())
                .actor::<Counter>("w2", Total::default()),
        );
    let s = rt.supervise(spec).unwrap();
    s.stop_subtree("pool").unwrap();
    for p in ["pool/w1", "pool/w2"] {
        assert_eq!(
            rt.state_of(s.id(p).unwrap()),
            Some(LifecycleState::Terminated)
        );
    }
    assert_eq!(
        rt.state_of(s.id("front").unwrap()),
        Some(LifecycleState::Active)
    );
    assert!(matches!(
        s.stop_subtree("nope"),
        Err(Error::UnknownChild(_))
    ));
}

#[test]
fn bad_specs_and_lookups_are_typed_errors() {
    let rt = runtime();
    let dup = SupervisorSpec::new(Strategy::OneForOne)
        .actor::<Counter>("a", Total::default())
        .actor::<Counter>("a", Total::default());
    assert!(matches!(
        rt.supervise(dup),
        Err(Error::InvalidChildName { .. })
    ));
    let slash = SupervisorSpec::new(Strategy::OneForOne).actor::<Counter>("a/b", Total::default());
    assert!(matches!(
        rt.supervise(slash),
        Err(Error::InvalidChildName { .. })
    ));
    let zero = SupervisorSpec::new(Strategy::OneForOne).max_restarts(1, Duration::ZERO);
    assert!(matches!(rt.supervise(zero), Err(Error::Core(_))));
    let s = rt
        .supervise(SupervisorSpec::new(Strategy::OneForOne).actor::<Counter>("a", Total::default()))
        .unwrap();
    assert!(matches!(
        s.actor::<Echo>("a"),
        Err(Error::ChildTypeMismatch { .. })
    ));
    assert!(matches!(s.id("zz"), Err(Error::UnknownChild(_))));
    // Unsupervised failures stay visible.
    let lone = rt.spawn::<Counter>(Total::default()).unwrap();
    lone.tell(Add { n: FAIL }).unwrap();
    let mut seen = Vec::new();
    assert!(eventually(|| {
        seen.extend(rt.actor_events());
        seen.iter()
            .any(|e| matches!(e, ActorEvent::Failed { actor, .. } if *actor == lone.id()))
    }));
}

/// A restart policy with a zero window counts it as 1 ms, as the GPU backend does: the actor
/// is restarted in place (the CPU backend used to drop such a policy and leave it `Failed`).
#[test]
fn a_restart_policy_with_a_zero_window_still_restarts_in_place() {
    let rt = runtime();
    let policy = SpawnOptions::default().restart(Intensity {
        max_restarts: 3,
        period: Duration::ZERO,
    });
    let a = rt
        .spawn_with::<Counter>(Total { sum: 4, count: 0 }, policy)
        .unwrap();
    assert!(a.ask_blocking(Add { n: FAIL }, WAIT).is_err());
    assert!(eventually(|| a.state() == LifecycleState::Active));
    assert_eq!(a.ask_blocking(Add { n: 1 }, WAIT).unwrap().sum, 5);
}
