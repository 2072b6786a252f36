//! Reading a running swarm from the host: actor states and headers, per-block counters and
//! their totals, quiescence (`settle`) and dead letters.

use std::time::{Duration, Instant};

use bytemuck::Pod;
use ringkernel_core::DeadLetterCounts;

use super::Swarm;
use crate::error::CudaError;
use crate::swarm::layout::{SwarmActor, SwarmBlockStats};
use crate::swarm::replies::SwarmDeadLetter;

impl Swarm {
    /// Actors `first..first + count` exist in this swarm's memory (both tiers).
    fn check_range(&self, first: u32, count: u32) -> Result<(), CudaError> {
        let total = u64::from(self.pinned_base()) + u64::from(self.config.pinned);
        let end = u64::from(first) + u64::from(count);
        if end > total {
            return Err(CudaError::SwarmMessage(format!(
                "actors {first}..{end} are beyond the {total} the swarm holds"
            )));
        }
        Ok(())
    }

    /// Copies the states of actors `first..first + count` (as `T`, the state type: at most the
    /// state's slot, [`SwarmConfig::state_stride`](crate::swarm::SwarmConfig::state_stride)
    /// bytes; those past `state_bytes` are zeroed at spawn). Live actors may be mid-turn: use
    /// after [`Swarm::settle`] for exact values.
    pub fn read_states<T: Pod>(&self, first: u32, count: u32) -> Result<Vec<T>, CudaError> {
        let stride = self.config.state_stride();
        let size = std::mem::size_of::<T>();
        if size > stride {
            return Err(CudaError::SwarmMessage(format!(
                "a state of {size} bytes does not fit the stride of {stride}"
            )));
        }
        self.check_range(first, count)?;
        let mut raw = vec![0u8; count as usize * stride];
        self.copy.copy_from_device(
            &mut raw,
            self.params.states + u64::from(first) * stride as u64,
        )?;
        Ok(raw
            .chunks_exact(stride)
            .map(|c| bytemuck::pod_read_unaligned(&c[..size]))
            .collect())
    }

    /// Copies the headers of actors `first..first + count` (mailbox positions, pending count,
    /// status, HLC): for inspection and diagnostics.
    pub fn read_headers(&self, first: u32, count: u32) -> Result<Vec<SwarmActor>, CudaError> {
        self.check_range(first, count)?;
        let each = std::mem::size_of::<SwarmActor>();
        let mut raw = vec![0u8; count as usize * each];
        self.copy.copy_from_device(
            &mut raw,
            self.params.actors + u64::from(first) * each as u64,
        )?;
        Ok(raw
            .chunks_exact(each)
            .map(bytemuck::pod_read_unaligned)
            .collect())
    }

    /// Each block's counters.
    pub fn block_stats(&self) -> Result<Vec<SwarmBlockStats>, CudaError> {
        let mut raw = vec![0u8; self.blocks as usize * std::mem::size_of::<SwarmBlockStats>()];
        self.copy.copy_from_device(&mut raw, self.params.stats)?;
        Ok(raw
            .chunks_exact(std::mem::size_of::<SwarmBlockStats>())
            .map(bytemuck::pod_read_unaligned)
            .collect())
    }

