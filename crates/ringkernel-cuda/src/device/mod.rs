//! The device half of a runtime: memory, the compiled persistent kernel, its launch, and the
//! host's views of what the blocks report.

use std::sync::Arc;
use std::time::{Duration, Instant};

use cudarc::driver::CudaContext;
use ringkernel_core::{ActorVTable, ShutdownError};

use crate::config::CudaConfig;
use crate::driver::{self, DeviceBuffer, DeviceInfo, Kernel, MappedBuffer, Stream};
use crate::error::CudaError;
use crate::host_ring::{D2hConsumer, Doorbell, H2dProducer};
use crate::layout::{ActorEntry, BlockStatus, DoorbellSlot, IndexLine, KernelParams, RingSlot};
use crate::nvrtc::NvrtcCompiler;
use crate::program::{self, KERNEL_NAME};

mod member;
use crossbeam_utils::CachePadded;
pub use member::MemberSlot;
use ringkernel_core::Envelope;
use std::sync::atomic::{AtomicU64, Ordering};

/// Threads per actor block: one warp (see kernels/persistent.cu for the lane roles).
pub const BLOCK_THREADS: u32 = 32;
/// Offsets inside the small device-memory control area (each value on its own 128-byte line).
const D2H_TAIL_OFFSET: u64 = 128;
const D2H_HEAD_CACHE_OFFSET: u64 = 256;
const EXITED_OFFSET: u64 = 384;
const WAKE_OFFSET: u64 = 512;
/// Bytes per wake word (each alone on a 128-byte line).
const WAKE_STRIDE: u64 = 128;
/// Slots in the doorbell ring.
const DOORBELL_CAPACITY: u64 = 1 << 12;

/// What the heartbeats say about the kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelHealth {
    /// Blocks whose heartbeat advanced during the sampling window.
    pub live_blocks: u32,
    /// Blocks in the grid.
    pub blocks: u32,
    /// Blocks that have left the persistent loop.
    pub exited_blocks: u32,
}

impl KernelHealth {
    /// Every block is beating and none has exited.
    pub fn is_live(&self) -> bool {
        self.live_blocks == self.blocks && self.exited_blocks == 0
    }
}

/// `clock64` cycles the blocks spent serving batches (see [`BlockStatus::service_cycles`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServiceCycles {
    /// From the poll that found messages to the last reply written.
    pub total: u64,
    /// Of `total`: lane 0 running control messages and handlers.
    pub handlers: u64,
    /// Of `total`: claiming device→host slots and writing replies.
    pub replies: u64,
}

/// Memory, kernel and streams of one runtime's persistent kernel.
#[derive(Debug)]
pub struct DeviceRuntime {
    info: DeviceInfo,
    blocks: u32,
    state_stride: usize,
    producers: Vec<H2dProducer>,
    /// Per block: the last sleep epoch a producer rang the doorbell for.
    rung: Vec<CachePadded<AtomicU64>>,
    doorbell: Doorbell,
    state_offset: u64,
    actor_table_offset: u64,
    k2k_tails_offset: u64,
    k2k_slots_offset: u64,
    k2k_capacity: u64,
    /// Snapshot slots: (device_mem offset, bytes per block), if enabled.
    snap: Option<(u64, u64)>,
    /// Multi-GPU member: where its route table and peer directory are (device_mem offsets).
    member: Option<member::MemberArea>,
    /// Blocks whose actor migrated away: their inbox's messages moved with it, so they are not
    /// counted as undelivered at shutdown.
    handed_over: std::sync::Mutex<Vec<bool>>,
    status: MappedBuffer<BlockStatus>,
    _doorbell_slots: MappedBuffer<DoorbellSlot>,
    _doorbell_head: MappedBuffer<IndexLine>,
    _h2d_heads: MappedBuffer<IndexLine>,
    // Kept alive for the kernel; accessed through the producers and the consumer.
    _h2d_slots: MappedBuffer<RingSlot>,
    _d2h_slots: MappedBuffer<RingSlot>,
    _d2h_head: MappedBuffer<IndexLine>,
    device_mem: DeviceBuffer,
    copy_stream: Stream,
    kernel_stream: Stream,
    _kernel: Kernel,
    exited: std::sync::atomic::AtomicBool,
    /// Why the context is lost, once the kernel's stream reported a (sticky) error.
    fault: std::sync::OnceLock<String>,
    _ctx: Arc<CudaContext>,
    /// The kernel's parameter block, kept for [`DeviceRuntime::start`].
    params: KernelParams,
    started: std::sync::atomic::AtomicBool,
    per_sm: u32,
}

