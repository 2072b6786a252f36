//! Actor lifecycle state machine.
//!
//! ```text
//! Dormant ─► Initializing ─► Active ⇄ Draining ─► Terminated
//!                 │             │         │            │
//!                 └──────► Failed ◄───────┘            │
//!                            │                         │
//!                            └─► Initializing ◄────────┘  (restart by a supervisor)
//! ```
//!
//! `Terminated` and `Failed` are final unless a supervisor restarts the actor in place (same id),
//! which goes through `Initializing` again: a failed child, or a sibling the supervisor stopped
//! for a one-for-all or rest-for-one restart. The state is one byte so the device can hold it in an actor slot;
//! [`AtomicLifecycle`] moves it with compare-and-swap so two racing transitions cannot both win.

use crate::error::CoreError;
use crate::sync::{AtomicU8, Ordering};

/// Where an actor is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum LifecycleState {
    /// Allocated, not yet started.
    Dormant = 0,
    /// Building its state.
    Initializing = 1,
    /// Processing messages.
    Active = 2,
    /// Finishing queued messages, accepting no new ones.
    Draining = 3,
    /// Stopped normally. Final.
    Terminated = 4,
    /// Stopped by a failure; a supervisor may restart it.
    Failed = 5,
}

impl LifecycleState {
    /// Whether the state machine allows `self -> to`.
    pub const fn can_transition_to(self, to: LifecycleState) -> bool {
        use LifecycleState::*;
        matches!(
            (self, to),
            (Dormant, Initializing)
                | (Initializing, Active)
                | (Initializing, Failed)
                | (Active, Draining)
                | (Active, Failed)
                | (Draining, Active)
                | (Draining, Terminated)
                | (Draining, Failed)
                | (Failed, Initializing)
                | (Terminated, Initializing)
        )
    }

    /// Checks a transition, returning the target state or a typed error.
    pub fn transition(self, to: LifecycleState) -> Result<LifecycleState, CoreError> {
        if self.can_transition_to(to) {
            Ok(to)
        } else {
            Err(CoreError::IllegalTransition { from: self, to })
        }
    }

    /// Whether the actor will process no more messages without a restart.
    pub const fn is_stopped(self) -> bool {
        matches!(self, LifecycleState::Terminated | LifecycleState::Failed)
    }

    /// Whether the actor accepts new messages.
    pub const fn accepts_messages(self) -> bool {
        matches!(self, LifecycleState::Active)
    }
}

impl TryFrom<u8> for LifecycleState {
    type Error = CoreError;

    fn try_from(v: u8) -> Result<Self, CoreError> {
        use LifecycleState::*;
        Ok(match v {
            0 => Dormant,
            1 => Initializing,
            2 => Active,
            3 => Draining,
            4 => Terminated,
            5 => Failed,
            other => return Err(CoreError::UnknownLifecycleState(other)),
        })
    }
}

/// A lifecycle state shared between threads.
#[derive(Debug)]
pub struct AtomicLifecycle(AtomicU8);

impl Default for AtomicLifecycle {
    fn default() -> Self {
        AtomicLifecycle::new(LifecycleState::Dormant)
    }
}

impl AtomicLifecycle {
    /// Starts in `state`.
    pub fn new(state: LifecycleState) -> Self {
        AtomicLifecycle(AtomicU8::new(state as u8))
    }

    /// The current state.
    pub fn load(&self) -> LifecycleState {
        // Only valid states are ever stored, so the fallback is unreachable in practice; Failed is
        // the safe reading if memory were ever corrupted.
        LifecycleState::try_from(self.0.load(Ordering::Acquire)).unwrap_or(LifecycleState::Failed)
    }

    /// Moves to `to` if the machine allows it from the current state; returns the previous state.
    ///
    /// Racing callers are serialized: each sees the state the winner left and is checked against it.
    pub fn transition(&self, to: LifecycleState) -> Result<LifecycleState, CoreError> {
        let mut cur = self.load();
        loop {
            cur.transition(to)?;
            match self
                .0
                .compare_exchange(cur as u8, to as u8, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return Ok(cur),
                Err(actual) => {
                    cur = LifecycleState::try_from(actual).unwrap_or(LifecycleState::Failed)
                }
            }
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::LifecycleState::*;
    use super::*;

    const ALL: [LifecycleState; 6] = [Dormant, Initializing, Active, Draining, Terminated, Failed];

    #[test]
    fn happy_path() {
        let s = AtomicLifecycle::default();
        for to in [Initializing, Active, Draining, Active, Draining, Terminated] {
            s.transition(to).unwrap();
        }
        assert_eq!(s.load(), Terminated);
    }

    #[test]
    fn terminated_only_restarts() {
        for to in ALL {
            assert_eq!(
                Terminated.can_transition_to(to),
                to == Initializing,
                "Terminated -> {to:?}"
            );
        }
    }

    #[test]
    fn illegal_transitions_are_typed_errors() {
        let s = AtomicLifecycle::default();
        assert_eq!(
            s.transition(Active),
            Err(CoreError::IllegalTransition {
                from: Dormant,
                to: Active
            })
        );
        assert_eq!(s.load(), Dormant);
    }

    #[test]
    fn exactly_the_documented_edges_are_allowed() {
        let allowed = ALL
            .iter()
            .flat_map(|&a| ALL.iter().map(move |&b| (a, b)))
            .filter(|&(a, b)| a.can_transition_to(b))
            .count();
        assert_eq!(allowed, 10);
        assert!(Failed.can_transition_to(Initializing));
        assert!(!Active.can_transition_to(Terminated));
    }

    #[test]
    fn byte_round_trip_and_bad_byte() {
        for s in ALL {
            assert_eq!(LifecycleState::try_from(s as u8), Ok(s));
        }
        assert_eq!(
            LifecycleState::try_from(6),
            Err(CoreError::UnknownLifecycleState(6))
        );
    }

    #[test]
    fn racing_transitions_have_one_winner() {
        use std::sync::Arc;
        for _ in 0..200 {
            let s = Arc::new(AtomicLifecycle::new(Active));
            let a = {
                let s = s.clone();
                std::thread::spawn(move || s.transition(Draining).is_ok())
            };
            let b = {
                let s = s.clone();
                std::thread::spawn(move || s.transition(Failed).is_ok())
            };
            let (a, b) = (a.join().unwrap(), b.join().unwrap());
            // Failed may follow Draining, but Draining never follows Failed.
            assert!(b, "Failed is reachable from both Active and Draining");
            assert_eq!(s.load(), Failed);
            let _ = a;
        }
    }
}
