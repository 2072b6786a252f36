//! State shared by the backend handle and its workers, and the send path.
//!
//! The send path takes no lock: actor lookup is two acquire loads (`table.rs`), the mailbox push
//! is a lock-free ring, and scheduling is one flag CAS plus, when the actor was idle, one push to a
//! ready ring. Per send it also does two runtime-wide atomic read-modify-writes: the HLC tick (one
//! clock per runtime is the contract) and the `queued` count, which shutdown needs to know when
//! every accepted message is accounted for (see `close_gate`). Tells allocate nothing.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crossbeam_utils::CachePadded;
use ringkernel_core::envelope::flags;
use ringkernel_core::events::EventQueue;
use ringkernel_core::{
    ActorId, ActorVTable, AskError, Envelope, Hlc, PendingReply, ReplyOutcome, SendError,
};

use crate::asks::PendingAsks;
use crate::cell::ActorCell;
use crate::config::CpuConfig;
use crate::sched::Scheduler;
use crate::table::ActorTable;
use ringkernel_core::ring::PushError;

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) types: Box<[ActorVTable]>,
    pub(crate) config: CpuConfig,
    pub(crate) table: ActorTable,
    pub(crate) asks: PendingAsks,
    pub(crate) sched: Scheduler,
    pub(crate) hlc: Hlc,
    /// Set once by shutdown; from then on every send is refused with `ShutDown`.
    pub(crate) closed: AtomicBool,
    /// Set once by shutdown after draining; workers exit at their next check.
    pub(crate) stopping: AtomicBool,
    /// Messages accepted and not yet processed or dropped. Incremented before a push is attempted
    /// (and undone if it fails), decremented after the message is handled.
    pub(crate) queued: CachePadded<AtomicU64>,
    /// Messages processed, one counter per worker (each written by its worker only).
    pub(crate) processed: Box<[CachePadded<AtomicU64>]>,
    /// Accepted messages that were never processed (target stopped or failed, or shutdown).
    pub(crate) dropped: AtomicU64,
    /// Workers that have not exited yet.
    pub(crate) alive: AtomicUsize,
    /// Failures, in-place restarts and terminations, for supervisors.
    pub(crate) events: Arc<EventQueue>,
    /// Per worker: the handler call it is in, for the watchdog.
    pub(crate) running: Box<[CachePadded<Running>]>,
    /// Time zero of [`Running::since_ns`].
    pub(crate) epoch: Instant,
}

/// The handler call a worker is in: `since_ns` is when it began, in ns after [`Shared::epoch`]
/// plus one (0: none). The worker writes both around each call (relaxed: the watchdog only
/// needs a recent view), the watchdog reads them.
#[derive(Debug, Default)]
pub(crate) struct Running {
    pub(crate) actor: AtomicU32,
    pub(crate) since_ns: AtomicU64,
}

impl Shared {
    /// Checks everything that can be checked before touching the mailbox.
    #[inline]
    fn admit(&self, env: &Envelope) -> Result<&ActorCell, SendError> {
        if self.closed.load(Ordering::Acquire) {
            return Err(SendError::ShutDown);
        }
        let id = env.receiver();
        let cell = self
            .table
            .get(id.raw())
            .ok_or(SendError::UnknownActor(id))?;
        if env.header.type_id != cell.msg_type || env.header.payload_len != cell.msg_len {
            return Err(SendError::WrongMessageType {
                actor: id,
                type_id: env.header.type_id,
            });
        }
        if !cell.lifecycle.load().accepts_messages() {
            return Err(SendError::Stopped(id));
        }
        Ok(cell)
    }

    /// Stamps and enqueues an admitted envelope, scheduling the actor if it was idle.
    #[inline]
    fn push(&self, cell: &ActorCell, mut env: Envelope) -> Result<(), SendError> {
        // Dekker with `close_gate`: SeqCst increment, then SeqCst read of `closed`. Either this
        // send sees `closed`, or shutdown's read of `queued` sees this increment and waits for it.
        self.queued.fetch_add(1, Ordering::SeqCst);
        if self.closed.load(Ordering::SeqCst) {
            self.queued.fetch_sub(1, Ordering::SeqCst);
            return Err(SendError::ShutDown);
        }
        env.header.hlc = self.hlc.tick().raw();
        if let Err(PushError::Full(_)) = cell.mailbox.push(env) {
            self.queued.fetch_sub(1, Ordering::SeqCst);
            return Err(SendError::Full(cell.id));
        }
        if cell.try_schedule() {
            self.sched.enqueue(cell.home, cell.id.raw());
        }
        Ok(())
    }

    /// Enqueues a restored message as it was (sender and stamp kept; the clock merges the
    /// stamp so later stamps follow it).
    pub(crate) fn push_restored(&self, env: Envelope) -> Result<(), SendError> {
        let cell = self.admit(&env)?;
        let _ = self.hlc.merge(env.timestamp());
        self.queued.fetch_add(1, Ordering::SeqCst);
        if self.closed.load(Ordering::SeqCst) {
            self.queued.fetch_sub(1, Ordering::SeqCst);
            return Err(SendError::ShutDown);
        }
        if let Err(PushError::Full(_)) = cell.mailbox.push(env) {
            self.queued.fetch_sub(1, Ordering::SeqCst);
            return Err(SendError::Full(cell.id));
        }
        if cell.try_schedule() {
            self.sched.enqueue(cell.home, cell.id.raw());
        }
        Ok(())
    }

    pub(crate) fn tell(&self, mut env: Envelope) -> Result<(), SendError> {
        let cell = self.admit(&env)?;
        env.header.flags &= !(flags::ASK | flags::REPLY | flags::FAILED);
        env.header.correlation = 0;
        self.push(cell, env)
    }

    pub(crate) fn ask(&self, mut env: Envelope) -> Result<PendingReply, SendError> {
        let cell = self.admit(&env)?;
        let (slot, pending) = ringkernel_core::reply_pair(cell.id);
        let corr = self.asks.insert(cell.id, slot)?;
        env.header.flags = (env.header.flags & !(flags::REPLY | flags::FAILED)) | flags::ASK;
        env.header.correlation = corr;
        if let Err(e) = self.push(cell, env) {
            // Not enqueued: nobody else can complete it, and the caller gets the error instead.
            let _ = self.asks.take(corr);
            return Err(e);
        }
        Ok(pending)
    }

    /// Accounts for an accepted message that will not be processed; completes its ask.
    pub(crate) fn drop_message(&self, target: ActorId, env: &Envelope) {
        self.dropped.fetch_add(1, Ordering::Relaxed);
        self.complete(env, ReplyOutcome::Failed(AskError::Dropped(target)));
    }

    /// Completes the ask `env` carries, if any and still pending.
    pub(crate) fn complete(&self, env: &Envelope, outcome: ReplyOutcome) {
        if env.has_flag(flags::ASK) {
            if let Some(slot) = self.asks.take(env.header.correlation) {
                slot.complete(outcome);
            }
        }
    }

    pub(crate) fn processed_total(&self) -> u64 {
        self.processed
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .sum()
    }
}

/// Marker so `Arc<Shared>` can be named in signatures without repeating the path.
pub(crate) type SharedRef = Arc<Shared>;
