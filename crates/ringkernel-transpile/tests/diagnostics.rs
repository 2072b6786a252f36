//! Every rejected construct gives a diagnostic that points at the construct (line and column of
//! its first token) and says why; independent struct problems are all reported at once.

use ringkernel_transpile::{transpile_str, Diagnostic};

/// A module whose handler body is `body` (line 12 of the text is the body's first line).
fn module(body: &str) -> String {
    format!(
        "mod m {{
    #[repr(C)] pub struct S {{ pub a: i64, pub b: u32, pub c: u32, pub arr: [u32; 4] }}
    pub const K: u32 = 5;
    pub struct A;
    impl Actor for A {{
        const NAME: &'static str = \"a\";
        type State = S;
        type Msg = S;
        type Reply = S;
        fn handle(state: &mut S, msg: &S, ctx: &Context)
            -> Result<S, HandlerError> {{
{body}
        }}
    }}
}}"
    )
}

fn rejected(body: &str) -> Vec<Diagnostic> {
    match transpile_str(&module(body)) {
        Ok(_) => panic!("accepted:\n{body}"),
        Err(d) => d,
    }
}

/// `(body, what the message says, the text at the reported position)`.
const CASES: &[(&str, &str, &str)] = &[
    ("let f = |x: u32| x; Ok(*state)", "closures", "|x"),
    (
        "#[cfg(any())] { state.a = 1; } Ok(*state)",
        "attributes inside a GPU function body",
        "#[cfg",
    ),
    ("println!(\"x\"); Ok(*state)", "macros", "println"),
    ("state.a = unsafe { 1 }; Ok(*state)", "`unsafe`", "unsafe"),
    ("let r = &state.a; Ok(*state)", "references", "&state"),
    ("let s = \"x\"; Ok(*state)", "strings", "\"x\""),
    (
        "state.a = state.a.pow(2); Ok(*state)",
        "`pow`",
        "state.a.pow",
    ),
    (
        "state.b = helper(1); Ok(*state)",
        "unsupported call",
        "helper",
    ),
    (
        "state.b = match msg.b { x @ 1 => x, _ => 1 }; Ok(*state)",
        "unsupported pattern",
        "x @ 1",
    ),
    (
        "state.b = match 1.5f32 { _ => 1 }; Ok(*state)",
        "integers and `bool`",
        "1.5f32",
    ),
    (
        "state.b = match msg.b { x if { state.c += 1; true } => x, _ => 1 }; Ok(*state)",
        "plain condition",
        "{ state",
    ),
    (
        "let v: Vec<u32> = Vec::new(); Ok(*state)",
        "unsupported type",
        "Vec",
    ),
    (
        "state.b = msg.b.checked_add(1).unwrap(); Ok(*state)",
        "`checked_*` gives an `Option`",
        "msg.b.checked_add",
    ),
    (
        "state.b = msg.b.checked_add(1).ok_or(HandlerError(1)); Ok(*state)",
        "followed by `?`",
        "msg.b.checked_add",
    ),
    (
        "state.b = u32::try_from(msg.a).map_err(|_| HandlerError(3))?; Ok(*state)",
        "unsupported `?`",
        "u32::try_from",
    ),
    (
        "Err(HandlerError(0))",
        "cannot be told apart",
        "HandlerError(0)",
    ),
    (
        "Err(HandlerError(msg.b))",
        "nonzero `u32` literal or a",
        "HandlerError(msg.b)",
    ),
    ("Err(HandlerError(super::OUT))", "unsupported path", "super"),
    (
        "Err(HandlerError(OUT))",
        "not visible to the transpiler",
        "OUT",
    ),
    (
        "for i in 0..=3 { state.b = i; } Ok(*state)",
        "`..=`",
        "0..=3",
    ),
    ("'a: loop { break 'a; } Ok(*state)", "loop labels", "'a"),
    (
        "loop { break 5; } Ok(*state)",
        "`break` with a label or a value",
        "break 5",
    ),
    ("msg.b = 1; Ok(*state)", "read-only", "msg.b"),
    ("msg.arr[0] = 1; Ok(*state)", "read-only", "msg.arr[0]"),
    (
        "state.arr = msg.arr; Ok(*state)",
        "whole arrays",
        "state.arr",
    ),
    (
        "state.b = state.arr; Ok(*state)",
        "can only be indexed",
        "state.arr",
    ),
    (
        "state.b = state.c[0]; Ok(*state)",
        "not an array",
        "state.c",
    ),
    (
        "state.b = ctx.self_id.0; Ok(*state)",
        "context fields",
        "ctx.self_id",
    ),
    (
        "state.b = state.b + 1u64; Ok(*state)",
        "type mismatch",
        "1u64",
    ),
    (
        "let x = 300; state.b = x; Ok(*state)",
        "type mismatch",
        "x;",
    ),
    (
        "state.b = 4294967296; Ok(*state)",
        "out of range",
        "4294967296",
    ),
    (
        "state.b = 1u8 as u32; Ok(*state)",
        "unsupported literal suffix",
        "1u8",
    ),
    ("Ok(Other { a: 1 })", "the reply type is `S`", "Other"),
    ("Ok(S { a: 1, b: 2, c: 3 })", "missing field `arr`", "S {"),
    (
        "Ok(S { a: 1, b: 2, c: 3, arr: [1, 2] })",
        "array of 4",
        "[1, 2]",
    ),
    ("state.b = 1;", "must end in `Ok(…)`", "{"),
    (
        "if state.b > 1 { Ok(*state) }",
        "the handler's result must be",
        "if state",
    ),
    (
        "let (x, y) = (1, 2); Ok(*state)",
        "unsupported pattern",
        "(x, y)",
    ),
    ("break; Ok(*state)", "outside a loop", "break"),
    (
        "state.b = if msg.b > 0 { 1 }; Ok(*state)",
        "needs an `else`",
        "if msg.b",
    ),
    (
        "if let Some(x) = msg.b.checked_add(1) { state.b = x; } Ok(*state)",
        "`if let`",
        "let Some",
    ),
    ("let t = (msg.b, 1); Ok(*state)", "tuples", "(msg.b, 1)"),
];

