//! Places: state and message fields (scalars and array elements) and locals, read and written.
//!
//! An array element with a run-time index is found by comparing the index with each position
//! (the elements are separate locals): a read is a `select` chain, a write an `if` chain. An index
//! past the end exits with [`super::PANIC_CODE`], where native Rust panics.

use std::collections::HashSet;

use ringkernel_ir::ir::{BinOp, Expr, Literal, ScalarType, Stmt};
use syn::visit::Visit;
use syn::Expr as E;

use super::expr::binop;
use super::{Lowerer, Slot, Val};
use crate::diagnostic::{Diagnostic, Result};

const CTX_FIELDS: &str = "context fields are read with `ctx.self_id.raw()`, `ctx.sender.raw()`, \
                          `ctx.sender.is_host()` or `ctx.timestamp.raw()`";

/// The name at the root of a field chain (`ctx` in `ctx.self_id.0`).
fn root_name(e: &E) -> Option<String> {
    match e {
        E::Field(f) => root_name(&f.base),
        E::Path(p) => p.path.get_ident().map(|i| i.to_string()),
        _ => None,
    }
}

/// Which parameter a field access goes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Root {
    State,
    Msg,
}

/// Fields of `state` that the handler assigns anywhere (`state.f = …`, `state.a[i] += …`).
pub(crate) fn assigned_fields(block: &syn::Block, state: &str) -> HashSet<String> {
    struct V<'a> {
        state: &'a str,
        found: HashSet<String>,
    }
    impl V<'_> {
        fn target(&mut self, e: &E) {
            let mut e = e;
            loop {
                match e {
                    E::Index(i) => e = &i.expr,
                    E::Paren(p) => e = &p.expr,
                    E::Field(f) => {
                        if let (E::Path(p), syn::Member::Named(n)) = (&*f.base, &f.member) {
                            if p.path.is_ident(self.state) {
                                self.found.insert(n.to_string());
                            }
                        }
                        return;
                    }
                    _ => return,
                }
            }
        }
    }
    impl<'ast> Visit<'ast> for V<'_> {
        fn visit_expr_assign(&mut self, a: &'ast syn::ExprAssign) {
            self.target(&a.left);
            syn::visit::visit_expr_assign(self, a);
        }
        fn visit_expr_binary(&mut self, b: &'ast syn::ExprBinary) {
            if matches!(binop(&b.op), Some((_, true))) {
                self.target(&b.left);
            }
            syn::visit::visit_expr_binary(self, b);
        }
    }
    let mut v = V {
        state,
        found: HashSet::new(),
    };
    v.visit_block(block);
    v.found
}

