//! Value expressions: literals, names, operators, casts, `if` and block expressions.

use ringkernel_ir::ir::{BinOp, Expr, ScalarType, Stmt, UnOp};
use syn::Expr as E;

use super::{zero, Lowerer, Val};
use crate::diagnostic::{Diagnostic, Result};
use crate::literal::{assoc_const, is_unsuffixed, literal, scalar_named, scalar_type};

/// True when `e` is built from unsuffixed literals only, so its type comes from the other operand.
pub(crate) fn is_untyped(e: &E) -> bool {
    match e {
        E::Lit(l) => is_unsuffixed(&l.lit),
        E::Paren(p) => is_untyped(&p.expr),
        E::Group(g) => is_untyped(&g.expr),
        E::Unary(u) => matches!(u.op, syn::UnOp::Neg(_) | syn::UnOp::Not(_)) && is_untyped(&u.expr),
        E::Binary(b) => {
            !matches!(binop(&b.op), Some((op, _)) if op.is_comparison() || matches!(op, BinOp::Shl | BinOp::Shr))
                && is_untyped(&b.left)
                && is_untyped(&b.right)
        }
        _ => false,
    }
}

/// The IR operator of a Rust binary operator, and whether it is a compound assignment.
pub(crate) fn binop(op: &syn::BinOp) -> Option<(BinOp, bool)> {
    use syn::BinOp as B;
    Some(match op {
        B::Add(_) => (BinOp::Add, false),
        B::Sub(_) => (BinOp::Sub, false),
        B::Mul(_) => (BinOp::Mul, false),
        B::Div(_) => (BinOp::Div, false),
        B::Rem(_) => (BinOp::Rem, false),
        B::And(_) => (BinOp::And, false),
        B::Or(_) => (BinOp::Or, false),
        B::BitXor(_) => (BinOp::BitXor, false),
        B::BitAnd(_) => (BinOp::BitAnd, false),
        B::BitOr(_) => (BinOp::BitOr, false),
        B::Shl(_) => (BinOp::Shl, false),
        B::Shr(_) => (BinOp::Shr, false),
        B::Eq(_) => (BinOp::Eq, false),
        B::Lt(_) => (BinOp::Lt, false),
        B::Le(_) => (BinOp::Le, false),
        B::Ne(_) => (BinOp::Ne, false),
        B::Ge(_) => (BinOp::Ge, false),
        B::Gt(_) => (BinOp::Gt, false),
        B::AddAssign(_) => (BinOp::Add, true),
        B::SubAssign(_) => (BinOp::Sub, true),
        B::MulAssign(_) => (BinOp::Mul, true),
        B::DivAssign(_) => (BinOp::Div, true),
        B::RemAssign(_) => (BinOp::Rem, true),
        B::BitXorAssign(_) => (BinOp::BitXor, true),
        B::BitAndAssign(_) => (BinOp::BitAnd, true),
        B::BitOrAssign(_) => (BinOp::BitOr, true),
        B::ShlAssign(_) => (BinOp::Shl, true),
        B::ShrAssign(_) => (BinOp::Shr, true),
        _ => return None,
    })
}

pub(crate) fn mismatch(
    node: &impl quote::ToTokens,
    want: ScalarType,
    got: ScalarType,
) -> Diagnostic {
    Diagnostic::spanned(
        node,
        format!(
            "type mismatch: expected `{want}`, found `{got}` (unsuffixed literals are `i32`/`f64` \
             unless the other operand fixes their type; add a suffix or a type annotation)"
        ),
    )
}

