//! Stencil mode: a radius-2 2D cross (clamped edges) and a 3D 7-point heat step (fixed edges).
//! The cell functions are Rust ([`kernel::cross2d`], [`kernel::heat3d`]):
//! compiled natively for the CPU references, which run them over the device's tiling
//! ([`crate::stencil_cpu`]), and transpiled for the device.

use ringkernel_ir::ir::{Module, ScalarType};
use ringkernel_ir::kernel::stencil::{Boundary, StencilSpec};
use ringkernel_transpile::KernelMode;

use crate::stencil_cpu::run_native;
use crate::KernelsError;

/// The cell functions, written once: compiled natively (the CPU references run them over the
/// device's tiling) and transpiled from their text; `#[gpu_kernel]` checks them against the
/// subset at compile time. `tile[c]` is the cell; `sx` is the tile's row pitch and `sxy` its
/// plane pitch. Products that a compiler could fuse with an addition are written as `mul_add`
/// or are exact (`4.0 * u`), so NVRTC's default FMA contraction cannot make the device round
/// differently from the CPU.
#[ringkernel_derive::gpu_kernel]
pub mod kernel {
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
    pub fn heat3d(
        tile: &[f32],
        c: u32,
        sx: u32,
        sxy: u32,
        _x: u32,
        _y: u32,
        _z: u32,
        k: f32,
    ) -> f32 {
        let c = c as usize;
        let sx = sx as usize;
        let sxy = sxy as usize;
        let ctr = tile[c];
        let s =
            tile[c + 1] + tile[c - 1] + tile[c + sx] + tile[c - sx] + tile[c + sxy] + tile[c - sxy];
        // `6u` is not exact: fuse it explicitly so both sides round once.
        k.mul_add((-6.0f32).mul_add(ctr, s), ctr)
    }
}

/// The Rust text of [`kernel`], the input of the transpiler (written by `#[gpu_kernel]`).
pub const SOURCE: &str = kernel::SOURCE;

/// Name of the 2D cell function.
pub const CROSS2D: &str = "cross2d";
/// Name of the 3D cell function.
pub const HEAT3D: &str = "heat3d";

/// 16 x 8 tiles, radius 2, clamped edges.
pub const CROSS2D_SPEC: StencilSpec = StencilSpec {
    dims: 2,
    tile: [16, 8, 1],
    radius: 2,
    elem: ScalarType::F32,
    boundary: Boundary::Clamp,
};

/// 8 x 8 x 4 tiles, radius 1, edges copied from the input.
pub const HEAT3D_SPEC: StencilSpec = StencilSpec {
    dims: 3,
    tile: [8, 8, 4],
    radius: 1,
    elem: ScalarType::F32,
    boundary: Boundary::CopyInput,
};

/// Both cell functions lowered to IR (the stencil mode's slice form: `tile` is a pointer and its
/// `u64` length):
/// `fn cross2d(tile, tile_len, c, sx, x, y, w1: f32, w2: f32) -> f32` and
/// `fn heat3d(tile, tile_len, c, sx, sxy, x, y, z, k: f32) -> f32`.
pub fn module() -> Result<Module, KernelsError> {
    Ok(ringkernel_transpile::kernel_fn::kernel_module(SOURCE)?)
}

/// The 2D cross stencil kernel `kernel_name(in, out, nx, ny, w1, w2)`.
pub fn cross2d_cuda(kernel_name: &str) -> Result<String, KernelsError> {
    let mode = KernelMode::Stencil(CROSS2D_SPEC);
    Ok(ringkernel_transpile::transpile_kernel_fn(SOURCE, CROSS2D, &mode, kernel_name)?.cuda)
}

/// The 3D heat stencil kernel `kernel_name(in, out, nx, ny, nz, k)`.
pub fn heat3d_cuda(kernel_name: &str) -> Result<String, KernelsError> {
    let mode = KernelMode::Stencil(HEAT3D_SPEC);
    Ok(ringkernel_transpile::transpile_kernel_fn(SOURCE, HEAT3D, &mode, kernel_name)?.cuda)
}

/// CPU reference of the 2D cross on the whole `nx * ny` grid: [`kernel::cross2d`] over the
/// device's tiles (clamped reads).
pub fn cross2d_cpu(
    u: &[f32],
    nx: usize,
    ny: usize,
    w1: f32,
    w2: f32,
) -> Result<Vec<f32>, KernelsError> {
    let extent = [dim(nx)?, dim(ny)?, 1];
    run_native(&CROSS2D_SPEC, u, extent, |tile, at| {
        kernel::cross2d(tile, at.c, at.sx, at.x, at.y, w1, w2)
    })
}

/// CPU reference of the 3D heat step: [`kernel::heat3d`] over the device's tiles; cells on the
/// domain surface keep their input value.
pub fn heat3d_cpu(u: &[f32], n: [usize; 3], k: f32) -> Result<Vec<f32>, KernelsError> {
    let extent = [dim(n[0])?, dim(n[1])?, dim(n[2])?];
    run_native(&HEAT3D_SPEC, u, extent, |tile, at| {
        kernel::heat3d(tile, at.c, at.sx, at.sxy, at.x, at.y, at.z, k)
    })
}

fn dim(n: usize) -> Result<u32, KernelsError> {
    u32::try_from(n).map_err(|_| KernelsError::Config(format!("grid extent {n} exceeds u32")))
}
