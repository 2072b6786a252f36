//! Kernel modes: emitters that wrap verified IR functions into `extern "C" __global__` entry
//! points (or, for ring mode, into the handler form the persistent actor kernel calls).
//!
//! - [`global`]: a per-element function → a grid-stride SIMT kernel over `n` elements.
//! - [`stencil`]: a per-cell function → a 2D or 3D kernel that stages a tile plus halo in shared
//!   memory; [`stencil::run_on_cpu`] runs the same tiling through the interpreter.
//! - [`ring`]: an actor handler → the pieces of a `ringkernel_core::actor::CudaHandler`.
//! - [`fdtd`]: a per-cell wave-equation update → one persistent cooperative kernel steered through
//!   a mailbox in mapped host memory.
//!
//! Each mode checks the wrapped function's signature and fails with
//! [`IrError::KernelContract`] when it does not match; `docs/kernel-modes.md` states each contract.

pub mod fdtd;
pub mod global;
pub mod ring;
pub mod stencil;

use crate::error::IrError;
use crate::intrinsics;
use crate::ir::{Function, Module, Type};

/// The function named `name` in `module`.
pub(crate) fn find<'m>(module: &'m Module, name: &str) -> Result<&'m Function, IrError> {
    module
        .functions
        .iter()
        .find(|f| f.name == name)
        .ok_or_else(|| IrError::NoSuchFunction {
            name: name.to_string(),
        })
}

/// Parameter types of `f`, in order.
pub(crate) fn param_types(f: &Function) -> Vec<Type> {
    f.params
        .iter()
        .filter_map(|p| f.local(*p).map(|d| d.ty.clone()))
        .collect()
}

/// A [`IrError::KernelContract`] for `f`.
pub(crate) fn contract(f: &Function, reason: impl Into<String>) -> IrError {
    IrError::KernelContract {
        func: f.name.clone(),
        reason: reason.into(),
    }
}

/// Rejects modules that call intrinsics only ring mode provides (the persistent kernel's HLC).
pub(crate) fn reject_ring_only(module: &Module, mode: &str) -> Result<(), IrError> {
    for name in crate::emit::called_intrinsics(module) {
        if intrinsics::lookup(&name).is_some_and(intrinsics::Intrinsic::needs_ring_runtime) {
            return Err(IrError::KernelContract {
                func: name,
                reason: format!("this intrinsic exists only in ring mode, not in {mode} kernels"),
            });
        }
    }
    Ok(())
}

/// C parameter declarations `T name` for `f`'s parameters from index `from` on, named `rk_pK`.
pub(crate) fn extra_params(f: &Function, from: usize) -> Vec<(String, String)> {
    param_types(f)
        .iter()
        .enumerate()
        .skip(from)
        .map(|(k, t)| (crate::emit::expr::type_name(t), format!("rk_p{k}")))
        .collect()
}
