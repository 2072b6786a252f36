//! Byte-level reading and writing of the checkpoint format: header, length-prefixed fields,
//! trailing digest. Every read is bounds-checked; nothing here panics on bad input.

use sha2::{Digest, Sha256};

use super::{DIGEST_LEN, FORMAT_VERSION, MAGIC};
use crate::error::CoreError;

/// Builds an encoded checkpoint or delta.
pub(super) struct Writer(Vec<u8>);

impl Writer {
    /// Magic, version, `kind`, reserved byte.
    pub(super) fn header(kind: u8) -> Self {
        let mut v = Vec::with_capacity(64);
        v.extend_from_slice(MAGIC);
        v.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        v.push(kind);
        v.push(0);
        Writer(v)
    }

    pub(super) fn u32(&mut self, x: u32) {
        self.0.extend_from_slice(&x.to_le_bytes());
    }

    pub(super) fn raw(&mut self, b: &[u8]) {
        self.0.extend_from_slice(b);
    }

    /// A `u32` length, then the bytes.
    pub(super) fn bytes(&mut self, b: &[u8]) {
        self.u32(b.len() as u32);
        self.raw(b);
    }

    /// Appends the digest of everything written.
    pub(super) fn finish(mut self) -> Vec<u8> {
        let d: [u8; DIGEST_LEN] = Sha256::digest(&self.0).into();
        self.0.extend_from_slice(&d);
        self.0
    }
}

/// Reads a validated encoded checkpoint or delta.
pub(super) struct Reader<'a> {
    body: &'a [u8],
    at: usize,
}

fn corrupt(why: impl Into<String>) -> CoreError {
    CoreError::CheckpointCorrupt(why.into())
}

impl<'a> Reader<'a> {
    /// Checks magic, version, kind and the trailing digest; reads from after the header.
    pub(super) fn open(bytes: &'a [u8], kind: u8) -> Result<Self, CoreError> {
        if bytes.len() < 8 + DIGEST_LEN {
            return Err(corrupt(format!(
                "{} bytes is shorter than any checkpoint",
                bytes.len()
            )));
        }
        if &bytes[..4] != MAGIC {
            return Err(corrupt("wrong magic"));
        }
        let version = u16::from_le_bytes([bytes[4], bytes[5]]);
        if version != FORMAT_VERSION {
            return Err(CoreError::CheckpointVersion {
                found: version,
                supported: FORMAT_VERSION,
            });
        }
        let (body, digest) = bytes.split_at(bytes.len() - DIGEST_LEN);
        let actual: [u8; DIGEST_LEN] = Sha256::digest(body).into();
        if actual.as_slice() != digest {
            return Err(CoreError::CheckpointDigest);
        }
        if body[6] != kind {
            return Err(corrupt(format!(
                "kind {} where {kind} was expected",
                body[6]
            )));
        }
        Ok(Reader { body, at: 8 })
    }

    pub(super) fn raw(&mut self, n: usize) -> Result<&'a [u8], CoreError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.body.len())
            .ok_or_else(|| corrupt("truncated"))?;
        let out = &self.body[self.at..end];
        self.at = end;
        Ok(out)
    }

    pub(super) fn u32(&mut self) -> Result<u32, CoreError> {
        let b = self.raw(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub(super) fn bytes(&mut self) -> Result<&'a [u8], CoreError> {
        let n = self.u32()? as usize;
        self.raw(n)
    }

    pub(super) fn string(&mut self) -> Result<String, CoreError> {
        String::from_utf8(self.bytes()?.to_vec()).map_err(|_| corrupt("a name is not UTF-8"))
    }

    /// Fails unless every byte was read.
    pub(super) fn end(&self) -> Result<(), CoreError> {
        if self.at != self.body.len() {
            return Err(corrupt(format!(
                "{} bytes left over",
                self.body.len() - self.at
            )));
        }
        Ok(())
    }
}
