//! [`Samples`]: a set of observations and the descriptive statistics of it.
//!
//! Methods, stated once so every report means the same thing:
//!
//! - **Percentiles** use linear interpolation between closest ranks (Hyndman & Fan 1996, type 7;
//!   the default of R's `quantile`, NumPy's `percentile` and Excel's `PERCENTILE.INC`): over the
//!   sorted values `x[0..n]`, `h = (n - 1) q` and `Q(q) = x[⌊h⌋] + (h - ⌊h⌋)(x[⌊h⌋+1] - x[⌊h⌋])`.
//!   For `1..=100` that gives p50 = 50.5, p90 = 90.1, p99 = 99.01.
//! - **Standard deviation** is the sample one (divisor `n - 1`); 0 for a single observation.
//! - **CI of the mean**: `mean ± t(1-α/2, n-1) · s/√n`, Student's t from `statrs`. It assumes the
//!   mean is roughly normal (true for large n by the CLT even for skewed latencies).
//! - **CI of a quantile** (median, p99): the distribution-free order-statistic interval
//!   (Conover, *Practical Nonparametric Statistics*, 3rd ed., §3.2): with `B ~ Binomial(n, q)`,
//!   `[x(l), x(u)]` (1-based ranks) where `l` is the largest rank with `P(B ≤ l-1) ≤ α/2` and `u`
//!   the smallest with `P(B ≤ u-1) ≥ 1-α/2`, so each tail misses with probability at most `α/2`
//!   and coverage is at least `1-α`. It needs no resampling (two binary searches over the binomial
//!   CDF) and assumes only independent observations. When `n` is too small for the requested
//!   coverage (e.g. p99 of 100 values) there is no such interval and the method returns `None`
//!   instead of a made-up one.

use serde::{Deserialize, Serialize};
use statrs::distribution::{Binomial, ContinuousCDF, DiscreteCDF, StudentsT};

use crate::error::BenchError;

/// A two-sided confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// Lower bound.
    pub lo: f64,
    /// Upper bound.
    pub hi: f64,
    /// Nominal coverage, e.g. 0.95.
    pub level: f64,
}

impl Interval {
    /// Half the width: the "±" of a symmetric interval.
    pub fn half_width(&self) -> f64 {
        (self.hi - self.lo) / 2.0
    }

    /// Whether `x` lies inside (bounds included).
    pub fn contains(&self, x: f64) -> bool {
        self.lo <= x && x <= self.hi
    }
}

/// Finite observations in any unit, kept sorted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Samples {
    /// The observations in ascending order. Invariant: non-empty, all finite.
    sorted: Vec<f64>,
}

impl Samples {
    /// Takes ownership of the observations. Fails on an empty set or a non-finite value.
    pub fn new(mut values: Vec<f64>) -> Result<Self, BenchError> {
        if values.is_empty() {
            return Err(BenchError::TooFewSamples {
                what: "a sample set",
                need: 1,
                got: 0,
            });
        }
        if let Some((index, &value)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(BenchError::NonFinite { index, value });
        }
        values.sort_by(f64::total_cmp);
        Ok(Samples { sorted: values })
    }

    /// Number of observations (at least 1).
    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    /// Always `false`: an empty set cannot be built. Present for clippy's `len_without_is_empty`.
    pub fn is_empty(&self) -> bool {
        self.sorted.is_empty()
    }

    /// The observations, ascending.
    pub fn sorted(&self) -> &[f64] {
        &self.sorted
    }

    /// Smallest observation.
    pub fn min(&self) -> f64 {
        self.sorted[0]
    }

    /// Largest observation.
    pub fn max(&self) -> f64 {
        self.sorted[self.sorted.len() - 1]
    }

    /// Arithmetic mean.
    pub fn mean(&self) -> f64 {
        self.sorted.iter().sum::<f64>() / self.sorted.len() as f64
    }

