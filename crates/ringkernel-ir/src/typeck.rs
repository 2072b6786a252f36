//! Expression and place typing. Pure functions of the module, the function's local table and the
//! intrinsic table; used by the verifier, the passes (to build typed constants) and the emitter.
//! Scoping (is a local defined *here*?) is the verifier's job, not this module's.

use crate::error::IrError;
use crate::intrinsics::{self, ParamType};
use crate::ir::{BinOp, Expr, Function, Module, Place, Pointee, ScalarType, Type, UnOp};

/// Types expressions of one function.
#[derive(Debug, Clone, Copy)]
pub struct TypeEnv<'a> {
    module: &'a Module,
    func: &'a Function,
}

impl<'a> TypeEnv<'a> {
    /// An environment for `func` in `module`.
    pub fn new(module: &'a Module, func: &'a Function) -> Self {
        Self { module, func }
    }

    fn name(&self) -> String {
        self.func.name.clone()
    }

    /// The type of `e` (may be `Type::Void` for a void intrinsic call).
    pub fn expr_type(&self, e: &Expr) -> Result<Type, IrError> {
        match e {
            Expr::Lit(l) => Ok(Type::Scalar(l.ty())),
            Expr::Local(id) => {
                self.func
                    .local(*id)
                    .map(|d| d.ty.clone())
                    .ok_or_else(|| IrError::BadLocal {
                        func: self.name(),
                        local: *id,
                    })
            }
            Expr::Unary(op, x) => {
                let t = self.value_type(x)?;
                let ok = match (op, t.as_scalar()) {
                    (UnOp::Neg, Some(s)) => s.is_signed_int() || s.is_float(),
                    (UnOp::Not, Some(s)) => s.is_int() || s == ScalarType::Bool,
                    _ => false,
                };
                if ok {
                    Ok(t)
                } else {
                    Err(IrError::UnaryOperandMismatch {
                        func: self.name(),
                        op: *op,
                        operand: t,
                    })
                }
            }
            Expr::Binary(op, a, b) => self.binary_type(*op, a, b),
            Expr::Cast(to, x) => {
                let from = self.value_type(x)?;
                if cast_allowed(&from, *to) {
                    Ok(Type::Scalar(*to))
                } else {
                    Err(IrError::UnsupportedCast {
                        func: self.name(),
                        from,
                        to: *to,
                    })
                }
            }
            Expr::Field(base, field) => {
                let t = self.value_type(base)?;
                let name = match &t {
                    Type::Struct(n) => Some(n),
                    Type::Ptr {
                        pointee: Pointee::Struct(n),
                        ..
                    } => Some(n),
                    _ => None,
                };
                self.field_type(&t, name, field)
            }
            Expr::Index(p, i) => {
                let pt = self.value_type(p)?;
                self.require_index(i)?;
                match pt {
                    Type::Ptr { pointee, .. } => Ok(Type::from(&pointee)),
                    other => Err(IrError::NotAPointer {
                        func: self.name(),
                        what: "index".into(),
                        got: other,
                    }),
                }
            }
            Expr::Call(name, args) => self.call_type(name, args),
            Expr::Select(c, a, b) => {
                self.require_bool(c)?;
                let ta = self.value_type(a)?;
                let tb = self.value_type(b)?;
                if ta == tb {
                    Ok(ta)
                } else {
                    Err(IrError::TypeMismatch {
                        func: self.name(),
                        what: "select".into(),
                        expected: ta,
                        got: tb,
                    })
                }
            }
        }
    }

    /// The type of `e`, which must not be `void`.
    pub fn value_type(&self, e: &Expr) -> Result<Type, IrError> {
        match self.expr_type(e)? {
            Type::Void => Err(IrError::VoidValue { func: self.name() }),
            t => Ok(t),
        }
    }

    /// The scalar type of `e`, if it has one (for passes: `None` on any error or non-scalar).
    pub fn scalar_of(&self, e: &Expr) -> Option<ScalarType> {
        self.expr_type(e).ok().and_then(|t| t.as_scalar())
    }

    /// Checks that `e` is a `bool` condition.
    pub fn require_bool(&self, e: &Expr) -> Result<(), IrError> {
        let t = self.value_type(e)?;
        if t == Type::Scalar(ScalarType::Bool) {
            Ok(())
        } else {
            Err(IrError::NonBoolCondition {
                func: self.name(),
                got: t,
            })
        }
    }

