//! Loom model of a pinned-actor channel (`kernels/swarm_channel.cuh`: `rk_sw_channel_send`,
//! `rk_sw_flush_outbox`; `kernels/swarm_pinned.cuh`: the poll in `rk_sw_serve_pinned`): a
//! single-producer ring whose slots are several 8-byte words, each carrying part of the message
//! and the lap tag of the position it belongs to, with credits returned through a published head.
//!
//! The device stores a slot's words with independent relaxed stores (four lanes, no fence) and
//! the reader accepts the slot only when every word carries the current tag, so words may land in
//! any order. Here each word is its own atomic, stored one at a time, so loom interleaves the
//! reader between them. The credit pair is written as release/acquire: on the device the head is
//! published only after the loads of the slot returned (their values decided the tag check), a
//! dependency the C++ model does not know.
//!
//! Checks: every message arrives exactly once, whole (no word from another lap) and in order;
//! the producer never overwrites a slot the reader has not finished; a producer without credit
//! sees "full" rather than waiting or overwriting.
//!
//! Run with:
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 CARGO_TARGET_DIR=target/loom
//!  cargo test -p ringkernel-cuda --release --test loom_channel`
#![cfg(loom)]
#![allow(clippy::unwrap_used)]

use loom::sync::atomic::AtomicU64;
use loom::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use loom::sync::Arc;
use loom::thread;

/// Slots in the ring (the device uses 8 or 32).
const SLOTS: u64 = 2;
/// Words per slot (the device uses 8; two are enough to tear).
const WORDS: usize = 2;

struct Channel {
    words: Vec<[AtomicU64; WORDS]>,
    /// The receiver's published head (credits).
    credit: AtomicU64,
}

/// Never 0, so zeroed memory holds no message (`rk_sw_ll_tag`).
fn tag(pos: u64) -> u64 {
    0x8000 | ((pos / SLOTS) & 0x7fff)
}

fn word(tag: u64, data: u64) -> u64 {
    (data << 16) | tag
}

impl Channel {
    fn new() -> Self {
        Channel {
            words: (0..SLOTS)
                .map(|_| [AtomicU64::new(0), AtomicU64::new(0)])
                .collect(),
            credit: AtomicU64::new(0),
        }
    }
}

/// The sender's side: tail and cached head live with the sender only.
struct Sender {
    tail: u64,
    known: u64,
}

impl Sender {
    /// `false`: no credit (the device returns RK_SW_FULL).
    fn send(&mut self, ch: &Channel, msg: u64) -> bool {
        if self.tail - self.known >= SLOTS {
            self.known = ch.credit.load(Acquire);
            if self.tail - self.known >= SLOTS {
                return false;
            }
        }
        let t = tag(self.tail);
        let slot = &ch.words[(self.tail % SLOTS) as usize];
        for (i, w) in slot.iter().enumerate() {
            w.store(word(t, msg * 10 + i as u64), Relaxed);
        }
        self.tail += 1;
        true
    }
}

/// One poll of the receiver at `head`: the message if every word carries the current tag.
fn poll(ch: &Channel, head: u64) -> Option<u64> {
    let t = tag(head);
    let slot = &ch.words[(head % SLOTS) as usize];
    let mut data = [0u64; WORDS];
    for (i, w) in slot.iter().enumerate() {
        let v = w.load(Relaxed);
        if v & 0xffff != t {
            return None;
        }
        data[i] = v >> 16;
    }
    // Whole: every word is this message's (word i of message m is m * 10 + i).
    let m = data[0] / 10;
    for (i, d) in data.iter().enumerate() {
        assert_eq!(*d, m * 10 + i as u64, "a torn message at position {head}");
    }
    Some(m)
}

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut b = loom::model::Builder::new();
    b.preemption_bound = Some(2);
    b.check(f);
}

#[test]
fn every_message_arrives_once_whole_and_in_order() {
    model(|| {
        let ch = Arc::new(Channel::new());
        let n = 3u64;
        let tx = {
            let ch = ch.clone();
            thread::spawn(move || {
                let mut s = Sender { tail: 0, known: 0 };
                let mut next = 1;
                while next <= n {
                    if s.send(&ch, next) {
                        next += 1;
                    } else {
                        thread::yield_now();
                    }
                }
            })
        };
        let mut head = 0;
        let mut got = Vec::new();
        while got.len() < n as usize {
            match poll(&ch, head) {
                Some(m) => {
                    got.push(m);
                    head += 1;
                    ch.credit.store(head, Release);
                }
                None => thread::yield_now(),
            }
        }
        tx.join().unwrap();
        assert_eq!(got, vec![1, 2, 3]);
    });
}

#[test]
fn a_sender_without_credit_is_refused_not_overwriting() {
    model(|| {
        let ch = Arc::new(Channel::new());
        let mut s = Sender { tail: 0, known: 0 };
        assert!(s.send(&ch, 1));
        assert!(s.send(&ch, 2));
        // The ring is full and nobody has read: refused, and slot 0 still holds message 1.
        assert!(!s.send(&ch, 3));
        assert_eq!(poll(&ch, 0), Some(1));
        let rx = {
            let ch = ch.clone();
            thread::spawn(move || {
                ch.credit.store(1, Release);
            })
        };
        rx.join().unwrap();
        assert!(s.send(&ch, 3));
        assert_eq!(poll(&ch, 1), Some(2));
        assert_eq!(poll(&ch, 2), Some(3));
    });
}
