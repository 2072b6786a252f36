//! What one device-wide barrier costs: `cluster.sync()` across a thread block cluster (Hopper,
//! launched with `cuLaunchKernelEx` and a cluster dimension) beside `grid.sync()` across a
//! cooperative grid — one sync each, not a loop iteration with other work in it
//! (`kernels/sync_floor.cu`). Run it with no persistent kernel resident (it allocates).

use std::ffi::c_void;
use std::sync::Arc;

use cudarc::driver::CudaContext;

use crate::driver::{DeviceBuffer, Kernel, Stream};
use crate::error::CudaError;
use crate::nvrtc::NvrtcCompiler;

/// The kernels' source (needs `cooperative_groups.h`).
pub const SYNC_FLOOR_CU: &str = include_str!("../kernels/sync_floor.cu");
/// Syncs per loop round in the kernels.
const PER_ROUND: u64 = 8;
/// Most blocks a measurement may use.
const MAX_BLOCKS: u32 = 4096;

/// The two sync kernels loaded on one GPU.
#[derive(Debug)]
pub struct SyncCosts {
    _ctx: Arc<CudaContext>,
    cluster: Kernel,
    grid: Kernel,
    dsmem: Kernel,
    stream: Stream,
    out: DeviceBuffer,
    sm_count: u32,
}

impl SyncCosts {
    /// Compiles and loads the kernels on GPU `ordinal` (needs sm_90 for clusters).
    pub fn new(ordinal: usize) -> Result<Self, CudaError> {
        let ctx = crate::driver::open_context(ordinal)?;
        let info = crate::driver::device_info(&ctx)?;
        let arch = info.arch();
        let ptx = NvrtcCompiler::discover()?.compile("sync_floor.cu", SYNC_FLOOR_CU, &arch, &[])?;
        Ok(SyncCosts {
            cluster: Kernel::load(&ctx, &ptx.ptx, "fl_cluster_sync")?,
            grid: Kernel::load(&ctx, &ptx.ptx, "fl_grid_sync")?,
            dsmem: Kernel::load(&ctx, &ptx.ptx, "fl_dsmem_pingpong")?,
            stream: Stream::non_blocking(&ctx)?,
            out: DeviceBuffer::new(&ctx, MAX_BLOCKS as usize * 8)?,
            sm_count: info.sm_count,
            _ctx: ctx,
        })
    }

    /// Streaming multiprocessors of the GPU (one block each fills it).
    pub fn sm_count(&self) -> u32 {
        self.sm_count
    }

    /// ns per `cluster.sync()` with `blocks` blocks of `threads` threads in clusters of
    /// `cluster` blocks (`blocks` a multiple of `cluster`), over `iters` rounds.
    pub fn cluster_sync(
        &self,
        cluster: u32,
        blocks: u32,
        threads: u32,
        iters: u64,
    ) -> Result<f64, CudaError> {
        if cluster == 0 || blocks % cluster != 0 {
            return Err(CudaError::Config(format!(
                "{blocks} blocks do not split into clusters of {cluster}"
            )));
        }
        self.measure(&self.cluster, Some(cluster), false, blocks, threads, iters)
    }

    /// ns per `grid.sync()` across `blocks` co-resident blocks of `threads` threads.
    pub fn grid_sync(&self, blocks: u32, threads: u32, iters: u64) -> Result<f64, CudaError> {
        self.measure(&self.grid, None, true, blocks, threads, iters)
    }

    /// One-way latency (ns) of the raw DSMEM floor: the two blocks of a cluster of 2 ping-pong
    /// a counter through each other's shared memory `iters` times (mean over the run).
    pub fn dsmem_one_way(&self, iters: u64) -> Result<f64, CudaError> {
        if iters == 0 {
            return Err(CudaError::Config("at least one round trip".into()));
        }
        let (mut n, mut out) = (iters, self.out.ptr());
        let mut args = [
            &mut n as *mut u64 as *mut c_void,
            &mut out as *mut u64 as *mut c_void,
        ];
        // SAFETY: the arguments match fl_dsmem_pingpong(u64, u64*); `out` outlives the kernel
        // (we wait for it below).
        unsafe {
            self.dsmem
                .launch_ex(&self.stream, 2, 32, Some(2), false, &mut args)?
        };
        self.stream.synchronize()?;
        let mut raw = [0u8; 8];
        self.stream.copy_from_device(&mut raw, self.out.ptr())?;
        let ns = u64::from_le_bytes(raw);
        if ns == 0 {
            return Err(CudaError::Config("raw DSMEM floor timed out".into()));
        }
        Ok(ns as f64 / iters as f64 / 2.0)
    }

    fn measure(
        &self,
        kernel: &Kernel,
        cluster: Option<u32>,
        cooperative: bool,
        blocks: u32,
        threads: u32,
        iters: u64,
    ) -> Result<f64, CudaError> {
        if blocks == 0 || blocks > MAX_BLOCKS || iters == 0 {
            return Err(CudaError::Config(format!(
                "1..={MAX_BLOCKS} blocks and at least one round, got {blocks} and {iters}"
            )));
        }
        let (mut n, mut out) = (iters, self.out.ptr());
        let mut args = [
            &mut n as *mut u64 as *mut c_void,
            &mut out as *mut u64 as *mut c_void,
        ];
        // SAFETY: the arguments match fl_*_sync(u64, u64*); `out` holds MAX_BLOCKS words and
        // outlives the kernel (we wait for it below).
        unsafe {
            kernel.launch_ex(
                &self.stream,
                blocks,
                threads,
                cluster,
                cooperative,
                &mut args,
            )?
        };
        self.stream.synchronize()?;
        let mut raw = vec![0u8; blocks as usize * 8];
        self.stream.copy_from_device(&mut raw, self.out.ptr())?;
        let slowest = raw
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
            .max()
            .unwrap_or(0);
        Ok(slowest as f64 / (iters * PER_ROUND) as f64)
    }
}
