//! Budgets, degradation and health in the facade runtime, each driven through the real signal
//! path: a backend's `signals()` and event queue, sampled by the runtime's monitor.
//!
//! `Fake` is a backend whose signals the test sets; the CPU backend covers the memory accounting
//! of real actors. Every wait is a deadline-bounded poll (`eventually`), never a sleep that
//! assumes how fast the monitor runs.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{cpu_runtime, entered, eventually, gated, open, Add, Counter, GateActor, Total};
use ringkernel::budget::{LimitKind, MemoryEvent, Mitigation};
use ringkernel::degradation::{Signal, Transition};
use ringkernel::prelude::*;
use ringkernel::{
    ActorBackend, BackendSignals, BudgetError, EventQueue, MemoryPolicy, NotReady, ShutdownError,
    ShutdownReport, SpawnError, Thresholds, TreeId,
};
use ringkernel_core::events::ActorEvent;
use ringkernel_core::health::Liveness;
use ringkernel_core::{reply_pair, Envelope, PendingReply, ReplyOutcome};

const TICK: Duration = Duration::from_millis(1);
const NEVER: [f64; 4] = [f64::INFINITY; 4];

// ---------------------------------------------------------------- fake backend

/// A backend that accepts everything and reports the signals the test sets.
#[derive(Debug, Default)]
struct Fake {
    signals: Mutex<BackendSignals>,
    events: Arc<EventQueue>,
    next: AtomicU32,
    states: Mutex<HashMap<ActorId, LifecycleState>>,
    spawns: AtomicU64,
    tells: AtomicU64,
    samples: AtomicU64,
    stops: Mutex<Vec<ActorId>>,
    shut: AtomicBool,
}

impl Fake {
    fn set(&self, f: impl FnOnce(&mut BackendSignals)) {
        f(&mut self.signals.lock().unwrap());
    }

    fn accepts(&self, id: ActorId) -> Result<(), SendError> {
        match self.states.lock().unwrap().get(&id) {
            Some(LifecycleState::Active) => Ok(()),
            Some(_) => Err(SendError::Stopped(id)),
            None => Err(SendError::UnknownActor(id)),
        }
    }
}

