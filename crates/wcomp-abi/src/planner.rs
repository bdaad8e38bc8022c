//! How the steps of a value are derived from its WIT type: flat lower and
//! lift, store and load, and free plans; [`TypePlans`] makes them public
//! for a single type.

use wit_parser::abi::{FlatTypes, WasmType};
use wit_parser::{Handle, Int, InterfaceId, Resolve, Type, TypeDefKind, TypeId, TypeOwner};

use crate::AbiError;
use crate::layout::{Layouts, MemType, flags_layout, prim_mem};
use crate::step::{Block, Cast, FreeMode, Kind, Step, cores};
use crate::task::PayloadKind;

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
    holds(resolve, ty, true, &|kind| {
        matches!(kind, TypeDefKind::List(_) | TypeDefKind::Map(..))
    })
}

/// Whether a value of `ty` holds an owned handle (`own<R>`) anywhere.
pub fn has_own_handle(resolve: &Resolve, ty: &Type) -> bool {
    holds(resolve, ty, false, &|kind| {
        matches!(kind, TypeDefKind::Handle(Handle::Own(_)))
    })
}

/// Whether a value of `ty` holds a future or a stream anywhere.
pub fn has_payload(resolve: &Resolve, ty: &Type) -> bool {
    holds(resolve, ty, false, &|kind| {
        matches!(kind, TypeDefKind::Future(_) | TypeDefKind::Stream(_))
    })
}

/// Whether `ty` is a string (when `strings` count) or a type for which
/// `hit` holds, or contains one (through aliases, options, lists, records,
/// tuples, variants, results and fixed-length lists).
fn holds(resolve: &Resolve, ty: &Type, strings: bool, hit: &dyn Fn(&TypeDefKind) -> bool) -> bool {
    let Type::Id(id) = ty else {
        return strings && matches!(ty, Type::String);
    };
    let kind = &resolve.types[*id].kind;
    if hit(kind) {
        return true;
    }
    let sub = |t: &Type| holds(resolve, t, strings, hit);
    match kind {
        TypeDefKind::Type(t)
        | TypeDefKind::Option(t)
        | TypeDefKind::List(t)
        | TypeDefKind::FixedLengthList(t, _) => sub(t),
        TypeDefKind::Map(k, v) => sub(k) || sub(v),
        TypeDefKind::Record(r) => r.fields.iter().any(|f| sub(&f.ty)),
        TypeDefKind::Tuple(t) => t.types.iter().any(sub),
        TypeDefKind::Variant(v) => v.cases.iter().flat_map(|c| &c.ty).any(sub),
        TypeDefKind::Result(r) => [&r.ok, &r.err].into_iter().flatten().any(sub),
        _ => false,
    }
}

/// What the memory form of a type is made of: facts for a backend deciding
/// whether lists of it are copied as bytes ([`Backend::list_as_bytes`]).
///
/// [`Backend::list_as_bytes`]: crate::Backend::list_as_bytes
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PlainData {
    /// An integer or float type (through aliases): its memory form is a
    /// little-endian number, every bit pattern valid.
    Number,
    /// A record or tuple of numbers (nested): every bit pattern of its
    /// memory form is valid, but it has fields and maybe padding.
    Numbers,
    /// Anything else: some bit patterns are invalid (`bool`, `char`,
    /// enums, discriminants), or it points elsewhere (strings, lists,
    /// handles).
    No,
}

/// What the memory form of `ty` is made of.
pub fn plain_data(resolve: &Resolve, ty: &Type) -> PlainData {
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
        | Type::F64 => PlainData::Number,
        Type::Id(id) => {
            let all = |mut types: std::slice::Iter<'_, Type>| {
                if types.all(|t| plain_data(resolve, t) != PlainData::No) {
                    PlainData::Numbers
                } else {
                    PlainData::No
                }
            };
            match &resolve.types[*id].kind {
                TypeDefKind::Type(t) => plain_data(resolve, t),
                TypeDefKind::Record(r) => {
                    let types: Vec<Type> = r.fields.iter().map(|f| f.ty).collect();
                    all(types.iter())
                }
                TypeDefKind::Tuple(t) => all(t.types.iter()),
                _ => PlainData::No,
            }
        }
        _ => PlainData::No,
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

