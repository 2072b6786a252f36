//! GPU tests of in-place restarts inside the persistent kernel, lifecycle events, restart of a
//! stopped actor and the watchdog/signals of the CUDA backend. They need an NVIDIA GPU and fail
//! loudly without one (build with `--features gpu-tests`; run with `--test-threads=1`).

#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::{Add, Counter, Slow, Total, Work};
use ringkernel_core::events::ActorEvent;
use ringkernel_core::supervision::Intensity;
use ringkernel_core::{
    ActorBackend, ActorId, ActorVTable, AskError, Envelope, HandlerError, LifecycleState,
    SpawnError, SpawnOptions,
};
use ringkernel_cuda::{CudaBackend, CudaConfig};

const T: Duration = Duration::from_secs(10);
const COUNTER: usize = 0;
const SLOW: usize = 1;
/// Counter's failing message (its handler returns 7).
const FAIL: Add = Add { n: u64::MAX };

fn backend(config: CudaConfig) -> CudaBackend {
    let types = [
        ActorVTable::of::<Counter>().unwrap(),
        ActorVTable::of::<Slow>().unwrap(),
    ];
    CudaBackend::new(&types, config)
        .unwrap_or_else(|e| panic!("this test needs a usable NVIDIA GPU: {e}"))
}

fn ask(b: &CudaBackend, to: ActorId, m: Add) -> Result<Total, AskError> {
    let env = Envelope::new(ActorId::HOST, to, &m).unwrap();
    Ok(b.ask(env).unwrap().wait(T)?.read::<Total>().unwrap())
}

fn tell(b: &CudaBackend, to: ActorId, m: Add) {
    b.tell(Envelope::new(ActorId::HOST, to, &m).unwrap())
        .unwrap();
}

fn policy(max_restarts: u32, period: Duration) -> SpawnOptions {
    SpawnOptions::default().restart(Intensity {
        max_restarts,
        period,
    })
}

/// Waits until `n` events arrived (or the deadline).
fn events(b: &CudaBackend, n: usize) -> Vec<ActorEvent> {
    let q = b.events().unwrap();
    let mut got = Vec::new();
    let until = Instant::now() + T;
    while got.len() < n && Instant::now() < until {
        got.extend(q.wait(Duration::from_millis(50)));
    }
    got
}

#[test]
fn a_failed_handler_restarts_inside_the_kernel_and_the_queue_behind_it_runs_on_the_image() {
    let b = backend(CudaConfig::default());
    let a = b
        .spawn_with(
            COUNTER,
            bytemuck::bytes_of(&Total { sum: 100, count: 0 }),
            &policy(2, Duration::from_secs(60)),
        )
        .unwrap();
    assert_eq!(ask(&b, a, Add { n: 5 }).unwrap().sum, 105);
    // The failing tell, then messages right behind it in the same mailbox.
    tell(&b, a, FAIL);
    tell(&b, a, Add { n: 1 });
    let r = ask(&b, a, Add { n: 1 }).unwrap();
    assert_eq!(r, Total { sum: 102, count: 2 }, "image 100 + 1 + 1");
    assert_eq!(b.state_of(a), Some(LifecycleState::Active));
    assert_eq!(
        events(&b, 1),
        vec![ActorEvent::Restarted {
            actor: a,
            error: HandlerError(7)
        }]
    );
    // A failing ask gets its error; the actor restarted before the reply left the GPU.
    assert_eq!(
        ask(&b, a, FAIL),
        Err(AskError::HandlerFailed {
            actor: a,
            error: HandlerError(7)
        })
    );
    assert_eq!(ask(&b, a, Add { n: 7 }).unwrap().sum, 107);
    assert_eq!(b.state_of(a), Some(LifecycleState::Active));
    // Third failure inside the window: the policy is spent, the actor fails.
    tell(&b, a, FAIL);
    let evs = events(&b, 2);
    assert_eq!(
        evs.last(),
        Some(&ActorEvent::Failed {
            actor: a,
            error: HandlerError(7)
        }),
        "{evs:?}"
    );
    assert_eq!(b.state_of(a), Some(LifecycleState::Failed));
    // A host restart starts a new incarnation: new image, fresh window.
    b.restart(
        a,
        bytemuck::bytes_of(&Total {
            sum: 1000,
            count: 0,
        }),
    )
    .unwrap();
    tell(&b, a, FAIL);
    assert_eq!(ask(&b, a, Add { n: 1 }).unwrap().sum, 1001);
    assert_eq!(b.events().unwrap().failures(), 4);
    let report = b.shutdown(T).unwrap();
    assert_eq!(report.dropped, 0);
}

