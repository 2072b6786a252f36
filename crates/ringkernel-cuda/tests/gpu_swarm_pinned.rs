//! GPU tests of the swarm's pinned tier: rallies through DSMEM and device-memory channels,
//! sequence-checked random traffic among pinned actors with credits engaged, chains that mix
//! pinned and scheduled actors (causal HLCs), asks, dead letters and stops. They need an NVIDIA
//! GPU (sm_90) and fail loudly without one (build with `--features gpu-tests`; run with
//! `--test-threads=1`).

#![allow(clippy::unwrap_used)]

use ringkernel_cuda::floors::Floors;
use ringkernel_cuda::swarm::kit::{self, kinds, types};
use ringkernel_cuda::swarm::layout::{HOST, NO_ID};
use ringkernel_cuda::swarm::{Swarm, SwarmConfig, SwarmMsg};
use ringkernel_cuda::CudaError;
use std::time::{Duration, Instant};

mod swarm_common;
use swarm_common::{
    check_traffic, patience, pinned_pair, pinned_swarm, rally, small, small_config, start, wait_for,
};

fn relay_state(next: u32) -> [u8; 4] {
    next.to_le_bytes()
}

/// Two pinned pairs rally: slots 0 and 1 sit in one cluster (DSMEM channels), slots 2 and 5 in
/// two others (device-memory channels). Every message arrives, and exactly the first pair's
/// went through DSMEM.
#[test]
fn pinned_pairs_rally_through_dsmem_and_device_memory_channels() {
    let trips = if small() { 200 } else { 20_000 };
    let s = pinned_swarm(6, 8, 2, kit::SMALL_STATE);
    let base = s.pinned_base();
    let (a1, b1) = pinned_pair(&s, types::PING, 0, 1);
    let (a2, b2) = pinned_pair(&s, types::PING, 2, 5);
    assert_eq!((a1, b1, a2, b2), (base, base + 1, base + 2, base + 5));
    assert_eq!(
        (s.home_block(a1), s.home_block(b1), s.home_block(b2)),
        (0, 1, 5)
    );
    for a in [a1, a2] {
        for round in 1..=2u32 {
            let st = rally(&s, a, trips);
            assert_eq!(st.done, round);
            assert_eq!(st.count, u64::from(round) * trips);
            assert!(st.t1 > st.t0);
        }
    }
    let t = s.settle(patience()).unwrap();
    let partners: Vec<kit::PingState> = s.read_states(b1, 1).unwrap();
    assert_eq!(partners[0].count, 2 * trips);
    assert_eq!(
        t.dsmem,
        2 * 2 * trips,
        "the DSMEM pair's messages, and only those"
    );
    assert_eq!(
        t.processed,
        2 * 2 * 2 * trips + 4,
        "rallies plus the four starts"
    );
    assert_eq!(s.dead_letter_counts().total(), 0);
    s.shutdown().unwrap();
}

/// 32 pinned TRAFFIC actors (2 per block, clusters of 4: DSMEM channels within a cluster,
/// device-memory channels across) send sequence-numbered messages to random peers until the
/// channels run out of credit again and again: every message arrives once, in order per pair.
/// Under the sanitizers (fewer messages) all of them aim at 4 peers, so credits still run out.
#[test]
fn random_traffic_among_pinned_actors_is_exact_and_fifo_per_pair() {
    // Under racecheck every shared-memory access of the 4 KB state write-backs is checked: with
    // 200 messages each the test once ran past its 180 s there, and with 100 on 2026-11-27 (an
    // H100; 1,387 of 3,200 handled, no errors). 40 each still drive the channels full.
    let (per, peers) = if small() { (40, 4u32) } else { (3000, 32) };
    let n = 32u32;
    let s = pinned_swarm(n, 16, 4, kit::MAX_STATE);
    let base = s.pinned_base();
    for slot in 0..n {
        let st = kit::TrafficState {
            base,
            ..bytemuck::Zeroable::zeroed()
        };
        assert_eq!(
            s.spawn_pinned(slot, types::TRAFFIC, bytemuck::bytes_of(&st))
                .unwrap(),
            base + slot
        );
    }
    for slot in 0..n {
        s.tell(
            base + slot,
            start([per, u64::from(peers), 0x5EED + u64::from(slot)]),
        )
        .unwrap();
    }
    let t = check_traffic(&s, base, n, per);
    assert!(
        t.full > 0,
        "no channel ran out of credit: credits were not engaged"
    );
    assert!(
        t.dsmem > 0 && t.dsmem < u64::from(n) * per,
        "both channel kinds carried traffic"
    );
    s.shutdown().unwrap();
}

