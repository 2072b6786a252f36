//! The [`Message`] trait: plain data with a stable type id.
//!
//! A message is copied byte for byte into an [`Envelope`](crate::Envelope) payload, on the host and
//! on the device alike, so it must be [`Pod`]: no pointers, no padding, no drop glue. Its type id is
//! chosen by the programmer and written in the source, never derived from a hash or `TypeId`, so it
//! stays the same across builds, compilers and the host/device boundary.

use bytemuck::Pod;
use std::fmt;

use crate::envelope::MAX_PAYLOAD;
use crate::error::CoreError;

/// Stable, explicit identifier of a message type.
///
/// Ids `0xFFFF_0000..=0xFFFF_FFFF` are reserved for the runtime's own control messages.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(transparent)]
pub struct MessageTypeId(pub u32);

impl MessageTypeId {
    /// First id reserved for runtime control messages.
    pub const RESERVED_START: u32 = 0xFFFF_0000;

    /// Whether the id lies in the runtime's reserved range.
    pub const fn is_reserved(self) -> bool {
        self.0 >= Self::RESERVED_START
    }
}

impl fmt::Debug for MessageTypeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MessageTypeId({:#010x})", self.0)
    }
}

/// A plain-data message that can travel between host and device actors.
///
/// Implementors must fit in [`MAX_PAYLOAD`] bytes; [`Message::check_layout`] verifies that and that
/// the id is not reserved, and every send path calls it (it folds to a constant per type).
///
/// ```
/// use ringkernel_core::{Message, MessageTypeId};
///
/// #[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
/// #[repr(C)]
/// struct Deposit { account: u32, _pad: u32, cents: i64 }
///
/// impl Message for Deposit {
///     const TYPE_ID: MessageTypeId = MessageTypeId(0x0001_0001);
/// }
/// assert!(Deposit::check_layout().is_ok());
/// ```
pub trait Message: Pod + Send + Sync + 'static {
    /// The stable type id written into every envelope carrying this message.
    const TYPE_ID: MessageTypeId;

    /// Checks that the message fits an envelope and does not use a reserved id.
    fn check_layout() -> Result<(), CoreError> {
        let len = std::mem::size_of::<Self>();
        if len > MAX_PAYLOAD {
            return Err(CoreError::PayloadTooLarge {
                len,
                max: MAX_PAYLOAD,
            });
        }
        if Self::TYPE_ID.is_reserved() {
            return Err(CoreError::ReservedTypeId(Self::TYPE_ID.0));
        }
        Ok(())
    }
}

/// The unit reply: zero bytes, for handlers that answer asks with an acknowledgement only.
impl Message for () {
    const TYPE_ID: MessageTypeId = MessageTypeId(0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
    #[repr(C)]
    struct Small {
        a: u64,
    }
    impl Message for Small {
        const TYPE_ID: MessageTypeId = MessageTypeId(7);
    }

    #[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
    #[repr(C)]
    struct Huge {
        a: [u64; 16],
    }
    impl Message for Huge {
        const TYPE_ID: MessageTypeId = MessageTypeId(8);
    }

    #[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
    #[repr(C)]
    struct Sneaky {
        a: u32,
    }
    impl Message for Sneaky {
        const TYPE_ID: MessageTypeId = MessageTypeId(0xFFFF_0001);
    }

    #[test]
    fn small_message_passes_layout_check() {
        assert!(Small::check_layout().is_ok());
        assert!(<()>::check_layout().is_ok());
    }

    #[test]
    fn oversize_message_is_a_typed_error() {
        assert_eq!(
            Huge::check_layout(),
            Err(CoreError::PayloadTooLarge {
                len: 128,
                max: MAX_PAYLOAD
            })
        );
    }

    #[test]
    fn reserved_type_id_is_rejected() {
        assert_eq!(
            Sneaky::check_layout(),
            Err(CoreError::ReservedTypeId(0xFFFF_0001))
        );
        assert!(!MessageTypeId(1).is_reserved());
    }
}
