//! Where NVRTC and the CUDA headers come from.
//!
//! Two independent searches, both fallible and panic-free:
//!
//! 1. **Headers.** The include list is `RINGKERNEL_CUDA_INCLUDE` (`:`-separated, always first),
//!    then — unless those dirs already provide everything — the include dirs of the first *root*
//!    that has both `cooperative_groups.h` and libcu++'s `cuda/atomic`. Roots, in order:
//!    `$CUDA_HOME`, `$CUDA_PATH`, `/usr/local/cuda` (toolkit layout: `include/` + `include/cccl/`);
//!    `<ancestor>/.nvrtc/site` for every ancestor of the current dir and of `$CARGO_MANIFEST_DIR`
//!    (what `scripts/install-nvrtc.sh` creates); python site-packages (`$VIRTUAL_ENV`,
//!    `$CONDA_PREFIX`, `~/.local`, `/usr/local`, `/usr`, `$PYTHONPATH`). In a site dir the 13.x
//!    wheels put everything under `nvidia/cu13/{include,include/cccl,lib}`; the 12.x wheels split
//!    it over `nvidia/cuda_runtime`, `nvidia/cuda_cccl` and `nvidia/cuda_nvrtc`. One root supplies
//!    all toolkit headers so that headers of two CUDA versions are never mixed.
//!
//! 2. **libnvrtc.** cudarc 0.19 (`dynamic-loading`) opens NVRTC lazily by *bare file name* — the
//!    list [`cudarc::get_lib_name_candidates`]`("nvrtc")`, e.g. `libnvrtc.so`, `libnvrtc.so.13`,
//!    `libnvrtc.so.12` — so only the dynamic loader's search (`LD_LIBRARY_PATH` as it was at process
//!    start, `DT_RUNPATH`, `ld.so.cache`) applies; cudarc reads no `CUDA_PATH`/`CUDA_HOME` at run
//!    time. If no candidate opens, the first NVRTC call **panics** inside cudarc
//!    (`panic_no_lib_found`), and a missing symbol panics too. So before any cudarc NVRTC call we
//!    open the candidates ourselves with `libloading` (exactly cudarc's order) and check the
//!    symbols we use. If none opens, we look for a candidate file in the roots' lib dirs and open
//!    it by absolute path, keeping the handle for the life of the process: glibc's `dlopen`
//!    matches an already loaded object by its `DT_SONAME`, so cudarc's later
//!    `dlopen("libnvrtc.so.13")` returns that same object. NVRTC's builtins library
//!    (`libnvrtc-builtins.so.13.0`, opened by NVRTC itself during a compile) is preloaded from the
//!    same dir for the same reason. What the environment provides always wins over the preload.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use crate::error::CudaError;

/// Environment lookup (injected so tests can drive discovery without mutating the process env).
pub(crate) type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<OsString>;

/// The NVRTC entry points our compile path calls through cudarc; all exist since CUDA 7, but a
/// missing one would panic inside cudarc's loader, so their presence is checked up front.
const REQUIRED_SYMBOLS: [&str; 8] = [
    "nvrtcVersion",
    "nvrtcCreateProgram",
    "nvrtcCompileProgram",
    "nvrtcDestroyProgram",
    "nvrtcGetPTXSize",
    "nvrtcGetPTX",
    "nvrtcGetProgramLogSize",
    "nvrtcGetProgramLog",
];

/// One place a toolkit (or the pip wheels) may live: its include dirs and lib dirs.
#[derive(Debug, Clone)]
pub(crate) struct Root {
    /// Where it came from, for messages.
    pub(crate) origin: String,
    /// Include dirs in `-I` order.
    pub(crate) include: Vec<PathBuf>,
    /// Dirs that may hold `libnvrtc.so*`.
    pub(crate) lib: Vec<PathBuf>,
}

