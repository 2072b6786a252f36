//! The crate's one error type. Messages are lowercase and short; each names the function so a
//! caller lowering many handlers can tell which one is wrong.

use crate::ir::{BinOp, LocalId, ScalarType, Type, UnOp};

/// Why IR was rejected (by the verifier) or could not be emitted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum IrError {
    /// A binary operator got operands it does not accept (or of two different types).
    #[error("in `{func}`: operator `{}` cannot take `{lhs}` and `{rhs}`", op.token())]
    BinaryOperandMismatch {
        /// Function name.
        func: String,
        /// The operator.
        op: BinOp,
        /// Left operand type.
        lhs: Type,
        /// Right operand type.
        rhs: Type,
    },
    /// A unary operator got an operand it does not accept (`-` on unsigned, `!` on floats).
    #[error("in `{func}`: operator `{op:?}` cannot take `{operand}`")]
    UnaryOperandMismatch {
        /// Function name.
        func: String,
        /// The operator.
        op: UnOp,
        /// Operand type.
        operand: Type,
    },
    /// An intrinsic name not in the table.
    #[error("in `{func}`: unknown intrinsic `{name}`")]
    UnknownIntrinsic {
        /// Function name.
        func: String,
        /// The name called.
        name: String,
    },
    /// An intrinsic called with the wrong number of arguments.
    #[error("in `{func}`: intrinsic `{name}` takes {expected} arguments, got {got}")]
    IntrinsicArity {
        /// Function name.
        func: String,
        /// Intrinsic name.
        name: String,
        /// Parameters it declares.
        expected: usize,
        /// Arguments given.
        got: usize,
    },
    /// An intrinsic argument of the wrong type.
    #[error("in `{func}`: argument {index} of `{name}` must be `{expected}`, got `{got}`")]
    IntrinsicArgType {
        /// Function name.
        func: String,
        /// Intrinsic name.
        name: String,
        /// Zero-based argument position.
        index: usize,
        /// Declared type.
        expected: Type,
        /// Given type.
        got: Type,
    },
    /// A value of the wrong type for a `let`, assignment, store, return or loop bound.
    #[error("in `{func}`: {what} expects `{expected}`, got `{got}`")]
    TypeMismatch {
        /// Function name.
        func: String,
        /// What was being typed (`"let x_3"`, `"return"`, …).
        what: String,
        /// The required type.
        expected: Type,
        /// The given type.
        got: Type,
    },
    /// A local read or assigned before (or outside the scope of) its introduction.
    #[error("in `{func}`: local {local} used where it is not defined")]
    UndefinedLocal {
        /// Function name.
        func: String,
        /// The local.
        local: LocalId,
    },
    /// A local introduced twice (ids must be unique) or a `LocalId` past the local table.
    #[error("in `{func}`: local {local} is introduced twice or not declared")]
    BadLocal {
        /// Function name.
        func: String,
        /// The local.
        local: LocalId,
    },
    /// Assignment to a `for` loop variable inside its loop.
    #[error("in `{func}`: loop variable {local} is assigned in its loop")]
    AssignToLoopVar {
        /// Function name.
        func: String,
        /// The loop variable.
        local: LocalId,
    },
    /// A path through a non-void function that reaches the end without `return`.
    #[error("in `{func}`: a path reaches the end without returning `{ret}`")]
    MissingReturn {
        /// Function name.
        func: String,
        /// The declared return type.
        ret: Type,
    },
    /// An `if`/`while`/`select` condition that is not `bool`.
    #[error("in `{func}`: condition must be `bool`, got `{got}`")]
    NonBoolCondition {
        /// Function name.
        func: String,
        /// The condition's type.
        got: Type,
    },
    /// A cast Rust's `as` does not allow (into `bool`, `bool` ↔ float, non-scalars).
    #[error("in `{func}`: cannot cast `{from}` to `{to}`")]
    UnsupportedCast {
        /// Function name.
        func: String,
        /// Source type.
        from: Type,
        /// Target type.
        to: ScalarType,
    },
    /// A store (or index load) whose root is not a pointer, or a store through `*const`.
    #[error("in `{func}`: cannot {what} through `{got}`")]
    NotAPointer {
        /// Function name.
        func: String,
        /// `"store"` or `"index"` or `"store (const pointer)"`.
        what: String,
        /// The root's type.
        got: Type,
    },
    /// A field that the struct does not have, or a field access on a non-struct.
    #[error("in `{func}`: `{ty}` has no field `{field}`")]
    NoSuchField {
        /// Function name.
        func: String,
        /// The accessed type.
        ty: Type,
        /// The field name.
        field: String,
    },
    /// A struct name used in a type but not defined in the module.
    #[error("in `{func}`: struct `{name}` is not defined")]
    UnknownStruct {
        /// Function name (or `"<module>"`).
        func: String,
        /// The struct name.
        name: String,
    },
    /// A function, local, struct or field name that is not a C identifier (or is reserved).
    #[error("`{name}` is not a usable identifier")]
    BadIdentifier {
        /// The name.
        name: String,
    },
    /// A `void` value used where a value is needed (a void intrinsic in an expression, a void local).
    #[error("in `{func}`: a `()` value is used as a value")]
    VoidValue {
        /// Function name.
        func: String,
    },
    /// A kernel mode was asked to wrap a function the module does not define.
    #[error("no function `{name}` in the module")]
    NoSuchFunction {
        /// The requested name.
        name: String,
    },
    /// A function does not have the signature a kernel mode requires (see `docs/kernel-modes.md`).
    #[error("in `{func}`: {reason}")]
    KernelContract {
        /// Function name.
        func: String,
        /// What is wrong.
        reason: String,
    },
    /// The interpreter stopped while running a kernel mode on the CPU.
    #[error("interpreter: {0}")]
    Interp(#[from] crate::interp::InterpError),
}
