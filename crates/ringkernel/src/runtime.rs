//! [`Runtime`]: owns a backend, spawns actors, shuts down (also on drop).

use std::any::TypeId;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use ringkernel_core::{
    Actor, ActorBackend, ActorId, BackendKind, LifecycleState, ShutdownError, ShutdownReport,
    SpawnError,
};

use crate::actor_ref::ActorRef;
use crate::builder::RuntimeBuilder;
use crate::error::Error;

/// Deadline of the shutdown a [`Runtime`] performs when dropped without an explicit one.
pub const DROP_SHUTDOWN_DEADLINE: Duration = Duration::from_secs(5);

/// A running set of actors on one backend.
///
/// Dropping the runtime shuts it down with [`DROP_SHUTDOWN_DEADLINE`], logging (never panicking
/// on) any error. [`ActorRef`]s stay valid memory-wise after that; their sends fail with
/// `SendError::ShutDown`.
pub struct Runtime {
    backend: Arc<dyn ActorBackend>,
    index: HashMap<TypeId, usize>,
    ask_timeout: Duration,
    fallback_reason: Option<String>,
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("backend", &self.backend.description())
            .field("types", &self.index.len())
            .field("fallback_reason", &self.fallback_reason)
            .finish()
    }
}

impl Runtime {
    /// Starts building a runtime.
    pub fn builder() -> RuntimeBuilder {
        RuntimeBuilder::default()
    }

    pub(crate) fn new(
        backend: Arc<dyn ActorBackend>,
        index: HashMap<TypeId, usize>,
        ask_timeout: Duration,
        fallback_reason: Option<String>,
    ) -> Self {
        Runtime {
            backend,
            index,
            ask_timeout,
            fallback_reason,
        }
    }

    /// Spawns an actor of registered type `A` with `state` as its initial state.
    pub fn spawn<A: Actor>(&self, state: A::State) -> Result<ActorRef<A>, Error> {
        let type_index = *self
            .index
            .get(&TypeId::of::<A>())
            .ok_or(SpawnError::NotRegistered(A::NAME))?;
        let id = self.backend.spawn(type_index, bytemuck::bytes_of(&state))?;
        Ok(ActorRef::new(self.backend.clone(), id, self.ask_timeout))
    }

    /// Which backend runs the actors.
    pub fn backend_kind(&self) -> BackendKind {
        self.backend.kind()
    }

    /// One line naming the backend and its hardware.
    pub fn description(&self) -> String {
        self.backend.description()
    }

    /// Why `Backend::Auto` did not pick CUDA (`None` if it did, or another backend was asked for).
    pub fn fallback_reason(&self) -> Option<&str> {
        self.fallback_reason.as_deref()
    }

    /// The lifecycle state of any actor of this runtime (`None` for an id it never issued).
    pub fn state_of(&self, id: ActorId) -> Option<LifecycleState> {
        self.backend.state_of(id)
    }

    /// The backend, for the raw envelope path (tests, bridges, other front ends).
    pub fn backend(&self) -> &Arc<dyn ActorBackend> {
        &self.backend
    }

    /// Shuts down: refuses new sends, drains or drops queued messages (every pending ask is
    /// completed), and stops the backend within `deadline`. A second call fails with
    /// `ShutdownError::AlreadyShutDown`.
    pub fn shutdown(&self, deadline: Duration) -> Result<ShutdownReport, Error> {
        Ok(self.backend.shutdown(deadline)?)
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        match self.backend.shutdown(DROP_SHUTDOWN_DEADLINE) {
            Ok(report) => tracing::debug!(?report, "runtime shut down on drop"),
            Err(ShutdownError::AlreadyShutDown) => {}
            Err(e) => tracing::error!(error = %e, "runtime did not shut down cleanly on drop"),
        }
    }
}
