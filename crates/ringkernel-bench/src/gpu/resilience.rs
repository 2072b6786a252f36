//! Resilience on the GPU, measured through the public API in one process on one card: how long
//! an actor whose handler failed takes to serve again, restarted in place inside the persistent
//! kernel (by its restart policy) or by the host (`Runtime::restart`, what a supervisor does),
//! beside the same message sequence without a failure; then checkpoint and restore throughput
//! (`checkpoints.rs`).

use std::time::{Duration, Instant};

use ringkernel::{ActorRef, Backend, Runtime};
use ringkernel_core::events::ActorEvent;
use ringkernel_core::supervision::Intensity;
use ringkernel_core::{AskError, SpawnOptions};

use crate::env::Environment;
use crate::error::BenchError;
use crate::gpu::actors::{Add, Flaky, Tally};
use crate::report::{Report, Row, Section, Unit};
use crate::samples::Samples;

/// Sizes of one run.
#[derive(Debug, Clone)]
pub struct ResilienceBenchConfig {
    /// Timed samples per row.
    pub iters: usize,
    /// Untimed samples first.
    pub warmup: usize,
}

impl ResilienceBenchConfig {
    /// Publication sizes, or a fast smoke run.
    pub fn new(quick: bool) -> Self {
        if quick {
            ResilienceBenchConfig {
                iters: 500,
                warmup: 50,
            }
        } else {
            ResilienceBenchConfig {
                iters: 5_000,
                warmup: 500,
            }
        }
    }
}

const TIMEOUT: Duration = Duration::from_secs(5);

fn b_err<E: std::fmt::Display>(what: &'static str) -> impl Fn(E) -> BenchError {
    move |e| BenchError::bench(what, e)
}

/// Untimed spacing between samples that restart in place: the policy allows 8 restarts per
/// 1 ms window (the device's granularity), so samples start at least 1/8 ms apart.
const GAP: Duration = Duration::from_micros(200);

/// Times `iters + warmup` runs of `f`, keeping the last `iters`; runs start `GAP` apart.
fn sample(
    c: &ResilienceBenchConfig,
    mut f: impl FnMut() -> Result<(), BenchError>,
) -> Result<Samples, BenchError> {
    let mut v = Vec::with_capacity(c.iters);
    let mut last = Instant::now();
    for i in 0..c.iters + c.warmup {
        while last.elapsed() < GAP {
            std::hint::spin_loop();
        }
        last = Instant::now();
        let t = Instant::now();
        f()?;
        let dt = t.elapsed().as_nanos() as f64;
        if i >= c.warmup {
            v.push(dt);
        }
    }
    Samples::new(v)
}

/// The reply must show a fresh state plus this one message: the restart really restored it.
fn expect_fresh(r: Result<Tally, AskError>) -> Result<(), BenchError> {
    match r {
        Ok(t) if t.count == 1 => Ok(()),
        Ok(t) => Err(BenchError::bench(
            "restart",
            format!("state not restored: {t:?} after a restart (expected count 1)"),
        )),
        Err(e) => Err(BenchError::bench("ask", e)),
    }
}

