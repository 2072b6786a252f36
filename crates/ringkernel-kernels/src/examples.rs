//! One example kernel per mode: the IR (what the transpiler would produce from Rust) and a
//! plain-Rust CPU reference of the same math, used by the interpreter and GPU tests.
//!
//! Float tolerance (stated once, used by every test): NVRTC contracts `a * b + c` into FMAs by
//! default, so device results may differ from the CPU reference in the last bits. The tests
//! accept `|gpu - cpu| <= 1e-5 * max(1, |cpu|)` per cell for the stencils, and `1e-4` times the
//! field's peak for FDTD after hundreds of steps; `axpy` uses `mul_add` explicitly and must match
//! exactly; the FDTD energy (an `f64` sum in a different order) within a relative `1e-9`.

pub mod axpy;
pub mod counter;
pub mod stencils;
pub mod wave;

use ringkernel_ir::ir::{BinOp, Expr, LocalId};

/// Relative tolerance of the stencil comparisons (see the module docs).
pub const STENCIL_TOL: f32 = 1e-5;
/// Tolerance of the FDTD field comparison, relative to the field's peak magnitude.
pub const FDTD_TOL: f32 = 1e-4;
/// Relative tolerance of the FDTD energy.
pub const ENERGY_TOL: f64 = 1e-9;

/// `ptr[index]`.
pub(crate) fn at(ptr: LocalId, index: Expr) -> Expr {
    Expr::index(Expr::local(ptr), index)
}

/// `base + k` (`k > 0`) or `base - |k|` as u32 (indices into a tile never leave it).
pub(crate) fn offset(base: Expr, k: i64, unit: Expr) -> Expr {
    let mag = Expr::mul(Expr::u32(k.unsigned_abs() as u32), unit);
    if k >= 0 {
        Expr::add(base, mag)
    } else {
        Expr::bin(BinOp::Sub, base, mag)
    }
}

/// True when `got` is within `tol * max(1, |want|)` of `want`.
pub fn close(got: f32, want: f32, tol: f32) -> bool {
    (got - want).abs() <= tol * want.abs().max(1.0)
}
