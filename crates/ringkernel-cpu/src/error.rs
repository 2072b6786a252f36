//! The crate's error type.

use ringkernel_core::CoreError;

/// Why a [`CpuBackend`](crate::CpuBackend) could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CpuError {
    /// A configuration field is out of range.
    #[error("bad cpu backend config: {field} = {value} ({reason})")]
    BadConfig {
        /// The field.
        field: &'static str,
        /// Its value.
        value: usize,
        /// What it must be.
        reason: &'static str,
    },
    /// A registered actor type's layout is unusable (e.g. state alignment).
    #[error("actor type `{name}` is unusable: {source}")]
    BadActorType {
        /// The actor type.
        name: &'static str,
        /// Why.
        #[source]
        source: CoreError,
    },
    /// A ring could not be built.
    #[error("ring allocation failed: {0}")]
    Ring(#[from] CoreError),
    /// The operating system refused a worker thread.
    #[error("could not start worker thread: {0}")]
    Thread(#[from] std::io::Error),
}
