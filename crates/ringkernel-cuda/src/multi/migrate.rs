//! Moving a live actor to another GPU (or another block of its GPU) in three phases.
//!
//! 1. **Quiesce.** Host sends to the actor wait (the route's write lock). Every GPU's route for it
//!    becomes `MOVING`, so device senders find no credit and retry (or dead-letter, by their
//!    policy). The actor's inbox is sealed: no sender claims a slot after the seal, and the
//!    tail's value at the seal is the final count of messages it received. The block then runs
//!    what its mailbox already holds and freezes (MIGRATE → FROZEN), answering how far it took
//!    its inbox.
//! 2. **Transfer.** A block is reserved on the target GPU. The state is copied peer to peer
//!    (`cuMemcpyPeerAsync`) or, to compare, through pinned host memory; a checksum kernel runs on
//!    the source GPU over the state before the copy and on the target GPU over the bytes that
//!    arrived, and they must agree. The inbox's untaken messages (head..final tail) are copied
//!    the same way and written into the new block's inbox, restamped for their new positions,
//!    by a kernel on the target that first checks every stamp (a sender that claimed a slot
//!    before the seal may still be writing it: then the copy is simply taken again).
//! 3. **Swap.** The new block gets the actor's START (handlers keep seeing the same id), every
//!    GPU's route and the host's route point at it, and host sends resume there. The old block
//!    is retired.
//!
//! What a migration guarantees: no message is lost or duplicated, and per-sender order holds —
//! host messages queued before the migration run on the old block before the freeze; K2K
//! messages already in the inbox run on the new block before any sent after the swap; senders
//! that got no credit while the actor moved retry after the swap. A failure before the swap
//! thaws the actor where it was (the reserved target block stays unused).

use std::time::{Duration, Instant};

use ringkernel_core::ActorId;

use super::backend::{write, Member, MultiGpuBackend, Route};
use super::topology::copy_peer;
use crate::error::CudaError;
use crate::layout::{route, RingSlot};

/// How long the source block may take to confirm its freeze (it first runs what is queued).
const FREEZE_DEADLINE: Duration = Duration::from_secs(5);
/// How long to keep re-copying an inbox whose last claimed slots are still being written.
const INBOX_DEADLINE: Duration = Duration::from_secs(1);

/// How state and inbox travel between GPUs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferPath {
    /// Directly between the GPUs (`cuMemcpyPeerAsync`: NVLink or PCIe peer-to-peer).
    PeerToPeer,
    /// Device → pinned host memory → device: what a runtime without peer access would do.
    HostStaged,
}

/// What a migration did and how long each phase took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationReport {
    /// The actor (its id does not change).
    pub actor: ActorId,
    /// Runtime GPU index it left.
    pub from_gpu: usize,
    /// Runtime GPU index it lives on now.
    pub to_gpu: usize,
    /// How the bytes travelled.
    pub path: TransferPath,
    /// Bytes of state moved.
    pub state_bytes: usize,
    /// Untaken K2K messages moved with it.
    pub messages_moved: u64,
    /// The state checksum, equal on both GPUs.
    pub checksum: u64,
    /// Routes closed, inbox sealed, actor frozen.
    pub quiesce: Duration,
    /// State and inbox copied and verified on the target.
    pub transfer: Duration,
    /// Actor started on the target and routes swapped.
    pub swap: Duration,
}

impl MultiGpuBackend {
    /// Moves actor `id` to the runtime's GPU `to_gpu` peer to peer (see the module docs).
    pub fn migrate(&self, id: ActorId, to_gpu: usize) -> Result<MigrationReport, CudaError> {
        self.migrate_with(id, to_gpu, TransferPath::PeerToPeer)
    }

