//! The worker loop: take held actors from the ready ring, run a batch of messages each.
//!
//! Per actor run (the worker holds the actor, see `cell.rs`):
//! 1. Pop up to [`BATCH`] envelopes at a time and deliver each: run the handler if the actor is
//!    `Active` or `Draining`, drop it (ask completed with `Dropped`) if `Terminated` or `Failed`.
//! 2. After [`BATCH`] messages the actor goes to the back of the ready ring, so one busy actor
//!    cannot starve the others on its worker.
//! 3. When the mailbox is empty: a `Draining` actor becomes `Terminated`; then the hold is released
//!    and the mailbox re-checked. If a message slipped in and we win the hold back, the actor is
//!    requeued rather than spun on (a producer may be between claiming and publishing a slot).
//!
//! A handler that panics is treated like one that returned an error, with code [`PANIC_CODE`]:
//! the actor's state may be half-updated. If the actor has a restart policy that allows it, its
//! initial state is restored and it stays `Active` (event `Restarted`); otherwise it is
//! `Failed` (event `Failed`) and runs again only if restarted.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bytemuck::Zeroable;
use ringkernel_core::actor::HandleFailure;
use ringkernel_core::envelope::flags;
use ringkernel_core::events::ActorEvent;
use ringkernel_core::{AskError, Context, Envelope, HandlerError, LifecycleState, ReplyOutcome};

use crate::cell::ActorCell;
use crate::shared::{Shared, SharedRef};

/// Messages one actor runs before yielding its worker to the next ready actor.
pub const BATCH: usize = 64;
/// Ready actors a worker takes from its ring at once.
const READY_BATCH: usize = 32;
/// How long an idle worker spins on its ring before it starts yielding.
const SPIN_FOR: Duration = Duration::from_micros(50);
/// How long an idle worker keeps yielding (cheap when other threads want the core, instant
/// pickup when they do not) before it parks. A park/unpark round trip costs tens of
/// microseconds, far more than a typical gap between requests, so parking comes last.
const YIELD_FOR: Duration = Duration::from_millis(1);
/// The [`HandlerError`] code reported when a handler panics.
pub const PANIC_CODE: u32 = u32::MAX;

pub(crate) fn run(shared: SharedRef, me: usize) {
    let mut msgs = [Envelope::zeroed(); BATCH];
    let mut ready = [0u32; READY_BATCH];
    let queue = shared.sched.queue(me);
    let mut idle_since: Option<Instant> = None;
    while !shared.stopping.load(Ordering::Acquire) {
        // SAFETY: worker `me` is the only consumer of its own ready ring.
        let n = unsafe { queue.ready.pop_batch(&mut ready) };
        if n == 0 {
            let since = *idle_since.get_or_insert_with(Instant::now);
            let idle = since.elapsed();
            if idle < SPIN_FOR {
                for _ in 0..16 {
                    std::hint::spin_loop();
                }
            } else if idle < SPIN_FOR + YIELD_FOR {
                std::thread::yield_now();
            } else {
                queue.park_unless(&shared.stopping);
                idle_since = None;
            }
            continue;
        }
        idle_since = None;
        for &idx in &ready[..n] {
            match shared.table.get(idx) {
                Some(cell) => run_actor(&shared, me, cell, &mut msgs),
                None => tracing::error!(idx, "ready ring named an actor that does not exist"),
            }
        }
    }
    shared.alive.fetch_sub(1, Ordering::AcqRel);
}

