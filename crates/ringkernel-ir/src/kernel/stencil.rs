//! Stencil mode: a per-cell function over a 2D or 3D grid, with the cell's neighbourhood staged in
//! shared memory.
//!
//! Contract (`T` is `f32` or `f64`, `tile` points at the block's shared tile):
//!
//! - 2D: `fn f(tile: *const T, c: u32, sx: u32, x: u32, y: u32, rest...) -> T`
//! - 3D: `fn f(tile: *const T, c: u32, sx: u32, sxy: u32, x: u32, y: u32, z: u32, rest...) -> T`
//!
//! In the slice form the tile pointer is followed by `tile_len: u64`, the padded tile's cell
//! count (what the transpiler makes of `tile: &[T]`: a pointer and its length).
//!
//! `tile[c]` is the cell `(x, y[, z])`; its neighbour at offset `(dx, dy, dz)` is
//! `tile[c + dx + dy * sx + dz * sxy]` for `|d| <= radius` (row pitch `sx`, plane pitch `sxy`).
//! The kernel `NAME(const T* in, T* out, u32 nx, u32 ny[, u32 nz], rest...)` writes
//! `out[(z * ny + y) * nx + x] = f(...)` for every cell. Launch it with exactly
//! `tile[0] * tile[1] * tile[2]` threads per block (1D; any other block shape traps) and any number
//! of blocks (a block loops over tiles).
//!
//! Boundary policy ([`Boundary`]): reads past the domain edge are clamped to the nearest edge
//! cell when the tile is loaded; with [`Boundary::CopyInput`] the cells within `radius` of an edge
//! are not computed but copied from the input (fixed boundary).

use std::fmt::Write;

use super::{contract, extra_params, find, param_types, reject_ring_only};
use crate::emit::emit_module;
use crate::error::IrError;
use crate::interp::{self, Value};
use crate::ir::{Literal, Module, ScalarType, Type};

/// What happens at the domain edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Boundary {
    /// Every cell is computed; neighbours outside the domain read the nearest edge cell.
    Clamp,
    /// Cells closer than `radius` to an edge keep their input value.
    CopyInput,
}

/// Shape of a stencil kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StencilSpec {
    /// 2 or 3.
    pub dims: u32,
    /// Cells per block along x, y, z (z must be 1 in 2D); also the block's thread count.
    pub tile: [u32; 3],
    /// Halo width: how far a cell may read from itself along each axis.
    pub radius: u32,
    /// Cell type, `f32` or `f64`.
    pub elem: ScalarType,
    /// Edge policy.
    pub boundary: Boundary,
}

/// Static shared memory a block may use (the CUDA limit without opt-in).
const SHARED_LIMIT: u64 = 48 * 1024;

impl StencilSpec {
    /// Threads per block (`tile[0] * tile[1] * tile[2]`).
    pub fn block_threads(&self) -> u32 {
        self.tile.iter().product()
    }

    /// Padded tile extents (tile plus halo on both sides; no z halo in 2D).
    pub fn padded(&self) -> [u32; 3] {
        let r = self.radius;
        let rz = if self.dims == 3 { r } else { 0 };
        [
            self.tile[0] + 2 * r,
            self.tile[1] + 2 * r,
            self.tile[2] + 2 * rz,
        ]
    }

    /// Checks the spec (the emitter and [`run_on_cpu`] call it; a CPU-side tiler should too).
    /// Sizes are checked before [`Self::block_threads`] and [`Self::padded`] are used, so a
    /// huge spec is an error, never an arithmetic overflow.
    pub fn check(&self) -> Result<(), String> {
        if !(self.dims == 2 || self.dims == 3) {
            return Err("dims must be 2 or 3".into());
        }
        if self.dims == 2 && self.tile[2] != 1 {
            return Err("a 2D tile has tile[2] == 1".into());
        }
        if self.tile.iter().any(|&t| t == 0 || t > 1024)
            || self.tile.iter().map(|&t| u64::from(t)).product::<u64>() > 1024
        {
            return Err("tile cells (block threads) must be 1..=1024".into());
        }
        // Within 48 KiB the halo is far below this; the bound keeps `padded` from overflowing.
        if self.radius > 1 << 16 {
            return Err("tile plus halo exceeds 48 KiB of shared memory".into());
        }
        if !self.elem.is_float() {
            return Err("the cell type must be f32 or f64".into());
        }
        let cells: u64 = self.padded().iter().map(|&v| u64::from(v)).product();
        if cells * u64::from(self.elem.bits() / 8) > SHARED_LIMIT {
            return Err("tile plus halo exceeds 48 KiB of shared memory".into());
        }
        Ok(())
    }
}

