//! The host ends of the mapped rings, driven against a software stand-in for the device that
//! follows the same slot protocol (layout.rs). Runs without a GPU; the real device side is covered
//! by the GPU suite.

// Helpers outside #[test] fns unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use bytemuck::Zeroable;
use ringkernel_core::{ActorId, Envelope, MessageTypeId};
use ringkernel_cuda::host_ring::{D2hConsumer, Doorbell, H2dProducer};
use ringkernel_cuda::layout::{
    envelope_hash, DoorbellSlot, IndexLine, RingSlot, SLOT_ENVELOPE_WORDS,
};

/// Shared ring memory for one test (stands in for mapped pinned memory). Raw allocations, so
/// both "sides" may write through their pointers.
struct Mem {
    slots: *mut RingSlot,
    cap: usize,
    index: *mut IndexLine,
}

// SAFETY: the memory is only accessed atomically, as the ring protocol prescribes.
unsafe impl Send for Mem {}
// SAFETY: as above.
unsafe impl Sync for Mem {}

impl Mem {
    fn new(cap: usize) -> Arc<Self> {
        let slots =
            Box::into_raw(vec![RingSlot::zeroed(); cap].into_boxed_slice()) as *mut RingSlot;
        let index = Box::into_raw(Box::new(IndexLine::zeroed()));
        Arc::new(Mem { slots, cap, index })
    }
    fn slot(&self, pos: u64) -> *mut RingSlot {
        self.slots.wrapping_add((pos % self.cap as u64) as usize)
    }
    fn index_ptr(&self) -> *mut IndexLine {
        self.index
    }
    fn index(&self) -> &AtomicU64 {
        // SAFETY: the index line lives as long as `self`; only accessed atomically.
        unsafe { AtomicU64::from_ptr(std::ptr::addr_of_mut!((*self.index).value)) }
    }
}

impl Drop for Mem {
    fn drop(&mut self) {
        // SAFETY: both came from Box::into_raw in `new` with these exact shapes.
        unsafe {
            drop(Box::from_raw(std::ptr::slice_from_raw_parts_mut(
                self.slots, self.cap,
            )));
            drop(Box::from_raw(self.index));
        }
    }
}

fn word<'a>(p: *mut u64) -> &'a AtomicU64 {
    // SAFETY: test memory outlives every use, and it is only accessed atomically.
    unsafe { AtomicU64::from_ptr(p) }
}

/// The device's read of one slot: both stamps must say `pos`, as persistent.cu checks.
fn device_read(slot: *mut RingSlot, pos: u64) -> Option<Envelope> {
    // SAFETY: `slot` points into live test memory.
    unsafe {
        if word(std::ptr::addr_of_mut!((*slot).seq_a)).load(Ordering::Acquire) != pos + 1 {
            return None;
        }
        let mut w = [0u64; SLOT_ENVELOPE_WORDS];
        let env = std::ptr::addr_of_mut!((*slot).env).cast::<u64>();
        for (i, x) in w.iter_mut().enumerate() {
            *x = word(env.add(i)).load(Ordering::Relaxed);
        }
        if word(std::ptr::addr_of_mut!((*slot).seq_b)).load(Ordering::Acquire) != pos + 1 {
            return None;
        }
        Some(bytemuck::cast(w))
    }
}

/// The device's write of one device->host slot: data, then both stamps, seq_b hashed
/// (layout.rs); the order of the stores does not matter to the reader, which checks the hash.
fn device_write(slot: *mut RingSlot, pos: u64, env: &Envelope) {
    let w: [u64; SLOT_ENVELOPE_WORDS] = bytemuck::cast(*env);
    let stamp_b = (pos + 1) ^ envelope_hash(&w);
    // SAFETY: `slot` points into live test memory, claimed for `pos` by the caller.
    unsafe {
        let p = std::ptr::addr_of_mut!((*slot).env).cast::<u64>();
        for (i, x) in w.iter().enumerate() {
            word(p.add(i)).store(*x, Ordering::Relaxed);
        }
        word(std::ptr::addr_of_mut!((*slot).seq_a)).store(pos + 1, Ordering::Release);
        word(std::ptr::addr_of_mut!((*slot).seq_b)).store(stamp_b, Ordering::Release);
    }
}

