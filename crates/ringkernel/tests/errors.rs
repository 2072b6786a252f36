//! Typed errors for bad targets and bad messages, through the typed API and the raw envelope path.

#![allow(clippy::unwrap_used)] // Tests unwrap: a panic is the failure report.

mod common;

use bytemuck::{Pod, Zeroable};
use common::*;
use ringkernel::prelude::*;
use ringkernel::{CoreError, Envelope, SpawnError};

#[test]
fn unknown_target_through_the_raw_path() {
    let rt = cpu_runtime().register::<Counter>().build().unwrap();
    let _c = rt.spawn::<Counter>(Total::default()).unwrap();
    for id in [
        ActorId::from_raw(1),
        ActorId::from_raw(99_999),
        ActorId::HOST,
    ] {
        let env = Envelope::new(ActorId::HOST, id, &Add { n: 1 }).unwrap();
        assert_eq!(rt.backend().tell(env), Err(SendError::UnknownActor(id)));
        assert_eq!(
            rt.backend().ask(env).unwrap_err(),
            SendError::UnknownActor(id)
        );
        assert_eq!(rt.backend().stop(id), Err(SendError::UnknownActor(id)));
    }
}

#[test]
fn wrong_message_type_through_the_raw_path() {
    let rt = cpu_runtime().register::<Counter>().build().unwrap();
    let c = rt.spawn::<Counter>(Total::default()).unwrap();
    let env = Envelope::new(ActorId::HOST, c.id(), &Ping::default()).unwrap();
    let want = SendError::WrongMessageType {
        actor: c.id(),
        type_id: 0x1003,
    };
    assert_eq!(rt.backend().tell(env), Err(want));
    assert_eq!(rt.backend().ask(env).unwrap_err(), want);
    // The actor is unharmed.
    assert_eq!(c.ask_blocking(Add { n: 2 }, WAIT).unwrap().sum, 2);
}

#[test]
fn right_type_with_wrong_length_is_refused() {
    let rt = cpu_runtime().register::<Counter>().build().unwrap();
    let c = rt.spawn::<Counter>(Total::default()).unwrap();
    let env = Envelope::from_bytes(ActorId::HOST, c.id(), Add::TYPE_ID, &[1, 2, 3]).unwrap();
    assert!(matches!(
        rt.backend().tell(env),
        Err(SendError::WrongMessageType {
            type_id: 0x1001,
            ..
        })
    ));
}

#[derive(Clone, Copy, Pod, Zeroable)]
#[repr(C)]
struct Big {
    bytes: [u8; 100],
}
impl Message for Big {
    const TYPE_ID: MessageTypeId = MessageTypeId(0x2001);
}

struct BigActor;
impl Actor for BigActor {
    const NAME: &'static str = "big";
    type State = ();
    type Msg = Big;
    type Reply = ();
    fn handle(_: &mut (), _: &Big, _: &Context) -> Result<(), HandlerError> {
        Ok(())
    }
}

struct BigReply;
impl Actor for BigReply {
    const NAME: &'static str = "big-reply";
    type State = ();
    type Msg = Add;
    type Reply = Big;
    fn handle(_: &mut (), _: &Add, _: &Context) -> Result<Big, HandlerError> {
        Ok(Big { bytes: [0; 100] })
    }
}

#[test]
fn oversize_message_is_a_typed_registration_error() {
    let err = cpu_runtime().register::<BigActor>().build().unwrap_err();
    match err {
        Error::Register { name, source } => {
            assert_eq!(name, "big");
            assert_eq!(source, CoreError::PayloadTooLarge { len: 100, max: 80 });
        }
        other => panic!("expected Register, got {other:?}"),
    }
}

#[test]
fn oversize_reply_is_a_typed_registration_error() {
    assert!(matches!(
        cpu_runtime().register::<BigReply>().build(),
        Err(Error::Register {
            name: "big-reply",
            source: CoreError::PayloadTooLarge { .. }
        })
    ));
}

#[test]
fn oversize_raw_payload_is_a_typed_error() {
    let err = Envelope::from_bytes(ActorId::HOST, ActorId::from_raw(0), Add::TYPE_ID, &[0; 100])
        .unwrap_err();
    assert_eq!(err, CoreError::PayloadTooLarge { len: 100, max: 80 });
}

#[derive(Clone, Copy, Pod, Zeroable)]
#[repr(C)]
struct Reserved {
    x: u32,
}
impl Message for Reserved {
    const TYPE_ID: MessageTypeId = MessageTypeId(0xFFFF_0003);
}
struct ReservedActor;
impl Actor for ReservedActor {
    const NAME: &'static str = "reserved";
    type State = ();
    type Msg = Reserved;
    type Reply = ();
    fn handle(_: &mut (), _: &Reserved, _: &Context) -> Result<(), HandlerError> {
        Ok(())
    }
}

#[test]
fn reserved_type_id_is_a_typed_registration_error() {
    assert!(matches!(
        cpu_runtime().register::<ReservedActor>().build(),
        Err(Error::Register {
            source: CoreError::ReservedTypeId(0xFFFF_0003),
            ..
        })
    ));
}

#[derive(Clone, Copy, Pod, Zeroable)]
#[repr(C, align(32))]
struct Wide {
    x: [u64; 4],
}
struct WideActor;
impl Actor for WideActor {
    const NAME: &'static str = "wide";
    type State = Wide;
    type Msg = Add;
    type Reply = ();
    fn handle(_: &mut Wide, _: &Add, _: &Context) -> Result<(), HandlerError> {
        Ok(())
    }
}

#[test]
fn over_aligned_state_is_a_typed_registration_error() {
    assert!(matches!(
        cpu_runtime().register::<WideActor>().build(),
        Err(Error::Register {
            source: CoreError::StateAlignment { align: 32, max: 16 },
            ..
        })
    ));
}

#[test]
fn stopped_target_refuses_tell_ask_and_stop() {
    let rt = cpu_runtime().register::<Counter>().build().unwrap();
    let c = rt.spawn::<Counter>(Total::default()).unwrap();
    c.stop().unwrap();
    assert_eq!(c.tell(Add { n: 1 }), Err(SendError::Stopped(c.id())));
    assert_eq!(
        c.ask_blocking(Add { n: 1 }, WAIT),
        Err(AskError::Send(SendError::Stopped(c.id())))
    );
    assert!(eventually(|| c.state() == LifecycleState::Terminated));
    assert_eq!(c.stop(), Err(SendError::Stopped(c.id())));
    assert_eq!(c.tell(Add { n: 1 }), Err(SendError::Stopped(c.id())));
}

#[test]
fn raw_spawn_errors_are_typed() {
    let rt = cpu_runtime().register::<Counter>().build().unwrap();
    assert_eq!(
        rt.backend().spawn(0, &[1, 2, 3]),
        Err(SpawnError::BadState {
            len: 3,
            expected: 16
        })
    );
    assert!(matches!(
        rt.backend().spawn(7, &[]),
        Err(SpawnError::Backend(_))
    ));
}

#[test]
fn errors_display_short_lowercase_messages() {
    let e = Error::DuplicateActorType("x");
    assert_eq!(e.to_string(), "actor type `x` is registered twice");
    let s = SendError::Full(ActorId::from_raw(3)).to_string();
    assert_eq!(s, "mailbox of actor#3 is full");
    let spawn: Error = SpawnError::NotRegistered("y").into();
    assert!(spawn.to_string().starts_with("actor type `y`"));
}
