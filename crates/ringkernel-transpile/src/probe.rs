//! Probes: the lowered handler in a form [`ringkernel_ir::interp`] can run.
//!
//! The interpreter has scalars only (no memory), so a probe function takes every input scalar
//! as a parameter — the state's, then the message's (array elements in order), then `self_id`,
//! `sender`, `timestamp` — and returns one output scalar: output 0 is the handler's code (0 for
//! `Ok`), then the state's scalars after the handler, then the reply's. One function per output,
//! all from the same lowering as the CUDA form; [`Probe::run`] runs them all and reassembles the
//! bytes, so tests can compare against the natively compiled handler byte for byte.

use ringkernel_ir::interp::{self, InterpError};
use ringkernel_ir::ir::{Literal, Module, ScalarType};

use crate::model::StructLayout;

/// Types of a probe's parameters.
pub fn input_types(state: &StructLayout, msg: &StructLayout) -> Vec<ScalarType> {
    let mut v: Vec<ScalarType> = state.scalars().map(|s| s.2).collect();
    v.extend(msg.scalars().map(|s| s.2));
    v.extend([ScalarType::U32, ScalarType::U32, ScalarType::U64]);
    v
}

/// Types of the probe outputs: the code (`u32`), the state's scalars, the reply's scalars.
pub fn output_types(state: &StructLayout, reply: &StructLayout) -> Vec<ScalarType> {
    let mut v = vec![ScalarType::U32];
    v.extend(state.scalars().map(|s| s.2));
    v.extend(reply.scalars().map(|s| s.2));
    v
}

/// What the handler's context holds, for a probe run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProbeCtx {
    /// `ctx.self_id.raw()`.
    pub self_id: u32,
    /// `ctx.sender.raw()`.
    pub sender: u32,
    /// `ctx.timestamp.raw()`.
    pub timestamp: u64,
}

/// The result of running a probe: what the native handler would leave behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeOutcome {
    /// 0 for `Ok`, else the `HandlerError` code (`PANIC_CODE` where Rust panics).
    pub code: u32,
    /// The state's bytes after the handler.
    pub state: Vec<u8>,
    /// The reply's bytes, for `Ok`.
    pub reply: Option<Vec<u8>>,
}

/// A handler's probe functions and the layouts to (de)serialise their scalars.
#[derive(Debug, Clone)]
pub struct Probe {
    /// The functions, optimised by the standard passes.
    pub module: Module,
    /// Layout of the state.
    pub state: StructLayout,
    /// Layout of the message.
    pub msg: StructLayout,
    /// Layout of the reply.
    pub reply: StructLayout,
}

fn read(bytes: &[u8], ty: ScalarType, offset: usize) -> Option<Literal> {
    let b = bytes.get(offset..offset + (ty.bits() / 8) as usize)?;
    Some(match ty {
        ScalarType::I32 => Literal::I32(i32::from_le_bytes(b.try_into().ok()?)),
        ScalarType::U32 => Literal::U32(u32::from_le_bytes(b.try_into().ok()?)),
        ScalarType::I64 => Literal::I64(i64::from_le_bytes(b.try_into().ok()?)),
        ScalarType::U64 => Literal::U64(u64::from_le_bytes(b.try_into().ok()?)),
        ScalarType::F32 => Literal::F32(f32::from_le_bytes(b.try_into().ok()?)),
        ScalarType::F64 => Literal::F64(f64::from_le_bytes(b.try_into().ok()?)),
        ScalarType::Bool => return None,
    })
}

fn write(bytes: &mut [u8], l: Literal, offset: usize) -> Option<()> {
    let src: Vec<u8> = match l {
        Literal::I32(v) => v.to_le_bytes().to_vec(),
        Literal::U32(v) => v.to_le_bytes().to_vec(),
        Literal::I64(v) => v.to_le_bytes().to_vec(),
        Literal::U64(v) => v.to_le_bytes().to_vec(),
        Literal::F32(v) => v.to_le_bytes().to_vec(),
        Literal::F64(v) => v.to_le_bytes().to_vec(),
        Literal::Bool(_) => return None,
    };
    bytes
        .get_mut(offset..offset + src.len())?
        .copy_from_slice(&src);
    Some(())
}

fn decode(layout: &StructLayout, bytes: &[u8]) -> Result<Vec<Literal>, InterpError> {
    layout
        .scalars()
        .map(|(_, _, ty, off)| read(bytes, ty, off).ok_or(InterpError::Unsupported("bytes")))
        .collect()
}

impl Probe {
    /// Runs every probe function on `state`/`msg` bytes (each at most `fuel` steps).
    ///
    /// Fails with [`InterpError::Unsupported`] for what the interpreter lacks (floats,
    /// intrinsics), so callers can tell "not comparable" from a mismatch.
    pub fn run(
        &self,
        state: &[u8],
        msg: &[u8],
        ctx: ProbeCtx,
        fuel: u64,
    ) -> Result<ProbeOutcome, InterpError> {
        let mut args = decode(&self.state, state)?;
        args.extend(decode(&self.msg, msg)?);
        args.extend([
            Literal::U32(ctx.self_id),
            Literal::U32(ctx.sender),
            Literal::U64(ctx.timestamp),
        ]);
        let mut outputs = Vec::with_capacity(self.module.functions.len());
        for f in &self.module.functions {
            outputs.push(interp::run(f, &args, fuel)?.ok_or(InterpError::Unsupported("no value"))?);
        }
        let mut it = outputs.into_iter();
        let code = match it.next() {
            Some(Literal::U32(c)) => c,
            _ => return Err(InterpError::Unsupported("code")),
        };
        let mut new_state = vec![0u8; self.state.size];
        for ((_, _, _, off), l) in self.state.scalars().zip(it.by_ref()) {
            write(&mut new_state, l, off).ok_or(InterpError::Unsupported("bytes"))?;
        }
        let reply = if code == 0 {
            let mut r = vec![0u8; self.reply.size];
            for ((_, _, _, off), l) in self.reply.scalars().zip(it) {
                write(&mut r, l, off).ok_or(InterpError::Unsupported("bytes"))?;
            }
            Some(r)
        } else {
            None
        };
        Ok(ProbeOutcome {
            code,
            state: new_state,
            reply,
        })
    }
}
