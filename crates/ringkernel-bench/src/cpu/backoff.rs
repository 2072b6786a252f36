//! One waiting policy shared by every ring contender, so no queue wins by waiting differently.
//!
//! Spin with `spin_loop` hints for a while, then `yield_now`: on a two-core machine a three-thread
//! layout (two producers, one consumer) would otherwise burn whole time slices spinning against a
//! descheduled peer. A run that makes no progress for [`STALL_LIMIT`] is reported as stalled
//! instead of hanging the benchmark (e.g. a peer thread that panicked).

use std::time::{Duration, Instant};

use crate::error::BenchError;

/// How long a side may wait without progress before the run is abandoned.
pub const STALL_LIMIT: Duration = Duration::from_secs(20);

const SPINS_BEFORE_YIELD: u32 = 64;

/// Spin-then-yield waiting with a stall check.
#[derive(Debug)]
pub struct Backoff {
    spins: u32,
    waiting_since: Option<Instant>,
}

impl Default for Backoff {
    fn default() -> Self {
        Self::new()
    }
}

impl Backoff {
    /// A fresh backoff.
    pub fn new() -> Self {
        Backoff {
            spins: 0,
            waiting_since: None,
        }
    }

    /// Call after progress (an item moved).
    #[inline]
    pub fn reset(&mut self) {
        self.spins = 0;
        self.waiting_since = None;
    }

    /// Call when the queue was full (producer) or empty (consumer).
    #[inline]
    pub fn snooze(&mut self, who: &str) -> Result<(), BenchError> {
        if self.spins < SPINS_BEFORE_YIELD {
            self.spins += 1;
            std::hint::spin_loop();
            return Ok(());
        }
        // Only the slow path reads the clock.
        let since = *self.waiting_since.get_or_insert_with(Instant::now);
        if since.elapsed() > STALL_LIMIT {
            return Err(BenchError::bench(
                who,
                format!("no progress for {STALL_LIMIT:?}"),
            ));
        }
        std::thread::yield_now();
        Ok(())
    }
}
