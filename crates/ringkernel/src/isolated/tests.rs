//! The device host protocol end to end over a socket pair, with the CPU backend behind the
//! server (no GPU, no second process), and the byte encoding against malformed input.

#![allow(clippy::unwrap_used)] // Tests unwrap: a panic is the failure report.

use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;
use ringkernel_core::checkpoint::ActorSnapshot;
use ringkernel_core::events::ActorEvent;
use ringkernel_core::supervision::Intensity;
use ringkernel_core::{
    Actor, ActorBackend, ActorId, ActorVTable, AskError, Context, Envelope, HandlerError,
    LifecycleState, Message, MessageTypeId, SendError, SpawnOptions,
};
use ringkernel_cpu::{CpuBackend, CpuConfig};

use super::client::RemoteBackend;
use super::proto::{decode, HostConfig, TypeDesc};
use super::server::{serve_with, Started};
use super::wire::Wire;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C)]
struct Add {
    n: u64,
}
impl Message for Add {
    const TYPE_ID: MessageTypeId = MessageTypeId(0x5101);
}

/// Adds; fails with code 9 on `n == 9`.
struct Counter;
impl Actor for Counter {
    const NAME: &'static str = "counter";
    type State = Add;
    type Msg = Add;
    type Reply = Add;
    fn handle(s: &mut Add, m: &Add, _: &Context) -> Result<Add, HandlerError> {
        if m.n == 9 {
            return Err(HandlerError(9));
        }
        s.n += m.n;
        Ok(*s)
    }
}

fn types() -> Vec<ActorVTable> {
    vec![ActorVTable::of::<Counter>().unwrap()]
}

fn start_cpu(sent: Vec<ActorVTable>, _config: HostConfig) -> Started {
    // What the parent sent describes the same type (the native handler stays in the parent).
    assert_eq!(sent[0].name, "counter");
    assert_eq!(sent[0].state_size, 8);
    let b = CpuBackend::new(&types(), CpuConfig::default()).map_err(|e| e.to_string())?;
    Ok((Arc::new(b), (9, 0)))
}

fn config() -> HostConfig {
    HostConfig {
        device_ordinal: 0,
        blocks: None,
        mailbox_capacity: 64,
        k2k_capacity: 64,
        watchdog: Duration::from_secs(1),
    }
}

/// A remote backend whose device host is a thread of this process.
fn remote() -> (RemoteBackend, std::thread::JoinHandle<std::io::Result<()>>) {
    let (ours, theirs) = UnixStream::pair().unwrap();
    let host = std::thread::spawn(move || serve_with(theirs, start_cpu));
    let r = RemoteBackend::connect(ours, None, &types(), config()).unwrap();
    (r, host)
}

fn env(to: ActorId, n: u64) -> Envelope {
    Envelope::new(ActorId::HOST, to, &Add { n }).unwrap()
}

const T: Duration = Duration::from_secs(10);

