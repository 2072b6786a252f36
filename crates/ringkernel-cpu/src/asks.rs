//! Correlation table: pending asks by correlation id, bounded by `max_pending_asks`.
//!
//! Mailboxes carry plain `Copy` envelopes, so the reply slot of an ask waits here, keyed by the
//! envelope's correlation id. A correlation id packs `(sequence << INDEX_BITS) | index`: the
//! sequence comes from a counter and is never reused (so ids are unique for the runtime's life and
//! never 0), and the index names the table slot, so `take` is one uncontended lock of one slot.
//! Only asks touch this table; tells never do.
//!
//! Invariant: `in_use` counts reserved entries and is at most `limit <= slots.len()`. An entry is
//! cleared before `in_use` is decremented, so an inserter that reserved a count always finds a free
//! slot by probing.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};

use crossbeam_utils::CachePadded;
use ringkernel_core::{ActorId, ReplySlot, SendError};

const INDEX_BITS: u32 = 24;

#[derive(Debug)]
struct Entry {
    corr: u64,
    target: ActorId,
    slot: Arc<ReplySlot>,
}

#[derive(Debug)]
pub(crate) struct PendingAsks {
    slots: Box<[Mutex<Option<Entry>>]>,
    mask: usize,
    limit: usize,
    in_use: CachePadded<AtomicUsize>,
    seq: CachePadded<AtomicU64>,
}

fn relock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Entries are plain values; a poisoned slot still holds a valid Option.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl PendingAsks {
    /// A table for `limit` asks (`limit <= 2^24`, checked by the config).
    pub(crate) fn new(limit: usize) -> Self {
        let size = limit.next_power_of_two();
        PendingAsks {
            slots: (0..size).map(|_| Mutex::new(None)).collect(),
            mask: size - 1,
            limit,
            in_use: CachePadded::new(AtomicUsize::new(0)),
            seq: CachePadded::new(AtomicU64::new(1)),
        }
    }

    /// Asks waiting now.
    pub(crate) fn len(&self) -> usize {
        self.in_use.load(Ordering::Acquire)
    }

    /// Stores `slot` and returns its fresh correlation id.
    pub(crate) fn insert(&self, target: ActorId, slot: Arc<ReplySlot>) -> Result<u64, SendError> {
        if self.in_use.fetch_add(1, Ordering::AcqRel) >= self.limit {
            self.in_use.fetch_sub(1, Ordering::AcqRel);
            return Err(SendError::TooManyPendingAsks(self.limit));
        }
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        let start = seq as usize;
        let mut probe = 0usize;
        loop {
            let idx = start.wrapping_add(probe) & self.mask;
            let guard = match self.slots[idx].try_lock() {
                Ok(g) => Some(g),
                Err(TryLockError::Poisoned(p)) => Some(p.into_inner()),
                Err(TryLockError::WouldBlock) => None,
            };
            if let Some(mut g) = guard {
                if g.is_none() {
                    let corr = (seq << INDEX_BITS) | idx as u64;
                    *g = Some(Entry { corr, target, slot });
                    return Ok(corr);
                }
            }
            probe += 1;
            if probe % self.slots.len() == 0 {
                // Every slot was busy or being touched; the invariant says one frees up soon.
                std::thread::yield_now();
            }
        }
    }

    /// Removes and returns the slot for `corr`, if it is still pending.
    pub(crate) fn take(&self, corr: u64) -> Option<Arc<ReplySlot>> {
        let idx = (corr as usize) & self.mask;
        let entry = {
            let mut g = relock(self.slots.get(idx)?);
            match g.as_ref() {
                Some(e) if e.corr == corr => g.take(),
                _ => None,
            }
        };
        entry.map(|e| {
            self.in_use.fetch_sub(1, Ordering::AcqRel);
            e.slot
        })
    }

    /// Removes every pending entry, returning `(target, slot)` pairs.
    pub(crate) fn drain(&self) -> Vec<(ActorId, Arc<ReplySlot>)> {
        let mut out = Vec::new();
        for m in self.slots.iter() {
            let e = relock(m).take();
            if let Some(e) = e {
                self.in_use.fetch_sub(1, Ordering::AcqRel);
                out.push((e.target, e.slot));
            }
        }
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use ringkernel_core::reply_pair;
    use std::collections::HashSet;

    fn slot() -> Arc<ReplySlot> {
        reply_pair(ActorId::from_raw(0)).0
    }

    #[test]
    fn ids_are_unique_nonzero_and_taken_once() {
        let t = PendingAsks::new(8);
        let mut seen = HashSet::new();
        for _ in 0..100 {
            let c = t.insert(ActorId::from_raw(1), slot()).unwrap();
            assert_ne!(c, 0);
            assert!(seen.insert(c), "correlation id reused");
            assert!(t.take(c).is_some());
            assert!(t.take(c).is_none(), "taken twice");
        }
        assert_eq!(t.len(), 0);
    }

    #[test]
    fn limit_is_enforced_and_freed() {
        let t = PendingAsks::new(3);
        let ids: Vec<_> = (0..3)
            .map(|_| t.insert(ActorId::from_raw(1), slot()).unwrap())
            .collect();
        assert_eq!(
            t.insert(ActorId::from_raw(1), slot()),
            Err(SendError::TooManyPendingAsks(3))
        );
        assert!(t.take(ids[1]).is_some());
        assert!(t.insert(ActorId::from_raw(1), slot()).is_ok());
    }

    #[test]
    fn stale_id_does_not_take_a_newer_entry_in_the_same_slot() {
        let t = PendingAsks::new(1);
        let a = t.insert(ActorId::from_raw(1), slot()).unwrap();
        assert!(t.take(a).is_some());
        let b = t.insert(ActorId::from_raw(1), slot()).unwrap();
        assert!(t.take(a).is_none());
        assert!(t.take(b).is_some());
    }

    #[test]
    fn drain_returns_everything_pending() {
        let t = PendingAsks::new(16);
        for i in 0..5 {
            t.insert(ActorId::from_raw(i), slot()).unwrap();
        }
        let d = t.drain();
        assert_eq!(d.len(), 5);
        assert_eq!(t.len(), 0);
    }

    #[test]
    fn concurrent_inserts_and_takes_balance() {
        let t = Arc::new(PendingAsks::new(64));
        let hs: Vec<_> = (0..4)
            .map(|_| {
                let t = t.clone();
                std::thread::spawn(move || {
                    for _ in 0..5_000 {
                        let c = loop {
                            match t.insert(ActorId::from_raw(0), slot()) {
                                Ok(c) => break c,
                                Err(_) => std::thread::yield_now(),
                            }
                        };
                        assert!(t.take(c).is_some());
                    }
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        assert_eq!(t.len(), 0);
    }
}
