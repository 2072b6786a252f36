//! Host (CPU) meanings of the intrinsics that have one: float math, integer and bit operations.
//! [`crate::interp`] calls these, so differential tests can run the same IR on the CPU.
//!
//! Integer and bit rows, bit casts, classification, `min`/`max`, `floor`/`ceil`/`round`/`trunc`,
//! `round_ties_even`, `abs`, `copysign`, `sqrt`, `mul_add`, `recip` and `saturate` are exact: the
//! device gives bit-identical results. The transcendental rows use the host's libm while CUDA
//! has its own implementations (`sinf` is within 2 ulp, `__sinf` and the other `fast_` rows
//! only within about 2^-21 absolute on [-π, π]), so compare those with a tolerance; the kernel
//! tests use a relative 1e-5 (f32) / 1e-12 (f64) plus a small absolute term near zero.

use crate::ir::Literal::{self, Bool, F32, F64, I32, I64, U32, U64};

/// The value of pure intrinsic `name` on `args`, or `None` when the row has no CPU meaning
/// (atomics, warp, sync, index, clock rows) or the arguments do not match its signature.
pub fn eval_native(name: &str, args: &[Literal]) -> Option<Literal> {
    match args {
        [F32(x)] => f32_1(name, *x),
        [F32(x), F32(y)] => f32_2(name, *x, *y),
        [F32(x), F32(y), F32(z)] if name == "mul_add_f32" => Some(F32(x.mul_add(*y, *z))),
        [F64(x)] => f64_1(name, *x),
        [F64(x), F64(y)] => f64_2(name, *x, *y),
        [F64(x), F64(y), F64(z)] if name == "mul_add_f64" => Some(F64(x.mul_add(*y, *z))),
        [U32(x)] => u32_1(name, *x),
        [U64(x)] => u64_1(name, *x),
        [I32(x)] if name == "wrapping_abs_i32" => Some(I32(x.wrapping_abs())),
        [I64(x)] if name == "wrapping_abs_i64" => Some(I64(x.wrapping_abs())),
        [U32(x), U32(y)] => u32_2(name, *x, *y),
        [U64(x), U32(n)] => match name {
            "rotate_left_u64" => Some(U64(x.rotate_left(*n))),
            "rotate_right_u64" => Some(U64(x.rotate_right(*n))),
            _ => None,
        },
        [U64(x), U64(y)] => u64_2(name, *x, *y),
        [I32(x), I32(y)] => i32_2(name, *x, *y),
        [I64(x), I64(y)] => i64_2(name, *x, *y),
        [U32(x), U32(y), U32(s)] => u32_3(name, *x, *y, *s),
        [I32(a), I32(b), I32(c)] if name == "dp4a_i32" => Some(I32(dp4a(*a, *b, *c))),
        _ => None,
    }
}

fn f32_1(name: &str, x: f32) -> Option<Literal> {
    let v = match name {
        "sqrt_f32" => x.sqrt(),
        "sin_f32" | "fast_sin_f32" => x.sin(),
        "cos_f32" | "fast_cos_f32" => x.cos(),
        "tan_f32" => x.tan(),
        "exp_f32" | "fast_exp_f32" => x.exp(),
        "exp2_f32" => x.exp2(),
        "ln_f32" => x.ln(),
        "log2_f32" => x.log2(),
        "log10_f32" => x.log10(),
        "abs_f32" => x.abs(),
        "floor_f32" => x.floor(),
        "ceil_f32" => x.ceil(),
        "round_f32" => x.round(),
        "trunc_f32" => x.trunc(),
        "round_ties_even_f32" => x.round_ties_even(),
        "asin_f32" => x.asin(),
        "acos_f32" => x.acos(),
        "atan_f32" => x.atan(),
        "sinh_f32" => x.sinh(),
        "cosh_f32" => x.cosh(),
        "tanh_f32" => x.tanh(),
        "exp_m1_f32" => x.exp_m1(),
        "ln_1p_f32" => x.ln_1p(),
        "cbrt_f32" => x.cbrt(),
        "recip_f32" => x.recip(),
        "rsqrt_f32" => x.sqrt().recip(),
        // NaN → 0, like `__saturatef`.
        "saturate_f32" => {
            if x.is_nan() {
                0.0
            } else {
                x.clamp(0.0, 1.0)
            }
        }
        "to_bits_f32" => return Some(U32(x.to_bits())),
        "is_nan_f32" => return Some(Bool(x.is_nan())),
        "is_finite_f32" => return Some(Bool(x.is_finite())),
        "is_infinite_f32" => return Some(Bool(x.is_infinite())),
        _ => return None,
    };
    Some(F32(v))
}

