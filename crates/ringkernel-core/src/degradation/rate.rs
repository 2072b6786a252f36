//! Rate helpers for degradation: [`FaultRate`] turns failure events into the `fault_rate` signal,
//! [`Admission`] meters host sends at the rate the level allows.
//!
//! Both take `now` from the caller and never read a clock. Both tolerate an `Instant` earlier than
//! one seen before (as if no time had passed).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::{DegradationError, Level};

/// Failures counted over a sliding window.
///
/// Holds one `Instant` per failure inside the window (failures are rare; a storm of them is
/// exactly what the window must see), dropping older ones on each call.
#[derive(Debug, Clone)]
pub struct FaultRate {
    window: Duration,
    /// Failure times, in the order recorded.
    events: VecDeque<Instant>,
}

impl FaultRate {
    /// A counter over the last `window` (which must be longer than zero).
    pub fn new(window: Duration) -> Result<Self, DegradationError> {
        if window.is_zero() {
            return Err(DegradationError::ZeroWindow);
        }
        Ok(FaultRate {
            window,
            events: VecDeque::new(),
        })
    }

    /// The window.
    pub fn window(&self) -> Duration {
        self.window
    }

    /// Records one failure at `now`.
    pub fn record(&mut self, now: Instant) {
        self.forget_before(now);
        self.events.push_back(now);
    }

    /// Failures in the window ending at `now` (those less than one window old).
    pub fn count(&mut self, now: Instant) -> usize {
        self.forget_before(now);
        self.events
            .iter()
            .filter(|&&t| now.saturating_duration_since(t) < self.window)
            .count()
    }

    /// Failures per second over the window ending at `now`.
    pub fn per_second(&mut self, now: Instant) -> f64 {
        self.count(now) as f64 / self.window.as_secs_f64()
    }

    /// Drops failures at least one window older than `now` from the front.
    fn forget_before(&mut self, now: Instant) {
        while let Some(&t) = self.events.front() {
            if now.saturating_duration_since(t) >= self.window {
                self.events.pop_front();
            } else {
                break;
            }
        }
    }
}

/// A token bucket for host sends whose rate follows the [`Level`].
///
/// `Normal` and `Reduced` admit everything (and keep the bucket full, so throttling starts with a
/// full burst); `Throttled` refills at the configured `rate` per second; `Shedding` and `Critical`
/// at `rate / 4`. The bucket holds at most `burst` tokens; each admitted send takes one.
#[derive(Debug, Clone)]
pub struct Admission {
    rate: f64,
    burst: f64,
    level: Level,
    tokens: f64,
    /// When the tokens were last refilled.
    last: Option<Instant>,
}

impl Admission {
    /// A bucket at `Normal` for `rate` sends per second with room for `burst`.
    pub fn new(rate: f64, burst: u32) -> Result<Self, DegradationError> {
        if !(rate > 0.0 && rate.is_finite()) {
            return Err(DegradationError::Rate(rate));
        }
        if burst == 0 {
            return Err(DegradationError::ZeroBurst);
        }
        Ok(Admission {
            rate,
            burst: f64::from(burst),
            level: Level::Normal,
            tokens: f64::from(burst),
            last: None,
        })
    }

    /// Follows `level` from now on (tokens already in the bucket stay).
    pub fn set_level(&mut self, level: Level) {
        self.level = level;
    }

    /// The level followed.
    pub fn level(&self) -> Level {
        self.level
    }

    /// Sends per second admitted at the current level; `None`: unlimited.
    pub fn current_rate(&self) -> Option<f64> {
        match self.level {
            Level::Normal | Level::Reduced => None,
            Level::Throttled => Some(self.rate),
            Level::Shedding | Level::Critical => Some(self.rate / 4.0),
        }
    }

    /// Whether one send may go at `now` (and takes its token if so).
    pub fn try_admit(&mut self, now: Instant) -> bool {
        let elapsed = self
            .last
            .map_or(Duration::ZERO, |t| now.saturating_duration_since(t));
        self.last = Some(self.last.map_or(now, |t| t.max(now)));
        let Some(rate) = self.current_rate() else {
            self.tokens = self.burst;
            return true;
        };
        self.tokens = (self.tokens + elapsed.as_secs_f64() * rate).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use proptest::prelude::{prop, prop_assert, proptest};

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn fault_rate_slides() {
        let t = Instant::now();
        let mut f = FaultRate::new(Duration::from_secs(2)).unwrap();
        assert_eq!(f.per_second(t), 0.0);
        for i in 0..4 {
            f.record(t + Duration::from_millis(500 * i));
        }
        assert_eq!(f.count(t + 1500 * MS), 4);
        assert_eq!(f.per_second(t + 1500 * MS), 2.0);
        // At 2 s the first failure (at 0) is one window old and drops out.
        assert_eq!(f.count(t + 2000 * MS), 3);
        assert_eq!(f.count(t + 10_000 * MS), 0);
        assert_eq!(
            FaultRate::new(Duration::ZERO).unwrap_err(),
            DegradationError::ZeroWindow
        );
    }

    #[test]
    fn admission_follows_the_level() {
        let t = Instant::now();
        let mut a = Admission::new(10.0, 2).unwrap();
        assert!((0..1000).all(|_| a.try_admit(t)));
        a.set_level(Level::Reduced);
        assert_eq!(a.current_rate(), None);
        a.set_level(Level::Throttled);
        assert_eq!(a.current_rate(), Some(10.0));
        // The burst, then one send per 100 ms.
        assert!(a.try_admit(t) && a.try_admit(t));
        assert!(!a.try_admit(t));
        assert!(!a.try_admit(t + 50 * MS));
        assert!(a.try_admit(t + 100 * MS));
        assert!(!a.try_admit(t + 100 * MS));
        a.set_level(Level::Critical);
        assert_eq!(a.current_rate(), Some(2.5));
        assert!(!a.try_admit(t + 300 * MS));
        assert!(a.try_admit(t + 500 * MS));
        // An earlier instant counts as no time passing.
        assert!(!a.try_admit(t));
        assert_eq!(
            Admission::new(0.0, 1).unwrap_err(),
            DegradationError::Rate(0.0)
        );
        assert!(Admission::new(f64::INFINITY, 1).is_err());
        assert_eq!(
            Admission::new(1.0, 0).unwrap_err(),
            DegradationError::ZeroBurst
        );
    }

    proptest! {
        /// Over any span, a throttled bucket admits at most `burst + rate × span` sends.
        #[test]
        fn admission_never_exceeds_rate_plus_burst(
            rate in 0.5f64..100.0,
            burst in 1u32..20,
            level in prop::sample::select(vec![Level::Throttled, Level::Shedding, Level::Critical]),
            gaps in prop::collection::vec(0u64..50, 1..300),
        ) {
            let start = Instant::now();
            let mut a = Admission::new(rate, burst).unwrap();
            a.set_level(level);
            let r = a.current_rate().unwrap();
            let mut now = start;
            let mut admitted = 0u32;
            for gap in gaps {
                now += Duration::from_millis(gap);
                if a.try_admit(now) { admitted += 1; }
                let bound = f64::from(burst) + r * now.duration_since(start).as_secs_f64();
                prop_assert!(f64::from(admitted) <= bound + 1e-9);
            }
        }
    }
}
