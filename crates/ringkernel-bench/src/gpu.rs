//! The GPU benchmark suite: the framework through its public API beside the raw floors, all in one
//! process and one run on one card (see docs/benchmarks/README.md).

pub mod actors;
pub mod checkpoints;
pub mod hopper;
pub mod multi;
pub mod recovery;
pub mod resilience;
pub mod swarm;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ringkernel::{ActorRef, Backend, Runtime};
use ringkernel_core::{AskError, SendError};
use ringkernel_cuda::device::ServiceCycles;
use ringkernel_cuda::floors::Floors;
use ringkernel_cuda::peer::{kind as peer_kind, Peer, PeerMsg, PeerState, PeerSummary};
use ringkernel_cuda::{CudaBackend, CudaConfig};

use crate::env::Environment;
use crate::error::BenchError;
use crate::report::{Report, Row, Section, Unit};
use crate::samples::Samples;
use actors::{Add, Adder, Blob, Sink, Tally};

/// Sizes of one run.
#[derive(Debug, Clone)]
pub struct GpuBenchConfig {
    /// Timed round trips per latency row.
    pub iters: usize,
    /// Untimed round trips first.
    pub warmup: usize,
    /// Messages per tell-throughput repetition.
    pub tell_messages: u64,
    /// Repetitions of each throughput measurement.
    pub reps: usize,
    /// Producer thread counts for the tell benchmark.
    pub producers: Vec<usize>,
}

impl GpuBenchConfig {
    /// Publication sizes, or a fast smoke run.
    pub fn new(quick: bool) -> Self {
        if quick {
            GpuBenchConfig {
                iters: 2_000,
                warmup: 200,
                tell_messages: 200_000,
                reps: 2,
                producers: vec![1, 4],
            }
        } else {
            GpuBenchConfig {
                iters: 20_000,
                warmup: 2_000,
                tell_messages: 2_000_000,
                reps: 3,
                producers: vec![1, 2, 4, 8],
            }
        }
    }
}

fn err(name: &str) -> impl Fn(ringkernel::Error) -> BenchError + '_ {
    move |e| BenchError::bench(name, e)
}

fn cuda_err(name: &str) -> impl Fn(ringkernel_cuda::CudaError) -> BenchError + '_ {
    move |e| BenchError::bench(name, e)
}

/// Runs every GPU benchmark and returns the report.
pub fn run(config: &GpuBenchConfig) -> Result<Report, BenchError> {
    eprintln!("gpu-bench: compiling floors");
    let floors = Floors::new(0).map_err(cuda_err("floors"))?;
    eprintln!("gpu-bench: raw floors (no runtime running yet)");
    let fl = FloorSamples {
        raw: floors
            .pingpong(config.iters, config.warmup)
            .map_err(cuda_err("raw ping-pong"))?,
        launch: floors
            .launch_sync(config.iters, config.warmup)
            .map_err(cuda_err("launch+sync"))?,
        graph: floors
            .graph_replay(config.iters, config.warmup)
            .map_err(cuda_err("graph replay"))?,
    };
    // The stream floor allocates and frees pinned memory, which synchronizes the context; with
    // the persistent kernel resident that would wait forever, so it runs first too.
    let mut streams = Vec::new();
    for rings in [1usize, 8] {
        eprintln!("gpu-bench: raw stream, {rings} ring(s)");
        let per = config.tell_messages / rings as u64;
        let rates = (0..config.reps)
            .map(|_| floors.h2d_stream(rings, per))
            .collect::<Result<Vec<_>, _>>()
            .map_err(cuda_err("raw stream"))?;
        streams.push((rings, Samples::new(rates)?));
    }
    eprintln!("gpu-bench: device operation costs");
    let ops = op_costs(&floors)?;
    eprintln!("gpu-bench: raw K2K floor");
    let k2k_floor = (0..10)
        .map(|_| floors.k2k_one_way(100_000))
        .collect::<Result<Vec<_>, _>>()
        .map_err(cuda_err("raw K2K floor"))?;
    drop(floors);
    eprintln!("gpu-bench: starting runtime");
    let rt = Runtime::builder()
        .backend(Backend::Cuda)
        .register::<Adder>()
        .register::<Sink>()
        .build()
        .map_err(err("runtime"))?;
    let gpu = rt.description();
    let mut report = Report::new("RingKernel GPU benchmarks", Environment::capture(Some(gpu)));
    report.sections.push(ask_latency(config, &rt, fl)?);
    report.sections.push(ops);
    report
        .sections
        .push(tell_throughput(config, &rt, &streams)?);
    report.notes.push(
        "All raw floors ran in this process on this card just before the runtime started: \
         cuMemHostAlloc/cuMemFree* synchronize the context, so allocating floor buffers while the \
         persistent kernel is resident would wait for it forever."
            .into(),
    );
    rt.shutdown(Duration::from_secs(10))
        .map_err(err("shutdown"))?;
    drop(rt);
    report.sections.push(ask_path(config)?);
    report.sections.push(k2k(config, k2k_floor)?);
    report.sections.push(idle_cost()?);
    Ok(report)
}

