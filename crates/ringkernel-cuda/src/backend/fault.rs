//! A device fault: noticing it, failing what waits on it, and giving the GPU back.
//!
//! An illegal address or a `__trap()` in a handler is a *sticky* error: the persistent kernel
//! dies and every later call on the context fails. The reply poller queries the kernel's stream
//! every [`CHECK_EVERY`]; once it reports an error, sends are refused with `DeviceLost`, asks
//! still waiting fail with `AskError::DeviceLost`, and the poller stops. The GPU is usable again
//! only after every object of the context is gone and the primary context is reset: drop the
//! backend, then [`Lifeline::reset_when_released`] (the facade's `ringkernel::recovery` does).

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use ringkernel_core::reply::ReplyOutcome;
use ringkernel_core::AskError;

use super::{lock, CudaBackend, Shared};
use crate::error::CudaError;

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

    /// A handle that outlives this backend and tells when every part of it is gone, so the
    /// GPU can be reset after a fault ([`Lifeline::reset_when_released`]).
    pub fn lifeline(&self) -> Lifeline {
        Lifeline {
            shared: Arc::downgrade(&self.shared),
            ordinal: self.shared.dev.ordinal(),
        }
    }
}

/// Watches a [`CudaBackend`]'s runtime after the backend was dropped: an un-awaited ask that
/// pumps replies itself still holds it (and with it the context).
#[derive(Debug, Clone)]
pub struct Lifeline {
    shared: Weak<Shared>,
    ordinal: usize,
}

impl Lifeline {
    /// Whether every handle on the runtime is gone.
    pub fn released(&self) -> bool {
        self.shared.strong_count() == 0
    }

    /// The GPU the runtime ran on.
    pub fn ordinal(&self) -> usize {
        self.ordinal
    }

    /// Waits up to `wait` until every handle on the (dropped) runtime is gone, then resets the
    /// GPU's primary context: after a sticky fault the only way to use the GPU again. An error
    /// when holders remain (the context is then not reset: resetting it under a holder would
    /// corrupt the next context's reference count) or when the reset fails.
    pub fn reset_when_released(&self, wait: Duration) -> Result<(), CudaError> {
        let until = Instant::now() + wait;
        while !self.released() {
            if Instant::now() >= until {
                return Err(CudaError::Config(format!(
                    "faulted runtime still held by {} handle(s) after {wait:?}; the device was \
                     not reset",
                    self.shared.strong_count()
                )));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        crate::driver::reset_primary_context(self.ordinal)
    }
}
