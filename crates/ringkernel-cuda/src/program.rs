//! Assembles the persistent kernel's CUDA source: the generated layout header, the device runtime,
//! each registered actor type's handler, and a dispatch switch generated from the actor vtables.

use std::fmt::Write as _;

use ringkernel_core::ActorVTable;

use crate::error::CudaError;
use crate::layout::device_header;

/// The device runtime (rings, HLC, back-off).
pub const RUNTIME_CUH: &str = include_str!("../kernels/runtime.cuh");
/// The persistent kernel loop.
pub const PERSISTENT_CU: &str = include_str!("../kernels/persistent.cu");
/// The migration kernels (seal, checksum, inbox adoption).
pub const MIGRATE_CU: &str = include_str!("../kernels/migrate.cu");
/// Name of the persistent kernel's entry point.
pub const KERNEL_NAME: &str = "rk_persistent";

/// Builds the complete translation unit for `types` (in registration order).
///
/// Fails with [`CudaError::NoCudaHandler`] if a type has no CUDA handler.
///
/// `fenced_replies` selects the device→host stamping variant that puts a system fence between a
/// reply's bytes and its stamps (see `CudaConfig::fenced_replies`).
pub fn persistent_source(types: &[ActorVTable], fenced_replies: bool) -> Result<String, CudaError> {
    persistent_source_for(types, fenced_replies, false)
}

/// [`persistent_source`] for a member of a multi-GPU runtime when `multi_gpu` is set: K2K inbox
/// atomics at system scope, because senders on other GPUs claim the same inboxes.
pub fn persistent_source_for(
    types: &[ActorVTable],
    fenced_replies: bool,
    multi_gpu: bool,
) -> Result<String, CudaError> {
    let mut src = String::with_capacity(16 * 1024);
    if fenced_replies {
        src.push_str("#define RK_D2H_FENCED 1\n");
    }
    if multi_gpu {
        src.push_str("#define RK_MULTI_GPU 1\n");
    }
    src.push_str(&device_header());
    src.push_str(RUNTIME_CUH);
    src.push('\n');
    let mut dispatch = String::new();
    dispatch.push_str(
        "__device__ bool rk_dispatch(rk_u32 type_index, void* state, const rk_envelope* m,\n\
         \x20                           rk_envelope* r, const rk_ctx* ctx, int* rc) {\n  switch (type_index) {\n",
    );
    for (i, vt) in types.iter().enumerate() {
        let h = vt.cuda.ok_or(CudaError::NoCudaHandler(vt.name))?;
        let _ = writeln!(src, "// ---- actor type {i}: {} ----", vt.name);
        src.push_str(h.struct_defs);
        src.push('\n');
        src.push_str(h.source);
        src.push('\n');
        // Zero-sized Rust types have no CUDA counterpart of the same size; skip their asserts.
        for (ty, size) in [
            (h.state_type, vt.state_size),
            (h.msg_type, vt.msg_size),
            (h.reply_type, vt.reply_size),
        ] {
            if size > 0 {
                let _ = writeln!(
                    src,
                    "static_assert(sizeof({ty}) == {size}, \"{}: sizeof({ty}) differs from the Rust type\");",
                    vt.name
                );
            }
        }
        let _ = write!(
            dispatch,
            "    case {i}:\n      if (m->header.type_id != {msg_id:#010x}u || m->header.payload_len != {msg_size}) return false;\n      \
             *rc = {func}(({state}*)state, (const {msg}*)m->payload, ({reply}*)r->payload, ctx);\n      \
             r->header.type_id = {reply_id:#010x}u;\n      r->header.payload_len = {reply_size};\n      return true;\n",
            msg_id = vt.msg_type.0,
            msg_size = vt.msg_size,
            func = h.function,
            state = h.state_type,
            msg = h.msg_type,
            reply = h.reply_type,
            reply_id = vt.reply_type.0,
            reply_size = vt.reply_size,
        );
    }
    dispatch.push_str("    default:\n      return false;\n  }\n}\n");
    src.push_str(&dispatch);
    src.push_str(PERSISTENT_CU);
    Ok(src)
}

/// The complete translation unit of the migration kernels.
pub fn migrate_source() -> String {
    format!("{}{}\n{}", device_header(), RUNTIME_CUH, MIGRATE_CU)
}

/// Bytes of state per block: the largest registered state, rounded up to 16.
pub fn state_stride(types: &[ActorVTable]) -> usize {
    types
        .iter()
        .map(|t| t.state_size)
        .max()
        .unwrap_or(0)
        .max(16)
        .div_ceil(16)
        * 16
}
