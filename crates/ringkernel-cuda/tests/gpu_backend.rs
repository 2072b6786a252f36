//! GPU tests of the CUDA backend through the `ActorBackend` API. They need an NVIDIA GPU and fail
//! loudly without one (build with `--features gpu-tests`; run with `--test-threads=1` so each test
//! has the GPU's SMs to itself).

// Helpers outside #[test] fns unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Add, Counter, Seq, SeqState, Sequencer, Slow, Total, Work};
use ringkernel_core::{
    ActorBackend, ActorId, ActorVTable, AskError, Envelope, HandlerError, LifecycleState,
    SendError, SpawnError,
};
use ringkernel_cuda::{CudaBackend, CudaConfig, CudaError};

const T: Duration = Duration::from_secs(10);

fn types() -> Vec<ActorVTable> {
    vec![
        ActorVTable::of::<Counter>().unwrap(),
        ActorVTable::of::<Sequencer>().unwrap(),
        ActorVTable::of::<Slow>().unwrap(),
    ]
}
const COUNTER: usize = 0;
const SEQUENCER: usize = 1;
const SLOW: usize = 2;

fn backend(config: CudaConfig) -> CudaBackend {
    CudaBackend::new(&types(), config)
        .unwrap_or_else(|e| panic!("this test needs a usable NVIDIA GPU: {e}"))
}

fn spawn<S: bytemuck::Pod>(b: &CudaBackend, ty: usize, state: S) -> ActorId {
    b.spawn(ty, bytemuck::bytes_of(&state)).unwrap()
}

fn ask<M: ringkernel_core::Message, R: ringkernel_core::Message>(
    b: &CudaBackend,
    to: ActorId,
    m: M,
) -> Result<R, AskError> {
    let env = Envelope::new(ActorId::HOST, to, &m).unwrap();
    let reply = b.ask(env)?.wait(T)?;
    Ok(reply.read::<R>().unwrap())
}

fn tell<M: ringkernel_core::Message>(b: &CudaBackend, to: ActorId, m: M) -> Result<(), SendError> {
    b.tell(Envelope::new(ActorId::HOST, to, &m).unwrap())
}

/// Tells, retrying while the mailbox is full (backpressure), failing on anything else.
fn tell_retry<M: ringkernel_core::Message>(b: &CudaBackend, to: ActorId, m: M) -> u64 {
    let mut fulls = 0;
    loop {
        match tell(b, to, m) {
            Ok(()) => return fulls,
            Err(SendError::Full(_)) => {
                fulls += 1;
                std::thread::yield_now()
            }
            Err(e) => panic!("tell failed: {e}"),
        }
    }
}

#[test]
fn echo_and_stateful_counter() {
    let b = backend(CudaConfig::default());
    assert!(b.description().starts_with("cuda: "), "{}", b.description());
    let a = spawn(&b, COUNTER, Total { sum: 5, count: 0 });
    let r: Total = ask(&b, a, Add { n: 3 }).unwrap();
    assert_eq!(r, Total { sum: 8, count: 1 });
    for i in 1..=1000u64 {
        tell_retry(&b, a, Add { n: i });
    }
    let r: Total = ask(&b, a, Add { n: 0 }).unwrap();
    assert_eq!(
        r,
        Total {
            sum: 8 + 500_500,
            count: 1002
        }
    );
    let report = b.shutdown(T).unwrap();
    assert_eq!(report.processed, 1002);
    assert_eq!(report.dropped, 0);
}

#[test]
fn as_many_block_actors_as_fit_and_no_more() {
    let b = backend(CudaConfig::default());
    let n = b.blocks() as usize;
    let ids: Vec<ActorId> = (0..n)
        .map(|i| {
            spawn(
                &b,
                COUNTER,
                Total {
                    sum: i as u64,
                    count: 0,
                },
            )
        })
        .collect();
    assert_eq!(
        b.spawn(COUNTER, bytemuck::bytes_of(&Total::default())),
        Err(SpawnError::TooManyActors { limit: n })
    );
    for (i, id) in ids.iter().enumerate() {
        let r: Total = ask(&b, *id, Add { n: 1 }).unwrap();
        assert_eq!(r.sum, i as u64 + 1, "actor {i}");
    }
    b.shutdown(T).unwrap();
}

#[test]
fn a_grid_that_cannot_be_co_resident_is_a_typed_error() {
    let err = CudaBackend::new(
        &types(),
        CudaConfig {
            blocks: Some(1 << 20),
            ..CudaConfig::default()
        },
    )
    .unwrap_err();
    assert!(
        matches!(err, CudaError::TooManyBlocks { requested, max, .. } if requested == 1 << 20 && max < requested),
        "{err}"
    );
}

