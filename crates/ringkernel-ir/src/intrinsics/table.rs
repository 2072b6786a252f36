//! The rows of [`super::TABLE`], grouped as rendered. Each CUDA form is checked by the NVRTC test
//! (`tests/nvrtc_compile.rs`, every row in one sm_90 module), so a row cannot name a function
//! that does not exist.

use super::{Category, Intrinsic, ParamType};
use crate::ir::ScalarType::{self, Bool, F32, F64, I32, I64, U32, U64};
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
    math("asin_f32", "x.asin()", "asinf({0})", F1, F32),
    math("acos_f32", "x.acos()", "acosf({0})", F1, F32),
    math("atan_f32", "x.atan()", "atanf({0})", F1, F32),
    math("atan2_f32", "y.atan2(x)", "atan2f({0}, {1})", F2, F32),
    math("sinh_f32", "x.sinh()", "sinhf({0})", F1, F32),
    math("cosh_f32", "x.cosh()", "coshf({0})", F1, F32),
    math("tanh_f32", "x.tanh()", "tanhf({0})", F1, F32),
    math("exp_m1_f32", "x.exp_m1()", "expm1f({0})", F1, F32),
    math("ln_1p_f32", "x.ln_1p()", "log1pf({0})", F1, F32),
    math("log10_f32", "x.log10()", "log10f({0})", F1, F32),
    math("cbrt_f32", "x.cbrt()", "cbrtf({0})", F1, F32),
    math("hypot_f32", "x.hypot(y)", "hypotf({0}, {1})", F2, F32),
    math("copysign_f32", "x.copysign(y)", "copysignf({0}, {1})", F2, F32),
    math("round_ties_even_f32", "x.round_ties_even()", "rintf({0})", F1, F32),
    // Correctly rounded, so bit-identical to the host's `1.0 / x`.
    math("recip_f32", "x.recip()", "__frcp_rn({0})", F1, F32),
    math("rsqrt_f32", "gpu::rsqrt(x)", "rsqrtf({0})", F1, F32),
    // Clamps to [0, 1]; NaN gives 0 (where `clamp` would keep NaN).
    math("saturate_f32", "gpu::saturate(x)", "__saturatef({0})", F1, F32),
    // Fast hardware approximations (see the CUDA programming guide for their error bounds).
    math("fast_sin_f32", "gpu::fast_sin(x)", "__sinf({0})", F1, F32),
    math("fast_cos_f32", "gpu::fast_cos(x)", "__cosf({0})", F1, F32),
    math("fast_exp_f32", "gpu::fast_exp(x)", "__expf({0})", F1, F32),
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
    math("tan_f64", "x.tan()", "tan({0})", D1, F64),
    math("exp2_f64", "x.exp2()", "exp2({0})", D1, F64),
    math("log2_f64", "x.log2()", "log2({0})", D1, F64),
    math("log10_f64", "x.log10()", "log10({0})", D1, F64),
    math("round_f64", "x.round()", "round({0})", D1, F64),
    math("trunc_f64", "x.trunc()", "trunc({0})", D1, F64),
    math("round_ties_even_f64", "x.round_ties_even()", "rint({0})", D1, F64),
    math("asin_f64", "x.asin()", "asin({0})", D1, F64),
    math("acos_f64", "x.acos()", "acos({0})", D1, F64),
    math("atan_f64", "x.atan()", "atan({0})", D1, F64),
    math("atan2_f64", "y.atan2(x)", "atan2({0}, {1})", D2, F64),
    math("sinh_f64", "x.sinh()", "sinh({0})", D1, F64),
    math("cosh_f64", "x.cosh()", "cosh({0})", D1, F64),
    math("tanh_f64", "x.tanh()", "tanh({0})", D1, F64),
    math("exp_m1_f64", "x.exp_m1()", "expm1({0})", D1, F64),
    math("ln_1p_f64", "x.ln_1p()", "log1p({0})", D1, F64),
    math("cbrt_f64", "x.cbrt()", "cbrt({0})", D1, F64),
    math("hypot_f64", "x.hypot(y)", "hypot({0}, {1})", D2, F64),
    math("copysign_f64", "x.copysign(y)", "copysign({0}, {1})", D2, F64),
    math("recip_f64", "x.recip()", "__drcp_rn({0})", D1, F64),
    math("rsqrt_f64", "gpu::rsqrt(x)", "rsqrt({0})", D1, F64),
    // Bit casts and classification (exact).
    math("to_bits_f32", "x.to_bits()", "__float_as_uint({0})", F1, U32),
    math("from_bits_f32", "f32::from_bits(x)", "__uint_as_float({0})", &[S(U32)], F32),
    math("to_bits_f64", "x.to_bits()", "((unsigned long long)__double_as_longlong({0}))", D1, U64),
    math("from_bits_f64", "f64::from_bits(x)", "__longlong_as_double((long long){0})", &[S(U64)], F64),
    math("is_nan_f32", "x.is_nan()", "(isnan({0}) != 0)", F1, Bool),
    math("is_nan_f64", "x.is_nan()", "(isnan({0}) != 0)", D1, Bool),
    math("is_finite_f32", "x.is_finite()", "(isfinite({0}) != 0)", F1, Bool),
    math("is_finite_f64", "x.is_finite()", "(isfinite({0}) != 0)", D1, Bool),
    math("is_infinite_f32", "x.is_infinite()", "(isinf({0}) != 0)", F1, Bool),
    math("is_infinite_f64", "x.is_infinite()", "(isinf({0}) != 0)", D1, Bool),
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
    // Rust returns the width for 0; `__ffs` would give 0 - 1, so a prelude helper handles it.
    int("trailing_zeros_u32", "x.trailing_zeros()", "rk_trailing_zeros_u32({0})", &[S(U32)], U32),
    int("trailing_zeros_u64", "x.trailing_zeros()", "rk_trailing_zeros_u64({0})", &[S(U64)], U32),
    int("rotate_left_u32", "x.rotate_left(n)", "rk_rotl_u32({0}, {1})", &[S(U32), S(U32)], U32),
    int("rotate_right_u32", "x.rotate_right(n)", "rk_rotr_u32({0}, {1})", &[S(U32), S(U32)], U32),
    int("rotate_left_u64", "x.rotate_left(n)", "rk_rotl_u64({0}, {1})", &[S(U64), S(U32)], U64),
    int("rotate_right_u64", "x.rotate_right(n)", "rk_rotr_u64({0}, {1})", &[S(U64), S(U32)], U64),
    int("swap_bytes_u32", "x.swap_bytes()", "__byte_perm({0}, 0u, 0x0123u)", &[S(U32)], U32),
    int("swap_bytes_u64", "x.swap_bytes()", "rk_swap_bytes_u64({0})", &[S(U64)], U64),
    // High half of the full product (`((x as u64 * y as u64) >> 32) as u32` and friends).
    int("mul_hi_u32", "gpu::mul_hi(x, y)", "__umulhi({0}, {1})", &[S(U32), S(U32)], U32),
    int("mul_hi_i32", "gpu::mul_hi(x, y)", "__mulhi({0}, {1})", &[S(I32), S(I32)], I32),
    int("mul_hi_u64", "gpu::mul_hi(x, y)", "__umul64hi({0}, {1})", &[S(U64), S(U64)], U64),
    int("mul_hi_i64", "gpu::mul_hi(x, y)", "__mul64hi({0}, {1})", &[S(I64), S(I64)], I64),
    int("abs_diff_u32", "x.abs_diff(y)", "__usad({0}, {1}, 0u)", &[S(U32), S(U32)], U32),
    int("abs_diff_i32", "x.abs_diff(y)", "__sad({0}, {1}, 0u)", &[S(I32), S(I32)], U32),
    // Halving adds without overflow: `(x + y) >> 1` and `(x + y + 1) >> 1` in a wider type.
    int("hadd_u32", "gpu::hadd(x, y)", "__uhadd({0}, {1})", &[S(U32), S(U32)], U32),
    int("rhadd_u32", "gpu::rhadd(x, y)", "__urhadd({0}, {1})", &[S(U32), S(U32)], U32),
    int("hadd_i32", "gpu::hadd(x, y)", "__hadd({0}, {1})", &[S(I32), S(I32)], I32),
    int("byte_perm_u32", "gpu::byte_perm(x, y, selector)", "__byte_perm({0}, {1}, {2})", &[S(U32), S(U32), S(U32)], U32),
    // The 64-bit value hi:lo shifted by `shift & 31`; the high (left) or low (right) word.
    int("funnel_shl_u32", "gpu::funnel_shl(lo, hi, shift)", "__funnelshift_l({0}, {1}, {2})", &[S(U32), S(U32), S(U32)], U32),
    int("funnel_shr_u32", "gpu::funnel_shr(lo, hi, shift)", "__funnelshift_r({0}, {1}, {2})", &[S(U32), S(U32), S(U32)], U32),
    // Four signed-byte products summed into `c` (wrapping).
    row("dp4a_i32", "gpu::dp4a(a, b, c)", "__dp4a({0}, {1}, {2})", &[S(I32), S(I32), S(I32)], Some(I32), 61, true, C::Integer),
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
    atomic("atomic_and_i32", "gpu::atomic_and(p, v)", "atomicAnd({0}, {1})", &[M(I32), S(I32)], I32, 30),
    atomic("atomic_or_i32", "gpu::atomic_or(p, v)", "atomicOr({0}, {1})", &[M(I32), S(I32)], I32, 30),
    atomic("atomic_xor_i32", "gpu::atomic_xor(p, v)", "atomicXor({0}, {1})", &[M(I32), S(I32)], I32, 30),
    atomic("atomic_xor_u64", "gpu::atomic_xor(p, v)", "atomicXor({0}, {1})", &[M(U64), S(U64)], U64, 35),
    atomic("atomic_min_i64", "gpu::atomic_min(p, v)", "atomicMin({0}, {1})", &[M(I64), S(I64)], I64, 35),
    atomic("atomic_max_i64", "gpu::atomic_max(p, v)", "atomicMax({0}, {1})", &[M(I64), S(I64)], I64, 35),
    atomic("atomic_exch_i32", "gpu::atomic_exch(p, v)", "atomicExch({0}, {1})", &[M(I32), S(I32)], I32, 30),
    atomic("atomic_cas_i32", "gpu::atomic_cas(p, current, new)", "atomicCAS({0}, {1}, {2})", &[M(I32), S(I32), S(I32)], I32, 30),
    // `old >= limit ? 0 : old + 1` and `(old == 0 || old > limit) ? limit : old - 1`.
    atomic("atomic_inc_wrap_u32", "gpu::atomic_inc_wrap(p, limit)", "atomicInc({0}, {1})", &[M(U32), S(U32)], U32, 30),
    atomic("atomic_dec_wrap_u32", "gpu::atomic_dec_wrap(p, limit)", "atomicDec({0}, {1})", &[M(U32), S(U32)], U32, 30),
    // Scoped variants: `_block` is atomic only among the block's threads (cheaper), `_system`
    // also against the host and peer GPUs (for mapped memory).
    atomic("atomic_add_u32_block", "gpu::atomic_add_block(p, v)", "atomicAdd_block({0}, {1})", &[M(U32), S(U32)], U32, 60),
    atomic("atomic_add_f32_block", "gpu::atomic_add_block(p, v)", "atomicAdd_block({0}, {1})", &[M(F32), S(F32)], F32, 60),
    atomic("atomic_max_u32_block", "gpu::atomic_max_block(p, v)", "atomicMax_block({0}, {1})", &[M(U32), S(U32)], U32, 60),
    atomic("atomic_add_u32_system", "gpu::atomic_add_system(p, v)", "atomicAdd_system({0}, {1})", &[M(U32), S(U32)], U32, 60),
    atomic("atomic_add_u64_system", "gpu::atomic_add_system(p, v)", "atomicAdd_system({0}, {1})", &[M(U64), S(U64)], U64, 60),
    atomic("atomic_add_f32_system", "gpu::atomic_add_system(p, v)", "atomicAdd_system({0}, {1})", &[M(F32), S(F32)], F32, 60),
    atomic("atomic_exch_u32_system", "gpu::atomic_exch_system(p, v)", "atomicExch_system({0}, {1})", &[M(U32), S(U32)], U32, 60),
    atomic("atomic_cas_u32_system", "gpu::atomic_cas_system(p, current, new)", "atomicCAS_system({0}, {1}, {2})", &[M(U32), S(U32), S(U32)], U32, 60),
    atomic("atomic_cas_u64_system", "gpu::atomic_cas_system(p, current, new)", "atomicCAS_system({0}, {1}, {2})", &[M(U64), S(U64), S(U64)], U64, 60),
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
    row("shfl_sync_i32", "gpu::shfl_sync(mask, v, lane)", "__shfl_sync({0}, {1}, {2})", &[S(U32), S(I32), S(I32)], Some(I32), 30, false, C::Warp),
    row("shfl_sync_u64", "gpu::shfl_sync(mask, v, lane)", "__shfl_sync({0}, {1}, {2})", &[S(U32), S(U64), S(I32)], Some(U64), 30, false, C::Warp),
    row("shfl_sync_i64", "gpu::shfl_sync(mask, v, lane)", "__shfl_sync({0}, {1}, {2})", &[S(U32), S(I64), S(I32)], Some(I64), 30, false, C::Warp),
    row("shfl_sync_f64", "gpu::shfl_sync(mask, v, lane)", "__shfl_sync({0}, {1}, {2})", &[S(U32), S(F64), S(I32)], Some(F64), 30, false, C::Warp),
    row("shfl_up_sync_u32", "gpu::shfl_up_sync(mask, v, delta)", "__shfl_up_sync({0}, {1}, {2})", &[S(U32), S(U32), S(U32)], Some(U32), 30, false, C::Warp),
    row("shfl_up_sync_i32", "gpu::shfl_up_sync(mask, v, delta)", "__shfl_up_sync({0}, {1}, {2})", &[S(U32), S(I32), S(U32)], Some(I32), 30, false, C::Warp),
    row("shfl_up_sync_f32", "gpu::shfl_up_sync(mask, v, delta)", "__shfl_up_sync({0}, {1}, {2})", &[S(U32), S(F32), S(U32)], Some(F32), 30, false, C::Warp),
    row("shfl_up_sync_f64", "gpu::shfl_up_sync(mask, v, delta)", "__shfl_up_sync({0}, {1}, {2})", &[S(U32), S(F64), S(U32)], Some(F64), 30, false, C::Warp),
    row("shfl_down_sync_i32", "gpu::shfl_down_sync(mask, v, delta)", "__shfl_down_sync({0}, {1}, {2})", &[S(U32), S(I32), S(U32)], Some(I32), 30, false, C::Warp),
    row("shfl_down_sync_u64", "gpu::shfl_down_sync(mask, v, delta)", "__shfl_down_sync({0}, {1}, {2})", &[S(U32), S(U64), S(U32)], Some(U64), 30, false, C::Warp),
    row("shfl_down_sync_f64", "gpu::shfl_down_sync(mask, v, delta)", "__shfl_down_sync({0}, {1}, {2})", &[S(U32), S(F64), S(U32)], Some(F64), 30, false, C::Warp),
    row("shfl_xor_sync_i32", "gpu::shfl_xor_sync(mask, v, lane_mask)", "__shfl_xor_sync({0}, {1}, {2})", &[S(U32), S(I32), S(I32)], Some(I32), 30, false, C::Warp),
    row("shfl_xor_sync_u64", "gpu::shfl_xor_sync(mask, v, lane_mask)", "__shfl_xor_sync({0}, {1}, {2})", &[S(U32), S(U64), S(I32)], Some(U64), 30, false, C::Warp),
    row("shfl_xor_sync_f64", "gpu::shfl_xor_sync(mask, v, lane_mask)", "__shfl_xor_sync({0}, {1}, {2})", &[S(U32), S(F64), S(I32)], Some(F64), 30, false, C::Warp),
    row("active_mask", "gpu::active_mask()", "__activemask()", &[], Some(U32), 30, false, C::Warp),
    // The lanes below this one (`%lanemask_lt`), for compaction with `ballot_sync`.
    row("lane_mask_lt", "gpu::lane_mask_lt()", "rk_lanemask_lt()", &[], Some(U32), 30, false, C::Warp),
    row("match_any_sync_u64", "gpu::match_any_sync(mask, v)", "__match_any_sync({0}, {1})", &[S(U32), S(U64)], Some(U32), 70, false, C::Warp),
    // The mask when every named lane holds the same value, else 0 (the helper drops the predicate).
    row("match_all_sync_u32", "gpu::match_all_sync(mask, v)", "rk_match_all_sync_u32({0}, {1})", &[S(U32), S(U32)], Some(U32), 70, false, C::Warp),
    row("match_all_sync_u64", "gpu::match_all_sync(mask, v)", "rk_match_all_sync_u64({0}, {1})", &[S(U32), S(U64)], Some(U32), 70, false, C::Warp),
    // Warp-wide reductions in hardware (sm_80+).
    row("reduce_add_sync_u32", "gpu::reduce_add_sync(mask, v)", "__reduce_add_sync({0}, {1})", &[S(U32), S(U32)], Some(U32), 80, false, C::Warp),
    row("reduce_add_sync_i32", "gpu::reduce_add_sync(mask, v)", "__reduce_add_sync({0}, {1})", &[S(U32), S(I32)], Some(I32), 80, false, C::Warp),
    row("reduce_min_sync_u32", "gpu::reduce_min_sync(mask, v)", "__reduce_min_sync({0}, {1})", &[S(U32), S(U32)], Some(U32), 80, false, C::Warp),
    row("reduce_min_sync_i32", "gpu::reduce_min_sync(mask, v)", "__reduce_min_sync({0}, {1})", &[S(U32), S(I32)], Some(I32), 80, false, C::Warp),
    row("reduce_max_sync_u32", "gpu::reduce_max_sync(mask, v)", "__reduce_max_sync({0}, {1})", &[S(U32), S(U32)], Some(U32), 80, false, C::Warp),
    row("reduce_max_sync_i32", "gpu::reduce_max_sync(mask, v)", "__reduce_max_sync({0}, {1})", &[S(U32), S(I32)], Some(I32), 80, false, C::Warp),
    row("reduce_and_sync_u32", "gpu::reduce_and_sync(mask, v)", "__reduce_and_sync({0}, {1})", &[S(U32), S(U32)], Some(U32), 80, false, C::Warp),
    row("reduce_or_sync_u32", "gpu::reduce_or_sync(mask, v)", "__reduce_or_sync({0}, {1})", &[S(U32), S(U32)], Some(U32), 80, false, C::Warp),
    row("reduce_xor_sync_u32", "gpu::reduce_xor_sync(mask, v)", "__reduce_xor_sync({0}, {1})", &[S(U32), S(U32)], Some(U32), 80, false, C::Warp),
    // Barriers and fences.
    row("sync_threads", "gpu::sync_threads()", "__syncthreads()", &[], None, 30, false, C::Sync),
    row("sync_warp", "gpu::sync_warp(mask)", "__syncwarp({0})", &[S(U32)], None, 30, false, C::Sync),
    row("thread_fence", "gpu::thread_fence()", "__threadfence()", &[], None, 30, false, C::Sync),
    row("thread_fence_block", "gpu::thread_fence_block()", "__threadfence_block()", &[], None, 30, false, C::Sync),
    row("thread_fence_system", "gpu::thread_fence_system()", "__threadfence_system()", &[], None, 30, false, C::Sync),
    row("sync_threads_count", "gpu::sync_threads_count(pred)", "((unsigned int)__syncthreads_count({0}))", &[S(Bool)], Some(U32), 30, false, C::Sync),
    row("sync_threads_and", "gpu::sync_threads_and(pred)", "(__syncthreads_and({0}) != 0)", &[S(Bool)], Some(Bool), 30, false, C::Sync),
    row("sync_threads_or", "gpu::sync_threads_or(pred)", "(__syncthreads_or({0}) != 0)", &[S(Bool)], Some(Bool), 30, false, C::Sync),
    row("nanosleep", "gpu::nanosleep(ns)", "__nanosleep({0})", &[S(U32)], None, 70, false, C::Sync),
    // Whole-grid barrier: only valid in a cooperative launch (`cuLaunchCooperativeKernel`).
    row("grid_sync", "gpu::grid_sync()", "cooperative_groups::this_grid().sync()", &[], None, 60, false, C::Sync),
    // Thread-block clusters (sm_90): barrier, and distributed shared memory. The pointer must be
    // a `__shared__` address of this block; the access goes to the same offset in block `rank`.
    row("cluster_sync", "gpu::cluster_sync()", "cooperative_groups::this_cluster().sync()", &[], None, 90, false, C::Sync),
    row("dsmem_load_u32", "gpu::dsmem_load(p, rank)", "(*cooperative_groups::this_cluster().map_shared_rank({0}, {1}))", &[M(U32), S(U32)], Some(U32), 90, false, C::Sync),
    row("dsmem_store_u32", "gpu::dsmem_store(p, rank, v)", "((void)(*cooperative_groups::this_cluster().map_shared_rank({0}, {1}) = {2}))", &[M(U32), S(U32), S(U32)], None, 90, false, C::Sync),
    row("dsmem_load_f32", "gpu::dsmem_load(p, rank)", "(*cooperative_groups::this_cluster().map_shared_rank({0}, {1}))", &[M(F32), S(U32)], Some(F32), 90, false, C::Sync),
    row("dsmem_store_f32", "gpu::dsmem_store(p, rank, v)", "((void)(*cooperative_groups::this_cluster().map_shared_rank({0}, {1}) = {2}))", &[M(F32), S(U32), S(F32)], None, 90, false, C::Sync),
    row("dsmem_atomic_add_u32", "gpu::dsmem_atomic_add(p, rank, v)", "atomicAdd(cooperative_groups::this_cluster().map_shared_rank({0}, {1}), {2})", &[M(U32), S(U32), S(U32)], Some(U32), 90, false, C::Sync),
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
    index("global_thread_idx_x", "gpu::global_thread_idx_x()", "(blockIdx.x * blockDim.x + threadIdx.x)"),
    index("warp_id", "gpu::warp_id()", "(((threadIdx.z * blockDim.y + threadIdx.y) * blockDim.x + threadIdx.x) >> 5)"),
    index("warp_size", "gpu::warp_size()", "((unsigned int)warpSize)"),
    // The SM this thread runs on (`%smid`; may change between reads only under preemption).
    row("sm_id", "gpu::sm_id()", "rk_smid()", &[], Some(U32), 30, false, C::Index),
    // Clusters (sm_90; a launch without clusters is a cluster of one block).
    row("cluster_block_rank", "gpu::cluster_block_rank()", "cooperative_groups::this_cluster().block_rank()", &[], Some(U32), 90, true, C::Index),
    row("cluster_num_blocks", "gpu::cluster_num_blocks()", "cooperative_groups::this_cluster().num_blocks()", &[], Some(U32), 90, true, C::Index),
    row("cluster_dim_x", "gpu::cluster_dim_x()", "cooperative_groups::this_cluster().dim_blocks().x", &[], Some(U32), 90, true, C::Index),
    row("cluster_dim_y", "gpu::cluster_dim_y()", "cooperative_groups::this_cluster().dim_blocks().y", &[], Some(U32), 90, true, C::Index),
    row("cluster_dim_z", "gpu::cluster_dim_z()", "cooperative_groups::this_cluster().dim_blocks().z", &[], Some(U32), 90, true, C::Index),
    row("cluster_block_idx_x", "gpu::cluster_block_idx_x()", "cooperative_groups::this_cluster().block_index().x", &[], Some(U32), 90, true, C::Index),
    row("cluster_block_idx_y", "gpu::cluster_block_idx_y()", "cooperative_groups::this_cluster().block_index().y", &[], Some(U32), 90, true, C::Index),
    row("cluster_block_idx_z", "gpu::cluster_block_idx_z()", "cooperative_groups::this_cluster().block_index().z", &[], Some(U32), 90, true, C::Index),
    row("grid_thread_rank", "gpu::grid_thread_rank()", "((unsigned long long)cooperative_groups::this_grid().thread_rank())", &[], Some(U64), 60, true, C::Index),
    row("grid_num_threads", "gpu::grid_num_threads()", "((unsigned long long)cooperative_groups::this_grid().num_threads())", &[], Some(U64), 60, true, C::Index),
    // Clocks: impure (two reads differ).
    row("clock64", "gpu::clock64()", "((unsigned long long)clock64())", &[], Some(U64), 30, false, C::Clock),
    row("global_timer_ns", "gpu::global_timer_ns()", "rk_globaltimer()", &[], Some(U64), 30, false, C::Clock),
    row("clock32", "gpu::clock32()", "((unsigned int)clock())", &[], Some(U32), 30, false, C::Clock),
    // The persistent kernel's per-block HLC (`rk_hlc_local` in ringkernel-cuda/kernels/runtime.cuh;
    // same packing as ringkernel_core::HlcTimestamp): a timestamp above every earlier one from
    // the thread-owned `clock` and above `floor - 1`. Only in ring mode, where that runtime is part
    // of the translation unit. (`rk_hlc_next`, a shared atomic variant, is being removed from the
    // runtime, so it has no row.)
    row("hlc_local", "gpu::hlc_local(clock, floor)", "rk_hlc_local({0}, {1})", &[M(U64), S(U64)], Some(U64), 70, false, C::Clock),
    // K2K send of an 8-byte message to another actor of the runtime (`rk_k2k_tell_u64` in
    // ringkernel-cuda/kernels/runtime.cuh): 0 delivered, 1 inbox full (nothing recorded), 2 dead
    // letter. Only in ring mode.
    row("k2k_tell_u64", "gpu::k2k_tell_u64(target, type_id, value)", "rk_k2k_tell_u64({0}, {1}, {2})", &[S(U32), S(U32), S(U64)], Some(U32), 70, false, C::Messaging),
];
