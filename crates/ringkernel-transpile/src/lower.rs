//! Lowering one `handle` function to IR.
//!
//! The handler's state and message fields are held in scalar locals for the whole function
//! (array fields as one local per element): loaded from the pointers on entry, and the state's
//! assigned fields stored back at every exit — on `Err` too, as the native handler's `&mut` state
//! keeps what it wrote before returning an error. Expressions are lowered to *statements plus a
//! pure-enough expression* (A-normal form where needed): anything that must be able to leave the
//! function half-way — a bounds check, a guarded division, a `checked_*` — is a statement placed
//! exactly where Rust evaluates it, so `&&`, `||` and `if` keep their laziness.
//!
//! The same lowering has two exits ([`Mode`]): the CUDA form returns the handler's code and
//! writes through the pointers; a *probe* takes every input scalar as a parameter and returns one
//! chosen output scalar, so [`ringkernel_ir::interp`] (scalars only) can run the exact same body.

mod attrs;
mod call;
mod expr;
pub(crate) mod kernel;
mod loops;
mod matches;
mod place;
mod result;
mod stmt;

use std::collections::{HashMap, HashSet};

use ringkernel_ir::ir::{Expr, FunctionBuilder, Literal, LocalId, Place, ScalarType, Stmt, Type};

use crate::diagnostic::{Diagnostic, Result};
use crate::model::{ActorModel, ModuleModel, StructLayout};

/// The code a failed bounds check or a division by zero returns: what the CPU backend reports
/// when the native handler panics (`ringkernel_cpu::PANIC_CODE`), so both backends agree.
pub const PANIC_CODE: u32 = u32::MAX;

/// A typed expression.
#[derive(Debug, Clone)]
pub(crate) struct Val {
    pub(crate) e: Expr,
    pub(crate) ty: ScalarType,
}

impl Val {
    pub(crate) fn new(e: Expr, ty: ScalarType) -> Self {
        Self { e, ty }
    }
}

/// Where a state or message field lives during the handler.
#[derive(Debug, Clone)]
pub(crate) struct Slot {
    pub(crate) ty: ScalarType,
    /// One local, or one per array element.
    pub(crate) ids: Vec<LocalId>,
    pub(crate) is_array: bool,
}

/// A named local in scope.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Var {
    pub(crate) id: LocalId,
    pub(crate) ty: ScalarType,
}

/// Which exit the lowering builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `int f(State*, const Msg*, Reply*, u32 self_id, u32 sender, u64 timestamp)`.
    Cuda,
    /// Scalars in, output scalar `k` out (see [`crate::probe`]).
    Probe(usize),
    /// A per-element / per-cell kernel function (see [`crate::kernel_fn`]): `return` is the
    /// function's own, and a Rust panic traps the kernel.
    Kernel,
}

/// Flags of the innermost loop whose body holds `break` or `continue`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LoopFlags {
    pub(crate) brk: LocalId,
    pub(crate) cont: LocalId,
}

pub(crate) struct Lowerer<'m> {
    pub(crate) model: &'m ModuleModel,
    pub(crate) fb: FunctionBuilder,
    pub(crate) mode: Mode,
    scopes: Vec<Vec<(String, Var)>>,
    pub(crate) state_name: Option<String>,
    pub(crate) msg_name: Option<String>,
    pub(crate) ctx_name: Option<String>,
    pub(crate) state: &'m StructLayout,
    pub(crate) msg: &'m StructLayout,
    pub(crate) reply: &'m StructLayout,
    pub(crate) state_slots: HashMap<String, Slot>,
    pub(crate) msg_slots: HashMap<String, Slot>,
    /// `self_id`, `sender`, `timestamp` (handlers only).
    pub(crate) ctx_ids: Option<[LocalId; 3]>,
    /// Pointer parameters (CUDA mode only): state, reply.
    ptrs: Option<(LocalId, LocalId)>,
    /// State fields the handler assigns (stored back at each exit).
    assigned: HashSet<String>,
    pub(crate) loops: Vec<Option<LoopFlags>>,
    /// The slices and return type of a kernel function (`None` for a handler).
    pub(crate) kernel: Option<kernel::KernelFrame>,
}

