//! The two halves of the GPU as device-memory messages see them.
//!
//! On an H100 a flag ping-ponged through device memory between two SMs takes ~265 ns one way
//! when both SMs are in one half of the chip and ~365 ns when they are in different halves,
//! whatever the flag's address (split by SM 0's latencies, then measured again from four other
//! SMs: every SM fell in the half the split predicts). A framework hop between the halves pays
//! more than that: the swarm's pinned rally took ~1.45 µs within a half and ~1.6-1.7 µs across
//! (see `docs/benchmarks/swarm.md`). So
//! placing two partners that talk through device memory is worth a measurement: this one takes
//! the flag from one SM to every other and splits the SMs into the two tightest groups, if
//! those stand apart (a GPU without two halves gets no split).

use crate::error::CudaError;
use crate::floors::Floors;

/// Flag latencies from one SM to every SM, and the split they show.
#[derive(Debug, Clone, PartialEq)]
pub struct SmSplit {
    from: u32,
    /// One-way ns to each SM; `from` itself holds 0.
    ns: Vec<f64>,
    /// Between the two groups of [`two_means`].
    split: f64,
    /// Their means' distance in pooled standard deviations.
    separation: f64,
}

/// Separation (see [`SmSplit::halves`]) from which the latencies count as two halves.
const SEPARATION: f64 = 5.0;

