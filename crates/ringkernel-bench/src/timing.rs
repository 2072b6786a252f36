//! Timing helpers on `std::time::Instant` (on Linux: `clock_gettime(CLOCK_MONOTONIC)` via the vDSO,
//! typically 15–30 ns per read).
//!
//! Clock overhead is never subtracted silently. [`time_batches`] reads the clock twice per batch,
//! so each per-op figure carries at most `one clock read / batch` of overhead (≈ 0.03 ns at batch
//! 1,000); pick the batch so that is negligible against the operation, and measure the overhead
//! itself with [`clock_overhead`] when it matters (reports can print it as a row). Batching hides
//! the per-op distribution inside a batch: the percentiles are of batch means, which is what a
//! sub-100 ns operation allows. For µs-scale operations time each one (`batch = 1`).

use std::hint::black_box;
use std::time::{Duration, Instant};

use crate::error::BenchError;
use crate::samples::Samples;

/// Nanoseconds between two back-to-back `Instant::now()` reads, `iters` times.
pub fn clock_overhead(iters: usize) -> Result<Samples, BenchError> {
    let v = (0..iters)
        .map(|_| {
            let t0 = Instant::now();
            let t1 = Instant::now();
            (t1 - t0).as_nanos() as f64
        })
        .collect();
    Samples::new(v)
}

/// Runs `op` in `iters` batches of `batch` calls and returns the mean nanoseconds per call of each
/// batch. The result of `op` goes through [`black_box`] so the call cannot be optimized away.
pub fn time_batches<R>(
    iters: usize,
    batch: usize,
    mut op: impl FnMut() -> R,
) -> Result<Samples, BenchError> {
    let batch = batch.max(1);
    let mut v = Vec::with_capacity(iters);
    for _ in 0..iters {
        let t0 = Instant::now();
        for _ in 0..batch {
            black_box(op());
        }
        v.push(t0.elapsed().as_nanos() as f64 / batch as f64);
    }
    Samples::new(v)
}

/// Calls `op` until `duration` has passed (caches, branch predictors, CPU frequency, lazy
/// allocations settle); returns how many calls that took.
pub fn warm_up<R>(duration: Duration, mut op: impl FnMut() -> R) -> u64 {
    let t0 = Instant::now();
    let mut calls = 0u64;
    while t0.elapsed() < duration {
        black_box(op());
        calls += 1;
    }
    calls
}

/// One timed repetition of a throughput run: operations done over a measured window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    /// Operations completed.
    pub ops: u64,
    /// Wall time they took.
    pub elapsed: Duration,
}

impl Run {
    /// Operations per second; an error for a zero-length window (the clock is too coarse or the
    /// run did nothing).
    pub fn rate(&self) -> Result<f64, BenchError> {
        let secs = self.elapsed.as_secs_f64();
        if secs <= 0.0 || self.ops == 0 {
            return Err(BenchError::bench(
                "throughput",
                format!("{} ops in {:?} gives no rate", self.ops, self.elapsed),
            ));
        }
        Ok(self.ops as f64 / secs)
    }
}

/// Times `reps` calls of `run` (each returns the operations it completed) and returns the rates in
/// operations per second. Everything inside `run` is timed, setup included: use
/// [`throughput_timed`] when the run must exclude thread start-up.
pub fn throughput(
    reps: usize,
    mut run: impl FnMut() -> Result<u64, BenchError>,
) -> Result<Samples, BenchError> {
    throughput_timed(reps, || {
        let t0 = Instant::now();
        let ops = run()?;
        Ok(Run {
            ops,
            elapsed: t0.elapsed(),
        })
    })
}

/// Like [`throughput`] but `run` measures its own window (e.g. from a start barrier to the last
/// item received) and returns it.
pub fn throughput_timed(
    reps: usize,
    mut run: impl FnMut() -> Result<Run, BenchError>,
) -> Result<Samples, BenchError> {
    let mut rates = Vec::with_capacity(reps);
    for _ in 0..reps {
        rates.push(run()?.rate()?);
    }
    Samples::new(rates)
}

// Tests unwrap on purpose: a failure should stop the test with its location.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn time_batches_gives_one_sample_per_batch() {
        let mut calls = 0u64;
        let s = time_batches(20, 100, || {
            calls += 1;
            calls
        })
        .unwrap();
        assert_eq!(s.len(), 20);
        assert_eq!(calls, 2000);
        assert!(s.min() >= 0.0);
    }

    #[test]
    fn time_batches_sees_a_sleep() {
        let s = time_batches(3, 1, || std::thread::sleep(Duration::from_millis(2))).unwrap();
        assert!(s.min() >= 2e6, "{:?}", s.sorted());
    }

    #[test]
    fn throughput_is_ops_over_wall_time() {
        let s = throughput(3, || {
            std::thread::sleep(Duration::from_millis(10));
            Ok(1000)
        })
        .unwrap();
        assert_eq!(s.len(), 3);
        // 1000 ops in >= 10 ms is at most 100k ops/s.
        assert!(s.max() <= 100_000.0 && s.min() > 0.0, "{:?}", s.sorted());
        let timed = throughput_timed(2, || {
            Ok(Run {
                ops: 500,
                elapsed: Duration::from_millis(250),
            })
        })
        .unwrap();
        assert_eq!(timed.sorted(), &[2000.0, 2000.0]);
    }

    #[test]
    fn empty_window_is_an_error_not_infinity() {
        let r = Run {
            ops: 10,
            elapsed: Duration::ZERO,
        };
        assert!(r.rate().is_err());
        assert!(throughput_timed(1, || Ok(r)).is_err());
    }

    #[test]
    fn warm_up_and_clock_overhead_run() {
        assert!(warm_up(Duration::from_millis(1), || 1) >= 1);
        let c = clock_overhead(1000).unwrap();
        assert_eq!(c.len(), 1000);
        assert!(c.p50() < 1e6, "a clock read should not take a millisecond");
    }
}
