//! Dead letters: messages that could not be delivered, kept for inspection instead of vanishing.
//!
//! A backend records one when an on-device send cannot be delivered (unknown or stopped target,
//! a message the target's type rejects, or a full mailbox under the dead-letter policy). The
//! record is the undelivered envelope itself (sender, recipient, type, payload and the HLC stamp of
//! the send) plus the reason and the host HLC at which the host recorded it.

use crate::envelope::{flags, Envelope};
use crate::hlc::HlcTimestamp;

/// Why a message became a dead letter. The numbers are the wire encoding (see [`flags`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum DeadLetterReason {
    /// The target id names no actor this runtime spawned.
    UnknownTarget = 1,
    /// The target has stopped or failed.
    Stopped = 2,
    /// The target's type does not take this message (type id or size).
    Rejected = 3,
    /// The target's mailbox was full and the sender's policy was "dead-letter on full".
    Full = 4,
    /// The message's time to live ran out before its handler ran.
    Expired = 5,
}

impl DeadLetterReason {
    /// All reasons, in wire order.
    pub const ALL: [DeadLetterReason; 5] = [
        DeadLetterReason::UnknownTarget,
        DeadLetterReason::Stopped,
        DeadLetterReason::Rejected,
        DeadLetterReason::Full,
        DeadLetterReason::Expired,
    ];

    /// Decodes the reason carried in an envelope's flags; `None` if it is not a dead letter or
    /// the reason is unknown.
    pub fn from_flags(f: u16) -> Option<Self> {
        if f & flags::DEAD_LETTER == 0 {
            return None;
        }
        let code = (f >> flags::DEAD_REASON_SHIFT) & flags::DEAD_REASON_MASK;
        Self::ALL.into_iter().find(|r| u16::from(*r as u8) == code)
    }

    /// The flag bits that mark an envelope as a dead letter with this reason.
    pub const fn to_flags(self) -> u16 {
        flags::DEAD_LETTER | ((self as u16) << flags::DEAD_REASON_SHIFT)
    }
}

/// One undelivered message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeadLetter {
    /// The message as sent (sender, receiver, type, payload, HLC of the send).
    pub envelope: Envelope,
    /// Why it was not delivered.
    pub reason: DeadLetterReason,
    /// Host HLC when the host recorded it (causally after the send).
    pub recorded: HlcTimestamp,
}

/// Dead letters counted since the runtime started, by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeadLetterCounts {
    /// [`DeadLetterReason::UnknownTarget`].
    pub unknown_target: u64,
    /// [`DeadLetterReason::Stopped`].
    pub stopped: u64,
    /// [`DeadLetterReason::Rejected`].
    pub rejected: u64,
    /// [`DeadLetterReason::Full`].
    pub full: u64,
    /// [`DeadLetterReason::Expired`].
    pub expired: u64,
    /// Records the host no longer holds because its buffer was full (they are still counted
    /// above by reason).
    pub discarded: u64,
}

impl DeadLetterCounts {
    /// Adds one dead letter of `reason`.
    pub fn count(&mut self, reason: DeadLetterReason) {
        match reason {
            DeadLetterReason::UnknownTarget => self.unknown_target += 1,
            DeadLetterReason::Stopped => self.stopped += 1,
            DeadLetterReason::Rejected => self.rejected += 1,
            DeadLetterReason::Full => self.full += 1,
            DeadLetterReason::Expired => self.expired += 1,
        }
    }

    /// All dead letters recorded, whatever the reason.
    pub fn total(&self) -> u64 {
        self.unknown_target + self.stopped + self.rejected + self.full + self.expired
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_round_trip_through_flags() {
        for r in DeadLetterReason::ALL {
            let f = r.to_flags() | flags::CONTROL;
            assert_eq!(DeadLetterReason::from_flags(f), Some(r));
        }
        assert_eq!(DeadLetterReason::from_flags(flags::CONTROL), None);
        // A dead-letter bit with an unknown reason code is not silently mapped to a reason.
        assert_eq!(
            DeadLetterReason::from_flags(flags::DEAD_LETTER | (9 << flags::DEAD_REASON_SHIFT)),
            None
        );
    }

    #[test]
    fn counts_add_up() {
        let mut c = DeadLetterCounts::default();
        for r in DeadLetterReason::ALL {
            c.count(r);
        }
        c.count(DeadLetterReason::Full);
        assert_eq!((c.full, c.total()), (2, 6));
    }
}
