//! Backend selection on a machine without a GPU, and several runtimes in one process.

#![allow(clippy::unwrap_used)] // Tests unwrap: a panic is the failure report.

mod common;

use common::*;
use ringkernel::prelude::*;
use ringkernel_cpu::CpuError;

#[test]
fn explicit_cuda_without_a_gpu_is_a_typed_error() {
    match Runtime::builder()
        .backend(Backend::Cuda)
        .register::<Counter>()
        .build()
    {
        Err(Error::Cuda(e)) => assert!(!e.to_string().is_empty()),
        Ok(rt) => panic!("CUDA backend unexpectedly available: {}", rt.description()),
        Err(other) => panic!("expected Error::Cuda, got {other:?}"),
    }
}

#[test]
fn auto_falls_back_to_cpu_and_says_why() {
    let rt = Runtime::builder()
        .backend(Backend::Auto)
        .workers(2)
        .register::<Counter>()
        .build()
        .unwrap();
    assert_eq!(rt.backend_kind(), BackendKind::Cpu);
    let reason = rt
        .fallback_reason()
        .expect("Auto on the CPU must record why");
    assert!(!reason.is_empty());
    // And it works.
    let c = rt.spawn::<Counter>(Total::default()).unwrap();
    assert_eq!(c.ask_blocking(Add { n: 2 }, WAIT).unwrap().sum, 2);
}

#[test]
fn default_backend_is_auto() {
    assert_eq!(Backend::default(), Backend::Auto);
    let rt = Runtime::builder().workers(1).build().unwrap();
    assert_eq!(rt.backend_kind(), BackendKind::Cpu);
    assert!(rt.fallback_reason().is_some());
}

#[test]
fn explicit_cpu_has_no_fallback_reason() {
    let rt = cpu_runtime().build().unwrap();
    assert_eq!(rt.fallback_reason(), None);
    assert!(rt.description().starts_with("cpu"));
}

#[test]
fn bad_cpu_config_is_a_typed_error() {
    match cpu_runtime().workers(0).build() {
        Err(Error::Cpu(CpuError::BadConfig { field, .. })) => assert_eq!(field, "workers"),
        other => panic!("expected BadConfig, got {other:?}"),
    }
    assert!(matches!(
        cpu_runtime().mailbox_capacity(100).build(),
        Err(Error::Cpu(CpuError::BadConfig {
            field: "mailbox_capacity",
            ..
        }))
    ));
}

#[test]
fn two_runtimes_in_one_process_are_independent() {
    let rt1 = cpu_runtime().register::<Counter>().build().unwrap();
    let rt2 = Runtime::builder()
        .backend(Backend::Auto)
        .workers(1)
        .register::<Counter>()
        .register::<Echo>()
        .build()
        .unwrap();
    let a = rt1.spawn::<Counter>(Total::default()).unwrap();
    let b = rt2.spawn::<Counter>(Total::default()).unwrap();
    // Each runtime numbers its own actors.
    assert_eq!(a.id(), b.id());
    a.tell(Add { n: 1 }).unwrap();
    b.tell(Add { n: 100 }).unwrap();
    assert_eq!(a.ask_blocking(Add { n: 0 }, WAIT).unwrap().sum, 1);
    assert_eq!(b.ask_blocking(Add { n: 0 }, WAIT).unwrap().sum, 100);
    rt1.shutdown(WAIT).unwrap();
    assert_eq!(a.tell(Add { n: 1 }), Err(SendError::ShutDown));
    assert_eq!(b.ask_blocking(Add { n: 1 }, WAIT).unwrap().sum, 101);
}

#[test]
fn many_runtimes_created_and_dropped_in_sequence() {
    for i in 0..20u64 {
        let rt = cpu_runtime().register::<Counter>().build().unwrap();
        let c = rt.spawn::<Counter>(Total::default()).unwrap();
        assert_eq!(c.ask_blocking(Add { n: i }, WAIT).unwrap().sum, i);
    }
}
