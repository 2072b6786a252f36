//! stop(): Active -> Draining -> Terminated, processing what was queued and refusing the rest.

#![allow(clippy::unwrap_used)] // Tests unwrap: a panic is the failure report.

mod common;

use common::*;
use ringkernel::prelude::*;
use ringkernel::Envelope;

#[test]
fn stop_processes_queued_messages_then_terminates() {
    let g = 0;
    let rt = cpu_runtime().register::<GateActor>().build().unwrap();
    let a = rt.spawn::<GateActor>(Total::default()).unwrap();
    a.tell(gated(g, 1)).unwrap();
    assert!(eventually(|| entered(g) == 1));
    for _ in 0..5 {
        a.tell(gated(g, 10)).unwrap();
    }
    let last = rt
        .backend()
        .ask(Envelope::new(ActorId::HOST, a.id(), &gated(g, 100)).unwrap())
        .unwrap();
    a.stop().unwrap();
    assert_eq!(a.state(), LifecycleState::Draining);
    assert_eq!(a.tell(gated(g, 1)), Err(SendError::Stopped(a.id())));
    // Stopping a draining actor again is a no-op.
    assert_eq!(a.stop(), Ok(()));
    open(g);
    let t = last.wait(WAIT).unwrap().read::<Total>().unwrap();
    assert_eq!(t, Total { sum: 151, count: 7 });
    assert!(eventually(|| a.state() == LifecycleState::Terminated));
    let report = rt.shutdown(WAIT).unwrap();
    assert_eq!(report.dropped, 0);
    assert_eq!(report.processed, 7);
}

#[test]
fn stopping_an_idle_actor_terminates_it() {
    let rt = cpu_runtime().register::<Counter>().build().unwrap();
    let c = rt.spawn::<Counter>(Total::default()).unwrap();
    assert_eq!(c.state(), LifecycleState::Active);
    c.stop().unwrap();
    assert!(eventually(|| c.state() == LifecycleState::Terminated));
}

#[test]
fn stopping_one_actor_leaves_the_others_running() {
    let rt = cpu_runtime().register::<Counter>().build().unwrap();
    let a = rt.spawn::<Counter>(Total::default()).unwrap();
    let b = rt.spawn::<Counter>(Total::default()).unwrap();
    a.stop().unwrap();
    assert!(eventually(|| a.state() == LifecycleState::Terminated));
    assert_eq!(b.ask_blocking(Add { n: 4 }, WAIT).unwrap().sum, 4);
}

#[test]
fn stop_racing_with_senders_accounts_for_every_accepted_message() {
    let rt = cpu_runtime()
        .mailbox_capacity(64)
        .register::<Counter>()
        .build()
        .unwrap();
    let c = rt.spawn::<Counter>(Total::default()).unwrap();
    let accepted: u64 = std::thread::scope(|s| {
        let hs: Vec<_> = (0..3)
            .map(|_| {
                let c = c.clone();
                s.spawn(move || {
                    let mut ok = 0;
                    loop {
                        match c.tell(Add { n: 1 }) {
                            Ok(()) => ok += 1,
                            Err(SendError::Full(_)) => std::thread::yield_now(),
                            Err(SendError::Stopped(_)) => return ok,
                            Err(e) => panic!("{e}"),
                        }
                    }
                })
            })
            .collect();
        std::thread::sleep(std::time::Duration::from_millis(20));
        c.stop().unwrap();
        hs.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert!(eventually(|| c.state() == LifecycleState::Terminated));
    let report = rt.shutdown(WAIT).unwrap();
    // Accepted = processed + dropped (a send racing the stop may be accepted, then dropped).
    assert_eq!(report.processed + report.dropped, accepted);
    assert!(report.processed > 0);
}
