//! Health: liveness and readiness composed from what the runtime observes, and a watchdog for hung
//! handlers and stalled device blocks.
//!
//! - **Live** ([`Liveness::is_live`]): the persistent kernel has blocks, none has exited, and
//!   every block's heartbeat advanced in the last sampling window. A runtime that is not live
//!   needs a restart, not patience.
//! - **Ready** ([`Readiness::report`]): live, and none of: the fullest mailbox at or above the
//!   fill limit (default 0.9), [`Mitigation::RefuseSpawns`] active (memory pressure; see
//!   [`crate::budget`]), the degradation level at [`Level::Shedding`] or above (see
//!   [`crate::degradation`]). [`HealthReport::reasons`] lists every failed condition, in that
//!   order, so a probe can say why.
//! - **Watchdog** ([`Watchdog`]): a handler that has run longer than the deadline is
//!   [`Hung`]; a block whose heartbeat counter did not change across a sampling window at least as
//!   long as the deadline is stalled.
//!
//! All inputs are plain values (heartbeat counters, durations, fills); nothing here reads the
//! device or a clock.

use std::time::Duration;

use crate::budget::{Mitigation, Mitigations};
use crate::degradation::Level;
use crate::id::ActorId;

/// Block counts from the device heartbeats.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Liveness {
    /// Blocks whose heartbeat advanced in the last window.
    pub live_blocks: u32,
    /// Blocks the persistent kernel was launched with.
    pub blocks: u32,
    /// Blocks that have left the kernel's loop.
    pub exited_blocks: u32,
}

impl Liveness {
    /// Whether the kernel has blocks, none exited and all advanced.
    pub fn is_live(&self) -> bool {
        self.blocks > 0 && self.exited_blocks == 0 && self.live_blocks >= self.blocks
    }
}

/// Why the runtime is not ready.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NotReady {
    /// Not live.
    NotLive {
        /// Blocks whose heartbeat advanced.
        live: u32,
        /// Blocks launched.
        blocks: u32,
    },
    /// The fullest mailbox is at or above the limit.
    QueuesFull {
        /// Its fill, 0 to 1.
        fill: f64,
    },
    /// Spawns are refused for memory pressure.
    MemoryPressure {
        /// The pressure, 0 to 1.
        pressure: f64,
    },
    /// The degradation level sheds load.
    Degraded(Level),
}

/// What a health probe answers.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthReport {
    /// [`Liveness::is_live`].
    pub live: bool,
    /// No reason below: the runtime takes new work.
    pub ready: bool,
    /// Every failed readiness condition, in the order of the module docs.
    pub reasons: Vec<NotReady>,
}

/// What readiness is judged from, as the runtime last observed it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observed {
    /// The heartbeat counts.
    pub liveness: Liveness,
    /// Fill of the fullest mailbox, 0 to 1.
    pub max_queue_fill: f64,
    /// [`crate::budget::BudgetLedger::pressure`].
    pub memory_pressure: f64,
    /// The active memory mitigations.
    pub mitigations: Mitigations,
    /// The degradation level.
    pub level: Level,
}

/// The readiness rule's one setting.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Readiness {
    /// Mailbox fill at which the runtime is not ready (above 1: never; NaN: always).
    pub queue_fill_limit: f64,
}

impl Default for Readiness {
    /// Not ready from 90 % fill.
    fn default() -> Self {
        Readiness {
            queue_fill_limit: 0.9,
        }
    }
}

impl Readiness {
    /// Composes the report for `observed`.
    pub fn report(&self, observed: &Observed) -> HealthReport {
        let live = observed.liveness.is_live();
        let mut reasons = Vec::new();
        if !live {
            reasons.push(NotReady::NotLive {
                live: observed.liveness.live_blocks,
                blocks: observed.liveness.blocks,
            });
        }
        // Written so that a NaN fill or limit counts as full.
        let fill = observed.max_queue_fill;
        if fill.is_nan() || self.queue_fill_limit.is_nan() || fill >= self.queue_fill_limit {
            reasons.push(NotReady::QueuesFull { fill });
        }
        if observed.mitigations.contains(Mitigation::RefuseSpawns) {
            reasons.push(NotReady::MemoryPressure {
                pressure: observed.memory_pressure,
            });
        }
        if observed.level >= Level::Shedding {
            reasons.push(NotReady::Degraded(observed.level));
        }
        HealthReport {
            live,
            ready: reasons.is_empty(),
            reasons,
        }
    }
}

