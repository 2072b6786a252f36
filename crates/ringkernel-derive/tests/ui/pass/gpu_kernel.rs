// A `#[gpu_kernel]` module: compiled natively, and its text kept for the transpiler.
#[ringkernel_derive::gpu_kernel]
mod kernel {
    const SCALE: f32 = 0.5;

    /// Doc comments and lint attributes are fine.
    #[allow(clippy::too_many_arguments)]
    pub fn cell(tile: &[f32], c: u32, sx: u32, _x: u32, _y: u32, w: f32) -> f32 {
        let c = c as usize;
        let sx = sx as usize;
        w.mul_add(tile[c + 1] + tile[c - sx], SCALE * tile[c])
    }

    pub fn saxpy(i: u32, a: f32, x: &[f32], y: &mut [f32]) {
        let i = i as usize;
        if i < y.len() {
            y[i] += a * x[i];
        }
    }
}

fn main() {
    let mut y = [1.0f32, 2.0];
    kernel::saxpy(1, 2.0, &[3.0, 4.0], &mut y);
    assert_eq!(y, [1.0, 10.0]);
    assert!(kernel::SOURCE.contains("pub fn saxpy"));
    assert_eq!(kernel::cell(&[1.0, 2.0, 4.0], 1, 1, 0, 0, 2.0), 11.0);
}
