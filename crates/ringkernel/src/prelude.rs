//! The names most programs need: `use ringkernel::prelude::*;`.
//!
//! `Message` brings both the trait and `#[derive(Message)]`: they live in different namespaces.

pub use crate::{
    gpu_actor, Actor, ActorId, ActorRef, AskError, Backend, BackendKind, Context, CudaHandler,
    DeadLetter, DeadLetterReason, Error, HandlerError, LifecycleState, Message, MessageTypeId,
    RegistryEntry, Runtime, SendError,
};
