//! Swarm benchmarks: K2K latency through the swarm's mailboxes (global and DSMEM tiers) beside
//! the raw floors, aggregate K2K throughput, a million actors with random-target traffic, and
//! balance under skewed load with and without work stealing. One GPU, one process.

mod sm_pairs;

use std::time::{Duration, Instant};

use self::sm_pairs::{pair_floor, split_samples, PAIR_ITERS};
use crate::env::Environment;
use crate::error::BenchError;
use crate::report::{Report, Row, Section, Unit};
use crate::samples::Samples;
use ringkernel_cuda::floors::Floors;
use ringkernel_cuda::sm_split::SmSplit;
use ringkernel_cuda::swarm::kit::{self, kinds, types, PingState};
use ringkernel_cuda::swarm::ll_hop::{HopChannel, HopWork, LlHop};
use ringkernel_cuda::swarm::placement::{cluster_pair, half_pair};
use ringkernel_cuda::swarm::{Steal, Swarm, SwarmConfig, SwarmMsg, SwarmProgram};
use ringkernel_cuda::sync_cost::SyncCosts;
use ringkernel_cuda::CudaError;

/// Sizes of one run.
#[derive(Debug, Clone)]
pub struct SwarmBenchConfig {
    /// Round trips per latency rally.
    pub trips: u64,
    /// Rallies per latency row (each one sample).
    pub rallies: usize,
    /// Round trips of a raw-floor run.
    pub floor_iters: u64,
    /// Actors of the aggregate-throughput and balance rows.
    pub actors: u32,
    /// Actors of the million-actor row.
    pub million: u32,
    /// Measurement windows per throughput row (each one sample).
    pub windows: usize,
    /// Length of a window.
    pub window: Duration,
    /// Which sections run.
    pub part: Part,
    /// Warps per block of the latency swarms.
    pub warps: u32,
    /// Longest idle nap of the latency swarms, ns.
    pub max_nap_ns: u32,
}

/// The sections of a run: either half can run on its own, in its own report file (see
/// [`Part::report_name`]), e.g. when one device call cannot hold both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// Latency, throughput and balance.
    All,
    /// The latency rows and their raw floors.
    Latency,
    /// The throughput and balance rows.
    Throughput,
}

impl Part {
    /// The report's file name (without extension).
    pub fn report_name(self) -> &'static str {
        match self {
            Part::All => "swarm",
            Part::Latency => "swarm-latency",
            Part::Throughput => "swarm-throughput",
        }
    }
}

impl SwarmBenchConfig {
    /// Publication sizes, or a fast smoke run.
    pub fn new(quick: bool) -> Self {
        if quick {
            SwarmBenchConfig {
                trips: 2_000,
                rallies: 5,
                floor_iters: 20_000,
                actors: 1 << 14,
                million: 1 << 17,
                windows: 5,
                window: Duration::from_millis(50),
                part: Part::All,
                warps: 8,
                max_nap_ns: 256,
            }
        } else {
            SwarmBenchConfig {
                trips: 20_000,
                rallies: 10,
                floor_iters: 100_000,
                actors: 1 << 16,
                million: 1_000_000,
                windows: 10,
                window: Duration::from_millis(100),
                part: Part::All,
                warps: 8,
                max_nap_ns: 256,
            }
        }
    }
}

/// A progress line on stderr with the time since the run began: the report is written only at
/// the end, and a device call that runs out of time must still show how far the run got.
fn progress(what: &str) {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    let t = START.get_or_init(Instant::now).elapsed();
    eprintln!("swarm-bench [{:7.1} s] {what}", t.as_secs_f64());
}

fn err(what: &str) -> impl Fn(CudaError) -> BenchError + '_ {
    move |e| BenchError::bench(what, e)
}

fn start(words: [u64; 3]) -> SwarmMsg {
    SwarmMsg::new(kinds::START, words)
}

