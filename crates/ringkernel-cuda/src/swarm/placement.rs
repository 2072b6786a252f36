//! Where to spawn two pinned actors that will talk to each other. A pinned slot `k` is served
//! by a warp of block `k % blocks`; two pinned actors whose blocks share a thread block cluster
//! talk through DSMEM, others through device memory, and through device memory the latency
//! depends on the two SMs: on an H100 the raw flag takes ~265 ns one way within a half of the
//! chip and ~365 ns across (`crate::sm_split`). These pick two slots from a free list;
//! `Swarm::pinned_pair` applies them to a running swarm.

use crate::sm_split::SmSplit;

/// Where a pinned pair should sit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairPlace {
    /// Different blocks of one cluster: the channel is in DSMEM.
    Cluster,
    /// Blocks of different clusters on SMs in the same half of the chip (device memory).
    OneHalf,
    /// Blocks of different clusters on SMs in different halves (device memory; the slow case,
    /// for measuring it).
    AcrossHalves,
}

/// Two of the `free` slots on different blocks of one cluster, for a grid of `blocks` blocks in
/// clusters of `cluster`, or `None`. The first such pair in `free`'s order.
pub fn cluster_pair(blocks: u32, cluster: u32, free: &[u32]) -> Option<(u32, u32)> {
    if blocks == 0 || cluster == 0 {
        return None;
    }
    let block = |slot: u32| slot % blocks;
    first_pair(free, |a, b| {
        block(a) != block(b) && block(a) / cluster == block(b) / cluster
    })
}

/// Two of the `free` slots whose blocks are in different clusters (so their channel is in
/// device memory) and run on SMs in the same half of the chip (`across` false) or in different
/// halves (`across` true), given each block's SM (`block_sms`, from `Swarm::block_sms`), or
/// `None` (also where the split does not know an SM).
pub fn half_pair(
    split: &SmSplit,
    block_sms: &[u32],
    cluster: u32,
    free: &[u32],
    across: bool,
) -> Option<(u32, u32)> {
    let blocks = u32::try_from(block_sms.len()).ok().filter(|&b| b > 0)?;
    let cluster = cluster.max(1);
    let block = |slot: u32| slot % blocks;
    let sm = |slot: u32| block_sms[block(slot) as usize];
    first_pair(free, |a, b| {
        block(a) / cluster != block(b) / cluster && split.same_half(sm(a), sm(b)) == Some(!across)
    })
}

/// The first pair `(free[i], free[j])`, `i < j`, that `fits`.
fn first_pair(free: &[u32], fits: impl Fn(u32, u32) -> bool) -> Option<(u32, u32)> {
    free.iter()
        .enumerate()
        .find_map(|(i, &a)| free[i + 1..].iter().find(|&&b| fits(a, b)).map(|&b| (a, b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_pairs_share_a_cluster_but_not_a_block() {
        // 4 blocks in clusters of 2: slot k on block k % 4.
        assert_eq!(cluster_pair(4, 2, &[3, 4, 6, 7]), Some((3, 6)));
        assert_eq!(cluster_pair(4, 2, &[2, 6, 3]), Some((2, 3)));
        // Slots 2 and 6 share block 2; 3 is the other block of that cluster.
        assert_eq!(cluster_pair(4, 2, &[2, 6]), None);
        assert_eq!(cluster_pair(132, 2, &[3, 4, 8, 9]), Some((8, 9)));
        assert_eq!(cluster_pair(0, 2, &[0, 1]), None);
        assert_eq!(cluster_pair(4, 0, &[0, 1]), None);
        // Clusters of 1: no two blocks share one.
        assert_eq!(cluster_pair(4, 1, &[0, 1, 2, 3]), None);
    }

    #[test]
    fn half_pairs_span_two_clusters_within_a_half_or_across() {
        // Block b runs on SM b; SMs 0, 1, 3 and 5 are in SM 0's half; clusters of 2.
        let split = SmSplit::from_latencies(0, vec![0.0, 262.0, 366.0, 270.0, 371.0, 268.0, 359.0])
            .unwrap();
        let sms: Vec<u32> = (0..7).collect();
        assert_eq!(half_pair(&split, &sms, 2, &[1, 3, 5], false), Some((1, 3)));
        assert_eq!(half_pair(&split, &sms, 2, &[1, 3, 5], true), None);
        // The other half is a half too.
        assert_eq!(half_pair(&split, &sms, 2, &[2, 4], false), Some((2, 4)));
        assert_eq!(half_pair(&split, &sms, 2, &[2, 4, 5], true), Some((2, 5)));
        // Slots wrap onto blocks: slot 8 is block 1.
        assert_eq!(half_pair(&split, &sms, 2, &[8, 2, 5], false), Some((8, 5)));
        assert_eq!(half_pair(&split, &sms, 2, &[8, 2, 5], true), Some((8, 2)));
        // Same cluster only (blocks 4 and 5), nothing to pick from, or SMs the split lacks.
        assert_eq!(half_pair(&split, &sms, 2, &[4, 5], true), None);
        assert_eq!(half_pair(&split, &sms, 2, &[], false), None);
        assert_eq!(half_pair(&split, &[], 2, &[1, 3], false), None);
        assert_eq!(half_pair(&split, &[0, 1, 40, 41], 2, &[0, 2], false), None);
        // Clusters of 0 are taken as 1 (no panic on a bad argument).
        assert_eq!(half_pair(&split, &sms, 0, &[0, 1], false), Some((0, 1)));
    }
}
