//! [`Environment`]: where and how a benchmark ran, printed at the top of every report.
//!
//! Every field is read from the machine at run time (`/proc`, `/etc/os-release`, `git`, the
//! process's own arguments); a field that cannot be read says `unknown` rather than guessing.

use std::collections::HashMap;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// The machine, build and invocation a report's numbers came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Environment {
    /// Host name.
    pub hostname: String,
    /// Operating system (`PRETTY_NAME` of `/etc/os-release`).
    pub os: String,
    /// Kernel release.
    pub kernel: String,
    /// CPU model (`model name` of `/proc/cpuinfo`).
    pub cpu_model: String,
    /// Logical CPUs listed in `/proc/cpuinfo`.
    pub cpu_logical: usize,
    /// CPUs this process may run on (affinity / cgroup limits), which can be fewer.
    pub cpu_available: usize,
    /// GPU description, supplied by a caller that measured a GPU.
    pub gpu: Option<String>,
    /// UTC time the environment was captured, ISO 8601.
    pub utc: String,
    /// `git rev-parse --short HEAD`, if the binary ran inside a git checkout.
    pub git_commit: Option<String>,
    /// Whether `git status --porcelain` listed changes (numbers from uncommitted code).
    pub git_dirty: Option<bool>,
    /// `release` or `debug` (debug-assertion builds are not fit for publication).
    pub build_profile: String,
    /// `rustc --version`, if `rustc` is on the PATH (the binary itself does not record it).
    pub rustc: Option<String>,
    /// The exact command line, program name first.
    pub command: Vec<String>,
}

impl Environment {
    /// Captures the current environment. `gpu` is the caller's description of the GPU, if any.
    pub fn capture(gpu: Option<String>) -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let build = build_record();
        Environment {
            hostname: read_trimmed("/proc/sys/kernel/hostname")
                .or_else(|| read_trimmed("/etc/hostname"))
                .unwrap_or_else(unknown),
            os: os_pretty_name().unwrap_or_else(unknown),
            kernel: read_trimmed("/proc/sys/kernel/osrelease").unwrap_or_else(unknown),
            cpu_model: cpu_model(&cpuinfo).unwrap_or_else(unknown),
            cpu_logical: cpuinfo
                .lines()
                .filter(|l| l.starts_with("processor"))
                .count(),
            cpu_available: std::thread::available_parallelism().map_or(0, |n| n.get()),
            gpu,
            utc: utc_now_iso8601(),
            // Binaries built by scripts/build-gpu.sh run elsewhere, where the checkout's git
            // state need not match what was built (a copied tree can carry a stale .git): the
            // build records its commit, which run-gpu.sh exports and which is also read from
            // the record beside the executable when a binary is started directly.
            git_commit: std::env::var("RINGKERNEL_BUILD_COMMIT")
                .ok()
                .or_else(|| build.get("RINGKERNEL_BUILD_COMMIT").cloned())
                .or_else(|| run_stdout("git", &["rev-parse", "--short", "HEAD"])),
            git_dirty: match std::env::var("RINGKERNEL_BUILD_DIRTY")
                .ok()
                .or_else(|| build.get("RINGKERNEL_BUILD_DIRTY").cloned())
            {
                Some(v) => Some(v == "1"),
                None => Command::new("git")
                    .args(["status", "--porcelain", "--untracked-files=no"])
                    .output()
                    .ok()
                    .filter(|o| o.status.success())
                    .map(|o| !o.stdout.is_empty()),
            },
            build_profile: if cfg!(debug_assertions) {
                "debug".into()
            } else {
                "release".into()
            },
            rustc: run_stdout("rustc", &["--version"]),
            command: std::env::args().collect(),
        }
    }

    /// The command line as one shell-quoted string, for "Reproduce:" lines.
    pub fn command_line(&self) -> String {
        self.command
            .iter()
            .map(|a| shell_quote(a))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The `BUILD` record scripts/build-gpu.sh writes beside the binaries (`KEY=value` lines);
/// empty when there is none.
fn build_record() -> HashMap<String, String> {
    std::env::current_exe()
        .ok()
        .and_then(|exe| std::fs::read_to_string(exe.with_file_name("BUILD")).ok())
        .map(|text| parse_build_record(&text))
        .unwrap_or_default()
}

fn parse_build_record(text: &str) -> HashMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .filter(|(k, v)| k.starts_with("RINGKERNEL_BUILD_") && !v.is_empty())
        .collect()
}

