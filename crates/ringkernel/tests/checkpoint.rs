//! Checkpoints of a running runtime and restore into a new one, on the CPU backend.

#![allow(clippy::unwrap_used)] // Tests unwrap: a panic is the failure report.

mod common;

use common::*;
use ringkernel::checkpoint::{ActorSnapshot, Checkpoint, Delta};
use ringkernel::prelude::*;
use ringkernel::{CoreError, Envelope, Error, SpawnError};

fn runtime() -> Runtime {
    cpu_runtime()
        .register::<Counter>()
        .register::<Echo>()
        .build()
        .unwrap()
}

fn sum(rt: &Runtime, id: ActorId) -> Total {
    rt.actor::<Counter>(id)
        .unwrap()
        .ask_blocking(Add { n: 0 }, WAIT)
        .unwrap()
}

#[test]
fn a_checkpoint_restores_every_live_actor_into_a_new_runtime() {
    let rt = runtime();
    let a = rt.spawn::<Counter>(Total { sum: 10, count: 0 }).unwrap();
    let b = rt.spawn::<Counter>(Total::default()).unwrap();
    let gone = rt.spawn::<Counter>(Total::default()).unwrap();
    let e = rt.spawn::<Echo>(()).unwrap();
    for i in 1..=100 {
        a.tell(Add { n: i }).unwrap();
    }
    b.ask_blocking(Add { n: 7 }, WAIT).unwrap();
    gone.stop().unwrap();
    assert!(eventually(|| gone.state() == LifecycleState::Terminated));
    // Everything told so far is in the cut: processed, or saved in the mailbox part.
    let cp = rt.checkpoint().unwrap();
    let ids: Vec<_> = cp.actors().iter().map(|s| s.id).collect();
    assert_eq!(
        ids,
        vec![a.id(), b.id(), e.id()],
        "the stopped actor is not in it"
    );
    assert_eq!(cp.actor(e.id()).unwrap().type_name, "echo");
    // The originals keep running after the checkpoint.
    assert_eq!(
        a.ask_blocking(Add { n: 1 }, WAIT).unwrap().sum,
        10 + 5050 + 1
    );

    // Through bytes, into a fresh runtime.
    let bytes = cp.encode();
    let rt2 = runtime();
    let restored = rt2.restore(&Checkpoint::decode(&bytes).unwrap()).unwrap();
    assert_eq!(restored, ids);
    let ra = sum(&rt2, a.id());
    assert_eq!(ra.sum, 10 + 5050);
    assert_eq!(ra.count, 101, "100 tells + this ask");
    assert_eq!(sum(&rt2, b.id()).sum, 7);
    let echo = rt2.actor::<Echo>(e.id()).unwrap();
    assert_eq!(
        echo.ask_blocking(
            Ping {
                v: 5,
                ..Ping::default()
            },
            WAIT
        )
        .unwrap()
        .v,
        5
    );
    // The stopped actor's id was skipped, and new spawns do not collide with restored ids.
    assert!(rt2.state_of(gone.id()).is_none());
    let fresh = rt2.spawn::<Counter>(Total::default()).unwrap();
    assert!(fresh.id().raw() > e.id().raw());
}

#[test]
fn saved_mailbox_messages_run_before_anything_sent_after_the_restore() {
    let rt = runtime();
    let mut snap_state = Total { sum: 1, count: 0 };
    let id = ActorId::from_raw(3);
    let msgs: Vec<Envelope> = (0..5)
        .map(|i| Envelope::new(ActorId::from_raw(9), id, &Add { n: 10 + i }).unwrap())
        .collect();
    let cp = Checkpoint::new(vec![ActorSnapshot {
        id,
        type_name: "counter".into(),
        state: bytemuck::bytes_of(&snap_state).to_vec(),
        mailbox: msgs,
    }])
    .unwrap();
    rt.restore(&cp).unwrap();
    let c = rt.actor::<Counter>(id).unwrap();
    let r = c.ask_blocking(Add { n: 0 }, WAIT).unwrap();
    snap_state.sum += 10 + 11 + 12 + 13 + 14;
    assert_eq!(r.sum, snap_state.sum);
    assert_eq!(r.count, 6);
}

