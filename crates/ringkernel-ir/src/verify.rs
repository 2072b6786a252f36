//! The verifier: every later stage (passes, emitter, interpreter) assumes IR that passed it.
//!
//! It checks, per function: operand and intrinsic types (through [`crate::typeck`]); that every
//! local is introduced exactly once (parameter, `let` or `for`) and used only inside the scope
//! that introduced it; that `for` variables are not assigned; that `let`/assign/store/return
//! values have the declared type; that conditions are `bool`; that stores go through `*mut`
//! pointers; that a non-void function returns on every path; that names are C identifiers and
//! struct types are defined.

use crate::error::IrError;
use crate::ir::{block_diverges, Expr, Function, LocalId, Module, Place, Pointee, Stmt, Type};
use crate::typeck::TypeEnv;

/// Verifies every struct and function of `module`.
pub fn verify_module(module: &Module) -> Result<(), IrError> {
    for (k, s) in module.structs.iter().enumerate() {
        check_identifier(&s.name)?;
        if module.structs[..k].iter().any(|o| o.name == s.name) {
            return Err(IrError::BadIdentifier {
                name: s.name.clone(),
            });
        }
        for f in &s.fields {
            check_identifier(&f.name)?;
        }
    }
    for (k, f) in module.functions.iter().enumerate() {
        if module.functions[..k].iter().any(|o| o.name == f.name) {
            return Err(IrError::BadIdentifier {
                name: f.name.clone(),
            });
        }
        verify_function(module, f)?;
    }
    Ok(())
}

/// Verifies one function of `module` (structs it names must be in `module`).
pub fn verify_function(module: &Module, func: &Function) -> Result<(), IrError> {
    check_identifier(&func.name)?;
    let mut v = Verifier {
        module,
        func,
        env: TypeEnv::new(module, func),
        introduced: vec![false; func.locals.len()],
        in_scope: vec![false; func.locals.len()],
        scopes: vec![Vec::new()],
        loop_vars: Vec::new(),
    };
    v.check_type(&func.ret, true)?;
    for decl in &func.locals {
        check_identifier(&decl.name)?;
        v.check_type(&decl.ty, false)?;
    }
    for &p in &func.params {
        v.introduce(p)?;
    }
    v.block(&func.body)?;
    if func.ret != Type::Void && !block_diverges(&func.body) {
        return Err(IrError::MissingReturn {
            func: func.name.clone(),
            ret: func.ret.clone(),
        });
    }
    Ok(())
}

struct Verifier<'a> {
    module: &'a Module,
    func: &'a Function,
    env: TypeEnv<'a>,
    /// Introduced at some point (ids are introduced once per function).
    introduced: Vec<bool>,
    /// Introduced by an enclosing, still open scope.
    in_scope: Vec<bool>,
    /// Locals introduced by each open scope, to close them.
    scopes: Vec<Vec<LocalId>>,
    /// `for` variables of the enclosing loops.
    loop_vars: Vec<LocalId>,
}

