//! [`Peer`]: a diagnostic actor whose CUDA handler talks to other actors on the device (K2K).
//!
//! The GPU tests and `gpu-bench` drive it from the host to exercise `rk_k2k_tell`: relays along a
//! chain, random traffic with per-pair sequence numbers, raw sends that must become dead letters,
//! and a two-actor rally that the device times. Its Rust handler answers only queries: the CPU
//! backend has no on-device sends, so any other command fails there with [`NEEDS_CUDA`].

use bytemuck::{Pod, Zeroable};
use ringkernel_core::actor::{Actor, Context, CudaHandler, HandlerError};
use ringkernel_core::{Message, MessageTypeId};

/// Most peers a [`PeerState`] tracks sequence numbers for.
pub const MAX_PEERS: usize = 64;

/// Error code of the Rust handler for commands that need on-device sends.
pub const NEEDS_CUDA: u32 = 0xC0DA;

/// What a [`PeerMsg`] asks for (its `kind`).
pub mod kind {
    /// Receive, then forward to `state.next` with `n - 1` hops left (stop at 0).
    pub const RELAY: u32 = 1;
    /// Add `n` messages to send, then send as many pending as credits allow to random peers
    /// (stopping at the first refusal; the rest stays pending).
    pub const SPRAY: u32 = 2;
    /// A peer's message `seq` in its sequence to this actor; receiving one also retries the
    /// receiver's pending SPRAY sends, so traffic keeps itself going.
    pub const DATA: u32 = 3;
    /// Send one raw message to `target`: type id `seq as u32`, length `n & 0xFFFF`, policy
    /// `n >> 32` (the raw payload is a zeroed `PeerMsg` of kind DATA).
    pub const RAW: u32 = 4;
    /// Reply with the summary; change nothing.
    pub const QUERY: u32 = 5;
    /// Start a rally of `n` round trips with `state.next`; the device times it.
    pub const PING: u32 = 6;
    /// Rally: ball to the partner (`n` round trips left).
    pub const BALL: u32 = 7;
    /// Rally: ball back to the starter.
    pub const RETURN: u32 = 8;
    /// Send `n` DATA-kind messages to `target` at once, dead-lettering those that find no credit.
    pub const BURST: u32 = 9;
    /// Busy the handler for `n` ns (to let an inbox fill).
    pub const SPIN: u32 = 10;
    /// Busy the handler for `seq` ns, then send `n` DATA-kind messages to `target` (to send
    /// after the target has left the kernel).
    pub const LATE: u32 = 11;
    /// Send `n` DATA-kind messages to random peers, retrying each refused send at once until it
    /// is accepted (a throughput stream: the peers must drain without sending back).
    pub const STREAM: u32 = 12;
}

/// A command or K2K message (24 bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub struct PeerMsg {
    /// One of [`kind`].
    pub kind: u32,
    /// Target actor (RAW, BURST).
    pub target: u32,
    /// Sequence number or type id (RAW).
    pub seq: u64,
    /// Count, hops or nanoseconds.
    pub n: u64,
}
impl Message for PeerMsg {
    const TYPE_ID: MessageTypeId = MessageTypeId(0x0D01);
}

/// Peer state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub struct PeerState {
    /// Where RELAY forwards and PING rallies.
    pub next: u32,
    /// Peers `0..peers` are SPRAY targets.
    pub peers: u32,
    /// xorshift64 state (non-zero).
    pub rng: u64,
    /// Start of the running rally (`%globaltimer` ns).
    pub rally_t0: u64,
    /// The summary the actor replies with.
    pub sum: PeerSummary,
    /// Next sequence number per target.
    pub next_seq: [u32; MAX_PEERS],
    /// Next expected sequence number per sender.
    pub expected: [u32; MAX_PEERS],
}

impl PeerState {
    /// A peer that relays to `next` and sprays over `peers`.
    pub fn new(next: u32, peers: u32, seed: u64) -> Self {
        PeerState {
            next,
            peers,
            rng: seed | 1,
            rally_t0: 0,
            sum: PeerSummary::default(),
            next_seq: [0; MAX_PEERS],
            expected: [0; MAX_PEERS],
        }
    }
}

/// Counters a peer replies with (every reply is the summary after the message; 80 bytes, the
/// largest payload).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub struct PeerSummary {
    /// K2K messages delivered into a target inbox.
    pub sent: u64,
    /// K2K messages received (RELAY, DATA, BALL, RETURN).
    pub received: u64,
    /// Sends refused for lack of credits (policy "fail").
    pub fulls: u64,
    /// SPRAY messages not yet sent.
    pub pending: u64,
    /// DATA out of sequence, or from an id beyond [`MAX_PEERS`].
    pub errors: u32,
    /// Sends that became dead letters.
    pub dead: u32,
    /// Receive timestamp (HLC) of the last K2K message.
    pub last_ts: u64,
    /// Duration of the last finished rally (`%globaltimer` ns); 0 while one runs.
    pub rally_ns: u64,
    /// Rally: summed ns from a ball's send (`%globaltimer` carried in `seq`) to the start of the
    /// receiving handler, and how many balls that sums.
    pub hop_ns: u64,
    /// See `hop_ns`.
    pub hops: u64,
    /// Rally: summed ns the sending handler spent inside `rk_k2k_tell`.
    pub send_ns: u64,
}
impl Message for PeerSummary {
    const TYPE_ID: MessageTypeId = MessageTypeId(0x0D02);
}

/// The diagnostic K2K actor.
#[derive(Debug)]
pub struct Peer;

impl Actor for Peer {
    const NAME: &'static str = "k2k-peer";
    type State = PeerState;
    type Msg = PeerMsg;
    type Reply = PeerSummary;

    fn handle(
        state: &mut PeerState,
        msg: &PeerMsg,
        _ctx: &Context,
    ) -> Result<PeerSummary, HandlerError> {
        match msg.kind {
            kind::QUERY => Ok(state.sum),
            _ => Err(HandlerError(NEEDS_CUDA)),
        }
    }

    fn cuda_handler() -> Option<CudaHandler> {
        Some(CudaHandler {
            function: "rk_peer_handle",
            state_type: "PeerState",
            msg_type: "PeerMsg",
            reply_type: "PeerSummary",
            struct_defs: PEER_DEFS,
            source: PEER_CU,
        })
    }
}

const PEER_DEFS: &str = "struct PeerMsg { unsigned int kind; unsigned int target; \
    unsigned long long seq; unsigned long long n; };\n\
    struct PeerSummary { unsigned long long sent, received, fulls, pending; unsigned int errors, dead; \
    unsigned long long last_ts, rally_ns, hop_ns, hops, send_ns; };\n\
    struct PeerState { unsigned int next; unsigned int peers; unsigned long long rng; unsigned long long rally_t0; PeerSummary sum; \
    unsigned int next_seq[64]; unsigned int expected[64]; };";

const PEER_CU: &str = include_str!("../kernels/peer.cu");

const _: () = {
    assert!(size_of::<PeerMsg>() == 24);
    assert!(size_of::<PeerSummary>() == 80);
    assert!(size_of::<PeerState>() == 24 + 80 + 2 * 4 * MAX_PEERS);
};
