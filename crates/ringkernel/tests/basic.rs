//! Echo, stateful counters, many actors, spawn and registration errors.

#![allow(clippy::unwrap_used)] // Tests unwrap: a panic is the failure report.

mod common;

use std::collections::HashSet;

use common::*;
use ringkernel::prelude::*;
use ringkernel::{SpawnError, DEFAULT_ASK_TIMEOUT};

#[test]
fn echo_replies_with_message_and_context() {
    let rt = cpu_runtime().register::<Echo>().build().unwrap();
    let e = rt.spawn::<Echo>(()).unwrap();
    for v in [0, 1, 42, u64::MAX] {
        let r = e
            .ask_blocking(
                Ping {
                    v,
                    ..Ping::default()
                },
                WAIT,
            )
            .unwrap();
        assert_eq!(r.v, v);
        assert_eq!(r.sender, ActorId::HOST.raw());
        assert_eq!(r.self_id, e.id().raw());
        assert_ne!(r.hlc, 0);
    }
}

#[test]
fn counter_keeps_state_across_tells_and_asks() {
    let rt = cpu_runtime().register::<Counter>().build().unwrap();
    let c = rt.spawn::<Counter>(Total { sum: 100, count: 0 }).unwrap();
    for n in 1..=10 {
        c.tell(Add { n }).unwrap();
    }
    let t = c.ask_blocking(Add { n: 0 }, WAIT).unwrap();
    assert_eq!(
        t,
        Total {
            sum: 155,
            count: 11
        }
    );
}

#[test]
fn actors_have_independent_state() {
    let rt = cpu_runtime().register::<Counter>().build().unwrap();
    let a = rt.spawn::<Counter>(Total::default()).unwrap();
    let b = rt.spawn::<Counter>(Total::default()).unwrap();
    a.tell(Add { n: 5 }).unwrap();
    b.tell(Add { n: 7 }).unwrap();
    b.tell(Add { n: 7 }).unwrap();
    assert_eq!(a.ask_blocking(Add { n: 0 }, WAIT).unwrap().sum, 5);
    assert_eq!(b.ask_blocking(Add { n: 0 }, WAIT).unwrap().sum, 14);
}

#[test]
fn a_thousand_actors_each_count_their_own_messages() {
    let rt = cpu_runtime()
        .mailbox_capacity(16)
        .register::<Counter>()
        .build()
        .unwrap();
    let actors: Vec<_> = (0..1000)
        .map(|_| rt.spawn::<Counter>(Total::default()).unwrap())
        .collect();
    for round in 0..5u64 {
        for (i, a) in actors.iter().enumerate() {
            tell_retry(
                a,
                Add {
                    n: i as u64 + round,
                },
            );
        }
    }
    for (i, a) in actors.iter().enumerate() {
        let t = a.ask_blocking(Add { n: 0 }, WAIT).unwrap();
        let i = i as u64;
        assert_eq!(t.count, 6, "actor {i}");
        assert_eq!(t.sum, 5 * i + 10, "actor {i}");
    }
}

#[test]
fn ids_are_unique_and_increasing() {
    let rt = cpu_runtime().register::<Echo>().build().unwrap();
    let ids: Vec<_> = (0..100)
        .map(|_| rt.spawn::<Echo>(()).unwrap().id())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 100);
    assert!(ids.iter().all(|id| !id.is_host()));
}

#[test]
fn ids_are_not_reused_after_stop() {
    let rt = cpu_runtime().register::<Echo>().build().unwrap();
    let a = rt.spawn::<Echo>(()).unwrap();
    a.stop().unwrap();
    assert!(eventually(|| a.state() == LifecycleState::Terminated));
    let b = rt.spawn::<Echo>(()).unwrap();
    assert_ne!(a.id(), b.id());
    assert_eq!(a.state(), LifecycleState::Terminated);
    assert_eq!(b.state(), LifecycleState::Active);
}

#[test]
fn spawning_an_unregistered_type_is_a_typed_error() {
    let rt = cpu_runtime().register::<Echo>().build().unwrap();
    match rt.spawn::<Counter>(Total::default()) {
        Err(Error::Spawn(SpawnError::NotRegistered(name))) => assert_eq!(name, "counter"),
        other => panic!("expected NotRegistered, got {other:?}"),
    }
}

