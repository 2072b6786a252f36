//! Global (SIMT) mode: a per-element function becomes a grid-stride kernel.
//!
//! Contract: `fn f(i: u32 | u64, rest...)` returning `()`. The kernel is
//! `extern "C" __global__ void NAME(I n, rest...)` with `I` the index type; it calls `f(i, rest...)`
//! once for every `i` in `0..n`, whatever the launch size (grid-stride loop, 64-bit counter so
//! the stride cannot overflow the index). Slices are passed as pointers plus lengths among
//! `rest`: `f` must bounds-check any slice it indexes with something other than `i < n`.

use std::fmt::Write;

use super::{contract, extra_params, find, param_types, reject_ring_only};
use crate::emit::emit_module;
use crate::error::IrError;
use crate::ir::{Module, ScalarType, Type};

/// Emits `module` plus the kernel `kernel_name` wrapping `element_fn`.
pub fn emit_global(
    module: &Module,
    element_fn: &str,
    kernel_name: &str,
) -> Result<String, IrError> {
    let f = find(module, element_fn)?;
    reject_ring_only(module, "global")?;
    let params = param_types(f);
    let index = match params.first() {
        Some(Type::Scalar(s @ (ScalarType::U32 | ScalarType::U64))) => *s,
        _ => {
            return Err(contract(
                f,
                "the first parameter must be the element index (u32 or u64)",
            ))
        }
    };
    if f.ret != Type::Void {
        return Err(contract(
            f,
            "a per-element function returns `()` (it stores its results)",
        ));
    }
    crate::verify::check_identifier(kernel_name)?;
    let mut out = emit_module(module)?;
    let extras = extra_params(f, 1);
    let decls: String = extras.iter().map(|(t, n)| format!(", {t} {n}")).collect();
    let args: String = extras.iter().map(|(_, n)| format!(", {n}")).collect();
    let it = index.cuda_name();
    let _ = write!(
        out,
        "\nextern \"C\" __global__ void {kernel_name}({it} rk_n{decls}) {{\n\
         \x20   const unsigned long long rk_stride = (unsigned long long)gridDim.x * blockDim.x;\n\
         \x20   for (unsigned long long rk_i = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x; \
         rk_i < (unsigned long long)rk_n; rk_i += rk_stride) {{\n\
         \x20       {name}(({it})rk_i{args});\n\
         \x20   }}\n}}\n",
        name = f.name
    );
    Ok(out)
}
