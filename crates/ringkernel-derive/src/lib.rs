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
use syn::{parse_macro_input, DeriveInput};

mod expand;
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