/// The first feature of `ty` that plans do not cover yet (`error-context`,
/// fixed-length lists, and futures and streams unless `streams`).
pub(crate) fn unsupported(resolve: &Resolve, ty: &Type, streams: bool) -> Option<&'static str> {
    let id = match ty {
        Type::ErrorContext => return Some("`error-context`"),
        Type::Id(id) => *id,
        _ => return None,
    };
    let one = |t: &Type| unsupported(resolve, t, streams);
    let all = |mut types: std::slice::Iter<'_, Type>| types.find_map(one);
    let opt = |t: &Option<Type>| t.as_ref().and_then(one);
    match &resolve.types[id].kind {
        TypeDefKind::Future(t) if streams => opt(t),
        TypeDefKind::Stream(t) if streams => opt(t),
        TypeDefKind::Future(_) => Some("`future`"),
        TypeDefKind::Stream(_) => Some("`stream`"),
        TypeDefKind::Map(k, v) => one(k).or_else(|| one(v)),
        TypeDefKind::FixedLengthList(..) => Some("fixed-length lists"),
        TypeDefKind::Type(t) | TypeDefKind::List(t) | TypeDefKind::Option(t) => one(t),
        TypeDefKind::Record(r) => r.fields.iter().find_map(|f| one(&f.ty)),
        TypeDefKind::Tuple(t) => all(t.types.iter()),
        TypeDefKind::Variant(v) => v.cases.iter().find_map(|c| opt(&c.ty)),
        TypeDefKind::Result(r) => opt(&r.ok).or_else(|| opt(&r.err)),
        TypeDefKind::Handle(_)
        | TypeDefKind::Flags(_)
        | TypeDefKind::Enum(_)
        | TypeDefKind::Resource
        | TypeDefKind::Unknown => None,
    }
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

/// Builds plans for one resolve; `exported` are the interfaces whose
/// resources the guest implements.
#[derive(Clone, Copy)]
pub(crate) struct Planner<'a> {
    pub resolve: &'a Resolve,
    pub layouts: &'a Layouts,
    pub exported: &'a [InterfaceId],
    /// Futures and streams are planned (as handles), not refused.
    pub streams: bool,
}

type Planned<T = ()> = Result<T, AbiError>;

