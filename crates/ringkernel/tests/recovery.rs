//! Recovery from device faults (`ringkernel::recovery`), on the CPU backend wrapped in a test
//! double that "faults the device" when it accepts a poison message: from then on it refuses
//! everything with `DeviceLost`, fails its waiting asks, and its state is gone — as a CUDA
//! generation after a sticky error. The GPU test (`gpu_recovery`) faults a real device.

#![allow(clippy::unwrap_used)] // Tests unwrap: a panic is the failure report.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use common::*;
use ringkernel::checkpoint::ActorSnapshot;
use ringkernel::prelude::*;
use ringkernel::recovery::{BackendFactory, RecoveryPolicy};
use ringkernel::{
    ActorBackend, AskError, CpuConfig, Envelope, PendingReply, ReplyWatch, ResilienceEvent,
    SendError, ShutdownError, ShutdownReport, SpawnError, SpawnOptions,
};
use ringkernel_cpu::CpuBackend;

/// The message that kills the "device".
const POISON: u64 = 0xDEAD;

/// Sleeps `ns` per message and counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C)]
struct Work {
    ns: u64,
}
impl Message for Work {
    const TYPE_ID: MessageTypeId = MessageTypeId(0x7701);
}

struct Slow;
impl Actor for Slow {
    const NAME: &'static str = "slow";
    type State = Total;
    type Msg = Work;
    type Reply = Total;
    fn handle(s: &mut Total, m: &Work, _: &Context) -> Result<Total, HandlerError> {
        std::thread::sleep(Duration::from_nanos(m.ns));
        s.count += 1;
        Ok(*s)
    }
}

#[derive(Debug)]
struct Faulty {
    inner: CpuBackend,
    fault: OnceLock<String>,
    waiting: Mutex<Vec<(ActorId, ReplyWatch)>>,
    /// Poison messages this generation accepted (shared by all generations).
    poisons: Arc<AtomicUsize>,
}

impl Faulty {
    fn lost<T, E: From<SendError>>(&self) -> Option<Result<T, E>> {
        self.fault.get().map(|_| Err(SendError::DeviceLost.into()))
    }

    fn die(&self) {
        let _ = self
            .fault
            .set("CUDA_ERROR_ILLEGAL_ADDRESS (simulated)".into());
        for (to, w) in self.waiting.lock().unwrap().drain(..) {
            w.fail(AskError::DeviceLost(to));
        }
    }
}

impl ActorBackend for Faulty {
    fn kind(&self) -> BackendKind {
        BackendKind::Cpu
    }
    fn description(&self) -> String {
        "faulty cpu".into()
    }
    fn spawn(&self, t: usize, s: &[u8]) -> Result<ActorId, SpawnError> {
        self.spawn_with(t, s, &SpawnOptions::default())
    }
    fn spawn_with(&self, t: usize, s: &[u8], o: &SpawnOptions) -> Result<ActorId, SpawnError> {
        if self.fault.get().is_some() {
            return Err(SpawnError::DeviceLost);
        }
        self.inner.spawn_with(t, s, o)
    }
    fn tell(&self, env: Envelope) -> Result<(), SendError> {
        if let Some(r) = self.lost() {
            return r;
        }
        if env.read::<Add>().is_ok_and(|m| m.n == POISON) {
            self.poisons.fetch_add(1, Ordering::SeqCst);
            self.die();
            return Ok(());
        }
        self.inner.tell(env)
    }
    fn ask(&self, env: Envelope) -> Result<PendingReply, SendError> {
        if let Some(r) = self.lost() {
            return r;
        }
        let p = self.inner.ask(env)?;
        self.waiting
            .lock()
            .unwrap()
            .push((env.receiver(), p.watch()));
        Ok(p)
    }
    fn stop(&self, id: ActorId) -> Result<(), SendError> {
        if let Some(r) = self.lost() {
            return r;
        }
        self.inner.stop(id)
    }
    fn restart(&self, id: ActorId, s: &[u8]) -> Result<(), SpawnError> {
        self.inner.restart(id, s)
    }
    fn state_of(&self, id: ActorId) -> Option<LifecycleState> {
        self.inner.state_of(id)
    }
    fn shutdown(&self, d: Duration) -> Result<ShutdownReport, ShutdownError> {
        self.inner.shutdown(d)
    }
    fn actors(&self) -> Vec<ActorId> {
        self.inner.actors()
    }
    fn type_index_of(&self, id: ActorId) -> Option<usize> {
        self.inner.type_index_of(id)
    }
    fn snapshot(&self, ids: &[ActorId]) -> Result<Vec<ActorSnapshot>, ringkernel::SnapshotError> {
        if self.fault.get().is_some() {
            return Err(ringkernel::SnapshotError::Unsupported("device lost"));
        }
        self.inner.snapshot(ids)
    }
    fn restore_with(
        &self,
        t: usize,
        s: &ActorSnapshot,
        o: &SpawnOptions,
        i: Option<&[u8]>,
    ) -> Result<(), SpawnError> {
        self.inner.restore_with(t, s, o, i)
    }
    fn events(&self) -> Option<Arc<ringkernel::EventQueue>> {
        self.inner.events()
    }
    fn fault(&self) -> Option<String> {
        self.fault.get().cloned()
    }
}

