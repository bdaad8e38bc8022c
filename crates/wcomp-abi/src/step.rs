//! The lift/lower steps, and how they are derived from a WIT type.
//!
//! # The machine
//!
//! A `Vec<Step>` runs on an operand stack. Operands are either *values* (the
//! language's own representation of a WIT value) or *core values* (a core
//! wasm value of some [`WasmType`]). Each step documents what it pops and
//! pushes. There is also an implicit *base address*: [`Step::Load`] and
//! [`Step::Store`] read and write at `base + offset`. At the top of a plan
//! the base is the parameter area or the return area (see
//! [`ValuePlan`](super::ValuePlan)); a list's element steps run with the
//! base at the element.
//!
//! Compound steps carry nested [`Block`]s. A block runs on a fresh stack,
//! seeded as the step says, with the same base address as the step (list
//! elements aside); what it leaves on its stack is handed back to the step.
//!
//! Four kinds of plans are built from the same steps:
//!
//! * **flat lower**: `[value] -> [c1 .. cn]`, the core values of the type's
//!   flattening (wit-parser's `push_flat`), in order;
//! * **flat lift**: `[c1 .. cn] -> [value]`;
//! * **store** (lower into memory): `[value] -> []`, writes at `base`;
//! * **load** (lift from memory): `[] -> [value]`, reads at `base`.
//!
//! A plan never needs the backend to flatten a type or compute an offset.

use wit_parser::abi::{FlatTypes, WasmType};
use wit_parser::{Handle, Int, Resolve, Type, TypeDefKind, TypeId};

use super::layout::{Layout, Layouts, MemType, flags_layout, prim_mem};