fn msg(producer: u32, seq: u64) -> Envelope {
    let mut payload = [0u8; 12];
    payload[..4].copy_from_slice(&producer.to_le_bytes());
    payload[4..].copy_from_slice(&seq.to_le_bytes());
    Envelope::from_bytes(
        ActorId::HOST,
        ActorId::from_raw(0),
        MessageTypeId(1),
        &payload,
    )
    .unwrap()
}

fn unpack(env: &Envelope) -> (u32, u64) {
    let p = env.payload_bytes();
    (
        u32::from_le_bytes(p[..4].try_into().unwrap()),
        u64::from_le_bytes(p[4..12].try_into().unwrap()),
    )
}

#[test]
fn many_producers_one_device_consumer_fifo_no_loss() {
    const CAP: usize = 16;
    const PRODUCERS: u32 = 4;
    const PER: u64 = 20_000;
    let mem = Mem::new(CAP);
    // SAFETY: `mem` holds CAP zeroed slots and a zeroed index for the producer's whole life.
    let producer = Arc::new(unsafe { H2dProducer::new(mem.slot(0), mem.index_ptr(), CAP as u64) });
    let fulls = Arc::new(AtomicU64::new(0));
    let device = {
        let mem = mem.clone();
        std::thread::spawn(move || {
            let mut next = HashMap::new();
            let mut pos = 0u64;
            while pos < PRODUCERS as u64 * PER {
                // Batch: take every ready slot, then publish once (as the kernel does).
                let start = pos;
                while let Some(env) = device_read(mem.slot(pos), pos) {
                    let (p, seq) = unpack(&env);
                    let want = next.entry(p).or_insert(1u64);
                    assert_eq!(seq, *want, "producer {p} out of order");
                    *want += 1;
                    pos += 1;
                    if pos - start == 8 {
                        break;
                    }
                }
                if pos != start {
                    mem.index().store(pos, Ordering::Release);
                } else {
                    std::hint::spin_loop();
                }
            }
            next
        })
    };
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let producer = producer.clone();
            let fulls = fulls.clone();
            std::thread::spawn(move || {
                for seq in 1..=PER {
                    while !producer.push(&msg(p, seq)) {
                        fulls.fetch_add(1, Ordering::Relaxed);
                        std::thread::yield_now();
                    }
                }
            })
        })
        .collect();
    for t in producers {
        t.join().unwrap();
    }
    let next = device.join().unwrap();
    for p in 0..PRODUCERS {
        assert_eq!(next[&p], PER + 1, "producer {p} lost messages");
    }
    assert_eq!(producer.tail(), PRODUCERS as u64 * PER);
    assert!(
        fulls.load(Ordering::Relaxed) > 0,
        "a 16-slot ring never filled"
    );
}

#[test]
fn full_ring_refuses_and_never_overwrites() {
    let mem = Mem::new(4);
    // SAFETY: as above.
    let producer = unsafe { H2dProducer::new(mem.slot(0), mem.index_ptr(), 4) };
    for i in 0..4 {
        assert!(producer.push(&msg(0, i)));
    }
    assert!(!producer.push(&msg(0, 99)), "pushed into a full ring");
    // Nothing was overwritten: the device still reads 0..4 in order.
    for i in 0..4u64 {
        assert_eq!(unpack(&device_read(mem.slot(i), i).unwrap()), (0, i));
    }
    // Consuming two frees exactly two.
    mem.index().store(2, Ordering::Release);
    assert_eq!(producer.push_batch(&[msg(1, 0), msg(1, 1), msg(1, 2)]), 2);
    assert_eq!(unpack(&device_read(mem.slot(4), 4).unwrap()), (1, 0));
    assert_eq!(unpack(&device_read(mem.slot(5), 5).unwrap()), (1, 1));
    assert!(device_read(mem.slot(6), 6).is_none());
}

