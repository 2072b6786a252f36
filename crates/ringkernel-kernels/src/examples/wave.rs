//! Persistent FDTD mode: the leapfrog update of the 2D wave equation,
//! `u' = 2u - u_prev + coef * (u[x±1] + u[y±1] - 4u)` with `coef = (c Δt / Δx)²` (stable for
//! `coef <= 0.5`). The cell function is Rust ([`kernel::wave_cell`]):
//! compiled natively for the CPU reference ([`crate::fdtd_cpu`]) and transpiled for the device.

use ringkernel_ir::ir::Module;
use ringkernel_transpile::KernelMode;

use crate::KernelsError;

/// The cell function, written once: compiled natively (the CPU reference, [`crate::fdtd_cpu`],
/// calls it) and transpiled from its text; `#[gpu_kernel]` checks it against the subset at
/// compile time.
#[ringkernel_derive::gpu_kernel]
pub mod kernel {
    /// The leapfrog update of interior cell `i`:
    /// `2u - u_prev + coef * (u[x±1] + u[y±1] - 4u)`. `2u` and `4u` are exact and the last product
    /// is an explicit `mul_add`, so the device's FMA contraction cannot change a bit.
    pub fn wave_cell(u: &[f32], u_prev: &[f32], i: u32, nx: u32, coef: f32) -> f32 {
        let i = i as usize;
        let nx = nx as usize;
        let ctr = u[i];
        let lap = u[i + 1] + u[i - 1] + u[i + nx] + u[i - nx] - 4.0 * ctr;
        coef.mul_add(lap, 2.0 * ctr - u_prev[i])
    }
}

/// The Rust text of [`kernel`], the input of the transpiler (written by `#[gpu_kernel]`).
pub const SOURCE: &str = kernel::SOURCE;

/// Name of the cell function.
pub const FUNCTION: &str = "wave_cell";

/// The cell function lowered to IR (the FDTD mode's slice form):
/// `fn wave_cell(u: *const f32, u_len: u64, u_prev: *const f32, u_prev_len: u64, i: u32, nx: u32, coef: f32) -> f32`.
pub fn module() -> Result<Module, KernelsError> {
    Ok(ringkernel_transpile::kernel_fn::kernel_module(SOURCE)?)
}

/// The persistent FDTD kernel `kernel_name(rk_fdtd_params)` around the cell function.
pub fn cuda(kernel_name: &str) -> Result<String, KernelsError> {
    let out = ringkernel_transpile::transpile_kernel_fn(
        SOURCE,
        FUNCTION,
        &KernelMode::Fdtd2d,
        kernel_name,
    )?;
    Ok(out.cuda)
}
