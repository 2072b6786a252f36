//! HLC suite: latency of host `Hlc::tick` and `Hlc::merge`, alone and with two threads contending
//! for one clock (every call is a CAS on one shared `AtomicU64`, so contention is the cost).
//!
//! Each thread times `hlc_batches` batches of `hlc_batch` calls after a warm-up; with two threads
//! both start together at a barrier and their samples are pooled (per-op latency as each caller
//! sees it). Target for an uncontended tick: ≤ 20 ns.

use std::sync::Barrier;
use std::time::Duration;

use ringkernel_core::{Hlc, HlcTimestamp};

use super::Sizes;
use crate::error::BenchError;
use crate::report::{Row, Section, Unit};
use crate::samples::Samples;
use crate::timing::{time_batches, warm_up};

/// Target p50 of one uncontended tick, in ns.
pub const TICK_TARGET_NS: f64 = 20.0;

/// Row names, shared with the smoke test.
pub const ROWS: [&str; 4] = [
    "Hlc::tick, 1 thread",
    "Hlc::merge, 1 thread",
    "Hlc::tick, 2 threads contended",
    "Hlc::merge, 2 threads contended",
];

#[derive(Clone, Copy)]
enum Op {
    Tick,
    Merge(HlcTimestamp),
}

/// Runs the suite.
pub fn run(s: &Sizes) -> Result<Vec<Section>, BenchError> {
    let mut sec = Section::new(
        "HLC",
        format!(
            "Host `ringkernel_core::Hlc` (one `AtomicU64`, CAS loop, reads the system clock per call). \
             {} batches x {} calls per thread, ns per call = batch time / batch size. Merge takes a \
             timestamp issued earlier by a second clock (so it never trips the skew check). Two-thread \
             rows pool both threads' samples; throughput is the aggregate of all threads.",
            s.hlc_batches, s.hlc_batch
        ),
    );
    let remote = Hlc::default().tick();
    // Fail loudly rather than time an error path.
    Hlc::default()
        .merge(remote)
        .map_err(|e| BenchError::bench("hlc merge", e))?;

    let configs = [
        (ROWS[0], Op::Tick, 1usize),
        (ROWS[1], Op::Merge(remote), 1),
        (ROWS[2], Op::Tick, 2),
        (ROWS[3], Op::Merge(remote), 2),
    ];
    let mut measured = Vec::with_capacity(configs.len());
    for (name, op, threads) in configs {
        let samples = measure(s, op, threads)?;
        let mut notes = String::new();
        if threads == 1 && matches!(op, Op::Tick) {
            let met = samples.p50() <= TICK_TARGET_NS;
            notes = format!(
                "target p50 ≤ {TICK_TARGET_NS} ns: {}",
                if met { "met" } else { "NOT met" }
            );
        }
        let rate = threads as f64 * 1e9 / samples.mean();
        sec.push(
            Row::new(name, Unit::Nanoseconds, &samples)
                .with_throughput(rate)
                .with_notes(notes),
        );
        measured.push(samples);
    }
    // What contention costs: each operation alone against the same with two threads.
    for k in 0..2 {
        sec.compare(
            ROWS[k],
            &measured[k],
            ROWS[k + 2],
            &measured[k + 2],
            Unit::Nanoseconds,
        );
    }
    Ok(vec![sec])
}

fn measure(s: &Sizes, op: Op, threads: usize) -> Result<Samples, BenchError> {
    let hlc = Hlc::default();
    let barrier = Barrier::new(threads);
    let per_thread: Vec<Result<Samples, BenchError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let call = || match op {
                        Op::Tick => hlc.tick(),
                        Op::Merge(r) => hlc.merge(r).unwrap_or(HlcTimestamp::ZERO),
                    };
                    warm_up(Duration::from_millis(s.warmup_ms), call);
                    barrier.wait();
                    time_batches(s.hlc_batches, s.hlc_batch, call)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(BenchError::bench("hlc", "timing thread panicked")))
            })
            .collect()
    });
    let mut pooled = Vec::with_capacity(threads * s.hlc_batches);
    for r in per_thread {
        pooled.extend_from_slice(r?.sorted());
    }
    Samples::new(pooled)
}
