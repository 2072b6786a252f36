//! GPU tests of the swarm's express path: pinned actors of an express type (kit XPING) whose
//! warps run the handler on all lanes. Rallies through DSMEM and device-memory channels, the
//! fallback to the general path (targets outside the pinned tier, stops), and dead letters after
//! an express actor stops itself. They need an NVIDIA GPU (sm_90) and fail loudly without one
//! (build with `--features gpu-tests`; run with `--test-threads=1`).

#![allow(clippy::unwrap_used)]

use ringkernel_core::DeadLetterReason::Stopped;
use ringkernel_cuda::swarm::kit::{self, kinds, types};
use ringkernel_cuda::swarm::layout::{status, HOST};
use ringkernel_cuda::swarm::{SwarmConfig, SwarmMsg};

mod swarm_common;
use swarm_common::{
    patience, pinned_pair, pinned_swarm, rally, small, small_config, start, swarm_of, wait_for,
};

/// Express pairs rally in one cluster (DSMEM) and across clusters (device memory): every
/// message arrives once, the DSMEM pair's and only those went through DSMEM, and the express
/// loops took all but the few that the general path handles while a pair starts (the host's
/// start, and each side's first send on a channel).
#[test]
fn express_pairs_rally_through_dsmem_and_device_memory_channels() {
    let trips = if small() { 200 } else { 20_000 };
    let s = pinned_swarm(6, 8, 2, kit::SMALL_STATE);
    let (a1, b1) = pinned_pair(&s, types::XPING, 0, 1);
    let (a2, b2) = pinned_pair(&s, types::XPING, 2, 5);
    for a in [a1, a2] {
        for round in 1..=2u32 {
            let st = rally(&s, a, trips);
            assert_eq!(st.done, round);
            assert_eq!(st.count, u64::from(round) * trips);
            assert!(st.t1 > st.t0);
        }
    }
    let t = s.settle(patience()).unwrap();
    for b in [b1, b2] {
        let partner: Vec<kit::PingState> = s.read_states(b, 1).unwrap();
        assert_eq!(partner[0].count, 2 * trips);
    }
    let messages = 2 * 2 * 2 * trips;
    assert_eq!(t.processed, messages + 4, "rallies plus the four starts");
    assert_eq!(
        t.dsmem,
        2 * 2 * trips,
        "the DSMEM pair's messages, and only those"
    );
    assert!(
        t.express <= messages && t.express + 16 >= messages,
        "express loops took {} of {messages} rally messages",
        t.express
    );
    // A rally has one partner per actor: the pair loop takes nearly all of it (the express
    // loop's own poll takes a message only where one lands on its beat).
    eprintln!("express {} of {messages}, pair loop {}", t.express, t.pair);
    assert!(
        t.pair <= t.express && t.pair * 10 >= t.express * 8,
        "the pair loop took {} of the express loops' {}",
        t.pair,
        t.express
    );
    assert_eq!(s.dead_letter_counts().total(), 0);
    s.shutdown().unwrap();
}

/// A pinned express actor whose partner is a scheduled actor: every answer leaves the pinned
/// tier and every message comes in through the mailbox, so the general path carries the whole
/// rally, exactly.
#[test]
fn express_actors_talk_to_scheduled_actors_through_the_general_path() {
    let trips = if small() { 100 } else { 5_000 };
    let s = pinned_swarm(2, 8, 2, kit::SMALL_STATE);
    let scheduled = s.spawn(types::XPING, &[]).unwrap();
    let st = kit::PingState {
        partner: scheduled,
        ..Default::default()
    };
    let a = s
        .spawn_pinned(1, types::XPING, bytemuck::bytes_of(&st))
        .unwrap();
    for round in 1..=2u32 {
        let st = rally(&s, a, trips);
        assert_eq!((st.done, st.count), (round, u64::from(round) * trips));
    }
    let t = s.settle(patience()).unwrap();
    let other: Vec<kit::PingState> = s.read_states(scheduled, 1).unwrap();
    assert_eq!(other[0].count, 2 * trips);
    assert_eq!(t.express, 0, "no message came through a channel");
    assert_eq!(s.dead_letter_counts().total(), 0);
    s.shutdown().unwrap();
}

