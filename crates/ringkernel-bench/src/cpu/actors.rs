//! Actors suite: one counter actor (message = `u64` add, reply = the new total) on our CPU backend
//! and on ractor, kameo and actix, doing exactly the same work.
//!
//! - **Ask round trip**: one caller sends `Add(1)` and waits for the reply, sequentially; each ask
//!   is timed on its own (µs-scale, so one clock read pair per ask is ~1% overhead) after an
//!   untimed warm-up. Every reply is checked to be the previous total plus one.
//! - **Tell throughput**: 1 or 2 OS threads send `Add(1)` (the total split evenly), released
//!   together by a barrier; the clock stops when a final ask, sent after every sender finished,
//!   returns the total, which must equal the previous total plus the tells. Rate = tells / that
//!   window, so every message counted was processed, not just enqueued.
//!
//! Each framework runs in its normal idiomatic configuration (see each module): our runtime's
//! default CPU worker pool; ractor and kameo on a default multi-thread tokio runtime; actix with
//! the actor on its own `Arbiter` thread (so, as for everyone else, caller and actor are on
//! different threads). Senders and the asking caller are plain OS threads for every contender,
//! using each framework's blocking-friendly send (`tell`, `cast`, `blocking_send`, `do_send`).

mod actix_impl;
mod kameo_impl;
mod ours;
mod ractor_impl;

use std::sync::Barrier;
use std::time::Instant;

use super::Sizes;
use crate::error::BenchError;
use crate::report::{Row, Section, Unit};
use crate::samples::Samples;
use crate::timing::{throughput_timed, Run};

/// Contender names in report order; ours first.
pub const FRAMEWORKS: [&str; 4] = [
    "ringkernel (cpu)",
    "ractor 0.16",
    "kameo 0.22",
    "actix 0.13",
];

/// Section titles, shared with the smoke test.
pub const SECTIONS: [&str; 3] = [
    "Actors: ask round trip",
    "Actors: tell throughput, 1 sender thread",
    "Actors: tell throughput, 2 sender threads",
];

/// A running counter actor of one framework, driven the same way for all.
pub(crate) trait CounterBench {
    /// How this contender is configured, read from the running instance (for the notes column).
    fn describe(&self) -> String;
    /// Sends `warmup + n` sequential asks of `Add(1)`; returns the latencies (ns) of the last `n`.
    fn ask_latencies(&mut self, warmup: usize, n: usize) -> Result<Vec<f64>, BenchError>;
    /// Sends `per_sender` tells of `Add(1)` from each of `senders` threads, then a final ask;
    /// returns the tells sent and the window from release to the final reply.
    fn tell_run(&mut self, senders: usize, per_sender: u64) -> Result<Run, BenchError>;
}

/// Tracks the counter's expected total and checks every reply against it.
#[derive(Debug, Default)]
pub(crate) struct Expected {
    total: u64,
}

impl Expected {
    /// Checks the reply to an `Add(1)` ask.
    pub(crate) fn ask_reply(&mut self, who: &str, reply: u64) -> Result<(), BenchError> {
        self.check(who, reply, 1)
    }

    /// Checks the reply to the final `Add(0)` ask after `tells` tells of `Add(1)`.
    pub(crate) fn after_tells(
        &mut self,
        who: &str,
        reply: u64,
        tells: u64,
    ) -> Result<(), BenchError> {
        self.check(who, reply, tells)
    }

    fn check(&mut self, who: &str, reply: u64, added: u64) -> Result<(), BenchError> {
        let want = self.total + added;
        if reply != want {
            return Err(BenchError::bench(
                who,
                format!("counter replied {reply}, expected {want}"),
            ));
        }
        self.total = want;
        Ok(())
    }
}

/// Times `warmup + n` sequential calls of a blocking `ask` (ns each), keeping the last `n`.
pub(crate) fn time_asks(
    who: &str,
    warmup: usize,
    n: usize,
    expected: &mut Expected,
    mut ask: impl FnMut() -> Result<u64, BenchError>,
) -> Result<Vec<f64>, BenchError> {
    let mut lat = Vec::with_capacity(n);
    for i in 0..warmup + n {
        let t0 = Instant::now();
        let reply = ask()?;
        let dt = t0.elapsed().as_nanos() as f64;
        expected.ask_reply(who, reply)?;
        if i >= warmup {
            lat.push(dt);
        }
    }
    Ok(lat)
}

