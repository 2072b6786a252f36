//! [`Bulk`]: a diagnostic actor with 16 MiB of state, for migration tests and benchmarks.
//!
//! Each message adds to one word of the state and replies with the word and a running sum, so a
//! test can check after a migration that every byte arrived (the checksum) and that the actor
//! carries on from where it was (the replies).

use bytemuck::{Pod, Zeroable};
use ringkernel_core::actor::{Actor, Context, CudaHandler, HandlerError};
use ringkernel_core::{Message, MessageTypeId};

/// Words of state (16 MiB).
pub const BULK_WORDS: usize = 2 << 20;

/// The state: a running sum and the words.
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
#[repr(C)]
pub struct BulkState {
    /// Sum of every `add` so far (wrapping).
    pub total: u64,
    /// Messages handled.
    pub count: u64,
    /// The words.
    pub words: [u64; BULK_WORDS],
}

/// Add `add` to word `index % BULK_WORDS`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub struct BulkAdd {
    /// Word index (taken modulo [`BULK_WORDS`]).
    pub index: u64,
    /// Amount (wrapping).
    pub add: u64,
}
impl Message for BulkAdd {
    const TYPE_ID: MessageTypeId = MessageTypeId(0x0D11);
}

/// The word after the add, the running sum and the count.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub struct BulkReply {
    /// The word's new value.
    pub word: u64,
    /// [`BulkState::total`].
    pub total: u64,
    /// [`BulkState::count`].
    pub count: u64,
}
impl Message for BulkReply {
    const TYPE_ID: MessageTypeId = MessageTypeId(0x0D12);
}

/// The diagnostic actor.
#[derive(Debug)]
pub struct Bulk;

impl Actor for Bulk {
    const NAME: &'static str = "bulk";
    type State = BulkState;
    type Msg = BulkAdd;
    type Reply = BulkReply;

    fn handle(s: &mut BulkState, m: &BulkAdd, _: &Context) -> Result<BulkReply, HandlerError> {
        let i = (m.index % BULK_WORDS as u64) as usize;
        s.words[i] = s.words[i].wrapping_add(m.add);
        s.total = s.total.wrapping_add(m.add);
        s.count += 1;
        Ok(BulkReply {
            word: s.words[i],
            total: s.total,
            count: s.count,
        })
    }

    fn cuda_handler() -> Option<CudaHandler> {
        Some(CudaHandler {
            function: "rk_bulk_handle",
            state_type: "BulkState",
            msg_type: "BulkAdd",
            reply_type: "BulkReply",
            struct_defs: "struct BulkAdd { unsigned long long index, add; };\n\
                struct BulkReply { unsigned long long word, total, count; };\n\
                struct BulkState { unsigned long long total, count; unsigned long long words[2097152]; };",
            source: "__device__ int rk_bulk_handle(BulkState* s, const BulkAdd* m, BulkReply* r, const rk_ctx*) {\n\
                \x20 const unsigned long long i = m->index % 2097152ull;\n\
                \x20 s->words[i] += m->add;\n  s->total += m->add;\n  s->count += 1;\n\
                \x20 r->word = s->words[i];\n  r->total = s->total;\n  r->count = s->count;\n  return 0;\n}\n",
        })
    }
}

const _: () = assert!(BULK_WORDS == 2_097_152);
