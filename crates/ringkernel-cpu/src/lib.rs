//! CPU backend for RingKernel: actors as cells run by a pool of worker threads.
//!
//! Same semantics as the CUDA backend (`docs/semantics.md`); the handler is the native Rust one.
//!
//! - `table`: append-only actor table, lock-free lookup by id.
//! - `cell`: one actor (state, lifecycle, MPSC mailbox, scheduled flag) and its ownership rules.
//! - `sched`: per-worker ready rings and parking.
//! - `worker`: the worker loop (batching, draining, failure handling).
//! - `restart`: in-place restarts by an actor's restart policy.
//! - `asks`: correlation table for pending asks.
//! - `shared`: the lock-free send path.
//! - [`backend`]: [`CpuBackend`], the `ActorBackend` implementation, and shutdown.
#![deny(unsafe_op_in_unsafe_fn)]

mod asks;
pub mod backend;
mod cell;
pub mod config;
pub mod error;
mod restart;
mod sched;
mod shared;
mod table;
mod worker;

pub use backend::{CpuBackend, DROP_DEADLINE};
pub use config::CpuConfig;
pub use error::CpuError;
pub use worker::{BATCH, PANIC_CODE};
