//! `match` on an integer or `bool` as an `if` chain: the scrutinee is evaluated once, each arm's
//! patterns (literals, `a..=b` / `a..b` ranges, `|`, `_`, a binding) and guard become its
//! condition, tested in order. rustc has checked exhaustiveness, so the last arm without a guard
//! needs no test.

use ringkernel_ir::ir::{BinOp, Expr, ScalarType, Stmt};
use syn::{Expr as E, Pat};

use super::{Lowerer, Val};
use crate::diagnostic::{Diagnostic, Result};

/// How the arms' bodies are lowered: as statements, as the handler's result, or as a value.
#[derive(Clone, Copy)]
pub(crate) enum ArmKind {
    Stmt,
    Result,
    Value(Option<ScalarType>),
}

/// One lowered arm: its condition and body (statements, and the value for `ArmKind::Value`).
struct Arm {
    cond: Expr,
    body: Vec<Stmt>,
    value: Option<Val>,
}

impl Lowerer<'_> {
    /// The condition under which `pat` matches `scrutinee` (a pure expression), and the name it
    /// binds, if any.
    fn pattern(&mut self, pat: &Pat, s: &Val) -> Result<(Expr, Option<String>)> {
        let cmp = |op, bound: Val| Expr::bin(op, s.e.clone(), bound.e);
        Ok(match pat {
            Pat::Wild(_) => (Expr::bool(true), None),
            Pat::Paren(p) => self.pattern(&p.pat, s)?,
            Pat::Ident(i) if i.by_ref.is_none() && i.subpat.is_none() => {
                (Expr::bool(true), Some(i.ident.to_string()))
            }
            Pat::Lit(l) => {
                let v = self.bound(&E::Lit(l.clone()), s.ty)?;
                (cmp(BinOp::Eq, v), None)
            }
            Pat::Range(r) => {
                let mut c = Expr::bool(true);
                if let Some(lo) = &r.start {
                    let lo = self.bound(lo, s.ty)?;
                    c = cmp(BinOp::Ge, lo);
                }
                if let Some(hi) = &r.end {
                    let hi = self.bound(hi, s.ty)?;
                    let op = match r.limits {
                        syn::RangeLimits::Closed(_) => BinOp::Le,
                        syn::RangeLimits::HalfOpen(_) => BinOp::Lt,
                    };
                    c = Expr::bin(BinOp::And, c, cmp(op, hi));
                }
                (c, None)
            }
            Pat::Or(o) => {
                let mut c = Expr::bool(false);
                for case in &o.cases {
                    let (ci, bind) = self.pattern(case, s)?;
                    if bind.is_some() {
                        return Err(Diagnostic::spanned(
                            case,
                            "bindings inside `|` patterns are not supported",
                        ));
                    }
                    c = Expr::bin(BinOp::Or, c, ci);
                }
                (c, None)
            }
            other => {
                return Err(Diagnostic::spanned(
                    other,
                    "unsupported pattern: `match` arms take literals, ranges, `|`, `_` or a name",
                ))
            }
        })
    }

    /// A pattern bound: a (possibly negated) literal or constant of the scrutinee's type.
    fn bound(&mut self, e: &E, ty: ScalarType) -> Result<Val> {
        let mut pre = Vec::new();
        let v = self.expr_of(e, ty, &mut pre)?;
        if !pre.is_empty() || v.e.as_lit().is_none() {
            return Err(Diagnostic::spanned(
                e,
                "a pattern bound must be a literal or a constant",
            ));
        }
        Ok(v)
    }

    /// Lowers `m` as `kind`; for `ArmKind::Value`, returns the value.
    pub(crate) fn match_expr(
        &mut self,
        m: &syn::ExprMatch,
        kind: ArmKind,
        out: &mut Vec<Stmt>,
    ) -> Result<Option<Val>> {
        let s = self.expr(&m.expr, None, out)?;
        if !(s.ty.is_int() || s.ty == ScalarType::Bool) {
            return Err(Diagnostic::spanned(
                &m.expr,
                "`match` is supported on integers and `bool`",
            ));
        }
        let s = self.temp("scrut", s, out);
        // For a value, arms whose body fixes the type are lowered first, so literal-only arms
        // take that type (each arm's code goes to its own block, so the order is unobservable).
        let mut order: Vec<usize> = (0..m.arms.len()).collect();
        if matches!(kind, ArmKind::Value(None)) {
            order.sort_by_key(|&k| {
                m.arms
                    .get(k)
                    .is_some_and(|a| super::expr::is_untyped(&a.body))
            });
        }
        let mut want = match kind {
            ArmKind::Value(t) => t,
            _ => None,
        };
        let mut lowered: Vec<Option<Arm>> = (0..m.arms.len()).map(|_| None).collect();
        for k in order {
            let Some(arm) = m.arms.get(k) else { continue };
            let a = self.arm(arm, &s, kind, want, out)?;
            if let Some(v) = &a.value {
                want.get_or_insert(v.ty);
            }
            if let Some(slot) = lowered.get_mut(k) {
                *slot = Some(a);
            }
        }
        let mut arms: Vec<Arm> = lowered.into_iter().flatten().collect();
        let mut result = None;
        if let ArmKind::Value(_) = kind {
            let ty = want.unwrap_or(ScalarType::I32);
            let t = self.fb.local("t", ty);
            out.push(Stmt::Let {
                local: t,
                init: Expr::Lit(super::zero(ty)),
            });
            for (a, arm) in arms.iter_mut().zip(&m.arms) {
                let Some(v) = a.value.take() else { continue };
                if v.ty != ty {
                    return Err(super::expr::mismatch(&arm.body, ty, v.ty));
                }
                a.body.push(Stmt::Assign {
                    local: t,
                    value: v.e,
                });
            }
            result = Some(Val::new(Expr::local(t), ty));
        }
        // Build the chain from the last arm; rustc checked exhaustiveness, so when every earlier
        // arm failed, an unguarded last arm matches.
        let mut chain: Vec<Stmt> = Vec::new();
        let n = arms.len();
        for (k, (a, arm)) in arms.into_iter().zip(&m.arms).enumerate().rev() {
            chain = if k + 1 == n && arm.guard.is_none() {
                a.body
            } else {
                vec![Stmt::if_else(a.cond, a.body, chain)]
            };
        }
        out.extend(chain);
        Ok(result)
    }

    fn arm(
        &mut self,
        arm: &syn::Arm,
        s: &Val,
        kind: ArmKind,
        want: Option<ScalarType>,
        out: &mut Vec<Stmt>,
    ) -> Result<Arm> {
        let (mut cond, bind) = self.pattern(&arm.pat, s)?;
        self.push_scope();
        let r = self.arm_inner(arm, s, kind, want, bind, &mut cond, out);
        self.pop_scope();
        let (body, value) = r?;
        Ok(Arm { cond, body, value })
    }

    #[allow(clippy::too_many_arguments)] // one arm's parts
    fn arm_inner(
        &mut self,
        arm: &syn::Arm,
        s: &Val,
        kind: ArmKind,
        want: Option<ScalarType>,
        bind: Option<String>,
        cond: &mut Expr,
        out: &mut Vec<Stmt>,
    ) -> Result<(Vec<Stmt>, Option<Val>)> {
        if let Some(name) = &bind {
            // A binding is the scrutinee itself (a temp, so this copy is pure and may run
            // before the test).
            let v = self.bind(name, s.ty);
            out.push(Stmt::Let {
                local: v.id,
                init: s.e.clone(),
            });
        }
        if let Some((_, g)) = &arm.guard {
            let mut pre = Vec::new();
            let gv = self.expr_of(g, ScalarType::Bool, &mut pre)?;
            if !pre.is_empty() {
                return Err(Diagnostic::spanned(
                    g,
                    "a `match` guard must be a plain condition (no checked arithmetic, indexing \
                     or division)",
                ));
            }
            *cond = Expr::bin(BinOp::And, cond.clone(), gv.e);
        }
        let mut body = Vec::new();
        let value = match kind {
            ArmKind::Stmt => {
                self.expr_stmt(&arm.body, &mut body)?;
                None
            }
            ArmKind::Result => {
                self.result(&arm.body, &mut body)?;
                None
            }
            ArmKind::Value(_) => Some(self.expr(&arm.body, want, &mut body)?),
        };
        Ok((body, value))
    }
}
