//! The named registry through `Runtime` on the CPU backend: wildcards, typed errors, lifecycle,
//! threads, shutdown, and property tests against a reference matcher.

#![allow(clippy::unwrap_used)] // Tests unwrap: a panic is the failure report.

mod common;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Barrier;
use std::time::Duration;

use common::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use ringkernel::prelude::*;
use ringkernel::registry::{ActorName, NameError, NamePattern, MAX_SEGMENTS};

fn runtime() -> Runtime {
    cpu_runtime()
        .register::<Counter>()
        .register::<Echo>()
        .register::<GateActor>()
        .build()
        .unwrap()
}

fn names(found: Vec<RegistryEntry>) -> Vec<String> {
    found.into_iter().map(|e| e.name().to_owned()).collect()
}

fn discover(rt: &Runtime, pattern: &str) -> Vec<String> {
    names(rt.discover(pattern).unwrap())
}

fn counter(rt: &Runtime) -> ActorRef<Counter> {
    rt.spawn::<Counter>(Total::default()).unwrap()
}

#[test]
fn register_lookup_and_discover_with_wildcards() {
    let rt = runtime();
    let all = [
        "sensors/eu/berlin",
        "sensors/eu/paris",
        "sensors/eu/paris/temp",
        "sensors/eu-west/dublin",
        "sensors/us/austin/temp",
        "sensors",
        "billing/temp",
    ];
    let mut ids = Vec::new();
    for name in all {
        let c = counter(&rt);
        rt.register_name(name, &c).unwrap();
        ids.push(c.id());
    }
    assert_eq!(
        discover(&rt, "sensors/eu/*"),
        ["sensors/eu/berlin", "sensors/eu/paris"]
    );
    assert_eq!(
        discover(&rt, "sensors/eu/**"),
        [
            "sensors/eu/berlin",
            "sensors/eu/paris",
            "sensors/eu/paris/temp"
        ]
    );
    assert_eq!(
        discover(&rt, "**/temp"),
        [
            "billing/temp",
            "sensors/eu/paris/temp",
            "sensors/us/austin/temp"
        ]
    );
    assert_eq!(
        discover(&rt, "sensors/*/*/temp"),
        ["sensors/eu/paris/temp", "sensors/us/austin/temp"]
    );
    assert_eq!(discover(&rt, "sensors/**").len(), 6);
    assert_eq!(discover(&rt, "**").len(), all.len());
    assert!(discover(&rt, "sensors/asia/*").is_empty());

    let entries = rt.discover("sensors/eu/*").unwrap();
    assert_eq!(entries[0].actor(), ids[0]);
    assert_eq!(entries[0].type_name(), "counter");
    assert!(entries[0].is::<Counter>() && !entries[0].is::<Echo>());

    // The looked-up handle is the registered actor.
    let paris = rt.lookup::<Counter>("sensors/eu/paris").unwrap();
    assert_eq!(paris.id(), ids[1]);
    assert_eq!(paris.ask_blocking(Add { n: 5 }, WAIT).unwrap().sum, 5);
    assert_eq!(rt.resolve("sensors").unwrap().actor(), ids[5]);
}

#[test]
fn one_actor_many_names_and_unregister() {
    let rt = runtime();
    let c = counter(&rt);
    for name in ["svc/a", "svc/b", "alias"] {
        rt.register_name(name, &c).unwrap();
    }
    // Again to the same owner: a no-op.
    rt.register_name("svc/a", &c).unwrap();
    assert_eq!(rt.names_of(c.id()).unwrap(), ["alias", "svc/a", "svc/b"]);
    let removed = rt.unregister_name("svc/a").unwrap();
    assert_eq!((removed.name(), removed.actor()), ("svc/a", c.id()));
    assert!(matches!(
        rt.unregister_name("svc/a"),
        Err(Error::NameNotFound(n)) if n == "svc/a"
    ));
    assert!(matches!(
        rt.lookup::<Counter>("svc/a"),
        Err(Error::NameNotFound(_))
    ));
    assert_eq!(rt.names_of(c.id()).unwrap(), ["alias", "svc/b"]);
    assert_eq!(c.state(), LifecycleState::Active, "the actor is unaffected");
}

