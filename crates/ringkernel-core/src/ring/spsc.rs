//! Wait-free single-producer single-consumer ring with split [`Producer`] / [`Consumer`] handles.
//!
//! The algorithm is Lamport's ring buffer (L. Lamport, "Specifying Concurrent Program Modules",
//! TOPLAS 1983) in the form rtrb uses: two free-running indices, each written by one side only,
//! and each side keeps a private copy of the other side's index so that it touches the shared
//! cache line only when its copy says "full" (producer) or "empty" (consumer).
//!
//! # Contract
//!
//! - **Allocation:** [`channel`] allocates `capacity` slots once. No operation allocates.
//! - **Wait-freedom:** every operation finishes in a bounded number of steps: at most one load of
//!   the other side's index, the slot copies, and one release store of its own index. There is no
//!   compare-and-swap, no retry loop, no lock, and neither side ever waits for the other.
//! - **Full:** [`Producer::push`] returns [`PushError::Full`] with the item; [`Producer::push_batch`]
//!   pushes as many items as fit and returns how many. Nothing is ever overwritten.
//! - **Empty:** [`Consumer::pop`] returns `None`; [`Consumer::pop_batch`] returns 0.
//! - **Batches publish once:** `push_batch` / `pop_batch` copy all their items first and then store
//!   the index once, so the other side sees the whole batch (or none of it) and the shared line
//!   moves once per batch, not once per item.
//! - **Threads:** only the [`Producer`] writes slots and the tail; only the [`Consumer`] reads
//!   slots and writes the head. Each handle is `Send` but not `Sync`: it may move to another thread,
//!   and its `&mut self` methods make concurrent use of one handle impossible.
//! - **Items:** `T: Copy`. Slots are never dropped; items still queued when both handles are gone
//!   are forgotten, which is only leak-free for types without drop glue.
//!
//! # Example
//!
//! ```
//! use ringkernel_core::ring::{spsc, PushError};
//!
//! let (mut tx, mut rx) = spsc::channel::<u32>(2)?;
//! tx.push(1).unwrap();
//! assert_eq!(tx.push_batch(&[2, 3]), 1); // only one slot was left
//! assert_eq!(tx.push(4), Err(PushError::Full(4)));
//! let mut out = [0; 4];
//! assert_eq!(rx.pop_batch(&mut out), 2);
//! assert_eq!(&out[..2], &[1, 2]);
//! assert_eq!(rx.pop(), None);
//! # Ok::<(), ringkernel_core::CoreError>(())
//! ```

use std::fmt;
use std::mem::MaybeUninit;

use super::padded::CachePadded;
use super::{check_capacity, PushError};
use crate::error::CoreError;
use crate::sync::{Arc, AtomicU64, Ordering, UnsafeCell};

/// The state both handles share.
struct Shared<T> {
    /// Number of items popped so far. Written only by the consumer (release), read by the producer
    /// (acquire).
    ///
    /// Value range: any `u64`; the counter is free-running and compared with wrapping arithmetic,
    /// so it stays correct even past `u64::MAX` (which 10^10 items/s would reach after 58 years).
    /// Invariant: `tail.wrapping_sub(head) <= capacity`.
    head: CachePadded<AtomicU64>,
    /// Number of items pushed so far. Written only by the producer (release), read by the consumer
    /// (acquire). Same value range and invariant as `head`.
    tail: CachePadded<AtomicU64>,
    /// `capacity` slots; item `i` (an index value) lives in `slots[i & mask]`. A slot holds an
    /// initialised item exactly when its index is in `head..tail`.
    slots: Box<[UnsafeCell<MaybeUninit<T>>]>,
    /// `capacity - 1` (capacity is a power of two).
    mask: u64,
}

impl<T> Shared<T> {
    #[inline(always)]
    fn capacity(&self) -> u64 {
        self.mask + 1
    }

    /// The slot that index `i` maps to.
    #[inline(always)]
    fn slot(&self, i: u64) -> &UnsafeCell<MaybeUninit<T>> {
        let at = (i & self.mask) as usize;
        debug_assert!(at < self.slots.len());
        // SAFETY: `slots.len() == mask + 1` (a power of two), so `i & mask < slots.len()`.
        unsafe { self.slots.get_unchecked(at) }
    }

