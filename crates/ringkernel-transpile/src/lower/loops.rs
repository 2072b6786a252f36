//! Loops. The IR has `while` and `for … in a..b` but no `break`/`continue`, so a loop whose body
//! jumps gets two flags: `break` sets `brk` (tested by the loop condition), `continue` sets
//! `cont` (reset at the top of each iteration), and the statements after a jump run only while
//! neither is set (see `Lowerer::stmts`).

use ringkernel_ir::ir::{BinOp, Expr, ScalarType, Stmt, UnOp};
use syn::visit::Visit;
use syn::Expr as E;

use super::expr::is_untyped;
use super::{LoopFlags, Lowerer, Val};
use crate::diagnostic::{Diagnostic, Result};

#[derive(Default)]
struct Jumps {
    brk: bool,
    cont: bool,
}

impl<'ast> Visit<'ast> for Jumps {
    fn visit_expr_break(&mut self, _: &'ast syn::ExprBreak) {
        self.brk = true;
    }
    fn visit_expr_continue(&mut self, _: &'ast syn::ExprContinue) {
        self.cont = true;
    }
    // A nested loop owns the jumps in its body; closures are rejected anyway.
    fn visit_expr_while(&mut self, w: &'ast syn::ExprWhile) {
        self.visit_expr(&w.cond);
    }
    fn visit_expr_for_loop(&mut self, f: &'ast syn::ExprForLoop) {
        self.visit_expr(&f.expr);
    }
    fn visit_expr_loop(&mut self, _: &'ast syn::ExprLoop) {}
    fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
    fn visit_item(&mut self, _: &'ast syn::Item) {}
}

fn jumps_in(stmts: &[syn::Stmt]) -> Jumps {
    let mut j = Jumps::default();
    for s in stmts {
        j.visit_stmt(s);
    }
    j
}

/// True when `s` may `break` or `continue` the innermost enclosing loop.
pub(crate) fn may_jump(s: &syn::Stmt) -> bool {
    let j = jumps_in(std::slice::from_ref(s));
    j.brk || j.cont
}

/// True when `name` appears inside an index (`a[… name …]`) in `stmts`: rustc then infers
/// `usize` for an unannotated integer binding.
pub(crate) fn index_use(stmts: &[syn::Stmt], name: &str) -> bool {
    struct V<'a> {
        name: &'a str,
        in_index: bool,
        found: bool,
    }
    impl<'ast> Visit<'ast> for V<'_> {
        fn visit_expr_index(&mut self, i: &'ast syn::ExprIndex) {
            self.visit_expr(&i.expr);
            let was = self.in_index;
            self.in_index = true;
            self.visit_expr(&i.index);
            self.in_index = was;
        }
        fn visit_expr_path(&mut self, p: &'ast syn::ExprPath) {
            if self.in_index && p.path.is_ident(self.name) {
                self.found = true;
            }
        }
    }
    let mut v = V {
        name,
        in_index: false,
        found: false,
    };
    for s in stmts {
        v.visit_stmt(s);
    }
    v.found
}

fn no_label(label: &Option<syn::Label>) -> Result<()> {
    match label {
        Some(l) => Err(Diagnostic::spanned(
            l,
            "unsupported: loop labels (`break`/`continue` apply to the innermost loop)",
        )),
        None => Ok(()),
    }
}

