//! The contract between the `ringkernel` facade and a backend (CPU or CUDA).
//!
//! A backend is built with the list of registered actor types ([`ActorVTable`]s, indexed by
//! registration order) and then serves spawn, tell, ask, stop and shutdown for them, with the
//! semantics written down in `docs/semantics.md`. The facade stamps nothing: the backend fills in
//! the HLC timestamp and, for asks, the correlation id.
//!
//! [`ActorVTable`]: crate::actor::ActorVTable

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::checkpoint::ActorSnapshot;
use crate::dead_letter::{DeadLetter, DeadLetterCounts};
use crate::envelope::Envelope;
use crate::events::EventQueue;
use crate::health::Liveness;
use crate::id::ActorId;
use crate::lifecycle::LifecycleState;
use crate::reply::PendingReply;
use crate::send::SendError;
use crate::supervision::Intensity;

/// Which backend runs the actors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BackendKind {
    /// Worker threads on the host.
    Cpu,
    /// A persistent kernel on an NVIDIA GPU.
    Cuda,
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BackendKind::Cpu => "cpu",
            BackendKind::Cuda => "cuda",
        })
    }
}

/// Why an actor could not be spawned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SpawnError {
    /// The actor type was not registered when the runtime was built.
    #[error("actor type `{0}` was not registered with the runtime builder")]
    NotRegistered(&'static str),
    /// The backend has no room for another actor.
    #[error("no room for another actor (limit {limit})")]
    TooManyActors {
        /// Most actors the backend can hold.
        limit: usize,
    },
    /// Initial state of the wrong size for the actor type.
    #[error("initial state is {len} bytes, actor type expects {expected}")]
    BadState {
        /// Bytes offered.
        len: usize,
        /// Bytes expected.
        expected: usize,
    },
    /// The runtime is shutting down or has shut down.
    #[error("runtime is shut down")]
    ShutDown,
    /// The backend failed (driver error); the text says how.
    #[error("backend failure: {0}")]
    Backend(String),
    /// The device faulted (a sticky CUDA error: its context is lost).
    #[error("the device faulted; its runtime is lost or recovering")]
    DeviceLost,
    /// No actor with this id was ever spawned in this runtime.
    #[error("no actor {0} in this runtime")]
    UnknownActor(ActorId),
    /// Only a failed actor restarts; this one is in another state.
    #[error("{actor} is {state:?}; only a Failed actor restarts")]
    NotRestartable {
        /// The actor.
        actor: ActorId,
        /// Its state.
        state: LifecycleState,
    },
    /// The backend does not offer this operation (yet); the text names it.
    #[error("{0} is not supported by this backend")]
    Unsupported(&'static str),
    /// An in-place restart policy beyond what the backend can track.
    #[error("restart policy of {asked} restarts per period; this backend tracks at most {max}")]
    RestartPolicy {
        /// Restarts per period asked for.
        asked: u32,
        /// The most the backend tracks.
        max: u32,
    },
}

/// Why a snapshot of live actors failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SnapshotError {
    /// The backend cannot take snapshots (the text says what is missing).
    #[error("{0} is not supported by this backend")]
    Unsupported(&'static str),
    /// No such actor, or it was never started.
    #[error("no actor {0} to snapshot")]
    UnknownActor(ActorId),
    /// The runtime is shutting down.
    #[error("runtime is shut down")]
    ShutDown,
    /// The actor did not answer in time (its handler may be hung).
    #[error("actor {0} did not answer the snapshot request in time")]
    Timeout(ActorId),
    /// The backend failed; the text says how.
    #[error("backend failure: {0}")]
    Backend(String),
}

/// Most in-place restarts per period a restart policy may ask for, on every backend (a GPU block
/// keeps the times of its last this many restarts; the CPU backend holds itself to the same
/// bound so a program that runs on one runs on the other).
pub const MAX_IN_PLACE_RESTARTS: u32 = 8;

/// How to spawn an actor, beyond its type and state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SpawnOptions {
    /// Restart the actor in place, where it runs (on the GPU: inside the persistent kernel,
    /// with no host round trip), when a handler fails: its initial state is restored and it
    /// takes the messages queued behind the one that failed. At most `max_restarts` within
    /// `period`; the next failure leaves it `Failed` (and a supervisor takes over). `None`: a
    /// failure leaves the actor `Failed` at once. At most [`MAX_IN_PLACE_RESTARTS`] restarts
    /// per period ([`SpawnError::RestartPolicy`] otherwise).
    pub restart: Option<Intensity>,
    /// Shedding priority, 0 the most important (kept longest under load or memory pressure).
    pub priority: u8,
}