    /// Writes `src` into the slots of indices `start..start + src.len()`.
    ///
    /// # Safety
    ///
    /// 1. `src.len() <= capacity`.
    /// 2. The caller is the producer, and no index in that range is in `head..tail` (the slots are
    ///    free and the consumer finished reading them: the caller acquired a head past them).
    #[inline(always)]
    unsafe fn write_slots(&self, start: u64, src: &[T])
    where
        T: Copy,
    {
        debug_assert!(src.len() as u64 <= self.capacity());
        // Split at the end of the buffer: at most two contiguous runs.
        let first = (start & self.mask) as usize;
        let run = src.len().min(self.slots.len() - first);
        let (a, b) = src.split_at(run);
        // SAFETY: both runs lie inside `slots` (`first + a.len() <= len`, `b.len() <= first`) and
        // the caller guarantees exclusive access to them (duty 2).
        unsafe {
            self.write_run(first, a);
            self.write_run(0, b);
        }
    }

    /// Copies `src` to `slots[at..at + src.len()]`.
    ///
    /// # Safety
    ///
    /// `at + src.len() <= slots.len()` and the caller has exclusive access to those slots.
    #[cfg(not(loom))]
    #[inline(always)]
    unsafe fn write_run(&self, at: usize, src: &[T])
    where
        T: Copy,
    {
        debug_assert!(at + src.len() <= self.slots.len());
        // `UnsafeCell<MaybeUninit<T>>` is `repr(transparent)` over `T`'s layout, and a pointer
        // taken from a shared reference to `UnsafeCell`s may write their contents.
        let base = self.slots.as_ptr().cast::<T>().cast_mut();
        // SAFETY: the range is in bounds (caller), exclusively ours (caller), and cannot overlap
        // `src`, which the caller borrows from outside the ring.
        unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), base.add(at), src.len()) };
    }

    /// Loom build: slot by slot, so loom tracks every access.
    ///
    /// # Safety
    ///
    /// `at + src.len() <= slots.len()` and the caller has exclusive access to those slots.
    #[cfg(loom)]
    #[inline(always)]
    unsafe fn write_run(&self, at: usize, src: &[T])
    where
        T: Copy,
    {
        for (k, &v) in src.iter().enumerate() {
            // SAFETY: in bounds and exclusively ours (caller).
            self.slots[at + k].with_mut(|p| unsafe { p.write(MaybeUninit::new(v)) });
        }
    }

    /// Reads the items of indices `start..start + dst.len()` into `dst`.
    ///
    /// # Safety
    ///
    /// 1. `dst.len() <= capacity`.
    /// 2. The caller is the consumer and every index in that range is in `head..tail` as acquired
    ///    from the producer (the slots hold initialised items).
    #[inline(always)]
    unsafe fn read_slots(&self, start: u64, dst: &mut [T])
    where
        T: Copy,
    {
        debug_assert!(dst.len() as u64 <= self.capacity());
        let first = (start & self.mask) as usize;
        let run = dst.len().min(self.slots.len() - first);
        let (a, b) = dst.split_at_mut(run);
        // SAFETY: both runs lie inside `slots` and hold initialised items the producer no longer
        // touches (duty 2).
        unsafe {
            self.read_run(first, a);
            self.read_run(0, b);
        }
    }

    /// Copies `slots[at..at + dst.len()]` to `dst`.
    ///
    /// # Safety
    ///
    /// `at + dst.len() <= slots.len()`, and those slots hold initialised items no one writes.
    #[cfg(not(loom))]
    #[inline(always)]
    unsafe fn read_run(&self, at: usize, dst: &mut [T])
    where
        T: Copy,
    {
        debug_assert!(at + dst.len() <= self.slots.len());
        let base = self.slots.as_ptr().cast::<T>();
        // SAFETY: in bounds and initialised (caller); `dst` is a unique borrow outside the ring.
        unsafe { std::ptr::copy_nonoverlapping(base.add(at), dst.as_mut_ptr(), dst.len()) };
    }

    /// Loom build: slot by slot, so loom tracks every access.
    ///
    /// # Safety
    ///
    /// `at + dst.len() <= slots.len()`, and those slots hold initialised items no one writes.
    #[cfg(loom)]
    #[inline(always)]
    unsafe fn read_run(&self, at: usize, dst: &mut [T])
    where
        T: Copy,
    {
        for (k, d) in dst.iter_mut().enumerate() {
            // SAFETY: in bounds and initialised (caller).
            *d = self.slots[at + k].with(|p| unsafe { p.read().assume_init() });
        }
    }
}