/// Runs and writes `<out>/gpu.md` and `<out>/gpu.json`.
pub fn run_and_write(
    config: &GpuBenchConfig,
    out: &Path,
) -> Result<(PathBuf, PathBuf), BenchError> {
    run(config)?.write(out, "gpu")
}

/// Latency of the single device operations an ask is made of (one thread, dependent chains;
/// five launches, so each row has five samples).
fn op_costs(floors: &Floors) -> Result<Section, BenchError> {
    let runs = (0..5)
        .map(|_| floors.op_costs())
        .collect::<Result<Vec<_>, _>>()
        .map_err(cuda_err("op costs"))?;
    let khz = floors.clock_khz();
    let mut s = Section::new(
        "device operation costs",
        format!(
            "One GPU thread times each operation with clock64 over a dependent chain of \
             repetitions (kernels/op_costs.cu), five launches. Cycles are converted at the \
             driver's nominal SM clock ({:.2} GHz); the card may run slower under its power \
             limit, so the times are lower bounds.",
            f64::from(khz) / 1e6
        ),
    );
    for (i, name) in ringkernel_cuda::floors::OP_COST_NAMES.iter().enumerate() {
        let ns: Vec<f64> = runs
            .iter()
            .map(|r| r.get(i).copied().unwrap_or(0) as f64 / (f64::from(khz.max(1)) / 1e6))
            .collect();
        let cycles = runs.iter().map(|r| r.get(i).copied().unwrap_or(0)).max();
        s.push(
            Row::new(*name, Unit::Nanoseconds, &Samples::new(ns)?)
                .with_notes(format!("{} cycles (max of 5)", cycles.unwrap_or(0))),
        );
    }
    Ok(s)
}

/// Floor round trips measured before the runtime starts.
#[derive(Debug)]
struct FloorSamples {
    raw: Vec<f64>,
    launch: Vec<f64>,
    graph: Vec<f64>,
}

