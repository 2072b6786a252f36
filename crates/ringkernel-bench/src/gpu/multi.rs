//! The multi-GPU benchmark: links, raw P2P floors, K2K across GPUs beside K2K on one GPU, and
//! migration peer to peer beside host staged — one process, one run, two GPUs of one host.

use std::time::{Duration, Instant};

use ringkernel_core::{ActorBackend, ActorId, ActorVTable, Envelope};
use ringkernel_cuda::bulk::{Bulk, BulkState};
use ringkernel_cuda::floors::Floors;
use ringkernel_cuda::multi::floor::PairFloors;
use ringkernel_cuda::multi::{Placement, Topology, TransferPath};
use ringkernel_cuda::peer::{kind as peer_kind, Peer, PeerMsg, PeerState, PeerSummary};
use ringkernel_cuda::{CudaConfig, MultiGpuBackend, MultiGpuConfig};

use crate::env::Environment;
use crate::error::BenchError;
use crate::report::{Report, Row, Section, Unit};
use crate::samples::Samples;

/// Sizes of one run.
#[derive(Debug, Clone)]
pub struct MultiBenchConfig {
    /// Round trips per rally / floor run.
    pub trips: u64,
    /// Runs of each latency measurement.
    pub runs: usize,
    /// SPRAY messages per peer in the throughput rows.
    pub per_peer: u64,
    /// Migrations per path.
    pub migrations: usize,
}

impl MultiBenchConfig {
    /// Publication sizes, or a fast smoke run.
    pub fn new(quick: bool) -> Self {
        if quick {
            MultiBenchConfig {
                trips: 2_000,
                runs: 5,
                per_peer: 5_000,
                migrations: 4,
            }
        } else {
            MultiBenchConfig {
                trips: 10_000,
                runs: 10,
                per_peer: 20_000,
                migrations: 10,
            }
        }
    }
}

fn b_err<E: std::fmt::Display>(what: &'static str) -> impl Fn(E) -> BenchError {
    move |e| BenchError::bench(what, e)
}

/// Bytes moved by the 16 MiB rows.
const COPY_BYTES: usize = 16 << 20;

/// Runs everything on CUDA ordinals 0 and 1.
pub fn run(c: &MultiBenchConfig) -> Result<Report, BenchError> {
    let topo = Topology::probe().map_err(b_err("topology"))?;
    if topo.gpus().len() < 2 {
        return Err(BenchError::bench(
            "multi-gpu",
            format!("needs two GPUs, the host has {}", topo.gpus().len()),
        ));
    }
    let gpu = format!("{} + {}", topo.gpus()[0].name, topo.gpus()[1].name);
    let mut report = Report::new(
        "RingKernel multi-GPU benchmarks",
        Environment::capture(Some(gpu)),
    );
    for (a, b) in [(0, 1), (1, 0)] {
        if let Some(l) = topo.link(a, b) {
            report.notes.push(format!(
                "GPU {a} -> GPU {b}: peer access {}, native atomics {}, performance rank {} => {:?}",
                l.access, l.native_atomics, l.performance_rank, l.kind
            ));
        }
    }
    // Floors first: they allocate, which would wait for a resident persistent kernel.
    eprintln!("multi-gpu-bench: raw floors");
    let pair = PairFloors::new(0, 1).map_err(b_err("P2P floors"))?;
    let p2p = (0..c.runs)
        .map(|_| pair.one_way(c.trips * 10))
        .collect::<Result<Vec<_>, _>>()
        .map_err(b_err("P2P one-way"))?;
    let (copy_peer, copy_staged) = pair
        .copy_bandwidth(COPY_BYTES, c.runs)
        .map_err(b_err("copy bandwidth"))?;
    drop(pair);
    let floors = Floors::new(0).map_err(b_err("floors"))?;
    let local = (0..c.runs)
        .map(|_| floors.k2k_one_way(c.trips * 10))
        .collect::<Result<Vec<_>, _>>()
        .map_err(b_err("K2K floor"))?;
    drop(floors);

    let mut floors_s = Section::new(
        "raw floors",
        format!(
            "No runtime. One-way: one thread per side ping-pongs a counter through the other \
             side's memory (store + fence, spin on a volatile load), {} round trips per run, \
             {} runs; across GPUs the counter lives in the peer GPU's memory (peer access), on \
             one GPU in its own memory (two blocks). Copies: {} MiB from GPU 0 to GPU 1 with \
             cuMemcpyPeerAsync and through pinned host memory (DtoH then HtoD), {} runs each.",
            c.trips * 10,
            c.runs,
            COPY_BYTES >> 20,
            c.runs
        ),
    );
    floors_s
        .push(Row::new(
            "one-way, GPU 0 <-> GPU 1 (P2P)",
            Unit::Nanoseconds,
            &Samples::new(p2p.clone())?,
        ))
        .push(Row::new(
            "one-way, same GPU",
            Unit::Nanoseconds,
            &Samples::new(local)?,
        ))
        .push(Row::new(
            "copy 16 MiB, peer to peer",
            Unit::BytesPerSecond,
            &Samples::new(copy_peer)?,
        ))
        .push(Row::new(
            "copy 16 MiB, host staged",
            Unit::BytesPerSecond,
            &Samples::new(copy_staged)?,
        ));
    report.sections.push(floors_s);
    report.sections.push(k2k_rows(c)?);
    report.sections.push(migration_rows(c)?);
    Ok(report)
}

