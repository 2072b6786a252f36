//! The persistent kernel, as assembled for real actor types, compiles under NVRTC for sm_90.
//! Runs in CI without a GPU; fails (never skips) when NVRTC is missing.

mod common;

use ringkernel_core::actor::{Actor, Context, CudaHandler, HandlerError};
use ringkernel_core::ActorVTable;
use ringkernel_cuda::nvrtc::testing::compile_sm90;
use ringkernel_cuda::program::{persistent_source, KERNEL_NAME};
use ringkernel_cuda::CudaError;

#[test]
fn persistent_kernel_compiles_for_sm90() {
    let vt = ActorVTable::of::<common::Counter>().unwrap();
    let src = persistent_source(&[vt], false).unwrap();
    let fenced = persistent_source(&[vt], true).unwrap();
    assert!(fenced.contains("#define RK_D2H_FENCED"));
    let fenced_ptx = compile_sm90("persistent_counter_fenced.cu", &fenced);
    assert!(fenced_ptx.ptx.contains("membar.sys") || fenced_ptx.ptx.contains("fence.sc.sys"));
    let ptx = compile_sm90("persistent_counter.cu", &src);
    assert!(
        ptx.ptx.contains(&format!(".entry {KERNEL_NAME}")),
        "no entry point"
    );
    assert!(ptx.ptx.contains(".target sm_90"));
    // The slot poll is one 16-byte volatile load per lane, and the host-visible stores are
    // system-scope releases.
    assert!(ptx.ptx.contains("ld.volatile.global.v2.u64"));
    assert!(
        ptx.ptx.contains(".sys"),
        "no system-scope memory operations in the PTX"
    );
}

/// A CUDA handler whose struct disagrees with the Rust type fails the compile with a clear message.
#[derive(Clone, Copy, Debug, Default, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C)]
struct Wide {
    a: u64,
    b: u64,
}

struct Drifted;
impl Actor for Drifted {
    const NAME: &'static str = "drifted";
    type State = Wide;
    type Msg = common::Add;
    type Reply = common::Add;
    fn handle(_s: &mut Wide, m: &common::Add, _c: &Context) -> Result<common::Add, HandlerError> {
        Ok(*m)
    }
    fn cuda_handler() -> Option<CudaHandler> {
        Some(CudaHandler {
            function: "drifted",
            state_type: "Wide",
            msg_type: "Add",
            reply_type: "Add",
            // Wide has lost a field on the device side.
            struct_defs: "struct Add { unsigned long long n; };\nstruct Wide { unsigned long long a; };",
            source: "__device__ int drifted(Wide* s, const Add* m, Add* r, const rk_ctx* c) { *r = *m; return 0; }",
        })
    }
}

#[test]
fn layout_drift_between_rust_and_cuda_is_a_compile_error() {
    let vt = ActorVTable::of::<Drifted>().unwrap();
    let src = persistent_source(&[vt], false).unwrap();
    let err = ringkernel_cuda::nvrtc::testing::compiler()
        .without_cache()
        .compile("drifted.cu", &src, "sm_90", &[])
        .unwrap_err();
    match err {
        CudaError::Compile { log, .. } => {
            assert!(
                log.contains("sizeof(Wide) differs from the Rust type"),
                "{log}"
            )
        }
        other => panic!("expected a compile error, got {other}"),
    }
}

struct RustOnly;
impl Actor for RustOnly {
    const NAME: &'static str = "rust-only";
    type State = common::Total;
    type Msg = common::Add;
    type Reply = common::Add;
    fn handle(
        _s: &mut common::Total,
        m: &common::Add,
        _c: &Context,
    ) -> Result<common::Add, HandlerError> {
        Ok(*m)
    }
}

#[test]
fn actor_without_cuda_handler_is_a_typed_error() {
    let vt = ActorVTable::of::<RustOnly>().unwrap();
    assert!(matches!(
        persistent_source(&[vt], false),
        Err(CudaError::NoCudaHandler("rust-only"))
    ));
}

#[test]
fn generated_layout_header_compiles_alone() {
    let src = format!(
        "{}\nextern \"C\" __global__ void touch(rk_slot* s) {{ s->seq_a = sizeof(rk_envelope); }}\n",
        ringkernel_cuda::layout::device_header()
    );
    let ptx = compile_sm90("layout_only.cu", &src);
    assert!(ptx.ptx.contains(".entry touch"));
}