/// Creates a ring of `capacity` slots and returns its two ends.
///
/// Fails with [`CoreError::BadCapacity`] unless `capacity` is a power of two in
/// `1..=`[`MAX_CAPACITY`](super::MAX_CAPACITY).
pub fn channel<T: Copy + Send>(capacity: usize) -> Result<(Producer<T>, Consumer<T>), CoreError> {
    let capacity = check_capacity(capacity)?;
    Ok(with_start_index(capacity, 0))
}

/// Builds the pair with both indices at `start`, so tests can run the index arithmetic across
/// `u64::MAX`.
fn with_start_index<T: Copy + Send>(capacity: usize, start: u64) -> (Producer<T>, Consumer<T>) {
    debug_assert!(capacity.is_power_of_two());
    let slots = (0..capacity)
        .map(|_| UnsafeCell::new(MaybeUninit::uninit()))
        .collect();
    let shared = Arc::new(Shared {
        head: CachePadded::new(AtomicU64::new(start)),
        tail: CachePadded::new(AtomicU64::new(start)),
        slots,
        mask: capacity as u64 - 1,
    });
    let producer = Producer {
        shared: Arc::clone(&shared),
        tail: start,
        cached_head: start,
    };
    let consumer = Consumer {
        shared,
        head: start,
        cached_tail: start,
    };
    (producer, consumer)
}

/// The writing end of an SPSC ring.
pub struct Producer<T> {
    shared: Arc<Shared<T>>,
    /// Our own tail: the value last stored to `shared.tail` (only we write it).
    tail: u64,
    /// The last head we loaded. Heads only grow, so this is a lower bound on the real head and
    /// the free-slot count it gives is conservative.
    cached_head: u64,
}

// SAFETY: the producer only writes slots outside `head..tail` and publishes them with a release
// store; moving it to another thread moves that sole right with it. `T: Send` because items
// written here are read on the consumer's thread. Not `Sync`: `Shared` holds `UnsafeCell`s, so
// `&Producer` cannot be shared (and all writers take `&mut self`).
unsafe impl<T: Send> Send for Producer<T> {}

impl<T> Producer<T> {
    /// Free slots according to our cached head (a lower bound on the true count).
    #[inline(always)]
    fn cached_free(&self) -> u64 {
        let used = self.tail.wrapping_sub(self.cached_head);
        debug_assert!(used <= self.shared.capacity());
        self.shared.capacity() - used
    }

    /// Reloads the consumer's head and returns the free slots.
    #[inline]
    fn refresh_free(&mut self) -> u64 {
        // Acquire: pairs with the consumer's release store of `head`, so its reads of the slots it
        // released happen-before our writes into them.
        self.cached_head = self.shared.head.load(Ordering::Acquire);
        self.cached_free()
    }

    /// Free slots right now (the consumer may free more at any moment).
    #[inline]
    pub fn free_slots(&self) -> usize {
        // Acquire for the same reason as in `refresh_free`; the count is a snapshot either way.
        let head = self.shared.head.load(Ordering::Acquire);
        let used = self.tail.wrapping_sub(head);
        debug_assert!(used <= self.shared.capacity());
        (self.shared.capacity() - used) as usize
    }

    /// Number of slots.
    #[inline]
    pub fn capacity(&self) -> usize {
        self.shared.capacity() as usize
    }

    /// Whether the [`Consumer`] has been dropped. Once `true`, stays `true`.
    #[inline]
    pub fn is_abandoned(&self) -> bool {
        Arc::strong_count(&self.shared) < 2
    }
}