impl Planner<'_> {
    /// The guest implements `resource`: its owner is an exported
    /// interface.
    pub fn is_exported(&self, resource: TypeId) -> bool {
        match self.resolve.types[resource].owner {
            TypeOwner::Interface(i) => self.exported.contains(&i),
            TypeOwner::World(_) | TypeOwner::None => false,
        }
    }

    fn flat_kinds(&self, ty: &Type) -> Vec<Kind> {
        cores(&flat_types(self.resolve, ty))
    }

    fn lower_block(
        &self,
        ty: Option<&Type>,
        at: At,
        realloc: bool,
        joined: &[WasmType],
    ) -> Planned<Block> {
        let mut steps = Vec::new();
        let mut flat = Vec::new();
        if let Some(ty) = ty {
            self.lower(ty, at, realloc, &mut steps)?;
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
        Ok(Block {
            params: ty.map(|_| Kind::Value).into_iter().collect(),
            results: if at == At::Flat {
                cores(joined)
            } else {
                Vec::new()
            },
            steps,
        })
    }

    fn lift_block(&self, ty: Option<&Type>, at: At, joined: &[WasmType]) -> Planned<Block> {
        let mut steps = Vec::new();
        if at == At::Flat {
            let flat = ty.map(|t| flat_types(self.resolve, t)).unwrap_or_default();
            if joined.len() > flat.len() {
                steps.push(Step::Drop(joined[flat.len()..].to_vec()));
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
            self.lift(ty, at, &mut steps)?;
        }
        Ok(Block {
            params: if at == At::Flat {
                cores(joined)
            } else {
                Vec::new()
            },
            results: ty.map(|_| Kind::Value).into_iter().collect(),
            steps,
        })
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
    pub(crate) fn lower(&self, ty: &Type, at: At, realloc: bool, out: &mut Vec<Step>) -> Planned {
        if let Some(step) = prim_lower(ty) {
            out.push(step);
            if let (At::Mem(offset), Some(ty)) = (at, prim_mem(ty)) {
                out.push(Step::Store { offset, ty });
            }
            return Ok(());
        }
        let id = match ty {
            Type::String => {
                out.push(Step::StringLower { realloc });
                store_pointer_length(at, out);
                return Ok(());
            }
            Type::Id(id) => *id,
            _ => return Err(self.unplannable(ty)),
        };
        let layouts = self.layouts;
        match &self.resolve.types[id].kind {
            TypeDefKind::Type(t) => self.lower(t, at, realloc, out)?,
            TypeDefKind::List(element) => {
                let mut steps = Vec::new();
                self.lower(element, At::Mem(0), realloc, &mut steps)?;
                out.push(Step::ListLower {
                    element: *element,
                    layout: layouts.layout(element),
                    store: Block {
                        params: vec![Kind::Value],
                        results: Vec::new(),
                        steps,
                    },
                    realloc,
                });
                store_pointer_length(at, out);
            }
            TypeDefKind::Map(key, value) => {
                let (layout, value_offset) = self.entry(key, value);
                // The value is on top of the block's stack: stored first.
                let mut steps = Vec::new();
                self.lower(value, At::Mem(value_offset), realloc, &mut steps)?;
                self.lower(key, At::Mem(0), realloc, &mut steps)?;
                out.push(Step::MapLower {
                    key: *key,
                    value: *value,
                    layout,
                    value_offset,
                    store: Block {
                        params: vec![Kind::Value, Kind::Value],
                        results: Vec::new(),
                        steps,
                    },
                    realloc,
                });
                store_pointer_length(at, out);
            }
            TypeDefKind::Record(r) => {
                let types: Vec<&Type> = r.fields.iter().map(|f| &f.ty).collect();
                let fields = self.lower_fields(&types, at, realloc)?;
                out.push(Step::RecordLower { ty: id, fields });
            }
            TypeDefKind::Tuple(t) => {
                let types: Vec<&Type> = t.types.iter().collect();
                let fields = self.lower_fields(&types, at, realloc)?;
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
                    .collect::<Planned<_>>()?;
                out.push(Step::VariantLower { ty: id, cases });
                store_discriminant(at, v.tag(), out);
            }
            TypeDefKind::Option(t) => {
                let payload = at.plus(layouts.payload_offset(Int::U8, [None, Some(t)]));
                let joined = self.joined(ty, at);
                out.push(Step::OptionLower {
                    ty: id,
                    none: self.lower_block(None, payload, realloc, &joined)?,
                    some: self.lower_block(Some(t), payload, realloc, &joined)?,
                });
                store_discriminant(at, Int::U8, out);
            }
            TypeDefKind::Result(r) => {
                let payload =
                    at.plus(layouts.payload_offset(Int::U8, [r.ok.as_ref(), r.err.as_ref()]));
                let joined = self.joined(ty, at);
                out.push(Step::ResultLower {
                    ty: id,
                    ok: self.lower_block(r.ok.as_ref(), payload, realloc, &joined)?,
                    err: self.lower_block(r.err.as_ref(), payload, realloc, &joined)?,
                });
                store_discriminant(at, Int::U8, out);
            }
            TypeDefKind::Handle(h) => {
                let (resource, own) = self.handle(h);
                out.push(Step::HandleLower {
                    resource,
                    own,
                    exported: self.is_exported(resource),
                });
                if let At::Mem(o) = at {
                    out.push(Step::Store {
                        offset: o,
                        ty: MemType::I32,
                    });
                }
            }
            TypeDefKind::Future(_) | TypeDefKind::Stream(_) if self.streams => {
                out.push(Step::PayloadLower {
                    ty: id,
                    kind: payload_kind(&self.resolve.types[id].kind),
                });
                if let At::Mem(o) = at {
                    out.push(Step::Store {
                        offset: o,
                        ty: MemType::I32,
                    });
                }
            }
            TypeDefKind::FixedLengthList(..)
            | TypeDefKind::Future(_)
            | TypeDefKind::Stream(_)
            | TypeDefKind::Resource
            | TypeDefKind::Unknown => return Err(self.unplannable(ty)),
        }
        Ok(())
    }

    fn lower_fields(&self, types: &[&Type], at: At, realloc: bool) -> Planned<Vec<Block>> {
        let offsets = self.layouts.offsets(types.iter().copied());
        types
            .iter()
            .zip(offsets)
            .map(|(ty, off)| {
                let mut steps = Vec::new();
                self.lower(ty, at.plus(off), realloc, &mut steps)?;
                Ok(Block {
                    params: vec![Kind::Value],
                    results: match at {
                        At::Flat => self.flat_kinds(ty),
                        At::Mem(_) => Vec::new(),
                    },
                    steps,
                })
            })
            .collect()
    }

    /// Appends the steps lifting a value of `ty` from `at`.
    pub(crate) fn lift(&self, ty: &Type, at: At, out: &mut Vec<Step>) -> Planned {
        if let Some(step) = prim_lift(ty) {
            if let (At::Mem(offset), Some(ty)) = (at, prim_mem(ty)) {
                out.push(Step::Load { offset, ty });
            }
            out.push(step);
            return Ok(());
        }
        let id = match ty {
            Type::String => {
                load_pointer_length(at, out);
                out.push(Step::StringLift);
                return Ok(());
            }
            Type::Id(id) => *id,
            _ => return Err(self.unplannable(ty)),
        };
        let layouts = self.layouts;
        match &self.resolve.types[id].kind {
            TypeDefKind::Type(t) => self.lift(t, at, out)?,
            TypeDefKind::List(element) => {
                load_pointer_length(at, out);
                let mut steps = Vec::new();
                self.lift(element, At::Mem(0), &mut steps)?;
                out.push(Step::ListLift {
                    element: *element,
                    layout: layouts.layout(element),
                    load: Block {
                        params: Vec::new(),
                        results: vec![Kind::Value],
                        steps,
                    },
                });
            }
            TypeDefKind::Map(key, value) => {
                load_pointer_length(at, out);
                let (layout, value_offset) = self.entry(key, value);
                let mut steps = Vec::new();
                self.lift(key, At::Mem(0), &mut steps)?;
                self.lift(value, At::Mem(value_offset), &mut steps)?;
                out.push(Step::MapLift {
                    key: *key,
                    value: *value,
                    layout,
                    value_offset,
                    load: Block {
                        params: Vec::new(),
                        results: vec![Kind::Value, Kind::Value],
                        steps,
                    },
                });
            }
            TypeDefKind::Record(r) => {
                let types: Vec<&Type> = r.fields.iter().map(|f| &f.ty).collect();
                let fields = self.lift_fields(&types, at)?;
                out.push(Step::RecordLift { ty: id, fields });
            }
            TypeDefKind::Tuple(t) => {
                let types: Vec<&Type> = t.types.iter().collect();
                let fields = self.lift_fields(&types, at)?;
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
                    .collect::<Planned<_>>()?;
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
                    none: self.lift_block(None, payload, &joined)?,
                    some: self.lift_block(Some(t), payload, &joined)?,
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
                    ok: self.lift_block(r.ok.as_ref(), payload, &joined)?,
                    err: self.lift_block(r.err.as_ref(), payload, &joined)?,
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
                    exported: self.is_exported(resource),
                });
            }
            TypeDefKind::Future(_) | TypeDefKind::Stream(_) if self.streams => {
                if let At::Mem(o) = at {
                    out.push(Step::Load {
                        offset: o,
                        ty: MemType::I32,
                    });
                }
                out.push(Step::PayloadLift {
                    ty: id,
                    kind: payload_kind(&self.resolve.types[id].kind),
                });
            }
            TypeDefKind::FixedLengthList(..)
            | TypeDefKind::Future(_)
            | TypeDefKind::Stream(_)
            | TypeDefKind::Resource
            | TypeDefKind::Unknown => return Err(self.unplannable(ty)),
        }
        Ok(())
    }

    fn lift_fields(&self, types: &[&Type], at: At) -> Planned<Vec<Block>> {
        let offsets = self.layouts.offsets(types.iter().copied());
        types
            .iter()
            .zip(offsets)
            .map(|(ty, off)| {
                let mut steps = Vec::new();
                self.lift(ty, at.plus(off), &mut steps)?;
                Ok(Block {
                    params: match at {
                        At::Flat => self.flat_kinds(ty),
                        At::Mem(_) => Vec::new(),
                    },
                    results: vec![Kind::Value],
                    steps,
                })
            })
            .collect()
    }

    /// Whether freeing a value of `ty` in `mode` has anything to do.
    fn owns(&self, ty: &Type, mode: FreeMode) -> bool {
        has_memory(self.resolve, ty)
            || (mode == FreeMode::BuffersAndHandles && has_own_handle(self.resolve, ty))
    }

    /// Appends the steps freeing what a value of `ty` stored at `base +
    /// offset` owns: its strings and lists, and in
    /// [`FreeMode::BuffersAndHandles`] its owned handles.
    pub(crate) fn free(&self, ty: &Type, offset: usize, mode: FreeMode, out: &mut Vec<Step>) {
        let id = match ty {
            Type::String => {
                out.push(Step::FreeString { offset });
                return;
            }
            Type::Id(id) => *id,
            _ => return,
        };
        if !self.owns(ty, mode) {
            return;
        }
        let layouts = self.layouts;
        let free_block = |ty: Option<&Type>, offset: usize| {
            let mut steps = Vec::new();
            if let Some(t) = ty {
                self.free(t, offset, mode, &mut steps);
            }
            Block {
                params: Vec::new(),
                results: Vec::new(),
                steps,
            }
        };
        let variant = |tag: Int, cases: Vec<Option<&Type>>, out: &mut Vec<Step>| {
            let payload = offset + layouts.payload_offset(tag, cases.iter().copied());
            let cases = cases.iter().map(|c| free_block(*c, payload)).collect();
            out.push(Step::FreeVariant {
                offset,
                discriminant: MemType::of_int(tag),
                cases,
            });
        };
        match &self.resolve.types[id].kind {
            TypeDefKind::Type(t) => self.free(t, offset, mode, out),
            TypeDefKind::List(element) => out.push(Step::FreeList {
                offset,
                layout: layouts.layout(element),
                element: free_block(Some(element), 0),
            }),
            TypeDefKind::Map(key, value) => {
                let (layout, value_offset) = self.entry(key, value);
                let mut steps = Vec::new();
                self.free(key, 0, mode, &mut steps);
                self.free(value, value_offset, mode, &mut steps);
                out.push(Step::FreeList {
                    offset,
                    layout,
                    element: Block {
                        params: Vec::new(),
                        results: Vec::new(),
                        steps,
                    },
                });
            }
            TypeDefKind::Record(r) => {
                let types: Vec<&Type> = r.fields.iter().map(|f| &f.ty).collect();
                for (t, off) in types.iter().zip(layouts.offsets(types.iter().copied())) {
                    self.free(t, offset + off, mode, out);
                }
            }
            TypeDefKind::Tuple(t) => {
                for (t, off) in t.types.iter().zip(layouts.offsets(&t.types)) {
                    self.free(t, offset + off, mode, out);
                }
            }
            TypeDefKind::Variant(v) => variant(
                v.tag(),
                v.cases.iter().map(|c| c.ty.as_ref()).collect(),
                out,
            ),
            TypeDefKind::Option(t) => variant(Int::U8, vec![None, Some(t)], out),
            TypeDefKind::Result(r) => variant(Int::U8, vec![r.ok.as_ref(), r.err.as_ref()], out),
            TypeDefKind::Handle(Handle::Own(r)) => {
                let resource = resource_of(self.resolve, *r);
                out.push(Step::FreeHandle {
                    offset,
                    resource,
                    exported: self.is_exported(resource),
                });
            }
            _ => {}
        }
    }

    /// The layout of a map's entry (a `tuple<key, value>`) and the
    /// value's offset in it.
    fn entry(&self, key: &Type, value: &Type) -> (crate::Layout, usize) {
        let layouts = self.layouts;
        let offsets = layouts.offsets([key, value]);
        (layouts.record_of([key, value]), offsets[1])
    }

    fn handle(&self, h: &Handle) -> (TypeId, bool) {
        let (id, own) = match h {
            Handle::Own(id) => (*id, true),
            Handle::Borrow(id) => (*id, false),
        };
        (resource_of(self.resolve, id), own)
    }

    fn unplannable(&self, ty: &Type) -> AbiError {
        AbiError::UnsupportedType {
            feature: unsupported(self.resolve, ty, self.streams)
                .unwrap_or("a resource type itself"),
        }
    }
}