fn runtime(ordinals: Vec<usize>, blocks: u32) -> Result<MultiGpuBackend, BenchError> {
    let types = [
        ActorVTable::of::<Peer>().map_err(b_err("vtable"))?,
        ActorVTable::of::<Bulk>().map_err(b_err("vtable"))?,
    ];
    MultiGpuBackend::new(
        &types,
        MultiGpuConfig {
            ordinals,
            per_gpu: CudaConfig {
                blocks: Some(blocks),
                ..CudaConfig::default()
            },
            placement: Placement::LeastLoaded,
        },
    )
    .map_err(b_err("multi-GPU runtime"))
}

fn spawn_peers(
    b: &MultiGpuBackend,
    n: u32,
    gpu_of: impl Fn(u32) -> usize,
) -> Result<Vec<ActorId>, BenchError> {
    (0..n)
        .map(|i| {
            let next = if n == 2 { 1 - i } else { (i + 1) % n };
            let s = PeerState::new(next, n, 0x003C_0DE5 + u64::from(i));
            let id = b
                .spawn_placed(0, bytemuck::bytes_of(&s), Placement::Pinned(gpu_of(i)))
                .map_err(b_err("spawn"))?;
            if id.raw() != i {
                return Err(BenchError::bench("spawn", "peer ids are not 0..n"));
            }
            Ok(id)
        })
        .collect()
}

fn ask(b: &MultiGpuBackend, to: ActorId, kind: u32, n: u64) -> Result<PeerSummary, BenchError> {
    let m = PeerMsg {
        kind,
        target: 0,
        seq: 0,
        n,
    };
    let env = Envelope::new(ActorId::HOST, to, &m).map_err(b_err("envelope"))?;
    b.ask(env)
        .map_err(b_err("ask"))?
        .wait(Duration::from_secs(10))
        .map_err(b_err("ask"))?
        .read()
        .map_err(b_err("reply"))
}

/// One-way K2K latency (ns) of rallies between peers 0 and 1 of `b`.
fn rallies(
    b: &MultiGpuBackend,
    ids: &[ActorId],
    c: &MultiBenchConfig,
) -> Result<Vec<f64>, BenchError> {
    let mut out = Vec::with_capacity(c.runs);
    for _ in 0..c.runs {
        ask(b, ids[0], peer_kind::PING, c.trips)?;
        let until = Instant::now() + Duration::from_secs(20);
        let s = loop {
            let s = ask(b, ids[0], peer_kind::QUERY, 0)?;
            if s.rally_ns != 0 {
                break s;
            }
            if Instant::now() > until {
                return Err(BenchError::bench("rally", "did not finish in 20 s"));
            }
            std::thread::sleep(Duration::from_micros(200));
        };
        out.push(s.rally_ns as f64 / (2 * c.trips) as f64);
    }
    Ok(out)
}

