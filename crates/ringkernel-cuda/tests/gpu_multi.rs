//! GPU tests of a runtime spanning several GPUs: topology, K2K across GPUs (delivery, per-pair
//! FIFO, credits, causal HLC, dead letters), and migration under traffic, peer to peer and host
//! staged. Tests named `two_gpus_*` need two GPUs with peer access and fail loudly with fewer;
//! the others run on one GPU too (block-to-block migration). Build with `--features gpu-tests`,
//! run with `--test-threads=1`.

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use ringkernel_core::{
    ActorBackend, ActorId, ActorVTable, DeadLetterReason, Envelope, LifecycleState, SendError,
};
use ringkernel_cuda::bulk::{Bulk, BulkAdd, BulkReply, BulkState, BULK_WORDS};
use ringkernel_cuda::layout::k2k;
use ringkernel_cuda::multi::tools::checksum;
use ringkernel_cuda::multi::{LinkKind, Placement, Topology, TransferPath};
use ringkernel_cuda::peer::{kind, Peer, PeerMsg, PeerState, PeerSummary};
use ringkernel_cuda::{CudaConfig, MultiGpuBackend, MultiGpuConfig};

const T: Duration = Duration::from_secs(20);

fn small() -> bool {
    std::env::var_os("RK_GPU_TEST_SMALL").is_some()
}

fn need_two_gpus() -> Vec<usize> {
    let t = Topology::probe().unwrap_or_else(|e| panic!("this test needs NVIDIA GPUs: {e}"));
    assert!(
        t.gpus().len() >= 2,
        "this test needs two GPUs, the host has {}",
        t.gpus().len()
    );
    vec![0, 1]
}

/// A runtime of Peer actors (type 0); with `bulk`, also Bulk actors (type 1), whose 16 MiB
/// state makes every block's state slot that large (slow under the sanitizers).
fn runtime_of(ordinals: Vec<usize>, blocks: u32, k2k_capacity: u32, bulk: bool) -> MultiGpuBackend {
    let mut types = vec![ActorVTable::of::<Peer>().unwrap()];
    if bulk {
        types.push(ActorVTable::of::<Bulk>().unwrap());
    }
    let config = MultiGpuConfig {
        ordinals,
        per_gpu: CudaConfig {
            blocks: Some(blocks),
            k2k_capacity,
            ..CudaConfig::default()
        },
        placement: Placement::LeastLoaded,
    };
    MultiGpuBackend::new(&types, config)
        .unwrap_or_else(|e| panic!("this test needs usable NVIDIA GPUs: {e}"))
}

fn runtime(ordinals: Vec<usize>, blocks: u32, k2k_capacity: u32) -> MultiGpuBackend {
    runtime_of(ordinals, blocks, k2k_capacity, false)
}

/// Spawns `n` peers, peer `i` on GPU `gpu_of(i)`; ids come out 0, 1, 2, ...
fn spawn_peers(
    b: &MultiGpuBackend,
    n: u32,
    next: impl Fn(u32) -> u32,
    gpu_of: impl Fn(u32) -> usize,
) -> Vec<ActorId> {
    (0..n)
        .map(|i| {
            let s = PeerState::new(next(i), n, 0x51ED_2701 + u64::from(i));
            let id = b
                .spawn_placed(0, bytemuck::bytes_of(&s), Placement::Pinned(gpu_of(i)))
                .unwrap();
            assert_eq!(id.raw(), i);
            assert_eq!(b.gpu_of(id), Some(gpu_of(i)));
            id
        })
        .collect()
}

fn msg(kind: u32, target: u32, seq: u64, n: u64) -> PeerMsg {
    PeerMsg {
        kind,
        target,
        seq,
        n,
    }
}

fn ask(b: &dyn ActorBackend, to: ActorId, m: PeerMsg) -> PeerSummary {
    let env = Envelope::new(ActorId::HOST, to, &m).unwrap();
    b.ask(env).unwrap().wait(T).unwrap().read().unwrap()
}

fn tell(b: &dyn ActorBackend, to: ActorId, m: PeerMsg) {
    let since = Instant::now();
    loop {
        match b.tell(Envelope::new(ActorId::HOST, to, &m).unwrap()) {
            Ok(()) => return,
            Err(SendError::Full(_)) if since.elapsed() < T => std::thread::yield_now(),
            Err(e) => panic!("tell failed: {e}"),
        }
    }
}

