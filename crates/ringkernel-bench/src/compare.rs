//! [`compare()`]: is A different from B, by how much, and how sure are we.
//!
//! - **Welch's t-test** (unequal variances): `t = (mean_a - mean_b) / √(s²a/na + s²b/nb)`, degrees
//!   of freedom by Welch–Satterthwaite, `ν = (s²a/na + s²b/nb)² / ((s²a/na)²/(na-1) + (s²b/nb)²/(nb-1))`,
//!   two-sided `p = 2 · P(T_ν > |t|)` from `statrs`' Student t survival function.
//! - **Cohen's d** with the pooled standard deviation
//!   `sp = √(((na-1)s²a + (nb-1)s²b) / (na+nb-2))`, `d = (mean_a - mean_b) / sp`. By Cohen's rule of
//!   thumb |d| ≈ 0.2 is small, 0.5 medium, 0.8 large.
//! - **Ratio of medians** `p50_a / p50_b`, with [`Comparison::speedup`] reading it the right way
//!   round for latencies (lower is better) or rates (higher is better).
//!
//! Statistics that are undefined for the data (both sets constant, fewer than two observations)
//! are `None`, never a NaN that would print as a number.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::samples::Samples;

/// Which direction of a measurement is an improvement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Better {
    /// Latencies, durations: smaller wins.
    Lower,
    /// Rates, throughput: larger wins.
    Higher,
}

/// The outcome of comparing sample set A against sample set B.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// Mean of A.
    pub mean_a: f64,
    /// Mean of B.
    pub mean_b: f64,
    /// Welch's t statistic; `None` when both variances are zero or a set has one observation.
    pub welch_t: Option<f64>,
    /// Welch–Satterthwaite degrees of freedom.
    pub welch_df: Option<f64>,
    /// Two-sided p-value of Welch's test.
    pub p_value: Option<f64>,
    /// Cohen's d (pooled SD); `Some(0.0)` for identical constant sets, `None` when the pooled SD is
    /// zero but the means differ (the effect is then unbounded).
    pub cohens_d: Option<f64>,
    /// `p50(A) / p50(B)`; `None` when `p50(B)` is zero.
    pub median_ratio: Option<f64>,
}

impl Comparison {
    /// How many times better A is than B, judged by medians: `p50_b / p50_a` for [`Better::Lower`],
    /// `p50_a / p50_b` for [`Better::Higher`]. Above 1 means A wins.
    pub fn speedup(&self, better: Better) -> Option<f64> {
        let r = self.median_ratio?;
        match better {
            Better::Higher => Some(r),
            Better::Lower if r != 0.0 => Some(1.0 / r),
            Better::Lower => None,
        }
    }
}

/// Compares A against B (see the module doc for the formulas).
pub fn compare(a: &Samples, b: &Samples) -> Comparison {
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let (ma, mb) = (a.mean(), b.mean());
    let (va, vb) = (a.variance(), b.variance());

    let (welch_t, welch_df, p_value) = welch(ma, va, na, mb, vb, nb);

    let cohens_d = if na + nb > 2.0 {
        let sp = (((na - 1.0) * va + (nb - 1.0) * vb) / (na + nb - 2.0)).sqrt();
        if sp > 0.0 {
            Some((ma - mb) / sp)
        } else if ma == mb {
            Some(0.0)
        } else {
            None
        }
    } else {
        None
    };

    let median_ratio = (b.p50() != 0.0).then(|| a.p50() / b.p50());

    Comparison {
        mean_a: ma,
        mean_b: mb,
        welch_t,
        welch_df,
        p_value,
        cohens_d,
        median_ratio,
    }
}

/// Welch's `(t, ν, p)`; all `None` when the standard error is zero or a set has `n < 2`.
fn welch(
    ma: f64,
    va: f64,
    na: f64,
    mb: f64,
    vb: f64,
    nb: f64,
) -> (Option<f64>, Option<f64>, Option<f64>) {
    if na < 2.0 || nb < 2.0 {
        return (None, None, None);
    }
    let (sa, sb) = (va / na, vb / nb);
    let se2 = sa + sb;
    if se2 <= 0.0 {
        return (None, None, None);
    }
    let t = (ma - mb) / se2.sqrt();
    let df = se2 * se2 / (sa * sa / (na - 1.0) + sb * sb / (nb - 1.0));
    // `sf` rather than `1 - cdf` keeps precision for tiny p-values (large |t|).
    let p = StudentsT::new(0.0, 1.0, df)
        .ok()
        .map(|dist| (2.0 * dist.sf(t.abs())).min(1.0));
    (Some(t), Some(df), p)
}