/// Moves one handle into each of `handles.len()` OS threads, releases them together, and has each
/// call `send` `per_sender` times. Returns the earliest instant any sender started, once all have
/// finished. (Each sender reads its own start: a coordinating thread's clock read after the barrier
/// can come late when threads outnumber cores.)
pub(crate) fn send_from_threads<H: Send>(
    handles: Vec<H>,
    per_sender: u64,
    send: impl Fn(&H) -> Result<(), BenchError> + Sync,
) -> Result<Instant, BenchError> {
    let barrier = Barrier::new(handles.len());
    let results: Vec<Result<Instant, BenchError>> = std::thread::scope(|scope| {
        let (barrier, send) = (&barrier, &send);
        let joins: Vec<_> = handles
            .into_iter()
            .map(|h| {
                scope.spawn(move || {
                    barrier.wait();
                    let start = Instant::now();
                    for _ in 0..per_sender {
                        send(&h)?;
                    }
                    Ok(start)
                })
            })
            .collect();
        joins
            .into_iter()
            .map(|j| {
                j.join().unwrap_or_else(|_| {
                    Err(BenchError::bench("actors", "a sender thread panicked"))
                })
            })
            .collect()
    });
    let mut first: Option<Instant> = None;
    for r in results {
        let start = r?;
        first = Some(first.map_or(start, |f| f.min(start)));
    }
    first.ok_or_else(|| BenchError::bench("actors", "no sender threads"))
}

struct Measured {
    config: String,
    asks: Samples,
    tells: [Samples; 2],
}

fn measure(s: &Sizes, bench: &mut dyn CounterBench) -> Result<Measured, BenchError> {
    let config = bench.describe();
    let asks = Samples::new(
        bench
            .ask_latencies(s.ask_warmup, s.asks)
            .map_err(|e| phase(e, "ask round trips"))?,
    )?;
    let mut tell_for = |senders: usize| {
        let per_sender = s.tells / senders as u64;
        throughput_timed(s.tell_reps, || bench.tell_run(senders, per_sender))
            .map_err(|e| phase(e, &format!("tells from {senders} thread(s)")))
    };
    let one = tell_for(1)?;
    let two = tell_for(2)?;
    Ok(Measured {
        config,
        asks,
        tells: [one, two],
    })
}

/// Adds which phase of the suite failed to an error.
fn phase(e: BenchError, what: &str) -> BenchError {
    match e {
        BenchError::Bench { bench, reason } => BenchError::Bench {
            bench,
            reason: format!("{what}: {reason}"),
        },
        other => other,
    }
}

/// Runs the suite.
pub fn run(s: &Sizes) -> Result<Vec<Section>, BenchError> {
    // One framework at a time, each shut down before the next starts, so none competes for cores.
    let mut results = Vec::with_capacity(FRAMEWORKS.len());
    for (i, name) in FRAMEWORKS.iter().enumerate() {
        let m = match i {
            0 => measure(s, &mut ours::Ours::start()?),
            1 => measure(s, &mut ractor_impl::RactorBench::start()?),
            2 => measure(s, &mut kameo_impl::KameoBench::start()?),
            _ => measure(s, &mut actix_impl::ActixBench::start()?),
        }?;
        results.push((*name, m));
    }

    let mut ask = Section::new(
        SECTIONS[0],
        format!(
            "Sequential asks of `Add(1)` from one OS thread to one counter actor; each reply \
             checked. {} timed asks after {} warm-up asks; each ask timed individually. \
             Throughput = 1 / mean latency (one caller).",
            s.asks, s.ask_warmup
        ),
    );
    for (name, m) in &results {
        ask.push(
            Row::new(*name, Unit::Nanoseconds, &m.asks)
                .with_throughput(1e9 / m.asks.mean())
                .with_notes(m.config.clone()),
        );
    }
    let mut sections = vec![ask];
    for (k, senders) in [1usize, 2].into_iter().enumerate() {
        let per = s.tells / senders as u64;
        let mut sec = Section::new(
            SECTIONS[k + 1],
            format!(
                "{senders} OS thread(s) x {per} tells of `Add(1)`, then one ask that must return the \
                 new total; rate = tells / (release to final reply). {} repetitions.",
                s.tell_reps
            ),
        );
        for (name, m) in &results {
            sec.push(Row::new(*name, Unit::OpsPerSecond, &m.tells[k]).with_notes(m.config.clone()));
        }
        sections.push(sec);
    }
    // Ours against each of the others, in every section.
    let (ours_name, ours_m) = &results[0];
    for (name, m) in &results[1..] {
        sections[0].compare(*ours_name, &ours_m.asks, *name, &m.asks, Unit::Nanoseconds);
        for k in 0..2 {
            sections[k + 1].compare(
                *ours_name,
                &ours_m.tells[k],
                *name,
                &m.tells[k],
                Unit::OpsPerSecond,
            );
        }
    }
    Ok(sections)
}
