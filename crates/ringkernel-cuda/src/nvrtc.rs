//! Run-time compilation of CUDA C++ to PTX with NVRTC (through cudarc), with an on-disk cache.
//!
//! Guarantees:
//! - **No panics for a missing toolkit.** cudarc 0.19 panics when its lazy loader finds no
//!   libnvrtc (or a symbol is missing); [`NvrtcCompiler::discover`] therefore probes the library
//!   itself with `libloading`, in cudarc's own candidate order, before any cudarc NVRTC call, and
//!   returns [`CudaError::NvrtcUnavailable`] / [`CudaError::CudaHeadersNotFound`]. A compiler
//!   value exists only once NVRTC is known to load. (No `catch_unwind` anywhere.)
//! - **Where things come from** is documented in `discover.rs` and `docs/nvrtc.md`: the loader
//!   path first, else `<repo>/.nvrtc/site` (from `scripts/install-nvrtc.sh`), `$CUDA_HOME`,
//!   `/usr/local/cuda`, python site-packages; headers from `$RINGKERNEL_CUDA_INCLUDE` plus one
//!   toolkit root.
//! - **Options** are always `-std=c++17 --gpu-architecture=<arch> -default-device -I<dir>…`, then
//!   `-lineinfo` if enabled, then the caller's extras. A rejected source gives
//!   [`CudaError::Compile`] with NVRTC's log (which names the file and line).
//! - **Cache**: see `cache.rs`; a hit is marked [`CompiledPtx::from_cache`].
//!
//! ```no_run
//! use ringkernel_cuda::nvrtc::{NvrtcCompiler, PROBE_SOURCE};
//! let nvrtc = NvrtcCompiler::discover()?;
//! let ptx = nvrtc.compile("probe.cu", PROBE_SOURCE, "sm_90", &[])?;
//! assert!(ptx.ptx.contains(".target sm_90"));
//! # Ok::<(), ringkernel_cuda::CudaError>(())
//! ```

mod cache;
mod discover;
pub mod testing;

use std::ffi::{CStr, CString, OsString};
use std::path::{Path, PathBuf};

use cudarc::nvrtc::{result as nv, sys};

use crate::error::CudaError;
use cache::PtxCache;

/// The probe kernels (`kernels/probe.cu`): cooperative groups, a thread block cluster with DSMEM
/// and system-scope `cuda::atomic_ref`. See the file for the launch contract of each kernel.
pub const PROBE_SOURCE: &str = include_str!("../kernels/probe.cu");

/// A located, loadable NVRTC plus the include dirs and cache dir to compile with.
#[derive(Debug, Clone)]
pub struct NvrtcCompiler {
    include_dirs: Vec<PathBuf>,
    version: (i32, i32),
    library: String,
    cache: Option<PtxCache>,
    lineinfo: bool,
}

/// The result of a compile.
#[derive(Debug, Clone)]
pub struct CompiledPtx {
    /// The PTX text (no trailing NUL).
    pub ptx: String,
    /// NVRTC's log (warnings; usually empty). Kept in cache entries too.
    pub log: String,
    /// True when the PTX came from the on-disk cache and NVRTC did not run.
    pub from_cache: bool,
}

impl NvrtcCompiler {
    /// Finds the CUDA headers, makes sure libnvrtc loads (preloading it from a known dir when the
    /// loader path lacks it), reads its version and picks the default cache dir.
    ///
    /// Reads `RINGKERNEL_CUDA_INCLUDE`, `CUDA_HOME`, `CUDA_PATH`, `RINGKERNEL_CACHE_DIR`,
    /// `XDG_CACHE_HOME`, `HOME`, `CARGO_TARGET_DIR`, `CARGO_MANIFEST_DIR`, `VIRTUAL_ENV`,
    /// `CONDA_PREFIX`, `PYTHONPATH`.
    pub fn discover() -> Result<Self, CudaError> {
        Self::discover_with_env(|k| std::env::var_os(k))
    }

