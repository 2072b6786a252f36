//! Statements: structured control flow over [`Expr`]essions, and stores through pointers.

use super::expr::{Expr, Literal};
use super::func::LocalId;

/// A sequence of statements (a `{ … }` scope).
pub type Block = Vec<Stmt>;

/// A memory location written by [`Stmt::Store`]. Its root is always a pointer expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Place {
    /// `*ptr`
    Deref(Expr),
    /// `*ptr.add(index)`
    Index(Expr, Expr),
    /// `place.field` where `place` holds a struct.
    Field(Box<Place>, String),
}

/// A statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Stmt {
    /// `let local = init;` (introduces `local`; each id is introduced exactly once).
    Let {
        /// The new local.
        local: LocalId,
        /// Its initial value.
        init: Expr,
    },
    /// `local = value;`
    Assign {
        /// The target, already introduced.
        local: LocalId,
        /// The new value.
        value: Expr,
    },
    /// `place = value;` through a `*mut` pointer.
    Store {
        /// Where to write.
        place: Place,
        /// What to write.
        value: Expr,
    },
    /// `if cond { then } else { otherwise }`
    If {
        /// Must be `bool`.
        cond: Expr,
        /// Taken when `cond` is true.
        then: Block,
        /// Taken otherwise (may be empty).
        otherwise: Block,
    },
    /// `while cond { body }`
    While {
        /// Must be `bool`; re-evaluated before each iteration.
        cond: Expr,
        /// The loop body.
        body: Block,
    },
    /// `for var in start..end { body }` over an integer type; bounds evaluated once.
    ForRange {
        /// The loop variable, introduced by the loop; not assignable in the body.
        var: LocalId,
        /// First value (inclusive).
        start: Expr,
        /// Bound (exclusive).
        end: Expr,
        /// The loop body.
        body: Block,
    },
    /// `return value;`
    Return(Option<Expr>),
    /// An expression evaluated for its effects (`atomic_add_u32(p, 1);`).
    Expr(Expr),
}

impl Stmt {
    /// `if cond { then } else { otherwise }`.
    pub fn if_else(cond: Expr, then: Block, otherwise: Block) -> Self {
        Self::If {
            cond,
            then,
            otherwise,
        }
    }

    /// True when control never falls through this statement: it returns on every path, or it is
    /// a `while true` loop (the IR has no `break`, so such a loop only ends by returning).
    pub fn diverges(&self) -> bool {
        match self {
            Self::Return(_) => true,
            Self::If {
                then, otherwise, ..
            } => block_diverges(then) && block_diverges(otherwise),
            Self::While { cond, .. } => cond.as_lit() == Some(Literal::Bool(true)),
            _ => false,
        }
    }
}

/// True when some statement of the block diverges (see [`Stmt::diverges`]).
pub fn block_diverges(block: &[Stmt]) -> bool {
    block.iter().any(Stmt::diverges)
}
