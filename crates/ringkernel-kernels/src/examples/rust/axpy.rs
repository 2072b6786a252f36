//! The global-mode element function of `axpy`, written once: compiled natively as
//! `examples::axpy::kernel` (the CPU reference) and transpiled from this file's text.

/// `y[i] = a * x[i] + y[i]` with one rounding (`mul_add`, a fused multiply-add on the device
/// too, so both agree bit for bit). Indices at or past `y.len()` are left alone: the grid may
/// cover more elements than there are.
pub fn axpy(i: u32, a: f32, x: &[f32], y: &mut [f32]) {
    let i = i as usize;
    if i < y.len() {
        y[i] = a.mul_add(x[i], y[i]);
    }
}
