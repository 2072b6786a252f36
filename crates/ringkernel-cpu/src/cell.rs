//! One actor on the CPU backend: state, lifecycle, mailbox and the "scheduled" flag.
//!
//! Ownership protocol (who may touch what):
//! 1. Any thread may push to `mailbox`, read `lifecycle` and call [`ActorCell::try_schedule`].
//! 2. The thread that set `scheduled` from `false` to `true` *holds* the actor. Only the holder
//!    pops the mailbox and touches `state`, and it either runs the actor or hands it (via the ready
//!    ring, which carries the hold along) to the worker that will. At most one thread holds it, so
//!    the MPSC ring has one consumer and the state has one writer.
//! 3. The holder gives the actor up with [`ActorCell::release`] and then re-checks the mailbox
//!    (see `worker.rs`): a push that lands after the release schedules the actor itself, so no
//!    wakeup is lost.

use std::cell::UnsafeCell;
use std::sync::atomic::{fence, AtomicBool, Ordering};
use std::sync::Mutex;

use crossbeam_utils::CachePadded;
use ringkernel_core::actor::StateBuf;
use ringkernel_core::{ActorId, AtomicLifecycle, CoreError, Envelope};

use ringkernel_core::ring::mpsc::MpscRing;

use crate::restart::InPlace;

#[derive(Debug)]
pub(crate) struct ActorCell {
    pub(crate) id: ActorId,
    pub(crate) type_index: usize,
    /// Message type id the actor accepts (copied from its vtable for the send-path check).
    pub(crate) msg_type: u32,
    /// Exact payload length of that message type.
    pub(crate) msg_len: u16,
    /// Worker whose ready ring this actor goes to.
    pub(crate) home: usize,
    pub(crate) lifecycle: AtomicLifecycle,
    pub(crate) mailbox: MpscRing<Envelope>,
    /// Set by whoever schedules the actor; cleared only by its holder (rule 2). Padded: senders
    /// poll it on every send while the holder writes it once per run.
    scheduled: CachePadded<AtomicBool>,
    /// Touched only by the holder (rule 2).
    state: UnsafeCell<StateBuf>,
    /// The in-place restart policy and image, if spawned with one (locked only on a failure
    /// and on a host restart).
    pub(crate) restart: Option<Mutex<InPlace>>,
}

// SAFETY: every field but `state` is Sync. `state` is only accessed through `state_mut`, whose
// contract restricts it to the single thread holding the `scheduled` flag (rule 2); the flag's
// Acquire CAS / Release store orders one holder's writes before the next holder's reads.
unsafe impl Sync for ActorCell {}

impl ActorCell {
    pub(crate) fn new(
        id: ActorId,
        type_index: usize,
        msg_type: u32,
        msg_len: u16,
        home: usize,
        state: &[u8],
        mailbox_capacity: usize,
    ) -> Result<Self, CoreError> {
        Ok(ActorCell {
            id,
            type_index,
            msg_type,
            msg_len,
            home,
            lifecycle: AtomicLifecycle::default(),
            mailbox: MpscRing::new(mailbox_capacity)?,
            scheduled: CachePadded::new(AtomicBool::new(false)),
            state: UnsafeCell::new(StateBuf::from_bytes(state)),
            restart: None,
        })
    }

    /// Takes the hold if nobody has it. Called after a push (or a lifecycle change) that needs a
    /// worker to look at the actor; `true` means the caller must hand the actor to a ready ring.
    #[inline]
    pub(crate) fn try_schedule(&self) -> bool {
        // SeqCst fence pairs with the one in `release_and_recheck`: either this thread sees the
        // flag cleared, or the releasing holder sees our push in the mailbox (Dekker).
        fence(Ordering::SeqCst);
        !self.scheduled.load(Ordering::Relaxed)
            && self
                .scheduled
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
    }

    /// Gives up the hold, then reports whether the caller must take it back because work arrived
    /// meanwhile (returns `true` only if the caller re-acquired the hold).
    pub(crate) fn release_and_recheck(&self) -> bool {
        // Release: our state writes happen-before the next holder's Acquire CAS.
        self.scheduled.store(false, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        !self.mailbox.is_empty() && self.try_schedule()
    }

    /// The actor's state.
    ///
    /// # Safety
    /// 1. The caller holds the actor (rule 2) for as long as the reference lives.
    #[allow(clippy::mut_from_ref)]
    pub(crate) unsafe fn state_mut(&self) -> &mut StateBuf {
        // SAFETY: the caller is the single holder (duty 1), so no other reference exists.
        unsafe { &mut *self.state.get() }
    }

    /// A copy of the state bytes, for tests and shutdown reports.
    ///
    /// # Safety
    /// 1. The caller holds the actor, or no thread can hold it any more (workers joined).
    pub(crate) unsafe fn state_bytes(&self) -> Vec<u8> {
        // SAFETY: per duty 1 nobody writes the state concurrently.
        unsafe { (*self.state.get()).bytes().to_vec() }
    }
}