/// Runs every row on GPU 0.
pub fn run(c: &SwarmBenchConfig) -> Result<Report, BenchError> {
    let floors = Floors::new(0).map_err(err("floors"))?;
    let syncs = SyncCosts::new(0).map_err(err("sync costs"))?;
    let hop = LlHop::new(0).map_err(err("LL hop"))?;
    let sms = syncs.sm_count();
    let mut report = Report::new(
        "RingKernel swarm benchmarks",
        Environment::capture(Some(format!("GPU 0, {sms} SMs"))),
    );
    if c.part != Part::Throughput {
        progress("latency");
        report.sections.push(latency(c, &floors, &syncs, &hop)?);
    }
    drop(floors);
    drop(syncs);
    drop(hop);
    if c.part != Part::Latency {
        report.sections.push(throughput(c)?);
        report.sections.push(balance(c)?);
    }
    progress("done");
    Ok(report)
}

fn latency(
    c: &SwarmBenchConfig,
    floors: &Floors,
    syncs: &SyncCosts,
    hop: &LlHop,
) -> Result<Section, BenchError> {
    let mut sec = Section::new(
        "K2K one-way latency through the swarm's mailboxes",
        format!(
            "Rally: two PING actors pass a message back and forth {} times; the initiator times \
             the rally with %globaltimer on the device; one-way = time / (2 x trips); {} rallies \
             per row, each one sample. Global tier: two global-tier actors homed on blocks of \
             different clusters (mailbox in device memory, ready queue of the home block, any \
             warp may serve). DSMEM tier: two cluster-tier actors on blocks 0 and 1 of one \
             cluster (mailbox in the receiver block's shared memory, written through DSMEM; \
             served by warp 0 of its block). Cross-cluster: cluster-tier actors on blocks 0 and 2 \
             (forward inbox in device memory). Pinned: two pinned actors, each served by a \
             dedicated warp that polls a channel per pinned sender; slots 0 and 1 (blocks 0 \
             and 1, one cluster: channel in the receiver's shared memory, written through \
             DSMEM) and slots 2 and 5 (different clusters: channel in device memory). Raw floors in the same process before the swarm \
             starts: a flag ping-ponged between two blocks through global memory, and between \
             the two blocks of a cluster through DSMEM ({} round trips per run, {} runs); and the \
             pinned hop without the framework (kernels/ll_hop.cu): two one-warp blocks rally a \
             message through the same 64-byte LL slots, with the same TTL check, HLC merge and \
             tick, state update and staged four-lane store, but no channel table, credits, \
             status checks, dispatch, state write-back or kernel loop ({} hops per run). Bounds \
             below it, same launch (and the same slots but for the st.async ones, which write \
             an untagged 64-byte buffer): the slot's transit with no work (the \
             receiver re-tags the polled words and stores them back), and the same work as the \
             hop done on all 32 lanes at once (no staging, no broadcast) with one clock reading \
             per 64 empty polls for the HLC's wall part and the deadline; the same with every \
             lane reading the whole slot (as the pair loop does); and, through DSMEM only, the \
             transit and that hop with the message written by st.async and waited for on the \
             receiver's mbarrier instead of polled; and the all-lanes hop with fewer bytes to \
             read, forms the framework does not send: 32 bytes (kind, correlation, HLC and \
             one word in four tagged words; the sender still fills the slot) and 16 bytes (the \
             HLC and a 32-bit value in one chunk). \
             SM pairs: the flag's latency depends on which two SMs exchange it, so the flag is \
             also measured from SM 0 to every other SM (which splits the SMs into two halves, \
             ringkernel_cuda::sm_split), and between the two SMs each device-memory rally ran \
             on (after the swarm stopped); two more pinned pairs are placed on blocks of \
             different clusters whose SMs are in one half, and in different halves (a row is \
             left out when no such pair exists among the pinned slots). \
             Swarms: blocks of {} warps, clusters of 2, idle warps nap at most {} ns (a worker \
             that shares its scheduler sub-partition with a pinned warp: 20 us once long \
             idle); the default grid is one block per SM.",
            c.trips,
            c.rallies,
            c.floor_iters,
            c.rallies,
            2 * c.floor_iters,
            c.warps,
            c.max_nap_ns
        ),
    );
    let floor = |f: &dyn Fn() -> Result<f64, CudaError>| -> Result<Samples, BenchError> {
        let v = (0..c.rallies)
            .map(|_| f())
            .collect::<Result<Vec<_>, _>>()
            .map_err(err("floor"))?;
        Samples::new(v)
    };
    let global_floor = floor(&|| floors.k2k_one_way(c.floor_iters))?;
    let dsmem_floor = floor(&|| syncs.dsmem_one_way(c.floor_iters))?;
    let global_hop = floor(&|| hop.one_way(HopChannel::DeviceMemory, 2 * c.floor_iters))?;
    // Where the last of those runs ran (a launch of two blocks may land elsewhere each time).
    let hop_place = match hop.last_sms().map_err(err("LL hop SMs"))? {
        Some([a, b]) => format!(
            "the last run's blocks on SMs {a} and {b}, flag between them {:.0} ns",
            pair_floor(floors, a, b, 5)?.p50()
        ),
        None => "the runs' SMs were not recorded".to_string(),
    };
    let split = SmSplit::measure(floors, 0, PAIR_ITERS).map_err(err("SM split"))?;
    // Every SM's latency on stderr too: the report keeps only the summary.
    let by_sm: Vec<String> = (0..floors.sm_count())
        .map(|sm| split.latency(sm).map_or("-".into(), |v| format!("{v:.0}")))
        .collect();
    progress(&format!(
        "SM split {}; by SM: {}",
        split.describe(),
        by_sm.join(" ")
    ));
    let dsmem_hop = floor(&|| hop.one_way(HopChannel::Dsmem, 2 * c.floor_iters))?;
    let variant = |work: HopWork, channel: HopChannel| {
        floor(&|| hop.one_way_with(work, channel, 2 * c.floor_iters))
    };
    let bounds = [
        ("LL slot transit, no work", HopWork::Transit),
        (
            "leanest hop (same work on all lanes, one clock read per 64 polls)",
            HopWork::Lean,
        ),
        (
            "leanest hop, every lane reads the whole slot",
            HopWork::LeanAllLanes,
        ),
        (
            "slot transit through st.async and the receiver's mbarrier, no work",
            HopWork::AsyncTransit,
        ),
        (
            "leanest hop through st.async and the receiver's mbarrier, every lane reads the slot",
            HopWork::AsyncLean,
        ),
        (
            "leanest hop, 32-byte message (kind, corr, HLC, one word; not a framework form), every lane reads the first two chunks",
            HopWork::LeanShort,
        ),
        (
            "leanest hop, 16-byte message (HLC and a 32-bit value; not a framework form), one chunk",
            HopWork::LeanTiny,
        ),
    ];

    sec.push(Row::new(
        "raw floor: global memory flag",
        Unit::Nanoseconds,
        &global_floor,
    ));
    sec.push(Row::new(
        "raw floor: DSMEM flag (cluster of 2)",
        Unit::Nanoseconds,
        &dsmem_floor,
    ));
    sec.push(
        Row::new(
            "raw floor: global memory flag, SM 0 to each other SM (one sample per SM)",
            Unit::Nanoseconds,
            &split_samples(&split, floors.sm_count())?,
        )
        .with_notes(format!(
            "{} ({PAIR_ITERS} round trips per pair)",
            split.describe()
        )),
    );
    sec.push(
        Row::new(
            "pinned hop without the framework: device memory",
            Unit::Nanoseconds,
            &global_hop,
        )
        .with_notes(format!(
            "{:.2}x the global floor; {hop_place}",
            global_hop.p50() / global_floor.p50(),
        )),
    );
    sec.push(
        Row::new(
            "pinned hop without the framework: DSMEM (cluster of 2)",
            Unit::Nanoseconds,
            &dsmem_hop,
        )
        .with_notes(format!(
            "{:.2}x the DSMEM floor",
            dsmem_hop.p50() / dsmem_floor.p50()
        )),
    );
    for (name, work) in bounds {
        for (channel, label, target, base) in [
            (
                HopChannel::DeviceMemory,
                "device memory",
                350.0,
                &global_floor,
            ),
            (
                HopChannel::Dsmem,
                "DSMEM (cluster of 2)",
                250.0,
                &dsmem_floor,
            ),
        ] {
            if work.dsmem_only() && channel != HopChannel::Dsmem {
                continue;
            }
            let v = variant(work, channel)?;
            let verdict = if v.p50() <= target { "meets" } else { "misses" };
            let note = format!(
                "{verdict} the {target:.0} ns target; {:+.0} ns over the flag floor",
                v.p50() - base.p50()
            );
            sec.push(Row::new(format!("{name}: {label}"), Unit::Nanoseconds, &v).with_notes(note));
        }
    }
    // The same rallies in three swarms: the default grid; the default grid without stealing
    // (no thieves probing the two actors' queues); and a grid of 4 blocks (little polling
    // traffic in L2 at all).
    for (label, blocks, steal) in [
        ("default grid", None, Steal::Grid),
        ("no stealing", None, Steal::Off),
        ("4 blocks", Some(4), Steal::Grid),
    ] {
        // Room for pinned pairs on blocks of our choosing (two pinned warps per block at most).
        let pinned = if blocks == Some(4) { 8 } else { 32 };
        let s = Swarm::new(
            &SwarmProgram::kit(),
            SwarmConfig {
                local_per_block: 2,
                pinned,
                cluster: 2,
                state_bytes: kit::SMALL_STATE,
                blocks,
                steal,
                warps: c.warps,
                max_nap_ns: c.max_nap_ns,
                ..SwarmConfig::default()
            },
        )
        .map_err(err("swarm"))?;
        let sms = s.block_sms().map_err(err("block SMs"))?;
        let taken = [PIN_DSMEM, PIN_GLOBAL];
        let free: Vec<u32> = (0..pinned)
            .filter(|k| !taken.iter().any(|&(a, b)| *k == a || *k == b))
            .collect();
        let grid = s.blocks();
        // Express pairs first (a DSMEM pair, and a device-memory pair in one half), then the
        // PING pairs placed in one half and across the halves, from what is left.
        let x_dsmem = cluster_pair(grid, 2, &free);
        let free = without(&free, x_dsmem);
        let x_global = half_pair(&split, &sms, 2, &free, false);
        let free = without(&free, x_global);
        let one_side = half_pair(&split, &sms, 2, &free, false);
        let rest = without(&free, one_side);
        let across = half_pair(&split, &sms, 2, &rest, true);
        let (global, dsmem, cross) = rallies(c, &s)?;
        let (pin_dsmem, pin_global) = pinned_rallies(c, &s)?;
        let placed_rallies = [("in one half", one_side), ("in different halves", across)]
            .into_iter()
            .filter_map(|(what, p)| p.map(|p| (what, p)))
            .map(|(what, p)| {
                let v = rally(
                    c,
                    &s,
                    ping_pair(|k, st| s.spawn_pinned(k, types::PING, st), p.0, p.1)?,
                )?;
                Ok((what, p, v))
            })
            .collect::<Result<Vec<_>, BenchError>>()?;
        let xpinned = |k: u32, st: &[u8]| s.spawn_pinned(k, types::XPING, st);
        let express = [
            ("DSMEM channel", true, x_dsmem),
            ("device-memory channel, SMs in one half", false, x_global),
        ]
        .into_iter()
        .filter_map(|(what, dsmem, p)| p.map(|p| (what, dsmem, p)))
        .map(|(what, dsmem, p)| {
            let before = s.totals().map_err(err("totals"))?;
            let v = rally(c, &s, ping_pair(xpinned, p.0, p.1)?)?;
            let after = s.totals().map_err(err("totals"))?;
            let loops = (after.express - before.express, after.pair - before.pair);
            Ok((what, dsmem, p, v, loops))
        })
        .collect::<Result<Vec<_>, BenchError>>()?;
        s.shutdown().map_err(err("shutdown"))?;
        // The swarm is gone: the flag between the SMs its device-memory rallies used.
        let sm_of = |slot: u32| sms[(slot % grid) as usize];
        let placed = |(a, b): (u32, u32)| -> Result<String, BenchError> {
            let f = pair_floor(floors, sm_of(a), sm_of(b), 5)?;
            Ok(format!(
                "slots {a} and {b} on SMs {} and {}, flag between them {:.0} ns",
                sm_of(a),
                sm_of(b),
                f.p50()
            ))
        };
        let global_place = placed(PIN_GLOBAL)?;
        sec.push(
            Row::new(
                format!("swarm global tier, {label} ({grid} blocks)"),
                Unit::Nanoseconds,
                &global,
            )
            .with_notes(format!(
                "target 350 ns; {:.1}x the global floor",
                global.p50() / global_floor.p50()
            )),
        );
        sec.push(
            Row::new(
                format!("swarm DSMEM tier, {label} ({grid} blocks)"),
                Unit::Nanoseconds,
                &dsmem,
            )
            .with_notes(format!(
                "target 250 ns; {:.1}x the DSMEM floor",
                dsmem.p50() / dsmem_floor.p50()
            )),
        );
        sec.push(Row::new(
            format!("swarm cluster tier across clusters (forward inbox), {label}"),
            Unit::Nanoseconds,
            &cross,
        ));
        sec.push(
            Row::new(
                format!("pinned actors, device-memory channel, {label}"),
                Unit::Nanoseconds,
                &pin_global,
            )
            .with_notes(format!(
                "target 350 ns; {:.2}x the global floor, {:.2}x the hop without the framework; {global_place}",
                pin_global.p50() / global_floor.p50(),
                pin_global.p50() / global_hop.p50()
            )),
        );
        for (what, p, v) in placed_rallies {
            let note = placed(p)?;
            sec.push(
                Row::new(
                    format!("pinned actors, device-memory channel, SMs {what}, {label}"),
                    Unit::Nanoseconds,
                    &v,
                )
                .with_notes(format!("target 350 ns; {note}")),
            );
        }
        sec.push(
            Row::new(
                format!("pinned actors, DSMEM channel, {label}"),
                Unit::Nanoseconds,
                &pin_dsmem,
            )
            .with_notes(format!(
                "target 250 ns; {:.2}x the DSMEM floor, {:.2}x the hop without the framework",
                pin_dsmem.p50() / dsmem_floor.p50(),
                pin_dsmem.p50() / dsmem_hop.p50()
            )),
        );
        for (what, dsmem, p, v, (express, paired)) in express {
            let (target, floor) = if dsmem {
                (250.0, &dsmem_floor)
            } else {
                (350.0, &global_floor)
            };
            let verdict = if v.p50() <= target { "meets" } else { "misses" };
            let place = if dsmem {
                format!("slots {} and {}, one cluster", p.0, p.1)
            } else {
                placed(p)?
            };
            sec.push(
                Row::new(
                    format!("express pinned actors (XPING), {what}, {label}"),
                    Unit::Nanoseconds,
                    &v,
                )
                .with_notes(format!(
                    "{verdict} the {target:.0} ns target; {:.2}x the floor; {place}; the pair loop took {paired} of the express loops' {express} messages",
                    v.p50() / floor.p50()
                )),
            );
        }
    }
    Ok(sec)
}

