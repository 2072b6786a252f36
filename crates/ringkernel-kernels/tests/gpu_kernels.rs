//! Every kernel mode on a real GPU, with random inputs, against the CPU references. The global,
//! stencil and FDTD kernels are transpiled from the same Rust functions the CPU references run
//! natively (`ringkernel_kernels::examples`).
//! Fails (never skips) without a GPU. Build with `--features gpu-tests`; run with
//! `--test-threads=1`. Tolerances (see `ringkernel_kernels::examples`): axpy exact; stencils
//! `1e-5 * max(1, |cpu|)` per cell; FDTD fields `1e-4 * max(1, peak)`, energy `1e-9` relative
//! against the GPU's own snapshot and `1e-4` against the CPU reference; ring handler exact.
//! Every wait polls with a deadline, so a hung kernel fails the test instead of hanging it.

mod common;

use std::ffi::c_void;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::Rng;
use cudarc::driver::CudaContext;
use ringkernel_cuda::driver::{open_context, DeviceBuffer, Kernel, Stream};
use ringkernel_cuda::nvrtc::testing::compile_sm90;
use ringkernel_ir::kernel::ring::emit_ring_handler;
use ringkernel_kernels::examples::counter::{self, Add, Total};
use ringkernel_kernels::examples::{axpy, stencils, ENERGY_TOL, FDTD_TOL, STENCIL_TOL};
use ringkernel_kernels::fdtd_cpu::FdtdCpu;
use ringkernel_kernels::fdtd_host::{FdtdConfig, FdtdSim};

const DEADLINE: Duration = Duration::from_secs(30);

fn gpu() -> Arc<CudaContext> {
    open_context(0).unwrap_or_else(|e| panic!("this test needs a GPU: {e}"))
}

/// Launches and waits (with a deadline) for the kernel to finish.
fn launch(kernel: &Kernel, stream: &Stream, grid: u32, block: u32, args: &mut [*mut c_void]) {
    // SAFETY: each test passes pointers to values whose types match the kernel's parameters, in
    // order; all device buffers outlive the wait below.
    unsafe { kernel.launch(stream, grid, block, args) }.unwrap_or_else(|e| panic!("{e}"));
    let start = Instant::now();
    while !stream
        .is_idle()
        .unwrap_or_else(|e| panic!("kernel failed: {e}"))
    {
        assert!(
            start.elapsed() < DEADLINE,
            "kernel did not finish in {DEADLINE:?}"
        );
        std::thread::sleep(Duration::from_micros(100));
    }
    stream.synchronize().unwrap_or_else(|e| panic!("{e}"));
}

fn arg<T>(v: &mut T) -> *mut c_void {
    (v as *mut T).cast()
}

fn upload(ctx: &Arc<CudaContext>, stream: &Stream, bytes: &[u8]) -> DeviceBuffer {
    let b = DeviceBuffer::new(ctx, bytes.len()).unwrap_or_else(|e| panic!("{e}"));
    stream
        .copy_to_device(b.ptr(), bytes)
        .unwrap_or_else(|e| panic!("{e}"));
    b
}

fn read_f32(b: &DeviceBuffer, n: usize) -> Vec<f32> {
    let mut raw = vec![0u8; n * 4];
    b.read(&mut raw).unwrap_or_else(|e| panic!("{e}"));
    raw.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

fn assert_close(got: &[f32], want: &[f32], tol: f32, what: &str) {
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol * w.abs().max(1.0),
            "{what}: cell {i}: gpu {g} vs cpu {w} (tolerance {tol})"
        );
    }
    println!(
        "{what}: max relative error {:e}",
        common::max_rel_err(got, want)
    );
}