/// How the cell function receives the tile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TileForm {
    /// `tile: *const T`.
    Pointer,
    /// `tile: *const T, tile_len: u64`: a slice (what the transpiler makes of `tile: &[T]`); the
    /// length is the padded tile's cell count, so the function's bounds checks see the tile.
    Slice,
}

impl TileForm {
    /// Number of leading parameters the contract fixes.
    fn fixed_params(self, dims: u32) -> usize {
        let scalars = if dims == 3 { 6 } else { 4 };
        match self {
            TileForm::Pointer => 1 + scalars,
            TileForm::Slice => 2 + scalars,
        }
    }
}

fn check_signature(
    module: &Module,
    cell_fn: &str,
    spec: &StencilSpec,
) -> Result<TileForm, IrError> {
    let f = find(module, cell_fn)?;
    spec.check().map_err(|r| contract(f, r))?;
    let got = param_types(f);
    let form = if got.get(1) == Some(&Type::Scalar(ScalarType::U64)) {
        TileForm::Slice
    } else {
        TileForm::Pointer
    };
    let u = Type::Scalar(ScalarType::U32);
    let mut want = vec![Type::ptr_const(spec.elem)];
    if form == TileForm::Slice {
        want.push(Type::Scalar(ScalarType::U64));
    }
    want.extend(std::iter::repeat_n(
        u,
        form.fixed_params(spec.dims) - want.len(),
    ));
    if got.len() < want.len() || got[..want.len()] != want[..] || f.ret != Type::Scalar(spec.elem) {
        return Err(contract(
            f,
            format!(
                "a {}D stencil cell function is fn(tile: *const {t}[, tile_len: u64], c: u32, sx: u32, {}x: u32, y: u32{}, ...) -> {t}",
                spec.dims,
                if spec.dims == 3 { "sxy: u32, " } else { "" },
                if spec.dims == 3 { ", z: u32" } else { "" },
                t = spec.elem
            ),
        ));
    }
    Ok(form)
}

