//! GPU tests of the swarm (lightweight actors): delivery without loss, duplication or per-pair
//! reordering under credits, no deadlock with every sender out of credit, dead letters for every
//! reason, causal HLCs, asks between actors, spawning from handlers, a million live actors,
//! DSMEM between cluster-tier actors, and work stealing. They need an NVIDIA GPU (sm_90) and
//! fail loudly without one (build with `--features gpu-tests`; run with `--test-threads=1`).

// Helpers outside #[test] fns unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use ringkernel_core::DeadLetterReason;
use ringkernel_cuda::swarm::kit::{self, kinds, types};
use ringkernel_cuda::swarm::layout::{status, HOST, NO_ID};
use ringkernel_cuda::swarm::{SendOptions, Steal, Swarm, SwarmConfig, SwarmMsg};
use ringkernel_cuda::CudaError;

mod swarm_common;
use swarm_common::{check_traffic, patience, rally, small, small_config, start, swarm, wait_for};

#[test]
fn host_tells_and_asks_reach_counters() {
    let s = swarm(small_config());
    let ids = s.spawn_many(types::COUNTER, 64, |_, _| {}).unwrap();
    for id in ids.clone() {
        for k in 1..=3u64 {
            s.tell(id, SwarmMsg::new(kinds::DATA, [k, 0, 0])).unwrap();
        }
    }
    for id in ids.clone() {
        let r = s
            .ask(id, SwarmMsg::new(kinds::DATA, [10, 0, 0]), patience())
            .unwrap();
        // The ask is the fourth message (host FIFO): count 4, sum 1+2+3+10.
        assert_eq!((r.from, r.words[0], r.words[1]), (id, 4, 16));
        assert!(r.hlc.raw() > r.words[2], "reply HLC not after the ask's");
    }
    let t = s.shutdown().unwrap();
    assert_eq!(t.injected, 64 * 4);
    assert_eq!(t.processed, 64 * 4);
}

#[test]
fn stops_spawns_and_waits_at_the_edges_are_exact_or_typed_errors() {
    let mut s = swarm(SwarmConfig {
        pinned: 2,
        ..small_config()
    });
    let a = s.spawn(types::COUNTER, &[]).unwrap();
    // A stop is applied by the time it returns, for every tier; a second one does nothing.
    s.stop_actor(a).unwrap();
    assert_eq!(
        s.read_headers(a, 1).unwrap()[0].status_code(),
        status::STOPPED
    );
    s.stop_actor(a).unwrap();
    let pinned = s.spawn_pinned(0, types::COUNTER, &[]).unwrap();
    s.stop_actor(pinned).unwrap();
    s.stop_actor(pinned).unwrap();
    // Ids that name no actor: never spawned (global tier, a free pinned slot), or beyond the
    // swarm.
    let never = s.config().host_capacity() - 1;
    assert!(matches!(s.stop_actor(never), Err(CudaError::SwarmUnknownActor(id)) if id == never));
    let free_slot = s.pinned_base() + 1;
    assert!(matches!(
        s.stop_actor(free_slot),
        Err(CudaError::SwarmUnknownActor(_))
    ));
    assert!(matches!(
        s.stop_actor(u32::MAX - 5),
        Err(CudaError::SwarmMessage(_))
    ));
    // The longest time to live keeps a message (it used to wrap the device's deadline round
    // to the past), and an ask can wait without a deadline.
    let b = s.spawn(types::COUNTER, &[]).unwrap();
    let forever = SendOptions {
        ttl: Some(Duration::MAX),
        ..SendOptions::default()
    };
    s.tell_with(b, SwarmMsg::new(kinds::DATA, [5, 0, 0]), forever)
        .unwrap();
    let r = s
        .ask(b, SwarmMsg::new(kinds::DATA, [1, 0, 0]), Duration::MAX)
        .unwrap();
    assert_eq!((r.words[0], r.words[1]), (2, 6));
    assert_eq!(s.dead_letter_counts().expired, 0);
    // A halted swarm refuses spawns and stops; what it held stays readable.
    s.halt().unwrap();
    let stopped = |r: Result<u32, CudaError>| matches!(r, Err(CudaError::SwarmStopped(_)));
    assert!(stopped(s.spawn(types::COUNTER, &[])));
    assert!(stopped(s.spawn_pinned(1, types::COUNTER, &[])));
    assert!(stopped(
        s.spawn_many(types::COUNTER, 4, |_, _| {}).map(|r| r.start)
    ));
    assert!(matches!(s.stop_actor(b), Err(CudaError::SwarmStopped(_))));
    let st: Vec<kit::CounterState> = s.read_states(b, 1).unwrap();
    assert_eq!((st[0].count, st[0].sum), (2, 6));
    s.shutdown().unwrap();
}