/// `slots` without the two of `taken`.
fn without(slots: &[u32], taken: Option<(u32, u32)>) -> Vec<u32> {
    slots
        .iter()
        .copied()
        .filter(|&k| taken.is_none_or(|(a, b)| k != a && k != b))
        .collect()
}

/// One row of rallies started at PING actor `a` (after a warm-up rally).
fn rally(c: &SwarmBenchConfig, s: &Swarm, a: u32) -> Result<Samples, BenchError> {
    let mut v = Vec::with_capacity(c.rallies);
    // One warm-up rally, then the measured ones.
    for i in 0..=c.rallies {
        let before: Vec<PingState> = s.read_states(a, 1).map_err(err("read"))?;
        s.tell(a, start([c.trips, 0, 0])).map_err(err("tell"))?;
        let since = Instant::now();
        let st = loop {
            let st: Vec<PingState> = s.read_states(a, 1).map_err(err("read"))?;
            if st[0].done > before[0].done {
                break st[0];
            }
            if since.elapsed() > Duration::from_secs(60) {
                return Err(BenchError::bench("rally", "did not finish in 60 s"));
            }
            std::thread::sleep(Duration::from_millis(1));
        };
        if i > 0 {
            v.push((st.t1 - st.t0) as f64 / (2 * c.trips) as f64);
        }
    }
    Samples::new(v)
}

