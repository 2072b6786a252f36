//! Lock-free rings: wait-free SPSC and bounded MPSC (Vyukov).
//!
//! See each module for its contract. Both are bounded, allocate once at construction, never
//! allocate per operation, and report "full" to the producer (handing the item back in
//! [`PushError::Full`]) instead of overwriting anything.
//!
//! - [`spsc`]: one producer, one consumer, split `Send` handles; wait-free on both sides.
//! - [`mpsc`]: any number of producers, one consumer; lock-free pushes with per-slot stamps.
//!
//! Both carry only `T: Copy` items: slots are never dropped, so an item left in a ring when it is
//! dropped is simply forgotten, which is only sound-and-leak-free for types without drop glue.

mod error;
pub mod mpsc;
mod padded;
pub mod spsc;

pub use error::PushError;

use crate::error::CoreError;

/// Largest capacity a ring accepts (2^32 slots; 2^31 on 32-bit targets).
#[cfg(target_pointer_width = "64")]
pub const MAX_CAPACITY: usize = 1 << 32;
/// Largest capacity a ring accepts (2^32 slots; 2^31 on 32-bit targets).
#[cfg(not(target_pointer_width = "64"))]
pub const MAX_CAPACITY: usize = 1 << (usize::BITS - 1);

/// Checks a requested capacity: a power of two in `1..=MAX_CAPACITY`.
pub(crate) fn check_capacity(capacity: usize) -> Result<usize, CoreError> {
    if capacity.is_power_of_two() && capacity <= MAX_CAPACITY {
        Ok(capacity)
    } else {
        Err(CoreError::BadCapacity(capacity))
    }
}

#[cfg(all(test, not(loom)))]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn capacities_accepted_and_rejected() {
        for ok in [1usize, 2, 4, 1024, MAX_CAPACITY] {
            assert_eq!(check_capacity(ok), Ok(ok));
        }
        for bad in [0usize, 3, 6, 1000, MAX_CAPACITY + 1, usize::MAX] {
            assert_eq!(check_capacity(bad), Err(CoreError::BadCapacity(bad)));
        }
        #[cfg(target_pointer_width = "64")]
        assert_eq!(
            check_capacity(MAX_CAPACITY * 2),
            Err(CoreError::BadCapacity(MAX_CAPACITY * 2))
        );
    }
}
