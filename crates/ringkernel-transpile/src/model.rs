//! Reading a `#[gpu_actor]` module: its plain-data structs, scalar constants and `impl Actor`
//! blocks, with the C layout of every struct an actor uses.
//!
//! Only what an actor names is checked: a struct that no `impl Actor` uses as `State`, `Msg` or
//! `Reply` may hold anything, since it never reaches the device.

use std::collections::HashMap;

use ringkernel_ir::ir::{Literal, ScalarType};
use syn::{Fields, ImplItem, Item, ItemMod, ItemStruct, Type};

use crate::diagnostic::{Diagnostic, Result};
use crate::literal::const_literal;

/// Longest array field: elements become separate C fields, and a dynamic index becomes a chain
/// of comparisons, so the length is kept small.
pub const MAX_ARRAY_LEN: usize = 64;

/// A field of a device struct: a scalar, or a fixed array of one scalar type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldLayout {
    /// The Rust field name.
    pub name: String,
    /// The element type.
    pub ty: ScalarType,
    /// `Some(n)` for `[ty; n]`.
    pub len: Option<usize>,
    /// Byte offset in the `#[repr(C)]` layout.
    pub offset: usize,
}

impl FieldLayout {
    /// Number of scalars (1, or the array length).
    pub fn count(&self) -> usize {
        self.len.unwrap_or(1)
    }

    /// Name of C field `k` of this field: the name itself, or `name_k` for array element `k`.
    pub fn c_name(&self, k: usize) -> String {
        match self.len {
            None => self.name.clone(),
            Some(_) => format!("{}_{k}", self.name),
        }
    }
}

/// The `#[repr(C)]` layout of a device struct, computed from its field types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StructLayout {
    /// The Rust name.
    pub name: String,
    /// The C name (`module_Name`, so two modules may both define `State`).
    pub c_name: String,
    /// Size in bytes (a multiple of the alignment).
    pub size: usize,
    /// Alignment in bytes (the largest field scalar's size).
    pub align: usize,
    /// Fields in declaration (and memory) order.
    pub fields: Vec<FieldLayout>,
}

impl StructLayout {
    /// Every scalar of the struct in memory order: `(field index, element index, type, offset)`.
    pub fn scalars(&self) -> impl Iterator<Item = (usize, usize, ScalarType, usize)> + '_ {
        self.fields.iter().enumerate().flat_map(|(i, f)| {
            let step = scalar_size(f.ty);
            (0..f.count()).map(move |k| (i, k, f.ty, f.offset + k * step))
        })
    }

    /// The field named `name`.
    pub fn field(&self, name: &str) -> Option<&FieldLayout> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// The name of the unit type `()`, a message or reply with no bytes (acknowledgement only).
pub const UNIT: &str = "()";

/// The layout of `()`: no fields, size 0. Its C stand-in is an empty struct (size 1 in C++), so
/// no size is asserted for it; nothing is ever read or written through it.
fn unit_layout(module: &str) -> StructLayout {
    StructLayout {
        name: UNIT.to_string(),
        c_name: format!("{module}_Unit"),
        size: 0,
        align: 1,
        fields: Vec::new(),
    }
}

/// Bytes of a field scalar (never `bool`: it is not `Pod`).
pub fn scalar_size(t: ScalarType) -> usize {
    (t.bits() / 8) as usize
}

/// One `impl Actor for T` of the module.
#[derive(Debug, Clone)]
pub struct ActorModel {
    /// Index of the impl in the module's items.
    pub item_index: usize,
    /// The `Self` type's last path segment (`Account`).
    pub self_name: String,
    /// Rust names of the state, message and reply structs.
    pub state: String,
    /// See `state`.
    pub msg: String,
    /// See `state`.
    pub reply: String,
    /// The `handle` function.
    pub handle: syn::ImplItemFn,
}

/// What lowering needs from the module.
#[derive(Debug, Clone)]
pub struct ModuleModel {
    /// The module's name.
    pub name: String,
    /// Layouts of the structs the actors use, by Rust name.
    pub structs: HashMap<String, StructLayout>,
    /// Scalar constants defined in the module.
    pub consts: HashMap<String, Literal>,
    /// The actors, in item order.
    pub actors: Vec<ActorModel>,
}