#[test]
fn repeated_in_place_restarts_each_restore_the_image() {
    let b = backend(CudaConfig::default());
    let a = b
        .spawn_with(
            COUNTER,
            bytemuck::bytes_of(&Total { sum: 50, count: 0 }),
            &policy(8, Duration::from_millis(1)),
        )
        .unwrap();
    for i in 0..200 {
        // Work on the state first, so a restore has something to undo.
        for _ in 0..3 {
            tell(&b, a, Add { n: 1 });
        }
        tell(&b, a, FAIL);
        let r = ask(&b, a, Add { n: 2 }).unwrap();
        assert_eq!(r, Total { sum: 52, count: 1 }, "iteration {i}");
        // At most 8 restarts per 1 ms window.
        std::thread::sleep(Duration::from_micros(200));
    }
    assert_eq!(b.state_of(a), Some(LifecycleState::Active));
}

#[test]
fn the_restart_window_slides() {
    let b = backend(CudaConfig::default());
    let a = b
        .spawn_with(
            COUNTER,
            bytemuck::bytes_of(&Total::default()),
            &policy(1, Duration::from_millis(50)),
        )
        .unwrap();
    for _ in 0..3 {
        assert!(ask(&b, a, FAIL).is_err());
        // Restarted in place each time: the previous restart left the 50 ms window.
        assert_eq!(ask(&b, a, Add { n: 1 }).unwrap().count, 1);
        std::thread::sleep(Duration::from_millis(80));
    }
    // Two failures inside one window: the second fails the actor.
    assert!(ask(&b, a, FAIL).is_err());
    assert!(ask(&b, a, FAIL).is_err());
    assert_eq!(b.state_of(a), Some(LifecycleState::Failed));
}

#[test]
fn without_a_policy_failure_is_an_event_and_a_stopped_actor_restarts() {
    let b = backend(CudaConfig::default());
    let a = b
        .spawn(COUNTER, bytemuck::bytes_of(&Total::default()))
        .unwrap();
    tell(&b, a, FAIL);
    assert_eq!(
        events(&b, 1),
        vec![ActorEvent::Failed {
            actor: a,
            error: HandlerError(7)
        }]
    );
    let c = b
        .spawn(COUNTER, bytemuck::bytes_of(&Total::default()))
        .unwrap();
    assert_eq!(ask(&b, c, Add { n: 2 }).unwrap().sum, 2);
    b.stop(c).unwrap();
    assert_eq!(events(&b, 1), vec![ActorEvent::Terminated { actor: c }]);
    assert_eq!(b.state_of(c), Some(LifecycleState::Terminated));
    // Restart of the stopped actor in the same block: new state, takes messages again.
    b.restart(c, bytemuck::bytes_of(&Total { sum: 10, count: 0 }))
        .unwrap();
    assert_eq!(ask(&b, c, Add { n: 1 }).unwrap().sum, 11);
    let report = b.shutdown(T).unwrap();
    assert_eq!(report.dropped, 0);
}

#[test]
fn a_policy_beyond_the_tracked_bound_is_a_typed_error() {
    let b = backend(CudaConfig::default());
    let r = b.spawn_with(
        COUNTER,
        bytemuck::bytes_of(&Total::default()),
        &policy(9, Duration::from_secs(1)),
    );
    assert_eq!(r, Err(SpawnError::RestartPolicy { asked: 9, max: 8 }));
}

