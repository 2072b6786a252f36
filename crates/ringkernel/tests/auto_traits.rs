//! Auto traits of every public type, in one place (as tokio's tests/async_send_sync.rs).

#![allow(clippy::unwrap_used)] // Tests unwrap: a panic is the failure report.

mod common;

use common::*;
use ringkernel::prelude::*;

fn send<T: Send>() {}
fn sync<T: Sync>() {}
fn unpin<T: Unpin>() {}
fn send_val<T: Send>(_: &T) {}
fn static_err<T: std::error::Error + Send + Sync + 'static>() {}

#[test]
fn public_types_are_send_and_sync() {
    send::<Runtime>();
    sync::<Runtime>();
    send::<ringkernel::RuntimeBuilder>();
    sync::<ringkernel::RuntimeBuilder>();
    send::<ActorRef<Counter>>();
    sync::<ActorRef<Counter>>();
    unpin::<ActorRef<Counter>>();
    send::<Backend>();
    sync::<Backend>();
    send::<ringkernel_cpu::CpuBackend>();
    sync::<ringkernel_cpu::CpuBackend>();
    send::<ringkernel::CpuConfig>();
    send::<ringkernel_core::PendingReply>();
    unpin::<ringkernel_core::PendingReply>();
    send::<ResilienceEvent>();
    sync::<ResilienceEvent>();
    send::<HealthReport>();
    sync::<HealthReport>();
}

#[test]
fn errors_are_thread_safe_std_errors() {
    static_err::<Error>();
    static_err::<SendError>();
    static_err::<AskError>();
    static_err::<ringkernel::SpawnError>();
    static_err::<ringkernel::ShutdownError>();
    static_err::<ringkernel_cpu::CpuError>();
    static_err::<ringkernel::CudaError>();
}

#[test]
fn ask_futures_are_send() {
    let rt = cpu_runtime().register::<Counter>().build().unwrap();
    let c = rt.spawn::<Counter>(Total::default()).unwrap();
    let f = c.ask(Add { n: 1 });
    send_val(&f);
    let g = c.ask_timeout(Add { n: 1 }, WAIT);
    send_val(&g);
}
