//! The device intrinsic table: one row per intrinsic, read by the verifier (signatures), the
//! passes (purity), the emitter (CUDA form) and [`render_markdown`] (`docs/intrinsics.md`, checked
//! up to date by a test).
//!
//! Names are type-suffixed (`atomic_add_u32`, `sqrt_f32`): the IR has no overloading, so each row
//! has exactly one signature. A CUDA form is a template: `{0}`, `{1}`, … are replaced by the
//! (parenthesised) arguments, each exactly once so that arguments are evaluated exactly once.
//! Float math follows CUDA's accuracy (e.g. `sinf` within 2 ulp), which may differ from the host's
//! libm in the last bits; the differential tests compare floats with a tolerance for that reason.

use crate::ir::ScalarType::{self, Bool, F32, F64, I32, I64, U32, U64};

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

use Category as C;
use ParamType::{PtrMut as M, Scalar as S};

#[allow(clippy::too_many_arguments)] // a table row; named fields would triple the table's size
const fn row(
    name: &'static str,
    rust: &'static str,
    cuda: &'static str,
    params: &'static [ParamType],
    ret: Option<ScalarType>,
    min_cc: u32,
    pure: bool,
    category: Category,
) -> Intrinsic {
    Intrinsic {
        name,
        rust,
        cuda,
        params,
        ret,
        min_cc,
        pure,
        category,
    }
}

#[rustfmt::skip]
const fn math(name: &'static str, rust: &'static str, cuda: &'static str, params: &'static [ParamType], ret: ScalarType) -> Intrinsic {
    row(name, rust, cuda, params, Some(ret), 30, true, C::FloatMath)
}

#[rustfmt::skip]
const fn int(name: &'static str, rust: &'static str, cuda: &'static str, params: &'static [ParamType], ret: ScalarType) -> Intrinsic {
    row(name, rust, cuda, params, Some(ret), 30, true, C::Integer)
}

#[rustfmt::skip]
const fn atomic(name: &'static str, rust: &'static str, cuda: &'static str, params: &'static [ParamType], ret: ScalarType, min_cc: u32) -> Intrinsic {
    row(name, rust, cuda, params, Some(ret), min_cc, false, C::Atomic)
}

#[rustfmt::skip]
const fn index(name: &'static str, rust: &'static str, cuda: &'static str) -> Intrinsic {
    row(name, rust, cuda, &[], Some(U32), 30, true, C::Index)
}

const F1: &[ParamType] = &[S(F32)];
const F2: &[ParamType] = &[S(F32), S(F32)];
const F3: &[ParamType] = &[S(F32), S(F32), S(F32)];
const D1: &[ParamType] = &[S(F64)];
const D2: &[ParamType] = &[S(F64), S(F64)];
const D3: &[ParamType] = &[S(F64), S(F64), S(F64)];