/// A swarm with 2-slot mailboxes holding `n` TRAFFIC actors, ids `0..n` (the group's ids).
fn traffic_swarm(n: u32) -> Swarm {
    let s = swarm(SwarmConfig {
        capacity: 1024,
        device_spawns: 0,
        mailbox_slots: 2,
        state_bytes: kit::MAX_STATE,
        ..SwarmConfig::default()
    });
    assert_eq!(s.spawn_many(types::TRAFFIC, n, |_, _| {}).unwrap(), 0..n);
    s
}

/// Sequence-checked random traffic among 256 actors with 2-slot mailboxes: every message
/// arrives exactly once and in order per (sender, receiver) pair, and credits ran out often.
#[test]
fn random_traffic_with_two_slot_mailboxes_is_exact_and_fifo_per_pair() {
    let per = if small() { 40 } else { 2000 };
    let n = 256u32;
    let s = traffic_swarm(n);
    for id in 0..n {
        s.tell(id, start([per, u64::from(n), 0x9E37_79B9 + u64::from(id)]))
            .unwrap();
    }
    let t = check_traffic(&s, 0, n, per);
    assert!(
        t.full > 0,
        "no send ever ran out of credit: the test did not engage credits"
    );
}

/// Every one of 256 senders aims at the same two actors with 2-slot mailboxes: all of them are
/// out of credit most of the time, yet everything is delivered (no deadlock).
#[test]
fn every_sender_out_of_credit_still_completes() {
    let per = if small() { 10 } else { 200 };
    let n = 256u32;
    let s = traffic_swarm(n);
    for id in 0..n {
        // peers = 2: targets are actors 0 and 1 only.
        s.tell(id, start([per, 2, 7 + u64::from(id)])).unwrap();
    }
    let total = u64::from(n) * per;
    wait_for(&s, 0, n, |v: &[kit::TrafficState]| {
        v[0].received + v[1].received >= total
    });
    // Counted once quiet, so a late duplicate would show.
    s.settle(patience()).unwrap();
    let st: Vec<kit::TrafficState> = s.read_states(0, n).unwrap();
    assert_eq!(st[0].received + st[1].received, total);
    assert_eq!(st[0].errors + st[1].errors, 0);
    assert!(st.iter().map(|t| u64::from(t.refused)).sum::<u64>() > u64::from(n));
    s.shutdown().unwrap();
}

