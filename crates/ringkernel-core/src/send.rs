//! Outcomes of tell and ask, shared by every backend (see docs/semantics.md).

use std::time::Duration;

use crate::actor::HandlerError;
use crate::id::ActorId;

/// Why a message was not accepted. Nothing is enqueued when a send fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The target's mailbox (or the ring to the device) is full: back off and retry.
    #[error("mailbox of {0} is full")]
    Full(ActorId),
    /// No actor with this id was ever spawned in this runtime.
    #[error("no actor {0} in this runtime")]
    UnknownActor(ActorId),
    /// The actor has stopped (terminated or failed) and accepts no messages.
    #[error("{0} has stopped")]
    Stopped(ActorId),
    /// The runtime is shutting down or has shut down.
    #[error("runtime is shut down")]
    ShutDown,
    /// The message type is not the one the target actor handles.
    #[error("{actor} does not handle message type {type_id:#010x}")]
    WrongMessageType {
        /// Target actor.
        actor: ActorId,
        /// Type id offered.
        type_id: u32,
    },
    /// The payload exceeds the envelope's inline capacity.
    #[error("payload of {len} bytes exceeds the {max}-byte limit")]
    TooLarge {
        /// Bytes offered.
        len: usize,
        /// Limit.
        max: usize,
    },
    /// Too many asks are waiting for replies at once.
    #[error("too many asks in flight (limit {0})")]
    TooManyPendingAsks(usize),
    /// The device faulted (a sticky CUDA error: its context is lost). Nothing is accepted until
    /// the runtime recovers, if it was built to (see `ringkernel::recovery`).
    #[error("the device faulted; its runtime is lost or recovering")]
    DeviceLost,
}

/// Why an ask produced no reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AskError {
    /// The request was not accepted.
    #[error(transparent)]
    Send(#[from] SendError),
    /// No reply within the deadline. The request may still be processed later.
    #[error("no reply within {0:?}")]
    Timeout(Duration),
    /// The handler failed on this request; the actor is now `Failed`.
    #[error("{actor} failed: {error}")]
    HandlerFailed {
        /// The actor whose handler failed.
        actor: ActorId,
        /// The handler's error.
        error: HandlerError,
    },
    /// The actor stopped, or the runtime shut down, before the request was processed.
    #[error("request dropped: {0} stopped before processing it")]
    Dropped(ActorId),
    /// The reply did not decode as the expected type (a runtime bug, reported rather than hidden).
    #[error("reply from {0} did not match the expected type")]
    BadReply(ActorId),
    /// The device faulted while the request was pending. The request's effect is lost with the
    /// device's state: a recovering runtime rolls back to its last checkpoint and does not
    /// replay this request, so it is safe to send again.
    #[error("the device faulted before {0} answered")]
    DeviceLost(ActorId),
}
