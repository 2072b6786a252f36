//! Ready rings and worker parking.
//!
//! Each worker owns one MPSC ready ring of actor indices; an actor always goes to its home worker
//! (`id % workers`), so the ring has one consumer and an actor's state stays in one core's cache.
//! The ring never fills: an actor is in at most one ring at a time (the scheduled flag, see
//! `cell.rs`) and a ring is sized for every actor that can call it home.
//!
//! Parking: an idle worker sets `sleeping`, re-checks its ring, then parks. A producer pushes,
//! then checks `sleeping`. SeqCst fences on both sides make the pair a Dekker handshake: either the
//! worker sees the push or the producer sees `sleeping` and unparks it. `unpark` before `park`
//! leaves a token, so that order is safe too.

use std::sync::atomic::{fence, AtomicBool, Ordering};
use std::sync::OnceLock;
use std::thread::Thread;

use crossbeam_utils::CachePadded;
use ringkernel_core::CoreError;

use ringkernel_core::ring::mpsc::MpscRing;
use ringkernel_core::ring::PushError;

#[derive(Debug)]
pub(crate) struct WorkerQueue {
    pub(crate) ready: MpscRing<u32>,
    sleeping: CachePadded<AtomicBool>,
    thread: OnceLock<Thread>,
}

#[derive(Debug)]
pub(crate) struct Scheduler {
    queues: Box<[WorkerQueue]>,
}

impl Scheduler {
    pub(crate) fn new(workers: usize, max_actors: usize) -> Result<Self, CoreError> {
        let per_worker = max_actors.div_ceil(workers).next_power_of_two().max(2);
        let queues = (0..workers)
            .map(|_| {
                Ok(WorkerQueue {
                    ready: MpscRing::new(per_worker)?,
                    sleeping: CachePadded::new(AtomicBool::new(false)),
                    thread: OnceLock::new(),
                })
            })
            .collect::<Result<Vec<_>, CoreError>>()?;
        Ok(Scheduler {
            queues: queues.into_boxed_slice(),
        })
    }

    pub(crate) fn workers(&self) -> usize {
        self.queues.len()
    }

    pub(crate) fn queue(&self, worker: usize) -> &WorkerQueue {
        &self.queues[worker % self.queues.len()]
    }

    /// Records the thread to unpark for `worker`.
    pub(crate) fn set_thread(&self, worker: usize, t: Thread) {
        let _ = self.queue(worker).thread.set(t);
    }

    /// Hands the held actor `idx` to `worker`, waking it if it sleeps.
    pub(crate) fn enqueue(&self, worker: usize, idx: u32) {
        let q = self.queue(worker);
        let mut v = idx;
        // The ring cannot be full (module doc); if that invariant were ever broken, retrying keeps
        // the actor from being lost instead of silently dropping its wakeup.
        while let Err(PushError::Full(back)) = q.ready.push(v) {
            tracing::error!(
                worker,
                "ready ring full: scheduler invariant broken; retrying"
            );
            v = back;
            std::thread::yield_now();
        }
        fence(Ordering::SeqCst);
        if q.sleeping.load(Ordering::Relaxed) && q.sleeping.swap(false, Ordering::AcqRel) {
            if let Some(t) = q.thread.get() {
                t.unpark();
            }
        }
    }

    /// Wakes every worker (shutdown).
    pub(crate) fn wake_all(&self) {
        for q in self.queues.iter() {
            q.sleeping.store(false, Ordering::SeqCst);
            if let Some(t) = q.thread.get() {
                t.unpark();
            }
        }
    }
}

impl WorkerQueue {
    /// Parks the calling worker unless work (or `stop`) shows up after announcing sleep.
    pub(crate) fn park_unless(&self, stop: &AtomicBool) {
        self.sleeping.store(true, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        if !self.ready.is_empty() || stop.load(Ordering::SeqCst) {
            self.sleeping.store(false, Ordering::Relaxed);
            return;
        }
        std::thread::park();
        self.sleeping.store(false, Ordering::Relaxed);
    }
}
