//! C types: the name of every WIT type, its declaration (dependencies
//! first; WIT types are never recursive), a layout assertion per type, and
//! a `_free` function for every type that owns memory or handles.
//!
//! Named types are `{prefix}_{name}_t`. Anonymous ones are named by their
//! structure, once per world: `{w}_string_t`, `{w}_list_{T}_t`,
//! `{w}_option_{T}_t`, `{w}_result_{T|void}_{E|void}_t`,
//! `{w}_tuple{N}_{T..}_t`, `{w}_map_{K}_{V}_t`, where `{T}` is the
//! element's name without `{w}_` and `_t` (`u8`, `string`, `store_entry`).
//! A named list, option, ... is a `typedef` of its structural type.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use wit_parser::{FlagsRepr, Handle, Int, Type, TypeDefKind, TypeId, TypeOwner};

use super::body::{Body, Mode};
use super::{Gen, docs, ident, segment};
use crate::BindError;
use crate::abi::{FreeMode, drive_block, resource_of};

/// Declarations, and what the `.c` file adds for them.
pub(super) struct Types {
    pub header: String,
    pub source: String,
}

/// Declarations written so far, by C name.
struct Decls {
    seen: BTreeSet<String>,
    header: String,
    /// Every declared type with a layout of its own, in order: checked
    /// against the canonical layout, and given a `_free` when it owns
    /// something.
    types: Vec<(String, Type)>,
}

