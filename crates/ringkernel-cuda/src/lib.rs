//! CUDA backend for RingKernel: one persistent kernel per runtime, mapped-memory rings, NVRTC.
//!
//! Everything links without CUDA: the driver and NVRTC are loaded at run time, and their absence is
//! a typed [`CudaError`], never a panic.
#![deny(unsafe_op_in_unsafe_fn)]

pub mod actors;
pub mod backend;
pub mod bulk;
pub mod config;
pub mod device;
pub mod driver;
pub mod error;
pub mod floors;
pub mod host_ring;
pub mod layout;
pub mod multi;
pub mod nvrtc;
pub mod peer;
pub mod program;
pub mod sm_split;
pub mod swarm;
pub mod sync_cost;

pub use backend::CudaBackend;
pub use config::CudaConfig;
pub use device::KernelHealth;
pub use error::CudaError;
pub use multi::{MultiGpuBackend, MultiGpuConfig};
pub use nvrtc::{CompiledPtx, NvrtcCompiler};
pub use swarm::{Swarm, SwarmConfig, SwarmProgram};
