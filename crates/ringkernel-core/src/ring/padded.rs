//! A 128-byte-aligned wrapper that keeps a hot index on a cache line of its own.

use std::ops::Deref;

/// Pads and aligns `T` to 128 bytes.
///
/// Why 128 and not 64, and why not `crossbeam_utils::CachePadded`: crossbeam pads to 128 bytes on
/// x86_64, aarch64 and powerpc64 only (64 or less elsewhere), while the host/device ring rules
/// (ARCHITECTURE §3.2) want every index on its own 128-byte line on every target: Intel's spatial
/// prefetcher pulls 64-byte lines in pairs, Apple/ARM big cores use 128-byte lines, and Hopper's
/// L2 and PCIe transfers work in 128-byte units. Writing it here makes the size a compile-time
/// fact (see the assertions below) instead of a per-target detail of a dependency.
#[derive(Default)]
#[repr(C, align(128))]
pub(crate) struct CachePadded<T>(pub(crate) T);

const _: () = {
    assert!(std::mem::align_of::<CachePadded<u64>>() == 128);
    assert!(std::mem::size_of::<CachePadded<u64>>() == 128);
};

impl<T> CachePadded<T> {
    /// Wraps `value`.
    #[inline(always)]
    pub(crate) const fn new(value: T) -> Self {
        CachePadded(value)
    }
}

impl<T> Deref for CachePadded<T> {
    type Target = T;

    #[inline(always)]
    fn deref(&self) -> &T {
        &self.0
    }
}
