//! Memory layout of WIT types on wasm32, as wit-parser's [`SizeAlign`]
//! computes it: this module only wraps it, so that no backend re-derives a
//! size, an alignment or an offset by hand.

use std::fmt;

use wit_parser::abi::WasmType;
use wit_parser::{FlagsRepr, Int, Resolve, SizeAlign, Type, TypeDefKind};

use super::AbiError;

/// Size and alignment of a value in linear memory (wasm32), in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Layout {
    pub size: usize,
    pub align: usize,
}

/// A scalar as it sits in linear memory: what a [`Step::Load`] reads and a
/// [`Step::Store`] writes.
///
/// Narrow integers travel as a core `i32`: a load of `U8`/`U16`
/// zero-extends, of `S8`/`S16` sign-extends, and a store keeps the low bits.
///
/// [`Step::Load`]: super::Step::Load
/// [`Step::Store`]: super::Step::Store
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MemType {
    U8,
    S8,
    U16,
    S16,
    I32,
    I64,
    F32,
    F64,
    /// A 4-byte pointer (core `i32` on wasm32).
    Pointer,
    /// A 4-byte length (core `i32` on wasm32).
    Length,
}

impl MemType {
    /// Bytes read or written.
    pub fn size(self) -> usize {
        match self {
            MemType::U8 | MemType::S8 => 1,
            MemType::U16 | MemType::S16 => 2,
            MemType::I32 | MemType::F32 | MemType::Pointer | MemType::Length => 4,
            MemType::I64 | MemType::F64 => 8,
        }
    }

    /// The core type of the value on the stack.
    pub fn core(self) -> WasmType {
        match self {
            MemType::U8 | MemType::S8 | MemType::U16 | MemType::S16 | MemType::I32 => WasmType::I32,
            MemType::I64 => WasmType::I64,
            MemType::F32 => WasmType::F32,
            MemType::F64 => WasmType::F64,
            MemType::Pointer => WasmType::Pointer,
            MemType::Length => WasmType::Length,
        }
    }

    /// How a discriminant or a flags word of this integer width is stored.
    pub fn of_int(int: Int) -> MemType {
        match int {
            Int::U8 => MemType::U8,
            Int::U16 => MemType::U16,
            Int::U32 => MemType::I32,
            Int::U64 => MemType::I64,
        }
    }
}

/// How the bits of a `flags` value are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FlagsLayout {
    /// Number of flags.
    pub count: usize,
    /// Number of words: one for up to 32 flags, `ceil(count / 32)` above
    /// (flat: that many core `i32`s; flag `i` is bit `i % 32` of word `i / 32`).
    pub words: usize,
    /// How each word is stored: `U8` for up to 8 flags, `U16` up to 16,
    /// `I32` words (at offsets 0, 4, 8, ...) above.
    pub word: MemType,
}

/// The shape of a type in memory, beyond its size and alignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    /// One scalar at offset 0: numbers, `bool`, `char`, handles.
    Scalar(MemType),
    /// `string` and `list<T>`: a pointer at offset 0 and a length (in
    /// characters of UTF-8 / elements) at offset 4.
    PointerLength,
    /// `record` and `tuple`: the offset of each field, in order.
    Fields(Vec<usize>),
    /// `variant`, `enum`, `option` (cases none, some) and `result` (ok,
    /// err): the discriminant at offset 0, stored as `discriminant`, and
    /// every payload at `payload_offset`.
    Variant {
        discriminant: MemType,
        payload_offset: usize,
    },
    Flags(FlagsLayout),
}

/// Size, alignment and shape of one type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeLayout {
    pub size: usize,
    pub align: usize,
    pub shape: Shape,
}

/// wit-parser's [`SizeAlign`], filled for one [`Resolve`], with wasm32 answers.
#[derive(Default)]
pub struct Layouts {
    sizes: SizeAlign,
}

impl fmt::Debug for Layouts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Layouts").finish_non_exhaustive()
    }
}

impl Layouts {
    /// Computes the layout of every type of `resolve`.
    pub fn new(resolve: &Resolve) -> Result<Layouts, AbiError> {
        let mut sizes = SizeAlign::default();
        sizes
            .fill(resolve)
            .map_err(|e| AbiError::Layout(e.to_string()))?;
        Ok(Layouts { sizes })
    }

    /// The wrapped wit-parser tables, for anything not answered here.
    pub fn size_align(&self) -> &SizeAlign {
        &self.sizes
    }

