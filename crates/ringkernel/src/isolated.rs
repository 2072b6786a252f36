//! Isolated CUDA runtimes: the persistent kernel runs in a *device host*, a child process that
//! owns the GPU, and the runtime talks to it over a Unix socket.
//!
//! Why: after a sticky fault (an illegal address or a `__trap()` in a handler) the CUDA driver
//! refuses every new context in the faulting process — primary after
//! `cuDevicePrimaryCtxReset`, or non-primary — as `fault-probe` shows on an H200 with driver
//! 580 (`docs/resilience.md`). NVIDIA's guidance is the same: only a new process gets the GPU
//! back. So a runtime that recovers from device faults ([`crate::recovery`] on
//! `Backend::Cuda`) runs each generation in its own device host; after a fault the device
//! host is killed and a new one started, and the parent process — with the application, its
//! `ActorRef`s, the checkpoint and the replay log — lives on.
//!
//! The price is latency: every call crosses the socket (a request, an answer, thread wake-ups
//! on both sides), and asks complete when the device host forwards their replies. The
//! resilience benchmark measures it beside the in-process backend.
//!
//! The device host program is `ringkernel-device-host` (built with this crate). It is found
//! through `RINGKERNEL_DEVICE_HOST`, else next to the running executable or one directory up
//! (where `cargo test` puts test binaries).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ringkernel_core::{ActorBackend, ActorVTable};
use ringkernel_cuda::CudaConfig;

use crate::error::Error;
use crate::recovery::BackendFactory;

mod client;
mod errors;
mod proto;
mod server;
#[cfg(test)]
mod tests;
mod wire;

pub use server::serve;

/// The device host program's file name.
pub const DEVICE_HOST: &str = "ringkernel-device-host";

/// Where the device host program is (see the module docs).
pub fn device_host_program() -> Result<PathBuf, Error> {
    if let Some(p) = std::env::var_os("RINGKERNEL_DEVICE_HOST") {
        return Ok(PathBuf::from(p));
    }
    let exe = std::env::current_exe()
        .map_err(|e| Error::Recovery(format!("cannot locate the running executable: {e}")))?;
    let dirs = exe.ancestors().skip(1).take(2);
    for dir in dirs {
        let candidate = dir.join(DEVICE_HOST);
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    Err(Error::Recovery(format!(
        "{DEVICE_HOST} not found next to {} (build it with `cargo build -p ringkernel --bin \
         {DEVICE_HOST}`, or set RINGKERNEL_DEVICE_HOST)",
        exe.display()
    )))
}

/// Builds each generation as a fresh device host process (see the module docs).
#[derive(Debug)]
pub(crate) struct IsolatedCudaFactory {
    program: PathBuf,
    config: proto::HostConfig,
    /// The device's compute capability, once a device host reported it (for `check`).
    arch: Mutex<Option<(u32, u32)>>,
}

impl IsolatedCudaFactory {
    pub(crate) fn new(program: PathBuf, config: &CudaConfig) -> Self {
        IsolatedCudaFactory {
            program,
            config: proto::HostConfig {
                device_ordinal: config.device_ordinal,
                blocks: config.blocks,
                mailbox_capacity: config.mailbox_capacity,
                k2k_capacity: config.k2k_capacity,
                watchdog: config.watchdog,
            },
            arch: Mutex::new(None),
        }
    }
}

impl BackendFactory for IsolatedCudaFactory {
    fn build(&self, types: &[ActorVTable]) -> Result<Arc<dyn ActorBackend>, Error> {
        let remote = client::RemoteBackend::start(&self.program, types, self.config.clone())?;
        *self.arch.lock().unwrap_or_else(|e| e.into_inner()) = Some(remote.arch);
        Ok(Arc::new(remote))
    }

    fn check(&self, types: &[ActorVTable]) -> Result<(), Error> {
        let arch = *self.arch.lock().unwrap_or_else(|e| e.into_inner());
        crate::recovery::cuda_check(types, arch.unwrap_or((9, 0)))
    }

    fn release(&self, old: Arc<dyn ActorBackend>, wait: Duration) -> Result<(), Error> {
        if old.fault().is_none() {
            let _ = old.shutdown(wait);
        }
        // The last handle: dropping it closes the socket and ends (or kills) the process.
        drop(old);
        Ok(())
    }
}
