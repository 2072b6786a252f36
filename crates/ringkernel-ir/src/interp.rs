//! A reference interpreter for IR with Rust semantics ([`crate::semantics`]): integer, `bool` and
//! float code, locals, control flow and returns, intrinsics that have a CPU meaning
//! ([`crate::intrinsics::eval_native`]), and — through [`run_with_memory`] — loads and stores
//! through pointer parameters into caller-owned buffers. Struct fields and impure intrinsics give
//! [`InterpError::Unsupported`].
//!
//! Floats are evaluated in IEEE single/double precision without contraction; the device may fuse
//! `a * b + c` into one FMA, so float results are compared with a tolerance (see the kernel tests).
//!
//! It exists to check the passes: the property tests run a function before and after
//! optimisation and require the same outcome, traps included. Its integer arithmetic is written
//! independently of constant folding on purpose (exact `i128` arithmetic, then wrapping to the
//! type's width, where folding uses Rust's `wrapping_*` methods) so that one bug cannot hide
//! itself in both.

use std::collections::HashMap;

use crate::intrinsics;
use crate::ir::{BinOp, Block, Expr, Function, Literal, LocalId, Place, ScalarType, Stmt, UnOp};

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
    /// A load or store outside its buffer (device code would read or corrupt other memory).
    #[error("buffer access out of bounds")]
    OutOfBounds,
}

/// An argument of [`run_with_memory`]: a scalar, or a pointer to element 0 of buffer `k` of the
/// memory passed alongside.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    /// A scalar value.
    Scalar(Literal),
    /// Points at the first element of `memory[k]`.
    Buffer(usize),
}

enum Flow {
    Normal,
    Return(Option<Literal>),
}

/// Runs `func` with `args` (one per parameter) for at most `fuel` statements.
pub fn run(func: &Function, args: &[Literal], fuel: u64) -> Result<Option<Literal>, InterpError> {
    let args: Vec<Value> = args.iter().map(|a| Value::Scalar(*a)).collect();
    run_with_memory(func, &args, &mut [], fuel)
}

/// Runs `func` with `args`, where pointer parameters get [`Value::Buffer`]s indexing `memory`;
/// loads and stores go to those buffers (bounds-checked). Each buffer holds elements of the
/// pointee type.
pub fn run_with_memory(
    func: &Function,
    args: &[Value],
    memory: &mut [Vec<Literal>],
    fuel: u64,
) -> Result<Option<Literal>, InterpError> {
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
        memory,
    };
    match m.block(&func.body)? {
        Flow::Return(v) => Ok(v),
        Flow::Normal => Ok(None),
    }
}

/// Evaluates a closed expression (locals from `env`).
pub fn eval(e: &Expr, env: &HashMap<LocalId, Literal>) -> Result<Literal, InterpError> {
    Machine {
        env: env.iter().map(|(k, v)| (*k, Value::Scalar(*v))).collect(),
        fuel: 0,
        memory: &mut [],
    }
    .expr(e)
}

struct Machine<'m> {
    env: HashMap<LocalId, Value>,
    fuel: u64,
    memory: &'m mut [Vec<Literal>],
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