fn unknown() -> String {
    "unknown".into()
}

fn read_trimmed(path: &str) -> Option<String> {
    let s = std::fs::read_to_string(path).ok()?;
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

fn os_pretty_name() -> Option<String> {
    let text = std::fs::read_to_string("/etc/os-release").ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))
        .map(|v| v.trim_matches('"').to_string())
}

/// The first `model name` line of `/proc/cpuinfo` text.
pub fn cpu_model(cpuinfo: &str) -> Option<String> {
    cpuinfo
        .lines()
        .filter(|l| l.starts_with("model name"))
        .find_map(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
}

fn run_stdout(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?;
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

fn shell_quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=,:@+".contains(c));
    if plain {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

/// The current UTC time as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn utc_now_iso8601() -> String {
    // A clock before 1970 is a misconfigured machine; print the epoch rather than fail a report.
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    iso8601_from_unix(secs)
}

/// Formats seconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ` (UTC, proleptic Gregorian).
pub fn iso8601_from_unix(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to `(year, month, day)`.
///
/// Howard Hinnant's `civil_from_days` ("chrono-Compatible Low-Level Date Algorithms"): shift the
/// year to start in March so the leap day is last, then split into 400-year eras of 146,097 days.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11], March = 0
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

// Tests unwrap on purpose: a failure should stop the test with its location.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn civil_from_days_known_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        // 1970..2000 is 30 years with 7 leap days; +31 (Jan) +28 = 29 Feb 2000.
        assert_eq!(civil_from_days(10_957), (2000, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }

    #[test]
    fn iso8601_formats_utc() {
        // 1_700_000_000 s is the well-known 2023-11-14 22:13:20 UTC.
        assert_eq!(iso8601_from_unix(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(iso8601_from_unix(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc_now_iso8601().len(), 20);
    }

    #[test]
    fn build_records_give_commit_and_dirtiness_and_skip_other_lines() {
        let r = parse_build_record(
            "RINGKERNEL_BUILD_COMMIT=33c6290\nRINGKERNEL_BUILD_DIRTY=0\nnoise\nOTHER=1\nRINGKERNEL_BUILD_X=\n",
        );
        assert_eq!(r.len(), 2);
        assert_eq!(r["RINGKERNEL_BUILD_COMMIT"], "33c6290");
        assert_eq!(r["RINGKERNEL_BUILD_DIRTY"], "0");
        assert!(parse_build_record("").is_empty());
    }

    #[test]
    fn cpu_model_is_read_from_cpuinfo_text() {
        let text = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) X\n\
                    processor\t: 1\nmodel name\t: Intel(R) Xeon(R) X\n";
        assert_eq!(cpu_model(text).as_deref(), Some("Intel(R) Xeon(R) X"));
        assert_eq!(cpu_model(""), None);
    }

    #[test]
    fn capture_reads_this_machine_and_command() {
        let e = Environment::capture(Some("test gpu".into()));
        assert!(!e.command.is_empty());
        assert_eq!(e.gpu.as_deref(), Some("test gpu"));
        assert!(e.cpu_available >= 1);
        assert!(!e.hostname.is_empty());
        assert!(e.utc.ends_with('Z'));
    }

    #[test]
    fn command_line_is_shell_quoted() {
        let mut e = Environment::capture(None);
        e.command = vec![
            "cpu-bench".into(),
            "--out".into(),
            "my dir".into(),
            "it's".into(),
        ];
        assert_eq!(e.command_line(), r"cpu-bench --out 'my dir' 'it'\''s'");
    }
}
