//! [`Runtime`]: owns a backend, spawns actors, shuts down (also on drop).

use std::any::TypeId;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use ringkernel_core::{
    Actor, ActorBackend, ActorId, BackendKind, DeadLetter, DeadLetterCounts, LifecycleState,
    ShutdownError, ShutdownReport, SpawnError, SpawnOptions,
};

use crate::actor_ref::ActorRef;
use crate::builder::RuntimeBuilder;
use crate::error::Error;
use crate::recovery::{Recoverer, Recovery, RecoveryReport};
use crate::registry::{Owner, Registry, RegistryEntry};
use crate::resilience::Resilience;
use crate::supervisor::{Hub, Supervision, SupervisorSpec};

mod checkpoint;

pub(crate) use checkpoint::live_actors;
mod reload;

/// Deadline of the shutdown a [`Runtime`] performs when dropped without an explicit one.
pub const DROP_SHUTDOWN_DEADLINE: Duration = Duration::from_secs(5);

/// A running set of actors on one backend.
///
/// Dropping the runtime shuts it down with [`DROP_SHUTDOWN_DEADLINE`], logging (never panicking
/// on) any error. [`ActorRef`]s stay valid memory-wise after that; their sends fail with
/// `SendError::ShutDown`.
///
/// Each runtime has a name registry (`register_name`, `lookup`, `discover`, ...): see
/// [`crate::registry`].
pub struct Runtime {
    backend: Arc<dyn ActorBackend>,
    registry: Arc<Registry>,
    index: HashMap<TypeId, usize>,
    /// Registered type names, by registration index.
    names: Vec<&'static str>,
    ask_timeout: Duration,
    fallback_reason: Option<String>,
    multi: Option<Arc<ringkernel_cuda::MultiGpuBackend>>,
    /// The supervision thread, started by the first `supervise`.
    hub: std::sync::OnceLock<Option<Hub>>,
    /// Budgets, degradation and health ([`crate::resilience`]).
    resilience: Resilience,
    /// Checkpoints, replay log and the fault watcher, when built with recovery.
    recovery: Option<Recovery>,
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
        names: Vec<&'static str>,
        ask_timeout: Duration,
        fallback_reason: Option<String>,
        multi: Option<Arc<ringkernel_cuda::MultiGpuBackend>>,
        resilience: Resilience,
    ) -> Self {
        Runtime {
            backend,
            registry: Arc::default(),
            index,
            names,
            ask_timeout,
            fallback_reason,
            multi,
            hub: std::sync::OnceLock::new(),
            resilience,
            recovery: None,
        }
    }

    /// Starts the fault watcher of a recovering runtime.
    pub(crate) fn start_recovery(&mut self, recoverer: Recoverer) -> Result<(), Error> {
        self.recovery = Some(Recovery::start(
            recoverer,
            self.resilience.monitor().clone(),
        )?);
        Ok(())
    }

    /// The recoveries from device faults so far, oldest first (empty without
    /// [`RuntimeBuilder::recovery`](crate::RuntimeBuilder::recovery)).
    pub fn recoveries(&self) -> Vec<RecoveryReport> {
        self.recovery
            .as_ref()
            .map(Recovery::reports)
            .unwrap_or_default()
    }

    /// Takes a recovery checkpoint now (the state a recovery goes back to) and empties the
    /// replay log; returns how many actors it holds. [`Error::Recovery`] on a runtime built
    /// without recovery.
    pub fn recovery_checkpoint(&self) -> Result<usize, Error> {
        match &self.recovery {
            Some(r) => r.recoverer().checkpoint(),
            None => Err(Error::Recovery(
                "this runtime was built without recovery".into(),
            )),
        }
    }

    /// The monitor and its thread.
    pub(crate) fn resilience(&self) -> &Resilience {
        &self.resilience
    }

    /// The multi-GPU operations of a runtime built with [`Backend::MultiCuda`](crate::Backend):
    /// placement ([`spawn_placed`](ringkernel_cuda::MultiGpuBackend::spawn_placed)), migration
    /// ([`migrate`](ringkernel_cuda::MultiGpuBackend::migrate)), load balancing
    /// ([`rebalance`](ringkernel_cuda::MultiGpuBackend::rebalance)) and the topology. `None` on
    /// other backends. Ids are shared: an [`ActorRef`]'s id is the one these take.
    pub fn multi_gpu(&self) -> Option<&ringkernel_cuda::MultiGpuBackend> {
        self.multi.as_deref()
    }

    /// Spawns an actor of registered type `A` with `state` as its initial state.
    pub fn spawn<A: Actor>(&self, state: A::State) -> Result<ActorRef<A>, Error> {
        self.spawn_with(state, SpawnOptions::default())
    }

    /// [`Runtime::spawn`] with options: an in-place restart policy (the backend restores the
    /// initial state and carries on when a handler fails, up to the policy's intensity: on the
    /// GPU inside the persistent kernel) and a shedding priority.
    ///
    /// Refused before the backend is asked with [`Error::Budget`] or [`Error::Overloaded`]
    /// (memory budgets and pressure, degradation level: see [`crate::resilience`]).
    pub fn spawn_with<A: Actor>(
        &self,
        state: A::State,
        options: SpawnOptions,
    ) -> Result<ActorRef<A>, Error> {
        let type_index = self.type_index::<A>()?;
        let id = self.resilience.monitor().spawn(
            type_index,
            bytemuck::bytes_of(&state),
            &options,
            None,
        )?;
        Ok(self.actor_ref(id))
    }

    /// The registration index of actor type `A`.
    pub(crate) fn type_index<A: Actor>(&self) -> Result<usize, SpawnError> {
        self.index
            .get(&TypeId::of::<A>())
            .copied()
            .ok_or(SpawnError::NotRegistered(A::NAME))
    }

    /// Starts a supervision tree: spawns `spec`'s actors (depth first, in start order) and
    /// supervises them from now on (see [`crate::supervisor`]). Fails with the first spawn
    /// error (the actors spawned so far are stopped), [`Error::InvalidChildName`], or
    /// [`Error::NoEvents`] on a backend that raises no lifecycle events.
    pub fn supervise(&self, spec: SupervisorSpec) -> Result<Supervision, Error> {
        let hub = self.hub()?;
        let mut spawn = |type_id: TypeId,
                         name: &'static str,
                         state: &[u8],
                         options: &SpawnOptions|
         -> Result<ActorId, Error> {
            let type_index = *self
                .index
                .get(&type_id)
                .ok_or(SpawnError::NotRegistered(name))?;
            // Through the monitor: budgets and the degradation level apply to trees too.
            self.resilience
                .monitor()
                .spawn(type_index, state, options, None)
        };
        let tree = crate::supervisor::tree_build(spec, self.backend.as_ref(), &mut spawn)?;
        let idx = hub.add(tree);
        Ok(Supervision::new(
            hub.shared().clone(),
            idx,
            self.backend.clone(),
            self.ask_timeout,
            self.registry.clone(),
        ))
    }

    fn hub(&self) -> Result<&Hub, Error> {
        let hub = self.hub.get_or_init(|| {
            match Hub::start(self.backend.clone(), self.resilience.monitor().clone()) {
                Ok(h) => h,
                Err(e) => {
                    tracing::error!("cannot start the supervision thread: {e}");
                    None
                }
            }
        });
        hub.as_ref().ok_or(Error::NoEvents(self.backend.kind()))
    }

    /// Lifecycle events (failures, in-place restarts, terminations, hung handlers) of actors
    /// outside every supervision tree, oldest first; the supervision thread consumes the
    /// events of supervised actors.
    pub fn actor_events(&self) -> Vec<ringkernel_core::events::ActorEvent> {
        match self.hub.get() {
            Some(Some(hub)) => hub.take_other(),
            _ => self.backend.events().map(|q| q.drain()).unwrap_or_default(),
        }
    }

    /// Restarts a failed or stopped (`Terminated`) actor in place with `state` (same id, same
    /// `ActorRef`s): what a supervisor does for a child that failed, and for the siblings it
    /// stopped. Messages sent after this returns reach the new incarnation; those queued before
    /// the failure were dropped. A running actor is not restarted
    /// ([`SpawnError::NotRestartable`]): stop it first; of two restarts racing, one wins and
    /// the other gets that error. A handle of another runtime is [`Error::ForeignActor`].
    pub fn restart<A: Actor>(&self, actor: &ActorRef<A>, state: A::State) -> Result<(), Error> {
        // Ids are per runtime: another runtime's handle would restart a stranger here.
        if !Arc::ptr_eq(actor.registry(), &self.registry) {
            return Err(Error::ForeignActor(actor.id()));
        }
        self.backend
            .restart(actor.id(), bytemuck::bytes_of(&state))?;
        self.resilience.monitor().restarted(actor.id());
        Ok(())
    }

    pub(crate) fn actor_ref<A: Actor>(&self, id: ActorId) -> ActorRef<A> {
        ActorRef::new(
            self.backend.clone(),
            id,
            self.ask_timeout,
            self.registry.clone(),
            self.resilience.monitor().clone(),
        )
    }

    /// Actors spilled to host memory under memory pressure, by id (see
    /// [`RuntimeBuilder::spill_actors_under_memory_pressure`](crate::RuntimeBuilder::spill_actors_under_memory_pressure)).
    pub fn spilled(&self) -> Vec<ActorId> {
        self.resilience.monitor().spilled()
    }

    /// Brings spilled actor `id` back: restarted in place with its spilled state, its saved
    /// messages queued again. [`Error::NotSpilled`] for an actor that is not spilled.
    pub fn unspill(&self, id: ActorId) -> Result<(), Error> {
        self.resilience.monitor().unspill(id)
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

    /// Takes the dead letters recorded so far, oldest first: messages actors sent each other on
    /// the device that could not be delivered (unknown or stopped target, rejected type, full
    /// inbox under the dead-letter policy), each with its reason and the host HLC at which it
    /// was recorded. The CPU backend has no actor-to-actor sends and so no dead letters.
    pub fn dead_letters(&self) -> Vec<DeadLetter> {
        self.backend.drain_dead_letters()
    }

    /// Dead letters recorded since the runtime started, by reason (drained or not).
    pub fn dead_letter_counts(&self) -> DeadLetterCounts {
        self.backend.dead_letter_counts()
    }

    /// The backend, for the raw envelope path (tests, bridges, other front ends).
    pub fn backend(&self) -> &Arc<dyn ActorBackend> {
        &self.backend
    }

    /// Shuts down: refuses new sends, drains or drops queued messages (every pending ask is
    /// completed), and stops the backend within `deadline`. A second call fails with
    /// `ShutdownError::AlreadyShutDown`.
    ///
    /// The name registry closes first: from then on its calls fail with
    /// [`Error::RegistryClosed`]. The resilience monitor stops sampling (its last health report,
    /// level and events stay readable). A supervision tree in the middle of a restart abandons
    /// the rest of it: the stop it waits for and the starts still to come are logged as
    /// `StopFailed` / `RestartFailed`, and the backend's shutdown stops those actors. So
    /// `deadline` is held up by at most the one backend call the tree is in.
    pub fn shutdown(&self, deadline: Duration) -> Result<ShutdownReport, Error> {
        self.registry.close();
        // No supervisor restarts anything while the backend stops.
        if let Some(Some(hub)) = self.hub.get() {
            hub.stop();
        }
        self.resilience.stop();
        if let Some(r) = &self.recovery {
            r.stop();
        }
        Ok(self.backend.shutdown(deadline)?)
    }

    fn state_fn(&self) -> impl Fn(ActorId) -> Option<LifecycleState> + '_ {
        |id| self.backend.state_of(id)
    }

    /// Names `actor` as `name` in this runtime's registry (grammar:
    /// [`ActorName`](crate::registry::ActorName)). An actor may have several names.
    ///
    /// Fails with [`Error::InvalidName`]; [`Error::NameTaken`] (with the current owner) when
    /// another live or draining actor has the name — registering it again to the same actor is a
    /// no-op; [`Error::ActorNotLive`] when the actor is draining, terminated or failed;
    /// [`Error::ForeignActor`] for a handle of another runtime; [`Error::RegistryClosed`] after
    /// shutdown.
    pub fn register_name<A: Actor>(&self, name: &str, actor: &ActorRef<A>) -> Result<(), Error> {
        if !Arc::ptr_eq(actor.registry(), &self.registry) {
            return Err(Error::ForeignActor(actor.id()));
        }
        self.registry
            .register(name, Owner::of::<A>(actor.id()), &self.state_fn())
    }

    /// Removes `name` from the registry and returns what it resolved to. The actor is not
    /// affected, nor are its other names.
    ///
    /// Fails with [`Error::InvalidName`], [`Error::NameNotFound`] (also when the owner already
    /// ended), or [`Error::RegistryClosed`].
    pub fn unregister_name(&self, name: &str) -> Result<RegistryEntry, Error> {
        self.registry.unregister(name, &self.state_fn())
    }

    /// A typed handle to the live actor named `name`.
    ///
    /// Fails with [`Error::InvalidName`]; [`Error::NameNotFound`] when no live actor has the name
    /// (a stopped, failed or draining owner counts as none); [`Error::NameTypeMismatch`] when the
    /// owner is not an `A`; [`Error::RegistryClosed`] after shutdown.
    pub fn lookup<A: Actor>(&self, name: &str) -> Result<ActorRef<A>, Error> {
        let entry = self.resolve(name)?;
        if !entry.is::<A>() {
            return Err(Error::NameTypeMismatch {
                name: entry.name().to_owned(),
                actor: entry.actor(),
                expected: A::NAME,
                found: entry.type_name(),
            });
        }
        Ok(self.actor_ref(entry.actor()))
    }

    /// What `name` resolves to (id and actor type), whatever the type; errors as
    /// [`lookup`](Self::lookup) without the type check.
    pub fn resolve(&self, name: &str) -> Result<RegistryEntry, Error> {
        self.registry.resolve(name, &self.state_fn())
    }

    /// Every live actor whose name matches `pattern` (grammar:
    /// [`NamePattern`](crate::registry::NamePattern); `*` is one segment, `**` zero or more),
    /// sorted by name. Visits only the names under the pattern's literal prefix.
    ///
    /// Fails with [`Error::InvalidPattern`] or [`Error::RegistryClosed`].
    pub fn discover(&self, pattern: &str) -> Result<Vec<RegistryEntry>, Error> {
        self.registry.discover(pattern, &self.state_fn())
    }

    /// The names of actor `id`, sorted (empty for an actor that is not live, or unnamed).
    pub fn names_of(&self, id: ActorId) -> Result<Vec<String>, Error> {
        self.registry.names_of(id, &self.state_fn())
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.registry.close();
        self.resilience.stop();
        if let Some(r) = &self.recovery {
            r.stop();
        }
        match self.backend.shutdown(DROP_SHUTDOWN_DEADLINE) {
            Ok(report) => tracing::debug!(?report, "runtime shut down on drop"),
            Err(ShutdownError::AlreadyShutDown) => {}
            Err(e) => tracing::error!(error = %e, "runtime did not shut down cleanly on drop"),
        }
    }
}
