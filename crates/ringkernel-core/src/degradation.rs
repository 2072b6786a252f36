//! Graceful degradation: five load levels, chosen from three signals with hysteresis, and what the
//! runtime does at each.
//!
//! Each level keeps what the one below it does and adds a restriction:
//!
//! - [`Normal`](Level::Normal): runs everything.
//! - [`Reduced`](Level::Reduced): turns optional work off: traffic sampling and telemetry export
//!   pause, and host sends are gathered into larger batches (fewer, fuller ring pushes). No
//!   message is refused.
//! - [`Throttled`](Level::Throttled): admits host sends (tells and asks) through an [`Admission`]
//!   bucket at its configured rate; a send beyond the budget fails with
//!   [`SendError::Full`](crate::SendError::Full), so callers back off as for a full mailbox.
//! - [`Shedding`](Level::Shedding): admits at a quarter of the rate, and sheds messages addressed
//!   to actors of the lowest priority class present (the largest priority number; 0 is the most
//!   important) to the dead-letter queue with
//!   [`DeadLetterReason::Rejected`](crate::DeadLetterReason::Rejected). The runtime reports itself
//!   not ready ([`crate::health`]).
//! - [`Critical`](Level::Critical): refuses spawns and admits only control traffic (lifecycle,
//!   supervision, shutdown) and asks to priority-0 actors, still at a quarter of the rate; every
//!   other send fails with `Full`.
//!
//! **Choosing the level.** [`Signals`] carries the fullest mailbox's fill, the memory pressure (see
//! [`crate::budget`]) and the failure rate ([`FaultRate`]). [`Thresholds`] gives, per signal, the
//! value at which each level above `Normal` is *entered*; a level is *left* once every signal is
//! below `enter × hysteresis` (default 0.8) for that level. [`DegradationController::observe`]:
//!
//! 1. The *demanded* level is the highest level whose enter threshold any signal reaches.
//! 2. Above the current level, the controller moves up to it at once.
//! 3. Otherwise, once every signal has stayed below the current level's leave thresholds for the
//!    controller's `hold`, it moves down **one** level; the next step down needs another `hold`
//!    below that level's leave thresholds.
//!
//! A NaN signal reaches no threshold and is below none, so it neither raises the level nor lets it
//! fall. Time is injected (`Instant`s), so every rule is testable without a clock.

mod rate;

pub use rate::{Admission, FaultRate};

use std::fmt;
use std::time::{Duration, Instant};

/// A load level, from `Normal` (0) to `Critical` (4); see the module docs for what each does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Level {
    /// Everything runs.
    Normal = 0,
    /// Optional work (sampling, telemetry) off; larger batches.
    Reduced = 1,
    /// Host sends admitted at the configured rate.
    Throttled = 2,
    /// Sends to the lowest priority class shed to dead letters; a quarter of the rate.
    Shedding = 3,
    /// Spawns refused; only control traffic and asks to priority-0 actors.
    Critical = 4,
}

impl Level {
    /// All levels, lowest first.
    pub const ALL: [Level; 5] = [
        Level::Normal,
        Level::Reduced,
        Level::Throttled,
        Level::Shedding,
        Level::Critical,
    ];

    /// The level below (`Normal` stays `Normal`).
    pub const fn below(self) -> Level {
        match self {
            Level::Normal | Level::Reduced => Level::Normal,
            Level::Throttled => Level::Reduced,
            Level::Shedding => Level::Throttled,
            Level::Critical => Level::Shedding,
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Level::Normal => "normal",
            Level::Reduced => "reduced",
            Level::Throttled => "throttled",
            Level::Shedding => "shedding",
            Level::Critical => "critical",
        })
    }
}

/// One input of the controller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Signal {
    /// [`Signals::queue_fill`].
    QueueFill,
    /// [`Signals::memory_pressure`].
    MemoryPressure,
    /// [`Signals::fault_rate`].
    FaultRate,
}

impl Signal {
    /// All signals, in the order ties are attributed.
    pub const ALL: [Signal; 3] = [Signal::QueueFill, Signal::MemoryPressure, Signal::FaultRate];
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Signal::QueueFill => "queue fill",
            Signal::MemoryPressure => "memory pressure",
            Signal::FaultRate => "fault rate",
        })
    }
}

/// One observation of the runtime's load.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Signals {
    /// Fill of the fullest mailbox, 0 to 1.
    pub queue_fill: f64,
    /// Memory pressure, 0 to 1 ([`crate::budget::BudgetLedger::pressure`]).
    pub memory_pressure: f64,
    /// Actor failures per second ([`FaultRate::per_second`]).
    pub fault_rate: f64,
}

