//! Stencil mode: a radius-2 2D cross (clamped edges) and a 3D 7-point heat step (fixed edges).

use ringkernel_ir::ir::{BinOp, Expr, FunctionBuilder, LocalId, Module, ScalarType, Stmt, Type};
use ringkernel_ir::kernel::stencil::{Boundary, StencilSpec};

use super::{at, offset};

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

fn sum(terms: Vec<Expr>) -> Expr {
    terms
        .into_iter()
        .reduce(Expr::add)
        .unwrap_or(Expr::f32(0.0))
}

/// `tile[c ± k * unit]` for k in `ks`, summed.
fn ring(tile: LocalId, c: LocalId, unit: &Expr, ks: &[i64]) -> Vec<Expr> {
    ks.iter()
        .map(|&k| at(tile, offset(Expr::local(c), k, unit.clone())))
        .collect()
}

/// `ctr + w * (sum - n * ctr)`.
fn relax(ctr: LocalId, w: LocalId, s: Expr, n: f32) -> Expr {
    Expr::add(
        Expr::local(ctr),
        Expr::mul(
            Expr::local(w),
            Expr::bin(BinOp::Sub, s, Expr::mul(Expr::f32(n), Expr::local(ctr))),
        ),
    )
}

/// `fn cross2d(tile, c, sx, x, y, w1: f32, w2: f32) -> f32`:
/// `u + w1 * (Σ|d|=1 - 4u) + w2 * (Σ|d|=2 - 4u)` along the axes.
pub fn cross2d_module() -> Module {
    let f32t = Type::Scalar(ScalarType::F32);
    let mut f = FunctionBuilder::new(CROSS2D, f32t.clone());
    let tile = f.param("tile", Type::ptr_const(ScalarType::F32));
    let c = f.param("c", ScalarType::U32);
    let sx = f.param("sx", ScalarType::U32);
    let _x = f.param("x", ScalarType::U32);
    let _y = f.param("y", ScalarType::U32);
    let w1 = f.param("w1", f32t.clone());
    let w2 = f.param("w2", f32t.clone());
    let ctr = f.local("ctr", f32t.clone());
    let near = f.local("near", f32t.clone());
    let far = f.local("far", f32t.clone());
    let one = Expr::u32(1);
    let row = Expr::local(sx);
    f.push(Stmt::Let {
        local: ctr,
        init: at(tile, Expr::local(c)),
    });
    let mut n1 = ring(tile, c, &one, &[1, -1]);
    n1.extend(ring(tile, c, &row, &[1, -1]));
    let mut n2 = ring(tile, c, &one, &[2, -2]);
    n2.extend(ring(tile, c, &row, &[2, -2]));
    f.push(Stmt::Let {
        local: near,
        init: sum(n1),
    });
    f.push(Stmt::Let {
        local: far,
        init: sum(n2),
    });
    f.push(Stmt::Return(Some(Expr::add(
        relax(ctr, w1, Expr::local(near), 4.0),
        Expr::mul(
            Expr::local(w2),
            Expr::bin(
                BinOp::Sub,
                Expr::local(far),
                Expr::mul(Expr::f32(4.0), Expr::local(ctr)),
            ),
        ),
    ))));
    let mut m = Module::new();
    m.functions.push(f.finish());
    m
}

/// CPU reference of [`cross2d_module`] on the whole grid (clamped reads).
pub fn cross2d_cpu(u: &[f32], nx: usize, ny: usize, w1: f32, w2: f32) -> Vec<f32> {
    let get = |x: i64, y: i64| {
        let x = x.clamp(0, nx as i64 - 1) as usize;
        let y = y.clamp(0, ny as i64 - 1) as usize;
        u[y * nx + x]
    };
    let mut out = vec![0.0; nx * ny];
    for y in 0..ny as i64 {
        for x in 0..nx as i64 {
            let ctr = get(x, y);
            let near = get(x + 1, y) + get(x - 1, y) + get(x, y + 1) + get(x, y - 1);
            let far = get(x + 2, y) + get(x - 2, y) + get(x, y + 2) + get(x, y - 2);
            out[y as usize * nx + x as usize] =
                ctr + w1 * (near - 4.0 * ctr) + w2 * (far - 4.0 * ctr);
        }
    }
    out
}

/// `fn heat3d(tile, c, sx, sxy, x, y, z, k: f32) -> f32`: `u + k * (Σ6 neighbours - 6u)`.
pub fn heat3d_module() -> Module {
    let f32t = Type::Scalar(ScalarType::F32);
    let mut f = FunctionBuilder::new(HEAT3D, f32t.clone());
    let tile = f.param("tile", Type::ptr_const(ScalarType::F32));
    let c = f.param("c", ScalarType::U32);
    let sx = f.param("sx", ScalarType::U32);
    let sxy = f.param("sxy", ScalarType::U32);
    for n in ["x", "y", "z"] {
        f.param(n, ScalarType::U32);
    }
    let k = f.param("k", f32t.clone());
    let ctr = f.local("ctr", f32t);
    f.push(Stmt::Let {
        local: ctr,
        init: at(tile, Expr::local(c)),
    });
    let mut n = ring(tile, c, &Expr::u32(1), &[1, -1]);
    n.extend(ring(tile, c, &Expr::local(sx), &[1, -1]));
    n.extend(ring(tile, c, &Expr::local(sxy), &[1, -1]));
    f.push(Stmt::Return(Some(relax(ctr, k, sum(n), 6.0))));
    let mut m = Module::new();
    m.functions.push(f.finish());
    m
}

/// CPU reference of [`heat3d_module`]: cells on the domain surface keep their input value.
pub fn heat3d_cpu(u: &[f32], n: [usize; 3], k: f32) -> Vec<f32> {
    let [nx, ny, nz] = n;
    let idx = |x: usize, y: usize, z: usize| (z * ny + y) * nx + x;
    let mut out = u.to_vec();
    for z in 1..nz.saturating_sub(1) {
        for y in 1..ny.saturating_sub(1) {
            for x in 1..nx.saturating_sub(1) {
                let ctr = u[idx(x, y, z)];
                let s = u[idx(x + 1, y, z)]
                    + u[idx(x - 1, y, z)]
                    + u[idx(x, y + 1, z)]
                    + u[idx(x, y - 1, z)]
                    + u[idx(x, y, z + 1)]
                    + u[idx(x, y, z - 1)];
                out[idx(x, y, z)] = ctr + k * (s - 6.0 * ctr);
            }
        }
    }
    out
}
