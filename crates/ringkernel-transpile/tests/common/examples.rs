//! Example handlers, each compiled natively *and* kept as source text for the transpiler: the
//! `example!` macro emits the module and a `SRC` constant with the same tokens, so the native
//! handler and the transpiled one can never drift apart.

#![allow(dead_code)] // each test target uses a different subset

use bytemuck::{Pod, Zeroable};

/// Emits `mod $name { … }` and `$name::SRC`, the same module as text.
macro_rules! example {
    ($name:ident { $($body:tt)* }) => {
        pub mod $name {
            #![allow(clippy::all, unused)]
            use super::*;
            use ringkernel_core::{Actor, Context, HandlerError, Message, MessageTypeId};
            $($body)*
            /// The module as the transpiler sees it.
            pub const SRC: &str = concat!("mod ", stringify!($name), " { ", stringify!($($body)*), " }");
        }
    };
}

pub(crate) use example;

/// A plain-data value for random generation: bytes that are a valid `T` (all `Pod`).
pub fn from_bytes<T: Pod>(bytes: &[u8]) -> T {
    bytemuck::pod_read_unaligned(&bytes[..std::mem::size_of::<T>()])
}

pub fn to_bytes<T: Pod>(v: &T) -> Vec<u8> {
    bytemuck::bytes_of(v).to_vec()
}

/// Silences "unused" for `Zeroable` in targets that do not derive it.
pub fn _zeroed<T: Zeroable>() -> T {
    T::zeroed()
}
