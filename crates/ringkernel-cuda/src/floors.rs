//! Raw physical floors measured in-process (kernels in `kernels/floors.cu`): what the framework
//! competes with (launch + sync, graph replay) and against (the bare persistent ping-pong and the
//! bare mapped-ring stream). Benchmarks run these on the same card in the same run as the framework.

use std::ffi::c_void;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cudarc::driver::result;
use cudarc::driver::sys;
use cudarc::driver::CudaContext;

use crate::driver::{self, check, DeviceBuffer, Kernel, MappedBuffer, Stream};
use crate::error::CudaError;
use crate::nvrtc::NvrtcCompiler;

/// Source of the floor kernels.
pub const FLOORS_CU: &str = include_str!("../kernels/floors.cu");
/// The device-operation cost probe (compiled after the layout header and the device runtime).
pub const OP_COSTS_CU: &str = include_str!("../kernels/op_costs.cu");

/// What [`Floors::op_costs`] measures, in the order of its result.
pub const OP_COST_NAMES: [&str; 9] = [
    "%globaltimer read",
    "clock64 read",
    "device-scope atomic fetch_add (device memory)",
    "volatile load from device memory (L2)",
    "16-byte load from mapped host memory (PCIe read round trip)",
    "store to mapped host memory + __threadfence_system()",
    "store to device memory + __threadfence()",
    "hash of an envelope's 14 words (reply stamp)",
    "posted 16-byte store to mapped host memory",
];

/// The complete translation unit of the op-cost probe.
pub fn op_costs_source() -> String {
    format!(
        "{}{}\n{}",
        crate::layout::device_header(),
        crate::program::RUNTIME_CUH,
        OP_COSTS_CU
    )
}
const DEADLINE_NS: u64 = 20_000_000_000;

/// The floor kernels, loaded on one device.
#[derive(Debug)]
pub struct Floors {
    ctx: Arc<CudaContext>,
    empty: Kernel,
    pingpong: Kernel,
    consume: Kernel,
    k2k: Kernel,
    k2k_between: Kernel,
    op_costs: Kernel,
    stream: Stream,
    clock_khz: u32,
    sm_count: u32,
}

/// One 64-byte message of the raw stream floor (mirrors `fl_msg`).
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C, align(64))]
struct FlMsg {
    seq: u64,
    payload: [u64; 7],
}

/// Producer head and consumer tail on separate 128-byte lines (mirrors `fl_ctl`).
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C, align(128))]
struct FlCtl {
    head: u64,
    pad: [u64; 15],
    tail: u64,
    pad2: [u64; 15],
}

fn at(p: *mut u64) -> &'static AtomicU64 {
    // SAFETY: callers pass aligned pointers into mapped buffers that outlive the measurement, and
    // only ever access them atomically from the host.
    unsafe { AtomicU64::from_ptr(p) }
}

impl Floors {
    /// Compiles and loads the floor kernels on GPU `ordinal`.
    pub fn new(ordinal: usize) -> Result<Self, CudaError> {
        let ctx = driver::open_context(ordinal)?;
        let info = driver::device_info(&ctx)?;
        let arch = info.arch();
        let nvrtc = NvrtcCompiler::discover()?;
        let ptx = nvrtc.compile("ringkernel_floors.cu", FLOORS_CU, &arch, &[])?;
        let probe = nvrtc.compile("ringkernel_op_costs.cu", &op_costs_source(), &arch, &[])?;
        Ok(Floors {
            op_costs: Kernel::load(&ctx, &probe.ptx, "rk_op_costs")?,
            clock_khz: info.clock_khz,
            sm_count: info.sm_count,
            empty: Kernel::load(&ctx, &ptx.ptx, "fl_empty")?,
            pingpong: Kernel::load(&ctx, &ptx.ptx, "fl_pingpong")?,
            consume: Kernel::load(&ctx, &ptx.ptx, "fl_consume")?,
            k2k: Kernel::load(&ctx, &ptx.ptx, "fl_k2k")?,
            k2k_between: Kernel::load(&ctx, &ptx.ptx, "fl_k2k_between")?,
            stream: Stream::non_blocking(&ctx)?,
            ctx,
        })
    }

    /// The device's nominal SM clock in kHz (0 if the driver does not say).
    pub fn clock_khz(&self) -> u32 {
        self.clock_khz
    }

