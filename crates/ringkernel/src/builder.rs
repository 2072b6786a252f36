//! [`RuntimeBuilder`]: choose a backend, register actor types, set limits, build.

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use ringkernel_core::envelope::ENVELOPE_SIZE;
use ringkernel_core::health::Watchdog;
use ringkernel_core::{Actor, ActorBackend, ActorVTable, MemoryBudgets, MemoryPolicy, Thresholds};
use ringkernel_cpu::CpuConfig;
use ringkernel_cuda::CudaConfig;

use crate::error::Error;
use crate::isolated::{device_host_program, IsolatedCudaFactory};
use crate::recovery::{BackendFactory, CpuFactory, Recoverer, RecoveryPolicy, Switch};
use crate::resilience::{Resilience, ResilienceConfig};
use crate::runtime::Runtime;
use crate::select::{self, Backend};

/// Default deadline of [`ActorRef::ask`](crate::ActorRef::ask).
pub const DEFAULT_ASK_TIMEOUT: Duration = Duration::from_secs(5);

/// Builds a [`Runtime`]. Registration errors are kept and reported by [`build`](Self::build), so
/// the calls chain.
///
/// ```
/// use ringkernel::prelude::*;
///
/// let rt = Runtime::builder().backend(Backend::Cpu).workers(1).build().unwrap();
/// assert_eq!(rt.backend_kind(), BackendKind::Cpu);
/// ```
#[derive(Debug)]
pub struct RuntimeBuilder {
    backend: Backend,
    types: Vec<ActorVTable>,
    index: HashMap<TypeId, usize>,
    error: Option<Error>,
    cpu: CpuConfig,
    ask_timeout: Duration,
    resilience: ResilienceConfig,
    recovery: Option<RecoveryPolicy>,
}

impl Default for RuntimeBuilder {
    fn default() -> Self {
        RuntimeBuilder {
            backend: Backend::Auto,
            types: Vec::new(),
            index: HashMap::new(),
            error: None,
            cpu: CpuConfig::default(),
            ask_timeout: DEFAULT_ASK_TIMEOUT,
            resilience: ResilienceConfig::default(),
            recovery: None,
        }
    }
}

impl RuntimeBuilder {
    /// Picks the backend (default [`Backend::Auto`]).
    pub fn backend(mut self, backend: Backend) -> Self {
        self.backend = backend;
        self
    }

    /// Registers actor type `A`. Its message and reply layouts are checked now; a failure, or a
    /// second registration of `A` (or of another type with the same `NAME`), makes `build` fail.
    pub fn register<A: Actor>(mut self) -> Self {
        if self.error.is_some() {
            return self;
        }
        if self.index.contains_key(&TypeId::of::<A>())
            || self.types.iter().any(|t| t.name == A::NAME)
        {
            self.error = Some(Error::DuplicateActorType(A::NAME));
            return self;
        }
        match ActorVTable::of::<A>() {
            Ok(vt) => {
                self.index.insert(TypeId::of::<A>(), self.types.len());
                self.types.push(vt);
            }
            Err(source) => {
                self.error = Some(Error::Register {
                    name: A::NAME,
                    source,
                })
            }
        }
        self
    }

    /// CPU backend: worker threads (default: available parallelism).
    pub fn workers(mut self, n: usize) -> Self {
        self.cpu.workers = n;
        self
    }

    /// CPU backend: envelopes per actor mailbox, a power of two (default 1024). The CUDA
    /// backend's mailboxes are sized by `ringkernel_cuda::CudaConfig`.
    pub fn mailbox_capacity(mut self, n: usize) -> Self {
        self.cpu.mailbox_capacity = n;
        self
    }

    /// CPU backend: asks waiting for replies at once (default 65,536). The CUDA backend keeps
    /// its own limits (`ringkernel_cuda::CudaConfig`).
    pub fn max_pending_asks(mut self, n: usize) -> Self {
        self.cpu.max_pending_asks = n;
        self
    }

