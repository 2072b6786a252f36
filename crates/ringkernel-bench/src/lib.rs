//! Benchmark statistics harness for RingKernel, and the CPU benchmark suites.
//!
//! Every RingKernel benchmark reports through this crate so that every published number carries
//! the same statistics (percentiles, 95% confidence intervals, Welch's t-test, Cohen's d), the
//! environment it was measured in, and the command that reproduces it. Methods are defined in
//! [`samples`] and [`compare`](mod@compare); `docs/benchmarks/README.md` explains them for readers.
//!
//! ```
//! use ringkernel_bench::{compare, Samples};
//!
//! let a = Samples::new((1..=100).map(f64::from).collect())?;
//! assert_eq!(a.p50(), 50.5);
//! let b = Samples::new((1..=100).map(|x| f64::from(x) + 10.0).collect())?;
//! let c = compare(&a, &b);
//! assert!(c.p_value.is_some_and(|p| p < 0.05));
//! # Ok::<(), ringkernel_bench::BenchError>(())
//! ```

/// Welch's t-test, Cohen's d and ratio of medians between two sample sets.
pub mod compare;
/// The CPU suites behind `cpu-bench` (HLC, rings, actor frameworks).
pub mod cpu;
/// The environment header: machine, build, date, commit, command line.
pub mod env;
/// [`BenchError`].
pub mod error;
/// Human formatting of values for Markdown tables.
pub mod format;
pub mod gpu;
/// Reports: sections of rows and comparisons, written as Markdown and JSON.
pub mod report;
/// [`Samples`]: percentiles, mean, SD and confidence intervals (methods defined there).
pub mod samples;
/// Timing helpers: batched latency, warm-up, throughput, clock overhead.
pub mod timing;

pub use compare::{compare, Better, Comparison};
pub use env::Environment;
pub use error::BenchError;
pub use report::{ComparisonRow, Report, Row, Section, Unit};
pub use samples::{Interval, Samples, Summary};
pub use timing::{clock_overhead, throughput, throughput_timed, time_batches, warm_up, Run};