/// host → scheduled relay → pinned 0 → pinned 1 (DSMEM) → pinned 2 (device memory) →
/// scheduled relay: every route into and out of the pinned tier, with causal HLCs at each hop.
#[test]
fn chains_through_pinned_and_scheduled_actors_keep_causal_order() {
    let s = pinned_swarm(4, 8, 2, kit::SMALL_STATE);
    let base = s.pinned_base();
    let tail = s.spawn(types::RELAY, &relay_state(NO_ID)).unwrap();
    s.spawn_pinned(2, types::RELAY, &relay_state(tail)).unwrap();
    s.spawn_pinned(1, types::RELAY, &relay_state(base + 2))
        .unwrap();
    s.spawn_pinned(0, types::RELAY, &relay_state(base + 1))
        .unwrap();
    let head = s.spawn(types::RELAY, &relay_state(base)).unwrap();
    let chain = [head, base, base + 1, base + 2, tail];
    let read = |id: u32| s.read_states::<kit::RelayState>(id, 1).unwrap()[0];
    // Each relay's stamps, checked on a snapshot taken once every relay has counted the round.
    // A relay writes its state back after its send went out, so the host can catch one
    // mid-write (a torn read); a snapshot is retried until it is whole, and a chain whose stamps
    // never come out causal fails on the deadline with the last snapshot.
    // Along the chain, each hop is causal. Across rounds, each relay's stamps only grow: its
    // clock never goes back, and what it receives comes from a clock that never goes back. (The
    // host's next stamp need not exceed the chain's last one: the host never received a message
    // from the chain, so HLC orders nothing between them, and both can fall in one millisecond.)
    let causal = |v: &[kit::RelayState], prev: &[kit::RelayState]| {
        v.windows(2)
            .all(|w| w[0].hlc_out > w[0].hlc_in && w[1].hlc_in == w[0].hlc_out)
            && v.iter()
                .zip(prev)
                .all(|(now, before)| now.hlc_in > before.hlc_in)
            && v[..v.len() - 1]
                .iter()
                .zip(prev)
                .all(|(now, before)| now.hlc_out > before.hlc_out)
    };
    let mut prev = vec![kit::RelayState::default(); chain.len()];
    for round in 1..=3u32 {
        s.tell(head, SwarmMsg::new(kinds::DATA, [u64::from(round), 0, 0]))
            .unwrap();
        let since = Instant::now();
        let v = loop {
            let v: Vec<kit::RelayState> = chain.iter().map(|&id| read(id)).collect();
            let counted = v.iter().all(|r| r.count == round);
            if counted && causal(&v, &prev) {
                break v;
            }
            assert!(
                since.elapsed() < patience(),
                "round {round}: stamps not causal along the chain (or not all counted): {v:?}"
            );
            std::thread::sleep(Duration::from_millis(2));
        };
        assert!(v.iter().all(|r| r.failed == 0));
        prev = v;
    }
    s.shutdown().unwrap();
}

/// The host asks a pinned echo; pinned askers ask it through channels (DSMEM and device memory)
/// and scheduled askers through its mailbox; every reply matches its ask.
#[test]
fn pinned_actors_answer_asks_from_every_tier() {
    let asks = if small() { 20 } else { 400 };
    let s = pinned_swarm(3, 8, 2, kit::SMALL_STATE);
    let echo = s.spawn_pinned(0, types::ECHO, &[]).unwrap();
    let r = s
        .ask(echo, SwarmMsg::new(kinds::DATA, [21, 5, 6]), patience())
        .unwrap();
    assert_eq!((r.from, r.words), (echo, [42, 5, 6]));
    let near = s.spawn_pinned(1, types::ASKER, &[]).unwrap();
    let far = s.spawn_pinned(2, types::ASKER, &[]).unwrap();
    let scheduled = s.spawn_many(types::ASKER, 8, |_, _| {}).unwrap();
    let askers: Vec<u32> = [near, far].into_iter().chain(scheduled).collect();
    for &id in &askers {
        s.tell(id, start([u64::from(echo), asks, 0])).unwrap();
    }
    for &id in &askers {
        let v = wait_for(&s, id, 1, |v: &[kit::AskerState]| {
            u64::from(v[0].ok + v[0].bad) == asks
        });
        assert_eq!((v[0].ok as u64, v[0].bad), (asks, 0), "asker {id}");
    }
    assert_eq!(s.dead_letter_counts().total(), 0);
    s.shutdown().unwrap();
}