    /// CPU backend: actors the runtime can ever spawn; ids are never reused (default 65,536).
    /// The CUDA backend holds as many block actors as its grid has blocks
    /// (`ringkernel_cuda::CudaConfig::blocks`).
    pub fn max_actors(mut self, n: usize) -> Self {
        self.cpu.max_actors = n;
        self
    }

    /// Deadline used by [`ActorRef::ask`](crate::ActorRef::ask) (default 5 s).
    pub fn ask_timeout(mut self, timeout: Duration) -> Self {
        self.ask_timeout = timeout;
        self
    }

    /// Memory budgets per actor, per tree and global (default: none); see
    /// [`crate::resilience`] for what an actor books.
    pub fn memory_budgets(mut self, budgets: MemoryBudgets) -> Self {
        self.resilience.budgets = budgets;
        self
    }

    /// Memory pressure at which spawns are refused, actors shed and checkpoints spilled
    /// (default [`MemoryPolicy::default`]).
    pub fn memory_policy(mut self, policy: MemoryPolicy) -> Self {
        self.resilience.policy = policy;
        self
    }

    /// Degradation thresholds, and how long the signals must stay calm before the level steps
    /// down one (defaults: [`Thresholds::default`], 1 s).
    pub fn degradation(mut self, thresholds: Thresholds, hold: Duration) -> Self {
        self.resilience.thresholds = thresholds;
        self.resilience.hold = hold;
        self
    }

    /// Host sends admitted per second from `Throttled` up (a quarter of it from `Shedding`), and
    /// the burst (defaults 100,000 and 10,000). Checked by [`build`](Self::build).
    pub fn admission(mut self, rate_per_s: f64, burst: u32) -> Self {
        self.resilience.admission_rate = rate_per_s;
        self.resilience.admission_burst = burst;
        self
    }

    /// How often the monitor samples the backend (default 10 ms, at least 100 µs).
    pub fn monitor_interval(mut self, interval: Duration) -> Self {
        self.resilience.interval = interval;
        self
    }

    /// How long a handler may run before it counts as hung (default zero: every handler the
    /// backend reports as long-running). The CPU backend reports a handler after 1 s by
    /// default; a shorter deadline here makes it report sooner.
    pub fn watchdog(mut self, deadline: Duration) -> Self {
        self.resilience.watchdog = Watchdog { deadline };
        if !deadline.is_zero() {
            self.cpu.watchdog = self.cpu.watchdog.min(deadline);
        }
        self
    }

    /// Whether the monitor stops actors, lowest priority first, while memory pressure calls for
    /// shedding (default false: the mitigation is only reported).
    pub fn shed_actors_under_memory_pressure(mut self, shed: bool) -> Self {
        self.resilience.shed_actors = shed;
        self
    }

    /// Whether the monitor *spills* actors, lowest priority first, while memory pressure calls
    /// for spilling (default false): the actor's state and queued messages are snapshotted into
    /// host memory, then it is stopped; [`Runtime::unspill`](crate::Runtime::unspill) brings it
    /// back. Needs a backend with snapshots. See [`crate::resilience`].
    pub fn spill_actors_under_memory_pressure(mut self, spill: bool) -> Self {
        self.resilience.spill_actors = spill;
        self
    }

    /// Makes the runtime survive device faults: periodic checkpoints, a replay log and a new
    /// generation of the backend after a fault (see [`crate::recovery`] for exactly which
    /// messages may be lost or repeated). Host sends pay a lock and a log entry each. Not
    /// available on [`Backend::MultiCuda`].
    pub fn recovery(mut self, policy: RecoveryPolicy) -> Self {
        self.recovery = Some(policy);
        self
    }

    /// Builds the backend and starts it.
    pub fn build(self) -> Result<Runtime, Error> {
        if let Some(e) = self.error {
            return Err(e);
        }
        if self.recovery.is_some() {
            let (factory, fallback_reason) = self.factory()?;
            return self.finish_recoverable(factory, fallback_reason);
        }
        let chosen = select::build(self.backend, &self.types, self.cpu.clone())?;
        self.finish(chosen.backend, chosen.fallback_reason, chosen.multi)
    }

