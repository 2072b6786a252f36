//! The crate's one error type: a message tied to the source tokens it is about.

use proc_macro2::Span;
use quote::ToTokens;

/// Why a construct cannot be transpiled, pointing at the tokens responsible. The proc macro turns
/// each one into a `compile_error!` at `span`.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct Diagnostic {
    /// Where the problem is (the whole construct, or its first token when the span cannot join).
    pub span: Span,
    /// Last token of the construct (equal to `span` for one token): a compile error underlines
    /// `span..=end`, since joining spans is not available on stable.
    pub end: Span,
    /// What is wrong and, where there is one, what to write instead.
    pub message: String,
}

impl Diagnostic {
    /// A diagnostic at `span`.
    pub fn new(span: Span, message: impl Into<String>) -> Self {
        Self {
            span,
            end: span,
            message: message.into(),
        }
    }

    /// A diagnostic covering the tokens of `node`.
    pub fn spanned(node: &(impl ToTokens + ?Sized), message: impl Into<String>) -> Self {
        let mut tokens = node.to_token_stream().into_iter();
        let span = tokens.next().map_or_else(Span::call_site, |t| t.span());
        let end = tokens.last().map_or(span, |t| t.span());
        Self {
            span,
            end,
            message: message.into(),
        }
    }

    /// The diagnostic as a `syn::Error` (for `to_compile_error`), keeping the token range.
    pub fn to_syn_error(&self) -> syn::Error {
        // `new_spanned` takes the range from the first and last token of what it is given.
        let mut first = proc_macro2::Punct::new('#', proc_macro2::Spacing::Alone);
        first.set_span(self.span);
        let mut last = proc_macro2::Punct::new('#', proc_macro2::Spacing::Alone);
        last.set_span(self.end);
        let range: proc_macro2::TokenStream = [
            proc_macro2::TokenTree::Punct(first),
            proc_macro2::TokenTree::Punct(last),
        ]
        .into_iter()
        .collect();
        syn::Error::new_spanned(range, &self.message)
    }
}

/// Shorthand for results of the lowering.
pub type Result<T> = std::result::Result<T, Diagnostic>;
