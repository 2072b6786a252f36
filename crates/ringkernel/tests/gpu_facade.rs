//! The public API on the GPU: `Runtime` with `Backend::Cuda` and `Backend::Auto`. Needs an NVIDIA
//! GPU and fails loudly without one (build with `--features gpu-tests`, run with
//! `--test-threads=1`).

#![allow(clippy::unwrap_used)] // Tests unwrap: a panic is the failure report.

use std::time::Duration;

use ringkernel::prelude::*;
use ringkernel_core::actor::CudaHandler;

#[derive(Clone, Copy, Debug, Default, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C)]
struct Deposit {
    cents: i64,
}
impl Message for Deposit {
    const TYPE_ID: MessageTypeId = MessageTypeId(0x0F01);
}

#[derive(Clone, Copy, Debug, Default, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C)]
struct Balance {
    cents: i64,
    deposits: u64,
}
impl Message for Balance {
    const TYPE_ID: MessageTypeId = MessageTypeId(0x0F02);
}

/// Deposits; a deposit of exactly -1 cent is refused as a handler failure (code 3).
struct Account;
impl Actor for Account {
    const NAME: &'static str = "account";
    type State = Balance;
    type Msg = Deposit;
    type Reply = Balance;
    fn handle(s: &mut Balance, m: &Deposit, _c: &Context) -> Result<Balance, HandlerError> {
        if m.cents == -1 {
            return Err(HandlerError(3));
        }
        s.cents += m.cents;
        s.deposits += 1;
        Ok(*s)
    }
    fn cuda_handler() -> Option<CudaHandler> {
        Some(CudaHandler {
            function: "account_handle",
            state_type: "Balance",
            msg_type: "Deposit",
            reply_type: "Balance",
            struct_defs: "struct Deposit { long long cents; };\n\
                          struct Balance { long long cents; unsigned long long deposits; };",
            source: "__device__ int account_handle(Balance* s, const Deposit* m, Balance* r, const rk_ctx* c) {\n\
                     if (m->cents == -1) return 3;\n\
                     s->cents += m->cents; s->deposits += 1; *r = *s; return 0; }",
        })
    }
}

fn runtime(backend: Backend) -> Runtime {
    Runtime::builder()
        .backend(backend)
        .register::<Account>()
        .build()
        .unwrap_or_else(|e| panic!("this test needs a usable NVIDIA GPU: {e}"))
}

const T: Duration = Duration::from_secs(10);

#[test]
fn auto_picks_cuda_when_a_gpu_is_present() {
    let rt = runtime(Backend::Auto);
    assert_eq!(
        rt.backend_kind(),
        BackendKind::Cuda,
        "fell back: {:?}",
        rt.fallback_reason()
    );
    assert!(rt.fallback_reason().is_none());
}

#[test]
fn tell_and_ask_through_the_public_api() {
    let rt = runtime(Backend::Cuda);
    let acct = rt
        .spawn::<Account>(Balance {
            cents: 100,
            deposits: 0,
        })
        .unwrap();
    for _ in 0..500 {
        loop {
            match acct.tell(Deposit { cents: 2 }) {
                Ok(()) => break,
                Err(SendError::Full(_)) => std::thread::yield_now(),
                Err(e) => panic!("{e}"),
            }
        }
    }
    // The mailbox may still be full: an ask gets the same backpressure as a tell.
    let b = loop {
        match acct.ask_blocking(Deposit { cents: 0 }, T) {
            Err(AskError::Send(SendError::Full(_))) => std::thread::yield_now(),
            other => break other.unwrap(),
        }
    };
    assert_eq!(
        b,
        Balance {
            cents: 1100,
            deposits: 501
        }
    );
    let tokio_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let b = tokio_rt.block_on(acct.ask(Deposit { cents: 5 })).unwrap();
    assert_eq!(b.cents, 1105);
}

#[test]
fn handler_failure_and_stop_through_the_public_api() {
    let rt = runtime(Backend::Cuda);
    let bad = rt.spawn::<Account>(Balance::default()).unwrap();
    let good = rt.spawn::<Account>(Balance::default()).unwrap();
    assert!(matches!(
        bad.ask_blocking(Deposit { cents: -1 }, T),
        Err(AskError::HandlerFailed {
            error: HandlerError(3),
            ..
        })
    ));
    assert_eq!(bad.state(), LifecycleState::Failed);
    assert_eq!(good.ask_blocking(Deposit { cents: 1 }, T).unwrap().cents, 1);
    good.stop().unwrap();
    assert!(matches!(
        good.tell(Deposit { cents: 1 }),
        Err(SendError::Stopped(_))
    ));
    let report = rt.shutdown(T).unwrap();
    assert_eq!(report.processed, 2);
}

