//! Random handlers into the transpiler: the outcome is CUDA that NVRTC compiles, or diagnostics —
//! never a panic. Programs come from a small grammar over the supported subset mixed with
//! unsupported constructs, type errors and plain token garbage (rustc would reject many of them;
//! the transpiler still has to answer with a diagnostic).

use std::panic::{catch_unwind, AssertUnwindSafe};

use proptest::prelude::*;
use ringkernel_cuda::nvrtc::testing::{compiler, TEST_ARCH};

/// A tiny deterministic generator (xorshift), so a failing case is reproducible from its seed.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
}

const SCALARS: &[&str] = &[
    "s.a", "s.b", "s.c", "s.f", "m.x", "m.y", "m.g", "s.arr[1]", "m.v[0]",
];
const LITERALS: &[&str] = &[
    "0",
    "1",
    "7",
    "255u32",
    "-3",
    "-3i64",
    "4294967295u32",
    "99999999999",
    "2.5",
    "0.1f32",
    "1e30f64",
    "true",
    "false",
    "i32::MIN",
    "u64::MAX",
    "f32::EPSILON",
    "'c'",
    "\"s\"",
    "1u8",
];
const BINOPS: &[&str] = &[
    "+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>", "==", "!=", "<", "<=", ">", ">=", "&&",
    "||",
];
const METHODS: &[&str] = &[
    "wrapping_add(1)",
    "wrapping_mul(s.b)",
    "count_ones()",
    "sqrt()",
    "abs()",
    "min(m.y)",
    "max(2.0)",
    "leading_zeros()",
    "pow(2)",
    "len()",
    "clone()",
    "wrapping_neg()",
    "reverse_bits()",
    "mul_add(1.0, 2.0)",
    "trailing_zeros()",
    "rotate_left(3)",
];
const TYPES: &[&str] = &[
    "i32", "u32", "i64", "u64", "f32", "f64", "usize", "bool", "u8", "String",
];
const GARBAGE: &[&str] = &[
    "{",
    "}",
    "(",
    ")",
    ";",
    "let",
    "=",
    "if",
    "else",
    "s",
    ".",
    "a",
    "+",
    "loop",
    "break",
    "return",
    "Ok",
    "Err",
    "HandlerError",
    "[",
    "]",
    "0",
    "as",
    "u32",
    "mut",
    "x",
    ",",
    "?",
    "&",
    "*",
    "match",
    "=>",
    "_",
    "|",
    "while",
    "for",
    "in",
    "..",
    "'l",
    ":",
    "::",
];

fn expr(g: &mut Gen, depth: u32) -> String {
    let k = if depth == 0 { g.below(3) } else { g.below(14) };
    match k {
        0 => g.pick(SCALARS).to_string(),
        1 => g.pick(LITERALS).to_string(),
        2 => ["x", "y", "i", "acc"][g.below(4)].to_string(),
        3 | 4 => format!(
            "({} {} {})",
            expr(g, depth - 1),
            g.pick(BINOPS),
            expr(g, depth - 1)
        ),
        5 => format!("({} as {})", expr(g, depth - 1), g.pick(TYPES)),
        6 => format!("{}.{}", expr(g, depth - 1), g.pick(METHODS)),
        7 => format!(
            "if {} {{ {} }} else {{ {} }}",
            expr(g, depth - 1),
            expr(g, depth - 1),
            expr(g, depth - 1)
        ),
        8 => format!(
            "{}.checked_add({}).unwrap_or(0)",
            expr(g, depth - 1),
            expr(g, depth - 1)
        ),
        9 => format!("s.arr[{} as usize]", expr(g, depth - 1)),
        10 => format!("-{}", expr(g, depth - 1)),
        11 => format!("!{}", expr(g, depth - 1)),
        12 => [
            "(|q: u32| q)(1)",
            "vec![1][0]",
            "&s.a",
            "*m",
            "unsafe { 1 }",
            "match s.b { _ => 1 }",
            "helper(1)",
            "(1, 2).0",
            "ctx.sender.raw()",
            "ctx.timestamp.physical_ms()",
            "u32::count_ones(s.b)",
            "f32::sqrt(s.f)",
        ][g.below(12)]
        .to_string(),
        _ => format!("{{ let z = {}; z }}", expr(g, depth - 1)),
    }
}