fn ask_latency(c: &GpuBenchConfig, rt: &Runtime, fl: FloorSamples) -> Result<Section, BenchError> {
    let actor = rt.spawn::<Adder>(Tally::default()).map_err(err("spawn"))?;
    let timeout = Duration::from_secs(5);
    eprintln!("gpu-bench: ask latency");
    let mut blocking = Vec::with_capacity(c.iters);
    for i in 0..c.iters + c.warmup {
        let t = Instant::now();
        let r = actor
            .ask_blocking(Add { n: 1 }, timeout)
            .map_err(|e| BenchError::bench("ask_blocking", e))?;
        let dt = t.elapsed().as_nanos() as f64;
        if r.count != i as u64 + 1 {
            return Err(BenchError::bench("ask_blocking", "reply out of order"));
        }
        if i >= c.warmup {
            blocking.push(dt);
        }
    }
    {
        let mut v = blocking.clone();
        v.sort_by(f64::total_cmp);
        eprintln!(
            "gpu-bench: blocking asks done, p50 {:.0} ns; async next",
            v[v.len() / 2]
        );
    }
    let tokio_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| BenchError::bench("tokio", e))?;
    let asyncs = tokio_rt.block_on(async {
        let mut v = Vec::with_capacity(c.iters);
        let phase = Instant::now();
        for i in 0..c.iters + c.warmup {
            let t = Instant::now();
            actor.ask(Add { n: 1 }).await?;
            if i < 5 || i % 500 == 0 {
                eprintln!(
                    "  async ask {i}: {:?} (phase {:?})",
                    t.elapsed(),
                    phase.elapsed()
                );
            }
            if i >= c.warmup {
                v.push(t.elapsed().as_nanos() as f64);
            }
        }
        Ok::<_, AskError>(v)
    });
    let asyncs = asyncs.map_err(|e| BenchError::bench("ask async", e))?;
    let FloorSamples { raw, launch, graph } = fl;
    let blocking = Samples::new(blocking)?;
    let asyncs = Samples::new(asyncs)?;
    let raw = Samples::new(raw)?;
    let launch = Samples::new(launch)?;
    let graph = Samples::new(graph)?;
    let mut s = Section::new(
        "ask round trip",
        "One host thread asks one block actor (8-byte request, 16-byte reply) through the public \
         API, sequentially; the raw rows ran on the same card in the same process just before the \
         runtime started. Launch and graph rows do no message work at all: they are the cost of \
         the alternative's plumbing alone.",
    );
    s.push(Row::new(
        "ringkernel ask_blocking (public API)",
        Unit::Nanoseconds,
        &blocking,
    ))
    .push(Row::new(
        "ringkernel ask().await (tokio current-thread)",
        Unit::Nanoseconds,
        &asyncs,
    ))
    .push(Row::new(
        "raw persistent mapped ping-pong (floor)",
        Unit::Nanoseconds,
        &raw,
    ))
    .push(Row::new(
        "empty kernel launch + stream sync",
        Unit::Nanoseconds,
        &launch,
    ))
    .push(Row::new(
        "CUDA graph replay + stream sync",
        Unit::Nanoseconds,
        &graph,
    ));
    s.compare(
        "ask_blocking",
        &blocking,
        "raw floor",
        &raw,
        Unit::Nanoseconds,
    )
    .compare(
        "ask_blocking",
        &blocking,
        "launch + sync",
        &launch,
        Unit::Nanoseconds,
    )
    .compare(
        "ask_blocking",
        &blocking,
        "graph replay + sync",
        &graph,
        Unit::Nanoseconds,
    )
    .compare(
        "ask().await",
        &asyncs,
        "ask_blocking",
        &blocking,
        Unit::Nanoseconds,
    );
    Ok(s)
}