    /// [`Self::migrate`] with the transfer path chosen.
    pub fn migrate_with(
        &self,
        id: ActorId,
        to_gpu: usize,
        path: TransferPath,
    ) -> Result<MigrationReport, CudaError> {
        let fail = |why: String| CudaError::Migration {
            actor: id.raw(),
            why,
        };
        let lock = self
            .routes
            .get(id.raw() as usize)
            .ok_or_else(|| fail("no such actor".into()))?;
        let t0 = Instant::now();
        let _one_at_a_time = self.migrating.lock().unwrap_or_else(|e| e.into_inner());
        if self.is_shut_down() {
            return Err(fail("the runtime is shut down".into()));
        }
        let mut guard = write(lock);
        let r = (*guard).ok_or_else(|| fail("no such actor".into()))?;
        let dst = self
            .members
            .get(to_gpu)
            .ok_or_else(|| fail(format!("no GPU {to_gpu} in this runtime")))?;
        let src = &self.members[r.gpu];
        if dst.backend.free_blocks() == 0 {
            return Err(fail(format!("GPU {to_gpu} has no free block")));
        }
        let old_entry = route::encode(r.gpu, r.local.raw())
            .ok_or_else(|| fail("route does not encode".into()))?;
        let tail_addr = src
            .backend
            .device()
            .inbox_tail_addr(r.local.raw() as usize)?;
        // Undoes phase 1 as far as it got; every step is tried, the first error is reported.
        let roll_back = |frozen: bool, cause: CudaError| -> CudaError {
            let mut errors = Vec::new();
            if frozen {
                errors.extend(src.backend.thaw(r.local).err());
            }
            errors.extend(src.tools.unseal(tail_addr).err());
            errors.extend(self.set_device_route(id, old_entry).err());
            if errors.is_empty() {
                cause
            } else {
                fail(format!(
                    "{cause}; rolling back also failed (the actor may be unreachable): {}",
                    errors
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; ")
                ))
            }
        };

        // 1. Quiesce.
        if let Err(e) = self.set_device_route(id, route::MOVING) {
            return Err(roll_back(false, e));
        }
        let received = match src.tools.seal(tail_addr) {
            Ok(t) => t,
            Err(e) => return Err(roll_back(false, e)),
        };
        let (head, clock) = match src.backend.freeze(r.local, FREEZE_DEADLINE) {
            Ok(h) => h,
            // A freeze that failed undid itself (the actor runs on where it was).
            Err(e) => return Err(roll_back(false, fail(e.to_string()))),
        };
        let quiesce = t0.elapsed();

        // 2. Transfer.
        let t1 = Instant::now();
        let moved = match self.transfer(id, r, src, dst, head, received, path) {
            Ok(m) => m,
            Err(e) => return Err(roll_back(true, e)),
        };
        let transfer = t1.elapsed();

        // 3. Swap. START cannot be refused (a fresh block's mailbox is empty), so a failure
        // here is a driver error before START was queued: the actor stays where it was.
        let t2 = Instant::now();
        let new_entry = route::encode(to_gpu, moved.local.raw())
            .ok_or_else(|| fail("route does not encode".into()))?;
        // The restart image and policy move too (host-staged: it is at most one state).
        let policy = src.backend.restart_policy(r.local);
        if policy != 0 {
            let len = src.backend.state_size(r.type_index).unwrap_or(0);
            let image = src.backend.device().read_image(r.local.raw() as usize, len);
            if let Err(e) = image.and_then(|img| dst.backend.set_restart(moved.local, &img, policy))
            {
                return Err(roll_back(true, e));
            }
        }
        if let Err(e) = dst
            .backend
            .activate(moved.local, r.type_index, id.raw(), Some(clock))
        {
            return Err(roll_back(true, fail(e.to_string())));
        }
        // From here the actor lives in the new block. Routes still MOVING only delay senders,
        // so a route write that fails is retried rather than undone.
        let mut routed = self.set_device_route(id, new_entry);
        for _ in 1..3 {
            if routed.is_ok() {
                break;
            }
            routed = self.set_device_route(id, new_entry);
        }
        *guard = Some(Route {
            gpu: to_gpu,
            local: moved.local,
            type_index: r.type_index,
        });
        drop(guard);
        src.backend.retire(r.local);
        src.live.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        dst.live.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if let Err(e) = routed {
            return Err(fail(format!(
                "the actor moved to GPU {to_gpu} (host sends reach it), but its device routes \
                 could not be written ({e}): device senders find no credit for it"
            )));
        }
        let swap = t2.elapsed();
        tracing::debug!(
            actor = id.raw(),
            from = r.gpu,
            to = to_gpu,
            ?quiesce,
            ?transfer,
            ?swap,
            "migrated"
        );
        Ok(MigrationReport {
            actor: id,
            from_gpu: r.gpu,
            to_gpu,
            path,
            state_bytes: moved.state_bytes,
            messages_moved: moved.messages,
            checksum: moved.checksum,
            quiesce,
            transfer,
            swap,
        })
    }

