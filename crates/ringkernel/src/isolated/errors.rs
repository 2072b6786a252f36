//! The byte encoding of the backend's error types. Variants that hold a `&'static str`
//! (unsupported operation, unregistered type) come back as `Backend` with the same text: a
//! process boundary cannot hand out static strings.

use ringkernel_core::{AskError, SendError, ShutdownError, SnapshotError, SpawnError};

use super::wire::{Reader, Wire, WireError};

impl Wire for SendError {
    fn put(&self, w: &mut Vec<u8>) {
        match *self {
            SendError::Full(id) => (0u8, id).put(w),
            SendError::UnknownActor(id) => (1u8, id).put(w),
            SendError::Stopped(id) => (2u8, id).put(w),
            SendError::ShutDown => 3u8.put(w),
            SendError::WrongMessageType { actor, type_id } => {
                (4u8, actor).put(w);
                type_id.put(w);
            }
            SendError::TooLarge { len, max } => {
                (5u8, len).put(w);
                max.put(w);
            }
            SendError::TooManyPendingAsks(n) => (6u8, n).put(w),
            // DeviceLost, and any variant added later: the device host's view is lost.
            _ => 7u8.put(w),
        }
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(match u8::get(r)? {
            0 => SendError::Full(r.get()?),
            1 => SendError::UnknownActor(r.get()?),
            2 => SendError::Stopped(r.get()?),
            3 => SendError::ShutDown,
            4 => SendError::WrongMessageType {
                actor: r.get()?,
                type_id: r.get()?,
            },
            5 => SendError::TooLarge {
                len: r.get()?,
                max: r.get()?,
            },
            6 => SendError::TooManyPendingAsks(r.get()?),
            7 => SendError::DeviceLost,
            _ => return Err(WireError("send error tag")),
        })
    }
}

impl Wire for AskError {
    fn put(&self, w: &mut Vec<u8>) {
        match *self {
            AskError::Send(e) => (0u8, e).put(w),
            AskError::Timeout(d) => (1u8, d).put(w),
            AskError::HandlerFailed { actor, error } => {
                (2u8, actor).put(w);
                error.put(w);
            }
            AskError::Dropped(id) => (3u8, id).put(w),
            AskError::BadReply(id) => (4u8, id).put(w),
            AskError::DeviceLost(id) => (5u8, id).put(w),
            _ => 6u8.put(w),
        }
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(match u8::get(r)? {
            0 => AskError::Send(r.get()?),
            1 => AskError::Timeout(r.get()?),
            2 => AskError::HandlerFailed {
                actor: r.get()?,
                error: r.get()?,
            },
            3 => AskError::Dropped(r.get()?),
            4 => AskError::BadReply(r.get()?),
            5 => AskError::DeviceLost(r.get()?),
            6 => AskError::Send(SendError::DeviceLost),
            _ => return Err(WireError("ask error tag")),
        })
    }
}

impl Wire for SpawnError {
    fn put(&self, w: &mut Vec<u8>) {
        match self {
            SpawnError::TooManyActors { limit } => (0u8, *limit).put(w),
            SpawnError::BadState { len, expected } => {
                (1u8, *len).put(w);
                expected.put(w);
            }
            SpawnError::ShutDown => 2u8.put(w),
            SpawnError::DeviceLost => 3u8.put(w),
            SpawnError::UnknownActor(id) => (4u8, *id).put(w),
            SpawnError::NotRestartable { actor, state } => {
                (5u8, *actor).put(w);
                state.put(w);
            }
            SpawnError::RestartPolicy { asked, max } => {
                (6u8, *asked).put(w);
                max.put(w);
            }
            SpawnError::Backend(why) => (7u8, why.clone()).put(w),
            other => (7u8, other.to_string()).put(w),
        }
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(match u8::get(r)? {
            0 => SpawnError::TooManyActors { limit: r.get()? },
            1 => SpawnError::BadState {
                len: r.get()?,
                expected: r.get()?,
            },
            2 => SpawnError::ShutDown,
            3 => SpawnError::DeviceLost,
            4 => SpawnError::UnknownActor(r.get()?),
            5 => SpawnError::NotRestartable {
                actor: r.get()?,
                state: r.get()?,
            },
            6 => SpawnError::RestartPolicy {
                asked: r.get()?,
                max: r.get()?,
            },
            7 => SpawnError::Backend(r.get()?),
            _ => return Err(WireError("spawn error tag")),
        })
    }
}

impl Wire for ShutdownError {
    fn put(&self, w: &mut Vec<u8>) {
        match self {
            ShutdownError::Hung(d, why) => {
                (0u8, *d).put(w);
                why.put(w);
            }
            ShutdownError::AlreadyShutDown => 1u8.put(w),
            ShutdownError::Backend(why) => (2u8, why.clone()).put(w),
            other => (2u8, other.to_string()).put(w),
        }
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(match u8::get(r)? {
            0 => ShutdownError::Hung(r.get()?, r.get()?),
            1 => ShutdownError::AlreadyShutDown,
            2 => ShutdownError::Backend(r.get()?),
            _ => return Err(WireError("shutdown error tag")),
        })
    }
}

impl Wire for SnapshotError {
    fn put(&self, w: &mut Vec<u8>) {
        match self {
            SnapshotError::UnknownActor(id) => (0u8, *id).put(w),
            SnapshotError::ShutDown => 1u8.put(w),
            SnapshotError::Timeout(id) => (2u8, *id).put(w),
            SnapshotError::Backend(why) => (3u8, why.clone()).put(w),
            other => (3u8, other.to_string()).put(w),
        }
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(match u8::get(r)? {
            0 => SnapshotError::UnknownActor(r.get()?),
            1 => SnapshotError::ShutDown,
            2 => SnapshotError::Timeout(r.get()?),
            3 => SnapshotError::Backend(r.get()?),
            _ => return Err(WireError("snapshot error tag")),
        })
    }
}

impl<T: Wire, E: Wire> Wire for Result<T, E> {
    fn put(&self, w: &mut Vec<u8>) {
        match self {
            Ok(t) => {
                0u8.put(w);
                t.put(w);
            }
            Err(e) => {
                1u8.put(w);
                e.put(w);
            }
        }
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, WireError> {
        match u8::get(r)? {
            0 => Ok(Ok(r.get()?)),
            1 => Ok(Err(r.get()?)),
            _ => Err(WireError("result tag")),
        }
    }
}

impl Wire for () {
    fn put(&self, _w: &mut Vec<u8>) {}
    fn get(_r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(())
    }
}
