//! Host side of the mapped rings: the multi-producer end of each host→device ring and the single
//! consumer of the device→host ring. The protocol is specified in [`crate::layout`].
//!
//! Both ends work on raw pointers into memory that the device also accesses, so every access to a
//! slot or index goes through `AtomicU64::from_ptr` (a plain `mov` on x86-64, and sound when tests
//! drive the other end from a Rust thread instead of a GPU).

use std::sync::atomic::{AtomicU64, Ordering};

use crossbeam_utils::CachePadded;
use ringkernel_core::Envelope;

use crate::layout::{envelope_hash, DoorbellSlot, IndexLine, RingSlot, SLOT_ENVELOPE_WORDS};

/// Atomic view of a `u64` in shared memory.
///
/// # Safety
/// `p` must be valid, 8-byte aligned and only ever accessed atomically while the view is used.
unsafe fn atomic<'a>(p: *mut u64) -> &'a AtomicU64 {
    // SAFETY: guaranteed by the caller.
    unsafe { AtomicU64::from_ptr(p) }
}

/// Writes `env` into `slot` for position `pos`: envelope words first, then both seq stamps.
///
/// # Safety
/// `slot` must be valid for writes and claimed by the caller for `pos`.
pub(crate) unsafe fn write_slot(slot: *mut RingSlot, pos: u64, env: &Envelope) {
    let words: &[u64; SLOT_ENVELOPE_WORDS] = bytemuck::cast_ref(env);
    // SAFETY: `slot` is valid (caller); fields are 8-byte aligned u64s inside it.
    unsafe {
        let env_ptr = std::ptr::addr_of_mut!((*slot).env).cast::<u64>();
        for (i, w) in words.iter().enumerate() {
            atomic(env_ptr.add(i)).store(*w, Ordering::Relaxed);
        }
        // Release: the envelope words above become visible no later than either stamp.
        atomic(std::ptr::addr_of_mut!((*slot).seq_a)).store(pos + 1, Ordering::Release);
        atomic(std::ptr::addr_of_mut!((*slot).seq_b)).store(pos + 1, Ordering::Release);
    }
}

/// Reads the device→host envelope at `pos` if it has completely arrived: `seq_a == pos + 1` and
/// `seq_b == (pos + 1) ^ envelope_hash(words)` (see [`crate::layout`]).
///
/// # Safety
/// `slot` must be valid for reads.
pub(crate) unsafe fn read_slot(slot: *mut RingSlot, pos: u64) -> Option<Envelope> {
    // SAFETY: `slot` is valid (caller).
    unsafe {
        let a = atomic(std::ptr::addr_of_mut!((*slot).seq_a)).load(Ordering::Acquire);
        if a != pos + 1 {
            return None;
        }
        let env_ptr = std::ptr::addr_of_mut!((*slot).env).cast::<u64>();
        let mut words = [0u64; SLOT_ENVELOPE_WORDS];
        for (i, w) in words.iter_mut().enumerate() {
            *w = atomic(env_ptr.add(i)).load(Ordering::Acquire);
        }
        let b = atomic(std::ptr::addr_of_mut!((*slot).seq_b)).load(Ordering::Acquire);
        if b != (pos + 1) ^ envelope_hash(&words) {
            return None;
        }
        Some(bytemuck::cast(words))
    }
}

/// The host end of one host→device ring. Any number of threads may push.
#[derive(Debug)]
pub struct H2dProducer {
    slots: *mut RingSlot,
    consumer: *mut IndexLine,
    mask: u64,
    capacity: u64,
    /// Next position to claim. Only grows.
    tail: CachePadded<AtomicU64>,
    /// Last consumer index read from `consumer`; a lower bound of the true value.
    cached_head: CachePadded<AtomicU64>,
}

// SAFETY: the raw pointers refer to mapped memory owned by the backend for the producer's whole
// life; all access to it is atomic and follows the ring protocol.
unsafe impl Send for H2dProducer {}
// SAFETY: as above; concurrent producers coordinate through `tail`.
unsafe impl Sync for H2dProducer {}

impl H2dProducer {
    /// Wraps a ring of `capacity` slots at `slots` whose consumer index is `consumer`.
    ///
    /// # Safety
    /// `slots` must point to `capacity` zeroed slots and `consumer` to a zeroed [`IndexLine`],
    /// both valid for the life of the producer; `capacity` must be a power of two.
    pub unsafe fn new(slots: *mut RingSlot, consumer: *mut IndexLine, capacity: u64) -> Self {
        debug_assert!(capacity.is_power_of_two());
        H2dProducer {
            slots,
            consumer,
            mask: capacity - 1,
            capacity,
            tail: CachePadded::new(AtomicU64::new(0)),
            cached_head: CachePadded::new(AtomicU64::new(0)),
        }
    }

    /// Slots in the ring.
    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    /// Positions claimed so far (= messages pushed or being written).
    pub fn tail(&self) -> u64 {
        self.tail.load(Ordering::Acquire)
    }

    /// How far the device has consumed.
    pub fn consumer_index(&self) -> u64 {
        // SAFETY: `consumer` is valid for the producer's life (constructor contract).
        let h = unsafe { atomic(std::ptr::addr_of_mut!((*self.consumer).value)) }
            .load(Ordering::Acquire);
        self.cached_head.fetch_max(h, Ordering::Relaxed);
        h
    }