/// The lowered handler: one IR function.
pub(crate) fn lower_handler(
    model: &ModuleModel,
    actor: &ActorModel,
    fn_name: &str,
    mode: Mode,
) -> Result<ringkernel_ir::ir::Function> {
    let sig = &actor.handle.sig;
    let find = |name: &str| {
        model.structs.get(name).ok_or_else(|| {
            Diagnostic::spanned(sig, format!("struct `{name}` is not a device struct"))
        })
    };
    let (state, msg, reply) = (find(&actor.state)?, find(&actor.msg)?, find(&actor.reply)?);
    let names = param_names(sig)?;
    let ret = match mode {
        Mode::Cuda => Type::Scalar(ScalarType::I32),
        Mode::Probe(k) => Type::Scalar(
            crate::probe::output_types(state, reply)
                .get(k)
                .copied()
                .ok_or_else(|| Diagnostic::spanned(sig, "probe output out of range"))?,
        ),
        Mode::Kernel => {
            return Err(Diagnostic::spanned(
                sig,
                "internal error: a handler lowered as a kernel function",
            ))
        }
    };
    let mut fb = FunctionBuilder::new(fn_name, ret);
    let mut prologue = Vec::new();
    let ptrs = match mode {
        Mode::Cuda => {
            let s = fb.param("state", Type::struct_ptr_mut(&state.c_name));
            let m = fb.param(
                "msg",
                Type::Ptr {
                    pointee: ringkernel_ir::ir::Pointee::Struct(msg.c_name.clone()),
                    mutable: false,
                },
            );
            let r = fb.param("reply", Type::struct_ptr_mut(&reply.c_name));
            Some((s, m, r))
        }
        Mode::Probe(_) | Mode::Kernel => None,
    };
    // Probe parameters come in `probe::input_types` order: state, message, then the context.
    let mut slots_for = |fb: &mut FunctionBuilder, layout: &StructLayout, prefix: &str, ptr| {
        let mut slots = HashMap::new();
        for f in &layout.fields {
            let mut ids = Vec::new();
            for k in 0..f.count() {
                let hint = format!("{prefix}_{}", f.c_name(k));
                let id = match ptr {
                    Some(p) => {
                        let id = fb.local(&hint, f.ty);
                        prologue.push(Stmt::Let {
                            local: id,
                            init: Expr::field(Expr::local(p), &f.c_name(k)),
                        });
                        id
                    }
                    None => fb.param(&hint, f.ty),
                };
                ids.push(id);
            }
            slots.insert(
                f.name.clone(),
                Slot {
                    ty: f.ty,
                    ids,
                    is_array: f.len.is_some(),
                },
            );
        }
        slots
    };
    let state_slots = slots_for(&mut fb, state, "s", ptrs.map(|p| p.0));
    let msg_slots = slots_for(&mut fb, msg, "m", ptrs.map(|p| p.1));
    let ctx_ids = [
        fb.param("ctx_self_id", ScalarType::U32),
        fb.param("ctx_sender", ScalarType::U32),
        fb.param("ctx_timestamp", ScalarType::U64),
    ];
    let assigned = match &names.0 {
        Some(s) => place::assigned_fields(&actor.handle.block, s),
        None => HashSet::new(),
    };
    let mut l = Lowerer {
        model,
        fb,
        mode,
        scopes: vec![Vec::new()],
        state_name: names.0,
        msg_name: names.1,
        ctx_name: names.2,
        state,
        msg,
        reply,
        state_slots,
        msg_slots,
        ctx_ids: Some(ctx_ids),
        ptrs: ptrs.map(|p| (p.0, p.2)),
        assigned,
        loops: Vec::new(),
        kernel: None,
    };
    let mut body = prologue;
    l.fn_body(&actor.handle.block, &mut body)?;
    for s in body {
        l.fb.push(s);
    }
    Ok(l.fb.finish())
}