impl Lowerer<'_> {
    /// The slot behind `base.field` if `base` is the state or message parameter.
    fn field_slot(&self, f: &syn::ExprField) -> Result<(Root, Slot)> {
        if self.kernel.is_some() {
            return Err(Diagnostic::spanned(
                f,
                "unsupported field access: a kernel function's values are scalars and slices \
                 (no structs, tuples or fields)",
            ));
        }
        let E::Path(p) = &*f.base else {
            if self.ctx_name.is_some() && root_name(&f.base) == self.ctx_name {
                return Err(Diagnostic::spanned(f, CTX_FIELDS));
            }
            return Err(Diagnostic::spanned(
                f,
                "unsupported field access: only `state.field` and `msg.field` (the handler's \
                 parameters) have fields on the GPU",
            ));
        };
        let syn::Member::Named(member) = &f.member else {
            return Err(Diagnostic::spanned(f, "tuple fields are not supported"));
        };
        let name = p
            .path
            .get_ident()
            .map(|i| i.to_string())
            .unwrap_or_default();
        let member = member.to_string();
        let (root, slots) = if self.state_name.as_deref() == Some(name.as_str()) {
            (Root::State, &self.state_slots)
        } else if self.msg_name.as_deref() == Some(name.as_str()) {
            (Root::Msg, &self.msg_slots)
        } else if self.ctx_name.as_deref() == Some(name.as_str()) {
            return Err(Diagnostic::spanned(f, CTX_FIELDS));
        } else {
            return Err(Diagnostic::spanned(
                f,
                format!("`{name}` has no fields on the GPU: only the state and message do"),
            ));
        };
        slots
            .get(&member)
            .cloned()
            .map(|s| (root, s))
            .ok_or_else(|| Diagnostic::spanned(f, format!("no field `{member}`")))
    }

    /// Reads `state.f`, `msg.f`, `state.a[i]` or `msg.a[i]`.
    pub(crate) fn read_place(&mut self, e: &E, out: &mut Vec<Stmt>) -> Result<Val> {
        match e {
            E::Field(f) => {
                let (_, slot) = self.field_slot(f)?;
                match (slot.is_array, slot.ids.first()) {
                    (false, Some(id)) => Ok(Val::new(Expr::local(*id), slot.ty)),
                    _ => Err(Diagnostic::spanned(
                        f,
                        "an array field can only be indexed (`a[i]`) or copied into a reply \
                         field",
                    )),
                }
            }
            E::Index(ix) => {
                if let Some(v) = self.slice_read(&ix.expr, &ix.index, out)? {
                    return Ok(v);
                }
                let slot = self.array_slot(&ix.expr)?;
                let i = self.index(&ix.index, slot.ids.len(), out)?;
                let elems: Vec<Expr> = slot.ids.iter().map(|id| Expr::local(*id)).collect();
                Ok(Val::new(select_chain(&i, elems), slot.ty))
            }
            _ => Err(super::expr::unsupported(e)),
        }
    }

    fn array_slot(&self, base: &E) -> Result<Slot> {
        match base {
            E::Field(f) => {
                let (_, slot) = self.field_slot(f)?;
                if slot.is_array {
                    Ok(slot)
                } else {
                    Err(Diagnostic::spanned(
                        f,
                        "indexing a field that is not an array",
                    ))
                }
            }
            E::Paren(p) => self.array_slot(&p.expr),
            other => Err(Diagnostic::spanned(
                other,
                "unsupported: only array fields of the state and message can be indexed",
            )),
        }
    }

    /// A checked index: a literal position, or a `u64` temp known to be `< len`.
    fn index(&mut self, e: &E, len: usize, out: &mut Vec<Stmt>) -> Result<Index> {
        let v = self.expr(e, Some(ScalarType::U64), out)?;
        if !v.ty.is_int() {
            return Err(Diagnostic::spanned(e, "an index must be an integer"));
        }
        if let Some(k) = v.e.as_lit().and_then(Literal::as_i128) {
            if let Some(k) = usize::try_from(k).ok().filter(|k| *k < len) {
                return Ok(Index::Const(k));
            }
        }
        // rustc requires `usize`; other integer types only reach here from code rustc rejects.
        let i = self.temp(
            "idx",
            Val::new(Expr::cast(ScalarType::U64, v.e), ScalarType::U64),
            out,
        );
        self.panic_unless(
            Expr::bin(BinOp::Lt, i.e.clone(), Expr::u64(len as u64)),
            out,
        );
        Ok(Index::Dyn(i.e))
    }

    /// `target = value` or `target op= value`, with Rust's order: value first, then the place.
    pub(crate) fn assign(
        &mut self,
        target: &E,
        op: Option<BinOp>,
        value: &E,
        node: &impl quote::ToTokens,
        out: &mut Vec<Stmt>,
    ) -> Result<()> {
        match target {
            E::Paren(p) => self.assign(&p.expr, op, value, node, out),
            E::Path(p) => {
                let name = p
                    .path
                    .get_ident()
                    .map(|i| i.to_string())
                    .unwrap_or_default();
                let var = self.lookup(&name).ok_or_else(|| {
                    Diagnostic::spanned(p, "only locals and state fields can be assigned")
                })?;
                let v = self.assigned_value(
                    Val::new(Expr::local(var.id), var.ty),
                    op,
                    value,
                    node,
                    out,
                )?;
                out.push(Stmt::Assign {
                    local: var.id,
                    value: v.e,
                });
                Ok(())
            }
            E::Field(f) => {
                let (root, slot) = self.field_slot(f)?;
                let id = match (root, slot.is_array, slot.ids.first()) {
                    (Root::State, false, Some(id)) => *id,
                    (Root::Msg, _, _) => {
                        return Err(Diagnostic::spanned(f, "the message is read-only"))
                    }
                    _ => {
                        return Err(Diagnostic::spanned(
                            f,
                            "whole arrays cannot be assigned; assign elements",
                        ))
                    }
                };
                let v =
                    self.assigned_value(Val::new(Expr::local(id), slot.ty), op, value, node, out)?;
                out.push(Stmt::Assign {
                    local: id,
                    value: v.e,
                });
                Ok(())
            }
            E::Index(ix) => {
                if self.slice_assign(ix, op, value, node, out)? {
                    return Ok(());
                }
                // Value first (Rust evaluates a primitive assignment's value before its place).
                let slot = self.array_slot(&ix.expr)?;
                if !matches!(&*ix.expr, E::Field(f) if self.field_slot(f).is_ok_and(|(r, _)| r == Root::State))
                {
                    return Err(Diagnostic::spanned(ix, "the message is read-only"));
                }
                let shift = matches!(op, Some(BinOp::Shl | BinOp::Shr));
                let val = self.expr(value, (!shift).then_some(slot.ty), out)?;
                if val.ty != slot.ty && !shift {
                    return Err(super::expr::mismatch(value, slot.ty, val.ty));
                }
                let val = self.spill(val, out);
                let i = self.index(&ix.index, slot.ids.len(), out)?;
                let mut cases = Vec::new();
                for (k, id) in slot.ids.iter().enumerate() {
                    let cur = Val::new(Expr::local(*id), slot.ty);
                    let mut body = Vec::new();
                    let new = match op {
                        Some(op) => self.apply(op, cur, val.clone(), node, &mut body)?,
                        None => val.clone(),
                    };
                    body.push(Stmt::Assign {
                        local: *id,
                        value: new.e,
                    });
                    cases.push((k, body));
                }
                out.extend(if_chain(&i, cases));
                Ok(())
            }
            other => Err(Diagnostic::spanned(
                other,
                "unsupported assignment target: assign locals, `state.field` or `state.array[i]`",
            )),
        }
    }

    /// The new value of an assignment to `cur`.
    fn assigned_value(
        &mut self,
        cur: Val,
        op: Option<BinOp>,
        value: &E,
        node: &impl quote::ToTokens,
        out: &mut Vec<Stmt>,
    ) -> Result<Val> {
        match op {
            None => self.expr_of(value, cur.ty, out),
            Some(op @ (BinOp::Shl | BinOp::Shr)) => {
                let v = self.expr(value, None, out)?;
                self.apply(op, cur, v, node, out)
            }
            Some(op) => {
                let v = self.expr_of(value, cur.ty, out)?;
                self.apply(op, cur, v, node, out)
            }
        }
    }
}

