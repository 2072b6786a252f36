//! Hybrid logical clock (Kulkarni et al., "Logical Physical Clocks", 2014).
//!
//! A timestamp is one packed `u64`, the same on host and device:
//!
//! ```text
//!  63                                   16 15            0
//! +---------------------------------------+---------------+
//! | physical: ms since the Unix epoch (48) | logical (16)  |
//! +---------------------------------------+---------------+
//! ```
//!
//! Because the logical counter sits in the low bits, "the next timestamp" is simply `raw + 1`: when
//! the logical part overflows it carries into the physical part, so timestamps stay unique and
//! strictly increasing even past 65,536 events in one millisecond (the physical part then runs at
//! most 1 ms ahead per 65,536 extra events; the next real clock tick catches up).
//!
//! [`Hlc`] keeps the last issued timestamp in a single `AtomicU64`. `tick` and `merge` are one
//! compare-and-swap loop each: every successful CAS publishes a value strictly greater than the one
//! it replaced, so no two callers ever receive the same timestamp and no caller sees time go back.
//! `merge` rejects remote timestamps more than `max_skew_ms` ahead of local physical time instead of
//! dragging the local clock forward (the bounded-skew rule of the paper).

use std::fmt;

use crate::error::CoreError;
use crate::sync::{AtomicU64, Ordering};

const LOGICAL_BITS: u32 = 16;
const LOGICAL_MASK: u64 = (1 << LOGICAL_BITS) - 1;
const PHYSICAL_MAX_MS: u64 = (1 << (64 - LOGICAL_BITS)) - 1;

/// A packed hybrid-logical-clock timestamp. Ordered by `(physical, logical)`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(transparent)]
pub struct HlcTimestamp(u64);

impl HlcTimestamp {
    /// The zero timestamp, earlier than every real one.
    pub const ZERO: HlcTimestamp = HlcTimestamp(0);

    /// Builds a timestamp from its parts; the physical part is truncated to 48 bits.
    pub const fn from_parts(physical_ms: u64, logical: u16) -> Self {
        HlcTimestamp(((physical_ms & PHYSICAL_MAX_MS) << LOGICAL_BITS) | logical as u64)
    }

    /// Wraps a packed value, as stored in an envelope.
    pub const fn from_raw(raw: u64) -> Self {
        HlcTimestamp(raw)
    }

    /// The packed value.
    pub const fn raw(self) -> u64 {
        self.0
    }

    /// Milliseconds since the Unix epoch.
    pub const fn physical_ms(self) -> u64 {
        self.0 >> LOGICAL_BITS
    }

    /// Logical counter within the millisecond.
    pub const fn logical(self) -> u16 {
        (self.0 & LOGICAL_MASK) as u16
    }
}

impl fmt::Debug for HlcTimestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hlc({}ms+{})", self.physical_ms(), self.logical())
    }
}

/// Source of physical time in milliseconds since the Unix epoch.
pub trait PhysicalClock: Send + Sync {
    /// Current physical time in ms.
    fn now_ms(&self) -> u64;
}

/// The system wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl PhysicalClock for SystemClock {
    fn now_ms(&self) -> u64 {
        // A clock set before 1970 reads as 0: timestamps then advance by logical ticks alone,
        // which keeps them unique and monotonic.
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    }
}

/// The wall clock, read at most once per ~0.2 ms of CPU time: [`PhysicalClock`] at a fraction of
/// the cost of [`SystemClock`] (which is ~20 ns per read, the whole tick budget).
///
/// On x86-64 it keeps the last wall-clock reading next to the time-stamp counter value at which it
/// was taken, and re-reads the wall clock only once the counter has advanced by
/// [`CachedClock::REFRESH_CYCLES`] (0.2 ms at 1 GHz, less on faster parts). A reading is therefore
/// at most that stale; the HLC never goes backwards whatever the physical clock does, so a stale
/// or torn cache can only delay the physical part, never break uniqueness or monotonicity.
/// Elsewhere it is [`SystemClock`].
#[derive(Debug, Default)]
pub struct CachedClock {
    // Plain std atomics, not the loom shim: this is a cache whose races are harmless by design
    // (see above), not part of the protocol the loom models check.
    /// Counter value at the last wall-clock read.
    stamp: std::sync::atomic::AtomicU64,
    /// Wall clock (ms) at that read.
    ms: std::sync::atomic::AtomicU64,
}

