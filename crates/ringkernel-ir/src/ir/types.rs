//! Types: scalars, pointers to scalars or structs, and plain structs with ordered scalar fields.

use std::fmt;

/// A scalar value type (Rust name in `Display`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScalarType {
    /// `bool`
    Bool,
    /// `i32`
    I32,
    /// `u32`
    U32,
    /// `i64`
    I64,
    /// `u64`
    U64,
    /// `f32`
    F32,
    /// `f64`
    F64,
}

impl ScalarType {
    /// Every scalar type, in declaration order (for generators and tables).
    pub const ALL: [ScalarType; 7] = [
        Self::Bool,
        Self::I32,
        Self::U32,
        Self::I64,
        Self::U64,
        Self::F32,
        Self::F64,
    ];

    /// True for the four integer types.
    pub fn is_int(self) -> bool {
        matches!(self, Self::I32 | Self::U32 | Self::I64 | Self::U64)
    }

    /// True for `i32` and `i64`.
    pub fn is_signed_int(self) -> bool {
        matches!(self, Self::I32 | Self::I64)
    }

    /// True for `f32` and `f64`.
    pub fn is_float(self) -> bool {
        matches!(self, Self::F32 | Self::F64)
    }

    /// Bit width of an integer or float type (`bool` counts as 8, its storage size).
    pub fn bits(self) -> u32 {
        match self {
            Self::Bool => 8,
            Self::I32 | Self::U32 | Self::F32 => 32,
            Self::I64 | Self::U64 | Self::F64 => 64,
        }
    }

    /// The Rust spelling.
    pub fn rust_name(self) -> &'static str {
        match self {
            Self::Bool => "bool",
            Self::I32 => "i32",
            Self::U32 => "u32",
            Self::I64 => "i64",
            Self::U64 => "u64",
            Self::F32 => "f32",
            Self::F64 => "f64",
        }
    }

    /// The CUDA C spelling. Plain C types rather than `<cstdint>` names: NVRTC needs no header
    /// for them, and they match the CUDA intrinsic signatures exactly (`unsigned long long*` for
    /// 64-bit atomics, where `uint64_t` would be `unsigned long` and not convert).
    pub fn cuda_name(self) -> &'static str {
        match self {
            Self::Bool => "bool",
            Self::I32 => "int",
            Self::U32 => "unsigned int",
            Self::I64 => "long long",
            Self::U64 => "unsigned long long",
            Self::F32 => "float",
            Self::F64 => "double",
        }
    }

    /// The unsigned integer type of the same width (itself for unsigned types, `None` otherwise).
    pub fn unsigned_twin(self) -> Option<ScalarType> {
        match self {
            Self::I32 | Self::U32 => Some(Self::U32),
            Self::I64 | Self::U64 => Some(Self::U64),
            _ => None,
        }
    }
}

impl fmt::Display for ScalarType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.rust_name())
    }
}

/// What a pointer points at.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Pointee {
    /// A scalar.
    Scalar(ScalarType),
    /// A struct defined in the module, by name.
    Struct(String),
}

/// A value type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Type {
    /// No value: the return type of procedures and of some intrinsics.
    Void,
    /// A scalar.
    Scalar(ScalarType),
    /// A plain struct passed by value, by name.
    Struct(String),
    /// `*mut T` (`mutable`) or `*const T`; the emitter writes `T*` or `const T*`.
    Ptr {
        /// The pointed-at type.
        pointee: Pointee,
        /// Whether stores through the pointer are allowed.
        mutable: bool,
    },
}

impl Type {
    /// Shorthand for `Type::Scalar`.
    pub const fn scalar(s: ScalarType) -> Self {
        Self::Scalar(s)
    }

    /// `*mut s`.
    pub fn ptr_mut(s: ScalarType) -> Self {
        Self::Ptr {
            pointee: Pointee::Scalar(s),
            mutable: true,
        }
    }

    /// `*const s`.
    pub fn ptr_const(s: ScalarType) -> Self {
        Self::Ptr {
            pointee: Pointee::Scalar(s),
            mutable: false,
        }
    }

    /// `*mut Name` for a struct.
    pub fn struct_ptr_mut(name: &str) -> Self {
        Self::Ptr {
            pointee: Pointee::Struct(name.to_string()),
            mutable: true,
        }
    }

    /// The scalar inside, if this is a scalar type.
    pub fn as_scalar(&self) -> Option<ScalarType> {
        match self {
            Self::Scalar(s) => Some(*s),
            _ => None,
        }
    }
}

impl From<ScalarType> for Type {
    fn from(s: ScalarType) -> Self {
        Self::Scalar(s)
    }
}

impl From<&Pointee> for Type {
    fn from(p: &Pointee) -> Self {
        match p {
            Pointee::Scalar(s) => Self::Scalar(*s),
            Pointee::Struct(n) => Self::Struct(n.clone()),
        }
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Void => f.write_str("()"),
            Self::Scalar(s) => write!(f, "{s}"),
            Self::Struct(n) => f.write_str(n),
            Self::Ptr { pointee, mutable } => {
                f.write_str(if *mutable { "*mut " } else { "*const " })?;
                match pointee {
                    Pointee::Scalar(s) => write!(f, "{s}"),
                    Pointee::Struct(n) => f.write_str(n),
                }
            }
        }
    }
}

/// One field of a [`StructDef`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldDef {
    /// Field name (a C identifier).
    pub name: String,
    /// Field type: scalars only, so the struct stays plain data with a C layout.
    pub ty: ScalarType,
}

/// A plain struct (`#[repr(C)]` on the Rust side): ordered scalar fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StructDef {
    /// Struct name (a C identifier).
    pub name: String,
    /// Fields in declaration (and memory) order.
    pub fields: Vec<FieldDef>,
}

impl StructDef {
    /// A struct from `(name, type)` pairs.
    pub fn new(name: &str, fields: &[(&str, ScalarType)]) -> Self {
        Self {
            name: name.to_string(),
            fields: fields
                .iter()
                .map(|(n, t)| FieldDef {
                    name: (*n).to_string(),
                    ty: *t,
                })
                .collect(),
        }
    }

    /// The type of field `name`, if it exists.
    pub fn field(&self, name: &str) -> Option<ScalarType> {
        self.fields.iter().find(|f| f.name == name).map(|f| f.ty)
    }
}