/// Two PING actors placed at `a` and `b` by `spawn(place, state)`; returns the initiator (at
/// `a`), whose partner is the one at `b`.
fn ping_pair(
    spawn: impl Fn(u32, &[u8]) -> Result<u32, CudaError>,
    a: u32,
    b: u32,
) -> Result<u32, BenchError> {
    let partner = spawn(b, &[]).map_err(err("spawn"))?;
    let st = PingState {
        partner,
        ..Default::default()
    };
    spawn(a, bytemuck::bytes_of(&st)).map_err(err("spawn"))
}

/// The pinned pair in one cluster (blocks 0 and 1: DSMEM channels).
const PIN_DSMEM: (u32, u32) = (0, 1);
/// The pinned pair in two clusters (blocks 2 and 5: device-memory channels).
const PIN_GLOBAL: (u32, u32) = (2, 5);

/// Pinned rallies in `s`: [`PIN_DSMEM`] and [`PIN_GLOBAL`].
fn pinned_rallies(c: &SwarmBenchConfig, s: &Swarm) -> Result<(Samples, Samples), BenchError> {
    let pinned = |slot: u32, st: &[u8]| s.spawn_pinned(slot, types::PING, st);
    let dsmem = rally(c, s, ping_pair(pinned, PIN_DSMEM.0, PIN_DSMEM.1)?)?;
    let global = rally(c, s, ping_pair(pinned, PIN_GLOBAL.0, PIN_GLOBAL.1)?)?;
    Ok((dsmem, global))
}

