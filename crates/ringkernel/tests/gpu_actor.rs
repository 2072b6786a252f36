//! `#[gpu_actor]` through the facade: the demo's account actor, as the macro sees it in
//! `src/bin/ringkernel-demo.rs`, transpiles to CUDA that NVRTC compiles for sm_90 inside the real
//! persistent kernel; a facade-path actor's generated `cuda_handler` compiles the same way and its
//! native handler runs on the CPU backend. No GPU needed; without NVRTC these tests fail.

#![allow(clippy::unwrap_used)] // Tests unwrap: a panic is the failure report.

use std::time::Duration;

use ringkernel::prelude::*;
use ringkernel_core::ActorVTable;
use ringkernel_cuda::nvrtc::testing::{compile_sm90, compiler, TEST_ARCH};
use ringkernel_cuda::program::persistent_source;

#[gpu_actor]
mod tally {
    use ringkernel::prelude::*;

    pub const FULL: u32 = 2;

    #[derive(
        Clone, Copy, Debug, Default, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable, Message,
    )]
    #[message(id = 0x0003_0002)]
    #[repr(C)]
    pub struct Tally {
        pub counts: [u32; 4],
        pub total: u64,
    }

    #[derive(
        Clone, Copy, Debug, Default, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable, Message,
    )]
    #[message(id = 0x0003_0001)]
    #[repr(C)]
    pub struct Vote {
        pub option: u32,
        pub weight: u32,
    }

    pub struct Ballot;
    impl Actor for Ballot {
        const NAME: &'static str = "ballot";
        type State = Tally;
        type Msg = Vote;
        type Reply = Tally;
        fn handle(state: &mut Tally, msg: &Vote, _: &Context) -> Result<Tally, HandlerError> {
            let i = (msg.option % 4) as usize;
            let Some(c) = state.counts[i].checked_add(msg.weight) else {
                return Err(HandlerError(FULL));
            };
            state.counts[i] = c;
            state.total = state.total.wrapping_add(msg.weight as u64);
            Ok(*state)
        }
    }
}

/// The `#[gpu_actor]` module of the demo binary, exactly as written there.
fn demo_module() -> syn::ItemMod {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/bin/ringkernel-demo.rs");
    let file = syn::parse_file(&std::fs::read_to_string(path).unwrap()).unwrap();
    file.items
        .into_iter()
        .find_map(|i| match i {
            syn::Item::Mod(m) if m.attrs.iter().any(|a| a.path().is_ident("gpu_actor")) => Some(m),
            _ => None,
        })
        .expect("the demo defines its actor in a #[gpu_actor] module")
}

#[test]
fn the_demo_account_handler_compiles_under_nvrtc() {
    let out = ringkernel_transpile::transpile_actor_module(&demo_module())
        .unwrap_or_else(|d| panic!("{:?}", d.iter().map(|d| &d.message).collect::<Vec<_>>()));
    let [account] = out.actors.as_slice() else {
        panic!("one actor expected");
    };
    let cuda = account.cuda.standalone();
    let ptx = compiler()
        .compile("demo_account.cu", &cuda, TEST_ARCH, &["-rdc=true"])
        .unwrap_or_else(|e| panic!("{e}\n--- source ---\n{cuda}"));
    assert!(ptx.ptx.contains(&account.cuda.function));
    // The overflow check is there (the demo's semantics): code 1 on overflow.
    assert!(
        account.cuda.source.contains("return 1;"),
        "{}",
        account.cuda.source
    );
}

#[test]
fn generated_handler_compiles_in_the_persistent_kernel() {
    let vt = ActorVTable::of::<tally::Ballot>().unwrap();
    assert!(vt.cuda.is_some(), "#[gpu_actor] must provide cuda_handler");
    let src = persistent_source(&[vt], false).unwrap();
    let ptx = compile_sm90("ballot_kernel.cu", &src);
    assert!(ptx.ptx.contains(".entry rk_persistent"));
}

#[test]
fn the_native_handler_runs_on_the_cpu_backend() {
    let rt = Runtime::builder()
        .backend(Backend::Cpu)
        .register::<tally::Ballot>()
        .build()
        .unwrap();
    let b = rt.spawn::<tally::Ballot>(tally::Tally::default()).unwrap();
    let wait = Duration::from_secs(10);
    let r = b
        .ask_blocking(
            tally::Vote {
                option: 5,
                weight: 3,
            },
            wait,
        )
        .unwrap();
    assert_eq!(r.counts, [0, 3, 0, 0]);
    assert_eq!(r.total, 3);
    let err = b.ask_blocking(
        tally::Vote {
            option: 1,
            weight: u32::MAX,
        },
        wait,
    );
    assert!(
        matches!(
            err,
            Err(AskError::HandlerFailed {
                error: HandlerError(tally::FULL),
                ..
            })
        ),
        "{err:?}"
    );
}