impl Lowerer<'_> {
    /// Declares the flags of a jumping loop: `let brk = false;` before it.
    fn flags(&mut self, out: &mut Vec<Stmt>) -> LoopFlags {
        let brk = self.fb.local("brk", ScalarType::Bool);
        let cont = self.fb.local("cont", ScalarType::Bool);
        out.push(Stmt::Let {
            local: brk,
            init: Expr::bool(false),
        });
        LoopFlags { brk, cont }
    }

    /// The loop body; with flags, `let cont = false;` first.
    fn loop_body(&mut self, b: &syn::Block, flags: Option<LoopFlags>) -> Result<Vec<Stmt>> {
        let mut body = Vec::new();
        if let Some(f) = flags {
            body.push(Stmt::Let {
                local: f.cont,
                init: Expr::bool(false),
            });
        }
        self.loops.push(flags);
        self.push_scope();
        let r = self.stmt_expr_block(b, &mut body);
        self.pop_scope();
        self.loops.pop();
        r.map(|()| body)
    }

    pub(crate) fn while_loop(&mut self, w: &syn::ExprWhile, out: &mut Vec<Stmt>) -> Result<()> {
        no_label(&w.label)?;
        if matches!(&*w.cond, E::Let(_)) {
            return Err(super::expr::unsupported(&w.cond));
        }
        let j = jumps_in(&w.body.stmts);
        let mut pre = Vec::new();
        let c = self.expr_of(&w.cond, ScalarType::Bool, &mut pre)?;
        if !(j.brk || j.cont) && pre.is_empty() {
            let body = self.loop_body(&w.body, None)?;
            out.push(Stmt::While { cond: c.e, body });
            return Ok(());
        }
        // `while !brk { pre; if !cond { brk = true } else { body } }`
        let f = self.flags(out);
        let body = self.loop_body(&w.body, Some(f))?;
        pre.push(Stmt::if_else(
            Expr::unary(UnOp::Not, c.e),
            vec![Stmt::Assign {
                local: f.brk,
                value: Expr::bool(true),
            }],
            body,
        ));
        out.push(Stmt::While {
            cond: Expr::unary(UnOp::Not, Expr::local(f.brk)),
            body: pre,
        });
        Ok(())
    }

    pub(crate) fn loop_loop(&mut self, l: &syn::ExprLoop, out: &mut Vec<Stmt>) -> Result<()> {
        no_label(&l.label)?;
        let j = jumps_in(&l.body.stmts);
        let flags = (j.brk || j.cont).then(|| self.flags(out));
        let body = self.loop_body(&l.body, flags)?;
        // Without `break` the loop only ends by returning: `while true` tells the verifier so.
        let cond = match flags {
            Some(f) if j.brk => Expr::unary(UnOp::Not, Expr::local(f.brk)),
            _ => Expr::bool(true),
        };
        out.push(Stmt::While { cond, body });
        Ok(())
    }

    pub(crate) fn for_loop(&mut self, f: &syn::ExprForLoop, out: &mut Vec<Stmt>) -> Result<()> {
        no_label(&f.label)?;
        let name = match &*f.pat {
            syn::Pat::Ident(i) if i.by_ref.is_none() && i.subpat.is_none() => {
                Some(i.ident.to_string())
            }
            syn::Pat::Wild(_) => None,
            other => {
                return Err(Diagnostic::spanned(
                    other,
                    "unsupported `for` pattern: use a name or `_`",
                ))
            }
        };
        let E::Range(r) = &*f.expr else {
            return Err(Diagnostic::spanned(
                &f.expr,
                "unsupported: `for` loops run over an integer range `a..b` only (no iterators)",
            ));
        };
        let (Some(start), Some(end), syn::RangeLimits::HalfOpen(_)) = (&r.start, &r.end, &r.limits)
        else {
            return Err(Diagnostic::spanned(
                r,
                "unsupported range: write `a..b` (`..=` and open ranges are not supported)",
            ));
        };
        let expected = match &name {
            Some(n) if is_untyped(start) && is_untyped(end) && index_use(&f.body.stmts, n) => {
                Some(ScalarType::U64)
            }
            _ => None,
        };
        let (s, e) = self.pair(start, expected, end, out, true)?;
        if s.ty != e.ty || !s.ty.is_int() {
            return Err(Diagnostic::spanned(
                r,
                "range bounds must be integers of one type",
            ));
        }
        let ty = s.ty;
        let j = jumps_in(&f.body.stmts);
        self.push_scope();
        let r = self.for_inner(name.as_deref(), ty, s, e, j, &f.body, out);
        self.pop_scope();
        r
    }

    #[allow(clippy::too_many_arguments)] // one loop's parts; a struct would only rename them
    fn for_inner(
        &mut self,
        name: Option<&str>,
        ty: ScalarType,
        s: Val,
        e: Val,
        j: Jumps,
        body: &syn::Block,
        out: &mut Vec<Stmt>,
    ) -> Result<()> {
        if !(j.brk || j.cont) {
            let var = self.bind(name.unwrap_or("i"), ty);
            let body = self.loop_body(body, None)?;
            out.push(Stmt::ForRange {
                var: var.id,
                start: s.e,
                end: e.e,
                body,
            });
            return Ok(());
        }
        // `let cur = a; let end = b; while !brk && cur < end { let i = cur; body; cur += 1 }`
        // (`cur < end` before the increment, so it never overflows).
        let cur = self.fb.local("cur", ty);
        out.push(Stmt::Let {
            local: cur,
            init: s.e,
        });
        let end = self.temp("end", e, out);
        let f = self.flags(out);
        let var = self.bind(name.unwrap_or("i"), ty);
        let mut iter = vec![Stmt::Let {
            local: var.id,
            init: Expr::local(cur),
        }];
        iter.extend(self.loop_body(body, Some(f))?);
        let one = ringkernel_ir::ir::Literal::int_wrapping(ty, 1)
            .map(Expr::Lit)
            .unwrap_or(Expr::i32(1));
        iter.push(Stmt::Assign {
            local: cur,
            value: Expr::add(Expr::local(cur), one),
        });
        out.push(Stmt::While {
            cond: Expr::bin(
                BinOp::And,
                Expr::unary(UnOp::Not, Expr::local(f.brk)),
                Expr::bin(BinOp::Lt, Expr::local(cur), end.e),
            ),
            body: iter,
        });
        Ok(())
    }

    fn flags_here(&self, node: &impl quote::ToTokens, what: &str) -> Result<LoopFlags> {
        self.loops
            .last()
            .copied()
            .flatten()
            .ok_or_else(|| Diagnostic::spanned(node, format!("`{what}` outside a loop")))
    }

    pub(crate) fn break_stmt(&mut self, b: &syn::ExprBreak, out: &mut Vec<Stmt>) -> Result<()> {
        if b.label.is_some() || b.expr.is_some() {
            return Err(Diagnostic::spanned(
                b,
                "unsupported: `break` with a label or a value",
            ));
        }
        let f = self.flags_here(b, "break")?;
        out.push(Stmt::Assign {
            local: f.brk,
            value: Expr::bool(true),
        });
        Ok(())
    }

    pub(crate) fn continue_stmt(
        &mut self,
        c: &syn::ExprContinue,
        out: &mut Vec<Stmt>,
    ) -> Result<()> {
        if c.label.is_some() {
            return Err(Diagnostic::spanned(
                c,
                "unsupported: `continue` with a label",
            ));
        }
        let f = self.flags_here(c, "continue")?;
        out.push(Stmt::Assign {
            local: f.cont,
            value: Expr::bool(true),
        });
        Ok(())
    }
}