impl Root {
    fn toolkit(origin: String, base: &Path) -> Root {
        Root {
            origin,
            include: vec![
                base.join("include"),
                base.join("include/cccl"),
                base.join("targets/x86_64-linux/include"),
                base.join("targets/x86_64-linux/include/cccl"),
            ],
            lib: vec![
                base.join("lib64"),
                base.join("lib"),
                base.join("targets/x86_64-linux/lib"),
            ],
        }
    }

    /// The pip-wheel layouts inside one site-packages-like dir.
    fn wheels(origin: &str, site: &Path) -> [Root; 2] {
        let nv = site.join("nvidia");
        let cu13 = nv.join("cu13");
        [
            Root {
                origin: format!("{origin} (wheels 13.x: {})", cu13.display()),
                include: vec![cu13.join("include"), cu13.join("include/cccl")],
                lib: vec![cu13.join("lib")],
            },
            Root {
                origin: format!("{origin} (wheels 12.x: {})", nv.display()),
                include: vec![
                    nv.join("cuda_runtime/include"),
                    nv.join("cuda_cccl/include"),
                    nv.join("cuda_nvrtc/include"),
                ],
                lib: vec![nv.join("cuda_nvrtc/lib")],
            },
        ]
    }

    fn existing_includes(&self) -> Vec<PathBuf> {
        self.include
            .iter()
            .filter(|d| d.is_dir())
            .cloned()
            .collect()
    }
}

fn has_coop_groups(dirs: &[PathBuf]) -> bool {
    dirs.iter()
        .any(|d| d.join("cooperative_groups.h").is_file())
}

fn has_libcuxx(dirs: &[PathBuf]) -> bool {
    dirs.iter().any(|d| d.join("cuda/atomic").is_file())
}

/// Every root, in search order (see the module docs).
pub(crate) fn roots(env: EnvLookup<'_>) -> Vec<Root> {
    let mut roots = Vec::new();
    for var in ["CUDA_HOME", "CUDA_PATH"] {
        if let Some(v) = env(var).filter(|v| !v.is_empty()) {
            roots.push(Root::toolkit(format!("${var}"), Path::new(&v)));
        }
    }
    roots.push(Root::toolkit(
        "/usr/local/cuda".into(),
        Path::new("/usr/local/cuda"),
    ));

    // Project-local wheels: walk up from the working dir and from the crate being built/tested
    // (cargo sets CARGO_MANIFEST_DIR for `cargo test`/`cargo run`), so any crate of the workspace
    // finds `<repo>/.nvrtc/site`.
    let mut starts: Vec<PathBuf> = Vec::new();
    if let Ok(cwd) = std::env::current_dir() {
        starts.push(cwd);
    }
    if let Some(m) = env("CARGO_MANIFEST_DIR") {
        starts.push(PathBuf::from(m));
    }
    let mut seen_sites: Vec<PathBuf> = Vec::new();
    for start in &starts {
        for dir in start.ancestors() {
            let site = dir.join(".nvrtc/site");
            if site.is_dir() && !seen_sites.contains(&site) {
                roots.extend(Root::wheels(".nvrtc", &site));
                seen_sites.push(site);
            }
        }
    }

    for site in python_site_dirs(env) {
        if site.join("nvidia").is_dir() && !seen_sites.contains(&site) {
            roots.extend(Root::wheels("python site-packages", &site));
            seen_sites.push(site);
        }
    }
    roots
}

/// Site-packages dirs to look into, without running python (discovery must stay cheap and
/// side-effect free).
fn python_site_dirs(env: EnvLookup<'_>) -> Vec<PathBuf> {
    let mut prefixes: Vec<PathBuf> = Vec::new();
    for var in ["VIRTUAL_ENV", "CONDA_PREFIX"] {
        if let Some(v) = env(var).filter(|v| !v.is_empty()) {
            prefixes.push(PathBuf::from(v));
        }
    }
    if let Some(home) = env("HOME").filter(|v| !v.is_empty()) {
        prefixes.push(PathBuf::from(home).join(".local"));
    }
    prefixes.push("/usr/local".into());
    prefixes.push("/usr".into());

    let mut sites = Vec::new();
    if let Some(pp) = env("PYTHONPATH") {
        sites.extend(std::env::split_paths(&pp).filter(|p| !p.as_os_str().is_empty()));
    }
    for prefix in prefixes {
        let lib = prefix.join("lib");
        let Ok(entries) = std::fs::read_dir(&lib) else {
            continue;
        };
        let mut pythons: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().starts_with("python3"))
            .map(|e| e.path())
            .collect();
        // Newest python first, so a stale older install does not shadow a current one.
        pythons.sort();
        pythons.reverse();
        for py in pythons {
            sites.push(py.join("site-packages"));
            sites.push(py.join("dist-packages"));
        }
    }
    sites.push("/usr/lib/python3/dist-packages".into());
    sites
}