/// A handler that has run past the deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hung {
    /// The actor running it.
    pub actor: ActorId,
    /// How long its current handler has run.
    pub running_for: Duration,
}

/// Flags handlers and blocks that stopped making progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Watchdog {
    /// How long a handler may run, and the shortest window in which a block must beat.
    pub deadline: Duration,
}

impl Watchdog {
    /// The busy actors (with how long their current handler has run) that have run longer than
    /// the deadline, in the order given.
    pub fn check(&self, busy: &[(ActorId, Duration)]) -> Vec<Hung> {
        busy.iter()
            .filter(|(_, running_for)| *running_for > self.deadline)
            .map(|&(actor, running_for)| Hung { actor, running_for })
            .collect()
    }

    /// Indices of blocks whose heartbeat counter is the same in `prev` and `now`, two samples
    /// taken `window` apart; a block in `prev` but missing from `now` counts as stalled, one only
    /// in `now` (new) does not. A window shorter than the deadline is too short to judge: nothing
    /// is reported.
    pub fn check_heartbeats(&self, prev: &[u64], now: &[u64], window: Duration) -> Vec<usize> {
        if window < self.deadline {
            return Vec::new();
        }
        prev.iter()
            .enumerate()
            .filter(|&(i, p)| now.get(i).is_none_or(|n| n == p))
            .map(|(i, _)| i)
            .collect()
    }

