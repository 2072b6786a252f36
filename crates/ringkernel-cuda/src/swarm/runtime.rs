//! [`Swarm`]: one GPU's swarm kernel, its memory and the host API around it.

use std::ffi::c_void;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use cudarc::driver::CudaContext;
use ringkernel_core::envelope::flags;
use ringkernel_core::{Envelope, Hlc};

mod observe;
mod spawn;

pub use observe::SETTLE_HOLD;

use super::config::{Steal, SwarmConfig};
use super::exit_report::exit_report;
use super::layout::{
    flag, pinned as pin, status, SwarmActor, SwarmBlockStats, SwarmParams, SwarmSlot, HOST,
    MSG_WORDS,
};
use super::program::{SwarmProgram, KERNEL_NAME};
use super::replies::{self, Inbox, SwarmReply};
use crate::driver::{self, DeviceBuffer, Kernel, MappedBuffer, Stream};
use crate::error::CudaError;
use crate::host_ring::{D2hConsumer, H2dProducer};
use crate::layout::{IndexLine, RingSlot};
use crate::nvrtc::NvrtcCompiler;

/// Offsets in the control buffer (each value alone on a 128-byte line).
const DEV_NEXT: u64 = 0;
const STOP: u64 = 128;
const EXITED: u64 = 256;
const D2H_TAIL: u64 = 384;
const D2H_HEAD_CACHE: u64 = 512;
const CONTROL_BYTES: usize = 640;
/// Control message: stop the receiver.
const CONTROL_STOP: u32 = 1;

/// A message from the host: a kind (below 2^24) and three payload words.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SwarmMsg {
    /// User kind.
    pub kind: u32,
    /// Payload.
    pub words: [u64; MSG_WORDS],
}

impl SwarmMsg {
    /// A message of `kind` with payload `words`.
    pub fn new(kind: u32, words: [u64; MSG_WORDS]) -> Self {
        SwarmMsg { kind, words }
    }
}

/// The longest time to live a message keeps (2^62 ns, about 146 years). The device adds the
/// time to live to its clock (`%globaltimer`, nanoseconds, under 2^62 for centuries yet), so
/// anything longer could wrap the sum around to a time already past.
pub const MAX_TTL: Duration = Duration::from_nanos(MAX_TTL_NS);
const MAX_TTL_NS: u64 = 1 << 62;

/// A time to live as the device reads it: 0 for none, else nanoseconds in 1..=MAX_TTL.
fn ttl_nanos(ttl: Option<Duration>) -> u64 {
    ttl.map_or(0, |t| {
        u64::try_from(t.as_nanos()).map_or(MAX_TTL_NS, |n| n.clamp(1, MAX_TTL_NS))
    })
}

/// How a host send behaves.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SendOptions {
    /// Time to live from when the device takes the message: if its handler has not run by
    /// then, it becomes a dead letter (`Expired`). Longer than [`MAX_TTL`] counts as
    /// [`MAX_TTL`]; shorter than a nanosecond as one.
    pub ttl: Option<Duration>,
    /// When the target's mailbox is full: `false` waits for credit (the message stays in the
    /// host ring), `true` makes it a dead letter (`Full`).
    pub dead_letter_on_full: bool,
}

/// A live swarm on one GPU.
pub struct Swarm {
    config: SwarmConfig,
    blocks: u32,
    params: SwarmParams,
    producer: H2dProducer,
    inbox: Arc<Inbox>,
    hlc: Arc<Hlc>,
    next_corr: AtomicU32,
    host_next: Mutex<u32>,
    local_next: Mutex<Vec<u32>>,
    pinned_used: Mutex<Vec<bool>>,
    drain: Option<JoinHandle<()>>,
    running: bool,
    /// The kernel did not exit when asked: its memory must outlive this value (freeing it
    /// would wait on the kernel forever, or pull memory from under it).
    stuck: bool,
    copy: Stream,
    stream: Stream,
    kernel: Option<Kernel>,
    memory: Vec<DeviceBuffer>,
    mapped_slots: Vec<MappedBuffer<RingSlot>>,
    mapped_lines: Vec<MappedBuffer<IndexLine>>,
    _ctx: Arc<CudaContext>,
}