fn power_of_two(name: &str, v: u32) -> Result<u64, CudaError> {
    if v == 0 || !v.is_power_of_two() {
        return Err(CudaError::Config(format!(
            "{name} must be a power of two, got {v}"
        )));
    }
    Ok(u64::from(v))
}

impl DeviceRuntime {
    /// Compiles, allocates and launches; returns the runtime and the reply ring's consumer.
    pub fn launch(
        types: &[ActorVTable],
        config: &CudaConfig,
        slot: Option<MemberSlot>,
    ) -> Result<(Self, D2hConsumer), CudaError> {
        let h2d_cap = power_of_two("mailbox_capacity", config.mailbox_capacity)?;
        let d2h_cap = power_of_two("reply_capacity", config.reply_capacity)?;
        let k2k_cap = power_of_two("k2k_capacity", config.k2k_capacity)?;
        let source = program::persistent_source_for(types, config.fenced_replies, slot.is_some())?;
        let ctx = driver::open_context(config.device_ordinal)?;
        let info = driver::device_info(&ctx)?;
        let arch = info.arch();
        let ptx =
            NvrtcCompiler::discover()?.compile("ringkernel_persistent.cu", &source, &arch, &[])?;
        let kernel = Kernel::load(&ctx, &ptx.ptx, KERNEL_NAME)?;

        let per_sm = kernel.max_blocks_per_sm(BLOCK_THREADS)?;
        // One grid slot goes to the router block.
        let max = (per_sm * info.sm_count).saturating_sub(1);
        let blocks = config.blocks.unwrap_or(info.sm_count);
        if blocks == 0 || blocks > max || !info.cooperative_launch {
            return Err(CudaError::TooManyBlocks {
                requested: blocks,
                max: if info.cooperative_launch { max } else { 0 },
                per_sm,
                sms: info.sm_count,
            });
        }

        let n = blocks as usize;
        let h2d_slots = MappedBuffer::<RingSlot>::new(&ctx, n * h2d_cap as usize)?;
        let h2d_heads = MappedBuffer::<IndexLine>::new(&ctx, n)?;
        let d2h_slots = MappedBuffer::<RingSlot>::new(&ctx, d2h_cap as usize)?;
        let d2h_head = MappedBuffer::<IndexLine>::new(&ctx, 1)?;
        let status = MappedBuffer::<BlockStatus>::new(&ctx, n)?;
        let doorbell_slots = MappedBuffer::<DoorbellSlot>::new(&ctx, DOORBELL_CAPACITY as usize)?;
        let doorbell_head = MappedBuffer::<IndexLine>::new(&ctx, 1)?;
        let state_stride = program::state_stride(types);
        // Device memory: control lines | wake words | states | K2K tails | actor table | K2K slots.
        let line = |x: u64| x.div_ceil(128) * 128;
        let state_offset = WAKE_OFFSET + WAKE_STRIDE * n as u64;
        // States, then their restart images (see `KernelParams::state_pool`).
        let k2k_tails_offset = line(state_offset + (2 * n * state_stride) as u64);
        let actor_table_offset = k2k_tails_offset + (n * size_of::<IndexLine>()) as u64;
        let k2k_slots_offset = line(actor_table_offset + (n * size_of::<ActorEntry>()) as u64);
        let k2k_end = k2k_slots_offset + n as u64 * k2k_cap * size_of::<RingSlot>() as u64;
        // Snapshot slots (see `KernelParams::snap_pool`), when enabled.
        let snap_stride = state_stride as u64 + k2k_cap * size_of::<Envelope>() as u64;
        let snap_offset = line(k2k_end);
        let snap_end = if config.snapshots {
            snap_offset + n as u64 * snap_stride
        } else {
            snap_offset
        };
        let member = slot.map(|s| member::MemberArea::after(line(snap_end), s));
        let device_bytes = member.as_ref().map_or(snap_end, |m| m.end());
        let device_mem = DeviceBuffer::new(&ctx, device_bytes as usize)?;
        if let Some(m) = &member {
            m.init(&device_mem)?;
        }
        // SAFETY: the doorbell buffers live in the returned runtime, which owns the Doorbell.
        let doorbell = unsafe {
            Doorbell::new(
                doorbell_slots.host_ptr(),
                doorbell_head.host_ptr(),
                DOORBELL_CAPACITY,
            )
        };

        let producers = (0..n)
            .map(|b| {
                // SAFETY: block b's ring is h2d_cap zeroed slots inside h2d_slots and its index
                // line is element b of h2d_heads; both buffers live as long as `self`, which owns
                // the producers.
                unsafe {
                    H2dProducer::new(
                        h2d_slots.host_ptr().add(b * h2d_cap as usize),
                        h2d_heads.host_ptr().add(b),
                        h2d_cap,
                    )
                }
            })
            .collect();
        // SAFETY: as above, for the device->host ring, owned by `self` which outlives the poller
        // (the backend joins the poller before dropping the runtime).
        let consumer =
            unsafe { D2hConsumer::new(d2h_slots.host_ptr(), d2h_head.host_ptr(), d2h_cap) };

        let params = KernelParams {
            h2d_slots: h2d_slots.device_ptr(),
            h2d_heads: h2d_heads.device_ptr(),
            d2h_slots: d2h_slots.device_ptr(),
            d2h_head: d2h_head.device_ptr(),
            d2h_tail: device_mem.ptr() + D2H_TAIL_OFFSET,
            d2h_head_cache: device_mem.ptr() + D2H_HEAD_CACHE_OFFSET,
            state_pool: device_mem.ptr() + state_offset,
            status: status.device_ptr(),
            h2d_capacity: h2d_cap,
            d2h_capacity: d2h_cap,
            state_stride: state_stride as u64,
            max_backoff_ns: config.max_backoff.as_nanos().clamp(128, 1 << 30) as u64,
            heartbeat_ns: config.heartbeat.as_nanos().clamp(1_000, 1 << 40) as u64,
            doorbell_slots: doorbell_slots.device_ptr(),
            doorbell_head: doorbell_head.device_ptr(),
            doorbell_capacity: DOORBELL_CAPACITY,
            wake: device_mem.ptr() + WAKE_OFFSET,
            exited_blocks: device_mem.ptr() + EXITED_OFFSET,
            hot_ns: config.hot_window.as_nanos().clamp(1_000, 1 << 40) as u64,
            actor_blocks: u64::from(blocks),
            k2k_slots: device_mem.ptr() + k2k_slots_offset,
            k2k_tails: device_mem.ptr() + k2k_tails_offset,
            k2k_capacity: k2k_cap,
            actor_table: device_mem.ptr() + actor_table_offset,
            peers: member
                .as_ref()
                .map_or(0, |m| device_mem.ptr() + m.peers_offset),
            routes: member
                .as_ref()
                .map_or(0, |m| device_mem.ptr() + m.routes_offset),
            route_count: member.as_ref().map_or(0, |m| m.slot.route_count as u64),
            gpu_index: member.as_ref().map_or(0, |m| m.slot.gpu_index as u64),
            snap_pool: if config.snapshots {
                device_mem.ptr() + snap_offset
            } else {
                0
            },
        };
        let copy_stream = Stream::non_blocking(&ctx)?;
        let kernel_stream = Stream::non_blocking(&ctx)?;
        let rt = DeviceRuntime {
            info,
            blocks,
            state_stride,
            producers,
            rung: (0..n)
                .map(|_| CachePadded::new(AtomicU64::new(0)))
                .collect(),
            doorbell,
            state_offset,
            actor_table_offset,
            k2k_tails_offset,
            k2k_slots_offset,
            k2k_capacity: k2k_cap,
            snap: config.snapshots.then_some((snap_offset, snap_stride)),
            member,
            handed_over: std::sync::Mutex::new(vec![false; n]),
            status,
            _doorbell_slots: doorbell_slots,
            _doorbell_head: doorbell_head,
            _h2d_heads: h2d_heads,
            _h2d_slots: h2d_slots,
            _d2h_slots: d2h_slots,
            _d2h_head: d2h_head,
            device_mem,
            copy_stream,
            kernel_stream,
            _kernel: kernel,
            exited: std::sync::atomic::AtomicBool::new(false),
            fault: std::sync::OnceLock::new(),
            _ctx: ctx,
            params,
            started: std::sync::atomic::AtomicBool::new(false),
            per_sm,
        };
        // A member of a multi-GPU runtime starts once every GPU's memory is allocated.
        if slot.is_none() {
            rt.start()?;
        }
        Ok((rt, consumer))
    }

