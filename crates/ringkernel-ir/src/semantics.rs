//! The meaning of IR operations: Rust's, made explicit where CUDA C differs.
//!
//! Every pass and the emitter follow these rules; [`crate::interp`] implements them as the
//! reference the property tests compare against.
//!
//! 1. **`+ - *` and unary `-` on integers wrap** (two's complement), like Rust's `wrapping_*` and a
//!    Rust release build. Rust debug builds would panic instead; a GPU handler cannot unwind, so the
//!    transpiler picks the release behaviour on purpose. Signed overflow is undefined in C, so the
//!    emitter computes signed `+ - *` and negation in the unsigned type of the same width and
//!    converts back (modular conversion, which NVCC/NVRTC implement and C++20 guarantees).
//! 2. **Shifts mask the amount** to the bit width of the left operand (`x << (s & 31)` for 32-bit
//!    values), like `wrapping_shl` / a Rust release build. In C an oversized shift is undefined, so
//!    the emitter always writes the mask. Constant folding never folds a shift whose amount is
//!    negative or not below the bit width: that is the case Rust debug builds reject, and leaving it
//!    to run time keeps the one definition (the emitted mask) in one place.
//!    `>>` on signed integers is arithmetic, on unsigned integers logical, as in Rust.
//! 3. **Integer `/` and `%` by zero, and `MIN / -1` / `MIN % -1` on signed types, trap**: Rust panics
//!    there; the emitter calls a helper that executes `__trap()` (the kernel dies with an error the
//!    host sees, never a silent wrong value). These operations are therefore *not pure* unless the
//!    divisor is a literal that rules the trap out; passes never fold or delete them.
//! 4. **Casts are Rust's `as`**: integer → integer truncates or extends by the source signedness;
//!    `bool` → integer gives 0/1; integer → float rounds to nearest; float → integer truncates toward
//!    zero and saturates, NaN → 0 (emitted as prelude helpers around the saturating `__float2int_rz`
//!    family, with an explicit NaN check: the 64-bit conversions give `i64::MIN`'s bits for NaN on
//!    sm_90, found by the GPU differential test); `f32` ↔ `f64` rounds to nearest. Casts into `bool`, and
//!    between `bool` and floats, are rejected (Rust rejects them too).
//! 5. **Floats are never rewritten** in a way that could change a result: no folding of float
//!    arithmetic (NVRTC contracts `a * b + c` into an FMA by default, so even exact-looking host
//!    folding can differ from the device), no `x + 0.0` (−0.0), no `x * 0.0` or `x == x` (NaN).
//!    The only float rewrites are bit-exact: negating a float literal and `-(-x)`.
//! 6. `&&`, `||` and `select` evaluate lazily, like Rust's `&&`, `||` and `if c { a } else { b }`;
//!    `&`, `|`, `^` on `bool` evaluate both sides.
//! 7. `for i in a..b` evaluates `a` and `b` once; the loop variable is not assignable in the body.