#[test]
fn global_axpy_matches_cpu_exactly() {
    let ctx = gpu();
    let ptx = compile_sm90("axpy_kernel.cu", &common::axpy_source());
    let kernel = Kernel::load(&ctx, &ptx.ptx, common::AXPY_KERNEL).unwrap();
    let stream = Stream::non_blocking(&ctx).unwrap();
    let mut rng = Rng(10);
    let len = 100_003usize;
    let extra = 16usize; // indices past `len`: the function's bounds check must leave them alone
    let x = rng.vec(len);
    let mut y = rng.vec(len);
    y.extend(std::iter::repeat_n(7.5f32, extra));
    let a = rng.unit();
    let xb = upload(&ctx, &stream, bytemuck::cast_slice(&x));
    let yb = upload(&ctx, &stream, bytemuck::cast_slice(&y));
    // Transpiled from `axpy(i, a, x: &[f32], y: &mut [f32])`: each slice is a pointer and its
    // length. `y` is passed as `len` long, so the threads past it leave the extra cells alone.
    let (mut n, mut a_arg, mut xp, mut x_len, mut yp, mut y_len) = (
        (len + extra) as u32,
        a,
        xb.ptr(),
        len as u64,
        yb.ptr(),
        len as u64,
    );
    // 40 x 128 threads for 100k elements: every thread loops (grid stride).
    launch(
        &kernel,
        &stream,
        40,
        128,
        &mut [
            arg(&mut n),
            arg(&mut a_arg),
            arg(&mut xp),
            arg(&mut x_len),
            arg(&mut yp),
            arg(&mut y_len),
        ],
    );
    let got = read_f32(&yb, len + extra);
    let mut want = y.clone();
    axpy::cpu(a, &x, &mut want[..len]);
    assert_eq!(
        got, want,
        "axpy must be bit-identical (one fused multiply-add each)"
    );
}

#[test]
fn stencil_2d_cross_matches_cpu() {
    let ctx = gpu();
    let ptx = compile_sm90("cross2d_kernel.cu", &common::cross2d_source());
    let kernel = Kernel::load(&ctx, &ptx.ptx, common::CROSS2D_KERNEL).unwrap();
    let stream = Stream::non_blocking(&ctx).unwrap();
    let mut rng = Rng(11);
    for (nx, ny) in [(131usize, 77usize), (16, 8), (5, 3)] {
        let u = rng.vec(nx * ny);
        let (w1, w2) = (0.2 * rng.unit().abs(), 0.05 * rng.unit().abs());
        let ib = upload(&ctx, &stream, bytemuck::cast_slice(&u));
        let ob = DeviceBuffer::new(&ctx, nx * ny * 4).unwrap();
        let (mut ip, mut op, mut nxa, mut nya, mut w1a, mut w2a) =
            (ib.ptr(), ob.ptr(), nx as u32, ny as u32, w1, w2);
        // Fewer blocks than tiles, so blocks loop over tiles and reuse their shared tile.
        launch(
            &kernel,
            &stream,
            13,
            stencils::CROSS2D_SPEC.block_threads(),
            &mut [
                arg(&mut ip),
                arg(&mut op),
                arg(&mut nxa),
                arg(&mut nya),
                arg(&mut w1a),
                arg(&mut w2a),
            ],
        );
        let got = read_f32(&ob, nx * ny);
        let want = stencils::cross2d_cpu(&u, nx, ny, w1, w2).unwrap();
        assert_close(&got, &want, STENCIL_TOL, &format!("cross2d {nx}x{ny}"));
    }
}

#[test]
fn stencil_3d_heat_matches_cpu() {
    let ctx = gpu();
    let ptx = compile_sm90("heat3d_kernel.cu", &common::heat3d_source());
    let kernel = Kernel::load(&ctx, &ptx.ptx, common::HEAT3D_KERNEL).unwrap();
    let stream = Stream::non_blocking(&ctx).unwrap();
    let mut rng = Rng(12);
    for n in [[37usize, 29, 19], [8, 8, 4], [3, 3, 3]] {
        let cells: usize = n.iter().product();
        let u = rng.vec(cells);
        let k = 0.15 * rng.unit().abs();
        let ib = upload(&ctx, &stream, bytemuck::cast_slice(&u));
        let ob = DeviceBuffer::new(&ctx, cells * 4).unwrap();
        let (mut ip, mut op, mut nxa, mut nya, mut nza, mut ka) =
            (ib.ptr(), ob.ptr(), n[0] as u32, n[1] as u32, n[2] as u32, k);
        launch(
            &kernel,
            &stream,
            17,
            stencils::HEAT3D_SPEC.block_threads(),
            &mut [
                arg(&mut ip),
                arg(&mut op),
                arg(&mut nxa),
                arg(&mut nya),
                arg(&mut nza),
                arg(&mut ka),
            ],
        );
        let got = read_f32(&ob, cells);
        let want = stencils::heat3d_cpu(&u, n, k).unwrap();
        assert_close(&got, &want, STENCIL_TOL, &format!("heat3d {n:?}"));
    }
}

