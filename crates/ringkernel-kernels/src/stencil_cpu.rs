//! The CPU side of stencil mode: runs a native cell function over the same tiles as the kernel
//! (`ringkernel_ir::kernel::stencil`): each tile is staged with its clamped halo into a buffer of
//! exactly the shared tile's size and pitch, and the cell function sees that buffer. So a native
//! cell function reads the same values at the same positions as on the device, and an index past
//! the tile panics here exactly where the device traps.

use ringkernel_ir::kernel::stencil::{Boundary, StencilSpec};

use crate::KernelsError;

/// Where one cell sits: its position in the tile buffer, the tile's pitches and the cell's grid
/// coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cell {
    /// Index of the cell in the tile buffer.
    pub c: u32,
    /// Row pitch of the tile buffer.
    pub sx: u32,
    /// Plane pitch of the tile buffer.
    pub sxy: u32,
    /// Grid coordinates.
    pub x: u32,
    /// Grid coordinates.
    pub y: u32,
    /// Grid coordinates (0 in 2D).
    pub z: u32,
}

/// Applies `cell(tile, at)` to every cell of the `extent` grid (`nz == 1` in 2D) tiled as `spec`
/// says, with its boundary policy; `input` has `nx * ny * nz` cells.
pub fn run_native(
    spec: &StencilSpec,
    input: &[f32],
    extent: [u32; 3],
    mut cell: impl FnMut(&[f32], Cell) -> f32,
) -> Result<Vec<f32>, KernelsError> {
    spec.check().map_err(KernelsError::Config)?;
    let [nx, ny, nz] = extent.map(i64::from);
    // Each extent is below 2^32, so the product of three fits i128 (and the check below keeps
    // every index used afterwards within the input's length).
    let n = usize::try_from(i128::from(nx) * i128::from(ny) * i128::from(nz)).unwrap_or(usize::MAX);
    if input.len() != n || n == 0 || (spec.dims == 2 && nz != 1) {
        return Err(KernelsError::Config(
            "stencil input must have nx * ny * nz cells (nz == 1 in 2D), non-zero".into(),
        ));
    }
    let [px, py, pz] = spec.padded().map(i64::from);
    let r = i64::from(spec.radius);
    let rz = if spec.dims == 3 { r } else { 0 };
    let [tx, ty, tz] = spec.tile.map(i64::from);
    let at = |x: i64, y: i64, z: i64| ((z * ny + y) * nx + x) as usize;
    let mut out = input.to_vec();
    let mut tile = vec![0.0f32; (px * py * pz) as usize];
    for z0 in (0..nz).step_by(tz as usize) {
        for y0 in (0..ny).step_by(ty as usize) {
            for x0 in (0..nx).step_by(tx as usize) {
                for (k, t) in (0..).zip(tile.iter_mut()) {
                    let gx = (x0 - r + k % px).clamp(0, nx - 1);
                    let gy = (y0 - r + (k / px) % py).clamp(0, ny - 1);
                    let gz = (z0 - rz + k / (px * py)).clamp(0, nz - 1);
                    *t = input[at(gx, gy, gz)];
                }
                for lz in 0..tz {
                    for ly in 0..ty {
                        for lx in 0..tx {
                            let (x, y, z) = (x0 + lx, y0 + ly, z0 + lz);
                            if x >= nx || y >= ny || z >= nz {
                                continue;
                            }
                            let c = ((lz + rz) * py + ly + r) * px + lx + r;
                            let edge = x < r
                                || y < r
                                || x + r >= nx
                                || y + r >= ny
                                || (spec.dims == 3 && (z < r || z + r >= nz));
                            out[at(x, y, z)] = if spec.boundary == Boundary::CopyInput && edge {
                                tile[c as usize]
                            } else {
                                let u = |v: i64| v as u32;
                                cell(
                                    &tile,
                                    Cell {
                                        c: u(c),
                                        sx: u(px),
                                        sxy: u(px * py),
                                        x: u(x),
                                        y: u(y),
                                        z: u(z),
                                    },
                                )
                            };
                        }
                    }
                }
            }
        }
    }
    Ok(out)
}
