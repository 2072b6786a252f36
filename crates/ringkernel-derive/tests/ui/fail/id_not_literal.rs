use ringkernel_derive::Message;

const ID: u32 = 7;

#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable, Message)]
#[message(id = ID, crate = ::ringkernel_core)]
#[repr(C)]
struct FromConst {
    a: u64,
}

#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable, Message)]
#[message(id = "7", crate = ::ringkernel_core)]
#[repr(C)]
struct FromString {
    a: u64,
}

#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable, Message)]
#[message(id = 7u64, crate = ::ringkernel_core)]
#[repr(C)]
struct WrongSuffix {
    a: u64,
}

fn main() {}
