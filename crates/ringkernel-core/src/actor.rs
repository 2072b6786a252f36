//! Actor types: behaviour ([`Actor`]) apart from state, erased into an [`ActorVTable`] for backends.
//!
//! An actor type names its state, its message and its reply, all plain data so the state can live in
//! device memory and messages can cross PCIe byte for byte. The same handler runs natively on the CPU
//! backend; the CUDA backend runs [`Actor::cuda_handler`], CUDA C with the signature documented on
//! [`CudaHandler`] (the transpiler will generate it from the Rust handler).

use bytemuck::Pod;
use std::fmt;

use crate::envelope::Envelope;
use crate::error::CoreError;
use crate::hlc::HlcTimestamp;
use crate::id::ActorId;
use crate::message::{Message, MessageTypeId};

/// Largest state alignment an actor may declare; backends allocate state on this boundary.
pub const MAX_STATE_ALIGN: usize = 16;

/// A failure reported by a handler. The actor moves to `Failed`; a pending ask receives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[error("handler failed with code {0}")]
pub struct HandlerError(pub u32);

/// What a handler may learn about the message it is processing.
#[derive(Debug, Clone, Copy)]
pub struct Context {
    /// The actor running the handler.
    pub self_id: ActorId,
    /// Who sent the message ([`ActorId::HOST`] for host code).
    pub sender: ActorId,
    /// HLC timestamp of the receive event (merged with the sender's).
    pub timestamp: HlcTimestamp,
}

/// The CUDA C form of a handler, for the CUDA backend.
///
/// `source` defines a device function with exactly this signature, where `S`, `M` and `R` are the
/// CUDA spellings of the state, message and reply types (`struct_defs` declares them, byte-compatible
/// with the Rust types; the backend `static_assert`s their sizes):
///
/// ```c
/// __device__ int FUNCTION(S* state, const M* msg, R* reply, const rk_ctx* ctx);
/// ```
///
/// The handler runs on one thread of the actor's block. Return 0 for success (the reply is sent to
/// an asking sender) or a non-zero code to fail the actor.
#[derive(Debug, Clone, Copy)]
pub struct CudaHandler {
    /// Name of the device function in `source`.
    pub function: &'static str,
    /// CUDA type name of the state.
    pub state_type: &'static str,
    /// CUDA type name of the message.
    pub msg_type: &'static str,
    /// CUDA type name of the reply.
    pub reply_type: &'static str,
    /// Struct definitions for the three types.
    pub struct_defs: &'static str,
    /// The handler function.
    pub source: &'static str,
}

/// An actor type: per-actor state plus a handler for one message type.
///
/// ```
/// use ringkernel_core::actor::{Actor, Context, HandlerError};
/// use ringkernel_core::{Message, MessageTypeId};
///
/// #[derive(Clone, Copy, Debug, Default, bytemuck::Pod, bytemuck::Zeroable)]
/// #[repr(C)]
/// struct Add { n: u64 }
/// impl Message for Add { const TYPE_ID: MessageTypeId = MessageTypeId(0x100); }
///
/// struct Counter;
/// impl Actor for Counter {
///     const NAME: &'static str = "counter";
///     type State = Add;
///     type Msg = Add;
///     type Reply = Add;
///     fn handle(state: &mut Add, msg: &Add, _ctx: &Context) -> Result<Add, HandlerError> {
///         state.n += msg.n;
///         Ok(*state)
///     }
/// }
/// ```
pub trait Actor: Send + Sync + 'static {
    /// Unique name of the actor type within a runtime.
    const NAME: &'static str;
    /// Per-actor state; plain data so it can live in device memory.
    type State: Pod + Send;
    /// The message this actor handles.
    type Msg: Message;
    /// The reply to an ask (`()` for acknowledgement only).
    type Reply: Message;

    /// Processes one message. An `Err` fails the actor; later sends to it are refused.
    fn handle(
        state: &mut Self::State,
        msg: &Self::Msg,
        ctx: &Context,
    ) -> Result<Self::Reply, HandlerError>;

    /// The same handler as CUDA C, if this actor can run on the CUDA backend.
    fn cuda_handler() -> Option<CudaHandler> {
        None
    }
}

/// Type-erased handler: decodes the message, runs the handler on the state bytes, encodes the reply.
pub type HandleFn =
    fn(state: &mut [u8], msg: &Envelope, ctx: &Context) -> Result<Envelope, HandleFailure>;

/// Why an erased handler produced no reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandleFailure {
    /// The handler returned an error.
    Handler(HandlerError),
    /// The envelope or state did not match the actor type (a routing bug, not user input).
    Decode(CoreError),
}

/// An [`Actor`] type erased for backends: layout facts plus a monomorphized handler thunk.
#[derive(Clone, Copy)]
pub struct ActorVTable {
    /// [`Actor::NAME`].
    pub name: &'static str,
    /// Bytes of state.
    pub state_size: usize,
    /// Alignment of the state.
    pub state_align: usize,
    /// Message type accepted.
    pub msg_type: MessageTypeId,
    /// Bytes of the message.
    pub msg_size: usize,
    /// Reply type produced.
    pub reply_type: MessageTypeId,
    /// Bytes of the reply.
    pub reply_size: usize,
    /// The native handler.
    pub handle: HandleFn,
    /// The CUDA handler, if any.
    pub cuda: Option<CudaHandler>,
}

impl fmt::Debug for ActorVTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActorVTable")
            .field("name", &self.name)
            .field("state_size", &self.state_size)
            .field("msg_type", &self.msg_type)
            .field("reply_type", &self.reply_type)
            .field("cuda", &self.cuda.is_some())
            .finish()
    }
}

