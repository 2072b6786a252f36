//! Shared helpers of the integration tests.

#![allow(dead_code)] // each test target uses a different subset

pub mod gen;
