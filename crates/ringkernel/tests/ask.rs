//! Asks: from many threads, async under Tokio, under a hand-rolled executor, timeouts and limits.

#![allow(clippy::unwrap_used)] // Tests unwrap: a panic is the failure report.

mod common;

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context as TaskCx, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use common::*;
use ringkernel::prelude::*;

#[test]
fn asks_from_many_threads_all_get_their_own_reply() {
    let rt = cpu_runtime().register::<Echo>().build().unwrap();
    let e = rt.spawn::<Echo>(()).unwrap();
    std::thread::scope(|s| {
        for t in 0..6u64 {
            let e = e.clone();
            s.spawn(move || {
                for i in 0..2_000u64 {
                    let v = t * 1_000_000 + i;
                    let r = e
                        .ask_blocking(
                            Ping {
                                v,
                                ..Ping::default()
                            },
                            WAIT,
                        )
                        .unwrap();
                    assert_eq!(r.v, v);
                }
            });
        }
    });
}

#[test]
fn concurrent_asks_to_one_counter_see_every_increment_once() {
    let rt = cpu_runtime().register::<Counter>().build().unwrap();
    let c = rt.spawn::<Counter>(Total::default()).unwrap();
    let mut seen: Vec<u64> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..4)
            .map(|_| {
                let c = c.clone();
                s.spawn(move || {
                    (0..500)
                        .map(|_| c.ask_blocking(Add { n: 1 }, WAIT).unwrap().count)
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    seen.sort_unstable();
    // Each ask observed a distinct count: 1..=2000, each exactly once.
    assert_eq!(seen, (1..=2000).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_asks_under_tokio() {
    let rt = cpu_runtime().register::<Echo>().build().unwrap();
    let e = rt.spawn::<Echo>(()).unwrap();
    let tasks: Vec<_> = (0..64u64)
        .map(|t| {
            let e = e.clone();
            tokio::spawn(async move {
                for i in 0..50u64 {
                    let v = t * 1000 + i;
                    assert_eq!(
                        e.ask(Ping {
                            v,
                            ..Ping::default()
                        })
                        .await
                        .unwrap()
                        .v,
                        v
                    );
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
}

#[tokio::test]
async fn async_ask_times_out_and_the_request_still_runs() {
    let g = 0;
    let rt = cpu_runtime().register::<GateActor>().build().unwrap();
    let a = rt.spawn::<GateActor>(Total::default()).unwrap();
    let start = Instant::now();
    let r = a.ask_timeout(gated(g, 5), Duration::from_millis(50)).await;
    assert_eq!(r, Err(AskError::Timeout(Duration::from_millis(50))));
    assert!(start.elapsed() >= Duration::from_millis(50));
    open(g);
    // The timed-out request was processed anyway.
    let t = a.ask(gated(g, 1)).await.unwrap();
    assert_eq!(t, Total { sum: 6, count: 2 });
}

#[test]
fn blocking_ask_times_out_and_the_request_still_runs() {
    let g = 1;
    let rt = cpu_runtime().register::<GateActor>().build().unwrap();
    let a = rt.spawn::<GateActor>(Total::default()).unwrap();
    let r = a.ask_blocking(gated(g, 5), Duration::from_millis(30));
    assert_eq!(r, Err(AskError::Timeout(Duration::from_millis(30))));
    open(g);
    assert_eq!(a.ask_blocking(gated(g, 1), WAIT).unwrap().sum, 6);
}

#[test]
fn default_ask_timeout_comes_from_the_builder() {
    let g = 2;
    let rt = cpu_runtime()
        .ask_timeout(Duration::from_millis(40))
        .register::<GateActor>()
        .build()
        .unwrap();
    let a = rt.spawn::<GateActor>(Total::default()).unwrap();
    let r = block_on(a.ask(gated(g, 1)));
    assert_eq!(r, Err(AskError::Timeout(Duration::from_millis(40))));
    open(g);
}

#[test]
fn pending_ask_limit_is_a_typed_error_and_frees_up() {
    let g = 3;
    let rt = cpu_runtime()
        .max_pending_asks(2)
        .register::<GateActor>()
        .build()
        .unwrap();
    let a = rt.spawn::<GateActor>(Total::default()).unwrap();
    let short = Duration::from_millis(5);
    assert!(matches!(
        a.ask_blocking(gated(g, 1), short),
        Err(AskError::Timeout(_))
    ));
    assert!(matches!(
        a.ask_blocking(gated(g, 1), short),
        Err(AskError::Timeout(_))
    ));
    // Both timed-out requests are still queued, so they still count.
    assert_eq!(
        a.ask_blocking(gated(g, 1), short),
        Err(AskError::Send(SendError::TooManyPendingAsks(2)))
    );
    open(g);
    assert!(eventually(|| a.ask_blocking(gated(g, 1), WAIT).is_ok()));
    // Tells are not limited by the ask table.
    a.tell(gated(g, 1)).unwrap();
}

/// A minimal executor outside Tokio: the fallback path of `ask` (deadline checked when polled).
fn block_on<F: Future>(f: F) -> F::Output {
    struct ThreadWaker(std::thread::Thread);
    impl Wake for ThreadWaker {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = TaskCx::from_waker(&waker);
    let mut f = pin!(f);
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park_timeout(Duration::from_millis(5));
    }
}

#[test]
fn async_ask_works_without_tokio() {
    let rt = cpu_runtime().register::<Counter>().build().unwrap();
    let c = rt.spawn::<Counter>(Total::default()).unwrap();
    for i in 1..=100 {
        assert_eq!(block_on(c.ask(Add { n: 1 })).unwrap().count, i);
    }
}

#[test]
fn ask_future_is_send_and_can_run_on_another_thread() {
    let rt = cpu_runtime().register::<Counter>().build().unwrap();
    let c = rt.spawn::<Counter>(Total::default()).unwrap();
    let fut = {
        let c = c.clone();
        async move { c.ask(Add { n: 9 }).await }
    };
    let out = std::thread::spawn(move || block_on(fut)).join().unwrap();
    assert_eq!(out.unwrap().sum, 9);
}
