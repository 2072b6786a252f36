//! A small builder that allocates locals and collects a function body (used by tests and, later,
//! by the `syn` lowering).

use super::func::{Function, LocalDecl, LocalId};
use super::stmt::Stmt;
use super::types::Type;

/// Builds a [`Function`]: `param`/`local` allocate unique ids; `push` appends top-level statements
/// (nested blocks are plain `Vec<Stmt>`s built by the caller).
#[derive(Debug, Clone)]
pub struct FunctionBuilder {
    func: Function,
}

impl FunctionBuilder {
    /// A function named `name` returning `ret`, with no parameters and an empty body.
    pub fn new(name: &str, ret: Type) -> Self {
        Self {
            func: Function {
                name: name.to_string(),
                params: Vec::new(),
                ret,
                locals: Vec::new(),
                body: Vec::new(),
            },
        }
    }

    /// Adds a parameter and returns its id.
    pub fn param(&mut self, name: &str, ty: impl Into<Type>) -> LocalId {
        let id = self.local(name, ty);
        self.func.params.push(id);
        id
    }

    /// Declares a local (introduce it with `Stmt::Let` or as a `for` variable) and returns its id.
    pub fn local(&mut self, name: &str, ty: impl Into<Type>) -> LocalId {
        // Functions never hold anywhere near u32::MAX locals; saturate rather than panic.
        let id = LocalId(u32::try_from(self.func.locals.len()).unwrap_or(u32::MAX));
        self.func.locals.push(LocalDecl {
            name: name.to_string(),
            ty: ty.into(),
        });
        id
    }

    /// Appends a statement to the body.
    pub fn push(&mut self, stmt: Stmt) -> &mut Self {
        self.func.body.push(stmt);
        self
    }

    /// The finished function.
    pub fn finish(self) -> Function {
        self.func
    }
}
