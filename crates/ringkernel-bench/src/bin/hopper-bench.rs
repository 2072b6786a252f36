//! Hopper benchmarks: `hopper-bench [--quick] [--out DIR]` writes DIR/hopper.md and
//! DIR/hopper.json. Needs an sm_90 NVIDIA GPU; fails loudly otherwise.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use ringkernel_bench::gpu::hopper::{run, HopperBenchConfig};

/// Command-line arguments.
#[derive(Debug, Parser)]
#[command(about = "RingKernel Hopper benchmarks (cluster.sync vs grid.sync)")]
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
        "hopper-bench",
        run(&HopperBenchConfig::new(args.quick)).and_then(|r| r.write(&args.out, "hopper")),
    )
}