/// Emits `module` plus the stencil kernel `kernel_name` around `cell_fn`.
pub fn emit_stencil(
    module: &Module,
    cell_fn: &str,
    kernel_name: &str,
    spec: &StencilSpec,
) -> Result<String, IrError> {
    let form = check_signature(module, cell_fn, spec)?;
    reject_ring_only(module, "stencil")?;
    crate::verify::check_identifier(kernel_name)?;
    let f = find(module, cell_fn)?;
    let t = spec.elem.cuda_name();
    let [tx, ty, tz] = spec.tile;
    let [px, py, pz] = spec.padded();
    let r = spec.radius;
    let rz = if spec.dims == 3 { r } else { 0 };
    let three = spec.dims == 3;
    let extras = extra_params(f, form.fixed_params(spec.dims));
    let decls: String = extras.iter().map(|(t, n)| format!(", {t} {n}")).collect();
    let args: String = extras.iter().map(|(_, n)| format!(", {n}")).collect();
    let mut out = emit_module(module)?;
    let nz_decl = if three { ", unsigned int rk_nz" } else { "" };
    let nz = if three { "rk_nz" } else { "1u" };
    let edge = match (spec.boundary, three) {
        (Boundary::Clamp, _) => "false".to_string(),
        (Boundary::CopyInput, false) => {
            format!("x < {r}u || y < {r}u || x + {r}u >= rk_nx || y + {r}u >= rk_ny")
        }
        (Boundary::CopyInput, true) => format!(
            "x < {r}u || y < {r}u || z < {r}u || x + {r}u >= rk_nx || y + {r}u >= rk_ny || z + {r}u >= rk_nz"
        ),
    };
    let tile_arg = match form {
        TileForm::Pointer => "rk_tile".to_string(),
        TileForm::Slice => format!(
            "rk_tile, {}ull",
            u64::from(px) * u64::from(py) * u64::from(pz)
        ),
    };
    let call = if three {
        format!(
            "{}({tile_arg}, c, {px}u, {}u, x, y, z{args})",
            f.name,
            px * py
        )
    } else {
        format!("{}({tile_arg}, c, {px}u, x, y{args})", f.name)
    };
    // Block index → tile origin: one linear block id walks all tiles (the driver launches 1D
    // grids); the shared tile is reloaded per tile, with a barrier before reuse.
    let _ = write!(
        out,
        "\nextern \"C\" __global__ void {kernel_name}(const {t}* rk_in, {t}* rk_out, unsigned int rk_nx, unsigned int rk_ny{nz_decl}{decls}) {{\n\
         \x20   // The tile loops below assume exactly one thread per tile cell.\n\
         \x20   if (blockDim.x != {threads}u || blockDim.y != 1u || blockDim.z != 1u) __trap();\n\
         \x20   __shared__ {t} rk_tile[{cells}];\n\
         \x20   const unsigned int rk_bx = (rk_nx + {txm}u) / {tx}u, rk_by = (rk_ny + {tym}u) / {ty}u, rk_bz = ({nz} + {tzm}u) / {tz}u;\n\
         \x20   const unsigned int rk_tiles = rk_bx * rk_by * rk_bz;\n\
         \x20   const unsigned int rk_t = threadIdx.x;\n\
         \x20   const unsigned int rk_tx = rk_t % {tx}u, rk_ty = (rk_t / {tx}u) % {ty}u, rk_tz = rk_t / {txy}u;\n\
         \x20   for (unsigned int rk_b = blockIdx.x; rk_b < rk_tiles; rk_b += gridDim.x) {{\n\
         \x20       const int rk_ox = (int)((rk_b % rk_bx) * {tx}u) - {r};\n\
         \x20       const int rk_oy = (int)(((rk_b / rk_bx) % rk_by) * {ty}u) - {r};\n\
         \x20       const int rk_oz = (int)((rk_b / (rk_bx * rk_by)) * {tz}u) - {rz};\n\
         \x20       for (unsigned int rk_k = rk_t; rk_k < {cells}u; rk_k += {threads}u) {{\n\
         \x20           const int gx = min(max(rk_ox + (int)(rk_k % {px}u), 0), (int)rk_nx - 1);\n\
         \x20           const int gy = min(max(rk_oy + (int)((rk_k / {px}u) % {py}u), 0), (int)rk_ny - 1);\n\
         \x20           const int gz = min(max(rk_oz + (int)(rk_k / {pxy}u), 0), (int){nz} - 1);\n\
         \x20           rk_tile[rk_k] = rk_in[((unsigned long long)gz * rk_ny + (unsigned long long)gy) * rk_nx + (unsigned long long)gx];\n\
         \x20       }}\n\
         \x20       __syncthreads();\n\
         \x20       const unsigned int x = (unsigned int)(rk_ox + {r}) + rk_tx;\n\
         \x20       const unsigned int y = (unsigned int)(rk_oy + {r}) + rk_ty;\n\
         \x20       const unsigned int z = (unsigned int)(rk_oz + {rz}) + rk_tz;\n\
         \x20       if (x < rk_nx && y < rk_ny && z < {nz}) {{\n\
         \x20           const unsigned int c = ((rk_tz + {rz}u) * {py}u + (rk_ty + {r}u)) * {px}u + (rk_tx + {r}u);\n\
         \x20           const {t} v = ({edge}) ? rk_tile[c] : {call};\n\
         \x20           rk_out[((unsigned long long)z * rk_ny + y) * rk_nx + x] = v;\n\
         \x20       }}\n\
         \x20       __syncthreads();\n\
         \x20   }}\n}}\n",
        cells = px * py * pz,
        txm = tx - 1,
        tym = ty - 1,
        tzm = tz - 1,
        txy = tx * ty,
        pxy = px * py,
        threads = spec.block_threads(),
    );
    Ok(out)
}

