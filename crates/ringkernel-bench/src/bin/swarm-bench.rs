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
    /// Output directory.
    #[arg(long, default_value = "docs/benchmarks")]
    out: PathBuf,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&SwarmBenchConfig::new(args.quick)).and_then(|r| r.write(&args.out, "swarm")) {
        Ok((md, _)) => {
            match std::fs::read_to_string(&md) {
                Ok(text) => println!("{text}"),
                Err(e) => eprintln!("wrote {} but cannot read it back: {e}", md.display()),
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("swarm-bench failed: {e}");
            ExitCode::FAILURE
        }
    }
}