impl CachedClock {
    /// Counter cycles after which the wall clock is read again.
    pub const REFRESH_CYCLES: u64 = 200_000;
}

impl PhysicalClock for CachedClock {
    fn now_ms(&self) -> u64 {
        #[cfg(target_arch = "x86_64")]
        {
            use std::sync::atomic::Ordering::Relaxed;
            // SAFETY: RDTSC has no preconditions; it is present on every x86-64 CPU.
            let now = unsafe { std::arch::x86_64::_rdtsc() };
            let stamp = self.stamp.load(Relaxed);
            if now.wrapping_sub(stamp) < Self::REFRESH_CYCLES {
                return self.ms.load(Relaxed);
            }
            let ms = SystemClock.now_ms();
            self.ms.store(ms, Relaxed);
            self.stamp.store(now, Relaxed);
            ms
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let _ = (&self.stamp, &self.ms);
            SystemClock.now_ms()
        }
    }
}

/// Default bound on how far a remote timestamp may run ahead of local time.
pub const DEFAULT_MAX_SKEW_MS: u64 = 1_000;

/// A hybrid logical clock shared by every sender of one node (host or device).
pub struct Hlc<C: PhysicalClock = CachedClock> {
    /// Last issued timestamp (packed). Only ever replaced by a strictly greater value.
    last: AtomicU64,
    max_skew_ms: u64,
    clock: C,
}

impl<C: PhysicalClock> fmt::Debug for Hlc<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hlc")
            .field("last", &HlcTimestamp(self.last.load(Ordering::Relaxed)))
            .field("max_skew_ms", &self.max_skew_ms)
            .finish()
    }
}

impl Default for Hlc<CachedClock> {
    fn default() -> Self {
        Hlc::new(CachedClock::default(), DEFAULT_MAX_SKEW_MS)
    }
}

impl<C: PhysicalClock> Hlc<C> {
    /// A clock reading `clock` that rejects remote timestamps more than `max_skew_ms` ahead.
    pub fn new(clock: C, max_skew_ms: u64) -> Self {
        Hlc {
            last: AtomicU64::new(0),
            max_skew_ms,
            clock,
        }
    }

    fn wall(&self) -> u64 {
        HlcTimestamp::from_parts(self.clock.now_ms(), 0).0
    }

    /// Issues a timestamp for a local or send event: strictly greater than every earlier one.
    pub fn tick(&self) -> HlcTimestamp {
        let wall = self.wall();
        self.advance(|cur| wall.max(cur.wrapping_add(1)))
    }

    /// Issues `n` consecutive timestamps at once (for a batch of sends) and returns the first; the
    /// others are `first + 1 ..= first + n - 1`. All are strictly greater than every earlier
    /// timestamp, and the next `tick` is greater than all of them. One atomic update instead of
    /// `n`: producers sending batches from several threads do not fight over the clock per message.
    /// `n == 0` is treated as 1.
    pub fn tick_n(&self, n: u16) -> HlcTimestamp {
        let extra = u64::from(n.max(1) - 1);
        let wall = self.wall();
        let last = self.advance(|cur| wall.max(cur.wrapping_add(1)) + extra);
        HlcTimestamp(last.0 - extra)
    }

    /// Merges a received timestamp and issues one for the receive event, strictly greater than
    /// both `remote` and every timestamp this clock issued before.
    ///
    /// Fails with [`CoreError::ClockSkew`] (leaving the clock untouched) when `remote` is more than
    /// the configured skew ahead of local physical time.
    pub fn merge(&self, remote: HlcTimestamp) -> Result<HlcTimestamp, CoreError> {
        let now_ms = self.clock.now_ms();
        if remote.physical_ms() > now_ms.saturating_add(self.max_skew_ms) {
            return Err(CoreError::ClockSkew {
                remote_ms: remote.physical_ms(),
                skew_ms: remote.physical_ms() - now_ms,
                max_skew_ms: self.max_skew_ms,
            });
        }
        let wall = HlcTimestamp::from_parts(now_ms, 0).0;
        let floor = remote.0.saturating_add(1);
        Ok(self.advance(|cur| wall.max(cur.wrapping_add(1)).max(floor)))
    }

