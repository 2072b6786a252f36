//! Per sender -> receiver FIFO, checked by sequence numbers from several threads.

#![allow(clippy::unwrap_used)] // Tests unwrap: a panic is the failure report.

mod common;

use std::sync::Arc;
use std::thread;

use common::*;
use ringkernel::prelude::*;

fn run_senders(r: &ActorRef<SeqCheck>, senders: u32, per_sender: u64) {
    thread::scope(|s| {
        for sender in 0..senders {
            let r = r.clone();
            s.spawn(move || {
                for seq in 0..per_sender {
                    tell_retry(
                        &r,
                        Seq {
                            sender,
                            _pad: 0,
                            seq,
                        },
                    );
                }
            });
        }
    });
}

fn report(r: &ActorRef<SeqCheck>) -> SeqReport {
    ask_retry(
        r,
        Seq {
            sender: QUERY,
            _pad: 0,
            seq: 0,
        },
    )
}

#[test]
fn one_sender_is_fifo() {
    let rt = cpu_runtime().register::<SeqCheck>().build().unwrap();
    let r = rt.spawn::<SeqCheck>(SeqState::default()).unwrap();
    run_senders(&r, 1, 20_000);
    assert_eq!(
        report(&r),
        SeqReport {
            out_of_order: 0,
            count: 20_000
        }
    );
}

#[test]
fn several_senders_are_each_fifo() {
    let rt = cpu_runtime()
        .mailbox_capacity(64)
        .register::<SeqCheck>()
        .build()
        .unwrap();
    let r = rt.spawn::<SeqCheck>(SeqState::default()).unwrap();
    run_senders(&r, 4, 10_000);
    assert_eq!(
        report(&r),
        SeqReport {
            out_of_order: 0,
            count: 40_000
        }
    );
}

#[test]
fn fifo_holds_with_a_tiny_mailbox_and_full_retries() {
    let rt = cpu_runtime()
        .mailbox_capacity(2)
        .register::<SeqCheck>()
        .build()
        .unwrap();
    let r = rt.spawn::<SeqCheck>(SeqState::default()).unwrap();
    run_senders(&r, 3, 3_000);
    assert_eq!(
        report(&r),
        SeqReport {
            out_of_order: 0,
            count: 9_000
        }
    );
}

#[test]
fn asks_and_tells_from_one_sender_stay_in_order() {
    let rt = cpu_runtime().register::<SeqCheck>().build().unwrap();
    let r = rt.spawn::<SeqCheck>(SeqState::default()).unwrap();
    for seq in 0..2_000u64 {
        let m = Seq {
            sender: 1,
            _pad: 0,
            seq,
        };
        if seq % 10 == 0 {
            let rep = ask_retry(&r, m);
            // The reply reflects every earlier tell: nothing overtook the ask.
            assert_eq!(rep.count, seq + 1);
            assert_eq!(rep.out_of_order, 0);
        } else {
            tell_retry(&r, m);
        }
    }
}

#[test]
fn fifo_holds_per_actor_across_many_actors_and_threads() {
    let rt = Arc::new(
        cpu_runtime()
            .mailbox_capacity(32)
            .register::<SeqCheck>()
            .build()
            .unwrap(),
    );
    let actors: Vec<_> = (0..16)
        .map(|_| rt.spawn::<SeqCheck>(SeqState::default()).unwrap())
        .collect();
    thread::scope(|s| {
        for sender in 0..4u32 {
            let actors = actors.clone();
            s.spawn(move || {
                for seq in 0..1_000 {
                    for a in &actors {
                        tell_retry(
                            a,
                            Seq {
                                sender,
                                _pad: 0,
                                seq,
                            },
                        );
                    }
                }
            });
        }
    });
    for a in &actors {
        assert_eq!(
            report(a),
            SeqReport {
                out_of_order: 0,
                count: 4_000
            }
        );
    }
}
