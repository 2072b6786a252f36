//! [`Sampler`]: the thread that runs [`Monitor::tick`] once per interval.
//!
//! The thread sleeps on a condition variable until the next deadline (spurious wake-ups do not
//! sample early) or until [`Sampler::stop`] flags it; `stop` then joins it, so after `stop`
//! returns the backend is sampled no more. `stop` is idempotent and runs on drop too. A tick
//! that overruns the interval delays the next one rather than queueing up missed ones.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::config::MIN_MONITOR_INTERVAL;
use super::Monitor;

/// The stop flag and the condition variable the thread waits on.
#[derive(Debug, Default)]
struct Stop {
    stopped: Mutex<bool>,
    wake: Condvar,
}

impl Stop {
    fn flag(&self) -> MutexGuard<'_, bool> {
        self.stopped.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The running sampling thread.
#[derive(Debug)]
pub(super) struct Sampler {
    stop: Arc<Stop>,
    handle: Mutex<Option<JoinHandle<()>>>,
}

impl Sampler {
    /// Starts sampling `monitor` every `interval` (at least [`MIN_MONITOR_INTERVAL`]).
    pub(super) fn start(monitor: Arc<Monitor>, interval: Duration) -> std::io::Result<Self> {
        let interval = interval.max(MIN_MONITOR_INTERVAL);
        let stop = Arc::new(Stop::default());
        let flag = stop.clone();
        let handle = std::thread::Builder::new()
            .name("ringkernel-monitor".into())
            .spawn(move || run(&monitor, &flag, interval))?;
        Ok(Sampler {
            stop,
            handle: Mutex::new(Some(handle)),
        })
    }

    /// Stops the thread and waits for it; later calls return at once.
    pub(super) fn stop(&self) {
        *self.stop.flag() = true;
        self.stop.wake.notify_all();
        let handle = self.handle.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(handle) = handle {
            if handle.join().is_err() {
                tracing::error!("resilience monitor thread panicked");
            }
        }
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.stop();
    }
}

fn run(monitor: &Monitor, stop: &Stop, interval: Duration) {
    loop {
        let next = ringkernel_core::deadline_after(interval);
        let mut stopped = stop.flag();
        loop {
            if *stopped {
                return;
            }
            let left = next.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            stopped = match stop.wake.wait_timeout(stopped, left) {
                Ok((guard, _)) => guard,
                Err(e) => e.into_inner().0,
            };
        }
        drop(stopped);
        monitor.tick(Instant::now());
    }
}