    /// Writes `entry` as `id`'s route on every GPU.
    fn set_device_route(&self, id: ActorId, entry: u32) -> Result<(), CudaError> {
        for m in &self.members {
            m.backend.device().write_route(id.raw(), entry)?;
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn transfer(
        &self,
        id: ActorId,
        r: Route,
        src: &Member,
        dst: &Member,
        head: u64,
        received: u64,
        path: TransferPath,
    ) -> Result<Moved, CudaError> {
        let fail = |why: String| CudaError::Migration {
            actor: id.raw(),
            why,
        };
        let len = src
            .backend
            .state_size(r.type_index)
            .ok_or_else(|| fail("unknown actor type".into()))?;
        let local = dst
            .backend
            .reserve_block(r.type_index, None)
            .map_err(|e| fail(e.to_string()))?;
        let (sd, dd) = (src.backend.device(), dst.backend.device());
        let src_state = sd.state_addr(r.local.raw() as usize)?;
        let dst_state = dd.state_addr(local.raw() as usize)?;
        let on_source = src.tools.checksum(src_state, len)?;
        copy(src, src_state, dst, dst_state, len, path)?;
        let on_target = dst.tools.checksum(dst_state, len)?;
        if on_source != on_target {
            return Err(CudaError::ChecksumMismatch {
                actor: id.raw(),
                on_source,
                on_target,
            });
        }
        let n = received
            .checked_sub(head)
            .ok_or_else(|| fail(format!("inbox head {head} beyond its tail {received}")))?;
        if n > dd.k2k_capacity() {
            return Err(fail(format!(
                "{n} untaken messages do not fit an inbox of {} slots on the target",
                dd.k2k_capacity()
            )));
        }
        if n > 0 {
            let cap = sd.k2k_capacity();
            let inbox = sd.inbox_addr(r.local.raw() as usize)?;
            let bytes = cap as usize * std::mem::size_of::<RingSlot>();
            let until = Instant::now() + INBOX_DEADLINE;
            loop {
                copy(src, inbox, dst, dst.tools.staging.ptr(), bytes, path)?;
                let ok = dst.tools.adopt(
                    head,
                    n,
                    cap,
                    dd.inbox_addr(local.raw() as usize)?,
                    dd.inbox_tail_addr(local.raw() as usize)?,
                    dd.k2k_capacity(),
                )?;
                if ok == n {
                    break;
                }
                if Instant::now() >= until {
                    return Err(fail(format!(
                        "only {ok} of {n} inbox messages were complete after {INBOX_DEADLINE:?}"
                    )));
                }
                std::thread::sleep(Duration::from_micros(10));
            }
        }
        Ok(Moved {
            local,
            state_bytes: len,
            messages: n,
            checksum: on_target,
        })
    }
}

/// What [`MultiGpuBackend::transfer`] moved, and where to.
struct Moved {
    local: ActorId,
    state_bytes: usize,
    messages: u64,
    checksum: u64,
}

/// Copies `len` bytes from `src_addr` on `src`'s GPU to `dst_addr` on `dst`'s GPU.
fn copy(
    src: &Member,
    src_addr: u64,
    dst: &Member,
    dst_addr: u64,
    len: usize,
    path: TransferPath,
) -> Result<(), CudaError> {
    if len == 0 {
        return Ok(());
    }
    let (sc, dc) = (
        src.backend.device().context(),
        dst.backend.device().context(),
    );
    match path {
        // SAFETY: both addresses are live allocations of their runtimes holding `len` bytes (state
        // slots and inboxes are sized from the same types and capacity on every GPU).
        TransferPath::PeerToPeer => unsafe {
            copy_peer(dc, dst_addr, sc, src_addr, len, &dst.tools.stream)
        },
        TransferPath::HostStaged => {
            let pinned = &src.tools.pinned;
            if len > pinned.len() {
                return Err(CudaError::Config(format!(
                    "{len} bytes exceed the {}-byte staging buffer",
                    pinned.len()
                )));
            }
            // SAFETY: `pinned` holds at least `len` bytes and only migrations use it, one at a
            // time per source GPU (the route's write lock is held, and the backend's migration
            // lock serializes migrations); both copies complete before this returns.
            let host = unsafe { std::slice::from_raw_parts_mut(pinned.host_ptr(), len) };
            src.tools.stream.copy_from_device(host, src_addr)?;
            dst.tools.stream.copy_to_device(dst_addr, host)
        }
    }
}