#[test]
fn registering_a_type_twice_is_a_typed_error() {
    let err = cpu_runtime()
        .register::<Echo>()
        .register::<Counter>()
        .register::<Echo>()
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::DuplicateActorType("echo")), "{err:?}");
}

/// A different type reusing a registered name.
struct FakeEcho;
impl Actor for FakeEcho {
    const NAME: &'static str = "echo";
    type State = ();
    type Msg = Add;
    type Reply = ();
    fn handle(_: &mut (), _: &Add, _: &Context) -> Result<(), HandlerError> {
        Ok(())
    }
}

#[test]
fn registering_two_types_with_one_name_is_a_typed_error() {
    let err = cpu_runtime()
        .register::<Echo>()
        .register::<FakeEcho>()
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::DuplicateActorType("echo")), "{err:?}");
}

#[test]
fn unit_reply_acknowledges() {
    struct Ack;
    impl Actor for Ack {
        const NAME: &'static str = "ack";
        type State = Total;
        type Msg = Add;
        type Reply = ();
        fn handle(s: &mut Total, m: &Add, _: &Context) -> Result<(), HandlerError> {
            s.sum += m.n;
            Ok(())
        }
    }
    let rt = cpu_runtime().register::<Ack>().build().unwrap();
    let a = rt.spawn::<Ack>(Total::default()).unwrap();
    assert_eq!(a.ask_blocking(Add { n: 1 }, WAIT), Ok(()));
}

#[test]
fn runtime_reports_cpu_backend() {
    let rt = cpu_runtime().workers(3).build().unwrap();
    assert_eq!(rt.backend_kind(), BackendKind::Cpu);
    assert!(
        rt.description().contains("3 worker"),
        "{}",
        rt.description()
    );
    assert_eq!(rt.fallback_reason(), None);
    assert_eq!(DEFAULT_ASK_TIMEOUT.as_secs(), 5);
}

#[test]
fn actor_ref_clones_address_the_same_actor() {
    let rt = cpu_runtime().register::<Counter>().build().unwrap();
    let a = rt.spawn::<Counter>(Total::default()).unwrap();
    let b = a.clone();
    a.tell(Add { n: 1 }).unwrap();
    b.tell(Add { n: 2 }).unwrap();
    assert_eq!(a.id(), b.id());
    assert_eq!(b.ask_blocking(Add { n: 0 }, WAIT).unwrap().sum, 3);
    assert!(format!("{a:?}").contains("counter"));
}

#[test]
fn state_of_unknown_id_is_none() {
    let rt = cpu_runtime().register::<Echo>().build().unwrap();
    let e = rt.spawn::<Echo>(()).unwrap();
    assert_eq!(rt.state_of(e.id()), Some(LifecycleState::Active));
    assert_eq!(rt.state_of(ActorId::from_raw(999)), None);
    assert_eq!(rt.state_of(ActorId::HOST), None);
}

#[test]
fn spawn_limit_is_a_typed_error() {
    let rt = cpu_runtime()
        .max_actors(3)
        .register::<Echo>()
        .build()
        .unwrap();
    for _ in 0..3 {
        rt.spawn::<Echo>(()).unwrap();
    }
    match rt.spawn::<Echo>(()) {
        Err(Error::Spawn(SpawnError::TooManyActors { limit: 3 })) => {}
        other => panic!("expected TooManyActors, got {other:?}"),
    }
}

/// The CPU backend has no actor-to-actor sends, hence never dead letters (host sends that cannot
/// be delivered are typed errors instead).
#[test]
fn cpu_runtime_has_no_dead_letters() {
    let rt = cpu_runtime().register::<Counter>().build().unwrap();
    let c = rt.spawn::<Counter>(Total::default()).unwrap();
    c.tell(Add { n: 1 }).unwrap();
    assert!(rt.dead_letters().is_empty());
    assert_eq!(
        rt.dead_letter_counts(),
        ringkernel::DeadLetterCounts::default()
    );
}
