//! Rings suite: `u64` throughput between threads for our SPSC and MPSC rings against `rtrb` and
//! crossbeam's `ArrayQueue`.
//!
//! Equal work for every contender: the same capacity, the same item count per repetition, the same
//! thread layout (SPSC: one producer thread, one consumer thread; MPSC: two producer threads each
//! sending half the items, one consumer thread), the same waiting policy ([`Backoff`]), and the
//! same check (the consumer counts and sums what it received; a wrong count or sum fails the run).
//! Each repetition builds a fresh queue, starts all threads at a barrier, and is timed from the
//! barrier until every thread has finished. A rate sample is items / elapsed seconds.
//!
//! `ArrayQueue` has no batch operations, so it appears in the single-item rows only; our MPSC has
//! no batch push, so its batch row batches the consumer side only (noted in the row).

use std::sync::{Arc, Barrier};
use std::time::Instant;

use crossbeam_queue::ArrayQueue;
use ringkernel_core::ring::{mpsc, spsc};

use super::backoff::Backoff;
use super::Sizes;
use crate::error::BenchError;
use crate::report::{Row, Section, Unit};
use crate::samples::Samples;
use crate::timing::{throughput_timed, Run};

/// SPSC row names, shared with the smoke test.
pub const SPSC_ROWS: [&str; 5] = [
    "ours SPSC, single push/pop",
    "rtrb, single push/pop",
    "crossbeam ArrayQueue as SPSC, single push/pop",
    "ours SPSC, batch push/pop",
    "rtrb, batch push/pop",
];

/// MPSC row names, shared with the smoke test.
pub const MPSC_ROWS: [&str; 3] = [
    "ours MPSC, 2 producers, single push/pop",
    "crossbeam ArrayQueue, 2 producers, single push/pop",
    "ours MPSC, 2 producers, single push / batch pop",
];

type Job<'a, R> = Box<dyn FnOnce() -> Result<R, BenchError> + Send + 'a>;

/// Runs the suite.
pub fn run(s: &Sizes) -> Result<Vec<Section>, BenchError> {
    let mut spsc_sec = Section::new(
        "Rings: SPSC",
        format!(
            "u64 items from one producer thread to one consumer thread. Capacity {}, {} items per \
             repetition, {} repetitions, batch size {}. Rate = items / wall time from the start \
             barrier to the last thread's exit; consumer verifies count and sum.",
            s.ring_capacity, s.ring_items, s.ring_reps, s.ring_batch
        ),
    );
    let ours = throughput_timed(s.ring_reps, || ours_spsc(s, false))?;
    let rtrb_s = throughput_timed(s.ring_reps, || rtrb_spsc(s, false))?;
    let aq = throughput_timed(s.ring_reps, || array_queue(s, 1))?;
    let ours_b = throughput_timed(s.ring_reps, || ours_spsc(s, true))?;
    let rtrb_b = throughput_timed(s.ring_reps, || rtrb_spsc(s, true))?;
    let batch_note = format!("batches of {}", s.ring_batch);
    for (name, samples, note) in [
        (SPSC_ROWS[0], &ours, String::new()),
        (SPSC_ROWS[1], &rtrb_s, String::new()),
        (SPSC_ROWS[2], &aq, "no batch API".to_string()),
        (
            SPSC_ROWS[3],
            &ours_b,
            format!("push_batch/pop_batch, {batch_note}"),
        ),
        (
            SPSC_ROWS[4],
            &rtrb_b,
            format!("push_partial_slice/pop_partial_slice, {batch_note}"),
        ),
    ] {
        spsc_sec.push(rate_row(name, samples).with_notes(note));
    }
    spsc_sec
        .compare(
            SPSC_ROWS[0],
            &ours,
            SPSC_ROWS[1],
            &rtrb_s,
            Unit::OpsPerSecond,
        )
        .compare(SPSC_ROWS[0], &ours, SPSC_ROWS[2], &aq, Unit::OpsPerSecond)
        .compare(
            SPSC_ROWS[3],
            &ours_b,
            SPSC_ROWS[4],
            &rtrb_b,
            Unit::OpsPerSecond,
        );

    let mut mpsc_sec = Section::new(
        "Rings: MPSC",
        format!(
            "u64 items from two producer threads (half the items each) to one consumer thread. \
             Capacity {}, {} items per repetition, {} repetitions. Three threads on this machine's \
             cores: when they outnumber the cores, waiting falls back to `yield_now` for everyone.",
            s.ring_capacity, s.ring_items, s.ring_reps
        ),
    );
    let ours_m = throughput_timed(s.ring_reps, || ours_mpsc(s, false))?;
    let aq_m = throughput_timed(s.ring_reps, || array_queue(s, 2))?;
    let ours_mb = throughput_timed(s.ring_reps, || ours_mpsc(s, true))?;
    mpsc_sec
        .push(rate_row(MPSC_ROWS[0], &ours_m))
        .push(rate_row(MPSC_ROWS[1], &aq_m))
        .push(rate_row(MPSC_ROWS[2], &ours_mb).with_notes(format!(
            "pop_batch of {}; no ArrayQueue counterpart",
            s.ring_batch
        )));
    mpsc_sec.compare(
        MPSC_ROWS[0],
        &ours_m,
        MPSC_ROWS[1],
        &aq_m,
        Unit::OpsPerSecond,
    );
    Ok(vec![spsc_sec, mpsc_sec])
}