/// Dead letters around the pinned tier: host → stopped pinned (refused at the send), pinned →
/// stopped pinned (taken by the stopped actor's warp), pinned → a slot never spawned, and a
/// host send past the last slot. Each lands once with its reason, sender and recipient.
#[test]
fn pinned_targets_that_cannot_take_a_message_give_dead_letters() {
    let s = pinned_swarm(4, 8, 2, kit::SMALL_STATE);
    let base = s.pinned_base();
    let victim = s.spawn_pinned(1, types::COUNTER, &[]).unwrap();
    let to_victim = s
        .spawn_pinned(0, types::RELAY, &relay_state(victim))
        .unwrap();
    let to_nobody = s
        .spawn_pinned(2, types::RELAY, &relay_state(base + 3))
        .unwrap();
    // Live first: a message gets through.
    s.tell(to_victim, SwarmMsg::new(kinds::DATA, [1, 0, 0]))
        .unwrap();
    wait_for(&s, victim, 1, |v: &[kit::CounterState]| v[0].count == 1);
    s.stop_actor(victim).unwrap();
    assert_eq!(
        s.read_headers(victim, 1).unwrap()[0].seen,
        2,
        "STOPPED seen"
    );
    s.tell(victim, SwarmMsg::new(kinds::DATA, [2, 0, 0]))
        .unwrap();
    s.tell(to_victim, SwarmMsg::new(kinds::DATA, [3, 0, 0]))
        .unwrap();
    s.tell(to_nobody, SwarmMsg::new(kinds::DATA, [4, 0, 0]))
        .unwrap();
    s.tell(base + 4, SwarmMsg::new(kinds::DATA, [5, 0, 0]))
        .unwrap();
    s.settle(patience()).unwrap();
    let mut dead = s.dead_letters();
    dead.sort_by_key(|d| d.words[0]);
    let got: Vec<(u32, u32, u64, _)> = dead
        .iter()
        .map(|d| (d.from, d.to, d.words[0], d.reason))
        .collect();
    use ringkernel_core::DeadLetterReason::{Stopped, UnknownTarget};
    assert_eq!(
        got,
        vec![
            (HOST, victim, 2, Stopped),
            (to_victim, victim, 3, Stopped),
            (to_nobody, base + 3, 4, UnknownTarget),
            (HOST, base + 4, 5, UnknownTarget),
        ]
    );
    assert_eq!(
        s.read_states::<kit::CounterState>(victim, 1).unwrap()[0].count,
        1
    );
    s.shutdown().unwrap();
}

/// Messages sent the moment pinned actors are spawned are all taken (none becomes an
/// `UnknownTarget` dead letter while the warps catch up with the spawn), through the mailbox
/// and through a channel.
#[test]
fn pinned_actors_take_messages_sent_right_after_their_spawn() {
    let s = pinned_swarm(2, 8, 2, kit::SMALL_STATE);
    for round in 0..4u64 {
        let b = if round == 0 {
            let b = s.spawn_pinned(1, types::COUNTER, &[]).unwrap();
            s.spawn_pinned(0, types::RELAY, &relay_state(b)).unwrap();
            b
        } else {
            s.pinned_base() + 1
        };
        let a = s.pinned_base();
        for k in 0..50 {
            s.tell(a, SwarmMsg::new(kinds::DATA, [k, 0, 0])).unwrap();
        }
        let want = 50 * (round + 1);
        wait_for(&s, b, 1, |v: &[kit::CounterState]| v[0].count >= want);
        assert_eq!(
            s.read_states::<kit::CounterState>(b, 1).unwrap()[0].count,
            want
        );
    }
    assert_eq!(s.dead_letter_counts().total(), 0);
    s.shutdown().unwrap();
}

