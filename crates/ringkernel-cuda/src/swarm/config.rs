//! What a swarm is built with, and the checks that turn a bad configuration into a typed error
//! before anything is allocated.

use std::time::Duration;

use super::layout::pinned;
use crate::error::CudaError;

/// Where idle workers look for ready actors beyond their own block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Steal {
    /// Never: each block serves only actors homed on it.
    Off,
    /// From the other blocks of the same thread block cluster.
    Cluster,
    /// From the cluster first, then from random blocks of the grid.
    Grid,
}

/// Configuration of a [`super::Swarm`].
#[derive(Debug, Clone)]
pub struct SwarmConfig {
    /// GPU ordinal.
    pub device: usize,
    /// Global-tier actor ids: `0..capacity`.
    pub capacity: u32,
    /// Of those, the last `device_spawns` ids are for handlers' `rk_sw_spawn`.
    pub device_spawns: u32,
    /// Cluster-tier actors per block (0..=16): mailboxes in the block's shared memory, reached
    /// through DSMEM from cluster-tier actors of the same cluster.
    pub local_per_block: u32,
    /// Pinned actor slots (0..=32): actors each served by a dedicated warp, with a channel per
    /// pinned sender (in the receiver's shared memory within a cluster, in device memory
    /// across clusters). Slot k lives on block `k % blocks`.
    pub pinned: u32,
    /// Mailbox slots per global-tier actor (power of two, 2..=1024): the credits a sender has.
    pub mailbox_slots: u32,
    /// Forward-inbox slots per block (power of two, ≥ 32).
    pub forward_slots: u32,
    /// Bytes of state per actor (rounded up to 16).
    pub state_bytes: usize,
    /// Worker blocks; `None`: as many as fit co-resident (a multiple of `cluster`).
    pub blocks: Option<u32>,
    /// Warps per block (2..=32). Block 0's last warp injects host messages.
    pub warps: u32,
    /// Blocks per thread block cluster: 1 (no clusters), 2, 4 or 8.
    pub cluster: u32,
    /// Most messages an actor takes per turn.
    pub batch: u32,
    /// Work stealing.
    pub steal: Steal,
    /// Slots of the host→device ring (power of two).
    pub h2d_slots: u32,
    /// Slots of the device→host ring (replies and dead letters; power of two).
    pub d2h_slots: u32,
    /// Longest nap of an idle worker warp between polls, ns (0..=100,000). Shorter: lower
    /// latency, more polling traffic in L2. A long-idle worker that shares its scheduler
    /// sub-partition with a pinned warp (warp w of a block issues from w % 4) naps at least
    /// 20 µs instead, so its wake-ups do not slow the pinned warp's hops; every block's first
    /// worker keeps this nap.
    pub max_nap_ns: u32,
    /// How long a host call waits on the device before a typed timeout: a send for room in the
    /// host→device ring, a pinned actor's stop for its warp, shutdown for the kernel's exit.
    /// Raise it where the device runs slowly on purpose (under compute-sanitizer).
    pub patience: Duration,
    /// How long the message counters must hold still before `Swarm::settle` calls the swarm
    /// quiet (default [`SETTLE_HOLD`](super::SETTLE_HOLD), 10 ms). Warps add their counters
    /// lazily, an express warp after each visit of its loop (hundreds of polls): raise it where
    /// the device runs slowly on purpose (under compute-sanitizer a visit can outlast 10 ms,
    /// and `settle` would return before the counts are in).
    pub settle_hold: Duration,
}

impl Default for SwarmConfig {
    fn default() -> Self {
        SwarmConfig {
            device: 0,
            capacity: 1 << 16,
            device_spawns: 1 << 12,
            local_per_block: 0,
            pinned: 0,
            mailbox_slots: 8,
            forward_slots: 256,
            state_bytes: 32,
            blocks: None,
            warps: 8,
            cluster: 2,
            batch: 8,
            steal: Steal::Grid,
            h2d_slots: 4096,
            d2h_slots: 4096,
            max_nap_ns: 256,
            patience: Duration::from_secs(10),
            settle_hold: super::SETTLE_HOLD,
        }
    }
}

