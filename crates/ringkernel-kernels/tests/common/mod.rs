//! Shared test helpers: a seeded generator (reproducible random inputs) and the kernel sources.
#![allow(dead_code)] // each test target uses a different subset

use ringkernel_kernels::examples::{axpy, stencils, wave};

/// SplitMix64: small, seeded, good enough for test inputs.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [-1, 1).
    pub fn unit(&mut self) -> f32 {
        ((self.next_u64() >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }

    pub fn below(&mut self, n: u32) -> u32 {
        (self.next_u64() % u64::from(n)) as u32
    }

    pub fn vec(&mut self, n: usize) -> Vec<f32> {
        (0..n).map(|_| self.unit()).collect()
    }
}

pub const AXPY_KERNEL: &str = "axpy_kernel";
pub const CROSS2D_KERNEL: &str = "cross2d_kernel";
pub const HEAT3D_KERNEL: &str = "heat3d_kernel";
pub const FDTD_KERNEL: &str = "wave_fdtd";

/// Each example's kernel, transpiled from its Rust source.
pub fn axpy_source() -> String {
    axpy::cuda(AXPY_KERNEL).unwrap_or_else(|e| panic!("{e}"))
}

pub fn cross2d_source() -> String {
    stencils::cross2d_cuda(CROSS2D_KERNEL).unwrap_or_else(|e| panic!("{e}"))
}

pub fn heat3d_source() -> String {
    stencils::heat3d_cuda(HEAT3D_KERNEL).unwrap_or_else(|e| panic!("{e}"))
}

pub fn fdtd_source() -> String {
    wave::cuda(FDTD_KERNEL).unwrap_or_else(|e| panic!("{e}"))
}

/// Largest `|a - b| / max(1, |b|)` over two equally long slices.
pub fn max_rel_err(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs() / y.abs().max(1.0))
        .fold(0.0, f32::max)
}