#[test]
fn the_watchdog_reports_a_hung_handler_and_liveness_drops() {
    let b = backend(CudaConfig {
        watchdog: Duration::from_millis(200),
        blocks: Some(4),
        ..CudaConfig::default()
    });
    let a = b
        .spawn(SLOW, bytemuck::bytes_of(&Total::default()))
        .unwrap();
    let first = b.signals();
    assert!(first.hung.is_empty());
    let (free, total) = first.device_memory.unwrap();
    assert!(free > 0 && free <= total);
    assert!(first.allocated > 0);
    // Let the watch see every block beating.
    std::thread::sleep(Duration::from_millis(20));
    let live = b.signals().liveness.unwrap();
    assert!(live.is_live(), "{live:?}");
    b.tell(Envelope::new(ActorId::HOST, a, &Work { ns: 1_500_000_000 }).unwrap())
        .unwrap();
    let until = Instant::now() + T;
    let s = loop {
        let s = b.signals();
        if !s.hung.is_empty() || Instant::now() > until {
            break s;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(s.hung.len(), 1, "{:?}", s.hung);
    assert_eq!(s.hung[0].0, a);
    assert!(s.hung[0].1 >= Duration::from_millis(200));
    let live = s.liveness.unwrap();
    assert_eq!(live.live_blocks, live.blocks - 1, "{live:?}");
    // It finishes: beating again, nothing hung.
    let until = Instant::now() + T;
    loop {
        let s = b.signals();
        if s.hung.is_empty() && s.liveness.unwrap().is_live() {
            break;
        }
        assert!(Instant::now() < until, "the block never beat again");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_live_snapshot_is_the_state_after_exactly_the_messages_before_it() {
    let b = backend(CudaConfig::default());
    let a = b
        .spawn(COUNTER, bytemuck::bytes_of(&Total { sum: 3, count: 0 }))
        .unwrap();
    let other = b
        .spawn(COUNTER, bytemuck::bytes_of(&Total::default()))
        .unwrap();
    for round in 0..20u64 {
        for i in 1..=50 {
            tell(&b, a, Add { n: i });
        }
        // No wait: the request queues behind the 50 tells.
        let snap = b.snapshot(&[a]).unwrap().remove(0);
        let t: Total = bytemuck::pod_read_unaligned(&snap.state);
        assert_eq!(t.count, 50 * (round + 1), "round {round}");
        assert_eq!(t.sum, 3 + 1275 * (round + 1));
        assert!(snap.mailbox.is_empty());
    }
    // The actor kept serving throughout.
    assert_eq!(ask(&b, a, Add { n: 0 }).unwrap().count, 1001);
    let both = b.snapshot(&[a, other]).unwrap();
    assert_eq!(both.len(), 2);
    assert_eq!(b.actors(), vec![a, other]);
    assert!(matches!(
        b.snapshot(&[ActorId::from_raw(99)]),
        Err(ringkernel_core::SnapshotError::UnknownActor(_))
    ));
    // Restore into a new kernel, same ids.
    b.shutdown(T).unwrap();
    let b2 = backend(CudaConfig::default());
    for s in &both {
        b2.restore(COUNTER, s).unwrap();
    }
    assert_eq!(ask(&b2, a, Add { n: 0 }).unwrap().count, 1002);
    assert_eq!(b2.state_of(other), Some(LifecycleState::Active));
    // One persistent kernel at a time: a second one would wait for the first one's blocks.
    b2.shutdown(T).unwrap();
    let off = backend(CudaConfig {
        snapshots: false,
        ..CudaConfig::default()
    });
    let c = off
        .spawn(COUNTER, bytemuck::bytes_of(&Total::default()))
        .unwrap();
    assert!(matches!(
        off.snapshot(&[c]),
        Err(ringkernel_core::SnapshotError::Unsupported(_))
    ));
}

#[test]
fn out_of_device_memory_is_a_typed_error_and_the_gpu_stays_usable() {
    // K2K inboxes of 2^24 slots for 132 blocks (and their snapshot slots): hundreds of GB.
    let types = [
        ActorVTable::of::<Counter>().unwrap(),
        ActorVTable::of::<Slow>().unwrap(),
    ];
    let huge = CudaConfig {
        k2k_capacity: 1 << 24,
        ..CudaConfig::default()
    };
    match CudaBackend::new(&types, huge) {
        Err(ringkernel_cuda::CudaError::OutOfMemory { bytes, free }) => {
            assert!(bytes > free, "{bytes} > {free}");
        }
        other => panic!("expected OutOfMemory, got {other:?}"),
    }
    // Not sticky: a runtime of normal size starts and serves on the same GPU.
    let b = backend(CudaConfig::default());
    let a = b
        .spawn(COUNTER, bytemuck::bytes_of(&Total::default()))
        .unwrap();
    assert_eq!(ask(&b, a, Add { n: 5 }).unwrap().sum, 5);
}
