//! Attributes inside a function body are refused: rustc applies some of them before compiling
//! the native function (`#[cfg]` removes code), while the lowering would see the tokens as
//! written, so the GPU code would silently differ from the CPU code.

use syn::visit::Visit;

use crate::diagnostic::{Diagnostic, Result};

/// The first attribute anywhere in `b` (on a statement, expression, match arm, closure, …).
struct FirstAttribute<'a>(Option<&'a syn::Attribute>);

impl<'a> Visit<'a> for FirstAttribute<'a> {
    fn visit_attribute(&mut self, a: &'a syn::Attribute) {
        if self.0.is_none() {
            self.0 = Some(a);
        }
    }
}

/// Fails at the first attribute inside `b`.
pub(crate) fn reject_body_attributes(b: &syn::Block) -> Result<()> {
    let mut v = FirstAttribute(None);
    v.visit_block(b);
    match v.0 {
        Some(a) => Err(Diagnostic::spanned(
            a,
            "attributes inside a GPU function body are not supported (`#[cfg]` would remove \
             code from the native build but not from the GPU build)",
        )),
        None => Ok(()),
    }
}
