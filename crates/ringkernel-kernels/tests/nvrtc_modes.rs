//! Every kernel mode's generated CUDA compiles with NVRTC for sm_90 (CI, no GPU; fails without
//! NVRTC). Ring mode is compiled inside the real persistent actor kernel.

mod common;

use ringkernel_core::ActorVTable;
use ringkernel_cuda::nvrtc::testing::compile_sm90;
use ringkernel_cuda::program::{persistent_source, KERNEL_NAME};
use ringkernel_ir::kernel::ring::emit_ring_handler;
use ringkernel_kernels::examples::counter::{self, IrCounter};

#[test]
fn global_kernel_compiles() {
    let src = common::axpy_source();
    let ptx = compile_sm90("axpy_kernel.cu", &src);
    assert!(ptx.ptx.contains(&format!(".entry {}", common::AXPY_KERNEL)));
    assert!(ptx.ptx.contains("fma.rn.f32"), "mul_add must stay one FMA");
}

#[test]
fn stencil_kernels_compile() {
    let p2 = compile_sm90("cross2d_kernel.cu", &common::cross2d_source());
    assert!(p2
        .ptx
        .contains(&format!(".entry {}", common::CROSS2D_KERNEL)));
    assert!(
        p2.ptx.contains(".shared"),
        "the tile lives in shared memory"
    );
    assert!(p2.ptx.contains("bar.sync"));
    let p3 = compile_sm90("heat3d_kernel.cu", &common::heat3d_source());
    assert!(p3
        .ptx
        .contains(&format!(".entry {}", common::HEAT3D_KERNEL)));
    assert!(p3.ptx.contains(".shared"));
}

#[test]
fn fdtd_kernel_compiles() {
    let src = common::fdtd_source();
    let ptx = compile_sm90("wave_fdtd.cu", &src);
    assert!(ptx.ptx.contains(&format!(".entry {}", common::FDTD_KERNEL)));
    // System-scope acquire/release on the mailbox, and the nanosleep in the idle loop.
    assert!(ptx.ptx.contains(".sys"), "no system-scope operations");
    assert!(ptx.ptx.contains("nanosleep"));
}

#[test]
fn ring_handler_compiles_inside_the_persistent_kernel() {
    let h = emit_ring_handler(&counter::module(), counter::FUNCTION).unwrap();
    assert_eq!(
        (
            h.state_type.as_str(),
            h.msg_type.as_str(),
            h.reply_type.as_str()
        ),
        ("Total", "Add", "Total")
    );
    assert!(h.struct_defs.contains("typedef rk_ctx RingCtx;"));
    assert!(h.struct_defs.contains("static_assert(sizeof(Total) == 16"));
    assert!(h
        .source
        .contains("__device__ int counter_handle(Total* s_0, const Add* m_1, Total* r_2, const RingCtx* ctx_3)"));
    let vt = ActorVTable::of::<IrCounter>().unwrap();
    let src = persistent_source(&[vt], false).unwrap();
    let ptx = compile_sm90("persistent_ir_counter.cu", &src);
    assert!(ptx.ptx.contains(&format!(".entry {KERNEL_NAME}")));
}
