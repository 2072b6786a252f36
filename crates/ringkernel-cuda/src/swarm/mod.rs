//! The swarm: lightweight actors, millions of them, served by one persistent kernel.
//!
//! A swarm actor is a state slot plus a mailbox in device memory. Persistent worker warps serve
//! them: a message that makes an empty mailbox non-empty enqueues its actor once in the ready
//! queue of the actor's home block; a warp takes up to 32 ready actors at a time (one per lane)
//! and runs up to `batch` messages of each; idle warps steal from the other blocks of their
//! thread block cluster, then from random blocks of the grid.
//!
//! Two tiers, picked by placement:
//! - **global tier** (`Swarm::spawn_many`, ids `0..capacity`): mailbox in global memory, home
//!   block `id % blocks`, served by any warp that takes it (stealing);
//! - **cluster tier** (`Swarm::spawn_local`): mailbox in its home block's shared memory; a
//!   cluster-tier actor of the same cluster writes into it through DSMEM, everyone else through
//!   the home block's forward inbox. Always served by warp 0 of its home block.
//!
//! Every queue is bounded and checked: a send with no credit returns `RK_SW_FULL` to the handler
//! (which keeps the message and yields) or becomes a dead letter, by the sender's policy; host
//! sends wait in the host ring. Undeliverable (unknown or stopped target), expired (TTL) and
//! refused-on-full messages are dead letters, drained to the host with sender, recipient,
//! reason and HLC. Every message carries the sender's HLC, ticked on send and merged on receive.
//! Handlers may ask other actors (the reply comes back as a message with the same correlation)
//! and answer host asks. The protocols are in `kernels/swarm.cuh`; `docs/swarm.md` has the
//! whole design and its limits.

pub mod config;
mod exit_report;
pub mod kit;
pub mod layout;
pub mod ll_hop;
pub mod placement;
pub mod program;
mod replies;
mod runtime;

pub use config::{Steal, SwarmConfig};
pub use layout::{SwarmActor, SwarmBlockStats};
pub use placement::PairPlace;
pub use program::SwarmProgram;
pub use replies::{SwarmDeadLetter, SwarmReply};
pub use runtime::{SendOptions, Swarm, SwarmMsg, MAX_TTL, SETTLE_HOLD};
