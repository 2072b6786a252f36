//! The device intrinsic table: one row per intrinsic, read by the verifier (signatures), the
//! passes (purity), the emitter (CUDA form) and [`render_markdown`] (`docs/intrinsics.md`, checked
//! up to date by a test).
//!
//! Names are type-suffixed (`atomic_add_u32`, `sqrt_f32`): the IR has no overloading, so each row
//! has exactly one signature. A CUDA form is a template: `{0}`, `{1}`, … are replaced by the
//! (parenthesised) arguments, each exactly once so that arguments are evaluated exactly once.
//! Float math follows CUDA's accuracy (e.g. `sinf` within 2 ulp), which may differ from the host's
//! libm in the last bits; the differential tests compare floats with a tolerance for that reason.

use crate::ir::ScalarType;

/// A parameter type of an intrinsic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    /// A scalar passed by value.
    Scalar(ScalarType),
    /// A `*mut` pointer to a scalar (atomics).
    PtrMut(ScalarType),
}

/// What kind of intrinsic a row is (groups the rendered table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Category {
    /// `f32`/`f64` math.
    FloatMath,
    /// Integer helpers.
    Integer,
    /// Atomic read-modify-write on global or shared memory.
    Atomic,
    /// Warp-level primitives.
    Warp,
    /// Barriers and fences.
    Sync,
    /// Thread/block/grid indices.
    Index,
    /// Clocks and timers.
    Clock,
    /// Messages to other actors on the device (K2K).
    Messaging,
}

impl Category {
    fn title(self) -> &'static str {
        match self {
            Self::FloatMath => "Float math",
            Self::Integer => "Integer",
            Self::Atomic => "Atomics",
            Self::Warp => "Warp",
            Self::Sync => "Synchronisation",
            Self::Index => "Indices",
            Self::Clock => "Clocks",
            Self::Messaging => "Messaging (K2K)",
        }
    }
}

/// One intrinsic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Intrinsic {
    /// IR name (what `Expr::Call` names).
    pub name: &'static str,
    /// How a handler writes it in Rust (`gpu::` is the device-only module).
    pub rust: &'static str,
    /// CUDA C template; `{i}` is argument `i`.
    pub cuda: &'static str,
    /// Parameter types.
    pub params: &'static [ParamType],
    /// Return type; `None` for `void`.
    pub ret: Option<ScalarType>,
    /// Lowest compute capability (major * 10 + minor) that has it.
    pub min_cc: u32,
    /// True when a call has no effect besides its value (may be deleted if unused).
    pub pure: bool,
    /// Table group.
    pub category: Category,
}

mod native;
mod table;

pub use native::eval_native;
pub use table::TABLE;
use ParamType::{PtrMut as M, Scalar as S};

/// The row named `name`.
pub fn lookup(name: &str) -> Option<&'static Intrinsic> {
    TABLE.iter().find(|i| i.name == name)
}

impl Intrinsic {
    /// Substitutes already-emitted argument strings into the CUDA template.
    pub fn render_cuda(&self, args: &[String]) -> String {
        let mut out = self.cuda.to_string();
        for (i, a) in args.iter().enumerate() {
            out = out.replace(&format!("{{{i}}}"), a);
        }
        out
    }

    /// True when the CUDA form uses cooperative groups (grid or cluster); the emitter then puts
    /// `#include <cooperative_groups.h>` at the top of the module.
    pub fn needs_cooperative_groups(&self) -> bool {
        self.cuda.contains("cooperative_groups::")
    }

    /// True when the CUDA form calls the persistent kernel's device runtime
    /// (`ringkernel-cuda/kernels/runtime.cuh`): usable only in ring mode ([`crate::kernel::ring`]),
    /// whose handler is compiled inside that translation unit.
    pub fn needs_ring_runtime(&self) -> bool {
        self.cuda.contains("rk_hlc_") || self.cuda.contains("rk_k2k_")
    }

    /// True when [`eval_native`] gives this row a CPU meaning (so [`crate::interp`] can run it).
    pub fn has_native_ref(&self) -> bool {
        let args: Vec<crate::ir::Literal> = self
            .params
            .iter()
            .map(|p| {
                let s = match p {
                    S(s) | M(s) => *s,
                };
                match s {
                    ScalarType::Bool => crate::ir::Literal::Bool(true),
                    ScalarType::F32 => crate::ir::Literal::F32(0.5),
                    ScalarType::F64 => crate::ir::Literal::F64(0.5),
                    int => crate::ir::Literal::int_wrapping(int, 1)
                        .unwrap_or(crate::ir::Literal::U32(1)),
                }
            })
            .collect();
        self.pure && eval_native(self.name, &args).is_some()
    }

