//! Property tests of the host rings through their public API: random operation sequences against
//! a `VecDeque` model, multi-threaded stress with per-producer sequence checks, and capacity
//! validation.
#![cfg(not(loom))]
#![allow(clippy::unwrap_used)]

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use proptest::prelude::*;
use ringkernel_core::ring::{mpsc, spsc, PushError, MAX_CAPACITY};
use ringkernel_core::CoreError;

#[derive(Debug, Clone)]
enum Op {
    Push(u32),
    PushBatch(Vec<u32>),
    Pop,
    PopBatch(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => any::<u32>().prop_map(Op::Push),
        2 => proptest::collection::vec(any::<u32>(), 0..20).prop_map(Op::PushBatch),
        3 => Just(Op::Pop),
        2 => (0usize..20).prop_map(Op::PopBatch),
    ]
}

fn capacity() -> impl Strategy<Value = usize> {
    (0u32..6).prop_map(|k| 1usize << k)
}

/// What the ring must do, per operation, given the model's state.
struct Model {
    q: VecDeque<u32>,
    cap: usize,
}

impl Model {
    fn push(&mut self, v: u32) -> Result<(), u32> {
        if self.q.len() < self.cap {
            self.q.push_back(v);
            Ok(())
        } else {
            Err(v)
        }
    }

    fn push_batch(&mut self, items: &[u32]) -> usize {
        let n = items.len().min(self.cap - self.q.len());
        self.q.extend(&items[..n]);
        n
    }

    fn pop_batch(&mut self, k: usize) -> Vec<u32> {
        let n = k.min(self.q.len());
        self.q.drain(..n).collect()
    }
}

proptest! {
    #[test]
    fn spsc_matches_a_vecdeque(cap in capacity(), ops in proptest::collection::vec(op(), 1..300)) {
        let (mut tx, mut rx) = spsc::channel::<u32>(cap).unwrap();
        let mut model = Model { q: VecDeque::new(), cap };
        for op in ops {
            match op {
                Op::Push(v) => {
                    prop_assert_eq!(tx.push(v).map_err(PushError::into_inner), model.push(v));
                }
                Op::PushBatch(items) => {
                    prop_assert_eq!(tx.push_batch(&items), model.push_batch(&items));
                }
                Op::Pop => prop_assert_eq!(rx.pop(), model.q.pop_front()),
                Op::PopBatch(k) => {
                    let mut out = vec![0u32; k];
                    let n = rx.pop_batch(&mut out);
                    prop_assert_eq!(&out[..n], &model.pop_batch(k)[..]);
                }
            }
            prop_assert_eq!(rx.len(), model.q.len());
            prop_assert_eq!(rx.is_empty(), model.q.is_empty());
            prop_assert_eq!(tx.free_slots(), cap - model.q.len());
        }
    }

    #[test]
    fn mpsc_matches_a_vecdeque(cap in capacity(), ops in proptest::collection::vec(op(), 1..300)) {
        // Two producer handles take turns, which must not matter on one thread.
        let (tx, mut rx) = mpsc::channel::<u32>(cap).unwrap();
        let txs = [tx.clone(), tx];
        let mut model = Model { q: VecDeque::new(), cap };
        for (i, op) in ops.into_iter().enumerate() {
            let tx = &txs[i % 2];
            match op {
                Op::Push(v) => {
                    prop_assert_eq!(tx.push(v).map_err(PushError::into_inner), model.push(v));
                }
                Op::PushBatch(items) => {
                    // MPSC has no batch push: push one by one until the first refusal.
                    let mut n = 0;
                    for &v in &items {
                        if tx.push(v).is_err() {
                            break;
                        }
                        n += 1;
                    }
                    prop_assert_eq!(n, model.push_batch(&items));
                }
                Op::Pop => prop_assert_eq!(rx.pop(), model.q.pop_front()),
                Op::PopBatch(k) => {
                    let mut out = vec![0u32; k];
                    let n = rx.pop_batch(&mut out);
                    prop_assert_eq!(&out[..n], &model.pop_batch(k)[..]);
                }
            }
            prop_assert_eq!(rx.len(), model.q.len());
            prop_assert_eq!(tx.len(), model.q.len());
            prop_assert_eq!(rx.is_empty(), model.q.is_empty());
        }
    }

    #[test]
    fn non_powers_of_two_are_rejected(cap in any::<usize>()) {
        prop_assume!(!cap.is_power_of_two());
        prop_assert_eq!(spsc::channel::<u8>(cap).err(), Some(CoreError::BadCapacity(cap)));
        prop_assert_eq!(mpsc::channel::<u8>(cap).err(), Some(CoreError::BadCapacity(cap)));
        prop_assert_eq!(mpsc::MpscRing::<u8>::new(cap).err(), Some(CoreError::BadCapacity(cap)));
    }

    #[test]
    fn powers_of_two_are_accepted_up_to_the_limit(k in 0u32..usize::BITS) {
        let cap = 1usize << k;
        if cap > MAX_CAPACITY {
            prop_assert_eq!(spsc::channel::<u8>(cap).err(), Some(CoreError::BadCapacity(cap)));
            prop_assert_eq!(mpsc::MpscRing::<u8>::new(cap).err(), Some(CoreError::BadCapacity(cap)));
        } else if k <= 16 {
            // Larger valid sizes allocate for real; the unit tests cover the bound itself.
            prop_assert_eq!(spsc::channel::<u8>(cap).unwrap().0.capacity(), cap);
            prop_assert_eq!(mpsc::MpscRing::<u8>::new(cap).unwrap().capacity(), cap);
        }
    }
}

