//! Parsing: a `DeriveInput` becomes a [`MessageDef`], or a compile error naming every problem.
//!
//! Everything a message must satisfy that is visible in its tokens is checked here: a struct, not
//! generic, `#[repr(C)]` or `#[repr(transparent)]`, and a well-formed `#[message(...)]` attribute
//! with an explicit id outside the reserved range. Independent problems are combined into one
//! `syn::Error`, so a user fixes them in one round instead of one per build. What only the compiler
//! knows (size, `Pod`) is left to the assertions that [`crate::expand`] emits.

use proc_macro2::Span;
use syn::meta::ParseNestedMeta;
use syn::punctuated::Punctuated;
use syn::{
    parse_quote, Attribute, Data, DeriveInput, Expr, ExprLit, ExprUnary, Ident, Lit, LitStr, Meta,
    Path, UnOp,
};

/// First id of the range the runtime reserves for control messages.
///
/// Mirrors `ringkernel_core::MessageTypeId::RESERVED_START`: a proc-macro crate is built for the
/// host and cannot read the constant at expansion time. A unit test pins the two together.
pub(crate) const RESERVED_START: u32 = 0xFFFF_0000;

/// A message type as checked by [`parse`], ready for code generation.
pub(crate) struct MessageDef {
    /// The struct's name.
    pub(crate) ident: Ident,
    /// The explicit type id, already known to fit a `u32` and to lie below [`RESERVED_START`].
    pub(crate) id: u32,
    /// Path to the ringkernel-core crate (or a re-export of it).
    pub(crate) core: Path,
    /// Path to the bytemuck crate (or a re-export of it).
    pub(crate) bytemuck: Path,
}

/// The keys of `#[message(...)]`, each present at most once.
#[derive(Default)]
struct MessageAttr {
    id: Option<u32>,
    core: Option<Path>,
    bytemuck: Option<Path>,
}

/// Checks `input` and extracts what codegen needs.
pub(crate) fn parse(input: &DeriveInput) -> syn::Result<MessageDef> {
    // Nothing else is worth checking for an enum or union: say why it is unsupported and stop.
    match &input.data {
        Data::Struct(_) => {}
        Data::Enum(e) => {
            return Err(syn::Error::new_spanned(
                e.enum_token,
                "`#[derive(Message)]` does not support enums: a message must be plain data with \
                 every byte defined; use a `#[repr(C)]` struct with an explicit tag field",
            ))
        }
        Data::Union(u) => {
            return Err(syn::Error::new_spanned(
                u.union_token,
                "`#[derive(Message)]` does not support unions: use a `#[repr(C)]` struct",
            ))
        }
    }

    let mut errors = Errors::default();

    if !input.generics.params.is_empty() {
        errors.push(syn::Error::new_spanned(
            &input.generics,
            "`#[derive(Message)]` does not support generic types: a message id names one \
             concrete layout",
        ));
    } else if let Some(where_clause) = &input.generics.where_clause {
        errors.push(syn::Error::new_spanned(
            where_clause,
            "`#[derive(Message)]` does not support where clauses on message types",
        ));
    }

    match has_fixed_repr(&input.attrs) {
        Ok(true) => {}
        Ok(false) => errors.push(syn::Error::new_spanned(
            &input.ident,
            "`#[derive(Message)]` needs `#[repr(C)]` or `#[repr(transparent)]`: the bytes are \
             copied verbatim between host and device, so the layout must be fixed",
        )),
        Err(e) => errors.push(e),
    }

    let mut attr = MessageAttr::default();
    let mut first_message_attr = None;
    let mut attr_failed = false;
    for a in input.attrs.iter().filter(|a| a.path().is_ident("message")) {
        first_message_attr.get_or_insert(a);
        let parsed = match &a.meta {
            Meta::List(list) => list.parse_nested_meta(|meta| attr.parse_key(meta)),
            _ => Err(syn::Error::new_spanned(
                a,
                "expected `#[message(id = ...)]`: keys go in parentheses",
            )),
        };
        if let Err(e) = parsed {
            attr_failed = true;
            errors.push(e);
        }
    }

    // A malformed attribute already has its error (parsing stops at the first bad key, so the id
    // may simply not have been reached); "missing" is reported only for well-formed attributes.
    if attr.id.is_none() && !attr_failed {
        // Point at the attribute when there is one (it lacks the key), else at the type name.
        let msg = "missing `#[message(id = ...)]`: every message needs an explicit u32 type id, \
                   stable across builds, e.g. `#[message(id = 0x0001_0001)]`";
        errors.push(match first_message_attr {
            Some(a) => syn::Error::new_spanned(a, msg),
            None => syn::Error::new_spanned(&input.ident, msg),
        });
    }

    errors.finish()?;
    let Some(id) = attr.id else {
        // Unreachable: a missing id pushed an error above. Kept as an error, not a panic.
        return Err(syn::Error::new(Span::call_site(), "missing message id"));
    };

    // A crate that names ringkernel-core directly also names bytemuck directly (it derives `Pod`
    // with it), so an explicit `crate` switches the bytemuck default too.
    let bytemuck = match (&attr.bytemuck, &attr.core) {
        (Some(p), _) => p.clone(),
        (None, Some(_)) => parse_quote!(::bytemuck),
        (None, None) => parse_quote!(::ringkernel::__private::bytemuck),
    };
    let core = attr
        .core
        .unwrap_or_else(|| parse_quote!(::ringkernel::__private::core));

    Ok(MessageDef {
        ident: input.ident.clone(),
        id,
        core,
        bytemuck,
    })
}

