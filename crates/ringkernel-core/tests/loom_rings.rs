//! Loom model checks of the host rings: every interleaving (up to `LOOM_MAX_PREEMPTIONS`) of
//! producers and consumer, with loom tracking each slot access for data races.
//!
//! Run with:
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 CARGO_TARGET_DIR=target/loom
//!  cargo test -p ringkernel-core --release --test loom_rings`
#![cfg(loom)]
#![allow(clippy::unwrap_used)]

use loom::sync::Arc;
use loom::thread;
use ringkernel_core::ring::{mpsc, spsc, PushError};

/// Pushes each item once (no retry, which would blow up the state space) and returns the items
/// the ring accepted, checking that a refused item comes back intact.
fn push_each<T: Copy + PartialEq + std::fmt::Debug>(
    items: &[T],
    mut push: impl FnMut(T) -> Result<(), PushError<T>>,
) -> Vec<T> {
    let mut accepted = Vec::new();
    for &v in items {
        match push(v) {
            Ok(()) => accepted.push(v),
            Err(e) => assert_eq!(e.into_inner(), v, "a refused item must come back intact"),
        }
    }
    accepted
}

/// Checks the MPSC delivery properties: every accepted item popped exactly once, nothing else
/// popped, and each producer's items in the order it pushed them. Items are `(producer, seq)`.
fn check_delivery(accepted: &[Vec<(u8, u8)>], popped: &[(u8, u8)]) {
    for (p, acc) in accepted.iter().enumerate() {
        let mine: Vec<(u8, u8)> = popped
            .iter()
            .copied()
            .filter(|&(q, _)| q as usize == p)
            .collect();
        assert_eq!(&mine, acc, "producer {p}: loss, duplicate or reordering");
    }
    let total: usize = accepted.iter().map(Vec::len).sum();
    assert_eq!(popped.len(), total, "popped an item nobody pushed");
}

#[test]
fn spsc_push_pop_across_threads() {
    loom::model(|| {
        let (mut tx, mut rx) = spsc::channel::<u32>(2).unwrap();
        let producer = thread::spawn(move || push_each(&[10, 11, 12], |v| tx.push(v)));
        let mut popped = Vec::new();
        for _ in 0..2 {
            if let Some(v) = rx.pop() {
                popped.push(v);
            }
        }
        let accepted = producer.join().unwrap();
        while let Some(v) = rx.pop() {
            popped.push(v);
        }
        // The first two pushes always fit; nothing accepted is lost or reordered.
        assert!(accepted.len() >= 2);
        assert_eq!(popped, accepted);
        assert!(rx.is_abandoned());
    });
}

#[test]
fn spsc_batches_publish_once() {
    loom::model(|| {
        let (mut tx, mut rx) = spsc::channel::<u32>(4).unwrap();
        let producer = thread::spawn(move || {
            assert_eq!(tx.push_batch(&[1, 2, 3]), 3);
            let n = tx.push_batch(&[4, 5]);
            [1, 2, 3, 4, 5][..3 + n].to_vec()
        });
        // A batch becomes visible whole: never one or two items of the first batch alone.
        let seen = rx.len();
        assert!(seen == 0 || seen >= 3, "saw {seen} items of a 3-item batch");
        let mut popped = Vec::new();
        let mut out = [0u32; 2];
        let n = rx.pop_batch(&mut out);
        assert!(n == 0 || n == 2);
        popped.extend_from_slice(&out[..n]);
        let accepted = producer.join().unwrap();
        loop {
            let n = rx.pop_batch(&mut out);
            if n == 0 {
                break;
            }
            popped.extend_from_slice(&out[..n]);
        }
        assert_eq!(popped, accepted);
    });
}

#[test]
fn spsc_handles_move_between_threads() {
    loom::model(|| {
        let (mut tx, mut rx) = spsc::channel::<u32>(2).unwrap();
        tx.push(1).unwrap();
        let consumer = thread::spawn(move || {
            let first = rx.pop();
            (rx, first)
        });
        let accepted = push_each(&[2, 3], |v| tx.push(v));
        let (mut rx, first) = consumer.join().unwrap();
        assert_eq!(first, Some(1));
        let mut rest = Vec::new();
        while let Some(v) = rx.pop() {
            rest.push(v);
        }
        assert_eq!(rest, accepted);
    });
}

// Loom's DPOR remembers only the last access to each atomic, so a consumer's stamp load that is
// followed by a producer's own load-then-store of the same stamp is not seen as a race, and the
// "producer first" order would never be explored if the consumer ran first. The MPSC tests
// therefore run a producer on the main thread (which loom schedules first) and the consumer on a
// spawned thread: the consumer's later loads then race with stores already made, and loom
// backtracks into every order.

/// Spawns a consumer thread that tries `pops` single pops (no retry) and returns what it got.
fn spawn_consumer(
    ring: &Arc<mpsc::MpscRing<(u8, u8)>>,
    pops: usize,
) -> thread::JoinHandle<Vec<(u8, u8)>> {
    let ring = ring.clone();
    thread::spawn(move || {
        let mut got = Vec::new();
        for _ in 0..pops {
            // SAFETY: this thread is the only consumer until it is joined; the main thread pops
            // only after the join.
            if let Some(v) = unsafe { ring.pop() } {
                got.push(v);
            }
        }
        got
    })
}