#[test]
fn largest_co_resident_grid_runs() {
    // Find the limit from the error, then launch exactly that many blocks.
    let max = match CudaBackend::new(
        &types(),
        CudaConfig {
            blocks: Some(u32::MAX),
            ..CudaConfig::default()
        },
    ) {
        Err(CudaError::TooManyBlocks { max, .. }) => max,
        other => panic!("expected TooManyBlocks, got {other:?}"),
    };
    let b = backend(CudaConfig {
        blocks: Some(max),
        ..CudaConfig::default()
    });
    let first = spawn(&b, COUNTER, Total::default());
    let mut last = first;
    for _ in 1..max {
        last = spawn(&b, COUNTER, Total::default());
    }
    let r: Total = ask(&b, last, Add { n: 9 }).unwrap();
    assert_eq!(r.sum, 9);
    let r: Total = ask(&b, first, Add { n: 4 }).unwrap();
    assert_eq!(r.sum, 4);
    b.shutdown(T).unwrap();
}

#[test]
fn per_sender_fifo_from_many_threads() {
    let b = Arc::new(backend(CudaConfig::default()));
    let a = spawn(&b, SEQUENCER, SeqState::default());
    const PER: u64 = 20_000;
    let threads: Vec<_> = (0..8u32)
        .map(|lane| {
            let b = b.clone();
            std::thread::spawn(move || {
                let mut fulls = 0;
                for seq in 1..=PER {
                    fulls += tell_retry(&b, a, Seq { lane, _pad: 0, seq });
                }
                fulls
            })
        })
        .collect();
    let fulls: u64 = threads.into_iter().map(|t| t.join().unwrap()).sum();
    let r: SeqState = ask(
        &b,
        a,
        Seq {
            lane: 0,
            _pad: 0,
            seq: 0,
        },
    )
    .unwrap();
    assert_eq!(r.last, [PER; 8], "order broken or messages lost");
    assert_eq!(b.state_of(a), Some(LifecycleState::Active));
    eprintln!("per-sender FIFO: 8 x {PER} tells, {fulls} Full retries");
}

