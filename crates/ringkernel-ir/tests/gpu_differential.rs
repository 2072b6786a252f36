//! Differential test on a real GPU: random integer/bool programs, emitted as CUDA C before and
//! after optimisation, run on the device and compared with the reference interpreter (Rust
//! semantics) on random inputs; float → integer `as` casts on special values against Rust; and
//! every intrinsic row with a CPU reference (`intrinsics::eval_native`) on 512 random and edge
//! inputs: exact rows bit for bit, CUDA-math rows within a relative 1e-5 (f32) / 1e-12 (f64).
//! Fails (never skips) without a GPU. Build with `--features gpu-tests`; for a machine without
//! Rust, copy the binary from `cargo test -p ringkernel-ir --features gpu-tests --test
//! gpu_differential --no-run` over and run it with `--test-threads=1`.
//!
//! Status: ran on an NVIDIA H100 (sm_90, driver 580) on 2026-11-25: all three tests pass (79 360
//! program results, 60 928 intrinsic results over 119 rows), after the emitter's float → integer
//! casts got an explicit NaN check (the first run found NaN → i64 giving `i64::MIN`'s bits).

mod common;

use std::ffi::c_void;

use common::gen::{arb_args, arb_program, build, Bool, Program, I32, I64, PARAMS, U32, U64};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use ringkernel_cuda::driver::{open_context, DeviceBuffer, Kernel, Stream};
use ringkernel_cuda::nvrtc::testing::compile_sm90;
use ringkernel_ir::emit::emit_module;
use ringkernel_ir::interp;
use ringkernel_ir::ir::{Expr, FunctionBuilder, Literal, Module, ScalarType, Stmt, Type};
use ringkernel_ir::passes::PassManager;

const PROGRAMS: usize = 200;
const ROWS: usize = 256;

/// Parameter `i` as the kernel reads it from a `u64` slot.
fn arg_from_slot(i: usize, ty: ScalarType) -> String {
    match ty {
        I32 => format!("(int)(unsigned int)a[{i}]"),
        U32 => format!("(unsigned int)a[{i}]"),
        I64 => format!("(long long)a[{i}]"),
        U64 => format!("a[{i}]"),
        _ => format!("(a[{i}] != 0ull)"),
    }
}

/// A value as the kernel writes it: integers sign- or zero-extended to 64 bits, bool as 0/1.
fn widen(call: &str, ty: ScalarType) -> String {
    match ty {
        I32 => format!("(unsigned long long)(long long)({call})"),
        Bool => format!("(({call}) ? 1ull : 0ull)"),
        _ => format!("(unsigned long long)({call})"),
    }
}

fn bits(l: Literal) -> u64 {
    match l {
        Literal::Bool(b) => u64::from(b),
        Literal::I32(v) => v as i64 as u64,
        Literal::U32(v) => u64::from(v),
        Literal::I64(v) => v as u64,
        Literal::U64(v) => v,
        other => panic!("not an integer: {other:?}"),
    }
}

fn launch(kernel: &Kernel, stream: &Stream, n: usize, params: &mut [u64]) {
    let mut ptrs: Vec<*mut c_void> = params
        .iter_mut()
        .map(|p| (p as *mut u64).cast::<c_void>())
        .collect();
    let grid = u32::try_from(n.div_ceil(64)).unwrap_or(u32::MAX);
    // SAFETY: both kernels take (pointer, pointer, unsigned int, unsigned int); cuLaunchKernel
    // reads each parameter's size from its own pointer, so a u64 slot serves a u32 parameter with
    // its low (little-endian first) bytes. The buffers outlive the synchronize below.
    unsafe { kernel.launch(stream, grid, 64, &mut ptrs) }.unwrap_or_else(|e| panic!("{e}"));
    stream.synchronize().unwrap_or_else(|e| panic!("{e}"));
}

