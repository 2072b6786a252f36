//! Resilience in the runtime: memory budgets, graceful degradation and health, driven by what the
//! backend reports, the same on every backend.
//!
//! The rules are [`ringkernel_core`]'s ([`budget`](ringkernel_core::budget),
//! [`degradation`](ringkernel_core::degradation), [`health`](ringkernel_core::health)); this
//! module feeds them real signals and enforces what they decide.
//!
//! **Sampling.** A background thread, started with the runtime and stopped (and joined) by
//! [`Runtime::shutdown`] or drop, wakes every
//! [`monitor_interval`](crate::RuntimeBuilder::monitor_interval) (default
//! [`DEFAULT_MONITOR_INTERVAL`]) and only then calls [`ActorBackend::signals`]. Each sample:
//!
//! 1. releases the memory booked for actors that are now `Terminated` (actors are freed only
//!    when stopped; a `Failed` actor keeps its booking, as a supervisor may restart it);
//! 2. records the device's `(free, total)` memory, where the backend reports it, and re-evaluates
//!    the [`MemoryPolicy`](ringkernel_core::MemoryPolicy) mitigations at the ledger's pressure;
//! 3. turns the growth of the backend's failure counter
//!    ([`EventQueue::failures`](ringkernel_core::EventQueue::failures)) into a failure rate over
//!    the last [`FAULT_WINDOW`];
//! 4. feeds the fullest mailbox's fill, the memory pressure and the failure rate to the
//!    [`DegradationController`](ringkernel_core::DegradationController) and moves the
//!    [`Admission`](ringkernel_core::Admission) bucket to the resulting level;
//! 5. checks the backend's long-running handlers against the
//!    [`watchdog`](crate::RuntimeBuilder::watchdog) deadline and composes the
//!    [`HealthReport`]. A backend that reports no heartbeats counts as live; a hung handler
//!    makes the runtime not live (one block, or one worker, fewer serving the others), with
//!    [`NotReady::NotLive`](ringkernel_core::NotReady::NotLive) among the reasons.
//!
//! **Memory accounting.** Each spawn books the actor type's state size plus an estimate of its
//! mailbox (mailbox capacity × envelope size) against the
//! [`MemoryBudgets`](ringkernel_core::MemoryBudgets): per actor, per tree (for actors spawned
//! with [`Runtime::spawn_in`]) and global. The bytes are booked *before* the backend is asked,
//! so a refused spawn never reaches it.
//!
//! **Enforcement.** Each refusal and each decision below raises a [`ResilienceEvent`] into a
//! log of the last [`EVENT_LOG_CAPACITY`] events (older ones are dropped), drained by
//! [`Runtime::resilience_events`].
//!
//! - *Spawns* fail with [`Error::Overloaded`] at [`Level::Critical`], and with
//!   [`Error::Budget`] when a budget would be passed or
//!   [`Mitigation::RefuseSpawns`](ringkernel_core::budget::Mitigation) is active (the latter
//!   two raise [`MemoryEvent::SpawnRefused`]).
//! - *Sends* (`tell`, `tell_batch`, `ask`): below [`Level::Throttled`] they cost one relaxed
//!   atomic load. From `Throttled` up each message takes a token of the
//!   [`admission`](crate::RuntimeBuilder::admission) bucket; a refused send fails with
//!   [`SendError::Full`](crate::SendError::Full), as a full mailbox does, so callers back off
//!   the same way. From [`Level::Shedding`] up, sends to actors of the lowest priority class
//!   present (the largest [`SpawnOptions::priority`](ringkernel_core::SpawnOptions) among
//!   actors holding memory) are shed, and at `Critical` every send to an actor of priority
//!   above 0: they fail with `Full` as well and are counted by [`Runtime::shed_count`].
//!   Priority-0 actors are never shed. Shed messages are refused at the sender, not queued as
//!   dead letters.
//! - *Control* operations (`stop`, `restart`, shutdown) are never refused.
//! - *Memory shedding* ([`Mitigation::ShedLowestPriority`](ringkernel_core::budget::Mitigation))
//!   is off unless [`shed_actors_under_memory_pressure`](crate::RuntimeBuilder::shed_actors_under_memory_pressure)
//!   turns it on: then, while the mitigation is active, the monitor stops the first actor of
//!   the ledger's shed order (lowest priority, then most bytes), raising [`MemoryEvent::Shed`],
//!   and sheds the next one only after that one has terminated.
//! - *Spilling* ([`Mitigation::SpillCheckpoints`](ringkernel_core::budget::Mitigation)) is off
//!   unless [`spill_actors_under_memory_pressure`](crate::RuntimeBuilder::spill_actors_under_memory_pressure)
//!   turns it on: then, while it is active, the first actor of the shed order is snapshotted
//!   into host memory (state and queued messages) and stopped, raising [`MemoryEvent::Spill`];
//!   [`Runtime::unspill`](crate::Runtime::unspill) restarts it with that state and queues the
//!   messages again. Host sends to it are refused (`Full`) while it is being spilled. On the
//!   GPU a stopped actor's block keeps its preallocated memory: spilling frees the runtime's
//!   budget bookings (what spawns are checked against), not device memory.
//!
//! [`Runtime::shutdown`]: crate::Runtime::shutdown
//! [`Runtime::spawn_in`]: crate::Runtime::spawn_in
//! [`Runtime::resilience_events`]: crate::Runtime::resilience_events
//! [`Runtime::shed_count`]: crate::Runtime::shed_count
//! [`ActorBackend::signals`]: ringkernel_core::ActorBackend::signals
//! [`Error::Overloaded`]: crate::Error::Overloaded
//! [`Error::Budget`]: crate::Error::Budget