impl Gen<'_> {
    /// The C type of `ty`.
    pub fn cty(&self, ty: &Type) -> String {
        let w = &self.w;
        match ty {
            Type::Bool => "bool".into(),
            Type::U8 => "uint8_t".into(),
            Type::S8 => "int8_t".into(),
            Type::U16 => "uint16_t".into(),
            Type::S16 => "int16_t".into(),
            Type::U32 | Type::Char => "uint32_t".into(),
            Type::S32 => "int32_t".into(),
            Type::U64 => "uint64_t".into(),
            Type::S64 => "int64_t".into(),
            Type::F32 => "float".into(),
            Type::F64 => "double".into(),
            Type::String => format!("{w}_string_t"),
            // The plan refuses worlds that use it: never spelled.
            Type::ErrorContext => "int32_t".into(),
            Type::Id(id) => match self.named(*id) {
                Some(name) => name,
                None => self.structural_name(&self.resolve.types[*id].kind),
            },
        }
    }

    /// The name of a named type: `{prefix}_{name}_t` (a resource's is its
    /// owned handle's).
    fn named(&self, id: TypeId) -> Option<String> {
        let def = &self.resolve.types[id];
        let name = def.name.as_ref()?;
        if def.owner == TypeOwner::None {
            return None;
        }
        if let TypeDefKind::Resource = def.kind {
            return Some(self.handle_name(id, true));
        }
        Some(format!(
            "{}_{}_t",
            self.owner_prefix(def.owner),
            segment(name)
        ))
    }

    /// `{prefix}_own_{r}_t` or `{prefix}_borrow_{r}_t`.
    pub fn handle_name(&self, r: TypeId, own: bool) -> String {
        let r = resource_of(self.resolve, r);
        let def = &self.resolve.types[r];
        format!(
            "{}_{}_{}_t",
            self.owner_prefix(def.owner),
            if own { "own" } else { "borrow" },
            segment(def.name.as_deref().unwrap_or("resource"))
        )
    }

    /// The user's type of exported resource `r`: `{prefix}_{r}_t`.
    pub fn rep_name(&self, r: TypeId) -> String {
        let def = &self.resolve.types[r];
        format!(
            "{}_{}_t",
            self.owner_prefix(def.owner),
            segment(def.name.as_deref().unwrap_or("resource"))
        )
    }

    /// A function of resource `r`: `{prefix}_{r}_{what}` (`drop_own`, `new`).
    pub fn resource_fn(&self, r: TypeId, what: &str) -> String {
        let r = resource_of(self.resolve, r);
        let def = &self.resolve.types[r];
        format!(
            "{}_{}_{what}",
            self.owner_prefix(def.owner),
            segment(def.name.as_deref().unwrap_or("resource"))
        )
    }

    /// The name of `ty` inside a structural name (`u8`, `store_entry`).
    /// Aliases are followed, so that `list<point>` is one type whichever
    /// interface's name for `point` it is spelled with.
    fn part(&self, ty: &Type) -> String {
        match &self.unalias(ty) {
            Type::Bool => "bool".into(),
            Type::U8 => "u8".into(),
            Type::S8 => "s8".into(),
            Type::U16 => "u16".into(),
            Type::S16 => "s16".into(),
            Type::U32 => "u32".into(),
            Type::S32 => "s32".into(),
            Type::U64 => "u64".into(),
            Type::S64 => "s64".into(),
            Type::F32 => "f32".into(),
            Type::F64 => "f64".into(),
            Type::Char => "char32".into(),
            Type::String => "string".into(),
            ty => {
                let name = self.cty(ty);
                let name = name.strip_suffix("_t").unwrap_or(&name);
                name.strip_prefix(&format!("{}_", self.w))
                    .unwrap_or(name)
                    .to_string()
            }
        }
    }

    /// The structural name of an anonymous type.
    pub(super) fn structural_name(&self, kind: &TypeDefKind) -> String {
        let w = &self.w;
        let opt = |t: &Option<Type>| t.as_ref().map_or("void".to_string(), |t| self.part(t));
        match kind {
            TypeDefKind::Type(t) => self.cty(t),
            TypeDefKind::List(t) => format!("{w}_list_{}_t", self.part(t)),
            TypeDefKind::Map(k, v) => format!("{w}_map_{}_{}_t", self.part(k), self.part(v)),
            TypeDefKind::Option(t) => format!("{w}_option_{}_t", self.part(t)),
            TypeDefKind::Result(r) => format!("{w}_result_{}_{}_t", opt(&r.ok), opt(&r.err)),
            TypeDefKind::Tuple(t) => {
                let mut s = format!("{w}_tuple{}", t.types.len());
                for t in &t.types {
                    s.push('_');
                    s.push_str(&self.part(t));
                }
                s.push_str("_t");
                s
            }
            TypeDefKind::Handle(Handle::Own(r)) => self.handle_name(*r, true),
            TypeDefKind::Handle(Handle::Borrow(r)) => self.handle_name(*r, false),
            TypeDefKind::Stream(t) => format!("{w}_stream_{}_t", opt(t)),
            TypeDefKind::Future(t) => format!("{w}_future_{}_t", opt(t)),
            // Named kinds are spelled by name: never structurally.
            _ => "int32_t".into(),
        }
    }

    /// `ty` with `type a = b` aliases followed.
    pub fn unalias(&self, ty: &Type) -> Type {
        crate::aliases::unalias(self.resolve, ty)
    }

    /// Whether a value of `ty` is passed by value (numbers, enums, flags
    /// in one word, handles) rather than through a pointer.
    pub fn by_value(&self, ty: &Type) -> bool {
        match self.unalias(ty) {
            Type::String => false,
            Type::Id(id) => match &self.resolve.types[id].kind {
                TypeDefKind::Enum(_)
                | TypeDefKind::Handle(_)
                | TypeDefKind::Resource
                | TypeDefKind::Stream(_)
                | TypeDefKind::Future(_) => true,
                TypeDefKind::Flags(f) => !matches!(f.repr(), FlagsRepr::U32(n) if n > 1),
                _ => false,
            },
            _ => true,
        }
    }

    /// The `_free` function of `ty`, if a value of it owns something.
    pub fn free_fn(&self, ty: &Type) -> Result<Option<String>, BindError> {
        if matches!(self.unalias(ty), Type::Id(id)
            if matches!(self.resolve.types[id].kind, TypeDefKind::Handle(_) | TypeDefKind::Resource | TypeDefKind::Stream(_) | TypeDefKind::Future(_)))
        {
            return Ok(None);
        }
        let block = self.plan.types().free(ty, FreeMode::BuffersAndHandles)?;
        if block.steps.is_empty() {
            return Ok(None);
        }
        Ok(Some(free_name(&self.cty(ty))))
    }

    /// Every type of the world, declared, with their layout checks and
    /// `_free` functions.
    pub(super) fn types(&self) -> Result<Types, BindError> {
        let mut d = Decls {
            seen: BTreeSet::new(),
            header: String::new(),
            types: Vec::new(),
        };
        self.declare(&Type::String, &mut d)?;
        let w = &self.resolve.worlds[self.world];
        for item in w.imports.values().chain(w.exports.values()) {
            match item {
                wit_parser::WorldItem::Interface { id, .. } => {
                    for t in self.resolve.interfaces[*id].types.values() {
                        self.declare(&Type::Id(*t), &mut d)?;
                    }
                }
                wit_parser::WorldItem::Type { id, .. } => self.declare(&Type::Id(*id), &mut d)?,
                wit_parser::WorldItem::Function(_) => {}
            }
        }
        for f in self.plan.imports.iter().chain(&self.plan.exports) {
            for p in &f.function.params {
                self.declare(&p.ty, &mut d)?;
            }
            if let Some(t) = &f.function.result {
                self.declare(t, &mut d)?;
            }
        }

        let mut header = String::from("\n// Types.\n\n");
        header.push_str(&d.header);
        let mut source = String::from(
            "// Every type's layout is the canonical ABI's, so strings, lists and maps\n\
             // cross as they are.\n",
        );
        let mut frees = String::new();
        for (name, ty) in &d.types {
            let layout = self.plan.layouts.layout(ty);
            let _ = writeln!(
                source,
                "_Static_assert(sizeof({name}) == {} && _Alignof({name}) == {}, \"{name}: not the canonical layout\");",
                layout.size, layout.align
            );
            if self.free_fn(ty)?.is_some() {
                let free = free_name(name);
                let block = self.plan.types().free(ty, FreeMode::BuffersAndHandles)?;
                let _ = writeln!(frees, "void {free}({name} *ptr);");
                let mut b = Body::new(self, None, Mode::Free);
                drive_block(&block, Vec::new(), &mut b)?;
                let _ = writeln!(
                    source,
                    "\nvoid {free}({name} *ptr) {{\nuint8_t *base = (uint8_t *)ptr;\n{}}}",
                    b.out
                );
            }
        }
        source.push('\n');
        if !frees.is_empty() {
            let _ = writeln!(
                header,
                "\n// Frees what a value owns (buffers, and handles, which are dropped); the\n\
                 // value itself stays where it is.\n\n{frees}"
            );
        }
        Ok(Types { header, source })
    }

    /// Declares `ty` and, first, every type it uses.
    fn declare(&self, ty: &Type, d: &mut Decls) -> Result<(), BindError> {
        let name = self.cty(ty);
        if d.seen.contains(&name) {
            return Ok(());
        }
        let id = match ty {
            Type::String => {
                d.seen.insert(name.clone());
                let _ = writeln!(
                    d.header,
                    "// A string: `len` bytes of UTF-8 at `ptr`, not NUL-terminated.\n\
                     typedef struct {name} {{\nuint8_t *ptr;\nsize_t len;\n}} {name};\n"
                );
                d.types.push((name, *ty));
                return Ok(());
            }
            Type::Id(id) => *id,
            _ => return Ok(()),
        };
        let def = &self.resolve.types[id];
        if self.named(id).is_none() {
            return self.declare_structural(&name, &def.kind, ty, d);
        }
        // Dependencies first.
        for dep in dependencies(&def.kind) {
            self.declare(&dep, d)?;
        }
        d.seen.insert(name.clone());
        let mut s = String::new();
        docs(&def.docs, &mut s);
        match &def.kind {
            TypeDefKind::Record(r) => {
                let _ = writeln!(s, "typedef struct {name} {{");
                for f in &r.fields {
                    docs(&f.docs, &mut s);
                    let _ = writeln!(s, "{} {};", self.cty(&f.ty), ident(&f.name));
                }
                let _ = writeln!(s, "}} {name};");
                d.types.push((name.clone(), *ty));
            }
            TypeDefKind::Variant(v) => {
                let tag = int_ty(v.tag());
                let _ = writeln!(s, "typedef struct {name} {{\n{tag} tag;");
                if v.cases.iter().any(|c| c.ty.is_some()) {
                    s.push_str("union {\n");
                    for c in &v.cases {
                        if let Some(t) = &c.ty {
                            let _ = writeln!(s, "{} {};", self.cty(t), ident(&c.name));
                        }
                    }
                    s.push_str("} val;\n");
                }
                let _ = writeln!(s, "}} {name};");
                for (i, c) in v.cases.iter().enumerate() {
                    docs(&c.docs, &mut s);
                    let _ = writeln!(s, "#define {} {i}", Gen::macro_name(&name, &c.name));
                }
                d.types.push((name.clone(), *ty));
            }
            TypeDefKind::Enum(e) => {
                let _ = writeln!(s, "typedef {} {name};", int_ty(e.tag()));
                for (i, c) in e.cases.iter().enumerate() {
                    docs(&c.docs, &mut s);
                    let _ = writeln!(s, "#define {} {i}", Gen::macro_name(&name, &c.name));
                }
                d.types.push((name.clone(), *ty));
            }
            TypeDefKind::Flags(f) => {
                match f.repr() {
                    FlagsRepr::U32(n) if n > 1 => {
                        let _ = writeln!(
                            s,
                            "// Flag `i` is bit `i % 32` of `words[i / 32]`.\n\
                             typedef struct {name} {{\nuint32_t words[{n}];\n}} {name};"
                        );
                        for (i, flag) in f.flags.iter().enumerate() {
                            docs(&flag.docs, &mut s);
                            let m = Gen::macro_name(&name, &flag.name);
                            let _ = writeln!(
                                s,
                                "#define {m}_WORD {}\n#define {m}_BIT (1U << {})",
                                i / 32,
                                i % 32
                            );
                        }
                    }
                    repr => {
                        let int = match repr {
                            FlagsRepr::U8 => "uint8_t",
                            FlagsRepr::U16 => "uint16_t",
                            FlagsRepr::U32(_) => "uint32_t",
                        };
                        let _ = writeln!(s, "typedef {int} {name};");
                        for (i, flag) in f.flags.iter().enumerate() {
                            docs(&flag.docs, &mut s);
                            let _ = writeln!(
                                s,
                                "#define {} (({name})(1U << {i}))",
                                Gen::macro_name(&name, &flag.name)
                            );
                        }
                    }
                }
                d.types.push((name.clone(), *ty));
            }
            TypeDefKind::Resource => self.resource_types(id, &mut s, d),
            TypeDefKind::Type(t) => {
                // A `use` of a resource: the original's handle types serve.
                if let Type::Id(r) = self.unalias(t)
                    && let TypeDefKind::Resource = self.resolve.types[r].kind
                {
                    let _ = writeln!(
                        s,
                        "// `{}` here is the resource of `{}` and `{}`.",
                        def.name.as_deref().unwrap_or(""),
                        self.handle_name(r, true),
                        self.handle_name(r, false)
                    );
                } else {
                    let _ = writeln!(s, "typedef {} {name};", self.cty(t));
                }
            }
            kind @ (TypeDefKind::List(_)
            | TypeDefKind::Map(..)
            | TypeDefKind::Option(_)
            | TypeDefKind::Result(_)
            | TypeDefKind::Tuple(_)
            | TypeDefKind::Future(_)
            | TypeDefKind::Stream(_)
            | TypeDefKind::Handle(_)) => {
                let structural = self.structural_name(kind);
                self.declare_structural(&structural, kind, ty, d)?;
                let _ = writeln!(s, "typedef {structural} {name};");
                if !matches!(kind, TypeDefKind::Handle(_)) {
                    d.types.push((name.clone(), *ty));
                }
            }
            // Kinds the plan refuses get no C type.
            _ => {
                let _ = writeln!(
                    s,
                    "// `{}`: not supported by this backend yet",
                    def.name.as_deref().unwrap_or("")
                );
            }
        }
        d.header.push_str(&s);
        d.header.push('\n');
        Ok(())
    }

    /// Declares an anonymous type's structure under `name`.
    fn declare_structural(
        &self,
        name: &str,
        kind: &TypeDefKind,
        ty: &Type,
        d: &mut Decls,
    ) -> Result<(), BindError> {
        if d.seen.contains(name) {
            return Ok(());
        }
        for dep in dependencies(kind) {
            self.declare(&self.unalias(&dep), d)?;
        }
        if d.seen.contains(name) {
            return Ok(());
        }
        d.seen.insert(name.to_string());
        let mut s = String::new();
        match kind {
            TypeDefKind::List(t) => {
                let _ = writeln!(
                    s,
                    "typedef struct {name} {{\n{} *ptr;\nsize_t len;\n}} {name};",
                    self.cty(&self.unalias(t))
                );
            }
            TypeDefKind::Map(k, v) => {
                let entry = format!("{}_entry_t", name.trim_end_matches("_t"));
                let _ = writeln!(
                    s,
                    "typedef struct {entry} {{\n{} key;\n{} value;\n}} {entry};\n\
                     // A map: `len` entries at `ptr` (keys should be distinct).\n\
                     typedef struct {name} {{\n{entry} *ptr;\nsize_t len;\n}} {name};",
                    self.cty(&self.unalias(k)),
                    self.cty(&self.unalias(v))
                );
            }
            TypeDefKind::Option(t) => {
                let _ = writeln!(
                    s,
                    "typedef struct {name} {{\nbool is_some;\n{} val;\n}} {name};",
                    self.cty(&self.unalias(t))
                );
            }
            TypeDefKind::Result(r) => {
                let _ = writeln!(s, "typedef struct {name} {{\nbool is_err;");
                if r.ok.is_some() || r.err.is_some() {
                    s.push_str("union {\n");
                    if let Some(t) = &r.ok {
                        let _ = writeln!(s, "{} ok;", self.cty(&self.unalias(t)));
                    }
                    if let Some(t) = &r.err {
                        let _ = writeln!(s, "{} err;", self.cty(&self.unalias(t)));
                    }
                    s.push_str("} val;\n");
                }
                let _ = writeln!(s, "}} {name};");
            }
            TypeDefKind::Tuple(t) => {
                let _ = writeln!(s, "typedef struct {name} {{");
                for (i, t) in t.types.iter().enumerate() {
                    let _ = writeln!(s, "{} f{i};", self.cty(&self.unalias(t)));
                }
                let _ = writeln!(s, "}} {name};");
            }
            TypeDefKind::Stream(_) | TypeDefKind::Future(_) => {
                let what = match kind {
                    TypeDefKind::Stream(_) => "stream",
                    _ => "future",
                };
                let base = name.trim_end_matches("_t");
                let _ = writeln!(
                    s,
                    "// The readable end of a {what}: what crosses in calls. Read it with\n\
                     // `{base}_read`, drop it with `{base}_drop_readable`.\n\
                     typedef struct {name} {{\nint32_t __handle;\n}} {name};\n\
                     // Its writable end: write with `{base}_write`, drop with\n\
                     // `{base}_drop_writable`.\n\
                     typedef struct {base}_writer_t {{\nint32_t __handle;\n}} {base}_writer_t;"
                );
            }
            TypeDefKind::Handle(Handle::Own(r) | Handle::Borrow(r)) => {
                // Declared with their resource.
                let r = resource_of(self.resolve, *r);
                d.seen.remove(name);
                return self.declare(&Type::Id(r), d);
            }
            _ => return Ok(()),
        }
        d.header.push_str(&s);
        d.header.push('\n');
        d.types.push((name.to_string(), *ty));
        Ok(())
    }

    /// The handle types of resource `id`.
    fn resource_types(&self, id: TypeId, s: &mut String, d: &mut Decls) {
        let own = self.handle_name(id, true);
        let borrow = self.handle_name(id, false);
        d.seen.insert(own.clone());
        d.seen.insert(borrow.clone());
        let exported = self
            .plan
            .resource(id)
            .is_some_and(|r| r.direction == crate::abi::Direction::Export);
        let _ = writeln!(
            s,
            "// An owned handle to a `{}`: drop it once, with `{}`.\n\
             typedef struct {own} {{\nint32_t __handle;\n}} {own};",
            self.resolve.types[id].name.as_deref().unwrap_or(""),
            self.resource_fn(id, "drop_own")
        );
        if exported {
            let rep = self.rep_name(id);
            let _ = writeln!(
                s,
                "// Your type of the resource: define `struct {rep}`.\n\
                 typedef struct {rep} {rep};\n\
                 // A borrowed one is your value itself.\n\
                 typedef {rep} *{borrow};"
            );
        } else {
            let _ = writeln!(
                s,
                "// A borrowed handle: valid for the call it is passed to.\n\
                 typedef struct {borrow} {{\nint32_t __handle;\n}} {borrow};"
            );
        }
    }
}

