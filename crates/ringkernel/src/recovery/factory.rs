//! [`BackendFactory`]: how a recovering runtime builds each generation of its backend and gives
//! a faulted one back; the built-in factories for the CPU and CUDA backends.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use ringkernel_core::{ActorBackend, ActorVTable};
use ringkernel_cpu::{CpuBackend, CpuConfig};
use ringkernel_cuda::program::persistent_source;
use ringkernel_cuda::{CudaConfig, NvrtcCompiler};

use crate::error::Error;

/// Builds generations of a backend for a recovering runtime (see [`crate::recovery`]).
///
/// Every generation must serve `types` by index (the runtime's registered actor types, in
/// registration order) and support `snapshot` and `restore_with` (checkpoints are taken and
/// restored through them).
pub trait BackendFactory: Send + Sync + fmt::Debug {
    /// Builds and starts a fresh generation serving `types`.
    fn build(&self, types: &[ActorVTable]) -> Result<Arc<dyn ActorBackend>, Error>;

    /// Checks, without disturbing the running generation, that [`build`](Self::build) could
    /// serve `types`: a hot reload ([`crate::recovery::reload`]) calls it before it stops
    /// anything, so a handler that does not compile is refused while the old version keeps
    /// serving. The default accepts everything (a CPU generation has nothing to compile).
    fn check(&self, types: &[ActorVTable]) -> Result<(), Error> {
        let _ = types;
        Ok(())
    }

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

/// Generates the persistent kernel's source for `types` and compiles it for compute
/// capability `arch`, as the kernel's launch does (a type without a CUDA handler fails first,
/// before NVRTC is needed). The PTX lands in NVRTC's cache, so a launch that follows loads it.
pub(crate) fn cuda_check(types: &[ActorVTable], arch: (u32, u32)) -> Result<(), Error> {
    let source = persistent_source(types, CudaConfig::default().fenced_replies)?;
    compile_check(
        &NvrtcCompiler::discover()?,
        &source,
        &format!("sm_{}{}", arch.0, arch.1),
    )
}

/// Compiles the persistent kernel's `source` for `arch` under the name `launch` gives it (so
/// the PTX cache entry is the one `launch` looks up).
fn compile_check(compiler: &NvrtcCompiler, source: &str, arch: &str) -> Result<(), Error> {
    compiler.compile("ringkernel_persistent.cu", source, arch, &[])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // Tests unwrap: a panic is the failure report.

    use ringkernel_core::{Actor, Context, CudaHandler, HandlerError, Message, MessageTypeId};
    use ringkernel_cuda::nvrtc::testing;

    use super::*;

    #[derive(Clone, Copy, Debug, Default, bytemuck::Pod, bytemuck::Zeroable)]
    #[repr(C)]
    struct Add {
        n: u64,
    }
    impl Message for Add {
        const TYPE_ID: MessageTypeId = MessageTypeId(0x100);
    }

    /// No CUDA form.
    struct HostOnly;
    impl Actor for HostOnly {
        const NAME: &'static str = "host-only";
        type State = Add;
        type Msg = Add;
        type Reply = Add;
        fn handle(s: &mut Add, m: &Add, _: &Context) -> Result<Add, HandlerError> {
            s.n += m.n;
            Ok(*s)
        }
    }

    /// A CUDA form that does not compile (`n` is misspelled).
    struct Broken;
    impl Actor for Broken {
        const NAME: &'static str = "broken";
        type State = Add;
        type Msg = Add;
        type Reply = Add;
        fn handle(s: &mut Add, m: &Add, _: &Context) -> Result<Add, HandlerError> {
            s.n += m.n;
            Ok(*s)
        }
        fn cuda_handler() -> Option<CudaHandler> {
            Some(CudaHandler {
                function: "broken_handle",
                state_type: "Add",
                msg_type: "Add",
                reply_type: "Add",
                struct_defs: "struct Add { unsigned long long n; };",
                source: "__device__ int broken_handle(Add* s, const Add* m, Add* r, \
                         const rk_ctx* ctx) { s->nn += m->n; *r = *s; return 0; }",
            })
        }
    }

    /// The same handler, spelled right.
    struct Fixed;
    impl Actor for Fixed {
        const NAME: &'static str = "fixed";
        type State = Add;
        type Msg = Add;
        type Reply = Add;
        fn handle(s: &mut Add, m: &Add, _: &Context) -> Result<Add, HandlerError> {
            s.n += m.n;
            Ok(*s)
        }
        fn cuda_handler() -> Option<CudaHandler> {
            Some(CudaHandler {
                function: "fixed_handle",
                state_type: "Add",
                msg_type: "Add",
                reply_type: "Add",
                struct_defs: "struct Add { unsigned long long n; };",
                source: "__device__ int fixed_handle(Add* s, const Add* m, Add* r, \
                         const rk_ctx* ctx) { s->n += m->n; *r = *s; return 0; }",
            })
        }
    }

    #[test]
    fn check_rejects_a_type_without_a_cuda_handler_before_touching_a_device() {
        let types = [ActorVTable::of::<HostOnly>().unwrap()];
        let got = cuda_check(&types, (9, 0));
        assert!(
            matches!(
                got,
                Err(Error::Cuda(ringkernel_cuda::CudaError::NoCudaHandler(
                    "host-only"
                )))
            ),
            "{got:?}"
        );
    }

    #[test]
    fn the_cpu_factory_has_nothing_to_check() {
        let f = CpuFactory {
            config: CpuConfig::default(),
        };
        assert!(f.check(&[ActorVTable::of::<HostOnly>().unwrap()]).is_ok());
    }

    /// Needs NVRTC (no GPU): fails, never skips, when it is missing (see `nvrtc::testing`).
    #[test]
    fn the_compile_check_tells_a_broken_handler_from_a_good_one() {
        let compiler = testing::compiler().without_cache();
        let broken = persistent_source(&[ActorVTable::of::<Broken>().unwrap()], false).unwrap();
        let got = compile_check(&compiler, &broken, testing::TEST_ARCH);
        assert!(
            got.as_ref().is_err_and(|e| e.to_string().contains("nn")),
            "{got:?}"
        );
        let fixed = persistent_source(&[ActorVTable::of::<Fixed>().unwrap()], false).unwrap();
        compile_check(&compiler, &fixed, testing::TEST_ARCH).unwrap();
    }
}
