use ringkernel_derive::Message;

#[derive(Clone, Copy, bytemuck::Zeroable, Message)]
#[message(id = 1, crate = ::ringkernel_core)]
struct NoRepr {
    a: u64,
}

#[derive(Clone, Copy, bytemuck::Zeroable, Message)]
#[message(id = 2, crate = ::ringkernel_core)]
#[repr(align(8))]
struct AlignOnly {
    a: u64,
}

fn main() {}