impl std::fmt::Debug for Swarm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Swarm")
            .field("blocks", &self.blocks)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Swarm {
    /// Compiles `program`, allocates the swarm and launches its kernel.
    pub fn new(program: &SwarmProgram, config: SwarmConfig) -> Result<Self, CudaError> {
        config.validate()?;
        let ctx = driver::open_context(config.device)?;
        let info = driver::device_info(&ctx)?;
        if info.compute_capability.0 < 9 && config.cluster > 1 {
            return Err(CudaError::Config(format!(
                "thread block clusters need sm_90; this GPU is sm_{}{}",
                info.compute_capability.0, info.compute_capability.1
            )));
        }
        let arch = info.arch();
        let ptx =
            NvrtcCompiler::discover()?.compile(&program.name, &program.source(), &arch, &[])?;
        let kernel = Kernel::load_l2_only(&ctx, &ptx.ptx, KERNEL_NAME)?;
        let threads = config.warps * 32;
        let blocks = Self::grid(&kernel, &config, threads, info.sm_count)?;
        config.validate_grid(blocks)?;

        let locals = u64::from(blocks) * u64::from(config.local_per_block);
        let pinned = u64::from(config.pinned);
        let actors_total = u64::from(config.capacity) + locals + pinned;
        let stride = config.state_stride();
        let rq_slots = config.ready_slots(blocks);
        let mb = |n: u64, each: usize| -> Result<DeviceBuffer, CudaError> {
            DeviceBuffer::new(
                &ctx,
                usize::try_from(n)
                    .unwrap_or(usize::MAX)
                    .saturating_mul(each),
            )
        };
        let actors = mb(actors_total, std::mem::size_of::<SwarmActor>())?;
        let states = mb(actors_total, stride)?;
        // Pinned actor k's mailbox follows the global tier's, at index capacity + k.
        let mbox = mb(
            (u64::from(config.capacity) + pinned) * u64::from(config.mailbox_slots),
            std::mem::size_of::<SwarmSlot>(),
        )?;
        let pairs = pinned * u64::from(pin::MAX);
        let pch = mb(
            pairs.max(1) * u64::from(pin::GLOBAL_SLOTS),
            pin::SLOT_BYTES as usize,
        )?;
        let pch_heads = mb(pairs.max(1), 8)?;
        let rq = mb(u64::from(blocks) * u64::from(rq_slots), 8)?;
        let rq_heads = mb(u64::from(blocks), 128)?;
        let rq_tails = mb(u64::from(blocks), 128)?;
        let fwd = mb(
            u64::from(blocks) * u64::from(config.forward_slots),
            std::mem::size_of::<SwarmSlot>(),
        )?;
        let fwd_tails = mb(u64::from(blocks), 128)?;
        let stats = mb(u64::from(blocks), std::mem::size_of::<SwarmBlockStats>())?;
        let block_sms = mb(u64::from(blocks), 4)?;
        let control = DeviceBuffer::new(&ctx, CONTROL_BYTES)?;
        let h2d_slots = MappedBuffer::<RingSlot>::new(&ctx, config.h2d_slots as usize)?;
        let h2d_head = MappedBuffer::<IndexLine>::new(&ctx, 1)?;
        let d2h_slots = MappedBuffer::<RingSlot>::new(&ctx, config.d2h_slots as usize)?;
        let d2h_head = MappedBuffer::<IndexLine>::new(&ctx, 1)?;
        let copy = Stream::non_blocking(&ctx)?;
        let stream = Stream::non_blocking(&ctx)?;
        copy.copy_to_device(
            control.ptr() + DEV_NEXT,
            &config.host_capacity().to_le_bytes(),
        )?;

        let params = SwarmParams {
            actors: actors.ptr(),
            states: states.ptr(),
            state_stride: stride as u64,
            mbox: mbox.ptr(),
            mbox_shift: u64::from(config.mailbox_slots.trailing_zeros()),
            capacity: u64::from(config.capacity),
            host_capacity: u64::from(config.host_capacity()),
            dev_next: control.ptr() + DEV_NEXT,
            rq: rq.ptr(),
            rq_shift: u64::from(rq_slots.trailing_zeros()),
            rq_heads: rq_heads.ptr(),
            rq_tails: rq_tails.ptr(),
            fwd: fwd.ptr(),
            fwd_shift: u64::from(config.forward_slots.trailing_zeros()),
            fwd_tails: fwd_tails.ptr(),
            local: u64::from(config.local_per_block),
            blocks: u64::from(blocks),
            cluster: u64::from(config.cluster),
            warps: u64::from(config.warps),
            batch: u64::from(config.batch),
            steal: match config.steal {
                Steal::Off => 0,
                Steal::Cluster => 1,
                Steal::Grid => 2,
            },
            stop: control.ptr() + STOP,
            stats: stats.ptr(),
            h2d_slots: h2d_slots.device_ptr(),
            h2d_head: h2d_head.device_ptr(),
            h2d_capacity: u64::from(config.h2d_slots),
            d2h_slots: d2h_slots.device_ptr(),
            d2h_head: d2h_head.device_ptr(),
            d2h_tail: control.ptr() + D2H_TAIL,
            d2h_head_cache: control.ptr() + D2H_HEAD_CACHE,
            d2h_capacity: u64::from(config.d2h_slots),
            exited: control.ptr() + EXITED,
            max_nap_ns: u64::from(config.max_nap_ns),
            pinned,
            pch: pch.ptr(),
            pch_heads: pch_heads.ptr(),
            block_sms: block_sms.ptr(),
        };
        // SAFETY: the rings are zeroed, sized as declared, and owned by the Swarm, which joins
        // the drain thread and stops the kernel before freeing them.
        let producer = unsafe {
            H2dProducer::new(
                h2d_slots.host_ptr(),
                h2d_head.host_ptr(),
                u64::from(config.h2d_slots),
            )
        };
        // SAFETY: as above.
        let consumer = unsafe {
            D2hConsumer::new(
                d2h_slots.host_ptr(),
                d2h_head.host_ptr(),
                u64::from(config.d2h_slots),
            )
        };
        // The drain thread starts before the kernel: a launched kernel must never be left
        // running over buffers freed because a later step failed.
        let inbox = Arc::new(Inbox::default());
        let hlc = Arc::new(Hlc::default());
        let drain = {
            let (inbox, hlc) = (inbox.clone(), hlc.clone());
            std::thread::Builder::new()
                .name("ringkernel-swarm-d2h".into())
                .spawn(move || replies::drain(consumer, inbox, hlc))
                .map_err(|e| {
                    CudaError::SwarmStopped(format!("cannot start the drain thread: {e}"))
                })?
        };
        let mut launch_params = params;
        let mut args = [&mut launch_params as *mut SwarmParams as *mut c_void];
        let cluster = (config.cluster > 1).then_some(config.cluster);
        // SAFETY: the single argument is the kernel's parameter block; every address in it is
        // owned by the Swarm and outlives the kernel (Drop stops it and waits before freeing).
        let launched =
            unsafe { kernel.launch_ex(&stream, blocks, threads, cluster, false, &mut args) };
        if let Err(e) = launched {
            // The drain thread reads the mapped ring: stop it before the ring is freed.
            inbox.stop();
            let _ = drain.join();
            return Err(e);
        }
        let local_next = vec![0; blocks as usize];
        let pinned_used = vec![false; config.pinned as usize];
        Ok(Swarm {
            blocks,
            params,
            producer,
            inbox,
            hlc,
            next_corr: AtomicU32::new(1),
            host_next: Mutex::new(0),
            local_next: Mutex::new(local_next),
            pinned_used: Mutex::new(pinned_used),
            drain: Some(drain),
            running: true,
            stuck: false,
            copy,
            stream,
            kernel: Some(kernel),
            memory: vec![
                control, stats, actors, states, mbox, rq, rq_heads, rq_tails, fwd, fwd_tails, pch,
                pch_heads, block_sms,
            ],
            mapped_slots: vec![h2d_slots, d2h_slots],
            mapped_lines: vec![h2d_head, d2h_head],
            _ctx: ctx,
            config,
        })
    }

    /// Blocks to launch: the configured number if every block can be co-resident, else as many
    /// as can (whole clusters). Never a grid that could not all run at once.
    fn grid(
        kernel: &Kernel,
        config: &SwarmConfig,
        threads: u32,
        sms: u32,
    ) -> Result<u32, CudaError> {
        let per_sm = kernel.max_blocks_per_sm(threads)?;
        let max = if config.cluster > 1 {
            kernel.max_active_clusters(threads, config.cluster)? * config.cluster
        } else {
            per_sm * sms
        };
        if max == 0 {
            return Err(CudaError::Config(format!(
                "no block of {threads} threads (clusters of {}) fits on this GPU",
                config.cluster
            )));
        }
        match config.blocks {
            Some(b) if b > max => Err(CudaError::TooManyBlocks {
                requested: b,
                max,
                per_sm,
                sms,
            }),
            Some(b) => Ok(b),
            // One block per SM is enough to hold every SM; more only adds polling warps.
            None => Ok(sms.min(max) / config.cluster * config.cluster),
        }
    }

    /// Worker blocks in the grid.
    pub fn blocks(&self) -> u32 {
        self.blocks
    }

    /// The configuration it runs with.
    pub fn config(&self) -> &SwarmConfig {
        &self.config
    }

    /// The block an actor lives on: the ready queue of a global-tier actor, the shared memory
    /// of a cluster-tier actor's mailbox, the warp of a pinned actor.
    pub fn home_block(&self, id: u32) -> u32 {
        let local_end = self.pinned_base();
        if id < self.config.capacity {
            id % self.blocks
        } else if id < local_end {
            (id - self.config.capacity) / self.config.local_per_block.max(1)
        } else {
            (id - local_end) % self.blocks
        }
    }

    /// First pinned actor id (slot k is `pinned_base() + k`).
    pub fn pinned_base(&self) -> u32 {
        self.config.capacity + self.blocks * self.config.local_per_block
    }

    fn is_pinned(&self, id: u32) -> bool {
        id >= self.pinned_base() && id - self.pinned_base() < self.config.pinned
    }

    /// Sends `msg` to actor `to`, waiting for credit (see [`Swarm::tell_with`]).
    pub fn tell(&self, to: u32, msg: SwarmMsg) -> Result<(), CudaError> {
        self.tell_with(to, msg, SendOptions::default())
    }

    /// Sends `msg` to actor `to`. Unknown or stopped targets become dead letters on the
    /// device; so does a message whose time to live runs out, or that finds no credit when
    /// `dead_letter_on_full` is set.
    pub fn tell_with(&self, to: u32, msg: SwarmMsg, opts: SendOptions) -> Result<(), CudaError> {
        let env = self.envelope(to, msg, opts, 0, 0)?;
        self.push(&env)
    }

    /// Asks actor `to` and waits up to `timeout` for its reply: [`CudaError::SwarmTimeout`]
    /// when none came, [`CudaError::SwarmDeadLetter`] when the ask became a dead letter,
    /// [`CudaError::SwarmStopped`] when the swarm stopped first. A timeout too long for the
    /// clock (`Duration::MAX`) means no deadline.
    pub fn ask(&self, to: u32, msg: SwarmMsg, timeout: Duration) -> Result<SwarmReply, CudaError> {
        let mut env = self.envelope(to, msg, SendOptions::default(), flag::ASK, 0)?;
        // 0 is no ask; an id still waited for (2^32 asks ago) is skipped too.
        let corr = loop {
            let c = self.next_corr.fetch_add(1, Ordering::Relaxed);
            if c != 0 && self.inbox.expect(c) {
                break c;
            }
        };
        env.header.correlation = u64::from(corr);
        if let Err(e) = self.push(&env) {
            self.inbox.forget(corr);
            return Err(e);
        }
        self.inbox.wait(corr, timeout)
    }

    /// Stops actor `to`: later messages to it, and those still in its mailbox, are dead letters.
    /// Returns once the device has applied the stop (for a pinned actor, once its warp has seen
    /// it: pinned senders do not look at the status, the receiving warp does), so a lookup
    /// afterwards never finds it live. An actor already stopped (by itself, or by an earlier
    /// stop) returns at once. A scheduled or cluster-tier actor's turn that began before the
    /// stop landed still handles the messages it takes (at most `SwarmConfig::batch`) as live;
    /// its next turn sees the stop. An id past the swarm's actors is
    /// [`CudaError::SwarmMessage`], one that names no spawned actor
    /// [`CudaError::SwarmUnknownActor`]. Waits at most the configuration's `patience` (the
    /// stop queues behind earlier host messages): [`CudaError::SwarmTimeout`] after that.
    pub fn stop_actor(&self, to: u32) -> Result<(), CudaError> {
        let pinned = self.is_pinned(to);
        let applied = |h: &SwarmActor| {
            if pinned {
                h.seen == status::STOPPED
            } else {
                h.status_code() == status::STOPPED
            }
        };
        let first = self.header(to)?;
        match first.status_code() {
            status::FREE => return Err(CudaError::SwarmUnknownActor(to)),
            // Stopped already: by itself (a pinned actor's warp then knows, though it does not
            // write `seen` for its own stop) or by an earlier stop.
            status::STOPPED => return Ok(()),
            _ => {}
        }
        let mut env = self.envelope(
            to,
            SwarmMsg::new(CONTROL_STOP, [0; 3]),
            SendOptions::default(),
            0,
            0,
        )?;
        env.header.flags |= flags::CONTROL;
        self.push(&env)?;
        let since = Instant::now();
        while !applied(&self.header(to)?) {
            if since.elapsed() > self.config.patience {
                return Err(CudaError::SwarmTimeout {
                    what: if pinned {
                        "stop of a pinned actor (its warp did not see it)"
                    } else {
                        "stop of an actor (the device did not apply it)"
                    },
                    waited: self.config.patience,
                });
            }
            std::thread::sleep(Duration::from_micros(50));
        }
        Ok(())
    }

    /// Actor `id`'s header, as the device last wrote it.
    fn header(&self, id: u32) -> Result<SwarmActor, CudaError> {
        self.read_headers(id, 1)?
            .pop()
            .ok_or_else(|| CudaError::SwarmMessage(format!("no header read for actor {id}")))
    }

    fn envelope(
        &self,
        to: u32,
        msg: SwarmMsg,
        opts: SendOptions,
        extra: u32,
        corr: u32,
    ) -> Result<Envelope, CudaError> {
        if msg.kind > flag::KIND_MASK {
            return Err(CudaError::SwarmMessage(format!(
                "kind {:#x} does not fit in 24 bits",
                msg.kind
            )));
        }
        let ttl = ttl_nanos(opts.ttl);
        let mut env: Envelope = bytemuck::Zeroable::zeroed();
        env.header.sender = HOST;
        env.header.receiver = to;
        env.header.type_id = msg.kind
            | extra
            | if opts.dead_letter_on_full {
                flag::DEAD_ON_FULL
            } else {
                0
            };
        env.header.payload_len = 32;
        env.header.correlation = u64::from(corr);
        env.header.hlc = self.hlc.tick().raw();
        for (i, w) in msg.words.iter().chain(std::iter::once(&ttl)).enumerate() {
            env.payload[i * 8..i * 8 + 8].copy_from_slice(&w.to_le_bytes());
        }
        Ok(env)
    }

    fn push(&self, env: &Envelope) -> Result<(), CudaError> {
        if !self.running {
            return Err(CudaError::SwarmStopped("shut down".into()));
        }
        let since = Instant::now();
        let mut spins = 0u32;
        while !self.producer.push(env) {
            if since.elapsed() > self.config.patience {
                return Err(CudaError::SwarmTimeout {
                    what: "host send (the host ring stayed full)",
                    waited: self.config.patience,
                });
            }
            spins += 1;
            if spins > 64 {
                std::thread::sleep(Duration::from_micros(20));
            } else {
                std::thread::yield_now();
            }
        }
        Ok(())
    }

    /// Stops the kernel (messages still queued stay where they are, unprocessed) and returns
    /// the final counters. States, headers and counters stay readable; sends, stops and
    /// spawns are refused (`SwarmStopped`).
    pub fn halt(&mut self) -> Result<SwarmBlockStats, CudaError> {
        self.stop_kernel()?;
        self.totals()
    }

    /// [`Swarm::halt`], then frees everything.
    pub fn shutdown(mut self) -> Result<SwarmBlockStats, CudaError> {
        self.halt()
    }

    /// For the error of a kernel that did not exit: two reads of the per-block counters 50 ms
    /// apart (see `exit_report`).
    fn exit_report(&self) -> String {
        let mut raw = [0u8; 4];
        let exited = self.copy.copy_from_device(&mut raw, self.params.exited);
        let before = self.block_stats();
        std::thread::sleep(Duration::from_millis(50));
        match (exited, before, self.block_stats()) {
            (Ok(()), Ok(b), Ok(a)) => {
                exit_report(u32::from_le_bytes(raw), self.config.warps, &b, &a)
            }
            (e1, e2, e3) => format!(
                "the counters could not be read: {:?}",
                [e1.err(), e2.err(), e3.err()]
            ),
        }
    }

    fn stop_kernel(&mut self) -> Result<(), CudaError> {
        if !self.running {
            return Ok(());
        }
        self.running = false;
        let patience = self.config.patience;
        let r = self
            .copy
            .copy_to_device(self.params.stop, &1u32.to_le_bytes());
        let since = Instant::now();
        let exited = loop {
            match self.stream.is_idle() {
                Ok(true) => break Ok(()),
                Ok(false) if since.elapsed() < patience => {
                    std::thread::sleep(Duration::from_micros(200))
                }
                Ok(false) => {
                    self.stuck = true;
                    break Err(CudaError::SwarmStopped(format!(
                        "the kernel did not exit within {patience:?} of the stop request ({})",
                        self.exit_report()
                    )));
                }
                Err(e) => break Err(e),
            }
        };
        self.inbox.stop();
        if let Some(h) = self.drain.take() {
            let _ = h.join();
        }
        r.and(exited)
    }
}

impl Drop for Swarm {
    fn drop(&mut self) {
        if let Err(e) = self.stop_kernel() {
            tracing::error!("swarm shutdown: {e}");
        }
        if self.stuck {
            // The kernel may still be touching the memory below: leak it rather than free it
            // under a running kernel.
            std::mem::forget(std::mem::take(&mut self.memory));
            std::mem::forget(std::mem::take(&mut self.mapped_slots));
            std::mem::forget(std::mem::take(&mut self.mapped_lines));
            // Nor unload its module or let its context go.
            std::mem::forget(self.kernel.take());
            std::mem::forget(Arc::clone(&self._ctx));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_to_live_are_capped_so_the_device_clock_cannot_wrap() {
        assert_eq!(ttl_nanos(None), 0);
        assert_eq!(ttl_nanos(Some(Duration::ZERO)), 1);
        assert_eq!(ttl_nanos(Some(Duration::from_micros(3))), 3_000);
        assert_eq!(ttl_nanos(Some(MAX_TTL)), 1 << 62);
        assert_eq!(ttl_nanos(Some(MAX_TTL + Duration::from_nanos(1))), 1 << 62);
        assert_eq!(ttl_nanos(Some(Duration::MAX)), 1 << 62);
    }
}
