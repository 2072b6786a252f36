//! The parts of a [`DeviceRuntime`] that a multi-GPU runtime (`crate::multi`) reaches into: its
//! route table and peer directory, and the device addresses of each block's state and inbox.

use std::mem::size_of;
use std::sync::Arc;

use cudarc::driver::CudaContext;

use super::DeviceRuntime;
use crate::driver::DeviceBuffer;
use crate::error::CudaError;
use crate::layout::{route, IndexLine, PeerEntry, RingSlot};

/// A persistent kernel's place in a multi-GPU runtime, fixed at launch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemberSlot {
    /// This GPU's index in the runtime (its entry in every peer directory).
    pub gpu_index: usize,
    /// Entries of the route table: the most runtime-wide actor ids.
    pub route_count: usize,
}

/// Where a member's route table and peer directory sit in its device memory.
#[derive(Debug)]
pub(super) struct MemberArea {
    pub(super) slot: MemberSlot,
    pub(super) routes_offset: u64,
    pub(super) peers_offset: u64,
}

fn line(x: u64) -> u64 {
    x.div_ceil(128) * 128
}

impl MemberArea {
    /// The area laid out from `end` (the end of the rest of device memory).
    pub(super) fn after(end: u64, slot: MemberSlot) -> Self {
        let routes_offset = line(end);
        let peers_offset = line(routes_offset + 4 * slot.route_count as u64);
        MemberArea {
            slot,
            routes_offset,
            peers_offset,
        }
    }

    /// First byte after the area.
    pub(super) fn end(&self) -> u64 {
        self.peers_offset + (route::MAX_GPUS * size_of::<PeerEntry>()) as u64
    }

    /// Every route starts as [`route::NONE`] (all bits set); the peer directory as zeros.
    pub(super) fn init(&self, mem: &DeviceBuffer) -> Result<(), CudaError> {
        mem.fill(self.routes_offset as usize, 4 * self.slot.route_count, 0xFF)
    }
}

impl DeviceRuntime {
    fn member(&self) -> Result<&MemberArea, CudaError> {
        self.member.as_ref().ok_or_else(|| {
            CudaError::Config("this runtime is not a member of a multi-GPU runtime".into())
        })
    }

    fn block_ok(&self, b: usize) -> Result<(), CudaError> {
        if b >= self.blocks as usize {
            return Err(CudaError::Config(format!("no block {b}")));
        }
        Ok(())
    }

    /// The CUDA context of this runtime's GPU.
    pub fn context(&self) -> &Arc<CudaContext> {
        &self._ctx
    }

    /// This GPU's K2K endpoints, for the other members' peer directories.
    pub fn peer_entry(&self) -> PeerEntry {
        let base = self.device_mem.ptr();
        PeerEntry {
            actor_table: base + self.actor_table_offset,
            k2k_slots: base + self.k2k_slots_offset,
            k2k_tails: base + self.k2k_tails_offset,
            wake: base + super::WAKE_OFFSET,
            actor_blocks: u64::from(self.blocks),
            k2k_capacity: self.k2k_capacity,
            reserved: [0; 2],
        }
    }

    /// Writes the peer directory (entry `g` for GPU `g`) while the kernel runs; senders read it
    /// only for routes the host writes after this returns.
    pub fn write_peers(&self, entries: &[PeerEntry]) -> Result<(), CudaError> {
        let m = self.member()?;
        if entries.len() > route::MAX_GPUS {
            return Err(CudaError::Config(format!(
                "{} GPUs, at most {} supported",
                entries.len(),
                route::MAX_GPUS
            )));
        }
        let dst = self.device_mem.ptr() + m.peers_offset;
        self.copy_stream
            .copy_to_device(dst, bytemuck::cast_slice(entries))
    }

    /// Sets route `id` of this GPU's table (visible to its senders once this returns).
    pub fn write_route(&self, id: u32, entry: u32) -> Result<(), CudaError> {
        let m = self.member()?;
        if id as usize >= m.slot.route_count {
            return Err(CudaError::Config(format!(
                "actor id {id} beyond the route table ({} entries)",
                m.slot.route_count
            )));
        }
        let dst = self.device_mem.ptr() + m.routes_offset + 4 * u64::from(id);
        self.copy_stream.copy_to_device(dst, &entry.to_le_bytes())
    }

    /// Device address of block `b`'s state slot ([`Self::state_stride`] bytes).
    pub fn state_addr(&self, b: usize) -> Result<u64, CudaError> {
        self.block_ok(b)?;
        Ok(self.device_mem.ptr() + self.state_offset + (b * self.state_stride) as u64)
    }

    /// Bytes of each block's state slot.
    pub fn state_stride(&self) -> usize {
        self.state_stride
    }

    /// Device address of block `b`'s K2K inbox ([`Self::k2k_capacity`] slots).
    pub fn inbox_addr(&self, b: usize) -> Result<u64, CudaError> {
        self.block_ok(b)?;
        Ok(self.device_mem.ptr()
            + self.k2k_slots_offset
            + b as u64 * self.k2k_capacity * size_of::<RingSlot>() as u64)
    }

    /// Device address of block `b`'s K2K inbox tail.
    pub fn inbox_tail_addr(&self, b: usize) -> Result<u64, CudaError> {
        self.block_ok(b)?;
        Ok(self.device_mem.ptr() + self.k2k_tails_offset + (b * size_of::<IndexLine>()) as u64)
    }

    /// Slots per K2K inbox.
    pub fn k2k_capacity(&self) -> u64 {
        self.k2k_capacity
    }

    /// Records that block `b`'s actor migrated away with its inbox's messages.
    pub fn hand_over(&self, b: usize) {
        if let Some(h) = self
            .handed_over
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_mut(b)
        {
            *h = true;
        }
    }

    /// Per block: the sender of the last K2K message it took, as of its last heartbeat
    /// (`u64::MAX` before the first).
    pub fn last_k2k_senders(&self) -> Vec<u64> {
        (0..self.blocks as usize)
            .map(|b| self.status(b).k2k_last_sender)
            .collect()
    }

    /// Per block: K2K messages taken, as of its last heartbeat.
    pub fn k2k_taken_per_block(&self) -> Vec<u64> {
        (0..self.blocks as usize)
            .map(|b| self.status(b).k2k_consumed)
            .collect()
    }

    /// Per block: messages processed, as of its last heartbeat.
    pub fn processed_per_block(&self) -> Vec<u64> {
        (0..self.blocks as usize)
            .map(|b| self.status(b).processed)
            .collect()
    }
}