fn stmt(g: &mut Gen, depth: u32) -> String {
    let k = if depth == 0 { g.below(5) } else { g.below(15) };
    match k {
        0 => format!("let x = {};", expr(g, 2)),
        1 => format!("let mut y: {} = {};", g.pick(TYPES), expr(g, 2)),
        2 => format!(
            "{} = {};",
            g.pick(&["s.a", "s.b", "s.f", "s.arr[2]", "y", "m.x"]),
            expr(g, 2)
        ),
        3 => format!(
            "{} {}= {};",
            g.pick(&["s.a", "s.b", "y", "s.arr[0]"]),
            g.pick(&["+", "-", "*", "/", "%", "^", "<<"]),
            expr(g, 2)
        ),
        4 => g
            .pick(&[
                "break;",
                "continue;",
                "return Err(HandlerError(3));",
                "return Ok(*s);",
            ])
            .to_string(),
        5 => format!(
            "if {} {{ {} }} else {{ {} }}",
            expr(g, 2),
            block(g, depth - 1),
            block(g, depth - 1)
        ),
        6 => format!("while {} {{ {} }}", expr(g, 2), block(g, depth - 1)),
        7 => format!(
            "for i in {}..{} {{ {} }}",
            expr(g, 1),
            expr(g, 1),
            block(g, depth - 1)
        ),
        8 => format!("loop {{ {} break; }}", block(g, depth - 1)),
        9 => format!(
            "let Some(acc) = {}.checked_mul({}) else {{ return Err(HandlerError(9)); }};",
            expr(g, 1),
            expr(g, 1)
        ),
        10 => format!(
            "s.b = {}.checked_sub(1).ok_or(HandlerError(2))?;",
            expr(g, 1)
        ),
        11 => "println!(\"x\");".to_string(),
        12 => (0..g.below(8))
            .map(|_| g.pick(GARBAGE))
            .collect::<Vec<_>>()
            .join(" "),
        13 => format!("{};", expr(g, 2)),
        _ => format!("{{ {} }}", block(g, depth - 1)),
    }
}

