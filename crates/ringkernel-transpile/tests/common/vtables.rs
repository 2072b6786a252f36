//! Actor vtables carrying the transpiled CUDA handler of an example, as `#[gpu_actor]` would
//! produce (the macro bakes the strings in; here they are leaked once per test process).

#![allow(dead_code)]

use ringkernel_core::{Actor, ActorVTable, CudaHandler};
use ringkernel_transpile::{transpile_str, ActorOutput};

fn leak(s: &str) -> &'static str {
    Box::leak(s.to_owned().into_boxed_str())
}

/// The transpiled actor of example module `src` (its only actor).
pub fn transpiled(src: &str) -> ActorOutput {
    match transpile_str(src) {
        Ok(mut out) if out.actors.len() == 1 => out.actors.remove(0),
        Ok(out) => panic!("expected one actor, got {}", out.actors.len()),
        Err(d) => panic!(
            "transpile failed: {:?}",
            d.iter().map(|d| &d.message).collect::<Vec<_>>()
        ),
    }
}

/// The transpiler's CUDA handler for `src` as a `CudaHandler`.
pub fn cuda_handler(src: &str) -> CudaHandler {
    let c = transpiled(src).cuda;
    CudaHandler {
        function: leak(&c.function),
        state_type: leak(&c.state_type),
        msg_type: leak(&c.msg_type),
        reply_type: leak(&c.reply_type),
        struct_defs: leak(&c.struct_defs),
        source: leak(&c.source),
    }
}

/// `A`'s vtable with the transpiled handler of `src`.
pub fn vtable<A: Actor>(src: &str) -> ActorVTable {
    let mut vt = ActorVTable::of::<A>().expect("layout");
    vt.cuda = Some(cuda_handler(src));
    vt
}
