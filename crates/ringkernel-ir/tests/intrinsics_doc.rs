//! `docs/intrinsics.md` is generated from the intrinsic table; this test fails when it is stale.
//! Regenerate with `UPDATE_DOCS=1 cargo test -p ringkernel-ir --test intrinsics_doc`.

use std::path::PathBuf;

#[test]
fn committed_intrinsics_doc_is_up_to_date() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/intrinsics.md");
    let rendered = ringkernel_ir::intrinsics::render_markdown();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &rendered).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == rendered,
        "docs/intrinsics.md is stale: run `UPDATE_DOCS=1 cargo test -p ringkernel-ir --test intrinsics_doc`"
    );
}

#[test]
fn rendered_doc_lists_every_intrinsic_once() {
    let md = ringkernel_ir::intrinsics::render_markdown();
    for i in ringkernel_ir::intrinsics::TABLE {
        assert_eq!(
            md.matches(&format!("| `{}` |", i.name)).count(),
            1,
            "{}",
            i.name
        );
    }
    assert!(md.contains("| `match_any_sync_u32` | `(u32, u32) -> u32` | `gpu::match_any_sync(mask, v)` | `__match_any_sync({0}, {1})` | 7.0 | no | - |"));
    assert!(md
        .contains("| `sqrt_f32` | `(f32) -> f32` | `x.sqrt()` | `sqrtf({0})` | 3.0 | yes | yes |"));
}