/// The table, in rendered order.
#[rustfmt::skip]
pub const TABLE: &[Intrinsic] = &[
    // Float math (f32)
    math("sqrt_f32", "x.sqrt()", "sqrtf({0})", F1, F32),
    math("sin_f32", "x.sin()", "sinf({0})", F1, F32),
    math("cos_f32", "x.cos()", "cosf({0})", F1, F32),
    math("tan_f32", "x.tan()", "tanf({0})", F1, F32),
    math("exp_f32", "x.exp()", "expf({0})", F1, F32),
    math("exp2_f32", "x.exp2()", "exp2f({0})", F1, F32),
    math("ln_f32", "x.ln()", "logf({0})", F1, F32),
    math("log2_f32", "x.log2()", "log2f({0})", F1, F32),
    math("abs_f32", "x.abs()", "fabsf({0})", F1, F32),
    math("min_f32", "x.min(y)", "fminf({0}, {1})", F2, F32),
    math("max_f32", "x.max(y)", "fmaxf({0}, {1})", F2, F32),
    math("floor_f32", "x.floor()", "floorf({0})", F1, F32),
    math("ceil_f32", "x.ceil()", "ceilf({0})", F1, F32),
    math("round_f32", "x.round()", "roundf({0})", F1, F32),
    math("trunc_f32", "x.trunc()", "truncf({0})", F1, F32),
    math("mul_add_f32", "x.mul_add(y, z)", "fmaf({0}, {1}, {2})", F3, F32),
    math("powf_f32", "x.powf(y)", "powf({0}, {1})", F2, F32),
    // Float math (f64)
    math("sqrt_f64", "x.sqrt()", "sqrt({0})", D1, F64),
    math("sin_f64", "x.sin()", "sin({0})", D1, F64),
    math("cos_f64", "x.cos()", "cos({0})", D1, F64),
    math("exp_f64", "x.exp()", "exp({0})", D1, F64),
    math("ln_f64", "x.ln()", "log({0})", D1, F64),
    math("abs_f64", "x.abs()", "fabs({0})", D1, F64),
    math("min_f64", "x.min(y)", "fmin({0}, {1})", D2, F64),
    math("max_f64", "x.max(y)", "fmax({0}, {1})", D2, F64),
    math("floor_f64", "x.floor()", "floor({0})", D1, F64),
    math("ceil_f64", "x.ceil()", "ceil({0})", D1, F64),
    math("mul_add_f64", "x.mul_add(y, z)", "fma({0}, {1}, {2})", D3, F64),
    math("powf_f64", "x.powf(y)", "pow({0}, {1})", D2, F64),
    // Integer
    int("min_i32", "x.min(y)", "min({0}, {1})", &[S(I32), S(I32)], I32),
    int("max_i32", "x.max(y)", "max({0}, {1})", &[S(I32), S(I32)], I32),
    int("min_u32", "x.min(y)", "umin({0}, {1})", &[S(U32), S(U32)], U32),
    int("max_u32", "x.max(y)", "umax({0}, {1})", &[S(U32), S(U32)], U32),
    int("min_i64", "x.min(y)", "llmin({0}, {1})", &[S(I64), S(I64)], I64),
    int("max_i64", "x.max(y)", "llmax({0}, {1})", &[S(I64), S(I64)], I64),
    int("min_u64", "x.min(y)", "ullmin({0}, {1})", &[S(U64), S(U64)], U64),
    int("max_u64", "x.max(y)", "ullmax({0}, {1})", &[S(U64), S(U64)], U64),
    // `abs(INT_MIN)` is undefined in C; the prelude helper wraps like Rust's `wrapping_abs`.
    int("wrapping_abs_i32", "x.wrapping_abs()", "rk_wrapping_abs_i32({0})", &[S(I32)], I32),
    int("wrapping_abs_i64", "x.wrapping_abs()", "rk_wrapping_abs_i64({0})", &[S(I64)], I64),
    // CUDA returns `int` where Rust returns `u32`; the cast makes the IR type exact.
    int("count_ones_u32", "x.count_ones()", "((unsigned int)__popc({0}))", &[S(U32)], U32),
    int("count_ones_u64", "x.count_ones()", "((unsigned int)__popcll({0}))", &[S(U64)], U32),
    int("leading_zeros_u32", "x.leading_zeros()", "((unsigned int)__clz((int){0}))", &[S(U32)], U32),
    int("leading_zeros_u64", "x.leading_zeros()", "((unsigned int)__clzll((long long){0}))", &[S(U64)], U32),
    int("reverse_bits_u32", "x.reverse_bits()", "__brev({0})", &[S(U32)], U32),
    int("reverse_bits_u64", "x.reverse_bits()", "__brevll({0})", &[S(U64)], U64),
    int("ffs_u32", "gpu::ffs(x)", "((unsigned int)__ffs((int){0}))", &[S(U32)], U32),
    int("ffs_u64", "gpu::ffs(x)", "((unsigned int)__ffsll((long long){0}))", &[S(U64)], U32),
    // Atomics: return the old value.
    atomic("atomic_add_u32", "gpu::atomic_add(p, v)", "atomicAdd({0}, {1})", &[M(U32), S(U32)], U32, 30),
    atomic("atomic_add_u64", "gpu::atomic_add(p, v)", "atomicAdd({0}, {1})", &[M(U64), S(U64)], U64, 30),
    atomic("atomic_add_i32", "gpu::atomic_add(p, v)", "atomicAdd({0}, {1})", &[M(I32), S(I32)], I32, 30),
    atomic("atomic_add_f32", "gpu::atomic_add(p, v)", "atomicAdd({0}, {1})", &[M(F32), S(F32)], F32, 30),
    atomic("atomic_add_f64", "gpu::atomic_add(p, v)", "atomicAdd({0}, {1})", &[M(F64), S(F64)], F64, 60),
    atomic("atomic_sub_u32", "gpu::atomic_sub(p, v)", "atomicSub({0}, {1})", &[M(U32), S(U32)], U32, 30),
    atomic("atomic_sub_i32", "gpu::atomic_sub(p, v)", "atomicSub({0}, {1})", &[M(I32), S(I32)], I32, 30),
    atomic("atomic_min_u32", "gpu::atomic_min(p, v)", "atomicMin({0}, {1})", &[M(U32), S(U32)], U32, 30),
    atomic("atomic_min_i32", "gpu::atomic_min(p, v)", "atomicMin({0}, {1})", &[M(I32), S(I32)], I32, 30),
    atomic("atomic_min_u64", "gpu::atomic_min(p, v)", "atomicMin({0}, {1})", &[M(U64), S(U64)], U64, 35),
    atomic("atomic_max_u32", "gpu::atomic_max(p, v)", "atomicMax({0}, {1})", &[M(U32), S(U32)], U32, 30),
    atomic("atomic_max_i32", "gpu::atomic_max(p, v)", "atomicMax({0}, {1})", &[M(I32), S(I32)], I32, 30),
    atomic("atomic_max_u64", "gpu::atomic_max(p, v)", "atomicMax({0}, {1})", &[M(U64), S(U64)], U64, 35),
    atomic("atomic_and_u32", "gpu::atomic_and(p, v)", "atomicAnd({0}, {1})", &[M(U32), S(U32)], U32, 30),
    atomic("atomic_or_u32", "gpu::atomic_or(p, v)", "atomicOr({0}, {1})", &[M(U32), S(U32)], U32, 30),
    atomic("atomic_xor_u32", "gpu::atomic_xor(p, v)", "atomicXor({0}, {1})", &[M(U32), S(U32)], U32, 30),
    atomic("atomic_and_u64", "gpu::atomic_and(p, v)", "atomicAnd({0}, {1})", &[M(U64), S(U64)], U64, 35),
    atomic("atomic_or_u64", "gpu::atomic_or(p, v)", "atomicOr({0}, {1})", &[M(U64), S(U64)], U64, 35),
    atomic("atomic_exch_u32", "gpu::atomic_exch(p, v)", "atomicExch({0}, {1})", &[M(U32), S(U32)], U32, 30),
    atomic("atomic_exch_u64", "gpu::atomic_exch(p, v)", "atomicExch({0}, {1})", &[M(U64), S(U64)], U64, 30),
    atomic("atomic_exch_f32", "gpu::atomic_exch(p, v)", "atomicExch({0}, {1})", &[M(F32), S(F32)], F32, 30),
    atomic("atomic_cas_u32", "gpu::atomic_cas(p, current, new)", "atomicCAS({0}, {1}, {2})", &[M(U32), S(U32), S(U32)], U32, 30),
    atomic("atomic_cas_u64", "gpu::atomic_cas(p, current, new)", "atomicCAS({0}, {1}, {2})", &[M(U64), S(U64), S(U64)], U64, 30),
    // Warp primitives: impure because they synchronise the lanes named in the mask.
    row("shfl_sync_u32", "gpu::shfl_sync(mask, v, lane)", "__shfl_sync({0}, {1}, {2})", &[S(U32), S(U32), S(I32)], Some(U32), 30, false, C::Warp),
    row("shfl_sync_f32", "gpu::shfl_sync(mask, v, lane)", "__shfl_sync({0}, {1}, {2})", &[S(U32), S(F32), S(I32)], Some(F32), 30, false, C::Warp),
    row("shfl_down_sync_u32", "gpu::shfl_down_sync(mask, v, delta)", "__shfl_down_sync({0}, {1}, {2})", &[S(U32), S(U32), S(U32)], Some(U32), 30, false, C::Warp),
    row("shfl_down_sync_f32", "gpu::shfl_down_sync(mask, v, delta)", "__shfl_down_sync({0}, {1}, {2})", &[S(U32), S(F32), S(U32)], Some(F32), 30, false, C::Warp),
    row("shfl_xor_sync_u32", "gpu::shfl_xor_sync(mask, v, lane_mask)", "__shfl_xor_sync({0}, {1}, {2})", &[S(U32), S(U32), S(I32)], Some(U32), 30, false, C::Warp),
    row("shfl_xor_sync_f32", "gpu::shfl_xor_sync(mask, v, lane_mask)", "__shfl_xor_sync({0}, {1}, {2})", &[S(U32), S(F32), S(I32)], Some(F32), 30, false, C::Warp),
    row("ballot_sync", "gpu::ballot_sync(mask, pred)", "__ballot_sync({0}, {1})", &[S(U32), S(Bool)], Some(U32), 30, false, C::Warp),
    row("all_sync", "gpu::all_sync(mask, pred)", "(__all_sync({0}, {1}) != 0)", &[S(U32), S(Bool)], Some(Bool), 30, false, C::Warp),
    row("any_sync", "gpu::any_sync(mask, pred)", "(__any_sync({0}, {1}) != 0)", &[S(U32), S(Bool)], Some(Bool), 30, false, C::Warp),
    row("match_any_sync_u32", "gpu::match_any_sync(mask, v)", "__match_any_sync({0}, {1})", &[S(U32), S(U32)], Some(U32), 70, false, C::Warp),
    // Barriers and fences.
    row("sync_threads", "gpu::sync_threads()", "__syncthreads()", &[], None, 30, false, C::Sync),
    row("sync_warp", "gpu::sync_warp(mask)", "__syncwarp({0})", &[S(U32)], None, 30, false, C::Sync),
    row("thread_fence", "gpu::thread_fence()", "__threadfence()", &[], None, 30, false, C::Sync),
    row("thread_fence_block", "gpu::thread_fence_block()", "__threadfence_block()", &[], None, 30, false, C::Sync),
    row("thread_fence_system", "gpu::thread_fence_system()", "__threadfence_system()", &[], None, 30, false, C::Sync),
    // Indices.
    index("thread_idx_x", "gpu::thread_idx_x()", "threadIdx.x"),
    index("thread_idx_y", "gpu::thread_idx_y()", "threadIdx.y"),
    index("thread_idx_z", "gpu::thread_idx_z()", "threadIdx.z"),
    index("block_idx_x", "gpu::block_idx_x()", "blockIdx.x"),
    index("block_idx_y", "gpu::block_idx_y()", "blockIdx.y"),
    index("block_idx_z", "gpu::block_idx_z()", "blockIdx.z"),
    index("block_dim_x", "gpu::block_dim_x()", "blockDim.x"),
    index("block_dim_y", "gpu::block_dim_y()", "blockDim.y"),
    index("block_dim_z", "gpu::block_dim_z()", "blockDim.z"),
    index("grid_dim_x", "gpu::grid_dim_x()", "gridDim.x"),
    index("grid_dim_y", "gpu::grid_dim_y()", "gridDim.y"),
    index("grid_dim_z", "gpu::grid_dim_z()", "gridDim.z"),
    // The lane is the linear thread index within the block modulo the warp size.
    index("lane_id", "gpu::lane_id()", "(((threadIdx.z * blockDim.y + threadIdx.y) * blockDim.x + threadIdx.x) & 31u)"),
    // Clocks: impure (two reads differ).
    row("clock64", "gpu::clock64()", "((unsigned long long)clock64())", &[], Some(U64), 30, false, C::Clock),
    row("global_timer_ns", "gpu::global_timer_ns()", "rk_globaltimer()", &[], Some(U64), 30, false, C::Clock),
];

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
         9.0 (Hopper). \"Pure\" intrinsics may be removed when their value is unused.\n",
        TABLE.len()
    ));
    let mut cats: Vec<Category> = TABLE.iter().map(|i| i.category).collect();
    cats.dedup();
    for cat in cats {
        out.push_str(&format!("\n## {}\n\n", cat.title()));
        out.push_str("| IR name | Signature | Rust form | CUDA form | Min CC | Pure |\n");
        out.push_str("|---|---|---|---|---|---|\n");
        for i in TABLE.iter().filter(|i| i.category == cat) {
            out.push_str(&format!(
                "| `{}` | `{}` | `{}` | `{}` | {}.{} | {} |\n",
                i.name,
                i.signature(),
                i.rust,
                i.cuda.replace('|', "\\|"),
                i.min_cc / 10,
                i.min_cc % 10,
                if i.pure { "yes" } else { "no" }
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
        assert!(TABLE.len() >= 40);
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