/// Rallies in `s`: global tier (ids homed on blocks 0 and 2), DSMEM tier (cluster-tier actors
/// on blocks 0 and 1), and cluster tier across clusters (blocks 0 and 2).
fn rallies(c: &SwarmBenchConfig, s: &Swarm) -> Result<(Samples, Samples, Samples), BenchError> {
    // Global tier: ids 0 and 2 are homed on blocks 0 and 2 (clusters 0 and 1).
    let ga = s
        .spawn(
            types::PING,
            bytemuck::bytes_of(&PingState {
                partner: 2,
                ..Default::default()
            }),
        )
        .map_err(err("spawn"))?;
    s.spawn_many(types::PING, 2, |_, _| {})
        .map_err(err("spawn"))?;
    let global = rally(c, s, ga)?;
    let local = |block: u32, st: &[u8]| s.spawn_local(block, types::PING, st);
    let dsmem = rally(c, s, ping_pair(local, 0, 1)?)?;
    let cross = rally(c, s, ping_pair(local, 0, 2)?)?;
    Ok((global, dsmem, cross))
}

/// Messages per second over `windows` windows of a flood already running.
fn rate(s: &Swarm, c: &SwarmBenchConfig) -> Result<Samples, BenchError> {
    // Let the flood reach its steady state first.
    std::thread::sleep(c.window);
    let mut v = Vec::with_capacity(c.windows);
    let mut last = (Instant::now(), s.totals().map_err(err("stats"))?.processed);
    for _ in 0..c.windows {
        std::thread::sleep(c.window);
        let now = (Instant::now(), s.totals().map_err(err("stats"))?.processed);
        v.push((now.1 - last.1) as f64 / now.0.duration_since(last.0).as_secs_f64());
        last = now;
    }
    Samples::new(v)
}