    /// The last timestamp issued, without issuing a new one.
    pub fn last(&self) -> HlcTimestamp {
        HlcTimestamp(self.last.load(Ordering::Acquire))
    }

    fn advance(&self, next_of: impl Fn(u64) -> u64) -> HlcTimestamp {
        let mut cur = self.last.load(Ordering::Relaxed);
        loop {
            let next = next_of(cur);
            debug_assert!(next > cur, "hlc must advance");
            // AcqRel: a timestamp handed out happens-after every earlier one, so causally later
            // code on another thread that reads `last` sees at least this value.
            match self
                .last
                .compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => return HlcTimestamp(next),
                Err(actual) => cur = actual,
            }
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64 as StdAtomicU64;
    use std::sync::Arc;

    /// A clock the test moves by hand.
    #[derive(Clone, Default)]
    struct ManualClock(Arc<StdAtomicU64>);
    impl PhysicalClock for ManualClock {
        fn now_ms(&self) -> u64 {
            self.0.load(std::sync::atomic::Ordering::SeqCst)
        }
    }
    impl ManualClock {
        fn set(&self, ms: u64) {
            self.0.store(ms, std::sync::atomic::Ordering::SeqCst)
        }
    }

    #[test]
    fn parts_round_trip() {
        let t = HlcTimestamp::from_parts(1_700_000_000_123, 42);
        assert_eq!(t.physical_ms(), 1_700_000_000_123);
        assert_eq!(t.logical(), 42);
        assert_eq!(HlcTimestamp::from_raw(t.raw()), t);
    }

    #[test]
    fn ticks_in_one_millisecond_count_logically() {
        let clock = ManualClock::default();
        clock.set(1000);
        let hlc = Hlc::new(clock.clone(), 10);
        let a = hlc.tick();
        let b = hlc.tick();
        assert_eq!(a, HlcTimestamp::from_parts(1000, 0));
        assert_eq!(b, HlcTimestamp::from_parts(1000, 1));
        clock.set(1001);
        assert_eq!(hlc.tick(), HlcTimestamp::from_parts(1001, 0));
    }

    #[test]
    fn clock_going_backwards_never_moves_timestamps_back() {
        let clock = ManualClock::default();
        clock.set(5000);
        let hlc = Hlc::new(clock.clone(), 10);
        let a = hlc.tick();
        clock.set(10);
        let b = hlc.tick();
        assert!(b > a);
        assert_eq!(b.physical_ms(), 5000);
    }

    #[test]
    fn logical_overflow_carries_into_physical() {
        let clock = ManualClock::default();
        clock.set(7);
        let hlc = Hlc::new(clock, 10);
        let mut prev = hlc.tick();
        for _ in 0..70_000 {
            let t = hlc.tick();
            assert!(t > prev);
            prev = t;
        }
        assert_eq!(prev.physical_ms(), 8);
    }

    #[test]
    fn merge_moves_past_remote() {
        let clock = ManualClock::default();
        clock.set(100);
        let hlc = Hlc::new(clock, 50);
        let remote = HlcTimestamp::from_parts(120, 9);
        let t = hlc.merge(remote).unwrap();
        assert!(t > remote);
        assert_eq!(t, HlcTimestamp::from_parts(120, 10));
        assert!(hlc.tick() > t);
    }

    #[test]
    fn merge_rejects_excessive_skew_and_leaves_clock_alone() {
        let clock = ManualClock::default();
        clock.set(100);
        let hlc = Hlc::new(clock, 50);
        let before = hlc.tick();
        let err = hlc.merge(HlcTimestamp::from_parts(151, 0)).unwrap_err();
        assert_eq!(
            err,
            CoreError::ClockSkew {
                remote_ms: 151,
                skew_ms: 51,
                max_skew_ms: 50
            }
        );
        assert_eq!(hlc.last(), before);
        assert!(hlc.merge(HlcTimestamp::from_parts(150, 0)).is_ok());
    }

    #[test]
    fn cached_clock_tracks_the_system_clock() {
        let cached = CachedClock::default();
        for _ in 0..1000 {
            let c = cached.now_ms();
            let s = SystemClock.now_ms();
            // Stale by at most the refresh interval (well under 50 ms on any real CPU).
            assert!(s >= c && s - c < 50, "cached {c} vs system {s}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
        let c = cached.now_ms();
        let s = SystemClock.now_ms();
        assert!(s - c < 50, "cache never refreshed: {c} vs {s}");
    }

    #[test]
    fn system_clock_is_plausible() {
        let hlc = Hlc::default();
        // After 2020-01-01.
        assert!(hlc.tick().physical_ms() > 1_577_836_800_000);
    }

    #[test]
    fn concurrent_ticks_are_unique_and_per_thread_increasing() {
        let hlc = Arc::new(Hlc::default());
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let hlc = hlc.clone();
                std::thread::spawn(move || {
                    let mut out = Vec::with_capacity(20_000);
                    for i in 0..20_000 {
                        out.push(if i % 3 == 0 {
                            hlc.merge(hlc.last()).unwrap()
                        } else {
                            hlc.tick()
                        });
                    }
                    out
                })
            })
            .collect();
        let mut all = Vec::new();
        for t in threads {
            let v = t.join().unwrap();
            assert!(v.windows(2).all(|w| w[0] < w[1]), "per-thread order broken");
            all.extend(v);
        }
        let n = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), n, "duplicate timestamps issued");
    }

    #[test]
    fn tick_n_hands_out_disjoint_increasing_ranges() {
        let hlc = Arc::new(Hlc::default());
        let threads: Vec<_> = (0..4u16)
            .map(|t| {
                let hlc = hlc.clone();
                std::thread::spawn(move || {
                    let mut out = Vec::new();
                    for i in 0..5_000u16 {
                        // Mix single ticks, ranges (including the n = 0 edge) and merges.
                        match (i + t) % 4 {
                            0 => out.push(hlc.tick()),
                            1 => out.push(hlc.merge(hlc.last()).unwrap()),
                            _ => {
                                let n = (i % 70) + t;
                                let first = hlc.tick_n(n);
                                out.extend(
                                    (0..u64::from(n.max(1)))
                                        .map(|k| HlcTimestamp::from_raw(first.raw() + k)),
                                );
                            }
                        }
                    }
                    out
                })
            })
            .collect();
        let mut all = Vec::new();
        for t in threads {
            let v = t.join().unwrap();
            assert!(v.windows(2).all(|w| w[0] < w[1]), "per-thread order broken");
            all.extend(v);
        }
        let n = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), n, "overlapping ranges issued");
        assert!(hlc.tick() > *all.last().unwrap());
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        #[derive(Debug, Clone)]
        enum Op {
            Tick,
            Merge(u64, u16),
            SetClock(u64),
        }

        fn op() -> impl Strategy<Value = Op> {
            prop_oneof![
                Just(Op::Tick),
                (0u64..2_000, any::<u16>()).prop_map(|(p, l)| Op::Merge(p, l)),
                (0u64..2_000).prop_map(Op::SetClock),
            ]
        }

        proptest! {
            #[test]
            fn issued_timestamps_strictly_increase(ops in proptest::collection::vec(op(), 1..200)) {
                let clock = ManualClock::default();
                clock.set(1_000);
                let hlc = Hlc::new(clock.clone(), 100);
                let mut prev = HlcTimestamp::ZERO;
                for op in ops {
                    match op {
                        Op::Tick => {
                            let t = hlc.tick();
                            prop_assert!(t > prev);
                            prop_assert!(t.physical_ms() >= clock.now_ms());
                            prev = t;
                        }
                        Op::Merge(p, l) => {
                            let remote = HlcTimestamp::from_parts(p, l);
                            match hlc.merge(remote) {
                                Ok(t) => {
                                    prop_assert!(t > prev && t > remote);
                                    prev = t;
                                }
                                Err(CoreError::ClockSkew { .. }) => {
                                    prop_assert!(p > clock.now_ms() + 100);
                                    prop_assert_eq!(hlc.last(), prev);
                                }
                                Err(e) => prop_assert!(false, "unexpected {e}"),
                            }
                        }
                        Op::SetClock(ms) => clock.set(ms),
                    }
                }
            }
        }
    }
}