impl Lowerer<'_> {
    /// Lowers `e` expecting type `want` (checked).
    pub(crate) fn expr_of(&mut self, e: &E, want: ScalarType, out: &mut Vec<Stmt>) -> Result<Val> {
        let v = self.expr(e, Some(want), out)?;
        if v.ty != want {
            return Err(mismatch(e, want, v.ty));
        }
        Ok(v)
    }

    /// Lowers value expression `e`; `expected` types unsuffixed literals.
    pub(crate) fn expr(
        &mut self,
        e: &E,
        expected: Option<ScalarType>,
        out: &mut Vec<Stmt>,
    ) -> Result<Val> {
        match e {
            E::Lit(l) => {
                let lit = literal(&l.lit, false, expected)?;
                Ok(Val::new(Expr::Lit(lit), lit.ty()))
            }
            E::Paren(p) => self.expr(&p.expr, expected, out),
            E::Group(g) => self.expr(&g.expr, expected, out),
            E::Path(p) => self.path_value(p),
            E::Unary(u) => self.unary(u, expected, out),
            E::Binary(b) => self.binary(b, expected, out),
            E::Cast(c) => {
                let to = scalar_type(&c.ty)?;
                let v = self.expr(&c.expr, None, out)?;
                let ok = v.ty == to
                    || (v.ty != ScalarType::Bool && to != ScalarType::Bool)
                    || (v.ty == ScalarType::Bool && to.is_int());
                if !ok {
                    return Err(Diagnostic::spanned(
                        c,
                        format!("cannot cast `{}` as `{to}`", v.ty),
                    ));
                }
                Ok(Val::new(Expr::cast(to, v.e), to))
            }
            E::Field(_) | E::Index(_) => self.read_place(e, out),
            E::If(i) => self.if_value(i, expected, out),
            E::Block(b) if b.label.is_none() => {
                self.push_scope();
                let r = self.block_value(&b.block, expected, out);
                self.pop_scope();
                r
            }
            E::MethodCall(m) => self.method_call(m, expected, out),
            E::Call(c) => self.path_call(c, expected, out),
            E::Try(t) => self.try_expr(t, out),
            E::Match(m) => self
                .match_expr(m, super::matches::ArmKind::Value(expected), out)?
                .ok_or_else(|| unsupported(e)),
            _ => Err(unsupported(e)),
        }
    }

    fn path_value(&mut self, p: &syn::ExprPath) -> Result<Val> {
        if p.qself.is_some() {
            return Err(unsupported_path(p));
        }
        let segs: Vec<String> = p
            .path
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect();
        match segs.as_slice() {
            [name] => {
                if let Some(v) = self.lookup(name) {
                    return Ok(Val::new(Expr::local(v.id), v.ty));
                }
                if let Some(l) = self.model.consts.get(name) {
                    return Ok(Val::new(Expr::Lit(*l), l.ty()));
                }
                if self.is_slice_name(name) {
                    return Err(Diagnostic::spanned(
                        p,
                        format!(
                            "`{name}` is a slice: a kernel function indexes it (`{name}[i]`) or \
                             reads `{name}.len()`; slices are not values"
                        ),
                    ));
                }
                let role = [&self.state_name, &self.msg_name, &self.ctx_name]
                    .iter()
                    .any(|n| n.as_deref() == Some(name.as_str()));
                Err(Diagnostic::spanned(
                    p,
                    if role {
                        format!(
                            "`{name}` can only be used through its fields here (`{name}.field`)"
                        )
                    } else {
                        format!(
                            "`{name}` is not visible to the transpiler: use a local, or a scalar \
                             `const` defined inside the `#[gpu_actor]` module"
                        )
                    },
                ))
            }
            [ty, c] => scalar_named(ty)
                .and_then(|t| assoc_const(t, c))
                .map(|l| Val::new(Expr::Lit(l), l.ty()))
                .ok_or_else(|| unsupported_path(p)),
            _ => Err(unsupported_path(p)),
        }
    }

    fn unary(
        &mut self,
        u: &syn::ExprUnary,
        expected: Option<ScalarType>,
        out: &mut Vec<Stmt>,
    ) -> Result<Val> {
        match u.op {
            syn::UnOp::Neg(_) => {
                // `-128i32`-style literals: negate before range-checking, as rustc does.
                if let E::Lit(l) = &*u.expr {
                    if matches!(l.lit, syn::Lit::Int(_) | syn::Lit::Float(_)) {
                        let lit = literal(&l.lit, true, expected)?;
                        return Ok(Val::new(Expr::Lit(lit), lit.ty()));
                    }
                }
                let v = self.expr(&u.expr, expected, out)?;
                if !(v.ty.is_signed_int() || v.ty.is_float()) {
                    return Err(Diagnostic::spanned(u, format!("cannot negate `{}`", v.ty)));
                }
                Ok(Val::new(Expr::unary(UnOp::Neg, v.e), v.ty))
            }
            syn::UnOp::Not(_) => {
                let v = self.expr(&u.expr, expected, out)?;
                if v.ty.is_float() {
                    return Err(Diagnostic::spanned(u, "cannot apply `!` to a float"));
                }
                Ok(Val::new(Expr::unary(UnOp::Not, v.e), v.ty))
            }
            _ => Err(Diagnostic::spanned(
                u,
                "unsupported: dereference is only allowed as `Ok(*state)` / `Ok(*msg)` (the \
                 transpiler has no references or pointers)",
            )),
        }
    }

    /// Lowers `a` then `b`; if `b` needed statements, `a` is first saved so those statements
    /// cannot change it (Rust evaluates `a` before `b`).
    pub(crate) fn pair(
        &mut self,
        a: &E,
        ea: Option<ScalarType>,
        b: &E,
        out: &mut Vec<Stmt>,
        b_expected_from_a: bool,
    ) -> Result<(Val, Val)> {
        // An untyped left side takes the right side's type: lower the right side first (a
        // literal-only left side has no effects, so the order is unobservable).
        if b_expected_from_a && is_untyped(a) && !is_untyped(b) {
            let mut pre = Vec::new();
            let vb = self.expr(b, ea, &mut pre)?;
            let va = self.expr(a, Some(vb.ty), out)?;
            out.append(&mut pre);
            return Ok((va, vb));
        }
        let va = self.expr(a, ea, out)?;
        let mut pre = Vec::new();
        let eb = if b_expected_from_a { Some(va.ty) } else { None };
        let vb = self.expr(b, eb, &mut pre)?;
        let va = if pre.is_empty() {
            va
        } else {
            self.spill(va, out)
        };
        out.append(&mut pre);
        Ok((va, vb))
    }

    fn binary(
        &mut self,
        b: &syn::ExprBinary,
        expected: Option<ScalarType>,
        out: &mut Vec<Stmt>,
    ) -> Result<Val> {
        let Some((op, false)) = binop(&b.op) else {
            return Err(Diagnostic::spanned(
                b,
                "compound assignment is a statement, not a value",
            ));
        };
        if matches!(op, BinOp::And | BinOp::Or) {
            return self.short_circuit(op, b, out);
        }
        let (operand_expected, same) = match op {
            _ if op.is_comparison() => (None, true),
            BinOp::Shl | BinOp::Shr => (expected, false),
            _ => (expected, true),
        };
        let (va, vb) = self.pair(&b.left, operand_expected, &b.right, out, same)?;
        if same && va.ty != vb.ty {
            return Err(mismatch(&b.right, va.ty, vb.ty));
        }
        if matches!(op, BinOp::Shl | BinOp::Shr) && !(va.ty.is_int() && vb.ty.is_int()) {
            return Err(Diagnostic::spanned(b, "shifts take integer operands"));
        }
        self.apply(op, va, vb, b, out)
    }

    /// `a op b` on lowered operands, with Rust's panics (division) turned into guarded exits.
    pub(crate) fn apply(
        &mut self,
        op: BinOp,
        va: Val,
        vb: Val,
        node: &impl quote::ToTokens,
        out: &mut Vec<Stmt>,
    ) -> Result<Val> {
        let ty = va.ty;
        let ok = match op {
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Rem => {
                ty.is_int() || ty.is_float()
            }
            BinOp::BitAnd | BinOp::BitOr | BinOp::BitXor => ty.is_int() || ty == ScalarType::Bool,
            BinOp::Shl | BinOp::Shr => ty.is_int(),
            BinOp::Eq | BinOp::Ne => true,
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => true,
            BinOp::And | BinOp::Or => ty == ScalarType::Bool,
        };
        if !ok {
            return Err(Diagnostic::spanned(
                node,
                format!("operator `{}` does not apply to `{ty}`", op.token()),
            ));
        }
        if matches!(op, BinOp::Div | BinOp::Rem) && ty.is_int() {
            // Rust panics on a zero divisor and on MIN / -1; the CPU backend reports a panic as
            // PANIC_CODE, so the GPU handler exits with that code instead of trapping.
            let va = self.reuse(va, out);
            let vb = self.reuse(vb, out);
            let zero_lit = Expr::Lit(zero(ty));
            let mut ok = Expr::bin(BinOp::Ne, vb.e.clone(), zero_lit);
            if ty.is_signed_int() {
                let (min, neg1) = match ty {
                    ScalarType::I32 => (Expr::i32(i32::MIN), Expr::i32(-1)),
                    _ => (Expr::i64(i64::MIN), Expr::i64(-1)),
                };
                let overflow = Expr::bin(
                    BinOp::And,
                    Expr::bin(BinOp::Eq, va.e.clone(), min),
                    Expr::bin(BinOp::Eq, vb.e.clone(), neg1),
                );
                ok = Expr::bin(BinOp::And, ok, Expr::unary(UnOp::Not, overflow));
            }
            if !matches!(ok, Expr::Lit(_)) {
                self.panic_unless(ok, out);
            }
            return Ok(Val::new(Expr::bin(op, va.e, vb.e), ty));
        }
        let rty = if op.is_comparison() {
            ScalarType::Bool
        } else {
            ty
        };
        Ok(Val::new(Expr::bin(op, va.e, vb.e), rty))
    }

    fn short_circuit(
        &mut self,
        op: BinOp,
        b: &syn::ExprBinary,
        out: &mut Vec<Stmt>,
    ) -> Result<Val> {
        let va = self.expr_of(&b.left, ScalarType::Bool, out)?;
        let mut pre = Vec::new();
        let vb = self.expr_of(&b.right, ScalarType::Bool, &mut pre)?;
        if pre.is_empty() {
            return Ok(Val::new(Expr::bin(op, va.e, vb.e), ScalarType::Bool));
        }
        // The right side has statements: run them only when the left side does not decide.
        let t = self.fb.local("t", ScalarType::Bool);
        out.push(Stmt::Let {
            local: t,
            init: va.e,
        });
        pre.push(Stmt::Assign {
            local: t,
            value: vb.e,
        });
        let cond = if op == BinOp::And {
            Expr::local(t)
        } else {
            Expr::unary(UnOp::Not, Expr::local(t))
        };
        out.push(Stmt::if_else(cond, pre, Vec::new()));
        Ok(Val::new(Expr::local(t), ScalarType::Bool))
    }

    fn if_value(
        &mut self,
        i: &syn::ExprIf,
        expected: Option<ScalarType>,
        out: &mut Vec<Stmt>,
    ) -> Result<Val> {
        let Some((_, else_branch)) = &i.else_branch else {
            return Err(Diagnostic::spanned(
                i,
                "an `if` used as a value needs an `else`",
            ));
        };
        if matches!(&*i.cond, E::Let(_)) {
            return Err(unsupported(&i.cond));
        }
        let c = self.expr_of(&i.cond, ScalarType::Bool, out)?;
        // A literal-only `then` value takes the `else` value's type: lower `else` first (each
        // branch goes to its own block, so the order is unobservable).
        let then_untyped =
            matches!(i.then_branch.stmts.last(), Some(syn::Stmt::Expr(t, None)) if is_untyped(t));
        let else_first = expected.is_none() && then_untyped && !is_untyped(else_branch);
        let (mut pa, mut pb) = (Vec::new(), Vec::new());
        let mut b = None;
        if else_first {
            b = Some(self.expr(else_branch, None, &mut pb)?);
        }
        self.push_scope();
        let a = self.block_value(
            &i.then_branch,
            b.as_ref().map(|b| b.ty).or(expected),
            &mut pa,
        );
        self.pop_scope();
        let a = a?;
        let b = match b {
            Some(b) => b,
            None => self.expr(else_branch, Some(a.ty), &mut pb)?,
        };
        if a.ty != b.ty {
            return Err(mismatch(else_branch, a.ty, b.ty));
        }
        if pa.is_empty() && pb.is_empty() {
            return Ok(Val::new(Expr::select(c.e, a.e, b.e), a.ty));
        }
        let t = self.fb.local("t", a.ty);
        out.push(Stmt::Let {
            local: t,
            init: Expr::Lit(zero(a.ty)),
        });
        pa.push(Stmt::Assign {
            local: t,
            value: a.e,
        });
        pb.push(Stmt::Assign {
            local: t,
            value: b.e,
        });
        out.push(Stmt::if_else(c.e, pa, pb));
        Ok(Val::new(Expr::local(t), a.ty))
    }

    /// A `{ stmts; tail }` block as a value (the caller opens the scope).
    pub(crate) fn block_value(
        &mut self,
        b: &syn::Block,
        expected: Option<ScalarType>,
        out: &mut Vec<Stmt>,
    ) -> Result<Val> {
        let Some((last, init)) = b.stmts.split_last() else {
            return Err(Diagnostic::spanned(b, "this block has no value"));
        };
        let syn::Stmt::Expr(tail, None) = last else {
            return Err(Diagnostic::spanned(
                b,
                "a block used as a value must end in an expression without `;`",
            ));
        };
        for s in init {
            if super::loops::may_jump(s) {
                return Err(Diagnostic::spanned(
                    s,
                    "`break`/`continue` inside a block used as a value is not supported",
                ));
            }
        }
        self.stmts(init, out)?;
        self.expr(tail, expected, out)
    }
}

