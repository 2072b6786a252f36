//! Temporary stand-in for `ringkernel_core::ring::mpsc::MpscRing` with exactly its API.
//!
//! The core MPSC ring is being written concurrently; until it lands this wraps crossbeam's
//! `ArrayQueue` (a bounded Vyukov-style queue, stronger than we need: multi-consumer) so the backend
//! is written against the final shape and the swap is one `use` line in `mailbox.rs`.

#![allow(dead_code)] // The full ring API is mirrored; the backend uses part of it.

use crossbeam_queue::ArrayQueue;
use ringkernel_core::CoreError;

/// Why a push failed; gives the value back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PushError<T> {
    /// The ring is full.
    Full(T),
}

/// Bounded multi-producer single-consumer ring.
#[derive(Debug)]
pub(crate) struct MpscRing<T> {
    q: ArrayQueue<T>,
}

impl<T: Copy + Send> MpscRing<T> {
    /// A ring of `cap` slots (a power of two).
    pub(crate) fn new(cap: usize) -> Result<Self, CoreError> {
        if cap == 0 || !cap.is_power_of_two() || cap > (1 << 32) {
            return Err(CoreError::BadCapacity(cap));
        }
        Ok(MpscRing {
            q: ArrayQueue::new(cap),
        })
    }

    /// Enqueues `v`, or gives it back when full.
    pub(crate) fn push(&self, v: T) -> Result<(), PushError<T>> {
        self.q.push(v).map_err(PushError::Full)
    }

    /// Dequeues one value.
    ///
    /// # Safety
    /// 1. Only one thread at a time may consume.
    pub(crate) unsafe fn pop(&self) -> Option<T> {
        self.q.pop()
    }

    /// Dequeues up to `out.len()` values into `out`; returns how many.
    ///
    /// # Safety
    /// 1. Only one thread at a time may consume.
    pub(crate) unsafe fn pop_batch(&self, out: &mut [T]) -> usize {
        let mut n = 0;
        while n < out.len() {
            match self.q.pop() {
                Some(v) => {
                    out[n] = v;
                    n += 1;
                }
                None => break,
            }
        }
        n
    }

    /// Values queued now (a snapshot).
    pub(crate) fn len(&self) -> usize {
        self.q.len()
    }

    /// Whether nothing is queued now (a snapshot).
    pub(crate) fn is_empty(&self) -> bool {
        self.q.is_empty()
    }

    /// Slots in the ring.
    pub(crate) fn capacity(&self) -> usize {
        self.q.capacity()
    }
}