fn f32_2(name: &str, x: f32, y: f32) -> Option<Literal> {
    Some(F32(match name {
        "min_f32" => x.min(y),
        "max_f32" => x.max(y),
        "powf_f32" => x.powf(y),
        "atan2_f32" => x.atan2(y),
        "hypot_f32" => x.hypot(y),
        "copysign_f32" => x.copysign(y),
        _ => return None,
    }))
}

fn f64_1(name: &str, x: f64) -> Option<Literal> {
    let v = match name {
        "sqrt_f64" => x.sqrt(),
        "sin_f64" => x.sin(),
        "cos_f64" => x.cos(),
        "tan_f64" => x.tan(),
        "exp_f64" => x.exp(),
        "exp2_f64" => x.exp2(),
        "ln_f64" => x.ln(),
        "log2_f64" => x.log2(),
        "log10_f64" => x.log10(),
        "abs_f64" => x.abs(),
        "floor_f64" => x.floor(),
        "ceil_f64" => x.ceil(),
        "round_f64" => x.round(),
        "trunc_f64" => x.trunc(),
        "round_ties_even_f64" => x.round_ties_even(),
        "asin_f64" => x.asin(),
        "acos_f64" => x.acos(),
        "atan_f64" => x.atan(),
        "sinh_f64" => x.sinh(),
        "cosh_f64" => x.cosh(),
        "tanh_f64" => x.tanh(),
        "exp_m1_f64" => x.exp_m1(),
        "ln_1p_f64" => x.ln_1p(),
        "cbrt_f64" => x.cbrt(),
        "recip_f64" => x.recip(),
        "rsqrt_f64" => x.sqrt().recip(),
        "to_bits_f64" => return Some(U64(x.to_bits())),
        "is_nan_f64" => return Some(Bool(x.is_nan())),
        "is_finite_f64" => return Some(Bool(x.is_finite())),
        "is_infinite_f64" => return Some(Bool(x.is_infinite())),
        _ => return None,
    };
    Some(F64(v))
}

fn f64_2(name: &str, x: f64, y: f64) -> Option<Literal> {
    Some(F64(match name {
        "min_f64" => x.min(y),
        "max_f64" => x.max(y),
        "powf_f64" => x.powf(y),
        "atan2_f64" => x.atan2(y),
        "hypot_f64" => x.hypot(y),
        "copysign_f64" => x.copysign(y),
        _ => return None,
    }))
}

fn u32_1(name: &str, x: u32) -> Option<Literal> {
    Some(U32(match name {
        "count_ones_u32" => x.count_ones(),
        "leading_zeros_u32" => x.leading_zeros(),
        "trailing_zeros_u32" => x.trailing_zeros(),
        "reverse_bits_u32" => x.reverse_bits(),
        "swap_bytes_u32" => x.swap_bytes(),
        // `__ffs`: 1-based position of the lowest set bit, 0 for 0.
        "ffs_u32" if x == 0 => 0,
        "ffs_u32" => x.trailing_zeros() + 1,
        "from_bits_f32" => return Some(F32(f32::from_bits(x))),
        _ => return None,
    }))
}

fn u64_1(name: &str, x: u64) -> Option<Literal> {
    Some(match name {
        "count_ones_u64" => U32(x.count_ones()),
        "leading_zeros_u64" => U32(x.leading_zeros()),
        "trailing_zeros_u64" => U32(x.trailing_zeros()),
        "reverse_bits_u64" => U64(x.reverse_bits()),
        "swap_bytes_u64" => U64(x.swap_bytes()),
        "ffs_u64" if x == 0 => U32(0),
        "ffs_u64" => U32(x.trailing_zeros() + 1),
        "from_bits_f64" => F64(f64::from_bits(x)),
        _ => return None,
    })
}

fn u32_2(name: &str, x: u32, y: u32) -> Option<Literal> {
    let (wx, wy) = (u64::from(x), u64::from(y));
    Some(U32(match name {
        "min_u32" => x.min(y),
        "max_u32" => x.max(y),
        "rotate_left_u32" => x.rotate_left(y),
        "rotate_right_u32" => x.rotate_right(y),
        "mul_hi_u32" => ((wx * wy) >> 32) as u32,
        "abs_diff_u32" => x.abs_diff(y),
        "hadd_u32" => ((wx + wy) >> 1) as u32,
        "rhadd_u32" => ((wx + wy + 1) >> 1) as u32,
        _ => return None,
    }))
}

fn u64_2(name: &str, x: u64, y: u64) -> Option<Literal> {
    Some(U64(match name {
        "min_u64" => x.min(y),
        "max_u64" => x.max(y),
        "mul_hi_u64" => ((u128::from(x) * u128::from(y)) >> 64) as u64,
        _ => return None,
    }))
}