    /// [`Liveness`] from two heartbeat samples `window` apart and the count of exited blocks
    /// (`blocks` is `now.len()`).
    pub fn liveness(&self, prev: &[u64], now: &[u64], window: Duration, exited: u32) -> Liveness {
        let blocks = u32::try_from(now.len()).unwrap_or(u32::MAX);
        let stalled = self
            .check_heartbeats(prev, now, window)
            .into_iter()
            .filter(|&i| i < now.len())
            .count();
        Liveness {
            live_blocks: blocks.saturating_sub(u32::try_from(stalled).unwrap_or(u32::MAX)),
            blocks,
            exited_blocks: exited,
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use proptest::prelude::{prop, prop_assert, prop_assert_eq, proptest};

    const LIVE: Liveness = Liveness {
        live_blocks: 4,
        blocks: 4,
        exited_blocks: 0,
    };

    fn observed(fill: f64, pressure: f64, level: Level) -> Observed {
        Observed {
            liveness: LIVE,
            max_queue_fill: fill,
            memory_pressure: pressure,
            mitigations: crate::budget::MemoryPolicy::default().active_at(pressure),
            level,
        }
    }

    #[test]
    fn liveness_needs_every_block() {
        assert!(LIVE.is_live());
        assert!(!Liveness::default().is_live());
        assert!(!Liveness {
            live_blocks: 3,
            ..LIVE
        }
        .is_live());
        assert!(!Liveness {
            exited_blocks: 1,
            ..LIVE
        }
        .is_live());
    }

    #[test]
    fn report_lists_every_reason_in_order() {
        let r = Readiness::default();
        let ok = r.report(&observed(0.5, 0.5, Level::Throttled));
        assert_eq!(
            ok,
            HealthReport {
                live: true,
                ready: true,
                reasons: vec![]
            }
        );
        let mut bad = observed(0.95, 0.86, Level::Critical);
        bad.liveness.live_blocks = 2;
        assert_eq!(
            r.report(&bad),
            HealthReport {
                live: false,
                ready: false,
                reasons: vec![
                    NotReady::NotLive { live: 2, blocks: 4 },
                    NotReady::QueuesFull { fill: 0.95 },
                    NotReady::MemoryPressure { pressure: 0.86 },
                    NotReady::Degraded(Level::Critical),
                ]
            }
        );
        assert!(!r.report(&observed(f64::NAN, 0.0, Level::Normal)).ready);
        assert_eq!(
            r.report(&observed(0.0, 0.0, Level::Shedding)).reasons,
            vec![NotReady::Degraded(Level::Shedding)]
        );
    }

    #[test]
    fn watchdog_flags_long_handlers() {
        let w = Watchdog {
            deadline: Duration::from_secs(1),
        };
        let (a, b) = (ActorId::from_raw(1), ActorId::from_raw(2));
        assert_eq!(
            w.check(&[
                (a, Duration::from_millis(1500)),
                (b, Duration::from_secs(1))
            ]),
            vec![Hung {
                actor: a,
                running_for: Duration::from_millis(1500)
            }]
        );
    }

    #[test]
    fn stalled_blocks_are_those_that_did_not_beat() {
        let w = Watchdog {
            deadline: Duration::from_millis(100),
        };
        let long = Duration::from_millis(150);
        assert_eq!(
            w.check_heartbeats(&[5, 9, 3, 7], &[6, 9, 4], long),
            vec![1, 3]
        );
        // Wrapping counters still count as progress; new blocks are not stalled.
        assert_eq!(
            w.check_heartbeats(&[u64::MAX], &[0, 0], long),
            Vec::<usize>::new()
        );
        assert!(w
            .check_heartbeats(&[1, 1], &[1, 1], Duration::from_millis(50))
            .is_empty());
        assert_eq!(
            w.liveness(&[1, 2, 3], &[2, 2, 4], long, 0),
            Liveness {
                live_blocks: 2,
                blocks: 3,
                exited_blocks: 0
            }
        );
        assert!(w.liveness(&[1, 2], &[2, 3], long, 0).is_live());
    }

    proptest! {
        /// Ready exactly when no reason is given; each reason appears exactly when its condition
        /// holds.
        #[test]
        fn readiness_matches_its_conditions(
            fill in 0.0f64..=1.0,
            pressure in 0.0f64..=1.0,
            level in prop::sample::select(Level::ALL.to_vec()),
            live_blocks in 0u32..5,
            exited in 0u32..2,
            limit in 0.1f64..=1.0,
        ) {
            let mut o = observed(fill, pressure, level);
            o.liveness = Liveness { live_blocks, blocks: 4, exited_blocks: exited };
            let r = Readiness { queue_fill_limit: limit }.report(&o);
            prop_assert_eq!(r.ready, r.reasons.is_empty());
            prop_assert_eq!(r.live, live_blocks == 4 && exited == 0);
            prop_assert_eq!(r.reasons.iter().any(|x| matches!(x, NotReady::NotLive { .. })), !r.live);
            prop_assert_eq!(r.reasons.iter().any(|x| matches!(x, NotReady::QueuesFull { .. })), fill >= limit);
            prop_assert_eq!(r.reasons.iter().any(|x| matches!(x, NotReady::MemoryPressure { .. })), pressure >= 0.85);
            prop_assert_eq!(r.reasons.iter().any(|x| matches!(x, NotReady::Degraded(_))), level >= Level::Shedding);
        }

        /// A block is reported stalled exactly when its counter did not change (or vanished).
        #[test]
        fn stalls_are_exactly_the_unchanged_counters(
            prev in prop::collection::vec(0u64..4, 0..16),
            now in prop::collection::vec(0u64..4, 0..16),
        ) {
            let w = Watchdog { deadline: Duration::ZERO };
            let stalled = w.check_heartbeats(&prev, &now, Duration::ZERO);
            for (i, p) in prev.iter().enumerate() {
                prop_assert_eq!(stalled.contains(&i), now.get(i).is_none() || now[i] == *p);
            }
            prop_assert!(stalled.iter().all(|&i| i < prev.len()));
        }
    }
}