#[test]
fn bad_capacities_named_in_the_contract() {
    for cap in [0usize, 3, MAX_CAPACITY + 1, MAX_CAPACITY * 2, usize::MAX] {
        assert_eq!(
            spsc::channel::<u64>(cap).err(),
            Some(CoreError::BadCapacity(cap))
        );
        assert_eq!(
            mpsc::channel::<u64>(cap).err(),
            Some(CoreError::BadCapacity(cap))
        );
    }
}

/// Runs `producers` threads pushing `per` items each, tagged `(producer, seq)`, into an MPSC ring
/// of `cap` slots. The consumer starts only once some producer has seen `Full`, so `Full` is
/// reached deterministically; after that producers retry refused items (yielding) and the
/// consumer pops in batches of `batch`. Returns the number of `Full` results the producers saw.
fn mpsc_stress(cap: usize, producers: u32, per: u32, batch: usize) -> u64 {
    assert!(
        producers as usize * per as usize > cap,
        "must overflow the ring"
    );
    let (tx, mut rx) = mpsc::channel::<(u32, u32)>(cap).unwrap();
    let full_seen = Arc::new(AtomicBool::new(false));
    let fulls = Arc::new(AtomicU64::new(0));
    // Set by the consumer when it gives up, so a failing run ends instead of spinning forever.
    let abort = Arc::new(AtomicBool::new(false));
    let handles: Vec<_> = (0..producers)
        .map(|p| {
            let tx = tx.clone();
            let full_seen = full_seen.clone();
            let fulls = fulls.clone();
            let abort = abort.clone();
            std::thread::spawn(move || {
                for i in 0..per {
                    let mut item = (p, i);
                    loop {
                        match tx.push(item) {
                            Ok(()) => break,
                            Err(e) => {
                                let back = e.into_inner();
                                assert_eq!(back, item, "Full must return the same item");
                                item = back;
                                fulls.fetch_add(1, Ordering::Relaxed);
                                full_seen.store(true, Ordering::Release);
                                if abort.load(Ordering::Relaxed) {
                                    return;
                                }
                                std::thread::yield_now();
                            }
                        }
                    }
                }
            })
        })
        .collect();
    drop(tx);
    let start = std::time::Instant::now();
    while !full_seen.load(Ordering::Acquire) {
        if start.elapsed() > std::time::Duration::from_secs(10) {
            abort.store(true, Ordering::Relaxed);
            panic!("{} items into {cap} slots and no Full", producers * per);
        }
        std::thread::yield_now();
    }
    // At the first Full the ring held `cap` items and nothing had been popped yet.
    assert_eq!(rx.len(), cap);

    let mut next = vec![0u32; producers as usize];
    let total = producers as u64 * per as u64;
    let mut got = 0u64;
    let mut out = vec![(0, 0); batch];
    let mut last_progress = std::time::Instant::now();
    while got < total {
        let n = if batch == 1 {
            match rx.pop() {
                Some(v) => {
                    out[0] = v;
                    1
                }
                None => 0,
            }
        } else {
            rx.pop_batch(&mut out)
        };
        for &(p, i) in &out[..n] {
            let want = &mut next[p as usize];
            assert_eq!(
                i, *want,
                "producer {p}: expected seq {want}, got {i} (loss, dup or reorder)"
            );
            *want += 1;
        }
        got += n as u64;
        if n == 0 {
            // A lost item would leave us waiting forever: fail instead of hanging.
            if last_progress.elapsed() > std::time::Duration::from_secs(5) {
                abort.store(true, Ordering::Relaxed);
                panic!("stalled with {got} of {total} items delivered: {next:?}");
            }
            std::thread::yield_now();
        } else {
            last_progress = std::time::Instant::now();
        }
    }
    for h in handles {
        h.join().unwrap();
    }
    assert!(next.iter().all(|&n| n == per), "missing items: {next:?}");
    assert_eq!(rx.pop(), None, "an extra item appeared");
    assert!(rx.is_abandoned());
    fulls.load(Ordering::Relaxed)
}

