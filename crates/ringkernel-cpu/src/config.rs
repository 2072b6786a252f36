//! Configuration of the CPU backend, checked once at construction.

use crate::error::CpuError;

/// Tunables of a [`CpuBackend`](crate::CpuBackend).
///
/// Memory: each actor owns a mailbox of `mailbox_capacity` envelopes (128 bytes a slot with its
/// sequence number, so the default 1024 is about 128 KiB per actor); each worker owns a ready ring
/// sized for its share of `max_actors`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpuConfig {
    /// Worker threads running handlers. Default: `std::thread::available_parallelism()`.
    pub workers: usize,
    /// Envelopes each actor's mailbox holds before sends fail with `SendError::Full`. A power of
    /// two, at least 2. Default 1024.
    pub mailbox_capacity: usize,
    /// Asks that may wait for replies at once (including timed-out asks whose request is still
    /// queued); more fail with `SendError::TooManyPendingAsks`. Default 65,536.
    pub max_pending_asks: usize,
    /// Actors one backend can ever spawn (ids are never reused). Default 65,536.
    pub max_actors: usize,
    /// How long one handler call may run before `signals()` reports its actor as hung.
    /// Default 1 s.
    pub watchdog: std::time::Duration,
}

impl Default for CpuConfig {
    fn default() -> Self {
        CpuConfig {
            workers: std::thread::available_parallelism().map_or(1, |n| n.get()),
            mailbox_capacity: 1024,
            max_pending_asks: 1 << 16,
            max_actors: 1 << 16,
            watchdog: std::time::Duration::from_secs(1),
        }
    }
}

/// Largest `max_actors`: ids are `u32` and `u32::MAX` is the host.
pub const MAX_ACTORS_LIMIT: usize = 1 << 24;
/// Largest worker count accepted (a sanity bound, far above any core count we run on).
pub const MAX_WORKERS: usize = 1024;

impl CpuConfig {
    /// Sets the worker count.
    pub fn with_workers(mut self, workers: usize) -> Self {
        self.workers = workers;
        self
    }

    /// Sets the mailbox capacity per actor.
    pub fn with_mailbox_capacity(mut self, cap: usize) -> Self {
        self.mailbox_capacity = cap;
        self
    }

    /// Sets the bound on asks in flight.
    pub fn with_max_pending_asks(mut self, n: usize) -> Self {
        self.max_pending_asks = n;
        self
    }

    /// Sets the watchdog deadline for one handler call.
    pub fn with_watchdog(mut self, deadline: std::time::Duration) -> Self {
        self.watchdog = deadline;
        self
    }

    /// Sets the bound on actors spawned.
    pub fn with_max_actors(mut self, n: usize) -> Self {
        self.max_actors = n;
        self
    }

    /// Checks every field; the error names the first bad one.
    pub fn validate(&self) -> Result<(), CpuError> {
        let bad = |field: &'static str, value: usize, reason: &'static str| {
            Err(CpuError::BadConfig {
                field,
                value,
                reason,
            })
        };
        if self.workers == 0 || self.workers > MAX_WORKERS {
            return bad("workers", self.workers, "must be between 1 and 1024");
        }
        if self.mailbox_capacity < 2
            || !self.mailbox_capacity.is_power_of_two()
            || self.mailbox_capacity > (1 << 24)
        {
            return bad(
                "mailbox_capacity",
                self.mailbox_capacity,
                "must be a power of two between 2 and 2^24",
            );
        }
        if self.max_pending_asks == 0 || self.max_pending_asks > (1 << 24) {
            return bad(
                "max_pending_asks",
                self.max_pending_asks,
                "must be between 1 and 2^24",
            );
        }
        if self.max_actors == 0 || self.max_actors > MAX_ACTORS_LIMIT {
            return bad("max_actors", self.max_actors, "must be between 1 and 2^24");
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid() {
        let c = CpuConfig::default();
        assert!(c.workers >= 1);
        assert!(c.validate().is_ok());
    }

    #[test]
    fn each_bad_field_is_named() {
        let base = CpuConfig::default();
        let cases = [
            (base.clone().with_workers(0), "workers"),
            (base.clone().with_mailbox_capacity(1000), "mailbox_capacity"),
            (base.clone().with_mailbox_capacity(1), "mailbox_capacity"),
            (base.clone().with_max_pending_asks(0), "max_pending_asks"),
            (base.clone().with_max_actors(0), "max_actors"),
            (
                base.clone().with_max_actors(MAX_ACTORS_LIMIT + 1),
                "max_actors",
            ),
        ];
        for (cfg, field) in cases {
            match cfg.validate() {
                Err(CpuError::BadConfig { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field}: expected BadConfig, got {other:?}"),
            }
        }
    }
}
