//! GPU tests of actor-to-actor messaging on the device (K2K): delivery, per-pair FIFO, credits,
//! causal HLC order along chains, dead letters. They need an NVIDIA GPU and fail loudly without
//! one (build with `--features gpu-tests`; run with `--test-threads=1`).

// Helpers outside #[test] fns unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use ringkernel_core::{
    ActorBackend, ActorId, ActorVTable, DeadLetterReason, Envelope, HlcTimestamp, SendError,
};
use ringkernel_cuda::layout::k2k;
use ringkernel_cuda::peer::{kind, Peer, PeerMsg, PeerState, PeerSummary};
use ringkernel_cuda::{CudaBackend, CudaConfig};

const T: Duration = Duration::from_secs(10);

/// Under compute-sanitizer (RK_GPU_TEST_SMALL set) the volume tests shrink: same paths, fewer
/// messages.
fn small() -> bool {
    std::env::var_os("RK_GPU_TEST_SMALL").is_some()
}

fn backend(config: CudaConfig) -> CudaBackend {
    let types = [ActorVTable::of::<Peer>().unwrap()];
    CudaBackend::new(&types, config)
        .unwrap_or_else(|e| panic!("this test needs a usable NVIDIA GPU: {e}"))
}

fn spawn_peers(b: &CudaBackend, n: u32, next: impl Fn(u32) -> u32) -> Vec<ActorId> {
    (0..n)
        .map(|i| {
            let s = PeerState::new(next(i), n, 0x9E37_79B9 + u64::from(i));
            let id = b.spawn(0, bytemuck::bytes_of(&s)).unwrap();
            // Peers address each other by raw id: a fresh runtime hands out 0, 1, 2, ...
            assert_eq!(id.raw(), i);
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

fn ask(b: &CudaBackend, to: ActorId, m: PeerMsg) -> PeerSummary {
    let env = Envelope::new(ActorId::HOST, to, &m).unwrap();
    b.ask(env).unwrap().wait(T).unwrap().read().unwrap()
}

fn tell(b: &CudaBackend, to: ActorId, m: PeerMsg) {
    let since = Instant::now();
    loop {
        match b.tell(Envelope::new(ActorId::HOST, to, &m).unwrap()) {
            Ok(()) => return,
            Err(SendError::Full(_)) if since.elapsed() < T => std::thread::yield_now(),
            Err(e) => panic!("tell failed: {e}"),
        }
    }
}

fn query(b: &CudaBackend, ids: &[ActorId]) -> Vec<PeerSummary> {
    ids.iter()
        .map(|&a| ask(b, a, msg(kind::QUERY, 0, 0, 0)))
        .collect()
}

/// Polls until `done` holds for the peers' summaries, or panics after `limit`.
fn wait_until(
    b: &CudaBackend,
    ids: &[ActorId],
    limit: Duration,
    done: impl Fn(&[PeerSummary]) -> bool,
) -> Vec<PeerSummary> {
    let until = Instant::now() + limit;
    loop {
        let s = query(b, ids);
        if done(&s) {
            return s;
        }
        assert!(Instant::now() < until, "K2K traffic did not settle: {s:?}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn relay_chain_delivers_every_hop_in_causal_hlc_order() {
    let b = backend(CudaConfig::default());
    const P: u32 = 8;
    let ids = spawn_peers(&b, P, |i| (i + 1) % P);
    // One pass along the chain 0 -> 1 -> ... -> 7: each peer receives exactly once.
    let sent_at = ask(&b, ids[0], msg(kind::QUERY, 0, 0, 0));
    assert_eq!(sent_at.received, 0);
    let host_before = HlcTimestamp::from_raw(0);
    tell(&b, ids[0], msg(kind::RELAY, 0, 0, u64::from(P - 1)));
    let s = wait_until(&b, &ids[1..], T, |s| s.iter().all(|x| x.received == 1));
    // Each receive is stamped after the send that caused it, which is after the sender's own
    // receive: timestamps grow strictly along the chain.
    let stamps: Vec<u64> = s.iter().map(|x| x.last_ts).collect();
    assert!(stamps[0] > host_before.raw());
    assert!(
        stamps.windows(2).all(|w| w[0] < w[1]),
        "HLC not causal along the chain: {stamps:?}"
    );
    // Five more laps around the ring: every peer gets exactly five more, nothing lost.
    tell(&b, ids[0], msg(kind::RELAY, 0, 0, u64::from(5 * P)));
    let s = wait_until(&b, &ids, T, |s| {
        s.iter().map(|x| x.received).sum::<u64>() == u64::from(P - 1 + 5 * P)
    });
    assert!(s
        .iter()
        .all(|x| x.errors == 0 && x.dead == 0 && x.fulls == 0));
    assert_eq!(s[0].received, 5);
    assert!(s[1..].iter().all(|x| x.received == 6), "{s:?}");
    assert_eq!(b.dead_letter_counts().total(), 0);
    b.shutdown(T).unwrap();
}

#[test]
fn random_traffic_under_credit_pressure_loses_and_duplicates_nothing() {
    // Four slots per inbox: senders run out of credits all the time.
    let b = backend(CudaConfig {
        k2k_capacity: 4,
        ..CudaConfig::default()
    });
    const P: u32 = 16;
    let per: u64 = if small() { 100 } else { 2_000 };
    let ids = spawn_peers(&b, P, |i| (i + 1) % P);
    for &a in &ids {
        tell(&b, a, msg(kind::SPRAY, 0, 0, per));
    }
    // Refused sends stay pending in each sender; nudging makes them retry (a handler never waits,
    // so nothing can deadlock even when every sender is out of credits at once).
    let until = Instant::now() + Duration::from_secs(60);
    let s = loop {
        let s = query(&b, &ids);
        let pending: u64 = s.iter().map(|x| x.pending).sum();
        let sent: u64 = s.iter().map(|x| x.sent).sum();
        let received: u64 = s.iter().map(|x| x.received).sum();
        if pending == 0 && sent == received {
            break s;
        }
        assert!(Instant::now() < until, "traffic did not drain: {s:?}");
        for &a in &ids {
            tell(&b, a, msg(kind::SPRAY, 0, 0, 0));
        }
        std::thread::sleep(Duration::from_micros(200));
    };
    let total = per * u64::from(P);
    assert_eq!(s.iter().map(|x| x.sent).sum::<u64>(), total);
    assert_eq!(s.iter().map(|x| x.received).sum::<u64>(), total);
    // Every receiver checked each sender's sequence: no gap, no repeat, no reordering.
    assert!(s.iter().all(|x| x.errors == 0), "{s:?}");
    assert!(s.iter().all(|x| x.dead == 0), "{s:?}");
    let fulls: u64 = s.iter().map(|x| x.fulls).sum();
    assert!(
        fulls > 0,
        "credits never ran out; the test did not exercise backpressure"
    );
    assert_eq!(b.dead_letter_counts().total(), 0);
    let report = b.shutdown(T).unwrap();
    assert_eq!(report.dropped, 0);
}

#[test]
fn undeliverable_sends_become_dead_letters_with_reason_sender_and_payload() {
    let b = backend(CudaConfig {
        k2k_capacity: 4,
        ..CudaConfig::default()
    });
    let ids = spawn_peers(&b, 3, |i| (i + 1) % 3);
    let (a, target, stopped) = (ids[0], ids[1], ids[2]);
    b.stop(stopped).unwrap();
    let until = Instant::now() + T;
    while b.state_of(stopped) != Some(ringkernel_core::LifecycleState::Terminated) {
        assert!(Instant::now() < until, "stop did not complete");
        std::thread::sleep(Duration::from_millis(1));
    }
    let raw = |to: u32, ty: u32, len: u64, policy: u32| {
        ask(
            &b,
            a,
            msg(
                kind::RAW,
                to,
                u64::from(ty),
                len | (u64::from(policy) << 32),
            ),
        )
    };
    let ty = 0x0D01;
    let size = std::mem::size_of::<PeerMsg>() as u64;
    raw(100, ty, size, k2k::ON_FULL_FAIL); // a block that never started an actor
    raw(1_000_000, ty, size, k2k::ON_FULL_FAIL); // beyond the grid
    raw(stopped.raw(), ty, size, k2k::ON_FULL_FAIL);
    raw(target.raw(), 0x0BAD, size, k2k::ON_FULL_FAIL); // wrong type
    raw(target.raw(), ty, size - 8, k2k::ON_FULL_FAIL); // wrong size
    let s = raw(target.raw(), ty, size, k2k::ON_FULL_FAIL); // fine
    assert_eq!((s.sent, s.dead), (1, 5), "{s:?}");
    // Keep the target busy so its 4-slot inbox fills, then burst 40 messages at it under the
    // dead-letter policy: exactly the ones without credit become dead letters.
    tell(&b, target, msg(kind::SPIN, 0, 0, 3_000_000));
    std::thread::sleep(Duration::from_micros(300));
    let s = ask(&b, a, msg(kind::BURST, target.raw(), 0, 40));
    let delivered = s.sent - 1;
    let full_dead = u64::from(s.dead) - 5;
    assert_eq!(delivered + full_dead, 40, "{s:?}");
    assert!(
        full_dead >= 36 - 4,
        "inbox of 4 should refuse most of the burst: {s:?}"
    );

    // Dead letters reach the host asynchronously: wait for all of them.
    let until = Instant::now() + T;
    while b.dead_letter_counts().total() < 5 + full_dead {
        assert!(
            Instant::now() < until,
            "dead letters missing: {:?}",
            b.dead_letter_counts()
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    let c = b.dead_letter_counts();
    assert_eq!(c.unknown_target, 2, "{c:?}");
    assert_eq!(c.stopped, 1, "{c:?}");
    assert_eq!(c.rejected, 2, "{c:?}");
    assert_eq!(c.full, full_dead, "{c:?}");
    let letters = b.drain_dead_letters();
    assert_eq!(letters.len() as u64, c.total());
    assert!(b.drain_dead_letters().is_empty(), "drain takes them");
    let first = &letters[0];
    assert_eq!(first.reason, DeadLetterReason::UnknownTarget);
    assert_eq!(first.envelope.sender(), a);
    assert_eq!(first.envelope.header.receiver, 100);
    let payload: PeerMsg = first.envelope.read().unwrap();
    assert_eq!(payload.kind, kind::DATA);
    assert!(first.recorded.raw() > first.envelope.header.hlc);
    assert_eq!(letters[2].reason, DeadLetterReason::Stopped);
    assert_eq!(letters[2].envelope.header.receiver, stopped.raw());
    assert_eq!(letters[3].reason, DeadLetterReason::Rejected);
    assert_eq!(letters[3].envelope.header.type_id, 0x0BAD);
    assert!(letters[5..]
        .iter()
        .all(|d| d.reason == DeadLetterReason::Full && d.envelope.header.receiver == target.raw()));
    // The burst's dead letters carry its sequence numbers in order.
    let seqs: Vec<u64> = letters[5..]
        .iter()
        .map(|d| d.envelope.read::<PeerMsg>().unwrap().seq)
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    b.shutdown(T).unwrap();
}

#[test]
fn rally_between_two_device_actors_is_timed_on_the_device() {
    let b = backend(CudaConfig::default());
    let ids = spawn_peers(&b, 2, |i| 1 - i);
    let trips: u64 = if small() { 200 } else { 10_000 };
    tell(&b, ids[0], msg(kind::PING, 0, 0, trips));
    let s = wait_until(&b, &ids[..1], T * 3, |s| s[0].rally_ns != 0);
    let one_way_ns = s[0].rally_ns as f64 / (2 * trips) as f64;
    eprintln!("K2K one-way latency (device-timed, {trips} round trips): {one_way_ns:.0} ns");
    assert!(one_way_ns > 0.0);
    let both = query(&b, &ids);
    assert_eq!(both[0].received + both[1].received, 2 * trips);
    b.shutdown(T).unwrap();
}

/// Message of [`Hop`]: hops left.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C)]
struct HopMsg {
    left: u64,
}
impl ringkernel_core::Message for HopMsg {
    const TYPE_ID: ringkernel_core::MessageTypeId = ringkernel_core::MessageTypeId(0x0D11);
}

/// State of [`Hop`]: where to forward, and what it saw.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C)]
struct HopState {
    next: u64,
    seen: u64,
    last: u64,
    refused: u64,
}
impl ringkernel_core::Message for HopState {
    const TYPE_ID: ringkernel_core::MessageTypeId = ringkernel_core::MessageTypeId(0x0D12);
}

/// Forwards with `rk_k2k_tell_u64`, the function the transpiler's `k2k_tell_u64` intrinsic
/// emits (it takes the running handler's context from the runtime, not as an argument).
struct Hop;
impl ringkernel_core::Actor for Hop {
    const NAME: &'static str = "k2k-hop";
    type State = HopState;
    type Msg = HopMsg;
    type Reply = HopState;

    fn handle(
        state: &mut HopState,
        _msg: &HopMsg,
        _ctx: &ringkernel_core::Context,
    ) -> Result<HopState, ringkernel_core::HandlerError> {
        Ok(*state)
    }

    fn cuda_handler() -> Option<ringkernel_core::CudaHandler> {
        Some(ringkernel_core::CudaHandler {
            function: "hop_handle",
            state_type: "HopState",
            msg_type: "HopMsg",
            reply_type: "HopState",
            struct_defs: "struct HopMsg { unsigned long long left; };\n\
                          struct HopState { unsigned long long next, seen, last, refused; };",
            source: "__device__ int hop_handle(HopState* s, const HopMsg* m, HopState* r, const rk_ctx* ctx) {\n\
                       if (ctx->sender != RK_HOST_ID) { s->seen++; s->last = m->left; }\n\
                       if (m->left > 0 && m->left != ~0ull) {\n\
                         if (rk_k2k_tell_u64((unsigned)s->next, 0x0D11u, m->left - 1) != RK_K2K_OK) s->refused++;\n\
                       }\n\
                       *r = *s;\n  return 0;\n}",
        })
    }
}

#[test]
fn the_k2k_intrinsic_runtime_function_forwards_between_actors() {
    let types = [ActorVTable::of::<Hop>().unwrap()];
    let b = CudaBackend::new(&types, CudaConfig::default())
        .unwrap_or_else(|e| panic!("this test needs a usable NVIDIA GPU: {e}"));
    let a = b
        .spawn(
            0,
            bytemuck::bytes_of(&HopState {
                next: 1,
                ..HopState::default()
            }),
        )
        .unwrap();
    let c = b
        .spawn(
            0,
            bytemuck::bytes_of(&HopState {
                next: 0,
                ..HopState::default()
            }),
        )
        .unwrap();
    assert_eq!((a.raw(), c.raw()), (0, 1));
    b.tell(Envelope::new(ActorId::HOST, a, &HopMsg { left: 100 }).unwrap())
        .unwrap();
    let probe = HopMsg { left: u64::MAX };
    let until = Instant::now() + T;
    loop {
        let ask_state = |id| -> HopState {
            b.ask(Envelope::new(ActorId::HOST, id, &probe).unwrap())
                .unwrap()
                .wait(T)
                .unwrap()
                .read()
                .unwrap()
        };
        let (sa, sc) = (ask_state(a), ask_state(c));
        if sa.seen + sc.seen == 100 {
            // 100 hops alternate c, a, c, ...: c sees 99, 97, ..., 1 and a sees 98, ..., 0.
            assert_eq!((sa.seen, sc.seen), (50, 50));
            assert_eq!((sa.last, sc.last), (0, 1));
            assert_eq!(sa.refused + sc.refused, 0);
            break;
        }
        assert!(Instant::now() < until, "hops stalled: {sa:?} {sc:?}");
        std::thread::sleep(Duration::from_millis(1));
    }
    b.shutdown(T).unwrap();
}

#[test]
fn k2k_messages_left_in_inboxes_at_shutdown_are_reported_dropped() {
    let b = backend(CudaConfig::default());
    let ids = spawn_peers(&b, 2, |i| 1 - i);
    // Peer 1 sends 3 messages to peer 0 only after 30 ms; shutdown has stopped peer 0 by then
    // (its SHUTDOWN is queued first and it is idle), so they stay in its inbox.
    tell(&b, ids[1], msg(kind::LATE, ids[0].raw(), 30_000_000, 3));
    std::thread::sleep(Duration::from_millis(2));
    let report = b.shutdown(T).unwrap();
    assert_eq!(report.dropped, 3, "{report:?}");
}

#[test]
fn a_live_snapshot_saves_the_untaken_inbox_and_a_restore_delivers_it() {
    let b = backend(CudaConfig::default());
    let ids = spawn_peers(&b, 2, |i| 1 - i);
    let (target, sender) = (ids[0], ids[1]);
    // Keep the target's handler busy, let the sender fill its inbox, then ask for a snapshot:
    // the request queues behind the spin, and the block reaches it before taking the inbox
    // (it looked at the inbox before the spin began), so the 10 messages are untaken.
    tell(&b, target, msg(kind::SPIN, 0, 0, 300_000_000));
    std::thread::sleep(Duration::from_millis(20));
    let s = ask(&b, sender, msg(kind::BURST, target.raw(), 0, 10));
    assert_eq!(s.sent, 10, "{s:?}");
    std::thread::sleep(Duration::from_millis(20));
    let snaps = b.snapshot(&[target, sender]).unwrap();
    assert_eq!(snaps.len(), 2);
    let t = &snaps[0];
    assert_eq!((t.id, t.type_name.as_str()), (target, "k2k-peer"));
    assert_eq!(t.mailbox.len(), 10, "the untaken inbox messages");
    for (seq, env) in t.mailbox.iter().enumerate() {
        assert_eq!(env.sender(), sender);
        assert_eq!(env.read::<PeerMsg>().unwrap().seq, seq as u64);
    }
    let state: PeerState = bytemuck::pod_read_unaligned(&t.state);
    assert_eq!(
        state.sum.received, 0,
        "the cut is before the inbox messages"
    );
    // The original takes them right after the snapshot: nothing was lost or taken twice.
    let live = wait_until(&b, &[target], T, |s| s[0].received == 10);
    assert_eq!(live[0].errors, 0);

    // Restore both into a new kernel: the target gets its 10 messages again, in order.
    b.shutdown(T).unwrap();
    let b2 = backend(CudaConfig::default());
    for snap in &snaps {
        b2.restore(0, snap).unwrap();
    }
    let got = wait_until(&b2, &[target], T, |s| s[0].received == 10);
    assert_eq!(got[0].errors, 0, "{:?}", got[0]);
    assert_eq!(query(&b2, &[sender])[0].sent, 10);
    // Taken ids are refused.
    assert!(b2.restore(0, &snaps[0]).is_err());
    b2.shutdown(T).unwrap();
}
