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
            struct_defs: "struct Add { unsigned long long n; };\n\
                          struct Total { unsigned long long sum; unsigned long long count; };",
            source: "__device__ int counter_handle(Total* s, const Add* m, Total* r, const rk_ctx* ctx) {\n\
                       if (m->n == 0xffffffffffffffffull) return 7;\n\
                       s->sum += m->n;\n  s->count += 1;\n  *r = *s;\n  return 0;\n}",
        })
    }
}
