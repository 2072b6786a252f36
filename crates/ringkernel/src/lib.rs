//! RingKernel: persistent, stateful actors on an NVIDIA GPU, or on CPU worker threads with the
//! same semantics (`docs/semantics.md`).
//!
//! ```
//! use ringkernel::prelude::*;
//! use std::time::Duration;
//!
//! #[derive(Clone, Copy, Debug, Default, bytemuck::Pod, bytemuck::Zeroable)]
//! #[repr(C)]
//! struct Add { n: u64 }
//! impl Message for Add { const TYPE_ID: MessageTypeId = MessageTypeId(0x100); }
//!
//! struct Counter;
//! impl Actor for Counter {
//!     const NAME: &'static str = "counter";
//!     type State = Add;
//!     type Msg = Add;
//!     type Reply = Add;
//!     fn handle(s: &mut Add, m: &Add, _: &Context) -> Result<Add, HandlerError> {
//!         s.n += m.n;
//!         Ok(*s)
//!     }
//! }
//!
//! let rt = Runtime::builder().backend(Backend::Auto).register::<Counter>().build()?;
//! let c = rt.spawn::<Counter>(Add::default())?;
//! c.tell(Add { n: 2 })?;
//! assert_eq!(c.ask_blocking(Add { n: 3 }, Duration::from_secs(5))?.n, 5);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod actor_ref;
pub mod builder;
pub mod error;
pub mod isolated;
pub mod prelude;
pub mod recovery;
pub mod registry;
pub mod resilience;
pub mod runtime;
mod select;
pub mod supervisor;

pub use actor_ref::ActorRef;
pub use builder::{RuntimeBuilder, DEFAULT_ASK_TIMEOUT};
pub use error::Error;
pub use recovery::{BackendFactory, RecoveryPolicy, RecoveryReport, ReloadOptions, ReloadReport};
pub use registry::{RegistryEntry, SwarmNames};
pub use resilience::ResilienceEvent;
pub use runtime::{Runtime, DROP_SHUTDOWN_DEADLINE};
pub use select::Backend;
pub use supervisor::{Supervision, SupervisionEvent, SupervisorSpec};

pub use ringkernel_core::envelope::flags as envelope_flags;
pub use ringkernel_core::events::ActorEvent;
pub use ringkernel_core::{budget, checkpoint, degradation, health, supervision};
pub use ringkernel_core::{
    Actor, ActorBackend, ActorId, ActorVTable, AskError, BackendKind, BackendSignals, BudgetError,
    Context, CoreError, CudaHandler, DeadLetter, DeadLetterCounts, DeadLetterReason, Envelope,
    EventQueue, HandlerError, HealthReport, HlcTimestamp, Level, LifecycleState, MemoryBudgets,
    MemoryPolicy, Message, MessageTypeId, NotReady, PendingReply, ReplyWatch, SendError, Settled,
    ShutdownError, ShutdownReport, SnapshotError, SpawnError, SpawnOptions, Thresholds, TreeId,
};
pub use ringkernel_cpu::CpuConfig;
pub use ringkernel_cuda::multi;
pub use ringkernel_cuda::swarm;
pub use ringkernel_cuda::CudaError;

/// `#[derive(Message)]`: implements [`Message`](trait@Message) with an explicit
/// `#[message(id = ...)]`, checking at compile time that the type is a non-generic `#[repr(C)]`
/// struct, `Pod`, and fits an envelope.
///
/// It shares its name with the trait (as serde's derives do), so `use ringkernel::prelude::*;`
/// brings both.
///
/// ```
/// use ringkernel::prelude::*;
///
/// #[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable, Message)]
/// #[message(id = 0x0001_0001)]
/// #[repr(C)]
/// struct Deposit { account: u32, _pad: u32, cents: i64 }
///
/// assert_eq!(Deposit::TYPE_ID, MessageTypeId(0x0001_0001));
/// ```
pub use ringkernel_derive::Message;

/// `#[gpu_actor]`: write an actor's handler once, in Rust, and get its CUDA form generated.
///
/// Apply it to an inline module holding the actor's `#[repr(C)]` structs and `impl Actor`; the
/// module compiles unchanged for the CPU backend and each `impl Actor` gains a transpiled
/// [`Actor::cuda_handler`](trait@Actor). Unsupported Rust is a compile error with its span; the
/// subset is documented in `docs/transpiler.md`.
///
/// ```
/// use ringkernel::prelude::*;
///
/// #[gpu_actor]
/// mod counter {
///     use ringkernel::prelude::*;
///
///     #[derive(Clone, Copy, Debug, Default, bytemuck::Pod, bytemuck::Zeroable, Message)]
///     #[message(id = 0x100)]
///     #[repr(C)]
///     pub struct Add { pub n: u64 }
///
///     pub struct Counter;
///     impl Actor for Counter {
///         const NAME: &'static str = "counter";
///         type State = Add;
///         type Msg = Add;
///         type Reply = Add;
///         fn handle(s: &mut Add, m: &Add, _: &Context) -> Result<Add, HandlerError> {
///             s.n = s.n.wrapping_add(m.n);
///             Ok(*s)
///         }
///     }
/// }
///
/// assert!(counter::Counter::cuda_handler().is_some());
/// ```
pub use ringkernel_derive::gpu_actor;

/// Paths the `Message` derive expands to, so users need neither ringkernel-core nor bytemuck as a
/// direct dependency. Not a public API: it may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use bytemuck;
    pub use ringkernel_core as core;
}