/// One step of a lift or lower plan; see the [module docs](self) for the
/// machine it runs on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    // ---- primitives, lowering: pop a value, push one core value ----
    /// `bool` -> `i32`: 1 for true, 0 for false.
    I32FromBool,
    /// `u8` -> `i32`, zero-extended.
    I32FromU8,
    /// `s8` -> `i32`, sign-extended.
    I32FromS8,
    /// `u16` -> `i32`, zero-extended.
    I32FromU16,
    /// `s16` -> `i32`, sign-extended.
    I32FromS16,
    /// `u32` -> `i32`, same bits.
    I32FromU32,
    /// `s32` -> `i32`.
    I32FromS32,
    /// `u64` -> `i64`, same bits.
    I64FromU64,
    /// `s64` -> `i64`.
    I64FromS64,
    /// `f32` -> core `f32`. Any NaN may be passed as it is (the spec lets
    /// the lowering side scramble NaN payloads).
    CoreF32FromF32,
    /// `f64` -> core `f64`, like [`Step::CoreF32FromF32`].
    CoreF64FromF64,
    /// `char` -> `i32`: the Unicode scalar value.
    I32FromChar,

    // ---- primitives, lifting: pop one core value, push a value ----
    /// `i32` -> `bool`: any non-zero value is true.
    BoolFromI32,
    /// `i32` -> `u8`: keep the low 8 bits.
    U8FromI32,
    /// `i32` -> `s8`: keep the low 8 bits, as signed.
    S8FromI32,
    /// `i32` -> `u16`: keep the low 16 bits.
    U16FromI32,
    /// `i32` -> `s16`: keep the low 16 bits, as signed.
    S16FromI32,
    /// `i32` -> `u32`, same bits.
    U32FromI32,
    /// `i32` -> `s32`.
    S32FromI32,
    /// `i64` -> `u64`, same bits.
    U64FromI64,
    /// `i64` -> `s64`.
    S64FromI64,
    /// core `f32` -> `f32`. The spec's `canonicalize_nan32` replaces any NaN
    /// with the canonical NaN `0x7fc0_0000`; this is required only in the
    /// deterministic profile, so a backend may keep the bits as they are.
    F32FromCoreF32,
    /// core `f64` -> `f64`; NaN as for [`Step::F32FromCoreF32`], canonical
    /// NaN `0x7ff8_0000_0000_0000`.
    F64FromCoreF64,
    /// `i32` -> `char`: must be a Unicode scalar value (below 0x110000 and
    /// not a surrogate), otherwise trap.
    CharFromI32,

    // ---- memory ----
    /// Push the core value of type `ty.core()` read at `base + offset`
    /// (narrow integers zero- or sign-extended to `i32`).
    Load { offset: usize, ty: MemType },
    /// Pop a core value and write it as `ty` at `base + offset`.
    Store { offset: usize, ty: MemType },

    // ---- joining variant payloads (flat plans only) ----
    /// Pop `casts.len()` core values and push each converted by its cast
    /// (the first cast applies to the deepest of them). Emitted only when
    /// some cast is not the identity.
    Casts(Vec<Cast>),
    /// Push a zero of each core type, in order (padding a variant case to
    /// the joined flat types).
    Zeros(Vec<WasmType>),
    /// Pop and discard `count` core values.
    Drop { count: usize },

    // ---- strings and lists ----
    /// Pop a string, push its UTF-8 bytes as (pointer, length in bytes).
    /// With `realloc`, the bytes must be in memory allocated with
    /// `cabi_realloc` (align 1) whose ownership passes to the receiver (an
    /// export's result, freed by its post-return function); without, the
    /// memory is only borrowed until the call returns.
    StringLower { realloc: bool },
    /// Pop (pointer, length), push the string made from those UTF-8 bytes.
    /// The receiver owns the bytes (allocated with `cabi_realloc`, align 1).
    /// Invalid UTF-8 must trap.
    StringLift,
    /// Pop a list, push (pointer, element count). The elements are laid out
    /// `element.size` bytes apart in a buffer aligned to `element.align`;
    /// `store` (a store plan) writes one element with the base at it.
    /// With `byte_copy`, the element is plain numbers whose memory form is
    /// the language's (little-endian), so the buffer may be the language's
    /// own storage and `store` need not run. `realloc` as for
    /// [`Step::StringLower`] (without it, a buffer the backend had to fill
    /// must be freed after the call).
    ListLower {
        element: Type,
        layout: Layout,
        store: Vec<Step>,
        byte_copy: bool,
        realloc: bool,
    },
    /// Pop (pointer, element count), push the list. `load` (a load plan)
    /// reads one element with the base at it; with `byte_copy` the buffer
    /// may become the language's storage as is. The receiver owns the
    /// buffer (`count * layout.size` bytes, align `layout.align`, allocated
    /// with `cabi_realloc`): keep it or free it once the elements are read.
    ListLift {
        element: Type,
        layout: Layout,
        load: Vec<Step>,
        byte_copy: bool,
    },

    // ---- records and tuples ----
    /// Pop a record of type `ty`; run `fields[i]` seeded with field `i`'s
    /// value; push what the blocks leave, in field order.
    RecordLower { ty: TypeId, fields: Vec<Block> },
    /// Pop `sum(fields[i].inputs)` core values (none in a load plan), run
    /// `fields[i]` seeded with its slice of them; each leaves the field's
    /// value; push the record.
    RecordLift { ty: TypeId, fields: Vec<Block> },
    /// As [`Step::RecordLower`], for a tuple.
    TupleLower { ty: TypeId, fields: Vec<Block> },
    /// As [`Step::RecordLift`], for a tuple.
    TupleLift { ty: TypeId, fields: Vec<Block> },

    // ---- flags and enums ----
    /// Pop a flags value, push `words` core `i32`s: flag `i` (declaration
    /// order) is bit `i % 32` of word `i / 32`.
    FlagsLower {
        ty: TypeId,
        count: usize,
        words: usize,
    },
    /// Pop `words` core `i32`s, push the flags value (bits past `count`
    /// are ignored).
    FlagsLift {
        ty: TypeId,
        count: usize,
        words: usize,
    },
    /// Pop an enum value, push its case index as a core `i32`.
    EnumLower { ty: TypeId, cases: usize },
    /// Pop a core `i32`, push the enum case with that index (trap if
    /// `>= cases`).
    EnumLift { ty: TypeId, cases: usize },

    // ---- variants, options, results ----
    /// Pop a variant value of case `i`; push the case index as a core `i32`,
    /// then run `cases[i]` seeded with the payload (or nothing) and push
    /// what it leaves: in a flat plan, the joined payload values; in a
    /// store plan, nothing (the payload is stored; a `Store` of the
    /// discriminant follows the step).
    VariantLower { ty: TypeId, cases: Vec<Block> },
    /// Pop `joined.len()` core values (the joined payload, none in a load
    /// plan) and, below them, the discriminant `i` (a core `i32`); trap if
    /// `i >= cases.len()`; run `cases[i]` seeded with the joined values; it
    /// leaves the payload (or nothing); push the variant.
    VariantLift {
        ty: TypeId,
        joined: Vec<WasmType>,
        cases: Vec<Block>,
    },
    /// [`Step::VariantLower`] for `option<T>`: cases `[none, some]`.
    OptionLower {
        ty: TypeId,
        none: Block,
        some: Block,
    },
    /// [`Step::VariantLift`] for `option<T>`.
    OptionLift {
        ty: TypeId,
        joined: Vec<WasmType>,
        none: Block,
        some: Block,
    },
    /// [`Step::VariantLower`] for `result<T, E>`: cases `[ok, err]`, each
    /// seeded with its payload if it has one.
    ResultLower { ty: TypeId, ok: Block, err: Block },
    /// [`Step::VariantLift`] for `result<T, E>`.
    ResultLift {
        ty: TypeId,
        joined: Vec<WasmType>,
        ok: Block,
        err: Block,
    },

    // ---- resources ----
    /// Pop a handle to `resource`, push its core `i32`. `own`: ownership
    /// passes to the receiver (the sender must not drop it); borrow: the
    /// handle stays the sender's. `exported`: the resource is implemented
    /// by this guest, so the `i32` is a handle from `[resource-new]` (own)
    /// or, for a borrow returned to the host, not allowed by the spec.
    HandleLower {
        resource: TypeId,
        own: bool,
        exported: bool,
    },
    /// Pop a core `i32`, push a handle to `resource`. For an imported
    /// resource the `i32` is a handle index (own: the receiver must drop it
    /// once; borrow: valid for the call only). For a resource this guest
    /// exports, a `borrow` is the representation itself (what the guest
    /// gave `[resource-new]`), and an `own` is a handle to turn into the
    /// representation with `[resource-rep]`, owning it from then on.
    HandleLift {
        resource: TypeId,
        own: bool,
        exported: bool,
    },

    // ---- post-return (free) plans: pop and push nothing ----
    /// Free the string whose (pointer, length) is at `base + offset`
    /// (align 1).
    FreeString { offset: usize },
    /// Free the list whose (pointer, count) is at `base + offset`: first
    /// run `element` with the base at each element (empty when elements own
    /// nothing), then free the buffer (`count * layout.size` bytes, align
    /// `layout.align`).
    FreeList {
        offset: usize,
        layout: Layout,
        element: Vec<Step>,
    },
    /// Read the discriminant `i` stored as `discriminant` at `base +
    /// offset` and run `cases[i]` (payload frees, offsets already final).
    FreeVariant {
        offset: usize,
        discriminant: MemType,
        cases: Vec<Vec<Step>>,
    },
}

