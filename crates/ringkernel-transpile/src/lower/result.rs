//! The handler's result: `Ok(reply)` and `Err(HandlerError(CODE))` in tail position, after
//! `return`, or in the branches of a tail `if`/`else`.
//!
//! A reply is `*state`, `*msg` (when that is the reply type) or a struct literal of the reply
//! type, whose array fields take `[a, b, …]`, `[v; N]` or a same-shaped array field of the state
//! or message; `..*state` fills the fields not written.

use ringkernel_ir::ir::{Expr, Stmt};
use syn::Expr as E;

use super::{Lowerer, Slot, Val};
use crate::diagnostic::{Diagnostic, Result};

const RESULT_FORMS: &str = "the handler's result must be `Ok(reply)` or \
                            `Err(HandlerError(CODE))` (directly, after `return`, or in both \
                            branches of an `if`/`else`)";

impl Lowerer<'_> {
    /// A block whose value is the handler's result (statements, then a result tail if any).
    pub(crate) fn result_block(&mut self, b: &syn::Block, out: &mut Vec<Stmt>) -> Result<()> {
        match b.stmts.split_last() {
            Some((syn::Stmt::Expr(tail, None), init)) => {
                self.stmts(init, out)?;
                self.result(tail, out)
            }
            _ => self.stmts(&b.stmts, out),
        }
    }

    /// Lowers result expression `e` into statements that leave the handler.
    pub(crate) fn result(&mut self, e: &E, out: &mut Vec<Stmt>) -> Result<()> {
        match e {
            E::Paren(p) => self.result(&p.expr, out),
            E::Return(r) => match &r.expr {
                Some(v) => self.result(v, out),
                None => Err(Diagnostic::spanned(r, RESULT_FORMS)),
            },
            E::Block(b) if b.label.is_none() => {
                self.push_scope();
                let r = self.result_block(&b.block, out);
                self.pop_scope();
                r
            }
            E::If(i) => {
                let Some((_, other)) = &i.else_branch else {
                    return Err(Diagnostic::spanned(i, RESULT_FORMS));
                };
                if matches!(&*i.cond, E::Let(_)) {
                    return Err(super::expr::unsupported(&i.cond));
                }
                let c = self.expr_of(&i.cond, ringkernel_ir::ir::ScalarType::Bool, out)?;
                let mut then = Vec::new();
                self.push_scope();
                let r = self.result_block(&i.then_branch, &mut then);
                self.pop_scope();
                r?;
                let mut otherwise = Vec::new();
                self.push_scope();
                let r = self.result(other, &mut otherwise);
                self.pop_scope();
                r?;
                out.push(Stmt::if_else(c.e, then, otherwise));
                Ok(())
            }
            E::Match(m) => self
                .match_expr(m, super::matches::ArmKind::Result, out)
                .map(|_| ()),
            E::Loop(_) | E::While(_) | E::ForLoop(_) => self.expr_stmt(e, out),
            E::Call(c) => {
                let E::Path(p) = &*c.func else {
                    return Err(Diagnostic::spanned(c, RESULT_FORMS));
                };
                let (Some(arg), 1) = (c.args.first(), c.args.len()) else {
                    return Err(Diagnostic::spanned(c, RESULT_FORMS));
                };
                if p.path.is_ident("Ok") {
                    let values = self.reply_value(arg, out)?;
                    out.extend(self.exit(0, Some(values)));
                    Ok(())
                } else if p.path.is_ident("Err") {
                    let code = self.handler_error_code(arg)?;
                    out.extend(self.exit(code, None));
                    Ok(())
                } else {
                    Err(Diagnostic::spanned(c, RESULT_FORMS))
                }
            }
            _ => Err(Diagnostic::spanned(e, RESULT_FORMS)),
        }
    }

    /// The slots of `*state` / `*msg` if `e` is one, with the struct's Rust name.
    fn whole_param(&self, e: &E) -> Option<(&std::collections::HashMap<String, Slot>, String)> {
        let E::Unary(u) = e else { return None };
        if !matches!(u.op, syn::UnOp::Deref(_)) {
            return None;
        }
        let E::Path(p) = &*u.expr else { return None };
        let name = p.path.get_ident()?.to_string();
        if self.state_name.as_deref() == Some(name.as_str()) {
            Some((&self.state_slots, self.state.name.clone()))
        } else if self.msg_name.as_deref() == Some(name.as_str()) {
            Some((&self.msg_slots, self.msg.name.clone()))
        } else {
            None
        }
    }

    /// The reply's scalars in memory order.
    fn reply_value(&mut self, e: &E, out: &mut Vec<Stmt>) -> Result<Vec<Expr>> {
        let reply = self.reply;
        if reply.name == crate::model::UNIT {
            return match e {
                E::Tuple(t) if t.elems.is_empty() => Ok(Vec::new()),
                _ => Err(Diagnostic::spanned(
                    e,
                    "the reply type is `()`: write `Ok(())`",
                )),
            };
        }
        if let Some((slots, ty)) = self.whole_param(e) {
            if ty != reply.name {
                return Err(Diagnostic::spanned(
                    e,
                    format!("the reply type is `{}`, not `{ty}`", reply.name),
                ));
            }
            return Ok(reply
                .fields
                .iter()
                .filter_map(|f| slots.get(&f.name))
                .flat_map(|s| s.ids.iter().map(|id| Expr::local(*id)))
                .collect());
        }
        let E::Struct(s) = e else {
            return Err(Diagnostic::spanned(
                e,
                format!(
                    "the reply must be a `{}` struct literal, `*state` or `*msg`",
                    reply.name
                ),
            ));
        };
        if s.qself.is_some() || s.path.segments.last().is_none_or(|l| l.ident != reply.name) {
            return Err(Diagnostic::spanned(
                &s.path,
                format!("the reply type is `{}`", reply.name),
            ));
        }
        let base = match &s.rest {
            Some(r) => Some(self.whole_param(r).ok_or_else(|| {
                Diagnostic::spanned(r, "only `..*state` or `..*msg` can fill the other fields")
            })?),
            None => None,
        };
        if let Some((_, ty)) = &base {
            if *ty != reply.name {
                return Err(Diagnostic::spanned(
                    &s.rest,
                    format!("`..` must be a `{}`", reply.name),
                ));
            }
        }
        let base: Option<std::collections::HashMap<String, Slot>> = base.map(|(m, _)| m.clone());
        // Fields in source order (Rust's evaluation order); a value whose lowering needed
        // statements first saves the values before it, which those statements could change.
        let mut done: Vec<(String, Vec<Val>)> = Vec::new();
        for fv in &s.fields {
            let syn::Member::Named(n) = &fv.member else {
                return Err(Diagnostic::spanned(fv, "named fields only"));
            };
            let name = n.to_string();
            let Some(layout) = reply.field(&name) else {
                return Err(Diagnostic::spanned(n, format!("no field `{name}`")));
            };
            let mut pre = Vec::new();
            let vals = match layout.len {
                None => vec![self.expr_of(&fv.expr, layout.ty, &mut pre)?],
                Some(n) => self.array_value(&fv.expr, layout.ty, n, &mut pre)?,
            };
            if !pre.is_empty() {
                for (_, vs) in done.iter_mut() {
                    for v in vs.iter_mut() {
                        *v = self.spill(v.clone(), out);
                    }
                }
                out.append(&mut pre);
            }
            done.push((name, vals));
        }
        let mut values = Vec::new();
        for f in &reply.fields {
            if let Some((_, vs)) = done.iter().find(|(n, _)| *n == f.name) {
                values.extend(vs.iter().map(|v| v.e.clone()));
            } else if let Some(slot) = base.as_ref().and_then(|b| b.get(&f.name)) {
                values.extend(slot.ids.iter().map(|id| Expr::local(*id)));
            } else {
                return Err(Diagnostic::spanned(
                    s,
                    format!("missing field `{}` in the reply", f.name),
                ));
            }
        }
        Ok(values)
    }

    fn array_value(
        &mut self,
        e: &E,
        ty: ringkernel_ir::ir::ScalarType,
        n: usize,
        out: &mut Vec<Stmt>,
    ) -> Result<Vec<Val>> {
        let wrong_len = || Diagnostic::spanned(e, format!("expected an array of {n} `{ty}`"));
        match e {
            E::Array(a) => {
                if a.elems.len() != n {
                    return Err(wrong_len());
                }
                let mut vals: Vec<Val> = Vec::new();
                for el in &a.elems {
                    let mut pre = Vec::new();
                    let v = self.expr_of(el, ty, &mut pre)?;
                    if !pre.is_empty() {
                        for x in vals.iter_mut() {
                            *x = self.spill(x.clone(), out);
                        }
                        out.append(&mut pre);
                    }
                    vals.push(v);
                }
                Ok(vals)
            }
            E::Repeat(r) => {
                let len = match &*r.len {
                    E::Lit(syn::ExprLit {
                        lit: syn::Lit::Int(i),
                        ..
                    }) => i.base10_parse::<usize>().ok(),
                    _ => None,
                };
                if len != Some(n) {
                    return Err(wrong_len());
                }
                let v = self.expr_of(&r.expr, ty, out)?;
                let v = self.spill(v, out);
                Ok(vec![v; n])
            }
            E::Field(f) => {
                let slot = match &*f.base {
                    E::Path(p) => {
                        let name = p.path.get_ident().map(|i| i.to_string());
                        let member = match &f.member {
                            syn::Member::Named(m) => m.to_string(),
                            syn::Member::Unnamed(_) => String::new(),
                        };
                        if name.is_some() && name == self.state_name {
                            self.state_slots.get(&member).cloned()
                        } else if name.is_some() && name == self.msg_name {
                            self.msg_slots.get(&member).cloned()
                        } else {
                            None
                        }
                    }
                    _ => None,
                };
                match slot {
                    Some(s) if s.is_array && s.ty == ty && s.ids.len() == n => Ok(s
                        .ids
                        .iter()
                        .map(|id| Val::new(Expr::local(*id), ty))
                        .collect()),
                    _ => Err(wrong_len()),
                }
            }
            _ => Err(Diagnostic::spanned(
                e,
                "an array reply field takes `[a, b, …]`, `[v; N]` or an array field of the \
                 state or message",
            )),
        }
    }
}
