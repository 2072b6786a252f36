//! Configuration of the CUDA backend.

use std::time::Duration;

/// Configuration of the CUDA backend. `Default` suits a single-GPU machine.
#[derive(Debug, Clone)]
pub struct CudaConfig {
    /// Which GPU to use.
    pub device_ordinal: usize,
    /// Actor blocks in the persistent grid (the most block actors the runtime can hold).
    /// `None`: one per SM. More than can be co-resident is [`CudaError::TooManyBlocks`].
    ///
    /// [`CudaError::TooManyBlocks`]: crate::CudaError::TooManyBlocks
    pub blocks: Option<u32>,
    /// Slots in each actor's host→device ring (power of two): the mailbox size.
    pub mailbox_capacity: u32,
    /// Slots in the shared device→host ring (power of two).
    pub reply_capacity: u32,
    /// Slots in each actor's K2K inbox in device memory (power of two): the credits its device
    /// senders share. A send into a full inbox fails or becomes a dead letter, by the sender's
    /// policy (`rk_k2k_tell`).
    pub k2k_capacity: u32,
    /// How long a block keeps polling its mailbox over PCIe after its last message before it
    /// goes cold (waits for a doorbell). Longer keeps bursty actors on the fast path; shorter
    /// saves PCIe reads.
    pub hot_window: Duration,
    /// Longest nap of a cold block between checks of its (device-memory) wake word.
    pub max_backoff: Duration,
    /// How often each block writes its heartbeat.
    pub heartbeat: Duration,
    /// How long a block's heartbeat may stay unchanged before the watchdog reports its actor's
    /// handler as hung (in `signals()`; the GPU cannot preempt it).
    pub watchdog: Duration,
    /// Give every block a snapshot slot in device memory (its state size plus its K2K inbox),
    /// so live actors can be snapshotted (`ActorBackend::snapshot`). Default on.
    pub snapshots: bool,
    /// Asks that may wait for replies at once.
    pub max_pending_asks: usize,
    /// Write each reply's stamps after a system fence instead of hashing them into one store
    /// with the data (`layout.rs`). Both are correct; the default is the unfenced one, and this
    /// switch exists to measure what the fence costs.
    pub fenced_replies: bool,
    /// A blocking ask pumps the reply ring itself while it spins, instead of waiting for the
    /// reply poller thread to hand its reply over (one cross-core hand-off fewer). The poller
    /// still serves async asks and parked waiters. On by default; off exists to measure it.
    pub caller_drives_replies: bool,
}

impl Default for CudaConfig {
    fn default() -> Self {
        CudaConfig {
            device_ordinal: 0,
            blocks: None,
            mailbox_capacity: 256,
            reply_capacity: 4096,
            k2k_capacity: 64,
            hot_window: Duration::from_micros(200),
            max_backoff: Duration::from_nanos(512),
            heartbeat: Duration::from_millis(1),
            watchdog: Duration::from_secs(1),
            snapshots: true,
            max_pending_asks: 1 << 16,
            fenced_replies: false,
            caller_drives_replies: true,
        }
    }
}