/// A nested step sequence of a compound step: it runs on a fresh stack
/// seeded with `inputs` core values (lifts) or with the part's value
/// (lowers); see each step.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Block {
    /// Core values a lift block takes from the step's operands (0 in load
    /// plans and in every lower block).
    pub inputs: usize,
    pub steps: Vec<Step>,
}

/// A conversion of one core value to another core type, used to join the
/// flat payloads of variant cases. Lowering (payload type -> joined type):
/// `f32 -> i32` reinterprets the bits, `i32 -> i64` and `f32 -> i64`
/// zero-extend the (reinterpreted) bits, `f64 -> i64` reinterprets,
/// pointer/length to `i32`/`i64`/`PointerOrI64` keep the address.
/// Lifting is the inverse: wrap to 32 bits, then reinterpret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cast {
    pub from: WasmType,
    pub to: WasmType,
}

/// Where a plan puts or finds a value: the flat core values, or memory at
/// an offset from the base address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum At {
    Flat,
    Mem(usize),
}

impl At {
    fn plus(self, off: usize) -> At {
        match self {
            At::Flat => At::Flat,
            At::Mem(o) => At::Mem(o + off),
        }
    }
}

/// The flat core types of `ty`, as wit-parser's `push_flat` gives them.
pub fn flat_types(resolve: &Resolve, ty: &Type) -> Vec<WasmType> {
    let mut cap = 32;
    loop {
        let mut storage = vec![WasmType::I32; cap];
        let mut flat = FlatTypes::new(&mut storage);
        if resolve.push_flat(ty, &mut flat) {
            return flat.to_vec();
        }
        cap *= 4;
    }
}

