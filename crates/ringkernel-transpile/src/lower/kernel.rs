//! Lowering a kernel function: a plain `fn` of scalars and slices (see [`crate::kernel_fn`]).
//!
//! A slice `&[T]` / `&mut [T]` is Rust's fat pointer, an address and a length, and lowers to the
//! same two parameters: `*const T` / `*mut T`, then the length as `u64` (`usize`). `s[i]` checks
//! `i < s.len()` exactly where Rust does; where Rust panics the kernel **traps** (a device kernel
//! cannot return an error code: the launch fails with an error the host sees, and the IR
//! interpreter returns an error). `s.len()` is the length parameter. Everything else — locals,
//! operators, loops, `match`, intrinsics — is the handler lowering, unchanged.

use std::collections::HashMap;

use ringkernel_ir::ir::{BinOp, Expr, FunctionBuilder, Literal, LocalId, Place, ScalarType, Stmt};
use ringkernel_ir::ir::{Function, Type};
use syn::Expr as E;

use super::{local_hint, Lowerer, Mode, Val, Var};
use crate::diagnostic::{Diagnostic, Result};
use crate::model::{ModuleModel, StructLayout, UNIT};

/// One parameter of a kernel function, as the front end read it from the signature.
#[derive(Debug, Clone)]
pub(crate) struct KernelParam {
    /// The Rust name (`None` for `_`).
    pub(crate) name: Option<String>,
    /// What it holds.
    pub(crate) kind: ParamKind,
}

/// A scalar, or a slice of scalars.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ParamKind {
    /// `x: T`.
    Scalar(ScalarType),
    /// `x: &[T]` or `x: &mut [T]`.
    Slice { elem: ScalarType, mutable: bool },
}

/// A slice parameter: its pointer and length parameters.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SliceParam {
    ptr: LocalId,
    len: LocalId,
    elem: ScalarType,
    mutable: bool,
}

/// What the handler lowering needs to know about a kernel function.
#[derive(Debug, Clone)]
pub(crate) struct KernelFrame {
    slices: HashMap<String, SliceParam>,
    /// The return type (`None` for `()`).
    ret: Option<ScalarType>,
}

/// A statement that traps the kernel. The IR has no trap statement; integer division by zero is
/// its one operation defined to trap on the device (`__trap()`, `ringkernel_ir::semantics` rule
/// 3) and to fail in the interpreter, and no pass folds or deletes it.
pub(crate) fn trap() -> Stmt {
    Stmt::Expr(Expr::bin(BinOp::Div, Expr::u32(0), Expr::u32(0)))
}

/// Lowers `f` (whose signature the front end has read into `params` and `ret`) to one IR
/// function named after it; `consts` are the file's scalar constants.
pub(crate) fn lower_kernel_fn(
    consts: &HashMap<String, Literal>,
    f: &syn::ItemFn,
    params: &[KernelParam],
    ret: Option<ScalarType>,
) -> Result<Function> {
    let model = ModuleModel {
        name: String::new(),
        structs: HashMap::new(),
        consts: consts.clone(),
        actors: Vec::new(),
    };
    // Kernel functions have no state, message or reply: empty layouts stand in for them.
    let none = StructLayout {
        name: UNIT.to_string(),
        c_name: String::new(),
        size: 0,
        align: 1,
        fields: Vec::new(),
    };
    let ret_ty = ret.map_or(Type::Void, Type::Scalar);
    let mut fb = FunctionBuilder::new(&f.sig.ident.to_string(), ret_ty);
    let mut scalars = Vec::new();
    let mut slices = HashMap::new();
    for (k, p) in params.iter().enumerate() {
        let hint = p
            .name
            .as_deref()
            .map_or_else(|| format!("unused{k}"), local_hint);
        match p.kind {
            ParamKind::Scalar(ty) => {
                let id = fb.param(&hint, ty);
                if let Some(n) = &p.name {
                    scalars.push((n.clone(), Var { id, ty }));
                }
            }
            ParamKind::Slice { elem, mutable } => {
                let ptr_ty = if mutable {
                    Type::ptr_mut(elem)
                } else {
                    Type::ptr_const(elem)
                };
                let ptr = fb.param(&hint, ptr_ty);
                let len = fb.param(&format!("{hint}_len"), ScalarType::U64);
                if let Some(n) = &p.name {
                    slices.insert(
                        n.clone(),
                        SliceParam {
                            ptr,
                            len,
                            elem,
                            mutable,
                        },
                    );
                }
            }
        }
    }
    let mut l = Lowerer {
        model: &model,
        fb,
        mode: Mode::Kernel,
        scopes: vec![scalars],
        state_name: None,
        msg_name: None,
        ctx_name: None,
        state: &none,
        msg: &none,
        reply: &none,
        state_slots: HashMap::new(),
        msg_slots: HashMap::new(),
        ctx_ids: None,
        ptrs: None,
        assigned: Default::default(),
        loops: Vec::new(),
        kernel: Some(KernelFrame { slices, ret }),
    };
    let mut body = Vec::new();
    l.kernel_body(&f.block, ret, &mut body)?;
    for s in body {
        l.fb.push(s);
    }
    Ok(l.fb.finish())
}

