//! Live snapshots of actors inside the running persistent kernel, and restore into a new one.
//!
//! **Snapshot.** The host queues a SNAPSHOT control message in the actor's mailbox. When the
//! block reaches it — after every message queued before it, before any queued after — the whole
//! warp copies the actor's state into the block's snapshot slot in device memory
//! (`KernelParams::snap_pool`), lane 0 copies the K2K inbox's published but untaken messages
//! behind it, and the block answers SNAPSHOTTED (echoing the request's token, with the number of
//! inbox messages) after a system fence. The host then copies the slot out. So a snapshot is a
//! consistent cut of one actor: its state after exactly the messages before the request, plus
//! the device messages it had been sent but not yet taken. The actor never stops serving: it
//! carries on with the next message right after the copy.
//!
//! Several actors are snapshotted together by queueing every request first and collecting the
//! answers after, so their copies overlap. One snapshot runs at a time per backend (they share
//! nothing but the answer map; the lock keeps the protocol simple).
//!
//! **Restore** (into a fresh runtime): the actor is spawned into the block of the same id with
//! the snapshot's state, and its saved inbox messages are queued in its mailbox verbatim (sender
//! and stamp kept), ahead of anything sent after the restore. The host clock merges the
//! snapshot's newest stamp first, so new stamps follow the old ones.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use ringkernel_core::backend::SnapshotError;
use ringkernel_core::checkpoint::ActorSnapshot;
use ringkernel_core::{ActorId, Envelope, HlcTimestamp, LifecycleState, SpawnError, SpawnOptions};

use super::{lock, CudaBackend};
use crate::layout::control;

/// How long a snapshot waits for each block's answer.
pub(crate) const SNAPSHOT_DEADLINE: Duration = Duration::from_secs(10);

impl CudaBackend {
    /// Snapshots `ids` (see the module docs). Fails for an unknown or never-started actor, when
    /// the runtime has no snapshot slots ([`crate::CudaConfig::snapshots`] off), or when an
    /// answer does not come in time.
    pub(crate) fn snapshot_actors(
        &self,
        ids: &[ActorId],
    ) -> Result<Vec<ActorSnapshot>, SnapshotError> {
        let s = &self.shared;
        if !s.dev.has_snapshots() {
            return Err(SnapshotError::Unsupported(
                "snapshots (CudaConfig::snapshots is off)",
            ));
        }
        let _one_at_a_time = lock(&s.snapshot_lock);
        if s.closing.load(Ordering::Acquire) {
            return Err(SnapshotError::ShutDown);
        }
        let until = Instant::now() + SNAPSHOT_DEADLINE;
        // 1. Queue every request.
        let mut asked = Vec::with_capacity(ids.len());
        for &id in ids {
            let entry = s.actors.get(id).ok_or(SnapshotError::UnknownActor(id))?;
            let type_index = entry.type_index.load(Ordering::Acquire) as usize;
            let vt = s
                .types
                .get(type_index)
                .ok_or(SnapshotError::UnknownActor(id))?;
            let token = s.next_correlation.fetch_add(1, Ordering::Relaxed);
            while !self.control(
                id.raw() as usize,
                id,
                control::SNAPSHOT,
                &token.to_le_bytes(),
            ) {
                if Instant::now() >= until {
                    return Err(SnapshotError::Timeout(id));
                }
                std::thread::yield_now();
            }
            asked.push((
                id,
                token,
                vt.name,
                vt.state_size,
                entry.public_id.load(Ordering::Acquire),
            ));
        }
        // 2. Collect the answers, then copy each slot out.
        let mut out = Vec::with_capacity(asked.len());
        for (id, token, type_name, state_size, public) in asked {
            let count = loop {
                let answer = match lock(&s.snapshots).get(&id.raw()) {
                    Some(&(t, count)) if t == token => Some(count),
                    _ => None,
                };
                if let Some(count) = answer {
                    lock(&s.snapshots).remove(&id.raw());
                    break count;
                }
                if s.finished.load(Ordering::Acquire) {
                    return Err(SnapshotError::ShutDown);
                }
                if Instant::now() >= until {
                    return Err(SnapshotError::Timeout(id));
                }
                std::thread::sleep(Duration::from_micros(10));
            };
            if count == u64::MAX {
                return Err(SnapshotError::Unsupported("snapshots (no snapshot slots)"));
            }
            let (state, mailbox) = s
                .dev
                .read_snapshot(id.raw() as usize, state_size, count as usize)
                .map_err(|e| SnapshotError::Backend(e.to_string()))?;
            out.push(ActorSnapshot {
                id: ActorId::from_raw(public),
                type_name: type_name.to_owned(),
                state,
                mailbox,
            });
        }
        Ok(out)
    }

    /// Restores one snapshot into this (fresh) runtime as actor `snap.id` of `type_index`.
    pub(crate) fn restore_actor(
        &self,
        type_index: usize,
        snap: &ActorSnapshot,
        options: &SpawnOptions,
        image: Option<&[u8]>,
    ) -> Result<(), SpawnError> {
        let policy = super::device_policy(options)?;
        let s = &self.shared;
        let vt = s
            .types
            .get(type_index)
            .ok_or(SpawnError::NotRegistered("<unknown type index>"))?;
        if let Some(bad) = image.filter(|i| i.len() != vt.state_size) {
            return Err(SpawnError::BadState {
                len: bad.len(),
                expected: vt.state_size,
            });
        }
        if snap.state.len() != vt.state_size {
            return Err(SpawnError::BadState {
                len: snap.state.len(),
                expected: vt.state_size,
            });
        }
        if let Some(bad) = snap.mailbox.iter().find(|e| {
            e.header.type_id != vt.msg_type.0 || usize::from(e.header.payload_len) != vt.msg_size
        }) {
            return Err(SpawnError::Backend(format!(
                "snapshot of {} holds a message of type {:#x}, not `{}`'s",
                snap.id, bad.header.type_id, vt.name
            )));
        }
        if snap.mailbox.len() > s.dev.mailbox_capacity() {
            return Err(SpawnError::Backend(format!(
                "snapshot of {} holds {} messages; the mailbox takes {}",
                snap.id,
                snap.mailbox.len(),
                s.dev.mailbox_capacity()
            )));
        }
        if s.closing.load(Ordering::Acquire) {
            return Err(SpawnError::ShutDown);
        }
        let id = snap.id;
        if !s.actors.reserve_exact(id) {
            return Err(SpawnError::Backend(format!(
                "actor id {id} is taken (or beyond the blocks) in this runtime"
            )));
        }
        // New stamps must follow the restored ones.
        if let Some(newest) = snap.mailbox.iter().map(|e| e.header.hlc).max() {
            let _ = s.hlc.merge(HlcTimestamp::from_raw(newest));
        }
        self.place_state(id, &snap.state, policy)?;
        if let (Some(_), Some(image)) = (policy, image) {
            s.dev
                .write_image(id.raw() as usize, image)
                .map_err(|e| SpawnError::Backend(e.to_string()))?;
        }
        self.activate(id, type_index, id.raw(), None)?;
        for env in &snap.mailbox {
            let mut e: Envelope = *env;
            e.header.receiver = id.raw();
            e.header.flags = 0;
            e.header.correlation = 0;
            if !s.dev.push(id.raw() as usize, &e) {
                return Err(SpawnError::Backend(format!(
                    "mailbox of restored actor {id} filled up"
                )));
            }
        }
        debug_assert_eq!(
            s.actors.get(id).map(|e| e.lifecycle.load()),
            Some(LifecycleState::Active)
        );
        Ok(())
    }
}