    /// Launches the persistent kernel (once; later calls do nothing).
    pub fn start(&self) -> Result<(), CudaError> {
        if self.started.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        // SAFETY: `params` matches rk_params (layout.rs, static_asserted on the device); every
        // address in it belongs to a buffer stored in `self`, which is only dropped after the
        // kernel exited (or is leaked by the backend if it never does).
        unsafe {
            self._kernel.launch_cooperative(
                &self.kernel_stream,
                self.blocks + 1,
                BLOCK_THREADS,
                &self.params,
            )?
        };
        tracing::info!(
            blocks = self.blocks,
            per_sm = self.per_sm,
            device = %self.info.name,
            "persistent kernel launched"
        );
        Ok(())
    }

    /// Blocks in the grid.
    pub fn blocks(&self) -> u32 {
        self.blocks
    }

    /// The device.
    pub fn info(&self) -> &DeviceInfo {
        &self.info
    }

    /// Pushes `env` into block `b`'s mailbox and wakes the block if it went cold; `false` when
    /// the mailbox is full (nothing written).
    pub fn push(&self, b: usize, env: &Envelope) -> bool {
        if !self.producers[b].push(env) {
            return false;
        }
        self.wake_if_cold(b);
        true
    }

    /// Pushes as many of `envs` as fit into block `b`'s mailbox (one claim, one wake check).
    pub fn push_batch(&self, b: usize, envs: &[Envelope]) -> usize {
        let n = self.producers[b].push_batch(envs);
        if n > 0 {
            self.wake_if_cold(b);
        }
        n
    }

