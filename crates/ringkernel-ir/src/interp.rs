//! A reference interpreter for scalar IR: integer and `bool` code with Rust semantics
//! ([`crate::semantics`]), locals, control flow and returns. No memory, floats or intrinsics
//! (those give [`InterpError::Unsupported`]).
//!
//! It exists to check the passes: the property tests run a function before and after
//! optimisation and require the same outcome, traps included. Its integer arithmetic is written
//! independently of constant folding on purpose (exact `i128` arithmetic, then wrapping to the
//! type's width, where folding uses Rust's `wrapping_*` methods) so that one bug cannot hide
//! itself in both.

use std::collections::HashMap;

use crate::ir::{BinOp, Block, Expr, Function, Literal, LocalId, ScalarType, Stmt, UnOp};

/// Why evaluation stopped without a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InterpError {
    /// Integer division or remainder by zero (a Rust panic; a device trap).
    #[error("division by zero")]
    DivideByZero,
    /// `MIN / -1` or `MIN % -1` (a Rust panic; a device trap).
    #[error("division overflow")]
    DivideOverflow,
    /// Something outside the interpreter's scalar subset.
    #[error("unsupported: {0}")]
    Unsupported(&'static str),
    /// The step budget ran out (a loop that does not end).
    #[error("out of fuel")]
    OutOfFuel,
}

enum Flow {
    Normal,
    Return(Option<Literal>),
}

/// Runs `func` with `args` (one per parameter) for at most `fuel` statements.
pub fn run(func: &Function, args: &[Literal], fuel: u64) -> Result<Option<Literal>, InterpError> {
    if args.len() != func.params.len() {
        return Err(InterpError::Unsupported("argument count"));
    }
    let mut m = Machine {
        env: func
            .params
            .iter()
            .copied()
            .zip(args.iter().copied())
            .collect(),
        fuel,
    };
    match m.block(&func.body)? {
        Flow::Return(v) => Ok(v),
        Flow::Normal => Ok(None),
    }
}

/// Evaluates a closed expression (locals from `env`).
pub fn eval(e: &Expr, env: &HashMap<LocalId, Literal>) -> Result<Literal, InterpError> {
    Machine {
        env: env.clone(),
        fuel: 0,
    }
    .expr(e)
}

struct Machine {
    env: HashMap<LocalId, Literal>,
    fuel: u64,
}

fn wrap(ty: ScalarType, v: i128) -> Result<Literal, InterpError> {
    Literal::int_wrapping(ty, v).ok_or(InterpError::Unsupported("non-integer type"))
}

fn int(l: Literal) -> Result<i128, InterpError> {
    l.as_i128()
        .ok_or(InterpError::Unsupported("float or bool operand"))
}

fn boolean(l: Literal) -> Result<bool, InterpError> {
    match l {
        Literal::Bool(b) => Ok(b),
        _ => Err(InterpError::Unsupported("non-bool condition")),
    }
}

impl Machine {
    fn tick(&mut self) -> Result<(), InterpError> {
        self.fuel = self.fuel.checked_sub(1).ok_or(InterpError::OutOfFuel)?;
        Ok(())
    }

    fn block(&mut self, b: &Block) -> Result<Flow, InterpError> {
        for s in b {
            self.tick()?;
            if let Flow::Return(v) = self.stmt(s)? {
                return Ok(Flow::Return(v));
            }
        }
        Ok(Flow::Normal)
    }

