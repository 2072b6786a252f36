//! Helpers for tests that compile device code (any crate's tests, not only this one).
//!
//! They **panic** with the discovery error and a fix when NVRTC or the headers are missing, so a
//! test that compiles device code fails loudly instead of passing by skipping. Use them from
//! `#[test]` functions only; runtime code calls [`NvrtcCompiler::discover`] and handles the error.
//!
//! ```no_run
//! // tests/my_kernel.rs
//! let ptx = ringkernel_cuda::nvrtc::testing::compile_sm90("my_kernel.cu", "extern \"C\" __global__ void k() {}");
//! assert!(ptx.ptx.contains(".entry k"));
//! ```

use super::{CompiledPtx, NvrtcCompiler};

/// The arch CI compiles for: Hopper, the GPU the project targets.
pub const TEST_ARCH: &str = "sm_90";

/// [`NvrtcCompiler::discover`] (default cache dir), or a panic that says how to install NVRTC.
///
/// # Panics
/// If NVRTC or the CUDA headers cannot be found.
pub fn compiler() -> NvrtcCompiler {
    NvrtcCompiler::discover().unwrap_or_else(|e| {
        panic!(
            "{e}\nNVRTC is required for this test (it does not need a GPU). Run \
             `bash scripts/install-nvrtc.sh` once in the repo, or install a CUDA toolkit \
             (CUDA_HOME / /usr/local/cuda) and put its lib dir on LD_LIBRARY_PATH."
        )
    })
}

/// Compiles `source` for [`TEST_ARCH`] with [`compiler`].
///
/// # Panics
/// If NVRTC is missing or rejects the source (the panic message carries NVRTC's log).
pub fn compile_sm90(name: &str, source: &str) -> CompiledPtx {
    compiler()
        .compile(name, source, TEST_ARCH, &[])
        .unwrap_or_else(|e| panic!("{e}"))
}