#[test]
fn offset_asserts_are_really_checked_by_nvrtc() {
    // Corrupt one generated offset: the device compile must refuse it.
    let header = ringkernel_cuda::layout::device_header();
    let bad = header.replace(
        "RK_OFFSETOF(rk_envelope_header, hlc) == 24",
        "RK_OFFSETOF(rk_envelope_header, hlc) == 16",
    );
    assert_ne!(
        header, bad,
        "the hlc offset assert is missing from the header"
    );
    let err = ringkernel_cuda::nvrtc::testing::compiler()
        .without_cache()
        .compile("bad_layout.cu", &bad, "sm_90", &[])
        .unwrap_err();
    assert!(matches!(err, CudaError::Compile { .. }), "{err}");
}

/// The benchmark kernels (raw floors and the device-operation cost probe) are device sources too:
/// CI compiles them like the runtime.
#[test]
fn floor_and_op_cost_kernels_compile_for_sm90() {
    let floors = compile_sm90("floors.cu", ringkernel_cuda::floors::FLOORS_CU);
    for entry in ["fl_empty", "fl_pingpong", "fl_consume", "fl_k2k"] {
        assert!(floors.ptx.contains(&format!(".entry {entry}")), "{entry}");
    }
    let probe = compile_sm90("op_costs.cu", &ringkernel_cuda::floors::op_costs_source());
    assert!(probe.ptx.contains(".entry rk_op_costs"));
    assert!(probe.ptx.contains("atom.relaxed.gpu") || probe.ptx.contains("atom.add"));
}

/// The K2K diagnostic actor (its handler calls rk_k2k_tell) compiles inside the persistent kernel,
/// beside an actor without K2K.
#[test]
fn k2k_peer_actor_compiles_in_the_persistent_kernel() {
    let types = [
        ActorVTable::of::<ringkernel_cuda::peer::Peer>().unwrap(),
        ActorVTable::of::<common::Counter>().unwrap(),
    ];
    let src = persistent_source(&types, false).unwrap();
    assert!(src.contains("rk_k2k_tell(ctx"));
    let ptx = compile_sm90("persistent_peer.cu", &src);
    assert!(ptx.ptx.contains(&format!(".entry {KERNEL_NAME}")));
    // The inbox claim is a device-scope CAS.
    assert!(ptx.ptx.contains("atom.relaxed.gpu.global.cas") || ptx.ptx.contains("atom.cas"));
}

/// The persistent kernel of a multi-GPU member compiles, with its inbox atomics at system scope,
/// and so do the migration kernels.
#[test]
fn multi_gpu_kernel_and_migration_kernels_compile_for_sm90() {
    // The Peer actor sends K2K messages, so its kernel keeps rk_k2k_tell.
    let vt = ActorVTable::of::<ringkernel_cuda::peer::Peer>().unwrap();
    let src = ringkernel_cuda::program::persistent_source_for(&[vt], false, true).unwrap();
    assert!(src.contains("#define RK_MULTI_GPU"));
    let ptx = compile_sm90("persistent_counter_multi.cu", &src);
    assert!(ptx.ptx.contains(&format!(".entry {KERNEL_NAME}")));
    // The inbox claim (a CAS) is system-scoped in a multi-GPU member.
    assert!(
        ptx.ptx
            .lines()
            .any(|l| l.contains("atom") && l.contains(".sys") && l.contains("cas")),
        "no system-scope CAS in the multi-GPU kernel"
    );
    let p2p = compile_sm90("p2p_floor.cu", ringkernel_cuda::multi::floor::P2P_CU);
    assert!(p2p.ptx.contains(".entry fl_p2p"));
    let migrate = ringkernel_cuda::program::migrate_source();
    let mptx = compile_sm90("migrate.cu", &migrate);
    for entry in [
        "rk_seal_inbox",
        "rk_unseal_inbox",
        "rk_checksum",
        "rk_adopt_inbox",
    ] {
        assert!(
            mptx.ptx.contains(&format!(".entry {entry}")),
            "no entry {entry}"
        );
    }
}

/// The barrier-cost kernels (cluster.sync, grid.sync) compile for sm_90 with cooperative groups.
#[test]
fn sync_floor_kernels_compile_for_sm90() {
    let ptx = compile_sm90("sync_floor.cu", ringkernel_cuda::sync_cost::SYNC_FLOOR_CU);
    for entry in ["fl_cluster_sync", "fl_grid_sync", "fl_dsmem_pingpong"] {
        assert!(
            ptx.ptx.contains(&format!(".entry {entry}")),
            "no entry {entry}"
        );
    }
    // The cluster barrier is the hardware one.
    assert!(
        ptx.ptx.contains("barrier.cluster"),
        "cluster.sync did not lower to barrier.cluster"
    );
}

