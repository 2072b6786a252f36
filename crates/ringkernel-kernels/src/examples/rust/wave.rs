//! The FDTD-mode cell function of the 2D wave equation, written once: compiled natively as
//! `examples::wave::kernel` (the CPU reference) and transpiled from this file's text.

/// The leapfrog update of interior cell `i`:
/// `2u - u_prev + coef * (u[x±1] + u[y±1] - 4u)`. `2u` and `4u` are exact and the last product
/// is an explicit `mul_add`, so the device's FMA contraction cannot change a bit.
pub fn wave_cell(u: &[f32], u_prev: &[f32], i: u32, nx: u32, coef: f32) -> f32 {
    let i = i as usize;
    let nx = nx as usize;
    let ctr = u[i];
    let lap = u[i + 1] + u[i - 1] + u[i + nx] + u[i - nx] - 4.0 * ctr;
    coef.mul_add(lap, 2.0 * ctr - u_prev[i])
}
