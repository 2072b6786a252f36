//! `#[derive(Message)]` for RingKernel: an explicit, stable type id and compile-time layout checks.
//!
//! Use it through the facade, which re-exports it next to the trait of the same name (as serde
//! does), so `use ringkernel::prelude::*;` brings both:
//!
//! ```ignore
//! use ringkernel::prelude::*;
//!
//! #[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable, Message)]
//! #[message(id = 0x0001_0001)]
//! #[repr(C)]
//! struct Deposit { account: u32, _pad: u32, cents: i64 }
//!
//! assert_eq!(Deposit::TYPE_ID, MessageTypeId(0x0001_0001));
//! ```
//!
//! The crate is split as parse → codegen: the `parse` module checks everything visible in the
//! tokens and yields a `MessageDef`; the `expand` module turns that into the impl plus the checks
//! only the compiler can make (size and `Pod`).

use proc_macro::TokenStream;
use syn::{parse_macro_input, DeriveInput, ItemMod};

mod expand;
mod gpu_actor;
mod gpu_kernel;
mod parse;

/// Implements `ringkernel_core::Message` for a plain-data struct.
///
/// # Attributes
///
/// `#[message(...)]` takes comma-separated keys; one attribute or several, each key at most once:
///
/// - `id = <integer literal>` (required): the message's `MessageTypeId`. It is written in the
///   source and never derived from a hash, so it stays the same across builds, compilers and the
///   host/device boundary. It must fit a `u32`, unsuffixed or suffixed `u32`, and lie outside
///   `0xFFFF_0000..=0xFFFF_FFFF`, which the runtime reserves for its control messages.
/// - `crate = <path>` (optional): where `ringkernel-core` is. The default,
///   `::ringkernel::__private::core`, works for every user of the `ringkernel` facade; a crate that
///   depends on `ringkernel-core` alone writes `crate = ::ringkernel_core` (a string,
///   `crate = "::ringkernel_core"`, is accepted too, as serde and bytemuck spell it).
/// - `bytemuck = <path>` (optional): where `bytemuck` is. Defaults to
///   `::ringkernel::__private::bytemuck`, or to `::bytemuck` when `crate` is given: a crate using
///   ringkernel-core directly already names bytemuck to derive `Pod`.
///
/// The paths are absolute (leading `::`) so a local module named `ringkernel` cannot capture them.
///
/// # Requirements, checked at compile time
///
/// Each failure is a compile error pointing at the offending tokens, never a macro panic:
///
/// - the type is a struct (enums and unions are rejected: a tag with undefined payload bytes is not
///   plain data) without generic parameters (an id names one concrete layout);
/// - it has `#[repr(C)]` or `#[repr(transparent)]` (other options such as `align` may follow `C`),
///   because the bytes are copied verbatim to the device, whose C++ view must match;
/// - `size_of::<T>() <= MAX_PAYLOAD` (asserted by a constant in the generated code);
/// - `T: bytemuck::Pod` (asserted by a trait bound in the generated code; derive `Pod` and
///   `Zeroable` yourself).
///
/// # Generated code
///
/// ```ignore
/// impl ::ringkernel::__private::core::Message for Deposit {
///     const TYPE_ID: MessageTypeId = MessageTypeId(0x0001_0001);
/// }
/// const _: () = assert!(size_of::<Deposit>() <= MAX_PAYLOAD, "message too large: ...");
/// const _: fn() = || { fn assert_pod<T: bytemuck::Pod>() {} assert_pod::<Deposit>(); };
/// ```
///
/// # Example with ringkernel-core only
///
/// ```
/// use ringkernel_core::{Message, MessageTypeId};
/// use ringkernel_derive::Message;
///
/// #[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable, Message)]
/// #[message(id = 0x0001_0001, crate = ::ringkernel_core)]
/// #[repr(C)]
/// struct Deposit { account: u32, _pad: u32, cents: i64 }
///
/// assert_eq!(Deposit::TYPE_ID, MessageTypeId(0x0001_0001));
/// assert!(Deposit::check_layout().is_ok());
/// ```
#[proc_macro_derive(Message, attributes(message))]
pub fn derive_message(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match parse::parse(&input) {
        Ok(def) => expand::expand(&def).into(),
        Err(err) => err.to_compile_error().into(),
    }
}

