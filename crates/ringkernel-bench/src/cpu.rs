//! The CPU benchmark suites behind the `cpu-bench` binary, callable as a library so tests can run
//! them in quick mode.
//!
//! Three suites, each one [`Section`](crate::Section) or more of the report:
//! - [`hlc`](crate::cpu::hlc): host `Hlc::tick` / `Hlc::merge` latency, one thread and two threads contending.
//! - [`rings`](crate::cpu::rings): our SPSC and MPSC rings against `rtrb` and crossbeam's `ArrayQueue` moving `u64`
//!   items between threads, same capacity, item count and thread layout for every contender.
//! - [`actors`](crate::cpu::actors): ask round-trip latency and tell throughput of one counter actor on our CPU
//!   backend against ractor, kameo and actix doing exactly the same work.
//!
//! Sizes come from [`Sizes::default_run`](crate::cpu::Sizes::default_run) or [`Sizes::quick`](crate::cpu::Sizes::quick); nothing in a report is computed
//! from anything but the measurements of the run that wrote it.

pub mod actors;
pub mod backoff;
pub mod hlc;
pub mod rings;

use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::clock_overhead;
use crate::env::Environment;
use crate::error::BenchError;
use crate::format::fmt_value;
use crate::report::{Report, Unit};

/// One benchmark suite of `cpu-bench`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Suite {
    /// HLC tick and merge.
    Hlc,
    /// SPSC / MPSC rings.
    Rings,
    /// Actor frameworks.
    Actors,
}

impl Suite {
    /// Every suite, in report order.
    pub const ALL: [Suite; 3] = [Suite::Hlc, Suite::Rings, Suite::Actors];
}

impl FromStr for Suite {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "hlc" => Ok(Suite::Hlc),
            "rings" => Ok(Suite::Rings),
            "actors" => Ok(Suite::Actors),
            other => Err(format!(
                "unknown suite `{other}` (expected hlc, rings or actors)"
            )),
        }
    }
}

/// Iteration counts of a run. Every contender within a suite uses the same counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizes {
    /// HLC: timed batches per configuration.
    pub hlc_batches: usize,
    /// HLC: operations per batch.
    pub hlc_batch: usize,
    /// Rings: items moved per repetition.
    pub ring_items: u64,
    /// Rings: repetitions (each one rate sample).
    pub ring_reps: usize,
    /// Rings: capacity of every ring and queue.
    pub ring_capacity: usize,
    /// Rings: items per batch in the batch variants.
    pub ring_batch: usize,
    /// Actors: timed asks (one latency sample each).
    pub asks: usize,
    /// Actors: untimed warm-up asks before them.
    pub ask_warmup: usize,
    /// Actors: tells per repetition, split evenly over the sender threads.
    pub tells: u64,
    /// Actors: tell repetitions (each one rate sample).
    pub tell_reps: usize,
    /// Warm-up time before each timed HLC configuration, in milliseconds.
    pub warmup_ms: u64,
}

impl Sizes {
    /// The publication run: a few minutes on two cores.
    pub fn default_run() -> Self {
        Sizes {
            hlc_batches: 2_000,
            hlc_batch: 1_000,
            ring_items: 2_000_000,
            ring_reps: 30,
            ring_capacity: 1024,
            ring_batch: 64,
            asks: 50_000,
            ask_warmup: 2_000,
            tells: 200_000,
            tell_reps: 20,
            warmup_ms: 200,
        }
    }

    /// A smoke run: seconds, every code path exercised, numbers not fit for publication.
    pub fn quick() -> Self {
        Sizes {
            hlc_batches: 200,
            hlc_batch: 200,
            ring_items: 100_000,
            ring_reps: 3,
            ring_capacity: 1024,
            ring_batch: 64,
            asks: 1_000,
            ask_warmup: 100,
            tells: 20_000,
            tell_reps: 3,
            warmup_ms: 10,
        }
    }
}

/// What to run and where to write it.
#[derive(Debug, Clone)]
pub struct CpuBenchConfig {
    /// Suites to run, in order.
    pub suites: Vec<Suite>,
    /// Iteration counts.
    pub sizes: Sizes,
    /// Whether this is a `--quick` smoke run (said in the report).
    pub quick: bool,
}

impl CpuBenchConfig {
    /// All suites at full size (`quick == false`) or smoke size.
    pub fn new(quick: bool) -> Self {
        CpuBenchConfig {
            suites: Suite::ALL.to_vec(),
            sizes: if quick {
                Sizes::quick()
            } else {
                Sizes::default_run()
            },
            quick,
        }
    }
}

/// Runs the configured suites and returns the report (nothing written).
pub fn run(config: &CpuBenchConfig) -> Result<Report, BenchError> {
    let mut report = Report::new("RingKernel CPU benchmarks", Environment::capture(None));
    if config.quick {
        report
            .notes
            .push("QUICK smoke run: sizes too small for publication.".into());
    }
    let clock = clock_overhead(10_000)?;
    report.notes.push(format!(
        "`Instant::now()` back-to-back overhead on this machine: p50 {}, p99 {} (not subtracted; \
         batched timings carry at most overhead/batch per op).",
        fmt_value(clock.p50(), Unit::Nanoseconds),
        fmt_value(clock.p99(), Unit::Nanoseconds)
    ));
    let s = &config.sizes;
    for suite in &config.suites {
        match suite {
            Suite::Hlc => report.sections.extend(hlc::run(s)?),
            Suite::Rings => report.sections.extend(rings::run(s)?),
            Suite::Actors => report.sections.extend(actors::run(s)?),
        }
    }
    Ok(report)
}

/// Runs the configured suites and writes `<out>/cpu.md` and `<out>/cpu.json`.
pub fn run_and_write(
    config: &CpuBenchConfig,
    out: &Path,
) -> Result<(PathBuf, PathBuf), BenchError> {
    run(config)?.write(out, "cpu")
}