#[test]
fn taken_names_report_the_owner() {
    let rt = runtime();
    let first = counter(&rt);
    let second = rt.spawn::<Echo>(()).unwrap();
    rt.register_name("svc/primary", &first).unwrap();
    match rt.register_name("svc/primary", &second) {
        Err(Error::NameTaken {
            name,
            owner,
            owner_type,
        }) => {
            assert_eq!(name, "svc/primary");
            assert_eq!(owner, first.id());
            assert_eq!(owner_type, "counter");
        }
        other => panic!("expected NameTaken, got {other:?}"),
    }
    assert_eq!(rt.resolve("svc/primary").unwrap().actor(), first.id());
    // Once freed, the other actor can take it.
    rt.unregister_name("svc/primary").unwrap();
    rt.register_name("svc/primary", &second).unwrap();
    assert_eq!(rt.resolve("svc/primary").unwrap().actor(), second.id());
}

#[test]
fn lookup_of_another_type_is_a_type_mismatch() {
    let rt = runtime();
    let echo = rt.spawn::<Echo>(()).unwrap();
    rt.register_name("echo", &echo).unwrap();
    match rt.lookup::<Counter>("echo") {
        Err(Error::NameTypeMismatch {
            name,
            actor,
            expected,
            found,
        }) => {
            assert_eq!(name, "echo");
            assert_eq!(actor, echo.id());
            assert_eq!((expected, found), ("counter", "echo"));
        }
        other => panic!("expected NameTypeMismatch, got {other:?}"),
    }
    let e = rt.lookup::<Echo>("echo").unwrap();
    assert_eq!(
        e.ask_blocking(Ping::default(), WAIT).unwrap().self_id,
        echo.id().raw()
    );
}

#[test]
fn invalid_names_and_patterns_are_typed_errors() {
    let rt = runtime();
    let c = counter(&rt);
    let bad_names = [
        ("", NameError::Empty),
        ("/a", NameError::EmptySegment { index: 0 }),
        ("a/", NameError::EmptySegment { index: 1 }),
        ("a//b", NameError::EmptySegment { index: 1 }),
        ("a b", NameError::InvalidChar { ch: ' ', offset: 1 }),
        ("sensors/*", NameError::WildcardInName { offset: 8 }),
    ];
    for (name, reason) in bad_names {
        for result in [
            rt.register_name(name, &c).map(|_| ()),
            rt.lookup::<Counter>(name).map(|_| ()),
            rt.unregister_name(name).map(|_| ()),
            rt.resolve(name).map(|_| ()),
        ] {
            match result {
                Err(Error::InvalidName { name: n, reason: r }) => {
                    assert_eq!((n.as_str(), r), (name, reason))
                }
                other => panic!("{name:?}: expected InvalidName, got {other:?}"),
            }
        }
    }
    for (pattern, reason) in [
        ("sensors/eu*", NameError::PartialWildcard { index: 1 }),
        ("***", NameError::PartialWildcard { index: 0 }),
        ("a//*", NameError::EmptySegment { index: 1 }),
        ("", NameError::Empty),
    ] {
        match rt.discover(pattern) {
            Err(Error::InvalidPattern {
                pattern: p,
                reason: r,
            }) => {
                assert_eq!((p.as_str(), r), (pattern, reason))
            }
            other => panic!("{pattern:?}: expected InvalidPattern, got {other:?}"),
        }
    }
    // The message names the input and the rule.
    let msg = rt.register_name("a//b", &c).unwrap_err().to_string();
    assert!(
        msg.contains("\"a//b\"") && msg.contains("segment 1 is empty"),
        "{msg}"
    );
    assert!(rt.names_of(c.id()).unwrap().is_empty());
}

#[test]
fn a_handle_of_another_runtime_is_refused() {
    let rt = runtime();
    let other = runtime();
    let stranger = counter(&other);
    // Ids are per runtime: the same id here may be a different actor.
    let _local = counter(&rt);
    assert!(matches!(
        rt.register_name("x", &stranger),
        Err(Error::ForeignActor(id)) if id == stranger.id()
    ));
    assert!(discover(&rt, "**").is_empty());
}