/// Messages per second of a STREAM of `per` messages from each of `senders` to random
/// `receivers` (counters run on across calls: each call measures its own share).
fn stream(
    b: &MultiGpuBackend,
    receivers: &[ActorId],
    senders: &[ActorId],
    per: u64,
) -> Result<f64, BenchError> {
    let received = |b: &MultiGpuBackend| -> Result<(u64, u64), BenchError> {
        let s = receivers
            .iter()
            .map(|&a| ask(b, a, peer_kind::QUERY, 0))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(s.iter().fold((0, 0), |(r, e), x| {
            (r + x.received, e + u64::from(x.errors) + u64::from(x.dead))
        }))
    };
    let (before, _) = received(b)?;
    let want = per * senders.len() as u64;
    let start = Instant::now();
    for &a in senders {
        let m = PeerMsg {
            kind: peer_kind::STREAM,
            target: 0,
            seq: 0,
            n: per,
        };
        b.tell(Envelope::new(ActorId::HOST, a, &m).map_err(b_err("envelope"))?)
            .map_err(b_err("tell"))?;
    }
    let until = start + Duration::from_secs(60);
    loop {
        std::thread::sleep(Duration::from_micros(200));
        let (now, errors) = received(b)?;
        if errors != 0 {
            return Err(BenchError::bench("stream", format!("{errors} errors")));
        }
        if now - before >= want {
            if now - before != want {
                return Err(BenchError::bench("stream", "more messages than were sent"));
            }
            return Ok(want as f64 / start.elapsed().as_secs_f64());
        }
        if Instant::now() > until {
            return Err(BenchError::bench("stream", "did not drain in 60 s"));
        }
    }
}

/// Bytes a K2K message occupies in an inbox (and crosses the link with): one 128-byte slot.
const SLOT_BYTES: f64 = 128.0;

/// Receivers 0..half on `rx_gpu` and senders half..2*half on GPU 0 (whose random targets are
/// the receivers): (receivers, senders).
fn spawn_stream(
    b: &MultiGpuBackend,
    half: u32,
    rx_gpu: usize,
) -> Result<(Vec<ActorId>, Vec<ActorId>), BenchError> {
    let mut all = Vec::new();
    for i in 0..2 * half {
        let s = PeerState::new(i, half, 0x0057_2EA0 + u64::from(i));
        let gpu = if i < half { rx_gpu } else { 0 };
        let id = b
            .spawn_placed(0, bytemuck::bytes_of(&s), Placement::Pinned(gpu))
            .map_err(b_err("spawn"))?;
        if id.raw() != i {
            return Err(BenchError::bench("spawn", "peer ids are not 0..n"));
        }
        all.push(id);
    }
    let senders = all[half as usize..].to_vec();
    all.truncate(half as usize);
    Ok((all, senders))
}

/// Rallies between a peer on GPU 0 and one on `partner_gpu`, then a one-directional stream from
/// 16 senders on GPU 0 to 16 receivers on `partner_gpu` (each in a fresh runtime).
fn k2k_pair(c: &MultiBenchConfig, partner_gpu: usize) -> Result<(Vec<f64>, Vec<f64>), BenchError> {
    const HALF: u32 = 16;
    let b = runtime(vec![0, 1], 2 * HALF + 1)?;
    let ids = spawn_peers(&b, 2, |i| if i == 0 { 0 } else { partner_gpu })?;
    let r = rallies(&b, &ids, c)?;
    b.shutdown(Duration::from_secs(10))
        .map_err(b_err("shutdown"))?;
    drop(b);
    let b = runtime(vec![0, 1], 2 * HALF + 1)?;
    let (receivers, senders) = spawn_stream(&b, HALF, partner_gpu)?;
    let rates = (0..3)
        .map(|_| stream(&b, &receivers, &senders, c.per_peer))
        .collect::<Result<Vec<_>, _>>()?;
    b.shutdown(Duration::from_secs(10))
        .map_err(b_err("shutdown"))?;
    Ok((r, rates))
}