/// Sends `total` 64-byte tells spread over `actors` from `producers` threads, retrying on Full,
/// then waits until every actor has handled its share; returns messages per second.
fn tell_once(
    actors: &[ActorRef<Sink>],
    producers: usize,
    total: u64,
    batch: usize,
) -> Result<f64, BenchError> {
    let before: Vec<Tally> = actors
        .iter()
        .map(|a| a.ask_blocking(Blob::default(), Duration::from_secs(10)))
        .collect::<Result<_, _>>()
        .map_err(|e| BenchError::bench("tell baseline", e))?;
    let per = total / producers as u64;
    let actors = Arc::new(actors.to_vec());
    let start = Instant::now();
    std::thread::scope(|scope| {
        for p in 0..producers {
            let actors = actors.clone();
            scope.spawn(move || {
                let n = actors.len();
                let msgs = vec![Blob { words: [1; 8] }; batch];
                let mut i = 0u64;
                let mut k = 0usize;
                while i < per {
                    let a = &actors[(k + p) % n];
                    k += 1;
                    let want = batch.min((per - i) as usize);
                    let mut rest = &msgs[..want];
                    let since = Instant::now();
                    while !rest.is_empty() {
                        let r = if batch == 1 {
                            a.tell(rest[0]).map(|()| 1)
                        } else {
                            a.tell_batch(rest)
                        };
                        match r {
                            Ok(m) => rest = &rest[m..],
                            Err(SendError::Full(_)) => {
                                assert!(
                                    since.elapsed() < Duration::from_secs(10),
                                    "mailbox of {:?} stayed full for 10 s",
                                    a.id()
                                );
                                std::hint::spin_loop()
                            }
                            Err(e) => panic!("tell failed: {e}"),
                        }
                    }
                    i += want as u64;
                }
            });
        }
    });
    // Every message has been accepted; an ask queued behind them returns once they are handled.
    let mut handled = 0;
    for (a, b) in actors.iter().zip(&before) {
        let t = a
            .ask_blocking(Blob::default(), Duration::from_secs(30))
            .map_err(|e| BenchError::bench("tell drain", e))?;
        handled += t.count - b.count - 1;
    }
    let secs = start.elapsed().as_secs_f64();
    if handled != per * producers as u64 {
        return Err(BenchError::bench(
            "tell",
            format!("{handled} handled of {} sent", per * producers as u64),
        ));
    }
    Ok(handled as f64 / secs)
}

fn tell_throughput(
    c: &GpuBenchConfig,
    rt: &Runtime,
    streams: &[(usize, Samples)],
) -> Result<Section, BenchError> {
    let actors: Vec<ActorRef<Sink>> = (0..64)
        .map(|_| rt.spawn::<Sink>(Tally::default()))
        .collect::<Result<_, _>>()
        .map_err(err("spawn sinks"))?;
    let mut s = Section::new(
        "tell throughput",
        "64-byte messages told round-robin to 64 block actors whose handler reads them (sum of \
         word 0), counted only once every handler ran; the raw rows stream 64-byte messages into \
         mapped rings read by a 256-thread block per ring, with no actor work.",
    );
    let mut ours = Vec::new();
    for &p in &c.producers {
        let rates = (0..c.reps)
            .map(|_| tell_once(&actors, p, c.tell_messages, 1))
            .collect::<Result<Vec<_>, _>>()?;
        let rates = Samples::new(rates)?;
        eprintln!("gpu-bench: tell x{p}: p50 {:.2} M msg/s", rates.p50() / 1e6);
        s.push(Row::new(
            format!("ringkernel tell, {p} producer thread(s)"),
            Unit::OpsPerSecond,
            &rates,
        ));
        ours.push((p, rates));
    }
    let mut batched = Vec::new();
    for &p in &[1usize, 4] {
        let rates = (0..c.reps)
            .map(|_| tell_once(&actors, p, c.tell_messages, 64))
            .collect::<Result<Vec<_>, _>>()?;
        let rates = Samples::new(rates)?;
        eprintln!(
            "gpu-bench: tell_batch(64) x{p}: p50 {:.2} M msg/s",
            rates.p50() / 1e6
        );
        s.push(Row::new(
            format!("ringkernel tell_batch (64 per call), {p} producer thread(s)"),
            Unit::OpsPerSecond,
            &rates,
        ));
        batched.push((p, rates));
    }
    for (rings, rates) in streams {
        let rings = *rings;
        s.push(Row::new(
            format!("raw mapped-ring stream, {rings} ring(s) (floor)"),
            Unit::OpsPerSecond,
            rates,
        ));
        // Single-message tells and batches, each against the floor with as many rings.
        let producers = if rings == 1 { 1 } else { 4 };
        for (label, set) in [("tell", &ours), ("tell_batch", &batched)] {
            if let Some((p, o)) = set.iter().find(|(p, _)| *p == producers) {
                s.compare(
                    format!("{label} x{p}"),
                    o,
                    format!("raw {rings} ring(s)"),
                    rates,
                    Unit::OpsPerSecond,
                );
            }
        }
    }
    Ok(s)
}

