//! Memory shared between host and device, defined once here.
//!
//! Every struct the persistent kernel and the host both touch is a `#[repr(C)]` type in this file.
//! [`device_header`] renders the matching CUDA declarations *from these definitions* (sizes and
//! offsets come from `size_of`/`offset_of!`), each followed by `static_assert`s, so the device can
//! never silently disagree with the host: CI compiles the header with NVRTC on every run.
//!
//! # Ring slot protocol (host→device and device→host)
//!
//! A ring is `capacity` [`RingSlot`]s (128 bytes each: one GPU cache line, one PCIe read) plus a
//! consumer index on its own 128-byte [`IndexLine`]. Positions are monotonically increasing `u64`
//! (they never wrap in practice: 2^64 messages); position `p` lives in slot `p % capacity`.
//!
//! 1. A producer claims position `p` only if `p < consumer_index + capacity` (a real full check:
//!    the slot's previous occupant, position `p - capacity`, has been consumed).
//! 2. It writes the envelope bytes, then `seq_a` and `seq_b` (release), both `= p + 1`.
//! 3. The consumer reads the whole slot in one go and takes it only if `seq_a == seq_b == p + 1`.
//!    `seq_a` shares the first 64-byte half with envelope bytes 0..56 and `seq_b` the second half
//!    with bytes 56..112. Host stores become visible in program order (x86-64 TSO) and a PCIe read
//!    snapshots each 64-byte line coherently, so a half whose seq matches holds that message's
//!    bytes; a torn read shows a stale seq in some half and is simply retried. This is what lets
//!    one PCIe round trip carry both readiness and payload.
//! 4. The consumer publishes its index once per batch (release); producers re-read it only when
//!    their cached copy says the ring is full.
//!
//! Stale slots from the previous lap hold `seq = p + 1 - capacity`, never `p + 1`, so there is no
//! ABA; the zeroed initial slots (seq 0) are not ready for position 0 (which expects 1).
//!
//! Device→host slots are stamped differently, because GPU stores to host memory may arrive in
//! pieces (32-byte sectors) and in any order unless a system fence separates them, and that fence
//! sits on the reply's critical path. The device writes the whole slot in one coalesced store
//! with `seq_a = p + 1` and `seq_b = (p + 1) ^ envelope_hash(words)`; the host accepts the slot
//! only when both check out against the words it read, and otherwise reads it again later. A
//! partly arrived slot fails the check unless its stale bytes happen to equal the new ones (then
//! what the host read *is* the new message); a false accept needs a 64-bit hash collision.

use std::fmt::Write as _;
use std::mem::{align_of, offset_of, size_of};

use bytemuck::{Pod, Zeroable};
mod multi;
pub use multi::{route, PeerEntry};

use ringkernel_core::envelope::{ENVELOPE_OFFSETS, ENVELOPE_SIZE, HEADER_SIZE, MAX_PAYLOAD};

/// Envelope words carried by a slot (112 bytes).
pub const SLOT_ENVELOPE_WORDS: usize = ENVELOPE_SIZE / 8;

/// The splitmix64 finalizer: a fast 64-bit mixer.
pub(crate) const fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Hash of an envelope's words that stamps device→host slots (see the module docs). The device's
/// `rk_envelope_hash` in `kernels/runtime.cuh` computes the same function.
pub fn envelope_hash(words: &[u64; SLOT_ENVELOPE_WORDS]) -> u64 {
    let mut h = 0x9E37_79B9_7F4A_7C15u64;
    for (i, w) in words.iter().enumerate() {
        h ^= mix64(w.wrapping_add((i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)));
    }
    h
}

/// One ring slot: a sequence stamp at each end of a 128-byte line, the envelope in between.
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
#[repr(C, align(128))]
pub struct RingSlot {
    /// `position + 1` once the first half is written.
    pub seq_a: u64,
    /// The envelope's bytes (8-byte aligned inside the slot).
    pub env: [u64; SLOT_ENVELOPE_WORDS],
    /// `position + 1` once the second half is written.
    pub seq_b: u64,
}

/// A `u64` index alone on a 128-byte line, so the side that writes it shares the line with no one
/// (128 bytes: the GPU's L2 line and the unit of PCIe coherence traffic we care about).
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
#[repr(C, align(128))]
pub struct IndexLine {
    /// The index.
    pub value: u64,
    /// Padding to 128 bytes.
    pub pad: [u64; 15],
}

