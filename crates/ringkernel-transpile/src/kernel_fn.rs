//! Kernel functions: per-element / per-cell Rust functions for the global, stencil and FDTD
//! kernel modes, written once and both compiled natively and transpiled.
//!
//! The input is Rust text — the `SOURCE` a `#[gpu_kernel]` module gains (the macro checks it
//! at compile time through [`kernel_module_items`]), or any file's text — holding scalar `const`s,
//! `use` declarations (ignored) and plain `fn`s.
//! Each `fn` is lowered with the handler lowering (`src/lower/`) to one IR function of the
//! same name; [`transpile_kernel_fn`] then wraps one of them with a
//! [`ringkernel_ir::kernel`] mode, whose contract check becomes a diagnostic at the signature.
//!
//! Signature rules (`docs/transpiler.md`, "Kernel functions"):
//! - parameters are plain names or `_`, typed as a scalar (`bool`, `i32`, `u32`, `i64`, `u64`,
//!   `usize`, `isize`, `f32`, `f64`), `&[T]` or `&mut [T]` of a non-`bool` scalar;
//! - a slice is Rust's fat pointer and lowers to **two** parameters, the pointer and its `u64`
//!   length, so indexing checks bounds exactly where Rust does; where native Rust panics (index
//!   out of bounds, division by zero, `MIN / -1`) the kernel traps (the launch fails with an error
//!   the host sees) and the interpreter returns an error;
//! - the result is `()` or a scalar; no generics, `self`, `async`, `unsafe`, `const fn` or ABI.
//!
//! ```
//! use ringkernel_transpile::kernel_fn::{transpile_kernel_fn, KernelMode};
//! let src = "pub fn scale(i: u32, k: f32, v: &mut [f32]) {
//!     let i = i as usize;
//!     if i < v.len() { v[i] *= k; }
//! }";
//! let out = transpile_kernel_fn(src, "scale", &KernelMode::Global, "scale_kernel")
//!     .map_err(|d| d[0].message.clone())?;
//! assert!(out.cuda.contains("__global__ void scale_kernel("));
//! # Ok::<(), String>(())
//! ```

use std::collections::HashMap;

use ringkernel_ir::ir::{Module, ScalarType};
use ringkernel_ir::kernel::stencil::StencilSpec;
use ringkernel_ir::kernel::{fdtd, global, stencil};
use ringkernel_ir::passes::PassManager;

use crate::diagnostic::Diagnostic;
use crate::literal::{const_literal, scalar_type};
use crate::lower::kernel::{lower_kernel_fn, KernelParam, ParamKind};

/// The kernel mode a function is wrapped in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KernelMode {
    /// A grid-stride kernel over `n` elements ([`global`]).
    Global,
    /// A 2D or 3D stencil with a shared tile ([`stencil`]).
    Stencil(StencilSpec),
    /// The persistent, mailbox-steered 2D FDTD kernel ([`fdtd`]).
    Fdtd2d,
}

impl KernelMode {
    /// The mode's name in messages.
    pub fn name(&self) -> &'static str {
        match self {
            KernelMode::Global => "global",
            KernelMode::Stencil(_) => "stencil",
            KernelMode::Fdtd2d => "FDTD",
        }
    }
}

/// A transpiled kernel function.
#[derive(Debug, Clone)]
pub struct KernelFnOutput {
    /// Every `fn` of the source, lowered, verified and optimised (for the interpreter).
    pub module: Module,
    /// The wrapped function's name.
    pub function: String,
    /// The CUDA source: the module and the mode's `extern "C" __global__` kernel.
    pub cuda: String,
}

/// One `fn` of a kernel source, its signature read.
struct KernelItem<'a> {
    item: &'a syn::ItemFn,
    params: Vec<KernelParam>,
    ret: Option<ScalarType>,
}

/// Lowers every `fn` of `src` (a Rust file's text) to IR and runs the standard passes, or
/// returns every problem found (one per function at most, plus item-level problems).
pub fn kernel_module(src: &str) -> Result<Module, Vec<Diagnostic>> {
    let file: syn::File = syn::parse_str(src)
        .map_err(|e| vec![Diagnostic::new(e.span(), format!("not a Rust file: {e}"))])?;
    kernel_module_items(&file.items)
}

