//! CPU reference of the steered FDTD simulation: the same field rotation, Dirichlet edges and
//! commands as the persistent kernel (`ringkernel_ir::kernel::fdtd`).

use crate::examples::wave;

/// A 2D wave field on the CPU.
#[derive(Debug, Clone)]
pub struct FdtdCpu {
    nx: usize,
    ny: usize,
    coef: f32,
    prev: Vec<f32>,
    cur: Vec<f32>,
    steps: u64,
}

impl FdtdCpu {
    /// Starts from `initial` at rest (previous field = current field).
    pub fn new(nx: usize, ny: usize, coef: f32, initial: &[f32]) -> Self {
        let mut cur = initial.to_vec();
        cur.resize(nx * ny, 0.0);
        Self {
            nx,
            ny,
            coef,
            prev: cur.clone(),
            cur,
            steps: 0,
        }
    }

    /// One time step: interior cells by the wave update, edges 0.
    pub fn step(&mut self) {
        let (nx, ny) = (self.nx, self.ny);
        let mut next = vec![0.0f32; nx * ny];
        for y in 1..ny.saturating_sub(1) {
            for x in 1..nx.saturating_sub(1) {
                let i = y * nx + x;
                // The native cell function itself (the grid's extents fit in u32: the device's do).
                next[i] =
                    wave::kernel::wave_cell(&self.cur, &self.prev, i as u32, nx as u32, self.coef);
            }
        }
        self.prev = std::mem::replace(&mut self.cur, next);
        self.steps += 1;
    }

    /// `n` steps.
    pub fn run(&mut self, n: u64) {
        for _ in 0..n {
            self.step();
        }
    }

    /// Adds `amp` at `(x, y)` of the current field (ignored outside the domain, as on the device).
    pub fn inject(&mut self, x: usize, y: usize, amp: f32) {
        if x < self.nx && y < self.ny {
            let i = y * self.nx + x;
            // One f32 addition, like the device's `u += (float)value`.
            self.cur[i] += amp;
        }
    }

    /// `sum(u²)` of the current field.
    pub fn energy(&self) -> f64 {
        self.cur.iter().map(|&v| f64::from(v) * f64::from(v)).sum()
    }

    /// The current field.
    pub fn field(&self) -> &[f32] {
        &self.cur
    }

    /// The previous field (the one the next step reads as `u_prev`).
    pub fn previous(&self) -> &[f32] {
        &self.prev
    }

    /// Steps taken.
    pub fn steps(&self) -> u64 {
        self.steps
    }
}
