//! Resilience benchmarks: `resilience-bench [--quick] [--out DIR]` writes DIR/resilience.md and
//! DIR/resilience.json. Needs an NVIDIA GPU; fails loudly otherwise.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use ringkernel_bench::gpu::resilience::{run, ResilienceBenchConfig};

/// Command-line arguments.
#[derive(Debug, Parser)]
#[command(about = "RingKernel resilience benchmarks (soft restart latency)")]
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
        "resilience-bench",
        run(&ResilienceBenchConfig::new(args.quick)).and_then(|r| r.write(&args.out, "resilience")),
    )
}
