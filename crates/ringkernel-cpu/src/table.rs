//! Append-only two-level actor table: lock-free lookup by id on the send path.
//!
//! Ids are table indices handed out by a monotonic counter and never reused, so a slot, once
//! filled, never changes: lookup is two `OnceLock` reads (two acquire loads) with no lock and no
//! reference counting. Chunks of [`CHUNK`] cells are allocated on first use, so memory grows with
//! the actors actually spawned, and the directory of chunks is sized once from `max_actors`.
//! Spawning into a fresh chunk may wait on the `OnceLock` initializing it; sends never do.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use crate::cell::ActorCell;

const CHUNK_BITS: u32 = 8;
/// Cells per chunk.
pub(crate) const CHUNK: usize = 1 << CHUNK_BITS;

type Chunk = Box<[OnceLock<ActorCell>]>;

#[derive(Debug)]
pub(crate) struct ActorTable {
    /// `chunks[i]` holds ids `i * CHUNK .. (i + 1) * CHUNK`.
    chunks: Box<[OnceLock<Chunk>]>,
    /// Next id to hand out; never exceeds `max`, never decreases.
    next: AtomicUsize,
    max: usize,
}

impl ActorTable {
    pub(crate) fn new(max: usize) -> Self {
        let dirs = max.div_ceil(CHUNK);
        ActorTable {
            chunks: (0..dirs).map(|_| OnceLock::new()).collect(),
            next: AtomicUsize::new(0),
            max,
        }
    }

    /// Most actors this table holds.
    pub(crate) fn limit(&self) -> usize {
        self.max
    }

    /// Reserves the next id, or `None` when the table is full. Ids are never handed out twice.
    pub(crate) fn reserve(&self) -> Option<u32> {
        self.next
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                (n < self.max).then_some(n + 1)
            })
            .ok()
            // Cannot truncate: max <= MAX_ACTORS_LIMIT < u32::MAX.
            .map(|n| n as u32)
    }

    /// Reserves exactly `idx` (for a restore): only if no id at or above it was handed out yet;
    /// the ids skipped stay unused.
    pub(crate) fn reserve_exact(&self, idx: u32) -> bool {
        let i = idx as usize;
        i < self.max
            && self
                .next
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                    (n <= i).then_some(i + 1)
                })
                .is_ok()
    }

    /// Ids reserved so far (every id below this was handed out or is being filled).
    pub(crate) fn reserved(&self) -> usize {
        self.next.load(Ordering::Acquire)
    }

    /// Publishes `cell` under the reserved id `idx`; returns the cell in place.
    pub(crate) fn insert(&self, idx: u32, cell: ActorCell) -> Option<&ActorCell> {
        let i = idx as usize;
        let chunk = self
            .chunks
            .get(i >> CHUNK_BITS)?
            .get_or_init(|| (0..CHUNK).map(|_| OnceLock::new()).collect());
        let slot = chunk.get(i & (CHUNK - 1))?;
        // A reserved id is filled exactly once, so `set` cannot find the slot taken.
        let _ = slot.set(cell);
        slot.get()
    }

    /// The cell for `idx`, if that id was spawned.
    #[inline]
    pub(crate) fn get(&self, idx: u32) -> Option<&ActorCell> {
        let i = idx as usize;
        self.chunks
            .get(i >> CHUNK_BITS)?
            .get()?
            .get(i & (CHUNK - 1))?
            .get()
    }

    /// Every published cell, in id order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &ActorCell> + '_ {
        (0..self.reserved()).filter_map(|i| self.get(i as u32))
    }
}