/// A checked array position.
enum Index {
    Const(usize),
    Dyn(Expr),
}

fn select_chain(i: &Index, elems: Vec<Expr>) -> Expr {
    match i {
        Index::Const(k) => elems.into_iter().nth(*k).unwrap_or(Expr::u32(0)),
        Index::Dyn(i) => {
            // The bounds check already ran, so the last element needs no comparison.
            let mut it = elems.into_iter().enumerate().rev();
            let Some((_, mut acc)) = it.next() else {
                return Expr::u32(0);
            };
            for (k, e) in it {
                acc = Expr::select(Expr::bin(BinOp::Eq, i.clone(), Expr::u64(k as u64)), e, acc);
            }
            acc
        }
    }
}

fn if_chain(i: &Index, cases: Vec<(usize, Vec<Stmt>)>) -> Vec<Stmt> {
    match i {
        Index::Const(k) => cases
            .into_iter()
            .find(|(j, _)| j == k)
            .map(|(_, b)| b)
            .unwrap_or_default(),
        Index::Dyn(i) => {
            let mut it = cases.into_iter().rev();
            let Some((_, mut acc)) = it.next() else {
                return Vec::new();
            };
            for (k, body) in it {
                acc = vec![Stmt::if_else(
                    Expr::bin(BinOp::Eq, i.clone(), Expr::u64(k as u64)),
                    body,
                    acc,
                )];
            }
            acc
        }
    }
}
