//! Random kernel functions into the transpiler: CUDA that NVRTC compiles, or diagnostics — never
//! a panic. Bodies are random sequences of statement fragments over slices, scalars and
//! constants, mixing supported forms with unsupported constructs, type errors and token garbage.

use std::panic::{catch_unwind, AssertUnwindSafe};

use proptest::prelude::*;
use ringkernel_cuda::nvrtc::testing::{compiler, TEST_ARCH};
use ringkernel_transpile::{transpile_kernel_fn, KernelMode};

const FRAGMENTS: &[&str] = &[
    // Supported.
    "let k = i as usize;",
    "if k < y.len() { y[k] = x[k % x.len().max(1)]; }",
    "acc += x[0] * a;",
    "acc = acc.mul_add(a, 1.0);",
    "for j in 0..x.len() { acc += x[j]; }",
    "while n < 4 { n += 1; if n == 2 { continue; } }",
    "if a > 0.0 { return; }",
    "y[n as usize] -= acc;",
    "let q = (n / (n + 1)) as f32; acc *= q;",
    "n = match n { 0 => 1, 1..=3 => K, _ => n.wrapping_mul(3) };",
    "acc = acc.sqrt().min(a).abs();",
    "let Some(m) = n.checked_add(1) else { return; }; n = m;",
    "y[k] = f32::max(y[k], acc);",
    // Unsupported or ill-typed.
    "let v = x.iter().sum::<f32>();",
    "x[0] = 1.0;",
    "let s = &x[1..];",
    "y[k] += n;",
    "acc += helper(1);",
    "let z = (1, 2);",
    "n = n?;",
    "return 1.0;",
    "println!(\"{}\", n);",
    "loop { break 3; }",
    "acc = ;",
    "} {",
];

fn program(seed: u64) -> String {
    let mut g = seed | 1;
    let mut body = String::from("let mut acc = 0.0f32; let mut n = 0u32; let k = 0usize;\n");
    for _ in 0..1 + seed % 6 {
        g ^= g << 13;
        g ^= g >> 7;
        g ^= g << 17;
        body.push_str(FRAGMENTS[(g % FRAGMENTS.len() as u64) as usize]);
        body.push('\n');
    }
    format!(
        "const K: u32 = 5;\npub fn f(i: u32, a: f32, x: &[f32], y: &mut [f32]) {{\n{body}let _ = acc;\nlet _ = n;\nlet _ = k;\n}}\n"
    )
}

/// `Ok(true)` if NVRTC compiled the transpiled kernel, `Ok(false)` for diagnostics, `Err` for a
/// panic or a kernel NVRTC rejects.
fn outcome(seed: u64) -> Result<bool, String> {
    let src = program(seed);
    let r = catch_unwind(AssertUnwindSafe(|| {
        transpile_kernel_fn(&src, "f", &KernelMode::Global, "f_kernel")
    }))
    .map_err(|_| format!("the transpiler panicked on:\n{src}"))?;
    match r {
        Ok(out) => compiler()
            .compile("fuzz_kernel.cu", &out.cuda, TEST_ARCH, &[])
            .map(|_| true)
            .map_err(|e| format!("NVRTC rejected:\n{src}\n{e}")),
        Err(d) if !d.is_empty() && d.iter().all(|d| !d.message.is_empty()) => Ok(false),
        Err(d) => Err(format!("empty diagnostics {d:?} for:\n{src}")),
    }
}

/// Both outcomes occur (so the generator exercises the compile path, not only rejections).
#[test]
fn fixed_seeds_give_both_kernels_and_diagnostics() {
    let mut compiled = 0;
    let mut diagnosed = 0;
    for seed in 0..64 {
        match outcome(seed) {
            Ok(true) => compiled += 1,
            Ok(false) => diagnosed += 1,
            Err(e) => panic!("seed {seed}: {e}"),
        }
    }
    println!("{compiled} compiled, {diagnosed} diagnosed");
    assert!(
        compiled >= 8 && diagnosed >= 8,
        "{compiled} compiled, {diagnosed} diagnosed"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn random_kernel_functions_compile_or_are_diagnosed(seed: u64) {
        if let Err(e) = outcome(seed) {
            return Err(TestCaseError::fail(e));
        }
    }
}