/// Per-block status the device writes into mapped memory for the host to read.
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
#[repr(C, align(128))]
pub struct BlockStatus {
    /// `%globaltimer` (ns) at the block's last heartbeat; 0 before the first.
    pub heartbeat_ns: u64,
    /// Messages this block has consumed from its ring (all kinds).
    pub consumed: u64,
    /// User messages whose handler ran.
    pub processed: u64,
    /// User messages dropped because the actor was not active.
    pub dropped: u64,
    /// Loop iterations that found nothing to do.
    pub idle_polls: u64,
    /// 1 once the block has left its loop.
    pub exited: u64,
    /// Incremented each time the block goes cold (stops polling its mailbox and waits for a
    /// doorbell). A producer that sees this ahead of the epoch it last rang for rings again.
    pub sleep_epoch: u64,
    /// `clock64` cycles spent serving batches (from the poll that found messages to the last
    /// reply written), summed: the device's share of a message's latency.
    pub service_cycles: u64,
    /// Of `service_cycles`: lane 0 running the batch (control messages and handlers).
    pub handler_cycles: u64,
    /// Of `service_cycles`: claiming device→host slots and writing replies into them.
    pub reply_cycles: u64,
    /// K2K messages this block has taken from its device inbox.
    pub k2k_consumed: u64,
    /// K2K: summed `%globaltimer` ns from a message's publication in this block's inbox (the
    /// sender stamps it into `correlation`) to this block taking it.
    pub k2k_wait_ns: u64,
    /// K2K messages `k2k_wait_ns` sums over.
    pub k2k_waited: u64,
    /// Unused; keeps the struct two whole 64-byte lines.
    /// Sender id of the last K2K message the block took (`u64::MAX` before the first): sampled
    /// at each heartbeat, it is how the host estimates who talks to whom (`multi::balance`).
    pub k2k_last_sender: u64,
    /// Unused; keeps the struct one 128-byte line.
    pub reserved: [u64; 2],
}

/// Everything the persistent kernel needs, passed by value as its only parameter.
///
/// Pointers are device addresses (for mapped host memory: the address returned by
/// `cuMemHostGetDevicePointer`).
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
#[repr(C)]
pub struct KernelParams {
    /// Host→device slots: `blocks * h2d_capacity` slots, block `b`'s ring first at `b * h2d_capacity`.
    pub h2d_slots: u64,
    /// Host→device consumer indices, one [`IndexLine`] per block (written by the device).
    pub h2d_heads: u64,
    /// Device→host slots (one shared ring).
    pub d2h_slots: u64,
    /// Device→host consumer index (written by the host).
    pub d2h_head: u64,
    /// Device→host producer counter in device memory (device-scope atomics).
    pub d2h_tail: u64,
    /// Device-memory cache of `d2h_head`, refreshed only when the ring looks full.
    pub d2h_head_cache: u64,
    /// Actor state pool in device memory: `2 * blocks * state_stride` bytes. Block `b`'s state
    /// is at `b * state_stride`; its restart image (the initial state an in-place restart
    /// restores, written by the host at spawn when the actor has a restart policy) at
    /// `(blocks + b) * state_stride`.
    pub state_pool: u64,
    /// Per-block [`BlockStatus`] in mapped memory.
    pub status: u64,
    /// Slots per host→device ring (power of two).
    pub h2d_capacity: u64,
    /// Slots in the device→host ring (power of two).
    pub d2h_capacity: u64,
    /// Bytes of state per block (multiple of 16).
    pub state_stride: u64,
    /// Longest idle back-off, in ns.
    pub max_backoff_ns: u64,
    /// Heartbeat period, in ns.
    pub heartbeat_ns: u64,
    /// Doorbell ring in mapped memory: [`DoorbellSlot`]s naming blocks to wake.
    pub doorbell_slots: u64,
    /// Doorbell consumer index ([`IndexLine`], written by the router block).
    pub doorbell_head: u64,
    /// Slots in the doorbell ring (power of two).
    pub doorbell_capacity: u64,
    /// Per-block wake counters in device memory (one `u64` per 128-byte line), bumped by the router.
    pub wake: u64,
    /// Count of actor blocks that have left their loop (device memory); the router exits when it
    /// reaches the number of actor blocks.
    pub exited_blocks: u64,
    /// How long a block keeps polling its mailbox after its last message before going cold, ns.
    pub hot_ns: u64,
    /// Number of actor blocks (the router is block `actor_blocks`).
    pub actor_blocks: u64,
    /// K2K inboxes in device memory: `actor_blocks * k2k_capacity` [`RingSlot`]s, block `b`'s
    /// first at `b * k2k_capacity`. A slot's `seq_a` is its Vyukov sequence (see
    /// `kernels/runtime.cuh`, `rk_k2k_tell`); `seq_b` is unused.
    pub k2k_slots: u64,
    /// K2K producers' claim counters, one [`IndexLine`] per block, in device memory.
    pub k2k_tails: u64,
    /// Slots per K2K inbox (power of two): the credits a target grants its device senders.
    pub k2k_capacity: u64,
    /// Per-block [`ActorEntry`] in device memory: what device senders check before sending.
    pub actor_table: u64,
    /// Multi-GPU: device address of this GPU's copy of the peer directory
    /// ([`PeerEntry`] per GPU of the runtime, indexed by GPU), 0 on a single GPU.
    pub peers: u64,
    /// Multi-GPU: device address of this GPU's copy of the route table (one `u32` per global
    /// actor id, see [`route`]), 0 on a single GPU: then K2K targets are block indices.
    pub routes: u64,
    /// Entries in the route table.
    pub route_count: u64,
    /// This GPU's index in the multi-GPU runtime (0 on a single GPU).
    pub gpu_index: u64,
    /// Snapshot slots in device memory, one per block of `state_stride + k2k_capacity *
    /// ENVELOPE_SIZE` bytes: the state, then the inbox messages copied by a SNAPSHOT; 0 when
    /// the runtime has none (`CudaConfig::snapshots` off).
    pub snap_pool: u64,
}