impl ActorVTable {
    /// Erases `A`, checking its message, reply and state layouts.
    pub fn of<A: Actor>() -> Result<Self, CoreError> {
        A::Msg::check_layout()?;
        A::Reply::check_layout()?;
        let state_align = std::mem::align_of::<A::State>();
        if state_align > MAX_STATE_ALIGN {
            return Err(CoreError::StateAlignment {
                align: state_align,
                max: MAX_STATE_ALIGN,
            });
        }
        Ok(ActorVTable {
            name: A::NAME,
            state_size: std::mem::size_of::<A::State>(),
            state_align,
            msg_type: A::Msg::TYPE_ID,
            msg_size: std::mem::size_of::<A::Msg>(),
            reply_type: A::Reply::TYPE_ID,
            reply_size: std::mem::size_of::<A::Reply>(),
            handle: erased_handle::<A>,
            cuda: A::cuda_handler(),
        })
    }
}

fn erased_handle<A: Actor>(
    state: &mut [u8],
    msg: &Envelope,
    ctx: &Context,
) -> Result<Envelope, HandleFailure> {
    let m: A::Msg = msg.read().map_err(HandleFailure::Decode)?;
    let len = state.len();
    let state: &mut A::State = bytemuck::try_from_bytes_mut(state).map_err(|_| {
        HandleFailure::Decode(CoreError::StateLayout {
            len,
            expected: std::mem::size_of::<A::State>(),
        })
    })?;
    let reply = A::handle(state, &m, ctx).map_err(HandleFailure::Handler)?;
    Envelope::new(ctx.self_id, ctx.sender, &reply).map_err(HandleFailure::Decode)
}

/// Heap storage for actor state, aligned to [`MAX_STATE_ALIGN`].
#[derive(Clone)]
pub struct StateBuf {
    words: Box<[u128]>,
    len: usize,
}

impl fmt::Debug for StateBuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StateBuf({} bytes)", self.len)
    }
}

impl StateBuf {
    /// Copies `bytes` into fresh aligned storage.
    pub fn from_bytes(bytes: &[u8]) -> Self {
        let mut words = vec![0u128; bytes.len().div_ceil(16)].into_boxed_slice();
        bytemuck::cast_slice_mut::<u128, u8>(&mut words)[..bytes.len()].copy_from_slice(bytes);
        StateBuf {
            words,
            len: bytes.len(),
        }
    }

    /// The state bytes.
    pub fn bytes(&self) -> &[u8] {
        &bytemuck::cast_slice::<u128, u8>(&self.words)[..self.len]
    }

    /// The state bytes, mutably.
    pub fn bytes_mut(&mut self) -> &mut [u8] {
        &mut bytemuck::cast_slice_mut::<u128, u8>(&mut self.words)[..self.len]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, Debug, Default, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
    #[repr(C)]
    struct Add {
        n: u64,
    }
    impl Message for Add {
        const TYPE_ID: MessageTypeId = MessageTypeId(0x100);
    }

    struct Counter;
    impl Actor for Counter {
        const NAME: &'static str = "counter";
        type State = Add;
        type Msg = Add;
        type Reply = Add;
        fn handle(state: &mut Add, msg: &Add, _ctx: &Context) -> Result<Add, HandlerError> {
            if msg.n == u64::MAX {
                return Err(HandlerError(9));
            }
            state.n += msg.n;
            Ok(*state)
        }
    }

    fn ctx() -> Context {
        Context {
            self_id: ActorId::from_raw(1),
            sender: ActorId::HOST,
            timestamp: HlcTimestamp::ZERO,
        }
    }

    #[test]
    fn erased_handler_runs_on_state_bytes() {
        let vt = ActorVTable::of::<Counter>().unwrap();
        let mut state = StateBuf::from_bytes(bytemuck::bytes_of(&Add { n: 5 }));
        let env = Envelope::new(ActorId::HOST, ActorId::from_raw(1), &Add { n: 3 }).unwrap();
        let reply = (vt.handle)(state.bytes_mut(), &env, &ctx()).unwrap();
        assert_eq!(reply.read::<Add>().unwrap(), Add { n: 8 });
        assert_eq!(reply.receiver(), ActorId::HOST);
        assert_eq!(
            bytemuck::pod_read_unaligned::<Add>(state.bytes()),
            Add { n: 8 }
        );
    }

    #[test]
    fn handler_error_and_wrong_message_are_reported() {
        let vt = ActorVTable::of::<Counter>().unwrap();
        let mut state = StateBuf::from_bytes(bytemuck::bytes_of(&Add { n: 0 }));
        let env = Envelope::new(ActorId::HOST, ActorId::from_raw(1), &Add { n: u64::MAX }).unwrap();
        assert_eq!(
            (vt.handle)(state.bytes_mut(), &env, &ctx()),
            Err(HandleFailure::Handler(HandlerError(9)))
        );
        let wrong =
            Envelope::from_bytes(ActorId::HOST, ActorId::from_raw(1), MessageTypeId(5), &[1])
                .unwrap();
        assert!(matches!(
            (vt.handle)(state.bytes_mut(), &wrong, &ctx()),
            Err(HandleFailure::Decode(CoreError::TypeMismatch { .. }))
        ));
    }

    #[test]
    fn state_buf_is_aligned() {
        let s = StateBuf::from_bytes(&[1, 2, 3]);
        assert_eq!(s.bytes(), &[1, 2, 3]);
        assert_eq!(s.bytes().as_ptr() as usize % MAX_STATE_ALIGN, 0);
    }
}
