//! The only file that calls the CUDA driver. Each wrapper ends in a checked result; allocations
//! free themselves on drop and record (never panic on) errors.
//!
//! The driver is loaded at run time by cudarc; [`open_context`] checks that the library exists
//! before any cudarc call that would panic on a missing library.

use std::ffi::{c_void, CString};
use std::marker::PhantomData;
use std::sync::Arc;

use cudarc::driver::result::{self, DriverError};
use cudarc::driver::{sys, CudaContext};

use crate::error::CudaError;

/// Converts a driver error into ours, naming the call.
pub(crate) fn check<T>(call: &'static str, r: Result<T, DriverError>) -> Result<T, CudaError> {
    r.map_err(|e| CudaError::Driver {
        call,
        message: format!("{e:?}"),
    })
}

/// Resets the primary context of GPU `ordinal`: destroys every allocation and module of it in
/// this process. After a sticky fault (illegal address, trap) this does *not* make the GPU
/// usable again in the same process — the driver keeps refusing new contexts (`fault-probe`
/// measures it); only a new process can. Every object of the old context must be dropped first.
pub fn reset_primary_context(ordinal: usize) -> Result<(), CudaError> {
    let ordinal = i32::try_from(ordinal)
        .map_err(|_| CudaError::Config(format!("device ordinal {ordinal} out of range")))?;
    let mut dev: sys::CUdevice = 0;
    // SAFETY: `dev` is a valid out-pointer; the driver was initialized by the context that
    // faulted (the caller had one).
    let got = unsafe { sys::cuDeviceGet(&mut dev, ordinal) };
    check("cuDeviceGet", got.result())?;
    // SAFETY: resets the process's primary context of `dev`; the caller guarantees nothing of
    // it is in use any more.
    let reset = unsafe { sys::cuDevicePrimaryCtxReset_v2(dev) };
    check("cuDevicePrimaryCtxReset", reset.result())
}

/// Opens the primary context of GPU `ordinal`, or explains why there is none.
pub fn open_context(ordinal: usize) -> Result<Arc<CudaContext>, CudaError> {
    // SAFETY: only probes whether the driver library can be loaded; no CUDA state is touched.
    if !unsafe { sys::is_culib_present() } {
        return Err(CudaError::DriverUnavailable(
            "libcuda could not be loaded (no NVIDIA driver on this machine)".into(),
        ));
    }
    let count = check("cuDeviceGetCount", CudaContext::device_count())
        .map_err(|e| CudaError::DriverUnavailable(e.to_string()))?;
    let count = usize::try_from(count).unwrap_or(0);
    if ordinal >= count {
        return Err(CudaError::NoDevice { ordinal, count });
    }
    check("cuDevicePrimaryCtxRetain", CudaContext::new(ordinal))
}

/// Facts about the device the runtime uses.
#[derive(Debug, Clone)]
pub struct DeviceInfo {
    /// Marketing name, e.g. "NVIDIA H100 80GB HBM3".
    pub name: String,
    /// Compute capability (major, minor).
    pub compute_capability: (i32, i32),
    /// Streaming multiprocessors.
    pub sm_count: u32,
    /// Whether cooperative launch (guaranteed co-residency) is supported.
    pub cooperative_launch: bool,
    /// Peak SM clock in kHz as the driver reports it (0 if it does not): converts `clock64`
    /// cycles to time, approximately (the clock may run lower under power limits).
    pub clock_khz: u32,
}

impl DeviceInfo {
    /// The NVRTC architecture of this device, e.g. `sm_90`.
    pub fn arch(&self) -> String {
        format!(
            "sm_{}{}",
            self.compute_capability.0, self.compute_capability.1
        )
    }
}

/// Reads [`DeviceInfo`] for the context's device.
pub fn device_info(ctx: &CudaContext) -> Result<DeviceInfo, CudaError> {
    let name = check("cuDeviceGetName", ctx.name())?;
    let compute_capability = check("cuDeviceGetAttribute", ctx.compute_capability())?;
    let sm_count = check(
        "cuDeviceGetAttribute",
        ctx.attribute(sys::CUdevice_attribute::CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT),
    )?;
    let coop = check(
        "cuDeviceGetAttribute",
        ctx.attribute(sys::CUdevice_attribute::CU_DEVICE_ATTRIBUTE_COOPERATIVE_LAUNCH),
    )?;
    let clock_khz = ctx
        .attribute(sys::CUdevice_attribute::CU_DEVICE_ATTRIBUTE_CLOCK_RATE)
        .map_or(0, |k| u32::try_from(k).unwrap_or(0));
    Ok(DeviceInfo {
        name,
        compute_capability,
        sm_count: u32::try_from(sm_count).unwrap_or(0),
        cooperative_launch: coop != 0,
        clock_khz,
    })
}

