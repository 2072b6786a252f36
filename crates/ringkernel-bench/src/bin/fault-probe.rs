//! Probes whether this process can use the GPU again after a sticky fault (a `__trap()` in a
//! kernel): `fault-probe primary` resets the primary context and retains it again;
//! `fault-probe non-primary` destroys a non-primary context and creates another. Prints what
//! each step returned. The answer decides how `ringkernel::recovery` can recover (see
//! docs/resilience.md).

use std::process::ExitCode;
use std::sync::Arc;

use cudarc::driver::{CudaContext, LaunchConfig, PushKernelArg};
use cudarc::nvrtc::Ptx;
use ringkernel_cuda::NvrtcCompiler;

const SRC: &str =
    "extern \"C\" __global__ void k(int trap, int* out) { if (trap) __trap(); *out = 42; }";

fn open(primary: bool) -> Result<Arc<CudaContext>, String> {
    if primary {
        CudaContext::new(0).map_err(|e| format!("{e:?}"))
    } else {
        CudaContext::new_non_primary(0, 0).map_err(|e| format!("{e:?}"))
    }
}

/// Launches `k(trap)` and returns what it wrote (or the error).
fn run(ctx: &Arc<CudaContext>, ptx: &str, trap: i32) -> Result<i32, String> {
    let e = |e: cudarc::driver::DriverError| format!("{e:?}");
    let module = ctx.load_module(Ptx::from_src(ptx)).map_err(e)?;
    let f = module.load_function("k").map_err(e)?;
    let stream = ctx.default_stream();
    let mut out = stream.alloc_zeros::<i32>(1).map_err(e)?;
    let cfg = LaunchConfig {
        grid_dim: (1, 1, 1),
        block_dim: (1, 1, 1),
        shared_mem_bytes: 0,
    };
    let mut b = stream.launch_builder(&f);
    b.arg(&trap).arg(&mut out);
    // SAFETY: `k` takes (int, int*); the arguments match and `out` outlives the launch (we
    // synchronize before it drops).
    unsafe { b.launch(cfg) }.map_err(e)?;
    stream.synchronize().map_err(e)?;
    let host = stream.clone_dtoh(&out).map_err(e)?;
    Ok(host.first().copied().unwrap_or(-1))
}

fn main() -> ExitCode {
    let primary = match std::env::args().nth(1).as_deref() {
        Some("primary") => true,
        Some("non-primary") => false,
        _ => {
            eprintln!("usage: fault-probe primary|non-primary");
            return ExitCode::FAILURE;
        }
    };
    let ptx = match NvrtcCompiler::discover().and_then(|c| c.compile("probe", SRC, "sm_90", &[])) {
        Ok(p) => p.ptx,
        Err(e) => {
            eprintln!("nvrtc: {e}");
            return ExitCode::FAILURE;
        }
    };
    let ctx = match open(primary) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("open: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("healthy launch: {:?}", run(&ctx, &ptx, 0));
    println!("trapping launch: {:?}", run(&ctx, &ptx, 1));
    println!(
        "launch after the trap, same context: {:?}",
        run(&ctx, &ptx, 0)
    );
    drop(ctx);
    if primary {
        println!(
            "cuDevicePrimaryCtxReset: {:?}",
            ringkernel_cuda::driver::reset_primary_context(0)
        );
    }
    match open(primary) {
        Ok(ctx2) => println!("new context, healthy launch: {:?}", run(&ctx2, &ptx, 0)),
        Err(e) => println!("new context: {e}"),
    }
    // A non-primary context after a primary one faulted, and vice versa.
    match open(!primary) {
        Ok(ctx3) => println!(
            "other kind of context, healthy launch: {:?}",
            run(&ctx3, &ptx, 0)
        ),
        Err(e) => println!("other kind of context: {e}"),
    }
    ExitCode::SUCCESS
}
