//! The swarm test kit: actor types whose handlers exercise every path of the swarm (sequence-
//! checked random traffic, relays that record HLCs, ping-pong timing, endless random floods,
//! asks between actors, spawning from handlers). The GPU tests and `swarm-bench` run them; they
//! double as examples of handlers written against `kernels/swarm.cuh`.
//!
//! The states are defined here and rendered into the program with `static_assert`s, so the host
//! reads exactly what the handlers wrote.

use std::fmt::Write as _;
use std::mem::{align_of, offset_of, size_of};

use bytemuck::{Pod, Zeroable};

use super::SwarmProgram;
use crate::layout::assert_layout;

/// The kit's handlers (`kernels/swarm_kit.cu`).
pub const KIT_CU: &str = include_str!("../../kernels/swarm_kit.cu");

/// Type indices of the kit's actors.
pub mod types {
    /// Counts messages; answers asks with (count, sum).
    pub const COUNTER: u32 = 0;
    /// Forwards every message to `RelayState::next`, recording HLCs in and out.
    pub const RELAY: u32 = 1;
    /// Sends sequence-numbered messages to random peers and checks what it receives.
    pub const TRAFFIC: u32 = 2;
    /// Ping-pong: the initiator sends to `PingState::partner`; everyone answers the sender.
    /// Timed on the device.
    pub const PING: u32 = 3;
    /// Forwards every message it gets to a random actor, forever.
    pub const FLOOD: u32 = 4;
    /// Answers asks with (2 * word 0, word 1, word 2).
    pub const ECHO: u32 = 5;
    /// Asks an echo actor, one ask at a time, and checks the replies.
    pub const ASKER: u32 = 6;
    /// Spawns counters from its handler and sends each one message.
    pub const SPAWNER: u32 = 7;
    /// [`PING`] written as an express handler (`rk_sw_express`): the same state and messages,
    /// and a pinned XPING's warp runs it on all lanes (see `kernels/swarm_express.cuh`). A start
    /// with word 1 set makes the actor that gets the rally's last message stop itself.
    pub const XPING: u32 = 8;
    /// An express rally whose answers carry a value that differs between lanes (the clock and
    /// the lane's index) in word 1, and the same value XORed with [`super::LANE_KEY`] in word
    /// 2; a receiver counts messages whose two words do not match in `LaneState::torn`. The
    /// express paths send lane 0's answer, so a message assembled from several lanes' answers
    /// shows up there. Word 0 counts down as in [`PING`]; the initiator's partner is
    /// `LaneState::partner`. An ask gets the reply [`ECHO`] gives (its express handler's
    /// `rk_sw_xreply`).
    /// Compiled only into [`super::lane_program`].
    pub const XLANE: u32 = 9;
    /// [`ASKER`] as an express handler (`rk_sw_xask`): the same start, state
    /// ([`super::AskerState`]) and checks of each reply.
    /// Compiled only into [`super::lane_program`].
    pub const XASKER: u32 = 10;
}

/// What [`types::XLANE`] XORs into its answers' word 2.
pub const LANE_KEY: u64 = 0x5bd1_e995_c0ff_ee00;

/// Message kinds the kit uses.
pub mod kinds {
    /// Starts a traffic, ping, asker or spawner actor, or ignites a flood actor.
    pub const START: u32 = 1;
    /// Traffic between kit actors.
    pub const DATA: u32 = 2;
}

/// Largest traffic group (per-peer sequence arrays in the state).
pub const TRAFFIC_PEERS: usize = 256;

/// State of [`types::COUNTER`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub struct CounterState {
    /// Messages received.
    pub count: u64,
    /// Sum of their word 0.
    pub sum: u64,
    /// HLC of the last message received.
    pub last_hlc: u64,
    /// Sender of the last message.
    pub last_from: u32,
    /// Unused.
    pub reserved: u32,
}