    fn stmt(&mut self, s: &Stmt) -> Result<Flow, InterpError> {
        match s {
            Stmt::Let { local, init: e } | Stmt::Assign { local, value: e } => {
                let v = self.expr(e)?;
                self.env.insert(*local, v);
            }
            Stmt::Store { .. } => return Err(InterpError::Unsupported("store")),
            Stmt::If {
                cond,
                then,
                otherwise,
            } => {
                let c = boolean(self.expr(cond)?)?;
                return self.block(if c { then } else { otherwise });
            }
            Stmt::While { cond, body } => {
                while boolean(self.expr(cond)?)? {
                    self.tick()?;
                    if let Flow::Return(v) = self.block(body)? {
                        return Ok(Flow::Return(v));
                    }
                }
            }
            Stmt::ForRange {
                var,
                start,
                end,
                body,
            } => {
                let s = self.expr(start)?;
                let ty = s.ty();
                let (mut i, e) = (int(s)?, int(self.expr(end)?)?);
                while i < e {
                    self.tick()?;
                    self.env.insert(*var, wrap(ty, i)?);
                    if let Flow::Return(v) = self.block(body)? {
                        return Ok(Flow::Return(v));
                    }
                    i += 1;
                }
            }
            Stmt::Return(v) => {
                let v = v.as_ref().map(|e| self.expr(e)).transpose()?;
                return Ok(Flow::Return(v));
            }
            Stmt::Expr(e) => {
                self.expr(e)?;
            }
        }
        Ok(Flow::Normal)
    }

    fn expr(&mut self, e: &Expr) -> Result<Literal, InterpError> {
        match e {
            Expr::Lit(l) => Ok(*l),
            Expr::Local(id) => self
                .env
                .get(id)
                .copied()
                .ok_or(InterpError::Unsupported("unbound local")),
            Expr::Unary(op, x) => {
                let v = self.expr(x)?;
                match (op, v) {
                    (UnOp::Not, Literal::Bool(b)) => Ok(Literal::Bool(!b)),
                    (UnOp::Not, l) => wrap(l.ty(), -1 - int(l)?),
                    (UnOp::Neg, l) => wrap(l.ty(), -int(l)?),
                }
            }
            Expr::Binary(op, a, b) => self.binary(*op, a, b),
            Expr::Cast(to, x) => {
                let v = self.expr(x)?;
                match (v, *to) {
                    // The only cast into bool that Rust (and the verifier) allows.
                    (Literal::Bool(_), ScalarType::Bool) => Ok(v),
                    (Literal::Bool(b), to) => wrap(to, i128::from(b)),
                    (l, to) => wrap(to, int(l)?),
                }
            }
            Expr::Select(c, a, b) => {
                if boolean(self.expr(c)?)? {
                    self.expr(a)
                } else {
                    self.expr(b)
                }
            }
            Expr::Field(..) | Expr::Index(..) => Err(InterpError::Unsupported("memory")),
            Expr::Call(..) => Err(InterpError::Unsupported("intrinsic")),
        }
    }

