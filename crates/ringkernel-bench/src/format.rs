//! Human formatting of measured values for Markdown tables (three significant digits, scaled unit).

use crate::report::Unit;
use crate::samples::Interval;

/// `value` in `unit`, scaled: `12.3 ns`, `1.71 µs`, `181 M/s`.
pub fn fmt_value(value: f64, unit: Unit) -> String {
    let (scaled, suffix) = match unit {
        Unit::Nanoseconds => scale(value, &[(1e9, "s"), (1e6, "ms"), (1e3, "µs"), (1.0, "ns")]),
        Unit::OpsPerSecond => scale(
            value,
            &[(1e9, "G/s"), (1e6, "M/s"), (1e3, "k/s"), (1.0, "/s")],
        ),
        Unit::BytesPerSecond => scale(
            value,
            &[(1e9, "GB/s"), (1e6, "MB/s"), (1e3, "kB/s"), (1.0, "B/s")],
        ),
    };
    format!("{} {suffix}", sig3(scaled))
}

/// `[lo, hi]` of an interval, or `—` when there is none.
pub fn fmt_ci(ci: Option<&Interval>, unit: Unit) -> String {
    match ci {
        Some(ci) => format!("[{}, {}]", fmt_value(ci.lo, unit), fmt_value(ci.hi, unit)),
        None => "—".into(),
    }
}

/// `f(x)` or `—` for an undefined statistic.
pub fn fmt_opt(x: Option<f64>, f: impl Fn(f64) -> String) -> String {
    x.map_or_else(|| "—".into(), f)
}

fn scale(value: f64, steps: &[(f64, &'static str)]) -> (f64, &'static str) {
    for &(factor, suffix) in steps {
        if value.abs() >= factor {
            return (value / factor, suffix);
        }
    }
    // Below the smallest step (sub-unit values, zero): print in the base unit.
    let (factor, suffix) = steps[steps.len() - 1];
    (value / factor, suffix)
}

/// Three significant digits without scientific notation for the magnitudes `scale` leaves.
fn sig3(x: f64) -> String {
    let a = x.abs();
    if a >= 100.0 {
        format!("{x:.0}")
    } else if a >= 10.0 {
        format!("{x:.1}")
    } else if a >= 1.0 || a == 0.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.3}")
    }
}

// Tests unwrap on purpose: a failure should stop the test with its location.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn values_scale_to_readable_units() {
        assert_eq!(fmt_value(12.34, Unit::Nanoseconds), "12.3 ns");
        assert_eq!(fmt_value(1710.0, Unit::Nanoseconds), "1.71 µs");
        assert_eq!(fmt_value(2.5e7, Unit::Nanoseconds), "25.0 ms");
        assert_eq!(fmt_value(0.5, Unit::Nanoseconds), "0.500 ns");
        assert_eq!(fmt_value(181e6, Unit::OpsPerSecond), "181 M/s");
        assert_eq!(fmt_value(1234.0, Unit::OpsPerSecond), "1.23 k/s");
        assert_eq!(fmt_value(4.56e10, Unit::BytesPerSecond), "45.6 GB/s");
        assert_eq!(fmt_opt(None, |x| x.to_string()), "—");
    }
}
