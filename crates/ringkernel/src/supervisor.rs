//! Supervision trees on a running runtime, with Erlang/OTP strategies.
//!
//! [`Runtime::supervise`](crate::Runtime::supervise) spawns a [`SupervisorSpec`]'s actors
//! (depth first, in start order) and returns a [`Supervision`] handle. From then on the
//! runtime's supervision thread takes the backend's lifecycle events
//! ([`ActorEvent`](crate::ActorEvent)) and carries out the decisions of
//! [`ringkernel_core::supervision::Supervisor`] on the actors:
//!
//! - **Two levels of restart.** An actor spawned with a restart policy
//!   ([`SpawnOptions::restart`](ringkernel_core::SpawnOptions)) is first restarted in place by
//!   the backend itself — on the GPU inside the persistent kernel, without a host round trip —
//!   and the tree only logs it ([`SupervisionEvent::RestartedInPlace`]). A failure beyond that
//!   policy (or of an actor without one) leaves the actor `Failed`, and its supervisor decides.
//! - **Strategies.** `OneForOne` restarts the failed child; `OneForAll` stops the other
//!   children (reverse start order) and restarts all; `RestForOne` stops and restarts the
//!   children started after the failed one, and it. A restart keeps the actor's id (and so every
//!   `ActorRef` and registry name) and gives it its initial state; messages queued before the
//!   restart are dropped (asks complete with `Dropped`).
//! - **Intensity.** More than `max_restarts` restarts within `period` (default 1 in 5 s)
//!   escalate: the supervisor stops its children and fails; its parent handles that as a
//!   failure of that child (a nested supervisor's restart restarts its whole subtree). When the
//!   root escalates, the tree gives up ([`SupervisionEvent::GaveUp`]) and stays down.
//! - **Transient children.** Only failures restart; an actor stopped on purpose stays stopped.
//! - **Killing a subtree.** [`Supervision::stop`] and [`Supervision::stop_subtree`].
//! - **Shutdown.** A restart under way when the runtime begins to shut down is cut short: the
//!   stop it waits for and the starts still to come are logged as
//!   [`SupervisionEvent::StopFailed`] / [`SupervisionEvent::RestartFailed`], and the backend's
//!   shutdown stops those actors within its own deadline.
//!
//! Children are named; paths join the names with `/` (`"scorers/a"`). Supervision runs on the
//! host (the decisions involve several actors and a clock), while the restarts themselves happen
//! inside the running backend: on CUDA a restart is a state write and a START in the same block,
//! never a kernel relaunch.

mod hub;
mod spec;
mod tree;

pub use spec::SupervisorSpec;

pub(crate) use hub::Hub;
pub(crate) use tree::Tree;

/// Builds a tree (see [`Tree::build`]).
pub(crate) fn tree_build(
    spec: SupervisorSpec,
    backend: &dyn ActorBackend,
    spawn: &mut tree::SpawnFn<'_>,
) -> Result<Tree, Error> {
    Tree::build(spec, backend, spawn)
}

use std::sync::Arc;

use ringkernel_core::{Actor, ActorBackend, ActorId, HandlerError};

use crate::actor_ref::ActorRef;
use crate::error::Error;
use crate::registry::Registry;
use tree::Child;

/// What a supervision tree did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SupervisionEvent {
    /// The backend restarted a child in place by its restart policy.
    RestartedInPlace {
        /// The child's path.
        child: String,
        /// The handler's error.
        error: HandlerError,
    },
    /// A supervisor restarted children after `failed` failed.
    Restarted {
        /// The supervisor's path (`""` for the root).
        supervisor: String,
        /// The child that failed.
        failed: String,
        /// The children restarted, in start order.
        restarted: Vec<String>,
    },
    /// A supervisor's intensity was exceeded: it stopped its children and failed.
    Escalated {
        /// The supervisor's path.
        supervisor: String,
        /// The child whose failure exceeded it.
        failed: String,
    },
    /// The root escalated: the tree is down.
    GaveUp,
    /// A child did not stop in time (it is restarted anyway if it stops later).
    StopFailed {
        /// The child's path.
        child: String,
        /// Why.
        why: String,
    },
    /// A restart was refused by the backend.
    RestartFailed {
        /// The child's path.
        child: String,
        /// The backend's error.
        why: String,
    },
}

