//! NVRTC compilation without a GPU: the probe kernel, compile errors, the PTX cache, discovery.
//!
//! Runs in CI on machines without CUDA. NVRTC comes from `scripts/install-nvrtc.sh` (or a
//! toolkit); when it cannot be loaded every test here **fails** (through `testing::compiler`), it
//! never skips.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};

use ringkernel_cuda::nvrtc::{testing, NvrtcCompiler, PROBE_SOURCE};
use ringkernel_cuda::CudaError;

/// A compiler with its own empty cache dir, so tests neither see nor pollute the user's cache.
fn isolated() -> (NvrtcCompiler, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let c = testing::compiler().with_cache_dir(dir.path().to_path_buf());
    assert_eq!(c.cache_dir(), Some(dir.path()));
    (c, dir)
}

fn cache_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .expect("read cache dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.to_string_lossy().ends_with(".ptx.cache"))
        .collect();
    v.sort();
    v
}

/// The process environment with some variables replaced (`None` = unset); nothing is mutated.
fn env_with(overrides: Vec<(&'static str, Option<OsString>)>) -> impl Fn(&str) -> Option<OsString> {
    move |k: &str| match overrides.iter().find(|(n, _)| *n == k) {
        Some((_, v)) => v.clone(),
        None => std::env::var_os(k),
    }
}

#[test]
fn probe_compiles_for_sm90_with_clusters_dsmem_and_system_atomics() {
    let c = testing::compiler().without_cache();
    let out = c
        .compile("probe.cu", PROBE_SOURCE, "sm_90", &[])
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!out.from_cache);
    let ptx = &out.ptx;
    assert!(ptx.contains(".target sm_90\n"), "arch missing from PTX");
    assert!(ptx.contains(".visible .entry rk_probe_cluster("));
    assert!(ptx.contains(".visible .entry rk_probe_grid("));
    // __cluster_dims__(2,1,1) compiled in.
    assert!(ptx.contains(".reqnctapercluster 2, 1, 1"));
    // cluster.sync() and the DSMEM address mapping of map_shared_rank().
    assert!(ptx.contains("barrier.cluster.arrive"));
    assert!(ptx.contains("barrier.cluster.wait"));
    assert!(ptx.contains("mapa."), "no DSMEM mapping (mapa) in PTX");
    // cuda::atomic_ref<_, thread_scope_system>::fetch_add(release).
    assert!(ptx.contains("atom.add.release.sys.u64"));
    // grid.sync() needs the cooperative-launch grid workspace.
    assert!(ptx.contains("%envreg"));
}

#[test]
fn arch_specific_target_sm90a() {
    let c = testing::compiler().without_cache();
    let out = c
        .compile("probe.cu", PROBE_SOURCE, "sm_90a", &[])
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(out.ptx.contains(".target sm_90a\n"));
}

#[test]
fn broken_kernel_is_rejected_with_the_log_naming_the_line() {
    let c = testing::compiler().without_cache();
    let src =
        "extern \"C\" __global__ void k(int* o) {\n    o[0] = 1;\n    o[1] = undefined_thing;\n}\n";
    let err = c
        .compile("broken.cu", src, "sm_90", &[])
        .expect_err("must be rejected");
    match &err {
        CudaError::Compile { name, log } => {
            assert_eq!(name, "broken.cu");
            assert!(
                log.contains("broken.cu(3)"),
                "log does not name line 3: {log}"
            );
            assert!(log.contains("undefined_thing"), "{log}");
        }
        other => panic!("expected CudaError::Compile, got {other:?}"),
    }
    // The Display carries the log too, so `?`-propagated errors stay useful.
    assert!(err.to_string().contains("broken.cu(3)"));
}