proptest! {
    // Few cases and little shrinking: each case runs real threads.
    #![proptest_config(ProptestConfig { cases: 24, max_shrink_iters: 4, ..ProptestConfig::default() })]

    #[test]
    fn mpsc_threads_deliver_everything_fifo_per_producer(
        cap in (0u32..4).prop_map(|k| 1usize << k),
        producers in 1u32..5,
        per in 20u32..2_000,
        batch in prop_oneof![Just(1usize), 2usize..16, Just(64usize)],
    ) {
        let fulls = mpsc_stress(cap, producers, per, batch);
        prop_assert!(fulls > 0, "Full was never hit");
    }

    #[test]
    fn spsc_threads_deliver_everything_in_order(
        cap in (0u32..5).prop_map(|k| 1usize << k),
        n in 1u32..20_000,
        push_chunk in 1usize..24,
        pop_chunk in 1usize..24,
    ) {
        let (mut tx, mut rx) = spsc::channel::<u32>(cap).unwrap();
        let producer = std::thread::spawn(move || {
            let items: Vec<u32> = (0..n).collect();
            let mut sent = 0usize;
            let mut refused = 0u64;
            while sent < items.len() {
                let end = (sent + push_chunk).min(items.len());
                let k = if push_chunk == 1 {
                    match tx.push(items[sent]) {
                        Ok(()) => 1,
                        Err(e) => {
                            assert_eq!(e.into_inner(), items[sent]);
                            0
                        }
                    }
                } else {
                    tx.push_batch(&items[sent..end])
                };
                if k == 0 {
                    refused += 1;
                    std::thread::yield_now();
                }
                sent += k;
            }
            refused
        });
        let mut expect = 0u32;
        let mut out = vec![0u32; pop_chunk];
        while expect < n {
            let k = rx.pop_batch(&mut out);
            for &v in &out[..k] {
                prop_assert_eq!(v, expect);
                expect += 1;
            }
            if k == 0 {
                std::thread::yield_now();
            }
        }
        producer.join().unwrap();
        prop_assert_eq!(rx.pop(), None);
        prop_assert!(rx.is_abandoned());
    }
}

#[test]
fn mpsc_stress_many_producers_tiny_ring() {
    // Capacity 1 is the sharpest case for the stamp encoding.
    let fulls = mpsc_stress(1, 4, 5_000, 8);
    assert!(fulls > 0);
    let fulls = mpsc_stress(2, 3, 5_000, 1);
    assert!(fulls > 0);
}

#[test]
fn public_types_have_the_promised_auto_traits() {
    fn send<T: Send>() {}
    fn send_sync<T: Send + Sync>() {}
    fn clone<T: Clone>() {}
    send::<spsc::Producer<u64>>();
    send::<spsc::Consumer<u64>>();
    send_sync::<mpsc::MpscRing<u64>>();
    send_sync::<mpsc::MpscProducer<u64>>();
    clone::<mpsc::MpscProducer<u64>>();
    send::<mpsc::MpscConsumer<u64>>();
    send_sync::<PushError<u64>>();
    fn error<E: std::error::Error + Send + Sync + 'static>() {}
    error::<PushError<u64>>();
}