#[test]
fn two_runtimes_one_after_another() {
    for round in 0..2 {
        let rt = runtime(Backend::Cuda);
        let a = rt.spawn::<Account>(Balance::default()).unwrap();
        assert_eq!(
            a.ask_blocking(Deposit { cents: round }, T).unwrap().cents,
            round
        );
        rt.shutdown(T).unwrap();
    }
}

#[test]
fn tell_batch_through_the_public_api() {
    let rt = runtime(Backend::Cuda);
    let acct = rt.spawn::<Account>(Balance::default()).unwrap();
    let msgs: Vec<Deposit> = (1..=10_000).map(|c| Deposit { cents: c }).collect();
    let mut rest = &msgs[..];
    while !rest.is_empty() {
        match acct.tell_batch(rest) {
            Ok(n) => rest = &rest[n..],
            Err(SendError::Full(_)) => std::thread::yield_now(),
            Err(e) => panic!("{e}"),
        }
    }
    let b = loop {
        match acct.ask_blocking(Deposit { cents: 0 }, T) {
            Err(AskError::Send(SendError::Full(_))) => std::thread::yield_now(),
            other => break other.unwrap(),
        }
    };
    assert_eq!(
        b,
        Balance {
            cents: 50_005_000,
            deposits: 10_001
        }
    );
}

#[test]
fn registry_follows_the_actor_lifecycle_on_the_gpu() {
    let rt = runtime(Backend::Cuda);
    let bad = rt.spawn::<Account>(Balance::default()).unwrap();
    let good = rt.spawn::<Account>(Balance::default()).unwrap();
    rt.register_name("accounts/bad", &bad).unwrap();
    rt.register_name("accounts/good", &good).unwrap();
    let found = |p: &str| -> Vec<String> {
        rt.discover(p)
            .unwrap()
            .iter()
            .map(|e| e.name().to_owned())
            .collect()
    };
    assert_eq!(found("accounts/*"), ["accounts/bad", "accounts/good"]);
    // The block marks itself failed; the registry reads that state and hides the name...
    assert!(matches!(
        bad.ask_blocking(Deposit { cents: -1 }, T),
        Err(AskError::HandlerFailed { .. })
    ));
    assert!(matches!(
        rt.lookup::<Account>("accounts/bad"),
        Err(Error::NameNotFound(_))
    ));
    assert_eq!(found("accounts/**"), ["accounts/good"]);
    // ...until the block restarts in place (same id), when it resolves again.
    rt.restart(&bad, Balance::default()).unwrap();
    let back = rt.lookup::<Account>("accounts/bad").unwrap();
    assert_eq!(back.id(), bad.id());
    assert_eq!(back.ask_blocking(Deposit { cents: 2 }, T).unwrap().cents, 2);
    assert_eq!(found("accounts/*"), ["accounts/bad", "accounts/good"]);
    let g = rt.lookup::<Account>("accounts/good").unwrap();
    assert_eq!(g.ask_blocking(Deposit { cents: 1 }, T).unwrap().cents, 1);
    good.stop().unwrap();
    assert_eq!(found("accounts/**"), ["accounts/bad"]);
    rt.shutdown(T).unwrap();
    assert!(matches!(
        rt.lookup::<Account>("accounts/good"),
        Err(Error::RegistryClosed)
    ));
}

/// A device actor's send to an actor that does not exist reaches the API as a dead letter.
#[test]
fn dead_letters_through_the_public_api() {
    use ringkernel_cuda::peer::{kind, Peer, PeerMsg, PeerState};
    let rt = Runtime::builder()
        .backend(Backend::Cuda)
        .register::<Peer>()
        .build()
        .unwrap_or_else(|e| panic!("this test needs a usable NVIDIA GPU: {e}"));
    let a = rt.spawn::<Peer>(PeerState::new(0, 1, 7)).unwrap();
    let raw = PeerMsg {
        kind: kind::RAW,
        target: 1_000_000,
        seq: u64::from(PeerMsg::TYPE_ID.0),
        n: std::mem::size_of::<PeerMsg>() as u64,
    };
    let s = a.ask_blocking(raw, Duration::from_secs(10)).unwrap();
    assert_eq!(s.dead, 1);
    let until = std::time::Instant::now() + Duration::from_secs(10);
    while rt.dead_letter_counts().total() == 0 {
        assert!(
            std::time::Instant::now() < until,
            "dead letter never arrived"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    let letters = rt.dead_letters();
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].reason, DeadLetterReason::UnknownTarget);
    assert_eq!(letters[0].envelope.sender(), a.id());
    assert_eq!(rt.dead_letter_counts().unknown_target, 1);
    rt.shutdown(Duration::from_secs(10)).unwrap();
}

