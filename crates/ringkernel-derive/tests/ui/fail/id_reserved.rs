use ringkernel_derive::Message;

#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable, Message)]
#[message(id = 0xFFFF_0000, crate = ::ringkernel_core)]
#[repr(C)]
struct FirstReserved {
    a: u64,
}

#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable, Message)]
#[message(id = 0xFFFF_FFFF, crate = ::ringkernel_core)]
#[repr(C)]
struct LastReserved {
    a: u64,
}

fn main() {}