fn run_actor(shared: &Shared, me: usize, cell: &ActorCell, msgs: &mut [Envelope; BATCH]) {
    let mut budget = BATCH;
    loop {
        // SAFETY: this worker holds the actor (it came from the ready ring), so it is the mailbox's
        // only consumer.
        let n = unsafe { cell.mailbox.pop_batch(&mut msgs[..budget]) };
        if n > 0 {
            let mut done = 0u64;
            for env in &msgs[..n] {
                if deliver(shared, me, cell, env) {
                    done += 1;
                }
            }
            shared.processed[me].fetch_add(done, Ordering::Relaxed);
            // After the handlers ran: shutdown's drain waits for `queued` to reach zero.
            shared.queued.fetch_sub(n as u64, Ordering::SeqCst);
            budget -= n;
            if budget == 0 {
                shared.sched.enqueue(cell.home, cell.id.raw());
                return;
            }
            continue;
        }
        if cell.lifecycle.load() == LifecycleState::Draining {
            // Nothing queued: the stop is complete. A racing send that got in before `Draining`
            // was visible is dropped by the next pop (the actor is then Terminated).
            if cell
                .lifecycle
                .transition(LifecycleState::Terminated)
                .is_ok()
            {
                shared
                    .events
                    .push(ActorEvent::Terminated { actor: cell.id });
            }
        }
        if cell.release_and_recheck() {
            shared.sched.enqueue(cell.home, cell.id.raw());
        }
        return;
    }
}

/// Runs or drops one message; returns whether a handler ran.
fn deliver(shared: &Shared, me: usize, cell: &ActorCell, env: &Envelope) -> bool {
    if shared.stopping.load(Ordering::Relaxed) || cell.lifecycle.load().is_stopped() {
        shared.drop_message(cell.id, env);
        return false;
    }
    // Same clock on both ends, so a skew error is impossible in practice; tick rather than fail.
    let timestamp = shared
        .hlc
        .merge(env.timestamp())
        .unwrap_or_else(|_| shared.hlc.tick());
    let ctx = Context {
        self_id: cell.id,
        sender: env.sender(),
        timestamp,
    };
    let Some(vt) = shared.types.get(cell.type_index) else {
        tracing::error!(actor = %cell.id, "actor has no vtable");
        shared.drop_message(cell.id, env);
        return false;
    };
    // SAFETY: this worker holds the actor for the whole call (see run_actor).
    let state = unsafe { cell.state_mut() };
    let running = &shared.running[me];
    running.actor.store(cell.id.raw(), Ordering::Relaxed);
    let began = shared.epoch.elapsed().as_nanos() as u64 + 1;
    running.since_ns.store(began, Ordering::Release);
    let result = catch_unwind(AssertUnwindSafe(|| {
        (vt.handle)(state.bytes_mut(), env, &ctx)
    }))
    .unwrap_or(Err(HandleFailure::Handler(HandlerError(PANIC_CODE))));
    running.since_ns.store(0, Ordering::Relaxed);
    match result {
        Ok(mut reply) => {
            if env.has_flag(flags::ASK) {
                if let Some(slot) = shared.asks.take(env.header.correlation) {
                    reply.header.correlation = env.header.correlation;
                    reply.header.flags = flags::REPLY;
                    reply.header.hlc = shared.hlc.tick().raw();
                    slot.complete(ReplyOutcome::Reply(reply));
                }
            }
        }
        Err(HandleFailure::Handler(error)) => {
            let restored = cell.restart.as_ref().is_some_and(|r| {
                let mut r = r.lock().unwrap_or_else(|e| e.into_inner());
                match r.take(Instant::now()) {
                    Some(image) => {
                        state.bytes_mut().copy_from_slice(image);
                        true
                    }
                    None => false,
                }
            });
            if restored {
                tracing::debug!(actor = %cell.id, code = error.0, "handler failed; restarted in place");
                shared.events.push(ActorEvent::Restarted {
                    actor: cell.id,
                    error,
                });
            } else {
                let _ = cell.lifecycle.transition(LifecycleState::Failed);
                tracing::warn!(actor = %cell.id, code = error.0, "handler failed; actor is now Failed");
                shared.events.push(ActorEvent::Failed {
                    actor: cell.id,
                    error,
                });
            }
            shared.complete(
                env,
                ReplyOutcome::Failed(AskError::HandlerFailed {
                    actor: cell.id,
                    error,
                }),
            );
        }
        Err(HandleFailure::Decode(e)) => {
            // The send path checks type and length, so this is a runtime bug: report it loudly,
            // keep the actor, and never leave the asker hanging.
            tracing::error!(actor = %cell.id, error = %e, "message did not decode; dropped");
            shared.drop_message(cell.id, env);
            return false;
        }
    }
    true
}
