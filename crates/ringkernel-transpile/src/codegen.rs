//! CUDA text for one actor: the struct definitions with layout checks, and the handler.
//!
//! `struct_defs` holds the IR prelude (guarded, shared by every transpiled actor in a kernel),
//! then each struct (guarded by name, since several actors of a module share structs) with
//! `static_assert`s on its size and every field offset — the numbers the macro also asserts on
//! the Rust side, so both compilers check one layout. `source` holds the lowered function and a
//! wrapper with the signature the CUDA backend calls.

use std::fmt::Write as _;

use ringkernel_ir::emit::{emit_function, emit_module};
use ringkernel_ir::ir::{FieldDef, Module, StructDef};
use ringkernel_ir::passes::PassManager;

use crate::diagnostic::Diagnostic;
use crate::lower::{lower_handler, Mode};
use crate::model::{ActorModel, ModuleModel, StructLayout};
use crate::probe::{output_types, Probe};

/// The CUDA form of one handler, as `ringkernel_core::CudaHandler` wants it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CudaText {
    /// The entry point: `int FUNCTION(S* state, const M* msg, R* reply, const rk_ctx* ctx)`.
    pub function: String,
    /// C name of the state struct.
    pub state_type: String,
    /// C name of the message struct.
    pub msg_type: String,
    /// C name of the reply struct.
    pub reply_type: String,
    /// Prelude, struct definitions and layout `static_assert`s.
    pub struct_defs: String,
    /// The handler and its entry point.
    pub source: String,
}

impl CudaText {
    /// A stand-alone translation unit (with a stand-in for the runtime's `rk_ctx`) for
    /// compile tests; the kernel itself pastes `struct_defs` and `source` after its runtime.
    pub fn standalone(&self) -> String {
        format!(
            "struct rk_ctx {{ unsigned int self_id; unsigned int sender; unsigned long long \
             timestamp; }};\n{}\n{}",
            self.struct_defs, self.source
        )
    }
}

pub(crate) fn ir_struct(l: &StructLayout) -> StructDef {
    StructDef {
        name: l.c_name.clone(),
        fields: l
            .fields
            .iter()
            .flat_map(|f| {
                (0..f.count()).map(move |k| FieldDef {
                    name: f.c_name(k),
                    ty: f.ty,
                })
            })
            .collect(),
    }
}

fn ir_error(actor: &ActorModel, e: ringkernel_ir::IrError) -> Diagnostic {
    if let ringkernel_ir::IrError::MissingReturn { .. } = e {
        // Code rustc rejects too (a path without a result); say it in the handler's terms.
        return Diagnostic::spanned(
            &actor.handle.block,
            "the handler must end in `Ok(…)` / `Err(HandlerError(…))` or return on every path",
        );
    }
    Diagnostic::spanned(
        &actor.handle.sig,
        format!("this handler lowers to IR the CUDA emitter rejects: {e}"),
    )
}

/// The IR prelude (guarded; its `rk_globaltimer` steps aside when the kernel's runtime header,
/// which has its own, came first).
fn prelude() -> Result<String, ringkernel_ir::IrError> {
    emit_module(&Module::new())
}