#[test]
fn stop_removes_names_before_it_returns() {
    let g = 0;
    let rt = runtime();
    let busy = rt.spawn::<GateActor>(Total::default()).unwrap();
    rt.register_name("jobs/busy", &busy).unwrap();
    rt.register_name("jobs/alias", &busy).unwrap();
    busy.tell(gated(g, 1)).unwrap();
    assert!(eventually(|| entered(g) == 1));
    busy.stop().unwrap();
    // Still draining (its handler is blocked), yet its names are gone and free for a successor:
    // removal was eager, not a lazy purge at termination.
    assert_eq!(busy.state(), LifecycleState::Draining);
    assert!(matches!(
        rt.lookup::<GateActor>("jobs/busy"),
        Err(Error::NameNotFound(_))
    ));
    assert!(discover(&rt, "jobs/**").is_empty());
    let successor = rt.spawn::<GateActor>(Total::default()).unwrap();
    rt.register_name("jobs/busy", &successor).unwrap();
    assert!(matches!(
        rt.register_name("jobs/other", &busy),
        Err(Error::ActorNotLive {
            state: LifecycleState::Draining,
            ..
        })
    ));
    open(g);
    assert!(eventually(|| busy.state() == LifecycleState::Terminated));
    assert_eq!(rt.resolve("jobs/busy").unwrap().actor(), successor.id());
    assert!(rt.names_of(busy.id()).unwrap().is_empty());
}

#[test]
fn a_failed_actor_is_hidden_until_restarted_and_its_names_may_be_taken() {
    let rt = runtime();
    let bad = counter(&rt);
    let good = counter(&rt);
    rt.register_name("workers/bad", &bad).unwrap();
    rt.register_name("workers/good", &good).unwrap();
    assert!(matches!(
        bad.ask_blocking(Add { n: FAIL }, WAIT),
        Err(AskError::HandlerFailed { .. })
    ));
    assert_eq!(bad.state(), LifecycleState::Failed);
    assert_eq!(discover(&rt, "workers/*"), ["workers/good"]);
    assert!(matches!(
        rt.lookup::<Counter>("workers/bad"),
        Err(Error::NameNotFound(_))
    ));
    assert!(matches!(
        rt.register_name("workers/bad2", &bad),
        Err(Error::ActorNotLive {
            state: LifecycleState::Failed,
            ..
        })
    ));
    assert!(rt.names_of(bad.id()).unwrap().is_empty());
    // A restart keeps the id, and with it the names, though lookups ran while it was down.
    rt.restart(&bad, Total::default()).unwrap();
    assert!(eventually(|| bad.state() == LifecycleState::Active));
    assert_eq!(rt.lookup::<Counter>("workers/bad").unwrap().id(), bad.id());
    assert_eq!(discover(&rt, "workers/*"), ["workers/bad", "workers/good"]);
    // A failed actor's name is free for another actor.
    tell_retry(&bad, Add { n: FAIL });
    assert!(eventually(|| bad.state() == LifecycleState::Failed));
    let replacement = counter(&rt);
    rt.register_name("workers/bad", &replacement).unwrap();
    assert_eq!(
        rt.lookup::<Counter>("workers/bad").unwrap().id(),
        replacement.id()
    );
    rt.restart(&bad, Total::default()).unwrap();
    assert!(eventually(|| bad.state() == LifecycleState::Active));
    assert!(rt.names_of(bad.id()).unwrap().is_empty());
    assert_eq!(rt.resolve("workers/bad").unwrap().actor(), replacement.id());
    // A panicking handler counts as a failure too.
    tell_retry(&replacement, Add { n: PANIC });
    assert!(eventually(|| replacement.state() == LifecycleState::Failed));
    assert!(matches!(
        rt.resolve("workers/bad"),
        Err(Error::NameNotFound(_))
    ));
}