/// What [`backend_asks`] measured.
struct AskRun {
    /// Round trips, ns.
    latencies: Vec<f64>,
    /// Device time per message (mean over the run, from the blocks' `clock64` counters at the
    /// nominal clock), ns: total from the poll that found it to its reply written, of which
    /// handlers and replies; `None` if the driver reports no clock rate.
    device_ns: Option<(f64, f64, f64)>,
}

/// Sequential asks through the backend API (no facade) on a fresh runtime built with `config`.
fn backend_asks(c: &GpuBenchConfig, config: CudaConfig) -> Result<AskRun, BenchError> {
    use ringkernel_core::{ActorBackend, ActorId, Envelope};
    let types = [ringkernel_core::ActorVTable::of::<Adder>()
        .map_err(|e| BenchError::bench("ask path", e))?];
    let b = CudaBackend::new(&types, config).map_err(cuda_err("ask path backend"))?;
    let id = b
        .spawn(0, bytemuck::bytes_of(&Tally::default()))
        .map_err(|e| BenchError::bench("ask path spawn", e))?;
    let mut v = Vec::with_capacity(c.iters);
    let beat = Duration::from_millis(3);
    let mut start_counters = (ServiceCycles::default(), 0);
    for i in 0..c.iters + c.warmup {
        if i == c.warmup {
            // Let a heartbeat publish the counters as of the end of the warm-up.
            std::thread::sleep(beat);
            start_counters = (b.service_cycles(), b.counters().0);
        }
        let env = Envelope::new(ActorId::HOST, id, &Add { n: 1 })
            .map_err(|e| BenchError::bench("ask path", e))?;
        let t = Instant::now();
        b.ask(env)
            .map_err(|e| BenchError::bench("ask path ask", e))?
            .wait(Duration::from_secs(5))
            .map_err(|e| BenchError::bench("ask path ask", e))?;
        if i >= c.warmup {
            v.push(t.elapsed().as_nanos() as f64);
        }
    }
    std::thread::sleep(beat);
    let end = b.service_cycles();
    let cycles = (
        end.total - start_counters.0.total,
        end.handlers - start_counters.0.handlers,
        end.replies - start_counters.0.replies,
    );
    let msgs = b.counters().0 - start_counters.1;
    let khz = b.clock_khz();
    b.shutdown(Duration::from_secs(5))
        .map_err(|e| BenchError::bench("ask path shutdown", e))?;
    let per = |c: u64| c as f64 / msgs as f64 / (f64::from(khz) / 1e6);
    let device_ns = (khz > 0 && msgs > 0).then(|| (per(cycles.0), per(cycles.1), per(cycles.2)));
    Ok(AskRun {
        latencies: v,
        device_ns,
    })
}

fn device_note(r: &AskRun) -> String {
    match r.device_ns {
        Some((t, h, r)) => format!(
            "device {t:.0} ns/ask: handler {h:.0}, reply claim+write {r:.0}, poll copy \
             {:.0} (clock64 at nominal clock)",
            t - h - r
        ),
        None => "device service time unknown (no clock rate)".into(),
    }
}