/// `Backend::MultiCuda` through the public API: spawn, ask, migrate (to the last GPU, or to
/// another block on a one-GPU host), ask again; the state travelled and the id did not change.
#[test]
fn multi_gpu_runtime_migrates_an_actor_through_the_public_api() {
    let rt = runtime(Backend::MultiCuda);
    let multi = rt
        .multi_gpu()
        .expect("a MultiCuda runtime has multi-GPU operations");
    let acct = rt.spawn::<Account>(Balance::default()).unwrap();
    for cents in 1..=10 {
        acct.tell(Deposit { cents }).unwrap();
    }
    assert_eq!(
        acct.ask_blocking(Deposit { cents: 0 }, T).unwrap().cents,
        55
    );
    let to = multi.gpu_count() - 1;
    let report = multi.migrate(acct.id(), to).unwrap();
    assert_eq!(report.to_gpu, to);
    assert_eq!(multi.gpu_of(acct.id()), Some(to));
    let after = acct.ask_blocking(Deposit { cents: 45 }, T).unwrap();
    assert_eq!((after.cents, after.deposits), (100, 12));
    rt.shutdown(T).unwrap();
}

#[test]
fn a_supervision_tree_restarts_gpu_actors_in_the_kernel_and_from_the_host() {
    use ringkernel::supervision::{Intensity, Strategy};
    use ringkernel::{SpawnOptions, SupervisionEvent, SupervisorSpec};
    let rt = runtime(Backend::Cuda);
    let in_kernel = SpawnOptions::default().restart(Intensity {
        max_restarts: 1,
        period: Duration::from_secs(60),
    });
    let spec = SupervisorSpec::new(Strategy::OneForAll)
        .max_restarts(5, Duration::from_secs(60))
        .actor_with::<Account>(
            "checking",
            Balance {
                cents: 100,
                deposits: 0,
            },
            in_kernel,
        )
        .actor::<Account>(
            "savings",
            Balance {
                cents: 500,
                deposits: 0,
            },
        );
    let s = rt.supervise(spec).unwrap();
    let checking = s.actor::<Account>("checking").unwrap();
    let savings = s.actor::<Account>("savings").unwrap();
    let t = Duration::from_secs(10);
    savings.ask_blocking(Deposit { cents: 1 }, t).unwrap();
    // First failure: restarted inside the kernel by its policy; the supervisor only logs it.
    checking.tell(Deposit { cents: -1 }).unwrap();
    let r = checking.ask_blocking(Deposit { cents: 5 }, t).unwrap();
    assert_eq!(
        r,
        Balance {
            cents: 105,
            deposits: 1
        }
    );
    let wait_log = |n: usize| {
        let until = std::time::Instant::now() + t;
        while s.log().len() < n {
            assert!(std::time::Instant::now() < until, "log: {:?}", s.log());
            std::thread::sleep(Duration::from_millis(1));
        }
        s.log()
    };
    assert!(matches!(
        wait_log(1)[0],
        SupervisionEvent::RestartedInPlace { .. }
    ));
    assert_eq!(
        savings.ask_blocking(Deposit { cents: 0 }, t).unwrap().cents,
        501
    );
    // Second failure: the policy is spent; one_for_all restarts both from the host (same ids,
    // initial states, same kernel).
    checking.tell(Deposit { cents: -1 }).unwrap();
    let log = wait_log(2);
    assert_eq!(
        log[1],
        SupervisionEvent::Restarted {
            supervisor: String::new(),
            failed: "checking".into(),
            restarted: vec!["checking".into(), "savings".into()],
        }
    );
    assert_eq!(
        checking
            .ask_blocking(Deposit { cents: 0 }, t)
            .unwrap()
            .cents,
        100
    );
    assert_eq!(
        savings.ask_blocking(Deposit { cents: 0 }, t).unwrap().cents,
        500
    );
    // The restarted incarnation has its in-kernel policy again.
    checking.tell(Deposit { cents: -1 }).unwrap();
    assert!(matches!(
        wait_log(3)[2],
        SupervisionEvent::RestartedInPlace { .. }
    ));
    s.stop();
    assert_eq!(checking.state(), LifecycleState::Terminated);
    rt.shutdown(t).unwrap();
}

