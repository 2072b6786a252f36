//! Loom model of the device K2K inbox protocol (`kernels/runtime.cuh`: `rk_k2k_tell`,
//! `rk_k2k_take`) together with the migration hand-over (`kernels/migrate.cu`: the tail seal,
//! the stamp check before moving untaken messages; `src/multi/migrate.rs`).
//!
//! The CUDA code cannot run under loom, so this is the same algorithm written with Rust atomics:
//! every slot word is a relaxed atomic (a volatile access on the device), the claim is a relaxed
//! CAS on the tail, a slot is published by its stamps (`seq_a = 2L+1` with the first word,
//! `seq_b = seq_a ^ hash(words)` with the last), and the consumer accepts a slot only when both
//! check out against the words it read. Loom explores the interleavings (up to
//! `LOOM_MAX_PREEMPTIONS`) and checks: every accepted message is delivered exactly once — taken
//! by the consumer before its freeze or moved by the migration — in per-producer order, and no
//! refused message appears anywhere.
//!
//! Run with:
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 CARGO_TARGET_DIR=target/loom
//!  cargo test -p ringkernel-cuda --release --test loom_inbox`
#![cfg(loom)]
#![allow(clippy::unwrap_used)]

use loom::sync::atomic::AtomicU64;
use loom::sync::atomic::Ordering::Relaxed;
use loom::sync::Arc;
use loom::thread;

const SEALED: u64 = 1 << 63;

struct Slot {
    seq_a: AtomicU64,
    word: AtomicU64,
    seq_b: AtomicU64,
}

struct Inbox {
    slots: Vec<Slot>,
    tail: AtomicU64,
}

fn hash(w: u64) -> u64 {
    (w ^ 0x9E37_79B9_7F4A_7C15).wrapping_mul(0xBF58_476D_1CE4_E5B9) | 1
}

impl Inbox {
    fn new(cap: u64) -> Self {
        Inbox {
            slots: (0..cap)
                .map(|_| Slot {
                    seq_a: AtomicU64::new(0),
                    word: AtomicU64::new(0),
                    seq_b: AtomicU64::new(0),
                })
                .collect(),
            tail: AtomicU64::new(0),
        }
    }

    fn cap(&self) -> u64 {
        self.slots.len() as u64
    }

    /// `rk_k2k_tell`'s claim and write: `true` when the message is in the inbox, `false` for no
    /// credit (full, or sealed).
    fn tell(&self, msg: u64) -> bool {
        let cap = self.cap();
        let mut pos = self.tail.load(Relaxed);
        let s = loop {
            if pos & SEALED != 0 {
                return false;
            }
            let s = &self.slots[(pos % cap) as usize];
            let free = 2 * (pos / cap);
            let seq = s.seq_a.load(Relaxed);
            if seq == free {
                match self
                    .tail
                    .compare_exchange_weak(pos, pos + 1, Relaxed, Relaxed)
                {
                    Ok(_) => break s,
                    Err(actual) => pos = actual,
                }
            } else if seq < free {
                return false;
            } else {
                // The slot is ahead of `pos`: our tail was stale, read it again. On the device a
                // relaxed re-load eventually sees the newest tail; loom may hand a relaxed load
                // the same stale value forever, so the model re-reads with an RMW of 0 (which
                // always reads the newest value) to keep the exploration finite.
                pos = self.tail.fetch_add(0, Relaxed);
            }
        };
        let stamp = 2 * (pos / cap) + 1;
        s.seq_a.store(stamp, Relaxed);
        s.word.store(msg, Relaxed);
        s.seq_b.store(stamp ^ hash(msg), Relaxed);
        true
    }

    /// Reads the slot of `pos` and returns its message when it has fully arrived.
    fn check(&self, pos: u64) -> Option<u64> {
        let cap = self.cap();
        let s = &self.slots[(pos % cap) as usize];
        let stamp = 2 * (pos / cap) + 1;
        let a = s.seq_a.load(Relaxed);
        let w = s.word.load(Relaxed);
        let b = s.seq_b.load(Relaxed);
        (a == stamp && b == stamp ^ hash(w)).then_some(w)
    }