/// Runs the stencil on the CPU through [`crate::interp`], tiling exactly like the kernel (same
/// shared-tile layout, clamped halo, boundary policy), so the result is what the device computes
/// up to float contraction. `input` has `nx * ny * nz` cells (`nz == 1` in 2D), `rest` the extra
/// scalar arguments.
pub fn run_on_cpu(
    module: &Module,
    cell_fn: &str,
    spec: &StencilSpec,
    input: &[Literal],
    extent: [u32; 3],
    rest: &[Literal],
) -> Result<Vec<Literal>, IrError> {
    let form = check_signature(module, cell_fn, spec)?;
    crate::verify::verify_module(module)?;
    let f = find(module, cell_fn)?;
    let [nx, ny, nz] = extent;
    let n = (nx as usize) * (ny as usize) * (nz as usize);
    if input.len() != n || n == 0 || (spec.dims == 2 && nz != 1) {
        return Err(contract(
            f,
            "input length must be nx * ny * nz (nz == 1 in 2D), non-zero",
        ));
    }
    let [px, py, pz] = spec.padded();
    let (r, rz) = (
        i64::from(spec.radius),
        if spec.dims == 3 {
            i64::from(spec.radius)
        } else {
            0
        },
    );
    let [tx, ty, tz] = spec.tile.map(i64::from);
    let (nxi, nyi, nzi) = (i64::from(nx), i64::from(ny), i64::from(nz));
    let at = |x: i64, y: i64, z: i64| ((z * nyi + y) * nxi + x) as usize;
    let mut out = input.to_vec();
    let mut z0 = 0;
    while z0 < nzi {
        let mut y0 = 0;
        while y0 < nyi {
            let mut x0 = 0;
            while x0 < nxi {
                let mut tile = Vec::with_capacity((px * py * pz) as usize);
                for k in 0..i64::from(px * py * pz) {
                    let gx = (x0 - r + k % i64::from(px)).clamp(0, nxi - 1);
                    let gy = (y0 - r + (k / i64::from(px)) % i64::from(py)).clamp(0, nyi - 1);
                    let gz = (z0 - rz + k / i64::from(px * py)).clamp(0, nzi - 1);
                    tile.push(input[at(gx, gy, gz)]);
                }
                let mut memory = vec![tile];
                for lz in 0..tz {
                    for ly in 0..ty {
                        for lx in 0..tx {
                            let (x, y, z) = (x0 + lx, y0 + ly, z0 + lz);
                            if x >= nxi || y >= nyi || z >= nzi {
                                continue;
                            }
                            let c = ((lz + rz) * i64::from(py) + ly + r) * i64::from(px) + lx + r;
                            let edge = x < r
                                || y < r
                                || x + r >= nxi
                                || y + r >= nyi
                                || (spec.dims == 3 && (z < r || z + r >= nzi));
                            out[at(x, y, z)] = if spec.boundary == Boundary::CopyInput && edge {
                                memory[0][c as usize]
                            } else {
                                let u = |v: i64| Value::Scalar(Literal::U32(v as u32));
                                let mut args = vec![Value::Buffer(0)];
                                if form == TileForm::Slice {
                                    args.push(Value::Scalar(Literal::U64(memory[0].len() as u64)));
                                }
                                args.extend([u(c), u(i64::from(px))]);
                                if spec.dims == 3 {
                                    args.push(u(i64::from(px * py)));
                                }
                                args.extend([u(x), u(y)]);
                                if spec.dims == 3 {
                                    args.push(u(z));
                                }
                                args.extend(rest.iter().map(|l| Value::Scalar(*l)));
                                interp::run_with_memory(f, &args, &mut memory, 1_000_000)?
                                    .ok_or_else(|| {
                                        contract(f, "the cell function returned nothing")
                                    })?
                            };
                        }
                    }
                }
                x0 += tx;
            }
            y0 += ty;
        }
        z0 += tz;
    }
    Ok(out)
}