/// A handle to a running supervision tree. Dropping it does not stop the tree (see
/// [`Supervision::stop`]).
#[derive(Debug, Clone)]
pub struct Supervision {
    hub: Arc<hub::HubShared>,
    tree: usize,
    backend: Arc<dyn ActorBackend>,
    ask_timeout: std::time::Duration,
    registry: Arc<Registry>,
}

impl Supervision {
    pub(crate) fn new(
        hub: Arc<hub::HubShared>,
        tree: usize,
        backend: Arc<dyn ActorBackend>,
        ask_timeout: std::time::Duration,
        registry: Arc<Registry>,
    ) -> Self {
        Supervision {
            hub,
            tree,
            backend,
            ask_timeout,
            registry,
        }
    }

    /// The id of the actor at `path` (e.g. `"scorers/a"`).
    pub fn id(&self, path: &str) -> Result<ActorId, Error> {
        self.hub
            .with_tree(self.tree, |t| {
                t.nodes
                    .iter()
                    .flat_map(|n| &n.children)
                    .find_map(|c| match c {
                        Child::Actor { path: p, id, .. } if p == path => Some(*id),
                        _ => None,
                    })
            })
            .flatten()
            .ok_or_else(|| Error::UnknownChild(path.to_owned()))
    }

    /// A typed handle to the actor at `path`.
    pub fn actor<A: Actor>(&self, path: &str) -> Result<ActorRef<A>, Error> {
        let found = self
            .hub
            .with_tree(self.tree, |t| {
                t.nodes
                    .iter()
                    .flat_map(|n| &n.children)
                    .find_map(|c| match c {
                        Child::Actor {
                            path: p,
                            id,
                            type_id,
                            type_name,
                            ..
                        } if p == path => Some((*id, *type_id, *type_name)),
                        _ => None,
                    })
            })
            .flatten();
        let (id, type_id, type_name) = found.ok_or_else(|| Error::UnknownChild(path.to_owned()))?;
        if type_id != std::any::TypeId::of::<A>() {
            return Err(Error::ChildTypeMismatch {
                path: path.to_owned(),
                expected: A::NAME,
                found: type_name,
            });
        }
        Ok(ActorRef::new(
            self.backend.clone(),
            id,
            self.ask_timeout,
            self.registry.clone(),
            self.hub.monitor().clone(),
        ))
    }

    /// Every actor of the tree with its path, in start order (depth first).
    pub fn actors(&self) -> Vec<(String, ActorId)> {
        self.hub
            .with_tree(self.tree, |t| {
                let mut out = Vec::new();
                collect(t, 0, &mut out);
                out
            })
            .unwrap_or_default()
    }

    /// What the tree did so far, oldest first (the newest 1024 entries).
    pub fn log(&self) -> Vec<SupervisionEvent> {
        self.hub
            .with_tree(self.tree, |t| t.log.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Whether the tree still supervises (not stopped, not given up).
    pub fn is_running(&self) -> bool {
        self.hub.with_tree(self.tree, |t| !t.down).unwrap_or(false)
    }

    /// Kills the whole tree: stops every actor (reverse start order, each finishing what is
    /// queued) and supervises no more.
    pub fn stop(&self) {
        let backend = self.backend.clone();
        self.hub
            .with_tree(self.tree, |t| t.stop_all(backend.as_ref()));
    }

    /// Kills the subtree of the supervisor at `path` (its actors stay stopped; a later failure
    /// elsewhere that restarts this subtree's parent starts them again).
    pub fn stop_subtree(&self, path: &str) -> Result<(), Error> {
        let backend = self.backend.clone();
        self.hub
            .with_tree(self.tree, |t| {
                let (parent, position) = t
                    .nodes
                    .iter()
                    .find(|n| n.path == path)
                    .and_then(|n| n.parent)?;
                t.stop_child(backend.as_ref(), parent, position);
                Some(())
            })
            .flatten()
            .ok_or_else(|| Error::UnknownChild(path.to_owned()))
    }
}

fn collect(t: &tree::Tree, node: usize, out: &mut Vec<(String, ActorId)>) {
    for c in &t.nodes[node].children {
        match c {
            Child::Actor { path, id, .. } => out.push((path.clone(), *id)),
            Child::Node(n) => collect(t, *n, out),
        }
    }
}
