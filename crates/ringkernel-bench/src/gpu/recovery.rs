//! Recovery from a sticky device fault, measured through the public API on one card: a handler
//! traps, the kernel and its context die, and the runtime (built with
//! `RuntimeBuilder::recovery`) resets the device, rebuilds a generation, restores the last
//! checkpoint and replays the log since it — finding the poison message by a one-by-one replay.
//! Beside it, in the same process: the floor of building a fresh runtime (context, module from
//! the PTX cache, allocations, kernel launch).

use std::time::{Duration, Instant};

use ringkernel::recovery::RecoveryPolicy;
use ringkernel::{ActorRef, Backend, Runtime};

use crate::error::BenchError;
use crate::gpu::actors::{Add, Crashy, TRAP};
use crate::report::{Row, Section, Unit};
use crate::samples::Samples;

/// Actors in the runtime, and tells each takes after the checkpoint (the replay log).
const ACTORS: usize = 64;
const LOGGED_PER_ACTOR: u64 = 16;
const TIMEOUT: Duration = Duration::from_secs(30);

fn b_err<E: std::fmt::Display>(what: &'static str) -> impl Fn(E) -> BenchError {
    move |e| BenchError::bench(what, e)
}

fn runtime(recovery: bool) -> Result<Runtime, BenchError> {
    let b = Runtime::builder()
        .backend(Backend::Cuda)
        .register::<Crashy>();
    let b = if recovery {
        b.recovery(RecoveryPolicy {
            checkpoint_every: Duration::from_secs(3600),
            ..RecoveryPolicy::default()
        })
    } else {
        b
    };
    b.build().map_err(b_err("runtime"))
}

/// `runs` faults, each timed from the trapping tell to the first reply of the recovered runtime.
pub fn section(runs: usize, asks: usize) -> Result<Section, BenchError> {
    let mut fresh = Vec::with_capacity(runs);
    let mut plain_asks = Vec::new();
    for run in 0..runs {
        let t = Instant::now();
        let rt = runtime(false)?;
        fresh.push(t.elapsed().as_nanos() as f64);
        if run == 0 {
            plain_asks = ask_latency(&rt, asks)?;
        }
        rt.shutdown(TIMEOUT).map_err(b_err("shutdown"))?;
    }
    let rt = runtime(true)?;
    let isolated_asks = ask_latency(&rt, asks)?;
    let actors: Vec<ActorRef<Crashy>> = (0..ACTORS)
        .map(|_| rt.spawn::<Crashy>(Default::default()))
        .collect::<Result<_, _>>()
        .map_err(b_err("spawn"))?;
    let (mut serving, mut took) = (Vec::new(), Vec::new());
    let mut expected = 0u64;
    for run in 0..runs {
        rt.recovery_checkpoint().map_err(b_err("checkpoint"))?;
        for a in &actors {
            for _ in 0..LOGGED_PER_ACTOR {
                a.tell(Add { n: 1 }).map_err(b_err("tell"))?;
            }
        }
        expected += LOGGED_PER_ACTOR;
        let t = Instant::now();
        actors[run % ACTORS]
            .tell(Add { n: TRAP })
            .map_err(b_err("trap"))?;
        let until = t + TIMEOUT;
        let count = loop {
            // Waits out the recovery (sends block meanwhile); fails fast before it starts.
            match actors[0].ask_blocking(Add { n: 0 }, TIMEOUT) {
                Ok(tally) if rt.recoveries().len() > run => break tally.count,
                _ if Instant::now() > until => {
                    return Err(BenchError::bench(
                        "recovery",
                        format!(
                            "not serving after 30 s (run {run}); events: {:?}",
                            rt.resilience_events()
                        ),
                    ))
                }
                _ => std::thread::yield_now(),
            }
        };
        serving.push(t.elapsed().as_nanos() as f64);
        let report = rt
            .recoveries()
            .pop()
            .ok_or_else(|| BenchError::bench("recovery", "no report"))?;
        if report.poisoned.len() != 1 {
            return Err(BenchError::bench(
                "recovery",
                format!("expected one poison message, got {report:?}"),
            ));
        }
        took.push(report.took.as_nanos() as f64);
        // The zero asks before the recovery finished were answered by the dead generation or
        // failed; those in the log are replayed. Only the tells are checked exactly.
        if count < expected {
            return Err(BenchError::bench(
                "recovery",
                format!("actor 0 counts {count}, expected at least {expected}"),
            ));
        }
    }
    rt.shutdown(TIMEOUT).map_err(b_err("shutdown"))?;
    let mut sec = Section::new(
        "recovery from a sticky device fault",
        format!(
            "{ACTORS} `Crashy` actors (16-byte state) on Backend::Cuda with \
             RuntimeBuilder::recovery; before each of {runs} runs a checkpoint, then \
             {LOGGED_PER_ACTOR} tells per actor ({} log entries), then a tell whose handler \
             executes __trap() (the kernel and its context die). \"Fault to serving again\": from \
             that tell to the first reply of the recovered runtime (fault noticed by the reply \
             poller within 1 ms; the faulted device host process killed; a new one started, the \
             checkpoint restored and the log replayed one message at a time, which faults \
             again on the poison message; a third device host with the poison left out — a \
             fresh process each time, since after a sticky fault the faulting process cannot \
             create a CUDA context again). \"Recovery\": the report's own time from taking over to serving. \
             The floor: building a fresh in-process runtime with no actors. The price: the \
             same blocking ask through the recovering runtime (its device host process and \
             replay log) and through an in-process one.",
            ACTORS as u64 * LOGGED_PER_ACTOR
        ),
    );
    sec.push(Row::new(
        "fault to serving again (host-timed)",
        Unit::Nanoseconds,
        &Samples::new(serving)?,
    ));
    sec.push(Row::new(
        "recovery (RecoveryReport::took)",
        Unit::Nanoseconds,
        &Samples::new(took)?,
    ));
    sec.push(Row::new(
        "floor: a fresh runtime (context, cached PTX, allocation, launch)",
        Unit::Nanoseconds,
        &Samples::new(fresh)?,
    ));
    sec.push(Row::new(
        "the price: blocking ask, recovering runtime (device host process, replay log)",
        Unit::Nanoseconds,
        &Samples::new(isolated_asks)?,
    ));
    sec.push(Row::new(
        "baseline: blocking ask, in-process runtime",
        Unit::Nanoseconds,
        &Samples::new(plain_asks)?,
    ));
    Ok(sec)
}

/// `n` blocking asks to one fresh actor after `n / 10` untimed ones, in ns each.
fn ask_latency(rt: &Runtime, n: usize) -> Result<Vec<f64>, BenchError> {
    let a = rt
        .spawn::<Crashy>(Default::default())
        .map_err(b_err("spawn"))?;
    let mut v = Vec::with_capacity(n);
    for i in 0..n + n / 10 {
        let t = Instant::now();
        a.ask_blocking(Add { n: 1 }, TIMEOUT)
            .map_err(b_err("ask"))?;
        if i >= n / 10 {
            v.push(t.elapsed().as_nanos() as f64);
        }
    }
    rt.backend().stop(a.id()).map_err(b_err("stop"))?;
    Ok(v)
}