impl Lowerer<'_> {
    fn kernel_body(
        &mut self,
        b: &syn::Block,
        ret: Option<ScalarType>,
        out: &mut Vec<Stmt>,
    ) -> Result<()> {
        super::attrs::reject_body_attributes(b)?;
        match (ret, b.stmts.split_last()) {
            (Some(ty), Some((syn::Stmt::Expr(tail, None), init))) => {
                self.stmts(init, out)?;
                let v = self.expr_of(tail, ty, out)?;
                out.push(Stmt::Return(Some(v.e)));
            }
            (Some(_), _) => {
                self.stmts(&b.stmts, out)?;
                // rustc has proved every path returns; should the lowering ever fall through
                // anyway, the kernel traps rather than return an undefined value.
                out.push(trap());
            }
            (None, Some((syn::Stmt::Expr(tail, None), init))) => {
                self.stmts(init, out)?;
                self.expr_stmt(tail, out)?;
            }
            (None, _) => self.stmts(&b.stmts, out)?,
        }
        Ok(())
    }

    /// `return v;` / `return;` in a kernel function.
    pub(crate) fn kernel_return(&mut self, r: &syn::ExprReturn, out: &mut Vec<Stmt>) -> Result<()> {
        let ret = self.kernel.as_ref().and_then(|k| k.ret);
        match (ret, r.expr.as_deref()) {
            (Some(ty), Some(v)) => {
                let v = self.expr_of(v, ty, out)?;
                out.push(Stmt::Return(Some(v.e)));
            }
            (None, None) => out.push(Stmt::Return(None)),
            (None, Some(E::Tuple(t))) if t.elems.is_empty() => out.push(Stmt::Return(None)),
            (Some(ty), None) => {
                return Err(Diagnostic::spanned(
                    r,
                    format!("this function returns `{ty}`: write `return value;`"),
                ))
            }
            (None, Some(v)) => {
                return Err(Diagnostic::spanned(
                    v,
                    "this function returns `()`: write `return;`",
                ))
            }
        }
        Ok(())
    }

    /// The slice parameter `e` names, if it is one (a local of the same name shadows it).
    fn slice_named(&self, e: &E) -> Option<SliceParam> {
        match e {
            E::Paren(p) => self.slice_named(&p.expr),
            E::Path(p) if p.qself.is_none() => {
                let name = p.path.get_ident()?.to_string();
                if self.lookup(&name).is_some() {
                    return None;
                }
                self.kernel.as_ref()?.slices.get(&name).copied()
            }
            _ => None,
        }
    }

    /// True when `name` is a slice parameter not shadowed by a local.
    pub(crate) fn is_slice_name(&self, name: &str) -> bool {
        self.lookup(name).is_none()
            && self
                .kernel
                .as_ref()
                .is_some_and(|k| k.slices.contains_key(name))
    }

    /// The checked position `index` of `s`: a `u64` temp known to be `< s.len()`.
    fn slice_index(&mut self, s: SliceParam, index: &E, out: &mut Vec<Stmt>) -> Result<Expr> {
        let v = self.expr(index, Some(ScalarType::U64), out)?;
        if !v.ty.is_int() {
            return Err(Diagnostic::spanned(index, "an index must be an integer"));
        }
        // rustc requires `usize`; other integer types only reach here from code rustc rejects.
        let i = self.temp(
            "idx",
            Val::new(Expr::cast(ScalarType::U64, v.e), ScalarType::U64),
            out,
        );
        self.panic_unless(Expr::bin(BinOp::Lt, i.e.clone(), Expr::local(s.len)), out);
        Ok(i.e)
    }

    /// `s[i]` as a value, or `None` if `base` is not a slice parameter.
    pub(crate) fn slice_read(
        &mut self,
        base: &E,
        index: &E,
        out: &mut Vec<Stmt>,
    ) -> Result<Option<Val>> {
        let Some(s) = self.slice_named(base) else {
            return Ok(None);
        };
        let i = self.slice_index(s, index, out)?;
        Ok(Some(Val::new(Expr::index(Expr::local(s.ptr), i), s.elem)))
    }

    /// `s[i] = value` or `s[i] op= value`, value first as Rust evaluates a primitive assignment;
    /// `false` if `base` is not a slice parameter.
    pub(crate) fn slice_assign(
        &mut self,
        ix: &syn::ExprIndex,
        op: Option<BinOp>,
        value: &E,
        node: &impl quote::ToTokens,
        out: &mut Vec<Stmt>,
    ) -> Result<bool> {
        let Some(s) = self.slice_named(&ix.expr) else {
            return Ok(false);
        };
        if !s.mutable {
            return Err(Diagnostic::spanned(
                ix,
                "this slice is `&[T]` (read-only): only `&mut [T]` slices can be written",
            ));
        }
        let shift = matches!(op, Some(BinOp::Shl | BinOp::Shr));
        let val = self.expr(value, (!shift).then_some(s.elem), out)?;
        if val.ty != s.elem && !shift {
            return Err(super::expr::mismatch(value, s.elem, val.ty));
        }
        let val = self.spill(val, out);
        let i = self.slice_index(s, &ix.index, out)?;
        let new = match op {
            Some(op) => {
                let cur = Val::new(Expr::index(Expr::local(s.ptr), i.clone()), s.elem);
                self.apply(op, cur, val, node, out)?
            }
            None => val,
        };
        out.push(Stmt::Store {
            place: Place::Index(Expr::local(s.ptr), i),
            value: new.e,
        });
        Ok(true)
    }

    /// `s.len()` on a slice parameter; other methods of a slice are rejected. `None` if the
    /// receiver is not a slice parameter.
    pub(crate) fn slice_method(&mut self, m: &syn::ExprMethodCall) -> Result<Option<Val>> {
        let Some(s) = self.slice_named(&m.receiver) else {
            return Ok(None);
        };
        if m.method != "len" || !m.args.is_empty() {
            return Err(Diagnostic::spanned(
                m,
                "unsupported slice method: a kernel function indexes slices (`s[i]`) and reads \
                 `s.len()`; iterators and other methods are not lowered",
            ));
        }
        Ok(Some(Val::new(Expr::local(s.len), ScalarType::U64)))
    }
}
