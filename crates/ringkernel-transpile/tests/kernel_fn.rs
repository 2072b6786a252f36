//! Kernel functions (`ringkernel_transpile::kernel_fn`): every rejected construct is a diagnostic
//! at its tokens with a reason (never a panic), the supported forms lower to the signatures the
//! kernel modes accept, and slice indexing is bounds-checked as in Rust.

use ringkernel_ir::interp::{run_with_memory, InterpError, Value};
use ringkernel_ir::ir::{Literal, ScalarType, Type};
use ringkernel_ir::kernel::stencil::{Boundary, StencilSpec};
use ringkernel_transpile::kernel_fn::kernel_module;
use ringkernel_transpile::{transpile_kernel_fn, Diagnostic, KernelMode};

/// A one-function source whose body is `body` (the body is line 3 of the text).
fn source(sig: &str, body: &str) -> String {
    format!("pub const K: u32 = 3;\n{sig} {{\n{body}\n}}\n")
}

fn rejected(src: &str) -> Vec<Diagnostic> {
    match kernel_module(src) {
        Ok(m) => panic!("accepted:\n{src}\n{m:?}"),
        Err(d) => d,
    }
}

const SIG: &str = "pub fn f(i: u32, x: &[f32], y: &mut [f32]) -> f32";

/// `(body, what the message says, the text at the reported position)` for [`SIG`].
const BODY_CASES: &[(&str, &str, &str)] = &[
    ("x[0] = 1.0; 0.0", "read-only", "x[0]"),
    ("let s = x; 0.0", "is a slice", "x;"),
    ("x.iter().sum()", "unsupported slice method", "x.iter"),
    ("let v = x.get(0); 0.0", "unsupported slice method", "x.get"),
    (
        "let n = i.checked_add(1)?; 0.0",
        "unsupported `?`",
        "i.checked_add",
    ),
    ("return;", "returns `f32`", "return"),
    ("let f = |a: f32| a; 0.0", "closures", "|a"),
    ("println!(\"{}\", i); 0.0", "macros", "println"),
    ("let r = &x[0]; 0.0", "references", "&x"),
    ("let s = &x[1..]; 0.0", "references", "&x"),
    ("helper(i); 0.0", "unsupported call", "helper"),
    ("let v = unsafe { 1.0 }; v", "`unsafe`", "unsafe"),
    ("for v in x { } 0.0", "integer range", "x {"),
    ("let (a, b) = (1, 2); 0.0", "unsupported pattern", "(a, b)"),
    ("Ok(1.0)", "only supported as the handler's result", "Ok"),
    ("let v = x.0; v", "no structs, tuples or fields", "x.0"),
    // `#[cfg]` removes code natively; the GPU would keep it.
    (
        "#[cfg(any())] { y[0] = 1.0; } 0.0",
        "attributes inside a GPU function body",
        "#[cfg",
    ),
    (
        "match i { #[cfg(any())] 0 => 1.0, _ => 0.0 }",
        "attributes inside a GPU function body",
        "#[cfg",
    ),
];

/// Line and column (1-based line, 0-based column) of `needle` in `text`.
fn position(text: &str, needle: &str) -> (usize, usize) {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("`{needle}` not in {text}"));
    let line = text[..at].matches('\n').count() + 1;
    let col = at - text[..at].rfind('\n').map_or(0, |k| k + 1);
    (line, col)
}

#[test]
fn rejected_constructs_point_at_themselves_with_a_reason() {
    for (body, why, at) in BODY_CASES {
        let src = source(SIG, body);
        let d = rejected(&src);
        assert_eq!(d.len(), 1, "{body}: {d:?}");
        let d = &d[0];
        assert!(
            d.message.contains(why),
            "{body}: message {:?} lacks {why:?}",
            d.message
        );
        let start = d.span.start();
        assert_eq!(
            (start.line, start.column),
            position(&src, at),
            "{body}: {}",
            d.message
        );
    }
}