impl SpawnOptions {
    /// With an in-place restart policy.
    pub fn restart(mut self, intensity: Intensity) -> Self {
        self.restart = Some(intensity);
        self
    }

    /// With a shedding priority (0 the most important).
    pub fn priority(mut self, priority: u8) -> Self {
        self.priority = priority;
        self
    }
}

/// What a backend can tell about its load and condition, sampled by the runtime's monitor.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BackendSignals {
    /// The fullest mailbox's fill, 0 to 1.
    pub max_queue_fill: f64,
    /// Device memory `(free, total)` in bytes, where there is a device.
    pub device_memory: Option<(u64, u64)>,
    /// Bytes this backend allocated on the device (or host, for the CPU backend) for actors.
    pub allocated: u64,
    /// Heartbeat liveness, where the backend has heartbeats.
    pub liveness: Option<Liveness>,
    /// Actors whose current handler has run longer than the backend's watchdog deadline, with
    /// how long.
    pub hung: Vec<(ActorId, Duration)>,
    /// Why the device is lost, once it faulted (a sticky error: nothing runs any more).
    pub device_fault: Option<String>,
}

/// What a shutdown found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Messages processed over the runtime's life.
    pub processed: u64,
    /// Messages still queued at shutdown and not processed (their asks got `AskError::Dropped`).
    pub dropped: u64,
}

/// Why a shutdown did not complete cleanly.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ShutdownError {
    /// Workers did not stop within the deadline (e.g. a handler that never returns).
    #[error("backend did not stop within {0:?}: {1}")]
    Hung(Duration, String),
    /// Shutdown was already requested.
    #[error("runtime already shut down")]
    AlreadyShutDown,
    /// The backend failed while stopping; the text says how.
    #[error("backend failure during shutdown: {0}")]
    Backend(String),
}

/// Operations every backend provides. Object safe: the facade holds `Arc<dyn ActorBackend>`.
pub trait ActorBackend: Send + Sync + fmt::Debug {
    /// Which backend this is.
    fn kind(&self) -> BackendKind;

    /// One line naming the hardware, e.g. "cpu (2 workers)" or the GPU model.
    fn description(&self) -> String;

    /// Spawns an actor of the registered type at `type_index` with `state` as its initial state.
    fn spawn(&self, type_index: usize, state: &[u8]) -> Result<ActorId, SpawnError>;

    /// [`ActorBackend::spawn`] with options. The default accepts only the default options.
    fn spawn_with(
        &self,
        type_index: usize,
        state: &[u8],
        options: &SpawnOptions,
    ) -> Result<ActorId, SpawnError> {
        if options.restart.is_some() {
            return Err(SpawnError::Unsupported("in-place restart policy"));
        }
        self.spawn(type_index, state)
    }

    /// Enqueues `env` for `env.receiver()`; returns once accepted (not once processed).
    fn tell(&self, env: Envelope) -> Result<(), SendError>;

    /// Enqueues a prefix of `envs` (all for the same receiver) in order, as one batch where the
    /// backend can (one claim, one publish); returns how many were accepted.
    ///
    /// Fails only when none was accepted, with the error the first would have got; a partial
    /// acceptance is `Ok(n)` with `n < envs.len()` (typically a mailbox that filled up), and the
    /// caller retries the rest. The default sends them one by one.
    fn tell_batch(&self, envs: &[Envelope]) -> Result<usize, SendError> {
        tell_each(self, envs)
    }

    /// Enqueues `env` as a request; the returned handle yields the reply.
    fn ask(&self, env: Envelope) -> Result<PendingReply, SendError>;

    /// Stops an actor: it processes what is already queued, then terminates.
    fn stop(&self, id: ActorId) -> Result<(), SendError>;

