//! Algebraic simplification, integers (and bools) only: floats are skipped entirely because
//! `x + 0.0` (−0.0), `x * 0.0`, `x - x` and `x == x` (NaN, infinities) change IEEE results.
//!
//! Rules: `x+0`, `0+x`, `x-0`, `x*1`, `1*x`, `x/1`, `x|0`, `0|x`, `x^0`, `0^x`, `x<<0`, `x>>0` → `x`;
//! `x*0`, `0*x`, `x&0`, `0&x`, `x%1` → `0` when the dropped side is pure; `x-x`, `x^x` → `0` and
//! `x&x`, `x|x` → `x` when `x` is stable (two evaluations agree); `x==x`, `x<=x`, `x>=x` → `true`
//! and `x!=x`, `x<x`, `x>x` → `false` for stable non-float `x`; `-(-x)` and `!!x` → `x` (exact
//! for every type: wrapping negation and IEEE sign flips are involutions).

use super::walk::{replace_with, rewrite_block};
use super::Pass;
use crate::ir::{BinOp, Expr, Function, Literal, Module};
use crate::typeck::TypeEnv;

/// The algebraic-simplification pass.
#[derive(Debug, Clone, Copy, Default)]
pub struct Simplify;

impl Pass for Simplify {
    fn name(&self) -> &'static str {
        "simplify"
    }

    fn run(&self, module: &Module, func: &mut Function) -> bool {
        // Rewrites keep every expression's type, so typing against a snapshot stays valid.
        let snapshot = func.clone();
        let env = TypeEnv::new(module, &snapshot);
        rewrite_block(&mut func.body, &mut |e| simplify_node(&env, e))
    }
}

enum Outcome {
    Keep,
    Left,
    Right,
    Lit(Literal),
}

fn simplify_node(env: &TypeEnv<'_>, e: &mut Expr) -> bool {
    if let Expr::Unary(op, x) = e {
        if matches!(&**x, Expr::Unary(inner, _) if inner == op) {
            replace_with(e, |old| match old {
                Expr::Unary(op, x) => match *x {
                    Expr::Unary(_, y) => *y,
                    // Not reached (checked above); rebuild the node unchanged.
                    inner => Expr::Unary(op, Box::new(inner)),
                },
                other => other,
            });
            return true;
        }
        return false;
    }
    let Expr::Binary(op, a, b) = e else {
        return false;
    };
    let Some(ty) = env.scalar_of(a) else {
        return false;
    };
    if ty.is_float() {
        return false;
    }
    let zero = Literal::zero(ty);
    let is0 = |x: &Expr| x.as_lit().is_some_and(|l| l.is_int(0));
    let is1 = |x: &Expr| x.as_lit().is_some_and(|l| l.is_int(1));
    let same = a == b && a.is_stable();
    use BinOp::*;
    let outcome = match op {
        Add | BitOr | BitXor if is0(b) => Outcome::Left,
        Add | BitOr | BitXor if is0(a) => Outcome::Right,
        Sub | Shl | Shr if is0(b) => Outcome::Left,
        Mul | Div if is1(b) => Outcome::Left,
        Mul if is1(a) => Outcome::Right,
        Mul | BitAnd if (is0(b) && a.is_pure()) || (is0(a) && b.is_pure()) => lit(zero),
        Rem if is1(b) && a.is_pure() => lit(zero),
        Sub | BitXor if same => lit(zero),
        BitAnd | BitOr if same => Outcome::Left,
        Eq | Le | Ge if same => Outcome::Lit(Literal::Bool(true)),
        Ne | Lt | Gt if same => Outcome::Lit(Literal::Bool(false)),
        _ => Outcome::Keep,
    };
    match outcome {
        Outcome::Keep => false,
        Outcome::Lit(l) => {
            *e = Expr::Lit(l);
            true
        }
        Outcome::Left | Outcome::Right => {
            let left = matches!(outcome, Outcome::Left);
            replace_with(e, |old| match old {
                Expr::Binary(_, a, b) => *(if left { a } else { b }),
                other => other,
            });
            true
        }
    }
}

fn lit(l: Option<Literal>) -> Outcome {
    l.map_or(Outcome::Keep, Outcome::Lit)
}

#[cfg(test)]
mod tests;
