//! The stencil-mode cell functions, written once: compiled natively as
//! `examples::stencils::kernel` (the CPU reference, run over the same tiles as the device) and
//! transpiled from this file's text.
//!
//! `tile[c]` is the cell; `sx` is the tile's row pitch and `sxy` its plane pitch. Products that a
//! compiler could fuse with an addition are written as `mul_add` or are exact (`4.0 * u`), so
//! NVRTC's default FMA contraction cannot make the device round differently from the CPU.

/// Radius-2 2D cross: `u + w1 * (Σ|d|=1 - 4u) + w2 * (Σ|d|=2 - 4u)` along the axes.
pub fn cross2d(tile: &[f32], c: u32, sx: u32, _x: u32, _y: u32, w1: f32, w2: f32) -> f32 {
    let c = c as usize;
    let sx = sx as usize;
    let ctr = tile[c];
    let near = tile[c + 1] + tile[c - 1] + tile[c + sx] + tile[c - sx];
    let far = tile[c + 2] + tile[c - 2] + tile[c + 2 * sx] + tile[c - 2 * sx];
    w2.mul_add(far - 4.0 * ctr, w1.mul_add(near - 4.0 * ctr, ctr))
}

/// 3D 7-point heat step: `u + k * (Σ6 neighbours - 6u)`.
#[allow(clippy::too_many_arguments)] // the stencil mode's contract fixes the first seven
pub fn heat3d(tile: &[f32], c: u32, sx: u32, sxy: u32, _x: u32, _y: u32, _z: u32, k: f32) -> f32 {
    let c = c as usize;
    let sx = sx as usize;
    let sxy = sxy as usize;
    let ctr = tile[c];
    let s = tile[c + 1] + tile[c - 1] + tile[c + sx] + tile[c - sx] + tile[c + sxy] + tile[c - sxy];
    // `6u` is not exact: fuse it explicitly so both sides round once.
    k.mul_add((-6.0f32).mul_add(ctr, s), ctr)
}