    /// `rk_k2k_take`: the message at `head` if complete, freeing the slot for the next lap.
    fn take(&self, head: u64) -> Option<u64> {
        let w = self.check(head)?;
        let cap = self.cap();
        let stamp = 2 * (head / cap) + 1;
        self.slots[(head % cap) as usize]
            .seq_a
            .store(stamp + 1, Relaxed);
        Some(w)
    }
}

/// Producers send their messages (each once, no retry); a consumer takes up to `takes` messages
/// and then freezes; the migration seals the inbox, waits for the consumer's freeze, then moves
/// every untaken message once its stamps check out. Returns (accepted per producer, delivered).
fn run_migration(cap: u64, producers: Vec<Vec<u64>>, takes: usize) -> (Vec<Vec<u64>>, Vec<u64>) {
    let inbox = Arc::new(Inbox::new(cap));
    let handles: Vec<_> = producers
        .into_iter()
        .map(|msgs| {
            let ib = inbox.clone();
            thread::spawn(move || msgs.into_iter().filter(|&m| ib.tell(m)).collect::<Vec<_>>())
        })
        .collect();
    let consumer = {
        let ib = inbox.clone();
        thread::spawn(move || {
            let (mut head, mut got) = (0u64, Vec::new());
            for _ in 0..takes {
                if let Some(w) = ib.take(head) {
                    got.push(w);
                    head += 1;
                }
            }
            (head, got)
        })
    };
    // Seal (rk_seal_inbox), then the freeze answer (the consumer's head).
    let received = inbox.tail.fetch_or(SEALED, Relaxed) & !SEALED;
    let (head, mut delivered) = consumer.join().unwrap();
    assert!(head <= received, "consumer took past the sealed tail");
    // Move head..received (rk_adopt_inbox). The host copies until every stamp checks out; here
    // one early look may race the producers' stores and must then either reject the slot or
    // see exactly the message that ends up there (a spin on relaxed loads has no bound under
    // loom, so the copy that must succeed comes after the producers are done).
    let early: Vec<Option<u64>> = (head..received).map(|pos| inbox.check(pos)).collect();
    let accepted: Vec<Vec<u64>> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    for (pos, seen) in (head..received).zip(early) {
        let w = inbox
            .check(pos)
            .expect("a slot claimed before the seal is complete once its sender returned");
        assert!(
            seen.is_none() || seen == Some(w),
            "a torn slot was accepted"
        );
        delivered.push(w);
    }
    // Nothing claimed after the seal.
    assert_eq!(inbox.tail.load(Relaxed) & !SEALED, received);
    (accepted, delivered)
}

/// Every accepted message delivered exactly once, nothing else, per-producer order kept.
fn check(accepted: &[Vec<u64>], delivered: &[u64]) {
    let total: usize = accepted.iter().map(Vec::len).sum();
    assert_eq!(
        delivered.len(),
        total,
        "lost or duplicated: {accepted:?} vs {delivered:?}"
    );
    for acc in accepted {
        let order: Vec<u64> = delivered
            .iter()
            .copied()
            .filter(|m| acc.contains(m))
            .collect();
        assert_eq!(&order, acc, "per-producer order broken");
    }
}

/// Loom's default branch limit is too small for three threads of a dozen atomic accesses each.
fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut b = loom::model::Builder::new();
    b.max_branches = 100_000;
    b.check(f);
}

#[test]
fn two_producers_racing_a_seal_lose_and_repeat_nothing() {
    model(|| {
        let (accepted, delivered) = run_migration(2, vec![vec![11], vec![21]], 1);
        check(&accepted, &delivered);
    });
}

#[test]
fn one_producer_across_laps_and_a_seal_keeps_its_order() {
    // One slot: the second message needs the consumer to free the first's slot (lap 1).
    model(|| {
        let (accepted, delivered) = run_migration(1, vec![vec![11, 12]], 2);
        check(&accepted, &delivered);
    });
}
