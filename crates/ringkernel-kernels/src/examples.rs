//! One example kernel per mode, each with a CPU reference, used by the interpreter and GPU tests.
//!
//! The global, stencil and FDTD examples are **written once in Rust**: each example's
//! `#[gpu_kernel] mod kernel` is compiled natively — the CPU reference calls those functions — and
//! its text (`kernel::SOURCE`) is transpiled (`ringkernel_transpile::kernel_fn`) to the IR the
//! kernel modes wrap. The ring-mode `counter` is built with the IR builder (ring-mode actors come
//! from Rust through `#[gpu_actor]` instead, see `docs/transpiler.md`).
//!
//! Float tolerance (stated once, used by every test): NVRTC contracts `a * b + c` into FMAs by
//! default, so device results may differ from a CPU reference in the last bits. The example
//! functions are written so that it cannot (every product next to an addition is exact or an
//! explicit `mul_add`), yet the tests keep margins for the device: `|gpu - cpu| <= 1e-5 *
//! max(1, |cpu|)` per cell for the stencils, and `1e-4` times the field's peak for FDTD after
//! hundreds of steps; `axpy` must match exactly; the FDTD energy (an `f64` sum in a different
//! order) within a relative `1e-9`.

pub mod axpy;
pub mod counter;
pub mod stencils;
pub mod wave;

/// Relative tolerance of the stencil comparisons (see the module docs).
pub const STENCIL_TOL: f32 = 1e-5;
/// Tolerance of the FDTD field comparison, relative to the field's peak magnitude.
pub const FDTD_TOL: f32 = 1e-4;
/// Relative tolerance of the FDTD energy.
pub const ENERGY_TOL: f64 = 1e-9;

/// True when `got` is within `tol * max(1, |want|)` of `want`.
pub fn close(got: f32, want: f32, tol: f32) -> bool {
    (got - want).abs() <= tol * want.abs().max(1.0)
}
