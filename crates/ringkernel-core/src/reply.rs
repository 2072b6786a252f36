//! One-shot reply slot shared by an asking caller and the backend that completes it.
//!
//! Exactly one `complete` wins; later ones are ignored and reported as `false`. The waiter can block
//! (spinning briefly, then parking) or `.await` (registering a waker). The spin phase matters: a
//! reply usually arrives within microseconds, far sooner than a park/unpark round trip.
//!
//! A backend may attach a [`ReplyDriver`]: a blocking waiter then spends its spin phase pumping
//! the backend's reply path itself, so it collects its own reply without a hand-off from another
//! thread (one cross-core cache-line transfer and a wake-up fewer per ask).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll, Waker};
use std::time::{Duration, Instant};

use crate::envelope::Envelope;
use crate::id::ActorId;
use crate::send::AskError;

const EMPTY: u8 = 0;
const WRITING: u8 = 1;
const READY: u8 = 2;

/// How a reply slot was completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyOutcome {
    /// The handler replied.
    Reply(Envelope),
    /// The ask failed.
    Failed(AskError),
}

#[derive(Debug, Default)]
enum Waiter {
    #[default]
    None,
    Thread(std::thread::Thread),
    Task(Waker),
}

/// A backend's reply path that a blocking waiter can pump while it spins.
///
/// Calls are balanced: `enter` once before the first `drive`, `leave` once after the last (also
/// when the wait ends early). `drive` must be cheap when there is nothing to do and must never
/// block for long: it runs in the caller's spin loop.
pub trait ReplyDriver: Send + Sync + fmt::Debug {
    /// A waiter starts pumping.
    fn enter(&self) {}
    /// Makes progress on the reply path (e.g. drains a reply ring if no one else is).
    fn drive(&self);
    /// The waiter stops pumping (it got its reply, timed out, or is about to park).
    fn leave(&self) {}
}

/// Calls `leave` on drop, so every exit from the spin phase balances `enter`.
struct Driving<'a>(&'a dyn ReplyDriver);

impl<'a> Driving<'a> {
    fn new(d: &'a dyn ReplyDriver) -> Self {
        d.enter();
        Driving(d)
    }
}

impl Drop for Driving<'_> {
    fn drop(&mut self) {
        self.0.leave();
    }
}

/// The shared slot. Create with [`reply_pair`].
#[derive(Debug)]
pub struct ReplySlot {
    /// EMPTY -> WRITING (one completer wins) -> READY. Never goes back.
    state: AtomicU8,
    /// How it was settled ([`Settled`] as u8), readable after the waiter took the outcome.
    settled: AtomicU8,
    /// Written once by the winning completer before `state` becomes READY; read after.
    outcome: Mutex<Option<ReplyOutcome>>,
    waiter: Mutex<Waiter>,
}

/// Creates a slot and the handle that waits on it; the backend keeps the `Arc<ReplySlot>`.
pub fn reply_pair(target: ActorId) -> (Arc<ReplySlot>, PendingReply) {
    let slot = Arc::new(ReplySlot {
        state: AtomicU8::new(EMPTY),
        settled: AtomicU8::new(Settled::Waiting as u8),
        outcome: Mutex::new(None),
        waiter: Mutex::new(Waiter::None),
    });
    (
        slot.clone(),
        PendingReply {
            slot,
            target,
            deadline: None,
            driver: None,
        },
    )
}

impl ReplySlot {
    /// Completes the slot; returns `false` if it was already completed.
    pub fn complete(&self, outcome: ReplyOutcome) -> bool {
        if self
            .state
            .compare_exchange(EMPTY, WRITING, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            return false;
        }
        let settled = match &outcome {
            ReplyOutcome::Reply(_) => Settled::Answered,
            ReplyOutcome::Failed(AskError::HandlerFailed { .. }) => Settled::HandlerFailed,
            ReplyOutcome::Failed(_) => Settled::Failed,
        };
        self.settled.store(settled as u8, Ordering::Relaxed);
        *lock(&self.outcome) = Some(outcome);
        self.state.store(READY, Ordering::Release);
        match std::mem::take(&mut *lock(&self.waiter)) {
            Waiter::None => {}
            Waiter::Thread(t) => t.unpark(),
            Waiter::Task(w) => w.wake(),
        }
        true
    }

    /// Whether a reply or failure is ready.
    pub fn is_ready(&self) -> bool {
        self.state.load(Ordering::Acquire) == READY
    }

