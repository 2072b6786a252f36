//! Hot reload: replace a registered actor type's handler in a running runtime
//! ([`Runtime::reload`](crate::Runtime::reload)), with monotonic versions, quiescence of the
//! messages in flight, and rollback when the new version fails.
//!
//! A persistent CUDA kernel cannot be patched while it runs, so a reload is a *generation swap*
//! on the recovery machinery ([`crate::recovery`]): the new handler goes into a new kernel (a new
//! CPU backend on the CPU), and the old one is quiesced and replaced. A runtime built without
//! [`RuntimeBuilder::recovery`](crate::RuntimeBuilder::recovery) refuses with
//! [`Error::ReloadUnavailable`].
//!
//! # What a reload does
//!
//! 1. **Version.** Versions are per registered type and start at 1. The offered version must be
//!    newer than the running one, else [`Error::StaleVersion`] and nothing changes.
//! 2. **Check, while the old version serves.** The factory checks that it could build a
//!    generation with the new handler ([`BackendFactory::check`]): on CUDA it generates the
//!    persistent kernel's source and compiles it with NVRTC for the device's arch (the PTX goes
//!    to NVRTC's cache, so the swap below does not compile again). A type without a CUDA
//!    handler, or one that does not compile, is refused with [`Error::ReloadRejected`]: nothing
//!    changed.
//! 3. **Swap (the pause).** Host sends wait (the switch's write lock). The live actors are given
//!    up to [`ReloadOptions::drain`] to process what they were sent, then every actor is cut
//!    (state plus the messages still queued for it: none is lost). The old generation is shut
//!    down, a new one built with the new handler, the cut restored into it (same ids, same
//!    `ActorRef`s, registry names and restart policies); the cut becomes the recovery base with
//!    an empty replay log. Sends go on, into the new version. [`ReloadReport::pause`] is this
//!    step; it is also where the slot keeps the old type's registered name, which checkpoints
//!    refer to.
//! 4. **Probe.** For [`ReloadOptions::probe`] the runtime watches the reloaded type's actors: a
//!    handler failure (the actor `Failed`, or restarted in place by its policy) or a device
//!    fault rolls the reload back. The probe is a time window only: a version that sees no
//!    messages during it commits untested, and a failure after it is an ordinary failure.
//!    Failures during the probe are held back from the event queue (a rollback undoes them, so
//!    no supervisor reacts to them).
//! 5. **Commit or rollback.** Commit: the version becomes the offered one and later fault
//!    recoveries build the new handler. Rollback (with sends waiting again): the new generation
//!    is given up, one with the old handler built, the cut restored and every host operation
//!    accepted since the swap replayed into it — the old version then has processed every
//!    message, those the new one failed on included. The version stays; the reload returns
//!    [`Error::ReloadRolledBack`] with the [`ReloadReport`].
//!
//! # What a rollback does not undo
//!
//! - Replies the new version sent during the probe were received; the replay runs those asks
//!   again on the old version and discards the second reply.
//! - Asks still waiting at the rollback fail with `AskError::DeviceLost` and are not replayed
//!   (their effect is rolled back, so they are safe to send again), as in a recovery.
//! - Sends to an actor the new version failed are refused from its failure until the rollback
//!   (about one [`RecoveryPolicy::poll`](super::RecoveryPolicy::poll)), as for any failed
//!   actor; they are not replayed.
//! - Effects of the new handler outside the actors' state.
//!
//! # Messages between actors, and asks queued at the cut
//!
//! The cut is the checkpoint cut of [`crate::recovery`]: actors one by one. On the CPU backend
//! there are no messages between actors; on CUDA a message sent on the device after its sender's
//! cut may be repeated in the new generation. Asks the drain did not reach are carried as
//! messages: the old generation answers them while it shuts down, and the new one processes
//! them again from the cut (its reply is discarded).
//!
//! # Interplay with recovery
//!
//! Reloads run one at a time. From the swap to the commit or rollback no recovery checkpoint is
//! taken (the cut is the rollback point) and the fault watcher leaves faults to the reload,
//! which rolls back. A reload refused because the device had faulted can be tried again once
//! the watcher recovered. If the rollback itself fails, the runtime is lost as after a failed
//! recovery (everything fails with `DeviceLost`).
//!
//! [`Error::ReloadUnavailable`]: crate::Error::ReloadUnavailable
//! [`Error::StaleVersion`]: crate::Error::StaleVersion
//! [`Error::ReloadRejected`]: crate::Error::ReloadRejected
//! [`Error::ReloadRolledBack`]: crate::Error::ReloadRolledBack
//! [`BackendFactory::check`]: super::BackendFactory::check

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use ringkernel_core::{ActorBackend, ActorVTable, LifecycleState};

use super::recover::{cut, Recoverer};
use super::switch::Switch;
use crate::error::Error;