#[test]
fn every_operation_crosses_the_socket_with_its_outcome() {
    let (b, host) = remote();
    assert_eq!(b.arch, (9, 0));
    let a = b.spawn(0, &5u64.to_le_bytes()).unwrap();
    b.tell(env(a, 10)).unwrap();
    assert_eq!(b.tell_batch(&[env(a, 1), env(a, 2)]).unwrap(), 2);
    let r = b.ask(env(a, 0)).unwrap().wait(T).unwrap();
    assert_eq!(r.read::<Add>().unwrap().n, 18);
    assert_eq!(b.state_of(a), Some(LifecycleState::Active));
    assert_eq!(b.actors(), vec![a]);
    assert_eq!(b.type_index_of(a), Some(0));
    // Typed errors come back as they were.
    let nobody = ActorId::from_raw(77);
    assert_eq!(b.tell(env(nobody, 1)), Err(SendError::UnknownActor(nobody)));
    assert_eq!(
        b.spawn(0, &[1, 2, 3]),
        Err(ringkernel_core::SpawnError::BadState {
            len: 3,
            expected: 8
        })
    );
    // A failing ask, and its event.
    let got = b.ask(env(a, 9)).unwrap().wait(T);
    assert_eq!(
        got,
        Err(AskError::HandlerFailed {
            actor: a,
            error: HandlerError(9)
        })
    );
    let q = b.events().unwrap();
    let mut seen = Vec::new();
    let until = std::time::Instant::now() + T;
    while seen.is_empty() && std::time::Instant::now() < until {
        seen = q.wait(Duration::from_millis(20));
    }
    assert!(
        matches!(seen[0], ActorEvent::Failed { actor, .. } if actor == a),
        "{seen:?}"
    );
    // Snapshots and restores with options and images.
    let snaps = b.snapshot(&[]).unwrap();
    assert!(snaps.is_empty());
    let snap = ActorSnapshot {
        id: ActorId::from_raw(5),
        type_name: "counter".into(),
        state: 40u64.to_le_bytes().to_vec(),
        mailbox: vec![env(ActorId::from_raw(5), 2)],
    };
    let policy = SpawnOptions::default().restart(Intensity {
        max_restarts: 2,
        period: Duration::from_secs(1),
    });
    b.restore_with(0, &snap, &policy, Some(&1u64.to_le_bytes()))
        .unwrap();
    let r = b.ask(env(snap.id, 0)).unwrap().wait(T).unwrap();
    assert_eq!(r.read::<Add>().unwrap().n, 42);
    let back = b.snapshot(&[snap.id]).unwrap();
    assert_eq!(back[0].state, 42u64.to_le_bytes().to_vec());
    // Restarted in place to its image (1) by its policy.
    assert!(b.ask(env(snap.id, 9)).unwrap().wait(T).is_err());
    let r = b.ask(env(snap.id, 0)).unwrap().wait(T).unwrap();
    assert_eq!(r.read::<Add>().unwrap().n, 1);
    assert!(b.signals().device_fault.is_none());
    assert!(b.fault().is_none());
    assert_eq!(b.state_of(a), Some(LifecycleState::Failed));
    assert_eq!(b.stop(a), Err(SendError::Stopped(a)));
    let report = b.shutdown(T).unwrap();
    assert!(report.processed >= 8, "{report:?}");
    host.join().unwrap().unwrap();
}

#[test]
fn a_device_host_that_goes_away_is_a_fault_and_fails_what_waits() {
    let (ours, theirs) = UnixStream::pair().unwrap();
    let served = theirs.try_clone().unwrap();
    let host = std::thread::spawn(move || serve_with(served, start_cpu));
    let b = RemoteBackend::connect(ours, None, &types(), config()).unwrap();
    let a = b.spawn(0, &0u64.to_le_bytes()).unwrap();
    // The host vanishes (as a killed process would).
    theirs.shutdown(std::net::Shutdown::Both).unwrap();
    let _ = host.join();
    let until = std::time::Instant::now() + T;
    while b.fault().is_none() && std::time::Instant::now() < until {
        std::thread::sleep(Duration::from_millis(1));
    }
    assert!(b.fault().is_some());
    assert_eq!(b.tell(env(a, 1)), Err(SendError::DeviceLost));
    assert!(matches!(b.ask(env(a, 1)), Err(SendError::DeviceLost)));
    assert_eq!(b.state_of(a), None);
    assert!(b.shutdown(T).is_err());
}

#[test]
fn type_descriptions_round_trip_to_the_same_vtable_facts() {
    let vt = ActorVTable::of::<Counter>().unwrap();
    let d = TypeDesc::of(&vt);
    let mut w = Vec::new();
    d.put(&mut w);
    let back: TypeDesc = decode(&w).unwrap();
    assert_eq!(back, d);
    let v = back.into_vtable();
    assert_eq!(
        (v.name, v.state_size, v.msg_type),
        ("counter", 8, vt.msg_type)
    );
    assert!(v.cuda.is_none());
}

proptest! {
    /// Arbitrary bytes never panic a decoder: they decode or are a typed error.
    #[test]
    fn malformed_frames_are_errors_not_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = decode::<TypeDesc>(&bytes);
        let _ = decode::<Vec<ActorSnapshot>>(&bytes);
        let _ = decode::<ringkernel_core::BackendSignals>(&bytes);
        let _ = decode::<Result<Envelope, AskError>>(&bytes);
        let _ = decode::<Result<usize, SendError>>(&bytes);
        let _ = decode::<ActorEvent>(&bytes);
        let _ = decode::<SpawnOptions>(&bytes);
    }

    /// Send errors survive the trip.
    #[test]
    fn send_errors_round_trip(id in any::<u32>(), n in any::<usize>()) {
        for e in [
            SendError::Full(ActorId::from_raw(id)),
            SendError::Stopped(ActorId::from_raw(id)),
            SendError::TooManyPendingAsks(n),
            SendError::TooLarge { len: n, max: 80 },
            SendError::DeviceLost,
        ] {
            let mut w = Vec::new();
            e.put(&mut w);
            prop_assert_eq!(decode::<SendError>(&w).unwrap(), e);
        }
    }
}
