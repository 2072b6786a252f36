//! Expression emission. Atoms (locals, non-negative literals) and postfix forms (`p[i]`, `s.f`,
//! calls) are written bare; every other form is wrapped in parentheses, so any emitted expression
//! can be spliced anywhere without precedence surprises.

use super::prelude::div_helper;
use crate::error::IrError;
use crate::intrinsics;
use crate::ir::{BinOp, Expr, Function, Literal, ScalarType, Type, UnOp};
use crate::typeck::TypeEnv;

/// The C name of local `id`: its name hint plus its id, unique within the function.
pub(crate) fn local_name(func: &Function, id: crate::ir::LocalId) -> String {
    let hint = func.local(id).map_or("v", |d| d.name.as_str());
    format!("{hint}_{}", id.0)
}

/// A C literal with the exact value and type of `l`.
pub(crate) fn literal(l: Literal) -> String {
    match l {
        Literal::Bool(b) => b.to_string(),
        Literal::I32(i32::MIN) => "(-2147483647 - 1)".into(),
        Literal::I32(v) if v < 0 => format!("({v})"),
        Literal::I32(v) => v.to_string(),
        Literal::U32(v) => format!("{v}u"),
        Literal::I64(i64::MIN) => "(-9223372036854775807ll - 1ll)".into(),
        Literal::I64(v) if v < 0 => format!("({v}ll)"),
        Literal::I64(v) => format!("{v}ll"),
        Literal::U64(v) => format!("{v}ull"),
        // `{:?}` is Rust's shortest round-trip form and always has a `.` or an exponent, so the
        // C parser reads back the same value; non-finite values go through their bits.
        Literal::F32(v) if !v.is_finite() => format!("__uint_as_float({:#010x}u)", v.to_bits()),
        Literal::F32(v) if v.is_sign_negative() => format!("({v:?}f)"),
        Literal::F32(v) => format!("{v:?}f"),
        Literal::F64(v) if !v.is_finite() => {
            format!("__longlong_as_double((long long){:#018x}ull)", v.to_bits())
        }
        Literal::F64(v) if v.is_sign_negative() => format!("({v:?})"),
        Literal::F64(v) => format!("{v:?}"),
    }
}

/// The C spelling of a value type.
pub(crate) fn type_name(t: &Type) -> String {
    match t {
        Type::Void => "void".into(),
        Type::Scalar(s) => s.cuda_name().into(),
        Type::Struct(n) => n.clone(),
        Type::Ptr { pointee, mutable } => {
            let inner = Type::from(pointee);
            let c = if *mutable { "" } else { "const " };
            format!("{c}{}*", type_name(&inner))
        }
    }
}

/// Emits expressions of one function.
pub(crate) struct ExprEmitter<'a> {
    pub(crate) env: TypeEnv<'a>,
    pub(crate) func: &'a Function,
}