impl Machine<'_> {
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
                let v = self.value(e)?;
                self.env.insert(*local, v);
            }
            Stmt::Store { place, value } => {
                let (buf, index) = match place {
                    Place::Deref(p) => (self.buffer(p)?, 0),
                    Place::Index(p, i) => (self.buffer(p)?, int(self.expr(i)?)?),
                    Place::Field(..) => return Err(InterpError::Unsupported("struct field")),
                };
                let v = self.expr(value)?;
                *self.slot(buf, index)? = v;
            }
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
                    self.env.insert(*var, Value::Scalar(wrap(ty, i)?));
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

    /// A scalar or a pointer (pointers only come from locals: the IR has no pointer arithmetic).
    fn value(&mut self, e: &Expr) -> Result<Value, InterpError> {
        match e {
            Expr::Local(id) => self
                .env
                .get(id)
                .copied()
                .ok_or(InterpError::Unsupported("unbound local")),
            Expr::Select(c, a, b) => {
                if boolean(self.expr(c)?)? {
                    self.value(a)
                } else {
                    self.value(b)
                }
            }
            _ => self.expr(e).map(Value::Scalar),
        }
    }

    fn buffer(&mut self, e: &Expr) -> Result<usize, InterpError> {
        match self.value(e)? {
            Value::Buffer(k) => Ok(k),
            Value::Scalar(_) => Err(InterpError::Unsupported("pointer expected")),
        }
    }

    fn slot(&mut self, buf: usize, index: i128) -> Result<&mut Literal, InterpError> {
        let b = self.memory.get_mut(buf).ok_or(InterpError::OutOfBounds)?;
        usize::try_from(index)
            .ok()
            .and_then(|i| b.get_mut(i))
            .ok_or(InterpError::OutOfBounds)
    }

    fn expr(&mut self, e: &Expr) -> Result<Literal, InterpError> {
        match e {
            Expr::Lit(l) => Ok(*l),
            Expr::Local(id) => match self.env.get(id) {
                Some(Value::Scalar(l)) => Ok(*l),
                Some(Value::Buffer(_)) => Err(InterpError::Unsupported("pointer as a scalar")),
                None => Err(InterpError::Unsupported("unbound local")),
            },
            Expr::Unary(op, x) => {
                let v = self.expr(x)?;
                match (op, v) {
                    (UnOp::Neg, Literal::F32(f)) => Ok(Literal::F32(-f)),
                    (UnOp::Neg, Literal::F64(f)) => Ok(Literal::F64(-f)),
                    (UnOp::Not, Literal::Bool(b)) => Ok(Literal::Bool(!b)),
                    (UnOp::Not, l) => wrap(l.ty(), -1 - int(l)?),
                    (UnOp::Neg, l) => wrap(l.ty(), -int(l)?),
                }
            }
            Expr::Binary(op, a, b) => self.binary(*op, a, b),
            Expr::Cast(to, x) => {
                let v = self.expr(x)?;
                cast(v, *to)
            }
            Expr::Select(c, a, b) => {
                if boolean(self.expr(c)?)? {
                    self.expr(a)
                } else {
                    self.expr(b)
                }
            }
            Expr::Index(p, i) => {
                let buf = self.buffer(p)?;
                let i = int(self.expr(i)?)?;
                Ok(*self.slot(buf, i)?)
            }
            Expr::Field(..) => Err(InterpError::Unsupported("struct field")),
            Expr::Call(name, args) => {
                let pure = intrinsics::lookup(name).is_some_and(|i| i.pure);
                let vals = args
                    .iter()
                    .map(|a| self.expr(a))
                    .collect::<Result<Vec<_>, _>>()?;
                intrinsics::eval_native(name, &vals)
                    .filter(|_| pure)
                    .ok_or(InterpError::Unsupported("intrinsic without a CPU meaning"))
            }
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
        match (x, y) {
            (Literal::F32(p), Literal::F32(q)) => return float_binary(op, p, q, Literal::F32),
            (Literal::F64(p), Literal::F64(q)) => return float_binary(op, p, q, Literal::F64),
            _ => {}
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

/// Rust's `as` between scalars (rule 4): float → integer truncates and saturates, NaN → 0.
fn cast(v: Literal, to: ScalarType) -> Result<Literal, InterpError> {
    use Literal as L;
    use ScalarType as T;
    let f = match v {
        L::F32(f) => Some(f64::from(f)),
        L::F64(f) => Some(f),
        _ => None,
    };
    Ok(match (v, to) {
        // The only cast into bool that Rust (and the verifier) allows.
        (L::Bool(_), T::Bool) => v,
        (L::Bool(b), to) if to.is_int() => wrap(to, i128::from(b))?,
        (L::F32(x), T::F32) => L::F32(x),
        (L::F32(x), T::F64) => L::F64(f64::from(x)),
        (L::F64(x), T::F32) => L::F32(x as f32),
        (L::F64(x), T::F64) => L::F64(x),
        // f32 → int through f64 is exact (every f32 is an f64), and `as` saturates the same way.
        (_, T::I32) if f.is_some() => L::I32(f.unwrap_or(0.0) as i32),
        (_, T::U32) if f.is_some() => L::U32(f.unwrap_or(0.0) as u32),
        (_, T::I64) if f.is_some() => L::I64(f.unwrap_or(0.0) as i64),
        (_, T::U64) if f.is_some() => L::U64(f.unwrap_or(0.0) as u64),
        (l, T::F32) => L::F32(int_to_f32(l)?),
        (l, T::F64) => L::F64(int_to_f64(l)?),
        (l, to) => wrap(to, int(l)?)?,
    })
}

fn int_to_f32(l: Literal) -> Result<f32, InterpError> {
    // Each integer type converts directly (one rounding), as `as` does.
    Ok(match l {
        Literal::I32(v) => v as f32,
        Literal::U32(v) => v as f32,
        Literal::I64(v) => v as f32,
        Literal::U64(v) => v as f32,
        _ => return Err(InterpError::Unsupported("cast")),
    })
}

fn int_to_f64(l: Literal) -> Result<f64, InterpError> {
    Ok(match l {
        Literal::I32(v) => f64::from(v),
        Literal::U32(v) => f64::from(v),
        Literal::I64(v) => v as f64,
        Literal::U64(v) => v as f64,
        _ => return Err(InterpError::Unsupported("cast")),
    })
}

fn float_binary<F>(op: BinOp, p: F, q: F, lit: fn(F) -> Literal) -> Result<Literal, InterpError>
where
    F: Copy
        + PartialOrd
        + std::ops::Add<Output = F>
        + std::ops::Sub<Output = F>
        + std::ops::Mul<Output = F>
        + std::ops::Div<Output = F>
        + std::ops::Rem<Output = F>,
{
    use BinOp::*;
    Ok(match op {
        Add => lit(p + q),
        Sub => lit(p - q),
        Mul => lit(p * q),
        Div => lit(p / q),
        // Rust's `%` on floats is C's fmod, which the emitter writes.
        Rem => lit(p % q),
        Eq => Literal::Bool(p == q),
        Ne => Literal::Bool(p != q),
        Lt => Literal::Bool(p < q),
        Le => Literal::Bool(p <= q),
        Gt => Literal::Bool(p > q),
        Ge => Literal::Bool(p >= q),
        _ => return Err(InterpError::Unsupported("operator on floats")),
    })
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

    #[test]
    fn floats_intrinsics_and_memory() {
        use crate::ir::Place;
        let f32t = Type::Scalar(ScalarType::F32);
        // out[i] = sqrt(x[i]) * 2.0 + (i as f32), for i in 0..n
        let mut f = FunctionBuilder::new("k", Type::Void);
        let x = f.param("x", Type::ptr_const(ScalarType::F32));
        let out = f.param("out", Type::ptr_mut(ScalarType::F32));
        let n = f.param("n", ScalarType::U32);
        let i = f.local("i", ScalarType::U32);
        let v = f.local("v", f32t);
        f.push(Stmt::ForRange {
            var: i,
            start: Expr::u32(0),
            end: Expr::local(n),
            body: vec![
                Stmt::Let {
                    local: v,
                    init: Expr::call(
                        "sqrt_f32",
                        vec![Expr::index(Expr::local(x), Expr::local(i))],
                    ),
                },
                Stmt::Store {
                    place: Place::Index(Expr::local(out), Expr::local(i)),
                    value: Expr::add(
                        Expr::mul(Expr::local(v), Expr::f32(2.0)),
                        Expr::cast(ScalarType::F32, Expr::local(i)),
                    ),
                },
            ],
        });
        let f = f.finish();
        let mut mem = vec![
            vec![Literal::F32(4.0), Literal::F32(9.0)],
            vec![Literal::F32(0.0); 2],
        ];
        let args = [
            Value::Buffer(0),
            Value::Buffer(1),
            Value::Scalar(Literal::U32(2)),
        ];
        assert_eq!(run_with_memory(&f, &args, &mut mem, 100), Ok(None));
        assert_eq!(mem[1], vec![Literal::F32(4.0), Literal::F32(7.0)]);
        let args = [
            Value::Buffer(0),
            Value::Buffer(1),
            Value::Scalar(Literal::U32(3)),
        ];
        assert_eq!(
            run_with_memory(&f, &args, &mut mem, 100),
            Err(InterpError::OutOfBounds)
        );
        assert_eq!(
            ev(Expr::cast(ScalarType::I32, Expr::f32(-1e20))),
            Ok(Literal::I32(i32::MIN))
        );
        assert_eq!(
            ev(Expr::cast(ScalarType::U64, Expr::f64(f64::NAN))),
            Ok(Literal::U64(0))
        );
        assert_eq!(
            ev(Expr::bin(BinOp::Rem, Expr::f64(-7.5), Expr::f64(2.0))),
            Ok(Literal::F64(-1.5))
        );
        assert_eq!(
            ev(Expr::call("atomic_add_u32", vec![])),
            Err(InterpError::Unsupported("intrinsic without a CPU meaning"))
        );
    }
}