/// The framework-free pinned hop compiles for sm_90 against the swarm's LL format, with a DSMEM
/// path (cluster address mapping) and no local memory (its message stays in registers).
#[test]
fn ll_hop_kernel_compiles_for_sm90_without_a_stack_frame() {
    let src = ringkernel_cuda::swarm::ll_hop::source();
    let out = ringkernel_cuda::nvrtc::testing::compiler()
        .compile("ll_hop.cu", &src, "sm_90", &["--ptxas-options=-v"])
        .unwrap_or_else(|e| panic!("{e}"));
    for entry in [
        "rk_ll_hop",
        "rk_ll_transit",
        "rk_ll_lean",
        "rk_ll_lean_all",
        "rk_ll_async_transit",
        "rk_ll_async_lean",
        "rk_ll_lean_short",
        "rk_ll_lean_tiny",
    ] {
        assert!(
            out.ptx.contains(&format!(".entry {entry}")),
            "no {entry} entry"
        );
    }
    assert!(out.ptx.contains("mapa"), "no DSMEM address mapping");
    let frames: Vec<&str> = out
        .log
        .lines()
        .filter(|l| l.contains("bytes stack frame"))
        .collect();
    assert!(frames.len() >= 8, "no ptxas report per entry:\n{}", out.log);
    assert!(
        frames
            .iter()
            .all(|l| l.contains(" 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads")),
        "ll_hop entries: {}",
        out.log
    );
}

/// The swarm kernel with the test kit's handlers compiles for sm_90: the layouts rendered from
/// Rust pass their static_asserts, and the DSMEM sends lower to cluster-scope instructions.
#[test]
fn swarm_kernel_and_kit_compile_for_sm90() {
    let src = ringkernel_cuda::swarm::SwarmProgram::kit().source();
    let ptx = compile_sm90("swarm_kit.cu", &src);
    assert!(ptx.ptx.contains(".entry rk_swarm"), "no swarm entry point");
    assert!(
        ptx.ptx.contains("atom.relaxed.cluster.cas.b64"),
        "DSMEM claims are not cluster-scope atomics"
    );
    assert!(ptx.ptx.contains("mapa"), "no DSMEM address mapping");
}

/// The kit with the express lane test's type (kit::lane_program, run by gpu_swarm_express)
/// compiles for sm_90 too. (Its kernel may spill a few bytes: a second express type in every
/// express path is over the register file; the test checks what arrives, not how fast.)
#[test]
fn swarm_kernel_with_the_lane_test_type_compiles_for_sm90() {
    let src = ringkernel_cuda::swarm::kit::lane_program().source();
    let ptx = compile_sm90("swarm_kit_xlane.cu", &src);
    assert!(ptx.ptx.contains(".entry rk_swarm"), "no swarm entry point");
}

/// The swarm kernel keeps each lane's context and messages in registers. A stack frame means an
/// out-of-line function took the address of a context or message, which puts every access to
/// it on the message path into local memory (an L1 round trip each): ptxas reports the frame.
/// The one allowance: at 255 registers ptxas may save one convergence-barrier register (4
/// bytes, `BMOV` then `STL` at kernel entry, refilled at exit; seen in the SASS of acd53e6),
/// which is once per kernel, not per message. A context or message in local memory is 8 bytes
/// or more of stores, so it still fails here.
#[test]
fn swarm_kernel_has_no_stack_frame_and_no_spills() {
    let src = ringkernel_cuda::swarm::SwarmProgram::kit().source();
    let out = ringkernel_cuda::nvrtc::testing::compiler()
        .compile("swarm_kit.cu", &src, "sm_90", &["--ptxas-options=-v"])
        .unwrap_or_else(|e| panic!("{e}"));
    let mut lines = out.log.lines();
    let frame = loop {
        match lines.next() {
            Some(l) if l.contains("Function properties for rk_swarm") => {
                break lines.next().unwrap_or_default().to_string();
            }
            Some(_) => {}
            None => panic!("no ptxas report for rk_swarm in the log:\n{}", out.log),
        }
    };
    let allowed = [
        " 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads",
        " 8 bytes stack frame, 4 bytes spill stores, 4 bytes spill loads",
    ];
    assert!(
        allowed.iter().any(|a| frame.contains(a)),
        "rk_swarm: {frame}"
    );
}

/// A handler that does not compile is an NVRTC error naming the program, not a panic.
#[test]
fn a_broken_swarm_handler_is_a_compile_error() {
    let bad = ringkernel_cuda::swarm::SwarmProgram::new(
        "broken.cu",
        "__device__ void rk_sw_handle(rk_sw_ctx* c, rk_u32 t, void* s, const rk_sw_msg* m) { nope(); }",
    );
    let err = ringkernel_cuda::NvrtcCompiler::discover()
        .expect("NVRTC")
        .compile("broken.cu", &bad.source(), "sm_90", &[])
        .expect_err("must not compile");
    assert!(matches!(err, CudaError::Compile { .. }), "{err}");
}