/// Page-locked host memory mapped into the device address space (`cuMemHostAlloc(DEVICEMAP)`),
/// zero-initialized. The host reads and writes it through [`MappedBuffer::host_ptr`]; the device
/// through [`MappedBuffer::device_ptr`].
#[derive(Debug)]
pub struct MappedBuffer<T> {
    host: *mut T,
    device: u64,
    len: usize,
    ctx: Arc<CudaContext>,
    _t: PhantomData<T>,
}

// SAFETY: the buffer is plain pinned memory owned by this value; which thread may touch which part
// is governed by the ring protocol, and every shared access goes through atomics.
unsafe impl<T: Send> Send for MappedBuffer<T> {}
// SAFETY: as above; `&MappedBuffer` only hands out raw pointers.
unsafe impl<T: Sync> Sync for MappedBuffer<T> {}

impl<T: bytemuck::Pod> MappedBuffer<T> {
    /// Allocates `len` zeroed elements.
    pub fn new(ctx: &Arc<CudaContext>, len: usize) -> Result<Self, CudaError> {
        check("cuCtxSetCurrent", ctx.bind_to_thread())?;
        let bytes = len.max(1) * std::mem::size_of::<T>();
        // SAFETY: the context is current; we own the returned allocation and free it in Drop.
        let host = check("cuMemHostAlloc", unsafe {
            result::malloc_host(
                bytes,
                sys::CU_MEMHOSTALLOC_DEVICEMAP | sys::CU_MEMHOSTALLOC_PORTABLE,
            )
        })?;
        // SAFETY: `host` points to `bytes` writable bytes just allocated.
        unsafe { std::ptr::write_bytes(host.cast::<u8>(), 0, bytes) };
        let mut device: sys::CUdeviceptr = 0;
        // SAFETY: `host` was allocated with DEVICEMAP, so it has a device alias.
        let r = unsafe { sys::cuMemHostGetDevicePointer_v2(&mut device, host, 0) }.result();
        if let Err(e) = r {
            // SAFETY: `host` came from cuMemHostAlloc above and is not used after this.
            let _ = unsafe { result::free_host(host) };
            return check("cuMemHostGetDevicePointer", Err(e));
        }
        Ok(MappedBuffer {
            host: host.cast::<T>(),
            device,
            len,
            ctx: ctx.clone(),
            _t: PhantomData,
        })
    }

    /// Host address of element 0.
    pub fn host_ptr(&self) -> *mut T {
        self.host
    }

