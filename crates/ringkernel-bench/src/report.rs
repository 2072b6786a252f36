//! [`Report`]: titled sections of result rows and comparisons, written as Markdown and JSON.
//!
//! The Markdown is for people (environment header, one table per section, a "Reproduce:" line
//! with the exact command); the JSON holds the same content for tools and round-trips through
//! serde. Neither contains anything the run did not measure.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::compare::{compare, Better, Comparison};
use crate::env::Environment;
use crate::error::BenchError;
use crate::format::{fmt_ci, fmt_opt, fmt_value};
use crate::samples::{Samples, Summary};

/// What the numbers of a row measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Unit {
    /// Nanoseconds per operation (lower is better).
    Nanoseconds,
    /// Operations per second (higher is better).
    OpsPerSecond,
    /// Bytes per second (higher is better).
    BytesPerSecond,
}

impl Unit {
    /// Which direction is an improvement.
    pub fn better(self) -> Better {
        match self {
            Unit::Nanoseconds => Better::Lower,
            Unit::OpsPerSecond | Unit::BytesPerSecond => Better::Higher,
        }
    }
}

/// One measured benchmark: its statistics and how to read them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// What was measured.
    pub name: String,
    /// Unit of every statistic in `summary`.
    pub unit: Unit,
    /// The statistics.
    pub summary: Summary,
    /// Operations per second, where the caller derived one (e.g. items per second of a latency run).
    pub throughput: Option<f64>,
    /// Free text: parameters, caveats.
    pub notes: String,
}

impl Row {
    /// A row named `name` summarizing `samples` in `unit`.
    pub fn new(name: impl Into<String>, unit: Unit, samples: &Samples) -> Self {
        Row {
            name: name.into(),
            unit,
            summary: samples.summary(),
            throughput: None,
            notes: String::new(),
        }
    }

    /// Sets the throughput column (operations per second).
    pub fn with_throughput(mut self, ops_per_sec: f64) -> Self {
        self.throughput = Some(ops_per_sec);
        self
    }

    /// Sets the notes column.
    pub fn with_notes(mut self, notes: impl Into<String>) -> Self {
        self.notes = notes.into();
        self
    }
}

/// A comparison of two named rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComparisonRow {
    /// Name of A.
    pub a: String,
    /// Name of B.
    pub b: String,
    /// Which direction is better for the unit compared.
    pub better: Better,
    /// The statistics.
    pub result: Comparison,
}

/// A table of rows plus the comparisons between them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Section {
    /// Heading.
    pub title: String,
    /// What the section measures and how (printed under the heading).
    pub description: String,
    /// Result rows in the order added.
    pub rows: Vec<Row>,
    /// Comparisons in the order added.
    pub comparisons: Vec<ComparisonRow>,
}

impl Section {
    /// An empty section.
    pub fn new(title: impl Into<String>, description: impl Into<String>) -> Self {
        Section {
            title: title.into(),
            description: description.into(),
            rows: Vec::new(),
            comparisons: Vec::new(),
        }
    }

    /// Appends a row.
    pub fn push(&mut self, row: Row) -> &mut Self {
        self.rows.push(row);
        self
    }

    /// Compares `a` against `b` (Welch, Cohen's d, ratio of medians) and appends the result.
    pub fn compare(
        &mut self,
        a_name: impl Into<String>,
        a: &Samples,
        b_name: impl Into<String>,
        b: &Samples,
        unit: Unit,
    ) -> &mut Self {
        self.comparisons.push(ComparisonRow {
            a: a_name.into(),
            b: b_name.into(),
            better: unit.better(),
            result: compare(a, b),
        });
        self
    }

    /// The row named `name`, if any.
    pub fn row(&self, name: &str) -> Option<&Row> {
        self.rows.iter().find(|r| r.name == name)
    }
}

/// A complete benchmark report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Title.
    pub title: String,
    /// Where it ran.
    pub environment: Environment,
    /// Free-text notes under the environment (e.g. measured clock overhead).
    pub notes: Vec<String>,
    /// The sections in order.
    pub sections: Vec<Section>,
}

