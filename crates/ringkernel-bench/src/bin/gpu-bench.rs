//! GPU benchmarks: `gpu-bench [--quick] [--out DIR]` writes DIR/gpu.md and DIR/gpu.json.
//! Needs an NVIDIA GPU; fails loudly without one.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use ringkernel_bench::gpu::{run_and_write, GpuBenchConfig};

/// Command-line arguments.
#[derive(Debug, Parser)]
#[command(about = "RingKernel GPU benchmarks (ours vs raw floors, one process, one card)")]
struct Args {
    /// Small sizes for a smoke run.
    #[arg(long)]
    quick: bool,
    /// Output directory.
    #[arg(long, default_value = "docs/benchmarks")]
    out: PathBuf,
}

fn main() -> ExitCode {
    let args = Args::parse();
    ringkernel_bench::report::finish(
        "gpu-bench",
        run_and_write(&GpuBenchConfig::new(args.quick), &args.out),
    )
}
