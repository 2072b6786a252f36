//! A device fault: noticing it, failing what waits on it, and giving the GPU back.
//!
//! An illegal address or a `__trap()` in a handler is a *sticky* error: the persistent kernel
//! dies and every later call on the context fails. The reply poller queries the kernel's stream
//! every [`CHECK_EVERY`]; once it reports an error, sends are refused with `DeviceLost`, asks
//! still waiting fail with `AskError::DeviceLost`, and the poller stops. The GPU is usable again
//! in a new process: after a sticky fault the driver refuses every new context in this one
//! (`fault-probe` shows it), so the facade's `ringkernel::recovery` runs each generation in a
//! device host child process and replaces the process.

use std::sync::atomic::Ordering;
use std::time::Duration;

use ringkernel_core::reply::ReplyOutcome;
use ringkernel_core::AskError;

use super::{lock, CudaBackend, Shared};

/// How often the poller asks the driver whether the kernel faulted.
pub(super) const CHECK_EVERY: Duration = Duration::from_millis(1);

/// Called by the poller every [`CHECK_EVERY`]: `true` once the kernel faulted, after failing
/// every waiting ask (the poller then stops).
pub(super) fn check(s: &Shared) -> bool {
    let Some(why) = s.dev.check_fault() else {
        return false;
    };
    tracing::error!(
        fault = why,
        "persistent kernel faulted; the context is lost"
    );
    // Replies the kernel wrote before it died are still in the mapped ring: deliver them.
    lock(&s.reader).pump(s, usize::MAX);
    fail_pending(s, AskError::DeviceLost);
    true
}

/// Completes every ask still waiting with `why(target)`.
pub(super) fn fail_pending(s: &Shared, why: fn(ringkernel_core::ActorId) -> AskError) {
    let drained: Vec<_> = lock(&s.pending).drain().collect();
    for (_, (target, slot)) in &drained {
        slot.complete(ReplyOutcome::Failed(why(*target)));
    }
    s.pending_count.fetch_sub(drained.len(), Ordering::AcqRel);
}

impl CudaBackend {
    /// Why the device is lost, once the kernel faulted (as last seen by the poller).
    pub fn device_fault(&self) -> Option<String> {
        self.shared.dev.fault().map(str::to_owned)
    }
}