fn rate_row(name: &str, samples: &Samples) -> Row {
    Row::new(name, Unit::OpsPerSecond, samples)
}

fn ours_spsc(s: &Sizes, batch: bool) -> Result<Run, BenchError> {
    let who = "ours spsc";
    let (mut p, mut c) =
        spsc::channel::<u64>(s.ring_capacity).map_err(|e| BenchError::bench(who, e))?;
    let n = s.ring_items;
    let b = s.ring_batch;
    if batch {
        layout(
            n,
            vec![Box::new(move || {
                produce_batch(0, n, b, who, |xs| p.push_batch(xs))
            })],
            Box::new(move || consume_batch(n, b, who, |buf| c.pop_batch(buf))),
        )
    } else {
        layout(
            n,
            vec![Box::new(move || {
                produce_single(0, n, who, |v| p.push(v).is_ok())
            })],
            Box::new(move || consume_single(n, who, || c.pop())),
        )
    }
}

fn rtrb_spsc(s: &Sizes, batch: bool) -> Result<Run, BenchError> {
    let who = "rtrb";
    let (mut p, mut c) = rtrb::RingBuffer::<u64>::new(s.ring_capacity);
    let n = s.ring_items;
    let b = s.ring_batch;
    if batch {
        layout(
            n,
            vec![Box::new(move || {
                produce_batch(0, n, b, who, |xs| p.push_partial_slice(xs).0.len())
            })],
            Box::new(move || consume_batch(n, b, who, |buf| c.pop_partial_slice(buf).0.len())),
        )
    } else {
        layout(
            n,
            vec![Box::new(move || {
                produce_single(0, n, who, |v| p.push(v).is_ok())
            })],
            Box::new(move || consume_single(n, who, || c.pop().ok())),
        )
    }
}

fn array_queue(s: &Sizes, producers: u64) -> Result<Run, BenchError> {
    let who = "crossbeam ArrayQueue";
    let q = Arc::new(ArrayQueue::<u64>::new(s.ring_capacity));
    let n = s.ring_items;
    let share = n / producers;
    let jobs: Vec<Job<'_, ()>> = (0..producers)
        .map(|i| {
            let q = Arc::clone(&q);
            let start = i * share;
            let count = if i + 1 == producers { n - start } else { share };
            Box::new(move || produce_single(start, count, who, |v| q.push(v).is_ok()))
                as Job<'_, ()>
        })
        .collect();
    let qc = Arc::clone(&q);
    layout(
        n,
        jobs,
        Box::new(move || consume_single(n, who, || qc.pop())),
    )
}

fn ours_mpsc(s: &Sizes, batch_pop: bool) -> Result<Run, BenchError> {
    let who = "ours mpsc";
    let (p, mut c) =
        mpsc::channel::<u64>(s.ring_capacity).map_err(|e| BenchError::bench(who, e))?;
    let n = s.ring_items;
    let share = n / 2;
    let b = s.ring_batch;
    let p2 = p.clone();
    let jobs: Vec<Job<'_, ()>> = vec![
        Box::new(move || produce_single(0, share, who, |v| p.push(v).is_ok())),
        Box::new(move || produce_single(share, n - share, who, |v| p2.push(v).is_ok())),
    ];
    if batch_pop {
        layout(
            n,
            jobs,
            Box::new(move || consume_batch(n, b, who, |buf| c.pop_batch(buf))),
        )
    } else {
        layout(
            n,
            jobs,
            Box::new(move || consume_single(n, who, || c.pop())),
        )
    }
}