#[derive(Debug, Default)]
struct FaultyFactory {
    built: AtomicUsize,
    released: AtomicUsize,
    poisons: Arc<AtomicUsize>,
}

impl BackendFactory for FaultyFactory {
    fn build(&self, types: &[ringkernel::ActorVTable]) -> Result<Arc<dyn ActorBackend>, Error> {
        self.built.fetch_add(1, Ordering::SeqCst);
        let config = CpuConfig {
            workers: 2,
            ..CpuConfig::default()
        };
        Ok(Arc::new(Faulty {
            inner: CpuBackend::new(types, config)?,
            fault: OnceLock::new(),
            waiting: Mutex::new(Vec::new()),
            poisons: self.poisons.clone(),
        }))
    }
    fn release(&self, old: Arc<dyn ActorBackend>, wait: Duration) -> Result<(), Error> {
        self.released.fetch_add(1, Ordering::SeqCst);
        let _ = old.shutdown(wait);
        Ok(())
    }
}

/// Checkpoints only when asked (so each test knows where the base is).
fn manual() -> RecoveryPolicy {
    RecoveryPolicy {
        checkpoint_every: Duration::from_secs(3600),
        ..RecoveryPolicy::default()
    }
}

fn runtime(factory: Arc<FaultyFactory>) -> Runtime {
    Runtime::builder()
        .register::<Counter>()
        .register::<Slow>()
        .recovery(manual())
        .build_with_factory(factory)
        .unwrap()
}

fn wait_recovered(rt: &Runtime, n: usize) -> Vec<ringkernel::RecoveryReport> {
    assert!(
        eventually(|| rt.recoveries().len() >= n),
        "no recovery: {:?}",
        rt.resilience_events()
    );
    rt.recoveries()
}

#[test]
fn a_fault_restores_the_checkpoint_and_replays_every_tell_since() {
    let f = Arc::new(FaultyFactory::default());
    let rt = runtime(f.clone());
    let a = rt.spawn::<Counter>(Total { sum: 5, count: 0 }).unwrap();
    for i in 1..=10 {
        a.tell(Add { n: i }).unwrap();
    }
    assert_eq!(rt.recovery_checkpoint().unwrap(), 1);
    // After the checkpoint: spawned, told, asked.
    let b = rt.spawn::<Counter>(Total::default()).unwrap();
    for i in 11..=20 {
        a.tell(Add { n: i }).unwrap();
    }
    assert_eq!(b.ask_blocking(Add { n: 100 }, WAIT).unwrap().sum, 100);
    a.tell(Add { n: POISON }).unwrap();
    let reports = wait_recovered(&rt, 1);
    let r = &reports[0];
    assert_eq!(r.generation, 1);
    assert!(r.fault.contains("ILLEGAL_ADDRESS"), "{}", r.fault);
    assert_eq!(r.restored, 1);
    assert_eq!(r.poisoned.len(), 1, "{r:?}");
    assert_eq!(r.poisoned[0].read::<Add>().unwrap().n, POISON);
    // Same handles, same ids; every tell counted once, the answered ask once.
    let t = a.ask_blocking(Add { n: 0 }, WAIT).unwrap();
    assert_eq!((t.sum, t.count), (5 + 210, 21));
    assert_eq!(b.ask_blocking(Add { n: 0 }, WAIT).unwrap().sum, 100);
    // The faulted generation, the one whose replay found the poison (both released), and the
    // one running now.
    assert_eq!(f.built.load(Ordering::SeqCst), 3);
    assert_eq!(f.released.load(Ordering::SeqCst), 2);
    assert!(rt
        .resilience_events()
        .iter()
        .any(|e| matches!(e, ResilienceEvent::Recovered(r) if r.generation == 1)));
    // A new spawn does not take a restored id.
    let c = rt.spawn::<Counter>(Total::default()).unwrap();
    assert!(c.id() != a.id() && c.id() != b.id());
}

#[test]
fn an_ask_waiting_at_the_fault_fails_with_device_lost_and_is_not_replayed() {
    let f = Arc::new(FaultyFactory::default());
    let rt = runtime(f.clone());
    let slow = rt.spawn::<Slow>(Total::default()).unwrap();
    let a = rt.spawn::<Counter>(Total::default()).unwrap();
    rt.recovery_checkpoint().unwrap();
    // Slow sleeps 300 ms per message: this ask is waiting when the device dies.
    let waiting = {
        let s = slow.clone();
        std::thread::spawn(move || s.ask_blocking(Work { ns: 300_000_000 }, WAIT))
    };
    std::thread::sleep(Duration::from_millis(50));
    a.tell(Add { n: POISON }).unwrap();
    let got = waiting.join().unwrap();
    assert!(
        matches!(got, Err(AskError::DeviceLost(id)) if id == slow.id()),
        "{got:?}"
    );
    let r = &wait_recovered(&rt, 1)[0];
    assert_eq!(r.asks_not_replayed, 1);
    // Not replayed: Slow's state never saw it.
    let t = slow.ask_blocking(Work { ns: 0 }, WAIT).unwrap();
    assert_eq!(t.count, 1, "only this ask");
}