/// How a reload quiesces and probes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReloadOptions {
    /// How long the new version is watched for failures before the reload commits (default
    /// 200 ms). Zero commits at once.
    pub probe: Duration,
    /// How long the swap waits, with sends held, for the messages already sent to be processed
    /// by the old version before it cuts; what is still queued then is carried over (default
    /// 50 ms).
    pub drain: Duration,
}

impl Default for ReloadOptions {
    fn default() -> Self {
        ReloadOptions {
            probe: Duration::from_millis(200),
            drain: Duration::from_millis(50),
        }
    }
}

/// What a reload did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReloadReport {
    /// The registered actor type.
    pub actor_type: &'static str,
    /// The version before.
    pub from: u64,
    /// The version offered (running now unless rolled back).
    pub to: u64,
    /// From holding sends to serving them with the new version (drain, cut, shutdown, build,
    /// restore).
    pub pause: Duration,
    /// Actors moved into the new generation (live ones and stopped ones).
    pub moved: usize,
    /// Messages still queued at the cut, carried into the new generation.
    pub carried: usize,
    /// How long the probe ran (shorter than [`ReloadOptions::probe`] when it failed).
    pub probed: Duration,
    /// How the reload was undone, if it was.
    pub rollback: Option<Rollback>,
}

/// A reload's rollback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rollback {
    /// The failure that caused it.
    pub reason: String,
    /// From holding sends to serving them with the old version again.
    pub took: Duration,
    /// Host operations accepted since the swap, replayed on the old version.
    pub replayed: usize,
    /// Asks still waiting at the rollback: failed with `DeviceLost`, not replayed.
    pub asks_failed: usize,
}

/// What a swap that left the new version probing measured.
struct Swapped {
    pause: Duration,
    moved: usize,
    carried: usize,
}

impl Recoverer {
    /// The handler version of registered type `type_index`.
    pub(crate) fn version(&self, type_index: usize) -> Option<u64> {
        lock(&self.versions).get(type_index).copied()
    }

    /// Replaces the handler of registered type `type_index` by `handler` as `version` (see the
    /// module docs). `handler` must have the registered type's layouts; it takes its name.
    pub(crate) fn reload(
        &self,
        type_index: usize,
        mut handler: ActorVTable,
        version: u64,
        options: &ReloadOptions,
    ) -> Result<ReloadReport, Error> {
        let _one_at_a_time = lock(&self.reload_lock);
        let mut types = self.types();
        let (Some(slot), Some(current)) = (types.get_mut(type_index), self.version(type_index))
        else {
            return Err(Error::Recovery(format!(
                "no registered type at index {type_index}"
            )));
        };
        let actor_type = slot.name;
        if version <= current {
            return Err(Error::StaleVersion {
                actor_type,
                current,
                offered: version,
            });
        }
        // Checkpoints and the registry know the type by its registered name.
        handler.name = actor_type;
        *slot = handler;
        let rejected = |reason: String| Error::ReloadRejected {
            actor_type,
            version,
            reason,
        };
        self.factory
            .check(&types)
            .map_err(|e| rejected(e.to_string()))?;

        let swapped = self
            .swap(type_index, &types, options)
            .map_err(|e| match e {
                Swap::Rejected(reason) => rejected(reason),
                Swap::Failed(e) => e,
                Swap::RolledBack(rollback) => Error::ReloadRolledBack {
                    actor_type,
                    version,
                    reason: rollback.reason.clone(),
                    report: Box::new(ReloadReport {
                        actor_type,
                        from: current,
                        to: version,
                        pause: rollback.took,
                        moved: 0,
                        carried: 0,
                        probed: Duration::ZERO,
                        rollback: Some(rollback),
                    }),
                },
            })?;

        let t_probe = Instant::now();
        let failure = self.probe(options.probe);
        let probed = t_probe.elapsed();

        let mut report = ReloadReport {
            actor_type,
            from: current,
            to: version,
            pause: swapped.pause,
            moved: swapped.moved,
            carried: swapped.carried,
            probed,
            rollback: None,
        };
        let t_end = Instant::now();
        let mut guard = self.switch.write();
        self.switch.forward_from(guard.as_ref());
        let failure = self
            .switch
            .end_probe()
            .or(failure)
            .or_else(|| guard.fault().map(|f| format!("the device faulted: {f}")))
            .or_else(|| failed_actor(guard.as_ref(), type_index));
        if self.switch.is_closed() {
            // Nothing to commit to or roll back into; the version stays.
            self.reloading.store(false, Ordering::Release);
            return Err(rejected("the runtime shut down during the probe".into()));
        }
        let Some(reason) = failure else {
            // Commit: from now on a recovery builds the new handler.
            *lock(&self.types) = types;
            if let Some(v) = lock(&self.versions).get_mut(type_index) {
                *v = version;
            }
            self.reloading.store(false, Ordering::Release);
            return Ok(report);
        };

        tracing::warn!(actor_type, version, %reason, "hot reload failed its probe: rolling back");
        let undone = self.recover_locked(&mut guard, reason.clone());
        self.reloading.store(false, Ordering::Release);
        let undone = undone.map_err(|e| {
            self.lost.store(true, Ordering::Release);
            Error::Recovery(format!(
                "rolling back the reload of `{actor_type}` to version {version} failed: {e}"
            ))
        })?;
        report.rollback = Some(Rollback {
            reason: reason.clone(),
            took: t_end.elapsed(),
            replayed: undone.replayed,
            asks_failed: undone.asks_not_replayed,
        });
        Err(Error::ReloadRolledBack {
            actor_type,
            version,
            reason,
            report: Box::new(report),
        })
    }

