//! The typed IR the Rust-to-CUDA transpiler goes through: parse → **IR → passes → CUDA C**.
//!
//! - [`ir`]: the data model — scalar types, pointers, plain structs, functions with structured
//!   statements and expressions; every local has a unique [`ir::LocalId`]. A small builder for tests.
//! - [`verify`]: rejects ill-typed IR with an [`IrError`]; every later stage assumes verified IR.
//! - [`passes`]: dead-code elimination, constant folding, algebraic simplification, and a pass
//!   manager that runs them to a fixed point. Each pass preserves Rust semantics (see
//!   [`semantics`]); floats are never rewritten in a way that could change an IEEE result.
//! - [`emit`]: IR → `__device__` CUDA C, deterministic, with Rust integer semantics spelled out.
//! - [`intrinsics`]: the one table of device intrinsics (name, Rust form, CUDA form, minimum compute
//!   capability) that the verifier, the emitter and `docs/intrinsics.md` all read.
//! - [`interp`]: a reference interpreter (scalars, floats, native intrinsics, pointer buffers), used
//!   to check that passes preserve meaning and that kernel-mode functions match CPU references.
//! - [`kernel`]: kernel modes that wrap IR functions into `extern "C" __global__` entry points
//!   (grid-stride SIMT, tiled 2D/3D stencils, ring-actor handlers, a persistent steered FDTD
//!   solver); see `docs/kernel-modes.md`.
//!
//! ```
//! use ringkernel_ir::ir::{Expr, FunctionBuilder, Module, ScalarType, Stmt, Type};
//! let mut f = FunctionBuilder::new("add_zero", Type::Scalar(ScalarType::I32));
//! let x = f.param("x", Type::Scalar(ScalarType::I32));
//! f.push(Stmt::Return(Some(Expr::add(Expr::local(x), Expr::i32(0)))));
//! let mut module = Module::new();
//! module.functions.push(f.finish());
//! ringkernel_ir::passes::PassManager::standard().run(&mut module)?;
//! let cuda = ringkernel_ir::emit::emit_module(&module)?;
//! assert!(cuda.contains("return x_0;"));
//! # Ok::<(), ringkernel_ir::IrError>(())
//! ```

pub mod emit;
mod error;
pub mod interp;
pub mod intrinsics;
pub mod ir;
pub mod kernel;
pub mod passes;
pub mod semantics;
#[cfg(test)]
mod test_util;
pub mod typeck;
pub mod verify;

pub use error::IrError;
