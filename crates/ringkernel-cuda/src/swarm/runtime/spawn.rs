//! Spawning actors from the host: global-tier actors in bulk, cluster-tier actors on a block,
//! pinned actors in a slot, and the checks that turn a bad request into a typed error.

use std::ops::Range;

use super::Swarm;
use crate::error::CudaError;
use crate::sm_split::SmSplit;
use crate::swarm::layout::{status, SwarmActor};
use crate::swarm::placement::{self, PairPlace};

/// Host memory a bulk spawn stages at a time: a million actors still move in a few large
/// copies, and no spawn needs a host buffer as large as its whole range.
const STAGE_BYTES: usize = 64 << 20;

impl Swarm {
    /// Spawns a pinned actor in slot `slot` (`0..pinned`): a warp of block `slot % blocks`
    /// serves only it, polling a channel from every pinned sender. Pinned actors of one
    /// cluster talk through DSMEM channels, others through device-memory channels; anyone
    /// else reaches it through its mailbox. Returns its id.
    pub fn spawn_pinned(&self, slot: u32, type_index: u32, state: &[u8]) -> Result<u32, CudaError> {
        self.check_type(type_index)?;
        self.check_state(state)?;
        let mut used = self.pinned_used.lock().unwrap_or_else(|p| p.into_inner());
        match used.get_mut(slot as usize) {
            None => Err(CudaError::Config(format!(
                "pinned slot {slot} is not in 0..{}",
                self.config.pinned
            ))),
            Some(true) => Err(CudaError::SwarmCapacity { asked: 1, left: 0 }),
            Some(taken) => {
                let id = self.pinned_base() + slot;
                self.write_actors(id..id + 1, type_index, &mut |_, s| {
                    s[..state.len()].copy_from_slice(state)
                })?;
                *taken = true;
                Ok(id)
            }
        }
    }

    /// The pinned slots no actor has been spawned on yet, in order.
    pub fn free_pinned_slots(&self) -> Vec<u32> {
        let used = self.pinned_used.lock().unwrap_or_else(|p| p.into_inner());
        (0u32..)
            .zip(used.iter())
            .filter(|(_, &u)| !u)
            .map(|(k, _)| k)
            .collect()
    }

    /// Two free pinned slots placed as `place` asks (one cluster: a DSMEM channel; or blocks
    /// of different clusters whose SMs are in one half of the chip, or in different halves,
    /// by `split`, measured with `SmSplit::measure`), or `None` where this grid has no such
    /// pair left. Spawn the two actors with [`Swarm::spawn_pinned`].
    pub fn pinned_pair(
        &self,
        split: &SmSplit,
        place: PairPlace,
    ) -> Result<Option<(u32, u32)>, CudaError> {
        let free = self.free_pinned_slots();
        Ok(match place {
            PairPlace::Cluster => placement::cluster_pair(self.blocks, self.config.cluster, &free),
            PairPlace::OneHalf | PairPlace::AcrossHalves => placement::half_pair(
                split,
                &self.block_sms()?,
                self.config.cluster,
                &free,
                place == PairPlace::AcrossHalves,
            ),
        })
    }

    /// Spawns `count` global-tier actors of type `type_index` in one bulk copy; `init` fills
    /// each one's state (`state_bytes` bytes, zeroed) given its id. Returns their ids.
    pub fn spawn_many(
        &self,
        type_index: u32,
        count: u32,
        mut init: impl FnMut(u32, &mut [u8]),
    ) -> Result<Range<u32>, CudaError> {
        self.check_type(type_index)?;
        let mut next = self.host_next.lock().unwrap_or_else(|p| p.into_inner());
        let left = self.config.host_capacity() - *next;
        if count > left {
            return Err(CudaError::SwarmCapacity {
                asked: u64::from(count),
                left: u64::from(left),
            });
        }
        let ids = *next..*next + count;
        self.write_actors(ids.clone(), type_index, &mut init)?;
        *next += count;
        Ok(ids)
    }

