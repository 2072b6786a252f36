//! [`CudaBackend`]: the `ActorBackend` that runs actors inside one persistent kernel.
//!
//! Host side: one [`H2dProducer`](crate::host_ring::H2dProducer) per actor block (its mailbox), one reply poller thread that
//! drains the device→host ring and completes asks, and a table of actors. Device side:
//! `kernels/persistent.cu`. The semantics are those of `docs/semantics.md`.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ringkernel_core::envelope::flags;
use ringkernel_core::events::{ActorEvent, EventQueue};
use ringkernel_core::reply::{reply_pair, ReplyDriver, ReplyOutcome, ReplySlot};
use ringkernel_core::{
    ActorBackend, ActorId, ActorVTable, AskError, BackendKind, BackendSignals, DeadLetter,
    DeadLetterCounts, DeadLetterReason, Envelope, HandlerError, Hlc, HlcTimestamp, LifecycleState,
    PendingReply, SendError, ShutdownError, ShutdownReport, SpawnError, SpawnOptions,
};

use crate::actors::{pack_policy, unpack_policy, ActorTable};
use crate::config::CudaConfig;
use crate::device::MemberSlot;
use crate::device::{DeviceRuntime, KernelHealth};
use crate::error::CudaError;
use crate::host_ring::D2hConsumer;
use crate::layout::{
    actor_mode, control, ActorEntry, FailurePayload, StartPayload, MAX_DEVICE_RESTARTS,
};

mod fault;
mod member;
mod snapshot;
mod watch;

/// Asks waiting for replies, by correlation id.
type PendingMap = HashMap<u64, (ActorId, Arc<ReplySlot>), BuildHasherDefault<CorrelationHasher>>;

/// Hashes a correlation id with one multiply. Ids are our own sequential counter, never user
/// input, so SipHash's flooding resistance buys nothing here and costs ~20 ns twice per ask.
#[derive(Debug, Default)]
struct CorrelationHasher(u64);