#[test]
fn bad_option_and_nul_bytes_are_typed_errors() {
    let c = testing::compiler().without_cache();
    let err = c
        .compile(
            "k.cu",
            "__global__ void k() {}",
            "sm_90",
            &["--no-such-option"],
        )
        .expect_err("must be rejected");
    assert!(matches!(err, CudaError::Compile { .. }), "{err:?}");
    let err = c
        .compile("k.cu", "__global__ void k() {}\0", "sm_90", &[])
        .expect_err("must be rejected");
    assert!(matches!(err, CudaError::Compile { ref log, .. } if log.contains("NUL")));
}

#[test]
fn options_have_the_documented_shape() {
    let c = testing::compiler().with_lineinfo(true);
    let o = c.options("sm_90", &["-DRK_X=1"]);
    assert_eq!(o[0], "-std=c++17");
    assert_eq!(o[1], "--gpu-architecture=sm_90");
    assert_eq!(o[2], "-default-device");
    let includes: Vec<String> = c
        .include_dirs()
        .iter()
        .map(|d| format!("-I{}", d.display()))
        .collect();
    assert_eq!(&o[3..3 + includes.len()], includes.as_slice());
    assert_eq!(o[o.len() - 2], "-lineinfo");
    assert_eq!(o[o.len() - 1], "-DRK_X=1");
}

#[test]
fn second_compile_comes_from_the_cache() {
    let (c, dir) = isolated();
    let src = "extern \"C\" __global__ void cached(int* o) { o[threadIdx.x] = 7; }";
    let first = c.compile("cached.cu", src, "sm_90", &[]).expect("compile");
    assert!(!first.from_cache);
    assert_eq!(cache_files(dir.path()).len(), 1);
    let second = c.compile("cached.cu", src, "sm_90", &[]).expect("compile");
    assert!(second.from_cache);
    assert_eq!(first.ptx, second.ptx);
    assert_eq!(first.log, second.log);

    // Arch, options and source are all part of the key.
    assert!(
        !c.compile("cached.cu", src, "sm_90a", &[])
            .expect("compile")
            .from_cache
    );
    assert!(
        !c.compile("cached.cu", src, "sm_90", &["-DX"])
            .expect("compile")
            .from_cache
    );
    let other = src.replace('7', "8");
    assert!(
        !c.compile("cached.cu", &other, "sm_90", &[])
            .expect("compile")
            .from_cache
    );
    assert_eq!(cache_files(dir.path()).len(), 4);

    // A second compiler on the same dir (another process, later) hits the same entry.
    let again = testing::compiler().with_cache_dir(dir.path().to_path_buf());
    assert!(
        again
            .compile("cached.cu", src, "sm_90", &[])
            .expect("compile")
            .from_cache
    );
}