/// [`kernel_module`] on parsed items (what `#[gpu_kernel]` passes, so diagnostics keep the
/// spans of the user's tokens).
pub fn kernel_module_items(items: &[syn::Item]) -> Result<Module, Vec<Diagnostic>> {
    let (consts, fns) = read_items(items)?;
    let mut errors = Vec::new();
    let mut module = Module::new();
    for k in &fns {
        match lower_kernel_fn(&consts, k.item, &k.params, k.ret) {
            Ok(f) => module.functions.push(f),
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    PassManager::standard().run(&mut module).map_err(|e| {
        vec![Diagnostic::new(
            proc_macro2::Span::call_site(),
            format!("internal error: the lowered IR was rejected ({e})"),
        )]
    })?;
    Ok(module)
}

/// Lowers `src` ([`kernel_module`]) and wraps `function` in `mode` as the kernel `kernel_name`.
/// A function that does not fit the mode's contract is a diagnostic at its signature.
pub fn transpile_kernel_fn(
    src: &str,
    function: &str,
    mode: &KernelMode,
    kernel_name: &str,
) -> Result<KernelFnOutput, Vec<Diagnostic>> {
    let module = kernel_module(src)?;
    let cuda = match mode {
        KernelMode::Global => global::emit_global(&module, function, kernel_name),
        KernelMode::Stencil(spec) => stencil::emit_stencil(&module, function, kernel_name, spec),
        KernelMode::Fdtd2d => fdtd::emit_fdtd_2d(&module, function, kernel_name),
    }
    .map_err(|e| {
        // Point at the function's signature when the source has it (it parsed above).
        let sig = syn::parse_str::<syn::File>(src).ok().and_then(|f| {
            f.items.into_iter().find_map(|i| match i {
                syn::Item::Fn(f) if f.sig.ident == function => Some(f.sig),
                _ => None,
            })
        });
        let message = format!(
            "`{function}` does not fit the {} kernel mode: {e}",
            mode.name()
        );
        vec![match sig {
            Some(s) => Diagnostic::spanned(&s, message),
            None => Diagnostic::new(proc_macro2::Span::call_site(), message),
        }]
    })?;
    Ok(KernelFnOutput {
        module,
        function: function.to_string(),
        cuda,
    })
}

type Consts = HashMap<String, ringkernel_ir::ir::Literal>;

/// The scalar constants and the functions (with their signatures read) among `all`.
fn read_items(all: &[syn::Item]) -> Result<(Consts, Vec<KernelItem<'_>>), Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let mut consts = HashMap::new();
    let mut items = Vec::new();
    for item in all {
        match item {
            syn::Item::Use(_) => {}
            syn::Item::Const(c) if c.attrs.iter().any(|a| !is_neutral(a)) => {
                errors.push(Diagnostic::spanned(
                    &c.attrs[0],
                    "unsupported attribute on a kernel `const` (`#[cfg]` would pick a different \
                     value natively than on the GPU)",
                ));
            }
            syn::Item::Const(c) => match const_literal(&c.ty, &c.expr) {
                Ok(l) => {
                    consts.insert(c.ident.to_string(), l);
                }
                Err(e) => errors.push(e),
            },
            syn::Item::Fn(f) => match signature(f) {
                Ok((params, ret)) => items.push(KernelItem {
                    item: f,
                    params,
                    ret,
                }),
                Err(e) => errors.push(e),
            },
            other => errors.push(Diagnostic::spanned(
                other,
                "unsupported item: a kernel source holds `fn`s, scalar `const`s and `use`s",
            )),
        }
    }
    if items.is_empty() && errors.is_empty() {
        errors.push(Diagnostic::new(
            proc_macro2::Span::call_site(),
            "the kernel source has no `fn` to transpile",
        ));
    }
    if errors.is_empty() {
        Ok((consts, items))
    } else {
        Err(errors)
    }
}

/// Attributes that do not change what the function computes.
const NEUTRAL_ATTRS: &[&str] = &[
    "doc", "inline", "must_use", "allow", "expect", "warn", "deny",
];

type Signature = (Vec<KernelParam>, Option<ScalarType>);

fn is_neutral(a: &syn::Attribute) -> bool {
    NEUTRAL_ATTRS.iter().any(|n| a.path().is_ident(n))
}

fn signature(f: &syn::ItemFn) -> Result<Signature, Diagnostic> {
    for input in &f.sig.inputs {
        let attrs = match input {
            syn::FnArg::Typed(pt) => &pt.attrs,
            syn::FnArg::Receiver(r) => &r.attrs,
        };
        if let Some(a) = attrs.first() {
            return Err(Diagnostic::spanned(
                a,
                "attributes on kernel function parameters are not supported (`#[cfg]` would \
                 change the native signature but not the GPU one)",
            ));
        }
    }
    let name = f.sig.ident.to_string();
    if !ringkernel_ir::verify::is_usable_identifier(&name) {
        return Err(Diagnostic::spanned(
            &f.sig.ident,
            format!(
                "`{name}` cannot name a GPU function: it is reserved in CUDA C or uses the \
                 runtime's `rk_`/`__` prefix; rename it"
            ),
        ));
    }
    for a in &f.attrs {
        if !is_neutral(a) {
            return Err(Diagnostic::spanned(
                a,
                "unsupported attribute on a kernel function (only `doc`, `inline`, `must_use` \
                 and lint attributes, which do not change what it computes)",
            ));
        }
    }
    let sig = &f.sig;
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        return Err(Diagnostic::spanned(
            &sig.generics,
            "unsupported: generic kernel functions (one concrete C signature per function)",
        ));
    }
    let qualifier = if let Some(c) = &sig.constness {
        Some(Diagnostic::spanned(
            c,
            "unsupported: `const fn` kernel functions",
        ))
    } else if let Some(a) = &sig.asyncness {
        Some(Diagnostic::spanned(
            a,
            "unsupported: async is not supported",
        ))
    } else if let Some(u) = &sig.unsafety {
        Some(Diagnostic::spanned(
            u,
            "unsupported: `unsafe fn` (a kernel function has no raw pointers)",
        ))
    } else if let Some(abi) = &sig.abi {
        Some(Diagnostic::spanned(
            abi,
            "unsupported: `extern` kernel functions",
        ))
    } else {
        sig.variadic
            .as_ref()
            .map(|v| Diagnostic::spanned(v, "unsupported: variadic functions"))
    };
    if let Some(d) = qualifier {
        return Err(d);
    }
    let mut params = Vec::new();
    for arg in &sig.inputs {
        let syn::FnArg::Typed(pt) = arg else {
            return Err(Diagnostic::spanned(
                arg,
                "unsupported: `self` (a kernel function is a free function)",
            ));
        };
        let kind = param_kind(&pt.ty)?;
        let name = match &*pt.pat {
            syn::Pat::Ident(i) if i.by_ref.is_none() && i.subpat.is_none() => {
                if i.mutability.is_some() && matches!(kind, ParamKind::Slice { .. }) {
                    return Err(Diagnostic::spanned(
                        i,
                        "unsupported: a `mut` slice binding (a slice parameter is not reassigned)",
                    ));
                }
                Some(i.ident.to_string())
            }
            syn::Pat::Wild(_) => None,
            other => {
                return Err(Diagnostic::spanned(
                    other,
                    "kernel function parameters must be plain names or `_` (no destructuring)",
                ))
            }
        };
        params.push(KernelParam { name, kind });
    }
    let ret = match &sig.output {
        syn::ReturnType::Default => None,
        syn::ReturnType::Type(_, ty) => match &**ty {
            syn::Type::Tuple(t) if t.elems.is_empty() => None,
            other => Some(scalar_type(other)?),
        },
    };
    Ok((params, ret))
}

/// A parameter type: a scalar, `&[T]` or `&mut [T]`.
fn param_kind(ty: &syn::Type) -> Result<ParamKind, Diagnostic> {
    match ty {
        syn::Type::Paren(p) => param_kind(&p.elem),
        syn::Type::Reference(r) => {
            let syn::Type::Slice(s) = &*r.elem else {
                return Err(Diagnostic::spanned(
                    ty,
                    "unsupported parameter type: references are only supported as slices \
                     (`&[T]`, `&mut [T]`)",
                ));
            };
            let elem = scalar_type(&s.elem)?;
            if elem == ScalarType::Bool {
                return Err(Diagnostic::spanned(
                    &s.elem,
                    "unsupported: `bool` slices (a Rust `bool` is one byte, the IR's is not \
                     addressable memory)",
                ));
            }
            Ok(ParamKind::Slice {
                elem,
                mutable: r.mutability.is_some(),
            })
        }
        other => scalar_type(other).map(ParamKind::Scalar),
    }
}
