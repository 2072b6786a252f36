//! `cpu-bench`: runs the CPU benchmark suites and writes `<out>/cpu.md` and `<out>/cpu.json`.
//!
//! ```text
//! cargo run --release -p ringkernel-bench --bin cpu-bench -- [--quick] [--out DIR] [--suite hlc,rings,actors]
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use ringkernel_bench::cpu::{self, CpuBenchConfig, Suite};

/// Run RingKernel's CPU benchmarks (HLC, rings, actor frameworks) and write a Markdown + JSON
/// report with percentiles, 95% CIs, Welch's t-test and Cohen's d.
#[derive(Debug, Parser)]
#[command(name = "cpu-bench", version)]
struct Args {
    /// Small sizes for a smoke run (seconds); the numbers are not fit for publication.
    #[arg(long)]
    quick: bool,
    /// Directory for cpu.md and cpu.json.
    #[arg(long, default_value = "docs/benchmarks")]
    out: PathBuf,
    /// Comma-separated suites to run, in order.
    #[arg(long, value_delimiter = ',', default_value = "hlc,rings,actors")]
    suite: Vec<Suite>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if cfg!(debug_assertions) {
        eprintln!("warning: debug build; use --release for numbers worth reading");
    }
    let mut config = CpuBenchConfig::new(args.quick);
    config.suites = args.suite;
    match cpu::run_and_write(&config, &args.out) {
        Ok((md, json)) => {
            println!("wrote {} and {}", md.display(), json.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cpu-bench: {e}");
            ExitCode::FAILURE
        }
    }
}