impl<T: Copy> Producer<T> {
    /// Pushes one item, or hands it back in [`PushError::Full`] when the ring is full.
    #[inline]
    pub fn push(&mut self, v: T) -> Result<(), PushError<T>> {
        if self.cached_free() == 0 && self.refresh_free() == 0 {
            return Err(PushError::Full(v));
        }
        let tail = self.tail;
        self.shared.slot(tail).with_mut(|p| {
            // SAFETY: `tail - head < capacity`, so slot `tail` is outside `head..tail`: the
            // consumer does not read it, and it finished reading its previous occupant before
            // releasing the head we acquired.
            unsafe { p.write(MaybeUninit::new(v)) }
        });
        self.tail = tail.wrapping_add(1);
        // Release: the slot write above happens-before the consumer's acquire load that sees
        // this tail, so it never reads an unwritten slot.
        self.shared.tail.store(self.tail, Ordering::Release);
        Ok(())
    }

    /// Pushes as many of `items` as fit, in order, publishes the tail once, and returns how many
    /// were pushed (0 when full).
    #[inline]
    pub fn push_batch(&mut self, items: &[T]) -> usize {
        let mut free = self.cached_free();
        if free < items.len() as u64 {
            free = self.refresh_free();
        }
        let n = (free as usize).min(items.len());
        if n == 0 {
            return 0;
        }
        // SAFETY: `n <= free`, so indices `tail..tail + n` are all outside `head..tail` for the
        // head we acquired; we are the producer.
        unsafe { self.shared.write_slots(self.tail, &items[..n]) };
        self.tail = self.tail.wrapping_add(n as u64);
        // Release: all `n` slot writes happen-before the consumer sees the new tail.
        self.shared.tail.store(self.tail, Ordering::Release);
        n
    }
}

impl<T> fmt::Debug for Producer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Producer")
            .field("capacity", &self.capacity())
            .field("tail", &self.tail)
            .field("cached_head", &self.cached_head)
            .finish_non_exhaustive()
    }
}

/// The reading end of an SPSC ring.
pub struct Consumer<T> {
    shared: Arc<Shared<T>>,
    /// Our own head: the value last stored to `shared.head` (only we write it).
    head: u64,
    /// The last tail we loaded. Tails only grow, so this is a lower bound on the real tail and
    /// the item count it gives is conservative.
    cached_tail: u64,
}

// SAFETY: the consumer only reads slots in `head..tail` after an acquire load of the tail and
// releases them with a release store; moving it to another thread moves that sole right with it.
// `T: Send` because items cross from the producer's thread. Not `Sync`, as for `Producer`.
unsafe impl<T: Send> Send for Consumer<T> {}

impl<T> Consumer<T> {
    /// Items available according to our cached tail (a lower bound on the true count).
    #[inline(always)]
    fn cached_len(&self) -> u64 {
        let n = self.cached_tail.wrapping_sub(self.head);
        debug_assert!(n <= self.shared.capacity());
        n
    }

    /// Reloads the producer's tail and returns the items available.
    #[inline]
    fn refresh_len(&mut self) -> u64 {
        // Acquire: pairs with the producer's release store of `tail`, so its slot writes
        // happen-before our reads.
        self.cached_tail = self.shared.tail.load(Ordering::Acquire);
        self.cached_len()
    }

    /// Items in the ring right now (the producer may add more at any moment).
    #[inline]
    pub fn len(&self) -> usize {
        // Acquire like `refresh_len`; the count is a snapshot either way.
        let n = self
            .shared
            .tail
            .load(Ordering::Acquire)
            .wrapping_sub(self.head);
        debug_assert!(n <= self.shared.capacity());
        n as usize
    }

    /// Whether the ring is empty right now.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of slots.
    #[inline]
    pub fn capacity(&self) -> usize {
        self.shared.capacity() as usize
    }

    /// Whether the [`Producer`] has been dropped. Once `true`, stays `true`; items it pushed
    /// before can still be popped.
    #[inline]
    pub fn is_abandoned(&self) -> bool {
        Arc::strong_count(&self.shared) < 2
    }
}