const RING_HARNESS: &str = r#"
// Calls the generated handler the way the persistent kernel does: one thread, one message at a
// time, with an rk_ctx per message.
extern "C" __global__ void ring_harness(Total* state, const Add* msgs, Total* replies, int* rcs,
                                        const unsigned int* senders, unsigned int n) {
    if (blockIdx.x != 0 || threadIdx.x != 0) return;
    for (unsigned int k = 0; k < n; ++k) {
        rk_ctx ctx;
        ctx.self_id = 5u;
        ctx.sender = senders[k];
        ctx.timestamp = 0ull;
        rcs[k] = counter_handle(state, &msgs[k], &replies[k], &ctx);
    }
}
"#;

#[test]
fn ring_handler_matches_cpu() {
    let ctx = gpu();
    let h = emit_ring_handler(&counter::module(), counter::FUNCTION).unwrap();
    let src = format!(
        "{}{}\n{}\n{}\n{RING_HARNESS}",
        ringkernel_cuda::layout::device_header(),
        ringkernel_cuda::program::RUNTIME_CUH,
        h.struct_defs,
        h.source
    );
    let ptx = compile_sm90("ring_harness.cu", &src);
    let kernel = Kernel::load(&ctx, &ptx.ptx, "ring_harness").unwrap();
    let stream = Stream::non_blocking(&ctx).unwrap();
    let mut rng = Rng(13);
    let n = 500usize;
    let msgs: Vec<Add> = (0..n)
        .map(|_| Add {
            n: if rng.below(10) == 0 {
                u64::MAX
            } else {
                rng.next_u64()
            },
        })
        .collect();
    let senders: Vec<u32> = (0..n).map(|_| rng.below(1000)).collect();
    let start = Total {
        sum: rng.next_u64(),
        count: 3,
        last_sender: 9,
    };
    let sb = upload(&ctx, &stream, bytemuck::bytes_of(&start));
    let mb = upload(&ctx, &stream, bytemuck::cast_slice(&msgs));
    let rb = DeviceBuffer::new(&ctx, n * 16).unwrap();
    let cb = DeviceBuffer::new(&ctx, n * 4).unwrap();
    let eb = upload(&ctx, &stream, bytemuck::cast_slice(&senders));
    let (mut s, mut m, mut r, mut c, mut e, mut na) =
        (sb.ptr(), mb.ptr(), rb.ptr(), cb.ptr(), eb.ptr(), n as u32);
    launch(
        &kernel,
        &stream,
        1,
        32,
        &mut [
            arg(&mut s),
            arg(&mut m),
            arg(&mut r),
            arg(&mut c),
            arg(&mut e),
            arg(&mut na),
        ],
    );
    let mut want_state = start;
    let mut want_replies = vec![Total::default(); n];
    let want_rcs: Vec<i32> = msgs
        .iter()
        .zip(&senders)
        .zip(want_replies.iter_mut())
        .map(|((msg, sender), reply)| counter::cpu(&mut want_state, msg, *sender, reply))
        .collect();
    let mut raw = vec![0u8; 16];
    sb.read(&mut raw).unwrap();
    assert_eq!(*bytemuck::from_bytes::<Total>(&raw), want_state);
    let mut raw = vec![0u8; n * 16];
    rb.read(&mut raw).unwrap();
    assert_eq!(bytemuck::cast_slice::<u8, Total>(&raw), &want_replies[..]);
    let mut raw = vec![0u8; n * 4];
    cb.read(&mut raw).unwrap();
    assert_eq!(bytemuck::cast_slice::<u8, i32>(&raw), &want_rcs[..]);
    assert!(want_rcs.contains(&7) && want_rcs.contains(&0));
}

