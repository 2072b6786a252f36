//! A running supervision tree: its nodes, who supervises which actor, and how a decision of
//! [`ringkernel_core::supervision::Supervisor`] is carried out on the backend.
//!
//! Rules (the contract of [`crate::supervisor`]):
//! 1. Only a child that is `Failed` when its event is handled counts as failed: an event for an
//!    actor a group restart already brought back is stale and ignored.
//! 2. Stopping a child: an actor gets `stop` (it finishes what is queued, then terminates) and
//!    the tree waits up to [`STOP_WAIT`] for `Terminated` (or `Failed`); a nested supervisor stops
//!    its children in reverse start order.
//! 3. Starting a child: an actor is restarted in place with its initial state (same id); a
//!    nested supervisor starts its children in start order with fresh restart bookkeeping.
//! 4. Escalation stops the supervisor's other children and fails the supervisor: its parent
//!    handles that as a failure of the child at the supervisor's position. The root escalating
//!    means the tree gave up; its actors stay stopped.
//! 5. Once the runtime begins to shut down, a restart under way is abandoned: a stop it waits
//!    for and the starts still to come are recorded as failed, and the backend's shutdown
//!    stops those actors. So the shutdown's deadline is not held up by rule 2's waits.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ringkernel_core::supervision::{Decision, Supervisor};
use ringkernel_core::{ActorBackend, ActorId, HandlerError, LifecycleState, SpawnOptions};

use super::spec::{ChildSpec, SupervisorSpec};
use super::SupervisionEvent;
use crate::error::Error;

