//! Where the two ends of a device-memory hop run. On an H100 the raw flag between two SMs takes
//! ~265 ns one way within a half of the chip and ~365 ns across (`ringkernel_cuda::sm_split`),
//! so a device-memory row means little without its SMs. The bench measures the split from SM 0,
//! places one pinned pair within a half and one across (`ringkernel_cuda::swarm::placement`),
//! and reports the flag between the SMs each rally actually used.

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
