use ringkernel_derive::Message;

#[derive(Clone, Copy, Message)]
#[message(id = 1, crate = ::ringkernel_core)]
#[repr(C)]
struct Wrapper<T: Copy> {
    value: T,
}

fn main() {}
