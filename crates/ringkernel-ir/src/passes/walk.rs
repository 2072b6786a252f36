//! Mutable traversal shared by the passes: visit every expression of a block bottom-up.

use crate::ir::{Block, Expr, Place, Stmt};

/// Applies `f` to every sub-expression of `e`, children before parents. Returns whether any call
/// reported a change.
pub(crate) fn rewrite_expr(e: &mut Expr, f: &mut impl FnMut(&mut Expr) -> bool) -> bool {
    let mut changed = false;
    match e {
        Expr::Lit(_) | Expr::Local(_) => {}
        Expr::Unary(_, x) | Expr::Cast(_, x) | Expr::Field(x, _) => changed |= rewrite_expr(x, f),
        Expr::Binary(_, a, b) | Expr::Index(a, b) => {
            changed |= rewrite_expr(a, f);
            changed |= rewrite_expr(b, f);
        }
        Expr::Call(_, args) => {
            for a in args {
                changed |= rewrite_expr(a, f);
            }
        }
        Expr::Select(c, a, b) => {
            changed |= rewrite_expr(c, f);
            changed |= rewrite_expr(a, f);
            changed |= rewrite_expr(b, f);
        }
    }
    changed | f(e)
}

fn rewrite_place(p: &mut Place, f: &mut impl FnMut(&mut Expr) -> bool) -> bool {
    match p {
        Place::Deref(e) => rewrite_expr(e, f),
        Place::Index(a, b) => rewrite_expr(a, f) | rewrite_expr(b, f),
        Place::Field(inner, _) => rewrite_place(inner, f),
    }
}

/// Applies [`rewrite_expr`] to every expression in `block`, recursively.
pub(crate) fn rewrite_block(block: &mut Block, f: &mut impl FnMut(&mut Expr) -> bool) -> bool {
    let mut changed = false;
    for s in block {
        changed |= match s {
            Stmt::Let { init: e, .. }
            | Stmt::Assign { value: e, .. }
            | Stmt::Expr(e)
            | Stmt::Return(Some(e)) => rewrite_expr(e, f),
            Stmt::Return(None) => false,
            Stmt::Store { place, value } => rewrite_place(place, f) | rewrite_expr(value, f),
            Stmt::If {
                cond,
                then,
                otherwise,
            } => rewrite_expr(cond, f) | rewrite_block(then, f) | rewrite_block(otherwise, f),
            Stmt::While { cond, body } => rewrite_expr(cond, f) | rewrite_block(body, f),
            Stmt::ForRange {
                start, end, body, ..
            } => rewrite_expr(start, f) | rewrite_expr(end, f) | rewrite_block(body, f),
        };
    }
    changed
}

/// Replaces `*e` with the result of `g(old)`; `g` takes the old expression by value.
pub(crate) fn replace_with(e: &mut Expr, g: impl FnOnce(Expr) -> Expr) {
    let old = std::mem::replace(e, Expr::bool(false));
    *e = g(old);
}