#[test]
fn concurrent_asks_from_many_threads() {
    let b = Arc::new(backend(CudaConfig::default()));
    let actors: Vec<ActorId> = (0..8)
        .map(|_| spawn(&b, COUNTER, Total::default()))
        .collect();
    let threads: Vec<_> = (0..16usize)
        .map(|t| {
            let b = b.clone();
            let a = actors[t % actors.len()];
            std::thread::spawn(move || {
                let mut last = 0;
                for _ in 0..2_000 {
                    let r: Total = ask(&b, a, Add { n: 1 }).unwrap();
                    // Two threads share each actor: its count only grows.
                    assert!(r.count > last);
                    last = r.count;
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    for a in actors {
        let r: Total = ask(&b, a, Add { n: 0 }).unwrap();
        assert_eq!(r.count, 4_001);
        assert_eq!(r.sum, 4_000);
    }
}

#[test]
fn random_payloads_match_the_cpu_reference() {
    let b = backend(CudaConfig::default());
    let vt = ActorVTable::of::<Counter>().unwrap();
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let actors: Vec<(ActorId, ringkernel_core::actor::StateBuf)> = (0..16)
        .map(|_| {
            let init = Total {
                sum: next(),
                count: 0,
            };
            (
                spawn(&b, COUNTER, init),
                ringkernel_core::actor::StateBuf::from_bytes(bytemuck::bytes_of(&init)),
            )
        })
        .collect();
    let mut actors = actors;
    for _ in 0..5_000 {
        let i = (next() % actors.len() as u64) as usize;
        let n = next() >> 1; // never u64::MAX, the failure trigger
        let env = Envelope::new(ActorId::HOST, actors[i].0, &Add { n }).unwrap();
        let ctx = ringkernel_core::Context {
            self_id: actors[i].0,
            sender: ActorId::HOST,
            timestamp: ringkernel_core::HlcTimestamp::ZERO,
        };
        // The same handler natively on the CPU is the reference.
        let expected = (vt.handle)(actors[i].1.bytes_mut(), &env, &ctx).unwrap();
        if next() % 4 == 0 {
            let got: Total = ask(&b, actors[i].0, Add { n }).unwrap();
            assert_eq!(got, expected.read::<Total>().unwrap());
        } else {
            tell_retry(&b, actors[i].0, Add { n });
        }
    }
    for (id, state) in &actors {
        let got: Total = ask(&b, *id, Add { n: 0 }).unwrap();
        let want: Total = bytemuck::pod_read_unaligned(state.bytes());
        assert_eq!(got.sum, want.sum);
        assert_eq!(got.count, want.count + 1);
    }
}

#[test]
fn failing_handler_fails_only_its_actor() {
    let b = backend(CudaConfig::default());
    let bad = spawn(&b, COUNTER, Total::default());
    let good = spawn(&b, COUNTER, Total::default());
    let err = ask::<Add, Total>(&b, bad, Add { n: u64::MAX }).unwrap_err();
    assert_eq!(
        err,
        AskError::HandlerFailed {
            actor: bad,
            error: HandlerError(7)
        }
    );
    assert_eq!(b.state_of(bad), Some(LifecycleState::Failed));
    assert_eq!(tell(&b, bad, Add { n: 1 }), Err(SendError::Stopped(bad)));
    let r: Total = ask(&b, good, Add { n: 2 }).unwrap();
    assert_eq!(r.sum, 2);
    // A failure on a tell is reported too.
    let bad2 = spawn(&b, COUNTER, Total::default());
    tell(&b, bad2, Add { n: u64::MAX }).unwrap();
    let deadline = std::time::Instant::now() + T;
    while b.state_of(bad2) != Some(LifecycleState::Failed) {
        assert!(
            std::time::Instant::now() < deadline,
            "failure notice never arrived"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn full_mailbox_gives_backpressure_and_loses_nothing() {
    let b = backend(CudaConfig {
        mailbox_capacity: 64,
        ..CudaConfig::default()
    });
    let a = spawn(&b, SLOW, Total::default());
    let mut accepted = 0u64;
    let mut fulls = 0u64;
    while fulls < 100 {
        match tell(&b, a, Work { ns: 20_000 }) {
            Ok(()) => accepted += 1,
            Err(SendError::Full(id)) => {
                assert_eq!(id, a);
                fulls += 1;
            }
            Err(e) => panic!("{e}"),
        }
    }
    // The mailbox is still full: the ask itself must wait for room (backpressure, not loss).
    let r: Total = loop {
        match ask(&b, a, Work { ns: 0 }) {
            Err(AskError::Send(SendError::Full(_))) => std::thread::yield_now(),
            other => break other.unwrap(),
        }
    };
    assert_eq!(r.count, accepted + 1, "accepted messages were lost");
}

#[test]
fn unknown_wrong_type_and_stopped_targets_are_typed_errors() {
    let b = backend(CudaConfig::default());
    let a = spawn(&b, COUNTER, Total::default());
    assert_eq!(
        tell(&b, ActorId::from_raw(4000), Add { n: 1 }),
        Err(SendError::UnknownActor(ActorId::from_raw(4000)))
    );
    assert!(matches!(
        tell(&b, a, Work { ns: 1 }),
        Err(SendError::WrongMessageType { .. })
    ));
    tell(&b, a, Add { n: 1 }).unwrap();
    b.stop(a).unwrap();
    assert_eq!(tell(&b, a, Add { n: 1 }), Err(SendError::Stopped(a)));
    let deadline = std::time::Instant::now() + T;
    while b.state_of(a) != Some(LifecycleState::Terminated) {
        assert!(std::time::Instant::now() < deadline, "stop never completed");
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(
        b.spawn(COUNTER, &[0u8; 3]),
        Err(SpawnError::BadState {
            len: 3,
            expected: 16
        })
    );
}

#[test]
fn shutdown_then_second_runtime_in_one_process() {
    let b = backend(CudaConfig::default());
    let a = spawn(&b, COUNTER, Total::default());
    for _ in 0..100 {
        tell_retry(&b, a, Add { n: 1 });
    }
    let report = b.shutdown(T).unwrap();
    assert_eq!(report.processed + report.dropped, 100);
    assert_eq!(tell(&b, a, Add { n: 1 }), Err(SendError::ShutDown));
    drop(b);
    let b2 = backend(CudaConfig::default());
    let a2 = spawn(&b2, COUNTER, Total::default());
    let r: Total = ask(&b2, a2, Add { n: 42 }).unwrap();
    assert_eq!(r.sum, 42);
}

#[test]
fn heartbeat_shows_a_live_kernel() {
    let b = backend(CudaConfig::default());
    let h = b.health(Duration::from_millis(20)).unwrap();
    assert!(h.is_live(), "{h:?}");
    b.shutdown(T).unwrap();
}

#[test]
fn a_hung_handler_is_reported_at_shutdown() {
    let b = backend(CudaConfig::default());
    let a = spawn(&b, SLOW, Total::default());
    // Two seconds of work: longer than the shutdown deadline below.
    tell(&b, a, Work { ns: 2_000_000_000 }).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    let err = b.shutdown(Duration::from_millis(200)).unwrap_err();
    assert!(
        matches!(err, ringkernel_core::ShutdownError::Hung(..)),
        "{err}"
    );
    // The kernel finishes the work and exits on its own; dropping must not hang or crash.
    std::thread::sleep(Duration::from_secs(3));
}

#[test]
fn reply_stamps_increase_along_the_causal_chain() {
    let b = backend(CudaConfig::default());
    let a = spawn(&b, COUNTER, Total::default());
    let mut last = ringkernel_core::HlcTimestamp::ZERO;
    for _ in 0..200 {
        let env = Envelope::new(ActorId::HOST, a, &Add { n: 1 }).unwrap();
        let reply = b.ask(env).unwrap().wait(T).unwrap();
        // Each ask is sent after the previous reply was merged into the host clock, so each
        // reply's stamp must exceed the previous one.
        assert!(
            reply.timestamp() > last,
            "{:?} after {:?}",
            reply.timestamp(),
            last
        );
        last = reply.timestamp();
    }
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    // The device's physical clock (%globaltimer) tracks Unix time closely enough to stay within
    // the skew bound.
    assert!(
        last.physical_ms().abs_diff(now_ms) < 1_000,
        "{last:?} vs {now_ms} ms"
    );
    assert_eq!(b.skewed_replies(), 0);
}

#[test]
fn batched_tells_keep_per_sender_fifo() {
    let b = Arc::new(backend(CudaConfig {
        mailbox_capacity: 64,
        ..CudaConfig::default()
    }));
    let a = spawn(&b, SEQUENCER, SeqState::default());
    const PER: u64 = 20_000;
    let threads: Vec<_> = (0..4u32)
        .map(|lane| {
            let b = b.clone();
            std::thread::spawn(move || {
                let envs: Vec<Envelope> = (1..=PER)
                    .map(|seq| {
                        Envelope::new(ActorId::HOST, a, &Seq { lane, _pad: 0, seq }).unwrap()
                    })
                    .collect();
                let mut rest = &envs[..];
                let mut partial = 0u64;
                while !rest.is_empty() {
                    let chunk = &rest[..rest.len().min(48)];
                    match b.tell_batch(chunk) {
                        Ok(n) => {
                            if n < chunk.len() {
                                partial += 1;
                            }
                            rest = &rest[n..];
                        }
                        Err(SendError::Full(_)) => std::thread::yield_now(),
                        Err(e) => panic!("{e}"),
                    }
                }
                partial
            })
        })
        .collect();
    let partial: u64 = threads.into_iter().map(|t| t.join().unwrap()).sum();
    let r: SeqState = loop {
        match ask(
            &b,
            a,
            Seq {
                lane: 0,
                _pad: 0,
                seq: 0,
            },
        ) {
            Err(AskError::Send(SendError::Full(_))) => std::thread::yield_now(),
            other => break other.unwrap(),
        }
    };
    assert_eq!(&r.last[..4], &[PER; 4], "order broken or messages lost");
    assert_eq!(b.state_of(a), Some(LifecycleState::Active));
    eprintln!("batched FIFO: 4 x {PER} tells in batches of 48, {partial} partial batches");
}

/// A failed block actor restarts in place (a new START in the running kernel, same id) with a
/// fresh state; only failed actors restart.
#[test]
fn a_failed_actor_restarts_in_place_without_a_relaunch() {
    let b = backend(CudaConfig::default());
    let a = spawn(&b, COUNTER, Total { sum: 40, count: 0 });
    assert!(matches!(
        b.restart(a, bytemuck::bytes_of(&Total::default())),
        Err(SpawnError::NotRestartable { .. })
    ));
    ask::<Add, Total>(&b, a, Add { n: u64::MAX }).unwrap_err();
    assert_eq!(b.state_of(a), Some(LifecycleState::Failed));
    b.restart(a, bytemuck::bytes_of(&Total { sum: 1, count: 0 }))
        .unwrap();
    assert_eq!(b.state_of(a), Some(LifecycleState::Active));
    let r: Total = ask(&b, a, Add { n: 2 }).unwrap();
    assert_eq!(r, Total { sum: 3, count: 1 });
    let report = b.shutdown(T).unwrap();
    assert_eq!(report.dropped, 0);
}