/// State of [`types::RELAY`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub struct RelayState {
    /// Where to forward (`layout::NO_ID`: the end of the chain).
    pub next: u32,
    /// Messages received.
    pub count: u32,
    /// HLC of the last message received.
    pub hlc_in: u64,
    /// HLC stamped on the last message forwarded.
    pub hlc_out: u64,
    /// Forwards that were refused (no credit or dead).
    pub failed: u64,
}

/// State of [`types::TRAFFIC`] (ids `base..base + peers` are the group).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub struct TrafficState {
    /// Actors in the group.
    pub peers: u32,
    /// Messages to send in all.
    pub to_send: u32,
    /// Sent so far.
    pub sent: u32,
    /// 1 while a message refused for lack of credit waits in `pend_*`.
    pub pending: u32,
    /// Its target.
    pub pend_to: u32,
    /// Its sequence number.
    pub pend_seq: u32,
    /// Sends refused for lack of credit.
    pub refused: u32,
    /// Id of the group's first actor.
    pub base: u32,
    /// Messages received.
    pub received: u64,
    /// Received messages whose sequence number was not the sender's previous one plus one
    /// (a loss, duplicate or reordering).
    pub errors: u64,
    /// The actor's random generator.
    pub rng: u64,
    /// Per target: the last sequence number sent.
    pub out_seq: [u32; TRAFFIC_PEERS],
    /// Per sender: the last sequence number received.
    pub in_seq: [u32; TRAFFIC_PEERS],
}

/// State of [`types::PING`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub struct PingState {
    /// The partner's id.
    pub partner: u32,
    /// Rallies finished (initiator).
    pub done: u32,
    /// `%globaltimer` at the start of the last rally.
    pub t0: u64,
    /// `%globaltimer` when its last message came back.
    pub t1: u64,
    /// Messages received.
    pub count: u64,
}

/// State of [`types::XLANE`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub struct LaneState {
    /// The partner's id (the initiator's; the other side answers the sender).
    pub partner: u32,
    /// Messages received whose words 1 and 2 did not match (a mix of lanes' answers).
    pub torn: u32,
    /// Messages received.
    pub count: u64,
}

/// State of [`types::FLOOD`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub struct FloodState {
    /// Messages received.
    pub received: u64,
    /// Messages still to send.
    pub owed: u32,
    /// Targets: ids `0..range`.
    pub range: u32,
    /// 0: any target; else targets homed on blocks `0..hot_blocks` only (skewed load).
    pub hot_blocks: u32,
    /// Blocks of the grid (for the homing arithmetic).
    pub blocks: u32,
}

/// State of [`types::ASKER`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub struct AskerState {
    /// The echo actor.
    pub target: u32,
    /// Asks to make.
    pub count: u32,
    /// Correlation of the ask in flight (1-based).
    pub next: u32,
    /// Replies that matched their ask.
    pub ok: u32,
    /// Replies that did not.
    pub bad: u32,
    /// Asks refused.
    pub refused: u32,
}

/// State of [`types::SPAWNER`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub struct SpawnerState {
    /// Children spawned.
    pub spawned: u32,
    /// Spawns refused (device range used up).
    pub failed: u32,
    /// Id of the first child.
    pub first: u32,
    /// Id of the last child.
    pub last: u32,
}

