//! Layouts the host and the swarm kernel share: the mailbox slot, the actor header, the per-block
//! counters and the kernel's parameter block. The device header is rendered from these types
//! with `static_assert`s on every size and offset, so drift fails the NVRTC compile in CI.
//!
//! Why all-zero memory is an empty swarm: every position-tagged word (mailbox slots, ready-queue
//! entries) encodes its lap as `2 * lap` (free for that lap) or `2 * lap + 1` (holds the lap's
//! item), so a zeroed slot is free for lap 0 and a million mailboxes need no initialisation pass.

use std::fmt::Write as _;
use std::mem::{align_of, offset_of, size_of};

use bytemuck::{Pod, Zeroable};

use crate::layout::assert_layout;
pub use crate::layout::IndexLine;

/// Payload words a swarm message carries.
pub const MSG_WORDS: usize = 3;

/// One mailbox slot: a message and the stamps that make it self-validating.
///
/// `seq` is the lap tag (`2 * lap + 1` when filled); `check` is `seq ^ hash(words 1..8)`, so a
/// consumer accepts the slot only once every byte of it has arrived, without a fence on the
/// sender (a device-scope release costs a MEMBAR.GPU per message).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
#[repr(C, align(64))]
pub struct SwarmSlot {
    /// Lap tag.
    pub seq: u32,
    /// `seq ^` low half of the hash of the seven words after the first.
    pub check: u32,
    /// Sender id ([`HOST`] for the host).
    pub from: u32,
    /// Recipient id.
    pub to: u32,
    /// User kind (low 24 bits) and [`flag`] bits (high 8).
    pub kind: u32,
    /// Pairs a reply with its ask.
    pub corr: u32,
    /// Packed HLC of the send.
    pub hlc: u64,
    /// `%globaltimer` deadline in ns; 0 = no time to live.
    pub expires: u64,
    /// Payload.
    pub words: [u64; MSG_WORDS],
}

const _: () = assert!(size_of::<SwarmSlot>() == 64);

/// Bits of [`SwarmSlot::kind`] above the user kind.
pub mod flag {
    /// The sender waits for a reply with the same `corr`.
    pub const ASK: u32 = 1 << 24;
    /// This message answers an ask.
    pub const REPLY: u32 = 1 << 25;
    /// Host only: a full mailbox makes this message a dead letter instead of waiting.
    pub const DEAD_ON_FULL: u32 = 1 << 26;
    /// Device only: a turn with no message for an actor that yielded (see `rk_sw_yield`).
    pub const RESUME: u32 = 1 << 27;
    /// Mask of the user kind.
    pub const KIND_MASK: u32 = (1 << 24) - 1;
}

/// Sender id of host messages.
pub const HOST: u32 = u32::MAX;
/// "No actor" (a failed device spawn).
pub const NO_ID: u32 = u32::MAX - 1;

/// Values of [`SwarmActor::status`] (low byte); the type index sits above it.
pub mod status {
    /// Never spawned (zeroed memory).
    pub const FREE: u32 = 0;
    /// Takes messages.
    pub const LIVE: u32 = 1;
    /// Stopped: sends to it and messages left in its mailbox are dead letters.
    pub const STOPPED: u32 = 2;
    /// Bits below the type index.
    pub const TYPE_SHIFT: u32 = 8;
}

/// Results of a device send (`rk_sw_send`).
pub mod send {
    /// In the target's mailbox.
    pub const OK: u32 = 0;
    /// The mailbox had no free slot (no credit) and the policy was "fail": nothing recorded.
    pub const FULL: u32 = 1;
    /// Recorded as a dead letter.
    pub const DEAD: u32 = 2;
    /// Policy: a full mailbox returns [`FULL`].
    pub const ON_FULL_FAIL: u32 = 0;
    /// Policy: a full mailbox records a dead letter.
    pub const ON_FULL_DEAD_LETTER: u32 = 1;
}

