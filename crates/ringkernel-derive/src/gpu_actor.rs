//! `#[gpu_actor]`: the module is re-emitted unchanged (so rustc compiles and type-checks every
//! handler natively for the CPU backend), plus, per `impl Actor`, a `cuda_handler()` returning the
//! transpiled CUDA as `&'static str`s, and `const` assertions that each device struct has the size,
//! alignment and field offsets the CUDA text `static_assert`s — one layout, checked by both
//! compilers. Every construct the transpiler rejects becomes a `compile_error!` at its span.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::meta::ParseNestedMeta;
use syn::{parse_quote, ImplItem, Item, ItemMod, Path};

use ringkernel_transpile::model::StructLayout;
use ringkernel_transpile::{transpile_actor_module, ActorOutput};

use crate::parse::parse_path_value;

/// `#[gpu_actor(crate = path)]`: where ringkernel-core is.
pub(crate) struct Args {
    core: Path,
}

impl Args {
    pub(crate) fn parse(attr: TokenStream) -> syn::Result<Self> {
        let mut core = None;
        let parser = syn::meta::parser(|meta: ParseNestedMeta<'_>| {
            if meta.path.is_ident("crate") {
                if core.is_some() {
                    return Err(meta.error("duplicate `crate` key in `#[gpu_actor(...)]`"));
                }
                core = Some(parse_path_value(&meta)?);
                Ok(())
            } else {
                Err(meta.error("unknown `#[gpu_actor(...)]` key; expected `crate`"))
            }
        });
        syn::parse::Parser::parse2(parser, attr)?;
        Ok(Self {
            core: core.unwrap_or_else(|| parse_quote!(::ringkernel::__private::core)),
        })
    }
}

/// Expands `#[gpu_actor(args)] mod m { … }`.
pub(crate) fn expand(args: &Args, mut module: ItemMod) -> TokenStream {
    let out = match transpile_actor_module(&module) {
        Ok(out) => out,
        Err(diags) => {
            // Keep the module so rustc still reports its own errors and resolves its names;
            // add one error per rejected construct.
            let errors = diags.iter().map(|d| d.to_syn_error().to_compile_error());
            return quote! { #module #(#errors)* };
        }
    };
    let Some((_, items)) = &mut module.content else {
        return quote! { #module };
    };
    for a in &out.actors {
        if let Some(Item::Impl(imp)) = items.get_mut(a.item_index) {
            imp.items.push(cuda_handler_fn(&args.core, a));
        }
    }
    items.extend(out.layouts.iter().filter_map(layout_asserts));
    quote! { #module }
}

fn cuda_handler_fn(core: &Path, a: &ActorOutput) -> ImplItem {
    let c = &a.cuda;
    let (function, state, msg, reply, defs, source) = (
        &c.function,
        &c.state_type,
        &c.msg_type,
        &c.reply_type,
        &c.struct_defs,
        &c.source,
    );
    parse_quote! {
        /// The handler above, transpiled to CUDA C by `#[gpu_actor]`.
        fn cuda_handler() -> ::core::option::Option<#core::CudaHandler> {
            ::core::option::Option::Some(#core::CudaHandler {
                function: #function,
                state_type: #state,
                msg_type: #msg,
                reply_type: #reply,
                struct_defs: #defs,
                source: #source,
            })
        }
    }
}

/// `name` as an identifier (`None` for a name that is not one, so nothing here can panic).
fn ident(name: &str) -> Option<syn::Ident> {
    syn::parse_str::<syn::Ident>(name).ok()
}

fn layout_asserts(l: &StructLayout) -> Option<Item> {
    let ty = ident(&l.name)?;
    let (size, align) = (l.size, l.align);
    let what = format!(
        "`{}` does not have the layout its CUDA definition asserts (size {size}, align {align})",
        l.name
    );
    let offsets = l.fields.iter().filter_map(|f| {
        let field = ident(&f.name)?;
        let off = f.offset;
        let msg = format!("`{}.{}` is not at byte {off} as in CUDA", l.name, f.name);
        Some(quote_spanned! {proc_macro2::Span::call_site()=>
            ::core::assert!(::core::mem::offset_of!(#ty, #field) == #off, #msg);
        })
    });
    Some(parse_quote! {
        const _: () = {
            ::core::assert!(::core::mem::size_of::<#ty>() == #size, #what);
            ::core::assert!(::core::mem::align_of::<#ty>() == #align, #what);
            #(#offsets)*
        };
    })
}
