//! [`CpuBackend`]: the [`ActorBackend`] contract on worker threads.

use ringkernel_core::backend::MAX_IN_PLACE_RESTARTS;
use ringkernel_core::checkpoint::ActorSnapshot;
use ringkernel_core::events::EventQueue;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_utils::CachePadded;
use ringkernel_core::{
    ActorBackend, ActorId, ActorVTable, AskError, BackendKind, BackendSignals, Envelope, Hlc,
    LifecycleState, PendingReply, ReplyOutcome, SendError, ShutdownError, ShutdownReport,
    SnapshotError, SpawnError, SpawnOptions,
};

use crate::asks::PendingAsks;
use crate::cell::ActorCell;
use crate::config::CpuConfig;
use crate::error::CpuError;
use crate::restart::InPlace;
use crate::sched::Scheduler;
use crate::shared::Shared;
use crate::table::ActorTable;
use crate::worker;

/// Deadline used when a backend is dropped without an explicit shutdown.
pub const DROP_DEADLINE: Duration = Duration::from_secs(2);

/// The least time shutdown gives idle workers to leave after it woke them.
const EXIT_GRACE: Duration = Duration::from_millis(50);

/// How long a snapshot waits to hold a busy actor.
const SNAPSHOT_DEADLINE: Duration = Duration::from_secs(5);

/// The CPU backend: actors run their native handlers on a pool of worker threads.
///
/// See `docs/semantics.md` for the guarantees; this type adds only CPU-specific facts:
/// an actor always runs on the same worker (`id % workers`), runs at most [`BATCH`] messages before
/// yielding that worker, and a handler panic counts as a handler failure with code
/// [`PANIC_CODE`].
///
/// [`BATCH`]: crate::BATCH
/// [`PANIC_CODE`]: crate::PANIC_CODE
///
/// ```
/// use ringkernel_cpu::{CpuBackend, CpuConfig};
/// use ringkernel_core::{ActorBackend, BackendKind};
///
/// let backend = CpuBackend::new(&[], CpuConfig::default().with_workers(1)).unwrap();
/// assert_eq!(backend.kind(), BackendKind::Cpu);
/// backend.shutdown(std::time::Duration::from_secs(1)).unwrap();
/// ```
#[derive(Debug)]
pub struct CpuBackend {
    shared: Arc<Shared>,
    /// Taken (once) by shutdown.
    handles: Mutex<Vec<JoinHandle<()>>>,
}