/// Where an ask's time goes: the default path beside the same path with one piece switched back
/// (reply hand-off through the poller thread; reply stamps after a system fence). One runtime at
/// a time: creating one allocates, which waits for a live kernel.
fn ask_path(c: &GpuBenchConfig) -> Result<Section, BenchError> {
    eprintln!("gpu-bench: ask path");
    let default = backend_asks(c, CudaConfig::default())?;
    let handoff = backend_asks(
        c,
        CudaConfig {
            caller_drives_replies: false,
            ..CudaConfig::default()
        },
    )?;
    let fenced = backend_asks(
        c,
        CudaConfig {
            fenced_replies: true,
            ..CudaConfig::default()
        },
    )?;
    let (d, h, f) = (
        Samples::new(default.latencies.clone())?,
        Samples::new(handoff.latencies.clone())?,
        Samples::new(fenced.latencies.clone())?,
    );
    let mut s = Section::new(
        "ask path",
        "Sequential asks through the backend API (ActorBackend::ask + wait, no facade), each \
         variant on a fresh runtime. Default: the asking thread drains the reply ring itself \
         while it spins, and replies are stamped with seq_b = (pos+1) ^ hash(words) in the same \
         store as the data. Variants: the reply handed over by the poller thread; stamps written \
         after a __threadfence_system(). The notes give the device's own time per ask, from the \
         poll that found the message to the reply written (the rest is PCIe and host).",
    );
    s.push(
        Row::new(
            "ask, caller drains replies, hashed stamps (default)",
            Unit::Nanoseconds,
            &d,
        )
        .with_notes(device_note(&default)),
    )
    .push(
        Row::new(
            "ask, poller thread hands replies over",
            Unit::Nanoseconds,
            &h,
        )
        .with_notes(device_note(&handoff)),
    )
    .push(Row::new("ask, fenced stamps", Unit::Nanoseconds, &f).with_notes(device_note(&fenced)));
    s.compare(
        "caller drains",
        &d,
        "poller hand-off",
        &h,
        Unit::Nanoseconds,
    );
    s.compare("hashed", &d, "fenced", &f, Unit::Nanoseconds);
    Ok(s)
}

/// Peers 0..n on a fresh backend (peers address each other by raw id).
fn k2k_peers(b: &CudaBackend, n: u32) -> Result<Vec<ringkernel_core::ActorId>, BenchError> {
    use ringkernel_core::ActorBackend;
    (0..n)
        .map(|i| {
            let next = if n == 2 { 1 - i } else { (i + 1) % n };
            let s = PeerState::new(next, n, 0x51_7CC1 + u64::from(i));
            let id = b
                .spawn(0, bytemuck::bytes_of(&s))
                .map_err(|e| BenchError::bench("k2k spawn", e))?;
            if id.raw() != i {
                return Err(BenchError::bench("k2k spawn", "peer ids are not 0..n"));
            }
            Ok(id)
        })
        .collect()
}

fn peer_ask(
    b: &CudaBackend,
    to: ringkernel_core::ActorId,
    m: PeerMsg,
) -> Result<PeerSummary, BenchError> {
    use ringkernel_core::{ActorBackend, ActorId, Envelope};
    let env = Envelope::new(ActorId::HOST, to, &m).map_err(|e| BenchError::bench("k2k", e))?;
    b.ask(env)
        .map_err(|e| BenchError::bench("k2k ask", e))?
        .wait(Duration::from_secs(10))
        .map_err(|e| BenchError::bench("k2k ask", e))?
        .read()
        .map_err(|e| BenchError::bench("k2k reply", e))
}

fn peer_cmd(kind: u32, n: u64) -> PeerMsg {
    PeerMsg {
        kind,
        target: 0,
        seq: 0,
        n,
    }
}

