//! Backend choice: [`Backend`] and the construction of the chosen backend.
//!
//! `Auto` tries CUDA first and falls back to the CPU, recording why (and logging it at `info`);
//! `Cuda` fails with [`Error::Cuda`] when no usable GPU is present; `Cpu` never touches CUDA.

use std::sync::Arc;

use ringkernel_core::{ActorBackend, ActorVTable};
use ringkernel_cpu::{CpuBackend, CpuConfig};
use ringkernel_cuda::{CudaBackend, CudaConfig, MultiGpuBackend, MultiGpuConfig};

use crate::error::Error;

/// Which backend a [`Runtime`](crate::Runtime) should run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Backend {
    /// CUDA if a usable GPU is present, else the CPU (the reason is kept: see
    /// [`Runtime::fallback_reason`](crate::Runtime::fallback_reason)).
    #[default]
    Auto,
    /// Worker threads on the host.
    Cpu,
    /// A persistent kernel on an NVIDIA GPU; an error if none is usable.
    Cuda,
    /// One persistent kernel on every GPU of the host, one id space, K2K across GPUs
    /// ([`MultiGpuBackend`]); an error if no GPU is usable or two GPUs lack peer access.
    /// Placement, migration and rebalancing: [`Runtime::multi_gpu`](crate::Runtime::multi_gpu).
    MultiCuda,
}

/// A built backend plus, for `Auto` on the CPU, why CUDA was not used.
pub(crate) struct Chosen {
    pub(crate) backend: Arc<dyn ActorBackend>,
    pub(crate) fallback_reason: Option<String>,
    /// The same backend with its multi-GPU operations, for `Backend::MultiCuda`.
    pub(crate) multi: Option<Arc<MultiGpuBackend>>,
}

pub(crate) fn build(
    choice: Backend,
    types: &[ActorVTable],
    cpu: CpuConfig,
) -> Result<Chosen, Error> {
    match choice {
        Backend::Cpu => Ok(Chosen {
            backend: Arc::new(CpuBackend::new(types, cpu)?),
            fallback_reason: None,
            multi: None,
        }),
        Backend::Cuda => Ok(Chosen {
            backend: cuda_backend(types)?,
            fallback_reason: None,
            multi: None,
        }),
        Backend::MultiCuda => {
            let multi = Arc::new(MultiGpuBackend::new(types, MultiGpuConfig::default())?);
            Ok(Chosen {
                backend: multi.clone(),
                fallback_reason: None,
                multi: Some(multi),
            })
        }
        Backend::Auto => match cuda_backend(types) {
            Ok(backend) => Ok(Chosen {
                backend,
                fallback_reason: None,
                multi: None,
            }),
            Err(e) => {
                let reason = e.to_string();
                tracing::info!(reason = %reason, "Backend::Auto: CUDA not used, running on the CPU");
                Ok(Chosen {
                    backend: Arc::new(CpuBackend::new(types, cpu)?),
                    fallback_reason: Some(reason),
                    multi: None,
                })
            }
        },
    }
}

/// The one place the facade builds the CUDA backend.
fn cuda_backend(types: &[ActorVTable]) -> Result<Arc<dyn ActorBackend>, Error> {
    Ok(Arc::new(CudaBackend::new(types, CudaConfig::default())?))
}
