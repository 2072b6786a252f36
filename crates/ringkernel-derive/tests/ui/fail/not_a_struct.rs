use ringkernel_derive::Message;

#[derive(Clone, Copy, Message)]
#[message(id = 1, crate = ::ringkernel_core)]
#[repr(C)]
enum Command {
    Start,
    Stop,
}

#[derive(Clone, Copy, Message)]
#[message(id = 2, crate = ::ringkernel_core)]
#[repr(C)]
union Bits {
    i: u32,
    f: f32,
}

fn main() {}
