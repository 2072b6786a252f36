//! Hot reload (`ringkernel::recovery::reload`) on the CPU backend: versions, the swap under
//! traffic, rollback of a failing version, and the typed refusals. The CPU factory has nothing
//! to compile, so types without a CUDA handler reload here; the CUDA compile check has its own
//! tests next to the CUDA factory.

#![allow(clippy::unwrap_used)] // Tests unwrap: a panic is the failure report.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{eventually, Add, Total, WAIT};
use ringkernel::prelude::*;
use ringkernel::recovery::{BackendFactory, RecoveryPolicy, ReloadOptions};
use ringkernel::{ActorBackend, ActorEvent, ActorVTable, CpuConfig, CudaHandler, ResilienceEvent};
use ringkernel_cpu::CpuBackend;

/// Version 1: adds `n`.
struct Acc;
impl Actor for Acc {
    const NAME: &'static str = "acc";
    type State = Total;
    type Msg = Add;
    type Reply = Total;
    fn handle(s: &mut Total, m: &Add, _: &Context) -> Result<Total, HandlerError> {
        s.sum += m.n;
        s.count += 1;
        Ok(*s)
    }
}

/// A later version: adds `2 n`. Its CUDA form is a stub (never compiled on the CPU) so the
/// factory below can tell which handler a generation was built with.
struct AccDouble;
impl Actor for AccDouble {
    const NAME: &'static str = "acc-double";
    type State = Total;
    type Msg = Add;
    type Reply = Total;
    fn handle(s: &mut Total, m: &Add, _: &Context) -> Result<Total, HandlerError> {
        s.sum += 2 * m.n;
        s.count += 1;
        Ok(*s)
    }
    fn cuda_handler() -> Option<CudaHandler> {
        Some(CudaHandler {
            function: "acc_double",
            state_type: "Total",
            msg_type: "Add",
            reply_type: "Total",
            struct_defs: "",
            source: "",
        })
    }
}

/// A broken version: fails every message.
struct AccBroken;
impl Actor for AccBroken {
    const NAME: &'static str = "acc-broken";
    type State = Total;
    type Msg = Add;
    type Reply = Total;
    fn handle(_: &mut Total, _: &Add, _: &Context) -> Result<Total, HandlerError> {
        Err(HandlerError(13))
    }
}

/// A subtly wrong version: adds `2 n`, and fails on `n >= 1000`.
struct AccFlaky;
impl Actor for AccFlaky {
    const NAME: &'static str = "acc-flaky";
    type State = Total;
    type Msg = Add;
    type Reply = Total;
    fn handle(s: &mut Total, m: &Add, _: &Context) -> Result<Total, HandlerError> {
        if m.n >= 1000 {
            return Err(HandlerError(14));
        }
        s.sum += 2 * m.n;
        s.count += 1;
        Ok(*s)
    }
}

/// Same layouts as `Acc`, never registered.
struct Stranger;
impl Actor for Stranger {
    const NAME: &'static str = "stranger";
    type State = Total;
    type Msg = Add;
    type Reply = Total;
    fn handle(s: &mut Total, _: &Add, _: &Context) -> Result<Total, HandlerError> {
        Ok(*s)
    }
}

fn runtime() -> Runtime {
    Runtime::builder()
        .backend(Backend::Cpu)
        .workers(2)
        .register::<Acc>()
        .recovery(RecoveryPolicy::default())
        .build()
        .unwrap()
}

fn quick() -> ReloadOptions {
    ReloadOptions {
        probe: Duration::from_millis(20),
        ..ReloadOptions::default()
    }
}

/// Tells `a` `Add { n }` with n = 101, 102, ... every 200 µs from another thread, and adds up
/// what was accepted (sends are refused while a broken version has failed the actor).
struct Trickle {
    done: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<Total>,
}

impl Trickle {
    fn start(a: &ActorRef<Acc>) -> Self {
        let done = Arc::new(AtomicBool::new(false));
        let (a, d) = (a.clone(), done.clone());
        let thread = std::thread::spawn(move || {
            let mut accepted = Total::default();
            let mut n = 100;
            while !d.load(Ordering::Acquire) {
                n += 1;
                if a.tell(Add { n }).is_ok() {
                    accepted.sum += n;
                    accepted.count += 1;
                }
                std::thread::sleep(Duration::from_micros(200));
            }
            accepted
        });
        std::thread::sleep(Duration::from_millis(10));
        Trickle { done, thread }
    }

