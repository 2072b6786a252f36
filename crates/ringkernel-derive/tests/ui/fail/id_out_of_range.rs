use ringkernel_derive::Message;

#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable, Message)]
#[message(id = 0x1_0000_0000, crate = ::ringkernel_core)]
#[repr(C)]
struct TooBig {
    a: u64,
}

#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable, Message)]
#[message(id = -1, crate = ::ringkernel_core)]
#[repr(C)]
struct Negative {
    a: u64,
}

fn main() {}
