//! Supervision decisions with Erlang/OTP semantics, independent of any backend: given a
//! supervisor's children (in start order), its strategy and its restart intensity, what to do
//! when a child fails.
//!
//! - [`Strategy::OneForOne`]: restart the failed child only.
//! - [`Strategy::OneForAll`]: stop every other child (reverse start order), restart all.
//! - [`Strategy::RestForOne`]: stop the children started after the failed one (reverse order),
//!   restart the failed one and those.
//! - **Intensity** (OTP's `intensity`/`period`, default 1 restart in 5 s): a failure that would
//!   make more than `max_restarts` restarts within the last `period` is not restarted; the
//!   supervisor [escalates](Decision::Escalate): it stops all its children and fails itself,
//!   which its own parent then treats as a child failure ([`Supervisor::on_failure`] again, one
//!   level up). A subtree is stopped in [`Supervisor::stop_order`].
//!
//! Backends carry the decisions out (restart in place on the device, or respawn); this module
//! only decides, so every rule is testable without a runtime.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::error::CoreError;

/// Which children restart when one fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Only the failed child.
    OneForOne,
    /// Every child.
    OneForAll,
    /// The failed child and every child started after it.
    RestForOne,
}

/// At most `max_restarts` restarts within any `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Intensity {
    /// Restarts allowed in a window (0: every failure escalates).
    pub max_restarts: u32,
    /// The window.
    pub period: Duration,
}

impl Default for Intensity {
    /// OTP's default: one restart in five seconds.
    fn default() -> Self {
        Intensity {
            max_restarts: 1,
            period: Duration::from_secs(5),
        }
    }
}

/// What a supervisor does about a failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Stop `stop` (in that order: reverse start order; the failed child, already down, is not
    /// in it), then start `start` (in start order; it includes the failed child).
    Restart {
        /// Children to stop first.
        stop: Vec<usize>,
        /// Children to start again.
        start: Vec<usize>,
    },
    /// The intensity is exceeded: stop every child (in `stop`, reverse start order, without the
    /// failed one) and fail this supervisor.
    Escalate {
        /// Children to stop.
        stop: Vec<usize>,
    },
}

/// One supervisor's bookkeeping.
#[derive(Debug, Clone)]
pub struct Supervisor {
    strategy: Strategy,
    intensity: Intensity,
    children: usize,
    /// When the restarts inside the current window happened, oldest first.
    restarts: VecDeque<Instant>,
}

impl Supervisor {
    /// A supervisor of `children` children, started in index order.
    pub fn new(
        strategy: Strategy,
        intensity: Intensity,
        children: usize,
    ) -> Result<Self, CoreError> {
        if intensity.period.is_zero() {
            return Err(CoreError::ZeroRestartPeriod);
        }
        Ok(Supervisor {
            strategy,
            intensity,
            children,
            restarts: VecDeque::new(),
        })
    }

    /// The strategy.
    pub fn strategy(&self) -> Strategy {
        self.strategy
    }

    /// The restart intensity.
    pub fn intensity(&self) -> Intensity {
        self.intensity
    }

    /// Children, in start order.
    pub fn children(&self) -> usize {
        self.children
    }

    /// Restarts counted in the window ending at `now`.
    pub fn recent_restarts(&mut self, now: Instant) -> usize {
        self.forget_before(now);
        self.restarts.len()
    }

    /// The order in which to stop the whole subtree: reverse start order.
    pub fn stop_order(&self) -> Vec<usize> {
        (0..self.children).rev().collect()
    }

    /// Decides what to do about child `child` failing at `now` (and counts the restart).
    pub fn on_failure(&mut self, child: usize, now: Instant) -> Result<Decision, CoreError> {
        if child >= self.children {
            return Err(CoreError::UnknownChild {
                child,
                children: self.children,
            });
        }
        self.forget_before(now);
        let others_reverse = |from: usize| (from..self.children).rev().filter(move |&c| c != child);
        if self.restarts.len() >= self.intensity.max_restarts as usize {
            return Ok(Decision::Escalate {
                stop: others_reverse(0).collect(),
            });
        }
        self.restarts.push_back(now);
        let (stop, start) = match self.strategy {
            Strategy::OneForOne => (Vec::new(), vec![child]),
            Strategy::OneForAll => (others_reverse(0).collect(), (0..self.children).collect()),
            Strategy::RestForOne => (
                others_reverse(child).collect(),
                (child..self.children).collect(),
            ),
        };
        Ok(Decision::Restart { stop, start })
    }