/// Names of the `state`, `msg` and `ctx` parameters (`None` for `_`).
type ParamNames = (Option<String>, Option<String>, Option<String>);

fn param_names(sig: &syn::Signature) -> Result<ParamNames> {
    if sig.inputs.len() != 3 {
        return Err(Diagnostic::spanned(
            &sig.inputs,
            "`handle` takes `(state: &mut State, msg: &Msg, ctx: &Context)`",
        ));
    }
    let mut out = Vec::new();
    for arg in &sig.inputs {
        let syn::FnArg::Typed(pt) = arg else {
            return Err(Diagnostic::spanned(arg, "`handle` takes no `self`"));
        };
        match &*pt.pat {
            syn::Pat::Ident(i) if i.by_ref.is_none() && i.subpat.is_none() => {
                out.push(Some(i.ident.to_string()))
            }
            syn::Pat::Wild(_) => out.push(None),
            other => {
                return Err(Diagnostic::spanned(
                    other,
                    "handler parameters must be plain names or `_` (no destructuring)",
                ))
            }
        }
    }
    let mut it = out.into_iter();
    Ok((
        it.next().flatten(),
        it.next().flatten(),
        it.next().flatten(),
    ))
}

/// A C-safe hint for a user's local name (the emitter appends the id, but the verifier checks
/// the hint itself against C keywords and reserved prefixes).
fn local_hint(name: &str) -> String {
    const C_WORDS: &[&str] = &[
        "auto",
        "bool",
        "case",
        "char",
        "const",
        "default",
        "do",
        "double",
        "else",
        "enum",
        "extern",
        "float",
        "for",
        "goto",
        "if",
        "inline",
        "int",
        "long",
        "return",
        "short",
        "signed",
        "sizeof",
        "static",
        "struct",
        "switch",
        "typedef",
        "union",
        "unsigned",
        "void",
        "volatile",
        "while",
        "class",
        "namespace",
        "template",
        "this",
        "new",
        "delete",
        "operator",
        "threadIdx",
        "blockIdx",
        "blockDim",
        "gridDim",
        "warpSize",
        "register",
        "private",
        "public",
        "protected",
        "virtual",
        "friend",
        "throw",
        "catch",
        "try",
    ];
    if name.starts_with('_') || name.starts_with("rk_") || C_WORDS.contains(&name) {
        format!("v{name}")
    } else {
        name.to_string()
    }
}