/// `(signature, what the message says, the text at the reported position)`.
const SIG_CASES: &[(&str, &str, &str)] = &[
    ("pub fn f<T>(x: T)", "generic", "<T>"),
    ("pub fn f(x: &f32)", "only supported as slices", "&f32"),
    ("pub fn f(x: &[bool])", "`bool` slices", "bool"),
    ("pub fn f(x: &[u8])", "unsupported type", "u8"),
    ("pub fn f(x: Vec<f32>)", "unsupported type", "Vec"),
    ("pub fn f((a, b): (u32, u32))", "unsupported type", "(u32"),
    (
        "pub fn f(mut x: &mut [f32])",
        "`mut` slice binding",
        "mut x",
    ),
    ("pub unsafe fn f(i: u32)", "`unsafe fn`", "unsafe"),
    ("pub async fn f(i: u32)", "async", "async"),
    ("pub const fn f(i: u32)", "`const fn`", "const fn"),
    ("pub extern \"C\" fn f(i: u32)", "`extern`", "extern"),
    ("pub fn f(i: u32) -> [f32; 2]", "unsupported type", "[f32"),
    (
        "#[cfg(test)] pub fn f(i: u32)",
        "unsupported attribute",
        "#[cfg",
    ),
];

#[test]
fn rejected_signatures_point_at_themselves_with_a_reason() {
    for (sig, why, at) in SIG_CASES {
        let src = source(sig, "");
        let d = rejected(&src);
        let d = &d[0];
        assert!(
            d.message.contains(why),
            "{sig}: message {:?} lacks {why:?}",
            d.message
        );
        let start = d.span.start();
        assert_eq!((start.line, start.column), position(&src, at), "{sig}");
    }
}

#[test]
fn file_level_problems_are_all_reported() {
    let src = "pub struct S;\nfn g(x: &f32) {}\nfn ok(i: u32) -> u32 { i }\nimpl S {}\n";
    let d = rejected(src);
    let lines: Vec<usize> = d.iter().map(|d| d.span.start().line).collect();
    assert_eq!(lines, [1, 2, 4], "{d:?}");
    assert!(rejected("").iter().any(|d| d.message.contains("no `fn`")));
    assert!(rejected("fn (")
        .iter()
        .any(|d| d.message.contains("not a Rust file")));
}

#[test]
fn a_function_that_breaks_its_mode_contract_is_a_diagnostic_at_its_signature() {
    let src = "pub fn f(x: &[f32], i: u32) -> f32 {\n    x[i as usize]\n}\n";
    let d = transpile_kernel_fn(src, "f", &KernelMode::Global, "k").unwrap_err();
    assert!(d[0].message.contains("global kernel mode"), "{d:?}");
    assert_eq!(d[0].span.start().line, 1);
    let spec = StencilSpec {
        dims: 2,
        tile: [8, 8, 1],
        radius: 1,
        elem: ScalarType::F32,
        boundary: Boundary::Clamp,
    };
    for mode in [KernelMode::Stencil(spec), KernelMode::Fdtd2d] {
        assert!(transpile_kernel_fn(src, "f", &mode, "k").is_err());
    }
    let d = transpile_kernel_fn(src, "missing", &KernelMode::Global, "k").unwrap_err();
    assert!(d[0].message.contains("missing"), "{d:?}");
}

#[test]
fn slices_lower_to_a_pointer_and_its_length() {
    let m = kernel_module(
        "pub fn f(i: u64, a: &[f64], b: &mut [i32], _: u32, _: &[u32]) -> bool { a.len() > i as usize && b.len() > 0 }",
    )
    .unwrap();
    let f = &m.functions[0];
    let types: Vec<Type> = f
        .params
        .iter()
        .map(|p| f.local(*p).unwrap().ty.clone())
        .collect();
    let u64t = Type::Scalar(ScalarType::U64);
    assert_eq!(
        types,
        [
            u64t.clone(),
            Type::ptr_const(ScalarType::F64),
            u64t.clone(),
            Type::ptr_mut(ScalarType::I32),
            u64t.clone(),
            Type::Scalar(ScalarType::U32),
            Type::ptr_const(ScalarType::U32),
            u64t,
        ]
    );
    assert_eq!(f.ret, Type::Scalar(ScalarType::Bool));
}

