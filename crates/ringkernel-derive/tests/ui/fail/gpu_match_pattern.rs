use ringkernel_core::{Actor, Context, HandlerError, Message, MessageTypeId};

#[ringkernel_derive::gpu_actor(crate = ::ringkernel_core)]
mod m {
    use super::*;

    #[derive(Clone, Copy, Debug, Default, bytemuck::Pod, bytemuck::Zeroable)]
    #[repr(C)]
    pub struct S { pub a: i64, pub b: u32, pub c: u32 }
    impl Message for S { const TYPE_ID: MessageTypeId = MessageTypeId(0x100); }

    pub struct A;
    impl Actor for A {
        const NAME: &'static str = "a";
        type State = S;
        type Msg = S;
        type Reply = S;
        fn handle(state: &mut S, msg: &S, _ctx: &Context) -> Result<S, HandlerError> {
            state.b = match msg.b { x @ 0..=3 => x, _ => 2 };
            Ok(*state)
        }
    }
}

fn main() {}
