//! Constant folding with Rust semantics ([`crate::semantics`]): integer `+ - *` and negation wrap;
//! `/` and `%` fold only when they cannot trap (divisor non-zero and not `MIN / -1`); shifts fold
//! only when the amount is in `0..bits` (others keep their run-time masking); integer casts follow
//! `as`. Floats are never folded, except the exact sign flip of a negated literal.
//! Also: `&&`/`||` with a literal side, and `select` with a literal condition.

use super::walk::{replace_with, rewrite_block};
use super::Pass;
use crate::ir::{BinOp, Expr, Function, Literal, Module, ScalarType, UnOp};

/// The constant-folding pass.
#[derive(Debug, Clone, Copy, Default)]
pub struct ConstFold;

impl Pass for ConstFold {
    fn name(&self) -> &'static str {
        "const-fold"
    }

    fn run(&self, _module: &Module, func: &mut Function) -> bool {
        rewrite_block(&mut func.body, &mut fold_node)
    }
}

fn fold_node(e: &mut Expr) -> bool {
    let folded = match e {
        Expr::Unary(op, x) => x.as_lit().and_then(|l| fold_unary(*op, l)).map(Expr::Lit),
        Expr::Binary(op, a, b) => match (a.as_lit(), b.as_lit()) {
            (Some(x), Some(y)) => fold_binary(*op, x, y).map(Expr::Lit),
            _ => return fold_logical(e),
        },
        Expr::Cast(to, x) => x.as_lit().and_then(|l| fold_cast(*to, l)).map(Expr::Lit),
        Expr::Select(c, _, _) => match c.as_lit() {
            Some(Literal::Bool(which)) => {
                replace_with(e, |old| match old {
                    Expr::Select(_, a, b) => *(if which { a } else { b }),
                    other => other,
                });
                return true;
            }
            _ => None,
        },
        _ => None,
    };
    match folded {
        Some(new) => {
            *e = new;
            true
        }
        None => false,
    }
}

/// `&&` and `||` with one literal side. A non-literal side is dropped only if it is pure, or if
/// short-circuiting would never have evaluated it.
fn fold_logical(e: &mut Expr) -> bool {
    let Expr::Binary(op @ (BinOp::And | BinOp::Or), a, b) = e else {
        return false;
    };
    // `absorbing` is the value that decides the result: false for &&, true for ||.
    let absorbing = *op == BinOp::Or;
    let lhs = match a.as_lit() {
        Some(Literal::Bool(v)) => Some(v),
        _ => None,
    };
    let rhs = match b.as_lit() {
        Some(Literal::Bool(v)) => Some(v),
        _ => None,
    };
    let keep_b = lhs == Some(!absorbing);
    let keep_a = rhs == Some(!absorbing);
    let absorb = lhs == Some(absorbing) || (rhs == Some(absorbing) && a.is_pure());
    if absorb {
        *e = Expr::bool(absorbing);
    } else if keep_b {
        replace_with(e, |old| match old {
            Expr::Binary(_, _, b) => *b,
            other => other,
        });
    } else if keep_a {
        replace_with(e, |old| match old {
            Expr::Binary(_, a, _) => *a,
            other => other,
        });
    } else {
        return false;
    }
    true
}

fn fold_unary(op: UnOp, l: Literal) -> Option<Literal> {
    use Literal::*;
    Some(match (op, l) {
        (UnOp::Neg, I32(x)) => I32(x.wrapping_neg()),
        (UnOp::Neg, I64(x)) => I64(x.wrapping_neg()),
        // A sign flip is exact in IEEE 754, NaN included.
        (UnOp::Neg, F32(x)) => F32(-x),
        (UnOp::Neg, F64(x)) => F64(-x),
        (UnOp::Not, Bool(x)) => Bool(!x),
        (UnOp::Not, I32(x)) => I32(!x),
        (UnOp::Not, U32(x)) => U32(!x),
        (UnOp::Not, I64(x)) => I64(!x),
        (UnOp::Not, U64(x)) => U64(!x),
        _ => return None,
    })
}

/// Folds `x op y` for two literals; `None` when the result is left to run time.
pub(crate) fn fold_binary(op: BinOp, x: Literal, y: Literal) -> Option<Literal> {
    use Literal::*;
    if matches!(op, BinOp::Shl | BinOp::Shr) {
        return fold_shift(op, x, y);
    }
    macro_rules! int {
        ($a:expr, $b:expr, $ctor:path) => {{
            let (a, b) = ($a, $b);
            match op {
                BinOp::Add => Some($ctor(a.wrapping_add(b))),
                BinOp::Sub => Some($ctor(a.wrapping_sub(b))),
                BinOp::Mul => Some($ctor(a.wrapping_mul(b))),
                // `checked_*` is None exactly for the trapping cases: zero and MIN / -1.
                BinOp::Div => a.checked_div(b).map($ctor),
                BinOp::Rem => a.checked_rem(b).map($ctor),
                BinOp::BitAnd => Some($ctor(a & b)),
                BinOp::BitOr => Some($ctor(a | b)),
                BinOp::BitXor => Some($ctor(a ^ b)),
                BinOp::Eq => Some(Bool(a == b)),
                BinOp::Ne => Some(Bool(a != b)),
                BinOp::Lt => Some(Bool(a < b)),
                BinOp::Le => Some(Bool(a <= b)),
                BinOp::Gt => Some(Bool(a > b)),
                BinOp::Ge => Some(Bool(a >= b)),
                _ => None,
            }
        }};
    }
    match (x, y) {
        (I32(a), I32(b)) => int!(a, b, I32),
        (U32(a), U32(b)) => int!(a, b, U32),
        (I64(a), I64(b)) => int!(a, b, I64),
        (U64(a), U64(b)) => int!(a, b, U64),
        (Bool(a), Bool(b)) => Some(Bool(match op {
            BinOp::BitAnd | BinOp::And => a & b,
            BinOp::BitOr | BinOp::Or => a | b,
            BinOp::BitXor | BinOp::Ne => a ^ b,
            BinOp::Eq => a == b,
            BinOp::Lt => !a & b,
            BinOp::Le => a <= b,
            BinOp::Gt => a & !b,
            BinOp::Ge => a >= b,
            _ => return None,
        })),
        _ => None,
    }
}

fn fold_shift(op: BinOp, x: Literal, amount: Literal) -> Option<Literal> {
    use Literal::*;
    let bits = i128::from(x.ty().bits());
    let n = amount.as_i128()?;
    if !(0..bits).contains(&n) || !x.ty().is_int() {
        return None;
    }
    let n = u32::try_from(n).ok()?;
    let left = op == BinOp::Shl;
    Some(match x {
        I32(a) => I32(if left { a << n } else { a >> n }),
        U32(a) => U32(if left { a << n } else { a >> n }),
        I64(a) => I64(if left { a << n } else { a >> n }),
        U64(a) => U64(if left { a << n } else { a >> n }),
        _ => return None,
    })
}

/// Folds `l as to` between integer and bool types; float casts are left alone.
fn fold_cast(to: ScalarType, l: Literal) -> Option<Literal> {
    let v = match l {
        Literal::Bool(b) => i128::from(b),
        other => other.as_i128()?,
    };
    if to == ScalarType::Bool {
        return (l.ty() == ScalarType::Bool).then_some(l);
    }
    Literal::int_wrapping(to, v)
}

#[cfg(test)]
mod tests;