/// A swarm of `n` FLOOD actors with about `in_flight` messages circulating; `hot_share` > 0
/// aims all traffic at actors homed on the first 1/`hot_share` of the blocks.
fn flood(n: u32, in_flight: u32, hot_share: u32, steal: Steal) -> Result<Swarm, BenchError> {
    let s = Swarm::new(
        &SwarmProgram::kit(),
        SwarmConfig {
            capacity: n.next_power_of_two(),
            device_spawns: 0,
            mailbox_slots: 8,
            state_bytes: kit::SMALL_STATE,
            steal,
            h2d_slots: 1 << 16,
            ..SwarmConfig::default()
        },
    )
    .map_err(err("swarm"))?;
    s.spawn_many(types::FLOOD, n, |_, _| {})
        .map_err(err("spawn"))?;
    let blocks = s.blocks();
    let hot = blocks.checked_div(hot_share).map_or(0, |h| h.max(1));
    let ignite = 4096.min(n);
    let fanout = in_flight.div_ceil(ignite);
    let hot_word = u64::from(hot) | (u64::from(blocks) << 32);
    for k in 0..ignite {
        // Spread the ignition over the targeted actors.
        let id = if hot == 0 {
            (k as u64 * u64::from(n) / u64::from(ignite)) as u32
        } else {
            (k % (n / blocks)) * blocks + k % hot
        };
        s.tell(id, start([u64::from(fanout), u64::from(n), hot_word]))
            .map_err(err("ignite"))?;
    }
    Ok(s)
}

