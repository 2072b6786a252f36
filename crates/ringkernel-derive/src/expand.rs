//! Code generation: a checked [`MessageDef`] becomes the `Message` impl and its layout assertions.
//!
//! Checks that need the compiler (the type's size and its `Pod` impl) are emitted as items that
//! fail to compile, spanned at the type's name, rather than as runtime checks: a message that
//! cannot travel should never build. `Message::check_layout` still runs on every send path; for a
//! derived type it folds to a constant `Ok`.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

use crate::parse::MessageDef;

/// Emits the impl and the const assertions for `def`.
pub(crate) fn expand(def: &MessageDef) -> TokenStream {
    let MessageDef {
        ident,
        id,
        core,
        bytemuck,
    } = def;
    let id = proc_macro2::Literal::u32_unsuffixed(*id);
    let too_large = format!(
        "message too large: `{ident}` is bigger than MAX_PAYLOAD, the inline payload of one \
         envelope; shrink it or split it"
    );
    let span = ident.span();
    let size_check = quote_spanned! {span=>
        const _: () = ::core::assert!(
            ::core::mem::size_of::<#ident>() <= #core::MAX_PAYLOAD,
            #too_large
        );
    };
    let pod_check = quote_spanned! {span=>
        const _: fn() = || {
            fn assert_pod<T: #bytemuck::Pod>() {}
            assert_pod::<#ident>();
        };
    };
    quote! {
        #[automatically_derived]
        impl #core::Message for #ident {
            const TYPE_ID: #core::MessageTypeId = #core::MessageTypeId(#id);
        }
        #size_check
        #pod_check
    }
}
