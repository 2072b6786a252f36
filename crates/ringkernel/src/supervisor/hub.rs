//! The supervision thread: one per runtime, started by the first `supervise`. It waits on the
//! backend's event queue and hands each failure to the tree that supervises the actor (all
//! trees live behind one lock, so a decision and a handle's call never interleave). Events no
//! tree consumes are kept (bounded) for [`crate::Runtime::actor_events`].

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use ringkernel_core::events::{ActorEvent, EventQueue};
use ringkernel_core::{ActorBackend, LifecycleState};

use super::tree::Tree;
use crate::resilience::Monitor;

/// Events kept for `actor_events` before the oldest go.
const OTHER_CAPACITY: usize = 4096;

/// State shared by the thread and the handles.
#[derive(Debug)]
pub(crate) struct HubShared {
    state: Mutex<HubState>,
    /// Set by [`Hub::stop`]; every tree holds it too (rule 5 of tree.rs).
    closing: Arc<AtomicBool>,
    backend: Arc<dyn ActorBackend>,
    events: Arc<EventQueue>,
    /// Books the memory of restarted actors again.
    monitor: Arc<Monitor>,
}

#[derive(Debug, Default)]
struct HubState {
    trees: Vec<Tree>,
    other: VecDeque<ActorEvent>,
}

impl HubShared {
    fn lock(&self) -> MutexGuard<'_, HubState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The monitor sends pass through.
    pub(crate) fn monitor(&self) -> &Arc<Monitor> {
        &self.monitor
    }

    /// Runs `f` on tree `idx` under the lock.
    pub(crate) fn with_tree<R>(&self, idx: usize, f: impl FnOnce(&mut Tree) -> R) -> Option<R> {
        self.lock().trees.get_mut(idx).map(f)
    }

    fn handle(&self, state: &mut HubState, event: ActorEvent) {
        let backend = self.backend.as_ref();
        let actor = event.actor();
        let Some(tree) = state
            .trees
            .iter_mut()
            .find(|t| t.by_actor.contains_key(&actor))
        else {
            if state.other.len() == OTHER_CAPACITY {
                state.other.pop_front();
            }
            state.other.push_back(event);
            return;
        };
        match event {
            // Rule 1 of tree.rs: only a child still Failed counts.
            ActorEvent::Failed { .. }
                if backend.state_of(actor) == Some(LifecycleState::Failed) =>
            {
                tree.on_actor_failed(backend, actor)
            }
            ActorEvent::Restarted { error, .. } => tree.on_in_place_restart(actor, error),
            _ => {}
        }
        for id in tree.restarted.drain(..) {
            self.monitor.restarted(id);
        }
    }
}

/// The thread and its shared state.
#[derive(Debug)]
pub(crate) struct Hub {
    shared: Arc<HubShared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Hub {
    /// Starts the thread on `backend`'s events; `None` if the backend raises none.
    pub(crate) fn start(
        backend: Arc<dyn ActorBackend>,
        monitor: Arc<Monitor>,
    ) -> Result<Option<Hub>, std::io::Error> {
        let Some(events) = backend.events() else {
            return Ok(None);
        };
        let shared = Arc::new(HubShared {
            state: Mutex::default(),
            closing: Arc::new(AtomicBool::new(false)),
            backend,
            events,
            monitor,
        });
        let s = shared.clone();
        let thread = std::thread::Builder::new()
            .name("ringkernel-supervision".into())
            .spawn(move || {
                while !s.closing.load(Ordering::Acquire) {
                    let events = s.events.wait(Duration::from_millis(20));
                    if events.is_empty() {
                        continue;
                    }
                    let mut state = s.lock();
                    for e in events {
                        s.handle(&mut state, e);
                    }
                }
            })?;
        Ok(Some(Hub {
            shared,
            thread: Mutex::new(Some(thread)),
        }))
    }

    pub(crate) fn shared(&self) -> &Arc<HubShared> {
        &self.shared
    }

    /// Adds a built tree; returns its index.
    pub(crate) fn add(&self, mut tree: Tree) -> usize {
        tree.closing = self.shared.closing.clone();
        let mut state = self.shared.lock();
        state.trees.push(tree);
        state.trees.len() - 1
    }

    /// Events of actors outside every tree, oldest first.
    pub(crate) fn take_other(&self) -> Vec<ActorEvent> {
        let mut state = self.shared.lock();
        // Events still in the queue are not lost: the thread routes them on its next turn.
        state.other.drain(..).collect()
    }

    /// Stops the thread (before the backend shuts down: no restart races the shutdown).
    pub(crate) fn stop(&self) {
        self.shared.closing.store(true, Ordering::Release);
        let handle = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(h) = handle {
            if h.join().is_err() {
                tracing::error!("supervision thread panicked");
            }
        }
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        self.stop();
    }
}