impl<T: Copy> Consumer<T> {
    /// Pops the oldest item, or `None` when the ring is empty.
    #[inline]
    pub fn pop(&mut self) -> Option<T> {
        if self.cached_len() == 0 && self.refresh_len() == 0 {
            return None;
        }
        let head = self.head;
        let v = self.shared.slot(head).with(|p| {
            // SAFETY: `head < tail` as acquired from the producer, so the slot holds an
            // initialised item whose write happens-before this read, and the producer will not
            // touch it until we release `head + 1`.
            unsafe { p.read().assume_init() }
        });
        self.head = head.wrapping_add(1);
        // Release: our read of the slot happens-before the producer's acquire load that sees
        // this head, so it never overwrites an item we are still reading.
        self.shared.head.store(self.head, Ordering::Release);
        Some(v)
    }

    /// Pops up to `out.len()` items into `out` in order, publishes the head once, and returns how
    /// many were popped (0 when empty).
    #[inline]
    pub fn pop_batch(&mut self, out: &mut [T]) -> usize {
        let mut avail = self.cached_len();
        if avail < out.len() as u64 {
            avail = self.refresh_len();
        }
        let n = (avail as usize).min(out.len());
        if n == 0 {
            return 0;
        }
        // SAFETY: `n <= avail`, so indices `head..head + n` are in `head..tail` for the tail we
        // acquired; we are the consumer.
        unsafe { self.shared.read_slots(self.head, &mut out[..n]) };
        self.head = self.head.wrapping_add(n as u64);
        // Release: all `n` slot reads happen-before the producer sees the new head.
        self.shared.head.store(self.head, Ordering::Release);
        n
    }
}