/// The types a type definition's fields, cases or elements use.
fn dependencies(kind: &TypeDefKind) -> Vec<Type> {
    match kind {
        TypeDefKind::Record(r) => r.fields.iter().map(|f| f.ty).collect(),
        TypeDefKind::Variant(v) => v.cases.iter().filter_map(|c| c.ty).collect(),
        TypeDefKind::Tuple(t) => t.types.clone(),
        TypeDefKind::List(t) | TypeDefKind::Option(t) | TypeDefKind::Type(t) => vec![*t],
        TypeDefKind::Map(k, v) => vec![*k, *v],
        TypeDefKind::Result(r) => r.ok.iter().chain(&r.err).copied().collect(),
        TypeDefKind::Stream(t) | TypeDefKind::Future(t) => t.iter().copied().collect(),
        _ => Vec::new(),
    }
}

/// The `_free` function of the type named `name`.
fn free_name(name: &str) -> String {
    format!("{}_free", name.strip_suffix("_t").unwrap_or(name))
}

fn int_ty(int: Int) -> &'static str {
    match int {
        Int::U8 => "uint8_t",
        Int::U16 => "uint16_t",
        Int::U32 => "uint32_t",
        Int::U64 => "uint64_t",
    }
}

/// The names of a record's or tuple's fields, as the declaration spells them.
pub(super) fn field_names(g: &Gen<'_>, ty: TypeId) -> Option<Vec<String>> {
    match &g.resolve.types[ty].kind {
        TypeDefKind::Record(r) => Some(r.fields.iter().map(|f| ident(&f.name)).collect()),
        TypeDefKind::Tuple(t) => Some((0..t.types.len()).map(|i| format!("f{i}")).collect()),
        _ => None,
    }
}