impl Hasher for CorrelationHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(*b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u64(&mut self, v: u64) {
        // Fibonacci hashing: spreads sequential ids over the high bits hashbrown uses.
        self.0 = v.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// State shared by the API and the reply poller.
#[derive(Debug)]
struct Shared {
    dev: DeviceRuntime,
    types: Vec<ActorVTable>,
    actors: ActorTable,
    /// The host's clock; shared by every GPU of a multi-GPU runtime, so host sends to actors on
    /// different GPUs are stamped in one causal order.
    hlc: Arc<Hlc>,
    pending: Mutex<PendingMap>,
    pending_count: AtomicUsize,
    max_pending: usize,
    next_correlation: AtomicU64,
    /// Set once shutdown starts; sends are refused from then on.
    closing: AtomicBool,
    /// Set once the kernel has exited (or shutdown gave up); tells the poller to finish.
    finished: AtomicBool,
    /// Replies whose HLC was rejected for skew (the reply is still delivered).
    skewed_replies: AtomicU64,
    /// The device→host ring's single consumer. Whoever holds the lock drains it: the poller
    /// thread, or a blocking asker pumping it while it spins (see [`ReplyDriver`]).
    reader: Mutex<ReplyReader>,
    /// Blocking askers currently pumping `reader`; while any is, the poller stays off the lock.
    drivers: AtomicUsize,
    /// Dead letters drained from the device, for [`ActorBackend::drain_dead_letters`].
    dead: Mutex<DeadLetters>,
    /// Whether blocking asks pump the reply ring themselves ([`CudaConfig::caller_drives_replies`]).
    caller_drives: bool,
    /// The latest answer to MIGRATE by block: the request's token, and the K2K inbox head of
    /// the frozen actor with its clock (the notice's HLC), or `None` when the actor was not
    /// active (see `member.rs`).
    frozen: Mutex<HashMap<u32, FrozenAnswer>>,
    /// Failures, in-place restarts and terminations, for supervisors (shared by every GPU of a
    /// multi-GPU runtime, with public ids).
    events: Arc<EventQueue>,
    /// The heartbeat watch behind [`ActorBackend::signals`].
    watch: Mutex<watch::Watch>,
    /// The latest SNAPSHOTTED answer by block: (token, inbox messages copied).
    snapshots: Mutex<HashMap<u32, (u64, u64)>>,
    /// Held by a snapshot from request to copy-out (see `snapshot.rs`).
    snapshot_lock: Mutex<()>,
}

/// An answer to MIGRATE: the request's token, and (inbox head, clock) of the frozen actor, or
/// `None` when it was not active.
type FrozenAnswer = (u64, Option<(u64, u64)>);

/// Dead letters the host holds (the newest [`DEAD_LETTERS_HELD`]) and counts (all).
#[derive(Debug, Default)]
struct DeadLetters {
    held: VecDeque<DeadLetter>,
    counts: DeadLetterCounts,
}

/// How many dead letters the host keeps for inspection; older ones are counted as discarded.
const DEAD_LETTERS_HELD: usize = 4096;

impl DeadLetters {
    fn record(&mut self, letter: DeadLetter) {
        self.counts.count(letter.reason);
        if self.held.len() == DEAD_LETTERS_HELD {
            self.held.pop_front();
            self.counts.discarded += 1;
        }
        self.held.push_back(letter);
    }
}

/// The reply ring's consumer plus a reusable buffer.
#[derive(Debug)]
struct ReplyReader {
    consumer: D2hConsumer,
    buf: Vec<Envelope>,
}

impl ReplyReader {
    /// Drains up to `max` envelopes and handles each; returns how many.
    fn pump(&mut self, s: &Shared, max: usize) -> usize {
        self.buf.clear();
        let n = self.consumer.poll(&mut self.buf, max);
        for env in &self.buf {
            handle_device_message(s, env);
        }
        n
    }
}

impl Shared {
    /// The id callers know block `local`'s actor by (itself on one GPU).
    fn public_id(&self, local: ActorId) -> ActorId {
        self.actors.slot(local).map_or(local, |e| {
            ActorId::from_raw(e.public_id.load(Ordering::Acquire))
        })
    }
}

impl ReplyDriver for Shared {
    fn enter(&self) {
        self.drivers.fetch_add(1, Ordering::AcqRel);
    }

    fn drive(&self) {
        // Never wait for the lock: if the poller (or another asker) holds it, it is draining the
        // ring for us, and our reply lands in our slot either way.
        if let Ok(mut r) = self.reader.try_lock() {
            r.pump(self, 256);
        }
    }

    fn leave(&self) {
        self.drivers.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A runtime's persistent kernel on one GPU.
#[derive(Debug)]
pub struct CudaBackend {
    shared: Arc<Shared>,
    poller: Mutex<Option<JoinHandle<()>>>,
    shut_down: AtomicBool,
}

impl CudaBackend {
    /// Compiles the registered handlers, launches the persistent kernel and starts the reply poller.
    pub fn new(types: &[ActorVTable], config: CudaConfig) -> Result<Self, CudaError> {
        Self::launch(types, config, None)
    }

    /// [`CudaBackend::new`], as a member of a multi-GPU runtime (with the runtime's host clock)
    /// when `slot` is given.
    pub(crate) fn launch(
        types: &[ActorVTable],
        config: CudaConfig,
        slot: Option<(MemberSlot, Arc<Hlc>, Arc<EventQueue>)>,
    ) -> Result<Self, CudaError> {
        if types.is_empty() {
            return Err(CudaError::Config("register at least one actor type".into()));
        }
        let (dev, consumer) = DeviceRuntime::launch(types, &config, slot.as_ref().map(|s| s.0))?;
        let reader = Mutex::new(ReplyReader {
            consumer,
            buf: Vec::with_capacity(256),
        });
        let blocks = dev.blocks() as usize;
        let (hlc, events) = match slot {
            Some((_, hlc, events)) => (hlc, events),
            None => (Arc::default(), Arc::default()),
        };
        let watch = Mutex::new(watch::Watch::new(config.watchdog, config.heartbeat));
        let shared = Arc::new(Shared {
            dev,
            types: types.to_vec(),
            actors: ActorTable::new(blocks),
            hlc,
            pending: Mutex::new(PendingMap::default()),
            pending_count: AtomicUsize::new(0),
            max_pending: config.max_pending_asks,
            next_correlation: AtomicU64::new(1),
            closing: AtomicBool::new(false),
            finished: AtomicBool::new(false),
            skewed_replies: AtomicU64::new(0),
            reader,
            drivers: AtomicUsize::new(0),
            dead: Mutex::new(DeadLetters::default()),
            caller_drives: config.caller_drives_replies,
            frozen: Mutex::new(HashMap::new()),
            events,
            watch,
            snapshots: Mutex::new(HashMap::new()),
            snapshot_lock: Mutex::new(()),
        });
        let poller_shared = shared.clone();
        let poller = std::thread::Builder::new()
            .name("ringkernel-cuda-replies".into())
            .spawn(move || poll_replies(&poller_shared))
            .map_err(|e| CudaError::Config(format!("cannot start reply poller: {e}")))?;
        Ok(CudaBackend {
            shared,
            poller: Mutex::new(Some(poller)),
            shut_down: AtomicBool::new(false),
        })
    }

    /// Blocks in the persistent grid (= most actors).
    pub fn blocks(&self) -> u32 {
        self.shared.dev.blocks()
    }

    /// The GPU's compute capability (major, minor).
    pub fn compute_capability(&self) -> (u32, u32) {
        let (major, minor) = self.shared.dev.info().compute_capability;
        (major.max(0) as u32, minor.max(0) as u32)
    }

    /// The GPU's marketing name.
    pub fn device_name(&self) -> &str {
        &self.shared.dev.info().name
    }

    /// Liveness from the device heartbeats: samples them twice, `window` apart.
    pub fn health(&self, window: Duration) -> Result<KernelHealth, CudaError> {
        self.shared.dev.health(window)
    }

    /// Messages consumed, processed and dropped so far, summed over blocks (as of their last
    /// heartbeat).
    pub fn counters(&self) -> (u64, u64, u64) {
        self.shared.dev.counters()
    }

    /// Idle polls of all blocks so far (each reads one 128-byte slot over PCIe).
    pub fn idle_polls(&self) -> u64 {
        self.shared.dev.idle_polls()
    }

    /// `clock64` cycles the blocks spent serving batches, summed (as of their last heartbeat):
    /// with [`CudaBackend::counters`], the device's share of a message's latency.
    pub fn service_cycles(&self) -> crate::device::ServiceCycles {
        self.shared.dev.service_cycles()
    }

    /// K2K inbox waits summed over blocks (as of their last heartbeat): total ns from a message's
    /// publication to its target taking it, and how many messages that covers.
    pub fn k2k_waits(&self) -> (u64, u64) {
        self.shared.dev.k2k_waits()
    }

    /// The device's nominal SM clock in kHz (0 if unknown), to convert [`Self::service_cycles`].
    pub fn clock_khz(&self) -> u32 {
        self.shared.dev.info().clock_khz
    }

    /// Replies whose timestamp was rejected by the host clock's skew bound.
    pub fn skewed_replies(&self) -> u64 {
        self.shared.skewed_replies.load(Ordering::Relaxed)
    }

    /// Checks a spawn of `type_index` (with a state of `state_len` bytes when given) and
    /// reserves a block for it; the caller fills the block's state, then calls [`Self::activate`].
    pub(crate) fn reserve_block(
        &self,
        type_index: usize,
        state_len: Option<usize>,
    ) -> Result<ActorId, SpawnError> {
        let s = &self.shared;
        if s.closing.load(Ordering::Acquire) {
            return Err(SpawnError::ShutDown);
        }
        let vt = s
            .types
            .get(type_index)
            .ok_or(SpawnError::NotRegistered("<unknown type index>"))?;
        if let Some(len) = state_len {
            if len != vt.state_size {
                return Err(SpawnError::BadState {
                    len,
                    expected: vt.state_size,
                });
            }
        }
        s.actors.reserve().ok_or(SpawnError::TooManyActors {
            limit: s.actors.capacity(),
        })
    }

    /// Starts the actor of a reserved block whose state is in place: publishes it for device
    /// senders and queues its START. Handlers see `device_id` as its id. `clock_floor`: an HLC
    /// timestamp the actor's clock must pass (a migrated actor's clock where it left off), so
    /// its timestamps keep increasing across the move.
    pub(crate) fn activate(
        &self,
        id: ActorId,
        type_index: usize,
        device_id: u32,
        clock_floor: Option<u64>,
    ) -> Result<(), SpawnError> {
        let s = &self.shared;
        let vt = s
            .types
            .get(type_index)
            .ok_or(SpawnError::NotRegistered("<unknown type index>"))?;
        // Published before START so a device send right after this returns finds the actor
        // (its messages wait in the inbox until START).
        s.dev
            .publish_actor(
                id.raw() as usize,
                ActorEntry {
                    mode: actor_mode::ACTIVE,
                    type_index: type_index as u32,
                    msg_type: vt.msg_type.0,
                    msg_size: vt.msg_size as u32,
                },
            )
            .map_err(|e| SpawnError::Backend(e.to_string()))?;
        self.queue_start(id, type_index, vt, device_id, clock_floor)
    }

    /// Queues the START of a reserved block's actor and marks it active on the host.
    fn queue_start(
        &self,
        id: ActorId,
        type_index: usize,
        vt: &ActorVTable,
        device_id: u32,
        clock_floor: Option<u64>,
    ) -> Result<(), SpawnError> {
        let s = &self.shared;
        let block = id.raw() as usize;
        let entry = s.actors.slot(id).ok_or(SpawnError::TooManyActors {
            limit: s.actors.capacity(),
        })?;
        entry.type_index.store(type_index as u32, Ordering::Release);
        entry.public_id.store(device_id, Ordering::Release);
        let (restart_max, restart_period_ms) =
            unpack_policy(entry.restart_policy.load(Ordering::Acquire));
        let start = StartPayload {
            type_index: type_index as u32,
            actor_id: id.raw(),
            msg_type: vt.msg_type.0,
            msg_size: vt.msg_size as u32,
            device_id,
            restart_max,
            restart_period_ms,
        };
        if let Some(floor) = clock_floor {
            // START carries the host clock, which the block adopts: merge the floor into it.
            let _ = s.hlc.merge(HlcTimestamp::from_raw(floor));
        }
        // A new block's ring is empty; a restarted one's may still hold messages from before
        // the failure, which the failed block drops quickly: wait for room a little.
        let until = Instant::now() + Duration::from_secs(1);
        while !self.control(block, id, control::START, bytemuck::bytes_of(&start)) {
            if Instant::now() >= until {
                return Err(SpawnError::Backend(format!(
                    "mailbox of actor {id} stayed full; START not queued"
                )));
            }
            std::thread::yield_now();
        }
        // Dormant -> Initializing -> Active: messages sent from now on queue behind START.
        let _ = entry.lifecycle.transition(LifecycleState::Initializing);
        let _ = entry.lifecycle.transition(LifecycleState::Active);
        Ok(())
    }

    /// Writes a reserved (or failed/stopped) block's state, and its restart image and policy
    /// (`policy`: a packed [`ActorEntry::restart_policy`](crate::actors::ActorEntry), `None`
    /// for none).
    pub(crate) fn place_state(
        &self,
        id: ActorId,
        state: &[u8],
        policy: Option<u64>,
    ) -> Result<(), SpawnError> {
        let s = &self.shared;
        let block = id.raw() as usize;
        let backend = |e: CudaError| SpawnError::Backend(e.to_string());
        s.dev.write_state(block, state).map_err(backend)?;
        if policy.is_some() {
            s.dev.write_image(block, state).map_err(backend)?;
        }
        if let Some(entry) = s.actors.slot(id) {
            entry
                .restart_policy
                .store(policy.unwrap_or(0), Ordering::Release);
        }
        Ok(())
    }

    fn check_target(&self, env: &Envelope) -> Result<usize, SendError> {
        let s = &self.shared;
        if s.dev.fault().is_some() {
            return Err(SendError::DeviceLost);
        }
        if s.closing.load(Ordering::Acquire) {
            return Err(SendError::ShutDown);
        }
        let id = env.receiver();
        let entry = s.actors.get(id).ok_or(SendError::UnknownActor(id))?;
        if !entry.lifecycle.load().accepts_messages() {
            return Err(SendError::Stopped(id));
        }
        let ti = entry.type_index.load(Ordering::Acquire) as usize;
        let vt = s.types.get(ti).ok_or(SendError::UnknownActor(id))?;
        if env.header.type_id != vt.msg_type.0 || usize::from(env.header.payload_len) != vt.msg_size
        {
            return Err(SendError::WrongMessageType {
                actor: id,
                type_id: env.header.type_id,
            });
        }
        Ok(id.raw() as usize)
    }

    fn control(&self, block: usize, id: ActorId, type_id: u32, payload: &[u8]) -> bool {
        let mut env = match Envelope::from_bytes(
            ActorId::HOST,
            id,
            ringkernel_core::MessageTypeId(type_id),
            payload,
        ) {
            Ok(e) => e,
            Err(_) => return false,
        };
        env.header.flags = flags::CONTROL;
        env.header.hlc = self.shared.hlc.tick().raw();
        self.shared.dev.push(block, &env)
    }
}

impl ActorBackend for CudaBackend {
    fn kind(&self) -> BackendKind {
        BackendKind::Cuda
    }

    fn description(&self) -> String {
        let info = self.shared.dev.info();
        format!(
            "cuda: {} (sm_{}{}, {} SMs, {} actor blocks)",
            info.name,
            info.compute_capability.0,
            info.compute_capability.1,
            info.sm_count,
            self.shared.dev.blocks()
        )
    }

    fn spawn(&self, type_index: usize, state: &[u8]) -> Result<ActorId, SpawnError> {
        self.spawn_with(type_index, state, &SpawnOptions::default())
    }

    fn spawn_with(
        &self,
        type_index: usize,
        state: &[u8],
        options: &SpawnOptions,
    ) -> Result<ActorId, SpawnError> {
        let policy = device_policy(options)?;
        if self.shared.dev.fault().is_some() {
            return Err(SpawnError::DeviceLost);
        }
        let id = self.reserve_block(type_index, Some(state.len()))?;
        self.place_state(id, state, policy)?;
        self.activate(id, type_index, id.raw(), None)?;
        Ok(id)
    }

    fn tell(&self, mut env: Envelope) -> Result<(), SendError> {
        let block = self.check_target(&env)?;
        env.header.flags = 0;
        env.header.correlation = 0;
        env.header.hlc = self.shared.hlc.tick().raw();
        if self.shared.dev.push(block, &env) {
            Ok(())
        } else {
            Err(SendError::Full(env.receiver()))
        }
    }

    fn tell_batch(&self, envs: &[Envelope]) -> Result<usize, SendError> {
        let Some(first) = envs.first() else {
            return Ok(0);
        };
        if envs
            .iter()
            .any(|e| e.header.receiver != first.header.receiver)
        {
            // Mixed receivers: one by one (the trait's contract allows any mix).
            return ringkernel_core::backend::tell_each(self, envs);
        }
        let block = self.check_target(first)?;
        let mut batch = Vec::with_capacity(envs.len());
        // One clock update per up to u16::MAX messages: consecutive timestamps, in order.
        let (mut next_hlc, mut left) = (0u64, 0u64);
        for (i, env) in envs.iter().enumerate() {
            // Same receiver, so the same type check applies; payload lengths could still differ.
            if env.header.type_id != first.header.type_id
                || env.header.payload_len != first.header.payload_len
            {
                return Err(SendError::WrongMessageType {
                    actor: env.receiver(),
                    type_id: env.header.type_id,
                });
            }
            let mut e = *env;
            e.header.flags = 0;
            e.header.correlation = 0;
            if left == 0 {
                let n = u16::try_from(envs.len() - i).unwrap_or(u16::MAX);
                next_hlc = self.shared.hlc.tick_n(n).raw();
                left = u64::from(n);
            }
            e.header.hlc = next_hlc;
            next_hlc += 1;
            left -= 1;
            batch.push(e);
        }
        match self.shared.dev.push_batch(block, &batch) {
            0 => Err(SendError::Full(first.receiver())),
            n => Ok(n),
        }
    }

    fn ask(&self, mut env: Envelope) -> Result<PendingReply, SendError> {
        let block = self.check_target(&env)?;
        let s = &self.shared;
        if s.pending_count.fetch_add(1, Ordering::AcqRel) >= s.max_pending {
            s.pending_count.fetch_sub(1, Ordering::AcqRel);
            return Err(SendError::TooManyPendingAsks(s.max_pending));
        }
        let corr = s.next_correlation.fetch_add(1, Ordering::Relaxed);
        let target = s.public_id(env.receiver());
        let (slot, pending) = reply_pair(target);
        lock(&s.pending).insert(corr, (target, slot));
        // The poller fails waiting asks once the kernel faulted; one registered after that
        // sweep would wait forever.
        if s.dev.fault().is_some() {
            if lock(&s.pending).remove(&corr).is_some() {
                s.pending_count.fetch_sub(1, Ordering::AcqRel);
            }
            return Err(SendError::DeviceLost);
        }
        env.header.flags = flags::ASK;
        env.header.correlation = corr;
        env.header.hlc = s.hlc.tick().raw();
        if s.dev.push(block, &env) {
            Ok(if s.caller_drives {
                pending.with_driver(self.shared.clone())
            } else {
                pending
            })
        } else {
            if lock(&s.pending).remove(&corr).is_some() {
                s.pending_count.fetch_sub(1, Ordering::AcqRel);
            }
            Err(SendError::Full(target))
        }
    }

    fn restart(&self, id: ActorId, state: &[u8]) -> Result<(), SpawnError> {
        let s = &self.shared;
        if s.closing.load(Ordering::Acquire) {
            return Err(SpawnError::ShutDown);
        }
        let entry = s.actors.get(id).ok_or(SpawnError::UnknownActor(id))?;
        let type_index = entry.type_index.load(Ordering::Acquire) as usize;
        let vt = s
            .types
            .get(type_index)
            .ok_or(SpawnError::NotRegistered("<unknown type index>"))?;
        if state.len() != vt.state_size {
            return Err(SpawnError::BadState {
                len: state.len(),
                expected: vt.state_size,
            });
        }
        let now = entry.lifecycle.load();
        if !matches!(now, LifecycleState::Failed | LifecycleState::Terminated) {
            return Err(SpawnError::NotRestartable {
                actor: id,
                state: now,
            });
        }
        // The host saw the failure (or termination) notice, which the block sends after its
        // last handler returned; a failed or stopped block runs no handler, so its state slot
        // (and restart image) are free to overwrite. The image becomes the new state: an
        // in-place restart restores what the actor was last started with.
        // The transition claims the restart: of two racing restarts only one gets past it,
        // and the other must not write its state over the winner's running actor.
        entry
            .lifecycle
            .transition(LifecycleState::Initializing)
            .map_err(|_| SpawnError::NotRestartable {
                actor: id,
                state: entry.lifecycle.load(),
            })?;
        let policy = entry.restart_policy.load(Ordering::Acquire);
        if let Err(e) = self.place_state(id, state, (policy != 0).then_some(policy)) {
            let _ = entry.lifecycle.transition(LifecycleState::Failed);
            return Err(e);
        }
        // A new START in the same block: the kernel keeps running, nothing is relaunched.
        // Messages queued before it (sent before the failure) are dropped by the failed block.
        // No publish first (unlike `activate`): the failed incarnation would take device
        // sends as a failed actor; the block publishes its entry itself when it runs START.
        let public = entry.public_id.load(Ordering::Acquire);
        self.queue_start(id, type_index, vt, public, None)
    }

    fn stop(&self, id: ActorId) -> Result<(), SendError> {
        let s = &self.shared;
        if s.closing.load(Ordering::Acquire) {
            return Err(SendError::ShutDown);
        }
        let entry = s.actors.get(id).ok_or(SendError::UnknownActor(id))?;
        entry
            .lifecycle
            .transition(LifecycleState::Draining)
            .map_err(|_| SendError::Stopped(id))?;
        if self.control(id.raw() as usize, id, control::STOP, &[]) {
            Ok(())
        } else {
            let _ = entry.lifecycle.transition(LifecycleState::Active);
            Err(SendError::Full(id))
        }
    }

    fn state_of(&self, id: ActorId) -> Option<LifecycleState> {
        self.shared.actors.get(id).map(|e| e.lifecycle.load())
    }

    fn events(&self) -> Option<Arc<EventQueue>> {
        Some(self.shared.events.clone())
    }

    fn actors(&self) -> Vec<ActorId> {
        self.shared.actors.started()
    }

    fn type_index_of(&self, id: ActorId) -> Option<usize> {
        self.shared
            .actors
            .get(id)
            .map(|e| e.type_index.load(Ordering::Acquire) as usize)
    }

    fn snapshot(
        &self,
        ids: &[ActorId],
    ) -> Result<Vec<ringkernel_core::checkpoint::ActorSnapshot>, ringkernel_core::SnapshotError>
    {
        self.snapshot_actors(ids)
    }

    fn restore(
        &self,
        type_index: usize,
        snapshot: &ringkernel_core::checkpoint::ActorSnapshot,
    ) -> Result<(), SpawnError> {
        self.restore_actor(type_index, snapshot, &SpawnOptions::default(), None)
    }

    fn restore_with(
        &self,
        type_index: usize,
        snapshot: &ringkernel_core::checkpoint::ActorSnapshot,
        options: &SpawnOptions,
        image: Option<&[u8]>,
    ) -> Result<(), SpawnError> {
        self.restore_actor(type_index, snapshot, options, image)
    }

    fn signals(&self) -> BackendSignals {
        let s = &self.shared;
        let beats = s.dev.heartbeats();
        let (liveness, stalled) = lock(&s.watch).observe(&beats, Instant::now());
        let hung = stalled
            .into_iter()
            .filter(|(b, _)| {
                s.actors
                    .slot(ActorId::from_raw(*b as u32))
                    .is_some_and(|e| e.lifecycle.load() != LifecycleState::Dormant)
            })
            .map(|(b, d)| (s.public_id(ActorId::from_raw(b as u32)), d))
            .collect();
        BackendSignals {
            max_queue_fill: s.dev.max_mailbox_fill(),
            device_memory: s.dev.memory_info().ok(),
            allocated: s.dev.allocated_bytes(),
            liveness: Some(liveness),
            hung,
            device_fault: s.dev.fault().map(str::to_owned),
        }
    }

    fn fault(&self) -> Option<String> {
        self.device_fault()
    }

    fn drain_dead_letters(&self) -> Vec<DeadLetter> {
        lock(&self.shared.dead).held.drain(..).collect()
    }

    fn dead_letter_counts(&self) -> DeadLetterCounts {
        lock(&self.shared.dead).counts
    }

    fn shutdown(&self, deadline: Duration) -> Result<ShutdownReport, ShutdownError> {
        let until = ringkernel_core::deadline_after(deadline);
        self.begin_shutdown(until)?;
        let exited = self.wait_shutdown(until);
        self.shutdown_report(exited, deadline)
    }
}

impl CudaBackend {
    /// Shutdown, step 1: refuse new sends and queue SHUTDOWN behind every block's messages.
    /// (A multi-GPU runtime runs each step on every GPU before the next step, so no GPU counts
    /// its undelivered messages while another may still send to it.)
    pub(crate) fn begin_shutdown(&self, until: Instant) -> Result<(), ShutdownError> {
        if self.shut_down.swap(true, Ordering::AcqRel) {
            return Err(ShutdownError::AlreadyShutDown);
        }
        let s = &self.shared;
        s.closing.store(true, Ordering::Release);
        // Every block leaves its loop after the messages queued before its SHUTDOWN (a faulted
        // kernel has left already: nothing would ever make room for the request).
        let blocks = if s.dev.check_fault().is_some() {
            0
        } else {
            s.dev.blocks() as usize
        };
        for block in 0..blocks {
            while !self.control(block, ActorId::HOST, control::SHUTDOWN, &[]) {
                if Instant::now() >= until {
                    break;
                }
                std::thread::yield_now();
            }
        }
        Ok(())
    }

    /// Shutdown, step 2: wait for the kernel to exit, stop the reply poller, fail the asks
    /// still waiting.
    pub(crate) fn wait_shutdown(&self, until: Instant) -> Result<(), ShutdownError> {
        let s = &self.shared;
        let exited = s.dev.wait_for_exit(until);
        s.finished.store(true, Ordering::Release);
        if let Some(h) = lock(&self.poller).take() {
            let _ = h.join();
        }
        // Normally no ask is left (SHUTDOWN follows every accepted message); one still waiting
        // belongs to a message counted in `unconsumed` below, so it is not counted twice.
        fail_all_pending(s);
        exited
    }

    /// Shutdown, step 3: what was processed and what was left undelivered.
    pub(crate) fn shutdown_report(
        &self,
        exited: Result<(), ShutdownError>,
        deadline: Duration,
    ) -> Result<ShutdownReport, ShutdownError> {
        let s = &self.shared;
        match exited {
            Ok(()) => {
                let (_, processed, dropped) = s.dev.counters();
                // K2K messages still in inboxes were accepted by their senders: report them.
                let k2k_left = s.dev.unconsumed_k2k().unwrap_or_else(|e| {
                    tracing::error!("cannot count undelivered K2K messages: {e}");
                    0
                });
                Ok(ShutdownReport {
                    processed,
                    dropped: dropped + s.dev.unconsumed() + k2k_left,
                })
            }
            Err(ShutdownError::Hung(_, why)) => Err(ShutdownError::Hung(deadline, why)),
            Err(e) => Err(e),
        }
    }
}

impl Drop for CudaBackend {
    fn drop(&mut self) {
        if !self.shut_down.load(Ordering::Acquire) {
            if let Err(e) = self.shutdown(Duration::from_secs(5)) {
                tracing::error!("CUDA backend shutdown on drop failed: {e}");
            }
        }
        if !self.shared.dev.exited() {
            // The kernel still runs and may touch our mapped and device memory: freeing it now
            // would be a use-after-free on the device. Leak it deliberately.
            tracing::error!("persistent kernel still running at drop; leaking its memory");
            std::mem::forget(self.shared.clone());
        }
    }
}

/// The packed device restart policy of `options` (`None`: none), or why the kernel cannot track it.
pub(crate) fn device_policy(options: &SpawnOptions) -> Result<Option<u64>, SpawnError> {
    let Some(intensity) = options.restart else {
        return Ok(None);
    };
    if intensity.max_restarts > MAX_DEVICE_RESTARTS {
        return Err(SpawnError::RestartPolicy {
            asked: intensity.max_restarts,
            max: MAX_DEVICE_RESTARTS,
        });
    }
    if intensity.max_restarts == 0 {
        return Ok(None);
    }
    // At least 1 ms (a zero window would allow every restart), at most u32::MAX ms (~49 days).
    let ms = u32::try_from(intensity.period.as_millis())
        .unwrap_or(u32::MAX)
        .max(1);
    Ok(Some(pack_policy(intensity.max_restarts, ms)))
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Completes every ask still waiting with `Dropped`.
fn fail_all_pending(s: &Shared) {
    fault::fail_pending(s, AskError::Dropped);
}

/// The reply poller: drains the device→host ring until the kernel has exited and the ring is
/// empty. While a blocking asker pumps the ring itself, the poller stays off it (the asker
/// handles every envelope, not just its own reply).
fn poll_replies(s: &Shared) {
    let mut idle_since: Option<Instant> = None;
    let mut checked = Instant::now();
    loop {
        if checked.elapsed() >= fault::CHECK_EVERY {
            checked = Instant::now();
            if fault::check(s) {
                return;
            }
        }
        if s.finished.load(Ordering::Acquire) {
            // One last sweep after the kernel's final writes.
            lock(&s.reader).pump(s, usize::MAX);
            return;
        }
        if s.drivers.load(Ordering::Acquire) > 0 {
            idle_since = None;
            std::thread::yield_now();
            continue;
        }
        let n = match s.reader.try_lock() {
            Ok(mut r) => r.pump(s, 256),
            Err(_) => 0,
        };
        if n > 0 {
            idle_since = None;
            continue;
        }
        // Spin while replies are expected; otherwise back off to spare a core.
        if s.pending_count.load(Ordering::Acquire) > 0 {
            std::hint::spin_loop();
            continue;
        }
        let since = *idle_since.get_or_insert_with(Instant::now);
        let idle = since.elapsed();
        if idle < Duration::from_micros(200) {
            std::hint::spin_loop();
        } else if idle < Duration::from_millis(2) {
            std::thread::yield_now();
        } else {
            std::thread::sleep(Duration::from_micros(100));
        }
    }
}

fn handle_device_message(s: &Shared, env: &Envelope) {
    let recorded = match s.hlc.merge(HlcTimestamp::from_raw(env.header.hlc)) {
        Ok(t) => t,
        Err(_) => {
            s.skewed_replies.fetch_add(1, Ordering::Relaxed);
            s.hlc.tick()
        }
    };
    if env.has_flag(flags::DEAD_LETTER) {
        match DeadLetterReason::from_flags(env.header.flags) {
            Some(reason) => {
                let mut envelope = *env;
                // The flags carried the reason; the message itself was a plain tell.
                envelope.header.flags = 0;
                lock(&s.dead).record(DeadLetter {
                    envelope,
                    reason,
                    recorded,
                });
            }
            None => tracing::error!(
                flags = env.header.flags,
                "dead letter with an unknown reason code"
            ),
        }
        return;
    }
    let actor = env.sender();
    let failed = env.has_flag(flags::FAILED);
    // Replies, ask errors and events name the actor as callers know it.
    let public = s.public_id(actor);
    if failed {
        let error = HandlerError(failure_code(env));
        if env.has_flag(flags::RESTARTED) {
            // Restarted in place by its policy: still active.
            s.events.push(ActorEvent::Restarted {
                actor: public,
                error,
            });
        } else {
            if let Some(e) = s.actors.slot(actor) {
                let _ = e.lifecycle.transition(LifecycleState::Failed);
            }
            s.events.push(ActorEvent::Failed {
                actor: public,
                error,
            });
        }
    }
    if env.has_flag(flags::REPLY) {
        let slot = lock(&s.pending).remove(&env.header.correlation);
        let Some((_, slot)) = slot else {
            tracing::warn!("reply with unknown correlation {}", env.header.correlation);
            return;
        };
        s.pending_count.fetch_sub(1, Ordering::AcqRel);
        let outcome = if failed {
            ReplyOutcome::Failed(AskError::HandlerFailed {
                actor: public,
                error: HandlerError(failure_code(env)),
            })
        } else if env.has_flag(flags::DROPPED) {
            ReplyOutcome::Failed(AskError::Dropped(public))
        } else {
            let mut reply = *env;
            reply.header.sender = public.raw();
            ReplyOutcome::Reply(reply)
        };
        slot.complete(outcome);
    } else if env.has_flag(flags::CONTROL) && env.header.type_id == control::TERMINATED {
        if let Some(e) = s.actors.slot(actor) {
            let _ = e.lifecycle.transition(LifecycleState::Terminated);
        }
        s.events.push(ActorEvent::Terminated { actor: public });
    } else if env.has_flag(flags::CONTROL) && env.header.type_id == control::SNAPSHOTTED {
        let word = |i: usize| {
            env.payload_bytes()
                .get(8 * i..8 * i + 8)
                .map(bytemuck::pod_read_unaligned::<u64>)
        };
        if let (Some(token), Some(count)) = (word(0), word(2)) {
            lock(&s.snapshots).insert(actor.raw(), (token, count));
        }
    } else if env.has_flag(flags::CONTROL) && env.header.type_id == control::FROZEN {
        let word = |i: usize| {
            env.payload_bytes()
                .get(8 * i..8 * i + 8)
                .map(bytemuck::pod_read_unaligned::<u64>)
        };
        if let (Some(head), Some(token)) = (word(0), word(1)) {
            let answer = (head != u64::MAX).then_some((head, env.header.hlc));
            lock(&s.frozen).insert(actor.raw(), (token, answer));
        }
    }
}

/// The handler's error code in a failure notice or failed reply (0 if the payload is short).
fn failure_code(env: &Envelope) -> u32 {
    env.payload_bytes()
        .get(..std::mem::size_of::<FailurePayload>())
        .map(bytemuck::pod_read_unaligned::<FailurePayload>)
        .map_or(0, |p| p.code)
}