    /// Size and alignment of `ty`.
    pub fn layout(&self, ty: &Type) -> Layout {
        Layout {
            size: self.sizes.size(ty).size_wasm32(),
            align: self.sizes.align(ty).align_wasm32(),
        }
    }

    /// Size and alignment of a sequence of values laid out as a record
    /// (indirect parameters).
    pub fn record_of<'a>(&self, types: impl IntoIterator<Item = &'a Type>) -> Layout {
        let info = self.sizes.record(types);
        Layout {
            size: info.size.size_wasm32(),
            align: info.align.align_wasm32(),
        }
    }

    /// Offsets of a sequence of values laid out as a record.
    pub fn offsets<'a>(&self, types: impl IntoIterator<Item = &'a Type>) -> Vec<usize> {
        self.sizes
            .field_offsets(types)
            .into_iter()
            .map(|(off, _)| off.size_wasm32())
            .collect()
    }

    /// Offset of the payload of a variant-like type with these cases.
    pub fn payload_offset<'a>(
        &self,
        discriminant: Int,
        cases: impl IntoIterator<Item = Option<&'a Type>>,
    ) -> usize {
        self.sizes.payload_offset(discriminant, cases).size_wasm32()
    }

    /// Everything about how `ty` sits in memory (aliases are followed).
    pub fn type_layout(&self, resolve: &Resolve, ty: &Type) -> TypeLayout {
        let Layout { size, align } = self.layout(ty);
        let shape = match ty {
            Type::String => Shape::PointerLength,
            Type::Id(id) => match &resolve.types[*id].kind {
                TypeDefKind::Type(t) => return self.type_layout(resolve, t),
                TypeDefKind::List(_) | TypeDefKind::Map(..) => Shape::PointerLength,
                TypeDefKind::Record(r) => {
                    Shape::Fields(self.offsets(r.fields.iter().map(|f| &f.ty)))
                }
                TypeDefKind::Tuple(t) => Shape::Fields(self.offsets(&t.types)),
                TypeDefKind::FixedLengthList(t, n) => {
                    Shape::Fields(self.offsets((0..*n).map(|_| t)))
                }
                TypeDefKind::Flags(f) => Shape::Flags(flags_layout(f.flags.len(), f.repr())),
                TypeDefKind::Variant(v) => Shape::Variant {
                    discriminant: MemType::of_int(v.tag()),
                    payload_offset: self
                        .payload_offset(v.tag(), v.cases.iter().map(|c| c.ty.as_ref())),
                },
                TypeDefKind::Enum(e) => Shape::Variant {
                    discriminant: MemType::of_int(e.tag()),
                    payload_offset: self.payload_offset(e.tag(), []),
                },
                TypeDefKind::Option(t) => Shape::Variant {
                    discriminant: MemType::U8,
                    payload_offset: self.payload_offset(Int::U8, [None, Some(t)]),
                },
                TypeDefKind::Result(r) => Shape::Variant {
                    discriminant: MemType::U8,
                    payload_offset: self.payload_offset(Int::U8, [r.ok.as_ref(), r.err.as_ref()]),
                },
                TypeDefKind::Handle(_)
                | TypeDefKind::Future(_)
                | TypeDefKind::Stream(_)
                | TypeDefKind::Resource
                | TypeDefKind::Unknown => Shape::Scalar(MemType::I32),
            },
            prim => Shape::Scalar(prim_mem(prim).unwrap_or(MemType::I32)),
        };
        TypeLayout { size, align, shape }
    }
}

/// The flags layout for `count` flags stored as `repr`.
pub(crate) fn flags_layout(count: usize, repr: FlagsRepr) -> FlagsLayout {
    let (words, word) = match repr {
        FlagsRepr::U8 => (1, MemType::U8),
        FlagsRepr::U16 => (1, MemType::U16),
        FlagsRepr::U32(n) => (n, MemType::I32),
    };
    FlagsLayout { count, words, word }
}

/// How a primitive type is stored, or `None` for anything else.
pub(crate) fn prim_mem(ty: &Type) -> Option<MemType> {
    Some(match ty {
        Type::Bool | Type::U8 => MemType::U8,
        Type::S8 => MemType::S8,
        Type::U16 => MemType::U16,
        Type::S16 => MemType::S16,
        Type::U32 | Type::S32 | Type::Char => MemType::I32,
        Type::U64 | Type::S64 => MemType::I64,
        Type::F32 => MemType::F32,
        Type::F64 => MemType::F64,
        Type::String | Type::ErrorContext | Type::Id(_) => return None,
    })
}