    /// Sample variance (divisor `n - 1`); 0 for one observation.
    pub fn variance(&self) -> f64 {
        let n = self.sorted.len();
        if n < 2 {
            return 0.0;
        }
        let m = self.mean();
        self.sorted.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1) as f64
    }

    /// Sample standard deviation.
    pub fn std_dev(&self) -> f64 {
        self.variance().sqrt()
    }

    /// Quantile `q` in `[0, 1]` (clamped), by linear interpolation (type 7, see the module doc).
    pub fn quantile(&self, q: f64) -> f64 {
        let q = if q.is_nan() { 0.5 } else { q.clamp(0.0, 1.0) };
        let h = (self.sorted.len() - 1) as f64 * q;
        let lo = h.floor() as usize;
        let frac = h - lo as f64;
        match self.sorted.get(lo + 1) {
            Some(next) => self.sorted[lo] + frac * (next - self.sorted[lo]),
            None => self.sorted[lo],
        }
    }

    /// Median.
    pub fn p50(&self) -> f64 {
        self.quantile(0.50)
    }

    /// 90th percentile.
    pub fn p90(&self) -> f64 {
        self.quantile(0.90)
    }

    /// 99th percentile.
    pub fn p99(&self) -> f64 {
        self.quantile(0.99)
    }

    /// 99.9th percentile.
    pub fn p999(&self) -> f64 {
        self.quantile(0.999)
    }

    /// Confidence interval of the mean at `level` (e.g. 0.95), Student's t; `None` for `n < 2`.
    pub fn mean_ci(&self, level: f64) -> Option<Interval> {
        let n = self.sorted.len();
        if n < 2 || !(0.0 < level && level < 1.0) {
            return None;
        }
        let t = StudentsT::new(0.0, 1.0, (n - 1) as f64)
            .ok()?
            .inverse_cdf(0.5 + level / 2.0);
        let half = t * self.std_dev() / (n as f64).sqrt();
        let m = self.mean();
        Some(Interval {
            lo: m - half,
            hi: m + half,
            level,
        })
    }

    /// Distribution-free confidence interval of quantile `q` at `level` from order statistics (see
    /// the module doc); `None` when `n` is too small for that coverage.
    pub fn quantile_ci(&self, q: f64, level: f64) -> Option<Interval> {
        let (l, u) = order_statistic_ranks(self.sorted.len(), q, level)?;
        Some(Interval {
            lo: self.sorted[l - 1],
            hi: self.sorted[u - 1],
            level,
        })
    }

    /// Every statistic the reports print, computed once.
    pub fn summary(&self) -> Summary {
        Summary {
            n: self.len(),
            min: self.min(),
            max: self.max(),
            mean: self.mean(),
            std_dev: self.std_dev(),
            p50: self.p50(),
            p90: self.p90(),
            p99: self.p99(),
            p999: self.p999(),
            mean_ci95: self.mean_ci(0.95),
            p50_ci95: self.quantile_ci(0.50, 0.95),
            p99_ci95: self.quantile_ci(0.99, 0.95),
        }
    }
}