    /// Cycles (`clock64`) of each operation in [`OP_COST_NAMES`], as one thread sees them.
    pub fn op_costs(&self) -> Result<Vec<u64>, CudaError> {
        let dev = DeviceBuffer::new(&self.ctx, 256 * 8)?;
        let host = MappedBuffer::<u64>::new(&self.ctx, 256)?;
        let out = MappedBuffer::<u64>::new(&self.ctx, 16)?;
        let mut dev_ptr = dev.ptr();
        let mut host_ptr = host.device_ptr();
        let mut out_ptr = out.device_ptr();
        let mut args = [
            (&mut dev_ptr) as *mut u64 as *mut c_void,
            (&mut host_ptr) as *mut u64 as *mut c_void,
            (&mut out_ptr) as *mut u64 as *mut c_void,
        ];
        // SAFETY: arguments match rk_op_costs; the buffers (256 u64s each, 16 for `out`) cover
        // every index it touches, and outlive the kernel (we synchronize before dropping them).
        unsafe { self.op_costs.launch(&self.stream, 1, 32, &mut args)? };
        self.stream.synchronize()?;
        // SAFETY: the kernel has finished; `out` holds 16 initialized u64s.
        let v = unsafe { std::slice::from_raw_parts(out.host_ptr(), OP_COST_NAMES.len()) };
        Ok(v.to_vec())
    }

    /// One-way latency (ns) of the raw K2K floor: two resident blocks ping-pong a flag through
    /// global memory `iters` times (mean over the run).
    pub fn k2k_one_way(&self, iters: u64) -> Result<f64, CudaError> {
        let flags = DeviceBuffer::new(&self.ctx, 64 * 8)?;
        let out = MappedBuffer::<u64>::new(&self.ctx, 16)?;
        let mut flags_ptr = flags.ptr();
        let mut iters_arg = iters;
        let mut out_ptr = out.device_ptr();
        let mut deadline = DEADLINE_NS;
        let mut args = [
            (&mut flags_ptr) as *mut u64 as *mut c_void,
            (&mut iters_arg) as *mut u64 as *mut c_void,
            (&mut out_ptr) as *mut u64 as *mut c_void,
            (&mut deadline) as *mut u64 as *mut c_void,
        ];
        // SAFETY: arguments match fl_k2k; both buffers outlive the kernel (synchronized below).
        // Two one-warp blocks are always co-resident on an idle GPU.
        unsafe { self.k2k.launch(&self.stream, 2, 32, &mut args)? };
        self.stream.synchronize()?;
        // SAFETY: the kernel has finished; element 0 is initialized (zeroed, then written).
        let ns = unsafe { *out.host_ptr() };
        if ns == 0 {
            return Err(CudaError::MeasurementTimeout {
                what: "the raw K2K floor".into(),
                deadline_ns: DEADLINE_NS,
            });
        }
        Ok(ns as f64 / iters as f64 / 2.0)
    }

    /// [`Floors::k2k_one_way`] between SMs `sm_a` and `sm_b` (`%smid` numbers, as
    /// [`crate::Swarm::block_sms`] reports them): the flag's latency depends on which two SMs
    /// exchange it. One untimed round trip first, so the partner block's start is not counted.
    /// Two distinct SMs below the device's SM count (PTX does not promise that `%smid` numbers
    /// are contiguous; on the H100s we ran they are `0..132`) and at least one round trip, or a
    /// configuration error; [`CudaError::SmUnavailable`] if no block was scheduled on one of
    /// them.
    pub fn k2k_one_way_between(&self, sm_a: u32, sm_b: u32, iters: u64) -> Result<f64, CudaError> {
        if sm_a == sm_b || sm_a.max(sm_b) >= self.sm_count || iters == 0 {
            return Err(CudaError::Config(format!(
                "the flag floor needs two distinct SMs below {} and at least one round trip \
                 (asked: SMs {sm_a} and {sm_b}, {iters} round trips)",
                self.sm_count
            )));
        }
        let flags = DeviceBuffer::new(&self.ctx, 64 * 8)?;
        let out = MappedBuffer::<u64>::new(&self.ctx, 16)?;
        let claims = DeviceBuffer::new(&self.ctx, 8)?;
        let (mut flags_ptr, mut a, mut b, mut n) = (flags.ptr(), sm_a, sm_b, iters);
        let (mut out_ptr, mut claims_ptr) = (out.device_ptr(), claims.ptr());
        // A role nobody claimed leaves the other spinning: give up well after the run's time.
        let mut deadline = iters.saturating_mul(10_000).saturating_add(200_000_000);
        let mut args = [
            (&mut flags_ptr) as *mut u64 as *mut c_void,
            (&mut a) as *mut u32 as *mut c_void,
            (&mut b) as *mut u32 as *mut c_void,
            (&mut n) as *mut u64 as *mut c_void,
            (&mut out_ptr) as *mut u64 as *mut c_void,
            (&mut claims_ptr) as *mut u64 as *mut c_void,
            (&mut deadline) as *mut u64 as *mut c_void,
        ];
        // Several one-warp blocks per SM, so the two SMs are likely to get one each (CUDA
        // promises no placement: a role nobody claims is reported below); all but two leave at
        // once.
        let grid = self.sm_count.saturating_mul(4);
        // SAFETY: arguments match fl_k2k_between; the buffers (zeroed on allocation) outlive the
        // kernel (synchronized below). If the two claimers are never resident together, each
        // gives up at its deadline, so the kernel always ends.
        unsafe { self.k2k_between.launch(&self.stream, grid, 32, &mut args)? };
        self.stream.synchronize()?;
        let mut raw = [0u8; 8];
        claims.read(&mut raw)?;
        let claimed: [u32; 2] = bytemuck::cast(raw);
        if let Some(i) = claimed.iter().position(|&c| c != 1) {
            return Err(CudaError::SmUnavailable {
                sm: [sm_a, sm_b][i],
            });
        }
        // SAFETY: the kernel has finished; element 0 is initialized (zeroed, then written).
        let ns = unsafe { *out.host_ptr() };
        if ns == 0 {
            return Err(CudaError::MeasurementTimeout {
                what: format!("the raw K2K floor between SMs {sm_a} and {sm_b}"),
                deadline_ns: deadline,
            });
        }
        Ok(ns as f64 / iters as f64 / 2.0)
    }

