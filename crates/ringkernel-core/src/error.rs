//! The crate's error type.

use crate::lifecycle::LifecycleState;

/// Errors raised by the backend-free model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CoreError {
    /// A payload longer than an envelope can carry.
    #[error("payload of {len} bytes exceeds the {max}-byte envelope limit")]
    PayloadTooLarge {
        /// Bytes offered.
        len: usize,
        /// Largest payload an envelope carries.
        max: usize,
    },
    /// A message type used an id in the runtime's reserved range.
    #[error("message type id {0:#010x} lies in the reserved range")]
    ReservedTypeId(u32),
    /// An envelope's payload did not match the message type it was read as.
    #[error("envelope holds type {found:#010x} ({len} bytes), expected {expected:#010x}")]
    TypeMismatch {
        /// Type id the reader asked for.
        expected: u32,
        /// Type id found in the envelope.
        found: u32,
        /// Payload length found in the envelope.
        len: usize,
    },
    /// A lifecycle transition the state machine forbids.
    #[error("illegal lifecycle transition {from:?} -> {to:?}")]
    IllegalTransition {
        /// State the actor was in.
        from: LifecycleState,
        /// State that was requested.
        to: LifecycleState,
    },
    /// A raw byte did not name a lifecycle state.
    #[error("{0} is not a lifecycle state")]
    UnknownLifecycleState(u8),
    /// A remote timestamp lies too far ahead of the local physical clock.
    #[error(
        "remote clock {remote_ms} ms is {skew_ms} ms ahead of local time (limit {max_skew_ms} ms)"
    )]
    ClockSkew {
        /// Physical part of the remote timestamp, in ms since the Unix epoch.
        remote_ms: u64,
        /// How far ahead of local time it is.
        skew_ms: u64,
        /// The configured limit.
        max_skew_ms: u64,
    },
    /// An actor state type aligned beyond what backends allocate.
    #[error("actor state alignment {align} exceeds the supported {max}")]
    StateAlignment {
        /// Alignment of the state type.
        align: usize,
        /// Largest supported alignment.
        max: usize,
    },
    /// State bytes of the wrong length for the actor type.
    #[error("actor state is {len} bytes, expected {expected}")]
    StateLayout {
        /// Bytes found.
        len: usize,
        /// Bytes the actor type declares.
        expected: usize,
    },
    /// A ring capacity that is zero, not a power of two, or too large.
    #[error("ring capacity {0} must be a power of two between 1 and 2^32")]
    BadCapacity(usize),
    /// A supervisor was told about a child it does not have.
    #[error("supervisor has {children} children, no child {child}")]
    UnknownChild {
        /// The index given.
        child: usize,
        /// How many children the supervisor has.
        children: usize,
    },
    /// Bytes that are not a checkpoint of this format (wrong magic, truncated, malformed).
    #[error("not a valid checkpoint: {0}")]
    CheckpointCorrupt(String),
    /// A checkpoint written by a format version this build does not read.
    #[error("checkpoint format version {found}, this build reads version {supported}")]
    CheckpointVersion {
        /// Version in the bytes.
        found: u16,
        /// Version this build reads and writes.
        supported: u16,
    },
    /// A checkpoint whose content digest does not match its bytes (damaged in storage or
    /// transit).
    #[error("checkpoint digest mismatch: the bytes were altered")]
    CheckpointDigest,
    /// A delta applied to a checkpoint other than the one it was taken against.
    #[error("delta was taken against a different base checkpoint")]
    CheckpointBase,
    /// A restart intensity with a zero period (no window to count restarts in).
    #[error("restart intensity needs a period longer than zero")]
    ZeroRestartPeriod,
}
