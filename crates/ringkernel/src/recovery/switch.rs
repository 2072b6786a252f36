//! [`Switch`]: the backend a recovering runtime hands out. It forwards every call to the
//! current generation of the real backend and records what the host did since the last
//! checkpoint, so a new generation can be rebuilt after a device fault.
//!
//! Locks: `current` before `forwarding` before `probe`, and `current` before `log`. Every call
//! holds `current` for reading while it runs and records under `log`; a checkpoint, a recovery
//! or a hot reload's swap holds `current` for writing, so it sees no send half done, and sends
//! made meanwhile wait for it instead of failing.
//!
//! While a hot reload probes a new version ([`super::reload`]), the failures of the probed
//! type's actors are held back from the runtime-wide event queue: each one makes the reload roll
//! back, which undoes it, so no supervisor should react to it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use ringkernel_core::checkpoint::ActorSnapshot;
use ringkernel_core::events::{ActorEvent, EventQueue};
use ringkernel_core::{
    ActorBackend, ActorId, BackendKind, BackendSignals, DeadLetter, DeadLetterCounts, Envelope,
    LifecycleState, PendingReply, SendError, ShutdownError, ShutdownReport, SnapshotError,
    SpawnError, SpawnOptions,
};

use super::log::{Entry, ReplayLog};
use super::lost::Lost;

/// A backend whose generations can be replaced under the callers (see the module docs).
#[derive(Debug)]
pub(crate) struct Switch {
    current: RwLock<Arc<dyn ActorBackend>>,
    kind: BackendKind,
    log: Mutex<ReplayLog>,
    /// The events of every generation, forwarded by the watcher.
    events: Arc<EventQueue>,
    /// Held while a generation's events are moved, so two forwarders keep their order.
    forwarding: Mutex<()>,
    /// The probe of a hot reload in progress, if any.
    probe: Mutex<Option<Probe>>,
    /// Set by `shutdown`: a reload must not build a generation after it.
    closed: AtomicBool,
}

/// What a hot reload's probe watches: the failures of one actor type's actors.
#[derive(Debug)]
pub(crate) struct Probe {
    type_index: usize,
    /// The first failure seen (`actor: error`), if any.
    failure: Option<String>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Switch {
    pub(crate) fn new(first: Arc<dyn ActorBackend>) -> Self {
        Switch {
            kind: first.kind(),
            current: RwLock::new(first),
            log: Mutex::new(ReplayLog::default()),
            events: Arc::new(EventQueue::default()),
            forwarding: Mutex::new(()),
            probe: Mutex::new(None),
            closed: AtomicBool::new(false),
        }
    }

    /// Whether the runtime shut the switch down.
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    pub(crate) fn read(&self) -> RwLockReadGuard<'_, Arc<dyn ActorBackend>> {
        self.current.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Exclusive access: no call runs until the guard drops.
    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, Arc<dyn ActorBackend>> {
        self.current.write().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn log(&self) -> MutexGuard<'_, ReplayLog> {
        lock(&self.log)
    }

    /// Takes the current generation out, leaving one that refuses everything with
    /// `DeviceLost` (while recovering, or for good when recovery failed).
    pub(crate) fn take_out(
        guard: &mut RwLockWriteGuard<'_, Arc<dyn ActorBackend>>,
    ) -> Arc<dyn ActorBackend> {
        let kind = guard.kind();
        std::mem::replace(&mut **guard, Arc::new(Lost::new(kind)))
    }

    /// Moves the current generation's events into the runtime-wide queue.
    pub(crate) fn forward_events(&self) {
        self.forward_from(self.read().as_ref());
    }

    /// Moves `generation`'s events into the runtime-wide queue (the caller holds `current`, for
    /// reading or writing), holding back the probed type's failures.
    pub(crate) fn forward_from(&self, generation: &dyn ActorBackend) {
        let Some(q) = generation.events() else {
            return;
        };
        let _order = lock(&self.forwarding);
        for e in q.drain() {
            if let ActorEvent::Failed { actor, error } | ActorEvent::Restarted { actor, error } = e
            {
                let mut probe = lock(&self.probe);
                if let Some(p) = probe
                    .as_mut()
                    .filter(|p| generation.type_index_of(actor) == Some(p.type_index))
                {
                    p.failure
                        .get_or_insert_with(|| format!("{actor} failed: {error}"));
                    continue;
                }
            }
            self.events.push(e);
        }
    }

    /// Starts holding back and recording the failures of `type_index`'s actors.
    pub(crate) fn start_probe(&self, type_index: usize) {
        *lock(&self.probe) = Some(Probe {
            type_index,
            failure: None,
        });
    }

    /// The first failure the probe saw so far.
    pub(crate) fn probe_failure(&self) -> Option<String> {
        lock(&self.probe).as_ref().and_then(|p| p.failure.clone())
    }

    /// Ends the probe; returns its first failure.
    pub(crate) fn end_probe(&self) -> Option<String> {
        lock(&self.probe).take().and_then(|p| p.failure)
    }

    fn record(&self, entry: Entry) {
        self.log().push(entry);
    }
}

impl ActorBackend for Switch {
    fn kind(&self) -> BackendKind {
        self.kind
    }