/// Actor-to-actor messages on the device: a two-actor rally timed by the device, and aggregate
/// random traffic among 64 actors with credits, timed by the host.
fn k2k(c: &GpuBenchConfig, floor: Vec<f64>) -> Result<Section, BenchError> {
    eprintln!("gpu-bench: k2k");
    let types =
        [ringkernel_core::ActorVTable::of::<Peer>().map_err(|e| BenchError::bench("k2k", e))?];
    let rally_trips: u64 = if c.iters < 10_000 { 2_000 } else { 10_000 };
    let mut one_way = Vec::new();
    let (mut hop, mut send, mut inbox) = (Vec::new(), Vec::new(), Vec::new());
    {
        let b = CudaBackend::new(&types, CudaConfig::default()).map_err(cuda_err("k2k backend"))?;
        let ids = k2k_peers(&b, 2)?;
        for _ in 0..10 {
            let partner0 = peer_ask(&b, ids[1], peer_cmd(peer_kind::QUERY, 0))?;
            std::thread::sleep(Duration::from_millis(3));
            let waits0 = b.k2k_waits();
            peer_ask(&b, ids[0], peer_cmd(peer_kind::PING, rally_trips))?;
            let until = Instant::now() + Duration::from_secs(10);
            let s = loop {
                let s = peer_ask(&b, ids[0], peer_cmd(peer_kind::QUERY, 0))?;
                if s.rally_ns != 0 {
                    break s;
                }
                if Instant::now() > until {
                    return Err(BenchError::bench("k2k rally", "did not finish in 10 s"));
                }
                std::thread::sleep(Duration::from_micros(200));
            };
            one_way.push(s.rally_ns as f64 / (2 * rally_trips) as f64);
            // The partner's counters run on across rallies: take this rally's share.
            let p = peer_ask(&b, ids[1], peer_cmd(peer_kind::QUERY, 0))?;
            let hops = (s.hops + p.hops - partner0.hops).max(1) as f64;
            hop.push((s.hop_ns + p.hop_ns - partner0.hop_ns) as f64 / hops);
            send.push((s.send_ns + p.send_ns - partner0.send_ns) as f64 / hops);
            // Heartbeats publish the blocks' counters every millisecond.
            std::thread::sleep(Duration::from_millis(3));
            let waits = b.k2k_waits();
            inbox.push((waits.0 - waits0.0) as f64 / (waits.1 - waits0.1).max(1) as f64);
        }
        use ringkernel_core::ActorBackend;
        b.shutdown(Duration::from_secs(5))
            .map_err(|e| BenchError::bench("k2k shutdown", e))?;
    }
    const PEERS: u32 = 64;
    let per: u64 = c.tell_messages / u64::from(PEERS) / 4;
    let mut rates = Vec::new();
    for _ in 0..c.reps {
        let b = CudaBackend::new(&types, CudaConfig::default()).map_err(cuda_err("k2k backend"))?;
        let ids = k2k_peers(&b, PEERS)?;
        let start = Instant::now();
        for &a in &ids {
            peer_ask(&b, a, peer_cmd(peer_kind::SPRAY, per))?;
        }
        let until = start + Duration::from_secs(30);
        loop {
            // Receipts retry pending sends on the device; the host only nudges the tail end.
            std::thread::sleep(Duration::from_micros(500));
            let s = ids
                .iter()
                .map(|&a| peer_ask(&b, a, peer_cmd(peer_kind::SPRAY, 0)))
                .collect::<Result<Vec<_>, _>>()?;
            let pending: u64 = s.iter().map(|x| x.pending).sum();
            let sent: u64 = s.iter().map(|x| x.sent).sum();
            let received: u64 = s.iter().map(|x| x.received).sum();
            let errors: u64 = s
                .iter()
                .map(|x| u64::from(x.errors) + u64::from(x.dead))
                .sum();
            if errors != 0 {
                return Err(BenchError::bench("k2k traffic", format!("{errors} errors")));
            }
            if pending == 0 && sent == received {
                if received != per * u64::from(PEERS) {
                    return Err(BenchError::bench("k2k traffic", "lost messages"));
                }
                rates.push(received as f64 / start.elapsed().as_secs_f64());
                break;
            }
            if Instant::now() > until {
                return Err(BenchError::bench("k2k traffic", "did not drain in 30 s"));
            }
        }
        use ringkernel_core::ActorBackend;
        b.shutdown(Duration::from_secs(5))
            .map_err(|e| BenchError::bench("k2k shutdown", e))?;
    }
    let one_way = Samples::new(one_way)?;
    let hop = Samples::new(hop)?;
    let send = Samples::new(send)?;
    let inbox = Samples::new(inbox)?;
    let floor = Samples::new(floor)?;
    let rates = Samples::new(rates)?;
    let mut s = Section::new(
        "K2K (actor to actor on the device)",
        format!(
            "Rally: two block actors pass a message back and forth {rally_trips} times through \
             their device-memory inboxes (rk_k2k_tell, Vyukov MPSC with credits); the first \
             actor times the whole rally with %globaltimer; one-way = time / (2 x trips); 10 \
             rallies. Traffic: 64 block actors each send {per} messages to random peers \
             (inbox of 64 slots; a refused send stays pending and is retried on the sender's next \
             receipt, or when the host nudges every 0.5 ms), host-timed from the first command until every message was received and \
             sequence-checked per pair."
        ),
    );
    s.push(Row::new(
        "K2K one-way latency (rally, device-timed)",
        Unit::Nanoseconds,
        &one_way,
    ))
    .push(
        Row::new(
            "of which: rk_k2k_tell in the sender",
            Unit::Nanoseconds,
            &send,
        )
        .with_notes("mean per send, per rally"),
    )
    .push(
        Row::new(
            "of which: waiting in the inbox (publish to take)",
            Unit::Nanoseconds,
            &inbox,
        )
        .with_notes("mean per message, from the blocks' counters"),
    )
    .push(
        Row::new(
            "of which: send to receiving handler start",
            Unit::Nanoseconds,
            &hop,
        )
        .with_notes("mean per hop, per rally; includes the send above"),
    )
    .push(
        Row::new(
            "raw K2K floor: flag ping-pong between two blocks",
            Unit::Nanoseconds,
            &floor,
        )
        .with_notes("100k round trips per sample, before the runtime started"),
    )
    .push(Row::new(
        "K2K aggregate throughput, 64 actors, random targets",
        Unit::OpsPerSecond,
        &rates,
    ));
    Ok(s)
}