    /// `fn(*mut u32, u32) -> u32`-style signature for docs.
    pub fn signature(&self) -> String {
        let params: Vec<String> = self
            .params
            .iter()
            .map(|p| match p {
                S(s) => s.rust_name().to_string(),
                M(s) => format!("*mut {s}"),
            })
            .collect();
        let ret = self.ret.map_or("()", ScalarType::rust_name);
        format!("({}) -> {ret}", params.join(", "))
    }
}

/// Renders the whole table as Markdown: the content of `docs/intrinsics.md`.
pub fn render_markdown() -> String {
    let mut out = String::new();
    out.push_str("# Device intrinsics\n\n");
    out.push_str(
        "Generated from `crates/ringkernel-ir/src/intrinsics.rs` by \
         `cargo test -p ringkernel-ir --test intrinsics_doc` (set `UPDATE_DOCS=1` to rewrite); \
         do not edit by hand.\n\n",
    );
    out.push_str(&format!(
        "{} intrinsics. `{{0}}`, `{{1}}`, … in a CUDA form are the arguments. \
         \"Min CC\" is the lowest compute capability that has the intrinsic; the project targets \
         9.0 (Hopper). \"Pure\" intrinsics may be removed when their value is unused. \
         Forms that use `cooperative_groups::` make the emitter include `<cooperative_groups.h>`; \
         `hlc_local` and `k2k_tell_u64` exist only in ring-mode handlers (the persistent \
         kernel's runtime defines them; `k2k_tell_u64` returns 0 when delivered, 1 when the \
         target's inbox is full, 2 when the message became a dead letter). Every row is compiled for sm_90 by \
         `cargo test -p ringkernel-ir --test nvrtc_compile`. \
         \"CPU ref\" rows have a host implementation (`intrinsics::eval_native`) that the \
         interpreter uses: exact for integer, bit, rounding, classification and bit-cast rows; \
         transcendental rows differ from CUDA's in the last ulps (compare with a relative \
         tolerance of 1e-5 for f32, 1e-12 for f64; `fast_*` rows only to about 2^-21 absolute).\n",
        TABLE.len()
    ));
    let mut cats: Vec<Category> = TABLE.iter().map(|i| i.category).collect();
    cats.dedup();
    for cat in cats {
        out.push_str(&format!("\n## {}\n\n", cat.title()));
        out.push_str("| IR name | Signature | Rust form | CUDA form | Min CC | Pure | CPU ref |\n");
        out.push_str("|---|---|---|---|---|---|---|\n");
        for i in TABLE.iter().filter(|i| i.category == cat) {
            out.push_str(&format!(
                "| `{}` | `{}` | `{}` | `{}` | {}.{} | {} | {} |\n",
                i.name,
                i.signature(),
                i.rust,
                i.cuda.replace('|', "\\|"),
                i.min_cc / 10,
                i.min_cc % 10,
                if i.pure { "yes" } else { "no" },
                if i.has_native_ref() { "yes" } else { "-" }
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_templates_use_every_argument_once() {
        for (k, i) in TABLE.iter().enumerate() {
            assert!(
                TABLE[k + 1..].iter().all(|j| j.name != i.name),
                "duplicate {}",
                i.name
            );
            for a in 0..i.params.len() {
                assert_eq!(i.cuda.matches(&format!("{{{a}}}")).count(), 1, "{}", i.name);
            }
            assert!(!i.cuda.contains(&format!("{{{}}}", i.params.len())));
        }
        assert!(TABLE.len() >= 160, "{}", TABLE.len());
    }

    #[test]
    fn render_substitutes_arguments() {
        let i = lookup("atomic_cas_u32").unwrap();
        assert_eq!(
            i.render_cuda(&["(p)".into(), "(1u)".into(), "(2u)".into()]),
            "atomicCAS((p), (1u), (2u))"
        );
        assert_eq!(i.signature(), "(*mut u32, u32, u32) -> u32");
        assert!(lookup("no_such").is_none());
    }
}
