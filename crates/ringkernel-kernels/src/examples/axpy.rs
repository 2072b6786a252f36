//! Global mode: `y[i] = a * x[i] + y[i]` with one rounding (`mul_add`), so the device result is
//! bit-identical to the CPU's. The element function is Rust ([`kernel::axpy`], in
//! `rust/axpy.rs`): compiled natively for the CPU reference and transpiled for the device.

use ringkernel_ir::ir::Module;
use ringkernel_transpile::KernelMode;

use crate::KernelsError;

#[path = "rust/axpy.rs"]
pub mod kernel;

/// The Rust text of [`kernel`], the input of the transpiler.
pub const SOURCE: &str = include_str!("rust/axpy.rs");

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