impl Signals {
    /// The value of `signal`.
    pub fn get(&self, signal: Signal) -> f64 {
        match signal {
            Signal::QueueFill => self.queue_fill,
            Signal::MemoryPressure => self.memory_pressure,
            Signal::FaultRate => self.fault_rate,
        }
    }
}

/// A configuration the degradation types refuse.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum DegradationError {
    /// An enter threshold that is not above 0 (or NaN); `f64::INFINITY` means "never".
    #[error("{signal} threshold for {level} is {value}, must be above 0")]
    Threshold {
        /// The signal.
        signal: Signal,
        /// The level it enters.
        level: Level,
        /// The value given.
        value: f64,
    },
    /// An enter threshold below the one of the level beneath.
    #[error("{signal} threshold for {level} is {value}, below {previous} of the level beneath")]
    Decreasing {
        /// The signal.
        signal: Signal,
        /// The level it enters.
        level: Level,
        /// The value given.
        value: f64,
        /// The threshold of the level beneath.
        previous: f64,
    },
    /// A hysteresis factor outside `(0, 1]`.
    #[error("hysteresis {0} is not in (0, 1]")]
    Hysteresis(f64),
    /// A [`FaultRate`] window of zero length.
    #[error("fault-rate window must be longer than zero")]
    ZeroWindow,
    /// An [`Admission`] rate that is not a positive finite number.
    #[error("admission rate {0} is not a positive number")]
    Rate(f64),
    /// An [`Admission`] burst of zero.
    #[error("admission burst must be at least 1")]
    ZeroBurst,
}

/// Enter thresholds per signal for `Reduced`, `Throttled`, `Shedding`, `Critical` (in that
/// order), and the hysteresis factor; valid by construction: every threshold above 0 and
/// non-decreasing with the level, the factor in `(0, 1]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    enter: [[f64; 4]; 3],
    hysteresis: f64,
}

impl Default for Thresholds {
    /// Queue fill 0.50 / 0.75 / 0.90 / 0.98; memory pressure 0.70 / 0.80 / 0.90 / 0.95 (spawns
    /// are refused by [`crate::budget::MemoryPolicy`] at 0.85 already); faults 1 / 5 / 20 / 100
    /// per second; hysteresis 0.8.
    fn default() -> Self {
        Thresholds {
            enter: [
                [0.50, 0.75, 0.90, 0.98],
                [0.70, 0.80, 0.90, 0.95],
                [1.0, 5.0, 20.0, 100.0],
            ],
            hysteresis: 0.8,
        }
    }
}

impl Thresholds {
    /// Thresholds from enter values per signal (levels `Reduced` to `Critical`) and a hysteresis
    /// factor, checked.
    pub fn new(
        queue_fill: [f64; 4],
        memory_pressure: [f64; 4],
        fault_rate: [f64; 4],
        hysteresis: f64,
    ) -> Result<Self, DegradationError> {
        let enter = [queue_fill, memory_pressure, fault_rate];
        for (signal, row) in Signal::ALL.into_iter().zip(enter) {
            let mut previous = 0.0;
            for (level, value) in Level::ALL[1..].iter().copied().zip(row) {
                if value.is_nan() || value <= 0.0 {
                    return Err(DegradationError::Threshold {
                        signal,
                        level,
                        value,
                    });
                }
                if value < previous {
                    return Err(DegradationError::Decreasing {
                        signal,
                        level,
                        value,
                        previous,
                    });
                }
                previous = value;
            }
        }
        if !(hysteresis > 0.0 && hysteresis <= 1.0) {
            return Err(DegradationError::Hysteresis(hysteresis));
        }
        Ok(Thresholds { enter, hysteresis })
    }

    /// The value of `signal` at which `level` is entered (0 for `Normal`).
    pub fn enter(&self, signal: Signal, level: Level) -> f64 {
        match (level as usize).checked_sub(1) {
            Some(i) => self.enter[signal as usize][i],
            None => 0.0,
        }
    }

    /// The value of `signal` below which `level` may be left: `enter × hysteresis`.
    pub fn leave(&self, signal: Signal, level: Level) -> f64 {
        self.enter(signal, level) * self.hysteresis
    }

    /// The highest level any signal reaches, with the first signal (in [`Signal::ALL`] order)
    /// that reaches it; `None` for `Normal`.
    pub fn demanded(&self, signals: &Signals) -> (Level, Option<Signal>) {
        for level in Level::ALL[1..].iter().rev().copied() {
            for signal in Signal::ALL {
                if signals.get(signal) >= self.enter(signal, level) {
                    return (level, Some(signal));
                }
            }
        }
        (Level::Normal, None)
    }