#[test]
fn a_half_written_slot_is_not_ready() {
    let mem = Mem::new(2);
    let slot = mem.slot(0);
    // SAFETY: test memory.
    unsafe { word(std::ptr::addr_of_mut!((*slot).seq_a)).store(1, Ordering::Release) };
    assert!(device_read(slot, 0).is_none(), "seq_b not yet written");
    // A stale stamp from the previous lap is not ready either.
    // SAFETY: test memory.
    unsafe {
        word(std::ptr::addr_of_mut!((*slot).seq_a)).store(1, Ordering::Release);
        word(std::ptr::addr_of_mut!((*slot).seq_b)).store(1, Ordering::Release);
    }
    assert!(device_read(slot, 2).is_none(), "lap 0 stamp read as lap 1");
}

#[test]
fn device_to_host_ring_delivers_in_order_and_waits_when_full() {
    const CAP: u64 = 8;
    const TOTAL: u64 = 50_000;
    let mem = Mem::new(CAP as usize);
    let done = Arc::new(AtomicBool::new(false));
    let device = {
        let mem = mem.clone();
        std::thread::spawn(move || {
            let mut waits = 0u64;
            for pos in 0..TOTAL {
                // The device's full check: never write past the host's published index.
                while pos >= mem.index().load(Ordering::Acquire) + CAP {
                    waits += 1;
                    std::hint::spin_loop();
                }
                device_write(mem.slot(pos), pos, &msg(7, pos));
            }
            waits
        })
    };
    // SAFETY: as above.
    let mut consumer = unsafe { D2hConsumer::new(mem.slot(0), mem.index_ptr(), CAP) };
    let mut got = Vec::new();
    let mut expect = 0u64;
    while expect < TOTAL {
        got.clear();
        consumer.poll(&mut got, 5);
        for env in &got {
            assert_eq!(unpack(env), (7, expect));
            expect += 1;
        }
    }
    done.store(true, Ordering::Relaxed);
    let waits = device.join().unwrap();
    assert_eq!(consumer.position(), TOTAL);
    assert_eq!(mem.index().load(Ordering::Acquire), TOTAL);
    assert!(waits > 0, "an 8-slot ring never filled");
}

#[test]
fn doorbells_from_many_threads_all_arrive_and_full_is_reported() {
    const CAP: u64 = 8;
    // Leaked on purpose: raw memory both sides write through, alive for the whole test process.
    let slots: &'static mut [DoorbellSlot] =
        Box::leak(vec![DoorbellSlot::zeroed(); CAP as usize].into_boxed_slice());
    let slots_ptr = slots.as_mut_ptr() as usize;
    let head_ptr = Box::into_raw(Box::new(IndexLine::zeroed())) as usize;
    // SAFETY: both allocations are leaked, so they outlive the doorbell.
    let bell = Arc::new(unsafe {
        Doorbell::new(
            slots_ptr as *mut DoorbellSlot,
            head_ptr as *mut IndexLine,
            CAP,
        )
    });
    let head_word = move || word(head_ptr as *mut u64);
    // No router yet: the ring fills, and with no patience a ring reports failure.
    for b in 0..CAP {
        assert!(bell.ring(b, 0));
    }
    assert!(!bell.ring(99, 0), "rang into a full doorbell ring");
    // A router thread drains; four threads ring 1,000 times each.
    let stop = Arc::new(AtomicBool::new(false));
    let router = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut pos = 0u64;
            let mut seen = vec![0u64; 4];
            let head = head_word();
            loop {
                let s = (slots_ptr as *mut DoorbellSlot).wrapping_add((pos % CAP) as usize);
                // SAFETY: `s` is inside the leaked doorbell slots.
                let seq = word(unsafe { std::ptr::addr_of_mut!((*s).seq) }).load(Ordering::Acquire);
                if seq == pos + 1 {
                    // SAFETY: as above.
                    let b =
                        word(unsafe { std::ptr::addr_of_mut!((*s).block) }).load(Ordering::Relaxed);
                    if b < 4 {
                        seen[b as usize] += 1;
                    }
                    pos += 1;
                    head.store(pos, Ordering::Release);
                } else if stop.load(Ordering::Acquire) {
                    return seen;
                }
            }
        })
    };
    let ringers: Vec<_> = (0..4u64)
        .map(|b| {
            let bell = bell.clone();
            std::thread::spawn(move || {
                for _ in 0..1_000 {
                    assert!(bell.ring(b, u64::MAX));
                }
            })
        })
        .collect();
    for t in ringers {
        t.join().unwrap();
    }
    // Give the router time to drain the last entries, then stop it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while head_word().load(Ordering::Acquire) < CAP + 4_000 {
        assert!(std::time::Instant::now() < deadline, "router never drained");
        std::thread::yield_now();
    }
    stop.store(true, Ordering::Release);
    let seen = router.join().unwrap();
    // The first CAP doorbells named blocks 0..8; those below 4 count too.
    assert_eq!(seen, vec![1_001, 1_001, 1_001, 1_001]);
}