    fn stop(self) -> Total {
        std::thread::sleep(Duration::from_millis(10));
        self.done.store(true, Ordering::Release);
        self.thread.join().unwrap()
    }
}

fn total(a: &ActorRef<Acc>) -> Total {
    // `n = 0` reads the state (and counts once).
    a.ask_blocking(Add { n: 0 }, WAIT).unwrap()
}

#[test]
fn a_reload_changes_the_handler_behind_existing_handles_and_keeps_the_state() {
    let rt = runtime();
    let a = rt.spawn::<Acc>(Total { sum: 100, count: 0 }).unwrap();
    rt.register_name("acc/main", &a).unwrap();
    for n in 1..=10 {
        a.tell(Add { n }).unwrap();
    }
    assert_eq!(rt.version_of::<Acc>().unwrap(), 1);
    // AccDouble has a CUDA form and Acc none: the CPU factory checks nothing either way.
    assert!(ActorVTable::of::<Acc>().unwrap().cuda.is_none());

    let report = rt.reload::<Acc, AccDouble>(2, quick()).unwrap();
    assert_eq!((report.actor_type, report.from, report.to), ("acc", 1, 2));
    assert_eq!(report.moved, 1);
    assert!(report.rollback.is_none(), "{report:?}");
    assert!(report.pause < Duration::from_secs(2), "{report:?}");
    assert_eq!(rt.version_of::<Acc>().unwrap(), 2);

    // The ten tells were processed once (by whichever version), and the same handle now
    // reaches the new handler.
    let t = total(&a);
    assert_eq!(t.count, 11);
    let before = t.sum;
    assert_eq!(a.ask_blocking(Add { n: 5 }, WAIT).unwrap().sum, before + 10);
    // The registry name and the type's name are kept.
    let by_name = rt.lookup::<Acc>("acc/main").unwrap();
    assert_eq!(by_name.id(), a.id());
    assert_eq!(
        by_name.ask_blocking(Add { n: 1 }, WAIT).unwrap().sum,
        before + 12
    );
    assert_eq!(rt.checkpoint().unwrap().actors()[0].type_name, "acc");
    // New actors of the type run the new version too.
    let b = rt.spawn::<Acc>(Total::default()).unwrap();
    assert_eq!(b.ask_blocking(Add { n: 3 }, WAIT).unwrap().sum, 6);
    assert!(rt
        .resilience_events()
        .iter()
        .any(|e| matches!(e, ResilienceEvent::Reloaded(r) if r.to == 2 && r.rollback.is_none())));
}