/// Pops everything left. Call only after every other consumer was joined.
fn drain(ring: &mpsc::MpscRing<(u8, u8)>, into: &mut Vec<(u8, u8)>) {
    // SAFETY: the caller joined every other consumer, so this thread is the only one.
    while let Some(v) = unsafe { ring.pop() } {
        into.push(v);
    }
}

#[test]
fn mpsc_two_producers_and_consumer() {
    loom::model(|| {
        let ring = Arc::new(mpsc::MpscRing::<(u8, u8)>::new(2).unwrap());
        let consumer = spawn_consumer(&ring, 2);
        let other = {
            let ring = ring.clone();
            thread::spawn(move || push_each(&[(1, 0), (1, 1)], |v| ring.push(v)))
        };
        let mine = push_each(&[(0, 0), (0, 1)], |v| ring.push(v));
        let accepted = vec![mine, other.join().unwrap()];
        let mut popped = consumer.join().unwrap();
        drain(&ring, &mut popped);
        check_delivery(&accepted, &popped);
        // Two free slots at the start: at least two pushes succeed.
        assert!(popped.len() >= 2);
    });
}

#[test]
fn mpsc_full_ring_is_never_overwritten() {
    loom::model(|| {
        let ring = Arc::new(mpsc::MpscRing::<(u8, u8)>::new(2).unwrap());
        // Producer 2 fills the ring before anyone else starts.
        ring.push((2, 0)).unwrap();
        ring.push((2, 1)).unwrap();
        assert!(matches!(ring.push((2, 2)), Err(PushError::Full((2, 2)))));
        let consumer = spawn_consumer(&ring, 1);
        let other = {
            let ring = ring.clone();
            thread::spawn(move || push_each(&[(1, 0)], |v| ring.push(v)))
        };
        let mine = push_each(&[(0, 0)], |v| ring.push(v));
        let accepted = vec![mine, other.join().unwrap(), vec![(2, 0), (2, 1)]];
        let mut popped = consumer.join().unwrap();
        // Only one slot can have been freed: at most one of the two producers got in.
        assert!(accepted[0].len() + accepted[1].len() <= 1);
        if accepted[0].len() + accepted[1].len() == 1 {
            assert_eq!(popped, vec![(2, 0)], "a push succeeded on a full ring");
        }
        drain(&ring, &mut popped);
        assert_eq!(
            &popped[..2],
            &[(2, 0), (2, 1)],
            "a queued item was overwritten"
        );
        check_delivery(&accepted, &popped);
    });
}

#[test]
fn mpsc_reports_full_only_when_full() {
    loom::model(|| {
        let ring = Arc::new(mpsc::MpscRing::<u8>::new(2).unwrap());
        let other = {
            let ring = ring.clone();
            thread::spawn(move || ring.push(1).is_ok())
        };
        let mine = ring.push(2).is_ok();
        assert!(
            other.join().unwrap() && mine,
            "Full reported with a free slot"
        );
        assert_eq!(ring.len(), 2);
        assert!(ring.push(3).is_err());
    });
}

#[test]
fn mpsc_capacity_one_under_contention() {
    loom::model(|| {
        let ring = Arc::new(mpsc::MpscRing::<(u8, u8)>::new(1).unwrap());
        let consumer = spawn_consumer(&ring, 1);
        let other = {
            let ring = ring.clone();
            thread::spawn(move || push_each(&[(1, 0)], |v| ring.push(v)))
        };
        let mine = push_each(&[(0, 0)], |v| ring.push(v));
        let accepted = vec![mine, other.join().unwrap()];
        let mut popped = consumer.join().unwrap();
        drain(&ring, &mut popped);
        check_delivery(&accepted, &popped);
        // The first push into the empty ring always succeeds.
        assert!(!popped.is_empty());
    });
}

#[test]
fn mpsc_pop_batch_against_two_producers() {
    loom::model(|| {
        let (tx, mut rx) = mpsc::channel::<(u8, u8)>(4).unwrap();
        let consumer = thread::spawn(move || {
            let mut out = [(0, 0); 4];
            let n = rx.pop_batch(&mut out);
            (rx, out[..n].to_vec())
        });
        let other = {
            let tx = tx.clone();
            thread::spawn(move || push_each(&[(1, 0), (1, 1)], |v| tx.push(v)))
        };
        let mine = push_each(&[(0, 0), (0, 1)], |v| tx.push(v));
        drop(tx);
        let accepted = vec![mine, other.join().unwrap()];
        // Two producers' two items each into four free slots: nothing may be refused.
        assert!(accepted.iter().all(|a| a.len() == 2));
        let (mut rx, mut popped) = consumer.join().unwrap();
        let mut out = [(0, 0); 4];
        let n = rx.pop_batch(&mut out);
        popped.extend_from_slice(&out[..n]);
        assert_eq!(rx.pop_batch(&mut out), 0);
        check_delivery(&accepted, &popped);
        assert!(rx.is_abandoned());
    });
}
