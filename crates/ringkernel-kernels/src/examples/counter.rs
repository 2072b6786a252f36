//! Ring mode: a counter actor. The state sums message amounts; a message of `u64::MAX` fails the
//! actor with code 7; the reply is the new state.

use ringkernel_ir::ir::{
    BinOp, Expr, FunctionBuilder, LocalId, Module, Place, ScalarType, Stmt, StructDef, Type,
};
use std::sync::OnceLock;

use ringkernel_core::actor::{Actor, Context, CudaHandler, HandlerError};
use ringkernel_core::{Message, MessageTypeId};
use ringkernel_ir::kernel::ring::{emit_ring_handler, ring_ctx_struct, RING_CTX};

use crate::handler::into_cuda_handler;

/// Name of the handler function.
pub const FUNCTION: &str = "counter_handle";

/// Device and host layout of the state (and reply).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C)]
pub struct Total {
    /// Sum of all amounts (wrapping).
    pub sum: u64,
    /// Messages handled.
    pub count: u32,
    /// Sender of the last message.
    pub last_sender: u32,
}

/// The message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C)]
pub struct Add {
    /// Amount to add.
    pub n: u64,
}

fn field(p: LocalId, f: &str) -> Expr {
    Expr::field(Expr::local(p), f)
}

fn store(p: LocalId, f: &str, value: Expr) -> Stmt {
    Stmt::Store {
        place: Place::Field(Box::new(Place::Deref(Expr::local(p))), f.to_string()),
        value,
    }
}

/// The handler as IR:
///
/// ```text
/// fn counter_handle(s: *mut Total, m: *const Add, r: *mut Total, ctx: *const RingCtx) -> i32 {
///     if m.n == u64::MAX { return 7; }
///     s.sum = s.sum + m.n; s.count = s.count + 1; s.last_sender = ctx.sender;
///     *r = *s (field by field); return 0;
/// }
/// ```
pub fn module() -> Module {
    let mut m = Module::new();
    m.structs.push(StructDef::new(
        "Total",
        &[
            ("sum", ScalarType::U64),
            ("count", ScalarType::U32),
            ("last_sender", ScalarType::U32),
        ],
    ));
    m.structs
        .push(StructDef::new("Add", &[("n", ScalarType::U64)]));
    m.structs.push(ring_ctx_struct());
    let mut f = FunctionBuilder::new(FUNCTION, Type::Scalar(ScalarType::I32));
    let s = f.param("s", Type::struct_ptr_mut("Total"));
    let msg = f.param(
        "m",
        Type::Ptr {
            pointee: ringkernel_ir::ir::Pointee::Struct("Add".into()),
            mutable: false,
        },
    );
    let r = f.param("r", Type::struct_ptr_mut("Total"));
    let ctx = f.param(
        "ctx",
        Type::Ptr {
            pointee: ringkernel_ir::ir::Pointee::Struct(RING_CTX.into()),
            mutable: false,
        },
    );
    f.push(Stmt::if_else(
        Expr::bin(BinOp::Eq, field(msg, "n"), Expr::u64(u64::MAX)),
        vec![Stmt::Return(Some(Expr::i32(7)))],
        vec![],
    ));
    f.push(store(s, "sum", Expr::add(field(s, "sum"), field(msg, "n"))));
    f.push(store(
        s,
        "count",
        Expr::add(field(s, "count"), Expr::u32(1)),
    ));
    f.push(store(s, "last_sender", field(ctx, "sender")));
    for name in ["sum", "count", "last_sender"] {
        f.push(store(r, name, field(s, name)));
    }
    f.push(Stmt::Return(Some(Expr::i32(0))));
    m.functions.push(f.finish());
    m
}

/// The CPU reference: the return code, with `state` and `reply` updated as the handler does.
pub fn cpu(state: &mut Total, msg: &Add, sender: u32, reply: &mut Total) -> i32 {
    if msg.n == u64::MAX {
        return 7;
    }
    state.sum = state.sum.wrapping_add(msg.n);
    state.count = state.count.wrapping_add(1);
    state.last_sender = sender;
    *reply = *state;
    0
}

impl Message for Add {
    const TYPE_ID: MessageTypeId = MessageTypeId(0x0D01);
}

impl Message for Total {
    const TYPE_ID: MessageTypeId = MessageTypeId(0x0D02);
}

/// The counter as an actor whose CUDA handler is generated from [`module`] in ring mode.
#[derive(Debug)]
pub struct IrCounter;

impl Actor for IrCounter {
    const NAME: &'static str = "ir-counter";
    type State = Total;
    type Msg = Add;
    type Reply = Total;

    fn handle(state: &mut Total, msg: &Add, ctx: &Context) -> Result<Total, HandlerError> {
        let mut reply = Total::default();
        match cpu(state, msg, ctx.sender.raw(), &mut reply) {
            0 => Ok(reply),
            code => Err(HandlerError(code.unsigned_abs())),
        }
    }

    fn cuda_handler() -> Option<CudaHandler> {
        // Generated (and its strings leaked) once per process.
        static HANDLER: OnceLock<Option<CudaHandler>> = OnceLock::new();
        *HANDLER.get_or_init(|| {
            emit_ring_handler(&module(), FUNCTION)
                .ok()
                .map(into_cuda_handler)
        })
    }
}
