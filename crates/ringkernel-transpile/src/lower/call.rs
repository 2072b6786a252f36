//! Calls: intrinsics by their Rust form (`x.sqrt()`, `f32::sqrt(x)`), `wrapping_*`,
//! `saturating_*`, `checked_*`
//! with its two supported consumers, and the context accessors.

use ringkernel_ir::intrinsics::{ParamType, TABLE};
use ringkernel_ir::ir::{BinOp, Expr, Literal, ScalarType, Stmt, UnOp};
use syn::Expr as E;

use super::{zero, Lowerer, Val};
use crate::diagnostic::{Diagnostic, Result};
use crate::literal::scalar_named;

/// `Some(v)`/`None` as a flag and a value (meaningless when the flag is false).
pub(crate) struct OptVal {
    pub(crate) ok: Expr,
    pub(crate) val: Val,
}

const OPTION_USE: &str = "`checked_*` gives an `Option`: use it as `x.checked_add(y).ok_or(\
                          HandlerError(CODE))?`, `x.checked_add(y).unwrap_or(d)` or \
                          `let Some(v) = x.checked_add(y) else { return Err(HandlerError(CODE)); };`";

impl Lowerer<'_> {
    pub(crate) fn method_call(
        &mut self,
        m: &syn::ExprMethodCall,
        expected: Option<ScalarType>,
        out: &mut Vec<Stmt>,
    ) -> Result<Val> {
        if m.turbofish.is_some() {
            return Err(Diagnostic::spanned(m, "unsupported: turbofish calls"));
        }
        let method = m.method.to_string();
        if let Some(v) = self.slice_method(m)? {
            return Ok(v);
        }
        if let Some(v) = self.ctx_method(m, &method)? {
            return Ok(v);
        }
        match method.as_str() {
            "unwrap_or" => {
                let o = self.option(&m.receiver, out)?;
                let [d] = args::<1>(m)?;
                let d = self.expr_of(d, o.val.ty, out)?;
                return Ok(Val::new(Expr::select(o.ok, o.val.e, d.e), o.val.ty));
            }
            "ok_or" => {
                return Err(Diagnostic::spanned(
                    m,
                    "`.ok_or(…)` must be followed by `?` (a `Result` value is not supported)",
                ))
            }
            m2 if m2.starts_with("checked_") => return Err(Diagnostic::spanned(m, OPTION_USE)),
            _ => {}
        }
        let recv = self.expr(&m.receiver, None, out)?;
        let args: Vec<&E> = m.args.iter().collect();
        self.call_on(&method, recv, &args, expected, m, out)
    }

    /// `TY::method(a, b…)` is `a.method(b…)`; `Ok`/`Err`/`Some` only as results and options.
    pub(crate) fn path_call(
        &mut self,
        c: &syn::ExprCall,
        expected: Option<ScalarType>,
        out: &mut Vec<Stmt>,
    ) -> Result<Val> {
        let E::Path(p) = &*c.func else {
            return Err(Diagnostic::spanned(
                c,
                "unsupported: calls through expressions",
            ));
        };
        let segs: Vec<String> = p
            .path
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect();
        match segs.as_slice() {
            [ty, method] if scalar_named(ty).is_some() => {
                let ty = scalar_named(ty).unwrap_or(ScalarType::I32);
                let mut it = c.args.iter();
                let Some(first) = it.next() else {
                    return Err(Diagnostic::spanned(c, "missing receiver argument"));
                };
                if method.starts_with("checked_") {
                    return Err(Diagnostic::spanned(c, OPTION_USE));
                }
                let recv = self.expr_of(first, ty, out)?;
                let rest: Vec<&E> = it.collect();
                self.call_on(method, recv, &rest, expected, c, out)
            }
            [name] if matches!(name.as_str(), "Ok" | "Err" | "HandlerError" | "Some") => {
                Err(Diagnostic::spanned(
                    c,
                    "`Ok(…)`/`Err(HandlerError(…))` are only supported as the handler's result: \
                     `return Ok(…);` or the final expression",
                ))
            }
            _ => Err(Diagnostic::spanned(
                c,
                "unsupported call: a GPU handler can call intrinsics (see docs/intrinsics.md) \
                 by their Rust form, not other functions",
            )),
        }
    }

    /// `recv.method(args)` once the receiver is lowered.
    fn call_on(
        &mut self,
        method: &str,
        recv: Val,
        args: &[&E],
        _expected: Option<ScalarType>,
        node: &impl quote::ToTokens,
        out: &mut Vec<Stmt>,
    ) -> Result<Val> {
        let ty = recv.ty;
        let wrapping = match method {
            "wrapping_add" => Some(BinOp::Add),
            "wrapping_sub" => Some(BinOp::Sub),
            "wrapping_mul" => Some(BinOp::Mul),
            "wrapping_shl" => Some(BinOp::Shl),
            "wrapping_shr" => Some(BinOp::Shr),
            _ => None,
        };
        if let Some(op) = wrapping.filter(|_| ty.is_int()) {
            let [a] = slice_args::<1>(args, node)?;
            let want = if matches!(op, BinOp::Shl | BinOp::Shr) {
                ScalarType::U32
            } else {
                ty
            };
            let mut pre = Vec::new();
            let b = self.expr_of(a, want, &mut pre)?;
            let recv = if pre.is_empty() {
                recv
            } else {
                self.spill(recv, out)
            };
            out.append(&mut pre);
            return Ok(Val::new(Expr::bin(op, recv.e, b.e), ty));
        }
        let saturating = match method {
            "saturating_add" => Some(BinOp::Add),
            "saturating_sub" => Some(BinOp::Sub),
            "saturating_mul" => Some(BinOp::Mul),
            _ => None,
        };
        if let Some(op) = saturating.filter(|_| ty.is_int()) {
            let [a] = slice_args::<1>(args, node)?;
            let mut pre = Vec::new();
            let b = self.expr_of(a, ty, &mut pre)?;
            let recv = if pre.is_empty() {
                recv
            } else {
                self.spill(recv, out)
            };
            out.append(&mut pre);
            let (recv, b) = (self.reuse(recv, out), self.reuse(b, out));
            let o = self.checked(op, recv.clone(), b.clone(), out);
            return Ok(Val::new(
                Expr::select(o.ok, o.val.e, saturated(op, ty, &recv.e, &b.e)),
                ty,
            ));
        }
        if method == "wrapping_neg" && ty.is_int() {
            slice_args::<0>(args, node)?;
            let e = if ty.is_signed_int() {
                Expr::unary(UnOp::Neg, recv.e)
            } else {
                Expr::bin(BinOp::Sub, Expr::Lit(zero(ty)), recv.e)
            };
            return Ok(Val::new(e, ty));
        }
        let name = format!("{method}_{}", ty.rust_name());
        let form = format!("x.{method}(");
        let row = TABLE
            .iter()
            .find(|r| r.name == name && r.rust.starts_with(&form))
            .filter(|r| r.params.iter().all(|p| matches!(p, ParamType::Scalar(_))));
        let Some(row) = row else {
            return Err(Diagnostic::spanned(
                node,
                format!(
                    "unsupported method `{method}` on `{ty}`: a GPU handler can call the \
                     intrinsics listed in docs/intrinsics.md, `wrapping_*`, `saturating_*` and `checked_*`"
                ),
            ));
        };
        if row.params.len() != args.len() + 1 {
            return Err(Diagnostic::spanned(
                node,
                format!(
                    "`{method}` takes {} argument(s)",
                    row.params.len().saturating_sub(1)
                ),
            ));
        }
        let mut lowered = vec![recv];
        for (a, p) in args.iter().zip(row.params.iter().skip(1)) {
            let ParamType::Scalar(want) = p else {
                return Err(Diagnostic::spanned(
                    node,
                    "pointer intrinsics are not supported",
                ));
            };
            let mut pre = Vec::new();
            let v = self.expr_of(a, *want, &mut pre)?;
            if !pre.is_empty() {
                let spilled: Vec<Val> = std::mem::take(&mut lowered);
                for s in spilled {
                    let s = self.spill(s, out);
                    lowered.push(s);
                }
                out.append(&mut pre);
            }
            lowered.push(v);
        }
        let ret = row.ret.unwrap_or(ty);
        Ok(Val::new(
            Expr::call(row.name, lowered.into_iter().map(|v| v.e).collect()),
            ret,
        ))
    }

    /// `ctx.self_id.raw()`, `ctx.sender.raw()`, `ctx.sender.is_host()`, `ctx.timestamp.raw()`.
    fn ctx_method(&mut self, m: &syn::ExprMethodCall, method: &str) -> Result<Option<Val>> {
        let E::Field(f) = &*m.receiver else {
            return Ok(None);
        };
        let E::Path(p) = &*f.base else {
            return Ok(None);
        };
        let is_ctx = p
            .path
            .get_ident()
            .is_some_and(|i| self.ctx_name.as_deref() == Some(i.to_string().as_str()));
        if !is_ctx {
            return Ok(None);
        }
        let field = match &f.member {
            syn::Member::Named(n) => n.to_string(),
            syn::Member::Unnamed(_) => String::new(),
        };
        let Some([self_id, sender, timestamp]) = self.ctx_ids else {
            return Ok(None);
        };
        let v = match (field.as_str(), method) {
            ("self_id", "raw") => Val::new(Expr::local(self_id), ScalarType::U32),
            ("sender", "raw") => Val::new(Expr::local(sender), ScalarType::U32),
            ("self_id", "is_host") => Val::new(
                Expr::bin(BinOp::Eq, Expr::local(self_id), Expr::u32(u32::MAX)),
                ScalarType::Bool,
            ),
            ("sender", "is_host") => Val::new(
                Expr::bin(BinOp::Eq, Expr::local(sender), Expr::u32(u32::MAX)),
                ScalarType::Bool,
            ),
            ("timestamp", "raw") => Val::new(Expr::local(timestamp), ScalarType::U64),
            _ => {
                return Err(Diagnostic::spanned(
                    m,
                    "unsupported context access: use `ctx.self_id.raw()`, `ctx.sender.raw()`, \
                     `ctx.sender.is_host()` or `ctx.timestamp.raw()`",
                ))
            }
        };
        if !m.args.is_empty() {
            return Err(Diagnostic::spanned(m, "this accessor takes no arguments"));
        }
        Ok(Some(v))
    }

    /// `x.checked_op(y)` (or `T::checked_op(x, y)`) as a flag and a value.
    pub(crate) fn option(&mut self, e: &E, out: &mut Vec<Stmt>) -> Result<OptVal> {
        let (method, a, b, ty_hint, node): (
            String,
            &E,
            &E,
            Option<ScalarType>,
            &dyn quote::ToTokens,
        ) = match e {
            E::MethodCall(m) if m.args.len() == 1 => {
                let [b] = args::<1>(m)?;
                (m.method.to_string(), &*m.receiver, b, None, m)
            }
            E::Call(c) => match (&*c.func, c.args.len()) {
                (E::Path(p), 2) if p.path.segments.len() == 2 => {
                    let mut segs = p.path.segments.iter().map(|s| s.ident.to_string());
                    let (ty, method) = (segs.next(), segs.next());
                    let mut it = c.args.iter();
                    match (
                        ty.as_deref().and_then(scalar_named),
                        method,
                        it.next(),
                        it.next(),
                    ) {
                        (Some(t), Some(m), Some(a), Some(b)) => (m, a, b, Some(t), c),
                        _ => return Err(Diagnostic::spanned(e, OPTION_USE)),
                    }
                }
                _ => return Err(Diagnostic::spanned(e, OPTION_USE)),
            },
            E::Paren(p) => return self.option(&p.expr, out),
            _ => return Err(Diagnostic::spanned(e, OPTION_USE)),
        };
        let op = match method.as_str() {
            "checked_add" => BinOp::Add,
            "checked_sub" => BinOp::Sub,
            "checked_mul" => BinOp::Mul,
            "checked_div" => BinOp::Div,
            "checked_rem" => BinOp::Rem,
            _ => return Err(Diagnostic::spanned(e, OPTION_USE)),
        };
        let (va, vb) = match ty_hint {
            Some(t) => {
                let va = self.expr_of(a, t, out)?;
                let mut pre = Vec::new();
                let vb = self.expr_of(b, t, &mut pre)?;
                let va = if pre.is_empty() {
                    va
                } else {
                    self.spill(va, out)
                };
                out.append(&mut pre);
                (va, vb)
            }
            None => self.pair(a, None, b, out, true)?,
        };
        if va.ty != vb.ty || !va.ty.is_int() {
            return Err(Diagnostic::spanned(
                node,
                format!("`{method}` needs two integers of one type"),
            ));
        }
        Ok(self.checked(op, va, vb, out))
    }

    /// `a.checked_op(b)` on lowered integer operands of one type.
    fn checked(&mut self, op: BinOp, va: Val, vb: Val, out: &mut Vec<Stmt>) -> OptVal {
        let ty = va.ty;
        let a = self.reuse(va, out).e;
        let b = self.reuse(vb, out).e;
        let lt = |x: Expr, y: Expr| Expr::bin(BinOp::Lt, x, y);
        let eq = |x: Expr, y: Expr| Expr::bin(BinOp::Eq, x, y);
        let z = Expr::Lit(zero(ty));
        let (min, neg1) = match ty {
            ScalarType::I32 => (Expr::i32(i32::MIN), Expr::i32(-1)),
            _ => (Expr::i64(i64::MIN), Expr::i64(-1)),
        };
        let signed = ty.is_signed_int();
        if matches!(op, BinOp::Div | BinOp::Rem) {
            let mut ok = Expr::bin(BinOp::Ne, b.clone(), z.clone());
            if signed {
                let overflow = Expr::bin(BinOp::And, eq(a.clone(), min), eq(b.clone(), neg1));
                ok = Expr::bin(BinOp::And, ok, Expr::unary(UnOp::Not, overflow));
            }
            let ok = self.temp("ok", Val::new(ok, ScalarType::Bool), out).e;
            // Lazy select: the division only runs when it cannot trap.
            let r = Expr::select(ok.clone(), Expr::bin(op, a, b), z);
            let r = self.temp("r", Val::new(r, ty), out);
            return OptVal { ok, val: r };
        }
        let r = self.temp("r", Val::new(Expr::bin(op, a.clone(), b.clone()), ty), out);
        let ok = match (op, signed) {
            // Unsigned: a wrapped sum is smaller than either operand.
            (BinOp::Add, false) => Expr::bin(BinOp::Ge, r.e.clone(), a),
            (BinOp::Sub, false) => Expr::bin(BinOp::Ge, a, b),
            // Signed: the result moved the wrong way for the sign of `b`.
            (BinOp::Add, true) => eq(lt(r.e.clone(), a), lt(b, z)),
            (BinOp::Sub, true) => eq(lt(r.e.clone(), a), Expr::bin(BinOp::Gt, b, z)),
            // Multiplication: divide back (the `a == 0` and `a == -1` cases cannot divide).
            (_, false) => Expr::bin(
                BinOp::Or,
                eq(a.clone(), z),
                eq(Expr::bin(BinOp::Div, r.e.clone(), a), b),
            ),
            (_, true) => Expr::select(
                eq(a.clone(), neg1),
                Expr::bin(BinOp::Ne, b.clone(), min),
                Expr::bin(
                    BinOp::Or,
                    eq(a.clone(), z),
                    eq(Expr::bin(BinOp::Div, r.e.clone(), a), b),
                ),
            ),
        };
        let ok = self.temp("ok", Val::new(ok, ScalarType::Bool), out).e;
        OptVal { ok, val: r }
    }

    /// `opt.ok_or(HandlerError(CODE))?`.
    pub(crate) fn try_expr(&mut self, t: &syn::ExprTry, out: &mut Vec<Stmt>) -> Result<Val> {
        if self.kernel.is_some() {
            return Err(Diagnostic::spanned(
                t,
                "unsupported `?`: a kernel function returns no `Result`; use \
                 `x.checked_op(y).unwrap_or(d)` or `let Some(v) = … else { return …; };`",
            ));
        }
        let E::MethodCall(m) = &*t.expr else {
            return Err(Diagnostic::spanned(
                t,
                "unsupported `?`: only `x.checked_op(y).ok_or(HandlerError(CODE))?` is supported",
            ));
        };
        if m.method != "ok_or" {
            return Err(Diagnostic::spanned(
                t,
                "unsupported `?`: only `x.checked_op(y).ok_or(HandlerError(CODE))?` is supported",
            ));
        }
        let o = self.option(&m.receiver, out)?;
        let [err] = args::<1>(m)?;
        let code = self.handler_error_code(err)?;
        let exit = self.exit(code, None);
        out.push(Stmt::if_else(
            Expr::unary(UnOp::Not, o.ok),
            exit,
            Vec::new(),
        ));
        Ok(o.val)
    }

    /// The constant code of `HandlerError(CODE)`: a nonzero `u32` literal or module constant.
    pub(crate) fn handler_error_code(&mut self, e: &E) -> Result<u32> {
        let bad = || {
            Diagnostic::spanned(
                e,
                "the error must be `HandlerError(CODE)` with CODE a nonzero `u32` literal or a \
                 `const` of the `#[gpu_actor]` module (the GPU reports it as a fixed code)",
            )
        };
        let E::Call(c) = e else { return Err(bad()) };
        let E::Path(p) = &*c.func else {
            return Err(bad());
        };
        if p.path
            .segments
            .last()
            .is_none_or(|s| s.ident != "HandlerError")
            || c.args.len() != 1
        {
            return Err(bad());
        }
        let Some(arg) = c.args.first() else {
            return Err(bad());
        };
        let mut scratch = Vec::new();
        let v = self.expr(arg, Some(ScalarType::U32), &mut scratch)?;
        // A constant expression (`BASE + 1`) folds with the reference interpreter; anything that
        // reads a local fails there and is rejected below.
        let folded = if scratch.is_empty() {
            ringkernel_ir::interp::eval(&v.e, &std::collections::HashMap::new()).ok()
        } else {
            None
        };
        match (folded, scratch.is_empty()) {
            (Some(Literal::U32(code)), true) if code != 0 => Ok(code),
            (Some(Literal::U32(0)), true) => Err(Diagnostic::spanned(
                e,
                "`HandlerError(0)` cannot be told apart from success on the GPU (code 0 means \
                 `Ok`); use a nonzero code",
            )),
            _ => Err(bad()),
        }
    }
}

