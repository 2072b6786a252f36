//! UI tests: what compiles, and the exact errors for what must not.
//!
//! The test crates name ringkernel-core with `#[message(crate = ...)]` / `#[gpu_actor(crate = ...)]`
//! (`gpu_*` files: one construct outside the transpiler's subset each) so trybuild need not build
//! the facade (tokio, cudarc, clap) for them; the facade's default path is exercised by
//! `crates/ringkernel/tests/derive_message.rs`. Regenerate the `.stderr` files with
//! `TRYBUILD=overwrite cargo test -p ringkernel-derive --test ui` on the pinned rustc, then review.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