/// The include dirs for NVRTC (`-I` order), or a typed error naming every place searched.
pub(crate) fn include_dirs(env: EnvLookup<'_>, roots: &[Root]) -> Result<Vec<PathBuf>, CudaError> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    if let Some(extra) = env("RINGKERNEL_CUDA_INCLUDE") {
        for d in std::env::split_paths(&extra).filter(|p| !p.as_os_str().is_empty()) {
            if d.is_dir() {
                if !dirs.contains(&d) {
                    dirs.push(d);
                }
            } else {
                tracing::warn!(dir = %d.display(), "RINGKERNEL_CUDA_INCLUDE names a missing dir");
            }
        }
    }
    if !(has_coop_groups(&dirs) && has_libcuxx(&dirs)) {
        let root = roots.iter().find(|r| {
            let inc = r.existing_includes();
            has_coop_groups(&inc) && has_libcuxx(&inc)
        });
        if let Some(root) = root {
            tracing::debug!(origin = %root.origin, "CUDA headers");
            for d in root.existing_includes() {
                if !dirs.contains(&d) {
                    dirs.push(d);
                }
            }
        }
    }
    if has_coop_groups(&dirs) && has_libcuxx(&dirs) {
        return Ok(dirs);
    }
    let searched: Vec<String> = roots.iter().map(|r| r.origin.clone()).collect();
    Err(CudaError::CudaHeadersNotFound(format!(
        "need cooperative_groups.h and cuda/atomic; searched RINGKERNEL_CUDA_INCLUDE and {}; \
         install a CUDA toolkit, run scripts/install-nvrtc.sh, or set RINGKERNEL_CUDA_INCLUDE",
        searched.join(", ")
    )))
}

/// What was loaded: a description for messages and `Debug`.
#[derive(Debug, Clone)]
pub(crate) struct LoadedNvrtc {
    /// The candidate name cudarc will resolve, and where it came from.
    pub(crate) description: String,
}

/// Libraries opened by absolute path; kept open for the life of the process so cudarc's later
/// `dlopen` by soname resolves to them (see module docs).
static PRELOADED: Mutex<Vec<libloading::Library>> = Mutex::new(Vec::new());
/// The first successful probe; later discoveries reuse it (the library cannot change once cudarc
/// has opened it).
static LOADED: OnceLock<LoadedNvrtc> = OnceLock::new();

/// Makes sure cudarc's NVRTC loader will succeed, without panicking; preloads from `roots` when
/// the loader path has no NVRTC.
pub(crate) fn ensure_loaded(roots: &[Root]) -> Result<LoadedNvrtc, CudaError> {
    if let Some(l) = LOADED.get() {
        return Ok(l.clone());
    }
    let candidates = cudarc::get_lib_name_candidates("nvrtc");
    if let Some(name) = open_by_name(&candidates)? {
        let loaded = LoadedNvrtc {
            description: format!("{name} (from the dynamic loader's path)"),
        };
        return Ok(LOADED.get_or_init(|| loaded).clone());
    }

    let mut tried_dirs = Vec::new();
    for root in roots {
        for dir in &root.lib {
            if !dir.is_dir() {
                continue;
            }
            tried_dirs.push(dir.display().to_string());
            for file in &candidates {
                let path = dir.join(file);
                if !path.is_file() {
                    continue;
                }
                if let Err(e) = preload_dir(dir, &path) {
                    tracing::warn!(error = %e, "skipping NVRTC candidate");
                    tried_dirs.push(format!("{} ({e})", path.display()));
                    continue;
                }
                if let Some(name) = open_by_name(&candidates)? {
                    let loaded = LoadedNvrtc {
                        description: format!("{name} (preloaded from {})", path.display()),
                    };
                    return Ok(LOADED.get_or_init(|| loaded).clone());
                }
            }
        }
    }
    let mut names = candidates.clone();
    names.sort();
    names.dedup();
    Err(CudaError::NvrtcUnavailable(format!(
        "libnvrtc not found: none of {names:?} opens from the loader path (LD_LIBRARY_PATH, \
         ld.so.cache), and no such file in [{}]; install a CUDA toolkit or run \
         scripts/install-nvrtc.sh",
        tried_dirs.join(", ")
    )))
}

