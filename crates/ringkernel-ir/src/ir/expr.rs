//! Expressions: literals, locals, operators, casts, field and index loads, intrinsic calls, select.

use super::func::LocalId;
use super::types::ScalarType;
use crate::intrinsics;

/// A typed constant. Also the value type of [`crate::interp`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Literal {
    /// `bool`
    Bool(bool),
    /// `i32`
    I32(i32),
    /// `u32`
    U32(u32),
    /// `i64`
    I64(i64),
    /// `u64`
    U64(u64),
    /// `f32`
    F32(f32),
    /// `f64`
    F64(f64),
}

impl Literal {
    /// The literal's type.
    pub fn ty(self) -> ScalarType {
        match self {
            Self::Bool(_) => ScalarType::Bool,
            Self::I32(_) => ScalarType::I32,
            Self::U32(_) => ScalarType::U32,
            Self::I64(_) => ScalarType::I64,
            Self::U64(_) => ScalarType::U64,
            Self::F32(_) => ScalarType::F32,
            Self::F64(_) => ScalarType::F64,
        }
    }

    /// The integer value widened to `i128` (`None` for bool and floats).
    pub fn as_i128(self) -> Option<i128> {
        match self {
            Self::I32(v) => Some(v.into()),
            Self::U32(v) => Some(v.into()),
            Self::I64(v) => Some(v.into()),
            Self::U64(v) => Some(v.into()),
            _ => None,
        }
    }

    /// The integer `v` of type `ty`, wrapped (two's complement) to the type's width.
    /// `None` for `bool` and floats.
    pub fn int_wrapping(ty: ScalarType, v: i128) -> Option<Self> {
        // `as` between integers truncates: exactly the wrapping we want.
        match ty {
            ScalarType::I32 => Some(Self::I32(v as i32)),
            ScalarType::U32 => Some(Self::U32(v as u32)),
            ScalarType::I64 => Some(Self::I64(v as i64)),
            ScalarType::U64 => Some(Self::U64(v as u64)),
            _ => None,
        }
    }

    /// Zero of an integer type, `false` for bool (`None` for floats: no float rewrite needs it).
    pub fn zero(ty: ScalarType) -> Option<Self> {
        if ty == ScalarType::Bool {
            return Some(Self::Bool(false));
        }
        Self::int_wrapping(ty, 0)
    }

    /// True if this is an integer literal equal to `v`.
    pub fn is_int(self, v: i128) -> bool {
        self.as_i128() == Some(v)
    }
}

/// Unary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnOp {
    /// `-x`: signed integers (wrapping) and floats.
    Neg,
    /// `!x`: logical not on `bool`, bitwise not on integers.
    Not,
}

/// Binary operators. Arithmetic and bit operators need equal operand types; shifts take any
/// integer amount; comparisons give `bool`; `And`/`Or` are the short-circuit `&&`/`||`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Rem,
    /// `&`
    BitAnd,
    /// `|`
    BitOr,
    /// `^`
    BitXor,
    /// `<<`
    Shl,
    /// `>>`
    Shr,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `&&`
    And,
    /// `||`
    Or,
}

impl BinOp {
    /// Every operator (for generators).
    pub const ALL: [BinOp; 18] = [
        Self::Add,
        Self::Sub,
        Self::Mul,
        Self::Div,
        Self::Rem,
        Self::BitAnd,
        Self::BitOr,
        Self::BitXor,
        Self::Shl,
        Self::Shr,
        Self::Eq,
        Self::Ne,
        Self::Lt,
        Self::Le,
        Self::Gt,
        Self::Ge,
        Self::And,
        Self::Or,
    ];

    /// True for the six comparisons.
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            Self::Eq | Self::Ne | Self::Lt | Self::Le | Self::Gt | Self::Ge
        )
    }

    /// The C (and Rust) operator token.
    pub fn token(self) -> &'static str {
        match self {
            Self::Add => "+",
            Self::Sub => "-",
            Self::Mul => "*",
            Self::Div => "/",
            Self::Rem => "%",
            Self::BitAnd => "&",
            Self::BitOr => "|",
            Self::BitXor => "^",
            Self::Shl => "<<",
            Self::Shr => ">>",
            Self::Eq => "==",
            Self::Ne => "!=",
            Self::Lt => "<",
            Self::Le => "<=",
            Self::Gt => ">",
            Self::Ge => ">=",
            Self::And => "&&",
            Self::Or => "||",
        }
    }
}

