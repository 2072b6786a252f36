#[ringkernel_derive::gpu_kernel]
mod kernel {
    pub fn clear(i: u32, x: &[f32]) {
        x[i as usize] = 0.0;
    }
}

fn main() {}
