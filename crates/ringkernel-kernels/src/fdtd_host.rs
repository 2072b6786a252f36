//! Host driver of the persistent FDTD kernel ([`ringkernel_ir::kernel::fdtd`]).
//!
//! [`FdtdSim::start`] allocates every buffer (three fields, scratch, the mapped control block and
//! the mapped snapshot), uploads the initial field, and launches ONE cooperative kernel. From
//! then on nothing calls the driver except `cuStreamQuery` (to notice a dead kernel): commands
//! go through the control block, answers come back through it and the snapshot buffer. The
//! buffers are freed only after the kernel has returned — `cuMemFree`/`cuMemFreeHost`
//! synchronise the context and would hang under a resident kernel — and are leaked if it never
//! returns. Every wait has a deadline ([`FdtdConfig::timeout`]).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cudarc::driver::CudaContext;
use ringkernel_cuda::driver::{device_info, DeviceBuffer, Kernel, MappedBuffer, Stream};
use ringkernel_ir::kernel::fdtd::{
    ACK_SEQ, CMD_A, CMD_B, CMD_OP, CMD_SEQ, CMD_VALUE, CTRL_SLOTS, HEARTBEAT, OP_ENERGY, OP_INJECT,
    OP_PAUSE, OP_PROBE, OP_RUN, OP_SNAPSHOT, OP_STOP, PARAMS_BYTES, REMAINING, REPLY_STEP,
    REPLY_VALUE, SCRATCH_BYTES, STEPS_DONE,
};

use crate::error::KernelsError;

/// The kernel's by-value parameter block (`rk_fdtd_params`).
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C)]
struct Params {
    u: [u64; 3],
    ctrl: u64,
    snapshot: u64,
    scratch: u64,
    nx: u32,
    ny: u32,
    coef: f32,
    pad: u32,
}

const _: () = assert!(std::mem::size_of::<Params>() == PARAMS_BYTES);

/// Shape and limits of a simulation.
#[derive(Debug, Clone, Copy)]
pub struct FdtdConfig {
    /// Cells along x (at least 3).
    pub nx: u32,
    /// Cells along y (at least 3).
    pub ny: u32,
    /// `(c Δt / Δx)²`; the scheme is stable for values up to 0.5.
    pub coef: f32,
    /// Threads per block.
    pub block: u32,
    /// Longest wait for any answer of the kernel.
    pub timeout: Duration,
}

struct Buffers {
    fields: [DeviceBuffer; 3],
    _scratch: DeviceBuffer,
    ctrl: MappedBuffer<u64>,
    snapshot: MappedBuffer<f32>,
}

/// A running persistent FDTD kernel.
pub struct FdtdSim {
    // Dropped by hand (see Drop): never while the kernel may still run.
    bufs: Option<Buffers>,
    kernel: Option<Kernel>,
    stream: Stream,
    cfg: FdtdConfig,
    seq: u64,
    running: bool,
}

impl std::fmt::Debug for FdtdSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FdtdSim")
            .field("cfg", &self.cfg)
            .field("seq", &self.seq)
            .field("running", &self.running)
            .finish()
    }
}