/// Reads `module`; every problem found is reported, not only the first.
pub fn read_module(module: &ItemMod) -> std::result::Result<ModuleModel, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let Some((_, items)) = &module.content else {
        return Err(vec![Diagnostic::spanned(
            module,
            "`#[gpu_actor]` needs the module's items inline (`mod name { ... }`), since the \
             macro must see the structs and the handler",
        )]);
    };
    let name = module.ident.to_string();
    let mut raw_structs: HashMap<String, &ItemStruct> = HashMap::new();
    let mut consts = HashMap::new();
    for item in items {
        match item {
            Item::Struct(s) => {
                raw_structs.insert(s.ident.to_string(), s);
            }
            Item::Const(c) => {
                // Non-scalar constants are fine as long as no handler reads them.
                if let Ok(lit) = const_literal(&c.ty, &c.expr) {
                    consts.insert(c.ident.to_string(), lit);
                }
            }
            _ => {}
        }
    }
    let mut actors = Vec::new();
    for (item_index, item) in items.iter().enumerate() {
        if let Item::Impl(imp) = item {
            match read_actor(item_index, imp) {
                Ok(Some(a)) => actors.push(a),
                Ok(None) => {}
                Err(e) => errors.push(e),
            }
        }
    }
    if actors.is_empty() && errors.is_empty() {
        errors.push(Diagnostic::spanned(
            &module.ident,
            "`#[gpu_actor]` module has no `impl Actor for ...` block to transpile",
        ));
    }
    let mut structs = HashMap::new();
    let mut checked = std::collections::HashSet::new();
    for a in &actors {
        for (role, ty) in [("State", &a.state), ("Msg", &a.msg), ("Reply", &a.reply)] {
            // Each struct is checked (and its problems reported) once, whatever its roles.
            if ty == UNIT && role != "State" {
                structs.insert(ty.clone(), unit_layout(&name));
                continue;
            }
            if !checked.insert(ty.clone()) {
                continue;
            }
            match raw_structs.get(ty.as_str()).filter(|_| ty != UNIT) {
                Some(s) => match layout(&name, s) {
                    Ok(l) => {
                        structs.insert(ty.clone(), l);
                    }
                    Err(mut e) => errors.append(&mut e),
                },
                None => errors.push(Diagnostic::spanned(
                    &a.handle.sig,
                    format!(
                        "`type {role} = {ty}`: the transpiler only sees structs defined inside \
                         the `#[gpu_actor]` module; define `{ty}` there"
                    ),
                )),
            }
        }
    }
    if errors.is_empty() {
        Ok(ModuleModel {
            name,
            structs,
            consts,
            actors,
        })
    } else {
        Err(errors)
    }
}

/// The last path segment of a single-segment or `Self::`-free type path.
fn type_name(ty: &Type) -> Option<String> {
    match ty {
        Type::Path(p) if p.qself.is_none() && p.path.segments.len() == 1 => p
            .path
            .segments
            .first()
            .filter(|s| s.arguments.is_none())
            .map(|s| s.ident.to_string()),
        Type::Paren(p) => type_name(&p.elem),
        Type::Tuple(t) if t.elems.is_empty() => Some(UNIT.to_string()),
        _ => None,
    }
}

fn read_actor(item_index: usize, imp: &syn::ItemImpl) -> Result<Option<ActorModel>> {
    let Some((_, trait_path, _)) = &imp.trait_ else {
        return Ok(None);
    };
    if trait_path
        .segments
        .last()
        .is_none_or(|s| s.ident != "Actor")
    {
        return Ok(None);
    }
    if !imp.generics.params.is_empty() {
        return Err(Diagnostic::spanned(
            &imp.generics,
            "`#[gpu_actor]` does not support generic actors: the CUDA handler is generated for \
             one concrete state, message and reply",
        ));
    }
    let self_name = match &*imp.self_ty {
        Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
    .ok_or_else(|| Diagnostic::spanned(&imp.self_ty, "the actor type must be a named type"))?;
    let mut state = None;
    let mut msg = None;
    let mut reply = None;
    let mut handle = None;
    for it in &imp.items {
        match it {
            ImplItem::Type(t) => {
                let slot = match t.ident.to_string().as_str() {
                    "State" => &mut state,
                    "Msg" => &mut msg,
                    "Reply" => &mut reply,
                    _ => continue,
                };
                *slot = Some(type_name(&t.ty).ok_or_else(|| {
                    Diagnostic::spanned(
                        &t.ty,
                        "state, message and reply must name a `#[repr(C)]` struct defined in \
                         the `#[gpu_actor]` module (or `()` for a message or reply); generic \
                         and foreign types are not supported",
                    )
                })?);
            }
            ImplItem::Fn(f) if f.sig.ident == "handle" => handle = Some(f.clone()),
            ImplItem::Fn(f) if f.sig.ident == "cuda_handler" => {
                return Err(Diagnostic::spanned(
                    &f.sig,
                    "`#[gpu_actor]` generates `cuda_handler`; remove this hand-written one",
                ))
            }
            _ => {}
        }
    }
    let missing = |what: &str| {
        Diagnostic::spanned(
            &imp.self_ty,
            format!("`impl Actor` in a `#[gpu_actor]` module needs `{what}`"),
        )
    };
    Ok(Some(ActorModel {
        item_index,
        self_name,
        state: state.ok_or_else(|| missing("type State"))?,
        msg: msg.ok_or_else(|| missing("type Msg"))?,
        reply: reply.ok_or_else(|| missing("type Reply"))?,
        handle: handle.ok_or_else(|| missing("fn handle"))?,
    }))
}

/// A field scalar type: what `bytemuck::Pod` and the IR both have (no `bool`, no 8/16-bit).
fn field_scalar(ty: &Type) -> Option<ScalarType> {
    Some(match type_name(ty)?.as_str() {
        "i32" => ScalarType::I32,
        "u32" => ScalarType::U32,
        "i64" => ScalarType::I64,
        "u64" => ScalarType::U64,
        "f32" => ScalarType::F32,
        "f64" => ScalarType::F64,
        _ => return None,
    })
}

fn array_len(len: &syn::Expr) -> Option<usize> {
    match len {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(i),
            ..
        }) => i.base10_parse::<usize>().ok(),
        _ => None,
    }
}