impl MessageAttr {
    /// Parses one `key = value` of `#[message(...)]`.
    fn parse_key(&mut self, meta: ParseNestedMeta<'_>) -> syn::Result<()> {
        if meta.path.is_ident("id") {
            if self.id.is_some() {
                return Err(meta.error("duplicate `id` key in `#[message(...)]`"));
            }
            let expr: Expr = meta.value()?.parse()?;
            self.id = Some(parse_id(&expr)?);
        } else if meta.path.is_ident("crate") {
            if self.core.is_some() {
                return Err(meta.error("duplicate `crate` key in `#[message(...)]`"));
            }
            self.core = Some(parse_path_value(&meta)?);
        } else if meta.path.is_ident("bytemuck") {
            if self.bytemuck.is_some() {
                return Err(meta.error("duplicate `bytemuck` key in `#[message(...)]`"));
            }
            self.bytemuck = Some(parse_path_value(&meta)?);
        } else {
            let key = meta
                .path
                .get_ident()
                .map_or_else(|| "this path".to_owned(), |i| format!("`{i}`"));
            return Err(meta.error(format!(
                "unknown `#[message(...)]` key {key}; expected `id`, `crate` or `bytemuck`"
            )));
        }
        Ok(())
    }
}

/// Reads `id = <literal>`: an integer literal that fits a `u32` and is not reserved.
fn parse_id(expr: &Expr) -> syn::Result<u32> {
    if let Expr::Unary(ExprUnary {
        op: UnOp::Neg(_),
        expr: inner,
        ..
    }) = expr
    {
        if let Expr::Lit(ExprLit {
            lit: Lit::Int(_), ..
        }) = &**inner
        {
            return Err(syn::Error::new_spanned(
                expr,
                "message id is negative: type ids are u32 (0 to 0xFFFF_FFFF)",
            ));
        }
    }
    let Expr::Lit(ExprLit {
        lit: Lit::Int(lit), ..
    }) = expr
    else {
        // A const or expression would hide the wire id from readers and reviewers of the type.
        return Err(syn::Error::new_spanned(
            expr,
            "message id must be an integer literal such as `0x0001_0001`, not an expression: \
             the wire id is part of the type's definition",
        ));
    };
    if !matches!(lit.suffix(), "" | "u32") {
        return Err(syn::Error::new_spanned(
            lit,
            format!(
                "message id has suffix `{}`; write it unsuffixed or as `u32`",
                lit.suffix()
            ),
        ));
    }
    let Ok(id) = lit.base10_parse::<u32>() else {
        return Err(syn::Error::new_spanned(
            lit,
            format!("message id {lit} is out of range: type ids are u32 (at most 0xFFFF_FFFF)"),
        ));
    };
    if id >= RESERVED_START {
        return Err(syn::Error::new_spanned(
            lit,
            format!(
                "message id {id:#010x} is reserved: 0xFFFF_0000..=0xFFFF_FFFF belong to the \
                 runtime's control messages; pick an id below 0xFFFF_0000"
            ),
        ));
    }
    Ok(id)
}

/// Reads `key = some::path` or `key = "some::path"`.
pub(crate) fn parse_path_value(meta: &ParseNestedMeta<'_>) -> syn::Result<Path> {
    let value = meta.value()?;
    if value.peek(LitStr) {
        value.parse::<LitStr>()?.parse()
    } else {
        value.parse()
    }
}

/// Whether some `#[repr(...)]` contains `C` or `transparent`.
fn has_fixed_repr(attrs: &[Attribute]) -> syn::Result<bool> {
    let mut fixed = false;
    for a in attrs.iter().filter(|a| a.path().is_ident("repr")) {
        // `Meta` rather than `parse_nested_meta`: it swallows `align(16)` and `packed(2)` whole.
        let items = a.parse_args_with(Punctuated::<Meta, syn::Token![,]>::parse_terminated)?;
        fixed |= items
            .iter()
            .any(|m| m.path().is_ident("C") || m.path().is_ident("transparent"));
    }
    Ok(fixed)
}

/// Independent errors, reported together.
#[derive(Default)]
struct Errors(Option<syn::Error>);

impl Errors {
    fn push(&mut self, e: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(e),
            None => self.0 = Some(e),
        }
    }

    fn finish(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_start_matches_core() {
        assert_eq!(
            RESERVED_START,
            ringkernel_core::MessageTypeId::RESERVED_START
        );
    }

    #[test]
    fn accepts_repr_c_with_other_options() {
        let input: DeriveInput = parse_quote! {
            #[message(id = 0xFFFE_FFFF)]
            #[repr(C, align(16))]
            struct M { a: u64, b: u64 }
        };
        let def = parse(&input).unwrap();
        assert_eq!(def.id, 0xFFFE_FFFF);
        assert_eq!(def.ident, "M");
    }

    #[test]
    fn independent_errors_are_all_reported() {
        let input: DeriveInput = parse_quote! {
            struct M<T> { a: T }
        };
        let Err(err) = parse(&input) else {
            panic!("expected an error");
        };
        // Generic, no repr, no id.
        assert_eq!(err.into_iter().count(), 3);
    }
}