/// An expression tree. Types are not stored: [`crate::typeck`] computes them from the function's
/// local table, the module's structs and the intrinsic table.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A constant.
    Lit(Literal),
    /// Read a local (or parameter).
    Local(LocalId),
    /// `op x`
    Unary(UnOp, Box<Expr>),
    /// `a op b`
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `x as T`
    Cast(ScalarType, Box<Expr>),
    /// `base.field`; `base` is a struct value or a pointer to a struct (auto-deref, as in Rust).
    Field(Box<Expr>, String),
    /// `*ptr.add(index)`: load element `index` (any integer type) through a pointer.
    Index(Box<Expr>, Box<Expr>),
    /// A call of a named intrinsic from [`crate::intrinsics::TABLE`].
    Call(String, Vec<Expr>),
    /// `if cond { a } else { b }` as an expression; evaluates only the chosen side.
    Select(Box<Expr>, Box<Expr>, Box<Expr>),
}

// `Expr::add(a, b)` builds a node; implementing `std::ops::Add` would make `a + b` build IR
// silently, which reads like host arithmetic. Keep the explicit constructors.
#[allow(clippy::should_implement_trait)]
impl Expr {
    /// A literal.
    pub fn lit(l: Literal) -> Self {
        Self::Lit(l)
    }
    /// An `i32` literal.
    pub fn i32(v: i32) -> Self {
        Self::Lit(Literal::I32(v))
    }
    /// A `u32` literal.
    pub fn u32(v: u32) -> Self {
        Self::Lit(Literal::U32(v))
    }
    /// An `i64` literal.
    pub fn i64(v: i64) -> Self {
        Self::Lit(Literal::I64(v))
    }
    /// A `u64` literal.
    pub fn u64(v: u64) -> Self {
        Self::Lit(Literal::U64(v))
    }
    /// An `f32` literal.
    pub fn f32(v: f32) -> Self {
        Self::Lit(Literal::F32(v))
    }
    /// An `f64` literal.
    pub fn f64(v: f64) -> Self {
        Self::Lit(Literal::F64(v))
    }
    /// A `bool` literal.
    pub fn bool(v: bool) -> Self {
        Self::Lit(Literal::Bool(v))
    }
    /// Read local `id`.
    pub fn local(id: LocalId) -> Self {
        Self::Local(id)
    }
    /// `a op b`.
    pub fn bin(op: BinOp, a: Expr, b: Expr) -> Self {
        Self::Binary(op, Box::new(a), Box::new(b))
    }
    /// `a + b`.
    pub fn add(a: Expr, b: Expr) -> Self {
        Self::bin(BinOp::Add, a, b)
    }
    /// `a - b`.
    pub fn sub(a: Expr, b: Expr) -> Self {
        Self::bin(BinOp::Sub, a, b)
    }
    /// `a * b`.
    pub fn mul(a: Expr, b: Expr) -> Self {
        Self::bin(BinOp::Mul, a, b)
    }
    /// `op x`.
    pub fn unary(op: UnOp, x: Expr) -> Self {
        Self::Unary(op, Box::new(x))
    }
    /// `x as ty`.
    pub fn cast(ty: ScalarType, x: Expr) -> Self {
        Self::Cast(ty, Box::new(x))
    }
    /// `base.field`.
    pub fn field(base: Expr, field: &str) -> Self {
        Self::Field(Box::new(base), field.to_string())
    }
    /// `ptr[index]` (a load).
    pub fn index(ptr: Expr, index: Expr) -> Self {
        Self::Index(Box::new(ptr), Box::new(index))
    }
    /// Call intrinsic `name`.
    pub fn call(name: &str, args: Vec<Expr>) -> Self {
        Self::Call(name.to_string(), args)
    }
    /// `if c { a } else { b }`.
    pub fn select(c: Expr, a: Expr, b: Expr) -> Self {
        Self::Select(Box::new(c), Box::new(a), Box::new(b))
    }