/// Limits of the pinned tier (see `docs/swarm.md`): pinned actors per swarm, per block, bytes of
/// state (kept in the block's shared memory), and slots of one sender→receiver channel.
pub mod pinned {
    /// Pinned actor slots per swarm (one warp lane polls each sender's channel).
    pub const MAX: u32 = 32;
    /// Pinned actors (dedicated warps) per block.
    pub const PER_BLOCK_MAX: u32 = 2;
    /// Bytes of state a pinned actor may have (its warp keeps it in shared memory).
    pub const STATE_MAX: usize = 4096;
    /// Slots of a channel in device memory (sender and receiver in different clusters).
    pub const GLOBAL_SLOTS: u32 = 32;
    /// Slots of a channel in the receiver's shared memory (same cluster, written through DSMEM).
    pub const DSMEM_SLOTS: u32 = 8;
    /// Bytes of one channel slot (`rk_sw_staged`: eight 8-byte LL words).
    pub const SLOT_BYTES: u32 = 64;
}

/// Per-actor header in device memory. Cluster-tier actors keep their mailbox positions in their
/// home block's shared memory; their header holds only status and HLC.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
#[repr(C, align(16))]
pub struct SwarmActor {
    /// Producers' claim position (CAS).
    pub tail: u64,
    /// Consumer position (only the worker holding the actor writes it).
    pub head: u64,
    /// The actor's HLC (written only by the worker holding it).
    pub hlc: u64,
    /// Messages published but not yet taken, as a signed count: the producer that moves it
    /// from 0 to 1 enqueues the actor; the worker subtracts what it took and re-enqueues if
    /// the result is positive. So an actor sits in at most one ready queue at a time.
    pub pending: u32,
    /// [`status`] value and type index.
    pub status: u32,
    /// 1 while the actor holds a phantom pending count because its handler yielded.
    pub yielded: u32,
    /// Pinned actors: the [`status`] value its warp last saw (the host's stop waits for it).
    pub seen: u32,
    /// Unused.
    pub reserved: [u32; 2],
}

impl SwarmActor {
    /// The [`status`] value without the type index.
    pub fn status_code(&self) -> u32 {
        self.status & ((1 << status::TYPE_SHIFT) - 1)
    }
}

const _: () = assert!(size_of::<SwarmActor>() == 48);

/// Counters of one block, alone on two 128-byte lines, updated with device atomics per batch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
#[repr(C, align(128))]
pub struct SwarmBlockStats {
    /// Messages handed to handlers by this block's warps.
    pub processed: u64,
    /// Messages this block's warps put into mailboxes (sends that returned OK).
    pub enqueued: u64,
    /// Actor turns (one actor taken from a ready queue and served).
    pub turns: u64,
    /// Ready-queue batches taken from the block's own queue.
    pub own_batches: u64,
    /// Batches stolen from another block of the same cluster.
    pub cluster_steals: u64,
    /// Batches stolen from a block of another cluster.
    pub grid_steals: u64,
    /// Dead letters recorded.
    pub dead: u64,
    /// Sends refused for lack of credit (policy "fail").
    pub full: u64,
    /// Host messages delivered by the injector (block 0 only).
    pub injected: u64,
    /// Loop iterations that found no work.
    pub idle: u64,
    /// Actors spawned by handlers.
    pub spawned: u64,
    /// Messages that reached cluster-tier actors through DSMEM.
    pub dsmem: u64,
    /// Messages taken from a mailbox but dead-lettered (stopped actor, expired).
    pub dropped: u64,
    /// Where this block's warps waited unusually long (a bit per site, see [`stall`]): a
    /// diagnostic for a kernel that does not exit when asked.
    pub stalls: u64,
    /// Warps of this block that have left the kernel's main loop (after a stop request).
    pub left_loop: u64,
    /// Stop checks made by this block's warps (one per warp every 256 rounds of its loop): a
    /// value that keeps growing after a stop request means a warp loops without seeing it.
    pub beats: u64,
    /// Messages pinned express actors took in their warp's express loop (also in `processed`).
    pub express: u64,
    /// Of those, the messages the pair loop took (one partner, served from registers).
    pub pair: u64,
    /// Pads the counters to two whole 128-byte lines.
    pub reserved: [u64; 14],
}

