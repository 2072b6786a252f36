//! Where the two ends of a device-memory hop run. On an H100 the raw flag between two SMs takes
//! either ~265 or ~365 ns one way, by pair and almost regardless of the flag's address, so a
//! device-memory row means little without its SMs. The bench measures the flag from one SM to
//! every other (on an H100 that splits the SMs into two halves), places one pinned pair on SMs
//! of one side of that split and one across it, and reports the flag between the SMs each rally
//! actually used.

use crate::error::BenchError;
use crate::samples::Samples;
use ringkernel_cuda::floors::Floors;
use ringkernel_cuda::CudaError;

/// Round trips of one SM pair's flag run.
const PAIR_ITERS: u64 = 2_000;

/// The flag's one-way latency from SM `from` to every other SM.
#[derive(Debug)]
pub(super) struct SmMap {
    from: u32,
    ns: Vec<f64>,
}

impl SmMap {
    /// Measures the flag from SM `from` to each other SM of the device.
    pub(super) fn measure(floors: &Floors, from: u32) -> Result<Self, CudaError> {
        let ns = (0..floors.sm_count())
            .map(|sm| {
                if sm == from {
                    Ok(f64::NAN)
                } else {
                    floors.k2k_one_way_between(from, sm, PAIR_ITERS)
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SmMap { from, ns })
    }

    /// The measured pairs, as samples (SM `from` itself left out).
    pub(super) fn samples(&self) -> Result<Samples, BenchError> {
        Samples::new(self.ns.iter().copied().filter(|v| !v.is_nan()).collect())
    }

    /// Halfway between the fastest and the slowest pair: the split between the two groups.
    fn split(&self) -> f64 {
        let (lo, hi) = self
            .ns
            .iter()
            .filter(|v| !v.is_nan())
            .fold((f64::MAX, f64::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        (lo + hi) / 2.0
    }

    /// Whether SM `sm` is on the fast side of the split from SM `from` (`from` itself is).
    pub(super) fn fast(&self, sm: u32) -> bool {
        sm == self.from || self.ns.get(sm as usize).is_some_and(|&v| v <= self.split())
    }

    /// How the pairs split: "n SMs at a-b ns, m at c-d ns".
    pub(super) fn describe(&self) -> String {
        let split = self.split();
        let group = |fast: bool| {
            let v: Vec<f64> = self
                .ns
                .iter()
                .copied()
                .filter(|v| !v.is_nan() && (*v <= split) == fast)
                .collect();
            let (lo, hi) = v
                .iter()
                .fold((f64::MAX, f64::MIN), |(lo, hi), &x| (lo.min(x), hi.max(x)));
            if v.is_empty() {
                "none".to_string()
            } else {
                format!("{} SMs at {lo:.0}-{hi:.0} ns", v.len())
            }
        };
        format!(
            "from SM {}: {}, {} ({PAIR_ITERS} round trips per pair)",
            self.from,
            group(true),
            group(false)
        )
    }
}

/// Two of the free pinned `slots` whose blocks are in different clusters (so their channel is
/// in device memory) and run on SMs on the same side of `map`'s split (`across` false) or on
/// opposite sides (`across` true), or `None`.
pub(super) fn pair(
    map: &SmMap,
    block_sms: &[u32],
    cluster: u32,
    slots: &[u32],
    across: bool,
) -> Option<(u32, u32)> {
    let blocks = u32::try_from(block_sms.len()).ok().filter(|&b| b > 0)?;
    let block = |slot: u32| slot % blocks;
    let fast = |slot: u32| map.fast(block_sms[block(slot) as usize]);
    slots.iter().enumerate().find_map(|(i, &a)| {
        slots[i + 1..]
            .iter()
            .find(|&&b| block(a) / cluster != block(b) / cluster && (fast(a) != fast(b)) == across)
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

    // SM 0 to SMs 1..6: two groups, ~265 and ~365 ns.
    fn map() -> SmMap {
        SmMap {
            from: 0,
            ns: vec![f64::NAN, 262.0, 366.0, 270.0, 371.0, 268.0, 359.0],
        }
    }

    #[test]
    fn the_split_separates_the_two_groups() {
        let m = map();
        let fast: Vec<u32> = (0..7).filter(|&sm| m.fast(sm)).collect();
        assert_eq!(fast, vec![0, 1, 3, 5]);
        // An SM the map does not cover is never on the fast side.
        assert!(!m.fast(7));
        assert_eq!(m.samples().map(|s| s.len()).ok(), Some(6));
        assert_eq!(
            m.describe(),
            "from SM 0: 3 SMs at 262-270 ns, 3 SMs at 359-371 ns (2000 round trips per pair)"
        );
    }

    #[test]
    fn pairs_span_two_clusters_on_one_side_or_across() {
        let m = map();
        // Block b runs on SM b: blocks 0, 1, 3 and 5 are on the fast side; clusters of 2.
        let sms: Vec<u32> = (0..7).collect();
        assert_eq!(pair(&m, &sms, 2, &[1, 3, 5], false), Some((1, 3)));
        assert_eq!(pair(&m, &sms, 2, &[1, 3, 5], true), None);
        // Both on the slow side is one side too.
        assert_eq!(pair(&m, &sms, 2, &[2, 4], false), Some((2, 4)));
        assert_eq!(pair(&m, &sms, 2, &[2, 4, 5], true), Some((2, 5)));
        // Slots wrap onto blocks: slot 8 is block 1.
        assert_eq!(pair(&m, &sms, 2, &[8, 2, 5], false), Some((8, 5)));
        assert_eq!(pair(&m, &sms, 2, &[8, 2, 5], true), Some((8, 2)));
        // Same cluster only (blocks 4 and 5), or nothing to pick from: none.
        assert_eq!(pair(&m, &sms, 2, &[4, 5], true), None);
        assert_eq!(pair(&m, &sms, 2, &[], false), None);
        assert_eq!(pair(&m, &[], 2, &[1, 3], false), None);
    }
}
