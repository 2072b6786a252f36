use ringkernel_derive::Message;

#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable, Message)]
#[message(id = 1, name = "deposit", crate = ::ringkernel_core)]
#[repr(C)]
struct UnknownKey {
    a: u64,
}

#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable, Message)]
#[message(id = 2, id = 3, crate = ::ringkernel_core)]
#[repr(C)]
struct DuplicateKey {
    a: u64,
}

#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable, Message)]
#[message = 4]
#[repr(C)]
struct NotAList {
    a: u64,
}

fn main() {}