    /// [`discover`](Self::discover) with an injected environment, for tests and embedders that
    /// must not depend on (or mutate) the process environment. Variables the lookup does not
    /// return are treated as unset; the file system is still searched as usual.
    pub fn discover_with_env<F>(env: F) -> Result<Self, CudaError>
    where
        F: Fn(&str) -> Option<OsString>,
    {
        let roots = discover::roots(&env);
        // The library first: without NVRTC, missing headers are not the problem to report.
        let loaded = discover::ensure_loaded(&roots)?;
        let include_dirs = discover::include_dirs(&env, &roots)?;
        let version = discover::nvrtc_version()?;
        tracing::debug!(library = %loaded.description, ?version, "NVRTC");
        Ok(NvrtcCompiler {
            include_dirs,
            version,
            library: loaded.description,
            cache: default_cache(&env),
            lineinfo: false,
        })
    }

    /// Caches compiled PTX in `dir` (created if missing). If it cannot be written the compiler
    /// runs uncached (logged at debug level) rather than failing.
    pub fn with_cache_dir(mut self, dir: PathBuf) -> Self {
        self.cache = PtxCache::open(dir);
        self
    }

    /// Turns the on-disk cache off.
    pub fn without_cache(mut self) -> Self {
        self.cache = None;
        self
    }

    /// Adds `-lineinfo` (source line tables for compute-sanitizer and profilers; no run-time cost).
    pub fn with_lineinfo(mut self, on: bool) -> Self {
        self.lineinfo = on;
        self
    }

    /// NVRTC's (major, minor) version, e.g. `(13, 0)`.
    pub fn version(&self) -> (i32, i32) {
        self.version
    }

    /// The include dirs passed as `-I`, in order.
    pub fn include_dirs(&self) -> &[PathBuf] {
        &self.include_dirs
    }

    /// The cache dir in use, if any.
    pub fn cache_dir(&self) -> Option<&Path> {
        self.cache.as_ref().map(PtxCache::dir)
    }

    /// Which libnvrtc cudarc resolves, and how it was found (for diagnostics).
    pub fn library(&self) -> &str {
        &self.library
    }

    /// The full option list for `arch` and `extra_opts` (also the cache key's options).
    pub fn options(&self, arch: &str, extra_opts: &[&str]) -> Vec<String> {
        let mut o = vec![
            "-std=c++17".to_string(),
            format!("--gpu-architecture={arch}"),
            "-default-device".to_string(),
        ];
        o.extend(
            self.include_dirs
                .iter()
                .map(|d| format!("-I{}", d.display())),
        );
        if self.lineinfo {
            o.push("-lineinfo".into());
        }
        o.extend(extra_opts.iter().map(|s| s.to_string()));
        o
    }

    /// Compiles `source` (program `name`, which NVRTC uses in log locations) for `arch`
    /// (`"sm_90"`, `"sm_90a"`, …), serving it from the cache when possible.
    pub fn compile(
        &self,
        name: &str,
        source: &str,
        arch: &str,
        extra_opts: &[&str],
    ) -> Result<CompiledPtx, CudaError> {
        let options = self.options(arch, extra_opts);
        let entry = self.cache.as_ref().map(|c| {
            let key = cache::key(self.version, arch, &options, source);
            (c, c.path(name, &key))
        });
        if let Some((c, path)) = &entry {
            if let Some(hit) = c.load(path) {
                return Ok(CompiledPtx {
                    ptx: hit.ptx,
                    log: hit.log,
                    from_cache: true,
                });
            }
        }
        let (ptx, log) = compile_uncached(name, source, &options)?;
        if let Some((c, path)) = &entry {
            c.store(path, &ptx, &log);
        }
        Ok(CompiledPtx {
            ptx,
            log,
            from_cache: false,
        })
    }
}

