//! `ActorRef::tell_batch`: order, partial acceptance on a full mailbox, errors (CPU backend; the
//! GPU suite runs the same API on the CUDA backend).

#![allow(clippy::unwrap_used)] // Tests unwrap: a panic is the failure report.

mod common;

use common::*;
use ringkernel::prelude::*;

#[test]
fn batches_keep_per_sender_order_across_threads() {
    let rt = cpu_runtime().register::<SeqCheck>().build().unwrap();
    let a = rt.spawn::<SeqCheck>(SeqState::default()).unwrap();
    let threads: Vec<_> = (0..4u32)
        .map(|sender| {
            let a = a.clone();
            std::thread::spawn(move || {
                let msgs: Vec<Seq> = (0..5_000u64)
                    .map(|seq| Seq {
                        sender,
                        _pad: 0,
                        seq,
                    })
                    .collect();
                let mut rest = &msgs[..];
                while !rest.is_empty() {
                    match a.tell_batch(rest) {
                        Ok(n) => rest = &rest[n..],
                        Err(SendError::Full(_)) => std::thread::yield_now(),
                        Err(e) => panic!("{e}"),
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let r = ask_retry(
        &a,
        Seq {
            sender: QUERY,
            _pad: 0,
            seq: 0,
        },
    );
    assert_eq!(
        r,
        SeqReport {
            out_of_order: 0,
            count: 20_000
        }
    );
}

#[test]
fn a_full_mailbox_accepts_a_prefix_and_nothing_after_it() {
    let g = 1;
    let rt = cpu_runtime()
        .mailbox_capacity(8)
        .register::<GateActor>()
        .build()
        .unwrap();
    let a = rt.spawn::<GateActor>(Total::default()).unwrap();
    a.tell(gated(g, 1)).unwrap();
    assert!(eventually(|| entered(g) == 1), "handler never entered");
    let batch: Vec<Gated> = (0..20).map(|v| gated(g, 100 + v)).collect();
    let n = a.tell_batch(&batch).unwrap();
    assert_eq!(n, 8, "exactly the free slots are taken");
    assert_eq!(a.tell_batch(&batch[n..]), Err(SendError::Full(a.id())));
    open(g);
    let t = ask_retry(&a, gated(g, 0));
    assert_eq!(t.count, 1 + 8 + 1);
    assert_eq!(t.sum, 1 + (100..108).sum::<u64>());
}

#[test]
fn empty_batch_and_stopped_target() {
    let rt = cpu_runtime().register::<Counter>().build().unwrap();
    let a = rt.spawn::<Counter>(Total::default()).unwrap();
    assert_eq!(a.tell_batch(&[]), Ok(0));
    a.stop().unwrap();
    assert_eq!(
        a.tell_batch(&[Add { n: 1 }, Add { n: 2 }]),
        Err(SendError::Stopped(a.id()))
    );
}