    /// The host half of the hot/cold handshake (kernels/persistent.cu has the device half).
    fn wake_if_cold(&self, b: usize) {
        // Our slot writes must be visible before we read the block's epoch: with the block's
        // store-then-poll this is Dekker's pattern, so one of us sees the other.
        std::sync::atomic::fence(Ordering::SeqCst);
        // SAFETY: element b < blocks of the live status buffer; the device writes sleep_epoch
        // with release stores, read here atomically.
        let epoch = unsafe {
            AtomicU64::from_ptr(std::ptr::addr_of_mut!(
                (*self.status.host_ptr().add(b)).sleep_epoch
            ))
        }
        .load(Ordering::Acquire);
        let rung = &self.rung[b];
        let last = rung.load(Ordering::Relaxed);
        if epoch > last
            && rung
                .compare_exchange(last, epoch, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
            && !self.doorbell.ring(b as u64, 1 << 24)
        {
            // The router stopped draining (kernel gone); the block's 1 ms safety poll still
            // finds the message if it is alive.
            tracing::warn!(
                block = b,
                "doorbell ring full; relying on the block's safety poll"
            );
        }
    }

    /// Publishes block `b`'s actor entry for device senders before its START is queued, so a
    /// K2K send right after `spawn` returns finds the actor (the block itself rewrites the same
    /// entry when it runs START, and takes K2K messages only after that).
    pub fn publish_actor(&self, b: usize, entry: ActorEntry) -> Result<(), CudaError> {
        if b >= self.blocks as usize {
            return Err(CudaError::Config(format!("no block {b}")));
        }
        let dst =
            self.device_mem.ptr() + self.actor_table_offset + (b * size_of::<ActorEntry>()) as u64;
        self.copy_stream
            .copy_to_device(dst, bytemuck::bytes_of(&entry))
    }

    /// Copies an actor's initial state into block `b`'s state slot (the block is dormant and does
    /// not touch it until the START that follows).
    pub fn write_state(&self, b: usize, state: &[u8]) -> Result<(), CudaError> {
        if b >= self.blocks as usize || state.len() > self.state_stride {
            return Err(CudaError::Config(format!(
                "state of {} bytes for block {b} does not fit",
                state.len()
            )));
        }
        if state.is_empty() {
            return Ok(());
        }
        let dst = self.device_mem.ptr() + self.state_offset + (b * self.state_stride) as u64;
        self.copy_stream.copy_to_device(dst, state)
    }

    /// Copies block `b`'s restart image: the state an in-place restart restores (see
    /// `KernelParams::state_pool`). Written before START, like the state.
    pub fn write_image(&self, b: usize, state: &[u8]) -> Result<(), CudaError> {
        if b >= self.blocks as usize || state.len() > self.state_stride {
            return Err(CudaError::Config(format!(
                "restart image of {} bytes for block {b} does not fit",
                state.len()
            )));
        }
        if state.is_empty() {
            return Ok(());
        }
        let slot = self.blocks as usize + b;
        let dst = self.device_mem.ptr() + self.state_offset + (slot * self.state_stride) as u64;
        self.copy_stream.copy_to_device(dst, state)
    }

    /// Reads `len` bytes of block `b`'s restart image (to move it with a migrated actor).
    pub fn read_image(&self, b: usize, len: usize) -> Result<Vec<u8>, CudaError> {
        if b >= self.blocks as usize || len > self.state_stride {
            return Err(CudaError::Config(format!(
                "restart image of {len} bytes for block {b} does not exist"
            )));
        }
        let mut out = vec![0u8; len];
        if len > 0 {
            let slot = self.blocks as usize + b;
            let src = self.device_mem.ptr() + self.state_offset + (slot * self.state_stride) as u64;
            self.copy_stream.copy_from_device(&mut out, src)?;
        }
        Ok(out)
    }

    /// Whether the runtime has snapshot slots.
    pub fn has_snapshots(&self) -> bool {
        self.snap.is_some()
    }

    /// Slots in each host→device mailbox.
    pub fn mailbox_capacity(&self) -> usize {
        self.producers.first().map_or(0, |p| p.capacity() as usize)
    }

    /// Reads block `b`'s snapshot slot: `state_len` bytes of state and `messages` inbox messages
    /// (after the block's SNAPSHOTTED notice).
    pub fn read_snapshot(
        &self,
        b: usize,
        state_len: usize,
        messages: usize,
    ) -> Result<(Vec<u8>, Vec<Envelope>), CudaError> {
        let (offset, stride) = self
            .snap
            .ok_or_else(|| CudaError::Config("this runtime has no snapshot slots".into()))?;
        if b >= self.blocks as usize
            || state_len > self.state_stride
            || messages as u64 > self.k2k_capacity
        {
            return Err(CudaError::Config(format!(
                "snapshot of block {b} ({state_len} bytes, {messages} messages) does not fit its slot"
            )));
        }
        let base = self.device_mem.ptr() + offset + b as u64 * stride;
        let mut state = vec![0u8; state_len];
        if state_len > 0 {
            self.copy_stream.copy_from_device(&mut state, base)?;
        }
        let mut mailbox: Vec<Envelope> = vec![bytemuck::Zeroable::zeroed(); messages];
        if messages > 0 {
            self.copy_stream.copy_from_device(
                bytemuck::cast_slice_mut(&mut mailbox),
                base + self.state_stride as u64,
            )?;
        }
        Ok((state, mailbox))
    }

    /// Every block's last heartbeat time (`%globaltimer` ns, 0 before its first) and whether it
    /// has left the loop.
    pub fn heartbeats(&self) -> Vec<(u64, bool)> {
        (0..self.blocks as usize)
            .map(|b| {
                let s = self.status(b);
                (s.heartbeat_ns, s.exited != 0)
            })
            .collect()
    }

    /// The fullest host→device mailbox's fill, 0 to 1 (messages the host queued and the block
    /// has not taken yet, over the capacity).
    pub fn max_mailbox_fill(&self) -> f64 {
        self.producers
            .iter()
            .map(|p| {
                let queued = p.tail().saturating_sub(p.consumer_index());
                queued as f64 / p.capacity().max(1) as f64
            })
            .fold(0.0, f64::max)
    }

    /// Free and total memory of the device, from `cuMemGetInfo` (binds the context to the
    /// calling thread).
    pub fn memory_info(&self) -> Result<(u64, u64), CudaError> {
        driver::check("cuCtxSetCurrent", self._ctx.bind_to_thread())?;
        let (free, total) = driver::check("cuMemGetInfo", self._ctx.mem_get_info())?;
        Ok((free as u64, total as u64))
    }

    /// Bytes this runtime allocated: device memory plus mapped host memory.
    pub fn allocated_bytes(&self) -> u64 {
        let mapped = |len: usize, size: usize| (len * size) as u64;
        self.device_mem.bytes() as u64
            + mapped(self._h2d_slots.len(), size_of::<RingSlot>())
            + mapped(self._d2h_slots.len(), size_of::<RingSlot>())
            + mapped(self.status.len(), size_of::<BlockStatus>())
            + mapped(self._doorbell_slots.len(), size_of::<DoorbellSlot>())
    }

    fn status(&self, b: usize) -> BlockStatus {
        // SAFETY: element b < blocks of a live mapped buffer; the device writes it concurrently,
        // so read it volatile as a whole (fields are independent counters; a torn read of one
        // u64 cannot happen on x86-64 for aligned words).
        unsafe { std::ptr::read_volatile(self.status.host_ptr().add(b)) }
    }

    /// (consumed, processed, dropped) summed over blocks, as of their last heartbeat.
    pub fn counters(&self) -> (u64, u64, u64) {
        (0..self.blocks as usize)
            .map(|b| self.status(b))
            .fold((0, 0, 0), |(c, p, d), s| {
                (c + s.consumed, p + s.processed, d + s.dropped)
            })
    }

    /// Polls that found nothing, summed over blocks (as of their last heartbeat).
    pub fn idle_polls(&self) -> u64 {
        (0..self.blocks as usize)
            .map(|b| self.status(b).idle_polls)
            .sum()
    }

    /// Where the blocks' serving time went, summed over blocks (as of their last heartbeat).
    pub fn service_cycles(&self) -> ServiceCycles {
        (0..self.blocks as usize).map(|b| self.status(b)).fold(
            ServiceCycles::default(),
            |acc, s| ServiceCycles {
                total: acc.total + s.service_cycles,
                handlers: acc.handlers + s.handler_cycles,
                replies: acc.replies + s.reply_cycles,
            },
        )
    }

    /// K2K inbox waits: (summed ns from publication to take, messages), over all blocks, as of
    /// their last heartbeat.
    pub fn k2k_waits(&self) -> (u64, u64) {
        (0..self.blocks as usize)
            .map(|b| self.status(b))
            .fold((0, 0), |(w, n), s| (w + s.k2k_wait_ns, n + s.k2k_waited))
    }

    /// Messages pushed but never consumed (meaningful after the kernel exited).
    pub fn unconsumed(&self) -> u64 {
        self.producers
            .iter()
            .map(|p| p.tail().saturating_sub(p.consumer_index()))
            .sum()
    }

    /// K2K messages delivered into inboxes but never taken (after the kernel exited: messages
    /// queued behind a block's SHUTDOWN, or sent to it after it left). Reads device memory, so
    /// only valid once the kernel has exited.
    pub fn unconsumed_k2k(&self) -> Result<u64, CudaError> {
        if !self.exited() {
            return Err(CudaError::Config(
                "K2K inboxes can be counted only after the kernel exited".into(),
            ));
        }
        let mut tails = vec![bytemuck::Zeroable::zeroed(); self.blocks as usize];
        let tails_view: &mut [IndexLine] = &mut tails;
        self.device_mem.read_at(
            self.k2k_tails_offset as usize,
            bytemuck::cast_slice_mut(tails_view),
        )?;
        let handed_over = self
            .handed_over
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        Ok(tails
            .iter()
            .enumerate()
            .filter(|(b, _)| !handed_over.get(*b).copied().unwrap_or(false))
            .map(|(b, t)| {
                (t.value & !crate::layout::k2k::SEALED).saturating_sub(self.status(b).k2k_consumed)
            })
            .sum())
    }

    /// Samples the heartbeats twice, `window` apart.
    pub fn health(&self, window: Duration) -> Result<KernelHealth, CudaError> {
        let before: Vec<u64> = (0..self.blocks as usize)
            .map(|b| self.status(b).heartbeat_ns)
            .collect();
        std::thread::sleep(window);
        let mut live = 0;
        let mut exited = 0;
        for (b, old) in before.iter().enumerate() {
            let s = self.status(b);
            if s.heartbeat_ns != *old && s.heartbeat_ns != 0 {
                live += 1;
            }
            if s.exited != 0 {
                exited += 1;
            }
        }
        // A faulted kernel shows up here as a driver error.
        self.kernel_stream.is_idle()?;
        Ok(KernelHealth {
            live_blocks: live,
            blocks: self.blocks,
            exited_blocks: exited,
        })
    }

    /// Waits until the kernel has exited or `until` passes.
    pub fn wait_for_exit(&self, until: Instant) -> Result<(), ShutdownError> {
        loop {
            match self.kernel_stream.is_idle() {
                Ok(true) => {
                    self.exited
                        .store(true, std::sync::atomic::Ordering::Release);
                    return Ok(());
                }
                Ok(false) => {}
                Err(e) => {
                    // A faulted kernel is over too, but the context is dead: report it.
                    let _ = self.fault.set(e.to_string());
                    self.exited
                        .store(true, std::sync::atomic::Ordering::Release);
                    return Err(ShutdownError::Backend(e.to_string()));
                }
            }
            if Instant::now() >= until {
                let stuck: Vec<usize> = (0..self.blocks as usize)
                    .filter(|&b| self.status(b).exited == 0)
                    .take(8)
                    .collect();
                return Err(ShutdownError::Hung(
                    Duration::ZERO,
                    format!("persistent kernel still running; blocks not exited include {stuck:?}"),
                ));
            }
            std::thread::sleep(Duration::from_micros(200));
        }
    }

    /// Queries the kernel's stream: why the context is lost, once the kernel faulted (an
    /// illegal address, a trap: sticky errors, after which nothing of this context works).
    /// A kernel that exited normally is not a fault.
    pub fn check_fault(&self) -> Option<&str> {
        if self.fault.get().is_none() {
            if let Err(e) = self.kernel_stream.is_idle() {
                let _ = self.fault.set(e.to_string());
                self.exited
                    .store(true, std::sync::atomic::Ordering::Release);
            }
        }
        self.fault()
    }

    /// Why the context is lost, as last found by [`check_fault`](Self::check_fault) (no driver call).
    pub fn fault(&self) -> Option<&str> {
        self.fault.get().map(String::as_str)
    }

    /// The device this runtime runs on.
    pub fn ordinal(&self) -> usize {
        self._ctx.ordinal()
    }

    /// Whether the kernel is known to have exited.
    pub fn exited(&self) -> bool {
        self.exited.load(std::sync::atomic::Ordering::Acquire)
    }
}