impl Lowerer<'_> {
    pub(crate) fn push_scope(&mut self) {
        self.scopes.push(Vec::new());
    }

    pub(crate) fn pop_scope(&mut self) {
        self.scopes.pop();
    }

    /// Declares a named local (shadowing any outer one) and returns it.
    pub(crate) fn bind(&mut self, name: &str, ty: ScalarType) -> Var {
        let id = self.fb.local(&local_hint(name), ty);
        let v = Var { id, ty };
        if let Some(s) = self.scopes.last_mut() {
            s.push((name.to_string(), v));
        }
        v
    }

    /// The innermost local named `name`.
    pub(crate) fn lookup(&self, name: &str) -> Option<Var> {
        self.scopes
            .iter()
            .rev()
            .flat_map(|s| s.iter().rev())
            .find(|(n, _)| n == name)
            .map(|(_, v)| *v)
    }

    /// A fresh compiler temporary holding `v`.
    pub(crate) fn temp(&mut self, hint: &str, v: Val, out: &mut Vec<Stmt>) -> Val {
        let id = self.fb.local(hint, v.ty);
        out.push(Stmt::Let {
            local: id,
            init: v.e,
        });
        Val::new(Expr::local(id), v.ty)
    }

    /// `v` if it is a literal, else a temp: the value is fixed before statements that follow
    /// (which might assign a local it reads).
    pub(crate) fn spill(&mut self, v: Val, out: &mut Vec<Stmt>) -> Val {
        match v.e {
            Expr::Lit(_) => v,
            _ => self.temp("t", v, out),
        }
    }

    /// `v` if it is a literal or a local, else a temp: for a value used several times by the
    /// statements generated next, none of which assigns a user local.
    pub(crate) fn reuse(&mut self, v: Val, out: &mut Vec<Stmt>) -> Val {
        match v.e {
            Expr::Lit(_) | Expr::Local(_) => v,
            _ => self.temp("t", v, out),
        }
    }

    /// Statements that leave the handler with `code` (0 = `Ok`) and, on `Ok`, the reply's scalars
    /// in `probe::output_types` order.
    pub(crate) fn exit(&mut self, code: u32, reply: Option<Vec<Expr>>) -> Vec<Stmt> {
        match self.mode {
            Mode::Cuda => {
                let mut out = Vec::new();
                if let Some((state_ptr, reply_ptr)) = self.ptrs {
                    if let Some(values) = reply {
                        let names = self.reply.scalars().map(|(fi, k, _, _)| {
                            self.reply
                                .fields
                                .get(fi)
                                .map(|f| f.c_name(k))
                                .unwrap_or_default()
                        });
                        for (name, value) in names.collect::<Vec<_>>().into_iter().zip(values) {
                            out.push(Stmt::Store {
                                place: Place::Field(
                                    Box::new(Place::Deref(Expr::local(reply_ptr))),
                                    name,
                                ),
                                value,
                            });
                        }
                    }
                    for f in &self.state.fields {
                        if !self.assigned.contains(&f.name) {
                            continue;
                        }
                        let Some(slot) = self.state_slots.get(&f.name) else {
                            continue;
                        };
                        for (k, id) in slot.ids.iter().enumerate() {
                            out.push(Stmt::Store {
                                place: Place::Field(
                                    Box::new(Place::Deref(Expr::local(state_ptr))),
                                    f.c_name(k),
                                ),
                                value: Expr::local(*id),
                            });
                        }
                    }
                }
                // The backend reads the code back as `(u32)rc`.
                out.push(Stmt::Return(Some(Expr::i32(code as i32))));
                out
            }
            Mode::Probe(k) => {
                let value = self.probe_output(k, code, reply);
                vec![Stmt::Return(Some(value))]
            }
            // A kernel function has no handler result; the front end rejects `Ok`, `Err` and
            // `?` before they get here, so the only exit with a code is a panic.
            Mode::Kernel => vec![kernel::trap()],
        }
    }

    fn probe_output(&self, k: usize, code: u32, reply: Option<Vec<Expr>>) -> Expr {
        if k == 0 {
            return Expr::u32(code);
        }
        let state_ids: Vec<LocalId> = self
            .state
            .fields
            .iter()
            .filter_map(|f| self.state_slots.get(&f.name))
            .flat_map(|s| s.ids.iter().copied())
            .collect();
        if let Some(id) = state_ids.get(k - 1) {
            return Expr::local(*id);
        }
        let r = k - 1 - state_ids.len();
        let ty = self
            .reply
            .scalars()
            .nth(r)
            .map_or(ScalarType::U32, |(_, _, t, _)| t);
        reply
            .and_then(|v| v.into_iter().nth(r))
            .unwrap_or_else(|| Expr::Lit(zero(ty)))
    }

    /// `if !(cond) { exit(PANIC_CODE) }`: a guard where Rust would panic (a trap in a kernel
    /// function).
    pub(crate) fn panic_unless(&mut self, cond: Expr, out: &mut Vec<Stmt>) {
        let exit = self.exit(PANIC_CODE, None);
        out.push(Stmt::if_else(
            Expr::unary(ringkernel_ir::ir::UnOp::Not, cond),
            exit,
            Vec::new(),
        ));
    }
}

/// Zero of any scalar type.
pub(crate) fn zero(ty: ScalarType) -> Literal {
    match ty {
        ScalarType::F32 => Literal::F32(0.0),
        ScalarType::F64 => Literal::F64(0.0),
        other => Literal::zero(other).unwrap_or(Literal::Bool(false)),
    }
}
