//! Scalar type names and literals: Rust spellings to IR types and typed constants.
//!
//! `usize` and `isize` are the 64-bit types: both the host and the device are 64-bit targets, so
//! arithmetic on them wraps at the same width. An unsuffixed integer literal takes the type its
//! context expects, else `i32` (Rust's fallback); an unsuffixed float literal likewise, else `f64`.

use ringkernel_ir::ir::{Literal, ScalarType};
use syn::{Expr, Lit, Type, UnOp};

use crate::diagnostic::{Diagnostic, Result};

/// A scalar type written as a Rust path (`u32`, `usize`, `bool`, …).
pub fn scalar_named(name: &str) -> Option<ScalarType> {
    Some(match name {
        "bool" => ScalarType::Bool,
        "i32" => ScalarType::I32,
        "u32" => ScalarType::U32,
        "i64" | "isize" => ScalarType::I64,
        "u64" | "usize" => ScalarType::U64,
        "f32" => ScalarType::F32,
        "f64" => ScalarType::F64,
        _ => return None,
    })
}

/// The scalar type of a type expression, or a diagnostic naming the supported ones.
pub fn scalar_type(ty: &Type) -> Result<ScalarType> {
    let name = match ty {
        Type::Path(p) if p.qself.is_none() => p.path.get_ident().map(|i| i.to_string()),
        Type::Paren(p) => return scalar_type(&p.elem),
        _ => None,
    };
    name.as_deref().and_then(scalar_named).ok_or_else(|| {
        Diagnostic::spanned(
            ty,
            "unsupported type: handler locals are `bool`, `i32`, `u32`, `i64`, `u64`, `usize`, \
             `isize`, `f32` or `f64` (8- and 16-bit integers, references, arrays and structs are \
             not supported here)",
        )
    })
}

/// True when a literal of `lit`'s form carries no type suffix (its type comes from context).
pub fn is_unsuffixed(lit: &Lit) -> bool {
    match lit {
        Lit::Int(i) => i.suffix().is_empty(),
        Lit::Float(f) => f.suffix().is_empty(),
        _ => false,
    }
}

/// A typed literal for `lit` (negated if `negate`), using `expected` for unsuffixed literals.
pub fn literal(lit: &Lit, negate: bool, expected: Option<ScalarType>) -> Result<Literal> {
    match lit {
        Lit::Bool(b) if !negate => Ok(Literal::Bool(b.value)),
        Lit::Int(i) => {
            let ty = if i.suffix().is_empty() {
                // An integer literal in a float context is a rustc error; keep i32 so the mismatch
                // is reported rather than silently converted.
                expected.filter(|t| t.is_int()).unwrap_or(ScalarType::I32)
            } else {
                scalar_named(i.suffix()).ok_or_else(|| {
                    Diagnostic::spanned(i, format!("unsupported literal suffix `{}`", i.suffix()))
                })?
            };
            if ty.is_float() {
                let v: f64 = i
                    .base10_parse()
                    .map_err(|e| Diagnostic::spanned(i, e.to_string()))?;
                return Ok(float(ty, if negate { -v } else { v }));
            }
            let v: u128 = i
                .base10_parse()
                .map_err(|e| Diagnostic::spanned(i, e.to_string()))?;
            let v = i128::try_from(v).map_err(|_| Diagnostic::spanned(i, "literal too large"))?;
            let v = if negate { -v } else { v };
            let out = Literal::int_wrapping(ty, v)
                .filter(|l| l.as_i128() == Some(v))
                .ok_or_else(|| {
                    Diagnostic::spanned(i, format!("literal out of range for `{ty}`"))
                })?;
            if negate && !ty.is_signed_int() {
                return Err(Diagnostic::spanned(
                    i,
                    format!("cannot negate an unsigned `{ty}` literal"),
                ));
            }
            Ok(out)
        }
        Lit::Float(f) => {
            let ty = if f.suffix().is_empty() {
                expected.filter(|t| t.is_float()).unwrap_or(ScalarType::F64)
            } else {
                scalar_named(f.suffix())
                    .filter(|t| t.is_float())
                    .ok_or_else(|| Diagnostic::spanned(f, "unsupported float literal suffix"))?
            };
            // Parse at the target precision: `0.1f32` must round once, to f32, as rustc does.
            let lit = if ty == ScalarType::F32 {
                let v: f32 = f
                    .base10_parse()
                    .map_err(|e| Diagnostic::spanned(f, e.to_string()))?;
                Literal::F32(if negate { -v } else { v })
            } else {
                let v: f64 = f
                    .base10_parse()
                    .map_err(|e| Diagnostic::spanned(f, e.to_string()))?;
                Literal::F64(if negate { -v } else { v })
            };
            Ok(lit)
        }
        other => Err(Diagnostic::spanned(
            other,
            "unsupported literal: only integer, float and `bool` literals reach the GPU (no \
             strings, chars or byte strings)",
        )),
    }
}