/// What device senders may know about an actor block, kept by the block itself in device memory.
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
#[repr(C, align(16))]
pub struct ActorEntry {
    /// One of [`actor_mode`].
    pub mode: u32,
    /// Index of the actor type in registration order.
    pub type_index: u32,
    /// The message type id its handler takes.
    pub msg_type: u32,
    /// The message size its handler takes, in bytes.
    pub msg_size: u32,
}

/// Values of [`ActorEntry::mode`] (and of a block's own actor mode).
pub mod actor_mode {
    /// No actor started in this block yet (or it stopped before one started).
    pub const DORMANT: u32 = 0;
    /// Running: takes messages.
    pub const ACTIVE: u32 = 2;
    /// Stopped by the host.
    pub const STOPPED: u32 = 3;
    /// Its handler failed.
    pub const FAILED: u32 = 5;
    /// Frozen for migration to another block (or GPU): device senders get no credit until the
    /// route points at the new home.
    pub const MOVED: u32 = 6;
}

/// Results of `rk_k2k_tell` (device), and its policies when the target's inbox is full.
pub mod k2k {
    /// Delivered into the target's inbox.
    pub const OK: u32 = 0;
    /// The target's inbox is full (no credits); nothing was recorded (policy `ON_FULL_FAIL`).
    pub const FULL: u32 = 1;
    /// Not delivered; recorded as a dead letter and drained to the host.
    pub const DEAD: u32 = 2;
    /// Policy: a full inbox returns [`FULL`] and the handler decides (retry later, count, …).
    pub const ON_FULL_FAIL: u32 = 0;
    /// Policy: a full inbox makes the message a dead letter (reason `Full`).
    pub const ON_FULL_DEAD_LETTER: u32 = 1;
    /// Bit of an inbox tail that closes the inbox (migration): no producer claims past it, so
    /// the tail's value below the bit is the final count of messages the inbox received.
    pub const SEALED: u64 = 1 << 63;
}

/// One doorbell: "block `block` has mail". 16 bytes: the stamp and the block share a cache line,
/// so the router reads both in one load.
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
#[repr(C, align(16))]
pub struct DoorbellSlot {
    /// `position + 1` once written.
    pub seq: u64,
    /// Block to wake.
    pub block: u64,
}