/// The kit's state declarations with their `static_assert`s (prepended to `KIT_CU`).
pub fn header() -> String {
    let mut h = String::new();
    macro_rules! state {
        ($c:literal, $ty:ty, $decl:literal, [$($f:ident),*]) => {{
            h.push_str($decl);
            assert_layout(
                &mut h,
                $c,
                size_of::<$ty>(),
                align_of::<$ty>(),
                &[$((stringify!($f), offset_of!($ty, $f))),*],
            );
        }};
    }
    let _ = writeln!(h, "#define KIT_PEERS {TRAFFIC_PEERS}");
    for (name, v) in [
        ("KIT_COUNTER", types::COUNTER),
        ("KIT_RELAY", types::RELAY),
        ("KIT_TRAFFIC", types::TRAFFIC),
        ("KIT_PING", types::PING),
        ("KIT_FLOOD", types::FLOOD),
        ("KIT_ECHO", types::ECHO),
        ("KIT_ASKER", types::ASKER),
        ("KIT_SPAWNER", types::SPAWNER),
        ("KIT_XPING", types::XPING),
        ("KIT_XLANE", types::XLANE),
        ("KIT_XASKER", types::XASKER),
        ("KIT_START", kinds::START),
        ("KIT_DATA", kinds::DATA),
    ] {
        let _ = writeln!(h, "#define {name} {v}u");
    }
    state!("kit_counter", CounterState,
        "struct kit_counter { rk_u64 count; rk_u64 sum; rk_u64 last_hlc; rk_u32 last_from; rk_u32 reserved; };\n",
        [count, sum, last_hlc, last_from]);
    state!("kit_relay", RelayState,
        "struct kit_relay { rk_u32 next; rk_u32 count; rk_u64 hlc_in; rk_u64 hlc_out; rk_u64 failed; };\n",
        [next, count, hlc_in, hlc_out, failed]);
    state!("kit_traffic", TrafficState,
        "struct kit_traffic { rk_u32 peers, to_send, sent, pending, pend_to, pend_seq, refused, base;\n  \
         rk_u64 received, errors, rng; rk_u32 out_seq[KIT_PEERS]; rk_u32 in_seq[KIT_PEERS]; };\n",
        [peers, to_send, sent, pending, pend_to, pend_seq, refused, received, errors, rng, out_seq, in_seq]);
    state!(
        "kit_ping",
        PingState,
        "struct kit_ping { rk_u32 partner; rk_u32 done; rk_u64 t0; rk_u64 t1; rk_u64 count; };\n",
        [partner, done, t0, t1, count]
    );
    let _ = writeln!(h, "#define KIT_LANE_KEY {LANE_KEY:#x}ull");
    state!(
        "kit_lane",
        LaneState,
        "struct kit_lane { rk_u32 partner; rk_u32 torn; rk_u64 count; };\n",
        [partner, torn, count]
    );
    state!("kit_flood", FloodState,
        "struct kit_flood { rk_u64 received; rk_u32 owed; rk_u32 range; rk_u32 hot_blocks; rk_u32 blocks; };\n",
        [received, owed, range, hot_blocks, blocks]);
    state!(
        "kit_asker",
        AskerState,
        "struct kit_asker { rk_u32 target, count, next, ok, bad, refused; };\n",
        [target, count, next, ok, bad, refused]
    );
    state!(
        "kit_spawner",
        SpawnerState,
        "struct kit_spawner { rk_u32 spawned, failed, first, last; };\n",
        [spawned, failed, first, last]
    );
    h
}

/// The kit as a program's handler source.
pub fn source() -> String {
    format!("{}{}", header(), KIT_CU)
}

/// The kit with [`types::XLANE`] and [`types::XASKER`] compiled in (tests of the express paths;
/// the kit's own program, which the benchmarks run, leaves them out so its kernel carries no
/// test-only code).
pub fn lane_program() -> SwarmProgram {
    SwarmProgram::new(
        "swarm_kit_xlane.cu",
        format!("#define KIT_WITH_XLANE 1\n{}", source()),
    )
}

/// Bytes of state the largest kit type needs.
pub const MAX_STATE: usize = size_of::<TrafficState>();

/// Bytes of state every kit type but [`types::TRAFFIC`] fits in.
pub const SMALL_STATE: usize = 32;

const _: () = assert!(size_of::<CounterState>() <= SMALL_STATE);
const _: () = assert!(size_of::<RelayState>() <= SMALL_STATE);
const _: () = assert!(size_of::<PingState>() <= SMALL_STATE);
const _: () = assert!(size_of::<LaneState>() <= SMALL_STATE);
const _: () = assert!(size_of::<FloodState>() <= SMALL_STATE);
const _: () = assert!(size_of::<AskerState>() <= SMALL_STATE);
const _: () = assert!(size_of::<SpawnerState>() <= SMALL_STATE);
