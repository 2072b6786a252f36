//! Running an example natively the way the CPU backend does: a panic is `PANIC_CODE`.

#![allow(dead_code)]

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Once;

use ringkernel_core::{Actor, ActorId, Context, HandlerError, HlcTimestamp};
use ringkernel_transpile::probe::{ProbeCtx, ProbeOutcome};
use ringkernel_transpile::PANIC_CODE;

thread_local! {
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

/// Installs (once) a panic hook that stays silent for expected handler panics on this thread.
fn quiet_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(Cell::get) {
                default(info);
            }
        }));
    });
}

/// The context a probe sees, as a native `Context`.
pub fn context(c: ProbeCtx) -> Context {
    Context {
        self_id: ActorId::from_raw(c.self_id),
        sender: ActorId::from_raw(c.sender),
        timestamp: HlcTimestamp::from_raw(c.timestamp),
    }
}

/// Runs `A::handle` on copies of the bytes; the outcome in the probe's terms.
pub fn run_native<A: Actor>(state: &[u8], msg: &[u8], ctx: ProbeCtx) -> ProbeOutcome
where
    A::Msg: bytemuck::Pod,
    A::Reply: bytemuck::Pod,
{
    quiet_hook();
    let mut s: A::State = bytemuck::pod_read_unaligned(state);
    let m: A::Msg = bytemuck::pod_read_unaligned(msg);
    let ctx = context(ctx);
    QUIET.with(|q| q.set(true));
    let r = catch_unwind(AssertUnwindSafe(|| A::handle(&mut s, &m, &ctx)));
    QUIET.with(|q| q.set(false));
    let state = bytemuck::bytes_of(&s).to_vec();
    match r {
        Ok(Ok(reply)) => ProbeOutcome {
            code: 0,
            state,
            reply: Some(bytemuck::bytes_of(&reply).to_vec()),
        },
        Ok(Err(HandlerError(code))) => ProbeOutcome {
            code,
            state,
            reply: None,
        },
        Err(_) => ProbeOutcome {
            code: PANIC_CODE,
            state,
            reply: None,
        },
    }
}
