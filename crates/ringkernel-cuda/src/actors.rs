//! Host-side table of the actors living in the persistent kernel's blocks.
//!
//! Actor `id` lives in block `id`: ids are handed out once, in order, and a block serves one actor
//! for the runtime's life, so lookups are an index and the send path takes no lock.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use ringkernel_core::{ActorId, AtomicLifecycle, LifecycleState};

/// One block's actor.
#[derive(Debug, Default)]
pub struct ActorEntry {
    /// Registered type index; valid once `lifecycle` has left Dormant.
    pub type_index: AtomicU32,
    /// Host's view of the actor's lifecycle; device notices move it to Failed or Terminated.
    pub lifecycle: AtomicLifecycle,
    /// The id callers know the actor by: the block index on one GPU, the runtime-wide id in a
    /// multi-GPU runtime (replies and ask errors carry it).
    pub public_id: AtomicU32,
    /// In-place restart policy, `max_restarts << 32 | period_ms` (0: none); sent with every
    /// START of the block, so a host restart keeps it.
    pub restart_policy: AtomicU64,
}

/// Packs an in-place restart policy for [`ActorEntry::restart_policy`].
pub fn pack_policy(max_restarts: u32, period_ms: u32) -> u64 {
    (u64::from(max_restarts) << 32) | u64::from(period_ms)
}

/// Unpacks [`ActorEntry::restart_policy`]: (max_restarts, period_ms).
pub fn unpack_policy(word: u64) -> (u32, u32) {
    ((word >> 32) as u32, word as u32)
}

/// Every block's entry plus the id counter.
#[derive(Debug)]
pub struct ActorTable {
    entries: Vec<ActorEntry>,
    /// Ids handed out so far (may exceed `entries.len()` after refused spawns).
    next: AtomicU32,
}

impl ActorTable {
    /// A table for `blocks` actors.
    pub fn new(blocks: usize) -> Self {
        ActorTable {
            entries: (0..blocks).map(|_| ActorEntry::default()).collect(),
            next: AtomicU32::new(0),
        }
    }

    /// Most actors the table holds.
    pub fn capacity(&self) -> usize {
        self.entries.len()
    }

    /// Blocks not reserved yet.
    pub fn free(&self) -> usize {
        self.entries
            .len()
            .saturating_sub(self.next.load(Ordering::Relaxed) as usize)
    }

    /// Reserves the next id, or `None` when every block is taken.
    pub fn reserve(&self) -> Option<ActorId> {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        ((id as usize) < self.entries.len()).then(|| ActorId::from_raw(id))
    }

    /// Reserves exactly `id` (for a restore): succeeds only if no id at or above it was handed
    /// out yet; the ids skipped stay unused.
    pub fn reserve_exact(&self, id: ActorId) -> bool {
        if id.raw() as usize >= self.entries.len() {
            return false;
        }
        let mut next = self.next.load(Ordering::Relaxed);
        loop {
            if next > id.raw() {
                return false;
            }
            match self.next.compare_exchange(
                next,
                id.raw() + 1,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(now) => next = now,
            }
        }
    }

    /// Every started actor's id.
    pub fn started(&self) -> Vec<ActorId> {
        self.entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.lifecycle.load() != LifecycleState::Dormant)
            .map(|(i, _)| ActorId::from_raw(i as u32))
            .collect()
    }

    /// The entry of a spawned actor (`None` for ids never issued).
    pub fn get(&self, id: ActorId) -> Option<&ActorEntry> {
        let e = self.entries.get(id.raw() as usize)?;
        (e.lifecycle.load() != LifecycleState::Dormant).then_some(e)
    }

    /// The raw entry by block index (spawned or not).
    pub fn slot(&self, id: ActorId) -> Option<&ActorEntry> {
        self.entries.get(id.raw() as usize)
    }
}
