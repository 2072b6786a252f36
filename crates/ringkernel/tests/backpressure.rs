//! Full mailboxes: `SendError::Full`, nothing overwritten, nothing lost after release.

#![allow(clippy::unwrap_used)] // Tests unwrap: a panic is the failure report.

mod common;

use common::*;
use ringkernel::prelude::*;

/// Blocks the actor's worker in the handler of one message, so its mailbox really fills.
fn blocked_actor(rt: &Runtime, g: usize) -> ActorRef<GateActor> {
    let a = rt.spawn::<GateActor>(Total::default()).unwrap();
    a.tell(gated(g, 1)).unwrap();
    assert!(eventually(|| entered(g) == 1), "handler never entered");
    a
}

#[test]
fn full_mailbox_refuses_then_delivers_everything_accepted() {
    let g = 0;
    let rt = cpu_runtime()
        .mailbox_capacity(8)
        .register::<GateActor>()
        .build()
        .unwrap();
    let a = blocked_actor(&rt, g);
    for v in 0..8 {
        a.tell(gated(g, 10 + v)).unwrap();
    }
    for _ in 0..5 {
        assert_eq!(a.tell(gated(g, 1000)), Err(SendError::Full(a.id())));
    }
    open(g);
    let t = ask_retry(&a, gated(g, 0));
    // 1 + (10..18) + 0; the refused 1000s were never enqueued.
    assert_eq!(
        t,
        Total {
            sum: 1 + (10..18).sum::<u64>(),
            count: 10
        }
    );
}

#[test]
fn full_is_per_actor() {
    let g = 1;
    let rt = cpu_runtime()
        .mailbox_capacity(4)
        .register::<GateActor>()
        .register::<Counter>()
        .build()
        .unwrap();
    let a = blocked_actor(&rt, g);
    while a.tell(gated(g, 1)).is_ok() {}
    let c = rt.spawn::<Counter>(Total::default()).unwrap();
    assert_eq!(c.ask_blocking(Add { n: 3 }, WAIT).unwrap().sum, 3);
    open(g);
}

#[test]
fn full_ask_is_a_send_error_and_does_not_leak_a_pending_slot() {
    let g = 2;
    let rt = cpu_runtime()
        .mailbox_capacity(2)
        .max_pending_asks(1)
        .register::<GateActor>()
        .build()
        .unwrap();
    let a = blocked_actor(&rt, g);
    a.tell(gated(g, 1)).unwrap();
    a.tell(gated(g, 1)).unwrap();
    for _ in 0..10 {
        assert_eq!(
            a.ask_blocking(gated(g, 1), WAIT),
            Err(AskError::Send(SendError::Full(a.id())))
        );
    }
    open(g);
    // The refused asks did not hold the single pending-ask slot.
    assert_eq!(ask_retry(&a, gated(g, 0)).count, 4);
}

#[test]
fn hammering_a_blocked_actor_loses_nothing() {
    let g = 3;
    let rt = cpu_runtime()
        .mailbox_capacity(16)
        .register::<GateActor>()
        .build()
        .unwrap();
    let a = blocked_actor(&rt, g);
    let accepted: u64 = std::thread::scope(|s| {
        let hs: Vec<_> = (0..3)
            .map(|_| {
                let a = a.clone();
                s.spawn(move || {
                    let mut ok = 0u64;
                    let mut full = 0u64;
                    for _ in 0..1_000 {
                        match a.tell(gated(g, 1)) {
                            Ok(()) => ok += 1,
                            Err(SendError::Full(_)) => full += 1,
                            Err(e) => panic!("{e}"),
                        }
                    }
                    assert!(full > 0, "mailbox never filled");
                    ok
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert!(
        accepted <= 16,
        "more accepted than the mailbox holds: {accepted}"
    );
    open(g);
    let t = ask_retry(&a, gated(g, 0));
    assert_eq!(t.count, 1 + accepted + 1);
    assert_eq!(t.sum, 1 + accepted);
}

#[test]
fn senders_recover_after_backpressure() {
    let g = 4;
    let rt = cpu_runtime()
        .mailbox_capacity(4)
        .register::<GateActor>()
        .build()
        .unwrap();
    let a = blocked_actor(&rt, g);
    while a.tell(gated(g, 1)).is_ok() {}
    open(g);
    for _ in 0..1_000 {
        tell_retry(&a, gated(g, 2));
    }
    let t = ask_retry(&a, gated(g, 0));
    assert_eq!(t.count, 1 + 4 + 1_000 + 1);
}
