//! The crate's error type.

use std::path::PathBuf;

/// Errors raised by the statistics harness and the benchmark suites.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BenchError {
    /// A statistic needs more observations than were given (e.g. a CI needs two).
    #[error("{what} needs at least {need} observations, got {got}")]
    TooFewSamples {
        /// The statistic asked for.
        what: &'static str,
        /// Observations it needs.
        need: usize,
        /// Observations available.
        got: usize,
    },
    /// An observation was NaN or infinite; statistics over it would be meaningless.
    #[error("observation {index} is not finite ({value})")]
    NonFinite {
        /// Position of the bad observation.
        index: usize,
        /// Its value.
        value: f64,
    },
    /// Writing a report failed.
    #[error("cannot write {path}: {source}")]
    Io {
        /// File being written.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Serializing a report to JSON failed.
    #[error("cannot serialize report: {0}")]
    Json(#[from] serde_json::Error),
    /// A benchmark could not be set up or produced a wrong result (the text says which).
    #[error("benchmark `{bench}` failed: {reason}")]
    Bench {
        /// The benchmark.
        bench: String,
        /// What went wrong.
        reason: String,
    },
}

impl BenchError {
    /// A [`BenchError::Bench`] for `bench`, from anything printable.
    pub fn bench(bench: impl Into<String>, reason: impl std::fmt::Display) -> Self {
        BenchError::Bench {
            bench: bench.into(),
            reason: reason.to_string(),
        }
    }
}