impl FdtdSim {
    /// Loads `ptx` (from `emit_fdtd_2d`), allocates everything, uploads `initial` (the field at
    /// rest: previous = current) and launches kernel `name` cooperatively with as many blocks as
    /// can be co-resident (at most one per `block` cells).
    pub fn start(
        ctx: &Arc<CudaContext>,
        ptx: &str,
        name: &str,
        cfg: FdtdConfig,
        initial: &[f32],
    ) -> Result<Self, KernelsError> {
        let n = (cfg.nx as usize) * (cfg.ny as usize);
        if cfg.nx < 3 || cfg.ny < 3 || initial.len() != n || cfg.block == 0 || cfg.block > 1024 {
            return Err(KernelsError::Config(format!(
                "need nx, ny >= 3, nx * ny initial values (got {} for {} x {}), 1..=1024 threads",
                initial.len(),
                cfg.nx,
                cfg.ny
            )));
        }
        let info = device_info(ctx)?;
        if !info.cooperative_launch {
            return Err(KernelsError::Config(
                "the device does not support cooperative launch".into(),
            ));
        }
        let kernel = Kernel::load(ctx, ptx, name)?;
        let per_sm = kernel.max_blocks_per_sm(cfg.block)?;
        let co_resident = per_sm.saturating_mul(info.sm_count);
        if co_resident == 0 {
            return Err(KernelsError::Config(format!(
                "no block of {} threads fits on an SM",
                cfg.block
            )));
        }
        let wanted = u32::try_from(n.div_ceil(cfg.block as usize)).unwrap_or(u32::MAX);
        let grid = wanted.clamp(1, co_resident);
        let stream = Stream::non_blocking(ctx)?;
        // Everything is allocated before the launch (see the module docs).
        let bytes = n * 4;
        let fields = [
            DeviceBuffer::new(ctx, bytes)?,
            DeviceBuffer::new(ctx, bytes)?,
            DeviceBuffer::new(ctx, bytes)?,
        ];
        let scratch = DeviceBuffer::new(ctx, SCRATCH_BYTES)?;
        let ctrl = MappedBuffer::<u64>::new(ctx, CTRL_SLOTS)?;
        let snapshot = MappedBuffer::<f32>::new(ctx, n)?;
        let init: &[u8] = bytemuck::cast_slice(initial);
        stream.copy_to_device(fields[0].ptr(), init)?;
        stream.copy_to_device(fields[1].ptr(), init)?;
        let params = Params {
            u: [fields[0].ptr(), fields[1].ptr(), fields[2].ptr()],
            ctrl: ctrl.device_ptr(),
            snapshot: snapshot.device_ptr(),
            scratch: scratch.ptr(),
            nx: cfg.nx,
            ny: cfg.ny,
            coef: cfg.coef,
            pad: 0,
        };
        // SAFETY: `params` is exactly `rk_fdtd_params` (size checked at compile time and by the
        // kernel's static_assert); every address in it belongs to `bufs`, which this value keeps
        // alive until the kernel has returned (or leaks, see Drop).
        unsafe { kernel.launch_cooperative(&stream, grid, cfg.block, &params) }?;
        Ok(Self {
            bufs: Some(Buffers {
                fields,
                _scratch: scratch,
                ctrl,
                snapshot,
            }),
            kernel: Some(kernel),
            stream,
            cfg,
            seq: 0,
            running: true,
        })
    }

    fn slot(&self, k: usize) -> Option<&AtomicU64> {
        let b = self.bufs.as_ref()?;
        if k >= b.ctrl.len() {
            return None;
        }
        // SAFETY: `k` is in bounds; the mapped block is 8-byte aligned (page-aligned allocation),
        // lives as long as `bufs`, and the device accesses it only with atomic (system-scope)
        // operations, so viewing it as AtomicU64 is sound.
        Some(unsafe { &*(b.ctrl.host_ptr().add(k) as *const AtomicU64) })
    }

    fn load(&self, k: usize) -> u64 {
        self.slot(k).map_or(0, |s| s.load(Ordering::Acquire))
    }

    /// Waits until `done()` holds, failing on the deadline or if the kernel is gone.
    fn wait(&self, what: &'static str, done: impl Fn(&Self) -> bool) -> Result<(), KernelsError> {
        let start = Instant::now();
        let mut spins = 0u32;
        loop {
            if done(self) {
                return Ok(());
            }
            spins += 1;
            if spins % 64 == 0 {
                if self.stream.is_idle()? {
                    // One more look: the kernel may have answered just before returning.
                    if done(self) {
                        return Ok(());
                    }
                    return Err(KernelsError::KernelExited(what));
                }
                if start.elapsed() > self.cfg.timeout {
                    return Err(KernelsError::Timeout {
                        what,
                        waited: start.elapsed(),
                    });
                }
                std::thread::sleep(Duration::from_micros(50));
            } else {
                std::hint::spin_loop();
            }
        }
    }

    /// Posts one command and waits for its ack.
    fn command(&mut self, op: u32, a: u64, b: u64, value: f64) -> Result<(), KernelsError> {
        if !self.running {
            return Err(KernelsError::KernelExited("a command (already stopped)"));
        }
        let seq = self.seq + 1;
        for (k, v) in [
            (CMD_OP, u64::from(op)),
            (CMD_A, a),
            (CMD_B, b),
            (CMD_VALUE, value.to_bits()),
        ] {
            if let Some(s) = self.slot(k) {
                s.store(v, Ordering::Relaxed);
            }
        }
        // Publishing the sequence number last (release) makes the fields above visible first.
        if let Some(s) = self.slot(CMD_SEQ) {
            s.store(seq, Ordering::Release);
        }
        self.seq = seq;
        self.wait("a command ack", |me| me.load(ACK_SEQ) == seq)
    }