mod config;
mod monitor;
mod sampler;

use std::sync::Arc;
use std::time::Duration;

use ringkernel_core::budget::MemoryEvent;
use ringkernel_core::degradation::Transition;
use ringkernel_core::health::Hung;
use ringkernel_core::{Actor, ActorBackend, ActorId, HealthReport, Level, SpawnOptions, TreeId};

pub(crate) use config::ResilienceConfig;
pub use config::{
    DEFAULT_ADMISSION_BURST, DEFAULT_ADMISSION_RATE, DEFAULT_HOLD, MIN_MONITOR_INTERVAL,
};
pub(crate) use monitor::Monitor;

use crate::actor_ref::ActorRef;
use crate::error::Error;
use crate::runtime::Runtime;
use sampler::Sampler;

/// Default sampling interval of the monitor.
pub const DEFAULT_MONITOR_INTERVAL: Duration = Duration::from_millis(10);

/// Window over which failures are counted for the fault-rate signal.
pub const FAULT_WINDOW: Duration = Duration::from_secs(1);

/// Events kept in the log before the oldest is dropped.
pub const EVENT_LOG_CAPACITY: usize = 1024;

/// Something the runtime decided or found while watching its load; see the module docs.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResilienceEvent {
    /// The degradation level changed.
    LevelChanged(Transition),
    /// A memory event: pressure changed, a spawn was refused, an actor was shed.
    Memory(MemoryEvent),
    /// An actor's handler has run past the watchdog deadline (raised once per hang: again only
    /// after the actor was seen not hung).
    Hung {
        /// The actor.
        actor: ActorId,
        /// How long its handler had run when found.
        running_for: Duration,
    },
    /// The device faulted and the runtime recovered (see [`crate::recovery`]).
    Recovered(crate::recovery::RecoveryReport),
    /// The device faulted and recovery failed (or a hot reload's rollback failed): the runtime
    /// refuses everything from now on.
    RecoveryFailed(String),
    /// A hot reload committed, or rolled back (`rollback` is set); see
    /// [`crate::recovery::reload`].
    Reloaded(crate::recovery::ReloadReport),
}

/// The monitor and its sampling thread, as the runtime owns them.
#[derive(Debug)]
pub(crate) struct Resilience {
    monitor: Arc<Monitor>,
    sampler: Sampler,
}

impl Resilience {
    /// Starts monitoring `backend`; `type_bytes[i]` is what one actor of registered type `i`
    /// books.
    pub(crate) fn start(
        config: ResilienceConfig,
        backend: Arc<dyn ActorBackend>,
        type_bytes: Vec<u64>,
    ) -> Result<Self, Error> {
        let interval = config.interval;
        let monitor = Arc::new(Monitor::new(config, backend, type_bytes)?);
        let sampler = Sampler::start(monitor.clone(), interval).map_err(Error::Monitor)?;
        Ok(Resilience { monitor, sampler })
    }

    /// The monitor (shared with every [`ActorRef`]).
    pub(crate) fn monitor(&self) -> &Arc<Monitor> {
        &self.monitor
    }

    /// Stops and joins the sampling thread; idempotent.
    pub(crate) fn stop(&self) {
        self.sampler.stop();
    }
}

impl Runtime {
    /// [`Runtime::spawn_with`], booking the actor's memory under `tree` as well (see
    /// [`MemoryBudgets::per_tree`](ringkernel_core::MemoryBudgets)).
    pub fn spawn_in<A: Actor>(
        &self,
        tree: TreeId,
        state: A::State,
        options: SpawnOptions,
    ) -> Result<ActorRef<A>, Error> {
        let type_index = self.type_index::<A>()?;
        let id = self.resilience().monitor().spawn(
            type_index,
            bytemuck::bytes_of(&state),
            &options,
            Some(tree),
        )?;
        Ok(self.actor_ref(id))
    }

    /// The health report of the monitor's last sample (live and ready before the first).
    pub fn health(&self) -> HealthReport {
        self.resilience().monitor().health()
    }

    /// Handlers found running past the watchdog deadline at the last sample.
    pub fn hung(&self) -> Vec<Hung> {
        self.resilience().monitor().hung()
    }

    /// The current degradation level.
    pub fn degradation_level(&self) -> Level {
        self.resilience().monitor().level()
    }

    /// Bytes booked by the runtime's own accounting, and the device's `(free, total)` memory at
    /// the last sample (`None` where the backend reports none).
    pub fn memory_usage(&self) -> (u64, Option<(u64, u64)>) {
        self.resilience().monitor().memory_usage()
    }

    /// Takes the resilience events logged so far, oldest first.
    pub fn resilience_events(&self) -> Vec<ResilienceEvent> {
        self.resilience().monitor().drain_events()
    }

    /// Messages shed (refused for their target's priority) since the runtime started.
    pub fn shed_count(&self) -> u64 {
        self.resilience().monitor().shed_count()
    }
}