    /// Device address of element 0.
    pub fn device_ptr(&self) -> u64 {
        self.device
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the buffer holds no elements.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl<T> Drop for MappedBuffer<T> {
    fn drop(&mut self) {
        if self.ctx.bind_to_thread().is_err() {
            tracing::warn!("could not bind CUDA context to free mapped memory");
            return;
        }
        // SAFETY: allocated by cuMemHostAlloc in `new`; the kernel that used it has stopped (the
        // backend drops buffers only after the kernel exited or the context is being torn down).
        if let Err(e) = unsafe { result::free_host(self.host.cast::<c_void>()) } {
            tracing::warn!("cuMemFreeHost failed: {e:?}");
        }
    }
}

/// Device memory from `cuMemAlloc`, zeroed.
#[derive(Debug)]
pub struct DeviceBuffer {
    ptr: u64,
    bytes: usize,
    ctx: Arc<CudaContext>,
}

impl DeviceBuffer {
    /// Allocates `bytes` zeroed bytes.
    pub fn new(ctx: &Arc<CudaContext>, bytes: usize) -> Result<Self, CudaError> {
        check("cuCtxSetCurrent", ctx.bind_to_thread())?;
        let bytes = bytes.max(16);
        // SAFETY: the context is current; freed in Drop.
        let ptr = match unsafe { result::malloc_sync(bytes) } {
            Ok(p) => p,
            Err(DriverError(sys::CUresult::CUDA_ERROR_OUT_OF_MEMORY)) => {
                let free = ctx.mem_get_info().map_or(0, |(free, _)| free);
                return Err(CudaError::OutOfMemory { bytes, free });
            }
            Err(e) => {
                return Err(CudaError::Driver {
                    call: "cuMemAlloc",
                    message: format!("{e:?}"),
                })
            }
        };
        // SAFETY: `ptr` is a fresh allocation of `bytes` bytes.
        check("cuMemsetD8", unsafe {
            result::memset_d8_sync(ptr, 0, bytes)
        })?;
        settle_legacy_stream()?;
        Ok(DeviceBuffer {
            ptr,
            bytes,
            ctx: ctx.clone(),
        })
    }

    /// Copies the first `dst.len()` bytes back to the host (synchronously; not on a kernel's stream).
    pub fn read(&self, dst: &mut [u8]) -> Result<(), CudaError> {
        self.read_at(0, dst)
    }

    /// Copies `dst.len()` bytes starting `offset` bytes into the buffer back to the host
    /// (synchronously, on the legacy stream: only while no kernel uses the buffer).
    pub fn read_at(&self, offset: usize, dst: &mut [u8]) -> Result<(), CudaError> {
        check("cuCtxSetCurrent", self.ctx.bind_to_thread())?;
        if offset
            .checked_add(dst.len())
            .is_none_or(|end| end > self.bytes)
        {
            return Err(CudaError::Config(
                "read past the end of a device buffer".into(),
            ));
        }
        // SAFETY: `ptr + offset` holds at least `dst.len()` bytes (checked above).
        check("cuMemcpyDtoH", unsafe {
            result::memcpy_dtoh_sync(dst, self.ptr + offset as u64)
        })
    }

    /// Sets `len` bytes from `offset` to `byte` (synchronously, on the legacy stream: only for
    /// ranges no running kernel reads yet).
    pub fn fill(&self, offset: usize, len: usize, byte: u8) -> Result<(), CudaError> {
        check("cuCtxSetCurrent", self.ctx.bind_to_thread())?;
        if offset.checked_add(len).is_none_or(|end| end > self.bytes) {
            return Err(CudaError::Config(
                "fill past the end of a device buffer".into(),
            ));
        }
        if len == 0 {
            return Ok(());
        }
        // SAFETY: `ptr + offset .. + len` lies inside this allocation (checked above).
        check("cuMemsetD8", unsafe {
            result::memset_d8_sync(self.ptr + offset as u64, byte, len)
        })?;
        settle_legacy_stream()
    }

    /// Device address.
    pub fn ptr(&self) -> u64 {
        self.ptr
    }

    /// Size in bytes.
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

/// Waits for the legacy default stream. A memset of device memory returns before the fill is
/// done (CUDA's "API synchronization behavior"), and our kernels run on non-blocking streams,
/// which do not wait for the legacy stream: without this a kernel could read the bytes before
/// they are zeroed. Only blocking streams delay it, and we create none.
fn settle_legacy_stream() -> Result<(), CudaError> {
    // SAFETY: the null handle names the current context's legacy default stream (the callers
    // have just made the buffer's context current).
    check("cuStreamSynchronize", unsafe {
        result::stream::synchronize(std::ptr::null_mut())
    })
}

impl Drop for DeviceBuffer {
    fn drop(&mut self) {
        if self.ctx.bind_to_thread().is_err() {
            return;
        }
        // SAFETY: allocated by cuMemAlloc in `new`; no kernel uses it any more (see MappedBuffer).
        if let Err(e) = unsafe { result::free_sync(self.ptr) } {
            tracing::warn!("cuMemFree failed: {e:?}");
        }
    }
}

/// A non-blocking stream (it never synchronizes with the legacy default stream).
#[derive(Debug)]
pub struct Stream {
    raw: sys::CUstream,
    ctx: Arc<CudaContext>,
}

// SAFETY: a CUstream handle may be used from any thread once its context is current there.
unsafe impl Send for Stream {}
// SAFETY: as above; the driver serializes use of one stream internally.
unsafe impl Sync for Stream {}

impl Stream {
    /// Creates a stream with `CU_STREAM_NON_BLOCKING`.
    pub fn non_blocking(ctx: &Arc<CudaContext>) -> Result<Self, CudaError> {
        check("cuCtxSetCurrent", ctx.bind_to_thread())?;
        let raw = check(
            "cuStreamCreate",
            result::stream::create(result::stream::StreamKind::NonBlocking),
        )?;
        Ok(Stream {
            raw,
            ctx: ctx.clone(),
        })
    }

    /// The raw handle.
    pub fn raw(&self) -> sys::CUstream {
        self.raw
    }

    /// `Ok(true)` when all work on the stream finished, `Ok(false)` while some runs.
    pub fn is_idle(&self) -> Result<bool, CudaError> {
        check("cuCtxSetCurrent", self.ctx.bind_to_thread())?;
        // SAFETY: `raw` is a live stream of this context.
        match unsafe { sys::cuStreamQuery(self.raw) } {
            sys::CUresult::CUDA_SUCCESS => Ok(true),
            sys::CUresult::CUDA_ERROR_NOT_READY => Ok(false),
            other => check("cuStreamQuery", other.result()).map(|_| false),
        }
    }

    /// Waits for all work on the stream.
    pub fn synchronize(&self) -> Result<(), CudaError> {
        check("cuCtxSetCurrent", self.ctx.bind_to_thread())?;
        // SAFETY: `raw` is a live stream.
        check("cuStreamSynchronize", unsafe {
            result::stream::synchronize(self.raw)
        })
    }

    /// Copies `src` to device address `dst` on this stream and waits for it.
    pub fn copy_to_device(&self, dst: u64, src: &[u8]) -> Result<(), CudaError> {
        check("cuCtxSetCurrent", self.ctx.bind_to_thread())?;
        // SAFETY: the caller passes a device range of at least `src.len()` bytes; we wait for the
        // copy before returning, so `src` outlives it.
        check("cuMemcpyHtoDAsync", unsafe {
            result::memcpy_htod_async(dst, src, self.raw)
        })?;
        // SAFETY: `raw` is a live stream.
        check("cuStreamSynchronize", unsafe {
            result::stream::synchronize(self.raw)
        })
    }
}

impl Stream {
    /// Copies `dst.len()` bytes from device address `src` into `dst` on this stream and waits.
    pub fn copy_from_device(&self, dst: &mut [u8], src: u64) -> Result<(), CudaError> {
        check("cuCtxSetCurrent", self.ctx.bind_to_thread())?;
        // SAFETY: the caller passes a device range of at least `dst.len()` bytes; we wait for
        // the copy before returning, so `dst` outlives it.
        check("cuMemcpyDtoHAsync", unsafe {
            result::memcpy_dtoh_async(dst, src, self.raw)
        })?;
        // SAFETY: `raw` is a live stream.
        check("cuStreamSynchronize", unsafe {
            result::stream::synchronize(self.raw)
        })
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        if self.ctx.bind_to_thread().is_err() {
            return;
        }
        // SAFETY: created in `non_blocking`; destroying a stream with pending work is allowed (the
        // driver releases it when the work completes).
        if let Err(e) = unsafe { result::stream::destroy(self.raw) } {
            tracing::warn!("cuStreamDestroy failed: {e:?}");
        }
    }
}

/// A loaded module and one kernel from it.
#[derive(Debug)]
pub struct Kernel {
    module: sys::CUmodule,
    function: sys::CUfunction,
    ctx: Arc<CudaContext>,
}

// SAFETY: module and function handles are context-wide and usable from any thread.
unsafe impl Send for Kernel {}
// SAFETY: as above.
unsafe impl Sync for Kernel {}

impl Kernel {
    /// Loads PTX and looks up `name`.
    pub fn load(ctx: &Arc<CudaContext>, ptx: &str, name: &str) -> Result<Self, CudaError> {
        Self::load_with(ctx, ptx, name, false)
    }

    /// Loads PTX with every default global load cached in L2 only (JIT cache mode CG), and
    /// looks up `name`. For kernels whose blocks hand data to each other without fences: the
    /// non-coherent L1 of one SM could otherwise serve a stale copy of what another SM wrote.
    pub fn load_l2_only(ctx: &Arc<CudaContext>, ptx: &str, name: &str) -> Result<Self, CudaError> {
        Self::load_with(ctx, ptx, name, true)
    }

    fn load_with(
        ctx: &Arc<CudaContext>,
        ptx: &str,
        name: &str,
        l2_only: bool,
    ) -> Result<Self, CudaError> {
        check("cuCtxSetCurrent", ctx.bind_to_thread())?;
        let image = CString::new(ptx).map_err(|_| CudaError::Driver {
            call: "cuModuleLoadData",
            message: "PTX contains a NUL byte".into(),
        })?;
        let module = if l2_only {
            let mut module: sys::CUmodule = std::ptr::null_mut();
            let mut options = [sys::CUjit_option::CU_JIT_CACHE_MODE];
            // The driver reads an enum option's value from the pointer-sized slot itself.
            let mut values = [sys::CUjit_cacheMode::CU_JIT_CACHE_OPTION_CG as usize as *mut c_void];
            // SAFETY: `image` is a NUL-terminated PTX string; `options` and `values` hold one
            // entry each and live across the call; `module` receives the handle.
            let r = unsafe {
                sys::cuModuleLoadDataEx(
                    &mut module,
                    image.as_ptr().cast(),
                    1,
                    options.as_mut_ptr(),
                    values.as_mut_ptr(),
                )
            };
            check("cuModuleLoadDataEx", r.result())?;
            module
        } else {
            // SAFETY: `image` is a NUL-terminated PTX string that lives across the call.
            check("cuModuleLoadData", unsafe {
                result::module::load_data(image.as_ptr().cast())
            })?
        };
        let cname = CString::new(name).map_err(|_| CudaError::Driver {
            call: "cuModuleGetFunction",
            message: "kernel name contains a NUL byte".into(),
        })?;
        // SAFETY: `module` was just loaded.
        let function = match unsafe { result::module::get_function(module, cname) } {
            Ok(f) => f,
            Err(e) => {
                // SAFETY: `module` is ours and unused.
                let _ = unsafe { result::module::unload(module) };
                return check("cuModuleGetFunction", Err(e));
            }
        };
        Ok(Kernel {
            module,
            function,
            ctx: ctx.clone(),
        })
    }

    /// Blocks of `block_threads` threads that fit on one SM at once.
    pub fn max_blocks_per_sm(&self, block_threads: u32) -> Result<u32, CudaError> {
        check("cuCtxSetCurrent", self.ctx.bind_to_thread())?;
        // SAFETY: `function` is a live kernel handle.
        let n = check("cuOccupancyMaxActiveBlocksPerMultiprocessor", unsafe {
            result::occupancy::max_active_block_per_multiprocessor(
                self.function,
                block_threads as i32,
                0,
            )
        })?;
        Ok(u32::try_from(n).unwrap_or(0))
    }

    /// Clusters of `cluster` blocks of `block_threads` threads that can be co-resident.
    pub fn max_active_clusters(&self, block_threads: u32, cluster: u32) -> Result<u32, CudaError> {
        check("cuCtxSetCurrent", self.ctx.bind_to_thread())?;
        // SAFETY: an all-zero attribute is a valid value of this plain C struct.
        let mut a: sys::CUlaunchAttribute = unsafe { std::mem::zeroed() };
        a.id = sys::CUlaunchAttributeID::CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION;
        a.value.clusterDim.x = cluster;
        a.value.clusterDim.y = 1;
        a.value.clusterDim.z = 1;
        let mut attrs = [a];
        let config = sys::CUlaunchConfig {
            gridDimX: cluster,
            gridDimY: 1,
            gridDimZ: 1,
            blockDimX: block_threads,
            blockDimY: 1,
            blockDimZ: 1,
            sharedMemBytes: 0,
            hStream: std::ptr::null_mut(),
            attrs: attrs.as_mut_ptr(),
            numAttrs: 1,
        };
        let mut n: i32 = 0;
        // SAFETY: `config` and its attribute live across the call; `function` is live.
        let r = unsafe { sys::cuOccupancyMaxActiveClusters(&mut n, self.function, &config) };
        check("cuOccupancyMaxActiveClusters", r.result())?;
        Ok(u32::try_from(n).unwrap_or(0))
    }

    /// Launches the kernel normally on `stream` with `shared_bytes` of dynamic shared memory.
    ///
    /// # Safety
    /// 1. `args` must point to values matching the kernel's parameters, in order.
    /// 2. Every device address passed must stay valid until the kernel exits.
    pub unsafe fn launch(
        &self,
        stream: &Stream,
        grid: u32,
        block: u32,
        args: &mut [*mut c_void],
    ) -> Result<(), CudaError> {
        check("cuCtxSetCurrent", self.ctx.bind_to_thread())?;
        // SAFETY: forwarded from the caller's contract.
        check("cuLaunchKernel", unsafe {
            result::launch_kernel(
                self.function,
                (grid, 1, 1),
                (block, 1, 1),
                0,
                stream.raw(),
                args,
            )
        })
    }

    /// Launches with `cuLaunchKernelEx`: in thread block clusters of `cluster` blocks along x
    /// when given (sm_90), and as a cooperative launch (co-resident grid, `grid.sync()`) when
    /// `cooperative`.
    ///
    /// # Safety
    /// As [`Kernel::launch`].
    pub unsafe fn launch_ex(
        &self,
        stream: &Stream,
        grid: u32,
        block: u32,
        cluster: Option<u32>,
        cooperative: bool,
        args: &mut [*mut c_void],
    ) -> Result<(), CudaError> {
        check("cuCtxSetCurrent", self.ctx.bind_to_thread())?;
        let mut attrs: Vec<sys::CUlaunchAttribute> = Vec::with_capacity(2);
        if let Some(c) = cluster {
            // SAFETY: an all-zero attribute is a valid value of this plain C struct.
            let mut a: sys::CUlaunchAttribute = unsafe { std::mem::zeroed() };
            a.id = sys::CUlaunchAttributeID::CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION;
            a.value.clusterDim.x = c;
            a.value.clusterDim.y = 1;
            a.value.clusterDim.z = 1;
            attrs.push(a);
        }
        if cooperative {
            // SAFETY: as above.
            let mut a: sys::CUlaunchAttribute = unsafe { std::mem::zeroed() };
            a.id = sys::CUlaunchAttributeID::CU_LAUNCH_ATTRIBUTE_COOPERATIVE;
            a.value.cooperative = 1;
            attrs.push(a);
        }
        let config = sys::CUlaunchConfig {
            gridDimX: grid,
            gridDimY: 1,
            gridDimZ: 1,
            blockDimX: block,
            blockDimY: 1,
            blockDimZ: 1,
            sharedMemBytes: 0,
            hStream: stream.raw(),
            attrs: attrs.as_mut_ptr(),
            numAttrs: attrs.len() as u32,
        };
        // SAFETY: `config` and `attrs` live across the call (the driver copies them); the
        // arguments follow the caller's contract.
        let r = unsafe {
            sys::cuLaunchKernelEx(
                &config,
                self.function,
                args.as_mut_ptr(),
                std::ptr::null_mut(),
            )
        };
        check("cuLaunchKernelEx", r.result())
    }

    /// The raw function handle.
    pub fn raw(&self) -> sys::CUfunction {
        self.function
    }

    /// Launches the kernel cooperatively (the driver refuses a grid that cannot be co-resident).
    ///
    /// # Safety
    /// 1. `params` must be exactly the kernel's parameter block, and every device address in it
    ///    must stay valid until the kernel exits.
    /// 2. The caller must keep all memory the kernel touches alive until the stream is idle.
    pub unsafe fn launch_cooperative<P: bytemuck::Pod>(
        &self,
        stream: &Stream,
        grid: u32,
        block: u32,
        params: &P,
    ) -> Result<(), CudaError> {
        check("cuCtxSetCurrent", self.ctx.bind_to_thread())?;
        let mut args = [params as *const P as *mut c_void];
        // SAFETY: forwarded from the caller's contract; the driver copies the parameter block
        // during the call, so `params` need not outlive it.
        check("cuLaunchCooperativeKernel", unsafe {
            result::launch_cooperative_kernel(
                self.function,
                (grid, 1, 1),
                (block, 1, 1),
                0,
                stream.raw(),
                &mut args,
            )
        })
    }
}

impl Drop for Kernel {
    fn drop(&mut self) {
        if self.ctx.bind_to_thread().is_err() {
            return;
        }
        // SAFETY: loaded in `load`; dropped only after the kernel stopped running.
        if let Err(e) = unsafe { result::module::unload(self.module) } {
            tracing::warn!("cuModuleUnload failed: {e:?}");
        }
    }
}
