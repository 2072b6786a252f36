//! The names most programs need: `use ringkernel::prelude::*;`.

pub use crate::{
    Actor, ActorId, ActorRef, AskError, Backend, BackendKind, Context, CudaHandler, Error,
    HandlerError, LifecycleState, Message, MessageTypeId, Runtime, SendError,
};