#[test]
fn corrupt_cache_entries_are_ignored_and_rewritten() {
    let (c, dir) = isolated();
    let src = "extern \"C\" __global__ void corrupt(int* o) { o[0] = 42; }";
    let fresh = c.compile("corrupt.cu", src, "sm_90", &[]).expect("compile");
    let files = cache_files(dir.path());
    assert_eq!(files.len(), 1);
    let entry = &files[0];

    // Flip one PTX byte: the checksum catches it.
    let mut bytes = fs::read(entry).expect("read entry");
    let last = bytes.len() - 2;
    bytes[last] ^= 0x20;
    fs::write(entry, &bytes).expect("corrupt entry");
    let recovered = c.compile("corrupt.cu", src, "sm_90", &[]).expect("compile");
    assert!(!recovered.from_cache);
    assert_eq!(recovered.ptx, fresh.ptx);
    assert!(
        c.compile("corrupt.cu", src, "sm_90", &[])
            .expect("compile")
            .from_cache
    );

    // Truncated, empty and garbage entries likewise.
    for junk in [&bytes[..10], &b""[..], &b"not a cache entry\n\xff\xfe"[..]] {
        fs::write(entry, junk).expect("write junk");
        let r = c.compile("corrupt.cu", src, "sm_90", &[]).expect("compile");
        assert!(!r.from_cache);
        assert_eq!(r.ptx, fresh.ptx);
    }
    // An entry that cannot be read at all (a directory in its place) is a miss; the write then
    // fails and is only logged.
    fs::remove_file(entry).expect("remove entry");
    fs::create_dir(entry).expect("dir in place of entry");
    let r = c.compile("corrupt.cu", src, "sm_90", &[]).expect("compile");
    assert!(!r.from_cache);
    // No temp files are left behind by the failed write.
    let leftovers: Vec<_> = fs::read_dir(dir.path())
        .expect("read dir")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn unwritable_cache_dir_means_no_cache_not_an_error() {
    let file = tempfile::NamedTempFile::new().expect("temp file");
    // A dir below a regular file can never be created, even by root.
    let c = testing::compiler().with_cache_dir(file.path().join("ptx"));
    assert_eq!(c.cache_dir(), None);
    let src = "extern \"C\" __global__ void nocache() {}";
    assert!(
        !c.compile("nocache.cu", src, "sm_90", &[])
            .expect("compile")
            .from_cache
    );
    assert!(
        !c.compile("nocache.cu", src, "sm_90", &[])
            .expect("compile")
            .from_cache
    );
}

#[test]
fn cache_dir_from_env_and_disabled_by_empty_value() {
    let dir = tempfile::tempdir().expect("temp dir");
    let c = NvrtcCompiler::discover_with_env(env_with(vec![(
        "RINGKERNEL_CACHE_DIR",
        Some(dir.path().join("ptx").into()),
    )]))
    .expect("discover");
    assert_eq!(c.cache_dir(), Some(dir.path().join("ptx").as_path()));
    let c = NvrtcCompiler::discover_with_env(env_with(vec![(
        "RINGKERNEL_CACHE_DIR",
        Some(OsString::new()),
    )]))
    .expect("discover");
    assert_eq!(c.cache_dir(), None);
}

#[test]
fn extra_include_dirs_come_from_ringkernel_cuda_include() {
    let base = testing::compiler();
    let extra = tempfile::tempdir().expect("temp dir");
    fs::write(
        extra.path().join("rk_env_probe.h"),
        "#pragma once\n#define RK_ENV_PROBE_VALUE 4141\n",
    )
    .expect("write header");
    let missing = extra.path().join("does-not-exist");
    let joined = std::env::join_paths([extra.path(), missing.as_path()]).expect("join");
    let c =
        NvrtcCompiler::discover_with_env(env_with(vec![("RINGKERNEL_CUDA_INCLUDE", Some(joined))]))
            .expect("discover")
            .without_cache();
    // The env dirs come first; missing ones are skipped; the toolkit headers follow.
    assert_eq!(c.include_dirs()[0], extra.path());
    assert!(!c.include_dirs().contains(&missing));
    assert_eq!(&c.include_dirs()[1..], base.include_dirs());

    let src = "#include <rk_env_probe.h>\n#include <cooperative_groups.h>\n\
               extern \"C\" __global__ void envinc(int* o) { o[0] = RK_ENV_PROBE_VALUE; }\n";
    let out = c
        .compile("envinc.cu", src, "sm_90", &[])
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(out.ptx.contains("4141"));
    // Without the env var that header is not found: the log names it.
    let err = base
        .without_cache()
        .compile("envinc.cu", src, "sm_90", &[])
        .expect_err("must be rejected");
    assert!(matches!(err, CudaError::Compile { ref log, .. } if log.contains("rk_env_probe.h")));
}

#[test]
fn env_include_dirs_that_are_complete_replace_the_toolkit_root() {
    let base = testing::compiler();
    let joined = std::env::join_paths(base.include_dirs()).expect("join");
    let c =
        NvrtcCompiler::discover_with_env(env_with(vec![("RINGKERNEL_CUDA_INCLUDE", Some(joined))]))
            .expect("discover");
    assert_eq!(c.include_dirs(), base.include_dirs());
}

#[test]
fn cuda_home_root_is_searched_first() {
    // A fake toolkit: discovery only checks for the two marker headers.
    let home = tempfile::tempdir().expect("temp dir");
    fs::create_dir_all(home.path().join("include/cccl/cuda")).expect("mkdir");
    fs::write(home.path().join("include/cooperative_groups.h"), "").expect("write");
    fs::write(home.path().join("include/cccl/cuda/atomic"), "").expect("write");
    let c = NvrtcCompiler::discover_with_env(env_with(vec![
        ("CUDA_HOME", Some(home.path().into())),
        ("RINGKERNEL_CUDA_INCLUDE", None),
    ]))
    .expect("discover");
    assert_eq!(
        c.include_dirs(),
        &[
            home.path().join("include"),
            home.path().join("include/cccl")
        ]
    );
}

#[test]
fn version_is_reported_and_matches_the_ptx_header() {
    let c = testing::compiler();
    let (major, minor) = c.version();
    assert!(
        major >= 12,
        "NVRTC {major}.{minor} is too old for sm_90 clusters"
    );
    assert!(minor >= 0);
    assert!(c.library().contains("libnvrtc"), "{}", c.library());
    let out = c
        .without_cache()
        .compile("v.cu", "extern \"C\" __global__ void v() {}", "sm_90", &[])
        .expect("compile");
    let banner = format!("Cuda compilation tools, release {major}.{minor},");
    assert!(out.ptx.contains(&banner), "PTX header lacks `{banner}`");
}

#[test]
fn testing_helper_compiles_other_sources() {
    let out = testing::compile_sm90(
        "helper.cu",
        "extern \"C\" __global__ void helper(float* x) { x[threadIdx.x] *= 2.0f; }",
    );
    assert!(out.ptx.contains(".visible .entry helper("));
    assert!(out.ptx.contains(&format!(".target {}", testing::TEST_ARCH)));
}

/// Child half of `missing_nvrtc_is_a_typed_error_not_a_panic`: run by the parent in a clean
/// environment. Run alone it just reports what discovery finds here.
#[test]
#[ignore = "spawned by missing_nvrtc_is_a_typed_error_not_a_panic in a clean environment"]
fn child_discover_in_clean_env() {
    match NvrtcCompiler::discover() {
        Ok(c) => println!("OUTCOME: found {}", c.library()),
        Err(e @ (CudaError::NvrtcUnavailable(_) | CudaError::CudaHeadersNotFound(_))) => {
            println!("OUTCOME: typed error: {e}")
        }
        Err(e) => panic!("unexpected error kind: {e:?}"),
    }
}

#[test]
fn missing_nvrtc_is_a_typed_error_not_a_panic() {
    // The library cannot be unloaded from this process once found, so the missing case runs in a
    // child: no env (no LD_LIBRARY_PATH, CUDA_HOME, CARGO_MANIFEST_DIR) and a working dir outside
    // the repo, so neither the loader nor the walk-up finds `.nvrtc`.
    let exe = std::env::current_exe().expect("current exe");
    let cwd = tempfile::tempdir().expect("temp dir");
    let out = std::process::Command::new(exe)
        .args([
            "child_discover_in_clean_env",
            "--exact",
            "--ignored",
            "--nocapture",
        ])
        .env_clear()
        .current_dir(cwd.path())
        .output()
        .expect("spawn child test");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "child failed (a panic?)\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(stdout.contains("OUTCOME: "), "{stdout}");
    // On a machine with a system-wide toolkit the child finds that, which is fine; where NVRTC
    // only exists in `.nvrtc` (CI) the typed-error path is the one exercised.
    if stdout.contains("OUTCOME: found") {
        assert!(
            !stdout.contains("/.nvrtc/"),
            "child was not isolated: {stdout}"
        );
    } else {
        assert!(
            stdout.contains("OUTCOME: typed error: NVRTC not available"),
            "{stdout}"
        );
    }
}
