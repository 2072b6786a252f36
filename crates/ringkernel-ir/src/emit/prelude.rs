//! The helper functions every emitted module starts with: the places where Rust semantics need
//! more than one C expression (traps on bad division, `wrapping_abs`, the PTX global timer).

use std::fmt::Write;

use crate::ir::ScalarType;

/// Name of the checked division (`op` = "div") or remainder (`op` = "rem") helper for `ty`.
pub(crate) fn div_helper(op: &str, ty: ScalarType) -> String {
    format!("rk_{op}_{}", ty.rust_name())
}

/// The prelude text (guarded, so several emitted modules can share a translation unit).
pub(crate) fn prelude() -> String {
    let mut s = String::from(
        "#ifndef RK_IR_PRELUDE\n#define RK_IR_PRELUDE\n\
         // Integer division and remainder trap where Rust panics: a zero divisor, and MIN / -1.\n",
    );
    let ints = [
        (ScalarType::I32, Some("(-2147483647 - 1)")),
        (ScalarType::U32, None),
        (ScalarType::I64, Some("(-9223372036854775807ll - 1ll)")),
        (ScalarType::U64, None),
    ];
    for (ty, min) in ints {
        let t = ty.cuda_name();
        let overflow = min.map_or(String::new(), |m| format!(" || (a == {m} && b == -1)"));
        for (op, token) in [("div", "/"), ("rem", "%")] {
            // Writing to a String cannot fail.
            let _ = writeln!(
                s,
                "static __device__ __forceinline__ {t} {}({t} a, {t} b) {{ if (b == 0{overflow}) __trap(); return a {token} b; }}",
                div_helper(op, ty)
            );
        }
    }
    s.push_str(
        "// Rust's wrapping_abs: abs(MIN) == MIN, computed without signed overflow.\n\
         static __device__ __forceinline__ int rk_wrapping_abs_i32(int a) { return a < 0 ? (int)(0u - (unsigned int)a) : a; }\n\
         static __device__ __forceinline__ long long rk_wrapping_abs_i64(long long a) { return a < 0 ? (long long)(0ull - (unsigned long long)a) : a; }\n\
         // The PTX %globaltimer register: nanoseconds, shared by all SMs. The persistent kernel's\n\
         // runtime.cuh (which defines RK_FULL_MASK) has its own rk_globaltimer with this meaning.\n\
         #ifndef RK_FULL_MASK\n\
         static __device__ __forceinline__ unsigned long long rk_globaltimer() { unsigned long long t; asm volatile(\"mov.u64 %0, %%globaltimer;\" : \"=l\"(t)); return t; }\n\
         #endif\n\
         // Float -> integer `as`: the saturating round-toward-zero conversions, with NaN -> 0 made\n\
         // explicit (the 64-bit conversions give 0x8000000000000000 for NaN on sm_90, seen on an H100).\n\
         static __device__ __forceinline__ int rk_f32_to_i32(float x) { return x != x ? 0 : __float2int_rz(x); }\n\
         static __device__ __forceinline__ unsigned int rk_f32_to_u32(float x) { return x != x ? 0u : __float2uint_rz(x); }\n\
         static __device__ __forceinline__ long long rk_f32_to_i64(float x) { return x != x ? 0ll : __float2ll_rz(x); }\n\
         static __device__ __forceinline__ unsigned long long rk_f32_to_u64(float x) { return x != x ? 0ull : __float2ull_rz(x); }\n\
         static __device__ __forceinline__ int rk_f64_to_i32(double x) { return x != x ? 0 : __double2int_rz(x); }\n\
         static __device__ __forceinline__ unsigned int rk_f64_to_u32(double x) { return x != x ? 0u : __double2uint_rz(x); }\n\
         static __device__ __forceinline__ long long rk_f64_to_i64(double x) { return x != x ? 0ll : __double2ll_rz(x); }\n\
         static __device__ __forceinline__ unsigned long long rk_f64_to_u64(double x) { return x != x ? 0ull : __double2ull_rz(x); }\n\
         // Bit helpers where Rust's meaning needs more than one CUDA call.\n\
         static __device__ __forceinline__ unsigned int rk_trailing_zeros_u32(unsigned int x) { return x == 0u ? 32u : (unsigned int)(__ffs((int)x) - 1); }\n\
         static __device__ __forceinline__ unsigned int rk_trailing_zeros_u64(unsigned long long x) { return x == 0ull ? 64u : (unsigned int)(__ffsll((long long)x) - 1); }\n\
         static __device__ __forceinline__ unsigned int rk_rotl_u32(unsigned int x, unsigned int n) { return __funnelshift_l(x, x, n); }\n\
         static __device__ __forceinline__ unsigned int rk_rotr_u32(unsigned int x, unsigned int n) { return __funnelshift_r(x, x, n); }\n\
         static __device__ __forceinline__ unsigned long long rk_rotl_u64(unsigned long long x, unsigned int n) { n &= 63u; return n == 0u ? x : (x << n) | (x >> (64u - n)); }\n\
         static __device__ __forceinline__ unsigned long long rk_rotr_u64(unsigned long long x, unsigned int n) { n &= 63u; return n == 0u ? x : (x >> n) | (x << (64u - n)); }\n\
         static __device__ __forceinline__ unsigned long long rk_swap_bytes_u64(unsigned long long x) { return ((unsigned long long)__byte_perm((unsigned int)x, 0u, 0x0123u) << 32) | (unsigned long long)__byte_perm((unsigned int)(x >> 32), 0u, 0x0123u); }\n\
         static __device__ __forceinline__ unsigned int rk_lanemask_lt() { unsigned int m; asm volatile(\"mov.u32 %0, %%lanemask_lt;\" : \"=r\"(m)); return m; }\n\
         #ifndef RK_HAVE_SMID\n#define RK_HAVE_SMID\n\
         static __device__ __forceinline__ unsigned int rk_smid() { unsigned int s; asm volatile(\"mov.u32 %0, %%smid;\" : \"=r\"(s)); return s; }\n\
         #endif\n\
         #if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 700\n\
         static __device__ __forceinline__ unsigned int rk_match_all_sync_u32(unsigned int mask, unsigned int v) { int pred; return __match_all_sync(mask, v, &pred); }\n\
         static __device__ __forceinline__ unsigned int rk_match_all_sync_u64(unsigned int mask, unsigned long long v) { int pred; return __match_all_sync(mask, v, &pred); }\n\
         #endif\n\
         #endif // RK_IR_PRELUDE\n",
    );
    s
}
