//! The IR data model: a typed, structured (not SSA) tree — close to the Rust subset it comes from
//! and to the CUDA C it becomes. Every local has a unique [`LocalId`]; types live on locals,
//! struct definitions and the intrinsic table, and [`crate::typeck`] derives expression types.

mod builder;
mod expr;
mod func;
mod stmt;
mod types;

pub use builder::FunctionBuilder;
pub use expr::{BinOp, Expr, Literal, UnOp};
pub use func::{Function, LocalDecl, LocalId, Module};
pub use stmt::{block_diverges, Block, Place, Stmt};
pub use types::{FieldDef, Pointee, ScalarType, StructDef, Type};
