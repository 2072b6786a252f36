//! Loom model of the swarm's scheduling protocol (`kernels/swarm.cuh`: `rk_sw_deliver`,
//! `rk_sw_rq_push`; `kernels/swarm.cu`: `rk_sw_turn`): a Vyukov mailbox with lap-tagged,
//! self-validating slots, the signed `pending` count that enqueues an actor exactly when a
//! message makes it ready, and a worker's turn that takes messages, yields, and gives the actor
//! up with one release fence.
//!
//! The CUDA code cannot run under loom, so this is the same algorithm with Rust atomics (relaxed
//! where the device uses relaxed or volatile accesses, except the slot free/claim pair: see
//! `turn`). The ready queue is a mutex-guarded
//! queue (on the device an MPMC ring whose entries are single atomic words). Loom explores the
//! interleavings and checks: every message is taken exactly once, in per-producer order; the
//! actor is never in the queue twice nor queued while a turn holds it; a handler that yields
//! gets another turn without a new message; nothing is left behind (no lost wake-up).
//!
//! Run with:
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 CARGO_TARGET_DIR=target/loom
//!  cargo test -p ringkernel-cuda --release --test loom_swarm`
#![cfg(loom)]
#![allow(clippy::unwrap_used)]

use std::collections::VecDeque;

use loom::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};
use loom::sync::atomic::{fence, AtomicBool, AtomicU32, AtomicU64};
use loom::sync::{Arc, Mutex};
use loom::thread;

const CAP: u64 = 2;

struct Slot {
    seq: AtomicU64,
    word: AtomicU64,
    check: AtomicU64,
}

struct Actor {
    slots: Vec<Slot>,
    tail: AtomicU64,
    head: AtomicU64,
    pending: AtomicU32,
    yielded: AtomicU32,
    /// Test oracle: a turn holds the actor.
    in_turn: AtomicBool,
    ready: Mutex<VecDeque<u32>>,
}

fn hash(w: u64) -> u64 {
    (w ^ 0x9E37_79B9_7F4A_7C15).wrapping_mul(0xBF58_476D_1CE4_E5B9) | 1
}

fn free_tag(pos: u64) -> u64 {
    2 * (pos / CAP)
}

impl Actor {
    fn new() -> Self {
        Actor {
            slots: (0..CAP)
                .map(|_| Slot {
                    seq: AtomicU64::new(0),
                    word: AtomicU64::new(0),
                    check: AtomicU64::new(0),
                })
                .collect(),
            tail: AtomicU64::new(0),
            head: AtomicU64::new(0),
            pending: AtomicU32::new(0),
            yielded: AtomicU32::new(0),
            in_turn: AtomicBool::new(false),
            ready: Mutex::new(VecDeque::new()),
        }
    }

    fn push(&self) {
        assert!(!self.in_turn.load(Relaxed), "queued while a turn holds it");
        let mut q = self.ready.lock().unwrap();
        assert!(q.is_empty(), "queued twice");
        q.push_back(0);
    }

    /// `rk_sw_deliver` for a global-tier actor: false when the mailbox has no credit.
    fn send(&self, word: u64) -> bool {
        let mut t = self.tail.load(Relaxed);
        loop {
            let slot = &self.slots[(t % CAP) as usize];
            // Acquire pairs with the consumer's release of the slot (see `turn`).
            let d = slot.seq.load(Acquire) as i64 - free_tag(t) as i64;
            if d < 0 {
                return false;
            }
            if d == 0
                && self
                    .tail
                    .compare_exchange(t, t + 1, Relaxed, Relaxed)
                    .is_ok()
            {
                let tag = free_tag(t) + 1;
                slot.word.store(word, Relaxed);
                slot.seq.store(tag, Relaxed);
                slot.check.store(tag ^ hash(word), Relaxed);
                if self.pending.fetch_add(1, Relaxed) as i32 == 0 {
                    // fence.acq_rel.gpu on the device: acquires the last turn's release (through
                    // `pending`) and releases the slot before the ready entry.
                    fence(AcqRel);
                    self.push();
                }
                return true;
            }
            // Stale tail (or a lost CAS): read it again. On the device a relaxed re-load soon
            // sees the newest tail; loom may hand a relaxed load the same stale value forever,
            // so the model re-reads with an RMW of 0, which always reads the newest value.
            t = self.tail.fetch_add(0, Relaxed);
        }
    }