#[test]
fn a_supervised_restart_keeps_the_names() {
    use ringkernel::supervision::Strategy;
    use ringkernel::SupervisorSpec;
    let g = 3;
    let rt = runtime();
    // One for all: the restart of `a` waits until `gate` stopped, and `gate` is held inside
    // its handler, so `a` stays failed while the names are looked up.
    let s = rt
        .supervise(
            SupervisorSpec::new(Strategy::OneForAll)
                .max_restarts(10, Duration::from_secs(60))
                .actor::<Counter>("a", Total::default())
                .actor::<GateActor>("gate", Total::default()),
        )
        .unwrap();
    let a = s.actor::<Counter>("a").unwrap();
    rt.register_name("svc/a", &a).unwrap();
    s.actor::<GateActor>("gate")
        .unwrap()
        .tell(gated(g, 1))
        .unwrap();
    assert!(eventually(|| entered(g) == 1));
    a.tell(Add { n: FAIL }).unwrap();
    assert!(eventually(|| a.state() == LifecycleState::Failed));
    assert!(matches!(rt.resolve("svc/a"), Err(Error::NameNotFound(_))));
    assert!(discover(&rt, "svc/**").is_empty());
    assert_eq!(a.state(), LifecycleState::Failed, "restarted too early");
    open(g);
    assert!(eventually(|| !s.log().is_empty()), "no restart logged");
    assert!(eventually(|| a.state() == LifecycleState::Active));
    assert_eq!(rt.resolve("svc/a").unwrap().actor(), a.id());
    assert_eq!(discover(&rt, "svc/**"), ["svc/a"]);
}

#[test]
fn an_actor_stopped_behind_the_handles_back_is_hidden_then_purged() {
    let g = 1;
    let rt = runtime();
    let a = rt.spawn::<GateActor>(Total::default()).unwrap();
    rt.register_name("raw/stopped", &a).unwrap();
    a.tell(gated(g, 1)).unwrap();
    assert!(eventually(|| entered(g) == 1));
    // The raw backend path bypasses ActorRef::stop, so nothing removes the name eagerly.
    rt.backend().stop(a.id()).unwrap();
    assert!(matches!(
        rt.lookup::<GateActor>("raw/stopped"),
        Err(Error::NameNotFound(_))
    ));
    assert!(discover(&rt, "raw/*").is_empty());
    open(g);
    assert!(eventually(|| a.state() == LifecycleState::Terminated));
    assert!(discover(&rt, "**").is_empty());
    let b = rt.spawn::<GateActor>(Total::default()).unwrap();
    rt.register_name("raw/stopped", &b).unwrap();
}

#[test]
fn shutdown_closes_the_registry() {
    let rt = runtime();
    let c = counter(&rt);
    rt.register_name("svc", &c).unwrap();
    rt.shutdown(WAIT).unwrap();
    assert!(matches!(
        rt.lookup::<Counter>("svc"),
        Err(Error::RegistryClosed)
    ));
    assert!(matches!(rt.resolve("svc"), Err(Error::RegistryClosed)));
    assert!(matches!(rt.discover("**"), Err(Error::RegistryClosed)));
    assert!(matches!(
        rt.register_name("svc2", &c),
        Err(Error::RegistryClosed)
    ));
    assert!(matches!(
        rt.unregister_name("svc"),
        Err(Error::RegistryClosed)
    ));
    assert!(matches!(rt.names_of(c.id()), Err(Error::RegistryClosed)));
    // Invalid input is still reported as such.
    assert!(matches!(
        rt.lookup::<Counter>("a//b"),
        Err(Error::InvalidName { .. })
    ));
    assert_eq!(c.stop(), Err(SendError::ShutDown));
}

