//! [`Recoverer`]: checkpoints (the recovery base) and the recovery itself — give the faulted
//! generation back, build a new one, restore the base, replay the log.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLockWriteGuard};
use std::time::{Duration, Instant};

use ringkernel_core::checkpoint::{ActorSnapshot, Checkpoint};
use ringkernel_core::{
    ActorBackend, ActorId, ActorVTable, AskError, LifecycleState, SendError, Settled, SpawnOptions,
};

use super::factory::BackendFactory;
use super::log::{Entry, Spawned};
use super::switch::Switch;
use super::{RecoveryPolicy, RecoveryReport};
use crate::error::Error;

/// The state a recovery goes back to.
#[derive(Debug, Clone, Default)]
pub(crate) struct Base {
    pub(crate) checkpoint: Checkpoint,
    /// Actors that had stopped or failed by then: they come back stopped, so their ids stay
    /// taken.
    pub(crate) stopped: Vec<(ActorId, usize)>,
}

/// How a replay into a new generation ended.
enum Replay {
    /// Everything replayed; the entries the new log starts with.
    Done(Vec<Entry>),
    /// The device faulted right after entry `i` (replayed one by one).
    Poison(usize),
    /// The device faulted.
    Faulted,
}

#[derive(Debug)]
pub(crate) struct Recoverer {
    pub(crate) switch: Arc<Switch>,
    pub(crate) factory: Arc<dyn BackendFactory>,
    /// The registered types each generation serves (a hot reload replaces one).
    pub(crate) types: Mutex<Vec<ActorVTable>>,
    /// Each registered type's handler version, by index: 1 when built, raised by each
    /// committed hot reload. Written under `switch`'s write lock, with `types`.
    pub(crate) versions: Mutex<Vec<u64>>,
    pub(crate) policy: RecoveryPolicy,
    pub(crate) base: Mutex<Base>,
    generation: AtomicU64,
    /// Set (under `switch`'s write lock) while a hot reload owns the generation — from its swap
    /// to its commit or rollback. Meanwhile no checkpoint replaces the base (the rollback goes
    /// back to it) and the watcher leaves faults to the reload (it rolls back).
    pub(crate) reloading: AtomicBool,
    /// One hot reload at a time.
    pub(crate) reload_lock: Mutex<()>,
    /// Set when a recovery (or a reload's rollback) failed: the runtime runs on `Lost` for good.
    pub(crate) lost: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Recoverer {
    pub(crate) fn new(
        switch: Arc<Switch>,
        factory: Arc<dyn BackendFactory>,
        types: Vec<ActorVTable>,
        policy: RecoveryPolicy,
    ) -> Self {
        Recoverer {
            switch,
            factory,
            versions: Mutex::new(vec![1; types.len()]),
            types: Mutex::new(types),
            policy,
            base: Mutex::new(Base::default()),
            generation: AtomicU64::new(0),
            reloading: AtomicBool::new(false),
            reload_lock: Mutex::new(()),
            lost: AtomicBool::new(false),
        }
    }

    /// The registered types, by index.
    pub(crate) fn types(&self) -> Vec<ActorVTable> {
        lock(&self.types).clone()
    }

    fn name_of(&self, type_index: usize) -> String {
        lock(&self.types)
            .get(type_index)
            .map_or("", |vt| vt.name)
            .to_owned()
    }

    fn index_of(&self, name: &str) -> Option<usize> {
        lock(&self.types).iter().position(|vt| vt.name == name)
    }

    /// Takes a checkpoint as the new recovery base and empties the log. Sends wait meanwhile,
    /// so the cut between base and log is exact.
    pub(crate) fn checkpoint(&self) -> Result<usize, Error> {
        let guard = self.switch.write();
        // The base is a reload's rollback point until it commits or rolls back.
        if self.reloading.load(Ordering::Acquire) {
            return Err(Error::Recovery(
                "a hot reload is probing a new version; checkpoints wait until it ends".into(),
            ));
        }
        let b: &dyn ActorBackend = &**guard;
        if let Some(why) = b.fault() {
            return Err(Error::Recovery(format!(
                "cannot checkpoint a faulted device: {why}"
            )));
        }
        let base = cut(b, Duration::ZERO)?;
        let n = base.checkpoint.actors().len();
        *lock(&self.base) = base;
        self.switch.log().entries.clear();
        Ok(n)
    }

    /// Replaces the faulted generation (see [`crate::recovery`]). On an error the runtime is
    /// left on a backend that refuses everything with `DeviceLost`. `Ok(None)`: a hot reload
    /// owns the generation (it rolls back from the fault itself).
    pub(crate) fn recover(&self, fault: String) -> Result<Option<RecoveryReport>, Error> {
        let mut guard = self.switch.write();
        if self.reloading.load(Ordering::Acquire) {
            return Ok(None);
        }
        self.recover_locked(&mut guard, fault).map(Some)
    }

    /// [`recover`](Self::recover) with `current` held: gives the current generation up, builds
    /// one serving the registered types, restores the base and replays the log (a reload's
    /// rollback does exactly this).
    pub(crate) fn recover_locked(
        &self,
        guard: &mut RwLockWriteGuard<'_, Arc<dyn ActorBackend>>,
        fault: String,
    ) -> Result<RecoveryReport, Error> {
        let t0 = Instant::now();
        let old = Switch::take_out(guard);
        let (entries, spawned) = {
            let mut log = self.switch.log();
            (std::mem::take(&mut log.entries), log.spawned.clone())
        };
        // Asks the device never answered: their effect is gone with its state.
        let mut dropped_asks = 0;
        for e in &entries {
            if let Entry::Ask(env, watch) = e {
                if watch.settled() == Settled::Waiting {
                    watch.fail(AskError::DeviceLost(env.receiver()));
                }
                if !e.replayed() {
                    dropped_asks += 1;
                }
            }
        }
        let todo: Vec<Entry> = entries.into_iter().filter(Entry::replayed).collect();
        self.factory.release(old, self.policy.release_wait)?;
        let base = lock(&self.base).clone();
        let mut skip = HashSet::new();
        let mut poisoned = Vec::new();
        for _ in 0..self.policy.max_attempts.max(1) {
            let new = self.factory.build(&self.types())?;
            let outcome = self
                .restore_base(new.as_ref(), &base, &spawned)
                .map(|()| self.replay(new.as_ref(), &todo, &skip));
            match outcome {
                Ok(Replay::Done(kept)) if ran_clean(new.as_ref()) => {
                    **guard = new;
                    self.switch.log().entries = kept;
                    let generation = self.generation.fetch_add(1, Ordering::AcqRel) + 1;
                    return Ok(RecoveryReport {
                        generation,
                        fault,
                        took: t0.elapsed(),
                        restored: base.checkpoint.actors().len(),
                        replayed: todo.len() - skip.len(),
                        asks_not_replayed: dropped_asks,
                        poisoned,
                    });
                }
                Ok(Replay::Poison(i)) => {
                    skip.insert(i);
                    poisoned.extend(todo.get(i).and_then(Entry::message).copied());
                }
                Ok(_) => {}
                // Not a fault of the new generation: recovering again would fail the same way.
                Err(e) if new.fault().is_none() => {
                    let _ = self.factory.release(new, self.policy.release_wait);
                    return Err(e);
                }
                Err(_) => {}
            }
            // Faulted again: the next generation leaves the poison out.
            self.factory.release(new, self.policy.release_wait)?;
        }
        Err(Error::Recovery(format!(
            "the device faulted again in each of {} attempts",
            self.policy.max_attempts.max(1)
        )))
    }

    /// Puts the base's actors into `new`: live ones with state, saved messages and spawn
    /// options; stopped ones stopped.
    pub(crate) fn restore_base(
        &self,
        new: &dyn ActorBackend,
        base: &Base,
        spawned: &std::collections::HashMap<ActorId, Spawned>,
    ) -> Result<(), Error> {
        // In id order, live and stopped together: a backend may hand out ids only upwards
        // (the CUDA backend's blocks do).
        let mut all: Vec<(ActorId, Option<&ActorSnapshot>, usize)> = Vec::new();
        for snap in base.checkpoint.actors() {
            let ti = self
                .index_of(&snap.type_name)
                .ok_or_else(|| Error::UnknownActorType(snap.type_name.clone()))?;
            all.push((snap.id, Some(snap), ti));
        }
        all.extend(base.stopped.iter().map(|&(id, ti)| (id, None, ti)));
        all.sort_by_key(|(id, _, _)| id.raw());
        for (id, snap, ti) in all {
            match snap {
                Some(snap) => {
                    let (options, image) = match spawned.get(&id) {
                        Some(s) if s.options.restart.is_some() => {
                            (s.options, Some(s.image.as_slice()))
                        }
                        Some(s) => (s.options, None),
                        None => (SpawnOptions::default(), None),
                    };
                    new.restore_with(ti, snap, &options, image)?;
                }
                None => {
                    let size = lock(&self.types).get(ti).map_or(0, |vt| vt.state_size);
                    let snap = ActorSnapshot {
                        id,
                        type_name: self.name_of(ti),
                        state: vec![0; size],
                        mailbox: Vec::new(),
                    };
                    new.restore_with(ti, &snap, &SpawnOptions::default(), None)?;
                    new.stop(id)
                        .map_err(|e| Error::Recovery(format!("stopping restored {id}: {e}")))?;
                }
            }
        }
        Ok(())
    }

    /// Replays `todo` (but the entries in `skip`) into `new`, one entry at a time: after each
    /// message it waits until the target processed it, and stops at the first fault. So a
    /// message that faults the device again is found in the first new generation — a fast
    /// replay that faulted would cost another generation, far more than the waits.
    fn replay(&self, new: &dyn ActorBackend, todo: &[Entry], skip: &HashSet<usize>) -> Replay {
        let mut kept = Vec::with_capacity(todo.len());
        for (i, e) in todo.iter().enumerate() {
            if skip.contains(&i) {
                continue;
            }
            let entry = match e {
                Entry::Tell(env) => match retry_full(|| new.tell(*env)) {
                    Ok(()) => Entry::Tell(*env),
                    Err(err) => {
                        if let Some(r) = lost(new, err) {
                            return r;
                        }
                        continue;
                    }
                },
                Entry::Ask(env, _) => match retry_full(|| new.ask(*env)) {
                    // The reply is nobody's any more; the watch decides the next replay.
                    Ok(pending) => Entry::Ask(*env, pending.watch()),
                    Err(err) => {
                        if let Some(r) = lost(new, err) {
                            return r;
                        }
                        continue;
                    }
                },
                Entry::Spawn {
                    type_index,
                    id,
                    state,
                    options,
                } => {
                    let snap = ActorSnapshot {
                        id: *id,
                        type_name: self.name_of(*type_index),
                        state: state.clone(),
                        mailbox: Vec::new(),
                    };
                    if let Err(err) = new.restore_with(*type_index, &snap, options, None) {
                        tracing::warn!(actor = %id, error = %err, "recovery: spawn not replayed");
                    }
                    e.clone()
                }
                Entry::Restart { id, state } => {
                    if let Err(err) = new.restart(*id, state) {
                        tracing::warn!(actor = %id, error = %err, "recovery: restart not replayed");
                    }
                    e.clone()
                }
                Entry::Stop(id) => {
                    let _ = new.stop(*id);
                    e.clone()
                }
            };
            kept.push(entry);
            if let Some(env) = e.message() {
                // The target answers a snapshot after every message queued before it.
                let _ = new.snapshot(&[env.receiver()]);
                if new.fault().is_some() {
                    return Replay::Poison(i);
                }
            }
        }
        Replay::Done(kept)
    }
}

/// `Some(Faulted)` when a replayed send failed because the device faulted again; other
/// failures (the target had stopped, as it had in the first run) skip the entry.
fn lost(new: &dyn ActorBackend, err: SendError) -> Option<Replay> {
    if err == SendError::DeviceLost || new.fault().is_some() {
        return Some(Replay::Faulted);
    }
    tracing::warn!(error = %err, "recovery: message not replayed");
    None
}

/// Retries a send while the mailbox is full (the new generation drains it), up to 10 s.
fn retry_full<T>(mut send: impl FnMut() -> Result<T, SendError>) -> Result<T, SendError> {
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        match send() {
            Err(SendError::Full(_)) if Instant::now() < until => std::thread::yield_now(),
            r => return r,
        }
    }
}