#[test]
fn undeliverable_messages_are_dead_letters_with_their_reason() {
    let s = swarm(SwarmConfig {
        mailbox_slots: 2,
        ..small_config()
    });
    let counter = s.spawn(types::COUNTER, &[]).unwrap();
    let stopped = s.spawn(types::COUNTER, &[]).unwrap();
    // Host sends: a never-spawned id, an id beyond the swarm, a stopped actor, an expired one.
    s.tell(4000, SwarmMsg::new(kinds::DATA, [1, 2, 3])).unwrap();
    s.tell(u32::MAX - 5, SwarmMsg::new(kinds::DATA, [0; 3]))
        .unwrap();
    s.stop_actor(stopped).unwrap();
    s.tell(stopped, SwarmMsg::new(kinds::DATA, [0; 3])).unwrap();
    let ttl = SendOptions {
        ttl: Some(Duration::from_nanos(1)),
        ..SendOptions::default()
    };
    s.tell_with(counter, SwarmMsg::new(kinds::DATA, [5, 0, 0]), ttl)
        .unwrap();
    // A device sender: a relay forwarding to an unknown id.
    let relay = kit::RelayState {
        next: 3999,
        ..Default::default()
    };
    let r = s.spawn(types::RELAY, bytemuck::bytes_of(&relay)).unwrap();
    s.tell(r, SwarmMsg::new(kinds::DATA, [9, 0, 0])).unwrap();
    // Relays with the dead-letter policy flooding one 2-slot mailbox: refusals are dead
    // letters `Full`, and every message is either counted or dead.
    let sink = s.spawn(types::COUNTER, &[]).unwrap();
    let relays = s
        .spawn_many(types::RELAY, 64, |_, st| {
            st[..4].copy_from_slice(&sink.to_le_bytes());
        })
        .unwrap();
    let per = 50u32;
    for _ in 0..per {
        for id in relays.clone() {
            s.tell(id, SwarmMsg::new(kinds::DATA, [1, 0, 0])).unwrap();
        }
    }
    // An ask to an unknown actor fails with the dead letter instead of timing out.
    assert!(matches!(
        s.ask(3998, SwarmMsg::new(kinds::DATA, [0; 3]), patience()),
        Err(ringkernel_cuda::CudaError::SwarmDeadLetter {
            actor: 3998,
            reason: DeadLetterReason::UnknownTarget
        })
    ));
    s.settle(patience()).unwrap();
    let relay_states: Vec<kit::RelayState> = s.read_states(relays.start, 64).unwrap();
    let sink_state: Vec<kit::CounterState> = s.read_states(sink, 1).unwrap();
    let failed: u64 = relay_states.iter().map(|r| r.failed).sum();
    assert_eq!(sink_state[0].count + failed, 64 * u64::from(per));
    let c = s.dead_letter_counts();
    let d = s.dead_letters();
    let has = |from: u32, to: u32, why: DeadLetterReason| {
        d.iter()
            .any(|x| x.from == from && x.to == to && x.reason == why)
    };
    assert!(has(HOST, 4000, DeadLetterReason::UnknownTarget));
    assert!(has(HOST, u32::MAX - 5, DeadLetterReason::UnknownTarget));
    assert!(has(HOST, stopped, DeadLetterReason::Stopped));
    assert!(has(HOST, counter, DeadLetterReason::Expired));
    assert!(has(r, 3999, DeadLetterReason::UnknownTarget));
    assert!(has(HOST, 3998, DeadLetterReason::UnknownTarget));
    assert_eq!(
        c.full, failed,
        "every refused relay send is a dead letter Full"
    );
    let first = d.iter().find(|x| x.to == 4000).unwrap();
    assert_eq!(first.words, [1, 2, 3]);
    assert!(first.recorded > first.sent);
    let expired: Vec<kit::CounterState> = s.read_states(counter, 1).unwrap();
    assert_eq!(
        expired[0].count, 0,
        "an expired message must not reach its handler"
    );
    s.shutdown().unwrap();
}

/// A halt while the host injector waits for credit: the messages still waiting become dead
/// letters `Full`, and none taken after them is delivered. So the counter handled exactly the
/// first messages, its mailbox holds the next ones, and the dead letters are the rest of what
/// the device took (once each, in order).
#[test]
fn a_halt_turns_the_injectors_waiting_messages_into_dead_letters_once() {
    let sends = if small() { 2_000 } else { 20_000 };
    for attempt in 1..=10 {
        // A 2-slot mailbox keeps the injector waiting for credit nearly all the time; long
        // naps of the idle warps make the counter's turns, and so its credit, come late.
        let mut s = swarm(SwarmConfig {
            mailbox_slots: 2,
            max_nap_ns: 100_000,
            ..small_config()
        });
        let counter = s.spawn(types::COUNTER, &[]).unwrap();
        for k in 1..=sends {
            s.tell(counter, SwarmMsg::new(kinds::DATA, [k, 0, 0]))
                .unwrap();
        }
        // Halt once the injector is under way: under the sanitizers a halt right after the
        // sends can come before it took its first window, and then nothing waits.
        wait_for(&s, counter, 1, |v: &[kit::CounterState]| v[0].count >= 64);
        let t = s.halt().unwrap();
        let st: Vec<kit::CounterState> = s.read_states(counter, 1).unwrap();
        let h = s.read_headers(counter, 1).unwrap()[0];
        let (handled, queued) = (st[0].count, h.tail - h.head);
        let mut dead: Vec<u64> = s
            .dead_letters()
            .iter()
            .filter(|d| d.to == counter)
            .map(|d| {
                assert_eq!(d.reason, DeadLetterReason::Full);
                d.words[0]
            })
            .collect();
        dead.sort_unstable();
        // Shown if the test fails: what each attempt's halt found.
        eprintln!(
            "attempt {attempt}: injected {} = handled {handled} + queued {queued} + dead {}",
            t.injected,
            dead.len()
        );
        assert_eq!(s.dead_letter_counts().total(), dead.len() as u64);
        assert_eq!(
            handled + queued + dead.len() as u64,
            t.injected,
            "attempt {attempt}: every message taken is handled, queued or dead exactly once"
        );
        assert_eq!(
            st[0].sum,
            handled * (handled + 1) / 2,
            "attempt {attempt}: the handled messages are not the first {handled} in order"
        );
        let next = handled + queued + 1;
        assert!(
            dead.iter().copied().eq(next..next + dead.len() as u64),
            "attempt {attempt}: dead letters are not the messages after the queued ones: {:?}..",
            &dead[..dead.len().min(8)]
        );
        s.shutdown().unwrap();
        if !dead.is_empty() {
            return;
        }
    }
    panic!("in 10 attempts the halt never found the injector waiting: the path went untested");
}

