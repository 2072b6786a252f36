//! The crate's one error type.

use std::time::Duration;

/// Why building, compiling or driving a kernel failed.
#[derive(Debug, thiserror::Error)]
pub enum KernelsError {
    /// The IR was rejected or a kernel-mode contract was not met.
    #[error(transparent)]
    Ir(#[from] ringkernel_ir::IrError),
    /// A kernel function's Rust source is outside the transpiler's subset or does not fit its
    /// kernel mode (every diagnostic is kept).
    #[error("transpiling a kernel function: {}", first_message(.0))]
    Transpile(Vec<ringkernel_transpile::Diagnostic>),
    /// A CUDA driver or NVRTC call failed.
    #[error(transparent)]
    Cuda(#[from] ringkernel_cuda::CudaError),
    /// The kernel did not answer in time (it may be hung; its memory is then leaked, never freed
    /// under a running kernel).
    #[error("timed out after {waited:?} waiting for {what}")]
    Timeout {
        /// What was awaited.
        what: &'static str,
        /// How long.
        waited: Duration,
    },
    /// The persistent kernel is no longer running (it returned or faulted).
    #[error("the persistent kernel exited while waiting for {0}")]
    KernelExited(&'static str),
    /// Bad sizes or arguments.
    #[error("{0}")]
    Config(String),
}

impl From<Vec<ringkernel_transpile::Diagnostic>> for KernelsError {
    fn from(d: Vec<ringkernel_transpile::Diagnostic>) -> Self {
        Self::Transpile(d)
    }
}

fn first_message(d: &[ringkernel_transpile::Diagnostic]) -> String {
    match d {
        [] => "no diagnostic".to_string(),
        [one] => one.message.clone(),
        [first, rest @ ..] => format!("{} (and {} more)", first.message, rest.len()),
    }
}