/// 1-based ranks `(l, u)` of the order-statistic CI for quantile `q` of `n` observations.
///
/// `F(k) = P(B ≤ k)` for `B ~ Binomial(n, q)` is non-decreasing in `k`, so both ranks are found by
/// binary search: `O(log n)` CDF evaluations instead of a scan.
pub fn order_statistic_ranks(n: usize, q: f64, level: f64) -> Option<(usize, usize)> {
    if n == 0 || !(0.0 < q && q < 1.0) || !(0.0 < level && level < 1.0) {
        return None;
    }
    let tail = (1.0 - level) / 2.0;
    let bin = Binomial::new(q, n as u64).ok()?;
    // F(k - 1) for rank k >= 1.
    let f_below = |k: usize| bin.cdf(k as u64 - 1);
    // l: largest rank in 1..=n with F(l-1) <= tail.
    if f_below(1) > tail {
        return None;
    }
    let (mut lo, mut hi) = (1usize, n); // invariant: f_below(lo) <= tail
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if f_below(mid) <= tail {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    let l = lo;
    // u: smallest rank in 1..=n with F(u-1) >= 1 - tail.
    if f_below(n) < 1.0 - tail {
        return None;
    }
    let (mut lo, mut hi) = (1usize, n); // invariant: f_below(hi) >= 1 - tail
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if f_below(mid) >= 1.0 - tail {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    Some((l, hi))
}

/// The statistics of one [`Samples`], as stored in reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Number of observations.
    pub n: usize,
    /// Smallest.
    pub min: f64,
    /// Largest.
    pub max: f64,
    /// Arithmetic mean.
    pub mean: f64,
    /// Sample standard deviation.
    pub std_dev: f64,
    /// Median (type-7 interpolation).
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// 95% CI of the mean (Student t); `None` for one observation.
    pub mean_ci95: Option<Interval>,
    /// 95% order-statistic CI of the median; `None` when n is too small.
    pub p50_ci95: Option<Interval>,
    /// 95% order-statistic CI of p99; `None` below n = 368 (`0.99^n ≤ 0.025`).
    pub p99_ci95: Option<Interval>,
}

// Tests unwrap on purpose: a failure should stop the test with its location.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn one_to(n: u32) -> Samples {
        Samples::new((1..=n).map(f64::from).collect()).unwrap()
    }

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn percentiles_of_1_to_100_follow_type_7() {
        // Type 7: h = 99 q. p50: h = 49.5 -> 50.5; p90: 89.1 -> 90.1; p99: 98.01 -> 99.01;
        // p99.9: 98.901 -> 99.901 (same as numpy.percentile(range(1, 101), [50, 90, 99, 99.9])).
        let s = one_to(100);
        assert!(close(s.p50(), 50.5, 1e-12));
        assert!(close(s.p90(), 90.1, 1e-12));
        assert!(close(s.p99(), 99.01, 1e-12));
        assert!(close(s.p999(), 99.901, 1e-12));
        assert_eq!((s.min(), s.max()), (1.0, 100.0));
        assert_eq!(s.quantile(0.0), 1.0);
        assert_eq!(s.quantile(1.0), 100.0);
    }

    #[test]
    fn input_order_does_not_matter_and_quantile_clamps() {
        let s = Samples::new(vec![3.0, 1.0, 2.0]).unwrap();
        assert_eq!(s.sorted(), &[1.0, 2.0, 3.0]);
        assert_eq!(s.quantile(-1.0), 1.0);
        assert_eq!(s.quantile(7.0), 3.0);
        assert_eq!(s.p50(), 2.0);
    }

    #[test]
    fn single_observation_has_zero_spread_and_no_ci() {
        let s = Samples::new(vec![42.0]).unwrap();
        assert_eq!(
            (s.p50(), s.p99(), s.mean(), s.std_dev()),
            (42.0, 42.0, 42.0, 0.0)
        );
        assert!(s.mean_ci(0.95).is_none());
        assert!(s.quantile_ci(0.5, 0.95).is_none());
        assert!(!s.is_empty());
    }

    #[test]
    fn empty_and_non_finite_sets_are_rejected() {
        assert!(matches!(
            Samples::new(vec![]),
            Err(BenchError::TooFewSamples { got: 0, .. })
        ));
        assert!(matches!(
            Samples::new(vec![1.0, f64::NAN]),
            Err(BenchError::NonFinite { index: 1, .. })
        ));
        assert!(Samples::new(vec![f64::INFINITY]).is_err());
    }

    #[test]
    fn mean_and_sample_sd_of_1_to_100() {
        // Var of 1..=n with divisor n-1 is n(n+1)/12 = 841.666..., sd = 29.011491975882016.
        let s = one_to(100);
        assert!(close(s.mean(), 50.5, 1e-12));
        assert!(close(s.variance(), 10100.0 / 12.0, 1e-9));
        assert!(close(s.std_dev(), 29.011_491_975_882_016, 1e-9));
    }

    #[test]
    fn mean_ci_uses_student_t() {
        // t(0.975, 99) = 1.9842169515 (standard t tables / R qt(0.975, 99)), se = 29.0115 / 10,
        // so the half width is 5.756_48.
        let ci = one_to(100).mean_ci(0.95).unwrap();
        assert!(close(
            ci.half_width(),
            1.984_216_951_5 * 2.901_149_197_588_2,
            1e-6
        ));
        assert!(ci.contains(50.5));
        assert_eq!(ci.level, 0.95);
        // n = 2: t(0.975, 1) = 12.706204736 (tables); values 0, 2: sd = sqrt(2), se = 1.
        let two = Samples::new(vec![0.0, 2.0]).unwrap().mean_ci(0.95).unwrap();
        assert!(close(two.half_width(), 12.706_204_736, 1e-6));
    }

    #[test]
    fn mean_ci_shrinks_with_n() {
        // The same two-point pattern repeated: sd stays ~1, se falls like 1/sqrt(n).
        let widths: Vec<f64> = [10usize, 100, 1000, 10_000]
            .iter()
            .map(|&n| {
                let v = (0..n).map(|i| (i % 2) as f64).collect();
                Samples::new(v).unwrap().mean_ci(0.95).unwrap().half_width()
            })
            .collect();
        assert!(widths.windows(2).all(|w| w[1] < w[0]), "{widths:?}");
    }

    #[test]
    fn median_ci_ranks_match_published_tables() {
        // Conover (1999), Table A3 / the classic binomial table: for the median at 95%,
        // n = 10 gives ranks (2, 9) (coverage 0.979) and n = 100 gives (40, 61) (coverage 0.965).
        assert_eq!(order_statistic_ranks(10, 0.5, 0.95), Some((2, 9)));
        assert_eq!(order_statistic_ranks(100, 0.5, 0.95), Some((40, 61)));
        let ci = one_to(100).quantile_ci(0.5, 0.95).unwrap();
        assert_eq!((ci.lo, ci.hi), (40.0, 61.0));
    }

    #[test]
    fn p99_ci_needs_enough_observations() {
        // 0.99^n <= 0.025 first holds at n = 368.
        assert!(order_statistic_ranks(367, 0.99, 0.95).is_none());
        assert!(order_statistic_ranks(368, 0.99, 0.95).is_some());
        let s = one_to(10_000);
        let ci = s.quantile_ci(0.99, 0.95).unwrap();
        assert!(ci.contains(s.p99()), "{ci:?} vs {}", s.p99());
        assert!(ci.hi - ci.lo < 60.0);
        assert!(s.summary().p99_ci95.is_some());
        assert!(one_to(100).summary().p99_ci95.is_none());
    }

    #[test]
    fn summary_agrees_with_accessors() {
        let s = one_to(1000);
        let m = s.summary();
        assert_eq!(m.n, 1000);
        assert_eq!(
            (m.p50, m.p90, m.p99, m.p999),
            (s.p50(), s.p90(), s.p99(), s.p999())
        );
        assert_eq!(m.mean_ci95, s.mean_ci(0.95));
        assert_eq!(m.p50_ci95, s.quantile_ci(0.5, 0.95));
    }
}
