//! A ring-mode handler as the `CudaHandler` the persistent actor kernel compiles in.

use ringkernel_core::actor::CudaHandler;
use ringkernel_ir::kernel::ring::RingHandler;

/// Turns `h` into a `CudaHandler`. Its strings are leaked, because `CudaHandler` holds
/// `&'static str`: call this once per actor type (e.g. behind a `OnceLock` in
/// `Actor::cuda_handler`), not per message or per spawn.
pub fn into_cuda_handler(h: RingHandler) -> CudaHandler {
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    CudaHandler {
        function: leak(h.function),
        state_type: leak(h.state_type),
        msg_type: leak(h.msg_type),
        reply_type: leak(h.reply_type),
        struct_defs: leak(h.struct_defs),
        source: leak(h.source),
    }
}