    fn description(&self) -> String {
        format!(
            "{} (recovering from device faults)",
            self.read().description()
        )
    }

    fn spawn(&self, type_index: usize, state: &[u8]) -> Result<ActorId, SpawnError> {
        self.spawn_with(type_index, state, &SpawnOptions::default())
    }

    fn spawn_with(
        &self,
        type_index: usize,
        state: &[u8],
        options: &SpawnOptions,
    ) -> Result<ActorId, SpawnError> {
        let b = self.read();
        let id = b.spawn_with(type_index, state, options)?;
        self.record(Entry::Spawn {
            type_index,
            id,
            state: state.to_vec(),
            options: *options,
        });
        Ok(id)
    }

    fn tell(&self, env: Envelope) -> Result<(), SendError> {
        let b = self.read();
        b.tell(env)?;
        self.record(Entry::Tell(env));
        Ok(())
    }

    fn tell_batch(&self, envs: &[Envelope]) -> Result<usize, SendError> {
        let b = self.read();
        let n = b.tell_batch(envs)?;
        let mut log = self.log();
        for env in envs.iter().take(n) {
            log.push(Entry::Tell(*env));
        }
        Ok(n)
    }

    fn ask(&self, env: Envelope) -> Result<PendingReply, SendError> {
        let b = self.read();
        let pending = b.ask(env)?;
        self.record(Entry::Ask(env, pending.watch()));
        Ok(pending)
    }

    fn stop(&self, id: ActorId) -> Result<(), SendError> {
        let b = self.read();
        b.stop(id)?;
        self.record(Entry::Stop(id));
        Ok(())
    }

    fn restart(&self, id: ActorId, state: &[u8]) -> Result<(), SpawnError> {
        let b = self.read();
        b.restart(id, state)?;
        self.record(Entry::Restart {
            id,
            state: state.to_vec(),
        });
        Ok(())
    }

    fn state_of(&self, id: ActorId) -> Option<LifecycleState> {
        self.read().state_of(id)
    }

    fn shutdown(&self, deadline: Duration) -> Result<ShutdownReport, ShutdownError> {
        let b = self.read();
        self.closed.store(true, Ordering::Release);
        b.shutdown(deadline)
    }

    fn drain_dead_letters(&self) -> Vec<DeadLetter> {
        self.read().drain_dead_letters()
    }

    fn dead_letter_counts(&self) -> DeadLetterCounts {
        self.read().dead_letter_counts()
    }

    fn actors(&self) -> Vec<ActorId> {
        self.read().actors()
    }

    fn type_index_of(&self, id: ActorId) -> Option<usize> {
        self.read().type_index_of(id)
    }

    fn snapshot(&self, ids: &[ActorId]) -> Result<Vec<ActorSnapshot>, SnapshotError> {
        self.read().snapshot(ids)
    }

    fn restore(&self, type_index: usize, snapshot: &ActorSnapshot) -> Result<(), SpawnError> {
        self.restore_with(type_index, snapshot, &SpawnOptions::default(), None)
    }

    fn restore_with(
        &self,
        type_index: usize,
        snapshot: &ActorSnapshot,
        options: &SpawnOptions,
        image: Option<&[u8]>,
    ) -> Result<(), SpawnError> {
        let b = self.read();
        b.restore_with(type_index, snapshot, options, image)?;
        // Replayed as a spawn of the saved state followed by its saved messages.
        let mut log = self.log();
        log.push(Entry::Spawn {
            type_index,
            id: snapshot.id,
            state: snapshot.state.clone(),
            options: *options,
        });
        if let (Some(image), Some(s)) = (image, log.spawned.get_mut(&snapshot.id)) {
            s.image = image.to_vec();
        }
        for env in &snapshot.mailbox {
            log.entries.push(Entry::Tell(*env));
        }
        Ok(())
    }

    fn events(&self) -> Option<Arc<EventQueue>> {
        Some(self.events.clone())
    }

    fn signals(&self) -> BackendSignals {
        self.read().signals()
    }

    fn fault(&self) -> Option<String> {
        self.read().fault()
    }
}