    /// Whether every signal is below `level`'s leave thresholds (always for `Normal`).
    pub fn calm(&self, signals: &Signals, level: Level) -> bool {
        level == Level::Normal
            || Signal::ALL
                .into_iter()
                .all(|s| signals.get(s) < self.leave(s, level))
    }
}

/// A level change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct Transition {
    /// The level before.
    pub from: Level,
    /// The level now.
    pub to: Level,
    /// Going up: the signal that demanded `to`. Going down: `None` (the signals stayed calm for
    /// the hold time).
    pub cause: Option<Signal>,
}

/// Picks the level from successive [`Signals`]; see the module docs for the rules.
#[derive(Debug, Clone)]
pub struct DegradationController {
    thresholds: Thresholds,
    hold: Duration,
    level: Level,
    /// Since when the signals have been below the current level's leave thresholds (`None`: they
    /// are not, or the level is `Normal`).
    calm_since: Option<Instant>,
}

impl DegradationController {
    /// A controller at `Normal` that steps down after `hold` of calm (zero: at the next calm
    /// observation).
    pub fn new(thresholds: Thresholds, hold: Duration) -> Self {
        DegradationController {
            thresholds,
            hold,
            level: Level::Normal,
            calm_since: None,
        }
    }

    /// The current level.
    pub fn level(&self) -> Level {
        self.level
    }

    /// The thresholds.
    pub fn thresholds(&self) -> &Thresholds {
        &self.thresholds
    }

