//! Checkpoints of actors: a versioned, validated binary format for full snapshots of actor state
//! and mailboxes, and deltas against a base snapshot.
//!
//! - [`Checkpoint`] holds, per actor, its id, its type's name, its state bytes and the messages
//!   still in its mailbox. [`Checkpoint::encode`] writes it; [`Checkpoint::decode`] reads it back
//!   and rejects anything malformed with a typed error: wrong magic or truncated
//!   ([`CoreError::CheckpointCorrupt`]), another format version
//!   ([`CoreError::CheckpointVersion`]), altered bytes ([`CoreError::CheckpointDigest`]).
//! - [`Checkpoint::digest`] is the SHA-256 of the encoded form: the checkpoint's identity.
//! - [`Delta`] records what changed against a base: per actor, only the state chunks that differ
//!   (plus whole mailboxes, added and removed actors). [`Delta::apply`] refuses a base whose
//!   digest is not the one the delta was taken against ([`CoreError::CheckpointBase`]).
//!
//! Layout (little-endian): `"RKCP"`, version `u16`, kind `u8` (0 full, 1 delta), reserved `u8`,
//! the body, then the SHA-256 of everything before it. Taking snapshots from a running backend
//! and restoring them into a new one is the backends' part (not built yet).

mod codec;
mod delta;

pub use delta::Delta;

use sha2::{Digest, Sha256};

use crate::envelope::Envelope;
use crate::error::CoreError;
use crate::id::ActorId;
use codec::{Reader, Writer};

/// The format version this build writes and reads.
pub const FORMAT_VERSION: u16 = 1;

const MAGIC: &[u8; 4] = b"RKCP";
const KIND_FULL: u8 = 0;
const KIND_DELTA: u8 = 1;
const DIGEST_LEN: usize = 32;

/// One actor in a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActorSnapshot {
    /// Its id.
    pub id: ActorId,
    /// Its type's registered name (restores check it against the registration).
    pub type_name: String,
    /// Its state bytes.
    pub state: Vec<u8>,
    /// Messages still in its mailbox, oldest first.
    pub mailbox: Vec<Envelope>,
}

/// A full snapshot of actors, sorted by id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checkpoint {
    actors: Vec<ActorSnapshot>,
}

impl Checkpoint {
    /// A checkpoint of `actors`; fails on a duplicate id.
    pub fn new(mut actors: Vec<ActorSnapshot>) -> Result<Self, CoreError> {
        actors.sort_by_key(|a| a.id.raw());
        if let Some(w) = actors.windows(2).find(|w| w[0].id == w[1].id) {
            return Err(CoreError::CheckpointCorrupt(format!(
                "actor {} appears twice",
                w[0].id
            )));
        }
        Ok(Checkpoint { actors })
    }

    /// The actors, by id.
    pub fn actors(&self) -> &[ActorSnapshot] {
        &self.actors
    }

    /// The actor with `id`.
    pub fn actor(&self, id: ActorId) -> Option<&ActorSnapshot> {
        self.actors
            .binary_search_by_key(&id.raw(), |a| a.id.raw())
            .ok()
            .map(|i| &self.actors[i])
    }

    /// The encoded form.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::header(KIND_FULL);
        w.u32(self.actors.len() as u32);
        for a in &self.actors {
            write_actor(&mut w, a);
        }
        w.finish()
    }

    /// Reads an encoded checkpoint, validating magic, version, kind, digest and structure.
    pub fn decode(bytes: &[u8]) -> Result<Self, CoreError> {
        let mut r = Reader::open(bytes, KIND_FULL)?;
        let n = r.u32()? as usize;
        let mut actors = Vec::with_capacity(n.min(1 << 16));
        for _ in 0..n {
            actors.push(read_actor(&mut r)?);
        }
        r.end()?;
        Checkpoint::new(actors)
    }

    /// SHA-256 of the encoded form.
    pub fn digest(&self) -> [u8; DIGEST_LEN] {
        Sha256::digest(self.encode()).into()
    }
}

fn write_actor(w: &mut Writer, a: &ActorSnapshot) {
    w.u32(a.id.raw());
    w.bytes(a.type_name.as_bytes());
    w.bytes(&a.state);
    write_mailbox(w, &a.mailbox);
}

fn read_actor(r: &mut Reader<'_>) -> Result<ActorSnapshot, CoreError> {
    Ok(ActorSnapshot {
        id: ActorId::from_raw(r.u32()?),
        type_name: r.string()?,
        state: r.bytes()?.to_vec(),
        mailbox: read_mailbox(r)?,
    })
}

fn write_mailbox(w: &mut Writer, mailbox: &[Envelope]) {
    w.u32(mailbox.len() as u32);
    for e in mailbox {
        w.raw(bytemuck::bytes_of(e));
    }
}

fn read_mailbox(r: &mut Reader<'_>) -> Result<Vec<Envelope>, CoreError> {
    let n = r.u32()? as usize;
    let mut out = Vec::with_capacity(n.min(1 << 16));
    for _ in 0..n {
        let raw = r.raw(std::mem::size_of::<Envelope>())?;
        out.push(bytemuck::pod_read_unaligned(raw));
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
