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
    match run_and_write(&GpuBenchConfig::new(args.quick), &args.out) {
        Ok((md, _)) => {
            match std::fs::read_to_string(&md) {
                Ok(text) => println!("{text}"),
                Err(e) => eprintln!("wrote {} but cannot read it back: {e}", md.display()),
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gpu-bench failed: {e}");
            ExitCode::FAILURE
        }
    }
}