    /// Step 3 of the module docs: cut, replace the generation by one serving `types`, make the
    /// cut the base, start the probe. Holds sends throughout.
    fn swap(
        &self,
        type_index: usize,
        types: &[ActorVTable],
        options: &ReloadOptions,
    ) -> Result<Swapped, Swap> {
        let t0 = Instant::now();
        let mut guard = self.switch.write();
        if self.switch.is_closed() {
            return Err(Swap::Rejected("the runtime is shut down".into()));
        }
        if let Some(fault) = guard.fault() {
            return Err(Swap::Rejected(format!(
                "the device faulted ({fault}); try again once the runtime recovered"
            )));
        }
        let base = cut(guard.as_ref(), options.drain)
            .map_err(|e| Swap::Rejected(format!("cannot cut the running actors: {e}")))?;
        let moved = base.checkpoint.actors().len() + base.stopped.len();
        let carried = base
            .checkpoint
            .actors()
            .iter()
            .map(|s| s.mailbox.len())
            .sum();
        // Whatever the old generation said about its actors still reaches the supervisors.
        self.switch.forward_from(guard.as_ref());

        // From here the cut is the only copy of the actors: it becomes the base at once, so a
        // failure below falls back to the old handler from it.
        self.reloading.store(true, Ordering::Release);
        *lock(&self.base) = base.clone();
        let spawned = {
            let mut log = self.switch.log();
            log.entries.clear();
            log.spawned.clone()
        };
        let old = Switch::take_out(&mut guard);
        let built = self
            .factory
            .release(old, self.policy.release_wait)
            .and_then(|()| self.factory.build(types))
            .and_then(
                |new| match self.restore_base(new.as_ref(), &base, &spawned) {
                    Ok(()) => Ok(new),
                    Err(e) => {
                        let _ = self.factory.release(new, self.policy.release_wait);
                        Err(e)
                    }
                },
            );
        match built {
            Ok(new) => {
                self.switch.start_probe(type_index);
                *guard = new;
                Ok(Swapped {
                    pause: t0.elapsed(),
                    moved,
                    carried,
                })
            }
            Err(e) => {
                // The new version never ran: put the old one back from the cut.
                let reason = format!("building the new version's generation failed: {e}");
                let undone = self.recover_locked(&mut guard, reason.clone());
                self.reloading.store(false, Ordering::Release);
                match undone {
                    Ok(r) => Err(Swap::RolledBack(Rollback {
                        reason,
                        took: t0.elapsed(),
                        replayed: r.replayed,
                        asks_failed: r.asks_not_replayed,
                    })),
                    Err(again) => {
                        self.lost.store(true, Ordering::Release);
                        Err(Swap::Failed(Error::Recovery(format!(
                            "{reason}; rebuilding the old version failed too: {again}"
                        ))))
                    }
                }
            }
        }
    }

    /// Step 4: watches the new generation for `window`; the first failure of an actor of the
    /// probed type or a device fault ends it early.
    fn probe(&self, window: Duration) -> Option<String> {
        let until = ringkernel_core::deadline_after(window);
        let poll = self
            .policy
            .poll
            .clamp(Duration::from_micros(100), Duration::from_millis(10));
        loop {
            self.switch.forward_events();
            if let Some(f) = self.switch.probe_failure() {
                return Some(f);
            }
            let current = self.switch.read();
            if let Some(f) = current.fault() {
                return Some(format!("the device faulted: {f}"));
            }
            drop(current);
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            std::thread::sleep(poll.min(left));
        }
    }
}

/// Why a swap did not leave the new version probing.
enum Swap {
    /// Refused before anything changed.
    Rejected(String),
    /// The new generation could not be built; the old version runs again.
    RolledBack(Rollback),
    /// Neither could be built: the runtime is lost.
    Failed(Error),
}

/// A `type_index` actor that is `Failed` (a backstop for a failure event the bounded event
/// queue discarded).
fn failed_actor(b: &dyn ActorBackend, type_index: usize) -> Option<String> {
    b.actors()
        .into_iter()
        .find(|&id| {
            b.type_index_of(id) == Some(type_index)
                && b.state_of(id) == Some(LifecycleState::Failed)
        })
        .map(|id| format!("{id} failed"))
}

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
