//! [`MultiGpuBackend`]: construction, the route tables, and the `ActorBackend` operations.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard};
use std::time::Duration;

use ringkernel_core::events::EventQueue;
use ringkernel_core::{
    ActorBackend, ActorId, ActorVTable, BackendKind, BackendSignals, DeadLetter, DeadLetterCounts,
    Envelope, Hlc, LifecycleState, PendingReply, SendError, ShutdownError, ShutdownReport,
    SpawnError, SpawnOptions,
};

use super::placement::{self, GpuLoad, Placement};
use super::tools::Tools;
use super::topology::{self, Topology};
use crate::config::CudaConfig;
use crate::device::MemberSlot;
use crate::error::CudaError;
use crate::layout::route;
use crate::nvrtc::NvrtcCompiler;
use crate::CudaBackend;

/// Configuration of a [`MultiGpuBackend`].
#[derive(Debug, Clone)]
pub struct MultiGpuConfig {
    /// CUDA ordinals of the GPUs to span; empty: every GPU of the host.
    pub ordinals: Vec<usize>,
    /// Configuration of each GPU's persistent kernel (its `device_ordinal` is ignored). The
    /// inbox capacity must be the same on every GPU, and is, since it comes from here.
    pub per_gpu: CudaConfig,
    /// Where [`ActorBackend::spawn`] places actors.
    pub placement: Placement,
}

impl Default for MultiGpuConfig {
    fn default() -> Self {
        MultiGpuConfig {
            ordinals: Vec::new(),
            per_gpu: CudaConfig::default(),
            placement: Placement::LeastLoaded,
        }
    }
}

/// One GPU of the runtime.
#[derive(Debug)]
pub(super) struct Member {
    pub(super) backend: CudaBackend,
    pub(super) tools: Tools,
    pub(super) ordinal: usize,
    pub(super) live: AtomicUsize,
}

/// Where an actor lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Route {
    pub(super) gpu: usize,
    pub(super) local: ActorId,
    pub(super) type_index: usize,
}

/// Actors on several GPUs behind one `ActorBackend` (see the module docs of `multi`).
#[derive(Debug)]
pub struct MultiGpuBackend {
    pub(super) members: Vec<Member>,
    pub(super) topology: Topology,
    /// By runtime-wide id. A send holds the read lock while it forwards, so a migration (which
    /// takes the write lock) waits for sends in progress and holds new ones until the swap.
    pub(super) routes: Vec<RwLock<Option<Route>>>,
    next_id: AtomicU32,
    placement: Placement,
    shut_down: AtomicBool,
    /// Held by a migration from start to end: they share each GPU's staging buffers.
    pub(super) migrating: std::sync::Mutex<()>,
    /// Every GPU's actor events, with runtime-wide ids.
    events: Arc<EventQueue>,
}