    fn take(&self) -> Option<ReplyOutcome> {
        if self.is_ready() {
            lock(&self.outcome).take()
        } else {
            None
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned lock only means another thread panicked mid-update of a plain value; the value is
    // still a valid Option/Waiter, so carry on rather than propagate the panic.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The caller's side of an ask: block on it or `.await` it.
#[derive(Debug)]
pub struct PendingReply {
    slot: Arc<ReplySlot>,
    target: ActorId,
    deadline: Option<Instant>,
    driver: Option<Arc<dyn ReplyDriver>>,
}

/// How long a blocking wait spins before parking the thread.
const SPIN_FOR: Duration = Duration::from_micros(50);

/// How an ask was settled, as seen by a [`ReplyWatch`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Settled {
    /// No outcome yet.
    Waiting = 0,
    /// The actor processed the request and replied.
    Answered = 1,
    /// The actor processed the request and its handler failed.
    HandlerFailed = 2,
    /// Not processed as far as the runtime knows (dropped, device lost, ...).
    Failed = 3,
}

/// A second view of an ask's slot, kept by whoever must know later how the ask ended (a
/// recovering runtime: only processed requests are replayed) without taking its reply.
#[derive(Debug, Clone)]
pub struct ReplyWatch {
    slot: Arc<ReplySlot>,
}

impl ReplyWatch {
    /// How the ask was settled so far.
    pub fn settled(&self) -> Settled {
        if !self.slot.is_ready() {
            return Settled::Waiting;
        }
        match self.slot.settled.load(Ordering::Relaxed) {
            1 => Settled::Answered,
            2 => Settled::HandlerFailed,
            _ => Settled::Failed,
        }
    }

    /// Settles the ask with `error` if nothing settled it yet; `true` if this did.
    pub fn fail(&self, error: AskError) -> bool {
        self.slot.complete(ReplyOutcome::Failed(error))
    }
}

impl PendingReply {
    /// A [`ReplyWatch`] on this ask.
    pub fn watch(&self) -> ReplyWatch {
        ReplyWatch {
            slot: self.slot.clone(),
        }
    }

    /// The actor asked.
    pub fn target(&self) -> ActorId {
        self.target
    }

    /// Sets a deadline for `.await` (blocking waits take theirs as an argument).
    pub fn with_deadline(mut self, deadline: Instant) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Lets a blocking [`wait`](Self::wait) pump `driver` while it spins.
    pub fn with_driver(mut self, driver: Arc<dyn ReplyDriver>) -> Self {
        self.driver = Some(driver);
        self
    }

    /// Blocks until the reply arrives or `timeout` passes.
    pub fn wait(self, timeout: Duration) -> Result<Envelope, AskError> {
        let start = Instant::now();
        let deadline = crate::deadline_after(timeout);
        let mut spins = 0u32;
        let mut driving = self.driver.as_deref().map(Driving::new);
        loop {
            if let Some(out) = self.slot.take() {
                return into_result(out);
            }
            spins = spins.wrapping_add(1);
            // Reading the clock can cost more than the whole spin (a syscall on some VMs), so
            // look at it only every 32nd round; the reply check above runs every round.
            if spins % 32 != 0 {
                match &driving {
                    Some(d) => d.0.drive(),
                    None => std::hint::spin_loop(),
                }
                continue;
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(AskError::Timeout(timeout));
            }
            if now - start < SPIN_FOR {
                if spins % 2048 == 0 {
                    std::thread::yield_now();
                }
                continue;
            }
            // Parking: hand the reply path back to the backend before sleeping on it.
            driving = None;
            *lock(&self.slot.waiter) = Waiter::Thread(std::thread::current());
            // Re-check after registering: a completion between the check above and the
            // registration would otherwise leave us parked until the deadline.
            if self.slot.is_ready() {
                continue;
            }
            std::thread::park_timeout(deadline - now);
        }
    }
}

fn into_result(out: ReplyOutcome) -> Result<Envelope, AskError> {
    match out {
        ReplyOutcome::Reply(env) => Ok(env),
        ReplyOutcome::Failed(e) => Err(e),
    }
}

impl Future for PendingReply {
    type Output = Result<Envelope, AskError>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        if let Some(out) = self.slot.take() {
            return Poll::Ready(into_result(out));
        }
        if let Some(d) = self.deadline {
            if Instant::now() >= d {
                return Poll::Ready(Err(AskError::Timeout(Duration::ZERO)));
            }
        }
        *lock(&self.slot.waiter) = Waiter::Task(cx.waker().clone());
        if let Some(out) = self.slot.take() {
            return Poll::Ready(into_result(out));
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::MessageTypeId;

    fn env() -> Envelope {
        Envelope::from_bytes(ActorId::from_raw(1), ActorId::HOST, MessageTypeId(3), &[7]).unwrap()
    }

    #[test]
    fn first_completion_wins() {
        let (slot, pending) = reply_pair(ActorId::from_raw(1));
        assert!(slot.complete(ReplyOutcome::Reply(env())));
        assert!(
            !slot.complete(ReplyOutcome::Failed(AskError::Dropped(ActorId::from_raw(
                1
            ))))
        );
        assert_eq!(pending.wait(Duration::from_secs(1)).unwrap(), env());
    }

    #[test]
    fn blocking_wait_times_out() {
        let (_slot, pending) = reply_pair(ActorId::from_raw(1));
        let err = pending.wait(Duration::from_millis(5)).unwrap_err();
        assert_eq!(err, AskError::Timeout(Duration::from_millis(5)));
    }

    #[test]
    fn completion_from_another_thread_wakes_a_parked_waiter() {
        let (slot, pending) = reply_pair(ActorId::from_raw(1));
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            slot.complete(ReplyOutcome::Reply(env()))
        });
        assert_eq!(pending.wait(Duration::from_secs(5)).unwrap(), env());
        assert!(t.join().unwrap());
    }

    #[test]
    fn failure_is_delivered() {
        let (slot, pending) = reply_pair(ActorId::from_raw(1));
        slot.complete(ReplyOutcome::Failed(AskError::Dropped(ActorId::from_raw(
            1,
        ))));
        assert_eq!(
            pending.wait(Duration::from_secs(1)),
            Err(AskError::Dropped(ActorId::from_raw(1)))
        );
    }

    /// Completes its slot on the `after`-th drive; counts enters and leaves.
    #[derive(Debug)]
    struct CountingDriver {
        slot: Mutex<Option<Arc<ReplySlot>>>,
        after: u32,
        drives: std::sync::atomic::AtomicU32,
        enters: std::sync::atomic::AtomicU32,
        leaves: std::sync::atomic::AtomicU32,
    }

    impl CountingDriver {
        fn new(slot: Option<Arc<ReplySlot>>, after: u32) -> Arc<Self> {
            Arc::new(CountingDriver {
                slot: Mutex::new(slot),
                after,
                drives: Default::default(),
                enters: Default::default(),
                leaves: Default::default(),
            })
        }
    }

    impl ReplyDriver for CountingDriver {
        fn enter(&self) {
            self.enters.fetch_add(1, Ordering::SeqCst);
        }
        fn drive(&self) {
            if self.drives.fetch_add(1, Ordering::SeqCst) + 1 == self.after {
                if let Some(s) = lock(&self.slot).take() {
                    s.complete(ReplyOutcome::Reply(env()));
                }
            }
        }
        fn leave(&self) {
            self.leaves.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_driving_waiter_collects_the_reply_it_pumps() {
        let (slot, pending) = reply_pair(ActorId::from_raw(1));
        let d = CountingDriver::new(Some(slot), 100);
        let got = pending
            .with_driver(d.clone())
            .wait(Duration::from_secs(5))
            .unwrap();
        assert_eq!(got, env());
        assert!(d.drives.load(Ordering::SeqCst) >= 100);
        assert_eq!(d.enters.load(Ordering::SeqCst), 1);
        assert_eq!(d.leaves.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn driving_is_balanced_when_the_wait_parks_and_times_out() {
        let (_slot, pending) = reply_pair(ActorId::from_raw(1));
        let d = CountingDriver::new(None, 0);
        let err = pending
            .with_driver(d.clone())
            .wait(Duration::from_millis(20))
            .unwrap_err();
        assert_eq!(err, AskError::Timeout(Duration::from_millis(20)));
        assert!(d.drives.load(Ordering::SeqCst) > 0);
        // The spin phase ended (parked) and may restart after a spurious wake; every enter has
        // its leave.
        assert_eq!(
            d.enters.load(Ordering::SeqCst),
            d.leaves.load(Ordering::SeqCst)
        );
    }
}
