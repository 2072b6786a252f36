//! A runtime spanning several GPUs of one host: one persistent kernel per GPU, one id space.
//!
//! [`MultiGpuBackend`] is an `ActorBackend` like [`CudaBackend`](crate::CudaBackend), over a set of GPUs:
//! - **Placement** ([`Placement`]): each spawn picks a GPU (least loaded, pinned, or near a
//!   given GPU over NVLink), from the [`Topology`] the driver reports.
//! - **One id space.** Actor ids are runtime-wide; a route table maps each to its GPU and block.
//!   The host keeps one copy for its sends, and every GPU keeps one in device memory for its
//!   handlers' K2K sends.
//! - **K2K across GPUs** with the guarantees of one GPU (`rk_k2k_tell`): peer access is enabled
//!   between every pair, so a handler on one GPU claims a slot of an inbox on another with a
//!   system-scope atomic and writes the message there directly (NVLink or PCIe peer writes); the
//!   slot stamps that make a one-GPU inbox safe without fences make it safe across GPUs too.
//!   Credits, dead letters, HLC and per-pair FIFO are the same code.
//! - **Migration** ([`MultiGpuBackend::migrate`], `migrate.rs`): quiesce, move state and inbox
//!   peer to peer with a checksum computed on the target GPU, swap the routes.
//! - **Load balancing** (`balance.rs`): plans moves from measured load and sampled traffic.
//!
//! Requires peer access with native peer atomics between every pair of the chosen GPUs
//! ([`CudaError::NoPeerAccess`](crate::CudaError::NoPeerAccess),
//! [`CudaError::NoPeerAtomics`](crate::CudaError::NoPeerAtomics)
//! otherwise): without it a handler could not reach another GPU's inboxes.

mod backend;
pub mod balance;
pub mod floor;
mod migrate;
pub mod placement;
pub mod tools;
pub mod topology;

pub use backend::{MultiGpuBackend, MultiGpuConfig};
pub use migrate::{MigrationReport, TransferPath};
pub use placement::{GpuLoad, Placement};
pub use topology::{Gpu, Link, LinkKind, Topology};
