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
         // The PTX %globaltimer register: nanoseconds, shared by all SMs.\n\
         static __device__ __forceinline__ unsigned long long rk_globaltimer() { unsigned long long t; asm volatile(\"mov.u64 %0, %%globaltimer;\" : \"=l\"(t)); return t; }\n\
         #endif // RK_IR_PRELUDE\n",
    );
    s
}