/// Reserved message type ids of runtime control messages (see `MessageTypeId::RESERVED_START`).
pub mod control {
    /// Host→device: activate the block's actor. Payload: [`super::StartPayload`].
    pub const START: u32 = 0xFFFF_0001;
    /// Host→device: process what is queued, then terminate the actor.
    pub const STOP: u32 = 0xFFFF_0002;
    /// Host→device: leave the persistent loop (after everything queued before it).
    pub const SHUTDOWN: u32 = 0xFFFF_0003;
    /// Device→host notice: the actor's handler failed. Payload: `u32` code.
    pub const FAILED: u32 = 0xFFFF_0101;
    /// Device→host notice: the actor terminated after a STOP.
    pub const TERMINATED: u32 = 0xFFFF_0102;
    /// Host→device: after what is queued, freeze the actor for migration (stop taking K2K
    /// messages, keep the state) and answer [`FROZEN`].
    pub const MIGRATE: u32 = 0xFFFF_0004;
    /// Host→device: undo a [`MIGRATE`] (a migration that failed before its route swap).
    pub const THAW: u32 = 0xFFFF_0005;
    /// Host→device: copy the actor's state and untaken inbox messages into the block's snapshot
    /// slot, answer [`SNAPSHOTTED`]. Payload: a `u64` token.
    pub const SNAPSHOT: u32 = 0xFFFF_0006;
    /// Device→host: a snapshot is in the slot. Payload: `u64` words: token, inbox head,
    /// inbox messages copied (`u64::MAX`: the runtime has no snapshot slots).
    pub const SNAPSHOTTED: u32 = 0xFFFF_0104;
    /// Device→host notice: the actor is frozen. Payload: `u64` K2K inbox head (messages taken).
    pub const FROZEN: u32 = 0xFFFF_0103;
}

/// Payload of a START control message.
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
#[repr(C)]
pub struct StartPayload {
    /// Index of the actor type in the runtime's registration order.
    pub type_index: u32,
    /// The actor's id.
    pub actor_id: u32,
    /// The message type id the actor's handler takes (published for device senders).
    pub msg_type: u32,
    /// The message size the actor's handler takes.
    pub msg_size: u32,
    /// The id device handlers see as the actor's own (`rk_ctx::self_id`, the sender of its K2K
    /// messages): `actor_id` on one GPU, the runtime-wide id in a multi-GPU runtime.
    pub device_id: u32,
    /// In-place restarts allowed within `restart_period_ms` (0: a failure leaves the actor
    /// failed; at most [`MAX_DEVICE_RESTARTS`]).
    pub restart_max: u32,
    /// The restart window, in ms.
    pub restart_period_ms: u32,
}

/// Most in-place restarts per window a block tracks (it keeps the times of its last this many).
pub const MAX_DEVICE_RESTARTS: u32 = ringkernel_core::backend::MAX_IN_PLACE_RESTARTS;

/// Payload of a reply whose handler failed.
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
#[repr(C)]
pub struct FailurePayload {
    /// The handler's non-zero return code.
    pub code: u32,
}

const _: () = {
    assert!(size_of::<RingSlot>() == 128);
    assert!(offset_of!(RingSlot, env) == 8);
    assert!(offset_of!(RingSlot, seq_b) == 120);
    assert!(size_of::<IndexLine>() == 128);
    assert!(size_of::<BlockStatus>() == 128);
    assert!(size_of::<KernelParams>() == 29 * 8);
    assert!(size_of::<StartPayload>() == 28);
    assert!(size_of::<ActorEntry>() == 16);
    assert!(size_of::<DoorbellSlot>() == 16);
};

