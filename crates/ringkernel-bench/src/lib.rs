//! Benchmark statistics harness for RingKernel, and the CPU benchmark suites.
//!
//! Every RingKernel benchmark reports through this crate so that every published number carries
//! the same statistics (percentiles, 95% confidence intervals, Welch's t-test, Cohen's d), the
//! environment it was measured in, and the command that reproduces it. Methods are defined in
//! [`samples`] and [`compare`]; `docs/benchmarks/README.md` explains them for readers.
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

pub mod compare;
pub mod cpu;
pub mod env;
pub mod error;
pub mod format;
pub mod gpu;
pub mod report;
pub mod samples;
pub mod timing;

pub use compare::{compare, Better, Comparison};
pub use env::Environment;
pub use error::BenchError;
pub use report::{ComparisonRow, Report, Row, Section, Unit};
pub use samples::{Interval, Samples, Summary};
pub use timing::{clock_overhead, throughput, throughput_timed, time_batches, warm_up, Run};