fn args<const N: usize>(m: &syn::ExprMethodCall) -> Result<[&E; N]> {
    let v: Vec<&E> = m.args.iter().collect();
    slice_args::<N>(&v, m)
}

fn slice_args<'a, const N: usize>(
    args: &[&'a E],
    node: &impl quote::ToTokens,
) -> Result<[&'a E; N]> {
    <[&E; N]>::try_from(args.to_vec())
        .map_err(|_| Diagnostic::spanned(node, format!("expected {N} argument(s)")))
}

/// The bound an overflowing `saturating_op` clamps to.
fn saturated(op: BinOp, ty: ScalarType, a: &Expr, b: &Expr) -> Expr {
    let (min, max) = match ty {
        ScalarType::I32 => (Expr::i32(i32::MIN), Expr::i32(i32::MAX)),
        ScalarType::U32 => (Expr::u32(0), Expr::u32(u32::MAX)),
        ScalarType::I64 => (Expr::i64(i64::MIN), Expr::i64(i64::MAX)),
        _ => (Expr::u64(0), Expr::u64(u64::MAX)),
    };
    if !ty.is_signed_int() {
        return if op == BinOp::Sub { min } else { max };
    }
    let neg = |x: &Expr| Expr::bin(BinOp::Lt, x.clone(), Expr::Lit(zero(ty)));
    let pos = |x: &Expr| Expr::bin(BinOp::Gt, x.clone(), Expr::Lit(zero(ty)));
    let towards_min = match op {
        // a + b overflows down only when b < 0; a - b only when b > 0; a * b when signs differ.
        BinOp::Add => neg(b),
        BinOp::Sub => pos(b),
        _ => Expr::bin(BinOp::Ne, neg(a), neg(b)),
    };
    Expr::select(towards_min, min, max)
}