/// Runs the producers and the consumer on their own threads, released together by a barrier, and
/// checks the consumer received exactly the items `0..n` (by count and sum).
///
/// Each thread reads the clock itself right after the barrier and right after its work; the window
/// is earliest start to latest end. (Reading a start time on the coordinating thread instead is
/// wrong when threads outnumber cores: the workers may finish before it is scheduled again.)
fn layout<'a>(
    n: u64,
    producers: Vec<Job<'a, ()>>,
    consumer: Job<'a, (u64, u64)>,
) -> Result<Run, BenchError> {
    let barrier = Barrier::new(producers.len() + 1);
    let (results, received) = std::thread::scope(|scope| {
        let barrier = &barrier;
        let ph: Vec<_> = producers
            .into_iter()
            .map(|job| scope.spawn(move || timed_after(barrier, job)))
            .collect();
        let ch = scope.spawn(move || timed_after(barrier, consumer));
        let results: Vec<_> = ph.into_iter().map(join).collect();
        (results, join(ch))
    });
    let (received, mut first, mut last) = received?;
    for r in results {
        let ((), start, end) = r?;
        first = first.min(start);
        last = last.max(end);
    }
    let (count, sum) = received;
    let expected_sum = n * n.saturating_sub(1) / 2;
    if count != n || sum != expected_sum {
        return Err(BenchError::bench(
            "rings",
            format!(
                "received {count} items summing to {sum}, expected {n} summing to {expected_sum}"
            ),
        ));
    }
    Ok(Run {
        ops: n,
        elapsed: last - first,
    })
}

/// Waits at `barrier`, then runs `job` between two clock reads.
fn timed_after<R>(barrier: &Barrier, job: Job<'_, R>) -> Result<(R, Instant, Instant), BenchError> {
    barrier.wait();
    let start = Instant::now();
    let r = job()?;
    Ok((r, start, Instant::now()))
}

fn join<R>(h: std::thread::ScopedJoinHandle<'_, Result<R, BenchError>>) -> Result<R, BenchError> {
    h.join()
        .unwrap_or_else(|_| Err(BenchError::bench("rings", "a benchmark thread panicked")))
}

#[inline]
fn produce_single(
    start: u64,
    count: u64,
    who: &str,
    mut push: impl FnMut(u64) -> bool,
) -> Result<(), BenchError> {
    let mut backoff = Backoff::new();
    for v in start..start + count {
        while !push(v) {
            backoff.snooze(who)?;
        }
        backoff.reset();
    }
    Ok(())
}

#[inline]
fn produce_batch(
    start: u64,
    count: u64,
    batch: usize,
    who: &str,
    mut push: impl FnMut(&[u64]) -> usize,
) -> Result<(), BenchError> {
    let mut backoff = Backoff::new();
    let mut buf = vec![0u64; batch.max(1)];
    let end = start + count;
    let mut next = start;
    while next < end {
        let len = (end - next).min(buf.len() as u64) as usize;
        for (slot, v) in buf[..len].iter_mut().zip(next..) {
            *slot = v;
        }
        let mut off = 0;
        while off < len {
            let k = push(&buf[off..len]);
            if k == 0 {
                backoff.snooze(who)?;
            } else {
                backoff.reset();
                off += k;
            }
        }
        next += len as u64;
    }
    Ok(())
}

#[inline]
fn consume_single(
    total: u64,
    who: &str,
    mut pop: impl FnMut() -> Option<u64>,
) -> Result<(u64, u64), BenchError> {
    let mut backoff = Backoff::new();
    let (mut count, mut sum) = (0u64, 0u64);
    while count < total {
        match pop() {
            Some(v) => {
                count += 1;
                sum = sum.wrapping_add(v);
                backoff.reset();
            }
            None => backoff.snooze(who)?,
        }
    }
    Ok((count, sum))
}

#[inline]
fn consume_batch(
    total: u64,
    batch: usize,
    who: &str,
    mut pop: impl FnMut(&mut [u64]) -> usize,
) -> Result<(u64, u64), BenchError> {
    let mut backoff = Backoff::new();
    let mut buf = vec![0u64; batch.max(1)];
    let (mut count, mut sum) = (0u64, 0u64);
    while count < total {
        let k = pop(&mut buf);
        if k == 0 {
            backoff.snooze(who)?;
            continue;
        }
        backoff.reset();
        count += k as u64;
        sum = buf[..k].iter().fold(sum, |a, &v| a.wrapping_add(v));
    }
    Ok((count, sum))
}