/// A chain of relays spread over the grid: each hop's HLC is the previous hop's plus at least
/// one, for several messages in a row.
#[test]
fn hlc_orders_a_chain_of_relays_causally() {
    let s = swarm(small_config());
    let hops = 24u32;
    // Ids spread so consecutive relays are homed on different blocks.
    let ids = s
        .spawn_many(types::RELAY, hops, |id, st| {
            let next = if id + 1 < hops { id + 1 } else { NO_ID };
            st[..4].copy_from_slice(&next.to_le_bytes());
        })
        .unwrap();
    let mut last_out = 0;
    for round in 1..=3u32 {
        s.tell(
            ids.start,
            SwarmMsg::new(kinds::DATA, [u64::from(round), 0, 0]),
        )
        .unwrap();
        let v: Vec<kit::RelayState> = wait_for(&s, ids.start, hops, |v: &[kit::RelayState]| {
            v[hops as usize - 1].count == round
        });
        for w in v.windows(2) {
            assert!(w[0].hlc_out > w[0].hlc_in, "send not after receive");
            assert_eq!(w[1].hlc_in, w[0].hlc_out, "receiver saw another stamp");
        }
        assert!(
            v[0].hlc_in > last_out,
            "round {round} not after the previous one"
        );
        last_out = v[hops as usize - 2].hlc_out;
    }
    s.shutdown().unwrap();
}

#[test]
fn actors_ask_each_other_and_every_reply_matches() {
    let asks = if small() { 20 } else { 500 };
    let s = swarm(small_config());
    let echo = s.spawn(types::ECHO, &[]).unwrap();
    let askers = s.spawn_many(types::ASKER, 32, |_, _| {}).unwrap();
    for id in askers.clone() {
        s.tell(id, start([u64::from(echo), asks, 0])).unwrap();
    }
    let v: Vec<kit::AskerState> = wait_for(&s, askers.start, 32, |v: &[kit::AskerState]| {
        v.iter().all(|a| u64::from(a.ok + a.bad) == asks)
    });
    assert!(v.iter().all(|a| a.bad == 0 && u64::from(a.ok) == asks));
    s.shutdown().unwrap();
}

#[test]
fn handlers_spawn_actors_until_the_device_range_is_used() {
    let s = swarm(small_config()); // 256 device spawns
    let spawners = s.spawn_many(types::SPAWNER, 4, |_, _| {}).unwrap();
    for id in spawners.clone() {
        s.tell(id, start([100, 0, 0])).unwrap();
    }
    let v: Vec<kit::SpawnerState> = wait_for(&s, spawners.start, 4, |v: &[kit::SpawnerState]| {
        v.iter().map(|x| x.spawned + x.failed).sum::<u32>() == 400
    });
    assert_eq!(v.iter().map(|x| x.spawned).sum::<u32>(), 256);
    assert_eq!(s.device_spawned().unwrap(), 256);
    s.settle(patience()).unwrap();
    let host_cap = s.config().host_capacity();
    let kids: Vec<kit::CounterState> = s.read_states(host_cap, 256).unwrap();
    assert!(
        kids.iter().all(|k| k.count == 1),
        "every child got its message"
    );
    let t = s.totals().unwrap();
    assert_eq!(t.spawned, 256);
    s.shutdown().unwrap();
}