/// Whether `new` processed everything replayed into it without faulting (a snapshot of every
/// live actor answers only after the messages queued before it).
fn ran_clean(new: &dyn ActorBackend) -> bool {
    let live = crate::runtime::live_actors(new);
    let _ = new.snapshot(&live);
    new.fault().is_none()
}

/// Snapshots every actor of `b` as a base: live ones with state and queued messages, the others
/// as stopped. With `drain`, first waits up to that long for the live actors' mailboxes to run
/// empty (the caller holds `current` for writing, so no host send adds to them), so that what
/// was sent before is processed by the generation it was sent to.
pub(crate) fn cut(b: &dyn ActorBackend, drain: Duration) -> Result<Base, Error> {
    let (mut live, mut stopped) = (Vec::new(), Vec::new());
    for id in b.actors() {
        match b.state_of(id) {
            Some(LifecycleState::Active | LifecycleState::Draining) => live.push(id),
            Some(_) => {
                if let Some(t) = b.type_index_of(id) {
                    stopped.push((id, t));
                }
            }
            None => {}
        }
    }
    let until = ringkernel_core::deadline_after(drain);
    let mut snaps = b.snapshot(&live)?;
    while Instant::now() < until && snaps.iter().any(|s| !s.mailbox.is_empty()) {
        std::thread::sleep(Duration::from_micros(100));
        snaps = b.snapshot(&live)?;
    }
    Ok(Base {
        checkpoint: Checkpoint::new(snaps)?,
        stopped,
    })
}