    /// The literal, if this is one.
    pub fn as_lit(&self) -> Option<Literal> {
        match self {
            Self::Lit(l) => Some(*l),
            _ => None,
        }
    }

    /// True when evaluating the expression has no effect besides its value, so it may be deleted
    /// or its value reused: no impure intrinsic, and no integer `/` or `%` that could trap
    /// (see [`crate::semantics`] rule 3). Loads count as pure: the IR assumes race-free memory.
    pub fn is_pure(&self) -> bool {
        match self {
            Self::Lit(_) | Self::Local(_) => true,
            Self::Unary(_, x) | Self::Cast(_, x) | Self::Field(x, _) => x.is_pure(),
            Self::Binary(op, a, b) => {
                let traps = matches!(op, BinOp::Div | BinOp::Rem) && !divisor_is_safe(b);
                !traps && a.is_pure() && b.is_pure()
            }
            Self::Index(p, i) => p.is_pure() && i.is_pure(),
            Self::Call(name, args) => {
                intrinsics::lookup(name).is_some_and(|i| i.pure) && args.iter().all(Expr::is_pure)
            }
            Self::Select(c, a, b) => c.is_pure() && a.is_pure() && b.is_pure(),
        }
    }

    /// True when two evaluations are guaranteed to give the same value, so `x - x` may become 0:
    /// pure, reads no memory (no index or field access) and calls nothing (an intrinsic such as
    /// `lane_id` would qualify, but the rule stays simple and conservative).
    pub fn is_stable(&self) -> bool {
        match self {
            Self::Lit(_) | Self::Local(_) => true,
            Self::Unary(_, x) | Self::Cast(_, x) => x.is_stable(),
            Self::Binary(..) => self.is_pure() && self.children().iter().all(|c| c.is_stable()),
            Self::Select(c, a, b) => c.is_stable() && a.is_stable() && b.is_stable(),
            // `base.f` may be a load through a pointer (`p->f`); types are not known here, so
            // treat every field access as a memory read.
            Self::Field(..) | Self::Index(..) | Self::Call(..) => false,
        }
    }

    /// Direct sub-expressions, in evaluation order.
    pub fn children(&self) -> Vec<&Expr> {
        match self {
            Self::Lit(_) | Self::Local(_) => vec![],
            Self::Unary(_, x) | Self::Cast(_, x) | Self::Field(x, _) => vec![x],
            Self::Binary(_, a, b) | Self::Index(a, b) => vec![a, b],
            Self::Call(_, args) => args.iter().collect(),
            Self::Select(c, a, b) => vec![c, a, b],
        }
    }

    /// Calls `f` on every local this expression reads.
    pub fn for_each_local(&self, f: &mut impl FnMut(LocalId)) {
        if let Self::Local(id) = self {
            f(*id);
        }
        for c in self.children() {
            c.for_each_local(f);
        }
    }
}

/// A divisor literal that can neither be zero nor `-1` (the `MIN / -1` overflow) cannot trap.
fn divisor_is_safe(b: &Expr) -> bool {
    b.as_lit()
        .and_then(Literal::as_i128)
        .is_some_and(|v| v != 0 && v != -1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn division_by_a_variable_is_impure_because_it_may_trap() {
        let x = Expr::local(LocalId(0));
        assert!(!Expr::bin(BinOp::Div, Expr::i32(1), x.clone()).is_pure());
        assert!(!Expr::bin(BinOp::Rem, x.clone(), Expr::i32(-1)).is_pure());
        assert!(Expr::bin(BinOp::Div, x.clone(), Expr::i32(2)).is_pure());
        assert!(Expr::add(x.clone(), Expr::i32(2)).is_stable());
        assert!(!Expr::index(x.clone(), Expr::i32(0)).is_stable());
    }

    #[test]
    fn wrapping_literal_construction() {
        assert_eq!(
            Literal::int_wrapping(ScalarType::U32, -1),
            Some(Literal::U32(u32::MAX))
        );
        assert_eq!(
            Literal::int_wrapping(ScalarType::I32, 1 << 31),
            Some(Literal::I32(i32::MIN))
        );
        assert_eq!(Literal::int_wrapping(ScalarType::F32, 0), None);
    }
}