#[test]
fn concurrent_register_and_lookup_from_threads() {
    const THREADS: usize = 8;
    const PER_THREAD: usize = 100;
    const SHARED: usize = 50;
    let rt = runtime();
    let actors: Vec<_> = (0..THREADS).map(|_| counter(&rt)).collect();
    let wins = AtomicUsize::new(0);
    let barrier = Barrier::new(THREADS);
    std::thread::scope(|s| {
        for (t, me) in actors.iter().enumerate() {
            let (rt, wins, barrier, actors) = (&rt, &wins, &barrier, &actors);
            s.spawn(move || {
                barrier.wait();
                for j in 0..PER_THREAD {
                    rt.register_name(&format!("t{t}/n{j}"), me).unwrap();
                    assert_eq!(
                        rt.lookup::<Counter>(&format!("t{t}/n{j}")).unwrap().id(),
                        me.id()
                    );
                    // Everyone races for the shared names; exactly one wins each.
                    if j < SHARED {
                        match rt.register_name(&format!("shared/{j}"), me) {
                            Ok(()) => {
                                wins.fetch_add(1, Ordering::Relaxed);
                            }
                            Err(Error::NameTaken { owner, .. }) => {
                                assert_ne!(owner, me.id());
                                assert!(actors.iter().any(|a| a.id() == owner));
                            }
                            Err(e) => panic!("{e}"),
                        }
                    }
                    // Another thread's name: absent yet, or resolved to that thread's actor.
                    let other = (t + 1 + j) % THREADS;
                    match rt.lookup::<Counter>(&format!("t{other}/n{j}")) {
                        Ok(r) => assert_eq!(r.id(), actors[other].id()),
                        Err(Error::NameNotFound(_)) => {}
                        Err(e) => panic!("{e}"),
                    }
                    let mine = rt.discover(&format!("t{t}/*")).unwrap();
                    assert_eq!(mine.len(), j + 1);
                }
            });
        }
    });
    assert_eq!(wins.load(Ordering::Relaxed), SHARED);
    assert_eq!(discover(&rt, "shared/*").len(), SHARED);
    assert_eq!(discover(&rt, "*/n7").len(), THREADS);
    assert_eq!(discover(&rt, "**").len(), THREADS * PER_THREAD + SHARED);
}

#[test]
fn registrations_racing_a_stop_never_outlive_it() {
    let g = 2;
    let rt = runtime();
    for round in 0..20 {
        let victim = rt.spawn::<GateActor>(Total::default()).unwrap();
        // Keep the victim Draining after the stop, so a stale entry could only be removed by the
        // stop itself, never by a later purge of a terminated actor.
        victim.tell(gated(g, 1)).unwrap();
        let registered = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for t in 0..3 {
                let (rt, victim, registered) = (&rt, &victim, &registered);
                s.spawn(move || {
                    for j in 0.. {
                        match rt.register_name(&format!("race{round}/{t}/{j}"), victim) {
                            Ok(()) => {
                                registered.fetch_add(1, Ordering::Relaxed);
                            }
                            Err(Error::ActorNotLive { .. }) => break,
                            Err(e) => panic!("{e}"),
                        }
                    }
                });
            }
            while registered.load(Ordering::Relaxed) < 10 {
                std::thread::yield_now();
            }
            victim.stop().unwrap();
        });
        assert_eq!(victim.state(), LifecycleState::Draining);
        assert!(rt.names_of(victim.id()).unwrap().is_empty());
        // Hidden entries of a draining actor would make these NameTaken.
        let heir = rt.spawn::<GateActor>(Total::default()).unwrap();
        for t in 0..3 {
            rt.register_name(&format!("race{round}/{t}/0"), &heir)
                .unwrap();
        }
        assert_eq!(discover(&rt, &format!("race{round}/**")).len(), 3);
    }
    open(g);
}

// ---------------------------------------------------------------- properties

/// The obvious recursive matcher, to check the real one against.
fn reference_match(pattern: &[&str], name: &[&str]) -> bool {
    match pattern.split_first() {
        None => name.is_empty(),
        Some((&"**", rest)) => (0..=name.len()).any(|k| reference_match(rest, &name[k..])),
        Some((&"*", rest)) => !name.is_empty() && reference_match(rest, &name[1..]),
        Some((lit, rest)) => name.first() == Some(lit) && reference_match(rest, &name[1..]),
    }
}

/// Segments from a tiny alphabet, so random patterns and names often match.
fn segment() -> impl Strategy<Value = String> {
    prop_oneof!["a", "b", "ab", "[a-c]{1,2}"]
}

fn name_segments() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(segment(), 1..6)
}

fn pattern_segments() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(
        prop_oneof![segment(), Just("*".to_owned()), Just("**".to_owned())],
        1..6,
    )
}

fn runner() -> TestRunner {
    TestRunner::new(Config {
        cases: 256,
        failure_persistence: None,
        ..Config::default()
    })
}