#[test]
fn sends_during_a_recovery_wait_and_then_land_in_the_new_generation() {
    let f = Arc::new(FaultyFactory::default());
    let rt = runtime(f);
    let a = rt.spawn::<Counter>(Total::default()).unwrap();
    rt.recovery_checkpoint().unwrap();
    a.tell(Add { n: POISON }).unwrap();
    // Until the watcher notices, sends fail fast; then they wait out the recovery.
    let mut accepted = 0;
    for _ in 0..2000 {
        match a.tell(Add { n: 1 }) {
            Ok(()) => accepted += 1,
            // Not accepted: the device is lost, or the mailbox is full (back off).
            Err(SendError::DeviceLost | SendError::Full(_)) => {}
            Err(e) => panic!("{e}"),
        }
    }
    wait_recovered(&rt, 1);
    assert_eq!(
        a.ask_blocking(Add { n: 0 }, WAIT).unwrap().count,
        accepted + 1
    );
}

#[test]
fn restart_policies_and_stopped_actors_come_back() {
    let f = Arc::new(FaultyFactory::default());
    let rt = runtime(f);
    let policy = SpawnOptions::default().restart(ringkernel::supervision::Intensity {
        max_restarts: 3,
        period: Duration::from_secs(10),
    });
    let a = rt
        .spawn_with::<Counter>(Total { sum: 1, count: 0 }, policy)
        .unwrap();
    let gone = rt.spawn::<Counter>(Total::default()).unwrap();
    gone.stop().unwrap();
    assert!(eventually(|| gone.state() == LifecycleState::Terminated));
    a.tell(Add { n: 41 }).unwrap();
    rt.recovery_checkpoint().unwrap();
    a.tell(Add { n: POISON }).unwrap();
    wait_recovered(&rt, 1);
    assert_eq!(a.ask_blocking(Add { n: 0 }, WAIT).unwrap().sum, 42);
    assert_eq!(gone.state(), LifecycleState::Terminated);
    // The restart image is the initial state, not the checkpointed one.
    assert!(matches!(
        a.ask_blocking(Add { n: FAIL }, WAIT),
        Err(AskError::HandlerFailed { .. })
    ));
    assert_eq!(a.ask_blocking(Add { n: 0 }, WAIT).unwrap().sum, 1);
}

#[test]
fn checkpoints_on_time_bound_the_log() {
    let f = Arc::new(FaultyFactory::default());
    let rt = Runtime::builder()
        .register::<Counter>()
        .recovery(RecoveryPolicy {
            checkpoint_every: Duration::from_millis(20),
            ..RecoveryPolicy::default()
        })
        .build_with_factory(f)
        .unwrap();
    let a = rt.spawn::<Counter>(Total::default()).unwrap();
    for i in 1..=50 {
        a.tell(Add { n: i }).unwrap();
        std::thread::sleep(Duration::from_millis(2));
    }
    a.tell(Add { n: POISON }).unwrap();
    let r = &wait_recovered(&rt, 1)[0];
    assert!(r.replayed < 50, "a checkpoint cut the log: {r:?}");
    assert_eq!(a.ask_blocking(Add { n: 0 }, WAIT).unwrap().sum, 1275);
}

#[test]
fn recovery_needs_a_runtime_built_for_it() {
    let rt = cpu_runtime().register::<Counter>().build().unwrap();
    assert!(matches!(rt.recovery_checkpoint(), Err(Error::Recovery(_))));
    assert!(rt.recoveries().is_empty());
    let multi = Runtime::builder()
        .backend(Backend::MultiCuda)
        .register::<Counter>()
        .recovery(RecoveryPolicy::default())
        .build();
    assert!(matches!(multi, Err(Error::Recovery(_))));
}

#[test]
fn the_built_in_cpu_factory_recovers_nothing_but_runs() {
    // The CPU backend never faults: a recovering CPU runtime behaves as a plain one.
    let rt = cpu_runtime()
        .register::<Counter>()
        .recovery(RecoveryPolicy::default())
        .build()
        .unwrap();
    let a = rt.spawn::<Counter>(Total::default()).unwrap();
    a.tell_batch(&[Add { n: 1 }, Add { n: 2 }]).unwrap();
    rt.recovery_checkpoint().unwrap();
    assert_eq!(a.ask_blocking(Add { n: 3 }, WAIT).unwrap().sum, 6);
    assert!(rt.description().contains("recovering"));
    assert!(rt.recoveries().is_empty());
}