impl MultiGpuBackend {
    /// Launches one persistent kernel per GPU, enables peer access between every pair, and
    /// fills every GPU's peer directory.
    pub fn new(types: &[ActorVTable], config: MultiGpuConfig) -> Result<Self, CudaError> {
        let topology = Topology::probe()?;
        let ordinals: Vec<usize> = if config.ordinals.is_empty() {
            (0..topology.gpus().len()).collect()
        } else {
            config.ordinals.clone()
        };
        if ordinals.is_empty() || ordinals.len() > route::MAX_GPUS {
            return Err(CudaError::Config(format!(
                "a multi-GPU runtime spans 1 to {} GPUs, {} given",
                route::MAX_GPUS,
                ordinals.len()
            )));
        }
        for (i, &o) in ordinals.iter().enumerate() {
            if o >= topology.gpus().len() {
                return Err(CudaError::NoDevice {
                    ordinal: o,
                    count: topology.gpus().len(),
                });
            }
            if ordinals[..i].contains(&o) {
                return Err(CudaError::Config(format!("GPU {o} listed twice")));
            }
        }
        // Handlers claim slots of other GPUs' inboxes with atomics, which are atomic across the
        // link only where the driver reports native peer atomics (NVLink here).
        for &a in &ordinals {
            for &b in &ordinals {
                match topology.link(a, b) {
                    _ if a == b => {}
                    Some(l) if l.access && l.native_atomics => {}
                    Some(l) if l.access => return Err(CudaError::NoPeerAtomics { from: a, to: b }),
                    _ => return Err(CudaError::NoPeerAccess { from: a, to: b }),
                }
            }
        }
        // Everything that allocates or touches context state happens before any persistent
        // kernel starts: pinned allocations wait for a context's running kernels.
        let mut contexts = Vec::with_capacity(ordinals.len());
        let mut blocks = Vec::with_capacity(ordinals.len());
        for &o in &ordinals {
            let ctx = crate::driver::open_context(o)?;
            let info = crate::driver::device_info(&ctx)?;
            blocks.push(config.per_gpu.blocks.unwrap_or(info.sm_count) as usize);
            contexts.push(ctx);
        }
        for (i, a) in contexts.iter().enumerate() {
            for (j, b) in contexts.iter().enumerate() {
                if i != j {
                    topology::enable_peer_access(a, b)?;
                }
            }
        }
        let info = crate::driver::device_info(&contexts[0])?;
        let arch = info.arch();
        let ptx = NvrtcCompiler::discover()?.compile(
            "ringkernel_migrate.cu",
            &crate::program::migrate_source(),
            &arch,
            &[],
        )?;
        let inbox_slots = u64::from(config.per_gpu.k2k_capacity);
        let state_bytes = crate::program::state_stride(types);
        let tools = contexts
            .iter()
            .map(|ctx| Tools::load(ctx, &ptx, inbox_slots, state_bytes))
            .collect::<Result<Vec<_>, _>>()?;
        // Route table size: every block of every GPU (blocks are never reused).
        let route_count: usize = blocks.iter().sum();
        // One host clock for every GPU: host sends are stamped in one causal order.
        let hlc = Arc::new(Hlc::default());
        let events = Arc::new(EventQueue::default());
        let mut members = Vec::with_capacity(ordinals.len());
        for (gpu_index, (&ordinal, tools)) in ordinals.iter().zip(tools).enumerate() {
            let cfg = CudaConfig {
                device_ordinal: ordinal,
                ..config.per_gpu.clone()
            };
            let slot = MemberSlot {
                gpu_index,
                route_count,
            };
            members.push(Member {
                backend: CudaBackend::launch(
                    types,
                    cfg,
                    Some((slot, hlc.clone(), events.clone())),
                )?,
                tools,
                ordinal,
                live: AtomicUsize::new(0),
            });
        }
        let directory: Vec<_> = members
            .iter()
            .map(|m| m.backend.device().peer_entry())
            .collect();
        for m in &members {
            m.backend.device().write_peers(&directory)?;
        }
        let runtime = MultiGpuBackend {
            members,
            topology,
            routes: (0..route_count).map(|_| RwLock::new(None)).collect(),
            next_id: AtomicU32::new(0),
            placement: config.placement,
            shut_down: AtomicBool::new(false),
            migrating: std::sync::Mutex::new(()),
            events,
        };
        // Every GPU's memory exists: start the kernels. If one fails to start, dropping
        // `runtime` stops the ones already running before anything is freed.
        for m in &runtime.members {
            m.backend.device().start()?;
        }
        tracing::info!(gpus = ?ordinals, route_count, "multi-GPU runtime launched");
        Ok(runtime)
    }

    /// Whether shutdown has begun.
    pub(super) fn is_shut_down(&self) -> bool {
        self.shut_down.load(Ordering::Acquire)
    }

    /// GPUs in the runtime.
    pub fn gpu_count(&self) -> usize {
        self.members.len()
    }

    /// The CUDA ordinal of the runtime's GPU `gpu`.
    pub fn ordinal(&self, gpu: usize) -> Option<usize> {
        self.members.get(gpu).map(|m| m.ordinal)
    }

    /// The host's GPUs and links, as probed at construction.
    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    /// The backend of the runtime's GPU `gpu` (its counters, health, device name).
    pub fn gpu(&self, gpu: usize) -> Option<&CudaBackend> {
        self.members.get(gpu).map(|m| &m.backend)
    }