// Tests unwrap on purpose: a failure should stop the test with its location.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn s(v: &[f64]) -> Samples {
        Samples::new(v.to_vec()).unwrap()
    }

    // "Example 1" of the Wikipedia article "Welch's t-test" (A1 vs A2), which reports
    // t = -2.46, ν = 24.99 (≈ 25.0), p = 0.021. Recomputed by hand in double precision (means
    // 20.82 / 22.98667, variances 7.867429 / 3.812667): t = -2.455356, ν = 24.98853, two-sided
    // p = 0.021378 (numerical integration of the t density), pooled-SD Cohen's d = -0.896569.
    const A1: [f64; 15] = [
        27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4,
    ];
    const A2: [f64; 15] = [
        27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4,
    ];

    #[test]
    fn welch_matches_published_example() {
        let c = compare(&s(&A1), &s(&A2));
        assert!((c.welch_t.unwrap() - -2.455_356).abs() < 1e-5, "{c:?}");
        assert!((c.welch_df.unwrap() - 24.988_53).abs() < 1e-4, "{c:?}");
        assert!((c.p_value.unwrap() - 0.021_378).abs() < 1e-5, "{c:?}");
        assert!((c.cohens_d.unwrap() - -0.896_569).abs() < 1e-5, "{c:?}");
    }

    #[test]
    fn comparison_is_antisymmetric() {
        let ab = compare(&s(&A1), &s(&A2));
        let ba = compare(&s(&A2), &s(&A1));
        assert_eq!(ab.welch_t.map(|t| -t), ba.welch_t);
        assert_eq!(ab.welch_df, ba.welch_df);
        assert_eq!(ab.p_value, ba.p_value);
        assert_eq!(ab.cohens_d.map(|d| -d), ba.cohens_d);
    }

    #[test]
    fn identical_samples_have_zero_effect() {
        let c = compare(&s(&A1), &s(&A1));
        assert_eq!(c.cohens_d, Some(0.0));
        assert_eq!(c.welch_t, Some(0.0));
        assert!((c.p_value.unwrap() - 1.0).abs() < 1e-12);
        assert_eq!(c.median_ratio, Some(1.0));
    }

    #[test]
    fn constant_samples_give_none_not_nan() {
        let same = compare(&s(&[3.0, 3.0, 3.0]), &s(&[3.0, 3.0]));
        assert_eq!(same.cohens_d, Some(0.0));
        assert_eq!(
            (same.welch_t, same.welch_df, same.p_value),
            (None, None, None)
        );
        let differ = compare(&s(&[3.0, 3.0]), &s(&[4.0, 4.0]));
        assert_eq!(differ.cohens_d, None);
        let tiny = compare(&s(&[1.0]), &s(&[2.0, 3.0]));
        assert_eq!(tiny.welch_t, None);
    }

    #[test]
    fn speedup_reads_the_ratio_by_direction() {
        // Latencies: A median 10, B median 20 -> A is 2x better. Rates: A 10, B 20 -> 0.5x.
        let c = compare(&s(&[9.0, 10.0, 11.0]), &s(&[19.0, 20.0, 21.0]));
        assert_eq!(c.median_ratio, Some(0.5));
        assert_eq!(c.speedup(Better::Lower), Some(2.0));
        assert_eq!(c.speedup(Better::Higher), Some(0.5));
        let zero = compare(&s(&[1.0, 2.0]), &s(&[0.0, 0.0, 0.0]));
        assert_eq!(zero.median_ratio, None);
    }

    #[test]
    fn clearly_different_samples_have_tiny_p() {
        let a: Vec<f64> = (0..1000).map(|i| 100.0 + (i % 7) as f64).collect();
        let b: Vec<f64> = (0..1000).map(|i| 110.0 + (i % 7) as f64).collect();
        let c = compare(&s(&a), &s(&b));
        let p = c.p_value.unwrap();
        // The exact p is below f64 range here; `sf` underflows to 0 rather than rounding up.
        assert!((0.0..1e-100).contains(&p), "{p}");
        assert!(c.cohens_d.unwrap() < -3.0);
    }
}
