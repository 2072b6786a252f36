//! The crate's error type.

/// Errors of the CUDA backend.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CudaError {
    /// The CUDA driver library could not be loaded or initialized (no GPU, no driver).
    #[error("CUDA driver not available: {0}")]
    DriverUnavailable(String),
    /// No CUDA device with this ordinal.
    #[error("no CUDA device {ordinal} ({count} present)")]
    NoDevice {
        /// Ordinal asked for.
        ordinal: usize,
        /// Devices present.
        count: usize,
    },
    /// A registered actor type has no CUDA handler.
    #[error("actor type `{0}` has no CUDA handler")]
    NoCudaHandler(&'static str),
    /// A CUDA driver call failed.
    #[error("CUDA driver call {call} failed: {message}")]
    Driver {
        /// The call that failed.
        call: &'static str,
        /// The driver's description.
        message: String,
    },
    /// NVRTC (the run-time CUDA C++ compiler) could not be loaded or is unusable.
    #[error("NVRTC not available: {0}")]
    NvrtcUnavailable(String),
    /// The CUDA headers NVRTC needs (`cooperative_groups.h`, libcu++'s `cuda/atomic`) were not found.
    #[error("CUDA headers not found: {0}")]
    CudaHeadersNotFound(String),
    /// NVRTC rejected a device source; `log` is NVRTC's own log (file, line, message).
    #[error("NVRTC failed to compile `{name}`:\n{log}")]
    Compile {
        /// The program name given to the compiler (appears in the log's locations).
        name: String,
        /// NVRTC's compile log.
        log: String,
    },
    /// An NVRTC call other than the compile itself failed.
    #[error("NVRTC call {call} failed: {message}")]
    Nvrtc {
        /// The call that failed.
        call: &'static str,
        /// NVRTC's result code.
        message: String,
    },
    /// The device has not enough free memory for the runtime (not sticky: the GPU stays usable).
    #[error("out of device memory: {bytes} bytes asked for, {free} free")]
    OutOfMemory {
        /// Bytes asked for.
        bytes: usize,
        /// Bytes free on the device when it failed.
        free: usize,
    },
    /// The requested grid of actor blocks cannot be co-resident on the device.
    #[error("{requested} actor blocks requested but only {max} can be co-resident ({per_sm} per SM x {sms} SMs)")]
    TooManyBlocks {
        /// Blocks asked for.
        requested: u32,
        /// Most co-resident blocks.
        max: u32,
        /// Blocks per SM from the occupancy calculator.
        per_sm: u32,
        /// SMs on the device.
        sms: u32,
    },
    /// Two GPUs of a multi-GPU runtime cannot access each other's memory, so handlers on one
    /// could not reach inboxes on the other.
    #[error("GPU {from} has no peer access to GPU {to}")]
    NoPeerAccess {
        /// CUDA ordinal of the accessing GPU.
        from: usize,
        /// CUDA ordinal of the GPU whose memory it cannot access.
        to: usize,
    },
    /// Two GPUs of a multi-GPU runtime can access each other's memory but without native
    /// atomics (PCIe peer-to-peer): handlers' claims on the other GPU's inboxes would not be
    /// atomic.
    #[error("GPU {from} has peer access to GPU {to} but no native peer atomics")]
    NoPeerAtomics {
        /// CUDA ordinal of the accessing GPU.
        from: usize,
        /// CUDA ordinal of the other GPU.
        to: usize,
    },
    /// A migration failed; the actor stays where it was (the text says why).
    #[error("migration of actor {actor} failed: {why}")]
    Migration {
        /// The runtime-wide id of the actor.
        actor: u32,
        /// What went wrong.
        why: String,
    },
    /// The state checksum computed on the target GPU differs from the source's.
    #[error("migration of actor {actor}: checksum {on_target:#018x} on the target GPU, {on_source:#018x} on the source")]
    ChecksumMismatch {
        /// The runtime-wide id of the actor.
        actor: u32,
        /// Computed on the source GPU from the state before the transfer.
        on_source: u64,
        /// Computed on the target GPU from the migrated bytes.
        on_target: u64,
    },
    /// A configuration value out of range.
    #[error("invalid CUDA backend configuration: {0}")]
    Config(String),
    /// A measurement kernel (a floor, the framework-free hop) gave up on the device before it
    /// finished.
    #[error("{what} did not finish within {deadline_ns} ns on the device")]
    MeasurementTimeout {
        /// The measurement.
        what: String,
        /// The kernel's deadline.
        deadline_ns: u64,
    },
    /// A kernel that places its work by SM had no block scheduled on this one.
    #[error("no block ran on SM {sm}")]
    SmUnavailable {
        /// The SM (`%smid`).
        sm: u32,
    },
    /// A swarm cannot hold more actors of the kind asked for.
    #[error("swarm capacity exhausted: {asked} more actors asked for, {left} ids left")]
    SwarmCapacity {
        /// Actors asked for.
        asked: u64,
        /// Ids still free.
        left: u64,
    },
    /// A message the host sends to a swarm is malformed (the text says how).
    #[error("invalid swarm message: {0}")]
    SwarmMessage(String),
    /// A swarm operation did not complete in time.
    #[error("swarm: {what} did not complete within {waited:?}")]
    SwarmTimeout {
        /// The operation.
        what: &'static str,
        /// How long the host waited.
        waited: std::time::Duration,
    },
    /// A swarm id in range names no actor: it was never spawned.
    #[error("swarm actor {0} was never spawned")]
    SwarmUnknownActor(u32),
    /// A host ask to a swarm actor became a dead letter instead of being answered.
    #[error("swarm ask to actor {actor} was not delivered: {reason:?}")]
    SwarmDeadLetter {
        /// The asked actor.
        actor: u32,
        /// Why.
        reason: ringkernel_core::DeadLetterReason,
    },
    /// The swarm kernel has stopped (shut down, or failed: the text says which).
    #[error("swarm kernel is not running: {0}")]
    SwarmStopped(String),
}