fn k2k_rows(c: &MultiBenchConfig) -> Result<Section, BenchError> {
    eprintln!("multi-gpu-bench: K2K");
    let (cross, cross_rate) = k2k_pair(c, 1)?;
    let (same, same_rate) = k2k_pair(c, 0)?;
    let bytes = |r: &[f64]| r.iter().map(|x| x * SLOT_BYTES).collect::<Vec<_>>();
    let mut s = Section::new(
        "K2K across GPUs",
        format!(
            "Rally: two Peer actors pass a message back and forth {} times through their inboxes \
             (rk_k2k_tell: a route lookup, a system-scope claim of a slot in the target's inbox, \
             the stamped slot written straight into that GPU's memory); the first actor times \
             the rally with its own %globaltimer (the two GPUs' timers are not compared); one-way \
             = time / (2 x trips), {} rallies. Stream: 16 Peer actors on GPU 0 each send {} \
             messages to random ones of 16 receivers (64-slot inboxes, credits, per-pair sequence \
             checks; a send refused for lack of credit is retried at once by the sending \
             handler), host-timed from the commands until every message arrived, 3 runs; bandwidth counts the \
             128-byte slot each message fills on the receiving GPU. 'Same GPU' rows: the same \
             multi-GPU runtime with the partner / receivers on GPU 0.",
            c.trips, c.runs, c.per_peer
        ),
    );
    s.push(Row::new(
        "one-way, GPU 0 -> GPU 1",
        Unit::Nanoseconds,
        &Samples::new(cross)?,
    ))
    .push(Row::new(
        "one-way, same GPU",
        Unit::Nanoseconds,
        &Samples::new(same)?,
    ))
    .push(Row::new(
        "stream, GPU 0 -> GPU 1",
        Unit::OpsPerSecond,
        &Samples::new(cross_rate.clone())?,
    ))
    .push(Row::new(
        "stream, same GPU",
        Unit::OpsPerSecond,
        &Samples::new(same_rate.clone())?,
    ))
    .push(Row::new(
        "stream bandwidth, GPU 0 -> GPU 1",
        Unit::BytesPerSecond,
        &Samples::new(bytes(&cross_rate))?,
    ))
    .push(Row::new(
        "stream bandwidth, same GPU",
        Unit::BytesPerSecond,
        &Samples::new(bytes(&same_rate))?,
    ));
    Ok(s)
}

fn migration_rows(c: &MultiBenchConfig) -> Result<Section, BenchError> {
    eprintln!("multi-gpu-bench: migration");
    // Each migration takes a fresh block on its target.
    let blocks = (c.migrations + 2) as u32;
    let b = runtime(vec![0, 1], blocks)?;
    let state = vec![0x5Au8; std::mem::size_of::<BulkState>()];
    let id = b
        .spawn_placed(1, &state, Placement::Pinned(0))
        .map_err(b_err("spawn"))?;
    let mut rows: Vec<(String, Vec<f64>, Vec<f64>)> = Vec::new();
    for path in [TransferPath::PeerToPeer, TransferPath::HostStaged] {
        let (mut total, mut transfer) = (Vec::new(), Vec::new());
        for _ in 0..c.migrations / 2 {
            for to in [1usize, 0] {
                let r = b.migrate_with(id, to, path).map_err(b_err("migrate"))?;
                total.push((r.quiesce + r.transfer + r.swap).as_secs_f64() * 1e9);
                transfer.push(r.transfer.as_secs_f64() * 1e9);
            }
        }
        rows.push((format!("{path:?}"), total, transfer));
    }
    b.shutdown(Duration::from_secs(10))
        .map_err(b_err("shutdown"))?;
    let mut s = Section::new(
        "actor migration (16 MiB state)",
        "A Bulk actor (16 MiB of state) migrates between GPU 0 and GPU 1 and back through the \
         public API (MultiGpuBackend::migrate_with): quiesce (routes closed, inbox sealed, actor \
         frozen), transfer (state copied, checksummed on the source before and on the target \
         after; untaken inbox messages moved), swap (started on the target, routes swapped). \
         Total and transfer phase."
            .to_string(),
    );
    for (name, total, transfer) in rows {
        s.push(Row::new(
            format!("migration total, {name}"),
            Unit::Nanoseconds,
            &Samples::new(total)?,
        ))
        .push(Row::new(
            format!("of which transfer, {name}"),
            Unit::Nanoseconds,
            &Samples::new(transfer)?,
        ));
    }
    Ok(s)
}
