//! Swarm benchmarks: `swarm-bench [--quick] [--out DIR]` writes DIR/swarm.md and
//! DIR/swarm.json. Needs an sm_90 NVIDIA GPU; fails loudly otherwise.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use ringkernel_bench::gpu::swarm::{run, SwarmBenchConfig};

/// Command-line arguments.
#[derive(Debug, Parser)]
#[command(about = "RingKernel swarm benchmarks (lightweight actors, K2K latency and throughput)")]
struct Args {
    /// Small sizes for a smoke run.
    #[arg(long)]
    quick: bool,
    /// Only the latency rows.
    #[arg(long)]
    latency_only: bool,
    /// Warps per block of the latency swarms.
    #[arg(long, default_value_t = 8)]
    warps: u32,
    /// Longest idle nap of the latency swarms' warps, ns.
    #[arg(long, default_value_t = 256)]
    max_nap_ns: u32,
    /// Output directory.
    #[arg(long, default_value = "docs/benchmarks")]
    out: PathBuf,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let config = SwarmBenchConfig {
        latency_only: args.latency_only,
        warps: args.warps,
        max_nap_ns: args.max_nap_ns,
        ..SwarmBenchConfig::new(args.quick)
    };
    ringkernel_bench::report::finish(
        "swarm-bench",
        run(&config).and_then(|r| r.write(&args.out, "swarm")),
    )
}