    /// One turn (`rk_sw_turn`): up to `batch` messages; `handler` returns true to yield.
    fn turn(&self, batch: u64, mut handler: impl FnMut(Option<u64>) -> bool) {
        // fence.acq_rel.gpu at the start of a device turn.
        fence(Acquire);
        assert!(!self.in_turn.swap(true, Relaxed), "two turns at once");
        let mut head = self.head.load(Relaxed);
        let yielded = self.yielded.load(Relaxed);
        let mut n = 0u32;
        let mut keep = false;
        while u64::from(n) < batch {
            let slot = &self.slots[(head % CAP) as usize];
            let tag = free_tag(head) + 1;
            let (seq, word, check) = (
                slot.seq.load(Relaxed),
                slot.word.load(Relaxed),
                slot.check.load(Relaxed),
            );
            if seq != tag || check != tag ^ hash(word) {
                break;
            }
            // The device frees with a relaxed store issued only after the hash check consumed
            // every load of the slot (a dependency the hardware keeps: stores are not issued
            // speculatively). The C++ model does not know dependencies, so without
            // release/acquire here loom finds an execution where the next lap's words are
            // ordered before the ones just read; the model states the ordering the device gets
            // from the dependency.
            slot.seq.store(tag + 1, Release);
            head += 1;
            n += 1;
            keep |= handler(Some(word));
        }
        if n == 0 && yielded == 1 {
            keep = handler(None);
        }
        self.head.store(head, Relaxed);
        self.yielded.store(u32::from(keep), Relaxed);
        self.in_turn.store(false, Relaxed);
        fence(Release);
        let sub = n as i32 + yielded as i32 - i32::from(keep);
        let old = self.pending.fetch_sub(sub as u32, Relaxed) as i32;
        if old - sub > 0 {
            self.push();
        }
    }

    fn take_ready(&self) -> bool {
        self.ready.lock().unwrap().pop_front().is_some()
    }
}

/// Loom with room for the spinning a worker does while it waits for work.
fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut b = loom::model::Builder::new();
    b.max_branches = 100_000;
    b.check(f);
}

/// Runs `turns` turns of a worker on whatever the queue holds.
fn serve(a: &Actor, turns: usize, batch: u64, handler: &mut dyn FnMut(Option<u64>) -> bool) {
    for _ in 0..turns {
        if a.take_ready() {
            a.turn(batch, &mut *handler);
        }
    }
}

/// After every thread has finished: serve until the queue is empty, then check nothing is
/// left (pending zero, no phantom, queue empty).
fn drain(a: &Actor, batch: u64, handler: &mut dyn FnMut(Option<u64>) -> bool) {
    serve(a, 6, batch, handler);
    assert!(
        !a.take_ready(),
        "still queued after the drain: pending {} head {} tail {} yielded {} slots {:?}",
        a.pending.load(Relaxed) as i32,
        a.head.load(Relaxed),
        a.tail.load(Relaxed),
        a.yielded.load(Relaxed),
        a.slots
            .iter()
            .map(|s| (
                s.seq.load(Relaxed),
                s.word.load(Relaxed),
                s.check.load(Relaxed)
            ))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        a.pending.load(Relaxed),
        0,
        "messages or a phantom left behind"
    );
    assert_eq!(a.yielded.load(Relaxed), 0);
}

/// Two producers send two and one messages into a 2-slot mailbox (a send without credit is
/// refused); a worker serves the actor meanwhile. Every accepted message is taken once, in
/// order per producer, and none is left behind.
#[test]
fn every_message_is_taken_once_in_order_and_nothing_is_left_queued() {
    model(|| {
        let a = Arc::new(Actor::new());
        let producers: Vec<_> = (0..2u64)
            .map(|p| {
                let a = a.clone();
                thread::spawn(move || {
                    (0..2 - p)
                        .map(|s| p * 10 + s)
                        .filter(|&w| a.send(w))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let worker = {
            let a = a.clone();
            thread::spawn(move || {
                let mut got = Vec::new();
                serve(&a, 2, 2, &mut |w| {
                    got.push(w.unwrap());
                    false
                });
                got
            })
        };
        let accepted: Vec<Vec<u64>> = producers.into_iter().map(|p| p.join().unwrap()).collect();
        let mut got = worker.join().unwrap();
        drain(&a, 2, &mut |w| {
            got.push(w.unwrap());
            false
        });
        for (p, acc) in accepted.iter().enumerate() {
            let mine: Vec<u64> = got.iter().copied().filter(|w| w / 10 == p as u64).collect();
            assert_eq!(&mine, acc, "producer {p}");
        }
    });
}

/// A handler that yields on its first message gets another turn without a new message (or
/// with the next one), and the phantom count it held is gone at the end.
#[test]
fn a_yielding_handler_is_resumed_without_a_new_message() {
    model(|| {
        let a = Arc::new(Actor::new());
        let p = {
            let a = a.clone();
            thread::spawn(move || {
                assert!(a.send(0));
                assert!(a.send(1));
            })
        };
        let (mut got, mut resumes, mut first) = (Vec::new(), 0, true);
        let mut handler = |w: Option<u64>| match w {
            Some(w) => {
                got.push(w);
                std::mem::replace(&mut first, false)
            }
            None => {
                resumes += 1;
                false
            }
        };
        serve(&a, 2, 1, &mut handler);
        p.join().unwrap();
        drain(&a, 1, &mut handler);
        assert_eq!(got, vec![0, 1]);
        assert!(resumes <= 1);
    });
}