fn has_repr_c(s: &ItemStruct) -> bool {
    s.attrs.iter().any(|a| {
        if !a.path().is_ident("repr") {
            return false;
        }
        let mut c = false;
        let _ = a.parse_nested_meta(|m| {
            if m.path.is_ident("C") {
                c = true;
            }
            Ok(())
        });
        c
    })
}

const FIELD_TYPES: &str = "`i32`, `u32`, `i64`, `u64`, `f32`, `f64` or a fixed array of one of \
                           them";

fn layout(module: &str, s: &ItemStruct) -> std::result::Result<StructLayout, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    if !has_repr_c(s) {
        errors.push(Diagnostic::spanned(
            &s.ident,
            "a device struct needs `#[repr(C)]`: its bytes are copied to the GPU, whose C view \
             must have the same layout",
        ));
    }
    if !s.generics.params.is_empty() {
        errors.push(Diagnostic::spanned(
            &s.generics,
            "a device struct cannot be generic",
        ));
    }
    let Fields::Named(named) = &s.fields else {
        errors.push(Diagnostic::spanned(
            &s.ident,
            "a device struct needs named fields (tuple and unit structs have no C field names)",
        ));
        return Err(errors);
    };
    let mut fields = Vec::new();
    let mut offset = 0usize;
    let mut align = 1usize;
    for f in &named.named {
        let Some(ident) = &f.ident else { continue };
        let (ty, len) = match &f.ty {
            Type::Array(a) => match (field_scalar(&a.elem), array_len(&a.len)) {
                (Some(t), Some(n)) if (1..=MAX_ARRAY_LEN).contains(&n) => (t, Some(n)),
                (Some(_), _) => {
                    errors.push(Diagnostic::spanned(
                        &a.len,
                        format!(
                            "array length must be an integer literal from 1 to {MAX_ARRAY_LEN}"
                        ),
                    ));
                    continue;
                }
                (None, _) => {
                    errors.push(Diagnostic::spanned(
                        &f.ty,
                        format!("unsupported field type: use {FIELD_TYPES}"),
                    ));
                    continue;
                }
            },
            other => match field_scalar(other) {
                Some(t) => (t, None),
                None => {
                    errors.push(Diagnostic::spanned(
                        &f.ty,
                        format!("unsupported field type: use {FIELD_TYPES}"),
                    ));
                    continue;
                }
            },
        };
        let size = scalar_size(ty);
        align = align.max(size);
        offset = offset.div_ceil(size) * size;
        fields.push(FieldLayout {
            name: ident.to_string(),
            ty,
            len,
            offset,
        });
        offset += size * len.unwrap_or(1);
    }
    if fields.is_empty() && errors.is_empty() {
        errors.push(Diagnostic::spanned(
            &s.ident,
            "a device struct needs at least one field (an empty C struct has size 1, Rust's 0)",
        ));
    }
    // Flattened array elements must not collide with a field of the same spelling.
    for f in &fields {
        for k in 0..f.count() {
            let c = f.c_name(k);
            if f.len.is_some() && fields.iter().any(|g| g.name == c) {
                errors.push(Diagnostic::spanned(
                    &s.ident,
                    format!(
                        "field `{c}` collides with element {k} of array field `{}`, which is \
                         spelled `{c}` in C",
                        f.name
                    ),
                ));
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(StructLayout {
        name: s.ident.to_string(),
        c_name: format!("{module}_{}", s.ident),
        size: offset.div_ceil(align) * align,
        align,
        fields,
    })
}
