//! Spilling: under memory pressure ([`Mitigation::SpillCheckpoints`](ringkernel_core::budget::Mitigation)),
//! the actor first in the shed order is snapshotted into host memory (its state and the
//! messages queued for it) and then stopped, which releases its bookings; `unspill` restarts it
//! in place with that state and queues the saved messages again.
//!
//! While the snapshot is taken and the stop queued, host sends to the actor are refused with
//! `SendError::Full` (back off and retry), so none lands between the two. Messages other actors
//! send it on the device in that window are processed by the stopping actor and not in the
//! spill; messages queued at the snapshot are in the spill *and* processed by the stopping actor
//! (whose state is discarded): an ask among them is answered by the stopping actor, and its
//! effect applied again, on the spilled state, when it is unspilled.

use std::sync::atomic::Ordering;

use ringkernel_core::budget::MemoryEvent;
use ringkernel_core::{ActorId, SpawnError};

use super::{lock, Monitor};
use crate::error::Error;
use crate::resilience::ResilienceEvent;

/// `Monitor::spilling` when no actor is being spilled.
pub(super) const NOT_SPILLING: u32 = u32::MAX;

impl Monitor {
    /// Spills `actor` (see the module docs). When the snapshot fails the actor keeps running and
    /// is not picked again until pressure is re-evaluated.
    pub(super) fn spill(&self, actor: ActorId) {
        self.spilling.store(actor.raw(), Ordering::Relaxed);
        let snap = self.backend.snapshot(&[actor]).map(|mut v| v.pop());
        match snap {
            Ok(Some(snap)) => {
                let bytes = snap.state.len();
                lock(&self.spilled).insert(actor, snap);
                if let Err(e) = self.backend.stop(actor) {
                    tracing::warn!(error = %e, %actor, "could not stop a spilled actor");
                }
                tracing::info!(%actor, bytes, "actor spilled to host memory");
                self.raise(ResilienceEvent::Memory(MemoryEvent::Spill { actor }));
            }
            Ok(None) | Err(_) => {
                tracing::warn!(%actor, "could not snapshot an actor to spill; it keeps running");
                lock(&self.state).shedding = None;
            }
        }
        self.spilling.store(NOT_SPILLING, Ordering::Relaxed);
    }

    /// The spilled actors, by id.
    pub(crate) fn spilled(&self) -> Vec<ActorId> {
        let mut ids: Vec<_> = lock(&self.spilled).keys().copied().collect();
        ids.sort_by_key(|id| id.raw());
        ids
    }

    /// Brings a spilled actor back: restarts it in place with its spilled state (booked again)
    /// and queues its saved messages. The actor must have finished stopping.
    pub(crate) fn unspill(&self, actor: ActorId) -> Result<(), Error> {
        let snap = lock(&self.spilled)
            .remove(&actor)
            .ok_or(Error::NotSpilled(actor))?;
        if let Err(e) = self.backend.restart(actor, &snap.state) {
            lock(&self.spilled).insert(actor, snap);
            return Err(e.into());
        }
        self.restarted(actor);
        for env in &snap.mailbox {
            self.backend.tell(*env).map_err(|e| {
                Error::Spawn(SpawnError::Backend(format!(
                    "re-queueing a spilled message of {actor}: {e}"
                )))
            })?;
        }
        Ok(())
    }
}
