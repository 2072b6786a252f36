//! Multi-GPU benchmarks: `multi-gpu-bench [--quick] [--out DIR]` writes DIR/multi-gpu.md and
//! DIR/multi-gpu.json. Needs two NVIDIA GPUs with peer access; fails loudly otherwise.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use ringkernel_bench::gpu::multi::{run, MultiBenchConfig};

/// Command-line arguments.
#[derive(Debug, Parser)]
#[command(about = "RingKernel multi-GPU benchmarks (ours vs raw P2P floors, one process)")]
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
    let written =
        run(&MultiBenchConfig::new(args.quick)).and_then(|r| r.write(&args.out, "multi-gpu"));
    ringkernel_bench::report::finish("multi-gpu-bench", written)
}