/// An express actor that stops itself on a channel message (the rally's last, with word 1 set):
/// the express loop leaves that message to the general path, which runs the handler and the
/// stop; what is sent to the actor afterwards becomes a dead letter, from the host and from its
/// partner alike.
#[test]
fn an_express_actor_that_stops_itself_gets_dead_letters_afterwards() {
    let trips = if small() { 50 } else { 1_000 };
    let s = pinned_swarm(4, 8, 2, kit::SMALL_STATE);
    // Each one's partner is the other (pinned ids are the base plus the slot).
    let partner = |slot: u32| kit::PingState {
        partner: s.pinned_base() + slot,
        ..Default::default()
    };
    let b = s
        .spawn_pinned(3, types::XPING, bytemuck::bytes_of(&partner(2)))
        .unwrap();
    let a = s
        .spawn_pinned(2, types::XPING, bytemuck::bytes_of(&partner(3)))
        .unwrap();
    s.tell(a, start([trips, 1, 0])).unwrap();
    let st = wait_for(&s, a, 1, |v: &[kit::PingState]| v[0].done == 1)[0];
    assert_eq!(st.count, trips);
    let since = std::time::Instant::now();
    while s.read_headers(a, 1).unwrap()[0].status_code() != status::STOPPED {
        assert!(
            since.elapsed() < patience(),
            "the initiator did not stop itself"
        );
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    // Host to the stopped actor; and its partner, started, sending to it through their channel.
    s.tell(a, SwarmMsg::new(kinds::DATA, [7, 0, 0])).unwrap();
    s.tell(b, start([3, 0, 0])).unwrap();
    s.settle(patience()).unwrap();
    let dead: Vec<(u32, u32, u64, _)> = s
        .dead_letters()
        .iter()
        .map(|d| (d.from, d.to, d.words[0], d.reason))
        .collect();
    assert!(dead.contains(&(HOST, a, 7, Stopped)), "{dead:?}");
    assert!(dead.contains(&(b, a, 5, Stopped)), "{dead:?}");
    assert_eq!(dead.len(), 2, "{dead:?}");
    assert_eq!(
        s.read_states::<kit::PingState>(a, 1).unwrap()[0].count,
        trips
    );
    assert!(
        s.totals().unwrap().express > 0,
        "the rally went through the express loops"
    );
    // The host's stop of an actor that stopped itself does nothing (it used to wait out its
    // patience for the warp's `seen`, which the warp writes only for stops it is told of).
    let since = std::time::Instant::now();
    s.stop_actor(a).unwrap();
    assert!(since.elapsed() < patience() / 2, "{:?}", since.elapsed());
    s.shutdown().unwrap();
}

/// The express tests' swarm (the kit with XLANE and XASKER): 6 pinned slots on 8 blocks in
/// clusters of 2, so slots 0 and 1 share a cluster (DSMEM) and slots 2 and 5 do not.
fn lane_swarm() -> ringkernel_cuda::swarm::Swarm {
    swarm_of(
        &kit::lane_program(),
        SwarmConfig {
            pinned: 6,
            blocks: Some(8),
            cluster: 2,
            ..small_config()
        },
    )
}

/// Starts each (asker, target) pair's `asks` asks (ASKER or XASKER, one in flight) and waits
/// until every asker has every reply, each with its ask's correlation id and answer.
fn ask_and_check(s: &ringkernel_cuda::swarm::Swarm, askers: &[(u32, u32)], asks: u64) {
    for &(a, x) in askers {
        s.tell(a, start([u64::from(x), asks, 0])).unwrap();
    }
    for &(a, x) in askers {
        let v = wait_for(s, a, 1, |v: &[kit::AskerState]| {
            u64::from(v[0].ok + v[0].bad) == asks
        });
        assert_eq!(
            (u64::from(v[0].ok), v[0].bad, u64::from(v[0].next)),
            (asks, 0, asks),
            "asker {a} of {x}: {v:?}"
        );
    }
}

/// Express handlers whose answers differ between lanes (kit XLANE: the clock and the lane's
/// index in word 1, the same XORed with a key in word 2): the express paths send lane 0's
/// answer whole, so no message arrives as a mix of several lanes' words (a message's words
/// are stored by four lanes), through a DSMEM and a device-memory channel.
#[test]
fn express_answers_that_differ_between_lanes_arrive_whole() {
    let trips = if small() { 200 } else { 20_000 };
    let s = lane_swarm();
    let mut pairs = Vec::new();
    for (a, b) in [(0, 1), (2, 5)] {
        let pb = s.spawn_pinned(b, types::XLANE, &[]).unwrap();
        let st = kit::LaneState {
            partner: pb,
            ..Default::default()
        };
        let pa = s
            .spawn_pinned(a, types::XLANE, bytemuck::bytes_of(&st))
            .unwrap();
        s.tell(pa, start([trips, 0, 0])).unwrap();
        // The initiator gets the rally's last message.
        wait_for(&s, pa, 1, |v: &[kit::LaneState]| v[0].count >= trips);
        pairs.push((pa, pb));
    }
    let t = s.settle(patience()).unwrap();
    for (pa, pb) in pairs {
        for id in [pa, pb] {
            let st: Vec<kit::LaneState> = s.read_states(id, 1).unwrap();
            assert_eq!(st[0].count, trips, "actor {id}");
            assert_eq!(
                st[0].torn, 0,
                "actor {id} got messages made of several lanes' words"
            );
        }
    }
    let messages = 2 * 2 * trips;
    assert_eq!(t.processed, messages + 2, "rallies plus the two starts");
    eprintln!("express {} of {messages}, pair loop {}", t.express, t.pair);
    assert!(
        t.pair * 10 >= messages * 8,
        "the pair loop took {} of {messages}",
        t.pair
    );
    assert_eq!(s.dead_letter_counts().total(), 0);
    s.shutdown().unwrap();
}

/// Express handlers answer asks (kit XLANE answers as ECHO does, through `rk_sw_xreply`): the
/// host's asks to a pinned and to a scheduled express actor get their replies, and ASKERs that
/// ask one at a time get every reply with its correlation id: pinned askers through a DSMEM
/// and a device-memory channel (the first reply goes through the general path, which fills the
/// channel's table entry; the rest through the express loop's store), and a scheduled asker
/// through the express actor's mailbox.
#[test]
fn express_handlers_answer_asks_from_the_host_and_from_actors() {
    let asks: u64 = if small() { 50 } else { 1_000 };
    let s = lane_swarm();
    // Slots 0 and 1: blocks 0 and 1, one cluster; slots 2 and 5: blocks 2 and 5, two clusters.
    let x_dsmem = s.spawn_pinned(1, types::XLANE, &[]).unwrap();
    let x_global = s.spawn_pinned(5, types::XLANE, &[]).unwrap();
    let x_sched = s.spawn(types::XLANE, &[]).unwrap();
    for (x, w) in [(x_dsmem, 21u64), (x_global, 22), (x_sched, 23)] {
        let r = s
            .ask(x, SwarmMsg::new(kinds::DATA, [w, 5, 6]), patience())
            .unwrap();
        assert_eq!(
            (r.from, r.words),
            (x, [2 * w, 5, 6]),
            "the host's ask to {x}"
        );
    }
    let askers = [
        (s.spawn_pinned(0, types::ASKER, &[]).unwrap(), x_dsmem),
        (s.spawn_pinned(2, types::ASKER, &[]).unwrap(), x_global),
        (s.spawn(types::ASKER, &[]).unwrap(), x_sched),
    ];
    ask_and_check(&s, &askers, asks);
    let t = s.settle(patience()).unwrap();
    assert!(t.express > 0, "the pinned XLANEs' express loops took asks");
    assert_eq!(s.dead_letter_counts().total(), 0);
    s.shutdown().unwrap();
}

/// Express handlers ask (kit XASKER, `rk_sw_xask`: one ask in flight, the next when its reply is
/// in): pinned XASKERs ask pinned express XLANEs through a DSMEM and a device-memory channel,
/// ask and reply both taken by the express loops after the first, and a scheduled XASKER asks a
/// scheduled ECHO through their mailboxes; every reply comes back once, with its ask's
/// correlation id and answer.
#[test]
fn express_handlers_ask_and_get_every_reply() {
    let asks: u64 = if small() { 50 } else { 2_000 };
    let s = lane_swarm();
    let echo = s.spawn(types::ECHO, &[]).unwrap();
    let askers = [
        (
            s.spawn_pinned(0, types::XASKER, &[]).unwrap(),
            s.spawn_pinned(1, types::XLANE, &[]).unwrap(),
        ),
        (
            s.spawn_pinned(2, types::XASKER, &[]).unwrap(),
            s.spawn_pinned(5, types::XLANE, &[]).unwrap(),
        ),
        (s.spawn(types::XASKER, &[]).unwrap(), echo),
    ];
    ask_and_check(&s, &askers, asks);
    let t = s.settle(patience()).unwrap();
    // Every ask and every reply is a message; the three starts too.
    assert_eq!(t.processed, 3 * 2 * asks + 3);
    eprintln!(
        "express {} of {}, pair loop {}",
        t.express,
        4 * asks,
        t.pair
    );
    assert!(
        t.express > 0,
        "the pinned actors' express loops took asks and replies"
    );
    assert_eq!(s.dead_letter_counts().total(), 0);
    s.shutdown().unwrap();
}