impl SwarmConfig {
    /// Checks everything that does not depend on the GPU.
    pub fn validate(&self) -> Result<(), CudaError> {
        let bad = |m: String| Err(CudaError::Config(m));
        let pow2 = |v: u32, lo: u32, hi: u32| v.is_power_of_two() && (lo..=hi).contains(&v);
        if self.capacity == 0 || self.capacity > (1 << 30) {
            return bad(format!("capacity {} is not in 1..=2^30", self.capacity));
        }
        if self.device_spawns > self.capacity {
            return bad(format!(
                "device_spawns {} exceeds capacity {}",
                self.device_spawns, self.capacity
            ));
        }
        if self.local_per_block > 16 {
            return bad(format!(
                "local_per_block {} exceeds 16 (shared-memory mailboxes)",
                self.local_per_block
            ));
        }
        if self.pinned > pinned::MAX {
            return bad(format!(
                "pinned {} exceeds {} (one warp lane per sender channel)",
                self.pinned,
                pinned::MAX
            ));
        }
        if self.pinned > 0 && self.state_bytes > pinned::STATE_MAX {
            return bad(format!(
                "state_bytes {} exceeds {} (pinned actors keep their state in shared memory)",
                self.state_bytes,
                pinned::STATE_MAX
            ));
        }
        if !pow2(self.mailbox_slots, 2, 1024) {
            return bad(format!(
                "mailbox_slots {} is not a power of two in 2..=1024",
                self.mailbox_slots
            ));
        }
        if !pow2(self.forward_slots, 32, 1 << 16) {
            return bad(format!(
                "forward_slots {} is not a power of two in 32..=65536",
                self.forward_slots
            ));
        }
        if self.state_bytes == 0 || self.state_bytes > 1 << 16 {
            return bad(format!(
                "state_bytes {} is not in 1..=65536",
                self.state_bytes
            ));
        }
        if !(2..=32).contains(&self.warps) {
            return bad(format!("warps {} is not in 2..=32", self.warps));
        }
        if ![1, 2, 4, 8].contains(&self.cluster) {
            return bad(format!("cluster {} is not 1, 2, 4 or 8", self.cluster));
        }
        if let Some(b) = self.blocks {
            if b == 0 || b % self.cluster != 0 {
                return bad(format!(
                    "{b} blocks do not split into clusters of {}",
                    self.cluster
                ));
            }
        }
        if self.batch == 0 {
            return bad("batch must be at least 1".into());
        }
        if !pow2(self.h2d_slots, 32, 1 << 20) || !pow2(self.d2h_slots, 32, 1 << 20) {
            return bad(format!(
                "ring sizes {} / {} are not powers of two in 32..=2^20",
                self.h2d_slots, self.d2h_slots
            ));
        }
        if self.max_nap_ns > 100_000 {
            return bad(format!("max_nap_ns {} exceeds 100,000", self.max_nap_ns));
        }
        // Zero would turn every momentarily full ring and every stop into a timeout.
        if self.patience.is_zero() {
            return bad("patience must be longer than zero".into());
        }
        Ok(())
    }

    /// Bytes per state slot (multiple of 16).
    pub fn state_stride(&self) -> usize {
        self.state_bytes.div_ceil(16) * 16
    }

    /// Ids the host spawns: `0..host_capacity`.
    pub fn host_capacity(&self) -> u32 {
        self.capacity - self.device_spawns
    }

    /// Pinned warps per block on a grid of `blocks` blocks.
    pub fn pinned_per_block(&self, blocks: u32) -> u32 {
        self.pinned.div_ceil(blocks.max(1))
    }