#[test]
fn a_partly_arrived_reply_is_not_taken_until_it_is_whole() {
    // Stamps first, data late: the order GPU stores to host memory may take without a fence.
    let mem = Mem::new(4);
    // SAFETY: as above.
    let mut consumer = unsafe { D2hConsumer::new(mem.slot(0), mem.index_ptr(), 4) };
    // Every word non-zero, so no late word happens to equal the zeroed memory it replaces (when
    // it does, the reader has in fact read the new message; see layout.rs).
    let mut payload = [0xA5u8; 80];
    payload[..4].copy_from_slice(&3u32.to_le_bytes());
    payload[4..12].copy_from_slice(&42u64.to_le_bytes());
    let env = Envelope::from_bytes(
        ActorId::from_raw(9),
        ActorId::HOST,
        MessageTypeId(5),
        &payload,
    )
    .unwrap();
    let w: [u64; SLOT_ENVELOPE_WORDS] = bytemuck::cast(env);
    let slot = mem.slot(0);
    // SAFETY: test memory.
    unsafe {
        word(std::ptr::addr_of_mut!((*slot).seq_a)).store(1, Ordering::Release);
        word(std::ptr::addr_of_mut!((*slot).seq_b)).store(1 ^ envelope_hash(&w), Ordering::Release);
    }
    let mut out = Vec::new();
    assert_eq!(
        consumer.poll(&mut out, 8),
        0,
        "took a slot whose data has not arrived"
    );
    // Half the words arrive: still not whole.
    // SAFETY: `slot` points into live test memory.
    let p = unsafe { std::ptr::addr_of_mut!((*slot).env).cast::<u64>() };
    for (i, x) in w.iter().enumerate().take(7) {
        // SAFETY: test memory.
        word(unsafe { p.add(i) }).store(*x, Ordering::Release);
    }
    assert_eq!(consumer.poll(&mut out, 8), 0, "took a half-written slot");
    for (i, x) in w.iter().enumerate().skip(7) {
        // SAFETY: test memory.
        word(unsafe { p.add(i) }).store(*x, Ordering::Release);
    }
    assert_eq!(consumer.poll(&mut out, 8), 1);
    assert_eq!(unpack(&out[0]), (3, 42));
}

#[test]
fn envelope_hash_sees_every_word_and_its_position() {
    let base = [7u64; SLOT_ENVELOPE_WORDS];
    let h = envelope_hash(&base);
    for i in 0..SLOT_ENVELOPE_WORDS {
        let mut w = base;
        w[i] ^= 1;
        assert_ne!(envelope_hash(&w), h, "word {i} not covered");
    }
    let mut swapped = [0u64; SLOT_ENVELOPE_WORDS];
    swapped[0] = 1;
    let mut other = [0u64; SLOT_ENVELOPE_WORDS];
    other[1] = 1;
    assert_ne!(
        envelope_hash(&swapped),
        envelope_hash(&other),
        "positions not covered"
    );
}