/// Bits of [`SwarmBlockStats::stalls`]: a warp spun about a million rounds at the site.
pub mod stall {
    /// Pushing an actor into a ready queue whose slot was not free.
    pub const READY_PUSH: u64 = 1 << 0;
    /// Claiming a position in a device-memory mailbox or forward inbox.
    pub const CLAIM: u64 = 1 << 1;
    /// Claiming a position in a cluster-tier mailbox (DSMEM).
    pub const CLAIM_LOCAL: u64 = 1 << 2;
    /// The injector waiting for room in a full mailbox for a host message.
    pub const INJECT: u64 = 1 << 3;

    /// Names of the bits set in `bits`.
    pub fn names(bits: u64) -> Vec<&'static str> {
        [
            (READY_PUSH, "ready-queue push"),
            (CLAIM, "mailbox claim"),
            (CLAIM_LOCAL, "cluster mailbox claim"),
            (INJECT, "host injection into a full mailbox"),
        ]
        .into_iter()
        .filter(|(b, _)| bits & b != 0)
        .map(|(_, n)| n)
        .collect()
    }
}

/// The swarm kernel's parameter block (device addresses and sizes, all `u64`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub struct SwarmParams {
    /// `SwarmActor` per actor (global tier, then cluster tier).
    pub actors: u64,
    /// Actor states, `state_stride` bytes each.
    pub states: u64,
    /// Bytes per state (multiple of 16).
    pub state_stride: u64,
    /// Global-tier mailboxes: `1 << mbox_shift` slots per actor.
    pub mbox: u64,
    /// log2 of the mailbox capacity.
    pub mbox_shift: u64,
    /// Global-tier actor ids: `0..capacity`.
    pub capacity: u64,
    /// Ids the host spawns: `0..host_capacity`; handlers spawn `host_capacity..capacity`.
    pub host_capacity: u64,
    /// Device spawn counter (`u32`, starts at `host_capacity`).
    pub dev_next: u64,
    /// Ready-queue entries, `1 << rq_shift` per block.
    pub rq: u64,
    /// log2 of a block's ready-queue capacity.
    pub rq_shift: u64,
    /// `IndexLine` per block: ready-queue heads.
    pub rq_heads: u64,
    /// `IndexLine` per block: ready-queue tails.
    pub rq_tails: u64,
    /// Forward inboxes (messages for a block's cluster-tier actors that cannot use DSMEM).
    pub fwd: u64,
    /// log2 of a forward inbox's capacity.
    pub fwd_shift: u64,
    /// `IndexLine` per block: forward-inbox tails.
    pub fwd_tails: u64,
    /// Cluster-tier actors per block (ids `capacity + block * local + i`).
    pub local: u64,
    /// Blocks in the grid.
    pub blocks: u64,
    /// Blocks per thread block cluster (1: no clusters).
    pub cluster: u64,
    /// Warps per block.
    pub warps: u64,
    /// Most messages one actor takes per turn.
    pub batch: u64,
    /// 0: no stealing; 1: within the cluster; 2: within the cluster, then the grid.
    pub steal: u64,
    /// Mapped host word: non-zero asks the kernel to stop.
    pub stop: u64,
    /// `SwarmBlockStats` per block.
    pub stats: u64,
    /// Host→device ring (`RingSlot`s in mapped memory).
    pub h2d_slots: u64,
    /// Its consumer index (`IndexLine`, mapped).
    pub h2d_head: u64,
    /// Its capacity (power of two).
    pub h2d_capacity: u64,
    /// Device→host ring (`RingSlot`s in mapped memory).
    pub d2h_slots: u64,
    /// Its consumer index, written by the host (`IndexLine`, mapped).
    pub d2h_head: u64,
    /// Its claim counter (device memory).
    pub d2h_tail: u64,
    /// Device cache of the host's index.
    pub d2h_head_cache: u64,
    /// Its capacity (power of two).
    pub d2h_capacity: u64,
    /// Blocks that have left the loop (`u32`, device memory).
    pub exited: u64,
    /// Longest nap of an idle warp, ns.
    pub max_nap_ns: u64,
    /// Pinned actor slots (ids `capacity + blocks * local + slot`); slot k is served by a
    /// dedicated warp of block `k % blocks`.
    pub pinned: u64,
    /// Channels in device memory: `pinned::GLOBAL_SLOTS` slots for each (receiver, sender)
    /// pair, at `(receiver * pinned::MAX + sender)`.
    pub pch: u64,
    /// The receivers' published heads of those channels (`u64` each, same index).
    pub pch_heads: u64,
    /// `u32` per block: the SM it runs on, plus one (0 until the block has started).
    pub block_sms: u64,
}

