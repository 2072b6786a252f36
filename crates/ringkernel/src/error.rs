//! The facade's error type: one enum wrapping each lower layer's error with context.

use ringkernel_core::{CoreError, ShutdownError, SpawnError};
use ringkernel_cpu::CpuError;
use ringkernel_cuda::CudaError;

/// Errors of building, spawning on and shutting down a [`Runtime`](crate::Runtime).
///
/// Sends and asks have their own small errors ([`SendError`](crate::SendError),
/// [`AskError`](crate::AskError)), which give the caller what to do next.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A model-level error (layouts, capacities).
    #[error(transparent)]
    Core(#[from] CoreError),
    /// An actor type could not be registered (message too large, reserved id, state alignment).
    #[error("cannot register actor type `{name}`: {source}")]
    Register {
        /// The actor type.
        name: &'static str,
        /// Why.
        #[source]
        source: CoreError,
    },
    /// The same actor type (or another with the same name) was registered twice.
    #[error("actor type `{0}` is registered twice")]
    DuplicateActorType(&'static str),
    /// An actor could not be spawned.
    #[error(transparent)]
    Spawn(#[from] SpawnError),
    /// Shutdown did not complete cleanly.
    #[error(transparent)]
    Shutdown(#[from] ShutdownError),
    /// The CPU backend could not be built.
    #[error("cpu backend: {0}")]
    Cpu(#[from] CpuError),
    /// The CUDA backend could not be built (no driver, no device, compile error...).
    #[error("cuda backend: {0}")]
    Cuda(#[from] CudaError),
}