    /// Drops restarts older than one period before `now`.
    fn forget_before(&mut self, now: Instant) {
        while let Some(&t) = self.restarts.front() {
            if now.saturating_duration_since(t) >= self.intensity.period {
                self.restarts.pop_front();
            } else {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::{prop, prop_assert, prop_assert_eq, proptest};

    fn sup(strategy: Strategy, max: u32, secs: u64, children: usize) -> Supervisor {
        Supervisor::new(
            strategy,
            Intensity {
                max_restarts: max,
                period: Duration::from_secs(secs),
            },
            children,
        )
        .unwrap()
    }

    #[test]
    fn strategies_pick_their_children_and_orders() {
        let t = Instant::now();
        let mut s = sup(Strategy::OneForOne, 10, 5, 4);
        assert_eq!(
            s.on_failure(2, t).unwrap(),
            Decision::Restart {
                stop: vec![],
                start: vec![2]
            }
        );
        let mut s = sup(Strategy::OneForAll, 10, 5, 4);
        assert_eq!(
            s.on_failure(2, t).unwrap(),
            Decision::Restart {
                stop: vec![3, 1, 0],
                start: vec![0, 1, 2, 3]
            }
        );
        let mut s = sup(Strategy::RestForOne, 10, 5, 4);
        assert_eq!(
            s.on_failure(1, t).unwrap(),
            Decision::Restart {
                stop: vec![3, 2],
                start: vec![1, 2, 3]
            }
        );
        assert_eq!(s.stop_order(), vec![3, 2, 1, 0]);
    }

    #[test]
    fn otp_default_allows_one_restart_in_five_seconds() {
        let t = Instant::now();
        let mut s = Supervisor::new(Strategy::OneForOne, Intensity::default(), 3).unwrap();
        assert!(matches!(
            s.on_failure(0, t).unwrap(),
            Decision::Restart { .. }
        ));
        // A second failure within 5 s exceeds the intensity.
        assert_eq!(
            s.on_failure(1, t + Duration::from_secs(4)).unwrap(),
            Decision::Escalate { stop: vec![2, 0] }
        );
        // After the window, a restart is allowed again.
        assert!(matches!(
            s.on_failure(1, t + Duration::from_secs(5)).unwrap(),
            Decision::Restart { .. }
        ));
        assert_eq!(s.recent_restarts(t + Duration::from_secs(6)), 1);
    }

    #[test]
    fn zero_intensity_escalates_at_once_and_bad_input_is_typed() {
        let mut s = sup(Strategy::OneForAll, 0, 1, 2);
        assert_eq!(
            s.on_failure(0, Instant::now()).unwrap(),
            Decision::Escalate { stop: vec![1] }
        );
        assert_eq!(
            s.on_failure(2, Instant::now()),
            Err(CoreError::UnknownChild {
                child: 2,
                children: 2
            })
        );
        assert_eq!(
            Supervisor::new(
                Strategy::OneForOne,
                Intensity {
                    max_restarts: 1,
                    period: Duration::ZERO
                },
                1
            )
            .unwrap_err(),
            CoreError::ZeroRestartPeriod
        );
    }

    #[test]
    fn escalation_becomes_a_failure_one_level_up() {
        // root (one_for_one) supervises [worker, sub]; sub (one_for_all) supervises 2 workers.
        let t = Instant::now();
        let mut root = sup(Strategy::OneForOne, 3, 10, 2);
        let mut sub = sup(Strategy::OneForAll, 1, 10, 2);
        assert!(matches!(
            sub.on_failure(0, t).unwrap(),
            Decision::Restart { .. }
        ));
        let d = sub.on_failure(1, t + Duration::from_secs(1)).unwrap();
        assert_eq!(d, Decision::Escalate { stop: vec![0] });
        // The root restarts the sub-supervisor (child 1) alone: its whole subtree starts anew.
        assert_eq!(
            root.on_failure(1, t + Duration::from_secs(1)).unwrap(),
            Decision::Restart {
                stop: vec![],
                start: vec![1]
            }
        );
    }

    proptest! {
        /// However failures arrive, no window of one period holds more restarts than allowed,
        /// and every restart decision restarts the failed child.
        #[test]
        fn restarts_never_exceed_the_intensity(
            max in 0u32..4,
            period_ms in 1u64..1000,
            events in prop::collection::vec((0usize..4, 0u64..400), 1..60),
            strategy in prop::sample::select(vec![Strategy::OneForOne, Strategy::OneForAll, Strategy::RestForOne]),
        ) {
            let start = Instant::now();
            let mut s = Supervisor::new(strategy, Intensity { max_restarts: max, period: Duration::from_millis(period_ms) }, 4).unwrap();
            let mut now = start;
            let mut restarted: Vec<Instant> = Vec::new();
            for (child, gap) in events {
                now += Duration::from_millis(gap);
                match s.on_failure(child, now).unwrap() {
                    Decision::Restart { stop, start: st } => {
                        prop_assert!(st.contains(&child));
                        prop_assert!(!stop.contains(&child));
                        prop_assert!(st.windows(2).all(|w| w[0] < w[1]));
                        prop_assert!(stop.windows(2).all(|w| w[0] > w[1]));
                        restarted.push(now);
                    }
                    Decision::Escalate { stop } => {
                        prop_assert!(!stop.contains(&child));
                        prop_assert_eq!(stop.len(), 3);
                    }
                }
                let window = restarted.iter().filter(|&&t| now.saturating_duration_since(t) < Duration::from_millis(period_ms)).count();
                prop_assert!(window <= max as usize);
            }
        }
    }
}
