//! Every accepted form: repr(C) with options, repr(transparent), hex/decimal/suffixed ids, the
//! largest size and the largest id, and the `crate`/`bytemuck` keys as paths or strings.

use ringkernel_core::{Message, MessageTypeId, MAX_PAYLOAD};
use ringkernel_derive::Message;

#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable, Message)]
#[message(id = 0x0001_0001, crate = ::ringkernel_core)]
#[repr(C)]
struct Deposit {
    account: u32,
    _pad: u32,
    cents: i64,
}

#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable, Message)]
#[message(crate = "::ringkernel_core")]
#[message(id = 0xFFFE_FFFFu32, bytemuck = ::bytemuck)]
#[repr(C, align(16))]
struct Full {
    words: [u64; 10],
}

#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable, Message)]
#[message(id = 42, crate = ringkernel_core, bytemuck = "bytemuck")]
#[repr(transparent)]
struct Ticket(u32);

fn main() {
    assert_eq!(Deposit::TYPE_ID, MessageTypeId(0x0001_0001));
    assert_eq!(Full::TYPE_ID, MessageTypeId(0xFFFE_FFFF));
    assert_eq!(Ticket::TYPE_ID, MessageTypeId(42));
    assert_eq!(size_of::<Full>(), MAX_PAYLOAD);
    assert!(Deposit::check_layout().is_ok());
    assert!(Full::check_layout().is_ok());
    assert!(Ticket::check_layout().is_ok());
}