impl<T> fmt::Debug for Consumer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Consumer")
            .field("capacity", &self.capacity())
            .field("head", &self.head)
            .field("cached_tail", &self.cached_tail)
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, not(loom)))]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Compile-time check that `T` is not `Sync`: the call is ambiguous (and fails to compile) if
    /// both impls apply.
    trait AmbiguousIfSync<A> {
        fn check() {}
    }
    impl<T: ?Sized> AmbiguousIfSync<()> for T {}
    impl<T: ?Sized + Sync> AmbiguousIfSync<u8> for T {}

    #[test]
    fn handles_are_send_not_sync() {
        fn send<T: Send>() {}
        send::<Producer<u64>>();
        send::<Consumer<u64>>();
        <Producer<u64> as AmbiguousIfSync<_>>::check();
        <Consumer<u64> as AmbiguousIfSync<_>>::check();
    }

    #[test]
    fn bad_capacity_is_rejected() {
        for bad in [0usize, 3, 12, usize::MAX] {
            assert_eq!(
                channel::<u8>(bad).map(|_| ()),
                Err(CoreError::BadCapacity(bad))
            );
        }
    }

    #[test]
    fn fifo_and_full_gives_item_back() {
        let (mut tx, mut rx) = channel::<u32>(4).unwrap();
        assert_eq!(tx.capacity(), 4);
        assert_eq!(rx.capacity(), 4);
        for i in 0..4 {
            tx.push(i).unwrap();
        }
        assert_eq!(tx.free_slots(), 0);
        assert_eq!(tx.push(99), Err(PushError::Full(99)));
        assert_eq!(rx.len(), 4);
        assert_eq!(rx.pop(), Some(0));
        assert_eq!(tx.free_slots(), 1);
        tx.push(4).unwrap();
        assert_eq!(tx.push(5).map_err(PushError::into_inner), Err(5));
        for i in 1..5 {
            assert_eq!(rx.pop(), Some(i));
        }
        assert_eq!(rx.pop(), None);
        assert!(rx.is_empty());
    }

    #[test]
    fn capacity_one() {
        let (mut tx, mut rx) = channel::<u8>(1).unwrap();
        for i in 0..10u8 {
            tx.push(i).unwrap();
            assert!(tx.push(i).is_err());
            assert_eq!(tx.push_batch(&[1, 2]), 0);
            assert_eq!(rx.pop(), Some(i));
            assert_eq!(rx.pop(), None);
        }
    }

    #[test]
    fn batches_split_across_the_wrap() {
        let (mut tx, mut rx) = channel::<u16>(8).unwrap();
        // Move both indices to 5 so the next batch wraps around the buffer's end.
        assert_eq!(tx.push_batch(&[0; 5]), 5);
        let mut sink = [0; 5];
        assert_eq!(rx.pop_batch(&mut sink), 5);
        let items: Vec<u16> = (100..110).collect();
        assert_eq!(tx.push_batch(&items), 8);
        assert_eq!(tx.push_batch(&items[8..]), 0);
        let mut out = [0u16; 3];
        assert_eq!(rx.pop_batch(&mut out), 3);
        assert_eq!(out, [100, 101, 102]);
        let mut out = [0u16; 16];
        assert_eq!(rx.pop_batch(&mut out), 5);
        assert_eq!(&out[..5], &[103, 104, 105, 106, 107]);
        assert_eq!(rx.pop_batch(&mut out), 0);
        assert_eq!(rx.pop_batch(&mut []), 0);
        assert_eq!(tx.push_batch(&[]), 0);
    }

    #[test]
    fn indices_run_across_u64_max() {
        let (mut tx, mut rx) = with_start_index::<u64>(4, u64::MAX - 5);
        let mut next_in = 0u64;
        let mut next_out = 0u64;
        for round in 0..20u64 {
            let k = (round % 4 + 1) as usize;
            let items: Vec<u64> = (next_in..next_in + k as u64).collect();
            let pushed = tx.push_batch(&items);
            next_in += pushed as u64;
            if round % 3 == 0 && tx.push(next_in).is_ok() {
                next_in += 1;
            }
            assert!(rx.len() <= 4);
            let mut out = [0u64; 3];
            let n = rx.pop_batch(&mut out);
            for v in &out[..n] {
                assert_eq!(*v, next_out);
                next_out += 1;
            }
        }
        while let Some(v) = rx.pop() {
            assert_eq!(v, next_out);
            next_out += 1;
        }
        assert_eq!(next_in, next_out);
        assert!(next_in > 20, "the test must actually move items");
    }

    #[test]
    fn abandonment_is_seen_by_the_other_side() {
        let (mut tx, rx) = channel::<u8>(2).unwrap();
        assert!(!tx.is_abandoned());
        drop(rx);
        assert!(tx.is_abandoned());
        // Pushing into an abandoned ring still works; it just fills up.
        tx.push(1).unwrap();

        let (mut tx, mut rx) = channel::<u8>(2).unwrap();
        tx.push(7).unwrap();
        assert!(!rx.is_abandoned());
        drop(tx);
        assert!(rx.is_abandoned());
        assert_eq!(rx.pop(), Some(7));
    }

    #[test]
    fn large_items_round_trip() {
        let (mut tx, mut rx) = channel::<[u64; 8]>(4).unwrap();
        let items: Vec<[u64; 8]> = (0..4).map(|i| [i; 8]).collect();
        assert_eq!(tx.push_batch(&items), 4);
        let mut out = [[0u64; 8]; 4];
        assert_eq!(rx.pop_batch(&mut out), 4);
        assert_eq!(out.to_vec(), items);
    }

    #[test]
    fn two_threads_move_every_item_in_order() {
        const N: u64 = 200_000;
        let (mut tx, mut rx) = channel::<u64>(64).unwrap();
        let producer = std::thread::spawn(move || {
            let mut i = 0u64;
            while i < N {
                if i % 7 == 0 {
                    let batch: Vec<u64> = (i..(i + 13).min(N)).collect();
                    i += tx.push_batch(&batch) as u64;
                } else if tx.push(i).is_ok() {
                    i += 1;
                } else {
                    std::hint::spin_loop();
                }
            }
        });
        let mut expect = 0u64;
        let mut out = [0u64; 16];
        while expect < N {
            let n = if expect % 2 == 0 {
                rx.pop_batch(&mut out)
            } else {
                match rx.pop() {
                    Some(v) => {
                        out[0] = v;
                        1
                    }
                    None => 0,
                }
            };
            for v in &out[..n] {
                assert_eq!(*v, expect);
                expect += 1;
            }
            if n == 0 {
                std::hint::spin_loop();
            }
        }
        producer.join().unwrap();
        assert_eq!(rx.pop(), None);
        assert!(rx.is_abandoned());
    }
}