/// Appends the swarm declarations to `h` (after the runtime's generated header).
pub fn render(h: &mut String) {
    h.push_str(
        "struct __align__(64) rk_sw_msg {\n  unsigned int seq;\n  unsigned int check;\n  \
         unsigned int from;\n  unsigned int to;\n  unsigned int kind;\n  unsigned int corr;\n  \
         unsigned long long hlc;\n  unsigned long long expires;\n  unsigned long long words[3];\n};\n",
    );
    assert_layout(
        h,
        "rk_sw_msg",
        size_of::<SwarmSlot>(),
        align_of::<SwarmSlot>(),
        &[
            ("seq", offset_of!(SwarmSlot, seq)),
            ("check", offset_of!(SwarmSlot, check)),
            ("from", offset_of!(SwarmSlot, from)),
            ("to", offset_of!(SwarmSlot, to)),
            ("kind", offset_of!(SwarmSlot, kind)),
            ("corr", offset_of!(SwarmSlot, corr)),
            ("hlc", offset_of!(SwarmSlot, hlc)),
            ("expires", offset_of!(SwarmSlot, expires)),
            ("words", offset_of!(SwarmSlot, words)),
        ],
    );
    h.push_str(
        "struct __align__(16) rk_sw_actor {\n  unsigned long long tail;\n  \
         unsigned long long head;\n  unsigned long long hlc;\n  unsigned int pending;\n  \
         unsigned int status;\n  unsigned int yielded;\n  unsigned int seen;\n  unsigned int reserved[2];\n};\n",
    );
    assert_layout(
        h,
        "rk_sw_actor",
        size_of::<SwarmActor>(),
        align_of::<SwarmActor>(),
        &[
            ("tail", offset_of!(SwarmActor, tail)),
            ("pending", offset_of!(SwarmActor, pending)),
            ("head", offset_of!(SwarmActor, head)),
            ("status", offset_of!(SwarmActor, status)),
            ("hlc", offset_of!(SwarmActor, hlc)),
            ("yielded", offset_of!(SwarmActor, yielded)),
            ("seen", offset_of!(SwarmActor, seen)),
        ],
    );
    let stats = [
        ("processed", offset_of!(SwarmBlockStats, processed)),
        ("enqueued", offset_of!(SwarmBlockStats, enqueued)),
        ("turns", offset_of!(SwarmBlockStats, turns)),
        ("own_batches", offset_of!(SwarmBlockStats, own_batches)),
        (
            "cluster_steals",
            offset_of!(SwarmBlockStats, cluster_steals),
        ),
        ("grid_steals", offset_of!(SwarmBlockStats, grid_steals)),
        ("dead", offset_of!(SwarmBlockStats, dead)),
        ("full", offset_of!(SwarmBlockStats, full)),
        ("injected", offset_of!(SwarmBlockStats, injected)),
        ("idle", offset_of!(SwarmBlockStats, idle)),
        ("spawned", offset_of!(SwarmBlockStats, spawned)),
        ("dsmem", offset_of!(SwarmBlockStats, dsmem)),
        ("dropped", offset_of!(SwarmBlockStats, dropped)),
        ("stalls", offset_of!(SwarmBlockStats, stalls)),
        ("left_loop", offset_of!(SwarmBlockStats, left_loop)),
        ("beats", offset_of!(SwarmBlockStats, beats)),
        ("express", offset_of!(SwarmBlockStats, express)),
        ("pair", offset_of!(SwarmBlockStats, pair)),
    ];
    h.push_str("struct __align__(128) rk_sw_stats {\n");
    for (name, _) in stats {
        let _ = writeln!(h, "  unsigned long long {name};");
    }
    h.push_str("  unsigned long long reserved[14];\n");
    h.push_str("};\n");
    assert_layout(
        h,
        "rk_sw_stats",
        size_of::<SwarmBlockStats>(),
        align_of::<SwarmBlockStats>(),
        &stats,
    );
    let params = [
        ("actors", offset_of!(SwarmParams, actors)),
        ("states", offset_of!(SwarmParams, states)),
        ("state_stride", offset_of!(SwarmParams, state_stride)),
        ("mbox", offset_of!(SwarmParams, mbox)),
        ("mbox_shift", offset_of!(SwarmParams, mbox_shift)),
        ("capacity", offset_of!(SwarmParams, capacity)),
        ("host_capacity", offset_of!(SwarmParams, host_capacity)),
        ("dev_next", offset_of!(SwarmParams, dev_next)),
        ("rq", offset_of!(SwarmParams, rq)),
        ("rq_shift", offset_of!(SwarmParams, rq_shift)),
        ("rq_heads", offset_of!(SwarmParams, rq_heads)),
        ("rq_tails", offset_of!(SwarmParams, rq_tails)),
        ("fwd", offset_of!(SwarmParams, fwd)),
        ("fwd_shift", offset_of!(SwarmParams, fwd_shift)),
        ("fwd_tails", offset_of!(SwarmParams, fwd_tails)),
        ("local", offset_of!(SwarmParams, local)),
        ("blocks", offset_of!(SwarmParams, blocks)),
        ("cluster", offset_of!(SwarmParams, cluster)),
        ("warps", offset_of!(SwarmParams, warps)),
        ("batch", offset_of!(SwarmParams, batch)),
        ("steal", offset_of!(SwarmParams, steal)),
        ("stop", offset_of!(SwarmParams, stop)),
        ("stats", offset_of!(SwarmParams, stats)),
        ("h2d_slots", offset_of!(SwarmParams, h2d_slots)),
        ("h2d_head", offset_of!(SwarmParams, h2d_head)),
        ("h2d_capacity", offset_of!(SwarmParams, h2d_capacity)),
        ("d2h_slots", offset_of!(SwarmParams, d2h_slots)),
        ("d2h_head", offset_of!(SwarmParams, d2h_head)),
        ("d2h_tail", offset_of!(SwarmParams, d2h_tail)),
        ("d2h_head_cache", offset_of!(SwarmParams, d2h_head_cache)),
        ("d2h_capacity", offset_of!(SwarmParams, d2h_capacity)),
        ("exited", offset_of!(SwarmParams, exited)),
        ("max_nap_ns", offset_of!(SwarmParams, max_nap_ns)),
        ("pinned", offset_of!(SwarmParams, pinned)),
        ("pch", offset_of!(SwarmParams, pch)),
        ("pch_heads", offset_of!(SwarmParams, pch_heads)),
        ("block_sms", offset_of!(SwarmParams, block_sms)),
    ];
    h.push_str("struct rk_sw_params {\n");
    for (name, _) in params {
        let _ = writeln!(h, "  unsigned long long {name};");
    }
    h.push_str("};\n");
    assert_layout(
        h,
        "rk_sw_params",
        size_of::<SwarmParams>(),
        align_of::<SwarmParams>(),
        &params,
    );
    for (name, value) in [
        ("RK_SW_ASK", flag::ASK),
        ("RK_SW_REPLY", flag::REPLY),
        ("RK_SW_DEAD_ON_FULL", flag::DEAD_ON_FULL),
        ("RK_SW_RESUME", flag::RESUME),
        ("RK_SW_KIND_MASK", flag::KIND_MASK),
        ("RK_SW_HOST", HOST),
        ("RK_SW_NO_ID", NO_ID),
        ("RK_SW_FREE", status::FREE),
        ("RK_SW_LIVE", status::LIVE),
        ("RK_SW_STOPPED", status::STOPPED),
        ("RK_SW_TYPE_SHIFT", status::TYPE_SHIFT),
        ("RK_SW_OK", send::OK),
        ("RK_SW_FULL", send::FULL),
        ("RK_SW_DEAD", send::DEAD),
        ("RK_SW_ON_FULL_FAIL", send::ON_FULL_FAIL),
        ("RK_SW_ON_FULL_DEAD", send::ON_FULL_DEAD_LETTER),
        ("RK_SW_MSG_WORDS", MSG_WORDS as u32),
        ("RK_SW_PIN_MAX", pinned::MAX),
        ("RK_SW_PIN_PER_BLOCK", pinned::PER_BLOCK_MAX),
        ("RK_SW_PIN_STATE_MAX", pinned::STATE_MAX as u32),
        ("RK_SW_CH_GLOBAL", pinned::GLOBAL_SLOTS),
        ("RK_SW_CH_DSMEM", pinned::DSMEM_SLOTS),
        ("RK_SW_CH_SLOT_BYTES", pinned::SLOT_BYTES),
        ("RK_SW_STALL_READY_PUSH", stall::READY_PUSH as u32),
        ("RK_SW_STALL_CLAIM", stall::CLAIM as u32),
        ("RK_SW_STALL_CLAIM_LOCAL", stall::CLAIM_LOCAL as u32),
        ("RK_SW_STALL_INJECT", stall::INJECT as u32),
    ] {
        let _ = writeln!(h, "#define {name} {value:#x}u");
    }
}