    /// Which GPU (index in the runtime) actor `id` lives on now.
    pub fn gpu_of(&self, id: ActorId) -> Option<usize> {
        self.route(id).ok().and_then(|r| r.map(|r| r.gpu))
    }

    /// Live actors and free blocks per GPU.
    pub fn loads(&self) -> Vec<GpuLoad> {
        self.members
            .iter()
            .map(|m| GpuLoad {
                ordinal: m.ordinal,
                live: m.live.load(Ordering::Relaxed),
                free: m.backend.free_blocks(),
            })
            .collect()
    }

    /// Spawns an actor where `placement` says.
    pub fn spawn_placed(
        &self,
        type_index: usize,
        state: &[u8],
        placement: Placement,
    ) -> Result<ActorId, SpawnError> {
        self.spawn_placed_with(type_index, state, placement, &SpawnOptions::default())
    }

    /// [`Self::spawn_placed`] with options (an in-place restart policy moves with the actor
    /// when it migrates).
    pub fn spawn_placed_with(
        &self,
        type_index: usize,
        state: &[u8],
        placement: Placement,
        options: &SpawnOptions,
    ) -> Result<ActorId, SpawnError> {
        let policy = crate::backend::device_policy(options)?;
        if self.shut_down.load(Ordering::Acquire) {
            return Err(SpawnError::ShutDown);
        }
        let gpu = placement::choose(placement, &self.loads(), &self.topology).ok_or(
            SpawnError::TooManyActors {
                limit: self.routes.len(),
            },
        )?;
        let m = &self.members[gpu];
        let local = m.backend.reserve_block(type_index, Some(state.len()))?;
        let raw = self.next_id.fetch_add(1, Ordering::Relaxed);
        if raw as usize >= self.routes.len() {
            return Err(SpawnError::TooManyActors {
                limit: self.routes.len(),
            });
        }
        let id = ActorId::from_raw(raw);
        let backend_err = |e: CudaError| SpawnError::Backend(e.to_string());
        m.backend.place_state(local, state, policy)?;
        let entry = route::encode(gpu, local.raw())
            .ok_or_else(|| SpawnError::Backend(format!("block {local} does not fit a route")))?;
        // Device routes first: a handler may send to the id as soon as anyone knows it.
        for other in &self.members {
            other
                .backend
                .device()
                .write_route(raw, entry)
                .map_err(backend_err)?;
        }
        if let Err(e) = m.backend.activate(local, type_index, raw, None) {
            // Nobody was told the id yet: take its routes back (best effort; a failed write
            // leaves a route to a dormant block, which device senders see as unknown anyway).
            for other in &self.members {
                let _ = other.backend.device().write_route(raw, route::NONE);
            }
            return Err(e);
        }
        *write(&self.routes[raw as usize]) = Some(Route {
            gpu,
            local,
            type_index,
        });
        m.live.fetch_add(1, Ordering::Relaxed);
        Ok(id)
    }

    /// The route of `id` under its read lock (held while the caller forwards).
    fn route(&self, id: ActorId) -> Result<RwLockReadGuard<'_, Option<Route>>, SendError> {
        if self.shut_down.load(Ordering::Acquire) {
            return Err(SendError::ShutDown);
        }
        let lock = self
            .routes
            .get(id.raw() as usize)
            .ok_or(SendError::UnknownActor(id))?;
        Ok(read(lock))
    }

    /// Runs `f` with the backend and local id of `id`, mapping local ids in its error back.
    fn forward<T>(
        &self,
        id: ActorId,
        f: impl FnOnce(&CudaBackend, ActorId) -> Result<T, SendError>,
    ) -> Result<T, SendError> {
        let guard = self.route(id)?;
        let r = (*guard).ok_or(SendError::UnknownActor(id))?;
        f(&self.members[r.gpu].backend, r.local).map_err(|e| rename(e, id))
    }
}

