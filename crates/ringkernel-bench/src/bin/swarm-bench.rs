//! Swarm benchmarks: `swarm-bench [--quick] [--latency-only | --throughput-only] [--out DIR]`
//! writes DIR/swarm.md and DIR/swarm.json (swarm-latency.* or swarm-throughput.* for one half).
//! Needs an sm_90 NVIDIA GPU; fails loudly otherwise.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use ringkernel_bench::gpu::swarm::{run, Part, SwarmBenchConfig};

/// Command-line arguments.
#[derive(Debug, Parser)]
#[command(about = "RingKernel swarm benchmarks (lightweight actors, K2K latency and throughput)")]
struct Args {
    /// Small sizes for a smoke run.
    #[arg(long)]
    quick: bool,
    /// Only the latency rows (report swarm-latency.*).
    #[arg(long, conflicts_with = "throughput_only")]
    latency_only: bool,
    /// Only the throughput and balance rows (report swarm-throughput.*).
    #[arg(long)]
    throughput_only: bool,
    /// Warps per block of the latency swarms (at least 5: the 4-block layout puts 2 pinned
    /// warps beside the cluster-tier warp, a worker and block 0's injector).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(5..=32))]
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
    let part = if args.latency_only {
        Part::Latency
    } else if args.throughput_only {
        Part::Throughput
    } else {
        Part::All
    };
    let config = SwarmBenchConfig {
        part,
        warps: args.warps,
        max_nap_ns: args.max_nap_ns,
        ..SwarmBenchConfig::new(args.quick)
    };
    ringkernel_bench::report::finish(
        "swarm-bench",
        run(&config).and_then(|r| r.write(&args.out, part.report_name())),
    )
}
