//! The two halves of the GPU as device-memory messages see them.
//!
//! On an H100 a flag ping-ponged through device memory between two SMs takes ~265 ns one way
//! when both SMs are in one half of the chip and ~365 ns when they are in different halves,
//! whatever the flag's address (split by SM 0's latencies, then measured again from four other
//! SMs: every SM fell in the half the split predicts). A framework hop between the halves pays
//! more than that: the swarm's pinned rally took ~1.45 µs within a half and ~1.6-1.7 µs across
//! (see `docs/benchmarks/swarm.md`). So
//! placing two partners that talk through device memory is worth a measurement: this one takes
//! the flag from one SM to every other and splits the SMs at the midpoint.

use crate::error::CudaError;
use crate::floors::Floors;

/// Flag latencies from one SM to every SM, and the split they show.
#[derive(Debug, Clone, PartialEq)]
pub struct SmSplit {
    from: u32,
    /// One-way ns to each SM; `from` itself holds 0.
    ns: Vec<f64>,
    /// Midway between the fastest and the slowest SM.
    split: f64,
}

impl SmSplit {
    /// Measures the flag (`iters` round trips per SM) from SM `from` to every other SM. Takes
    /// about `sm_count x iters x 0.7 us`; the GPU must be idle (a running swarm holds the SMs).
    pub fn measure(floors: &Floors, from: u32, iters: u64) -> Result<Self, CudaError> {
        let ns = (0..floors.sm_count())
            .map(|sm| {
                if sm == from {
                    Ok(0.0)
                } else {
                    floors.k2k_one_way_between(from, sm, iters)
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        Self::from_latencies(from, ns)
    }

    /// A split from latencies measured elsewhere: `ns[sm]` one way from SM `from` (whose own
    /// entry is ignored) to SM `sm`. At least two SMs, `from` among them, and every other entry
    /// finite and positive, or a configuration error.
    pub fn from_latencies(from: u32, mut ns: Vec<f64>) -> Result<Self, CudaError> {
        let at = from as usize;
        if ns.len() < 2 || at >= ns.len() {
            return Err(CudaError::Config(format!(
                "an SM split needs at least two SMs including SM {from} ({} given)",
                ns.len()
            )));
        }
        ns[at] = 0.0;
        if let Some((sm, v)) = ns
            .iter()
            .enumerate()
            .find(|&(sm, v)| sm != at && !(v.is_finite() && *v > 0.0))
        {
            return Err(CudaError::Config(format!("SM {sm}: {v} is not a latency")));
        }
        let others = || {
            ns.iter()
                .enumerate()
                .filter(|&(sm, _)| sm != at)
                .map(|(_, &v)| v)
        };
        let lo = others().fold(f64::MAX, f64::min);
        let hi = others().fold(f64::MIN, f64::max);
        Ok(SmSplit {
            from,
            ns,
            split: (lo + hi) / 2.0,
        })
    }

    /// The SM the flag was measured from.
    pub fn from(&self) -> u32 {
        self.from
    }

    /// One-way ns from [`SmSplit::from`] to SM `sm` (`None` for `from` itself or an SM the
    /// device does not have).
    pub fn latency(&self, sm: u32) -> Option<f64> {
        (sm != self.from)
            .then(|| self.ns.get(sm as usize).copied())
            .flatten()
    }

    /// Whether SM `sm` is in the same half as [`SmSplit::from`] (`None` for an SM the device
    /// does not have).
    pub fn with_from(&self, sm: u32) -> Option<bool> {
        if sm == self.from {
            return Some(true);
        }
        self.latency(sm).map(|v| v <= self.split)
    }

    /// Whether SMs `a` and `b` are in the same half (`None` if the device lacks either).
    pub fn same_half(&self, a: u32, b: u32) -> Option<bool> {
        Some(self.with_from(a)? == self.with_from(b)?)
    }

    /// How the SMs split: "from SM f: n SMs at a-b ns, m SMs at c-d ns".
    pub fn describe(&self) -> String {
        let group = |near: bool| {
            let v: Vec<f64> = (0..self.ns.len() as u32)
                .filter_map(|sm| self.latency(sm))
                .filter(|&v| (v <= self.split) == near)
                .collect();
            let lo = v.iter().copied().fold(f64::MAX, f64::min);
            let hi = v.iter().copied().fold(f64::MIN, f64::max);
            if v.is_empty() {
                "no SMs".to_string()
            } else {
                format!("{} SMs at {lo:.0}-{hi:.0} ns", v.len())
            }
        };
        format!("from SM {}: {}, {}", self.from, group(true), group(false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // SM 0 to SMs 1..6: two groups, ~265 and ~365 ns.
    fn split() -> SmSplit {
        SmSplit::from_latencies(0, vec![0.0, 262.0, 366.0, 270.0, 371.0, 268.0, 359.0]).unwrap()
    }

    #[test]
    fn the_midpoint_separates_the_two_halves() {
        let s = split();
        let near: Vec<u32> = (0..7).filter(|&sm| s.with_from(sm) == Some(true)).collect();
        assert_eq!(near, vec![0, 1, 3, 5]);
        assert_eq!(s.same_half(2, 4), Some(true));
        assert_eq!(s.same_half(1, 2), Some(false));
        assert_eq!(s.latency(3), Some(270.0));
        assert_eq!(s.latency(0), None);
        assert_eq!(
            s.describe(),
            "from SM 0: 3 SMs at 262-270 ns, 3 SMs at 359-371 ns"
        );
    }

    #[test]
    fn unknown_sms_and_bad_latencies_are_refused() {
        let s = split();
        assert_eq!(s.with_from(7), None);
        assert_eq!(s.same_half(1, 99), None);
        assert_eq!(s.latency(7), None);
        for (from, ns) in [
            (0, vec![]),
            (0, vec![0.0]),
            (2, vec![0.0, 300.0]),
            (0, vec![0.0, f64::NAN]),
            (0, vec![0.0, 300.0, -1.0]),
            (1, vec![f64::INFINITY, 0.0]),
        ] {
            assert!(
                matches!(
                    SmSplit::from_latencies(from, ns.clone()),
                    Err(CudaError::Config(_))
                ),
                "{from}, {ns:?}"
            );
        }
        // The entry of SM `from` itself is not looked at.
        assert!(SmSplit::from_latencies(1, vec![300.0, f64::NAN]).is_ok());
    }
}
