//! Functions, their local tables, and modules.

use std::fmt;

use super::stmt::Block;
use super::types::{StructDef, Type};

/// Index of a local in [`Function::locals`]; unique within the function (the IR is not SSA, but
/// no two bindings share an id, so passes may move code between scopes without capture issues).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LocalId(pub u32);

impl fmt::Display for LocalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "%{}", self.0)
    }
}

/// A local's declaration: a name hint (the emitter writes `name_id`) and its type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalDecl {
    /// Source name, a C identifier.
    pub name: String,
    /// Declared type.
    pub ty: Type,
}

/// A function: parameters are locals too.
#[derive(Debug, Clone, PartialEq)]
pub struct Function {
    /// Function name, a C identifier.
    pub name: String,
    /// Parameters in order (ids into `locals`).
    pub params: Vec<LocalId>,
    /// Return type (`Type::Void` for none).
    pub ret: Type,
    /// All locals, indexed by `LocalId.0`.
    pub locals: Vec<LocalDecl>,
    /// The body.
    pub body: Block,
}

impl Function {
    /// Declaration of local `id`, if it exists.
    pub fn local(&self, id: LocalId) -> Option<&LocalDecl> {
        self.locals.get(id.0 as usize)
    }
}

/// A compilation unit: struct definitions and functions, each in definition order (which is also
/// the emitted order, so output is deterministic).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Module {
    /// Struct definitions.
    pub structs: Vec<StructDef>,
    /// Functions.
    pub functions: Vec<Function>,
}

impl Module {
    /// An empty module.
    pub fn new() -> Self {
        Self::default()
    }

    /// The struct named `name`, if defined.
    pub fn struct_def(&self, name: &str) -> Option<&StructDef> {
        self.structs.iter().find(|s| s.name == name)
    }
}