/// Messages circulating among FLOOD actors keep flowing, and none is lost or duplicated: after
/// the kernel stops, the messages still owed plus those still in mailboxes are exactly the ones
/// injected.
#[test]
fn a_flood_keeps_circulating_and_conserves_every_message() {
    let n = 512u32;
    let (ignite, fanout) = (64u32, 32u32);
    let mut s = swarm(SwarmConfig {
        capacity: n,
        device_spawns: 0,
        mailbox_slots: 4,
        state_bytes: kit::SMALL_STATE,
        ..SwarmConfig::default()
    });
    s.spawn_many(types::FLOOD, n, |_, _| {}).unwrap();
    for k in 0..ignite {
        s.tell(
            k * (n / ignite),
            start([u64::from(fanout), u64::from(n), 0]),
        )
        .unwrap();
    }
    let pause = Duration::from_millis(if small() { 1500 } else { 200 });
    std::thread::sleep(pause);
    let t1 = s.totals().unwrap();
    std::thread::sleep(pause);
    let t2 = s.totals().unwrap();
    let end = s.halt().unwrap();
    let headers = s.read_headers(0, n).unwrap();
    let states: Vec<kit::FloodState> = s.read_states(0, n).unwrap();
    let owed: u64 = states.iter().map(|f| u64::from(f.owed)).sum();
    let queued: u64 = headers.iter().map(|h| h.tail - h.head).sum();
    let diag = format!(
        "t1 {t1:?}\nt2 {t2:?}\nend {end:?}\nowed {owed} queued {queued} pending>0 {} yielded {}",
        headers.iter().filter(|h| h.pending != 0).count(),
        headers.iter().filter(|h| h.yielded != 0).count()
    );
    assert!(
        t2.processed > t1.processed + 1000,
        "the flood stalled:\n{diag}"
    );
    assert_eq!(
        owed + queued,
        u64::from(ignite * fanout),
        "lost or duplicated:\n{diag}"
    );
}

/// A bulk spawn larger than the host's 64 MiB staging piece: every state lands at its id, and
/// the actors on either side of each piece's edge are live and served.
#[test]
fn bulk_spawns_past_one_staging_piece_place_every_state() {
    // 300,000 states of 256 bytes: 77 MB, two pieces of 262,144 actors' states at most.
    const N: u32 = 300_000;
    const WORDS: usize = 32;
    let s = swarm(SwarmConfig {
        capacity: N.next_power_of_two(),
        device_spawns: 0,
        mailbox_slots: 4,
        state_bytes: WORDS * 8,
        ..SwarmConfig::default()
    });
    let ids = s
        .spawn_many(types::COUNTER, N, |id, st| {
            // The counter's count is word 0; the last word marks the whole state's place.
            st[..8].copy_from_slice(&u64::from(id).to_le_bytes());
            st[(WORDS - 1) * 8..].copy_from_slice(&(!u64::from(id)).to_le_bytes());
        })
        .unwrap();
    assert_eq!(ids, 0..N);
    let v: Vec<[u64; WORDS]> = s.read_states(0, N).unwrap();
    for (id, w) in (0u64..).zip(&v) {
        assert_eq!((w[0], w[WORDS - 1]), (id, !id), "actor {id}");
    }
    let edge = (64u32 << 20) / (WORDS as u32 * 8);
    for id in [0, edge - 1, edge, edge + 1, N - 1] {
        let r = s
            .ask(id, SwarmMsg::new(kinds::DATA, [7, 0, 0]), patience())
            .unwrap();
        assert_eq!((r.from, r.words[0], r.words[1]), (id, u64::from(id) + 1, 7));
    }
    s.shutdown().unwrap();
}

/// A million global-tier actors, spawned in one bulk copy, each sent one message by the host:
/// every one of them is scheduled and served exactly once.
#[test]
fn a_million_live_actors_each_take_their_message() {
    let n: u32 = if small() { 20_000 } else { 1_000_000 };
    let s = swarm(SwarmConfig {
        capacity: n.next_power_of_two(),
        device_spawns: 0,
        mailbox_slots: 4,
        state_bytes: kit::SMALL_STATE,
        h2d_slots: 1 << 16,
        ..SwarmConfig::default()
    });
    let ids = s.spawn_many(types::COUNTER, n, |_, _| {}).unwrap();
    for id in ids {
        s.tell(id, SwarmMsg::new(kinds::DATA, [u64::from(id), 0, 0]))
            .unwrap();
    }
    let t = s.settle(Duration::from_secs(60)).unwrap();
    assert_eq!(t.processed, u64::from(n));
    let v: Vec<kit::CounterState> = s.read_states(0, n).unwrap();
    for (id, c) in v.iter().enumerate() {
        assert_eq!((c.count, c.sum), (1, id as u64), "actor {id}");
    }
    s.shutdown().unwrap();
}