    /// SMs on this device.
    pub fn sm_count(&self) -> u32 {
        self.sm_count
    }

    /// Round trips (ns) of an empty kernel launch + stream synchronize.
    pub fn launch_sync(&self, iters: usize, warmup: usize) -> Result<Vec<f64>, CudaError> {
        let mut out = Vec::with_capacity(iters);
        for i in 0..iters + warmup {
            let t = Instant::now();
            // SAFETY: fl_empty takes no parameters.
            unsafe { self.empty.launch(&self.stream, 1, 32, &mut [])? };
            self.stream.synchronize()?;
            if i >= warmup {
                out.push(t.elapsed().as_nanos() as f64);
            }
        }
        Ok(out)
    }

    /// Round trips (ns) of a captured one-kernel CUDA graph: replay + stream synchronize.
    pub fn graph_replay(&self, iters: usize, warmup: usize) -> Result<Vec<f64>, CudaError> {
        check("cuCtxSetCurrent", self.ctx.bind_to_thread())?;
        let s = self.stream.raw();
        // SAFETY: capture on our own idle stream; the captured launch has no parameters.
        let graph = unsafe {
            check(
                "cuStreamBeginCapture",
                result::stream::begin_capture(
                    s,
                    sys::CUstreamCaptureMode::CU_STREAM_CAPTURE_MODE_THREAD_LOCAL,
                ),
            )?;
            let launched = self.empty.launch(&self.stream, 1, 32, &mut []);
            let graph = check("cuStreamEndCapture", result::stream::end_capture(s))?;
            launched?;
            graph
        };
        // SAFETY: `graph` was just captured.
        let exec = check("cuGraphInstantiate", unsafe {
            result::graph::instantiate(graph, sys::CUgraphInstantiate_flags(0))
        });
        let exec = match exec {
            Ok(e) => e,
            Err(e) => {
                // SAFETY: `graph` is ours.
                let _ = unsafe { result::graph::destroy(graph) };
                return Err(e);
            }
        };
        let mut out = Vec::with_capacity(iters);
        let mut res = Ok(());
        for i in 0..iters + warmup {
            let t = Instant::now();
            // SAFETY: `exec` is a live executable graph; `s` a live stream.
            if let Err(e) = check("cuGraphLaunch", unsafe { result::graph::launch(exec, s) }) {
                res = Err(e);
                break;
            }
            if let Err(e) = self.stream.synchronize() {
                res = Err(e);
                break;
            }
            if i >= warmup {
                out.push(t.elapsed().as_nanos() as f64);
            }
        }
        // SAFETY: no launch of `exec` is pending (we synchronized), both handles are ours.
        unsafe {
            let _ = result::graph::exec_destroy(exec);
            let _ = result::graph::destroy(graph);
        }
        res.map(|_| out)
    }

    /// Round trips (ns) of the bare persistent ping-pong through mapped memory.
    pub fn pingpong(&self, iters: usize, warmup: usize) -> Result<Vec<f64>, CudaError> {
        self.pingpong_within(iters, warmup, Duration::from_secs(20))
    }