fn i32_2(name: &str, x: i32, y: i32) -> Option<Literal> {
    let (wx, wy) = (i64::from(x), i64::from(y));
    Some(match name {
        "min_i32" => I32(x.min(y)),
        "max_i32" => I32(x.max(y)),
        "mul_hi_i32" => I32(((wx * wy) >> 32) as i32),
        "abs_diff_i32" => U32(x.abs_diff(y)),
        // Arithmetic shift: the floor of the exact mean.
        "hadd_i32" => I32(((wx + wy) >> 1) as i32),
        _ => return None,
    })
}

fn i64_2(name: &str, x: i64, y: i64) -> Option<Literal> {
    Some(I64(match name {
        "min_i64" => x.min(y),
        "max_i64" => x.max(y),
        "mul_hi_i64" => ((i128::from(x) * i128::from(y)) >> 64) as i64,
        _ => return None,
    }))
}

fn u32_3(name: &str, x: u32, y: u32, s: u32) -> Option<Literal> {
    let wide = (u64::from(y) << 32) | u64::from(x);
    Some(U32(match name {
        "byte_perm_u32" => byte_perm(x, y, s),
        "funnel_shl_u32" => ((wide << (s & 31)) >> 32) as u32,
        "funnel_shr_u32" => (wide >> (s & 31)) as u32,
        _ => return None,
    }))
}

/// `__byte_perm(x, y, s)`: result byte `i` is byte `(s >> 4i) & 7` of the 8 bytes `y:x`.
fn byte_perm(x: u32, y: u32, s: u32) -> u32 {
    let bytes = ((u64::from(y) << 32) | u64::from(x)).to_le_bytes();
    (0..4).fold(0u32, |acc, i| {
        let sel = ((s >> (4 * i)) & 7) as usize;
        acc | (u32::from(bytes[sel]) << (8 * i))
    })
}

/// `__dp4a(a, b, c)`: the four signed-byte products of `a` and `b` added to `c`, wrapping.
fn dp4a(a: i32, b: i32, c: i32) -> i32 {
    let (ab, bb) = (a.to_le_bytes(), b.to_le_bytes());
    (0..4).fold(c, |acc, i| {
        acc.wrapping_add(i32::from(ab[i] as i8) * i32::from(bb[i] as i8))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_refs_match_their_definitions() {
        assert_eq!(
            eval_native(
                "byte_perm_u32",
                &[U32(0x4433_2211), U32(0x8877_6655), U32(0x0123)]
            ),
            Some(U32(0x1122_3344))
        );
        assert_eq!(
            eval_native("swap_bytes_u32", &[U32(0x4433_2211)]),
            Some(U32(0x1122_3344))
        );
        assert_eq!(
            eval_native("dp4a_i32", &[I32(0x0102_03ff), I32(0x0101_0102), I32(10)]),
            Some(I32(10 - 2 + 3 + 2 + 1))
        );
        assert_eq!(
            eval_native("funnel_shl_u32", &[U32(0x8000_0000), U32(1), U32(1)]),
            Some(U32(3))
        );
        assert_eq!(
            eval_native("funnel_shr_u32", &[U32(0), U32(1), U32(33)]),
            Some(U32(0x8000_0000))
        );
        assert_eq!(eval_native("ffs_u32", &[U32(8)]), Some(U32(4)));
        assert_eq!(eval_native("trailing_zeros_u64", &[U64(0)]), Some(U32(64)));
        assert_eq!(eval_native("hadd_i32", &[I32(-3), I32(0)]), Some(I32(-2)));
        assert_eq!(eval_native("mul_hi_i64", &[I64(-1), I64(1)]), Some(I64(-1)));
        assert_eq!(
            eval_native("saturate_f32", &[F32(f32::NAN)]),
            Some(F32(0.0))
        );
        // Wrong arity or a row without a CPU meaning.
        assert_eq!(eval_native("sqrt_f32", &[F64(1.0)]), None);
        assert_eq!(eval_native("atomic_add_u32", &[U32(1), U32(2)]), None);
    }

    #[test]
    fn every_pure_math_and_integer_row_has_a_reference() {
        use crate::intrinsics::{Category, ParamType, TABLE};
        for i in TABLE {
            if !matches!(i.category, Category::FloatMath | Category::Integer) {
                continue;
            }
            let args: Vec<Literal> = i
                .params
                .iter()
                .map(|p| match p {
                    ParamType::Scalar(s) => sample(*s),
                    ParamType::PtrMut(s) => sample(*s),
                })
                .collect();
            let got = eval_native(i.name, &args).unwrap_or_else(|| panic!("{}", i.name));
            assert_eq!(Some(got.ty()), i.ret, "{}", i.name);
        }
    }

    fn sample(s: crate::ir::ScalarType) -> Literal {
        use crate::ir::ScalarType as T;
        match s {
            T::Bool => Bool(true),
            T::I32 => I32(-7),
            T::U32 => U32(7),
            T::I64 => I64(-7),
            T::U64 => U64(7),
            T::F32 => F32(0.5),
            T::F64 => F64(0.5),
        }
    }
}
