//! Loom model checks of the hybrid logical clock: concurrent `tick` / `merge` calls never hand
//! out the same timestamp twice and never go backwards on one thread.
//!
//! Run with:
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 CARGO_TARGET_DIR=target/loom
//!  cargo test -p ringkernel-core --release --test loom_hlc`
#![cfg(loom)]
#![allow(clippy::unwrap_used)]

use loom::sync::atomic::{AtomicU64, Ordering};
use loom::sync::Arc;
use loom::thread;
use ringkernel_core::hlc::{Hlc, HlcTimestamp, PhysicalClock};

/// A physical clock the test moves by hand. Backed by a loom atomic so that a clock change made
/// on one thread is itself part of the explored interleavings.
#[derive(Clone)]
struct TestClock(Arc<AtomicU64>);

impl TestClock {
    fn at(ms: u64) -> Self {
        TestClock(Arc::new(AtomicU64::new(ms)))
    }

    fn set(&self, ms: u64) {
        self.0.store(ms, Ordering::Relaxed);
    }
}

impl PhysicalClock for TestClock {
    fn now_ms(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Strictly increasing per thread, and no timestamp issued twice overall.
fn check(per_thread: &[Vec<HlcTimestamp>]) {
    for (i, ts) in per_thread.iter().enumerate() {
        assert!(
            ts.windows(2).all(|w| w[0] < w[1]),
            "thread {i} saw time stand still or go back: {ts:?}"
        );
    }
    let mut all: Vec<_> = per_thread.iter().flatten().copied().collect();
    let n = all.len();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), n, "duplicate timestamps: {per_thread:?}");
}

#[test]
fn concurrent_ticks_are_unique_and_increasing() {
    loom::model(|| {
        let hlc = Arc::new(Hlc::new(TestClock::at(1_000), 10));
        let other = {
            let hlc = hlc.clone();
            thread::spawn(move || vec![hlc.tick(), hlc.tick()])
        };
        let mine = vec![hlc.tick(), hlc.tick()];
        let theirs = other.join().unwrap();
        check(&[mine.clone(), theirs.clone()]);
        // Four ticks within one millisecond: logical counters 0..=3, and `last` is the greatest.
        let max = mine.iter().chain(&theirs).max().copied().unwrap();
        assert_eq!(max, HlcTimestamp::from_parts(1_000, 3));
        assert_eq!(hlc.last(), max);
    });
}

#[test]
fn concurrent_tick_and_merge_are_unique_and_increasing() {
    loom::model(|| {
        let hlc = Arc::new(Hlc::new(TestClock::at(1_000), 10));
        let remote = HlcTimestamp::from_parts(1_005, 7);
        let other = {
            let hlc = hlc.clone();
            thread::spawn(move || {
                let m = hlc.merge(remote).unwrap();
                assert!(m > remote, "a merge must move past the remote timestamp");
                vec![m, hlc.tick()]
            })
        };
        let mine = vec![hlc.tick(), hlc.merge(hlc.last()).unwrap()];
        let theirs = other.join().unwrap();
        check(&[mine.clone(), theirs.clone()]);
        assert!(hlc.last() >= *mine.iter().chain(&theirs).max().unwrap());
        assert!(hlc.tick() > remote);
    });
}

#[test]
fn clock_moving_during_ticks_never_breaks_order() {
    loom::model(|| {
        let clock = TestClock::at(2_000);
        let hlc = Arc::new(Hlc::new(clock.clone(), 10));
        let other = {
            let hlc = hlc.clone();
            thread::spawn(move || {
                let a = hlc.tick();
                // The wall clock jumps back (NTP step) between this thread's ticks.
                clock.set(1_000);
                vec![a, hlc.tick()]
            })
        };
        let mine = vec![hlc.tick(), hlc.tick()];
        let theirs = other.join().unwrap();
        check(&[mine.clone(), theirs.clone()]);
        // Nothing ever drops below the first reading.
        assert!(mine.iter().chain(&theirs).all(|t| t.physical_ms() >= 2_000));
    });
}
