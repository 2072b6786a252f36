//! The facade's error type: one enum wrapping each lower layer's error with context.

use ringkernel_core::degradation::DegradationError;
use ringkernel_core::{
    ActorId, BudgetError, CoreError, Level, LifecycleState, ShutdownError, SpawnError,
};
use ringkernel_cpu::CpuError;
use ringkernel_cuda::CudaError;

use crate::registry::NameError;

/// Errors of building, spawning on and shutting down a [`Runtime`](crate::Runtime), and of its
/// name registry ([`crate::registry`]).
///
/// Sends and asks have their own small errors ([`SendError`](crate::SendError),
/// [`AskError`](crate::AskError)), which give the caller what to do next.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A model-level error (layouts, capacities).
    #[error(transparent)]
    Core(#[from] CoreError),
    /// An actor type could not be registered (message too large, reserved id, state alignment).
    #[error("cannot register actor type `{name}`: {source}")]
    Register {
        /// The actor type.
        name: &'static str,
        /// Why.
        #[source]
        source: CoreError,
    },
    /// The same actor type (or another with the same name) was registered twice.
    #[error("actor type `{0}` is registered twice")]
    DuplicateActorType(&'static str),
    /// An actor could not be spawned.
    #[error(transparent)]
    Spawn(#[from] SpawnError),
    /// Shutdown did not complete cleanly.
    #[error(transparent)]
    Shutdown(#[from] ShutdownError),
    /// The CPU backend could not be built.
    #[error("cpu backend: {0}")]
    Cpu(#[from] CpuError),
    /// The CUDA backend could not be built (no driver, no device, compile error...).
    #[error("cuda backend: {0}")]
    Cuda(#[from] CudaError),
    /// A registry name does not follow the grammar ([`ActorName`](crate::registry::ActorName)).
    #[error("invalid actor name {name:?}: {reason}")]
    InvalidName {
        /// The name as given.
        name: String,
        /// Which rule it breaks.
        #[source]
        reason: NameError,
    },
    /// A discovery pattern does not follow the grammar
    /// ([`NamePattern`](crate::registry::NamePattern)).
    #[error("invalid name pattern {pattern:?}: {reason}")]
    InvalidPattern {
        /// The pattern as given.
        pattern: String,
        /// Which rule it breaks.
        #[source]
        reason: NameError,
    },
    /// The name already belongs to another live (or draining) actor.
    #[error("name {name:?} is taken by {owner} (`{owner_type}`)")]
    NameTaken {
        /// The name.
        name: String,
        /// Its current owner.
        owner: ActorId,
        /// The owner's actor type.
        owner_type: &'static str,
    },
    /// No live actor has this name (never registered, unregistered, or its actor stopped, failed
    /// or is draining).
    #[error("no live actor is named {0:?}")]
    NameNotFound(String),
    /// The name belongs to an actor of another type than the lookup asked for.
    #[error("name {name:?} belongs to {actor}, a `{found}`, not a `{expected}`")]
    NameTypeMismatch {
        /// The name.
        name: String,
        /// Its owner.
        actor: ActorId,
        /// The type the lookup asked for.
        expected: &'static str,
        /// The owner's type.
        found: &'static str,
    },
    /// Only live actors can be named; this one is draining, terminated or failed.
    #[error("{actor} is {state:?}; only live actors can be named")]
    ActorNotLive {
        /// The actor.
        actor: ActorId,
        /// Its state when the registration was refused.
        state: LifecycleState,
    },
    /// The handle belongs to another runtime, where its id means a different actor.
    #[error("{0} belongs to another runtime")]
    ForeignActor(ActorId),
    /// The runtime is shut down; its registry is closed.
    #[error("the runtime is shut down: its name registry is closed")]
    RegistryClosed,
    /// A supervision tree has no child at this path.
    #[error("no child {0:?} in this supervision tree")]
    UnknownChild(String),
    /// A supervision tree's child is another actor type.
    #[error("child {path:?} is a `{found}`, not a `{expected}`")]
    ChildTypeMismatch {
        /// The child's path.
        path: String,
        /// The type asked for.
        expected: &'static str,
        /// The child's type.
        found: &'static str,
    },
    /// A supervisor spec names a child badly.
    #[error("invalid child name {name:?}: {reason}")]
    InvalidChildName {
        /// The name (or path).
        name: String,
        /// Which rule it breaks.
        reason: &'static str,
    },
    /// The backend raises no lifecycle events, so nothing can be supervised on it.
    #[error("the {0} backend raises no lifecycle events; it cannot be supervised")]
    NoEvents(ringkernel_core::BackendKind),
    /// A spawn was refused by a memory budget, or by memory pressure
    /// ([`BudgetError::SpawnsRefused`]); the backend was not asked. See [`crate::resilience`].
    #[error("spawn refused: {0}")]
    Budget(#[from] BudgetError),
    /// A spawn was refused at this degradation level (`Critical`); the backend was not asked.
    #[error("spawn refused: runtime is at degradation level {0}")]
    Overloaded(Level),
    /// A degradation or admission setting of the builder is invalid.
    #[error("invalid resilience setting: {0}")]
    Degradation(#[from] DegradationError),
    /// The resilience monitor's thread could not be started.
    #[error("cannot start the resilience monitor: {0}")]
    Monitor(#[source] std::io::Error),
    /// A live snapshot failed.
    #[error(transparent)]
    Snapshot(#[from] ringkernel_core::SnapshotError),
    /// A checkpoint names an actor type this runtime did not register.
    #[error("actor type `{0}` is not registered in this runtime")]
    UnknownActorType(String),
    /// An actor is of another type than asked for.
    #[error("{actor} is a `{found}`, not a `{expected}`")]
    ActorTypeMismatch {
        /// The actor.
        actor: ActorId,
        /// The type asked for.
        expected: &'static str,
        /// Its type.
        found: &'static str,
    },
    /// No spilled actor with this id (see [`crate::resilience`]).
    #[error("{0} is not spilled")]
    NotSpilled(ActorId),
    /// Recovery from a device fault is not possible here, or failed (see [`crate::recovery`]).
    #[error("recovery: {0}")]
    Recovery(String),
    /// Hot reload needs a runtime built with recovery
    /// ([`RuntimeBuilder::recovery`](crate::RuntimeBuilder::recovery)): a reload is a swap of
    /// backend generations (see [`crate::recovery::reload`]).
    #[error("hot reload needs a runtime built with recovery")]
    ReloadUnavailable,
    /// A reload offered a version not newer than the one running; nothing changed.
    #[error("`{actor_type}` runs version {current}; version {offered} is not newer")]
    StaleVersion {
        /// The registered actor type.
        actor_type: &'static str,
        /// The version running.
        current: u64,
        /// The version offered.
        offered: u64,
    },
    /// A reload was refused before anything changed (the new handler does not compile, has no
    /// CUDA form, the device had faulted, the runtime is shut down...): the old version keeps
    /// running.
    #[error("reload of `{actor_type}` to version {version} rejected: {reason}")]
    ReloadRejected {
        /// The registered actor type.
        actor_type: &'static str,
        /// The version offered.
        version: u64,
        /// Why.
        reason: String,
    },
    /// The new version failed during its probe (or its generation could not be built) and the
    /// old version was put back: the version is unchanged. `report` tells what was undone.
    #[error("reload of `{actor_type}` to version {version} rolled back: {reason}")]
    ReloadRolledBack {
        /// The registered actor type.
        actor_type: &'static str,
        /// The version offered.
        version: u64,
        /// Why.
        reason: String,
        /// The swap, the probe and the rollback.
        report: Box<crate::recovery::ReloadReport>,
    },
}