fn ping_pair(s: &Swarm, local: Option<(u32, u32)>) -> (u32, u32) {
    let b = match local {
        Some((_, block_b)) => s.spawn_local(block_b, types::PING, &[]).unwrap(),
        None => s.spawn(types::PING, &[]).unwrap(),
    };
    let st = kit::PingState {
        partner: b,
        ..Default::default()
    };
    let a = match local {
        Some((block_a, _)) => s
            .spawn_local(block_a, types::PING, bytemuck::bytes_of(&st))
            .unwrap(),
        None => s.spawn(types::PING, bytemuck::bytes_of(&st)).unwrap(),
    };
    (a, b)
}

/// Cluster-tier actors on two blocks of one cluster ping-pong through DSMEM; a pair on
/// different clusters goes through the forward inbox instead; global-tier actors through their
/// mailboxes. Every message of every rally arrives.
#[test]
fn cluster_tier_actors_exchange_messages_through_dsmem() {
    let s = swarm(SwarmConfig {
        local_per_block: 2,
        cluster: 2,
        ..small_config()
    });
    assert!(s.blocks() >= 4, "needs two clusters");
    let trips = if small() { 50 } else { 2000 };
    let (a, b) = ping_pair(&s, Some((0, 1)));
    assert_eq!((s.home_block(a), s.home_block(b)), (0, 1));
    let before = s.totals().unwrap().dsmem;
    let r = rally(&s, a, trips);
    assert_eq!(r.count, trips);
    // Settled, not just done: the last sender's warp adds its counters after the reply lands.
    let dsmem = s.settle(patience()).unwrap().dsmem - before;
    // The start came from the host (forward inbox); all 2 x trips rally messages crossed DSMEM.
    assert_eq!(
        dsmem,
        2 * trips,
        "messages between cluster-tier actors of one cluster"
    );
    let (c, d) = ping_pair(&s, Some((0, 2)));
    let r = rally(&s, c, trips);
    assert_eq!(r.count, trips);
    assert_eq!(
        s.settle(patience()).unwrap().dsmem - before,
        2 * trips,
        "no DSMEM across clusters"
    );
    let _ = d;
    let (e, _) = ping_pair(&s, None);
    assert_eq!(rally(&s, e, trips).count, trips);
    s.shutdown().unwrap();
}

/// All load on the actors of one block: without stealing only that block works; with
/// stealing the other blocks take batches from its queue.
#[test]
fn idle_blocks_steal_from_a_hot_block() {
    let mut results = Vec::new();
    for steal in [Steal::Off, Steal::Grid] {
        let s = swarm(SwarmConfig {
            capacity: 1 << 14,
            device_spawns: 0,
            steal,
            ..small_config()
        });
        let blocks = s.blocks();
        let n = 1 << 14;
        s.spawn_many(types::FLOOD, n, |_, _| {}).unwrap();
        // Ignite actors homed on block 0; every forward goes to an actor homed on block 0.
        for k in 0..64u32 {
            let id = k * blocks;
            s.tell(id, start([16, u64::from(n), 1 | (u64::from(blocks) << 32)]))
                .unwrap();
        }
        std::thread::sleep(Duration::from_millis(if small() { 2000 } else { 300 }));
        let per_block = s.block_stats().unwrap();
        s.shutdown().unwrap();
        let helpers = per_block[1..].iter().filter(|b| b.turns > 0).count();
        let stolen: u64 = per_block
            .iter()
            .map(|b| b.grid_steals + b.cluster_steals)
            .sum();
        results.push((steal, helpers, stolen, per_block[0].turns));
    }
    let (_, off_helpers, off_stolen, _) = results[0];
    let (_, on_helpers, on_stolen, _) = results[1];
    assert_eq!(
        (off_helpers, off_stolen),
        (0, 0),
        "without stealing: {results:?}"
    );
    assert!(
        on_helpers > 1 && on_stolen > 0,
        "with stealing: {results:?}"
    );
}
