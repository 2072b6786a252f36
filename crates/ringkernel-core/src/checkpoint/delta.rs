//! Deltas: what changed in a checkpoint against a base, state by fixed-size chunks.

use super::codec::{Reader, Writer};
use super::{
    read_actor, read_mailbox, write_actor, write_mailbox, ActorSnapshot, Checkpoint, DIGEST_LEN,
    KIND_DELTA,
};
use crate::envelope::Envelope;
use crate::error::CoreError;
use crate::id::ActorId;

/// One actor's change.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Change {
    /// A new actor, or one whose type or state size changed: carried whole.
    Whole(ActorSnapshot),
    /// The same actor with some state chunks changed (index, new bytes) and its mailbox now.
    Patch {
        id: ActorId,
        chunks: Vec<(u32, Vec<u8>)>,
        mailbox: Vec<Envelope>,
    },
}

const TAG_WHOLE: u32 = 0;
const TAG_PATCH: u32 = 1;

/// The difference between a checkpoint and a base, taken with [`Delta::between`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delta {
    base: [u8; DIGEST_LEN],
    chunk: u32,
    removed: Vec<ActorId>,
    changes: Vec<Change>,
}

impl Delta {
    /// What turns `base` into `new`, comparing states in chunks of `chunk` bytes (> 0).
    pub fn between(base: &Checkpoint, new: &Checkpoint, chunk: usize) -> Result<Self, CoreError> {
        let chunk_u32 = u32::try_from(chunk)
            .ok()
            .filter(|&c| c > 0)
            .ok_or_else(|| CoreError::CheckpointCorrupt(format!("chunk size {chunk}")))?;
        let removed = base
            .actors()
            .iter()
            .filter(|a| new.actor(a.id).is_none())
            .map(|a| a.id)
            .collect();
        let mut changes = Vec::new();
        for a in new.actors() {
            match base.actor(a.id) {
                Some(b) if b.type_name == a.type_name && b.state.len() == a.state.len() => {
                    let chunks: Vec<(u32, Vec<u8>)> = a
                        .state
                        .chunks(chunk)
                        .zip(b.state.chunks(chunk))
                        .enumerate()
                        .filter(|(_, (x, y))| x != y)
                        .map(|(i, (x, _))| (i as u32, x.to_vec()))
                        .collect();
                    if !chunks.is_empty() || a.mailbox != b.mailbox {
                        changes.push(Change::Patch {
                            id: a.id,
                            chunks,
                            mailbox: a.mailbox.clone(),
                        });
                    }
                }
                _ => changes.push(Change::Whole(a.clone())),
            }
        }
        Ok(Delta {
            base: base.digest(),
            chunk: chunk_u32,
            removed,
            changes,
        })
    }

    /// The digest of the checkpoint this delta applies to.
    pub fn base_digest(&self) -> [u8; DIGEST_LEN] {
        self.base
    }

    /// State bytes the delta carries (whole actors and changed chunks).
    pub fn state_bytes(&self) -> usize {
        self.changes
            .iter()
            .map(|c| match c {
                Change::Whole(a) => a.state.len(),
                Change::Patch { chunks, .. } => chunks.iter().map(|(_, b)| b.len()).sum(),
            })
            .sum()
    }

    /// `base` with this delta applied; `base` must be the checkpoint it was taken against.
    pub fn apply(&self, base: &Checkpoint) -> Result<Checkpoint, CoreError> {
        if base.digest() != self.base {
            return Err(CoreError::CheckpointBase);
        }
        let chunk = self.chunk as usize;
        let mut actors: Vec<ActorSnapshot> = base
            .actors()
            .iter()
            .filter(|a| !self.removed.contains(&a.id))
            .cloned()
            .collect();
        for c in &self.changes {
            match c {
                Change::Whole(a) => {
                    actors.retain(|x| x.id != a.id);
                    actors.push(a.clone());
                }
                Change::Patch {
                    id,
                    chunks,
                    mailbox,
                } => {
                    let a = actors.iter_mut().find(|x| x.id == *id).ok_or_else(|| {
                        CoreError::CheckpointCorrupt(format!("delta patches missing actor {id}"))
                    })?;
                    for (i, bytes) in chunks {
                        let at = (*i as usize).saturating_mul(chunk);
                        let dst = at
                            .checked_add(bytes.len())
                            .and_then(|end| a.state.get_mut(at..end))
                            .ok_or_else(|| {
                                CoreError::CheckpointCorrupt(format!(
                                    "chunk {i} lies outside actor {id}'s state"
                                ))
                            })?;
                        dst.copy_from_slice(bytes);
                    }
                    a.mailbox = mailbox.clone();
                }
            }
        }
        Checkpoint::new(actors)
    }

    /// The encoded form.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::header(KIND_DELTA);
        w.raw(&self.base);
        w.u32(self.chunk);
        w.u32(self.removed.len() as u32);
        for id in &self.removed {
            w.u32(id.raw());
        }
        w.u32(self.changes.len() as u32);
        for c in &self.changes {
            match c {
                Change::Whole(a) => {
                    w.u32(TAG_WHOLE);
                    write_actor(&mut w, a);
                }
                Change::Patch {
                    id,
                    chunks,
                    mailbox,
                } => {
                    w.u32(TAG_PATCH);
                    w.u32(id.raw());
                    w.u32(chunks.len() as u32);
                    for (i, b) in chunks {
                        w.u32(*i);
                        w.bytes(b);
                    }
                    write_mailbox(&mut w, mailbox);
                }
            }
        }
        w.finish()
    }

    /// Reads an encoded delta, validating it like [`Checkpoint::decode`].
    pub fn decode(bytes: &[u8]) -> Result<Self, CoreError> {
        let mut r = Reader::open(bytes, KIND_DELTA)?;
        let mut base = [0u8; DIGEST_LEN];
        base.copy_from_slice(r.raw(DIGEST_LEN)?);
        let chunk = r.u32()?;
        if chunk == 0 {
            return Err(CoreError::CheckpointCorrupt("chunk size 0".into()));
        }
        let n = r.u32()? as usize;
        let removed = (0..n)
            .map(|_| r.u32().map(ActorId::from_raw))
            .collect::<Result<Vec<_>, _>>()?;
        let n = r.u32()? as usize;
        let mut changes = Vec::with_capacity(n.min(1 << 16));
        for _ in 0..n {
            changes.push(match r.u32()? {
                TAG_WHOLE => Change::Whole(read_actor(&mut r)?),
                TAG_PATCH => {
                    let id = ActorId::from_raw(r.u32()?);
                    let k = r.u32()? as usize;
                    let chunks = (0..k)
                        .map(|_| Ok((r.u32()?, r.bytes()?.to_vec())))
                        .collect::<Result<Vec<_>, CoreError>>()?;
                    Change::Patch {
                        id,
                        chunks,
                        mailbox: read_mailbox(&mut r)?,
                    }
                }
                tag => {
                    return Err(CoreError::CheckpointCorrupt(format!("change tag {tag}")));
                }
            });
        }
        r.end()?;
        Ok(Delta {
            base,
            chunk,
            removed,
            changes,
        })
    }
}