impl ActorBackend for Fake {
    fn kind(&self) -> BackendKind {
        BackendKind::Cpu
    }
    fn description(&self) -> String {
        "fake".into()
    }
    fn spawn(&self, _: usize, _: &[u8]) -> Result<ActorId, SpawnError> {
        let id = ActorId::from_raw(self.next.fetch_add(1, Ordering::Relaxed));
        self.states
            .lock()
            .unwrap()
            .insert(id, LifecycleState::Active);
        self.spawns.fetch_add(1, Ordering::Relaxed);
        Ok(id)
    }
    fn tell(&self, env: Envelope) -> Result<(), SendError> {
        self.accepts(env.receiver())?;
        self.tells.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
    fn ask(&self, env: Envelope) -> Result<PendingReply, SendError> {
        self.accepts(env.receiver())?;
        let (slot, pending) = reply_pair(env.receiver());
        let reply = Envelope::new(env.receiver(), ActorId::HOST, &Total::default()).unwrap();
        slot.complete(ReplyOutcome::Reply(reply));
        Ok(pending)
    }
    fn stop(&self, id: ActorId) -> Result<(), SendError> {
        self.accepts(id)?;
        self.states
            .lock()
            .unwrap()
            .insert(id, LifecycleState::Terminated);
        self.stops.lock().unwrap().push(id);
        self.events.push(ActorEvent::Terminated { actor: id });
        Ok(())
    }
    fn restart(&self, id: ActorId, _: &[u8]) -> Result<(), SpawnError> {
        self.states
            .lock()
            .unwrap()
            .insert(id, LifecycleState::Active);
        Ok(())
    }
    fn state_of(&self, id: ActorId) -> Option<LifecycleState> {
        self.states.lock().unwrap().get(&id).copied()
    }
    fn shutdown(&self, _: Duration) -> Result<ShutdownReport, ShutdownError> {
        if self.shut.swap(true, Ordering::Relaxed) {
            return Err(ShutdownError::AlreadyShutDown);
        }
        Ok(ShutdownReport::default())
    }
    fn events(&self) -> Option<Arc<EventQueue>> {
        Some(self.events.clone())
    }
    fn signals(&self) -> BackendSignals {
        self.samples.fetch_add(1, Ordering::Relaxed);
        self.signals.lock().unwrap().clone()
    }
}

/// Queue fill thresholds 0.5 / 0.75 / 0.9 / 0.98, memory never, faults 2 / 4 / 1000 / 1000 per
/// second.
fn thresholds() -> Thresholds {
    Thresholds::new(
        [0.5, 0.75, 0.9, 0.98],
        NEVER,
        [2.0, 4.0, 1000.0, 1000.0],
        0.8,
    )
    .unwrap()
}

fn fake_runtime(fake: &Arc<Fake>, builder: ringkernel::RuntimeBuilder) -> Runtime {
    builder
        .register::<Counter>()
        .monitor_interval(TICK)
        .build_with_backend(fake.clone())
        .unwrap()
}

/// Waits until the monitor has sampled `n` more times.
fn samples(fake: &Fake, n: u64) {
    let start = fake.samples.load(Ordering::Relaxed);
    assert!(eventually(
        || fake.samples.load(Ordering::Relaxed) >= start + n
    ));
}

fn transitions(events: &[ResilienceEvent]) -> Vec<Transition> {
    events
        .iter()
        .filter_map(|e| match e {
            ResilienceEvent::LevelChanged(t) => Some(*t),
            _ => None,
        })
        .collect()
}

fn memory_events(events: &[ResilienceEvent]) -> Vec<MemoryEvent> {
    events
        .iter()
        .filter_map(|e| match e {
            ResilienceEvent::Memory(m) => Some(*m),
            _ => None,
        })
        .collect()
}

fn add(n: u64) -> Add {
    Add { n }
}

// ---------------------------------------------------------------- degradation

#[test]
fn queue_fill_throttles_sends_then_steps_down_one_level_per_hold() {
    let fake = Arc::new(Fake::default());
    let hold = Duration::from_millis(30);
    // 5 tokens and (practically) no refill: exactly 5 sends are admitted once throttled.
    let rt = fake_runtime(
        &fake,
        Runtime::builder()
            .degradation(thresholds(), hold)
            .admission(0.001, 5),
    );
    let a = rt.spawn::<Counter>(Total::default()).unwrap();
    for _ in 0..100 {
        a.tell(add(1)).unwrap(); // Normal: everything goes.
    }

    fake.set(|s| s.max_queue_fill = 0.8);
    assert!(eventually(|| rt.degradation_level() == Level::Throttled));
    assert_eq!(a.tell_batch(&[add(1); 3]), Ok(3));
    assert_eq!(a.tell_batch(&[add(1); 5]), Ok(2), "only a prefix admitted");
    assert_eq!(a.tell(add(1)), Err(SendError::Full(a.id())));
    assert_eq!(a.tell_batch(&[add(1); 2]), Err(SendError::Full(a.id())));
    assert_eq!(
        a.ask_blocking(add(1), Duration::from_secs(1)),
        Err(AskError::Send(SendError::Full(a.id())))
    );
    assert_eq!(fake.tells.load(Ordering::Relaxed), 105);
    assert_eq!(rt.shed_count(), 0, "throttling is not shedding");
    assert!(rt.health().ready, "throttled is still ready");

    let calm = Instant::now();
    fake.set(|s| s.max_queue_fill = 0.0);
    assert!(eventually(|| rt.degradation_level() == Level::Normal));
    assert!(calm.elapsed() >= 2 * hold, "two steps, each after a hold");
    let ts = transitions(&rt.resilience_events());
    let steps: Vec<_> = ts.iter().map(|t| (t.from, t.to, t.cause)).collect();
    assert_eq!(
        steps,
        vec![
            (Level::Normal, Level::Throttled, Some(Signal::QueueFill)),
            (Level::Throttled, Level::Reduced, None),
            (Level::Reduced, Level::Normal, None),
        ]
    );
    a.tell(add(1)).unwrap();
    assert_eq!(
        a.ask_blocking(add(1), Duration::from_secs(5)),
        Ok(Total::default())
    );
}

#[test]
fn pushed_failures_raise_the_level_through_the_fault_rate() {
    let fake = Arc::new(Fake::default());
    let rt = fake_runtime(
        &fake,
        Runtime::builder().degradation(thresholds(), Duration::from_secs(60)),
    );
    let a = rt.spawn::<Counter>(Total::default()).unwrap();
    samples(&fake, 3);
    assert_eq!(rt.degradation_level(), Level::Normal);
    for _ in 0..5 {
        fake.events.push(ActorEvent::Failed {
            actor: a.id(),
            error: HandlerError(1),
        });
    }
    // 5 failures in the 1 s window: 5 per second, past Throttled's 4.
    assert!(eventually(|| rt.degradation_level() == Level::Throttled));
    // The monitor samples while the failures are pushed one by one, so a sample may see only
    // the first two or three (Reduced's 2 per second) before one sees all five: the level climbs
    // from Normal to Throttled in one step or through Reduced, every step caused by the rate.
    let ts = transitions(&rt.resilience_events());
    let climb: Vec<(Level, Level)> = ts.iter().map(|t| (t.from, t.to)).collect();
    assert!(
        climb == [(Level::Normal, Level::Throttled)]
            || climb
                == [
                    (Level::Normal, Level::Reduced),
                    (Level::Reduced, Level::Throttled)
                ],
        "{ts:?}"
    );
    assert!(
        ts.iter().all(|t| t.cause == Some(Signal::FaultRate)),
        "{ts:?}"
    );
}

#[test]
fn shedding_refuses_sends_to_the_lowest_class_present() {
    let fake = Arc::new(Fake::default());
    let rt = fake_runtime(
        &fake,
        Runtime::builder().degradation(thresholds(), Duration::from_secs(60)),
    );
    let spawn = |p| {
        rt.spawn_with::<Counter>(Total::default(), SpawnOptions::default().priority(p))
            .unwrap()
    };
    let (p0, p1, p5) = (spawn(0), spawn(1), spawn(5));
    fake.set(|s| s.max_queue_fill = 0.92);
    assert!(eventually(|| rt.degradation_level() == Level::Shedding));
    assert_eq!(p5.tell(add(1)), Err(SendError::Full(p5.id())));
    assert_eq!(p5.tell_batch(&[add(1); 4]), Err(SendError::Full(p5.id())));
    assert_eq!(rt.shed_count(), 5, "each shed message counts");
    p1.tell(add(1)).unwrap();
    p0.tell(add(1)).unwrap();
    assert!(!rt.health().ready);
    assert!(rt
        .health()
        .reasons
        .contains(&NotReady::Degraded(Level::Shedding)));

    // Control is never refused; once p5 is gone, priority 1 is the lowest class present.
    p5.stop().unwrap();
    assert!(eventually(
        || p1.tell(add(1)) == Err(SendError::Full(p1.id()))
    ));
    p0.tell(add(1)).unwrap();
}

#[test]
fn critical_admits_only_priority_zero_and_refuses_spawns() {
    let fake = Arc::new(Fake::default());
    let rt = fake_runtime(
        &fake,
        Runtime::builder().degradation(thresholds(), Duration::from_secs(60)),
    );
    let p0 = rt.spawn::<Counter>(Total::default()).unwrap();
    let p1 = rt
        .spawn_with::<Counter>(Total::default(), SpawnOptions::default().priority(1))
        .unwrap();
    let p2 = rt
        .spawn_with::<Counter>(Total::default(), SpawnOptions::default().priority(2))
        .unwrap();
    fake.set(|s| s.max_queue_fill = 0.99);
    assert!(eventually(|| rt.degradation_level() == Level::Critical));

    p0.tell(add(1)).unwrap();
    assert_eq!(
        p0.ask_blocking(add(1), Duration::from_secs(5)),
        Ok(Total::default())
    );
    assert_eq!(p1.tell(add(1)), Err(SendError::Full(p1.id())));
    assert_eq!(p2.tell(add(1)), Err(SendError::Full(p2.id())));
    assert_eq!(rt.shed_count(), 2);

    let spawned = fake.spawns.load(Ordering::Relaxed);
    assert!(matches!(
        rt.spawn::<Counter>(Total::default()),
        Err(Error::Overloaded(Level::Critical))
    ));
    assert_eq!(
        fake.spawns.load(Ordering::Relaxed),
        spawned,
        "backend not asked"
    );
    p1.stop().unwrap();
    assert_eq!(p1.state(), LifecycleState::Terminated);
}

// ---------------------------------------------------------------- memory

#[test]
fn device_memory_pressure_refuses_spawns_with_a_typed_error() {
    let fake = Arc::new(Fake::default());
    let rt = fake_runtime(
        &fake,
        Runtime::builder().degradation(thresholds(), Duration::from_secs(60)),
    );
    rt.spawn::<Counter>(Total::default()).unwrap();
    fake.set(|s| s.device_memory = Some((5, 100)));
    assert!(eventually(|| rt
        .health()
        .reasons
        .iter()
        .any(|r| matches!(r, NotReady::MemoryPressure { .. }))));
    assert_eq!(rt.memory_usage().1, Some((5, 100)));

    let spawned = fake.spawns.load(Ordering::Relaxed);
    let err = rt.spawn::<Counter>(Total::default()).unwrap_err();
    assert!(
        matches!(err, Error::Budget(BudgetError::SpawnsRefused { .. })),
        "{err}"
    );
    assert_eq!(
        fake.spawns.load(Ordering::Relaxed),
        spawned,
        "backend not asked"
    );
    let mem = memory_events(&rt.resilience_events());
    assert!(matches!(
        mem.as_slice(),
        [MemoryEvent::PressureChanged { to, .. }, MemoryEvent::SpawnRefused { limit: None, .. }]
            if to.contains(Mitigation::SpillCheckpoints)
    ));
    assert!(fake.stops.lock().unwrap().is_empty(), "shedding is opt-in");

    fake.set(|s| s.device_memory = Some((90, 100)));
    assert!(eventually(|| rt.health().ready));
    rt.spawn::<Counter>(Total::default()).unwrap();
}

#[test]
fn memory_shedding_stops_the_lowest_priority_actor_when_enabled() {
    let fake = Arc::new(Fake::default());
    let rt = fake_runtime(
        &fake,
        Runtime::builder()
            .degradation(thresholds(), Duration::from_secs(60))
            .shed_actors_under_memory_pressure(true),
    );
    let keep = rt.spawn::<Counter>(Total::default()).unwrap();
    let low = rt
        .spawn_with::<Counter>(Total::default(), SpawnOptions::default().priority(3))
        .unwrap();
    // 0.92: shedding, not yet spilling.
    fake.set(|s| s.device_memory = Some((8, 100)));
    assert!(eventually(|| !fake.stops.lock().unwrap().is_empty()));
    fake.set(|s| s.device_memory = Some((90, 100)));
    assert_eq!(fake.stops.lock().unwrap()[0], low.id());
    assert_eq!(low.state(), LifecycleState::Terminated);
    let shed: Vec<_> = memory_events(&rt.resilience_events())
        .into_iter()
        .filter_map(|m| match m {
            MemoryEvent::Shed { actor } => Some(actor),
            _ => None,
        })
        .collect();
    assert_eq!(shed.first(), Some(&low.id()));
    let _ = keep;
}

#[test]
fn per_actor_and_global_budgets_refuse_the_spawn_that_passes_them() {
    // Each Counter books 16 bytes of state + 16 × 112-byte envelopes = 1808 bytes.
    const ONE: u64 = 16 + 16 * 112;
    let rt = cpu_runtime()
        .register::<Counter>()
        .mailbox_capacity(16)
        .monitor_interval(TICK)
        .memory_budgets(MemoryBudgets {
            per_actor: Some(ONE - 1),
            ..MemoryBudgets::default()
        })
        .build()
        .unwrap();
    let err = rt.spawn::<Counter>(Total::default()).unwrap_err();
    assert!(matches!(
        err,
        Error::Budget(BudgetError::Exceeded {
            kind: LimitKind::Actor,
            limit,
            requested: ONE,
            ..
        }) if limit == ONE - 1
    ));
    assert_eq!(
        memory_events(&rt.resilience_events()),
        vec![MemoryEvent::SpawnRefused {
            requested: ONE,
            limit: Some(LimitKind::Actor)
        }]
    );
    assert_eq!(rt.memory_usage().0, 0);

    let rt = cpu_runtime()
        .register::<Counter>()
        .mailbox_capacity(16)
        .monitor_interval(TICK)
        .memory_policy(MemoryPolicy::new(1.0, 1.0, 1.0).unwrap())
        .memory_budgets(MemoryBudgets {
            global: Some(2 * ONE + ONE / 2),
            ..MemoryBudgets::default()
        })
        .build()
        .unwrap();
    let a = rt.spawn::<Counter>(Total::default()).unwrap();
    let _b = rt.spawn::<Counter>(Total::default()).unwrap();
    assert_eq!(rt.memory_usage(), (2 * ONE, None));
    assert!(matches!(
        rt.spawn::<Counter>(Total::default()),
        Err(Error::Budget(BudgetError::Exceeded {
            kind: LimitKind::Global,
            ..
        }))
    ));
    // A stopped actor's bytes come back once the monitor sees it terminated.
    a.stop().unwrap();
    assert!(eventually(|| rt.memory_usage().0 == ONE));
    let c = rt.spawn::<Counter>(Total::default()).unwrap();
    assert_eq!(
        c.ask_blocking(add(2), Duration::from_secs(5)).unwrap().sum,
        2
    );
}

#[test]
fn tree_budgets_are_per_tree() {
    const ONE: u64 = 16 + 16 * 112;
    let rt = cpu_runtime()
        .register::<Counter>()
        .mailbox_capacity(16)
        .monitor_interval(TICK)
        .memory_budgets(MemoryBudgets {
            per_tree: Some(ONE),
            ..MemoryBudgets::default()
        })
        .build()
        .unwrap();
    let opts = SpawnOptions::default();
    rt.spawn_in::<Counter>(TreeId(1), Total::default(), opts)
        .unwrap();
    assert!(matches!(
        rt.spawn_in::<Counter>(TreeId(1), Total::default(), opts),
        Err(Error::Budget(BudgetError::Exceeded {
            kind: LimitKind::Tree,
            ..
        }))
    ));
    rt.spawn_in::<Counter>(TreeId(2), Total::default(), opts)
        .unwrap();
    rt.spawn::<Counter>(Total::default()).unwrap();
    assert_eq!(rt.memory_usage().0, 3 * ONE);
}

#[test]
fn cpu_runtime_is_live_and_ready_and_releases_a_stopped_actor() {
    const ONE: u64 = 16 + 16 * 112;
    let rt = cpu_runtime()
        .register::<Counter>()
        .mailbox_capacity(16)
        .monitor_interval(TICK)
        .build()
        .unwrap();
    let a = rt.spawn::<Counter>(Total::default()).unwrap();
    assert_eq!(
        a.ask_blocking(add(3), Duration::from_secs(5)).unwrap().sum,
        3
    );
    let h = rt.health();
    assert!(h.live && h.ready, "{h:?}");
    assert_eq!(rt.degradation_level(), Level::Normal);
    assert_eq!(rt.memory_usage(), (ONE, None));

    // A failed actor keeps its bytes (a supervisor may restart it); a stopped one frees them.
    let f = rt.spawn::<Counter>(Total::default()).unwrap();
    f.tell(add(common::FAIL)).unwrap();
    assert!(eventually(|| f.state() == LifecycleState::Failed));
    a.stop().unwrap();
    assert!(eventually(|| rt.memory_usage().0 == ONE));
    // The one failure may show as a fault rate (1/s enters Reduced by default); nothing else
    // happened.
    for e in rt.resilience_events() {
        assert!(
            matches!(e, ResilienceEvent::LevelChanged(ref t) if t.to <= Level::Reduced),
            "{e:?}"
        );
    }
}

#[test]
fn a_restarted_actor_is_booked_again() {
    const ONE: u64 = 16 + 16 * 112;
    let fake = Arc::new(Fake::default());
    let rt = fake_runtime(&fake, Runtime::builder().mailbox_capacity(16));
    let a = rt.spawn::<Counter>(Total::default()).unwrap();
    assert_eq!(rt.memory_usage().0, ONE);
    a.stop().unwrap();
    assert!(eventually(|| rt.memory_usage().0 == 0));
    rt.restart(&a, Total::default()).unwrap();
    assert_eq!(rt.memory_usage().0, ONE);
    samples(&fake, 3);
    assert_eq!(rt.memory_usage().0, ONE, "a running actor stays booked");
}

// ---------------------------------------------------------------- health

#[test]
fn watchdog_reports_hung_handlers_once_and_the_runtime_not_live() {
    let fake = Arc::new(Fake::default());
    let rt = fake_runtime(
        &fake,
        Runtime::builder().watchdog(Duration::from_millis(50)),
    );
    let (a, b) = (ActorId::from_raw(7), ActorId::from_raw(8));
    fake.set(|s| {
        s.liveness = Some(Liveness {
            live_blocks: 4,
            blocks: 4,
            exited_blocks: 0,
        });
        s.hung = vec![(a, Duration::from_millis(10)), (b, Duration::from_secs(2))];
    });
    assert!(eventually(|| !rt.health().live));
    let h = rt.health();
    assert!(!h.ready);
    assert_eq!(h.reasons, vec![NotReady::NotLive { live: 3, blocks: 4 }]);
    assert_eq!(rt.hung().len(), 1);
    assert_eq!(rt.hung()[0].actor, b);
    samples(&fake, 5);
    assert_eq!(
        rt.resilience_events(),
        vec![ResilienceEvent::Hung {
            actor: b,
            running_for: Duration::from_secs(2)
        }],
        "one event per hang, none for the handler under the deadline"
    );

    fake.set(|s| s.hung.clear());
    assert!(eventually(|| rt.health().live && rt.health().ready));
    assert!(rt.hung().is_empty());
}

#[test]
fn backend_without_liveness_counts_as_live_and_an_exited_block_does_not() {
    let fake = Arc::new(Fake::default());
    let rt = fake_runtime(&fake, Runtime::builder());
    samples(&fake, 2);
    assert!(rt.health().live);
    fake.set(|s| {
        s.liveness = Some(Liveness {
            live_blocks: 2,
            blocks: 2,
            exited_blocks: 1,
        })
    });
    assert!(eventually(|| !rt.health().live));
}

#[test]
fn monitor_samples_until_shutdown_and_never_after() {
    let fake = Arc::new(Fake::default());
    let rt = fake_runtime(&fake, Runtime::builder());
    samples(&fake, 3);
    rt.shutdown(Duration::from_secs(5)).unwrap();
    let after = fake.samples.load(Ordering::Relaxed);
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(fake.samples.load(Ordering::Relaxed), after);
    drop(rt);

    let fake = Arc::new(Fake::default());
    let rt = fake_runtime(&fake, Runtime::builder());
    samples(&fake, 1);
    drop(rt);
    let after = fake.samples.load(Ordering::Relaxed);
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(fake.samples.load(Ordering::Relaxed), after);
}

#[test]
fn invalid_admission_settings_fail_the_build() {
    let fake = Arc::new(Fake::default());
    let err = Runtime::builder()
        .admission(0.0, 1)
        .build_with_backend(fake.clone())
        .unwrap_err();
    assert!(matches!(err, Error::Degradation(_)), "{err}");
    assert!(fake.shut.load(Ordering::Relaxed), "the backend was stopped");
}

/// A watchdog deadline below the CPU backend's own 1 s report threshold still catches a
/// handler that runs past it (the builder used to leave the backend's threshold at 1 s, so a
/// 20 ms watchdog saw nothing shorter than a second).
#[test]
fn a_short_watchdog_catches_a_long_handler_on_the_cpu() {
    let g = 9;
    let rt = Runtime::builder()
        .backend(Backend::Cpu)
        .register::<GateActor>()
        .watchdog(Duration::from_millis(20))
        .monitor_interval(Duration::from_millis(1))
        .build()
        .unwrap();
    let a = rt.spawn::<GateActor>(Total::default()).unwrap();
    a.tell(gated(g, 1)).unwrap();
    assert!(eventually(|| entered(g) == 1));
    let since = Instant::now();
    assert!(eventually(|| rt.hung().iter().any(|h| h.actor == a.id())));
    assert!(
        since.elapsed() < Duration::from_millis(900),
        "{:?}",
        since.elapsed()
    );
    open(g);
}