/// Renders the device-side declarations of every shared layout, with `static_assert`s whose numbers
/// come from the Rust definitions above.
pub fn device_header() -> String {
    let mut h = String::new();
    h.push_str(
        "// Generated from ringkernel-cuda/src/layout.rs and ringkernel-core/src/envelope.rs.\n",
    );
    h.push_str("// Do not edit: change the Rust types instead.\n#pragma once\n");
    // NVRTC's front end has no constant-evaluable offsetof; EDG's __INTADDR__ is one.
    h.push_str("#define RK_OFFSETOF(T, f) __INTADDR__(&((T*)0)->f)\n");
    let _ = writeln!(h, "#define RK_MAX_PAYLOAD {MAX_PAYLOAD}");
    let _ = writeln!(h, "#define RK_ENVELOPE_WORDS {SLOT_ENVELOPE_WORDS}");
    h.push_str(
        "struct __align__(8) rk_envelope_header {\n  unsigned int sender;\n  unsigned int receiver;\n  \
         unsigned int type_id;\n  unsigned short payload_len;\n  unsigned short flags;\n  \
         unsigned long long correlation;\n  unsigned long long hlc;\n};\n",
    );
    h.push_str(
        "struct __align__(16) rk_envelope {\n  rk_envelope_header header;\n  \
         unsigned char payload[RK_MAX_PAYLOAD];\n};\n",
    );
    let _ = writeln!(
        h,
        "static_assert(sizeof(rk_envelope_header) == {HEADER_SIZE}, \"envelope header size\");"
    );
    let _ = writeln!(
        h,
        "static_assert(sizeof(rk_envelope) == {ENVELOPE_SIZE}, \"envelope size\");"
    );
    let _ = writeln!(
        h,
        "static_assert(alignof(rk_envelope) == {}, \"envelope alignment\");",
        align_of::<ringkernel_core::Envelope>()
    );
    for (field, offset) in ENVELOPE_OFFSETS {
        // The header sits at offset 0, so header fields are checked on rk_envelope_header.
        let path = if field == "payload" {
            "rk_envelope, payload".to_string()
        } else {
            format!("rk_envelope_header, {field}")
        };
        let _ = writeln!(
            h,
            "static_assert(RK_OFFSETOF({path}) == {offset}, \"envelope.{field} offset\");"
        );
    }
    h.push_str(
        "struct __align__(128) rk_slot {\n  unsigned long long seq_a;\n  \
         unsigned long long env[RK_ENVELOPE_WORDS];\n  unsigned long long seq_b;\n};\n",
    );
    assert_layout(
        &mut h,
        "rk_slot",
        size_of::<RingSlot>(),
        align_of::<RingSlot>(),
        &[
            ("seq_a", offset_of!(RingSlot, seq_a)),
            ("env", offset_of!(RingSlot, env)),
            ("seq_b", offset_of!(RingSlot, seq_b)),
        ],
    );
    h.push_str(
        "struct __align__(128) rk_index_line {\n  unsigned long long value;\n  \
         unsigned long long pad[15];\n};\n",
    );
    assert_layout(
        &mut h,
        "rk_index_line",
        size_of::<IndexLine>(),
        align_of::<IndexLine>(),
        &[("value", offset_of!(IndexLine, value))],
    );
    h.push_str(
        "struct __align__(128) rk_block_status {\n  unsigned long long heartbeat_ns;\n  \
         unsigned long long consumed;\n  unsigned long long processed;\n  \
         unsigned long long dropped;\n  unsigned long long idle_polls;\n  \
         unsigned long long exited;\n  unsigned long long sleep_epoch;\n  \
         unsigned long long service_cycles;\n  unsigned long long handler_cycles;\n  \
         unsigned long long reply_cycles;\n  unsigned long long k2k_consumed;\n  \
         unsigned long long k2k_wait_ns;\n  unsigned long long k2k_waited;\n  \
         unsigned long long k2k_last_sender;\n  unsigned long long reserved[2];\n};\n",
    );
    assert_layout(
        &mut h,
        "rk_block_status",
        size_of::<BlockStatus>(),
        align_of::<BlockStatus>(),
        &[
            ("heartbeat_ns", offset_of!(BlockStatus, heartbeat_ns)),
            ("consumed", offset_of!(BlockStatus, consumed)),
            ("processed", offset_of!(BlockStatus, processed)),
            ("dropped", offset_of!(BlockStatus, dropped)),
            ("idle_polls", offset_of!(BlockStatus, idle_polls)),
            ("exited", offset_of!(BlockStatus, exited)),
            ("sleep_epoch", offset_of!(BlockStatus, sleep_epoch)),
            ("service_cycles", offset_of!(BlockStatus, service_cycles)),
            ("handler_cycles", offset_of!(BlockStatus, handler_cycles)),
            ("reply_cycles", offset_of!(BlockStatus, reply_cycles)),
            ("k2k_consumed", offset_of!(BlockStatus, k2k_consumed)),
            ("k2k_wait_ns", offset_of!(BlockStatus, k2k_wait_ns)),
            ("k2k_waited", offset_of!(BlockStatus, k2k_waited)),
            ("k2k_last_sender", offset_of!(BlockStatus, k2k_last_sender)),
        ],
    );
    let params = [
        ("h2d_slots", offset_of!(KernelParams, h2d_slots)),
        ("h2d_heads", offset_of!(KernelParams, h2d_heads)),
        ("d2h_slots", offset_of!(KernelParams, d2h_slots)),
        ("d2h_head", offset_of!(KernelParams, d2h_head)),
        ("d2h_tail", offset_of!(KernelParams, d2h_tail)),
        ("d2h_head_cache", offset_of!(KernelParams, d2h_head_cache)),
        ("state_pool", offset_of!(KernelParams, state_pool)),
        ("status", offset_of!(KernelParams, status)),
        ("h2d_capacity", offset_of!(KernelParams, h2d_capacity)),
        ("d2h_capacity", offset_of!(KernelParams, d2h_capacity)),
        ("state_stride", offset_of!(KernelParams, state_stride)),
        ("max_backoff_ns", offset_of!(KernelParams, max_backoff_ns)),
        ("heartbeat_ns", offset_of!(KernelParams, heartbeat_ns)),
        ("doorbell_slots", offset_of!(KernelParams, doorbell_slots)),
        ("doorbell_head", offset_of!(KernelParams, doorbell_head)),
        (
            "doorbell_capacity",
            offset_of!(KernelParams, doorbell_capacity),
        ),
        ("wake", offset_of!(KernelParams, wake)),
        ("exited_blocks", offset_of!(KernelParams, exited_blocks)),
        ("hot_ns", offset_of!(KernelParams, hot_ns)),
        ("actor_blocks", offset_of!(KernelParams, actor_blocks)),
        ("k2k_slots", offset_of!(KernelParams, k2k_slots)),
        ("k2k_tails", offset_of!(KernelParams, k2k_tails)),
        ("k2k_capacity", offset_of!(KernelParams, k2k_capacity)),
        ("actor_table", offset_of!(KernelParams, actor_table)),
        ("peers", offset_of!(KernelParams, peers)),
        ("routes", offset_of!(KernelParams, routes)),
        ("route_count", offset_of!(KernelParams, route_count)),
        ("gpu_index", offset_of!(KernelParams, gpu_index)),
        ("snap_pool", offset_of!(KernelParams, snap_pool)),
    ];
    h.push_str("struct rk_params {\n");
    for (name, _) in params {
        let _ = writeln!(h, "  unsigned long long {name};");
    }
    h.push_str("};\n");
    assert_layout(
        &mut h,
        "rk_params",
        size_of::<KernelParams>(),
        align_of::<KernelParams>(),
        &params,
    );
    h.push_str(
        "struct __align__(16) rk_doorbell {\n  unsigned long long seq;\n  unsigned long long block;\n};\n",
    );
    assert_layout(
        &mut h,
        "rk_doorbell",
        size_of::<DoorbellSlot>(),
        align_of::<DoorbellSlot>(),
        &[
            ("seq", offset_of!(DoorbellSlot, seq)),
            ("block", offset_of!(DoorbellSlot, block)),
        ],
    );
    h.push_str(
        "struct rk_start_payload {\n  unsigned int type_index;\n  unsigned int actor_id;\n  \
         unsigned int msg_type;\n  unsigned int msg_size;\n  unsigned int device_id;\n  \
         unsigned int restart_max;\n  unsigned int restart_period_ms;\n};\n",
    );
    assert_layout(
        &mut h,
        "rk_start_payload",
        size_of::<StartPayload>(),
        align_of::<StartPayload>(),
        &[
            ("type_index", offset_of!(StartPayload, type_index)),
            ("actor_id", offset_of!(StartPayload, actor_id)),
            ("msg_type", offset_of!(StartPayload, msg_type)),
            ("msg_size", offset_of!(StartPayload, msg_size)),
            ("device_id", offset_of!(StartPayload, device_id)),
            ("restart_max", offset_of!(StartPayload, restart_max)),
            (
                "restart_period_ms",
                offset_of!(StartPayload, restart_period_ms),
            ),
        ],
    );
    h.push_str(
        "struct __align__(16) rk_actor_entry {\n  unsigned int mode;\n  unsigned int type_index;\n  \
         unsigned int msg_type;\n  unsigned int msg_size;\n};\n",
    );
    assert_layout(
        &mut h,
        "rk_actor_entry",
        size_of::<ActorEntry>(),
        align_of::<ActorEntry>(),
        &[
            ("mode", offset_of!(ActorEntry, mode)),
            ("type_index", offset_of!(ActorEntry, type_index)),
            ("msg_type", offset_of!(ActorEntry, msg_type)),
            ("msg_size", offset_of!(ActorEntry, msg_size)),
        ],
    );
    for (name, value) in [
        ("RK_MODE_DORMANT", actor_mode::DORMANT),
        ("RK_MODE_ACTIVE", actor_mode::ACTIVE),
        ("RK_MODE_STOPPED", actor_mode::STOPPED),
        ("RK_MODE_FAILED", actor_mode::FAILED),
        ("RK_MODE_MOVED", actor_mode::MOVED),
        ("RK_K2K_OK", k2k::OK),
        ("RK_K2K_FULL", k2k::FULL),
        ("RK_K2K_DEAD", k2k::DEAD),
        ("RK_ON_FULL_FAIL", k2k::ON_FULL_FAIL),
        ("RK_ON_FULL_DEAD_LETTER", k2k::ON_FULL_DEAD_LETTER),
        ("RK_MAX_RESTARTS", MAX_DEVICE_RESTARTS),
    ] {
        let _ = writeln!(h, "#define {name} {value}u");
    }
    use ringkernel_core::DeadLetterReason as Dl;
    for (name, reason) in [
        ("RK_DEAD_UNKNOWN", Dl::UnknownTarget),
        ("RK_DEAD_STOPPED", Dl::Stopped),
        ("RK_DEAD_REJECTED", Dl::Rejected),
        ("RK_DEAD_FULL", Dl::Full),
        ("RK_DEAD_EXPIRED", Dl::Expired),
    ] {
        let _ = writeln!(h, "#define {name} {}u", reason.to_flags());
    }
    for (name, value) in [
        ("RK_CTRL_START", control::START),
        ("RK_CTRL_STOP", control::STOP),
        ("RK_CTRL_SHUTDOWN", control::SHUTDOWN),
        ("RK_NOTICE_FAILED", control::FAILED),
        ("RK_NOTICE_TERMINATED", control::TERMINATED),
        ("RK_CTRL_MIGRATE", control::MIGRATE),
        ("RK_CTRL_THAW", control::THAW),
        ("RK_CTRL_SNAPSHOT", control::SNAPSHOT),
        ("RK_NOTICE_SNAPSHOTTED", control::SNAPSHOTTED),
        ("RK_NOTICE_FROZEN", control::FROZEN),
    ] {
        let _ = writeln!(h, "#define {name} {value:#010x}u");
    }
    use ringkernel_core::envelope::flags;
    for (name, value) in [
        ("RK_FLAG_ASK", flags::ASK),
        ("RK_FLAG_REPLY", flags::REPLY),
        ("RK_FLAG_FAILED", flags::FAILED),
        ("RK_FLAG_DROPPED", flags::DROPPED),
        ("RK_FLAG_CONTROL", flags::CONTROL),
        ("RK_FLAG_DEAD_LETTER", flags::DEAD_LETTER),
        ("RK_FLAG_RESTARTED", flags::RESTARTED),
    ] {
        let _ = writeln!(h, "#define {name} {value}u");
    }
    let _ = writeln!(h, "#define RK_HOST_ID {}u", u32::MAX);
    let _ = writeln!(h, "#define RK_K2K_SEALED {:#x}ull", k2k::SEALED);
    multi::render(&mut h);
    h
}

