//! CUDA backend for RingKernel: one persistent kernel per runtime, mapped-memory rings, NVRTC.
//!
//! Everything links without CUDA: the driver and NVRTC are loaded at run time, and their absence is
//! a typed [`CudaError`], never a panic.
#![deny(unsafe_op_in_unsafe_fn)]

pub mod backend;
pub mod driver;
pub mod error;
pub mod layout;

pub use backend::{CudaBackend, CudaConfig};
pub use error::CudaError;