#[test]
fn random_strings_never_panic_and_fail_with_typed_errors() {
    let rt = runtime();
    let c = counter(&rt);
    let input = prop_oneof![
        any::<String>(),
        "[a-z/*. -]{0,20}",
        "[a/*]{0,12}",
        prop::collection::vec("[a-z*]{0,3}", 0..40).prop_map(|v| v.join("/")),
    ];
    runner()
        .run(&input, |s| {
            let valid_name = ActorName::parse(&s).is_ok();
            let valid_pattern = NamePattern::parse(&s).is_ok();
            match rt.register_name(&s, &c) {
                Ok(()) => prop_assert!(valid_name),
                Err(Error::InvalidName { .. }) => prop_assert!(!valid_name),
                Err(e) => return Err(TestCaseError::fail(format!("{s:?}: {e}"))),
            }
            match rt.lookup::<Counter>(&s) {
                Ok(r) => prop_assert_eq!(r.id(), c.id()),
                Err(Error::InvalidName { .. }) => prop_assert!(!valid_name),
                Err(e) => return Err(TestCaseError::fail(format!("{s:?}: {e}"))),
            }
            match rt.discover(&s) {
                Ok(found) => {
                    prop_assert!(valid_pattern);
                    prop_assert!(found
                        .iter()
                        .all(|e| NamePattern::parse(&s).unwrap().matches(e.name())));
                }
                Err(Error::InvalidPattern { .. }) => prop_assert!(!valid_pattern),
                Err(e) => return Err(TestCaseError::fail(format!("{s:?}: {e}"))),
            }
            // Every valid name is a valid pattern that matches exactly itself.
            if valid_name {
                prop_assert!(valid_pattern);
                prop_assert!(NamePattern::parse(&s).unwrap().matches(&s));
                rt.unregister_name(&s).unwrap();
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn valid_generated_names_round_trip() {
    let rt = runtime();
    let c = counter(&rt);
    let name = prop::collection::vec("[A-Za-z0-9_.-]{1,64}", 1..=MAX_SEGMENTS)
        .prop_map(|segs| segs.join("/"))
        .prop_filter("within the length limit", |n| {
            n.len() <= ringkernel::registry::MAX_NAME_LEN
        });
    runner()
        .run(&name, |s| {
            let parsed = ActorName::parse(&s).unwrap();
            prop_assert_eq!(parsed.as_str(), s.as_str());
            prop_assert_eq!(parsed.segments().collect::<Vec<_>>().join("/"), s.clone());
            rt.register_name(&s, &c).unwrap();
            prop_assert_eq!(rt.lookup::<Counter>(&s).unwrap().id(), c.id());
            // The name as a pattern finds exactly itself.
            prop_assert_eq!(discover(&rt, &s), vec![s.clone()]);
            let removed = rt.unregister_name(&s).unwrap();
            prop_assert_eq!(removed.name(), s.as_str());
            Ok(())
        })
        .unwrap();
}

#[test]
fn matching_and_discovery_agree_with_the_reference_matcher() {
    let rt = runtime();
    let c = counter(&rt);
    let case = (
        pattern_segments(),
        prop::collection::vec(name_segments(), 1..12),
    );
    runner()
        .run(&case, |(pat, registered)| {
            let pattern = NamePattern::parse(&pat.join("/")).unwrap();
            let pat: Vec<&str> = pat.iter().map(String::as_str).collect();
            let mut expected = BTreeSet::new();
            for segs in &registered {
                let name = segs.join("/");
                let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
                let want = reference_match(&pat, &segs);
                prop_assert_eq!(pattern.matches(&name), want, "{} vs {}", pattern, name);
                if want {
                    expected.insert(name.clone());
                }
                rt.register_name(&name, &c).unwrap();
            }
            let found = discover(&rt, pattern.as_str());
            prop_assert_eq!(found, expected.into_iter().collect::<Vec<_>>());
            for name in rt.names_of(c.id()).unwrap() {
                rt.unregister_name(&name).unwrap();
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn registry_types_are_thread_safe() {
    fn send_sync<T: Send + Sync + 'static>() {}
    fn std_error<T: std::error::Error + Send + Sync + 'static>() {}
    send_sync::<RegistryEntry>();
    send_sync::<ActorName>();
    send_sync::<NamePattern>();
    std_error::<NameError>();
}
