//! The CUDA backend (placeholder: being written).

use ringkernel_core::ActorVTable;

use crate::error::CudaError;

/// Configuration of the CUDA backend.
#[derive(Debug, Clone)]
pub struct CudaConfig {
    /// Which GPU to use.
    pub device_ordinal: usize,
}

impl Default for CudaConfig {
    fn default() -> Self {
        CudaConfig { device_ordinal: 0 }
    }
}

/// A runtime's persistent kernel on one GPU.
#[derive(Debug)]
pub struct CudaBackend {
    _private: (),
}

impl CudaBackend {
    /// Compiles the registered handlers, launches the persistent kernel and starts the host side.
    pub fn new(types: &[ActorVTable], config: CudaConfig) -> Result<Self, CudaError> {
        let _ = (types, config);
        Err(CudaError::DriverUnavailable(
            "the CUDA backend is not built yet".into(),
        ))
    }
}
