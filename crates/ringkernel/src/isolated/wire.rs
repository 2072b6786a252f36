//! The byte encoding of everything that crosses the process boundary to the device host:
//! little-endian integers, length-prefixed sequences, one tag byte per enum variant. Decoding
//! never panics: a short or malformed frame is a [`WireError`].

use std::time::Duration;

use ringkernel_core::checkpoint::ActorSnapshot;
use ringkernel_core::events::ActorEvent;
use ringkernel_core::health::Liveness;
use ringkernel_core::supervision::Intensity;
use ringkernel_core::{
    ActorId, BackendSignals, DeadLetter, DeadLetterCounts, DeadLetterReason, Envelope,
    HandlerError, HlcTimestamp, LifecycleState, ShutdownReport, SpawnOptions,
};

/// A frame that does not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed frame from the device host: {0}")]
pub struct WireError(pub(crate) &'static str);

/// Reads values off a frame.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        if self.buf.len() < n {
            return Err(WireError("frame ends early"));
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], WireError> {
        let mut a = [0; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    /// A length-prefixed byte string.
    pub(crate) fn bytes(&mut self) -> Result<Vec<u8>, WireError> {
        let n = usize::try_from(u64::get(self)?).map_err(|_| WireError("length"))?;
        Ok(self.take(n)?.to_vec())
    }

    pub(crate) fn get<T: Wire>(&mut self) -> Result<T, WireError> {
        T::get(self)
    }
}

/// Appends a length-prefixed byte string.
pub(crate) fn put_bytes(w: &mut Vec<u8>, b: &[u8]) {
    (b.len() as u64).put(w);
    w.extend_from_slice(b);
}

/// A value with a byte encoding.
pub(crate) trait Wire: Sized {
    fn put(&self, w: &mut Vec<u8>);
    fn get(r: &mut Reader<'_>) -> Result<Self, WireError>;
}

macro_rules! int {
    ($($t:ty),*) => {$(
        impl Wire for $t {
            fn put(&self, w: &mut Vec<u8>) {
                w.extend_from_slice(&self.to_le_bytes());
            }
            fn get(r: &mut Reader<'_>) -> Result<Self, WireError> {
                Ok(<$t>::from_le_bytes(r.array()?))
            }
        }
    )*};
}
int!(u8, u32, u64, f64);

impl Wire for usize {
    fn put(&self, w: &mut Vec<u8>) {
        (*self as u64).put(w);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, WireError> {
        usize::try_from(u64::get(r)?).map_err(|_| WireError("usize"))
    }
}

impl Wire for bool {
    fn put(&self, w: &mut Vec<u8>) {
        u8::from(*self).put(w);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(u8::get(r)? != 0)
    }
}

impl Wire for String {
    fn put(&self, w: &mut Vec<u8>) {
        put_bytes(w, self.as_bytes());
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, WireError> {
        String::from_utf8(r.bytes()?).map_err(|_| WireError("utf-8"))
    }
}

impl Wire for Duration {
    fn put(&self, w: &mut Vec<u8>) {
        (self.as_nanos().min(u128::from(u64::MAX)) as u64).put(w);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(Duration::from_nanos(u64::get(r)?))
    }
}

impl<T: Wire> Wire for Vec<T> {
    fn put(&self, w: &mut Vec<u8>) {
        self.len().put(w);
        for t in self {
            t.put(w);
        }
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let n = usize::get(r)?;
        // Every element takes at least one byte: a length beyond the frame is malformed.
        if n > r.buf.len() {
            return Err(WireError("sequence longer than the frame"));
        }
        (0..n).map(|_| T::get(r)).collect()
    }
}

impl<T: Wire> Wire for Option<T> {
    fn put(&self, w: &mut Vec<u8>) {
        match self {
            None => 0u8.put(w),
            Some(t) => {
                1u8.put(w);
                t.put(w);
            }
        }
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, WireError> {
        match u8::get(r)? {
            0 => Ok(None),
            1 => Ok(Some(T::get(r)?)),
            _ => Err(WireError("option tag")),
        }
    }
}

impl<A: Wire, B: Wire> Wire for (A, B) {
    fn put(&self, w: &mut Vec<u8>) {
        self.0.put(w);
        self.1.put(w);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok((A::get(r)?, B::get(r)?))
    }
}

impl Wire for ActorId {
    fn put(&self, w: &mut Vec<u8>) {
        self.raw().put(w);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(ActorId::from_raw(u32::get(r)?))
    }
}

impl Wire for Envelope {
    fn put(&self, w: &mut Vec<u8>) {
        w.extend_from_slice(bytemuck::bytes_of(self));
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(bytemuck::pod_read_unaligned(
            r.take(std::mem::size_of::<Envelope>())?,
        ))
    }
}

impl Wire for HandlerError {
    fn put(&self, w: &mut Vec<u8>) {
        self.0.put(w);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(HandlerError(u32::get(r)?))
    }
}

impl Wire for LifecycleState {
    fn put(&self, w: &mut Vec<u8>) {
        (*self as u8).put(w);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, WireError> {
        LifecycleState::try_from(u8::get(r)?).map_err(|_| WireError("lifecycle state"))
    }
}

impl Wire for SpawnOptions {
    fn put(&self, w: &mut Vec<u8>) {
        self.restart.map(|i| (i.max_restarts, i.period)).put(w);
        self.priority.put(w);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let restart: Option<(u32, Duration)> = r.get()?;
        let mut o = SpawnOptions::default().priority(r.get()?);
        if let Some((max_restarts, period)) = restart {
            o = o.restart(Intensity {
                max_restarts,
                period,
            });
        }
        Ok(o)
    }
}

impl Wire for ActorSnapshot {
    fn put(&self, w: &mut Vec<u8>) {
        self.id.put(w);
        self.type_name.put(w);
        put_bytes(w, &self.state);
        self.mailbox.put(w);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(ActorSnapshot {
            id: r.get()?,
            type_name: r.get()?,
            state: r.bytes()?,
            mailbox: r.get()?,
        })
    }
}

impl Wire for Liveness {
    fn put(&self, w: &mut Vec<u8>) {
        self.live_blocks.put(w);
        self.blocks.put(w);
        self.exited_blocks.put(w);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(Liveness {
            live_blocks: r.get()?,
            blocks: r.get()?,
            exited_blocks: r.get()?,
        })
    }
}

impl Wire for BackendSignals {
    fn put(&self, w: &mut Vec<u8>) {
        self.max_queue_fill.put(w);
        self.device_memory.put(w);
        self.allocated.put(w);
        self.liveness.put(w);
        self.hung.put(w);
        self.device_fault.put(w);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(BackendSignals {
            max_queue_fill: r.get()?,
            device_memory: r.get()?,
            allocated: r.get()?,
            liveness: r.get()?,
            hung: r.get()?,
            device_fault: r.get()?,
        })
    }
}

impl Wire for DeadLetter {
    fn put(&self, w: &mut Vec<u8>) {
        self.envelope.put(w);
        (self.reason as u8).put(w);
        self.recorded.raw().put(w);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let envelope = r.get()?;
        let reason = u8::get(r)?;
        let reason = DeadLetterReason::ALL
            .into_iter()
            .find(|x| *x as u8 == reason)
            .ok_or(WireError("dead letter reason"))?;
        Ok(DeadLetter {
            envelope,
            reason,
            recorded: HlcTimestamp::from_raw(r.get()?),
        })
    }
}

impl Wire for DeadLetterCounts {
    fn put(&self, w: &mut Vec<u8>) {
        for v in [
            self.unknown_target,
            self.stopped,
            self.rejected,
            self.full,
            self.expired,
            self.discarded,
        ] {
            v.put(w);
        }
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(DeadLetterCounts {
            unknown_target: r.get()?,
            stopped: r.get()?,
            rejected: r.get()?,
            full: r.get()?,
            expired: r.get()?,
            discarded: r.get()?,
        })
    }
}

impl Wire for ShutdownReport {
    fn put(&self, w: &mut Vec<u8>) {
        self.processed.put(w);
        self.dropped.put(w);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(ShutdownReport {
            processed: r.get()?,
            dropped: r.get()?,
        })
    }
}

impl Wire for ActorEvent {
    fn put(&self, w: &mut Vec<u8>) {
        match self {
            ActorEvent::Failed { actor, error } => {
                0u8.put(w);
                actor.put(w);
                error.put(w);
            }
            ActorEvent::Restarted { actor, error } => {
                1u8.put(w);
                actor.put(w);
                error.put(w);
            }
            ActorEvent::Terminated { actor } => {
                2u8.put(w);
                actor.put(w);
            }
            ActorEvent::Hung { actor, running_for } => {
                3u8.put(w);
                actor.put(w);
                running_for.put(w);
            }
        }
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(match u8::get(r)? {
            0 => ActorEvent::Failed {
                actor: r.get()?,
                error: r.get()?,
            },
            1 => ActorEvent::Restarted {
                actor: r.get()?,
                error: r.get()?,
            },
            2 => ActorEvent::Terminated { actor: r.get()? },
            3 => ActorEvent::Hung {
                actor: r.get()?,
                running_for: r.get()?,
            },
            _ => return Err(WireError("event tag")),
        })
    }
}
