use ringkernel_derive::Message;

// `bool` has invalid bit patterns and the field order leaves padding: this cannot derive `Pod`,
// so the user did not, and the derive must refuse the type rather than copy it as bytes.
#[derive(Clone, Copy, Message)]
#[message(id = 1, crate = ::ringkernel_core)]
#[repr(C)]
struct Flagged {
    on: bool,
    value: u64,
}

fn main() {}
