//! The wire envelope: one `#[repr(C)]` layout shared by host rings, device rings and mailboxes.
//!
//! This is the single source of truth for the message layout. The CUDA backend generates its
//! device header from the constants below and `static_assert`s the same sizes and offsets, so a
//! change here that the device code does not follow fails the NVRTC compile check in CI.
//!
//! Layout (112 bytes, 16-byte aligned so the device can move it with 128-bit loads):
//!
//! | offset | field         | meaning                                                    |
//! |--------|---------------|------------------------------------------------------------|
//! | 0      | `sender`      | raw [`ActorId`] of the sender ([`ActorId::HOST`] for host) |
//! | 4      | `receiver`    | raw [`ActorId`] of the receiver                            |
//! | 8      | `type_id`     | [`MessageTypeId`] of the payload                           |
//! | 12     | `payload_len` | bytes of `payload` in use (≤ [`MAX_PAYLOAD`])              |
//! | 14     | `flags`       | [`flags`] bits: ask, reply, failure                        |
//! | 16     | `correlation` | pairs a reply with its ask; 0 for tells                    |
//! | 24     | `hlc`         | packed [`HlcTimestamp`] taken at send                      |
//! | 32     | `payload`     | the message bytes                                          |

use bytemuck::{Pod, Zeroable};
use std::fmt;
use std::mem::{offset_of, size_of};

use crate::error::CoreError;
use crate::hlc::HlcTimestamp;
use crate::id::ActorId;
use crate::message::{Message, MessageTypeId};

/// Largest payload an envelope carries inline, in bytes.
pub const MAX_PAYLOAD: usize = 80;

/// Envelope flag bits.
pub mod flags {
    /// The sender waits for a reply carrying the same correlation id.
    pub const ASK: u16 = 1 << 0;
    /// This envelope answers an ask.
    pub const REPLY: u16 = 1 << 1;
    /// The handler failed; a reply with this bit carries no payload.
    pub const FAILED: u16 = 1 << 2;
    /// The message was not processed (its actor had stopped); a reply with this bit is empty.
    pub const DROPPED: u16 = 1 << 3;
    /// A runtime control message or notice, not user traffic.
    pub const CONTROL: u16 = 1 << 4;
    /// Device→host: an undelivered message (a dead letter); the reason is in the bits at
    /// [`DEAD_REASON_SHIFT`] (see `DeadLetterReason`).
    pub const DEAD_LETTER: u16 = 1 << 5;
    /// With [`FAILED`]: the handler failed, and the backend restarted the actor in place by its
    /// restart policy (it is active again); without this bit a failure leaves the actor failed.
    pub const RESTARTED: u16 = 1 << 6;
    /// Where a dead letter's reason code sits in the flags.
    pub const DEAD_REASON_SHIFT: u16 = 8;
    /// Width mask of the reason code (after shifting).
    pub const DEAD_REASON_MASK: u16 = 0xF;
}

/// Routing and ordering metadata in front of every payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub struct EnvelopeHeader {
    /// Raw id of the sending actor, or [`ActorId::HOST`].
    pub sender: u32,
    /// Raw id of the receiving actor.
    pub receiver: u32,
    /// Type of the payload.
    pub type_id: u32,
    /// Bytes of the payload in use.
    pub payload_len: u16,
    /// [`flags`] bits.
    pub flags: u16,
    /// Pairs replies with asks; 0 for tells.
    pub correlation: u64,
    /// Packed HLC timestamp taken when the message was sent.
    pub hlc: u64,
}

/// A message with its header, as it sits in every ring slot and mailbox.
#[derive(Clone, Copy, PartialEq, Eq, Pod, Zeroable)]
#[repr(C, align(16))]
pub struct Envelope {
    /// Routing and ordering metadata.
    pub header: EnvelopeHeader,
    /// Message bytes; only the first `header.payload_len` are meaningful.
    pub payload: [u8; MAX_PAYLOAD],
}

/// Size of [`Envelope`] in bytes; the device header asserts the same value.
pub const ENVELOPE_SIZE: usize = 112;
/// Size of [`EnvelopeHeader`] in bytes.
pub const HEADER_SIZE: usize = 32;

const _: () = {
    assert!(size_of::<EnvelopeHeader>() == HEADER_SIZE);
    assert!(size_of::<Envelope>() == ENVELOPE_SIZE);
    assert!(std::mem::align_of::<Envelope>() == 16);
    assert!(offset_of!(EnvelopeHeader, sender) == 0);
    assert!(offset_of!(EnvelopeHeader, receiver) == 4);
    assert!(offset_of!(EnvelopeHeader, type_id) == 8);
    assert!(offset_of!(EnvelopeHeader, payload_len) == 12);
    assert!(offset_of!(EnvelopeHeader, flags) == 14);
    assert!(offset_of!(EnvelopeHeader, correlation) == 16);
    assert!(offset_of!(EnvelopeHeader, hlc) == 24);
    assert!(offset_of!(Envelope, payload) == HEADER_SIZE);
};

/// `(field, offset)` pairs of the envelope layout, for generating and checking device headers.
pub const ENVELOPE_OFFSETS: [(&str, usize); 8] = [
    ("sender", offset_of!(EnvelopeHeader, sender)),
    ("receiver", offset_of!(EnvelopeHeader, receiver)),
    ("type_id", offset_of!(EnvelopeHeader, type_id)),
    ("payload_len", offset_of!(EnvelopeHeader, payload_len)),
    ("flags", offset_of!(EnvelopeHeader, flags)),
    ("correlation", offset_of!(EnvelopeHeader, correlation)),
    ("hlc", offset_of!(EnvelopeHeader, hlc)),
    ("payload", offset_of!(Envelope, payload)),
];