impl Report {
    /// An empty report.
    pub fn new(title: impl Into<String>, environment: Environment) -> Self {
        Report {
            title: title.into(),
            environment,
            notes: Vec::new(),
            sections: Vec::new(),
        }
    }

    /// The section titled `title`, if any.
    pub fn section(&self, title: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.title == title)
    }

    /// Renders the report as Markdown.
    pub fn to_markdown(&self) -> String {
        let mut md = String::new();
        // `write!` into a String cannot fail; the results are discarded for that reason.
        let _ = writeln!(md, "# {}\n", self.title);
        self.write_environment(&mut md);
        for note in &self.notes {
            let _ = writeln!(md, "- {}", cell(note));
        }
        if !self.notes.is_empty() {
            md.push('\n');
        }
        for s in &self.sections {
            write_section(&mut md, s);
        }
        md
    }

    fn write_environment(&self, md: &mut String) {
        let e = &self.environment;
        let _ = writeln!(md, "| environment | |\n|---|---|");
        let mut kv = |k: &str, v: &str| {
            let _ = writeln!(md, "| {k} | {} |", cell(v));
        };
        kv("host", &e.hostname);
        kv("os / kernel", &format!("{} / {}", e.os, e.kernel));
        kv(
            "cpu",
            &format!(
                "{} ({} logical, {} available to this process)",
                e.cpu_model, e.cpu_logical, e.cpu_available
            ),
        );
        kv("gpu", e.gpu.as_deref().unwrap_or("none measured"));
        kv("date (UTC)", &e.utc);
        let commit = match (&e.git_commit, e.git_dirty) {
            (Some(c), Some(true)) => format!("{c} (with uncommitted changes)"),
            (Some(c), _) => c.clone(),
            (None, _) => "unknown".into(),
        };
        kv("git commit", &commit);
        kv("build", &e.build_profile);
        kv("rustc", e.rustc.as_deref().unwrap_or("unknown"));
        let _ = writeln!(md, "\nReproduce: `{}`\n", e.command_line());
    }

    /// Serializes the report as pretty JSON.
    pub fn to_json(&self) -> Result<String, BenchError> {
        Ok(serde_json::to_string_pretty(self)?)
    }

    /// Parses a report written by [`Report::to_json`].
    pub fn from_json(s: &str) -> Result<Self, BenchError> {
        Ok(serde_json::from_str(s)?)
    }

    /// Writes `<dir>/<stem>.md` and `<dir>/<stem>.json` (creating `dir`); returns both paths.
    pub fn write(&self, dir: &Path, stem: &str) -> Result<(PathBuf, PathBuf), BenchError> {
        std::fs::create_dir_all(dir).map_err(|source| BenchError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let md = dir.join(format!("{stem}.md"));
        let json = dir.join(format!("{stem}.json"));
        write_file(&md, &self.to_markdown())?;
        write_file(&json, &self.to_json()?)?;
        Ok((md, json))
    }
}

