//! `#[gpu_kernel]`: a module of per-element / per-cell kernel functions is re-emitted unchanged
//! (so rustc compiles them natively, as the CPU reference) and checked against the transpiler's
//! kernel-function subset at compile time — every rejected construct is a `compile_error!` at its
//! span — and gains `pub const SOURCE: &str`, the text of its items, which
//! `ringkernel_transpile::transpile_kernel_fn` lowers at run time for a kernel mode.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{parse_quote, Item, ItemMod};

use ringkernel_transpile::kernel_fn::kernel_module_items;

/// Expands `#[gpu_kernel] mod m { … }`.
pub(crate) fn expand(attr: TokenStream, mut module: ItemMod) -> TokenStream {
    if !attr.is_empty() {
        let e = syn::Error::new_spanned(attr, "`#[gpu_kernel]` takes no arguments");
        let e = e.to_compile_error();
        return quote! { #module #e };
    }
    let Some((_, items)) = &mut module.content else {
        let e = syn::Error::new_spanned(
            &module,
            "`#[gpu_kernel]` needs the module's items inline (`mod name { ... }`), since the \
             macro must see the functions",
        )
        .to_compile_error();
        return quote! { #module #e };
    };
    if let Err(diags) = kernel_module_items(items) {
        // Keep the module so rustc still reports its own errors; add one per rejected construct.
        let errors = diags.iter().map(|d| d.to_syn_error().to_compile_error());
        return quote! { #module #(#errors)* };
    }
    // The items' tokens as text: what the transpiler parses again at run time (it accepted them
    // just now, so only a kernel-mode contract can still fail there).
    let text = quote! { #(#items)* }.to_string();
    let source: Item = parse_quote! {
        /// The Rust text of this module's kernel functions (written by `#[gpu_kernel]`), the
        /// input of `ringkernel_transpile::transpile_kernel_fn`.
        pub const SOURCE: &str = #text;
    };
    items.push(source);
    quote! { #module }
}