    /// Claims `n` consecutive positions if they are free; returns the first.
    fn claim(&self, n: u64) -> Option<u64> {
        let mut t = self.tail.load(Ordering::Relaxed);
        loop {
            if t + n > self.cached_head.load(Ordering::Relaxed) + self.capacity
                && t + n > self.consumer_index() + self.capacity
            {
                return None;
            }
            match self
                .tail
                .compare_exchange_weak(t, t + n, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => return Some(t),
                Err(actual) => t = actual,
            }
        }
    }

    /// Pushes one envelope; `false` when the ring is full (nothing written).
    pub fn push(&self, env: &Envelope) -> bool {
        match self.claim(1) {
            Some(pos) => {
                // SAFETY: `pos` is claimed by us and its slot's previous occupant was consumed.
                unsafe { write_slot(self.slots.add((pos & self.mask) as usize), pos, env) };
                true
            }
            None => false,
        }
    }

    /// Pushes as many of `envs` as fit, as one contiguous claim; returns how many.
    pub fn push_batch(&self, envs: &[Envelope]) -> usize {
        let mut n = envs.len() as u64;
        while n > 0 {
            if let Some(pos) = self.claim(n) {
                for (i, env) in envs[..n as usize].iter().enumerate() {
                    let p = pos + i as u64;
                    // SAFETY: positions pos..pos+n are claimed by us and free.
                    unsafe { write_slot(self.slots.add((p & self.mask) as usize), p, env) };
                }
                return n as usize;
            }
            // Not all fit: try what the consumer has room for right now.
            let free = (self.consumer_index() + self.capacity).saturating_sub(self.tail());
            n = n.min(free);
        }
        0
    }
}

/// The host end of the device→host ring: a single consumer.
#[derive(Debug)]
pub struct D2hConsumer {
    slots: *mut RingSlot,
    consumer: *mut IndexLine,
    mask: u64,
    /// Next position to read.
    head: u64,
}

// SAFETY: see H2dProducer; the consumer is moved to (and used by) one thread at a time (&mut self).
unsafe impl Send for D2hConsumer {}

impl D2hConsumer {
    /// Wraps the ring.
    ///
    /// # Safety
    /// As [`H2dProducer::new`].
    pub unsafe fn new(slots: *mut RingSlot, consumer: *mut IndexLine, capacity: u64) -> Self {
        debug_assert!(capacity.is_power_of_two());
        D2hConsumer {
            slots,
            consumer,
            mask: capacity - 1,
            head: 0,
        }
    }

    /// Next position to read.
    pub fn position(&self) -> u64 {
        self.head
    }

    /// Appends up to `max` ready envelopes to `out`, publishing the new index once; returns count.
    pub fn poll(&mut self, out: &mut Vec<Envelope>, max: usize) -> usize {
        let mut n = 0;
        while n < max {
            // SAFETY: slots are valid for the consumer's life (constructor contract).
            match unsafe { read_slot(self.slots.add((self.head & self.mask) as usize), self.head) }
            {
                Some(env) => {
                    out.push(env);
                    self.head += 1;
                    n += 1;
                }
                None => break,
            }
        }
        if n > 0 {
            // SAFETY: `consumer` is valid; Release orders our slot reads before the device reuses them.
            unsafe { atomic(std::ptr::addr_of_mut!((*self.consumer).value)) }
                .store(self.head, Ordering::Release);
        }
        n
    }
}

/// The host end of the doorbell ring (host→router): "block b has mail, wake it".
#[derive(Debug)]
pub struct Doorbell {
    slots: *mut DoorbellSlot,
    consumer: *mut IndexLine,
    mask: u64,
    capacity: u64,
    tail: CachePadded<AtomicU64>,
}

// SAFETY: as H2dProducer: mapped memory owned by the backend, accessed atomically by protocol.
unsafe impl Send for Doorbell {}
// SAFETY: as above; producers coordinate through `tail`.
unsafe impl Sync for Doorbell {}

impl Doorbell {
    /// Wraps the doorbell ring.
    ///
    /// # Safety
    /// As [`H2dProducer::new`], for `capacity` zeroed [`DoorbellSlot`]s.
    pub unsafe fn new(slots: *mut DoorbellSlot, consumer: *mut IndexLine, capacity: u64) -> Self {
        debug_assert!(capacity.is_power_of_two());
        Doorbell {
            slots,
            consumer,
            mask: capacity - 1,
            capacity,
            tail: CachePadded::new(AtomicU64::new(0)),
        }
    }

    /// Rings for `block`. Waits (the router drains continuously) rather than dropping a doorbell
    /// when the ring is full; gives up after `patience` spins and reports `false`.
    pub fn ring(&self, block: u64, patience: u64) -> bool {
        let mut t = self.tail.load(Ordering::Relaxed);
        let mut spins = 0;
        loop {
            // SAFETY: `consumer` is valid for the doorbell's life (constructor contract).
            let head = unsafe { atomic(std::ptr::addr_of_mut!((*self.consumer).value)) }
                .load(Ordering::Acquire);
            if t >= head + self.capacity {
                spins += 1;
                if spins > patience {
                    return false;
                }
                std::hint::spin_loop();
                t = self.tail.load(Ordering::Relaxed);
                continue;
            }
            match self
                .tail
                .compare_exchange_weak(t, t + 1, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => break,
                Err(actual) => t = actual,
            }
        }
        let slot = self.slots.wrapping_add((t & self.mask) as usize);
        // SAFETY: position t is ours and free; block first, then the stamp (release), in one
        // 16-byte line the router reads with one load.
        unsafe {
            atomic(std::ptr::addr_of_mut!((*slot).block)).store(block, Ordering::Relaxed);
            atomic(std::ptr::addr_of_mut!((*slot).seq)).store(t + 1, Ordering::Release);
        }
        true
    }
}