/// What an idle persistent kernel costs: SMs it occupies and the PCIe reads of its polling.
fn idle_cost() -> Result<Section, BenchError> {
    eprintln!("gpu-bench: idle cost");
    let types = [
        ringkernel_core::ActorVTable::of::<Adder>().map_err(|e| BenchError::bench("idle", e))?
    ];
    let b = CudaBackend::new(&types, CudaConfig::default()).map_err(cuda_err("idle backend"))?;
    let blocks = b.blocks();
    std::thread::sleep(Duration::from_millis(200));
    let mut rates = Vec::new();
    for _ in 0..5 {
        let (p0, t0) = (b.idle_polls(), Instant::now());
        std::thread::sleep(Duration::from_millis(200));
        rates.push((b.idle_polls() - p0) as f64 / t0.elapsed().as_secs_f64());
    }
    let rates = Samples::new(rates)?;
    let mut s = Section::new(
        "idle cost",
        format!(
            "An idle runtime holds one 32-thread block on each of {blocks} SMs plus the router \
             block (1 of 64 warp slots per SM; other kernels can run beside it). A block keeps \
             polling its mailbox over PCIe (128-byte reads) for 200 µs after its last message, then \
             goes cold: it waits on a device-memory wake word and looks at its mailbox once per \
             millisecond. The row counts those mailbox polls; the router's continuous polling of \
             the doorbell ring (one 16-byte PCIe read per round trip) is not included."
        ),
    );
    let mb = rates.p50() * 128.0 / 1e6;
    s.push(
        Row::new(
            "idle polls per second, whole grid",
            Unit::OpsPerSecond,
            &rates,
        )
        .with_notes(format!("≈ {mb:.0} MB/s of PCIe reads")),
    );
    ringkernel_core::ActorBackend::shutdown(&b, Duration::from_secs(5))
        .map_err(|e| BenchError::bench("idle", e))?;
    Ok(s)
}
