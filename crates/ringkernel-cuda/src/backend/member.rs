//! What a multi-GPU runtime (`crate::multi`) asks of one GPU's backend beyond `ActorBackend`:
//! freezing an actor for migration, undoing that, retiring a block whose actor moved away.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use ringkernel_core::{ActorId, LifecycleState};

use super::{lock, CudaBackend};
use crate::device::DeviceRuntime;
use crate::error::CudaError;
use crate::layout::control;

impl CudaBackend {
    /// The device half (addresses, route table, peer directory).
    pub(crate) fn device(&self) -> &DeviceRuntime {
        &self.shared.dev
    }

    /// Bytes of state of registered type `type_index`.
    pub(crate) fn state_size(&self, type_index: usize) -> Option<usize> {
        self.shared.types.get(type_index).map(|t| t.state_size)
    }

    /// Blocks still free for new actors (a block is never reused, also after a migration).
    /// Block `id`'s packed in-place restart policy (0: none).
    pub(crate) fn restart_policy(&self, id: ActorId) -> u64 {
        self.shared
            .actors
            .slot(id)
            .map_or(0, |e| e.restart_policy.load(Ordering::Acquire))
    }

    /// Gives block `id` a restart image and policy (a migrated actor keeps its own).
    pub(crate) fn set_restart(
        &self,
        id: ActorId,
        image: &[u8],
        policy: u64,
    ) -> Result<(), CudaError> {
        self.shared.dev.write_image(id.raw() as usize, image)?;
        if let Some(e) = self.shared.actors.slot(id) {
            e.restart_policy.store(policy, Ordering::Release);
        }
        Ok(())
    }

    pub(crate) fn free_blocks(&self) -> usize {
        self.shared.actors.free()
    }

    /// Freezes actor `id` for migration: after the messages already in its mailbox it stops
    /// taking K2K messages and keeps its state; host sends to it are refused meanwhile
    /// (`Draining`). Returns its K2K inbox head (messages taken) and its clock (HLC) once the
    /// block confirmed. When the block does not confirm within `deadline` (a long handler), the
    /// freeze is undone: a THAW is queued behind the MIGRATE, so the actor runs on either way.
    pub(crate) fn freeze(&self, id: ActorId, deadline: Duration) -> Result<(u64, u64), CudaError> {
        let s = &self.shared;
        let entry = s
            .actors
            .get(id)
            .ok_or_else(|| CudaError::Config(format!("no actor {id}")))?;
        entry
            .lifecycle
            .transition(LifecycleState::Draining)
            .map_err(|_| CudaError::Config(format!("actor {id} is not active")))?;
        // The answer echoes the token, so a late answer to an earlier request is never taken.
        let token = s.next_correlation.fetch_add(1, Ordering::Relaxed);
        let until = ringkernel_core::deadline_after(deadline);
        while !self.control(
            id.raw() as usize,
            id,
            control::MIGRATE,
            &token.to_le_bytes(),
        ) {
            if Instant::now() >= until {
                let _ = entry.lifecycle.transition(LifecycleState::Active);
                return Err(CudaError::Config(format!(
                    "mailbox of actor {id} stayed full for {deadline:?}"
                )));
            }
            std::thread::yield_now();
        }
        loop {
            let answer = match lock(&s.frozen).get(&id.raw()) {
                Some(&(t, answer)) if t == token => Some(answer),
                _ => None,
            };
            if let Some(answer) = answer {
                lock(&s.frozen).remove(&id.raw());
                return answer.ok_or_else(|| {
                    let _ = entry.lifecycle.transition(LifecycleState::Active);
                    CudaError::Config(format!("actor {id} was no longer active on the device"))
                });
            }
            if s.finished.load(Ordering::Acquire) {
                return Err(CudaError::Config(format!(
                    "the kernel stopped before actor {id} confirmed its freeze"
                )));
            }
            if Instant::now() >= until {
                // Undo: THAW runs right after the MIGRATE still queued.
                let thawed = self.thaw(id);
                return Err(CudaError::Config(format!(
                    "actor {id} did not confirm its freeze within {deadline:?} (it stays \
                     where it is{})",
                    thawed
                        .err()
                        .map_or(String::new(), |e| format!("; thaw failed: {e}"))
                )));
            }
            std::thread::sleep(Duration::from_micros(20));
        }
    }

    /// Undoes [`Self::freeze`]: the actor takes messages again.
    pub(crate) fn thaw(&self, id: ActorId) -> Result<(), CudaError> {
        let entry = self
            .shared
            .actors
            .get(id)
            .ok_or_else(|| CudaError::Config(format!("no actor {id}")))?;
        let until = Instant::now() + Duration::from_secs(1);
        while !self.control(id.raw() as usize, id, control::THAW, &[]) {
            if Instant::now() >= until {
                return Err(CudaError::Config(format!(
                    "mailbox of actor {id} stayed full"
                )));
            }
            std::thread::yield_now();
        }
        let _ = entry.lifecycle.transition(LifecycleState::Active);
        Ok(())
    }

    /// Retires the block of a frozen actor that moved away: it stays `Terminated` here, and
    /// the messages its inbox held (moved with the actor) are not counted as undelivered.
    pub(crate) fn retire(&self, id: ActorId) {
        if let Some(entry) = self.shared.actors.get(id) {
            let _ = entry.lifecycle.transition(LifecycleState::Terminated);
        }
        self.shared.dev.hand_over(id.raw() as usize);
    }
}