/// Runs the restart rows on the CUDA backend (GPU 0).
pub fn run(c: &ResilienceBenchConfig) -> Result<Report, BenchError> {
    let rt = Runtime::builder()
        .backend(Backend::Cuda)
        .register::<Flaky>()
        .build()
        .map_err(b_err("runtime"))?;
    let mut report = Report::new(
        "RingKernel resilience benchmarks",
        Environment::capture(Some(rt.description())),
    );
    let events = rt
        .backend()
        .events()
        .ok_or_else(|| BenchError::bench("events", "the CUDA backend raised no event queue"))?;
    let in_place = rt
        .spawn_with::<Flaky>(
            Tally::default(),
            SpawnOptions::default().restart(Intensity {
                max_restarts: 8,
                // Every sample restarts once, GAP apart: at most 5 per 1 ms window.
                period: Duration::from_millis(1),
            }),
        )
        .map_err(b_err("spawn"))?;
    let plain = rt
        .spawn::<Flaky>(Tally::default())
        .map_err(b_err("spawn"))?;
    let ok = |a: &ActorRef<Flaky>| a.ask_blocking(Add { n: 1 }, TIMEOUT);

    let mut sec = Section::new(
        "soft restart of one actor",
        format!(
            "One `Flaky` actor (16-byte state; its handler fails with code 7 on n = 0). Each \
             sample is host-timed with Instant, {} samples after {} untimed, started at least 200 µs apart. \"Failure to \
             serving again\": a tell whose handler fails, then at once a blocking ask; the \
             sample ends when the ask's reply is back and shows the restored state (count 1). \
             The baseline sends the same tell + ask with no failure. \"In place\": the actor \
             was spawned with a restart policy; the block restores its image inside the \
             persistent kernel, no host round trip. \"Host restart\": no policy; the host waits \
             for the Failed event, calls Runtime::restart (state write + START), then asks.",
            c.iters, c.warmup
        ),
    );
    // Baseline: the same two messages, nothing fails (the count is reset by a failure-free
    // run; only the timing matters here).
    let base_pair = sample(c, || {
        in_place.tell(Add { n: 1 }).map_err(b_err("tell"))?;
        ok(&in_place).map(|_| ()).map_err(b_err("ask"))
    })?;
    sec.push(Row::new(
        "baseline: tell + ask, no failure",
        Unit::Nanoseconds,
        &base_pair,
    ));
    let in_place_pair = sample(c, || {
        in_place.tell(Add { n: 0 }).map_err(b_err("tell"))?;
        expect_fresh(ok(&in_place))
    })?;
    let extra = in_place_pair.p50() - base_pair.p50();
    sec.push(
        Row::new(
            "failure to serving again, restarted in place (in the kernel)",
            Unit::Nanoseconds,
            &in_place_pair,
        )
        .with_notes(format!("p50 {extra:.0} ns over the baseline")),
    );
    let _ = events.drain();
    let host = sample(c, || {
        plain.tell(Add { n: 0 }).map_err(b_err("tell"))?;
        // The Failed event (the device's notice, drained by the reply poller).
        let until = Instant::now() + TIMEOUT;
        loop {
            let got = events.wait(Duration::from_millis(100));
            if got
                .iter()
                .any(|e| matches!(e, ActorEvent::Failed { actor, .. } if *actor == plain.id()))
            {
                break;
            }
            if Instant::now() > until {
                return Err(BenchError::bench("host restart", "no Failed event"));
            }
        }
        rt.restart(&plain, Tally::default())
            .map_err(b_err("restart"))?;
        expect_fresh(ok(&plain))
    })?;
    let extra = host.p50() - base_pair.p50();
    sec.push(
        Row::new(
            "failure to serving again, host restart (Failed event, Runtime::restart)",
            Unit::Nanoseconds,
            &host,
        )
        .with_notes(format!("p50 {extra:.0} ns over the baseline")),
    );
    let ask_fail = sample(c, || match in_place.ask_blocking(Add { n: 0 }, TIMEOUT) {
        Err(AskError::HandlerFailed { .. }) => Ok(()),
        other => Err(BenchError::bench(
            "failing ask",
            format!("expected HandlerFailed, got {other:?}"),
        )),
    })?;
    sec.push(Row::new(
        "ask whose handler fails (restarted in place before the reply)",
        Unit::Nanoseconds,
        &ask_fail,
    ));
    let base_ask = sample(c, || ok(&in_place).map(|_| ()).map_err(b_err("ask")))?;
    sec.push(Row::new(
        "baseline: ask, no failure",
        Unit::Nanoseconds,
        &base_ask,
    ));
    report.sections.push(sec);
    rt.shutdown(TIMEOUT).map_err(b_err("shutdown"))?;
    drop(rt);
    // After the runtime above is gone: the checkpoint rows allocate and free device memory.
    let runs = if c.iters < 1000 { 3 } else { 10 };
    report
        .sections
        .push(crate::gpu::checkpoints::section(runs)?);
    report.sections.push(crate::gpu::recovery::section(
        if c.iters < 1000 { 3 } else { 10 },
        c.iters,
    )?);
    Ok(report)
}
