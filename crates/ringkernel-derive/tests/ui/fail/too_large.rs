use ringkernel_derive::Message;

#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable, Message)]
#[message(id = 1, crate = ::ringkernel_core)]
#[repr(C)]
struct Big {
    bytes: [u8; 100],
}

fn main() {}
