//! The replay log: every host operation a backend accepted since the last checkpoint, in the
//! order it was accepted, plus what a new generation needs to rebuild each actor.

use std::collections::HashMap;

use ringkernel_core::{ActorId, Envelope, ReplyWatch, Settled, SpawnOptions};

/// One accepted host operation.
#[derive(Debug, Clone)]
pub(crate) enum Entry {
    Tell(Envelope),
    /// An ask and how it ended (only processed asks are replayed).
    Ask(Envelope, ReplyWatch),
    Spawn {
        type_index: usize,
        id: ActorId,
        state: Vec<u8>,
        options: SpawnOptions,
    },
    Restart {
        id: ActorId,
        state: Vec<u8>,
    },
    Stop(ActorId),
}

impl Entry {
    /// Whether a new generation must see this entry again: everything but asks the device
    /// never processed (their effect is gone with its state; the asker was told `DeviceLost`).
    pub(crate) fn replayed(&self) -> bool {
        match self {
            Entry::Ask(_, watch) => {
                matches!(watch.settled(), Settled::Answered | Settled::HandlerFailed)
            }
            _ => true,
        }
    }

    /// The message this entry carries, if any.
    pub(crate) fn message(&self) -> Option<&Envelope> {
        match self {
            Entry::Tell(env) | Entry::Ask(env, _) => Some(env),
            _ => None,
        }
    }
}

/// How to spawn an actor again: what it was spawned with, and its restart image.
#[derive(Debug, Clone)]
pub(crate) struct Spawned {
    pub(crate) options: SpawnOptions,
    /// The state an in-place restart restores (the initial state, or the latest host restart's).
    pub(crate) image: Vec<u8>,
}

/// Entries since the last checkpoint, and every actor's spawn record.
#[derive(Debug, Default)]
pub(crate) struct ReplayLog {
    pub(crate) entries: Vec<Entry>,
    pub(crate) spawned: HashMap<ActorId, Spawned>,
}

impl ReplayLog {
    /// Records an accepted operation.
    pub(crate) fn push(&mut self, entry: Entry) {
        match &entry {
            Entry::Spawn {
                id, state, options, ..
            } => {
                self.spawned.insert(
                    *id,
                    Spawned {
                        options: *options,
                        image: state.clone(),
                    },
                );
            }
            Entry::Restart { id, state } => {
                if let Some(s) = self.spawned.get_mut(id) {
                    s.image.clone_from(state);
                }
            }
            _ => {}
        }
        self.entries.push(entry);
    }
}