    /// Restarts a `Failed` or `Terminated` actor in place: same id, `state` as its new state.
    /// Messages sent after this returns go to the new incarnation; those still queued from
    /// before its failure are dropped (asks complete with `Dropped`). An actor that is still
    /// running is not restarted: stop it first (a supervisor does). The default:
    /// [`SpawnError::Unsupported`].
    fn restart(&self, id: ActorId, state: &[u8]) -> Result<(), SpawnError> {
        let _ = (id, state);
        Err(SpawnError::Unsupported("restart"))
    }

    /// The actor's lifecycle state, or `None` for an id this runtime never issued.
    fn state_of(&self, id: ActorId) -> Option<LifecycleState>;

    /// Stops every actor and the backend's workers, waiting at most `deadline`.
    fn shutdown(&self, deadline: Duration) -> Result<ShutdownReport, ShutdownError>;

    /// Takes the dead letters recorded so far, oldest first. A backend whose actors cannot send
    /// to each other has none: host sends that cannot be delivered fail with a [`SendError`]
    /// instead.
    fn drain_dead_letters(&self) -> Vec<DeadLetter> {
        Vec::new()
    }

    /// Dead letters recorded since the backend started, by reason.
    fn dead_letter_counts(&self) -> DeadLetterCounts {
        DeadLetterCounts::default()
    }

    /// Every actor this backend has spawned (in any lifecycle state but `Dormant`), by id.
    fn actors(&self) -> Vec<ActorId> {
        Vec::new()
    }

    /// The registration index of `id`'s type, or `None` for an id this runtime never issued.
    fn type_index_of(&self, id: ActorId) -> Option<usize> {
        let _ = id;
        None
    }

    /// Snapshots live actors without stopping them: each actor's state after exactly the
    /// messages queued before the request, and the messages other actors had sent it and it
    /// had not taken yet. The default: [`SnapshotError::Unsupported`].
    fn snapshot(&self, ids: &[ActorId]) -> Result<Vec<ActorSnapshot>, SnapshotError> {
        let _ = ids;
        Err(SnapshotError::Unsupported("snapshots"))
    }

    /// Restores `snapshot` into this runtime as actor `snapshot.id` of the type registered at
    /// `type_index` (the id must not be taken yet): its state, then its saved messages, queued
    /// before anything sent after this returns. The default: [`SpawnError::Unsupported`].
    fn restore(&self, type_index: usize, snapshot: &ActorSnapshot) -> Result<(), SpawnError> {
        let _ = (type_index, snapshot);
        Err(SpawnError::Unsupported("restore"))
    }

    /// [`restore`](Self::restore), with the actor's spawn options back: its in-place restart
    /// policy, whose restart image is `image` (`None`: the snapshot's state). The default
    /// restores without options and refuses a restart policy.
    fn restore_with(
        &self,
        type_index: usize,
        snapshot: &ActorSnapshot,
        options: &SpawnOptions,
        image: Option<&[u8]>,
    ) -> Result<(), SpawnError> {
        if options.restart.is_some() || image.is_some() {
            return Err(SpawnError::Unsupported("restore with a restart policy"));
        }
        self.restore(type_index, snapshot)
    }

    /// The queue this backend pushes its [`ActorEvent`](crate::events::ActorEvent)s into, or
    /// `None` for a backend that raises none.
    fn events(&self) -> Option<Arc<EventQueue>> {
        None
    }

    /// The backend's load and condition now. The default knows nothing.
    fn signals(&self) -> BackendSignals {
        BackendSignals::default()
    }

    /// Why the device is lost, once it faulted (a cheap check, for recovery loops to poll);
    /// `None` while it runs. A backend without a device never faults.
    fn fault(&self) -> Option<String> {
        None
    }
}

/// [`ActorBackend::tell_batch`] by single tells: accepts a prefix, fails only if none was accepted.
/// Backends with a faster batch path fall back to this for batches it does not cover.
pub fn tell_each<B: ActorBackend + ?Sized>(
    backend: &B,
    envs: &[Envelope],
) -> Result<usize, SendError> {
    for (i, env) in envs.iter().enumerate() {
        if let Err(e) = backend.tell(*env) {
            return if i == 0 { Err(e) } else { Ok(i) };
        }
    }
    Ok(envs.len())
}