fn throughput(c: &SwarmBenchConfig) -> Result<Section, BenchError> {
    let mut sec = Section::new(
        "aggregate K2K throughput",
        format!(
            "FLOOD actors: each message received is forwarded to a uniformly random actor (a \
             send refused for lack of credit is kept and retried after a yield), so the \
             messages in flight stay constant. Host samples the device's processed-message \
             counters over {} windows of {:?} after one warm-up window; each window is one \
             sample. 8-slot mailboxes, turns of up to 8 messages, stealing on (cluster, then \
             grid), one block of 8 warps per SM, clusters of 2.",
            c.windows, c.window
        ),
    );
    for (n, in_flight, label) in [
        (c.actors, c.actors * 4, "random targets"),
        (
            c.million,
            c.million * 2,
            "random targets, million-actor swarm",
        ),
    ] {
        progress(&format!("throughput: {n} actors, starting the flood"));
        let s = flood(n, in_flight, 0, Steal::Grid)?;
        progress("throughput: flood running, sampling");
        let r = rate(&s, c)?;
        let t = s.totals().map_err(err("stats"))?;
        progress(&format!(
            "throughput: sampled (mean {:.3e} msg/s), shutting down",
            r.mean()
        ));
        s.shutdown().map_err(err("shutdown"))?;
        sec.push(
            Row::new(
                format!("{n} actors, {in_flight} in flight, {label}"),
                Unit::OpsPerSecond,
                &r,
            )
            .with_notes(format!(
                "target {}; {:.1} messages per turn; {} sends refused for credit",
                if n >= 1_000_000 {
                    "300 M msg/s"
                } else {
                    "1 G msg/s"
                },
                t.processed as f64 / t.turns.max(1) as f64,
                t.full
            )),
        );
    }
    Ok(sec)
}

fn balance(c: &SwarmBenchConfig) -> Result<Section, BenchError> {
    let mut sec = Section::new(
        "balance under skewed load, with and without stealing",
        format!(
            "{} FLOOD actors, {} messages in flight, every message aimed at an actor homed on \
             one of the first 1/8 of the blocks. Same windows as above. Notes: how many blocks \
             served turns, and the busiest block's share of turns against an even share.",
            c.actors,
            c.actors * 4
        ),
    );
    for steal in [Steal::Off, Steal::Cluster, Steal::Grid] {
        progress(&format!("balance: stealing {steal:?}, starting the flood"));
        let s = flood(c.actors, c.actors * 4, 8, steal)?;
        let blocks = s.blocks();
        let r = rate(&s, c)?;
        let per = s.block_stats().map_err(err("stats"))?;
        progress(&format!(
            "balance: sampled (mean {:.3e} msg/s), shutting down",
            r.mean()
        ));
        s.shutdown().map_err(err("shutdown"))?;
        let turns: Vec<u64> = per.iter().map(|b| b.turns).collect();
        let total: u64 = turns.iter().sum();
        let busiest = turns.iter().copied().max().unwrap_or(0);
        let serving = turns.iter().filter(|&&t| t > 0).count();
        let stolen: u64 = per.iter().map(|b| b.cluster_steals + b.grid_steals).sum();
        sec.push(
            Row::new(
                format!("hot 1/8 of blocks, stealing {steal:?}"),
                Unit::OpsPerSecond,
                &r,
            )
            .with_notes(format!(
                "{serving} of {blocks} blocks served turns; busiest block {:.1}x an even \
                     share; {stolen} batches stolen",
                busiest as f64 * blocks as f64 / total.max(1) as f64
            )),
        );
    }
    Ok(sec)
}
