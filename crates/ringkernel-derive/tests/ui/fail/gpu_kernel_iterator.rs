#[ringkernel_derive::gpu_kernel]
mod kernel {
    pub fn total(x: &[f32]) -> f32 {
        x.iter().sum()
    }
}

fn main() {}
