//! The crate's error type.

/// Errors of the CUDA backend.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CudaError {
    /// The CUDA driver library could not be loaded or initialized (no GPU, no driver).
    #[error("CUDA driver not available: {0}")]
    DriverUnavailable(String),
    /// No CUDA device with this ordinal.
    #[error("no CUDA device {ordinal} ({count} present)")]
    NoDevice {
        /// Ordinal asked for.
        ordinal: usize,
        /// Devices present.
        count: usize,
    },
    /// A registered actor type has no CUDA handler.
    #[error("actor type `{0}` has no CUDA handler")]
    NoCudaHandler(&'static str),
    /// A CUDA driver call failed.
    #[error("CUDA driver call {call} failed: {message}")]
    Driver {
        /// The call that failed.
        call: &'static str,
        /// The driver's description.
        message: String,
    },
}
