//! Backend-free model of RingKernel.
//!
//! Everything here is shared by the CPU and CUDA backends: actor ids, the [`Message`] trait, the
//! wire [`Envelope`] (one `#[repr(C)]` layout for host and device), the lock-free rings, the hybrid
//! logical clock, the lifecycle state machine and the crate's error type. Nothing here touches a GPU.
//!
//! The resilience rules are here too, as pure decisions over injected values and `Instant`s:
//! supervision, checkpoints, memory budgets ([`budget`]), load levels ([`degradation`]) and health
//! probes ([`health`]).
#![deny(unsafe_op_in_unsafe_fn)]

pub mod actor;
pub mod backend;
pub mod budget;
pub mod checkpoint;
pub mod dead_letter;
pub mod deadline;
pub mod degradation;
pub mod envelope;
pub mod error;
pub mod events;
pub mod health;
pub mod hlc;
pub mod id;
pub mod lifecycle;
pub mod message;
pub mod reply;
pub mod ring;
pub mod send;
pub mod supervision;
pub mod sync;

pub use actor::{Actor, ActorVTable, Context, CudaHandler, HandlerError};
pub use backend::{
    ActorBackend, BackendKind, BackendSignals, ShutdownError, ShutdownReport, SnapshotError,
    SpawnError, SpawnOptions,
};
pub use budget::{BudgetError, BudgetLedger, MemoryBudgets, MemoryPolicy, Mitigations, TreeId};
pub use dead_letter::{DeadLetter, DeadLetterCounts, DeadLetterReason};
pub use deadline::deadline_after;
pub use degradation::{Admission, DegradationController, FaultRate, Level, Signals, Thresholds};
pub use envelope::{Envelope, EnvelopeHeader, MAX_PAYLOAD};
pub use error::CoreError;
pub use events::{ActorEvent, EventQueue};
pub use health::{HealthReport, Liveness, NotReady, Readiness, Watchdog};
pub use hlc::{CachedClock, Hlc, HlcTimestamp, SystemClock};
pub use id::ActorId;
pub use lifecycle::{AtomicLifecycle, LifecycleState};
pub use message::{Message, MessageTypeId};
pub use reply::{
    reply_pair, PendingReply, ReplyDriver, ReplyOutcome, ReplySlot, ReplyWatch, Settled,
};
pub use send::{AskError, SendError};