impl Envelope {
    /// Builds an envelope around raw payload bytes.
    ///
    /// Fails with [`CoreError::PayloadTooLarge`] when `payload` exceeds [`MAX_PAYLOAD`].
    pub fn from_bytes(
        sender: ActorId,
        receiver: ActorId,
        type_id: MessageTypeId,
        payload: &[u8],
    ) -> Result<Self, CoreError> {
        if payload.len() > MAX_PAYLOAD {
            return Err(CoreError::PayloadTooLarge {
                len: payload.len(),
                max: MAX_PAYLOAD,
            });
        }
        let mut env = Envelope::zeroed();
        env.header.sender = sender.raw();
        env.header.receiver = receiver.raw();
        env.header.type_id = type_id.0;
        // Cannot truncate: payload.len() <= MAX_PAYLOAD < u16::MAX.
        env.header.payload_len = payload.len() as u16;
        env.payload[..payload.len()].copy_from_slice(payload);
        Ok(env)
    }

    /// Builds an envelope carrying a typed message.
    pub fn new<M: Message>(sender: ActorId, receiver: ActorId, msg: &M) -> Result<Self, CoreError> {
        M::check_layout()?;
        Self::from_bytes(sender, receiver, M::TYPE_ID, bytemuck::bytes_of(msg))
    }

    /// Reads the payload back as `M`, checking the type id and length.
    pub fn read<M: Message>(&self) -> Result<M, CoreError> {
        let len = usize::from(self.header.payload_len);
        if self.header.type_id != M::TYPE_ID.0 || len != size_of::<M>() || len > MAX_PAYLOAD {
            return Err(CoreError::TypeMismatch {
                expected: M::TYPE_ID.0,
                found: self.header.type_id,
                len,
            });
        }
        Ok(bytemuck::pod_read_unaligned(&self.payload[..len]))
    }

    /// The payload bytes in use.
    pub fn payload_bytes(&self) -> &[u8] {
        let len = usize::from(self.header.payload_len).min(MAX_PAYLOAD);
        &self.payload[..len]
    }

    /// Sender id.
    pub fn sender(&self) -> ActorId {
        ActorId::from_raw(self.header.sender)
    }

    /// Receiver id.
    pub fn receiver(&self) -> ActorId {
        ActorId::from_raw(self.header.receiver)
    }

    /// The HLC timestamp taken at send.
    pub fn timestamp(&self) -> HlcTimestamp {
        HlcTimestamp::from_raw(self.header.hlc)
    }

    /// Whether all bits of `flag` are set.
    pub fn has_flag(&self, flag: u16) -> bool {
        self.header.flags & flag == flag
    }
}

impl fmt::Debug for Envelope {
    // Payloads may hold user data: show the header and length only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Envelope")
            .field("header", &self.header)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, Debug, PartialEq, Pod, Zeroable)]
    #[repr(C)]
    struct Deposit {
        account: u32,
        _pad: u32,
        cents: i64,
    }
    impl Message for Deposit {
        const TYPE_ID: MessageTypeId = MessageTypeId(0x10);
    }

    #[derive(Clone, Copy, Debug, PartialEq, Pod, Zeroable)]
    #[repr(C)]
    struct Other {
        x: u64,
        y: u64,
    }
    impl Message for Other {
        const TYPE_ID: MessageTypeId = MessageTypeId(0x11);
    }

    #[test]
    fn typed_round_trip() {
        let d = Deposit {
            account: 7,
            _pad: 0,
            cents: -500,
        };
        let env = Envelope::new(ActorId::HOST, ActorId::from_raw(3), &d).unwrap();
        assert_eq!(env.sender(), ActorId::HOST);
        assert_eq!(env.receiver(), ActorId::from_raw(3));
        assert_eq!(env.header.payload_len, 16);
        assert_eq!(env.read::<Deposit>().unwrap(), d);
    }

    #[test]
    fn reading_as_wrong_type_is_an_error() {
        let d = Deposit {
            account: 1,
            _pad: 0,
            cents: 2,
        };
        let env = Envelope::new(ActorId::HOST, ActorId::from_raw(0), &d).unwrap();
        assert!(matches!(
            env.read::<Other>(),
            Err(CoreError::TypeMismatch {
                expected: 0x11,
                found: 0x10,
                len: 16
            })
        ));
    }

    #[test]
    fn oversize_bytes_are_rejected() {
        let big = [0u8; MAX_PAYLOAD + 1];
        let err = Envelope::from_bytes(ActorId::HOST, ActorId::from_raw(0), MessageTypeId(1), &big)
            .unwrap_err();
        assert_eq!(
            err,
            CoreError::PayloadTooLarge {
                len: MAX_PAYLOAD + 1,
                max: MAX_PAYLOAD
            }
        );
        let exact = [1u8; MAX_PAYLOAD];
        let env = Envelope::from_bytes(
            ActorId::HOST,
            ActorId::from_raw(0),
            MessageTypeId(1),
            &exact,
        )
        .unwrap();
        assert_eq!(env.payload_bytes(), &exact[..]);
    }

    #[test]
    fn corrupt_length_never_reads_out_of_bounds() {
        let mut env = Envelope::zeroed();
        env.header.payload_len = u16::MAX;
        assert_eq!(env.payload_bytes().len(), MAX_PAYLOAD);
    }

    #[test]
    fn debug_hides_payload() {
        let env = Envelope::from_bytes(
            ActorId::HOST,
            ActorId::from_raw(0),
            MessageTypeId(1),
            b"secret",
        )
        .unwrap();
        let s = format!("{env:?}");
        assert!(!s.contains("115, 101"), "payload bytes leaked: {s}");
    }
}
