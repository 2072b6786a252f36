//! Raw floors between two GPUs, for the multi-GPU benchmark: what the hardware does with no
//! runtime in the way. Run them before any persistent kernel starts (they allocate).

use std::ffi::c_void;
use std::sync::Arc;
use std::time::Instant;

use cudarc::driver::CudaContext;

use super::topology::{copy_peer, enable_peer_access};
use crate::driver::{DeviceBuffer, Kernel, MappedBuffer, Stream};
use crate::error::CudaError;
use crate::nvrtc::NvrtcCompiler;

/// The P2P floor kernel source.
pub const P2P_CU: &str = include_str!("../../kernels/p2p_floor.cu");
const DEADLINE_NS: u64 = 20_000_000_000;

/// The P2P floor kernel and buffers on a pair of GPUs.
#[derive(Debug)]
pub struct PairFloors {
    ctx: [Arc<CudaContext>; 2],
    kernel: [Kernel; 2],
    stream: [Stream; 2],
    /// Each GPU's flag line (the other writes it) and result word.
    flag: [DeviceBuffer; 2],
    out: [DeviceBuffer; 2],
}

impl PairFloors {
    /// Compiles and loads the floor on CUDA ordinals `a` and `b`, with peer access both ways.
    pub fn new(a: usize, b: usize) -> Result<Self, CudaError> {
        let ctx = [
            crate::driver::open_context(a)?,
            crate::driver::open_context(b)?,
        ];
        enable_peer_access(&ctx[0], &ctx[1])?;
        enable_peer_access(&ctx[1], &ctx[0])?;
        let info = crate::driver::device_info(&ctx[0])?;
        let arch = info.arch();
        let ptx = NvrtcCompiler::discover()?.compile("p2p_floor.cu", P2P_CU, &arch, &[])?;
        Ok(PairFloors {
            kernel: [
                Kernel::load(&ctx[0], &ptx.ptx, "fl_p2p")?,
                Kernel::load(&ctx[1], &ptx.ptx, "fl_p2p")?,
            ],
            stream: [
                Stream::non_blocking(&ctx[0])?,
                Stream::non_blocking(&ctx[1])?,
            ],
            flag: [
                DeviceBuffer::new(&ctx[0], 128)?,
                DeviceBuffer::new(&ctx[1], 128)?,
            ],
            out: [
                DeviceBuffer::new(&ctx[0], 128)?,
                DeviceBuffer::new(&ctx[1], 128)?,
            ],
            ctx,
        })
    }

    /// One-way latency (ns) of a store into the other GPU's memory seen by a thread spinning
    /// there: half the mean round trip over `iters`.
    pub fn one_way(&self, iters: u64) -> Result<f64, CudaError> {
        for g in 0..2 {
            self.stream[g].copy_to_device(self.flag[g].ptr(), &[0u8; 8])?;
            self.stream[g].copy_to_device(self.out[g].ptr(), &[0u8; 8])?;
        }
        // The responder first, so the starter's first store finds it spinning.
        for g in [1usize, 0] {
            let (mut mine, mut theirs) = (self.flag[g].ptr(), self.flag[1 - g].ptr());
            let (mut n, mut starter, mut out, mut deadline) =
                (iters, u64::from(g == 0), self.out[g].ptr(), DEADLINE_NS);
            let mut args = [
                &mut mine as *mut u64 as *mut c_void,
                &mut theirs as *mut u64 as *mut c_void,
                &mut n as *mut u64 as *mut c_void,
                &mut starter as *mut u64 as *mut c_void,
                &mut out as *mut u64 as *mut c_void,
                &mut deadline as *mut u64 as *mut c_void,
            ];
            // SAFETY: the arguments match fl_p2p; `theirs` is the peer's buffer, reachable since
            // peer access is enabled both ways; both buffers outlive the kernels (synchronized
            // below).
            unsafe { self.kernel[g].launch(&self.stream[g], 1, 32, &mut args)? };
        }
        let mut ns = [0u8; 8];
        for g in 0..2 {
            self.stream[g].synchronize()?;
        }
        self.stream[0].copy_from_device(&mut ns, self.out[0].ptr())?;
        let ns = u64::from_le_bytes(ns);
        if ns == 0 {
            return Err(CudaError::Config("P2P floor timed out".into()));
        }
        Ok(ns as f64 / iters as f64 / 2.0)
    }

    /// Bytes/s of copying `bytes` from the first GPU to the second, `reps` times, directly
    /// (`cuMemcpyPeerAsync`) and through pinned host memory: (peer, host-staged).
    pub fn copy_bandwidth(
        &self,
        bytes: usize,
        reps: usize,
    ) -> Result<(Vec<f64>, Vec<f64>), CudaError> {
        let src = DeviceBuffer::new(&self.ctx[0], bytes)?;
        let dst = DeviceBuffer::new(&self.ctx[1], bytes)?;
        let pinned = MappedBuffer::<u8>::new(&self.ctx[0], bytes)?;
        let gbps = |t: f64| bytes as f64 / t;
        let (mut peer, mut staged) = (Vec::with_capacity(reps), Vec::with_capacity(reps));
        for _ in 0..reps {
            let t = Instant::now();
            // SAFETY: both buffers hold `bytes` bytes in their contexts.
            unsafe {
                copy_peer(
                    &self.ctx[1],
                    dst.ptr(),
                    &self.ctx[0],
                    src.ptr(),
                    bytes,
                    &self.stream[1],
                )?
            };
            peer.push(gbps(t.elapsed().as_secs_f64()));
            // SAFETY: `pinned` holds `bytes` bytes, ours alone; each copy completes before the
            // next starts and before `pinned` is dropped.
            let host = unsafe { std::slice::from_raw_parts_mut(pinned.host_ptr(), bytes) };
            let t = Instant::now();
            self.stream[0].copy_from_device(host, src.ptr())?;
            self.stream[1].copy_to_device(dst.ptr(), host)?;
            staged.push(gbps(t.elapsed().as_secs_f64()));
        }
        Ok((peer, staged))
    }
}
