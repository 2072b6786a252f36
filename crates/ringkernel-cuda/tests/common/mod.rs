//! Actor types shared by this crate's tests: each has a Rust handler and the same handler in CUDA C.
#![allow(dead_code)]

use ringkernel_core::actor::{Actor, Context, CudaHandler, HandlerError};
use ringkernel_core::{Message, MessageTypeId};

/// Adds `n` to a counter; `n == u64::MAX` makes the handler fail with code 7.
#[derive(Clone, Copy, Debug, Default, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C)]
pub struct Add {
    pub n: u64,
}
impl Message for Add {
    const TYPE_ID: MessageTypeId = MessageTypeId(0x0C01);
}

/// Counter state and reply: running total, messages seen, and the last sender's sequence number.
#[derive(Clone, Copy, Debug, Default, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C)]
pub struct Total {
    pub sum: u64,
    pub count: u64,
}
impl Message for Total {
    const TYPE_ID: MessageTypeId = MessageTypeId(0x0C02);
}

/// CUDA definitions of `Add` and `Total`, guarded so several actor types can include them.
pub const TOTAL_DEFS: &str = "#ifndef RK_TEST_TOTAL\n#define RK_TEST_TOTAL\n\
    struct Add { unsigned long long n; };\n\
    struct Total { unsigned long long sum; unsigned long long count; };\n#endif";
const SLOW_DEFS: &str = "#ifndef RK_TEST_TOTAL\n#define RK_TEST_TOTAL\n\
    struct Add { unsigned long long n; };\n\
    struct Total { unsigned long long sum; unsigned long long count; };\n#endif\n\
    struct Work { unsigned long long ns; };";

pub struct Counter;
impl Actor for Counter {
    const NAME: &'static str = "counter";
    type State = Total;
    type Msg = Add;
    type Reply = Total;

    fn handle(state: &mut Total, msg: &Add, _ctx: &Context) -> Result<Total, HandlerError> {
        if msg.n == u64::MAX {
            return Err(HandlerError(7));
        }
        state.sum = state.sum.wrapping_add(msg.n);
        state.count += 1;
        Ok(*state)
    }

    fn cuda_handler() -> Option<CudaHandler> {
        Some(CudaHandler {
            function: "counter_handle",
            state_type: "Total",
            msg_type: "Add",
            reply_type: "Total",
            struct_defs: TOTAL_DEFS,
            source: "__device__ int counter_handle(Total* s, const Add* m, Total* r, const rk_ctx* ctx) {\n\
                       if (m->n == 0xffffffffffffffffull) return 7;\n\
                       s->sum += m->n;\n  s->count += 1;\n  *r = *s;\n  return 0;\n}",
        })
    }
}

/// One message of a per-sender sequence.
#[derive(Clone, Copy, Debug, Default, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C)]
pub struct Seq {
    /// Which sender (0..8).
    pub lane: u32,
    pub _pad: u32,
    /// 1, 2, 3, ... per sender.
    pub seq: u64,
}
impl Message for Seq {
    const TYPE_ID: MessageTypeId = MessageTypeId(0x0C03);
}

/// Last sequence number seen per sender; a gap or reorder fails the actor with code 100 + lane.
#[derive(Clone, Copy, Debug, Default, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C)]
pub struct SeqState {
    pub last: [u64; 8],
}
impl Message for SeqState {
    const TYPE_ID: MessageTypeId = MessageTypeId(0x0C04);
}

pub struct Sequencer;
impl Actor for Sequencer {
    const NAME: &'static str = "sequencer";
    type State = SeqState;
    type Msg = Seq;
    type Reply = SeqState;

    fn handle(state: &mut SeqState, msg: &Seq, _ctx: &Context) -> Result<SeqState, HandlerError> {
        let lane = msg.lane as usize;
        if lane >= 8 {
            return Err(HandlerError(99));
        }
        if msg.seq != 0 {
            if msg.seq != state.last[lane] + 1 {
                return Err(HandlerError(100 + msg.lane));
            }
            state.last[lane] = msg.seq;
        }
        Ok(*state)
    }

    fn cuda_handler() -> Option<CudaHandler> {
        Some(CudaHandler {
            function: "sequencer_handle",
            state_type: "SeqState",
            msg_type: "Seq",
            reply_type: "SeqState",
            struct_defs: "struct Seq { unsigned int lane; unsigned int pad; unsigned long long seq; };\n\
                          struct SeqState { unsigned long long last[8]; };",
            source: "__device__ int sequencer_handle(SeqState* s, const Seq* m, SeqState* r, const rk_ctx* ctx) {\n\
                       if (m->lane >= 8) return 99;\n\
                       if (m->seq != 0) {\n\
                         if (m->seq != s->last[m->lane] + 1) return 100 + (int)m->lane;\n\
                         s->last[m->lane] = m->seq;\n\
                       }\n\
                       *r = *s;\n  return 0;\n}",
        })
    }
}

/// Spins for `ns` nanoseconds per message (device) so its mailbox can be driven full.
#[derive(Clone, Copy, Debug, Default, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C)]
pub struct Work {
    pub ns: u64,
}
impl Message for Work {
    const TYPE_ID: MessageTypeId = MessageTypeId(0x0C05);
}

pub struct Slow;
impl Actor for Slow {
    const NAME: &'static str = "slow";
    type State = Total;
    type Msg = Work;
    type Reply = Total;

    fn handle(state: &mut Total, msg: &Work, _ctx: &Context) -> Result<Total, HandlerError> {
        let until = std::time::Instant::now() + std::time::Duration::from_nanos(msg.ns);
        while std::time::Instant::now() < until {
            std::hint::spin_loop();
        }
        state.count += 1;
        Ok(*state)
    }

    fn cuda_handler() -> Option<CudaHandler> {
        Some(CudaHandler {
            function: "slow_handle",
            state_type: "Total",
            msg_type: "Work",
            reply_type: "Total",
            struct_defs: SLOW_DEFS,
            source: "__device__ int slow_handle(Total* s, const Work* m, Total* r, const rk_ctx* ctx) {\n\
                       const unsigned long long t0 = rk_globaltimer();\n\
                       while (rk_globaltimer() - t0 < m->ns) { }\n\
                       s->count += 1;\n  *r = *s;\n  return 0;\n}",
        })
    }
}