/// Whether a value of `ty` points into linear memory (strings, lists).
pub fn has_memory(resolve: &Resolve, ty: &Type) -> bool {
    let Type::Id(id) = ty else {
        return matches!(ty, Type::String);
    };
    match &resolve.types[*id].kind {
        TypeDefKind::List(_) | TypeDefKind::Map(..) => true,
        TypeDefKind::Type(t) | TypeDefKind::Option(t) | TypeDefKind::FixedLengthList(t, _) => {
            has_memory(resolve, t)
        }
        TypeDefKind::Record(r) => r.fields.iter().any(|f| has_memory(resolve, &f.ty)),
        TypeDefKind::Tuple(t) => t.types.iter().any(|t| has_memory(resolve, t)),
        TypeDefKind::Variant(v) => v
            .cases
            .iter()
            .flat_map(|c| &c.ty)
            .any(|t| has_memory(resolve, t)),
        TypeDefKind::Result(r) => [&r.ok, &r.err]
            .into_iter()
            .flatten()
            .any(|t| has_memory(resolve, t)),
        _ => false,
    }
}

/// Whether list elements of `ty` may be copied as bytes: plain numbers.
fn byte_copy(resolve: &Resolve, ty: &Type) -> bool {
    match ty {
        Type::U8
        | Type::S8
        | Type::U16
        | Type::S16
        | Type::U32
        | Type::S32
        | Type::U64
        | Type::S64
        | Type::F32
        | Type::F64 => true,
        Type::Id(id) => match &resolve.types[*id].kind {
            TypeDefKind::Type(t) => byte_copy(resolve, t),
            _ => false,
        },
        _ => false,
    }
}

fn prim_lower(ty: &Type) -> Option<Step> {
    Some(match ty {
        Type::Bool => Step::I32FromBool,
        Type::U8 => Step::I32FromU8,
        Type::S8 => Step::I32FromS8,
        Type::U16 => Step::I32FromU16,
        Type::S16 => Step::I32FromS16,
        Type::U32 => Step::I32FromU32,
        Type::S32 => Step::I32FromS32,
        Type::U64 => Step::I64FromU64,
        Type::S64 => Step::I64FromS64,
        Type::F32 => Step::CoreF32FromF32,
        Type::F64 => Step::CoreF64FromF64,
        Type::Char => Step::I32FromChar,
        _ => return None,
    })
}

fn prim_lift(ty: &Type) -> Option<Step> {
    Some(match ty {
        Type::Bool => Step::BoolFromI32,
        Type::U8 => Step::U8FromI32,
        Type::S8 => Step::S8FromI32,
        Type::U16 => Step::U16FromI32,
        Type::S16 => Step::S16FromI32,
        Type::U32 => Step::U32FromI32,
        Type::S32 => Step::S32FromI32,
        Type::U64 => Step::U64FromI64,
        Type::S64 => Step::S64FromI64,
        Type::F32 => Step::F32FromCoreF32,
        Type::F64 => Step::F64FromCoreF64,
        Type::Char => Step::CharFromI32,
        _ => return None,
    })
}