/// Out-of-bounds reads and writes trap (the interpreter's error) exactly where Rust panics, and
/// nothing is written before the trap; in-bounds accesses (shadowing, compound assignment,
/// loops, early `return`) behave as natively.
#[test]
fn indexing_is_bounds_checked_as_in_rust() {
    let src = "pub fn f(i: u32, x: &[i32], y: &mut [i32]) -> i32 {
        let i = i as usize;
        let mut s = 0;
        for k in 0..x.len() {
            if x[k] < 0 { return -1; }
            s += x[k];
        }
        y[i] += s;
        y[i]
    }";
    // The same text as `src`, compiled natively (index loops: the subset has no iterators).
    #[allow(clippy::needless_range_loop)]
    fn native(i: u32, x: &[i32], y: &mut [i32]) -> i32 {
        let i = i as usize;
        let mut s = 0;
        for k in 0..x.len() {
            if x[k] < 0 {
                return -1;
            }
            s += x[k];
        }
        y[i] += s;
        y[i]
    }
    let m = kernel_module(src).unwrap();
    let f = &m.functions[0];
    let x = [3, 4, 5];
    for (i, xs) in [(0u32, &x[..]), (2, &x[..]), (3, &x[..]), (1, &[1, -2][..])] {
        let mut y = vec![10, 20, 30];
        let want = std::panic::catch_unwind(|| {
            let mut y = y.clone();
            let r = native(i, xs, &mut y);
            (r, y)
        });
        let mut mem = vec![
            xs.iter().map(|v| Literal::I32(*v)).collect(),
            y.iter().map(|v| Literal::I32(*v)).collect::<Vec<_>>(),
        ];
        let args = [
            Value::Scalar(Literal::U32(i)),
            Value::Buffer(0),
            Value::Scalar(Literal::U64(xs.len() as u64)),
            Value::Buffer(1),
            Value::Scalar(Literal::U64(3)),
        ];
        let got = run_with_memory(f, &args, &mut mem, 10_000);
        match want {
            Ok((r, y2)) => {
                assert_eq!(got, Ok(Some(Literal::I32(r))), "i = {i}");
                y = y2;
                let after: Vec<Literal> = y.iter().map(|v| Literal::I32(*v)).collect();
                assert_eq!(mem[1], after, "i = {i}");
            }
            Err(_) => {
                assert_eq!(got, Err(InterpError::DivideByZero), "i = {i}: must trap");
                let before: Vec<Literal> = y.iter().map(|v| Literal::I32(*v)).collect();
                assert_eq!(mem[1], before, "i = {i}: nothing written before the trap");
            }
        }
    }
}

#[test]
fn constants_and_the_subset_are_shared_with_handlers() {
    // A constant of the file, `match`, `while` with `break`, intrinsics and casts.
    let src = "const SCALE: f64 = 0.5;
        pub fn g(i: u64, out: &mut [f64]) {
            let k = match i % 3 { 0 => 1.0, 1 | 2 => 2.0, _ => 3.0 };
            let mut n = 0u32;
            while n < 10 { n += 1; if n == 4 { break; } }
            if (i as usize) < out.len() {
                out[i as usize] = (k * SCALE).sqrt().mul_add(n as f64, out[i as usize]);
            }
        }";
    let out = transpile_kernel_fn(src, "g", &KernelMode::Global, "g_kernel").unwrap();
    assert!(out
        .cuda
        .contains("g_kernel(unsigned long long rk_n, double* rk_p1, unsigned long long rk_p2)"));
    assert!(out.cuda.contains("sqrt("), "{}", out.cuda);
}

/// Attributes on consts and parameters could make the native and GPU versions differ: refused.
#[test]
fn cfg_on_consts_and_parameters_is_refused() {
    for (src, needle) in [
        (
            "#[cfg(any())] const N: usize = 2;\npub fn f(i: u32) {}\n",
            "unsupported attribute on a kernel `const`",
        ),
        (
            "pub fn f(#[cfg(any())] i: u32, x: &[f32]) {}\n",
            "attributes on kernel function parameters",
        ),
    ] {
        let d = rejected(src);
        assert!(d.iter().any(|d| d.message.contains(needle)), "{src}: {d:?}");
    }
    // Neutral attributes on a const are fine.
    assert!(
        kernel_module("/// doc\n#[allow(dead_code)] const N: u32 = 2;\npub fn f(i: u32) {}\n")
            .is_ok()
    );
}

/// Function names that CUDA C reserves are reported at the name, not as an internal error.
#[test]
fn reserved_function_names_are_reported_at_the_name() {
    for name in ["float", "int", "rk_div_u32"] {
        let src = format!("pub fn {name}(i: u32) {{}}\n");
        let d = rejected(&src);
        assert!(
            d.iter()
                .any(|d| d.message.contains("cannot name a GPU function")),
            "{name}: {d:?}"
        );
    }
}