    /// Adds `amp` to the current field at `(x, y)` (ignored outside the grid).
    pub fn inject(&mut self, x: u32, y: u32, amp: f32) -> Result<(), KernelsError> {
        self.command(OP_INJECT, u64::from(x), u64::from(y), f64::from(amp))
    }

    /// Queues `steps` more time steps; they run between later polls (see [`Self::wait_idle`]).
    pub fn run(&mut self, steps: u32) -> Result<(), KernelsError> {
        self.command(OP_RUN, u64::from(steps), 0, 0.0)
    }

    /// Drops queued steps; returns the steps completed when the pause took effect.
    pub fn pause(&mut self) -> Result<u64, KernelsError> {
        self.command(OP_PAUSE, 0, 0, 0.0)?;
        Ok(self.load(STEPS_DONE))
    }

    /// Waits until no steps are queued; returns the steps completed.
    pub fn wait_idle(&mut self) -> Result<u64, KernelsError> {
        self.wait("queued steps to finish", |me| me.load(REMAINING) == 0)?;
        Ok(self.load(STEPS_DONE))
    }

    /// `(step, sum(u²))` of the current field.
    pub fn energy(&mut self) -> Result<(u64, f64), KernelsError> {
        self.command(OP_ENERGY, 0, 0, 0.0)?;
        Ok((
            self.load(REPLY_STEP),
            f64::from_bits(self.load(REPLY_VALUE)),
        ))
    }

    /// `(step, u(x, y))` of the current field.
    pub fn probe(&mut self, x: u32, y: u32) -> Result<(u64, f32), KernelsError> {
        self.command(OP_PROBE, u64::from(x), u64::from(y), 0.0)?;
        let v = f64::from_bits(self.load(REPLY_VALUE));
        Ok((self.load(REPLY_STEP), v as f32))
    }

    /// `(step, field)`: a copy of the current field.
    pub fn snapshot(&mut self) -> Result<(u64, Vec<f32>), KernelsError> {
        self.command(OP_SNAPSHOT, 0, 0, 0.0)?;
        let step = self.load(REPLY_STEP);
        let b = self
            .bufs
            .as_ref()
            .ok_or(KernelsError::KernelExited("a snapshot"))?;
        let n = b.snapshot.len();
        // SAFETY: the snapshot buffer holds `n` f32s; the kernel wrote them (then fenced at
        // system scope) before acking, and does not write it again until the next snapshot
        // command, which this `&mut self` method is the only way to send.
        let field = unsafe { std::slice::from_raw_parts(b.snapshot.host_ptr(), n) }.to_vec();
        Ok((step, field))
    }

    /// Loop iterations of the kernel so far (liveness).
    pub fn heartbeat(&self) -> u64 {
        self.load(HEARTBEAT)
    }

    /// Device address of field buffer `k` (0..3), for diagnostics.
    pub fn field_ptr(&self, k: usize) -> Option<u64> {
        self.bufs.as_ref()?.fields.get(k).map(DeviceBuffer::ptr)
    }

    /// Stops the kernel, waits for it to return, frees everything; returns the steps completed.
    pub fn stop(mut self) -> Result<u64, KernelsError> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> Result<u64, KernelsError> {
        if !self.running {
            return Ok(self.load(STEPS_DONE));
        }
        self.command(OP_STOP, 0, 0, 0.0)?;
        self.wait("the kernel to return", |me| {
            me.stream.is_idle().unwrap_or(false)
        })?;
        self.running = false;
        let steps = self.load(STEPS_DONE);
        // The kernel has returned: freeing is safe now.
        self.stream.synchronize()?;
        self.bufs = None;
        self.kernel = None;
        Ok(steps)
    }
}

impl Drop for FdtdSim {
    fn drop(&mut self) {
        if self.running && self.shutdown().is_err() {
            // The kernel may still be resident: freeing would hang the context, so leak.
            std::mem::forget(self.bufs.take());
            std::mem::forget(self.kernel.take());
        }
    }
}
