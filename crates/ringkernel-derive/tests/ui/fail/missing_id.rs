use ringkernel_derive::Message;

#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable, Message)]
#[repr(C)]
struct NoAttribute {
    a: u64,
}

#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable, Message)]
#[message(crate = ::ringkernel_core)]
#[repr(C)]
struct NoIdKey {
    a: u64,
}

fn main() {}