/// Spawns one actor child: (type, type name, initial state, options) -> id.
pub(crate) type SpawnFn<'a> =
    dyn FnMut(std::any::TypeId, &'static str, &[u8], &SpawnOptions) -> Result<ActorId, Error> + 'a;

/// How long a stop may take before the tree moves on (and records it).
pub(crate) const STOP_WAIT: Duration = Duration::from_secs(5);
/// Log entries a tree keeps (the oldest go first).
const LOG_CAPACITY: usize = 1024;

/// One supervisor of the tree.
#[derive(Debug)]
pub(crate) struct Node {
    pub(crate) path: String,
    pub(crate) sup: Supervisor,
    pub(crate) children: Vec<Child>,
    /// (parent node, position among its children); `None` for the root.
    pub(crate) parent: Option<(usize, usize)>,
}

/// A child as it runs.
#[derive(Debug)]
pub(crate) enum Child {
    Actor {
        path: String,
        id: ActorId,
        type_id: std::any::TypeId,
        type_name: &'static str,
        state: Vec<u8>,
    },
    Node(usize),
}

/// A whole tree.
#[derive(Debug, Default)]
pub(crate) struct Tree {
    pub(crate) nodes: Vec<Node>,
    /// Actor -> (node, position).
    pub(crate) by_actor: HashMap<ActorId, (usize, usize)>,
    pub(crate) log: VecDeque<SupervisionEvent>,
    /// Set by [`Tree::stop_all`] and when the root gives up: failures are not handled any more.
    pub(crate) down: bool,
    /// Actors restarted since the hub last looked (it books their memory again).
    pub(crate) restarted: Vec<ActorId>,
    /// Set when the runtime begins to shut down (rule 5; the hub shares its flag).
    pub(crate) closing: Arc<AtomicBool>,
}

impl Tree {
    /// Builds the tree of `spec`, spawning its actors depth first in start order. On an error
    /// the actors spawned so far are stopped.
    pub(crate) fn build(
        spec: SupervisorSpec,
        backend: &dyn ActorBackend,
        spawn: &mut SpawnFn<'_>,
    ) -> Result<Tree, Error> {
        let mut tree = Tree::default();
        if let Err(e) = tree.add_node(spec, String::new(), None, spawn) {
            for &id in tree.by_actor.keys() {
                let _ = stop_actor(backend, id, &tree.closing);
            }
            return Err(e);
        }
        Ok(tree)
    }

    fn add_node(
        &mut self,
        spec: SupervisorSpec,
        path: String,
        parent: Option<(usize, usize)>,
        spawn: &mut SpawnFn<'_>,
    ) -> Result<usize, Error> {
        let sup = Supervisor::new(spec.strategy, spec.intensity, spec.children.len())?;
        let node = self.nodes.len();
        self.nodes.push(Node {
            path: path.clone(),
            sup,
            children: Vec::with_capacity(spec.children.len()),
            parent,
        });
        let mut names = std::collections::HashSet::new();
        for (position, (name, child)) in spec.children.into_iter().enumerate() {
            if name.is_empty() || name.contains('/') {
                return Err(Error::InvalidChildName {
                    name,
                    reason: "a child name is non-empty and has no '/'",
                });
            }
            let child_path = if path.is_empty() {
                name.clone()
            } else {
                format!("{path}/{name}")
            };
            if !names.insert(name) {
                return Err(Error::InvalidChildName {
                    name: child_path,
                    reason: "two siblings have this name",
                });
            }
            let child = match child {
                ChildSpec::Actor {
                    type_id,
                    type_name,
                    state,
                    options,
                } => {
                    let id = spawn(type_id, type_name, &state, &options)?;
                    self.by_actor.insert(id, (node, position));
                    Child::Actor {
                        path: child_path,
                        id,
                        type_id,
                        type_name,
                        state,
                    }
                }
                ChildSpec::Supervisor(sub) => {
                    let n = self.add_node(sub, child_path, Some((node, position)), spawn)?;
                    Child::Node(n)
                }
            };
            self.nodes[node].children.push(child);
        }
        Ok(node)
    }

    pub(crate) fn record(&mut self, event: SupervisionEvent) {
        tracing::info!(?event, "supervision");
        if self.log.len() == LOG_CAPACITY {
            self.log.pop_front();
        }
        self.log.push_back(event);
    }

    fn child_path(&self, node: usize, child: usize) -> String {
        match &self.nodes[node].children[child] {
            Child::Actor { path, .. } => path.clone(),
            Child::Node(n) => self.nodes[*n].path.clone(),
        }
    }

    /// A backend event said `actor` failed: decide and act (rule 1 checked by the caller).
    pub(crate) fn on_actor_failed(&mut self, backend: &dyn ActorBackend, actor: ActorId) {
        if self.down {
            return;
        }
        if let Some(&(node, child)) = self.by_actor.get(&actor) {
            self.on_failure(backend, node, child);
        }
    }

    /// The backend restarted `actor` in place by its own policy.
    pub(crate) fn on_in_place_restart(&mut self, actor: ActorId, error: HandlerError) {
        if let Some(&(node, child)) = self.by_actor.get(&actor) {
            let child = self.child_path(node, child);
            self.record(SupervisionEvent::RestartedInPlace { child, error });
        }
    }

    fn on_failure(&mut self, backend: &dyn ActorBackend, node: usize, child: usize) {
        let now = Instant::now();
        let failed = self.child_path(node, child);
        let decision = match self.nodes[node].sup.on_failure(child, now) {
            Ok(d) => d,
            Err(e) => {
                // The tree was built with these children: an out-of-range child is a bug here.
                tracing::error!(%e, "supervision bookkeeping out of step");
                return;
            }
        };
        match decision {
            Decision::Restart { stop, start } => {
                for c in stop {
                    self.stop_child(backend, node, c);
                }
                let mut restarted = Vec::with_capacity(start.len());
                for c in start {
                    self.start_child(backend, node, c);
                    restarted.push(self.child_path(node, c));
                }
                let supervisor = self.nodes[node].path.clone();
                self.record(SupervisionEvent::Restarted {
                    supervisor,
                    failed,
                    restarted,
                });
            }
            Decision::Escalate { stop } => {
                for c in stop {
                    self.stop_child(backend, node, c);
                }
                let supervisor = self.nodes[node].path.clone();
                self.record(SupervisionEvent::Escalated { supervisor, failed });
                match self.nodes[node].parent {
                    Some((parent, position)) => self.on_failure(backend, parent, position),
                    None => {
                        self.down = true;
                        self.record(SupervisionEvent::GaveUp);
                    }
                }
            }
        }
    }

    /// Rule 2.
    pub(crate) fn stop_child(&mut self, backend: &dyn ActorBackend, node: usize, child: usize) {
        match &self.nodes[node].children[child] {
            Child::Actor { id, path, .. } => {
                let (id, path) = (*id, path.clone());
                if let Err(why) = stop_actor(backend, id, &self.closing) {
                    self.record(SupervisionEvent::StopFailed { child: path, why });
                }
            }
            Child::Node(n) => {
                let n = *n;
                for c in self.nodes[n].sup.stop_order() {
                    self.stop_child(backend, n, c);
                }
            }
        }
    }

    /// Rule 3.
    fn start_child(&mut self, backend: &dyn ActorBackend, node: usize, child: usize) {
        match &self.nodes[node].children[child] {
            Child::Actor {
                id, state, path, ..
            } => {
                let (id, path) = (*id, path.clone());
                if self.closing.load(Ordering::Acquire) {
                    let why = "abandoned: the runtime began to shut down".to_owned();
                    self.record(SupervisionEvent::RestartFailed { child: path, why });
                    return;
                }
                // A child that is somehow still running (it ignored rule 2's deadline) is
                // stopped first: only a stopped actor restarts.
                let result = match backend.state_of(id) {
                    Some(LifecycleState::Active | LifecycleState::Draining) => {
                        stop_actor(backend, id, &self.closing)
                            .and_then(|()| restart(backend, id, state))
                    }
                    _ => restart(backend, id, state),
                };
                match result {
                    Ok(()) => self.restarted.push(id),
                    Err(why) => self.record(SupervisionEvent::RestartFailed { child: path, why }),
                }
            }
            Child::Node(n) => {
                let n = *n;
                let node = &mut self.nodes[n];
                match Supervisor::new(
                    node.sup.strategy(),
                    node.sup.intensity(),
                    node.children.len(),
                ) {
                    Ok(fresh) => node.sup = fresh,
                    Err(e) => tracing::error!(%e, "supervisor bookkeeping could not be reset"),
                }
                for c in 0..self.nodes[n].children.len() {
                    self.start_child(backend, n, c);
                }
            }
        }
    }

    /// Stops every actor of the tree (reverse start order), and handles no failure afterwards.
    pub(crate) fn stop_all(&mut self, backend: &dyn ActorBackend) {
        self.down = true;
        if self.nodes.is_empty() {
            return;
        }
        for c in self.nodes[0].sup.stop_order() {
            self.stop_child(backend, 0, c);
        }
    }
}

fn restart(backend: &dyn ActorBackend, id: ActorId, state: &[u8]) -> Result<(), String> {
    backend.restart(id, state).map_err(|e| e.to_string())
}

/// Stops `id` and waits for it to be down (rule 2), or until `closing` is set (rule 5).
pub(crate) fn stop_actor(
    backend: &dyn ActorBackend,
    id: ActorId,
    closing: &AtomicBool,
) -> Result<(), String> {
    match backend.state_of(id) {
        Some(LifecycleState::Terminated | LifecycleState::Failed) => return Ok(()),
        None => return Err(format!("{id} is not an actor of this runtime")),
        _ => {}
    }
    // Already draining, or stopped by someone else meanwhile: just wait.
    let _ = backend.stop(id);
    let until = Instant::now() + STOP_WAIT;
    let mut pause = Duration::from_micros(20);
    loop {
        match backend.state_of(id) {
            Some(LifecycleState::Terminated | LifecycleState::Failed) => return Ok(()),
            _ if Instant::now() >= until => {
                return Err(format!("{id} did not stop within {STOP_WAIT:?}"))
            }
            _ if closing.load(Ordering::Acquire) => {
                return Err(format!(
                    "{id} had not stopped when the runtime began to shut down"
                ))
            }
            _ => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(1));
            }
        }
    }
}