/// Future or stream, of a type known to be one.
fn payload_kind(kind: &TypeDefKind) -> PayloadKind {
    match kind {
        TypeDefKind::Future(_) => PayloadKind::Future,
        _ => PayloadKind::Stream,
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

/// Lift, lower and free plans of single types, for a backend that needs
/// them outside a function (a C `_free` per named type, a host-side
/// copy): from [`WorldPlan::types`](crate::WorldPlan::types). Handle steps
/// say `exported` for the resources of the world's exported interfaces.
#[derive(Clone, Copy)]
pub struct TypePlans<'a> {
    pub(crate) planner: Planner<'a>,
}

impl TypePlans<'_> {
    /// `[value] -> [flat core values]`. With `realloc`, strings and lists
    /// are handed over in `cabi_realloc` memory; without, lent.
    pub fn lower_flat(&self, ty: &Type, realloc: bool) -> Result<Block, AbiError> {
        let mut steps = Vec::new();
        self.planner.lower(ty, At::Flat, realloc, &mut steps)?;
        Ok(Block {
            params: vec![Kind::Value],
            results: self.planner.flat_kinds(ty),
            steps,
        })
    }

    /// `[flat core values] -> [value]`.
    pub fn lift_flat(&self, ty: &Type) -> Result<Block, AbiError> {
        let mut steps = Vec::new();
        self.planner.lift(ty, At::Flat, &mut steps)?;
        Ok(Block {
            params: self.planner.flat_kinds(ty),
            results: vec![Kind::Value],
            steps,
        })
    }

    /// `[value] -> []`: stores the value at the base address (`realloc`
    /// as for [`TypePlans::lower_flat`]).
    pub fn store(&self, ty: &Type, realloc: bool) -> Result<Block, AbiError> {
        let mut steps = Vec::new();
        self.planner.lower(ty, At::Mem(0), realloc, &mut steps)?;
        Ok(Block {
            params: vec![Kind::Value],
            results: Vec::new(),
            steps,
        })
    }

    /// `[] -> [value]`: loads a value from the base address.
    pub fn load(&self, ty: &Type) -> Result<Block, AbiError> {
        let mut steps = Vec::new();
        self.planner.lift(ty, At::Mem(0), &mut steps)?;
        Ok(Block {
            params: Vec::new(),
            results: vec![Kind::Value],
            steps,
        })
    }

    /// `[] -> []`: frees what the value stored at the base address owns, in
    /// `mode` (empty when it owns nothing).
    pub fn free(&self, ty: &Type, mode: FreeMode) -> Result<Block, AbiError> {
        if let Some(feature) = unsupported(self.planner.resolve, ty, self.planner.streams) {
            return Err(AbiError::UnsupportedType { feature });
        }
        let mut steps = Vec::new();
        self.planner.free(ty, 0, mode, &mut steps);
        Ok(Block {
            params: Vec::new(),
            results: Vec::new(),
            steps,
        })
    }
}