#[test]
fn a_delta_between_two_checkpoints_rebuilds_the_second() {
    let rt = runtime();
    let actors: Vec<_> = (0..8)
        .map(|i| rt.spawn::<Counter>(Total { sum: i, count: 0 }).unwrap())
        .collect();
    let base = rt.checkpoint().unwrap();
    actors[3].ask_blocking(Add { n: 1000 }, WAIT).unwrap();
    let later = rt.checkpoint().unwrap();
    let delta = Delta::between(&base, &later, 16).unwrap();
    let rebuilt = delta.apply(&base).unwrap();
    assert_eq!(rebuilt, later);
    assert!(Delta::decode(&delta.encode()).unwrap().encode().len() < later.encode().len());
    let rt2 = runtime();
    rt2.restore(&rebuilt).unwrap();
    assert_eq!(sum(&rt2, actors[3].id()).sum, 1003);
    assert_eq!(sum(&rt2, actors[4].id()).sum, 4);
}

#[test]
fn bad_checkpoints_and_restores_are_typed_errors() {
    let rt = runtime();
    let a = rt.spawn::<Counter>(Total::default()).unwrap();
    let cp = rt.checkpoint().unwrap();
    // Restoring over a taken id.
    assert!(matches!(
        rt.restore(&cp),
        Err(Error::Spawn(SpawnError::Backend(_)))
    ));
    // A type this runtime does not know.
    let only_echo = cpu_runtime().register::<Echo>().build().unwrap();
    assert!(matches!(
        only_echo.restore(&cp),
        Err(Error::UnknownActorType(ref n)) if n == "counter"
    ));
    // Altered bytes.
    let mut bytes = cp.encode();
    let last = bytes.len() - 40;
    bytes[last] ^= 1;
    assert!(matches!(
        Checkpoint::decode(&bytes),
        Err(CoreError::CheckpointDigest)
    ));
    // A wrong type through `actor`.
    assert!(matches!(
        rt.actor::<Echo>(a.id()),
        Err(Error::ActorTypeMismatch { .. })
    ));
    // A wrong-sized state.
    let bad = Checkpoint::new(vec![ActorSnapshot {
        id: ActorId::from_raw(50),
        type_name: "counter".into(),
        state: vec![0; 3],
        mailbox: Vec::new(),
    }])
    .unwrap();
    assert!(matches!(
        rt.restore(&bad),
        Err(Error::Spawn(SpawnError::BadState { len: 3, .. }))
    ));
}

/// A restore is booked against the memory budgets as spawns are: a checkpoint of four actors
/// does not fit a runtime whose budget holds one (it used to restore all four unbooked, and
/// the next spawn was admitted as if none were there).
#[test]
fn a_restore_is_booked_and_refused_past_the_budget_as_spawns_are() {
    let rt = runtime();
    for _ in 0..4 {
        rt.spawn::<Counter>(Total::default()).unwrap();
    }
    let cp = rt.checkpoint().unwrap();
    let (four, _) = rt.memory_usage();
    let one = four / 4;
    let small = Runtime::builder()
        .backend(Backend::Cpu)
        .register::<Counter>()
        .memory_budgets(ringkernel::MemoryBudgets {
            global: Some(one + one / 2),
            per_tree: None,
            per_actor: None,
        })
        .build()
        .unwrap();
    match small.restore(&cp) {
        Err(Error::Budget(_)) => {}
        other => panic!("the second actor must not fit: {other:?}"),
    }
    // The first one was restored and booked; nothing else fits beside it.
    assert_eq!(small.memory_usage().0, one);
    assert!(matches!(
        small.spawn::<Counter>(Total::default()),
        Err(Error::Budget(_))
    ));
}
