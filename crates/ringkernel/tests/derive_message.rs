//! `#[derive(Message)]` through the facade: ids, envelope round trips, and a CPU actor using
//! derived messages. Only `ringkernel::prelude::*` is imported for the trait and the derive, which
//! checks that one glob brings both (they share the name `Message`, as serde's do).

#![allow(clippy::unwrap_used)] // Tests unwrap: a panic is the failure report.

use std::time::Duration;

use ringkernel::prelude::*;
use ringkernel::{CoreError, Envelope};

const WAIT: Duration = Duration::from_secs(10);

#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable, Message,
)]
#[message(id = 0x0001_0001)]
#[repr(C)]
struct Deposit {
    account: u32,
    _pad: u32,
    cents: i64,
}

#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable, Message,
)]
#[message(id = 0x0001_0002)]
#[repr(C)]
struct Balance {
    cents: i64,
    deposits: u64,
}

/// Exactly `MAX_PAYLOAD` (80) bytes: the largest message the derive accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable, Message)]
#[message(id = 0x0001_0003)]
#[repr(C)]
struct Full {
    words: [u64; 10],
}

/// `repr(transparent)` is accepted as well as `repr(C)`; the id may carry a `u32` suffix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable, Message)]
#[message(id = 0xFFFE_FFFFu32)]
#[repr(transparent)]
struct Ticket(u32);

#[test]
fn derived_ids_are_the_written_ones() {
    assert_eq!(Deposit::TYPE_ID, MessageTypeId(0x0001_0001));
    assert_eq!(Balance::TYPE_ID, MessageTypeId(0x0001_0002));
    assert_eq!(Full::TYPE_ID, MessageTypeId(0x0001_0003));
    assert_eq!(Ticket::TYPE_ID, MessageTypeId(0xFFFE_FFFF));
    assert!(!Ticket::TYPE_ID.is_reserved());
    assert!(Deposit::check_layout().is_ok());
    assert!(Full::check_layout().is_ok());
    assert!(Ticket::check_layout().is_ok());
}

#[test]
fn derived_message_round_trips_through_an_envelope() {
    let d = Deposit {
        account: 7,
        _pad: 0,
        cents: -500,
    };
    let env = Envelope::new(ActorId::HOST, ActorId::from_raw(3), &d).unwrap();
    assert_eq!(env.header.type_id, 0x0001_0001);
    assert_eq!(usize::from(env.header.payload_len), size_of::<Deposit>());
    assert_eq!(env.read::<Deposit>().unwrap(), d);
    assert!(matches!(
        env.read::<Balance>(),
        Err(CoreError::TypeMismatch {
            expected: 0x0001_0002,
            found: 0x0001_0001,
            ..
        })
    ));

    let full = Full {
        words: std::array::from_fn(|i| i as u64 * 0x0101_0101),
    };
    let env = Envelope::new(ActorId::HOST, ActorId::from_raw(0), &full).unwrap();
    assert_eq!(env.payload_bytes().len(), 80);
    assert_eq!(env.read::<Full>().unwrap(), full);

    let env = Envelope::new(ActorId::HOST, ActorId::from_raw(0), &Ticket(42)).unwrap();
    assert_eq!(env.read::<Ticket>().unwrap(), Ticket(42));
}

struct Bank;
impl Actor for Bank {
    const NAME: &'static str = "bank";
    type State = Balance;
    type Msg = Deposit;
    type Reply = Balance;
    fn handle(s: &mut Balance, m: &Deposit, _: &Context) -> Result<Balance, HandlerError> {
        s.cents += m.cents;
        s.deposits += 1;
        Ok(*s)
    }
}

#[test]
fn cpu_actor_handles_derived_messages() {
    let rt = Runtime::builder()
        .backend(Backend::Cpu)
        .register::<Bank>()
        .build()
        .unwrap();
    let bank = rt.spawn::<Bank>(Balance::default()).unwrap();
    for cents in 1..=100 {
        bank.tell(Deposit {
            account: 1,
            _pad: 0,
            cents,
        })
        .unwrap();
    }
    let b = bank.ask_blocking(Deposit::default(), WAIT).unwrap();
    assert_eq!(
        b,
        Balance {
            cents: 5050,
            deposits: 101
        }
    );
    rt.shutdown(WAIT).unwrap();
}