#[test]
fn memory_pressure_spills_an_actor_off_the_gpu_and_unspill_brings_its_state_back() {
    // Spill at any device memory use: the first sample (after 300 ms) finds "pressure". The
    // degradation level ignores memory here, so sends are not shed at admission.
    let policy = ringkernel::MemoryPolicy::new(1e-9, 1e-9, 1e-9).unwrap();
    let calm =
        ringkernel::Thresholds::new([0.9, 0.95, 0.98, 0.99], [f64::INFINITY; 4], [1e6; 4], 0.8)
            .unwrap();
    let rt = Runtime::builder()
        .backend(Backend::Cuda)
        .register::<Account>()
        .memory_policy(policy)
        .degradation(calm, Duration::from_secs(60))
        .monitor_interval(Duration::from_millis(300))
        .spill_actors_under_memory_pressure(true)
        .build()
        .unwrap_or_else(|e| panic!("this test needs a usable NVIDIA GPU: {e}"));
    let low = rt
        .spawn_with::<Account>(Balance::default(), SpawnOptions::default().priority(7))
        .unwrap();
    for c in 1..=20 {
        low.tell(Deposit { cents: c }).unwrap();
    }
    let until = std::time::Instant::now() + T;
    while !rt.spilled().contains(&low.id()) {
        assert!(
            std::time::Instant::now() < until,
            "{:?}",
            rt.resilience_events()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    while low.state() != LifecycleState::Terminated {
        assert!(std::time::Instant::now() < until);
        std::thread::sleep(Duration::from_millis(1));
    }
    rt.unspill(low.id()).unwrap();
    // Back in its block of the running kernel with its spilled state.
    assert_eq!(
        low.ask_blocking(Deposit { cents: 1 }, T).unwrap(),
        Balance {
            cents: 211,
            deposits: 21
        }
    );
}

/// Names for swarm ids (`SwarmNames`): they resolve and are discovered by wildcard while their
/// actors live, and leave with them, whether stopped through the registry or through the swarm.
#[test]
fn swarm_ids_have_names_that_follow_their_lifecycle() {
    use ringkernel::swarm::kit::{self, types};
    use ringkernel::swarm::{Swarm, SwarmConfig, SwarmProgram};
    use ringkernel::SwarmNames;

    let s = Swarm::new(
        &SwarmProgram::kit(),
        SwarmConfig {
            capacity: 1024,
            device_spawns: 0,
            state_bytes: kit::SMALL_STATE,
            ..SwarmConfig::default()
        },
    )
    .unwrap_or_else(|e| panic!("this test needs a usable NVIDIA GPU (sm_90): {e}"));
    let ids = s.spawn_many(types::COUNTER, 3, |_, _| {}).unwrap();
    let names = SwarmNames::new(&s);
    let cities = ["sensors/eu/berlin", "sensors/eu/paris", "sensors/us/austin"];
    for (name, id) in cities.iter().zip(ids.clone()) {
        names.register(name, id).unwrap();
    }
    assert_eq!(names.resolve("sensors/eu/paris").unwrap(), ids.start + 1);
    let eu: Vec<u32> = names
        .discover("sensors/eu/*")
        .unwrap()
        .into_iter()
        .map(|(_, id)| id)
        .collect();
    assert_eq!(eu, vec![ids.start, ids.start + 1]);
    assert!(matches!(
        names.register("sensors/unborn", 1000),
        Err(Error::ActorNotLive { .. })
    ));
    // Through the registry: gone before `stop` returns, and the stopped actor cannot be
    // named again.
    names.stop(ids.start).unwrap();
    assert!(matches!(
        names.resolve("sensors/eu/berlin"),
        Err(Error::NameNotFound(_))
    ));
    assert!(matches!(
        names.register("sensors/eu/berlin", ids.start),
        Err(Error::ActorNotLive { .. })
    ));
    // Through the swarm: the stop is applied when stop_actor returns, so the next lookup
    // purges the names.
    s.stop_actor(ids.start + 2).unwrap();
    assert!(matches!(
        names.resolve("sensors/us/austin"),
        Err(Error::NameNotFound(_))
    ));
    assert_eq!(names.discover("sensors/**").unwrap().len(), 1);
    drop(names);
    s.shutdown().unwrap();
}