/// The cut of `sorted` (ascending) into two groups of at least a quarter of the values each
/// with the least squared deviation from their means; returns the latency between the groups
/// and the distance of their means in pooled standard deviations (0 if there is no such cut).
fn two_means(sorted: &[f64]) -> (f64, f64) {
    let n = sorted.len();
    let min_side = n.div_ceil(4).max(1);
    let sum = |v: &[f64]| v.iter().sum::<f64>();
    let sq = |v: &[f64], m: f64| v.iter().map(|x| (x - m) * (x - m)).sum::<f64>();
    let best = (min_side..=n.saturating_sub(min_side))
        .filter(|&i| i > 0 && i < n)
        .map(|i| {
            let (lo, hi) = sorted.split_at(i);
            let (m_lo, m_hi) = (sum(lo) / lo.len() as f64, sum(hi) / hi.len() as f64);
            (sq(lo, m_lo) + sq(hi, m_hi), i, m_lo, m_hi)
        })
        .min_by(|a, b| a.0.total_cmp(&b.0));
    match best {
        Some((wss, i, m_lo, m_hi)) => {
            let sd = (wss / n as f64).sqrt();
            let separation = if sd > 0.0 {
                (m_hi - m_lo) / sd
            } else if m_hi > m_lo {
                f64::INFINITY
            } else {
                0.0
            };
            ((sorted[i - 1] + sorted[i]) / 2.0, separation)
        }
        None => (f64::INFINITY, 0.0),
    }
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
        let mut sorted: Vec<f64> = ns
            .iter()
            .enumerate()
            .filter(|&(sm, _)| sm != at)
            .map(|(_, &v)| v)
            .collect();
        sorted.sort_by(f64::total_cmp);
        let (split, separation) = two_means(&sorted);
        Ok(SmSplit {
            from,
            ns,
            split,
            separation,
        })
    }

    /// Whether the latencies show two halves: split where the two groups are tightest (at
    /// least a quarter of the SMs each), their means are `SEPARATION` pooled standard deviations
    /// apart or more. Evenly spread latencies come to ~3.5, two H100s to 9-13.
    pub fn halves(&self) -> bool {
        self.separation >= SEPARATION
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
    /// does not have, or when there are no [`SmSplit::halves`]).
    pub fn with_from(&self, sm: u32) -> Option<bool> {
        if !self.halves() || sm as usize >= self.ns.len() {
            return None;
        }
        Some(sm == self.from || self.ns[sm as usize] <= self.split)
    }

    /// Whether SMs `a` and `b` are in the same half (`None` if the device lacks either, or
    /// when there are no [`SmSplit::halves`]).
    pub fn same_half(&self, a: u32, b: u32) -> Option<bool> {
        Some(self.with_from(a)? == self.with_from(b)?)
    }

    /// How the SMs split: "from SM f: n SMs at a-b ns, m SMs at c-d ns", or the range and
    /// "no two halves".
    pub fn describe(&self) -> String {
        let range = |near: Option<bool>| {
            let v: Vec<f64> = (0..self.ns.len() as u32)
                .filter_map(|sm| self.latency(sm))
                .filter(|&v| near.is_none_or(|n| (v <= self.split) == n))
                .collect();
            let lo = v.iter().copied().fold(f64::MAX, f64::min);
            let hi = v.iter().copied().fold(f64::MIN, f64::max);
            format!("{} SMs at {lo:.0}-{hi:.0} ns", v.len())
        };
        if self.halves() {
            format!(
                "from SM {}: {}, {} (means {:.1} sd apart)",
                self.from,
                range(Some(true)),
                range(Some(false)),
                self.separation
            )
        } else {
            format!(
                "from SM {}: {}, no two halves (best split {:.1} sd apart)",
                self.from,
                range(None),
                self.separation
            )
        }
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
    fn two_groups_far_apart_are_the_halves() {
        let s = split();
        assert!(s.halves());
        let near: Vec<u32> = (0..7).filter(|&sm| s.with_from(sm) == Some(true)).collect();
        assert_eq!(near, vec![0, 1, 3, 5]);
        assert_eq!(s.same_half(2, 4), Some(true));
        assert_eq!(s.same_half(1, 2), Some(false));
        assert_eq!(s.latency(3), Some(270.0));
        assert_eq!(s.latency(0), None);
        assert_eq!(
            s.describe(),
            "from SM 0: 3 SMs at 262-270 ns, 3 SMs at 359-371 ns (means 23.3 sd apart)"
        );
    }

    #[test]
    fn an_outlier_is_no_half_and_no_halves() {
        // One SM far above the rest: it is not a half of its own, and its gap inside the slow
        // side means the halves are not clean, so there is no split rather than a wrong one.
        let s = SmSplit::from_latencies(0, vec![0.0, 262.0, 366.0, 270.0, 371.0, 900.0]).unwrap();
        assert!(!s.halves());
        assert_eq!(s.same_half(1, 2), None);
        // Noise inside the halves does not matter.
        let s = SmSplit::from_latencies(
            0,
            vec![0.0, 262.0, 366.0, 281.0, 383.0, 268.0, 359.0, 266.0, 371.0],
        )
        .unwrap();
        assert!(s.halves());
        assert_eq!(s.same_half(3, 7), Some(true));
        assert_eq!(s.same_half(4, 6), Some(true));
        assert_eq!(s.same_half(3, 4), Some(false));
    }

    // SM 0 of an H100 to its 131 other SMs, 2,000 round trips each (2026-11-26).
    const H100_FROM_SM0: [u16; 132] = [
        0, 277, 373, 373, 372, 373, 368, 368, 267, 271, 271, 268, 291, 295, 368, 368, 296, 293,
        370, 370, 374, 373, 367, 366, 267, 267, 269, 267, 295, 296, 367, 365, 297, 299, 378, 379,
        379, 378, 364, 362, 269, 270, 267, 267, 299, 299, 366, 366, 303, 293, 368, 368, 368, 368,
        368, 368, 266, 267, 267, 268, 292, 283, 368, 368, 370, 369, 370, 370, 355, 359, 266, 266,
        266, 266, 290, 292, 358, 360, 375, 373, 376, 376, 352, 352, 266, 266, 266, 266, 299, 299,
        366, 364, 368, 368, 368, 368, 367, 366, 267, 267, 267, 267, 267, 278, 366, 366, 370, 370,
        370, 372, 366, 366, 267, 267, 268, 268, 286, 288, 362, 362, 296, 295, 352, 351, 290, 292,
        296, 297, 266, 276, 298, 295,
    ];

    #[test]
    fn an_h100_splits_into_its_two_halves() {
        let ns: Vec<f64> = H100_FROM_SM0.iter().map(|&v| f64::from(v)).collect();
        let s = SmSplit::from_latencies(0, ns).unwrap();
        assert!(s.halves(), "{}", s.describe());
        let with_0 = (0..132).filter(|&sm| s.with_from(sm) == Some(true)).count();
        assert_eq!(with_0, 66);
        assert!(s
            .describe()
            .starts_with("from SM 0: 65 SMs at 266-303 ns, 66 SMs at 351-379 ns"));
        // Evenly spread over the same range: no halves.
        let even: Vec<f64> = (0..132)
            .map(|i| 266.0 + f64::from(i) * 113.0 / 131.0)
            .collect();
        assert!(!SmSplit::from_latencies(0, even).unwrap().halves());
    }

    #[test]
    fn evenly_spread_latencies_have_no_halves() {
        let s = SmSplit::from_latencies(0, vec![0.0, 262.0, 270.0, 280.0, 291.0, 300.0]).unwrap();
        assert!(!s.halves());
        assert_eq!(s.with_from(1), None);
        assert_eq!(s.same_half(1, 2), None);
        assert_eq!(
            s.describe(),
            "from SM 0: 5 SMs at 262-300 ns, no two halves (best split 3.9 sd apart)"
        );
        // One other SM: nothing to split.
        let one = SmSplit::from_latencies(0, vec![0.0, 270.0]).unwrap();
        assert!(!one.halves());
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
