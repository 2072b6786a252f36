//! Every example handler's CUDA compiles under NVRTC for sm_90, both alone and pasted into the
//! real persistent kernel next to the others (which checks the prelude and struct guards, the
//! `rk_ctx` wrapper and the layout `static_assert`s against the Rust sizes the backend asserts).
//! Without NVRTC these tests fail (see `ringkernel_cuda::nvrtc::testing`); no GPU is needed.

mod common;

use common::handlers::{bank, checked, histogram, loops, physics};
use common::vtables::{transpiled, vtable};
use ringkernel_cuda::nvrtc::testing::{compile_sm90, compiler, TEST_ARCH};
use ringkernel_cuda::program::persistent_source;

#[test]
fn each_example_compiles_alone() {
    for (name, src) in common::ALL_SOURCES {
        let a = transpiled(src);
        let cuda = a.cuda.standalone();
        let out = compiler()
            .compile(&format!("{name}.cu"), &cuda, TEST_ARCH, &["-rdc=true"])
            .unwrap_or_else(|e| panic!("{e}\n--- source ---\n{cuda}"));
        assert!(
            out.ptx.contains(&a.cuda.function),
            "{name}: entry missing from PTX"
        );
    }
}

#[test]
fn all_examples_compile_together_in_the_persistent_kernel() {
    let types = [
        vtable::<bank::Account>(bank::SRC),
        vtable::<histogram::Histogram>(histogram::SRC),
        vtable::<loops::Loops>(loops::SRC),
        vtable::<checked::Checked>(checked::SRC),
        vtable::<physics::Physics>(physics::SRC),
    ];
    let src = persistent_source(&types, false).expect("every type has a CUDA handler");
    let ptx = compile_sm90("transpiled_kernel.cu", &src);
    assert!(ptx.ptx.contains(".entry rk_persistent"));
}

#[test]
fn a_layout_mismatch_fails_the_cuda_compile() {
    // The static_asserts are real checks: a struct the backend believes is 24 bytes, but whose
    // CUDA definition is 16, must not compile.
    let mut vt = vtable::<bank::Account>(bank::SRC);
    vt.state_size = 24;
    let src = persistent_source(&[vt], false).expect("source");
    let err = compiler()
        .compile("mismatch.cu", &src, TEST_ARCH, &[])
        .expect_err("a wrong size must be rejected");
    assert!(
        err.to_string().contains("differs from the Rust type"),
        "{err}"
    );
}
