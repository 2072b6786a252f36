#[ringkernel_derive::gpu_kernel]
mod kernel {
    pub fn first<T: Copy>(x: &[T]) -> T {
        x[0]
    }

    pub fn get(x: &Vec<f32>) -> f32 {
        x[0]
    }
}

fn main() {}
