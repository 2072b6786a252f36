//! The device host protocol: frames over a Unix stream, `[len u32][call u64][tag u8][body]`.
//! The parent sends requests (tags `Op`); the device host answers each with a `RESPONSE` frame
//! under the same call number, and sends on its own `ASK_REPLY` (an ask's outcome, under the
//! ask's call number), `EVENT` and `FAULT` frames.

use std::io::{Read, Write};
use std::time::Duration;

use ringkernel_core::actor::{CudaHandler, HandleFailure};
use ringkernel_core::{ActorVTable, Context, Envelope, HandlerError, MessageTypeId};

use super::wire::{Reader, Wire, WireError};

/// Largest frame either side accepts (a checkpoint of big actors is the largest).
pub(crate) const MAX_FRAME: usize = 1 << 30;

/// Requests, parent to device host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Op {
    Init = 1,
    Spawn,
    Tell,
    TellBatch,
    Ask,
    Stop,
    Restart,
    StateOf,
    Shutdown,
    DrainDead,
    DeadCounts,
    Actors,
    TypeIndex,
    Snapshot,
    Restore,
    Signals,
}

impl Op {
    pub(crate) fn from_u8(v: u8) -> Option<Op> {
        const ALL: [Op; 16] = [
            Op::Init,
            Op::Spawn,
            Op::Tell,
            Op::TellBatch,
            Op::Ask,
            Op::Stop,
            Op::Restart,
            Op::StateOf,
            Op::Shutdown,
            Op::DrainDead,
            Op::DeadCounts,
            Op::Actors,
            Op::TypeIndex,
            Op::Snapshot,
            Op::Restore,
            Op::Signals,
        ];
        ALL.into_iter().find(|o| *o as u8 == v)
    }
}

/// Frames the device host sends.
pub(crate) const RESPONSE: u8 = 0;
pub(crate) const ASK_REPLY: u8 = 1;
pub(crate) const EVENT: u8 = 2;
pub(crate) const FAULT: u8 = 3;

/// Writes one frame.
pub(crate) fn write_frame(
    w: &mut impl Write,
    call: u64,
    tag: u8,
    body: &[u8],
) -> std::io::Result<()> {
    let len =
        u32::try_from(9 + body.len()).map_err(|_| std::io::Error::other("frame too large"))?;
    let mut head = [0u8; 13];
    head[..4].copy_from_slice(&len.to_le_bytes());
    head[4..12].copy_from_slice(&call.to_le_bytes());
    head[12] = tag;
    w.write_all(&head)?;
    w.write_all(body)?;
    w.flush()
}

/// Reads one frame: (call, tag, body). `Ok(None)` at a clean end of stream.
pub(crate) fn read_frame(r: &mut impl Read) -> std::io::Result<Option<(u64, u8, Vec<u8>)>> {
    let mut len = [0u8; 4];
    match r.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = u32::from_le_bytes(len) as usize;
    if !(9..=MAX_FRAME).contains(&len) {
        return Err(std::io::Error::other(format!("bad frame length {len}")));
    }
    let mut buf = vec![0u8; len];
    r.read_exact(&mut buf)?;
    let mut call = [0u8; 8];
    call.copy_from_slice(&buf[..8]);
    let tag = buf[8];
    buf.drain(..9);
    Ok(Some((u64::from_le_bytes(call), tag, buf)))
}

/// Encodes a value as a frame body.
pub(crate) fn body(v: &impl Wire) -> Vec<u8> {
    let mut w = Vec::new();
    v.put(&mut w);
    w
}

/// Decodes a frame body.
pub(crate) fn decode<T: Wire>(body: &[u8]) -> Result<T, WireError> {
    Reader::new(body).get()
}

/// What the device host needs of an actor type: its layout and CUDA handler (the native
/// handler stays in the parent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TypeDesc {
    pub(crate) name: String,
    pub(crate) state_size: usize,
    pub(crate) state_align: usize,
    pub(crate) msg_type: u32,
    pub(crate) msg_size: usize,
    pub(crate) reply_type: u32,
    pub(crate) reply_size: usize,
    /// function, state type, message type, reply type, struct definitions, source.
    pub(crate) cuda: Option<[String; 6]>,
}