impl Drop for MultiGpuBackend {
    fn drop(&mut self) {
        // Every GPU's kernel must be gone before any member's memory is freed: freeing pinned
        // memory waits for the running kernels of every context, so dropping the first member
        // while the second one's kernel still runs would wait forever.
        if !self.shut_down.load(Ordering::Acquire) {
            if let Err(e) = self.shutdown(Duration::from_secs(5)) {
                tracing::error!("multi-GPU shutdown on drop failed: {e}");
            }
        }
        if self.members.iter().any(|m| !m.backend.device().exited()) {
            tracing::error!("a persistent kernel still runs at drop; leaking every GPU's memory");
            for m in std::mem::take(&mut self.members) {
                std::mem::forget(m);
            }
        }
    }
}

/// Replaces the local id in a member's error by the runtime-wide one.
fn rename(e: SendError, id: ActorId) -> SendError {
    match e {
        SendError::Full(_) => SendError::Full(id),
        SendError::UnknownActor(_) => SendError::UnknownActor(id),
        SendError::Stopped(_) => SendError::Stopped(id),
        SendError::WrongMessageType { type_id, .. } => {
            SendError::WrongMessageType { actor: id, type_id }
        }
        other => other,
    }
}

pub(super) fn read<T>(l: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|e| e.into_inner())
}

pub(super) fn write<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|e| e.into_inner())
}

impl ActorBackend for MultiGpuBackend {
    fn kind(&self) -> BackendKind {
        BackendKind::Cuda
    }