/// The 32-bit check of a slot: `seq ^` the low half of a hash of its words 1..8 (the same
/// function as `rk_sw_hash` in `kernels/swarm.cuh`; a GPU test checks host-written slots
/// verify on the device).
pub fn slot_check(slot: &SwarmSlot) -> u32 {
    let words: &[u64; 8] = bytemuck::cast_ref(slot);
    let mut h: u64 = 0x9E37_79B9_7F4A_7C15;
    for (i, w) in words.iter().enumerate().skip(1) {
        h ^= crate::layout::mix64(w.wrapping_add((i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)));
    }
    slot.seq ^ (h as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_asserts_every_swarm_struct() {
        let mut h = String::new();
        render(&mut h);
        for ty in ["rk_sw_msg", "rk_sw_actor", "rk_sw_stats", "rk_sw_params"] {
            assert!(
                h.contains(&format!("static_assert(sizeof({ty}) ==")),
                "{ty}"
            );
        }
        assert!(h.contains("static_assert(RK_OFFSETOF(rk_sw_msg, words) == 40"));
    }

    #[test]
    fn the_check_covers_every_payload_word() {
        let mut s = SwarmSlot {
            seq: 3,
            words: [1, 2, 3],
            ..SwarmSlot::default()
        };
        let c = slot_check(&s);
        for i in 0..MSG_WORDS {
            let mut t = s;
            t.words[i] ^= 1;
            assert_ne!(slot_check(&t), c, "word {i}");
        }
        s.hlc = 9;
        assert_ne!(slot_check(&s), c);
    }
}