/// Bad pinned requests are typed errors, before anything reaches the device.
#[test]
fn bad_pinned_spawns_are_typed_errors() {
    let s = pinned_swarm(2, 8, 2, kit::SMALL_STATE);
    s.spawn_pinned(0, types::COUNTER, &[]).unwrap();
    assert!(matches!(
        s.spawn_pinned(0, types::COUNTER, &[]),
        Err(CudaError::SwarmCapacity { .. })
    ));
    assert!(matches!(
        s.spawn_pinned(2, types::COUNTER, &[]),
        Err(CudaError::Config(_))
    ));
    assert!(matches!(
        s.spawn_pinned(1, types::COUNTER, &[0; 64]),
        Err(CudaError::SwarmMessage(_))
    ));
    s.shutdown().unwrap();
    // 3 pinned warps per block do not fit the shared-memory channels.
    let e = Swarm::new(
        &ringkernel_cuda::swarm::SwarmProgram::kit(),
        SwarmConfig {
            pinned: 6,
            blocks: Some(2),
            ..small_config()
        },
    );
    assert!(matches!(e, Err(CudaError::Config(_))), "{e:?}");
}

/// The pinned hop without the framework (the bench's floor for the pinned tier) and its lower
/// bounds rally through both channels and time every hop (the lean variants also check that
/// they handled every message); the st.async variants run through DSMEM only and are a typed
/// error through device memory; zero hops is a typed error.
#[test]
fn the_framework_free_hop_rallies_through_both_channels() {
    use ringkernel_cuda::swarm::ll_hop::{HopChannel, HopWork, LlHop};
    let hop = LlHop::new(0).unwrap();
    let sm_count =
        ringkernel_cuda::driver::device_info(&ringkernel_cuda::driver::open_context(0).unwrap())
            .unwrap()
            .sm_count;
    // Nothing ran yet: no SMs to report.
    assert_eq!(hop.last_sms().unwrap(), None);
    for work in HopWork::ALL {
        for channel in [HopChannel::DeviceMemory, HopChannel::Dsmem] {
            if work.dsmem_only() && channel == HopChannel::DeviceMemory {
                // st.async writes another block's shared memory: a typed error, no launch.
                assert!(matches!(
                    hop.one_way_with(work, channel, 2),
                    Err(CudaError::Config(_))
                ));
                continue;
            }
            // An odd count is rounded up, so the initiator's clock covers whole hops.
            for hops in [1, 2, 1001] {
                // No upper bound: a rally that does not finish is an error, and under racecheck
                // a hop takes over 100 us.
                let ns = hop.one_way_with(work, channel, hops).unwrap();
                assert!(
                    ns.is_finite() && ns > 10.0,
                    "{work:?}, {channel:?}, {hops} hops: {ns} ns"
                );
                // The two blocks say where they ran: two SMs of this device.
                let sms = hop.last_sms().unwrap().unwrap();
                assert!(
                    sms[0] != sms[1] && sms[0].max(sms[1]) < sm_count,
                    "{work:?}, {channel:?}: SMs {sms:?}"
                );
            }
        }
    }
    assert!(matches!(
        hop.one_way(HopChannel::Dsmem, 0),
        Err(CudaError::Config(_))
    ));
}

/// The flag floor between two chosen SMs finishes on the pairs asked for; the same SM twice, an
/// SM the device does not have, and zero round trips are configuration errors.
#[test]
fn the_flag_floor_between_two_sms_measures_and_rejects_bad_pairs() {
    let floors = Floors::new(0).unwrap();
    let n = floors.sm_count();
    assert!(n >= 2, "{n} SMs");
    for (a, b) in [(0, 1), (0, n - 1), (n - 1, (n - 1) / 2)] {
        let ns = floors.k2k_one_way_between(a, b, 200).unwrap();
        assert!(ns.is_finite() && ns > 10.0, "SMs {a} and {b}: {ns} ns");
    }
    for (a, b, iters) in [(0, 0, 10), (0, n, 10), (n, 0, 10), (0, 1, 0)] {
        assert!(
            matches!(
                floors.k2k_one_way_between(a, b, iters),
                Err(CudaError::Config(_))
            ),
            "SMs {a} and {b}, {iters} round trips"
        );
    }
}