#[test]
fn each_rejected_construct_points_at_itself_with_a_reason() {
    for (body, says, at) in CASES {
        let diags = rejected(body);
        let d = &diags[0];
        assert!(
            d.message.contains(says),
            "{body}\n  expected a message containing {says:?}, got {:?}",
            d.message
        );
        // The body is line 12; find where `at` starts in it (1-based line, 0-based column).
        let start = d.span.start();
        if *at == "{" {
            // A handler-level problem is reported at the body's opening brace (line 11).
            assert_eq!(start.line, 11, "{body}: {d:?}");
            continue;
        }
        let col = body
            .find(at)
            .unwrap_or_else(|| panic!("{at:?} not in {body:?}"));
        assert_eq!(
            (start.line, start.column),
            (12, col),
            "{body}: {}",
            d.message
        );
    }
}

#[test]
fn struct_problems_are_all_reported_together() {
    let src = "mod m {
        pub struct S { pub a: u8, pub b: bool, pub arr: [u32; 65] }
        pub struct A;
        impl Actor for A {
            const NAME: &'static str = \"a\";
            type State = S; type Msg = S; type Reply = S;
            fn handle(s: &mut S, m: &S, c: &Context) -> Result<S, HandlerError> { Ok(*s) }
        }
    }";
    let diags = transpile_str(src).expect_err("rejected");
    let msgs: Vec<&str> = diags.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(diags.len(), 4, "{msgs:#?}");
    assert!(msgs[0].contains("`#[repr(C)]`"));
    assert!(
        msgs[1].contains("unsupported field type") && msgs[2].contains("unsupported field type")
    );
    assert!(msgs[3].contains("from 1 to 64"));
}

#[test]
fn module_level_problems() {
    let cases = [
        ("mod m;", "inline"),
        ("mod m { pub struct A; }", "no `impl Actor"),
        (
            "mod m { pub struct A; impl Actor for A { type State = u64; type Msg = u64; type Reply = u64;
               fn handle(s: &mut u64, m: &u64, c: &Context) -> Result<u64, HandlerError> { Ok(*s) } } }",
            "only sees structs defined inside",
        ),
        (
            "mod m { pub struct A; impl<T> Actor for A { } }",
            "generic actors",
        ),
        (
            "mod m { #[repr(C)] pub struct S { pub x: u32 } pub struct A; impl Actor for A {
               type State = S; type Msg = S; type Reply = S; } }",
            "needs `fn handle`",
        ),
    ];
    for (src, says) in cases {
        let diags = transpile_str(src)
            .err()
            .unwrap_or_else(|| panic!("accepted {src}"));
        assert!(
            diags[0].message.contains(says),
            "{src}: {:?}",
            diags[0].message
        );
    }
}

#[test]
fn supported_forms_are_accepted() {
    for body in [
        "let x = state.a.wrapping_mul(3); state.a = x; Ok(*state)",
        "state.b = u32::count_ones(msg.b) + msg.b.leading_zeros(); Ok(*state)",
        "let Some(v) = state.a.checked_sub(msg.a) else { return Err(HandlerError(K)); }; state.a = v; Ok(*state)",
        "state.b = msg.b.checked_mul(K).unwrap_or(u32::MAX); Ok(S { arr: [1, 2, 3, state.b], ..*state })",
        "let mut i = 0; while i < 4 { if state.arr[i] == 0 { i += 1; continue; } state.arr[i] -= 1; break; } Ok(*state)",
        "for _ in 0..msg.c { state.c = state.c.wrapping_add(1); } if state.c > 9 { Err(HandlerError(K + 1)) } else { Ok(*msg) }",
        "state.b = if ctx.sender.is_host() { ctx.self_id.raw() } else { ctx.sender.raw() }; Ok(S { arr: [state.b; 4], ..*msg })",
        "loop { return Ok(*state); }",
        "state.b = if msg.b > 0 { 0 } else { state.c }; Ok(*state)",
        "state.a = i64::saturating_sub(state.a, msg.a).saturating_mul(-3); state.b = msg.b.saturating_add(1); Ok(*state)",
        "state.b = match msg.b { 0 => 1, 1 | 2 => msg.c, 3..=9 if state.a > 0 => 7, n => n }; Ok(*state)",
        "let x: u32 = match state.a < 0 { true => 1, false => 2 }; state.b = x; Ok(*state)",
        "match msg.b { 0 => { state.b = 1; } _ => state.c = 2, } Ok(*state)",
        "match msg.b { 0 => Err(HandlerError(K)), 1..=5 => Ok(*msg), _ => Ok(*state) }",
    ] {
        if let Err(d) = transpile_str(&module(body)) {
            panic!("{body}\n{:?}", d.iter().map(|d| &d.message).collect::<Vec<_>>());
        }
    }
}