impl ExprEmitter<'_> {
    fn scalar(&self, e: &Expr) -> Result<ScalarType, IrError> {
        let t = self.env.value_type(e)?;
        t.as_scalar().ok_or(IrError::VoidValue {
            func: self.func.name.clone(),
        })
    }

    /// Emits `e` (verified IR).
    pub(crate) fn expr(&self, e: &Expr) -> Result<String, IrError> {
        Ok(match e {
            Expr::Lit(l) => literal(*l),
            Expr::Local(id) => local_name(self.func, *id),
            Expr::Unary(op, x) => {
                let ty = self.scalar(x)?;
                let xs = self.expr(x)?;
                match (op, ty.unsigned_twin()) {
                    // Wrapping negation without signed overflow (semantics rule 1).
                    (UnOp::Neg, Some(u)) => format!(
                        "(({})(0{} - ({}){xs}))",
                        ty.cuda_name(),
                        unsigned_suffix(u),
                        u.cuda_name()
                    ),
                    (UnOp::Neg, None) => format!("(-{xs})"),
                    (UnOp::Not, _) if ty == ScalarType::Bool => format!("(!{xs})"),
                    (UnOp::Not, _) => format!("(~{xs})"),
                }
            }
            Expr::Binary(op, a, b) => self.binary(*op, a, b)?,
            Expr::Cast(to, x) => {
                let from = self.scalar(x)?;
                let xs = self.expr(x)?;
                if from == *to {
                    xs
                } else if let Some(f) = float_to_int(from, *to) {
                    format!("{f}({xs})")
                } else {
                    format!("(({}){xs})", to.cuda_name())
                }
            }
            Expr::Field(base, field) => {
                let arrow = matches!(self.env.value_type(base)?, Type::Ptr { .. });
                let bs = self.expr(base)?;
                format!("{bs}{}{field}", if arrow { "->" } else { "." })
            }
            Expr::Index(p, i) => format!("{}[{}]", self.expr(p)?, self.expr(i)?),
            Expr::Call(name, args) => {
                let intr = intrinsics::lookup(name).ok_or_else(|| IrError::UnknownIntrinsic {
                    func: self.func.name.clone(),
                    name: name.clone(),
                })?;
                let args = args
                    .iter()
                    .map(|a| self.expr(a))
                    .collect::<Result<Vec<_>, _>>()?;
                intr.render_cuda(&args)
            }
            Expr::Select(c, a, b) => {
                format!(
                    "({} ? {} : {})",
                    self.expr(c)?,
                    self.expr(a)?,
                    self.expr(b)?
                )
            }
        })
    }

    fn binary(&self, op: BinOp, a: &Expr, b: &Expr) -> Result<String, IrError> {
        let ty = self.scalar(a)?;
        let (sa, sb) = (self.expr(a)?, self.expr(b)?);
        let t = ty.cuda_name();
        let tok = op.token();
        Ok(match op {
            BinOp::Add | BinOp::Sub | BinOp::Mul => match ty.unsigned_twin() {
                // Signed: compute in the unsigned twin, then convert back (rule 1).
                Some(u) if ty.is_signed_int() => {
                    let u = u.cuda_name();
                    format!("(({t})(({u}){sa} {tok} ({u}){sb}))")
                }
                _ => format!("({sa} {tok} {sb})"),
            },
            BinOp::Div | BinOp::Rem if ty.is_int() => {
                let which = if op == BinOp::Div { "div" } else { "rem" };
                format!("{}({sa}, {sb})", div_helper(which, ty))
            }
            BinOp::Rem if ty == ScalarType::F32 => format!("fmodf({sa}, {sb})"),
            BinOp::Rem => format!("fmod({sa}, {sb})"),
            BinOp::BitAnd | BinOp::BitOr | BinOp::BitXor if ty == ScalarType::Bool => {
                // `bool & bool` is an `int` in C; convert back so the expression stays `bool`.
                format!("((bool)({sa} {tok} {sb}))")
            }
            BinOp::Shl | BinOp::Shr => {
                // Mask the amount like Rust release builds (rule 2).
                let amount = format!("((unsigned int){sb} & {}u)", ty.bits() - 1);
                match ty.unsigned_twin() {
                    Some(u) if ty.is_signed_int() && op == BinOp::Shl => {
                        format!("(({t})(({}){sa} << {amount}))", u.cuda_name())
                    }
                    _ => format!("({sa} {tok} {amount})"),
                }
            }
            _ => format!("({sa} {tok} {sb})"),
        })
    }
}

fn unsigned_suffix(u: ScalarType) -> &'static str {
    if u == ScalarType::U64 {
        "ull"
    } else {
        "u"
    }
}

/// The prelude helper for float → integer `as` casts: truncating, saturating, NaN → 0 (rule 4).
fn float_to_int(from: ScalarType, to: ScalarType) -> Option<&'static str> {
    use ScalarType::*;
    Some(match (from, to) {
        (F32, I32) => "rk_f32_to_i32",
        (F32, U32) => "rk_f32_to_u32",
        (F32, I64) => "rk_f32_to_i64",
        (F32, U64) => "rk_f32_to_u64",
        (F64, I32) => "rk_f64_to_i32",
        (F64, U32) => "rk_f64_to_u32",
        (F64, I64) => "rk_f64_to_i64",
        (F64, U64) => "rk_f64_to_u64",
        _ => return None,
    })
}