/// Every block of a running swarm reports the SM it runs on (what pinned placement needs), and
/// a pinned pair on two other slots than the usual ones rallies like any other.
#[test]
fn swarm_blocks_report_their_sms() {
    let n = Floors::new(0).unwrap().sm_count();
    let s = pinned_swarm(8, 4, 2, kit::SMALL_STATE);
    let sms = s.block_sms().unwrap();
    assert_eq!(sms.len(), s.blocks() as usize);
    assert!(sms.iter().all(|&sm| sm < n), "{sms:?} on {n} SMs");
    // Slots 3 and 4 sit on blocks 3 and 0: different clusters, a device-memory channel.
    let (a, _) = pinned_pair(&s, types::PING, 3, 4);
    rally(&s, a, 50);
    s.shutdown().unwrap();
}

/// The SM split measures the flag from one SM to every other; an SM the device lacks is an
/// error, not a split. Whether the GPU shows two halves is the hardware's business (an H100 did,
/// with 2,000 round trips per SM), so only the bookkeeping is asserted.
#[test]
fn the_sm_split_covers_every_sm() {
    use ringkernel_cuda::sm_split::SmSplit;
    let floors = Floors::new(0).unwrap();
    let n = floors.sm_count();
    let split = SmSplit::measure(&floors, 0, 200).unwrap();
    println!("{}", split.describe());
    for sm in 1..n {
        assert!(
            split.latency(sm).is_some_and(|v| v > 10.0),
            "SM {sm}: {:?}",
            split.latency(sm)
        );
        assert_eq!(split.with_from(sm).is_some(), split.halves(), "SM {sm}");
    }
    assert_eq!(split.with_from(0), split.halves().then_some(true));
    assert_eq!(split.latency(n), None);
    assert_eq!(split.with_from(n), None);
    assert!(matches!(
        SmSplit::measure(&floors, n, 100),
        Err(CudaError::Config(_))
    ));
}

/// `Swarm::pinned_pair` places pairs as asked: a cluster pair on two blocks of one cluster
/// (DSMEM), and, where the GPU shows two halves, a device-memory pair whose SMs are in one half
/// (by the split) and a pair across; taken slots are not offered again; each placed pair
/// rallies. Without two halves a half pair is `None`.
#[test]
fn pinned_pairs_are_placed_by_cluster_and_chip_half() {
    use ringkernel_cuda::sm_split::SmSplit;
    use ringkernel_cuda::swarm::PairPlace;
    let floors = Floors::new(0).unwrap();
    let split = SmSplit::measure(&floors, 0, 200).unwrap();
    drop(floors);
    let s = pinned_swarm(16, 8, 2, kit::SMALL_STATE);
    let sms = s.block_sms().unwrap();
    let blocks = s.blocks();
    let (a, b) = s.pinned_pair(&split, PairPlace::Cluster).unwrap().unwrap();
    assert_ne!(a % blocks, b % blocks);
    assert_eq!((a % blocks) / 2, (b % blocks) / 2);
    let (x, _) = pinned_pair(&s, types::PING, a, b);
    assert!(!s.free_pinned_slots().contains(&a) && !s.free_pinned_slots().contains(&b));
    assert_eq!(s.free_pinned_slots().len(), 14);
    rally(&s, x, 50);
    for (place, across) in [(PairPlace::OneHalf, false), (PairPlace::AcrossHalves, true)] {
        let got = s.pinned_pair(&split, place).unwrap();
        if !split.halves() {
            assert_eq!(got, None, "no halves, no {place:?} pair");
            continue;
        }
        let Some((a, b)) = got else {
            // Eight blocks may all land in one half: then there is no pair across.
            println!("no {place:?} pair among SMs {sms:?} ({})", split.describe());
            continue;
        };
        let (sa, sb) = (sms[(a % blocks) as usize], sms[(b % blocks) as usize]);
        assert_ne!((a % blocks) / 2, (b % blocks) / 2, "{place:?}: one cluster");
        assert_eq!(
            split.same_half(sa, sb),
            Some(!across),
            "{place:?}: SMs {sa} and {sb}"
        );
        let (x, _) = pinned_pair(&s, types::PING, a, b);
        rally(&s, x, 50);
    }
    s.shutdown().unwrap();
}
