//! The error a push returns, giving the item back.

use std::fmt;

/// A push that did not happen. The item comes back to the caller, untouched.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum PushError<T> {
    /// The ring held `capacity` items; nothing was written.
    Full(T),
}

impl<T> PushError<T> {
    /// The item that was not pushed.
    #[inline]
    pub fn into_inner(self) -> T {
        match self {
            PushError::Full(v) => v,
        }
    }

    /// Whether the ring was full.
    #[inline]
    pub fn is_full(&self) -> bool {
        matches!(self, PushError::Full(_))
    }
}

/// Hides the payload: items may be large or sensitive.
impl<T> fmt::Debug for PushError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PushError::Full(_) => f.write_str("Full(..)"),
        }
    }
}

impl<T> fmt::Display for PushError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PushError::Full(_) => f.write_str("ring is full"),
        }
    }
}

impl<T> std::error::Error for PushError<T> {}

#[cfg(all(test, not(loom)))]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn gives_item_back_and_formats_without_payload() {
        let e = PushError::Full([7u8; 3]);
        assert!(e.is_full());
        assert_eq!(e.to_string(), "ring is full");
        assert_eq!(format!("{e:?}"), "Full(..)");
        assert_eq!(e.into_inner(), [7, 7, 7]);
        let boxed: Box<dyn std::error::Error> = Box::new(PushError::Full(1u32));
        assert_eq!(boxed.to_string(), "ring is full");
    }
}
