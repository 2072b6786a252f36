//! Runs every CPU suite in quick mode through the library entry point (what `cpu-bench --quick`
//! does) and checks the written report: both files exist, every row of every suite is present, and
//! every number is positive and finite.

use ringkernel_bench::cpu::{self, actors, hlc, rings, CpuBenchConfig};
use ringkernel_bench::{Report, Unit};

#[test]
fn quick_run_writes_a_complete_report() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = CpuBenchConfig::new(true);
    let (md_path, json_path) = cpu::run_and_write(&config, dir.path()).expect("quick run");
    assert_eq!(md_path, dir.path().join("cpu.md"));
    assert_eq!(json_path, dir.path().join("cpu.json"));

    let md = std::fs::read_to_string(&md_path).expect("cpu.md");
    let json = std::fs::read_to_string(&json_path).expect("cpu.json");
    assert!(md.len() > 2_000, "markdown suspiciously short:\n{md}");
    assert!(md.contains("Reproduce: `"));
    let report = Report::from_json(&json).expect("cpu.json parses");

    let mut expected: Vec<(&str, Vec<&str>)> = vec![
        ("HLC", hlc::ROWS.to_vec()),
        ("Rings: SPSC", rings::SPSC_ROWS.to_vec()),
        ("Rings: MPSC", rings::MPSC_ROWS.to_vec()),
    ];
    for title in actors::SECTIONS {
        expected.push((title, actors::FRAMEWORKS.to_vec()));
    }
    for (title, rows) in &expected {
        let sec = report
            .section(title)
            .unwrap_or_else(|| panic!("section {title} missing"));
        assert!(
            md.contains(&format!("## {title}")),
            "{title} not in markdown"
        );
        for name in rows {
            let row = sec
                .row(name)
                .unwrap_or_else(|| panic!("row {name} missing in {title}"));
            assert!(
                md.contains(&format!("| {name} |")),
                "{name} not in markdown"
            );
            let m = &row.summary;
            for (what, v) in [
                ("p50", m.p50),
                ("p99", m.p99),
                ("mean", m.mean),
                ("min", m.min),
            ] {
                assert!(v.is_finite() && v > 0.0, "{title}/{name}: {what} = {v}");
            }
            assert!(m.n >= 3, "{title}/{name}: n = {}", m.n);
            if row.unit == Unit::OpsPerSecond {
                assert!(m.max < 1e11, "{title}/{name}: implausible rate {}", m.max);
            }
        }
        assert!(!sec.comparisons.is_empty(), "{title} has no comparisons");
        for c in &sec.comparisons {
            assert!(c.result.p_value.is_none_or(|p| (0.0..=1.0).contains(&p)));
        }
    }
}
