//! The names most programs need: `use ringkernel::prelude::*;`.
//!
//! `Message` brings both the trait and `#[derive(Message)]`: they live in different namespaces.

pub use crate::{
    gpu_actor, Actor, ActorId, ActorRef, AskError, Backend, BackendKind, Context, CudaHandler,
    DeadLetter, DeadLetterReason, Error, HandlerError, HealthReport, Level, LifecycleState,
    MemoryBudgets, Message, MessageTypeId, RegistryEntry, ResilienceEvent, Runtime, SendError,
    SpawnOptions,
};