    /// The SM (`%smid`) each block runs on, in block order; pinned slot `k` is served by block
    /// `k % blocks`. Device-memory messages between two SMs are not equally fast everywhere: on
    /// an H100, a pair in different halves of the chip was ~100 ns slower for a raw flag and
    /// ~150-280 ns for a pinned hop ([`crate::sm_split::SmSplit`] tells the halves apart,
    /// measured before the swarm starts; [`crate::floors::Floors::k2k_one_way_between`]
    /// measures one pair). Waits up to a second for blocks that have not started yet.
    pub fn block_sms(&self) -> Result<Vec<u32>, CudaError> {
        const WAIT: Duration = Duration::from_secs(1);
        let since = Instant::now();
        loop {
            let mut raw = vec![0u8; self.blocks as usize * 4];
            self.copy
                .copy_from_device(&mut raw, self.params.block_sms)?;
            // Each block stores its SM plus one; 0 is a block that has not started.
            let sms: Vec<u32> = raw
                .chunks_exact(4)
                .map(bytemuck::pod_read_unaligned::<u32>)
                .collect();
            if sms.iter().all(|&s| s != 0) {
                return Ok(sms.into_iter().map(|s| s - 1).collect());
            }
            if since.elapsed() > WAIT {
                return Err(CudaError::SwarmTimeout {
                    what: "every block reporting its SM",
                    waited: WAIT,
                });
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// The counters summed over blocks.
    pub fn totals(&self) -> Result<SwarmBlockStats, CudaError> {
        Ok(sum(&self.block_stats()?))
    }

    /// Ids handlers have spawned so far (`host_capacity..`, saturating at `capacity`).
    pub fn device_spawned(&self) -> Result<u32, CudaError> {
        let mut raw = [0u8; 4];
        self.copy.copy_from_device(&mut raw, self.params.dev_next)?;
        let next = u32::from_le_bytes(raw).min(self.config.capacity);
        Ok(next.saturating_sub(self.config.host_capacity()))
    }

    /// Waits until the swarm is quiet: every host message taken, every message put into a
    /// mailbox handled (or dead-lettered), and the message counters unchanged for
    /// [`SwarmConfig::settle_hold`](crate::swarm::SwarmConfig::settle_hold) (read every
    /// 2 ms). Actors that yield keep running; this does not wait
    /// for them.
    pub fn settle(&self, timeout: Duration) -> Result<SwarmBlockStats, CudaError> {
        let since = Instant::now();
        let mut quiet = Quiet::new(self.config.settle_hold);
        loop {
            let t = self.totals()?;
            let host_done = self.producer.consumer_index() == self.producer.tail();
            if quiet.held(t, host_done, Instant::now()) {
                return Ok(t);
            }
            if since.elapsed() > timeout {
                return Err(CudaError::SwarmTimeout {
                    what: "settle",
                    waited: timeout,
                });
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// Dead letters recorded so far (the first 65,536 are kept; all are counted).
    pub fn dead_letters(&self) -> Vec<SwarmDeadLetter> {
        self.inbox.dead_letters()
    }

    /// Dead letters counted by reason.
    pub fn dead_letter_counts(&self) -> DeadLetterCounts {
        self.inbox.dead_letter_counts()
    }
}

/// How long the message counters must hold still for `settle` by default
/// (`SwarmConfig::settle_hold`). Warps add their counters lazily (a pinned warp after a run of
/// empty polls, an express warp after a visit of its loop).
pub const SETTLE_HOLD: Duration = Duration::from_millis(10);

/// `settle`'s view of the counters: since when they have been quiet (every host message taken,
/// every message enqueued handled or dropped) and unchanged. Only the message counters count:
/// warps beat (`beats`) in an idle swarm too, and `idle`, `stalls` and `left_loop` say nothing
/// about messages.
#[derive(Debug)]
struct Quiet {
    hold: Duration,
    since: Option<(SwarmBlockStats, Instant)>,
}

impl Quiet {
    fn new(hold: Duration) -> Self {
        Quiet { hold, since: None }
    }

    /// Takes one reading at `now`; true once the swarm has been quiet with these counters for
    /// the hold.
    fn held(&mut self, t: SwarmBlockStats, host_done: bool, now: Instant) -> bool {
        let counters = SwarmBlockStats {
            beats: 0,
            idle: 0,
            stalls: 0,
            left_loop: 0,
            ..t
        };
        if !host_done || t.enqueued != t.processed + t.dropped {
            self.since = None;
            return false;
        }
        match self.since {
            Some((c, at)) if c == counters => now.duration_since(at) >= self.hold,
            _ => {
                self.since = Some((counters, now));
                false
            }
        }
    }
}

fn sum(stats: &[SwarmBlockStats]) -> SwarmBlockStats {
    stats
        .iter()
        .fold(SwarmBlockStats::default(), |a, s| SwarmBlockStats {
            processed: a.processed + s.processed,
            enqueued: a.enqueued + s.enqueued,
            turns: a.turns + s.turns,
            own_batches: a.own_batches + s.own_batches,
            cluster_steals: a.cluster_steals + s.cluster_steals,
            grid_steals: a.grid_steals + s.grid_steals,
            dead: a.dead + s.dead,
            full: a.full + s.full,
            injected: a.injected + s.injected,
            idle: a.idle + s.idle,
            spawned: a.spawned + s.spawned,
            dsmem: a.dsmem + s.dsmem,
            dropped: a.dropped + s.dropped,
            stalls: a.stalls | s.stalls,
            left_loop: a.left_loop + s.left_loop,
            beats: a.beats + s.beats,
            express: a.express + s.express,
            pair: a.pair + s.pair,
            reserved: [0; 14],
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(enqueued: u64, processed: u64, beats: u64) -> SwarmBlockStats {
        SwarmBlockStats {
            enqueued,
            processed,
            beats,
            ..SwarmBlockStats::default()
        }
    }

    #[test]
    fn a_quiet_swarm_settles_after_the_hold_although_its_warps_keep_beating() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let mut q = Quiet::new(SETTLE_HOLD);
        assert!(!q.held(stats(5, 5, 100), true, at(0)));
        assert!(
            !q.held(stats(5, 5, 140), true, at(4)),
            "not held long enough"
        );
        assert!(q.held(stats(5, 5, 357), true, at(10)));
    }

    #[test]
    fn a_longer_hold_waits_longer() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let mut q = Quiet::new(Duration::from_millis(500));
        assert!(!q.held(stats(5, 5, 0), true, at(0)));
        assert!(!q.held(stats(5, 5, 0), true, at(499)));
        assert!(q.held(stats(5, 5, 0), true, at(500)));
    }

    #[test]
    fn moving_counters_pending_messages_or_host_messages_restart_the_hold() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let mut q = Quiet::new(SETTLE_HOLD);
        assert!(!q.held(stats(5, 5, 0), true, at(0)));
        assert!(!q.held(stats(6, 6, 0), true, at(20)), "counters moved");
        assert!(!q.held(stats(7, 6, 0), true, at(40)), "one pending");
        assert!(!q.held(stats(7, 7, 0), false, at(60)), "host messages left");
        assert!(!q.held(stats(7, 7, 0), true, at(80)), "quiet only from now");
        assert!(!q.held(stats(7, 7, 0), true, at(85)));
        assert!(q.held(stats(7, 7, 9), true, at(90)));
    }
}
