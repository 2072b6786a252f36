//! Optimisation passes over verified IR, and a manager that runs them to a fixed point.
//!
//! Contract of every [`Pass`]: given verified IR it returns verified IR with the same observable
//! behaviour under [`crate::semantics`] (same return value, same stores and intrinsic effects in the
//! same order, same traps), and reports whether it changed anything. The property test
//! `tests/passes_preserve_semantics.rs` checks this against [`crate::interp`].

mod const_fold;
mod dce;
mod simplify;
pub(crate) mod walk;

use crate::error::IrError;
use crate::ir::{Function, Module};
use crate::verify::verify_module;

pub use const_fold::ConstFold;
pub use dce::Dce;
pub use simplify::Simplify;

/// One optimisation pass.
pub trait Pass: std::fmt::Debug {
    /// Short name for reports.
    fn name(&self) -> &'static str;
    /// Rewrites `func` (a function of `module`, taken out of it while the pass runs); returns
    /// whether anything changed.
    fn run(&self, module: &Module, func: &mut Function) -> bool;
}

/// What a [`PassManager::run`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassReport {
    /// Rounds run (a round runs every pass once on every function).
    pub iterations: usize,
    /// Per pass, how many (function, round) runs changed something.
    pub changes: Vec<(&'static str, usize)>,
    /// False when the iteration cap stopped the loop before a round changed nothing.
    pub reached_fixed_point: bool,
}

/// Runs passes in order, round after round, until a round changes nothing or the cap is hit.
#[derive(Debug)]
pub struct PassManager {
    passes: Vec<Box<dyn Pass>>,
    max_iterations: usize,
}

impl PassManager {
    /// Default round cap: every rule shrinks the IR, so real code settles in a few rounds; the cap
    /// only guards against a future rule pair that undoes each other.
    pub const DEFAULT_MAX_ITERATIONS: usize = 16;

    /// Constant folding, then simplification, then DCE.
    pub fn standard() -> Self {
        Self::new(vec![Box::new(ConstFold), Box::new(Simplify), Box::new(Dce)])
    }

    /// A manager over `passes` with the default cap.
    pub fn new(passes: Vec<Box<dyn Pass>>) -> Self {
        Self {
            passes,
            max_iterations: Self::DEFAULT_MAX_ITERATIONS,
        }
    }

    /// Sets the round cap.
    pub fn with_max_iterations(mut self, n: usize) -> Self {
        self.max_iterations = n;
        self
    }

    /// Verifies `module`, optimises it, and verifies the result again (so a pass bug surfaces as
    /// an error here rather than as wrong CUDA).
    pub fn run(&self, module: &mut Module) -> Result<PassReport, IrError> {
        verify_module(module)?;
        let mut changes: Vec<(&'static str, usize)> =
            self.passes.iter().map(|p| (p.name(), 0)).collect();
        let mut iterations = 0;
        let mut reached_fixed_point = false;
        while iterations < self.max_iterations {
            iterations += 1;
            let mut any = false;
            for i in 0..module.functions.len() {
                for (k, pass) in self.passes.iter().enumerate() {
                    let mut f = module.functions[i].clone();
                    if pass.run(module, &mut f) {
                        changes[k].1 += 1;
                        any = true;
                        module.functions[i] = f;
                    }
                }
            }
            if !any {
                reached_fixed_point = true;
                break;
            }
        }
        verify_module(module)?;
        Ok(PassReport {
            iterations,
            changes,
            reached_fixed_point,
        })
    }
}

#[cfg(test)]
mod tests;
