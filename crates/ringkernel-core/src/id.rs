//! Actor identifiers.

use bytemuck::{Pod, Zeroable};
use std::fmt;

/// Identifies one actor within a runtime.
///
/// A plain `u32` so it fits in the device-side envelope unchanged. Runtimes hand ids out from a
/// monotonic counter and never reuse one, so a stale id reliably names a stopped actor rather than a
/// stranger that took its place. [`ActorId::HOST`] is reserved for messages sent from host code.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Pod, Zeroable)]
#[repr(transparent)]
pub struct ActorId(u32);

impl ActorId {
    /// The host (code outside any actor) as a sender.
    pub const HOST: ActorId = ActorId(u32::MAX);

    /// Wraps a raw id as stored in an envelope.
    pub const fn from_raw(raw: u32) -> Self {
        ActorId(raw)
    }

    /// The raw id as stored in an envelope.
    pub const fn raw(self) -> u32 {
        self.0
    }

    /// Whether this is the reserved host id.
    pub const fn is_host(self) -> bool {
        self.0 == u32::MAX
    }
}

impl fmt::Debug for ActorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_host() {
            f.write_str("ActorId(host)")
        } else {
            write!(f, "ActorId({})", self.0)
        }
    }
}

impl fmt::Display for ActorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_host() {
            f.write_str("host")
        } else {
            write!(f, "actor#{}", self.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_id_is_reserved_and_round_trips() {
        assert!(ActorId::HOST.is_host());
        assert!(!ActorId::from_raw(0).is_host());
        assert_eq!(ActorId::from_raw(42).raw(), 42);
        assert_eq!(ActorId::from_raw(7).to_string(), "actor#7");
        assert_eq!(ActorId::HOST.to_string(), "host");
    }
}