    fn require_index(&self, i: &Expr) -> Result<(), IrError> {
        let t = self.value_type(i)?;
        if t.as_scalar().is_some_and(ScalarType::is_int) {
            Ok(())
        } else {
            Err(IrError::TypeMismatch {
                func: self.name(),
                what: "index".into(),
                expected: Type::Scalar(ScalarType::U32),
                got: t,
            })
        }
    }

    fn field_type(&self, t: &Type, name: Option<&String>, field: &str) -> Result<Type, IrError> {
        let no_field = || IrError::NoSuchField {
            func: self.name(),
            ty: t.clone(),
            field: field.to_string(),
        };
        let name = name.ok_or_else(no_field)?;
        let def = self
            .module
            .struct_def(name)
            .ok_or_else(|| IrError::UnknownStruct {
                func: self.name(),
                name: name.clone(),
            })?;
        def.field(field).map(Type::Scalar).ok_or_else(no_field)
    }

    fn binary_type(&self, op: BinOp, a: &Expr, b: &Expr) -> Result<Type, IrError> {
        let ta = self.value_type(a)?;
        let tb = self.value_type(b)?;
        let mismatch = || IrError::BinaryOperandMismatch {
            func: self.name(),
            op,
            lhs: ta.clone(),
            rhs: tb.clone(),
        };
        let (Some(sa), Some(sb)) = (ta.as_scalar(), tb.as_scalar()) else {
            return Err(mismatch());
        };
        use BinOp::*;
        let result = match op {
            Add | Sub | Mul | Div | Rem if sa == sb && (sa.is_int() || sa.is_float()) => sa,
            BitAnd | BitOr | BitXor if sa == sb && (sa.is_int() || sa == ScalarType::Bool) => sa,
            // Rust accepts any integer type as a shift amount.
            Shl | Shr if sa.is_int() && sb.is_int() => sa,
            Eq | Ne | Lt | Le | Gt | Ge if sa == sb => ScalarType::Bool,
            And | Or if sa == ScalarType::Bool && sb == ScalarType::Bool => ScalarType::Bool,
            _ => return Err(mismatch()),
        };
        Ok(Type::Scalar(result))
    }

    fn call_type(&self, name: &str, args: &[Expr]) -> Result<Type, IrError> {
        let intr = intrinsics::lookup(name).ok_or_else(|| IrError::UnknownIntrinsic {
            func: self.name(),
            name: name.to_string(),
        })?;
        if intr.params.len() != args.len() {
            return Err(IrError::IntrinsicArity {
                func: self.name(),
                name: name.to_string(),
                expected: intr.params.len(),
                got: args.len(),
            });
        }
        for (index, (p, a)) in intr.params.iter().zip(args).enumerate() {
            let expected = match p {
                ParamType::Scalar(s) => Type::Scalar(*s),
                ParamType::PtrMut(s) => Type::ptr_mut(*s),
            };
            let got = self.value_type(a)?;
            if got != expected {
                return Err(IrError::IntrinsicArgType {
                    func: self.name(),
                    name: name.to_string(),
                    index,
                    expected,
                    got,
                });
            }
        }
        Ok(intr.ret.map_or(Type::Void, Type::Scalar))
    }

    /// The type stored at `place`, checking that its root is a `*mut` pointer.
    pub fn place_type(&self, place: &Place) -> Result<Type, IrError> {
        match place {
            Place::Deref(p) => self.pointee_for_store(p),
            Place::Index(p, i) => {
                self.require_index(i)?;
                self.pointee_for_store(p)
            }
            Place::Field(inner, field) => {
                let t = self.place_type(inner)?;
                let name = match &t {
                    Type::Struct(n) => Some(n),
                    _ => None,
                };
                self.field_type(&t, name, field)
            }
        }
    }

    fn pointee_for_store(&self, p: &Expr) -> Result<Type, IrError> {
        match self.value_type(p)? {
            Type::Ptr {
                pointee,
                mutable: true,
            } => Ok(Type::from(&pointee)),
            got @ Type::Ptr { .. } => Err(IrError::NotAPointer {
                func: self.name(),
                what: "store (const pointer)".into(),
                got,
            }),
            got => Err(IrError::NotAPointer {
                func: self.name(),
                what: "store".into(),
                got,
            }),
        }
    }
}

/// Rust's `as` between our scalar types (see [`crate::semantics`] rule 4).
pub fn cast_allowed(from: &Type, to: ScalarType) -> bool {
    let Some(from) = from.as_scalar() else {
        return false;
    };
    use ScalarType::Bool;
    match (from, to) {
        (Bool, Bool) => true,
        (_, Bool) => false,
        (Bool, t) => t.is_int(),
        _ => true,
    }
}