fn struct_text(l: &StructLayout, out: &mut String) {
    if l.fields.is_empty() {
        // `()`: an empty stand-in; C++ gives it size 1 where Rust has 0, so no size checks (the
        // backend skips its own for size 0, and the handler never touches the bytes).
        let _ = writeln!(
            out,
            "#ifndef RKT_STRUCT_{0}\n#define RKT_STRUCT_{0}\nstruct {0} {{}};\n#endif",
            l.c_name
        );
        return;
    }
    let guard = format!("RKT_STRUCT_{}", l.c_name);
    let _ = writeln!(out, "#ifndef {guard}\n#define {guard}");
    let _ = writeln!(out, "struct {} {{", l.c_name);
    for f in &l.fields {
        for k in 0..f.count() {
            let _ = writeln!(out, "    {} {};", f.ty.cuda_name(), f.c_name(k));
        }
    }
    out.push_str("};\n");
    let _ = writeln!(out, "#endif // {guard}");
    // The checks stay outside the guard: should two modules define the same C name with
    // different layouts, the second definition is skipped but its checks still run (and fail).
    let _ = writeln!(
        out,
        "static_assert(sizeof({0}) == {1}, \"{0}: size differs from the Rust struct {2}\");",
        l.c_name, l.size, l.name
    );
    let _ = writeln!(
        out,
        "static_assert(alignof({0}) == {1}, \"{0}: alignment differs from the Rust struct\");",
        l.c_name, l.align
    );
    // NVRTC has no constant `offsetof`; with the same field order, the same field sizes and the
    // same alignment, C's layout rules (which `#[repr(C)]` follows) give the same offsets, and
    // the macro asserts each offset on the Rust side.
    for f in &l.fields {
        for k in 0..f.count() {
            let _ = writeln!(
                out,
                "static_assert(sizeof({0}::{1}) == {2}, \"{0}: field {1} differs from the Rust \
                 struct\");",
                l.c_name,
                f.c_name(k),
                crate::model::scalar_size(f.ty)
            );
        }
    }
}

/// Lowers, verifies, optimises and emits one actor; also builds its probes.
pub(crate) fn actor(
    model: &ModuleModel,
    actor: &ActorModel,
) -> Result<(CudaText, Probe), Diagnostic> {
    let layout = |name: &str| {
        model.structs.get(name).ok_or_else(|| {
            Diagnostic::spanned(
                &actor.handle.sig,
                format!("`{name}` is not a device struct"),
            )
        })
    };
    let (state, msg, reply) = (
        layout(&actor.state)?,
        layout(&actor.msg)?,
        layout(&actor.reply)?,
    );
    let function = format!("{}_{}_handle", model.name, actor.self_name);
    let inner = format!("{function}_impl");
    let mut module = Module::new();
    for l in [state, msg, reply] {
        if module.struct_def(&l.c_name).is_none() {
            module.structs.push(ir_struct(l));
        }
    }
    module
        .functions
        .push(lower_handler(model, actor, &inner, Mode::Cuda)?);
    PassManager::standard()
        .run(&mut module)
        .map_err(|e| ir_error(actor, e))?;
    let mut struct_defs = prelude().map_err(|e| ir_error(actor, e))?;
    let mut seen = Vec::new();
    for l in [state, msg, reply] {
        if !seen.contains(&&l.c_name) {
            seen.push(&l.c_name);
            struct_text(l, &mut struct_defs);
        }
    }
    let mut source = String::new();
    for f in &module.functions {
        source.push_str(&emit_function(&module, f).map_err(|e| ir_error(actor, e))?);
    }
    let _ = write!(
        source,
        "__device__ int {function}({s}* state, const {m}* msg, {r}* reply, const rk_ctx* ctx) {{\n    \
         return {inner}(state, msg, reply, ctx->self_id, ctx->sender, ctx->timestamp);\n}}\n",
        s = state.c_name,
        m = msg.c_name,
        r = reply.c_name,
    );
    let mut probes = Module::new();
    for k in 0..output_types(state, reply).len() {
        let name = format!("{function}_out{k}");
        probes
            .functions
            .push(lower_handler(model, actor, &name, Mode::Probe(k))?);
    }
    PassManager::standard()
        .run(&mut probes)
        .map_err(|e| ir_error(actor, e))?;
    Ok((
        CudaText {
            function,
            state_type: state.c_name.clone(),
            msg_type: msg.c_name.clone(),
            reply_type: reply.c_name.clone(),
            struct_defs,
            source,
        },
        Probe {
            module: probes,
            state: state.clone(),
            msg: msg.clone(),
            reply: reply.clone(),
        },
    ))
}
