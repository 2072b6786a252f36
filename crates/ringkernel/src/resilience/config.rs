//! The builder's resilience settings, with their defaults.
//!
//! Defaults: no memory budget, [`MemoryPolicy::default`], [`Thresholds::default`] with a hold of
//! [`DEFAULT_HOLD`], an admission bucket of [`DEFAULT_ADMISSION_RATE`] sends per second with
//! room for [`DEFAULT_ADMISSION_BURST`], sampling every
//! [`DEFAULT_MONITOR_INTERVAL`](super::DEFAULT_MONITOR_INTERVAL), a watchdog deadline of zero
//! (every handler the backend reports as long-running counts as hung), no actor shedding under
//! memory pressure.

use std::time::Duration;

use ringkernel_core::health::Watchdog;
use ringkernel_core::{MemoryBudgets, MemoryPolicy, Readiness, Thresholds};

use super::DEFAULT_MONITOR_INTERVAL;

/// Default time the signals must stay calm before the level steps down one.
pub const DEFAULT_HOLD: Duration = Duration::from_secs(1);
/// Default sends per second admitted at `Throttled` (a quarter of it from `Shedding` up).
pub const DEFAULT_ADMISSION_RATE: f64 = 100_000.0;
/// Default admission burst.
pub const DEFAULT_ADMISSION_BURST: u32 = 10_000;
/// Shortest sampling interval; shorter ones are raised to it.
pub const MIN_MONITOR_INTERVAL: Duration = Duration::from_micros(100);

/// What [`RuntimeBuilder`](crate::RuntimeBuilder) collects for the monitor.
#[derive(Debug, Clone)]
pub(crate) struct ResilienceConfig {
    pub(crate) budgets: MemoryBudgets,
    pub(crate) policy: MemoryPolicy,
    pub(crate) thresholds: Thresholds,
    pub(crate) hold: Duration,
    pub(crate) admission_rate: f64,
    pub(crate) admission_burst: u32,
    pub(crate) interval: Duration,
    pub(crate) watchdog: Watchdog,
    pub(crate) readiness: Readiness,
    pub(crate) shed_actors: bool,
    pub(crate) spill_actors: bool,
}

impl Default for ResilienceConfig {
    fn default() -> Self {
        ResilienceConfig {
            budgets: MemoryBudgets::default(),
            policy: MemoryPolicy::default(),
            thresholds: Thresholds::default(),
            hold: DEFAULT_HOLD,
            admission_rate: DEFAULT_ADMISSION_RATE,
            admission_burst: DEFAULT_ADMISSION_BURST,
            interval: DEFAULT_MONITOR_INTERVAL,
            watchdog: Watchdog {
                deadline: Duration::ZERO,
            },
            readiness: Readiness::default(),
            shed_actors: false,
            spill_actors: false,
        }
    }
}
