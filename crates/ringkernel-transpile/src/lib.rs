//! The Rust front end of RingKernel's Rust-to-CUDA transpiler: **parse → IR** → passes → CUDA C.
//!
//! [`transpile_actor_module`] reads a module holding `#[repr(C)]` structs and `impl Actor`
//! blocks, lowers each `handle` function from a documented Rust subset (`docs/transpiler.md`) to
//! [`ringkernel_ir`], optimises it with the standard passes and emits the CUDA handler the CUDA
//! backend pastes into its persistent kernel. The `#[gpu_actor]` attribute (ringkernel-derive)
//! is its only production caller.
//!
//! [`kernel_fn`] does the same for the other kernel modes: a per-element (global) or per-cell
//! (stencil, FDTD) Rust function of scalars and slices, compiled natively as the CPU reference
//! and lowered from its text ([`transpile_kernel_fn`]) to the IR the mode wraps
//! (`ringkernel_ir::kernel`); `#[gpu_kernel]` checks such a module at compile time. Where native
//! Rust panics (index out of bounds, division by zero) a kernel function traps the device kernel.
//!
//! Guarantees:
//! - **No panics, no silent miscompiles.** Anything outside the subset is a [`Diagnostic`] with the
//!   span of the offending tokens and the reason; every problem found is returned, not only the
//!   first. Output is verified IR, emitted deterministically.
//! - **Rust semantics on the device**: integer `+ - *` wrap (release-build semantics, see
//!   `ringkernel_ir::semantics`); where Rust panics (index out of bounds, division by zero,
//!   `MIN / -1`) the handler returns [`PANIC_CODE`], the code the CPU backend reports for a
//!   panicking handler; mutations of the state before an `Err` are kept, as with `&mut`.
//! - **One layout**: struct sizes and field offsets are computed once here and asserted by both
//!   compilers (`static_assert` in the CUDA text, `const` asserts emitted by the macro).
//! - [`probe`]: the same lowering as scalar functions the IR interpreter runs, for differential
//!   tests against the native handler.
//!
//! ```
//! let out = ringkernel_transpile::transpile_str(r#"
//!     mod bank {
//!         #[repr(C)] pub struct Balance { pub cents: i64, pub count: u64 }
//!         #[repr(C)] pub struct Deposit { pub cents: i64 }
//!         pub struct Account;
//!         impl Actor for Account {
//!             const NAME: &'static str = "account";
//!             type State = Balance;
//!             type Msg = Deposit;
//!             type Reply = Balance;
//!             fn handle(s: &mut Balance, m: &Deposit, _: &Context) -> Result<Balance, HandlerError> {
//!                 s.cents = s.cents.checked_add(m.cents).ok_or(HandlerError(1))?;
//!                 s.count = s.count.wrapping_add(1);
//!                 Ok(*s)
//!             }
//!         }
//!     }
//! "#).map_err(|d| d[0].message.clone())?;
//! assert_eq!(out.actors[0].cuda.function, "bank_Account_handle");
//! assert!(out.actors[0].cuda.struct_defs.contains("sizeof(bank_Balance) == 16"));
//! # Ok::<(), String>(())
//! ```

mod codegen;
mod diagnostic;
pub mod kernel_fn;
mod literal;
mod lower;
pub mod model;
pub mod probe;

pub use codegen::CudaText;
pub use diagnostic::Diagnostic;
pub use kernel_fn::{transpile_kernel_fn, KernelFnOutput, KernelMode};
pub use lower::PANIC_CODE;

use model::StructLayout;
use probe::Probe;

/// One transpiled `impl Actor`.
#[derive(Debug, Clone)]
pub struct ActorOutput {
    /// Index of the `impl Actor` block among the module's items (where the macro adds
    /// `cuda_handler`).
    pub item_index: usize,
    /// The actor type's name.
    pub self_name: String,
    /// The CUDA handler.
    pub cuda: CudaText,
    /// The same handler as interpretable probe functions.
    pub probe: Probe,
}

/// Everything generated for one `#[gpu_actor]` module.
#[derive(Debug, Clone)]
pub struct GpuActorOutput {
    /// The actors, in item order.
    pub actors: Vec<ActorOutput>,
    /// Layouts of the structs the actors use (sorted by name; `()` left out), for the Rust-side
    /// asserts.
    pub layouts: Vec<StructLayout>,
}

/// Transpiles every `impl Actor` of `module`, or returns every problem found.
pub fn transpile_actor_module(module: &syn::ItemMod) -> Result<GpuActorOutput, Vec<Diagnostic>> {
    let model = model::read_module(module)?;
    let mut errors = Vec::new();
    let mut actors = Vec::new();
    for a in &model.actors {
        match codegen::actor(&model, a) {
            Ok((cuda, probe)) => actors.push(ActorOutput {
                item_index: a.item_index,
                self_name: a.self_name.clone(),
                cuda,
                probe,
            }),
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut layouts: Vec<StructLayout> = model
        .structs
        .into_values()
        .filter(|l| l.name != model::UNIT)
        .collect();
    layouts.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(GpuActorOutput { actors, layouts })
}

/// [`transpile_actor_module`] on source text (for tests and tools); a parse error is a
/// diagnostic too.
pub fn transpile_str(src: &str) -> Result<GpuActorOutput, Vec<Diagnostic>> {
    let module: syn::ItemMod = syn::parse_str(src)
        .map_err(|e| vec![Diagnostic::new(e.span(), format!("not a Rust module: {e}"))])?;
    transpile_actor_module(&module)
}
