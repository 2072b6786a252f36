//! Deadlines from caller-given durations.
//!
//! `Instant::now() + d` panics when `d` is too long for the clock to count (`Duration::MAX` is
//! a common way to say "no limit"). Every wait on a duration a user passed goes through
//! [`deadline_after`], so such a duration means a wait without a practical end instead.

use std::time::{Duration, Instant};

/// How far ahead a deadline the clock cannot count is put: far past any process's life, and
/// well inside what every platform's `Instant` can add.
pub const FAR: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);

/// `now + after`, or `now + FAR` when that is past what `Instant` can count or `after` is
/// longer than [`FAR`].
pub fn deadline_after(after: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(after.min(FAR))
        .unwrap_or_else(|| now.checked_add(FAR / 1000).unwrap_or(now))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_durations_give_far_deadlines_without_panicking() {
        let now = Instant::now();
        assert!(deadline_after(Duration::ZERO) >= now);
        let near = deadline_after(Duration::from_millis(5));
        assert!(near >= now + Duration::from_millis(5) && near < now + Duration::from_secs(5));
        for d in [Duration::MAX, FAR, FAR * 2, Duration::from_secs(u64::MAX)] {
            let far = deadline_after(d);
            assert!(far > now + FAR / 2, "{d:?}");
        }
    }
}
