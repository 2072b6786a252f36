//! Layouts of a runtime that spans several GPUs: the peer directory and the route table.
//!
//! Every GPU's kernel gets its own copy of both (local memory: a send reads them from its own
//! L2). The route table maps a runtime-wide actor id to the GPU and block that hold the actor;
//! the peer directory gives, per GPU, the addresses of its actor table, inboxes and wake words
//! in the unified address space (valid on every GPU once peer access is enabled), so a handler
//! on one GPU writes straight into an inbox on another over NVLink or PCIe.

use std::fmt::Write as _;
use std::mem::{align_of, offset_of, size_of};

use bytemuck::{Pod, Zeroable};

use super::assert_layout;

/// Values of a route table entry (`u32`).
pub mod route {
    /// No actor has this id (yet, or any more): a send is a dead letter `UnknownTarget`.
    pub const NONE: u32 = u32::MAX;
    /// The actor is migrating: a send finds no credit (`RK_K2K_FULL`, or a dead letter under the
    /// dead-letter policy) and retries later, when the route points at its new home.
    pub const MOVING: u32 = u32::MAX - 1;
    /// Bits of an entry above the block index: the GPU index.
    pub const GPU_SHIFT: u32 = 24;
    /// Bits of an entry below the GPU index: the block.
    pub const BLOCK_MASK: u32 = (1 << GPU_SHIFT) - 1;
    /// Most GPUs a runtime spans (the peer directory's length).
    pub const MAX_GPUS: usize = 8;

    /// The entry for block `block` of GPU `gpu`, or `None` when either does not fit.
    pub fn encode(gpu: usize, block: u32) -> Option<u32> {
        if gpu >= MAX_GPUS || block > BLOCK_MASK {
            return None;
        }
        Some(((gpu as u32) << GPU_SHIFT) | block)
    }

    /// (gpu, block) of an entry that is neither [`NONE`] nor [`MOVING`].
    pub fn decode(entry: u32) -> Option<(usize, u32)> {
        if entry == NONE || entry == MOVING {
            return None;
        }
        Some(((entry >> GPU_SHIFT) as usize, entry & BLOCK_MASK))
    }
}

/// Where one GPU's K2K endpoints are, as seen from any GPU of the runtime (unified addresses).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
#[repr(C, align(64))]
pub struct PeerEntry {
    /// Its actor table (`ActorEntry` per block).
    pub actor_table: u64,
    /// Its inboxes' slots (`k2k_capacity` per block).
    pub k2k_slots: u64,
    /// Its inboxes' tails (`IndexLine` per block).
    pub k2k_tails: u64,
    /// Its wake words.
    pub wake: u64,
    /// Its actor blocks.
    pub actor_blocks: u64,
    /// Slots per inbox.
    pub k2k_capacity: u64,
    /// Unused; keeps entries 64 bytes.
    pub reserved: [u64; 2],
}

const _: () = assert!(size_of::<PeerEntry>() == 64);

/// Appends the device declarations of this file's layouts to the generated header.
pub(super) fn render(h: &mut String) {
    h.push_str(
        "struct __align__(64) rk_peer {\n  unsigned long long actor_table;\n  \
         unsigned long long k2k_slots;\n  unsigned long long k2k_tails;\n  \
         unsigned long long wake;\n  unsigned long long actor_blocks;\n  \
         unsigned long long k2k_capacity;\n  unsigned long long reserved[2];\n};\n",
    );
    assert_layout(
        h,
        "rk_peer",
        size_of::<PeerEntry>(),
        align_of::<PeerEntry>(),
        &[
            ("actor_table", offset_of!(PeerEntry, actor_table)),
            ("k2k_slots", offset_of!(PeerEntry, k2k_slots)),
            ("k2k_tails", offset_of!(PeerEntry, k2k_tails)),
            ("wake", offset_of!(PeerEntry, wake)),
            ("actor_blocks", offset_of!(PeerEntry, actor_blocks)),
            ("k2k_capacity", offset_of!(PeerEntry, k2k_capacity)),
        ],
    );
    for (name, value) in [
        ("RK_ROUTE_NONE", route::NONE),
        ("RK_ROUTE_MOVING", route::MOVING),
        ("RK_ROUTE_GPU_SHIFT", route::GPU_SHIFT),
        ("RK_ROUTE_BLOCK_MASK", route::BLOCK_MASK),
    ] {
        let _ = writeln!(h, "#define {name} {value:#x}u");
    }
}

#[cfg(test)]
mod tests {
    use super::route;

    #[test]
    fn routes_round_trip_and_reject_what_does_not_fit() {
        for gpu in 0..route::MAX_GPUS {
            for block in [0, 1, 131, route::BLOCK_MASK] {
                let e = route::encode(gpu, block).expect("fits");
                assert_ne!(e, route::NONE);
                assert_ne!(e, route::MOVING);
                assert_eq!(route::decode(e), Some((gpu, block)));
            }
        }
        assert_eq!(route::encode(route::MAX_GPUS, 0), None);
        assert_eq!(route::encode(0, route::BLOCK_MASK + 1), None);
        assert_eq!(route::decode(route::NONE), None);
        assert_eq!(route::decode(route::MOVING), None);
    }
}