    /// Checks that a grid of `blocks` blocks can host the pinned warps and still have a worker
    /// warp in every block (and the injector in block 0).
    pub fn validate_grid(&self, blocks: u32) -> Result<(), CudaError> {
        if blocks == 0 {
            return Err(CudaError::Config("a grid of 0 blocks".into()));
        }
        let ppb = self.pinned_per_block(blocks);
        if ppb > pinned::PER_BLOCK_MAX {
            return Err(CudaError::Config(format!(
                "{} pinned actors on {blocks} blocks need {ppb} pinned warps per block; at most {}",
                self.pinned,
                pinned::PER_BLOCK_MAX
            )));
        }
        // Block 0: the cluster-tier warp, the pinned warps, one worker, the injector.
        let need = u32::from(self.local_per_block > 0) + ppb + 2;
        if self.warps < need {
            return Err(CudaError::Config(format!(
                "warps {} leave no worker warp beside {ppb} pinned warp(s) per block{} and the \
                 injector; need {need}",
                self.warps,
                if self.local_per_block > 0 {
                    ", the cluster-tier warp"
                } else {
                    ""
                }
            )));
        }
        Ok(())
    }

    /// Ready-queue slots per block for `blocks` blocks: room for every actor homed there.
    pub fn ready_slots(&self, blocks: u32) -> u32 {
        self.capacity
            .div_ceil(blocks.max(1))
            .next_power_of_two()
            .max(32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_valid() {
        SwarmConfig::default().validate().expect("valid");
    }

    #[test]
    fn bad_values_are_typed_errors() {
        let cases: Vec<fn(&mut SwarmConfig)> = vec![
            |c| c.capacity = 0,
            |c| c.device_spawns = c.capacity + 1,
            |c| c.local_per_block = 17,
            |c| c.pinned = 33,
            |c| {
                c.pinned = 1;
                c.state_bytes = 8192;
            },
            |c| c.mailbox_slots = 3,
            |c| c.mailbox_slots = 1,
            |c| c.forward_slots = 16,
            |c| c.state_bytes = 0,
            |c| c.warps = 1,
            |c| c.cluster = 3,
            |c| c.blocks = Some(3),
            |c| c.batch = 0,
            |c| c.h2d_slots = 100,
            |c| c.max_nap_ns = 200_000,
            |c| c.patience = Duration::ZERO,
        ];
        for (i, f) in cases.into_iter().enumerate() {
            let mut c = SwarmConfig::default();
            f(&mut c);
            assert!(
                matches!(c.validate(), Err(CudaError::Config(_))),
                "case {i} accepted"
            );
        }
    }

    #[test]
    fn pinned_warps_must_leave_a_worker() {
        let c = SwarmConfig {
            pinned: 4,
            warps: 3,
            ..SwarmConfig::default()
        };
        c.validate().expect("valid without a grid");
        // 4 slots on 2 blocks: 2 pinned warps each, plus worker and injector = 4 warps.
        assert!(matches!(c.validate_grid(2), Err(CudaError::Config(_))));
        assert!(c.validate_grid(4).is_ok());
        // 3 pinned warps per block is more than the shared-memory channels hold.
        let c = SwarmConfig {
            pinned: 6,
            warps: 8,
            ..c
        };
        assert!(matches!(c.validate_grid(2), Err(CudaError::Config(_))));
        assert!(c.validate_grid(3).is_ok());
        assert!(matches!(c.validate_grid(0), Err(CudaError::Config(_))));
        assert_eq!(c.ready_slots(0), c.ready_slots(1));
    }

    #[test]
    fn ready_queues_hold_every_homed_actor() {
        let c = SwarmConfig {
            capacity: 1_000_000,
            ..SwarmConfig::default()
        };
        for blocks in [1, 2, 132, 264, 1000] {
            assert!(u64::from(c.ready_slots(blocks)) * u64::from(blocks) >= 1_000_000);
        }
    }
}
