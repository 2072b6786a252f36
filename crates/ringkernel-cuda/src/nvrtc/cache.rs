//! On-disk PTX cache.
//!
//! Contract:
//! - **Key**: sha256 over a format tag, the NVRTC version, the arch, every compile option (the
//!   `-I` dirs included) and the source text. Headers are *not* hashed by content: toolkit headers
//!   are pinned by the NVRTC version; project headers should be spliced into the source (as our
//!   `include_str!` kernels are) or their hash passed as an option (e.g. `-DRK_HDR=<hash>`).
//! - **Entry**: `<dir>/<name>-<key>.ptx.cache`, one file: a header line
//!   `RKPTX1 <sha256 of payload> <log length>\n`, then the payload: NVRTC's log, then the PTX.
//! - **Writes are atomic**: a uniquely named temp file in the same dir, then `rename`, so readers
//!   see a whole entry or none, even with concurrent compiles of the same source.
//! - **Reads are distrustful**: an entry whose header or checksum does not match is treated as a
//!   miss, and the fresh result overwrites it. Cache I/O failures never fail a compile.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};

const MAGIC: &str = "RKPTX1";

/// A cache directory known to be writable when it was chosen.
#[derive(Debug, Clone)]
pub(crate) struct PtxCache {
    dir: PathBuf,
}

/// A cache hit.
pub(crate) struct Entry {
    pub(crate) ptx: String,
    pub(crate) log: String,
}

impl PtxCache {
    /// Uses `dir` if it can be created and written to; `None` otherwise (caching is an
    /// optimisation, its absence is not an error).
    pub(crate) fn open(dir: PathBuf) -> Option<PtxCache> {
        if let Err(e) = fs::create_dir_all(&dir) {
            tracing::debug!(dir = %dir.display(), error = %e, "PTX cache dir not usable");
            return None;
        }
        let probe = dir.join(format!(".rk-write-probe-{}", std::process::id()));
        let writable = fs::write(&probe, b"").is_ok();
        let _ = fs::remove_file(&probe);
        if writable {
            Some(PtxCache { dir })
        } else {
            tracing::debug!(dir = %dir.display(), "PTX cache dir not writable");
            None
        }
    }

    /// The directory entries live in.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// The entry path for a program `name` and cache `key`.
    pub(crate) fn path(&self, name: &str, key: &str) -> PathBuf {
        // Names are for humans browsing the dir; keep them to a safe file-name alphabet.
        let safe: String = name
            .chars()
            .take(64)
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self.dir.join(format!("{safe}-{key}.ptx.cache"))
    }

    /// Reads an entry; `None` for a miss, an unreadable or a corrupt entry.
    pub(crate) fn load(&self, path: &Path) -> Option<Entry> {
        let bytes = fs::read(path).ok()?;
        let entry = decode(&bytes);
        if entry.is_none() {
            tracing::warn!(path = %path.display(), "corrupt PTX cache entry ignored");
        }
        entry
    }

    /// Writes an entry atomically; failures are logged, not returned.
    pub(crate) fn store(&self, path: &Path, ptx: &str, log: &str) {
        if let Err(e) = self.try_store(path, ptx, log) {
            tracing::warn!(path = %path.display(), error = %e, "PTX cache write failed");
        }
    }

    fn try_store(&self, path: &Path, ptx: &str, log: &str) -> std::io::Result<()> {
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let tmp = self.dir.join(format!(
            ".tmp-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        let result = (|| {
            let mut f = fs::File::create(&tmp)?;
            f.write_all(&encode(ptx, log))?;
            f.sync_all()?;
            fs::rename(&tmp, path)
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result
    }
}

/// The cache key (hex sha256) for one compile.
pub(crate) fn key(version: (i32, i32), arch: &str, options: &[String], source: &str) -> String {
    let mut h = Sha256::new();
    // Every field is length-delimited so that no two inputs hash the same byte stream.
    let mut field = |b: &[u8]| {
        h.update((b.len() as u64).to_le_bytes());
        h.update(b);
    };
    field(MAGIC.as_bytes());
    field(&version.0.to_le_bytes());
    field(&version.1.to_le_bytes());
    field(arch.as_bytes());
    for o in options {
        field(o.as_bytes());
    }
    field(source.as_bytes());
    hex(&h.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn encode(ptx: &str, log: &str) -> Vec<u8> {
    let mut payload = Vec::with_capacity(log.len() + ptx.len());
    payload.extend_from_slice(log.as_bytes());
    payload.extend_from_slice(ptx.as_bytes());
    let mut out =
        format!("{MAGIC} {} {}\n", hex(&Sha256::digest(&payload)), log.len()).into_bytes();
    out.extend_from_slice(&payload);
    out
}

fn decode(bytes: &[u8]) -> Option<Entry> {
    let nl = bytes.iter().position(|&b| b == b'\n')?;
    let header = std::str::from_utf8(&bytes[..nl]).ok()?;
    let payload = &bytes[nl + 1..];
    let mut parts = header.split(' ');
    if parts.next()? != MAGIC {
        return None;
    }
    let sum = parts.next()?;
    let log_len: usize = parts.next()?.parse().ok()?;
    if parts.next().is_some() || hex(&Sha256::digest(payload)) != sum || log_len > payload.len() {
        return None;
    }
    let (log, ptx) = payload.split_at(log_len);
    Some(Entry {
        ptx: String::from_utf8(ptx.to_vec()).ok()?,
        log: String::from_utf8(log.to_vec()).ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_corruption() {
        let enc = encode(".version 9.0\n.target sm_90\n", "warning: x");
        let e = decode(&enc).expect("decodes");
        assert_eq!(e.ptx, ".version 9.0\n.target sm_90\n");
        assert_eq!(e.log, "warning: x");
        // Any flipped payload byte is caught by the checksum.
        let mut bad = enc.clone();
        let last = bad.len() - 2;
        bad[last] ^= 1;
        assert!(decode(&bad).is_none());
        // Truncation too.
        assert!(decode(&enc[..enc.len() - 3]).is_none());
        assert!(decode(b"garbage").is_none());
        assert!(decode(b"").is_none());
    }

    #[test]
    fn key_separates_fields() {
        let o = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let a = key((13, 0), "sm_90", &o(&["-a", "b"]), "src");
        assert_ne!(a, key((13, 0), "sm_90", &o(&["-ab"]), "src"));
        assert_ne!(a, key((13, 1), "sm_90", &o(&["-a", "b"]), "src"));
        assert_ne!(a, key((13, 0), "sm_90a", &o(&["-a", "b"]), "src"));
        assert_ne!(a, key((13, 0), "sm_90", &o(&["-a", "b"]), "src "));
        assert_eq!(a, key((13, 0), "sm_90", &o(&["-a", "b"]), "src"));
        assert_eq!(a.len(), 64);
    }
}
