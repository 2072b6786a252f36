//! Where the two ends of a device-memory hop run. On an H100 the raw flag between two SMs takes
//! ~265 ns one way within a half of the chip and ~365 ns across (`ringkernel_cuda::sm_split`),
//! so a device-memory row means little without its SMs. The bench measures the split from SM 0,
//! places one pinned pair within a half and one across, and reports the flag between the SMs
//! each rally actually used.

use crate::error::BenchError;
use crate::samples::Samples;
use ringkernel_cuda::floors::Floors;
use ringkernel_cuda::sm_split::SmSplit;

/// Round trips of one SM pair's flag run.
pub(super) const PAIR_ITERS: u64 = 2_000;

/// The split's latencies from its SM to every other, as samples.
pub(super) fn split_samples(split: &SmSplit, sms: u32) -> Result<Samples, BenchError> {
    Samples::new((0..sms).filter_map(|sm| split.latency(sm)).collect())
}

/// Two of the free pinned `slots` whose blocks are in different clusters (so their channel is
/// in device memory) and run on SMs in the same half (`across` false) or in different halves
/// (`across` true), or `None`.
pub(super) fn pair(
    split: &SmSplit,
    block_sms: &[u32],
    cluster: u32,
    slots: &[u32],
    across: bool,
) -> Option<(u32, u32)> {
    let blocks = u32::try_from(block_sms.len()).ok().filter(|&b| b > 0)?;
    let block = |slot: u32| slot % blocks;
    let sm = |slot: u32| block_sms[block(slot) as usize];
    slots.iter().enumerate().find_map(|(i, &a)| {
        slots[i + 1..]
            .iter()
            .find(|&&b| {
                block(a) / cluster != block(b) / cluster
                    && split.same_half(sm(a), sm(b)) == Some(!across)
            })
            .map(|&b| (a, b))
    })
}

/// Two of the free pinned `slots` on different blocks of one cluster (their channel is in
/// DSMEM), for a grid of `blocks` blocks, or `None`.
pub(super) fn cluster_pair(blocks: u32, cluster: u32, slots: &[u32]) -> Option<(u32, u32)> {
    if blocks == 0 || cluster == 0 {
        return None;
    }
    let block = |slot: u32| slot % blocks;
    slots.iter().enumerate().find_map(|(i, &a)| {
        slots[i + 1..]
            .iter()
            .find(|&&b| block(a) != block(b) && block(a) / cluster == block(b) / cluster)
            .map(|&b| (a, b))
    })
}

/// The flag's one-way latency between SMs `a` and `b`, `runs` runs.
pub(super) fn pair_floor(
    floors: &Floors,
    a: u32,
    b: u32,
    runs: usize,
) -> Result<Samples, BenchError> {
    let v = (0..runs)
        .map(|_| floors.k2k_one_way_between(a, b, PAIR_ITERS))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| BenchError::bench("SM pair floor", e))?;
    Samples::new(v)
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
    }

    #[test]
    fn pairs_span_two_clusters_within_a_half_or_across() {
        // Block b runs on SM b; SMs 0, 1, 3 and 5 are in SM 0's half; clusters of 2.
        let split = SmSplit::from_latencies(0, vec![0.0, 262.0, 366.0, 270.0, 371.0, 268.0, 359.0])
            .unwrap();
        let sms: Vec<u32> = (0..7).collect();
        assert_eq!(pair(&split, &sms, 2, &[1, 3, 5], false), Some((1, 3)));
        assert_eq!(pair(&split, &sms, 2, &[1, 3, 5], true), None);
        // The other half is a half too.
        assert_eq!(pair(&split, &sms, 2, &[2, 4], false), Some((2, 4)));
        assert_eq!(pair(&split, &sms, 2, &[2, 4, 5], true), Some((2, 5)));
        // Slots wrap onto blocks: slot 8 is block 1.
        assert_eq!(pair(&split, &sms, 2, &[8, 2, 5], false), Some((8, 5)));
        assert_eq!(pair(&split, &sms, 2, &[8, 2, 5], true), Some((8, 2)));
        // Same cluster only (blocks 4 and 5), nothing to pick from, or SMs the split lacks.
        assert_eq!(pair(&split, &sms, 2, &[4, 5], true), None);
        assert_eq!(pair(&split, &sms, 2, &[], false), None);
        assert_eq!(pair(&split, &[], 2, &[1, 3], false), None);
        assert_eq!(pair(&split, &[0, 1, 40, 41], 2, &[0, 2], false), None);
    }
}