/// Tries cudarc's candidate names in cudarc's order; the first that opens is the one cudarc will
/// use. Checks that it has every symbol we call.
fn open_by_name(candidates: &[String]) -> Result<Option<String>, CudaError> {
    for name in candidates {
        // SAFETY: opening NVRTC runs its ELF initialisers (plain C++ static constructors with no
        // preconditions) — the same load cudarc itself performs on first use.
        let Ok(lib) = (unsafe { libloading::Library::new(name) }) else {
            continue;
        };
        for sym in REQUIRED_SYMBOLS {
            // SAFETY: the symbol is only looked up, never called or dereferenced here.
            let found = unsafe { lib.get::<unsafe extern "C" fn()>(sym.as_bytes()) };
            if found.is_err() {
                return Err(CudaError::NvrtcUnavailable(format!(
                    "{name} lacks symbol {sym}; it is not a usable NVRTC"
                )));
            }
        }
        return Ok(Some(name.clone()));
    }
    Ok(None)
}

/// Opens `nvrtc` and the builtins library beside it by absolute path and keeps both open.
fn preload_dir(dir: &Path, nvrtc: &Path) -> Result<(), CudaError> {
    let mut held = PRELOADED
        .lock()
        .map_err(|_| CudaError::NvrtcUnavailable("NVRTC preload lock poisoned".into()))?;
    // Builtins first: NVRTC dlopens it by soname during a compile.
    if let Ok(entries) = std::fs::read_dir(dir) {
        let mut builtins: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                let n = p.file_name().map(|n| n.to_string_lossy().into_owned());
                // The `.alt` variants are an alternative build NVRTC does not load by default.
                n.is_some_and(|n| n.starts_with("libnvrtc-builtins.so") && !n.contains(".alt"))
            })
            .collect();
        builtins.sort();
        for b in builtins {
            // SAFETY: as in `open_by_name`; the builtins library has no initialiser preconditions.
            match unsafe { libloading::Library::new(&b) } {
                Ok(lib) => held.push(lib),
                Err(e) => tracing::warn!(path = %b.display(), error = %e, "NVRTC builtins"),
            }
        }
    }
    // SAFETY: as in `open_by_name`.
    match unsafe { libloading::Library::new(nvrtc) } {
        Ok(lib) => {
            held.push(lib);
            Ok(())
        }
        Err(e) => Err(CudaError::NvrtcUnavailable(format!(
            "{} exists but does not load: {e}",
            nvrtc.display()
        ))),
    }
}

/// NVRTC's version. Only call after [`ensure_loaded`] succeeded (cudarc's loader would panic).
pub(crate) fn nvrtc_version() -> Result<(i32, i32), CudaError> {
    let (mut major, mut minor) = (0, 0);
    // SAFETY: `ensure_loaded` verified that cudarc's loader finds a library with this symbol; the
    // out-pointers are valid for writes.
    let r = unsafe { cudarc::nvrtc::sys::nvrtcVersion(&mut major, &mut minor) };
    r.result().map_err(|e| CudaError::Nvrtc {
        call: "nvrtcVersion",
        message: format!("{e:?}"),
    })?;
    Ok((major, minor))
}