    fn description(&self) -> String {
        let ordinals: Vec<usize> = self.members.iter().map(|m| m.ordinal).collect();
        let link = self
            .topology
            .weakest_link(&ordinals)
            .map_or("one GPU".to_string(), |k| format!("{k:?}"));
        format!(
            "cuda x{}: {} ({link})",
            self.members.len(),
            self.members
                .iter()
                .map(|m| m.backend.device_name().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )
    }

    fn spawn(&self, type_index: usize, state: &[u8]) -> Result<ActorId, SpawnError> {
        self.spawn_placed(type_index, state, self.placement)
    }

    fn spawn_with(
        &self,
        type_index: usize,
        state: &[u8],
        options: &SpawnOptions,
    ) -> Result<ActorId, SpawnError> {
        self.spawn_placed_with(type_index, state, self.placement, options)
    }

    fn tell(&self, mut env: Envelope) -> Result<(), SendError> {
        let id = env.receiver();
        self.forward(id, |b, local| {
            env.header.receiver = local.raw();
            b.tell(env)
        })
    }

    fn tell_batch(&self, envs: &[Envelope]) -> Result<usize, SendError> {
        let Some(first) = envs.first() else {
            return Ok(0);
        };
        let id = first.receiver();
        if envs.iter().any(|e| e.receiver() != id) {
            return ringkernel_core::backend::tell_each(self, envs);
        }
        self.forward(id, |b, local| {
            let batch: Vec<Envelope> = envs
                .iter()
                .map(|e| {
                    let mut e = *e;
                    e.header.receiver = local.raw();
                    e
                })
                .collect();
            b.tell_batch(&batch)
        })
    }

    fn ask(&self, mut env: Envelope) -> Result<PendingReply, SendError> {
        let id = env.receiver();
        self.forward(id, |b, local| {
            env.header.receiver = local.raw();
            b.ask(env)
        })
    }

    fn stop(&self, id: ActorId) -> Result<(), SendError> {
        let guard = self.route(id)?;
        let r = (*guard).ok_or(SendError::UnknownActor(id))?;
        self.members[r.gpu]
            .backend
            .stop(r.local)
            .map_err(|e| rename(e, id))?;
        // It no longer counts toward its GPU's load (its block stays taken).
        self.members[r.gpu].live.fetch_sub(1, Ordering::Relaxed);
        Ok(())
    }

    fn restart(&self, id: ActorId, state: &[u8]) -> Result<(), SpawnError> {
        let guard = self.route(id).map_err(|_| SpawnError::UnknownActor(id))?;
        let r = (*guard).ok_or(SpawnError::UnknownActor(id))?;
        let m = &self.members[r.gpu];
        let was = m.backend.state_of(r.local);
        m.backend
            .restart(r.local, state)
            .inspect(|()| {
                // A stopped actor counts toward its GPU's load again.
                if was == Some(LifecycleState::Terminated) {
                    m.live.fetch_add(1, Ordering::Relaxed);
                }
            })
            .map_err(|e| match e {
                SpawnError::UnknownActor(_) => SpawnError::UnknownActor(id),
                SpawnError::NotRestartable { state, .. } => {
                    SpawnError::NotRestartable { actor: id, state }
                }
                other => other,
            })
    }

    fn state_of(&self, id: ActorId) -> Option<LifecycleState> {
        let guard = self.routes.get(id.raw() as usize).map(read)?;
        let r = (*guard)?;
        self.members[r.gpu].backend.state_of(r.local)
    }

    fn shutdown(&self, deadline: Duration) -> Result<ShutdownReport, ShutdownError> {
        if self.shut_down.swap(true, Ordering::AcqRel) {
            return Err(ShutdownError::AlreadyShutDown);
        }
        // No migration runs from here on (it takes this lock and then sees `shut_down`).
        drop(self.migrating.lock().unwrap_or_else(|e| e.into_inner()));
        let until = ringkernel_core::deadline_after(deadline);
        // Every GPU stops before any counts what is left in its inboxes: a handler on one GPU
        // may send to another until its own kernel has exited.
        let mut first_err = None;
        for m in &self.members {
            // A member shut down on its own (through `gpu()`) is simply done already.
            match m.backend.begin_shutdown(until) {
                Ok(()) | Err(ShutdownError::AlreadyShutDown) => {}
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
        }
        let exits: Vec<_> = self
            .members
            .iter()
            .map(|m| m.backend.wait_shutdown(until))
            .collect();
        let mut report = ShutdownReport::default();
        for (m, exited) in self.members.iter().zip(exits) {
            match m.backend.shutdown_report(exited, deadline) {
                Ok(r) => {
                    report.processed += r.processed;
                    report.dropped += r.dropped;
                }
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
        }
        match first_err {
            Some(e) => Err(e),
            None => Ok(report),
        }
    }

    fn drain_dead_letters(&self) -> Vec<DeadLetter> {
        let mut all: Vec<DeadLetter> = self
            .members
            .iter()
            .flat_map(|m| m.backend.drain_dead_letters())
            .collect();
        all.sort_by_key(|d| d.recorded.raw());
        all
    }

    fn events(&self) -> Option<Arc<EventQueue>> {
        Some(self.events.clone())
    }

    fn signals(&self) -> BackendSignals {
        let mut all = BackendSignals::default();
        let mut live = ringkernel_core::health::Liveness::default();
        for m in &self.members {
            let s = m.backend.signals();
            all.max_queue_fill = all.max_queue_fill.max(s.max_queue_fill);
            // The GPU with the least free memory, relatively, speaks for the runtime.
            all.device_memory = match (all.device_memory, s.device_memory) {
                (Some((f0, t0)), Some((f1, t1))) => Some(
                    if (f1 as f64 / t1.max(1) as f64) < (f0 as f64 / t0.max(1) as f64) {
                        (f1, t1)
                    } else {
                        (f0, t0)
                    },
                ),
                (a, b) => a.or(b),
            };
            all.allocated += s.allocated;
            if let Some(l) = s.liveness {
                live.live_blocks += l.live_blocks;
                live.blocks += l.blocks;
                live.exited_blocks += l.exited_blocks;
            }
            all.hung.extend(s.hung);
            all.device_fault = all.device_fault.or(s.device_fault);
        }
        all.liveness = Some(live);
        all
    }

    fn fault(&self) -> Option<String> {
        self.members.iter().find_map(|m| m.backend.fault())
    }

    fn dead_letter_counts(&self) -> DeadLetterCounts {
        self.members
            .iter()
            .map(|m| m.backend.dead_letter_counts())
            .fold(DeadLetterCounts::default(), |a, c| DeadLetterCounts {
                unknown_target: a.unknown_target + c.unknown_target,
                stopped: a.stopped + c.stopped,
                rejected: a.rejected + c.rejected,
                full: a.full + c.full,
                expired: a.expired + c.expired,
                discarded: a.discarded + c.discarded,
            })
    }
}