/// `$RINGKERNEL_CACHE_DIR` (empty: no cache), else the first writable of
/// `$XDG_CACHE_HOME/ringkernel/ptx`, `~/.cache/ringkernel/ptx`, `$CARGO_TARGET_DIR/ringkernel-ptx`.
fn default_cache(env: &dyn Fn(&str) -> Option<OsString>) -> Option<PtxCache> {
    if let Some(dir) = env("RINGKERNEL_CACHE_DIR") {
        if dir.is_empty() {
            return None;
        }
        return PtxCache::open(PathBuf::from(dir));
    }
    let mut candidates = Vec::new();
    if let Some(x) = env("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
        candidates.push(PathBuf::from(x).join("ringkernel/ptx"));
    }
    if let Some(h) = env("HOME").filter(|v| !v.is_empty()) {
        candidates.push(PathBuf::from(h).join(".cache/ringkernel/ptx"));
    }
    if let Some(t) = env("CARGO_TARGET_DIR").filter(|v| !v.is_empty()) {
        candidates.push(PathBuf::from(t).join("ringkernel-ptx"));
    }
    candidates.into_iter().find_map(PtxCache::open)
}

/// Destroys the NVRTC program on every exit path.
struct Program(sys::nvrtcProgram);

impl Drop for Program {
    fn drop(&mut self) {
        // SAFETY: the handle came from `create_program` and is destroyed only here, once.
        if let Err(e) = unsafe { nv::destroy_program(self.0) } {
            tracing::warn!(error = ?e, "nvrtcDestroyProgram failed");
        }
    }
}

/// Runs NVRTC. Only reachable through an [`NvrtcCompiler`], i.e. after the library was probed.
fn compile_uncached(
    name: &str,
    source: &str,
    options: &[String],
) -> Result<(String, String), CudaError> {
    // cudarc's option conversion unwraps `CString::new`, so interior NULs are rejected here.
    let bad_input = |what: &str| CudaError::Compile {
        name: name.to_string(),
        log: format!("{what} contains a NUL byte"),
    };
    let c_source = CString::new(source).map_err(|_| bad_input("the source"))?;
    let c_name = CString::new(name).map_err(|_| bad_input("the program name"))?;
    if options.iter().any(|o| o.contains('\0')) {
        return Err(bad_input("a compile option"));
    }
    let nvrtc_err = |call: &'static str| {
        move |e: nv::NvrtcError| CudaError::Nvrtc {
            call,
            message: format!("{:?}", e.0),
        }
    };
    // `c_source`/`c_name` outlive `prog` (declared before it, so dropped after it), as NVRTC may
    // keep pointers to them.
    let prog = Program(
        nv::create_program(&c_source, Some(&c_name)).map_err(nvrtc_err("nvrtcCreateProgram"))?,
    );
    // SAFETY: `prog.0` is a live program (destroyed only by `Program::drop`).
    let compiled = unsafe { nv::compile_program(prog.0, options) };
    // SAFETY: as above; the log is available after success and after failure.
    let log = unsafe { nv::get_program_log(prog.0) }
        .map(|raw| c_chars_to_string(&raw))
        .map_err(nvrtc_err("nvrtcGetProgramLog"))?;
    if let Err(e) = compiled {
        let log = if log.trim().is_empty() {
            format!("{:?} (NVRTC gave no log)", e.0)
        } else {
            log
        };
        return Err(CudaError::Compile {
            name: name.to_string(),
            log,
        });
    }
    // SAFETY: as above; compile succeeded so the PTX exists.
    let ptx = unsafe { nv::get_ptx(prog.0) }.map_err(nvrtc_err("nvrtcGetPTX"))?;
    Ok((c_chars_to_string(&ptx), log))
}

/// NVRTC returns NUL-terminated `c_char` buffers; PTX and logs are ASCII in practice, so a lossy
/// conversion never alters real content.
fn c_chars_to_string(raw: &[std::ffi::c_char]) -> String {
    // `as u8` reinterprets the byte whether `c_char` is `i8` or `u8` on this target.
    let bytes: Vec<u8> = raw.iter().map(|&c| c as u8).collect();
    match CStr::from_bytes_until_nul(&bytes) {
        Ok(c) => c.to_string_lossy().into_owned(),
        Err(_) => String::from_utf8_lossy(&bytes).into_owned(),
    }
}