impl CpuBackend {
    /// Builds the backend for `types` (indexed by position) and starts its workers.
    pub fn new(types: &[ActorVTable], config: CpuConfig) -> Result<CpuBackend, CpuError> {
        config.validate()?;
        for vt in types {
            if vt.state_align > ringkernel_core::actor::MAX_STATE_ALIGN {
                return Err(CpuError::BadActorType {
                    name: vt.name,
                    source: ringkernel_core::CoreError::StateAlignment {
                        align: vt.state_align,
                        max: ringkernel_core::actor::MAX_STATE_ALIGN,
                    },
                });
            }
        }
        let workers = config.workers;
        let shared = Arc::new(Shared {
            types: types.into(),
            table: ActorTable::new(config.max_actors),
            asks: PendingAsks::new(config.max_pending_asks),
            sched: Scheduler::new(workers, config.max_actors)?,
            hlc: Hlc::default(),
            closed: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
            queued: CachePadded::new(AtomicU64::new(0)),
            processed: (0..workers)
                .map(|_| CachePadded::new(AtomicU64::new(0)))
                .collect(),
            dropped: AtomicU64::new(0),
            alive: AtomicUsize::new(0),
            events: Arc::default(),
            running: (0..workers).map(|_| CachePadded::default()).collect(),
            epoch: Instant::now(),
            config,
        });
        let backend = CpuBackend {
            shared: shared.clone(),
            handles: Mutex::new(Vec::with_capacity(workers)),
        };
        for me in 0..workers {
            shared.alive.fetch_add(1, Ordering::AcqRel);
            let s = shared.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("ringkernel-cpu-{me}"))
                .spawn(move || worker::run(s, me));
            match spawned {
                Ok(h) => {
                    shared.sched.set_thread(me, h.thread().clone());
                    lock(&backend.handles).push(h);
                }
                Err(e) => {
                    shared.alive.fetch_sub(1, Ordering::AcqRel);
                    // Dropping `backend` stops the workers already started.
                    return Err(CpuError::Thread(e));
                }
            }
        }
        Ok(backend)
    }

    /// The configuration in force.
    pub fn config(&self) -> &CpuConfig {
        &self.shared.config
    }

    /// Asks waiting for replies now (including timed-out asks whose request is still queued).
    pub fn pending_asks(&self) -> usize {
        self.shared.asks.len()
    }

    /// Messages processed so far.
    pub fn processed(&self) -> u64 {
        self.shared.processed_total()
    }

    /// Accepted messages dropped so far (target stopped or failed first, or shutdown).
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }

    /// A copy of a stopped actor's state bytes (`None` while it may still run, or for an unknown id).
    ///
    /// Only `Terminated` or `Failed` actors can be read (every actor is `Terminated` or `Failed`
    /// after a clean shutdown): a running actor's state belongs to its worker.
    pub fn stopped_state(&self, id: ActorId) -> Option<Vec<u8>> {
        let cell = self.shared.table.get(id.raw())?;
        if !cell.lifecycle.load().is_stopped() {
            return None;
        }
        // SAFETY: only the holder moves an actor to Terminated or Failed, after its last handler
        // call (or shutdown does, after joining the workers); the Acquire load above orders those
        // state writes before this read, and a stopped actor never runs a handler again.
        Some(unsafe { cell.state_bytes() })
    }

    /// Spawns at the next id, or at exactly `at` (a restore).
    fn spawn_at(
        &self,
        type_index: usize,
        state: &[u8],
        options: &SpawnOptions,
        at: Option<ActorId>,
        image: Option<&[u8]>,
    ) -> Result<ActorId, SpawnError> {
        let shared = &self.shared;
        if let Some(i) = options.restart {
            if i.max_restarts > MAX_IN_PLACE_RESTARTS {
                return Err(SpawnError::RestartPolicy {
                    asked: i.max_restarts,
                    max: MAX_IN_PLACE_RESTARTS,
                });
            }
        }
        if shared.closed.load(Ordering::Acquire) {
            return Err(SpawnError::ShutDown);
        }
        let vt = shared.types.get(type_index).ok_or_else(|| {
            SpawnError::Backend(format!("no actor type registered at index {type_index}"))
        })?;
        if state.len() != vt.state_size {
            return Err(SpawnError::BadState {
                len: state.len(),
                expected: vt.state_size,
            });
        }
        let image = image.unwrap_or(state);
        if image.len() != vt.state_size {
            return Err(SpawnError::BadState {
                len: image.len(),
                expected: vt.state_size,
            });
        }
        let idx = match at {
            None => shared.table.reserve().ok_or(SpawnError::TooManyActors {
                limit: shared.table.limit(),
            })?,
            Some(id) if shared.table.reserve_exact(id.raw()) => id.raw(),
            Some(id) => {
                return Err(SpawnError::Backend(format!(
                    "actor id {id} is taken (or beyond max_actors) in this runtime"
                )))
            }
        };
        let id = ActorId::from_raw(idx);
        // Cannot truncate: a registered message fits MAX_PAYLOAD (80) bytes.
        let msg_len = vt.msg_size as u16;
        let mut cell = ActorCell::new(
            id,
            type_index,
            vt.msg_type.0,
            msg_len,
            idx as usize % shared.sched.workers(),
            state,
            shared.config.mailbox_capacity,
        )
        .map_err(|e| SpawnError::Backend(e.to_string()))?;
        // A zero window counts as 1 ms, as on the GPU (it would otherwise allow every restart,
        // or, as this once did, silently none).
        cell.restart = options.restart.filter(|i| i.max_restarts > 0).map(|i| {
            let period = i.period.max(Duration::from_millis(1));
            Mutex::new(InPlace::new(
                ringkernel_core::supervision::Intensity { period, ..i },
                image,
            ))
        });
        // Dormant -> Initializing -> Active: on the CPU, initializing is the state copy above.
        cell.lifecycle
            .transition(LifecycleState::Initializing)
            .and_then(|_| cell.lifecycle.transition(LifecycleState::Active))
            .map_err(|e| SpawnError::Backend(e.to_string()))?;
        shared
            .table
            .insert(idx, cell)
            .ok_or_else(|| SpawnError::Backend(format!("actor table has no slot {idx}")))?;
        Ok(id)
    }

    /// A snapshot of one actor: its state and the messages queued for it, taken while this
    /// thread holds the actor (no worker runs it meanwhile; see `cell.rs`).
    fn snapshot_one(&self, id: ActorId) -> Result<ActorSnapshot, SnapshotError> {
        let shared = &self.shared;
        if shared.closed.load(Ordering::Acquire) {
            return Err(SnapshotError::ShutDown);
        }
        let cell = shared
            .table
            .get(id.raw())
            .ok_or(SnapshotError::UnknownActor(id))?;
        let type_name = shared
            .types
            .get(cell.type_index)
            .map_or("", |vt| vt.name)
            .to_owned();
        // A worker gives the hold up when the actor's mailbox runs empty, so under unbroken
        // traffic this can wait; it gives up after the deadline.
        let until = Instant::now() + SNAPSHOT_DEADLINE;
        while !cell.try_schedule() {
            if Instant::now() >= until {
                return Err(SnapshotError::Timeout(id));
            }
            std::thread::yield_now();
        }
        // SAFETY: we hold the actor (rule 2 in cell.rs): no worker touches its state, and we
        // are its mailbox's only consumer until the release below.
        let state = unsafe { cell.state_bytes() };
        let mut mailbox = Vec::new();
        // SAFETY: as above.
        unsafe { cell.mailbox.peek_into(&mut mailbox) };
        if cell.release_and_recheck() {
            shared.sched.enqueue(cell.home, id.raw());
        }
        Ok(ActorSnapshot {
            id,
            type_name,
            state,
            mailbox,
        })
    }

    fn cell(&self, id: ActorId) -> Result<&ActorCell, SendError> {
        self.shared
            .table
            .get(id.raw())
            .ok_or(SendError::UnknownActor(id))
    }

    /// Waits until `queued` is zero or `until` passes; returns whether it reached zero.
    fn drain(&self, until: Instant) -> bool {
        let mut pause = Duration::from_micros(20);
        loop {
            if self.shared.queued.load(Ordering::SeqCst) == 0 {
                return true;
            }
            let now = Instant::now();
            if now >= until {
                return false;
            }
            std::thread::sleep(pause.min(until - now));
            pause = (pause * 2).min(Duration::from_millis(2));
        }
    }

    /// Waits until every worker has exited or `until` passes.
    fn wait_workers(&self, until: Instant) -> bool {
        loop {
            if self.shared.alive.load(Ordering::Acquire) == 0 {
                return true;
            }
            if Instant::now() >= until {
                return false;
            }
            self.shared.sched.wake_all();
            std::thread::sleep(Duration::from_micros(200));
        }
    }

    /// Completes every ask still pending with `Dropped`.
    fn fail_pending_asks(&self) -> usize {
        let left = self.shared.asks.drain();
        let n = left.len();
        for (target, slot) in left {
            slot.complete(ReplyOutcome::Failed(AskError::Dropped(target)));
        }
        n
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // The vector of handles stays valid even if a holder panicked.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl ActorBackend for CpuBackend {
    fn kind(&self) -> BackendKind {
        BackendKind::Cpu
    }

    fn description(&self) -> String {
        let s = if self.shared.config.workers == 1 {
            ""
        } else {
            "s"
        };
        format!("cpu ({} worker thread{s})", self.shared.config.workers)
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
        self.spawn_at(type_index, state, options, None, None)
    }

    fn actors(&self) -> Vec<ActorId> {
        self.shared.table.iter().map(|c| c.id).collect()
    }

    fn type_index_of(&self, id: ActorId) -> Option<usize> {
        self.shared.table.get(id.raw()).map(|c| c.type_index)
    }

    fn snapshot(&self, ids: &[ActorId]) -> Result<Vec<ActorSnapshot>, SnapshotError> {
        ids.iter().map(|&id| self.snapshot_one(id)).collect()
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
        let id = self.spawn_at(
            type_index,
            &snapshot.state,
            options,
            Some(snapshot.id),
            image,
        )?;
        for env in &snapshot.mailbox {
            let mut e = *env;
            e.header.receiver = id.raw();
            e.header.flags = 0;
            e.header.correlation = 0;
            self.shared.push_restored(e).map_err(|err| {
                SpawnError::Backend(format!("restoring a message of {id}: {err}"))
            })?;
        }
        Ok(())
    }

    fn tell(&self, env: Envelope) -> Result<(), SendError> {
        self.shared.tell(env)
    }

    fn ask(&self, env: Envelope) -> Result<PendingReply, SendError> {
        self.shared.ask(env)
    }

    fn restart(&self, id: ActorId, state: &[u8]) -> Result<(), SpawnError> {
        let shared = &self.shared;
        if shared.closed.load(Ordering::Acquire) {
            return Err(SpawnError::ShutDown);
        }
        let cell = shared
            .table
            .get(id.raw())
            .ok_or(SpawnError::UnknownActor(id))?;
        let expected = shared
            .types
            .get(cell.type_index)
            .map_or(0, |vt| vt.state_size);
        if state.len() != expected {
            return Err(SpawnError::BadState {
                len: state.len(),
                expected,
            });
        }
        let now = cell.lifecycle.load();
        if !matches!(now, LifecycleState::Failed | LifecycleState::Terminated) {
            return Err(SpawnError::NotRestartable {
                actor: id,
                state: now,
            });
        }
        // Take the hold, so no worker touches the state while it is replaced. A worker that
        // holds a failed (or terminated) actor only drops its leftovers, so this wait is short.
        let until = Instant::now() + std::time::Duration::from_secs(1);
        while !cell.try_schedule() {
            if Instant::now() >= until {
                return Err(SpawnError::Backend(format!(
                    "actor {id} stayed held by a worker for 1 s"
                )));
            }
            std::thread::yield_now();
        }
        // Look again under the hold: a restart that won a race with this one has the actor
        // running, and its new messages and state must stay as they are.
        let now = cell.lifecycle.load();
        if !matches!(now, LifecycleState::Failed | LifecycleState::Terminated) {
            if cell.release_and_recheck() {
                shared.sched.enqueue(cell.home, id.raw());
            }
            return Err(SpawnError::NotRestartable {
                actor: id,
                state: now,
            });
        }
        // Leftovers from before the failure are dropped, as a worker would.
        let mut leftovers = [<Envelope as bytemuck::Zeroable>::zeroed(); 32];
        loop {
            // SAFETY: we hold the actor (rule 2 in cell.rs), so we are the mailbox's only consumer.
            let n = unsafe { cell.mailbox.pop_batch(&mut leftovers) };
            if n == 0 {
                break;
            }
            for env in &leftovers[..n] {
                shared.drop_message(id, env);
            }
            shared.queued.fetch_sub(n as u64, Ordering::SeqCst);
        }
        // SAFETY: we hold the actor (rule 2), so no other reference to its state exists.
        unsafe { cell.state_mut() }
            .bytes_mut()
            .copy_from_slice(state);
        // An in-place restart now restores what the actor was last started with.
        if let Some(r) = &cell.restart {
            r.lock().unwrap_or_else(|e| e.into_inner()).reset(state);
        }
        // Failed (or Terminated) -> Initializing -> Active: sends are accepted again from here.
        let restarted = cell
            .lifecycle
            .transition(LifecycleState::Initializing)
            .and_then(|_| cell.lifecycle.transition(LifecycleState::Active))
            .map_err(|e| SpawnError::Backend(e.to_string()));
        if cell.release_and_recheck() {
            shared.sched.enqueue(cell.home, id.raw());
        }
        restarted.map(|_| ())
    }

    fn stop(&self, id: ActorId) -> Result<(), SendError> {
        if self.shared.closed.load(Ordering::Acquire) {
            return Err(SendError::ShutDown);
        }
        let cell = self.cell(id)?;
        match cell.lifecycle.transition(LifecycleState::Draining) {
            Ok(_) => {
                // A worker must look at the actor even if its mailbox is empty, to terminate it.
                if cell.try_schedule() {
                    self.shared.sched.enqueue(cell.home, cell.id.raw());
                }
                Ok(())
            }
            Err(_) if cell.lifecycle.load() == LifecycleState::Draining => Ok(()),
            Err(_) => Err(SendError::Stopped(id)),
        }
    }

    fn events(&self) -> Option<Arc<EventQueue>> {
        Some(self.shared.events.clone())
    }

    fn signals(&self) -> BackendSignals {
        let s = &self.shared;
        let mut fill: f64 = 0.0;
        let mut allocated = 0u64;
        for cell in s.table.iter() {
            let cap = cell.mailbox.capacity().max(1);
            fill = fill.max(cell.mailbox.len() as f64 / cap as f64);
            let state = s.types.get(cell.type_index).map_or(0, |vt| vt.state_size);
            allocated += (state + cap * std::mem::size_of::<Envelope>()) as u64;
        }
        let now_ns = s.epoch.elapsed().as_nanos() as u64 + 1;
        let hung = s
            .running
            .iter()
            .filter_map(|r| {
                let since = r.since_ns.load(Ordering::Acquire);
                let running_for = Duration::from_nanos(now_ns.saturating_sub(since));
                (since != 0 && running_for >= s.config.watchdog).then(|| {
                    (
                        ActorId::from_raw(r.actor.load(Ordering::Relaxed)),
                        running_for,
                    )
                })
            })
            .collect();
        BackendSignals {
            max_queue_fill: fill,
            device_memory: None,
            allocated,
            liveness: None,
            hung,
            device_fault: None,
        }
    }

    fn state_of(&self, id: ActorId) -> Option<LifecycleState> {
        self.shared.table.get(id.raw()).map(|c| c.lifecycle.load())
    }

    /// Shuts down in three phases, all within `deadline`:
    /// 1. Close: new sends, asks, spawns and stops fail with `ShutDown` from now on.
    /// 2. Drain (up to 3/4 of `deadline`): workers keep processing what was accepted.
    /// 3. Stop workers (rest of `deadline`, at least 50 ms): each finishes the handler it is in
    ///    and exits; messages still queued are dropped (asks get `Dropped`) and counted in the
    ///    report.
    ///
    /// If a worker is still inside a handler at the deadline, every pending ask is completed with
    /// `Dropped` and [`ShutdownError::Hung`] is returned; the stuck thread is detached.
    fn shutdown(&self, deadline: Duration) -> Result<ShutdownReport, ShutdownError> {
        let shared = &self.shared;
        if shared.closed.swap(true, Ordering::SeqCst) {
            return Err(ShutdownError::AlreadyShutDown);
        }
        let drained = self.drain(ringkernel_core::deadline_after(
            deadline.saturating_mul(3) / 4,
        ));
        shared.stopping.store(true, Ordering::SeqCst);
        shared.sched.wake_all();
        // Idle workers leave within microseconds of the wake-up, but not within a zero
        // deadline: they get EXIT_GRACE, so only a handler that does not return is Hung.
        if !self.wait_workers(ringkernel_core::deadline_after(deadline.max(EXIT_GRACE))) {
            let stuck = shared.alive.load(Ordering::Acquire);
            let failed = self.fail_pending_asks();
            // Detach: the threads own an Arc of the shared state, so nothing dangles.
            lock(&self.handles).clear();
            return Err(ShutdownError::Hung(
                deadline,
                format!(
                    "{stuck} worker(s) still inside a handler; {failed} pending ask(s) completed \
                     with Dropped"
                ),
            ));
        }
        for h in lock(&self.handles).drain(..) {
            if h.join().is_err() {
                tracing::error!("a cpu worker thread panicked outside any handler");
            }
        }
        // All workers have exited, so this thread is now every mailbox's only consumer.
        let mut leftover = [bytemuck::Zeroable::zeroed(); crate::BATCH];
        for cell in shared.table.iter() {
            loop {
                // SAFETY: no worker is alive (checked above) and senders never pop, so this
                // thread is the only consumer.
                let n = unsafe { cell.mailbox.pop_batch(&mut leftover) };
                if n == 0 {
                    break;
                }
                for env in &leftover[..n] {
                    shared.drop_message(cell.id, env);
                }
                shared.queued.fetch_sub(n as u64, Ordering::SeqCst);
            }
            if cell.lifecycle.load() == LifecycleState::Active {
                let _ = cell.lifecycle.transition(LifecycleState::Draining);
            }
            if cell.lifecycle.load() == LifecycleState::Draining {
                let _ = cell.lifecycle.transition(LifecycleState::Terminated);
            }
        }
        // Every ask's envelope was processed or dropped above; this catches none in a correct
        // run, but an ask must never be left hanging.
        let orphans = self.fail_pending_asks();
        if orphans != 0 {
            tracing::error!(orphans, "asks without a queued message at shutdown");
        }
        if !drained {
            tracing::warn!(
                dropped = shared.dropped.load(Ordering::Relaxed),
                "shutdown deadline reached before the mailboxes drained"
            );
        }
        Ok(ShutdownReport {
            processed: shared.processed_total(),
            dropped: shared.dropped.load(Ordering::Relaxed),
        })
    }
}

impl Drop for CpuBackend {
    fn drop(&mut self) {
        if self.shared.closed.load(Ordering::Acquire) {
            return;
        }
        if let Err(e) = self.shutdown(DROP_DEADLINE) {
            tracing::error!(error = %e, "cpu backend did not shut down cleanly on drop");
        }
    }
}