pub(crate) fn assert_layout(
    h: &mut String,
    ty: &str,
    size: usize,
    align: usize,
    fields: &[(&str, usize)],
) {
    let _ = writeln!(h, "static_assert(sizeof({ty}) == {size}, \"{ty} size\");");
    let _ = writeln!(
        h,
        "static_assert(alignof({ty}) == {align}, \"{ty} alignment\");"
    );
    for (field, offset) in fields {
        let _ = writeln!(
            h,
            "static_assert(RK_OFFSETOF({ty}, {field}) == {offset}, \"{ty}.{field} offset\");"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_asserts_every_shared_struct() {
        let h = device_header();
        for ty in [
            "rk_envelope",
            "rk_slot",
            "rk_index_line",
            "rk_block_status",
            "rk_params",
        ] {
            assert!(h.contains(&format!("sizeof({ty}) ==")), "{ty} unchecked");
        }
        assert!(h.contains("static_assert(sizeof(rk_slot) == 128"));
        assert!(h.contains("RK_OFFSETOF(rk_envelope_header, hlc) == 24"));
    }

    #[test]
    fn slot_halves_each_carry_a_seq() {
        // seq_a and the first 56 envelope bytes share bytes 0..64; seq_b and the rest 64..128.
        assert!(offset_of!(RingSlot, seq_a) < 64);
        assert!(offset_of!(RingSlot, seq_b) >= 64);
        assert_eq!(SLOT_ENVELOPE_WORDS * 8, ENVELOPE_SIZE);
    }
}
