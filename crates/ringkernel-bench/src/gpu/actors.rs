//! The actor types the GPU benchmarks drive, each with its Rust and CUDA handler.

use ringkernel_core::actor::{Actor, Context, CudaHandler, HandlerError};
use ringkernel_core::{Message, MessageTypeId};

/// Adds `n` (8 bytes: the ask benchmark's request).
#[derive(Clone, Copy, Debug, Default, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C)]
pub struct Add {
    /// Amount.
    pub n: u64,
}
impl Message for Add {
    const TYPE_ID: MessageTypeId = MessageTypeId(0xB001);
}

/// Running total and message count (state and reply).
#[derive(Clone, Copy, Debug, Default, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C)]
pub struct Tally {
    /// Sum of the first word of every message.
    pub sum: u64,
    /// Messages handled.
    pub count: u64,
}
impl Message for Tally {
    const TYPE_ID: MessageTypeId = MessageTypeId(0xB002);
}

/// A 64-byte message (the tell benchmark's unit of work).
#[derive(Clone, Copy, Debug, Default, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C)]
pub struct Blob {
    /// Payload; word 0 is summed by the handler.
    pub words: [u64; 8],
}
impl Message for Blob {
    const TYPE_ID: MessageTypeId = MessageTypeId(0xB003);
}

const DEFS: &str = "#ifndef RK_BENCH_DEFS\n#define RK_BENCH_DEFS\n\
    struct Add { unsigned long long n; };\n\
    struct Tally { unsigned long long sum; unsigned long long count; };\n\
    struct Blob { unsigned long long words[8]; };\n#endif";

/// Adds to a running total; replies with it.
#[derive(Debug)]
pub struct Adder;
impl Actor for Adder {
    const NAME: &'static str = "bench-adder";
    type State = Tally;
    type Msg = Add;
    type Reply = Tally;
    fn handle(s: &mut Tally, m: &Add, _c: &Context) -> Result<Tally, HandlerError> {
        s.sum = s.sum.wrapping_add(m.n);
        s.count += 1;
        Ok(*s)
    }
    fn cuda_handler() -> Option<CudaHandler> {
        Some(CudaHandler {
            function: "bench_adder",
            state_type: "Tally",
            msg_type: "Add",
            reply_type: "Tally",
            struct_defs: DEFS,
            source:
                "__device__ int bench_adder(Tally* s, const Add* m, Tally* r, const rk_ctx* c) {\n\
                     s->sum += m->n; s->count += 1; *r = *s; return 0; }",
        })
    }
}

/// Consumes 64-byte blobs, summing their first word.
#[derive(Debug)]
pub struct Sink;
impl Actor for Sink {
    const NAME: &'static str = "bench-sink";
    type State = Tally;
    type Msg = Blob;
    type Reply = Tally;
    fn handle(s: &mut Tally, m: &Blob, _c: &Context) -> Result<Tally, HandlerError> {
        s.sum = s.sum.wrapping_add(m.words[0]);
        s.count += 1;
        Ok(*s)
    }
    fn cuda_handler() -> Option<CudaHandler> {
        Some(CudaHandler {
            function: "bench_sink",
            state_type: "Tally",
            msg_type: "Blob",
            reply_type: "Tally",
            struct_defs: DEFS,
            source:
                "__device__ int bench_sink(Tally* s, const Blob* m, Tally* r, const rk_ctx* c) {\n\
                     s->sum += m->words[0]; s->count += 1; *r = *s; return 0; }",
        })
    }
}

/// [`Adder`] whose handler fails (code 7) on `n == 0`: the restart benchmarks' actor.
#[derive(Debug)]
pub struct Flaky;
impl Actor for Flaky {
    const NAME: &'static str = "bench-flaky";
    type State = Tally;
    type Msg = Add;
    type Reply = Tally;
    fn handle(s: &mut Tally, m: &Add, _c: &Context) -> Result<Tally, HandlerError> {
        if m.n == 0 {
            return Err(HandlerError(7));
        }
        s.sum = s.sum.wrapping_add(m.n);
        s.count += 1;
        Ok(*s)
    }
    fn cuda_handler() -> Option<CudaHandler> {
        Some(CudaHandler {
            function: "bench_flaky",
            state_type: "Tally",
            msg_type: "Add",
            reply_type: "Tally",
            struct_defs: DEFS,
            source:
                "__device__ int bench_flaky(Tally* s, const Add* m, Tally* r, const rk_ctx* c) {\n\
                     if (m->n == 0) return 7;\n\
                     s->sum += m->n; s->count += 1; *r = *s; return 0; }",
        })
    }
}

/// `Add` value on which [`Crashy`]'s device handler executes `__trap()` (a sticky fault).
pub const TRAP: u64 = 0xDEAD;

/// [`Adder`] whose device handler traps on `n == TRAP`, faulting the device: the recovery
/// benchmark's actor. (Its CPU handler just adds.)
#[derive(Debug)]
pub struct Crashy;
impl Actor for Crashy {
    const NAME: &'static str = "bench-crashy";
    type State = Tally;
    type Msg = Add;
    type Reply = Tally;
    fn handle(s: &mut Tally, m: &Add, _c: &Context) -> Result<Tally, HandlerError> {
        s.sum = s.sum.wrapping_add(m.n);
        s.count += 1;
        Ok(*s)
    }
    fn cuda_handler() -> Option<CudaHandler> {
        Some(CudaHandler {
            function: "bench_crashy",
            state_type: "Tally",
            msg_type: "Add",
            reply_type: "Tally",
            struct_defs: DEFS,
            source:
                "__device__ int bench_crashy(Tally* s, const Add* m, Tally* r, const rk_ctx* c) {\n\
                     if (m->n == 0xDEADull) __trap();\n\
                     s->sum += m->n; s->count += 1; *r = *s; return 0; }",
        })
    }
}