fn float(ty: ScalarType, v: f64) -> Literal {
    if ty == ScalarType::F32 {
        Literal::F32(v as f32)
    } else {
        Literal::F64(v)
    }
}

/// The value of `const NAME: ty = expr;` when `ty` is a scalar and `expr` a (negated) literal.
pub fn const_literal(ty: &Type, expr: &Expr) -> Result<Literal> {
    let ty = scalar_type(ty)?;
    match expr {
        Expr::Lit(l) => literal(&l.lit, false, Some(ty)),
        Expr::Unary(u) if matches!(u.op, UnOp::Neg(_)) => match &*u.expr {
            Expr::Lit(l) => literal(&l.lit, true, Some(ty)),
            other => Err(Diagnostic::spanned(other, "constant must be a literal")),
        },
        Expr::Paren(p) => const_literal_typed(ty, &p.expr),
        other => Err(Diagnostic::spanned(other, "constant must be a literal")),
    }
    .and_then(|l| {
        if l.ty() == ty {
            Ok(l)
        } else {
            Err(Diagnostic::spanned(expr, "constant type mismatch"))
        }
    })
}

fn const_literal_typed(ty: ScalarType, expr: &Expr) -> Result<Literal> {
    match expr {
        Expr::Lit(l) => literal(&l.lit, false, Some(ty)),
        other => Err(Diagnostic::spanned(other, "constant must be a literal")),
    }
}

/// A named associated constant of a scalar type (`u32::MAX`, `f32::EPSILON`, …).
pub fn assoc_const(ty: ScalarType, name: &str) -> Option<Literal> {
    use ScalarType::*;
    Some(match (ty, name) {
        (I32, "MAX") => Literal::I32(i32::MAX),
        (I32, "MIN") => Literal::I32(i32::MIN),
        (U32, "MAX") => Literal::U32(u32::MAX),
        (U32, "MIN") => Literal::U32(0),
        (I64, "MAX") => Literal::I64(i64::MAX),
        (I64, "MIN") => Literal::I64(i64::MIN),
        (U64, "MAX") => Literal::U64(u64::MAX),
        (U64, "MIN") => Literal::U64(0),
        (I32 | U32 | I64 | U64, "BITS") => Literal::U32(ty.bits()),
        (F32, "MAX") => Literal::F32(f32::MAX),
        (F32, "MIN") => Literal::F32(f32::MIN),
        (F32, "EPSILON") => Literal::F32(f32::EPSILON),
        (F32, "INFINITY") => Literal::F32(f32::INFINITY),
        (F32, "NEG_INFINITY") => Literal::F32(f32::NEG_INFINITY),
        (F64, "MAX") => Literal::F64(f64::MAX),
        (F64, "MIN") => Literal::F64(f64::MIN),
        (F64, "EPSILON") => Literal::F64(f64::EPSILON),
        (F64, "INFINITY") => Literal::F64(f64::INFINITY),
        (F64, "NEG_INFINITY") => Literal::F64(f64::NEG_INFINITY),
        _ => return None,
    })
}