impl TypeDesc {
    pub(crate) fn of(vt: &ActorVTable) -> Self {
        TypeDesc {
            name: vt.name.to_owned(),
            state_size: vt.state_size,
            state_align: vt.state_align,
            msg_type: vt.msg_type.0,
            msg_size: vt.msg_size,
            reply_type: vt.reply_type.0,
            reply_size: vt.reply_size,
            cuda: vt.cuda.map(|c| {
                [
                    c.function,
                    c.state_type,
                    c.msg_type,
                    c.reply_type,
                    c.struct_defs,
                    c.source,
                ]
                .map(str::to_owned)
            }),
        }
    }

    /// The vtable the device host's CUDA backend serves. Its strings live as long as the
    /// process (the device host builds each type once); the native handler is never called
    /// there.
    pub(crate) fn into_vtable(self) -> ActorVTable {
        fn leak(s: String) -> &'static str {
            Box::leak(s.into_boxed_str())
        }
        ActorVTable {
            name: leak(self.name),
            state_size: self.state_size,
            state_align: self.state_align,
            msg_type: MessageTypeId(self.msg_type),
            msg_size: self.msg_size,
            reply_type: MessageTypeId(self.reply_type),
            reply_size: self.reply_size,
            handle: no_native_handler,
            cuda: self.cuda.map(
                |[function, state_type, msg_type, reply_type, defs, source]| CudaHandler {
                    function: leak(function),
                    state_type: leak(state_type),
                    msg_type: leak(msg_type),
                    reply_type: leak(reply_type),
                    struct_defs: leak(defs),
                    source: leak(source),
                },
            ),
        }
    }
}

fn no_native_handler(
    _state: &mut [u8],
    _msg: &Envelope,
    _ctx: &Context,
) -> Result<Envelope, HandleFailure> {
    // Never reached: the device host runs CUDA handlers only.
    Err(HandleFailure::Handler(HandlerError(u32::MAX)))
}

impl Wire for TypeDesc {
    fn put(&self, w: &mut Vec<u8>) {
        self.name.put(w);
        self.state_size.put(w);
        self.state_align.put(w);
        self.msg_type.put(w);
        self.msg_size.put(w);
        self.reply_type.put(w);
        self.reply_size.put(w);
        self.cuda.as_ref().map(|c| c.to_vec()).put(w);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(TypeDesc {
            name: r.get()?,
            state_size: r.get()?,
            state_align: r.get()?,
            msg_type: r.get()?,
            msg_size: r.get()?,
            reply_type: r.get()?,
            reply_size: r.get()?,
            cuda: match r.get::<Option<Vec<String>>>()? {
                None => None,
                Some(v) => Some(
                    <[String; 6]>::try_from(v).map_err(|_| WireError("cuda handler strings"))?,
                ),
            },
        })
    }
}

/// The device host's CUDA configuration (the rest is `CudaConfig::default()`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HostConfig {
    pub(crate) device_ordinal: usize,
    pub(crate) blocks: Option<u32>,
    pub(crate) mailbox_capacity: u32,
    pub(crate) k2k_capacity: u32,
    pub(crate) watchdog: Duration,
}

impl Wire for HostConfig {
    fn put(&self, w: &mut Vec<u8>) {
        self.device_ordinal.put(w);
        self.blocks.put(w);
        self.mailbox_capacity.put(w);
        self.k2k_capacity.put(w);
        self.watchdog.put(w);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(HostConfig {
            device_ordinal: r.get()?,
            blocks: r.get()?,
            mailbox_capacity: r.get()?,
            k2k_capacity: r.get()?,
            watchdog: r.get()?,
        })
    }
}

/// The device host's answer to `Init`: its description and the device's compute capability.
pub(crate) type InitAnswer = Result<(String, (u32, u32)), String>;