fn compare_fields(gpu: &[f32], cpu: &FdtdCpu, what: &str) {
    let peak = cpu.field().iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let tol = FDTD_TOL * peak.max(1.0);
    let worst = gpu
        .iter()
        .zip(cpu.field())
        .map(|(g, c)| (g - c).abs())
        .fold(0.0f32, f32::max);
    println!(
        "{what}: step {}, peak {peak}, max abs error {worst:e}",
        cpu.steps()
    );
    assert!(worst <= tol, "{what}: max error {worst} > {tol}");
}

fn energy_of(field: &[f32]) -> f64 {
    field.iter().map(|&v| f64::from(v) * f64::from(v)).sum()
}

#[test]
fn persistent_fdtd_steered_by_messages_matches_cpu() {
    let ctx = gpu();
    let ptx = compile_sm90("wave_fdtd.cu", &common::fdtd_source());
    let mut rng = Rng(14);
    let (nx, ny, coef) = (96u32, 80u32, 0.25f32);
    let initial: Vec<f32> = rng
        .vec((nx * ny) as usize)
        .iter()
        .map(|v| 0.1 * v)
        .collect();
    let cfg = FdtdConfig {
        nx,
        ny,
        coef,
        block: 256,
        timeout: DEADLINE,
    };
    let mut sim = FdtdSim::start(&ctx, &ptx.ptx, common::FDTD_KERNEL, cfg, &initial).unwrap();
    let mut cpu = FdtdCpu::new(nx as usize, ny as usize, coef, &initial);

    // Random steering: inject, run, wait, then check probe, energy and the whole field.
    for round in 0..8 {
        let (x, y, amp) = (rng.below(nx), rng.below(ny), rng.unit());
        sim.inject(x, y, amp).unwrap();
        cpu.inject(x as usize, y as usize, amp);
        let steps = 1 + rng.below(60);
        sim.run(steps).unwrap();
        cpu.run(u64::from(steps));
        assert_eq!(sim.wait_idle().unwrap(), cpu.steps(), "round {round}");
        let (px, py) = (rng.below(nx), rng.below(ny));
        let (step, v) = sim.probe(px, py).unwrap();
        assert_eq!(step, cpu.steps());
        let want = cpu.field()[(py * nx + px) as usize];
        assert!(
            (v - want).abs() <= FDTD_TOL * want.abs().max(1.0),
            "probe {v} vs {want}"
        );
        let (step, energy) = sim.energy().unwrap();
        let (snap_step, field) = sim.snapshot().unwrap();
        assert_eq!((step, snap_step), (cpu.steps(), cpu.steps()));
        let own = energy_of(&field);
        assert!(
            (energy - own).abs() <= ENERGY_TOL * own.max(1e-30),
            "energy {energy} vs {own}"
        );
        let reference = cpu.energy();
        assert!(
            (energy - reference).abs() <= f64::from(FDTD_TOL) * reference.max(1.0),
            "energy {energy} vs cpu {reference}"
        );
        compare_fields(&field, &cpu, &format!("round {round}"));
    }

    // Pause interrupts a long run between steps; the field is then exactly `k` steps old.
    let before = cpu.steps();
    sim.run(u32::MAX).unwrap();
    std::thread::sleep(Duration::from_millis(5));
    let k = sim.pause().unwrap();
    assert!(k > before, "no step ran during 5 ms of a queued run");
    assert!(k < before + u64::from(u32::MAX));
    let beat = sim.heartbeat();
    std::thread::sleep(Duration::from_millis(5));
    assert_eq!(sim.wait_idle().unwrap(), k, "steps advanced after pause");
    assert!(sim.heartbeat() > beat, "the paused kernel stopped polling");
    cpu.run(k - before);
    let (step, field) = sim.snapshot().unwrap();
    assert_eq!(step, k);
    compare_fields(&field, &cpu, "after pause");
    assert_eq!(sim.stop().unwrap(), k);
}