fn query(b: &dyn ActorBackend, ids: &[ActorId]) -> Vec<PeerSummary> {
    ids.iter()
        .map(|&a| ask(b, a, msg(kind::QUERY, 0, 0, 0)))
        .collect()
}

fn wait_until(
    b: &dyn ActorBackend,
    ids: &[ActorId],
    done: impl Fn(&[PeerSummary]) -> bool,
) -> Vec<PeerSummary> {
    // Under the sanitizers (racecheck above all) the device runs many times slower.
    let until = Instant::now() + if small() { 6 * T } else { T };
    loop {
        let s = query(b, ids);
        if done(&s) {
            return s;
        }
        assert!(Instant::now() < until, "K2K traffic did not settle: {s:?}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Every SPRAY message sent and received, nothing out of order, nothing dead.
fn settled(s: &[PeerSummary]) -> bool {
    s.iter().all(|x| x.pending == 0)
        && s.iter().map(|x| x.sent).sum::<u64>() == s.iter().map(|x| x.received).sum::<u64>()
}

#[test]
fn two_gpus_topology_reports_peer_access_both_ways() {
    let gpus = need_two_gpus();
    let t = Topology::probe().unwrap();
    for (a, b) in [(0, 1), (1, 0)] {
        let l = t.link(a, b).unwrap();
        eprintln!("GPU {a} -> GPU {b}: {l:?}");
        assert!(l.access, "no peer access {a} -> {b}");
        assert_ne!(l.kind, LinkKind::HostOnly);
    }
    assert!(t.all_peer_access(&gpus));
}

#[test]
fn two_gpus_relay_chain_crosses_gpus_in_causal_hlc_order() {
    let b = runtime(need_two_gpus(), 8, 64);
    const P: u32 = 8;
    // Alternating GPUs: every hop of the chain crosses NVLink/PCIe.
    let ids = spawn_peers(&b, P, |i| (i + 1) % P, |i| (i % 2) as usize);
    // Replies name the actor by its runtime-wide id, not its block on its GPU (peer 3 is block
    // 1 of GPU 1).
    let env = Envelope::new(ActorId::HOST, ids[3], &msg(kind::QUERY, 0, 0, 0)).unwrap();
    assert_eq!(b.ask(env).unwrap().wait(T).unwrap().sender(), ids[3]);
    tell(&b, ids[0], msg(kind::RELAY, 0, 0, u64::from(P - 1)));
    let s = wait_until(&b, &ids[1..], |s| s.iter().all(|x| x.received == 1));
    let stamps: Vec<u64> = s.iter().map(|x| x.last_ts).collect();
    assert!(
        stamps.windows(2).all(|w| w[0] < w[1]),
        "HLC not causal along a chain that crosses GPUs: {stamps:?}"
    );
    tell(&b, ids[0], msg(kind::RELAY, 0, 0, u64::from(20 * P)));
    let s = wait_until(&b, &ids, |s| {
        s.iter().map(|x| x.received).sum::<u64>() == u64::from(P - 1 + 20 * P)
    });
    assert!(
        s.iter()
            .all(|x| x.errors == 0 && x.dead == 0 && x.fulls == 0),
        "{s:?}"
    );
    let r = b.shutdown(T).unwrap();
    assert_eq!(r.dropped, 0);
}

#[test]
fn two_gpus_random_traffic_loses_nothing_keeps_pair_order_under_credits() {
    // Inboxes of 4 slots: senders on both GPUs run out of credits constantly.
    let b = runtime(need_two_gpus(), 8, 4);
    const P: u32 = 16;
    let ids = spawn_peers(&b, P, |i| (i + 1) % P, |i| (i % 2) as usize);
    let per_peer = if small() { 64 } else { 2048 };
    for &id in &ids {
        tell(&b, id, msg(kind::SPRAY, 0, 0, per_peer));
    }
    let s = wait_until(&b, &ids, settled);
    let sent: u64 = s.iter().map(|x| x.sent).sum();
    assert_eq!(sent, u64::from(P) * per_peer);
    assert!(s.iter().all(|x| x.errors == 0), "sequence errors: {s:?}");
    assert!(s.iter().all(|x| x.dead == 0), "dead letters: {s:?}");
    assert!(
        s.iter().map(|x| x.fulls).sum::<u64>() > 0,
        "credits never ran out: {s:?}"
    );
    assert_eq!(b.dead_letter_counts().total(), 0);
    let r = b.shutdown(T).unwrap();
    assert_eq!(r.dropped, 0);
}

#[test]
fn two_gpus_device_sends_to_unknown_ids_become_dead_letters() {
    let b = runtime(need_two_gpus(), 4, 64);
    let ids = spawn_peers(&b, 2, |i| (i + 1) % 2, |i| i as usize);
    let policy = u64::from(k2k::ON_FULL_FAIL) << 32;
    // Beyond the route table, and a free id inside it.
    for target in [100_000u32, 7] {
        tell(
            &b,
            ids[1],
            msg(kind::RAW, target, u64::from(0x0D01u32), 24 | policy),
        );
    }
    let until = Instant::now() + T;
    while b.dead_letter_counts().unknown_target < 2 {
        assert!(Instant::now() < until, "dead letters did not arrive");
        std::thread::sleep(Duration::from_millis(1));
    }
    let dead = b.drain_dead_letters();
    let mut to: Vec<u32> = dead.iter().map(|d| d.envelope.receiver().raw()).collect();
    to.sort_unstable();
    assert_eq!(to, vec![7, 100_000]);
    assert!(dead
        .iter()
        .all(|d| d.reason == DeadLetterReason::UnknownTarget && d.envelope.sender() == ids[1]));
}

/// Starts SPRAY traffic among `ids`, migrates `moving` along `hops` while it flows, then checks
/// that every message arrived once and in per-pair order (the migrated actor's sequence
/// counters travel with its state). Before each move the actor is kept busy (SPIN) while the
/// others fill its inbox, so there are untaken messages to move with it (inboxes of 64 slots;
/// a round takes at most 32).
fn migrate_under_traffic(
    b: &MultiGpuBackend,
    ids: &[ActorId],
    moving: ActorId,
    hops: &[(usize, TransferPath)],
) {
    let per_peer = if small() { 256 } else { 4096 };
    for &id in ids {
        tell(b, id, msg(kind::SPRAY, 0, 0, per_peer));
    }
    let before = ask(b, moving, msg(kind::QUERY, 0, 0, 0));
    let mut moved = 0;
    for &(to, path) in hops {
        tell(b, moving, msg(kind::SPIN, 0, 0, 3_000_000));
        std::thread::sleep(Duration::from_millis(1));
        let r = b.migrate_with(moving, to, path).unwrap();
        eprintln!("migration: {r:?}");
        moved += r.messages_moved;
        assert_eq!(b.gpu_of(moving), Some(to));
        assert_eq!(b.state_of(moving), Some(LifecycleState::Active));
        // Senders that found the actor moving kept their messages: kick them to retry.
        for &id in ids {
            tell(b, id, msg(kind::SPRAY, 0, 0, 0));
        }
    }
    let s = wait_until(b, ids, settled);
    let sent: u64 = s.iter().map(|x| x.sent).sum();
    assert_eq!(sent, ids.len() as u64 * per_peer);
    assert!(s.iter().all(|x| x.errors == 0), "sequence errors: {s:?}");
    assert!(s.iter().all(|x| x.dead == 0), "dead letters: {s:?}");
    let after = s[moving.raw() as usize];
    assert!(
        after.received >= before.received,
        "state did not travel: {before:?} -> {after:?}"
    );
    assert!(moved > 0, "no migration found untaken messages to move");
    assert_eq!(b.dead_letter_counts().total(), 0);
}

#[test]
fn two_gpus_migration_under_traffic_loses_and_repeats_nothing() {
    let b = runtime(need_two_gpus(), 8, 64);
    const P: u32 = 8;
    let ids = spawn_peers(&b, P, |i| (i + 1) % P, |i| (i % 2) as usize);
    migrate_under_traffic(
        &b,
        &ids,
        ids[0],
        &[
            (1, TransferPath::PeerToPeer),
            (0, TransferPath::HostStaged),
            (1, TransferPath::PeerToPeer),
        ],
    );
    let r = b.shutdown(T).unwrap();
    assert_eq!(r.dropped, 0, "messages left behind at shutdown");
}

#[test]
fn migration_between_blocks_of_one_gpu_under_traffic() {
    let b = runtime(vec![0], 8, 64);
    let ids = spawn_peers(&b, 6, |i| (i + 1) % 6, |_| 0);
    migrate_under_traffic(
        &b,
        &ids,
        ids[2],
        &[(0, TransferPath::PeerToPeer), (0, TransferPath::HostStaged)],
    );
    assert_eq!(b.shutdown(T).unwrap().dropped, 0);
}

fn bulk_ask(b: &dyn ActorBackend, to: ActorId, index: u64, add: u64) -> BulkReply {
    let env = Envelope::new(ActorId::HOST, to, &BulkAdd { index, add }).unwrap();
    b.ask(env).unwrap().wait(T).unwrap().read().unwrap()
}

#[test]
fn two_gpus_bulk_state_migrates_with_checksums_that_match_the_host() {
    let b = runtime_of(need_two_gpus(), 3, 64, true);
    let mut expected: Vec<u64> = vec![0; 2 + BULK_WORDS];
    let initial: Vec<u8> = {
        // A state with something in every word, so a byte lost anywhere shows.
        for (i, w) in expected[2..].iter_mut().enumerate() {
            *w = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
        bytemuck::cast_slice(&expected).to_vec()
    };
    assert_eq!(initial.len(), std::mem::size_of::<BulkState>());
    let id = b.spawn_placed(1, &initial, Placement::Pinned(0)).unwrap();
    let mut count = 0u64;
    let mut total = 0u64;
    for (step, (to, path)) in [(1, TransferPath::PeerToPeer), (0, TransferPath::HostStaged)]
        .into_iter()
        .enumerate()
    {
        for k in 0..10u64 {
            let index = (k * 7919 + step as u64) % BULK_WORDS as u64;
            let add = k + 1;
            let r = bulk_ask(&b, id, index, add);
            count += 1;
            total = total.wrapping_add(add);
            expected[2 + index as usize] = expected[2 + index as usize].wrapping_add(add);
            assert_eq!(
                (r.word, r.total, r.count),
                (expected[2 + index as usize], total, count)
            );
        }
        expected[0] = total;
        expected[1] = count;
        let report = b.migrate_with(id, to, path).unwrap();
        eprintln!("bulk migration: {report:?}");
        assert_eq!(report.state_bytes, std::mem::size_of::<BulkState>());
        assert_eq!(report.checksum, checksum(bytemuck::cast_slice(&expected)));
    }
    // It carries on where it was.
    let r = bulk_ask(&b, id, 5, 100);
    assert_eq!((r.total, r.count), (total.wrapping_add(100), count + 1));
}

#[test]
fn two_gpus_rebalance_gathers_talkers_and_levels_load() {
    use ringkernel_cuda::multi::balance::BalanceOptions;
    let b = runtime(need_two_gpus(), 16, 64);
    const P: u32 = 8;
    // Pairs (2k, 2k+1) rally without end, each pair split across the GPUs.
    let ids = spawn_peers(&b, P, |i| i ^ 1, |i| (i % 2) as usize);
    for k in 0..P / 2 {
        tell(&b, ids[2 * k as usize], msg(kind::PING, 0, 0, 1 << 40));
    }
    std::thread::sleep(Duration::from_millis(20));
    let report = b
        .rebalance(Duration::from_millis(60), BalanceOptions::default())
        .unwrap();
    eprintln!("traffic: {:?}", report.traffic);
    eprintln!("loads: {:?}", report.loads);
    assert!(!report.migrations.is_empty(), "nothing moved: {report:?}");
    let mut per_gpu = [0usize; 2];
    for k in 0..P / 2 {
        let (a, c) = (ids[2 * k as usize], ids[2 * k as usize + 1]);
        assert_eq!(b.gpu_of(a), b.gpu_of(c), "pair {k} still split");
        per_gpu[b.gpu_of(a).unwrap()] += 1;
    }
    assert_eq!(per_gpu, [2, 2], "pairs not levelled over the GPUs");
}