    /// [`Floors::pingpong`], giving up (and reporting an error) after `limit`.
    pub fn pingpong_within(
        &self,
        iters: usize,
        warmup: usize,
        limit: Duration,
    ) -> Result<Vec<f64>, CudaError> {
        let flags = MappedBuffer::<u64>::new(&self.ctx, 64)?;
        let h2d = flags.host_ptr();
        // SAFETY: element 16 of a 64-element buffer (its own 128-byte line).
        let d2h = unsafe { flags.host_ptr().add(16) };
        let mut h2d_dev = flags.device_ptr();
        let mut d2h_dev = flags.device_ptr() + 16 * 8;
        let mut total = (iters + warmup) as u64;
        let mut deadline = limit.as_nanos().min(u128::from(DEADLINE_NS)) as u64;
        let mut args = [
            (&mut h2d_dev) as *mut u64 as *mut c_void,
            (&mut d2h_dev) as *mut u64 as *mut c_void,
            (&mut total) as *mut u64 as *mut c_void,
            (&mut deadline) as *mut u64 as *mut c_void,
        ];
        // SAFETY: arguments match fl_pingpong; `flags` outlives the kernel (we synchronize below).
        unsafe { self.pingpong.launch(&self.stream, 1, 32, &mut args)? };
        let mut out = Vec::with_capacity(iters);
        let give_up = Instant::now() + limit;
        for e in 1..=total {
            let t = Instant::now();
            at(h2d).store(e, Ordering::Release);
            while at(d2h).load(Ordering::Acquire) < e {
                if Instant::now() > give_up {
                    // The kernel gives up on its own deadline too; wait for it so its memory
                    // outlives it.
                    let _ = self.stream.synchronize();
                    return Err(CudaError::Config(format!(
                        "raw ping-pong: no answer to round trip {e} within {limit:?}"
                    )));
                }
                std::hint::spin_loop();
            }
            if e > warmup as u64 {
                out.push(t.elapsed().as_nanos() as f64);
            }
        }
        self.stream.synchronize()?;
        Ok(out)
    }

    /// Messages per second of the bare host→GPU stream: `rings` producer threads, each writing
    /// `per_ring` 64-byte messages into its own mapped ring, one 256-thread consumer block per ring.
    pub fn h2d_stream(&self, rings: usize, per_ring: u64) -> Result<f64, CudaError> {
        const CAP: u64 = 1 << 16;
        const BATCH: u64 = 512;
        let msgs = MappedBuffer::<FlMsg>::new(&self.ctx, rings * CAP as usize)?;
        let ctls = MappedBuffer::<FlCtl>::new(&self.ctx, rings)?;
        let sums = DeviceBuffer::new(&self.ctx, 8)?;
        let (mut m_dev, mut c_dev, mut cap, mut total, mut s_dev, mut deadline) = (
            msgs.device_ptr(),
            ctls.device_ptr(),
            CAP,
            per_ring,
            sums.ptr(),
            DEADLINE_NS,
        );
        let mut args = [
            (&mut m_dev) as *mut u64 as *mut c_void,
            (&mut c_dev) as *mut u64 as *mut c_void,
            (&mut cap) as *mut u64 as *mut c_void,
            (&mut total) as *mut u64 as *mut c_void,
            (&mut s_dev) as *mut u64 as *mut c_void,
            (&mut deadline) as *mut u64 as *mut c_void,
        ];
        // SAFETY: arguments match fl_consume; the buffers outlive the kernel (synchronized below).
        unsafe {
            self.consume
                .launch(&self.stream, rings as u32, 256, &mut args)?
        };
        let base = msgs.host_ptr() as usize;
        let ctl_base = ctls.host_ptr() as usize;
        let start = Instant::now();
        std::thread::scope(|scope| {
            for r in 0..rings {
                scope.spawn(move || {
                    let ring = (base as *mut FlMsg).wrapping_add(r * CAP as usize);
                    let ctl = (ctl_base as *mut FlCtl).wrapping_add(r);
                    // SAFETY: `ctl` is element r of the ctls buffer; head/tail are aligned u64s.
                    let (head, tail) = unsafe {
                        (
                            at(std::ptr::addr_of_mut!((*ctl).head)),
                            at(std::ptr::addr_of_mut!((*ctl).tail)),
                        )
                    };
                    let mut h = 0u64;
                    while h < per_ring {
                        let n = BATCH.min(per_ring - h);
                        while h + n > tail.load(Ordering::Acquire) + CAP {
                            std::hint::spin_loop();
                        }
                        for i in 0..n {
                            let m = FlMsg {
                                seq: h + i,
                                payload: [h + i; 7],
                            };
                            // SAFETY: slot (h+i) % CAP of this thread's ring, free per the tail check.
                            unsafe {
                                std::ptr::write_volatile(ring.add(((h + i) % CAP) as usize), m)
                            };
                        }
                        std::sync::atomic::fence(Ordering::SeqCst);
                        h += n;
                        head.store(h, Ordering::Release);
                    }
                });
            }
        });
        self.stream.synchronize()?;
        let secs = start.elapsed().as_secs_f64();
        let mut sum = [0u8; 8];
        sums.read(&mut sum)?;
        let want: u64 = (0..per_ring).sum::<u64>().wrapping_mul(rings as u64);
        if u64::from_le_bytes(sum) != want {
            return Err(CudaError::Config(
                "raw stream floor lost or corrupted messages".into(),
            ));
        }
        Ok((rings as u64 * per_ring) as f64 / secs)
    }
}