fn block(g: &mut Gen, depth: u32) -> String {
    (0..g.below(4))
        .map(|_| stmt(g, depth))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Type-directed expressions over the supported subset (most of these transpile).
const TYS: &[&str] = &["i32", "u32", "i64", "u64", "f32", "f64"];

fn typed_leaf(g: &mut Gen, ty: &str) -> String {
    let opts: &[&str] = match ty {
        "i32" => &["m.x", "-5", "7i32", "i32::MAX", "xi"],
        "u32" => &["s.b", "m.y", "s.arr[3]", "12u32", "u32::MAX", "xu"],
        "i64" => &["s.a", "m.v[1]", "-9i64", "i64::MIN"],
        "u64" => &["s.c", "3u64", "u64::MAX"],
        "f32" => &["s.f", "1.5f32", "-0.0f32", "f32::INFINITY"],
        _ => &["m.g", "2.25", "f64::EPSILON"],
    };
    g.pick(opts).to_string()
}

fn typed(g: &mut Gen, ty: &str, depth: u32) -> String {
    if depth == 0 {
        return typed_leaf(g, ty);
    }
    let int = !ty.starts_with('f');
    let d = depth - 1;
    match g.below(10) {
        0 | 1 => typed_leaf(g, ty),
        2 => {
            let op = if int {
                g.pick(&["+", "-", "*", "&", "|", "^", "/", "%"])
            } else {
                g.pick(&["+", "-", "*", "/", "%"])
            };
            format!("({} {op} {})", typed(g, ty, d), typed(g, ty, d))
        }
        3 => {
            let from = g.pick(TYS);
            format!("({} as {ty})", typed(g, from, d))
        }
        4 if int => format!("{}.wrapping_add({})", typed(g, ty, d), typed(g, ty, d)),
        4 => format!("{}.abs()", typed(g, ty, d)),
        5 => format!("{}.max({})", typed(g, ty, d), typed(g, ty, d)),
        6 => format!(
            "if {} {{ {} }} else {{ {} }}",
            cond(g, d),
            typed(g, ty, d),
            typed(g, ty, d)
        ),
        7 if int => format!(
            "{}.checked_sub({}).unwrap_or({})",
            typed(g, ty, d),
            typed(g, ty, d),
            typed_leaf(g, ty)
        ),
        7 => format!("{}.sqrt()", typed(g, ty, d)),
        8 if ty == "u32" => format!("s.arr[({} % 6) as usize]", typed(g, "u32", d)),
        8 if int => format!("({} << ({} % 40))", typed(g, ty, d), typed(g, "u32", d)),
        8 => format!("{}.floor()", typed(g, ty, d)),
        _ => format!("{{ let t: {ty} = {}; t }}", typed(g, ty, d)),
    }
}

fn cond(g: &mut Gen, depth: u32) -> String {
    let ty = g.pick(TYS);
    let c = format!(
        "({} {} {})",
        typed(g, ty, depth),
        g.pick(&["<", "<=", ">", ">=", "==", "!="]),
        typed(g, ty, depth)
    );
    match g.below(4) {
        0 => format!("({c} && {})", cond(g, depth.saturating_sub(1))),
        1 => format!("!{c}"),
        _ => c,
    }
}

fn typed_stmt(g: &mut Gen, depth: u32, in_loop: bool) -> String {
    let k = if depth == 0 { g.below(4) } else { g.below(10) };
    match k {
        0 => {
            let (f, ty) = [
                ("s.a", "i64"),
                ("s.b", "u32"),
                ("s.f", "f32"),
                ("s.c", "u64"),
                ("xi", "i32"),
                ("xu", "u32"),
            ][g.below(6)];
            format!("{f} = {};", typed(g, ty, 2))
        }
        1 => format!(
            "s.arr[({} % 5) as usize] = {};",
            typed(g, "u32", 1),
            typed(g, "u32", 2)
        ),
        2 => format!(
            "s.b {}= {};",
            g.pick(&["+", "^", "|", "/", "<<"]),
            typed(g, "u32", 1)
        ),
        3 if in_loop => g
            .pick(&["break;", "continue;", "xu = xu.wrapping_add(1);"])
            .to_string(),
        3 => g
            .pick(&["return Err(HandlerError(5));", "xi = xi.wrapping_mul(3);"])
            .to_string(),
        4 => format!(
            "if {} {{ {} }} else {{ {} }}",
            cond(g, 1),
            typed_block(g, depth - 1, in_loop),
            typed_block(g, depth - 1, in_loop)
        ),
        5 => format!(
            "for i in 0..{} {{ s.arr[i % 4] ^= i as u32; {} }}",
            g.below(6),
            typed_block(g, depth - 1, true)
        ),
        6 => format!(
            "let mut n = 0u32; while n < {} {{ n += 1; {} }}",
            g.below(5),
            typed_block(g, depth - 1, true)
        ),
        7 => format!(
            "let mut k = 0; loop {{ k += 1; if k > {} {{ break; }} {} }}",
            g.below(4),
            typed_block(g, depth - 1, true)
        ),
        8 => format!(
            "let Some(q) = {}.checked_add({}) else {{ return Err(HandlerError(6)); }}; s.a = q;",
            typed(g, "i64", 1),
            typed(g, "i64", 1)
        ),
        _ => format!(
            "s.c = {}.checked_mul({}).ok_or(HandlerError(7))?;",
            typed(g, "u64", 1),
            typed(g, "u64", 1)
        ),
    }
}

fn typed_block(g: &mut Gen, depth: u32, in_loop: bool) -> String {
    (0..g.below(4))
        .map(|_| typed_stmt(g, depth, in_loop))
        .collect::<Vec<_>>()
        .join("\n")
}

fn program(seed: u64, id: usize) -> String {
    let mut g = Gen(seed | 1);
    // Half the programs stay inside the subset (type-directed), half mix in everything else.
    let body = if g.below(2) == 0 {
        format!(
            "let mut xi: i32 = 0; let mut xu: u32 = 1;\n{}",
            typed_block(&mut g, 3, false)
        )
    } else {
        block(&mut g, 3)
    };
    let tail = g.pick(&[
        "Ok(*s)",
        "Ok(R { v: s.b, w: s.f as f64 })",
        "Err(HandlerError(1))",
        "if s.b > 3 { Ok(*s) } else { Err(HandlerError(4)) }",
        "Ok(R { v: 1, ..*s })",
        "",
    ]);
    format!(
        "mod fz{id} {{
            #[repr(C)] pub struct S {{ pub a: i64, pub b: u32, pub f: f32, pub arr: [u32; 4], pub c: u64 }}
            #[repr(C)] pub struct M {{ pub x: i32, pub y: u32, pub g: f64, pub v: [i64; 2] }}
            #[repr(C)] pub struct R {{ pub v: u32, pub pad: u32, pub w: f64 }}
            pub struct A;
            impl Actor for A {{
                const NAME: &'static str = \"a\";
                type State = S; type Msg = M; type Reply = S;
                fn handle(s: &mut S, m: &M, ctx: &Context) -> Result<S, HandlerError> {{
                    {body}
                    {tail}
                }}
            }}
        }}"
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]
    #[test]
    fn transpiler_never_panics_and_its_cuda_compiles(seed in any::<u64>()) {
        let src = program(seed, 0);
        let out = catch_unwind(AssertUnwindSafe(|| ringkernel_transpile::transpile_str(&src)));
        let out = match out {
            Ok(o) => o,
            Err(_) => return Err(TestCaseError::fail(format!("transpiler panicked on:\n{src}"))),
        };
        match out {
            Ok(o) => {
                for a in &o.actors {
                    let cuda = a.cuda.standalone();
                    compiler()
                        .compile("fuzz.cu", &cuda, TEST_ARCH, &["-rdc=true"])
                        .map_err(|e| TestCaseError::fail(format!("{e}\n--- rust ---\n{src}\n--- cuda ---\n{cuda}")))?;
                }
            }
            Err(diags) => prop_assert!(!diags.is_empty() && diags.iter().all(|d| !d.message.is_empty())),
        }
    }
}

/// The grammar is not all garbage: a fair share of programs transpile (so the NVRTC half of the
/// property is exercised), and a fair share are rejected.
#[test]
fn the_grammar_reaches_both_outcomes() {
    let (mut ok, mut err) = (0, 0);
    for seed in 1..400u64 {
        match ringkernel_transpile::transpile_str(&program(
            seed.wrapping_mul(0x9e37_79b9_7f4a_7c15),
            0,
        )) {
            Ok(_) => ok += 1,
            Err(_) => err += 1,
        }
    }
    assert!(ok >= 40 && err >= 40, "ok {ok}, rejected {err}");
}
