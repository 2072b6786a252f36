//! Lifecycle events a backend raises for its actors, for supervisors and operators.
//!
//! A backend pushes an [`ActorEvent`] when an actor fails, is restarted in place by its own
//! restart policy ([`SpawnOptions::restart`]), terminates after a stop, or is found hung by a
//! watchdog. Events go into one [`EventQueue`] per runtime, in the order the backend learned of
//! them (for a GPU: the order the notices left the device). The queue is bounded: when it is full
//! the oldest event is discarded and counted ([`EventQueue::discarded`]), so a runtime nobody
//! supervises never grows without bound, and a consumer can tell that it missed some.
//!
//! [`SpawnOptions::restart`]: crate::backend::SpawnOptions::restart

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::actor::HandlerError;
use crate::id::ActorId;

/// Something that happened to an actor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActorEvent {
    /// A handler failed and the actor is now `Failed` (its restart policy, if any, is spent).
    Failed {
        /// The actor.
        actor: ActorId,
        /// The handler's error.
        error: HandlerError,
    },
    /// A handler failed and the backend restarted the actor in place, by its restart policy: it
    /// is `Active` again with its initial state, and takes the messages queued behind the one
    /// that failed.
    Restarted {
        /// The actor.
        actor: ActorId,
        /// The handler's error.
        error: HandlerError,
    },
    /// The actor terminated after a stop.
    Terminated {
        /// The actor.
        actor: ActorId,
    },
    /// A watchdog found the actor's handler running past its deadline.
    Hung {
        /// The actor.
        actor: ActorId,
        /// How long the handler had been running when it was found.
        running_for: Duration,
    },
}

impl ActorEvent {
    /// The actor the event is about.
    pub fn actor(&self) -> ActorId {
        match *self {
            ActorEvent::Failed { actor, .. }
            | ActorEvent::Restarted { actor, .. }
            | ActorEvent::Terminated { actor }
            | ActorEvent::Hung { actor, .. } => actor,
        }
    }
}

/// Events held by default before the oldest is discarded.
pub const DEFAULT_EVENT_CAPACITY: usize = 65_536;

/// A bounded multi-producer queue of [`ActorEvent`]s with a blocking wait.
#[derive(Debug)]
pub struct EventQueue {
    inner: Mutex<Inner>,
    ready: Condvar,
    capacity: usize,
}

#[derive(Debug, Default)]
struct Inner {
    events: VecDeque<ActorEvent>,
    discarded: u64,
    failures: u64,
}

impl Default for EventQueue {
    fn default() -> Self {
        EventQueue::new(DEFAULT_EVENT_CAPACITY)
    }
}

impl EventQueue {
    /// A queue holding at most `capacity` events (at least one).
    pub fn new(capacity: usize) -> Self {
        EventQueue {
            inner: Mutex::new(Inner::default()),
            ready: Condvar::new(),
            capacity: capacity.max(1),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Appends an event (discarding the oldest if full) and wakes a waiter.
    pub fn push(&self, event: ActorEvent) {
        let mut inner = self.lock();
        if matches!(
            event,
            ActorEvent::Failed { .. } | ActorEvent::Restarted { .. }
        ) {
            inner.failures += 1;
        }
        if inner.events.len() == self.capacity {
            inner.events.pop_front();
            inner.discarded += 1;
        }
        inner.events.push_back(event);
        drop(inner);
        self.ready.notify_all();
    }

    /// Takes every queued event, oldest first.
    pub fn drain(&self) -> Vec<ActorEvent> {
        self.lock().events.drain(..).collect()
    }

    /// Takes every queued event, waiting up to `timeout` for the first one.
    pub fn wait(&self, timeout: Duration) -> Vec<ActorEvent> {
        let until = crate::deadline_after(timeout);
        let mut inner = self.lock();
        while inner.events.is_empty() {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Vec::new();
            }
            inner = match self.ready.wait_timeout(inner, left) {
                Ok((guard, _)) => guard,
                Err(e) => e.into_inner().0,
            };
        }
        inner.events.drain(..).collect()
    }

    /// Events discarded because the queue was full.
    pub fn discarded(&self) -> u64 {
        self.lock().discarded
    }

    /// Handler failures pushed so far ([`ActorEvent::Failed`] and [`ActorEvent::Restarted`]),
    /// drained or not: the input of a fault rate.
    pub fn failures(&self) -> u64 {
        self.lock().failures
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn failed(n: u32) -> ActorEvent {
        ActorEvent::Failed {
            actor: ActorId::from_raw(n),
            error: HandlerError(1),
        }
    }

    #[test]
    fn keeps_order_and_counts_failures() {
        let q = EventQueue::new(8);
        q.push(failed(1));
        q.push(ActorEvent::Terminated {
            actor: ActorId::from_raw(2),
        });
        q.push(failed(3));
        let got = q.drain();
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].actor(), ActorId::from_raw(1));
        assert_eq!(got[2].actor(), ActorId::from_raw(3));
        assert_eq!(q.failures(), 2);
        assert!(q.drain().is_empty());
    }

    #[test]
    fn full_queue_discards_the_oldest_and_says_so() {
        let q = EventQueue::new(2);
        for n in 0..5 {
            q.push(failed(n));
        }
        let got = q.drain();
        assert_eq!(got, vec![failed(3), failed(4)]);
        assert_eq!(q.discarded(), 3);
    }

    #[test]
    fn wait_returns_on_push_and_times_out_when_empty() {
        let q = std::sync::Arc::new(EventQueue::default());
        assert!(q.wait(Duration::from_millis(10)).is_empty());
        let q2 = q.clone();
        let t = std::thread::spawn(move || q2.wait(Duration::from_secs(10)));
        std::thread::sleep(Duration::from_millis(20));
        q.push(failed(7));
        let got = t.join().unwrap();
        assert_eq!(got, vec![failed(7)]);
    }
}