/// Builds plans for one resolve; `exported` tells whether a resource is
/// implemented by the guest.
pub(crate) struct Planner<'a> {
    pub resolve: &'a Resolve,
    pub layouts: &'a Layouts,
    pub exported: &'a dyn Fn(TypeId) -> bool,
}

impl Planner<'_> {
    fn lower_block(&self, ty: Option<&Type>, at: At, realloc: bool, joined: &[WasmType]) -> Block {
        let mut steps = Vec::new();
        let mut flat = Vec::new();
        if let Some(ty) = ty {
            self.lower(ty, at, realloc, &mut steps);
            if at == At::Flat {
                flat = flat_types(self.resolve, ty);
            }
        }
        if at == At::Flat {
            push_casts(
                &mut steps,
                flat.iter()
                    .zip(joined)
                    .map(|(&from, &to)| Cast { from, to }),
            );
            if joined.len() > flat.len() {
                steps.push(Step::Zeros(joined[flat.len()..].to_vec()));
            }
        }
        Block { inputs: 0, steps }
    }

    fn lift_block(&self, ty: Option<&Type>, at: At, joined: &[WasmType]) -> Block {
        let mut steps = Vec::new();
        if at == At::Flat {
            let flat = ty.map(|t| flat_types(self.resolve, t)).unwrap_or_default();
            if joined.len() > flat.len() {
                steps.push(Step::Drop {
                    count: joined.len() - flat.len(),
                });
            }
            push_casts(
                &mut steps,
                joined
                    .iter()
                    .zip(&flat)
                    .map(|(&from, &to)| Cast { from, to }),
            );
        }
        if let Some(ty) = ty {
            self.lift(ty, at, &mut steps);
        }
        Block {
            inputs: if at == At::Flat { joined.len() } else { 0 },
            steps,
        }
    }

    /// The joined payload types of a variant-like type (its flattening
    /// without the discriminant), or nothing in memory.
    fn joined(&self, ty: &Type, at: At) -> Vec<WasmType> {
        match at {
            At::Flat => flat_types(self.resolve, ty)[1..].to_vec(),
            At::Mem(_) => Vec::new(),
        }
    }

    /// Appends the steps lowering a value of `ty` to `at`.
    pub(crate) fn lower(&self, ty: &Type, at: At, realloc: bool, out: &mut Vec<Step>) {
        if let Some(step) = prim_lower(ty) {
            out.push(step);
            // Every primitive has a memory type, so this always stores.
            if let (At::Mem(offset), Some(ty)) = (at, prim_mem(ty)) {
                out.push(Step::Store { offset, ty });
            }
            return;
        }
        let id = match ty {
            Type::String => {
                out.push(Step::StringLower { realloc });
                store_pointer_length(at, out);
                return;
            }
            Type::Id(id) => *id,
            Type::ErrorContext => unreachable!("rejected before planning"),
            _ => unreachable!("primitives handled above"),
        };
        let layouts = self.layouts;
        match &self.resolve.types[id].kind {
            TypeDefKind::Type(t) => self.lower(t, at, realloc, out),
            TypeDefKind::List(element) => {
                let mut store = Vec::new();
                self.lower(element, At::Mem(0), realloc, &mut store);
                out.push(Step::ListLower {
                    element: *element,
                    layout: layouts.layout(element),
                    store,
                    byte_copy: byte_copy(self.resolve, element),
                    realloc,
                });
                store_pointer_length(at, out);
            }
            TypeDefKind::Record(r) => {
                let types: Vec<&Type> = r.fields.iter().map(|f| &f.ty).collect();
                let fields = self.lower_fields(&types, at, realloc);
                out.push(Step::RecordLower { ty: id, fields });
            }
            TypeDefKind::Tuple(t) => {
                let types: Vec<&Type> = t.types.iter().collect();
                let fields = self.lower_fields(&types, at, realloc);
                out.push(Step::TupleLower { ty: id, fields });
            }
            TypeDefKind::Flags(f) => {
                let fl = flags_layout(f.flags.len(), f.repr());
                out.push(Step::FlagsLower {
                    ty: id,
                    count: fl.count,
                    words: fl.words,
                });
                if let At::Mem(o) = at {
                    for i in (0..fl.words).rev() {
                        out.push(Step::Store {
                            offset: o + 4 * i,
                            ty: fl.word,
                        });
                    }
                }
            }
            TypeDefKind::Enum(e) => {
                out.push(Step::EnumLower {
                    ty: id,
                    cases: e.cases.len(),
                });
                store_discriminant(at, e.tag(), out);
            }
            TypeDefKind::Variant(v) => {
                let payload =
                    at.plus(layouts.payload_offset(v.tag(), v.cases.iter().map(|c| c.ty.as_ref())));
                let joined = self.joined(ty, at);
                let cases = v
                    .cases
                    .iter()
                    .map(|c| self.lower_block(c.ty.as_ref(), payload, realloc, &joined))
                    .collect();
                out.push(Step::VariantLower { ty: id, cases });
                store_discriminant(at, v.tag(), out);
            }
            TypeDefKind::Option(t) => {
                let payload = at.plus(layouts.payload_offset(Int::U8, [None, Some(t)]));
                let joined = self.joined(ty, at);
                out.push(Step::OptionLower {
                    ty: id,
                    none: self.lower_block(None, payload, realloc, &joined),
                    some: self.lower_block(Some(t), payload, realloc, &joined),
                });
                store_discriminant(at, Int::U8, out);
            }
            TypeDefKind::Result(r) => {
                let payload =
                    at.plus(layouts.payload_offset(Int::U8, [r.ok.as_ref(), r.err.as_ref()]));
                let joined = self.joined(ty, at);
                out.push(Step::ResultLower {
                    ty: id,
                    ok: self.lower_block(r.ok.as_ref(), payload, realloc, &joined),
                    err: self.lower_block(r.err.as_ref(), payload, realloc, &joined),
                });
                store_discriminant(at, Int::U8, out);
            }
            TypeDefKind::Handle(h) => {
                let (resource, own) = self.handle(h);
                out.push(Step::HandleLower {
                    resource,
                    own,
                    exported: (self.exported)(resource),
                });
                if let At::Mem(o) = at {
                    out.push(Step::Store {
                        offset: o,
                        ty: MemType::I32,
                    });
                }
            }
            TypeDefKind::Map(..)
            | TypeDefKind::FixedLengthList(..)
            | TypeDefKind::Future(_)
            | TypeDefKind::Stream(_)
            | TypeDefKind::Resource
            | TypeDefKind::Unknown => unreachable!("rejected before planning"),
        }
    }

    fn lower_fields(&self, types: &[&Type], at: At, realloc: bool) -> Vec<Block> {
        let offsets = self.layouts.offsets(types.iter().copied());
        types
            .iter()
            .zip(offsets)
            .map(|(ty, off)| {
                let mut steps = Vec::new();
                self.lower(ty, at.plus(off), realloc, &mut steps);
                Block { inputs: 0, steps }
            })
            .collect()
    }

    /// Appends the steps lifting a value of `ty` from `at`.
    pub(crate) fn lift(&self, ty: &Type, at: At, out: &mut Vec<Step>) {
        if let Some(step) = prim_lift(ty) {
            // Every primitive has a memory type, so this always loads.
            if let (At::Mem(offset), Some(ty)) = (at, prim_mem(ty)) {
                out.push(Step::Load { offset, ty });
            }
            out.push(step);
            return;
        }
        let id = match ty {
            Type::String => {
                load_pointer_length(at, out);
                out.push(Step::StringLift);
                return;
            }
            Type::Id(id) => *id,
            Type::ErrorContext => unreachable!("rejected before planning"),
            _ => unreachable!("primitives handled above"),
        };
        let layouts = self.layouts;
        match &self.resolve.types[id].kind {
            TypeDefKind::Type(t) => self.lift(t, at, out),
            TypeDefKind::List(element) => {
                load_pointer_length(at, out);
                let mut load = Vec::new();
                self.lift(element, At::Mem(0), &mut load);
                out.push(Step::ListLift {
                    element: *element,
                    layout: layouts.layout(element),
                    load,
                    byte_copy: byte_copy(self.resolve, element),
                });
            }
            TypeDefKind::Record(r) => {
                let types: Vec<&Type> = r.fields.iter().map(|f| &f.ty).collect();
                let fields = self.lift_fields(&types, at);
                out.push(Step::RecordLift { ty: id, fields });
            }
            TypeDefKind::Tuple(t) => {
                let types: Vec<&Type> = t.types.iter().collect();
                let fields = self.lift_fields(&types, at);
                out.push(Step::TupleLift { ty: id, fields });
            }
            TypeDefKind::Flags(f) => {
                let fl = flags_layout(f.flags.len(), f.repr());
                if let At::Mem(o) = at {
                    for i in 0..fl.words {
                        out.push(Step::Load {
                            offset: o + 4 * i,
                            ty: fl.word,
                        });
                    }
                }
                out.push(Step::FlagsLift {
                    ty: id,
                    count: fl.count,
                    words: fl.words,
                });
            }
            TypeDefKind::Enum(e) => {
                load_discriminant(at, e.tag(), out);
                out.push(Step::EnumLift {
                    ty: id,
                    cases: e.cases.len(),
                });
            }
            TypeDefKind::Variant(v) => {
                load_discriminant(at, v.tag(), out);
                let payload =
                    at.plus(layouts.payload_offset(v.tag(), v.cases.iter().map(|c| c.ty.as_ref())));
                let joined = self.joined(ty, at);
                let cases = v
                    .cases
                    .iter()
                    .map(|c| self.lift_block(c.ty.as_ref(), payload, &joined))
                    .collect();
                out.push(Step::VariantLift {
                    ty: id,
                    joined,
                    cases,
                });
            }
            TypeDefKind::Option(t) => {
                load_discriminant(at, Int::U8, out);
                let payload = at.plus(layouts.payload_offset(Int::U8, [None, Some(t)]));
                let joined = self.joined(ty, at);
                out.push(Step::OptionLift {
                    ty: id,
                    none: self.lift_block(None, payload, &joined),
                    some: self.lift_block(Some(t), payload, &joined),
                    joined,
                });
            }
            TypeDefKind::Result(r) => {
                load_discriminant(at, Int::U8, out);
                let payload =
                    at.plus(layouts.payload_offset(Int::U8, [r.ok.as_ref(), r.err.as_ref()]));
                let joined = self.joined(ty, at);
                out.push(Step::ResultLift {
                    ty: id,
                    ok: self.lift_block(r.ok.as_ref(), payload, &joined),
                    err: self.lift_block(r.err.as_ref(), payload, &joined),
                    joined,
                });
            }
            TypeDefKind::Handle(h) => {
                let (resource, own) = self.handle(h);
                if let At::Mem(o) = at {
                    out.push(Step::Load {
                        offset: o,
                        ty: MemType::I32,
                    });
                }
                out.push(Step::HandleLift {
                    resource,
                    own,
                    exported: (self.exported)(resource),
                });
            }
            TypeDefKind::Map(..)
            | TypeDefKind::FixedLengthList(..)
            | TypeDefKind::Future(_)
            | TypeDefKind::Stream(_)
            | TypeDefKind::Resource
            | TypeDefKind::Unknown => unreachable!("rejected before planning"),
        }
    }

    fn lift_fields(&self, types: &[&Type], at: At) -> Vec<Block> {
        let offsets = self.layouts.offsets(types.iter().copied());
        types
            .iter()
            .zip(offsets)
            .map(|(ty, off)| {
                let mut steps = Vec::new();
                self.lift(ty, at.plus(off), &mut steps);
                let inputs = match at {
                    At::Flat => flat_types(self.resolve, ty).len(),
                    At::Mem(_) => 0,
                };
                Block { inputs, steps }
            })
            .collect()
    }

    /// Appends the steps freeing what a value of `ty` stored at `base +
    /// offset` owns (its strings and lists).
    pub(crate) fn free(&self, ty: &Type, offset: usize, out: &mut Vec<Step>) {
        let id = match ty {
            Type::String => {
                out.push(Step::FreeString { offset });
                return;
            }
            Type::Id(id) => *id,
            _ => return,
        };
        if !has_memory(self.resolve, ty) {
            return;
        }
        let layouts = self.layouts;
        let variant = |tag: Int, cases: Vec<Option<&Type>>, out: &mut Vec<Step>| {
            let payload = offset + layouts.payload_offset(tag, cases.iter().copied());
            let cases = cases
                .iter()
                .map(|c| {
                    let mut steps = Vec::new();
                    if let Some(t) = c {
                        self.free(t, payload, &mut steps);
                    }
                    steps
                })
                .collect();
            out.push(Step::FreeVariant {
                offset,
                discriminant: MemType::of_int(tag),
                cases,
            });
        };
        match &self.resolve.types[id].kind {
            TypeDefKind::Type(t) => self.free(t, offset, out),
            TypeDefKind::List(element) => {
                let mut steps = Vec::new();
                self.free(element, 0, &mut steps);
                out.push(Step::FreeList {
                    offset,
                    layout: layouts.layout(element),
                    element: steps,
                });
            }
            TypeDefKind::Record(r) => {
                let types: Vec<&Type> = r.fields.iter().map(|f| &f.ty).collect();
                for (t, off) in types.iter().zip(layouts.offsets(types.iter().copied())) {
                    self.free(t, offset + off, out);
                }
            }
            TypeDefKind::Tuple(t) => {
                for (t, off) in t.types.iter().zip(layouts.offsets(&t.types)) {
                    self.free(t, offset + off, out);
                }
            }
            TypeDefKind::Variant(v) => variant(
                v.tag(),
                v.cases.iter().map(|c| c.ty.as_ref()).collect(),
                out,
            ),
            TypeDefKind::Option(t) => variant(Int::U8, vec![None, Some(t)], out),
            TypeDefKind::Result(r) => variant(Int::U8, vec![r.ok.as_ref(), r.err.as_ref()], out),
            _ => {}
        }
    }

    fn handle(&self, h: &Handle) -> (TypeId, bool) {
        let (id, own) = match h {
            Handle::Own(id) => (*id, true),
            Handle::Borrow(id) => (*id, false),
        };
        (resource_of(self.resolve, id), own)
    }
}

