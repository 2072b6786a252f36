//! [`Switch`]: the backend a recovering runtime hands out. It forwards every call to the
//! current generation of the real backend and records what the host did since the last
//! checkpoint, so a new generation can be rebuilt after a device fault.
//!
//! Locks: `current` before `log`. Every call holds `current` for reading while it runs and
//! records under `log`; a checkpoint or a recovery holds `current` for writing, so it sees no
//! send half done, and sends made meanwhile wait for it instead of failing.

use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use ringkernel_core::checkpoint::ActorSnapshot;
use ringkernel_core::events::EventQueue;
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
        }
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
        if let Some(q) = self.read().events() {
            for e in q.drain() {
                self.events.push(e);
            }
        }
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
        self.read().shutdown(deadline)
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