/// Transpiles the actor handlers of a module to CUDA: write the handler once, in Rust.
///
/// Apply it to an inline module holding the actor's `#[repr(C)]` structs and its
/// `impl Actor for …` block(s). The module is emitted unchanged — the handler still compiles
/// natively and runs on the CPU backend — and each `impl Actor` gains
/// `fn cuda_handler() -> Option<CudaHandler>` with the CUDA C the transpiler generated from
/// `handle`, so the same actor runs on the GPU backend. The supported Rust subset, how
/// unsupported code is reported and the layout checks are described in `docs/transpiler.md`.
///
/// # Attributes
///
/// `crate = <path>` (optional): where ringkernel-core is. Defaults to
/// `::ringkernel::__private::core` (the facade); a crate using ringkernel-core directly writes
/// `#[gpu_actor(crate = ::ringkernel_core)]`.
///
/// # Compile-time checks
///
/// - every construct outside the subset is a compile error at its span, with the reason;
/// - the state, message and reply must be structs defined in the module, with `#[repr(C)]` and
///   fields of `i32`, `u32`, `i64`, `u64`, `f32`, `f64` or fixed arrays of them;
/// - `const` assertions check each struct's size, alignment and field offsets against the numbers
///   the CUDA text `static_assert`s, so host and device agree on one layout;
/// - a hand-written `cuda_handler` in the impl is an error (the macro writes it).
///
/// # Example (ringkernel-core only)
///
/// ```
/// #[ringkernel_derive::gpu_actor(crate = ::ringkernel_core)]
/// mod counter {
///     use ringkernel_core::{Actor, Context, HandlerError, Message, MessageTypeId};
///
///     #[derive(Clone, Copy, Debug, Default, bytemuck::Pod, bytemuck::Zeroable)]
///     #[repr(C)]
///     pub struct Add { pub n: u64 }
///     impl Message for Add { const TYPE_ID: MessageTypeId = MessageTypeId(0x100); }
///
///     pub struct Counter;
///     impl Actor for Counter {
///         const NAME: &'static str = "counter";
///         type State = Add;
///         type Msg = Add;
///         type Reply = Add;
///         fn handle(s: &mut Add, m: &Add, _: &Context) -> Result<Add, HandlerError> {
///             s.n = s.n.wrapping_add(m.n);
///             Ok(*s)
///         }
///     }
/// }
///
/// use ringkernel_core::Actor;
/// let h = counter::Counter::cuda_handler().expect("generated");
/// assert_eq!(h.function, "counter_Counter_handle");
/// assert!(h.source.contains("__device__ int counter_Counter_handle("));
/// ```
#[proc_macro_attribute]
pub fn gpu_actor(attr: TokenStream, item: TokenStream) -> TokenStream {
    let args = match gpu_actor::Args::parse(attr.into()) {
        Ok(a) => a,
        Err(e) => return e.to_compile_error().into(),
    };
    let module = parse_macro_input!(item as ItemMod);
    gpu_actor::expand(&args, module).into()
}

/// Keeps a module of kernel functions native and makes its text available to the transpiler.
///
/// The module holds plain `fn`s in the kernel-function subset (`docs/transpiler.md`, "Kernel
/// functions": scalar, `&[T]` and `&mut [T]` parameters, a scalar or `()` result), scalar
/// `const`s and `use`s. It is emitted unchanged, so rustc compiles the functions natively (the
/// CPU reference); every construct outside the subset is a compile error at its tokens; and the
/// module gains `pub const SOURCE: &str`, the text `ringkernel_transpile::transpile_kernel_fn`
/// lowers to CUDA for a kernel mode (global, stencil, FDTD).
///
/// ```
/// #[ringkernel_derive::gpu_kernel]
/// mod kernel {
///     pub fn scale(i: u32, k: f32, v: &mut [f32]) {
///         let i = i as usize;
///         if i < v.len() {
///             v[i] *= k;
///         }
///     }
/// }
///
/// let mut v = [1.0, 2.0];
/// kernel::scale(1, 3.0, &mut v); // native
/// assert_eq!(v, [1.0, 6.0]);
/// assert!(kernel::SOURCE.contains("pub fn scale"));
/// ```
#[proc_macro_attribute]
pub fn gpu_kernel(attr: TokenStream, item: TokenStream) -> TokenStream {
    let module = parse_macro_input!(item as ItemMod);
    gpu_kernel::expand(attr.into(), module).into()
}
