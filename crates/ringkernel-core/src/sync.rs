//! Atomics shim: `std` normally, `loom` under `cfg(loom)`.
//!
//! Every atomic, shared cell and `Arc` in this crate goes through here, so the loom tests exercise
//! the same code paths the runtime uses. Under loom, capacities in tests shrink (2–4 slots) so the
//! model checker stays tractable.
//!
//! Loom's types only work inside `loom::model`; a `cfg(loom)` build is for the loom tests alone.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicU64, AtomicU8, Ordering};
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};

#[cfg(loom)]
pub(crate) use loom::sync::Arc;
#[cfg(not(loom))]
pub(crate) use std::sync::Arc;

#[cfg(loom)]
pub(crate) use loom::cell::UnsafeCell;

/// `std`'s `UnsafeCell` behind loom's closure-style API, so ring code reads the same under both.
///
/// `#[repr(transparent)]`, so a slice of these has the layout of a slice of `T`.
#[cfg(not(loom))]
#[derive(Debug)]
#[repr(transparent)]
pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

#[cfg(not(loom))]
impl<T> UnsafeCell<T> {
    /// Wraps `data`.
    #[inline(always)]
    pub(crate) const fn new(data: T) -> Self {
        Self(std::cell::UnsafeCell::new(data))
    }

    /// Runs `f` with a shared raw pointer to the contents (loom: records a read access).
    #[inline(always)]
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    /// Runs `f` with a mutable raw pointer to the contents (loom: records a write access).
    #[inline(always)]
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}

/// Spin hint that lets loom schedule another thread.
#[inline]
pub(crate) fn spin_hint() {
    #[cfg(loom)]
    loom::thread::yield_now();
    #[cfg(not(loom))]
    std::hint::spin_loop();
}
