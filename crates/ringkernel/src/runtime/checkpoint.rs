//! Checkpoints of a running runtime and restore into a new one.
//!
//! [`Runtime::checkpoint`] snapshots every live (`Active` or `Draining`) actor without stopping
//! it ([`ActorBackend::snapshot`](ringkernel_core::ActorBackend::snapshot)): its state and the
//! messages it had been sent and not yet taken, as a consistent cut per actor. On CUDA the cut is
//! the snapshot request's place in the actor's mailbox (everything sent before it is processed,
//! the device messages waiting in its inbox are saved); on the CPU it is the moment the snapshot
//! holds the actor (everything still queued is saved). Actors are cut one by one, not all at one
//! instant: a message in flight between two actors at checkpoint time may be in neither.
//!
//! [`Runtime::restore`] puts a [`Checkpoint`] into a fresh runtime with the same actor types
//! registered: every actor under its old id, with its state, and its saved messages queued ahead
//! of anything sent after. [`Checkpoint::encode`] / [`Checkpoint::decode`] (versioned, SHA-256)
//! and [`Delta`](ringkernel_core::checkpoint::Delta) carry it between the two.

use ringkernel_core::checkpoint::Checkpoint;
use ringkernel_core::{Actor, ActorBackend, ActorId, LifecycleState, SpawnError};

use super::Runtime;
use crate::actor_ref::ActorRef;
use crate::error::Error;

/// The actors of `b` a snapshot can take: `Active` or `Draining`.
pub(crate) fn live_actors(b: &dyn ActorBackend) -> Vec<ActorId> {
    b.actors()
        .into_iter()
        .filter(|&id| {
            matches!(
                b.state_of(id),
                Some(LifecycleState::Active | LifecycleState::Draining)
            )
        })
        .collect()
}

impl Runtime {
    /// Snapshots every live actor (see the module docs).
    pub fn checkpoint(&self) -> Result<Checkpoint, Error> {
        let live = live_actors(self.backend.as_ref());
        let snapshots = self.backend.snapshot(&live)?;
        Ok(Checkpoint::new(snapshots)?)
    }

    /// Restores `checkpoint` into this runtime (see the module docs). Every actor's type must be
    /// registered here (by name) and its id free; the first actor that cannot be restored stops
    /// the restore with its error (those before it stay restored). Each actor is checked and
    /// booked as a spawn is: [`Error::Overloaded`] at the `Critical` level, [`Error::Budget`]
    /// past a memory budget; restored actors get the default shedding priority.
    pub fn restore(&self, checkpoint: &Checkpoint) -> Result<Vec<ActorId>, Error> {
        let mut restored = Vec::with_capacity(checkpoint.actors().len());
        for snap in checkpoint.actors() {
            let type_index = self
                .names
                .iter()
                .position(|&n| n == snap.type_name)
                .ok_or_else(|| Error::UnknownActorType(snap.type_name.clone()))?;
            self.resilience.monitor().restore(type_index, snap)?;
            restored.push(snap.id);
        }
        Ok(restored)
    }

    /// A typed handle to actor `id` of this runtime (a restored one, or any other by id).
    pub fn actor<A: Actor>(&self, id: ActorId) -> Result<ActorRef<A>, Error> {
        let found = self
            .backend
            .type_index_of(id)
            .ok_or(SpawnError::UnknownActor(id))?;
        let expected = self.type_index::<A>()?;
        if found != expected {
            return Err(Error::ActorTypeMismatch {
                actor: id,
                expected: A::NAME,
                found: self.names.get(found).copied().unwrap_or("?"),
            });
        }
        Ok(self.actor_ref(id))
    }
}