fn write_file(path: &Path, text: &str) -> Result<(), BenchError> {
    std::fs::write(path, text).map_err(|source| BenchError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Escapes text for a Markdown table cell.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn write_section(md: &mut String, s: &Section) {
    let _ = writeln!(md, "## {}\n", s.title);
    if !s.description.is_empty() {
        let _ = writeln!(md, "{}\n", s.description);
    }
    if !s.rows.is_empty() {
        let _ = writeln!(
            md,
            "| benchmark | n | p50 | p90 | p99 | mean ± 95% CI | p50 95% CI | throughput | notes |\n\
             |---|---:|---:|---:|---:|---:|---:|---:|---|"
        );
        for r in &s.rows {
            let u = r.unit;
            let m = &r.summary;
            let mean = match m.mean_ci95 {
                Some(ci) => format!(
                    "{} ± {}",
                    fmt_value(m.mean, u),
                    fmt_value(ci.half_width(), u)
                ),
                None => fmt_value(m.mean, u),
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                cell(&r.name),
                m.n,
                fmt_value(m.p50, u),
                fmt_value(m.p90, u),
                fmt_value(m.p99, u),
                mean,
                fmt_ci(m.p50_ci95.as_ref(), u),
                r.throughput
                    .map_or_else(|| "—".into(), |t| fmt_value(t, Unit::OpsPerSecond)),
                cell(&r.notes),
            );
        }
        md.push('\n');
    }
    if !s.comparisons.is_empty() {
        let _ = writeln!(
            md,
            "| A vs B | A better by (medians) | Welch t | df | p (two-sided) | Cohen's d |\n\
             |---|---:|---:|---:|---:|---:|"
        );
        for c in &s.comparisons {
            let r = &c.result;
            let _ = writeln!(
                md,
                "| {} vs {} | {} | {} | {} | {} | {} |",
                cell(&c.a),
                cell(&c.b),
                fmt_opt(r.speedup(c.better), |x| format!("{x:.2}x")),
                fmt_opt(r.welch_t, |x| format!("{x:.2}")),
                fmt_opt(r.welch_df, |x| format!("{x:.1}")),
                fmt_opt(r.p_value, |x| if x == 0.0 {
                    // The exact p is below the smallest f64; `0` would overstate certainty.
                    "< 1e-300".to_string()
                } else if x < 1e-4 {
                    format!("{x:.1e}")
                } else {
                    format!("{x:.4}")
                }),
                fmt_opt(r.cohens_d, |x| format!("{x:.2}")),
            );
        }
        md.push('\n');
    }
}

// Tests unwrap on purpose: a failure should stop the test with its location.
/// Ends a benchmark binary: prints the written Markdown report, or the error, and returns the
/// exit code (`bench` names the binary in the error line).
pub fn finish(
    bench: &str,
    written: Result<(PathBuf, PathBuf), BenchError>,
) -> std::process::ExitCode {
    match written {
        Ok((md, _)) => {
            match std::fs::read_to_string(&md) {
                Ok(text) => println!("{text}"),
                Err(e) => eprintln!("wrote {} but cannot read it back: {e}", md.display()),
            }
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{bench} failed: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn sample_report() -> Report {
        let a = Samples::new((1..=200).map(f64::from).collect()).unwrap();
        let b = Samples::new((1..=200).map(|x| f64::from(x) * 2.0).collect()).unwrap();
        let mut sec = Section::new("rings", "u64 items | two threads");
        sec.push(Row::new("ours spsc", Unit::Nanoseconds, &a).with_throughput(1e7))
            .push(Row::new("rtrb", Unit::Nanoseconds, &b).with_notes("batch 64"));
        sec.compare("ours spsc", &a, "rtrb", &b, Unit::Nanoseconds);
        let mut r = Report::new("CPU benchmarks", Environment::capture(None));
        r.notes.push("clock overhead 20 ns".into());
        r.sections.push(sec);
        r
    }

    #[test]
    fn markdown_contains_every_row_comparison_and_the_command() {
        let r = sample_report();
        let md = r.to_markdown();
        assert!(md.starts_with("# CPU benchmarks"));
        for needle in [
            "## rings",
            "| ours spsc | 200 |",
            "| rtrb | 200 |",
            "batch 64",
            "10.0 M/s",
            "| ours spsc vs rtrb | 2.00x |",
            "Reproduce: `",
            "u64 items | two threads",
            "clock overhead 20 ns",
            &r.environment.cpu_model,
        ] {
            assert!(md.contains(needle), "missing {needle:?} in\n{md}");
        }
    }

    #[test]
    fn json_round_trips() {
        let r = sample_report();
        let back = Report::from_json(&r.to_json().unwrap()).unwrap();
        assert_eq!(back, r);
        assert_eq!(
            back.section("rings").unwrap().row("rtrb").unwrap().notes,
            "batch 64"
        );
    }

    #[test]
    fn write_creates_both_files() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("nested");
        let (md, json) = sample_report().write(&out, "cpu").unwrap();
        assert_eq!(md, out.join("cpu.md"));
        assert!(std::fs::read_to_string(&md).unwrap().contains("ours spsc"));
        assert!(Report::from_json(&std::fs::read_to_string(&json).unwrap()).is_ok());
    }

    #[test]
    fn unit_direction() {
        assert_eq!(Unit::Nanoseconds.better(), Better::Lower);
        assert_eq!(Unit::OpsPerSecond.better(), Better::Higher);
    }
}