    /// Spawns one global-tier actor with state `state` (at most `state_bytes` bytes).
    pub fn spawn(&self, type_index: u32, state: &[u8]) -> Result<u32, CudaError> {
        self.check_state(state)?;
        Ok(self
            .spawn_many(type_index, 1, |_, s| {
                s[..state.len()].copy_from_slice(state)
            })?
            .start)
    }

    /// Spawns a cluster-tier actor homed on `block`: its mailbox lives in that block's shared
    /// memory, and cluster-tier actors of the same cluster send to it through DSMEM.
    pub fn spawn_local(&self, block: u32, type_index: u32, state: &[u8]) -> Result<u32, CudaError> {
        self.check_type(type_index)?;
        self.check_state(state)?;
        if block >= self.blocks {
            return Err(CudaError::Config(format!(
                "block {block} is not in the grid of {}",
                self.blocks
            )));
        }
        let mut next = self.local_next.lock().unwrap_or_else(|p| p.into_inner());
        let used = &mut next[block as usize];
        if *used >= self.config.local_per_block {
            return Err(CudaError::SwarmCapacity { asked: 1, left: 0 });
        }
        let id = self.config.capacity + block * self.config.local_per_block + *used;
        self.write_actors(id..id + 1, type_index, &mut |_, s| {
            s[..state.len()].copy_from_slice(state)
        })?;
        *used += 1;
        Ok(id)
    }

    fn check_type(&self, type_index: u32) -> Result<(), CudaError> {
        if type_index >= 1 << 24 {
            return Err(CudaError::SwarmMessage(format!(
                "type index {type_index} does not fit in 24 bits"
            )));
        }
        Ok(())
    }

    fn check_state(&self, state: &[u8]) -> Result<(), CudaError> {
        if state.len() > self.config.state_bytes {
            return Err(CudaError::SwarmMessage(format!(
                "state of {} bytes exceeds state_bytes {}",
                state.len(),
                self.config.state_bytes
            )));
        }
        Ok(())
    }

    /// Writes states, then headers (live), for `ids`: a sender that sees an actor live sees its
    /// state in place, because the header copy starts only after the state copy completed.
    fn write_actors(
        &self,
        ids: Range<u32>,
        type_index: u32,
        init: &mut dyn FnMut(u32, &mut [u8]),
    ) -> Result<(), CudaError> {
        // After halt no kernel would ever serve them (and ids handed out then would lie).
        if !self.running {
            return Err(CudaError::SwarmStopped(
                "halted: spawning needs the running kernel".into(),
            ));
        }
        let stride = self.config.state_stride();
        // States first, in staged pieces; the headers only after the last state copy.
        let per = u32::try_from((STAGE_BYTES / stride).max(1)).unwrap_or(u32::MAX);
        let mut stage = Vec::new();
        let mut first = ids.start;
        while first < ids.end {
            let end = first.saturating_add(per).min(ids.end);
            stage.clear();
            stage.resize((end - first) as usize * stride, 0u8);
            for (slot, id) in stage.chunks_exact_mut(stride).zip(first..end) {
                init(id, &mut slot[..self.config.state_bytes]);
            }
            self.copy.copy_to_device(
                self.params.states + u64::from(first) * stride as u64,
                &stage,
            )?;
            first = end;
        }
        let header = SwarmActor {
            status: status::LIVE | (type_index << status::TYPE_SHIFT),
            ..SwarmActor::default()
        };
        let each = std::mem::size_of::<SwarmActor>();
        let per = u32::try_from(STAGE_BYTES / each).unwrap_or(u32::MAX);
        let headers = vec![header; ids.len().min(per as usize)];
        let mut first = ids.start;
        while first < ids.end {
            let end = first.saturating_add(per).min(ids.end);
            self.copy.copy_to_device(
                self.params.actors + u64::from(first) * each as u64,
                bytemuck::cast_slice(&headers[..(end - first) as usize]),
            )?;
            first = end;
        }
        Ok(())
    }
}