    /// Takes one observation at `now`; returns the level change it causes, if any.
    pub fn observe(&mut self, signals: &Signals, now: Instant) -> Option<Transition> {
        let from = self.level;
        let (demanded, cause) = self.thresholds.demanded(signals);
        if demanded > from {
            self.level = demanded;
            self.calm_since = None;
            return Some(Transition {
                from,
                to: demanded,
                cause,
            });
        }
        if !self.thresholds.calm(signals, from) {
            self.calm_since = None;
            return None;
        }
        let since = *self.calm_since.get_or_insert(now);
        if from == Level::Normal || now.saturating_duration_since(since) < self.hold {
            return None;
        }
        let to = from.below();
        self.level = to;
        // The next step needs its own hold, starting now if already calm for the new level.
        self.calm_since = (to != Level::Normal && self.thresholds.calm(signals, to)).then_some(now);
        Some(Transition {
            from,
            to,
            cause: None,
        })
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use proptest::prelude::{prop, prop_assert, prop_assert_eq, proptest};

    fn sig(queue_fill: f64, memory_pressure: f64, fault_rate: f64) -> Signals {
        Signals {
            queue_fill,
            memory_pressure,
            fault_rate,
        }
    }

    const SEC: Duration = Duration::from_secs(1);

    #[test]
    fn up_is_immediate_and_names_the_signal() {
        let t = Instant::now();
        let mut c = DegradationController::new(Thresholds::default(), 10 * SEC);
        assert_eq!(c.observe(&sig(0.1, 0.1, 0.0), t), None);
        assert_eq!(
            c.observe(&sig(0.1, 0.91, 0.0), t),
            Some(Transition {
                from: Level::Normal,
                to: Level::Shedding,
                cause: Some(Signal::MemoryPressure)
            })
        );
        assert_eq!(
            c.observe(&sig(0.1, 0.1, 150.0), t),
            Some(Transition {
                from: Level::Shedding,
                to: Level::Critical,
                cause: Some(Signal::FaultRate)
            })
        );
        assert_eq!(c.level(), Level::Critical);
    }

    #[test]
    fn down_is_one_level_per_hold_and_needs_calm() {
        let t = Instant::now();
        let mut c = DegradationController::new(Thresholds::default(), 10 * SEC);
        let _ = c.observe(&sig(0.99, 0.0, 0.0), t);
        // Below Critical's enter (0.98) but above its leave (0.784): stays.
        assert_eq!(c.observe(&sig(0.8, 0.0, 0.0), t + 20 * SEC), None);
        // Calm from 30 s on; the first step needs 10 s of it.
        let calm = sig(0.0, 0.0, 0.0);
        assert_eq!(c.observe(&calm, t + 30 * SEC), None);
        assert_eq!(c.observe(&calm, t + 39 * SEC), None);
        let step = c.observe(&calm, t + 40 * SEC).unwrap();
        assert_eq!(
            (step.from, step.to, step.cause),
            (Level::Critical, Level::Shedding, None)
        );
        // Each further step needs another full hold.
        assert_eq!(c.observe(&calm, t + 49 * SEC), None);
        assert_eq!(c.observe(&calm, t + 50 * SEC).unwrap().to, Level::Throttled);
        // A relapse above the leave threshold restarts the clock.
        assert_eq!(c.observe(&sig(0.61, 0.0, 0.0), t + 55 * SEC), None);
        assert_eq!(c.observe(&calm, t + 60 * SEC), None);
        assert_eq!(c.observe(&calm, t + 69 * SEC), None);
        assert_eq!(c.observe(&calm, t + 70 * SEC).unwrap().to, Level::Reduced);
        assert_eq!(c.observe(&calm, t + 80 * SEC).unwrap().to, Level::Normal);
        assert_eq!(c.observe(&calm, t + 200 * SEC), None);
    }

    #[test]
    fn nan_neither_raises_nor_lowers() {
        let t = Instant::now();
        let mut c = DegradationController::new(Thresholds::default(), Duration::ZERO);
        assert_eq!(c.observe(&sig(f64::NAN, 0.0, 0.0), t), None);
        let _ = c.observe(&sig(0.8, 0.0, 0.0), t);
        assert_eq!(c.level(), Level::Throttled);
        assert_eq!(c.observe(&sig(f64::NAN, 0.0, 0.0), t + SEC), None);
        assert_eq!(c.level(), Level::Throttled);
    }

    #[test]
    fn thresholds_are_validated() {
        let d = Thresholds::default();
        assert_eq!(
            Thresholds::new(d.enter[0], d.enter[1], d.enter[2], 0.8),
            Ok(d)
        );
        assert_eq!(d.enter(Signal::QueueFill, Level::Normal), 0.0);
        assert!((d.leave(Signal::FaultRate, Level::Throttled) - 4.0).abs() < 1e-12);
        let never = [f64::INFINITY; 4];
        assert!(Thresholds::new(never, never, never, 1.0).is_ok());
        assert_eq!(
            Thresholds::new(d.enter[0], [0.7, 0.0, 0.9, 0.95], d.enter[2], 0.8),
            Err(DegradationError::Threshold {
                signal: Signal::MemoryPressure,
                level: Level::Throttled,
                value: 0.0
            })
        );
        assert_eq!(
            Thresholds::new(d.enter[0], d.enter[1], [1.0, 5.0, 4.0, 100.0], 0.8),
            Err(DegradationError::Decreasing {
                signal: Signal::FaultRate,
                level: Level::Shedding,
                value: 4.0,
                previous: 5.0
            })
        );
        assert_eq!(
            Thresholds::new(d.enter[0], d.enter[1], d.enter[2], 1.5),
            Err(DegradationError::Hysteresis(1.5))
        );
        assert!(Thresholds::new(d.enter[0], d.enter[1], d.enter[2], f64::NAN).is_err());
    }

    proptest! {
        /// Whatever the signals, the level never falls below what they demand, never falls by
        /// more than one level per observation, and only falls after a full hold of calm.
        #[test]
        fn controller_follows_the_rules(
            hold_ms in 0u64..500,
            steps in prop::collection::vec((0.0f64..1.0, 0.0f64..1.0, 0.0f64..120.0, 0u64..300), 1..80),
        ) {
            let th = Thresholds::default();
            let hold = Duration::from_millis(hold_ms);
            let mut c = DegradationController::new(th, hold);
            let mut now = Instant::now();
            let mut changed_at = now;
            let mut calm_since: Option<Instant> = None;
            for (q, m, f, gap) in steps {
                now += Duration::from_millis(gap);
                let s = sig(q, m, f);
                let before = c.level();
                let (demanded, _) = th.demanded(&s);
                let calm = th.calm(&s, before);
                if calm { calm_since.get_or_insert(now); } else { calm_since = None; }
                let t = c.observe(&s, now);
                let after = c.level();
                prop_assert!(after >= demanded);
                prop_assert_eq!(t.is_some(), after != before);
                if after < before {
                    prop_assert_eq!(after, before.below());
                    let since = calm_since.unwrap();
                    prop_assert!(now.saturating_duration_since(since.max(changed_at)) >= hold);
                    prop_assert!(t.unwrap().cause.is_none());
                    calm_since = th.calm(&s, after).then_some(now);
                }
                if after > before {
                    prop_assert_eq!(after, demanded);
                    calm_since = None;
                }
                if after != before { changed_at = now; }
            }
        }
    }
}