/// The generic "not in the subset" diagnostic, with a reason per construct.
pub(crate) fn unsupported(e: &E) -> Diagnostic {
    let why = match e {
        E::Closure(_) => "closures are not supported on the GPU",
        E::Macro(_) => "macros are not supported in a GPU handler (no `println!`, `assert!`, …)",
        E::Unsafe(_) => "`unsafe` blocks are not supported in a GPU handler",
        E::Reference(_) => "references are not supported: only the handler's own parameters are",
        E::Array(_) | E::Repeat(_) => "array values are only supported as reply fields",
        E::Tuple(_) => "tuples are not supported",
        E::Struct(_) => "struct literals are only supported as `Ok(Reply { ... })`",
        E::Async(_) | E::Await(_) => "async is not supported",
        E::Let(_) => "`if let` / `while let` are not supported (only `let Some(x) = … else`)",
        E::Range(_) => "ranges are only supported as `for` loop bounds",
        E::Return(_) => "`return` is a statement here, not a value",
        E::Break(_) | E::Continue(_) => "`break`/`continue` must be statements",
        E::Loop(_) | E::While(_) | E::ForLoop(_) => "loops are statements, not values",
        E::Assign(_) => "assignment is a statement, not a value",
        E::Yield(_) => "generators are not supported",
        _ => "this expression is not in the GPU subset (see docs/transpiler.md)",
    };
    Diagnostic::spanned(e, format!("unsupported: {why}"))
}

fn unsupported_path(p: &syn::ExprPath) -> Diagnostic {
    Diagnostic::spanned(
        p,
        "unsupported path: only locals, module constants and scalar constants such as \
         `u32::MAX` are visible to the transpiler",
    )
}
