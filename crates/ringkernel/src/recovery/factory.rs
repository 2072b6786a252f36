//! [`BackendFactory`]: how a recovering runtime builds each generation of its backend and gives
//! a faulted one back; the built-in factories for the CPU and CUDA backends.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ringkernel_core::{ActorBackend, ActorVTable};
use ringkernel_cpu::{CpuBackend, CpuConfig};
use ringkernel_cuda::{CudaBackend, CudaConfig, Lifeline};

use crate::error::Error;

/// Builds generations of a backend for a recovering runtime (see [`crate::recovery`]).
///
/// Every generation must serve `types` by index (the runtime's registered actor types, in
/// registration order) and support `snapshot` and `restore_with` (checkpoints are taken and
/// restored through them).
pub trait BackendFactory: Send + Sync + fmt::Debug {
    /// Builds and starts a fresh generation serving `types`.
    fn build(&self, types: &[ActorVTable]) -> Result<Arc<dyn ActorBackend>, Error>;

    /// Gives `old` up: shuts it down if it still runs (within `wait`), drops it and, where it
    /// faulted a device, makes the device usable again. The default shuts down and drops.
    fn release(&self, old: Arc<dyn ActorBackend>, wait: Duration) -> Result<(), Error> {
        if old.fault().is_none() {
            let _ = old.shutdown(wait);
        }
        drop(old);
        Ok(())
    }
}

/// CPU generations with one configuration.
#[derive(Debug)]
pub(crate) struct CpuFactory {
    pub(crate) config: CpuConfig,
}

impl BackendFactory for CpuFactory {
    fn build(&self, types: &[ActorVTable]) -> Result<Arc<dyn ActorBackend>, Error> {
        Ok(Arc::new(CpuBackend::new(types, self.config.clone())?))
    }
}

/// CUDA generations: each a persistent kernel on the same GPU. After a fault the dead context is
/// reset once the old generation is entirely gone (see [`Lifeline`]).
#[derive(Debug)]
pub(crate) struct CudaFactory {
    pub(crate) config: CudaConfig,
    /// The latest generation's lifeline.
    pub(crate) lifeline: Mutex<Option<Lifeline>>,
}

impl BackendFactory for CudaFactory {
    fn build(&self, types: &[ActorVTable]) -> Result<Arc<dyn ActorBackend>, Error> {
        // Checkpoints are taken through live snapshots.
        let config = CudaConfig {
            snapshots: true,
            ..self.config.clone()
        };
        let backend = CudaBackend::new(types, config)?;
        *self.lifeline.lock().unwrap_or_else(|e| e.into_inner()) = Some(backend.lifeline());
        Ok(Arc::new(backend))
    }

    fn release(&self, old: Arc<dyn ActorBackend>, wait: Duration) -> Result<(), Error> {
        let faulted = old.fault().is_some();
        if !faulted {
            let _ = old.shutdown(wait);
        }
        drop(old);
        let lifeline = self
            .lifeline
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        match lifeline {
            Some(l) if faulted => Ok(l.reset_when_released(wait)?),
            _ => Ok(()),
        }
    }
}