/// The resource definition behind a handle's type id, following aliases
/// (`use`).
pub fn resource_of(resolve: &Resolve, mut id: TypeId) -> TypeId {
    while let TypeDefKind::Type(Type::Id(next)) = resolve.types[id].kind {
        id = next;
    }
    id
}

fn push_casts(steps: &mut Vec<Step>, casts: impl Iterator<Item = Cast>) {
    let casts: Vec<Cast> = casts.collect();
    if casts.iter().any(|c| c.from != c.to) {
        steps.push(Step::Casts(casts));
    }
}

fn store_pointer_length(at: At, out: &mut Vec<Step>) {
    if let At::Mem(o) = at {
        out.push(Step::Store {
            offset: o + 4,
            ty: MemType::Length,
        });
        out.push(Step::Store {
            offset: o,
            ty: MemType::Pointer,
        });
    }
}

fn load_pointer_length(at: At, out: &mut Vec<Step>) {
    if let At::Mem(o) = at {
        out.push(Step::Load {
            offset: o,
            ty: MemType::Pointer,
        });
        out.push(Step::Load {
            offset: o + 4,
            ty: MemType::Length,
        });
    }
}

fn store_discriminant(at: At, tag: Int, out: &mut Vec<Step>) {
    if let At::Mem(o) = at {
        out.push(Step::Store {
            offset: o,
            ty: MemType::of_int(tag),
        });
    }
}

fn load_discriminant(at: At, tag: Int, out: &mut Vec<Step>) {
    if let At::Mem(o) = at {
        out.push(Step::Load {
            offset: o,
            ty: MemType::of_int(tag),
        });
    }
}
