//! The kernel modes of `ringkernel-ir` ([`ringkernel_ir::kernel`]) in use.
//!
//! - [`examples`]: one kernel per mode with its CPU reference: `axpy` (global), a radius-2 2D
//!   cross stencil and a 3D 7-point heat stencil, and the 2D wave-equation cell update
//!   (persistent FDTD) are Rust functions compiled natively (the reference) and transpiled (the
//!   device code); the counter actor handler (ring) is built with the IR builder.
//! - [`stencil_cpu`]: runs a native stencil cell function over the device's tiling.
//! - [`fdtd_cpu`]: the CPU reference of the steered FDTD simulation.
//! - [`fdtd_host`]: the host driver of the persistent FDTD kernel (allocates everything, launches
//!   one cooperative kernel, steers it through a mapped-memory mailbox, stops it).
//! - [`handler`]: a ring-mode handler as a `ringkernel_core::actor::CudaHandler`.
//!
//! Tests: `tests/nvrtc_modes.rs` compiles every mode for sm_90 (CI, no GPU),
//! `tests/interp_modes.rs` checks the transpiled IR against the native functions through the
//! interpreter on random inputs, and `tests/gpu_kernels.rs` (feature `gpu-tests`) runs every mode on a GPU with
//! random inputs against the CPU references.

#![deny(unsafe_op_in_unsafe_fn)]

mod error;
pub mod examples;
pub mod fdtd_cpu;
pub mod fdtd_host;
pub mod handler;
pub mod stencil_cpu;

pub use error::KernelsError;
