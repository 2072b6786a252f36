//! Lock-free rings: wait-free SPSC and bounded MPSC (Vyukov).
//!
//! See each module for its contract. Both are bounded, allocate once at construction, and report
//! "full" to the producer instead of overwriting anything.

pub mod mpsc;
pub mod spsc;