#[test]
fn messages_sent_during_a_reload_are_processed_exactly_once() {
    let rt = Arc::new(runtime());
    let actors: Vec<ActorRef<Acc>> = (0..4)
        .map(|_| rt.spawn::<Acc>(Total::default()).unwrap())
        .collect();
    let done = Arc::new(AtomicBool::new(false));
    let senders: Vec<_> = actors
        .iter()
        .map(|a| {
            let (a, done) = (a.clone(), done.clone());
            std::thread::spawn(move || {
                let mut accepted = 0u64;
                while !done.load(Ordering::Acquire) {
                    match a.tell(Add { n: 1 }) {
                        Ok(()) => accepted += 1,
                        Err(SendError::Full(_)) => std::thread::yield_now(),
                        Err(e) => panic!("{e}"),
                    }
                }
                accepted
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(20));
    let report = rt.reload::<Acc, AccDouble>(2, quick()).unwrap();
    std::thread::sleep(Duration::from_millis(20));
    done.store(true, Ordering::Release);
    for (a, s) in actors.iter().zip(senders) {
        let accepted = s.join().unwrap();
        let t = total(a);
        assert_eq!(t.count, accepted + 1, "{report:?}");
        // Each tell added 1 (old version) or 2 (new version).
        assert!(
            t.sum >= accepted && t.sum <= 2 * accepted,
            "{t:?} of {accepted}"
        );
    }
    // Some tells were sent while the swap held sends: they waited and then landed.
    assert_eq!(report.moved, 4);
}

#[test]
fn stale_and_equal_versions_are_refused_and_change_nothing() {
    let rt = runtime();
    let a = rt.spawn::<Acc>(Total::default()).unwrap();
    let got = rt.reload::<Acc, AccDouble>(1, quick());
    assert!(
        matches!(
            got,
            Err(Error::StaleVersion {
                actor_type: "acc",
                current: 1,
                offered: 1
            })
        ),
        "{got:?}"
    );
    assert_eq!(a.ask_blocking(Add { n: 1 }, WAIT).unwrap().sum, 1);
    rt.reload::<Acc, AccDouble>(5, quick()).unwrap();
    for offered in [5, 3] {
        let got = rt.reload::<Acc, Acc>(offered, quick());
        assert!(
            matches!(got, Err(Error::StaleVersion { current: 5, .. })),
            "{got:?}"
        );
    }
    assert_eq!(rt.version_of::<Acc>().unwrap(), 5);
    assert_eq!(a.ask_blocking(Add { n: 1 }, WAIT).unwrap().sum, 3);
}

#[test]
fn a_failing_version_is_rolled_back_and_its_messages_replayed_on_the_old_one() {
    let rt = Arc::new(runtime());
    let a = rt.spawn::<Acc>(Total::default()).unwrap();
    let mut expected = Total::default();
    for n in 1..=10 {
        a.tell(Add { n }).unwrap();
        expected.sum += n;
        expected.count += 1;
    }
    // A steady trickle, so the new version gets messages during its probe.
    let trickle = Trickle::start(&a);
    let options = ReloadOptions {
        probe: Duration::from_secs(5),
        ..ReloadOptions::default()
    };
    let got = rt.reload::<Acc, AccBroken>(2, options);
    let accepted = trickle.stop();

    let Err(Error::ReloadRolledBack {
        actor_type: "acc",
        version: 2,
        reason,
        report,
    }) = got
    else {
        panic!("{got:?}");
    };
    assert!(reason.contains("failed"), "{reason}");
    let rollback = report.rollback.as_ref().unwrap();
    assert!(rollback.replayed >= 1, "{report:?}");
    assert!(
        report.probed < Duration::from_secs(5),
        "ended at the failure: {report:?}"
    );
    assert_eq!(rt.version_of::<Acc>().unwrap(), 1);
    // The old version has processed every accepted message, those the broken one failed on
    // included, exactly once.
    let t = total(&a);
    assert_eq!(t.count, expected.count + accepted.count + 1);
    assert_eq!(t.sum, expected.sum + accepted.sum);
    assert_eq!(a.state(), LifecycleState::Active);
    // The failure was undone: nobody is told about it.
    assert!(
        !rt.actor_events()
            .iter()
            .any(|e| matches!(e, ActorEvent::Failed { .. })),
        "{:?}",
        rt.actor_events()
    );
}

#[test]
fn periodic_checkpoints_wait_for_the_probe_so_the_rollback_point_survives() {
    let rt = Arc::new(
        Runtime::builder()
            .backend(Backend::Cpu)
            .workers(2)
            .register::<Acc>()
            .recovery(RecoveryPolicy {
                checkpoint_every: Duration::from_millis(2),
                ..RecoveryPolicy::default()
            })
            .build()
            .unwrap(),
    );
    let a = rt.spawn::<Acc>(Total::default()).unwrap();
    let reload = {
        let rt = rt.clone();
        let options = ReloadOptions {
            probe: Duration::from_secs(5),
            ..ReloadOptions::default()
        };
        std::thread::spawn(move || rt.reload::<Acc, AccFlaky>(2, options))
    };
    // Checkpoints are refused once the new version is probing.
    assert!(eventually(|| matches!(
        rt.recovery_checkpoint(),
        Err(Error::Recovery(why)) if why.contains("reload")
    )));
    for n in 1..=10 {
        a.tell(Add { n }).unwrap();
    }
    // The watcher would have checkpointed the flaky version's sums many times by now.
    std::thread::sleep(Duration::from_millis(30));
    a.tell(Add { n: 1000 }).unwrap();
    let got = reload.join().unwrap();
    assert!(
        matches!(got, Err(Error::ReloadRolledBack { .. })),
        "{got:?}"
    );
    // Everything replayed on the old version from the pre-swap cut.
    let t = total(&a);
    assert_eq!((t.sum, t.count), (55 + 1000, 12));
    rt.recovery_checkpoint().unwrap();
}

/// A CPU factory that counts builds, records which handler each generation got for type 0 (by
/// its CUDA function name, `-` for none) and can refuse every check ("does not compile").
#[derive(Debug, Default)]
struct Recording {
    reject: bool,
    checks: AtomicUsize,
    built: Mutex<Vec<&'static str>>,
}

impl BackendFactory for Recording {
    fn build(&self, types: &[ActorVTable]) -> Result<Arc<dyn ActorBackend>, Error> {
        let handler = types[0].cuda.map_or("-", |h| h.function);
        self.built.lock().unwrap().push(handler);
        let config = CpuConfig {
            workers: 2,
            ..CpuConfig::default()
        };
        Ok(Arc::new(CpuBackend::new(types, config)?))
    }
    fn check(&self, types: &[ActorVTable]) -> Result<(), Error> {
        self.checks.fetch_add(1, Ordering::SeqCst);
        assert_eq!(types[0].name, "acc", "the slot keeps the registered name");
        if self.reject {
            return Err(Error::Recovery(
                "error: identifier \"nn\" is undefined".into(),
            ));
        }
        Ok(())
    }
}

fn recording(reject: bool) -> (Runtime, Arc<Recording>) {
    let f = Arc::new(Recording {
        reject,
        ..Recording::default()
    });
    let rt = Runtime::builder()
        .register::<Acc>()
        .build_with_factory(f.clone())
        .unwrap();
    (rt, f)
}

#[test]
fn a_version_that_fails_its_check_is_rejected_before_anything_stops() {
    let (rt, f) = recording(true);
    let a = rt.spawn::<Acc>(Total::default()).unwrap();
    a.tell(Add { n: 4 }).unwrap();
    let got = rt.reload::<Acc, AccDouble>(2, quick());
    assert!(
        matches!(&got, Err(Error::ReloadRejected { actor_type: "acc", version: 2, reason })
            if reason.contains("undefined")),
        "{got:?}"
    );
    assert_eq!(f.checks.load(Ordering::SeqCst), 1);
    assert_eq!(*f.built.lock().unwrap(), ["-"], "only the first generation");
    assert_eq!(rt.version_of::<Acc>().unwrap(), 1);
    assert_eq!(a.ask_blocking(Add { n: 1 }, WAIT).unwrap().sum, 5);
}

#[test]
fn after_a_commit_generations_are_built_with_the_new_handler() {
    let (rt, f) = recording(false);
    let a = rt.spawn::<Acc>(Total::default()).unwrap();
    rt.reload::<Acc, AccDouble>(2, quick()).unwrap();
    assert_eq!(*f.built.lock().unwrap(), ["-", "acc_double"]);
    // A rollback rebuilds what runs now — version 2, not version 1.
    let trickle = Trickle::start(&a);
    let got = rt.reload::<Acc, AccBroken>(3, ReloadOptions::default());
    let accepted = trickle.stop();
    assert!(
        matches!(got, Err(Error::ReloadRolledBack { .. })),
        "{got:?}"
    );
    assert_eq!(
        *f.built.lock().unwrap(),
        ["-", "acc_double", "-", "acc_double"]
    );
    assert_eq!(rt.version_of::<Acc>().unwrap(), 2);
    assert!(eventually(|| a.state() == LifecycleState::Active));
    let t = a.ask_blocking(Add { n: 1 }, WAIT).unwrap();
    assert_eq!((t.sum, t.count), (2 * accepted.sum + 2, accepted.count + 1));
}

#[test]
fn reloading_an_unregistered_type_is_a_typed_error() {
    let rt = runtime();
    let got = rt.reload::<Stranger, Acc>(2, quick());
    assert!(
        matches!(&got, Err(Error::UnknownActorType(name)) if name == "stranger"),
        "{got:?}"
    );
    assert!(matches!(
        rt.version_of::<Stranger>(),
        Err(Error::UnknownActorType(_))
    ));
}

#[test]
fn reload_needs_a_runtime_built_with_recovery() {
    let rt = Runtime::builder()
        .backend(Backend::Cpu)
        .workers(1)
        .register::<Acc>()
        .build()
        .unwrap();
    let a = rt.spawn::<Acc>(Total::default()).unwrap();
    let got = rt.reload::<Acc, AccDouble>(2, quick());
    assert!(matches!(got, Err(Error::ReloadUnavailable)), "{got:?}");
    assert_eq!(rt.version_of::<Acc>().unwrap(), 1);
    assert_eq!(a.ask_blocking(Add { n: 2 }, WAIT).unwrap().sum, 2);
}