    fn binary(&mut self, op: BinOp, a: &Expr, b: &Expr) -> Result<Literal, InterpError> {
        use BinOp::*;
        if matches!(op, And | Or) {
            let l = boolean(self.expr(a)?)?;
            // Short-circuit: the right side runs only when the left does not decide.
            if l == (op == Or) {
                return Ok(Literal::Bool(l));
            }
            return Ok(Literal::Bool(boolean(self.expr(b)?)?));
        }
        let (x, y) = (self.expr(a)?, self.expr(b)?);
        if let (Literal::Bool(p), Literal::Bool(q)) = (x, y) {
            return Ok(Literal::Bool(match op {
                BitAnd => p & q,
                BitOr => p | q,
                BitXor | Ne => p != q,
                Eq => p == q,
                Lt => !p & q,
                Le => !p | q,
                Gt => p & !q,
                Ge => p | !q,
                _ => return Err(InterpError::Unsupported("bool arithmetic")),
            }));
        }
        let ty = x.ty();
        let (p, q) = (int(x)?, int(y)?);
        let bits = i128::from(ty.bits());
        match op {
            Add => wrap(ty, p + q),
            Sub => wrap(ty, p - q),
            // i128 may overflow for 64-bit operands; wrapping mod 2^128 keeps the low 64 bits.
            Mul => wrap(ty, p.wrapping_mul(q)),
            Div | Rem => {
                if q == 0 {
                    return Err(InterpError::DivideByZero);
                }
                let quotient = p / q;
                if wrap(ty, quotient)?.as_i128() != Some(quotient) {
                    return Err(InterpError::DivideOverflow);
                }
                wrap(ty, if op == Div { quotient } else { p % q })
            }
            BitAnd => wrap(ty, p & q),
            BitOr => wrap(ty, p | q),
            BitXor => wrap(ty, p ^ q),
            // Rust release semantics: the amount is taken modulo the width (rule 2).
            Shl => wrap(
                ty,
                p.wrapping_shl(u32::try_from(q.rem_euclid(bits)).unwrap_or(0)),
            ),
            Shr => wrap(ty, p >> q.rem_euclid(bits)),
            Eq => Ok(Literal::Bool(p == q)),
            Ne => Ok(Literal::Bool(p != q)),
            Lt => Ok(Literal::Bool(p < q)),
            Le => Ok(Literal::Bool(p <= q)),
            Gt => Ok(Literal::Bool(p > q)),
            Ge => Ok(Literal::Bool(p >= q)),
            And | Or => Err(InterpError::Unsupported("unreachable")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{FunctionBuilder, Type};

    fn ev(e: Expr) -> Result<Literal, InterpError> {
        eval(&e, &HashMap::new())
    }

    #[test]
    fn integer_semantics_are_rusts_release_semantics() {
        assert_eq!(
            ev(Expr::add(Expr::i32(i32::MAX), Expr::i32(1))),
            Ok(Literal::I32(i32::MIN))
        );
        assert_eq!(
            ev(Expr::mul(Expr::u64(u64::MAX), Expr::u64(u64::MAX))),
            Ok(Literal::U64(1))
        );
        assert_eq!(
            ev(Expr::bin(BinOp::Shl, Expr::u32(1), Expr::i32(33))),
            Ok(Literal::U32(2))
        );
        assert_eq!(
            ev(Expr::bin(BinOp::Shr, Expr::i32(-8), Expr::u32(1))),
            Ok(Literal::I32(-4))
        );
        assert_eq!(
            ev(Expr::bin(BinOp::Rem, Expr::i32(-7), Expr::i32(2))),
            Ok(Literal::I32(-1))
        );
        assert_eq!(
            ev(Expr::cast(ScalarType::U32, Expr::i32(-1))),
            Ok(Literal::U32(u32::MAX))
        );
        assert_eq!(
            ev(Expr::cast(ScalarType::Bool, Expr::bool(true))),
            Ok(Literal::Bool(true))
        );
        assert_eq!(
            ev(Expr::cast(ScalarType::I64, Expr::bool(true))),
            Ok(Literal::I64(1))
        );
        assert_eq!(
            ev(Expr::unary(UnOp::Not, Expr::u32(0))),
            Ok(Literal::U32(u32::MAX))
        );
    }

    #[test]
    fn traps_and_short_circuit() {
        let div0 = Expr::bin(BinOp::Div, Expr::i32(1), Expr::i32(0));
        assert_eq!(ev(div0.clone()), Err(InterpError::DivideByZero));
        assert_eq!(
            ev(Expr::bin(BinOp::Rem, Expr::i64(i64::MIN), Expr::i64(-1))),
            Err(InterpError::DivideOverflow)
        );
        let guard = Expr::bin(
            BinOp::And,
            Expr::bool(false),
            Expr::bin(BinOp::Eq, div0, Expr::i32(0)),
        );
        assert_eq!(ev(guard), Ok(Literal::Bool(false)));
    }

    #[test]
    fn runs_loops_and_returns() {
        let i32t = Type::Scalar(ScalarType::I32);
        let mut f = FunctionBuilder::new("sum", i32t.clone());
        let n = f.param("n", i32t.clone());
        let acc = f.local("acc", i32t.clone());
        let i = f.local("i", i32t);
        f.push(Stmt::Let {
            local: acc,
            init: Expr::i32(0),
        });
        f.push(Stmt::ForRange {
            var: i,
            start: Expr::i32(0),
            end: Expr::local(n),
            body: vec![Stmt::Assign {
                local: acc,
                value: Expr::add(Expr::local(acc), Expr::local(i)),
            }],
        });
        f.push(Stmt::Return(Some(Expr::local(acc))));
        let f = f.finish();
        assert_eq!(
            run(&f, &[Literal::I32(5)], 1000),
            Ok(Some(Literal::I32(10)))
        );
        assert_eq!(
            run(&f, &[Literal::I32(5000)], 100),
            Err(InterpError::OutOfFuel)
        );
    }
}