impl Verifier<'_> {
    fn name(&self) -> String {
        self.func.name.clone()
    }

    fn check_type(&self, t: &Type, void_ok: bool) -> Result<(), IrError> {
        let name = match t {
            Type::Void if !void_ok => return Err(IrError::VoidValue { func: self.name() }),
            Type::Struct(n)
            | Type::Ptr {
                pointee: Pointee::Struct(n),
                ..
            } => n,
            _ => return Ok(()),
        };
        match self.module.struct_def(name) {
            Some(_) => Ok(()),
            None => Err(IrError::UnknownStruct {
                func: self.name(),
                name: name.clone(),
            }),
        }
    }

    fn introduce(&mut self, id: LocalId) -> Result<(), IrError> {
        let slot = self.introduced.get_mut(id.0 as usize);
        match slot {
            Some(seen) if !*seen => *seen = true,
            _ => {
                return Err(IrError::BadLocal {
                    func: self.name(),
                    local: id,
                })
            }
        }
        self.in_scope[id.0 as usize] = true;
        if let Some(scope) = self.scopes.last_mut() {
            scope.push(id);
        }
        Ok(())
    }

    fn scoped(&mut self, block: &[Stmt], pre: Option<LocalId>) -> Result<(), IrError> {
        self.scopes.push(Vec::new());
        let result = match pre {
            Some(id) => self.introduce(id).and_then(|()| self.block(block)),
            None => self.block(block),
        };
        for id in self.scopes.pop().unwrap_or_default() {
            self.in_scope[id.0 as usize] = false;
        }
        result
    }

    fn block(&mut self, block: &[Stmt]) -> Result<(), IrError> {
        block.iter().try_for_each(|s| self.stmt(s))
    }

    fn expr(&self, e: &Expr) -> Result<Type, IrError> {
        let mut undefined = None;
        e.for_each_local(&mut |id| {
            if undefined.is_none() && !self.in_scope.get(id.0 as usize).copied().unwrap_or(false) {
                undefined = Some(id);
            }
        });
        if let Some(local) = undefined {
            return Err(IrError::UndefinedLocal {
                func: self.name(),
                local,
            });
        }
        self.env.expr_type(e)
    }

    fn value(
        &self,
        e: &Expr,
        expected: &Type,
        what: impl FnOnce() -> String,
    ) -> Result<(), IrError> {
        let got = self.expr(e)?;
        if got == Type::Void {
            return Err(IrError::VoidValue { func: self.name() });
        }
        if &got != expected {
            return Err(IrError::TypeMismatch {
                func: self.name(),
                what: what(),
                expected: expected.clone(),
                got,
            });
        }
        Ok(())
    }

    fn local_ty(&self, id: LocalId) -> Result<Type, IrError> {
        self.func
            .local(id)
            .map(|d| d.ty.clone())
            .ok_or_else(|| IrError::BadLocal {
                func: self.name(),
                local: id,
            })
    }

    fn place(&self, p: &Place) -> Result<(), IrError> {
        match p {
            Place::Deref(e) => self.expr(e).map(drop),
            Place::Index(e, i) => self.expr(e).and_then(|_| self.expr(i)).map(drop),
            Place::Field(inner, _) => self.place(inner),
        }
    }

    fn stmt(&mut self, s: &Stmt) -> Result<(), IrError> {
        match s {
            Stmt::Let { local, init } => {
                let ty = self.local_ty(*local)?;
                self.value(init, &ty, || format!("let {local}"))?;
                self.introduce(*local)
            }
            Stmt::Assign { local, value } => {
                let ty = self.local_ty(*local)?;
                if !self.in_scope[local.0 as usize] {
                    return Err(IrError::UndefinedLocal {
                        func: self.name(),
                        local: *local,
                    });
                }
                if self.loop_vars.contains(local) {
                    return Err(IrError::AssignToLoopVar {
                        func: self.name(),
                        local: *local,
                    });
                }
                self.value(value, &ty, || format!("assignment to {local}"))
            }
            Stmt::Store { place, value } => {
                self.place(place)?;
                let ty = self.env.place_type(place)?;
                self.value(value, &ty, || "store".into())
            }
            Stmt::If {
                cond,
                then,
                otherwise,
            } => {
                self.expr(cond)?;
                self.env.require_bool(cond)?;
                self.scoped(then, None)?;
                self.scoped(otherwise, None)
            }
            Stmt::While { cond, body } => {
                self.expr(cond)?;
                self.env.require_bool(cond)?;
                self.scoped(body, None)
            }
            Stmt::ForRange {
                var,
                start,
                end,
                body,
            } => {
                let ty = self.local_ty(*var)?;
                if !ty.as_scalar().is_some_and(|s| s.is_int()) {
                    return Err(IrError::TypeMismatch {
                        func: self.name(),
                        what: format!("for variable {var}"),
                        expected: Type::Scalar(crate::ir::ScalarType::U32),
                        got: ty,
                    });
                }
                self.value(start, &ty, || "range start".into())?;
                self.value(end, &ty, || "range end".into())?;
                self.loop_vars.push(*var);
                let r = self.scoped(body, Some(*var));
                self.loop_vars.pop();
                r
            }
            Stmt::Return(None) if self.func.ret == Type::Void => Ok(()),
            Stmt::Return(None) => Err(IrError::TypeMismatch {
                func: self.name(),
                what: "return".into(),
                expected: self.func.ret.clone(),
                got: Type::Void,
            }),
            Stmt::Return(Some(e)) => {
                let ret = self.func.ret.clone();
                if ret == Type::Void {
                    let got = self.expr(e)?;
                    return Err(IrError::TypeMismatch {
                        func: self.name(),
                        what: "return".into(),
                        expected: ret,
                        got,
                    });
                }
                self.value(e, &ret, || "return".into())
            }
            Stmt::Expr(e) => self.expr(e).map(drop),
        }
    }
}

/// C keywords and CUDA names an emitted function or struct must not shadow.
const RESERVED: &[&str] = &[
    "auto",
    "bool",
    "break",
    "case",
    "char",
    "const",
    "continue",
    "default",
    "do",
    "double",
    "else",
    "enum",
    "extern",
    "false",
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
    "true",
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
];

/// Whether `name` can name a function or variable in emitted CUDA C: a C identifier that is
/// not reserved there and does not use the emitter's `rk_` (or the implementation's `__`)
/// prefix. Front ends check user names with it to report a clash at the user's tokens.
pub fn is_usable_identifier(name: &str) -> bool {
    check_identifier(name).is_ok()
}

/// A C identifier that is not reserved and does not use the emitter's `rk_` prefix.
pub(crate) fn check_identifier(name: &str) -> Result<(), IrError> {
    let mut chars = name.chars();
    let ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !RESERVED.contains(&name)
        && !name.starts_with("rk_")
        && !name.starts_with("__");
    if ok {
        Ok(())
    } else {
        Err(IrError::BadIdentifier {
            name: name.to_string(),
        })
    }
}

#[cfg(test)]
mod tests;