    /// Builds a recovering runtime (with [`recovery`](Self::recovery)'s policy, or the
    /// default) whose generations `factory` builds: another backend, a test double.
    pub fn build_with_factory(
        mut self,
        factory: Arc<dyn BackendFactory>,
    ) -> Result<Runtime, Error> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.recovery.get_or_insert_with(RecoveryPolicy::default);
        self.finish_recoverable(factory, None)
    }

    /// The built-in factory for the chosen backend (`Auto`: CUDA if it builds, else the CPU).
    fn factory(&self) -> Result<(Arc<dyn BackendFactory>, Option<String>), Error> {
        let cpu = || -> Arc<dyn BackendFactory> {
            Arc::new(CpuFactory {
                config: self.cpu.clone(),
            })
        };
        // After a sticky fault only a new process gets the GPU back: each generation runs in
        // its own device host (see `crate::isolated`).
        let cuda = || -> Result<Arc<dyn BackendFactory>, Error> {
            Ok(Arc::new(IsolatedCudaFactory::new(
                device_host_program()?,
                &CudaConfig::default(),
            )))
        };
        match self.backend {
            Backend::Cpu => Ok((cpu(), None)),
            Backend::Cuda => Ok((cuda()?, None)),
            Backend::MultiCuda => Err(Error::Recovery(
                "recovery from device faults is not available on Backend::MultiCuda".into(),
            )),
            // The probe's context is released before the device host opens its own.
            Backend::Auto => match ringkernel_cuda::driver::open_context(0) {
                Ok(_) => Ok((cuda()?, None)),
                Err(e) => {
                    let reason = e.to_string();
                    tracing::info!(reason = %reason, "Backend::Auto: CUDA not used, running on the CPU");
                    Ok((cpu(), Some(reason)))
                }
            },
        }
    }

    fn finish_recoverable(
        self,
        factory: Arc<dyn BackendFactory>,
        fallback_reason: Option<String>,
    ) -> Result<Runtime, Error> {
        let policy = self.recovery.unwrap_or_default();
        let switch = Arc::new(Switch::new(factory.build(&self.types)?));
        let recoverer = Recoverer::new(switch.clone(), factory, self.types.clone(), policy);
        let mut rt = self.finish(switch, fallback_reason, None)?;
        rt.start_recovery(recoverer)?;
        Ok(rt)
    }

    /// Builds the runtime over a backend built elsewhere (another backend, a test double). It
    /// must serve the registered actor types by registration index; the
    /// [`backend`](Self::backend) choice and the CPU settings other than
    /// [`mailbox_capacity`](Self::mailbox_capacity) (used for memory accounting) are ignored.
    pub fn build_with_backend(self, backend: Arc<dyn ActorBackend>) -> Result<Runtime, Error> {
        if let Some(e) = self.error {
            return Err(e);
        }
        self.finish(backend, None, None)
    }

    fn finish(
        self,
        backend: Arc<dyn ActorBackend>,
        fallback_reason: Option<String>,
        multi: Option<Arc<ringkernel_cuda::MultiGpuBackend>>,
    ) -> Result<Runtime, Error> {
        let mailbox = (self.cpu.mailbox_capacity as u64).saturating_mul(ENVELOPE_SIZE as u64);
        let type_bytes = self
            .types
            .iter()
            .map(|t| (t.state_size as u64).saturating_add(mailbox))
            .collect();
        let resilience = Resilience::start(self.resilience, backend.clone(), type_bytes);
        let resilience = match resilience {
            Ok(r) => r,
            Err(e) => {
                // The backend is running: stop it before reporting.
                let _ = backend.shutdown(crate::runtime::DROP_SHUTDOWN_DEADLINE);
                return Err(e);
            }
        };
        let names = self.types.iter().map(|vt| vt.name).collect();
        Ok(Runtime::new(
            backend,
            self.index,
            names,
            self.ask_timeout,
            fallback_reason,
            multi,
            resilience,
        ))
    }
}