fn to_bytes(v: &[u64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn from_bytes(b: &[u8]) -> Vec<u64> {
    b.chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
        .collect()
}

#[test]
fn emitted_programs_match_the_interpreter_on_the_gpu() {
    let mut runner = TestRunner::deterministic();
    let programs: Vec<Program> = (0..PROGRAMS)
        .map(|_| arb_program().new_tree(&mut runner).unwrap().current())
        .collect();
    let inputs: Vec<Vec<Literal>> = (0..ROWS)
        .map(|_| arb_args().new_tree(&mut runner).unwrap().current())
        .collect();

    // One module: every program as written ("u") and optimised ("o"), and one dispatch kernel.
    let mut module = Module::new();
    let mut originals = Vec::new();
    for (k, p) in programs.iter().enumerate() {
        let plain = build(p);
        let mut opt = plain.clone();
        PassManager::standard().run(&mut opt).unwrap();
        for (tag, m) in [("u", &plain), ("o", &opt)] {
            let mut f = m.functions[0].clone();
            f.name = format!("prog_{k}_{tag}");
            module.functions.push(f);
        }
        originals.push(plain);
    }
    let call_args: Vec<String> = PARAMS
        .iter()
        .enumerate()
        .map(|(i, t)| arg_from_slot(i, *t))
        .collect();
    let mut src = emit_module(&module).unwrap();
    src.push_str(
        "\nextern \"C\" __global__ void run_prog(const unsigned long long* args, \
         unsigned long long* out, unsigned int n, unsigned int which) {\n\
         \x20   unsigned int t = blockIdx.x * blockDim.x + threadIdx.x;\n\
         \x20   if (t >= n) return;\n\
         \x20   const unsigned long long* a = args + (unsigned long long)t * 10ull;\n\
         \x20   unsigned long long r = 0ull;\n    switch (which) {\n",
    );
    for (i, f) in module.functions.iter().enumerate() {
        let ret = f.ret.as_scalar().unwrap();
        let call = format!("{}({})", f.name, call_args.join(", "));
        src.push_str(&format!(
            "    case {i}: r = {}; break;\n",
            widen(&call, ret)
        ));
    }
    src.push_str("    }\n    out[t] = r;\n}\n");
    let ptx = compile_sm90("ir_gpu_differential.cu", &src);

    let ctx = open_context(0).unwrap_or_else(|e| panic!("this test needs a GPU: {e}"));
    let kernel = Kernel::load(&ctx, &ptx.ptx, "run_prog").unwrap();
    let stream = Stream::non_blocking(&ctx).unwrap();
    let args_buf = DeviceBuffer::new(&ctx, ROWS * PARAMS.len() * 8).unwrap();
    let out_buf = DeviceBuffer::new(&ctx, ROWS * 8).unwrap();

    let mut checked = 0usize;
    for (k, plain) in originals.iter().enumerate() {
        // Only inputs on which Rust would not panic: a device trap would end the context.
        let rows: Vec<(&Vec<Literal>, u64)> = inputs
            .iter()
            .filter_map(
                |args| match interp::run(&plain.functions[0], args, 10_000) {
                    Ok(Some(v)) => Some((args, bits(v))),
                    _ => None,
                },
            )
            .collect();
        if rows.is_empty() {
            continue;
        }
        let slots: Vec<u64> = rows
            .iter()
            .flat_map(|(args, _)| args.iter().map(|a| bits(*a)))
            .collect();
        stream
            .copy_to_device(args_buf.ptr(), &to_bytes(&slots))
            .unwrap();
        for variant in 0..2 {
            let which = (2 * k + variant) as u64;
            launch(
                &kernel,
                &stream,
                rows.len(),
                &mut [args_buf.ptr(), out_buf.ptr(), rows.len() as u64, which],
            );
            let mut raw = vec![0u8; rows.len() * 8];
            out_buf.read(&mut raw).unwrap();
            for ((args, want), got) in rows.iter().zip(from_bytes(&raw)) {
                assert_eq!(
                    got,
                    *want,
                    "program {k} variant {variant} args {args:?}\n{:#?}",
                    module.functions[2 * k + variant].body
                );
                checked += 1;
            }
        }
    }
    println!("checked {checked} (program, input) results on the GPU");
    assert!(checked > PROGRAMS * ROWS / 2, "too few rows: {checked}");
}

#[test]
fn float_to_integer_casts_saturate_like_rust_on_the_gpu() {
    let ints = [I32, U32, I64, U64];
    let mut module = Module::new();
    for from in [ScalarType::F32, ScalarType::F64] {
        for to in ints {
            let mut b = FunctionBuilder::new(&format!("cast_{from}_{to}"), Type::Scalar(to));
            let x = b.param("x", from);
            b.push(Stmt::Return(Some(Expr::cast(to, Expr::local(x)))));
            module.functions.push(b.finish());
        }
    }
    let mut src = emit_module(&module).unwrap();
    src.push_str(
        "\nextern \"C\" __global__ void run_casts(const unsigned long long* xs, \
         unsigned long long* out, unsigned int n, unsigned int unused) {\n\
         \x20   unsigned int t = blockIdx.x * blockDim.x + threadIdx.x;\n\
         \x20   if (t >= n) return;\n\
         \x20   double x = __longlong_as_double((long long)xs[t]);\n\
         \x20   float xf = (float)x;\n",
    );
    for (j, f) in module.functions.iter().enumerate() {
        let arg = if j < 4 { "xf" } else { "x" };
        let ret = f.ret.as_scalar().unwrap();
        src.push_str(&format!(
            "    out[t * 8u + {j}u] = {};\n",
            widen(&format!("{}({arg})", f.name), ret)
        ));
    }
    src.push_str("}\n");
    let ptx = compile_sm90("ir_gpu_casts.cu", &src);

    let xs: Vec<f64> = vec![
        0.0,
        -0.0,
        1.5,
        -1.5,
        3.99,
        -3.99,
        1e20,
        -1e20,
        2147483647.0,
        2147483648.0,
        -2147483649.0,
        4294967296.0,
        9.3e18,
        1.9e19,
        -9.3e18,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::MIN_POSITIVE,
        16777217.0,
    ];
    let want: Vec<u64> = xs
        .iter()
        .flat_map(|&x| {
            let f = x as f32;
            [
                f as i32 as i64 as u64,
                u64::from(f as u32),
                f as i64 as u64,
                f as u64,
                x as i32 as i64 as u64,
                u64::from(x as u32),
                x as i64 as u64,
                x as u64,
            ]
        })
        .collect();

    let ctx = open_context(0).unwrap_or_else(|e| panic!("this test needs a GPU: {e}"));
    let kernel = Kernel::load(&ctx, &ptx.ptx, "run_casts").unwrap();
    let stream = Stream::non_blocking(&ctx).unwrap();
    let in_buf = DeviceBuffer::new(&ctx, xs.len() * 8).unwrap();
    let out_buf = DeviceBuffer::new(&ctx, want.len() * 8).unwrap();
    let in_bits: Vec<u64> = xs.iter().map(|x| x.to_bits()).collect();
    stream
        .copy_to_device(in_buf.ptr(), &to_bytes(&in_bits))
        .unwrap();
    launch(
        &kernel,
        &stream,
        xs.len(),
        &mut [in_buf.ptr(), out_buf.ptr(), xs.len() as u64, 0],
    );
    let mut raw = vec![0u8; want.len() * 8];
    out_buf.read(&mut raw).unwrap();
    let got = from_bytes(&raw);
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(
            g,
            w,
            "x = {} via {}",
            xs[i / 8],
            module.functions[i % 8].name
        );
    }
}

/// Argument slots per input row: three per type, in [`slot_base`] order.
const SLOT_TYPES: [ScalarType; 7] = [ScalarType::F32, ScalarType::F64, U32, U64, I32, I64, Bool];

fn slot_base(ty: ScalarType) -> usize {
    3 * SLOT_TYPES.iter().position(|t| *t == ty).unwrap_or(0)
}

/// Slot `k` as a typed C expression.
fn slot_expr(k: usize, ty: ScalarType) -> String {
    match ty {
        ScalarType::F32 => format!("__uint_as_float((unsigned int)a[{k}])"),
        ScalarType::F64 => format!("__longlong_as_double((long long)a[{k}])"),
        other => arg_from_slot(k, other),
    }
}

fn slot_literal(bits: u64, ty: ScalarType) -> Literal {
    match ty {
        ScalarType::F32 => Literal::F32(f32::from_bits(bits as u32)),
        ScalarType::F64 => Literal::F64(f64::from_bits(bits)),
        I32 => Literal::I32(bits as u32 as i32),
        U32 => Literal::U32(bits as u32),
        I64 => Literal::I64(bits as i64),
        U64 => Literal::U64(bits),
        _ => Literal::Bool(bits != 0),
    }
}

/// Float rows whose CUDA implementation is not correctly rounded (CUDA's own math library and
/// the fast approximations); every other float row must match the host bit for bit.
fn approximate(name: &str) -> bool {
    const EXACT_PREFIXES: [&str; 15] = [
        "sqrt_",
        "abs_",
        "min_",
        "max_",
        "floor_",
        "ceil_",
        "round_",
        "trunc_",
        "mul_add_",
        "copysign_",
        "recip_",
        "saturate_",
        "to_bits_",
        "from_bits_",
        "is_",
    ];
    (name.ends_with("_f32") || name.ends_with("_f64"))
        && !EXACT_PREFIXES.iter().any(|p| name.starts_with(p))
}

#[test]
fn intrinsics_with_cpu_references_match_them_on_the_gpu() {
    use ringkernel_ir::intrinsics::{ParamType, TABLE};
    let rows: Vec<_> = TABLE.iter().filter(|i| i.has_native_ref()).collect();
    assert!(rows.len() >= 110, "{}", rows.len());
    let mut module = Module::new();
    for intr in &rows {
        let mut b = FunctionBuilder::new(
            &format!("t_{}", intr.name),
            intr.ret.map_or(Type::Void, Type::Scalar),
        );
        let args: Vec<Expr> = intr
            .params
            .iter()
            .enumerate()
            .map(|(k, p)| {
                let ParamType::Scalar(s) = p else {
                    panic!("{}: pointer parameter in a pure row", intr.name)
                };
                Expr::local(b.param(&format!("a{k}"), *s))
            })
            .collect();
        b.push(Stmt::Return(Some(Expr::call(intr.name, args))));
        module.functions.push(b.finish());
    }
    let mut src = emit_module(&module).unwrap();
    src.push_str(&format!(
        "\nextern \"C\" __global__ void run_intrinsics(const unsigned long long* args, \
         unsigned long long* out, unsigned int n, unsigned int unused) {{\n\
         \x20   unsigned int t = blockIdx.x * blockDim.x + threadIdx.x;\n\
         \x20   if (t >= n) return;\n\
         \x20   const unsigned long long* a = args + (unsigned long long)t * {slots}ull;\n\
         \x20   unsigned long long* o = out + (unsigned long long)t * {rows}ull;\n",
        slots = 3 * SLOT_TYPES.len(),
        rows = rows.len()
    ));
    for (r, intr) in rows.iter().enumerate() {
        let mut seen = [0usize; 7];
        let args: Vec<String> = intr
            .params
            .iter()
            .map(|p| {
                let ParamType::Scalar(s) = p else {
                    unreachable!()
                };
                let k = SLOT_TYPES.iter().position(|t| t == s).unwrap_or(0);
                let e = slot_expr(slot_base(*s) + seen[k], *s);
                seen[k] += 1;
                e
            })
            .collect();
        let call = format!("t_{}({})", intr.name, args.join(", "));
        let ret = intr.ret.unwrap_or(Bool);
        let bits = match ret {
            ScalarType::F32 => format!("(unsigned long long)__float_as_uint({call})"),
            ScalarType::F64 => format!("(unsigned long long)__double_as_longlong({call})"),
            other => widen(&call, other),
        };
        src.push_str(&format!("    o[{r}] = {bits};\n"));
    }
    src.push_str("}\n");
    let ptx = compile_sm90("ir_gpu_intrinsics.cu", &src);

    // Inputs: edge values and random ones per type; floats mostly in [-4, 4] (the domain where
    // the fast approximations are specified), plus signed zeros, NaN and infinities.
    let mut runner = TestRunner::deterministic();
    let n = 512usize;
    let mut slots = Vec::with_capacity(n * 21);
    for t in 0..n {
        for ty in SLOT_TYPES {
            for j in 0..3 {
                let r: u64 = proptest::num::u64::ANY
                    .new_tree(&mut runner)
                    .unwrap()
                    .current();
                let unit = (r >> 11) as f64 / (1u64 << 53) as f64 * 8.0 - 4.0;
                let edge = (t + j) % 16 == 0;
                slots.push(match ty {
                    ScalarType::F32 if edge => [0.0f32, -0.0, f32::NAN, f32::INFINITY][t / 16 % 4]
                        .to_bits()
                        .into(),
                    ScalarType::F32 => u64::from((unit as f32).to_bits()),
                    ScalarType::F64 if edge => {
                        [0.0f64, -0.0, f64::NAN, f64::NEG_INFINITY][t / 16 % 4].to_bits()
                    }
                    ScalarType::F64 => unit.to_bits(),
                    I32 | U32 if edge => [0u64, 1, u64::from(u32::MAX), 0x8000_0000][t / 16 % 4],
                    I64 | U64 if edge => [0u64, 1, u64::MAX, 1 << 63][t / 16 % 4],
                    Bool => r & 1,
                    _ => r,
                });
            }
        }
    }

    let ctx = open_context(0).unwrap_or_else(|e| panic!("this test needs a GPU: {e}"));
    let kernel = Kernel::load(&ctx, &ptx.ptx, "run_intrinsics").unwrap();
    let stream = Stream::non_blocking(&ctx).unwrap();
    let args_buf = DeviceBuffer::new(&ctx, slots.len() * 8).unwrap();
    let out_buf = DeviceBuffer::new(&ctx, n * rows.len() * 8).unwrap();
    stream
        .copy_to_device(args_buf.ptr(), &to_bytes(&slots))
        .unwrap();
    launch(
        &kernel,
        &stream,
        n,
        &mut [args_buf.ptr(), out_buf.ptr(), n as u64, 0],
    );
    let mut raw = vec![0u8; n * rows.len() * 8];
    out_buf.read(&mut raw).unwrap();
    let got = from_bytes(&raw);

    let mut compared = 0usize;
    for t in 0..n {
        let a = &slots[t * 21..(t + 1) * 21];
        for (r, intr) in rows.iter().enumerate() {
            let mut seen = [0usize; 7];
            let args: Vec<Literal> = intr
                .params
                .iter()
                .map(|p| {
                    let ParamType::Scalar(s) = p else {
                        unreachable!()
                    };
                    let k = SLOT_TYPES.iter().position(|x| x == s).unwrap_or(0);
                    let l = slot_literal(a[slot_base(*s) + seen[k]], *s);
                    seen[k] += 1;
                    l
                })
                .collect();
            let want = ringkernel_ir::intrinsics::eval_native(intr.name, &args).unwrap();
            let g = got[t * rows.len() + r];
            let ok = match want {
                Literal::F32(w) => {
                    let g = f32::from_bits(g as u32);
                    (g.is_nan() && w.is_nan())
                        || g.to_bits() == w.to_bits()
                        || (approximate(intr.name) && (g - w).abs() <= 1e-5 * w.abs().max(1.0))
                        // CUDA may return -0.0 where the host returns +0.0 and vice versa.
                        || (g == 0.0 && w == 0.0 && !intr.name.starts_with("copysign"))
                }
                Literal::F64(w) => {
                    let g = f64::from_bits(g);
                    (g.is_nan() && w.is_nan())
                        || g.to_bits() == w.to_bits()
                        || (approximate(intr.name) && (g - w).abs() <= 1e-12 * w.abs().max(1.0))
                        || (g == 0.0 && w == 0.0 && !intr.name.starts_with("copysign"))
                }
                other => g == bits(other),
            };
            assert!(ok, "{}({args:?}): gpu bits {g:#x}, cpu {want:?}", intr.name);
            compared += 1;
        }
    }
    println!(
        "compared {compared} intrinsic results ({} rows) with their CPU references",
        rows.len()
    );
}
