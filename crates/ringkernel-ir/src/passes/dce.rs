//! Dead-code elimination:
//! - statements after one that diverges (`return`, an `if` returning on both sides, `while true`);
//! - `if true` / `if false`: the taken branch replaces the `if` (its locals keep their unique ids,
//!   so moving them to the enclosing scope cannot capture anything); `while false` loops;
//! - `let`s of locals that are never read: removed when the initialiser is pure, else kept as an
//!   expression statement; assignments to such locals likewise;
//! - expression statements with pure expressions, `if`s with two empty branches and a pure
//!   condition, and `for` loops with an empty body and pure bounds.

use std::collections::HashSet;

use super::Pass;
use crate::ir::{Block, Expr, Function, Literal, LocalId, Module, Place, Stmt};

/// The dead-code-elimination pass.
#[derive(Debug, Clone, Copy, Default)]
pub struct Dce;

impl Pass for Dce {
    fn name(&self) -> &'static str {
        "dce"
    }

    fn run(&self, _module: &Module, func: &mut Function) -> bool {
        let mut read = HashSet::new();
        collect_reads(&func.body, &mut read);
        let dead: HashSet<LocalId> = (0..func.locals.len())
            .filter_map(|i| u32::try_from(i).ok().map(LocalId))
            .filter(|id| !read.contains(id) && !func.params.contains(id))
            .collect();
        dce_block(&mut func.body, &dead)
    }
}

fn collect_reads(block: &[Stmt], read: &mut HashSet<LocalId>) {
    let mut add = |e: &Expr| {
        e.for_each_local(&mut |id| {
            read.insert(id);
        })
    };
    fn place_exprs<'a>(p: &'a Place, out: &mut Vec<&'a Expr>) {
        match p {
            Place::Deref(e) => out.push(e),
            Place::Index(a, b) => out.extend([a, b]),
            Place::Field(inner, _) => place_exprs(inner, out),
        }
    }
    let mut nested: Vec<&Block> = Vec::new();
    for s in block {
        match s {
            Stmt::Let { init: e, .. }
            | Stmt::Assign { value: e, .. }
            | Stmt::Expr(e)
            | Stmt::Return(Some(e)) => add(e),
            Stmt::Return(None) => {}
            Stmt::Store { place, value } => {
                let mut es = Vec::new();
                place_exprs(place, &mut es);
                es.into_iter().for_each(&mut add);
                add(value);
            }
            Stmt::If {
                cond,
                then,
                otherwise,
            } => {
                add(cond);
                nested.extend([then, otherwise]);
            }
            Stmt::While { cond, body } => {
                add(cond);
                nested.push(body);
            }
            Stmt::ForRange {
                start, end, body, ..
            } => {
                add(start);
                add(end);
                nested.push(body);
            }
        }
    }
    for b in nested {
        collect_reads(b, read);
    }
}

/// Keeps the effects of a value that is no longer needed.
fn keep_effects(e: Expr, out: &mut Block) -> bool {
    if !e.is_pure() {
        out.push(Stmt::Expr(e));
    }
    true
}

fn dce_block(block: &mut Block, dead: &HashSet<LocalId>) -> bool {
    let mut changed = false;
    let mut out = Vec::with_capacity(block.len());
    for s in std::mem::take(block) {
        if out.last().is_some_and(Stmt::diverges) {
            changed = true;
            break;
        }
        match s {
            Stmt::Let { local, init } | Stmt::Assign { local, value: init }
                if dead.contains(&local) =>
            {
                changed |= keep_effects(init, &mut out);
            }
            Stmt::Expr(e) if e.is_pure() => changed = true,
            Stmt::If {
                cond: Expr::Lit(Literal::Bool(c)),
                mut then,
                mut otherwise,
            } => {
                let taken = if c { &mut then } else { &mut otherwise };
                dce_block(taken, dead);
                out.append(taken);
                changed = true;
            }
            Stmt::If {
                cond,
                mut then,
                mut otherwise,
            } => {
                changed |= dce_block(&mut then, dead);
                changed |= dce_block(&mut otherwise, dead);
                if then.is_empty() && otherwise.is_empty() {
                    changed |= keep_effects(cond, &mut out);
                } else {
                    out.push(Stmt::If {
                        cond,
                        then,
                        otherwise,
                    });
                }
            }
            Stmt::While {
                cond: Expr::Lit(Literal::Bool(false)),
                ..
            } => changed = true,
            Stmt::While { cond, mut body } => {
                changed |= dce_block(&mut body, dead);
                out.push(Stmt::While { cond, body });
            }
            Stmt::ForRange {
                var,
                start,
                end,
                mut body,
            } => {
                changed |= dce_block(&mut body, dead);
                if body.is_empty() && start.is_pure() && end.is_pure() {
                    changed = true;
                } else {
                    out.push(Stmt::ForRange {
                        var,
                        start,
                        end,
                        body,
                    });
                }
            }
            other => out.push(other),
        }
    }
    *block = out;
    changed
}

#[cfg(test)]
mod tests;
