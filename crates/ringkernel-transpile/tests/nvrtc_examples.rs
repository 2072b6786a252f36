//! Every example handler's CUDA compiles under NVRTC for sm_90, both alone and pasted into the
//! real persistent kernel next to the others (which checks the prelude and struct guards, the
//! `rk_ctx` wrapper and the layout `static_assert`s against the Rust sizes the backend asserts).
//! Without NVRTC these tests fail (see `ringkernel_cuda::nvrtc::testing`); no GPU is needed.

mod common;

use common::handlers::{bank, checked, histogram, loops, physics, ticker};
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
        vtable::<ticker::Ticker>(ticker::SRC),
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

#[test]
fn same_c_name_with_two_layouts_fails_the_cuda_compile() {
    // Two modules named `dup` give both structs the C name `dup_S`; the second definition is
    // skipped by its guard, but its layout checks still run against the first and must fail.
    let module = |field_ty: &str| {
        format!(
            "mod dup {{
                #[repr(C)] pub struct S {{ pub a: {field_ty} }}
                pub struct A;
                impl Actor for A {{
                    const NAME: &'static str = \"a\";
                    type State = S; type Msg = S; type Reply = S;
                    fn handle(s: &mut S, m: &S, _: &Context) -> Result<S, HandlerError> {{
                        s.a = m.a;
                        Ok(*s)
                    }}
                }}
            }}"
        )
    };
    let first = transpiled(&module("u32")).cuda;
    let second = transpiled(&module("u64")).cuda;
    let same = format!(
        "{}\n{}\n{}",
        first.standalone(),
        first.struct_defs,
        first.source.replace("dup_A_handle", "dup_A2_handle")
    );
    compiler()
        .compile("dup_same.cu", &same, TEST_ARCH, &["-rdc=true"])
        .unwrap_or_else(|e| panic!("identical definitions must coexist: {e}"));
    let clash = format!("{}\n{}", first.standalone(), second.struct_defs);
    let err = compiler()
        .compile("dup_clash.cu", &clash, TEST_ARCH, &["-rdc=true"])
        .expect_err("two layouts under one C name must not compile");
    assert!(err.to_string().contains("dup_S"), "{err}");
}
