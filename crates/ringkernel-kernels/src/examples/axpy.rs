//! Global mode: `y[i] = a * x[i] + y[i]` with one rounding (`mul_add`), so the device result is
//! bit-identical to the CPU's. The element function is Rust ([`kernel::axpy`]): compiled natively
//! for the CPU reference and transpiled for the device.

use ringkernel_ir::ir::Module;
use ringkernel_transpile::KernelMode;

use crate::KernelsError;

/// The element function, written once: compiled natively (the CPU reference calls it) and
/// transpiled from its text; `#[gpu_kernel]` checks it against the subset at compile time.
#[ringkernel_derive::gpu_kernel]
pub mod kernel {
    /// `y[i] = a * x[i] + y[i]` with one rounding (`mul_add`, a fused multiply-add on the device
    /// too, so both agree bit for bit). Indices at or past `y.len()` are left alone: the grid may
    /// cover more elements than there are.
    pub fn axpy(i: u32, a: f32, x: &[f32], y: &mut [f32]) {
        let i = i as usize;
        if i < y.len() {
            y[i] = a.mul_add(x[i], y[i]);
        }
    }
}

/// The Rust text of [`kernel`], the input of the transpiler (written by `#[gpu_kernel]`).
pub const SOURCE: &str = kernel::SOURCE;

/// Name of the per-element function.
pub const FUNCTION: &str = "axpy";

/// The element function lowered to IR:
/// `fn axpy(i: u32, a: f32, x: *const f32, x_len: u64, y: *mut f32, y_len: u64)`.
pub fn module() -> Result<Module, KernelsError> {
    Ok(ringkernel_transpile::kernel_fn::kernel_module(SOURCE)?)
}

/// The grid-stride kernel `kernel_name(u32 n, f32 a, const f32* x, u64 x_len, f32* y, u64 y_len)`.
pub fn cuda(kernel_name: &str) -> Result<String, KernelsError> {
    let out = ringkernel_transpile::transpile_kernel_fn(
        SOURCE,
        FUNCTION,
        &KernelMode::Global,
        kernel_name,
    )?;
    Ok(out.cuda)
}

/// The CPU reference: the native element function over every index of `y`.
pub fn cpu(a: f32, x: &[f32], y: &mut [f32]) {
    for i in 0..y.len() {
        // The kernel's index type is u32; a longer slice would wrap, so stop where it ends.
        let Ok(i) = u32::try_from(i) else { break };
        kernel::axpy(i, a, x, y);
    }
}
