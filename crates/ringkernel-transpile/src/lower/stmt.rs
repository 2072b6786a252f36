//! Statements: `let` (with `let Some(x) = … else`), assignments, `if`, blocks, and expression
//! statements; the loop forms live in `loops.rs`, results in `result.rs`.

use ringkernel_ir::ir::{Expr, ScalarType, Stmt, UnOp};
use syn::Expr as E;

use super::expr::{binop, is_untyped, unsupported};
use super::loops::{index_use, may_jump};
use super::Lowerer;
use crate::diagnostic::{Diagnostic, Result};
use crate::literal::scalar_type;

impl Lowerer<'_> {
    /// The handler body: statements, then the final `Result` expression (if any).
    pub(crate) fn fn_body(&mut self, b: &syn::Block, out: &mut Vec<Stmt>) -> Result<()> {
        super::attrs::reject_body_attributes(b)?;
        self.result_block(b, out)
    }

    /// Lowers statements in order. In a loop whose body can `break`/`continue`, the statements
    /// after one that may jump run only while neither flag is set.
    pub(crate) fn stmts(&mut self, stmts: &[syn::Stmt], out: &mut Vec<Stmt>) -> Result<()> {
        for (k, s) in stmts.iter().enumerate() {
            let rest = stmts.get(k + 1..).unwrap_or_default();
            self.stmt(s, rest, out)?;
            let flags = self.loops.last().copied().flatten();
            if let (Some(f), true) = (flags, may_jump(s)) {
                if rest.is_empty() {
                    return Ok(());
                }
                let mut inner = Vec::new();
                self.push_scope();
                let r = self.stmts(rest, &mut inner);
                self.pop_scope();
                r?;
                let jumped = Expr::bin(
                    ringkernel_ir::ir::BinOp::Or,
                    Expr::local(f.brk),
                    Expr::local(f.cont),
                );
                out.push(Stmt::if_else(
                    Expr::unary(UnOp::Not, jumped),
                    inner,
                    Vec::new(),
                ));
                return Ok(());
            }
        }
        Ok(())
    }

    /// One statement; `rest` is what follows it in the block (to infer `let` types).
    fn stmt(&mut self, s: &syn::Stmt, rest: &[syn::Stmt], out: &mut Vec<Stmt>) -> Result<()> {
        match s {
            syn::Stmt::Local(l) => self.local(l, rest, out),
            syn::Stmt::Expr(e, _) => self.expr_stmt(e, out),
            syn::Stmt::Item(i) => Err(Diagnostic::spanned(
                i,
                "unsupported: items (functions, structs, `use`) inside a GPU handler",
            )),
            syn::Stmt::Macro(m) => Err(Diagnostic::spanned(
                m,
                "unsupported: macros are not supported in a GPU handler (no `println!`, \
                 `assert!`, …)",
            )),
        }
    }

    fn local(&mut self, l: &syn::Local, rest: &[syn::Stmt], out: &mut Vec<Stmt>) -> Result<()> {
        if !l.attrs.is_empty() {
            return Err(Diagnostic::spanned(
                l,
                "attributes on `let` are not supported",
            ));
        }
        let Some(init) = &l.init else {
            return Err(Diagnostic::spanned(
                l,
                "a `let` needs an initial value on the GPU (`let x: T = …;`)",
            ));
        };
        // `let Some(x) = opt else { diverge };`
        if let Some((_, diverge)) = &init.diverge {
            let name = some_binding(&l.pat).ok_or_else(|| {
                Diagnostic::spanned(&l.pat, "only `let Some(name) = … else { … };` is supported")
            })?;
            let o = self.option(&init.expr, out)?;
            let mut otherwise = Vec::new();
            self.push_scope();
            let r = self.expr_stmt(diverge, &mut otherwise);
            self.pop_scope();
            r?;
            out.push(Stmt::if_else(
                Expr::unary(UnOp::Not, o.ok),
                otherwise,
                Vec::new(),
            ));
            let v = self.bind(&name, o.val.ty);
            out.push(Stmt::Let {
                local: v.id,
                init: o.val.e,
            });
            return Ok(());
        }
        let (pat, annotated) = match &l.pat {
            syn::Pat::Type(pt) => (&*pt.pat, Some(scalar_type(&pt.ty)?)),
            other => (other, None),
        };
        let name = match pat {
            syn::Pat::Ident(i) if i.by_ref.is_none() && i.subpat.is_none() => {
                Some(i.ident.to_string())
            }
            syn::Pat::Wild(_) => None,
            other => {
                return Err(Diagnostic::spanned(
                    other,
                    "unsupported pattern: `let` binds one name (no tuples or structs)",
                ))
            }
        };
        // An unannotated literal takes `usize` when the name is used as an index later, as rustc
        // infers; otherwise `i32`/`f64` (a conflicting later use is reported as a mismatch).
        let expected = annotated.or_else(|| {
            let n = name.as_deref()?;
            (is_untyped(&init.expr) && index_use(rest, n)).then_some(ScalarType::U64)
        });
        let v = match expected {
            Some(t) => self.expr_of(&init.expr, t, out)?,
            None => self.expr(&init.expr, None, out)?,
        };
        match name {
            Some(n) => {
                let var = self.bind(&n, v.ty);
                out.push(Stmt::Let {
                    local: var.id,
                    init: v.e,
                });
            }
            None => out.push(Stmt::Expr(v.e)),
        }
        Ok(())
    }

    /// A block in statement position, in the current scope (the caller opens one).
    pub(crate) fn stmt_expr_block(&mut self, b: &syn::Block, out: &mut Vec<Stmt>) -> Result<()> {
        self.stmts(&b.stmts, out)
    }

    fn stmt_block(&mut self, b: &syn::Block) -> Result<Vec<Stmt>> {
        let mut out = Vec::new();
        self.push_scope();
        let r = self.stmt_expr_block(b, &mut out);
        self.pop_scope();
        r.map(|()| out)
    }

    /// An expression in statement position.
    pub(crate) fn expr_stmt(&mut self, e: &E, out: &mut Vec<Stmt>) -> Result<()> {
        match e {
            E::Assign(a) => self.assign(&a.left, None, &a.right, a, out),
            E::Binary(b) => match binop(&b.op) {
                Some((op, true)) => self.assign(&b.left, Some(op), &b.right, b, out),
                _ => self.discard(e, out),
            },
            E::If(i) => {
                if matches!(&*i.cond, E::Let(_)) {
                    return Err(unsupported(&i.cond));
                }
                let c = self.expr_of(&i.cond, ScalarType::Bool, out)?;
                let then = self.stmt_block(&i.then_branch)?;
                let otherwise = match &i.else_branch {
                    None => Vec::new(),
                    Some((_, e)) => {
                        let mut o = Vec::new();
                        self.push_scope();
                        let r = self.expr_stmt(e, &mut o);
                        self.pop_scope();
                        r?;
                        o
                    }
                };
                out.push(Stmt::if_else(c.e, then, otherwise));
                Ok(())
            }
            E::Block(b) if b.label.is_none() => {
                let mut inner = self.stmt_block(&b.block)?;
                out.append(&mut inner);
                Ok(())
            }
            E::Match(m) => self
                .match_expr(m, super::matches::ArmKind::Stmt, out)
                .map(|_| ()),
            E::While(w) => self.while_loop(w, out),
            E::ForLoop(f) => self.for_loop(f, out),
            E::Loop(l) => self.loop_loop(l, out),
            E::Break(b) => self.break_stmt(b, out),
            E::Continue(c) => self.continue_stmt(c, out),
            E::Return(r) if self.kernel.is_some() => self.kernel_return(r, out),
            E::Return(r) => match &r.expr {
                Some(v) => self.result(v, out),
                None => Err(Diagnostic::spanned(
                    r,
                    "the handler returns a `Result`: write `return Ok(…)` or `return Err(…)`",
                )),
            },
            E::Paren(p) => self.expr_stmt(&p.expr, out),
            _ => self.discard(e, out),
        }
    }

    /// Evaluates `e` for its effects.
    fn discard(&mut self, e: &E, out: &mut Vec<Stmt>) -> Result<()> {
        let v = self.expr(e, None, out)?;
        out.push(Stmt::Expr(v.e));
        Ok(())
    }
}

/// `Some(name)` → `name`.
fn some_binding(p: &syn::Pat) -> Option<String> {
    let syn::Pat::TupleStruct(ts) = p else {
        return None;
    };
    if !ts.path.is_ident("Some") || ts.elems.len() != 1 {
        return None;
    }
    match ts.elems.first()? {
        syn::Pat::Ident(i) if i.by_ref.is_none() && i.subpat.is_none() => Some(i.ident.to_string()),
        _ => None,
    }
}
