//! The heartbeat watch behind `signals()`: liveness and the hung-handler watchdog.
//!
//! Every block writes `%globaltimer` into its status line at least once per heartbeat period,
//! also while it sleeps cold (`kernels/persistent.cu`); only lane 0 running one handler (or a
//! batch) for a long time stops it. So the host needs no device clock: it remembers, per block,
//! the host time at which it last saw the heartbeat value change.
//!
//! - A block is **live** when its heartbeat changed within the live window (`max(20 heartbeat
//!   periods, 50 ms)`) and it has not left the loop.
//! - A block is **stalled** (its actor's handler hung) when its heartbeat has not changed for at
//!   least the watchdog deadline. A GPU cannot preempt one block's handler, so the watchdog
//!   reports; recovering the kernel is the caller's decision.
//!
//! The first observation of a block starts its clock: a block can only be judged stalled a full
//! deadline after the watch first saw it.

use std::time::{Duration, Instant};

use ringkernel_core::health::Liveness;

/// Per block: the last heartbeat value seen and when it was first seen.
#[derive(Debug)]
pub(super) struct Watch {
    deadline: Duration,
    live_window: Duration,
    last: Vec<(u64, Instant)>,
}

impl Watch {
    /// A watch that calls a block stalled after `deadline` without a heartbeat change.
    pub(super) fn new(deadline: Duration, heartbeat: Duration) -> Self {
        Watch {
            deadline,
            live_window: (heartbeat * 20).max(Duration::from_millis(50)),
            last: Vec::new(),
        }
    }

    /// Takes one sample (`beats[b]`: block b's heartbeat and whether it exited) at `now`;
    /// returns the liveness and the stalled blocks with how long they have been silent.
    pub(super) fn observe(
        &mut self,
        beats: &[(u64, bool)],
        now: Instant,
    ) -> (Liveness, Vec<(usize, Duration)>) {
        if self.last.len() != beats.len() {
            self.last = beats.iter().map(|&(beat, _)| (beat, now)).collect();
        }
        let mut liveness = Liveness {
            live_blocks: 0,
            blocks: beats.len() as u32,
            exited_blocks: 0,
        };
        let mut stalled = Vec::new();
        for (b, (&(beat, exited), last)) in beats.iter().zip(self.last.iter_mut()).enumerate() {
            if beat != last.0 {
                *last = (beat, now);
            }
            let silent = now.saturating_duration_since(last.1);
            if exited {
                liveness.exited_blocks += 1;
                continue;
            }
            if beat != 0 && silent <= self.live_window {
                liveness.live_blocks += 1;
            }
            if silent >= self.deadline {
                stalled.push((b, silent));
            }
        }
        (liveness, stalled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_silent_block_is_stalled_after_the_deadline_and_not_live() {
        let t0 = Instant::now();
        let mut w = Watch::new(Duration::from_secs(1), Duration::from_millis(1));
        let (l, s) = w.observe(&[(5, false), (7, false)], t0);
        assert_eq!(l.live_blocks, 2);
        assert!(s.is_empty());
        // Block 0 keeps beating, block 1 does not.
        let t1 = t0 + Duration::from_millis(1500);
        let (l, s) = w.observe(&[(6, false), (7, false)], t1);
        assert_eq!((l.live_blocks, l.blocks), (1, 2));
        assert_eq!(s, vec![(1, Duration::from_millis(1500))]);
        // It beats again: live, not stalled.
        let (l, s) = w.observe(&[(8, false), (9, false)], t1 + Duration::from_millis(1));
        assert_eq!(l.live_blocks, 2);
        assert!(s.is_empty());
    }

    #[test]
    fn exited_blocks_are_counted_not_stalled() {
        let t0 = Instant::now();
        let mut w = Watch::new(Duration::from_millis(10), Duration::from_millis(1));
        let _ = w.observe(&[(5, true)], t0);
        let (l, s) = w.observe(&[(5, true)], t0 + Duration::from_secs(1));
        assert_eq!((l.live_blocks, l.exited_blocks), (0, 1));
        assert!(s.is_empty());
        assert!(!l.is_live());
    }
}
