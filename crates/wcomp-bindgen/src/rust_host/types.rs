//! Rust spellings of WIT types for the host: definitions with wasmtime's
//! derives and a layout guard each, and the structural types of
//! parameters and results.

use std::fmt::Write as _;

use wit_parser::{Handle, Type, TypeDefKind, TypeId, TypeOwner};

use super::Gen;
use crate::abi::resource_of;
use crate::rust::docs;
use crate::rust::names::{camel, shouty, snake};

const DERIVE: &str = "#[derive(wasmtime::component::ComponentType, wasmtime::component::Lift, wasmtime::component::Lower)]";

impl Gen<'_> {
    /// The owned Rust type of `ty`, seen from module `from`.
    pub fn ty(&self, ty: &Type, from: &[String]) -> String {
        match ty {
            Type::Bool => "bool".into(),
            Type::U8 => "u8".into(),
            Type::S8 => "i8".into(),
            Type::U16 => "u16".into(),
            Type::S16 => "i16".into(),
            Type::U32 => "u32".into(),
            Type::S32 => "i32".into(),
            Type::U64 => "u64".into(),
            Type::S64 => "i64".into(),
            Type::F32 => "f32".into(),
            Type::F64 => "f64".into(),
            Type::Char => "char".into(),
            Type::String => "String".into(),
            // The plan refuses worlds that use it: never spelled.
            Type::ErrorContext => "()".into(),
            Type::Id(id) => {
                let def = &self.resolve.types[*id];
                if def.name.is_some() && def.owner != TypeOwner::None {
                    self.type_path(*id, from)
                } else {
                    self.kind(&def.kind, from)
                }
            }
        }
    }

    /// The structural spelling of an anonymous type.
    fn kind(&self, kind: &TypeDefKind, from: &[String]) -> String {
        let opt = |t: &Option<Type>| t.as_ref().map_or("()".to_string(), |t| self.ty(t, from));
        match kind {
            TypeDefKind::Type(t) => self.ty(t, from),
            TypeDefKind::List(t) => format!("Vec<{}>", self.ty(t, from)),
            // wasmtime lifts and lowers `map` as a `HashMap` (with
            // `Config::wasm_component_model_map` on).
            TypeDefKind::Map(k, v) => format!(
                "::std::collections::HashMap<{}, {}>",
                self.ty(k, from),
                self.ty(v, from)
            ),
            TypeDefKind::Option(t) => format!("Option<{}>", self.ty(t, from)),
            TypeDefKind::Result(r) => format!("Result<{}, {}>", opt(&r.ok), opt(&r.err)),
            TypeDefKind::Tuple(t) => tuple(t.types.iter().map(|t| self.ty(t, from))),
            TypeDefKind::Handle(Handle::Own(r) | Handle::Borrow(r)) => self.handle(*r, from),
            // The readable ends, as wasmtime lifts and lowers them: the
            // host reads one with `pipe`, and makes one with `new`.
            TypeDefKind::Future(t) => {
                format!("wasmtime::component::FutureReader<{}>", opt(t))
            }
            TypeDefKind::Stream(t) => {
                format!("wasmtime::component::StreamReader<{}>", opt(t))
            }
            // Named kinds are spelled by name, and the plan refuses worlds
            // with the other async-era types: never spelled structurally.
            _ => "()".into(),
        }
    }

    /// A handle to resource `r`: typed when the host implements it.
    fn handle(&self, r: TypeId, from: &[String]) -> String {
        let r = resource_of(self.resolve, r);
        if self.host_resource(r) {
            format!("wasmtime::component::Resource<{}>", self.type_path(r, from))
        } else {
            "wasmtime::component::ResourceAny".into()
        }
    }

    /// The type of a parameter the host passes to an export: strings and
    /// lists are lent, not given.
    pub fn lent_ty(&self, ty: &Type, from: &[String]) -> String {
        match self.unalias(ty) {
            Type::String => "&str".into(),
            Type::Id(id) => match &self.resolve.types[id].kind {
                TypeDefKind::List(t) => format!("&[{}]", self.ty(t, from)),
                TypeDefKind::Map(..) => format!("&{}", self.ty(ty, from)),
                _ => self.ty(ty, from),
            },
            _ => self.ty(ty, from),
        }
    }

    /// `ty` holds a resource handle, or the end of a future or stream,
    /// somewhere: such values have one owner (no `Clone`), and wasmtime's
    /// `Resource<T>` and readers have no `PartialEq`.
    fn holds_handle(&self, ty: &Type) -> bool {
        let Type::Id(id) = ty else { return false };
        let holds = |t: &Option<Type>| t.as_ref().is_some_and(|t| self.holds_handle(t));
        match &self.resolve.types[*id].kind {
            TypeDefKind::Handle(_) | TypeDefKind::Future(_) | TypeDefKind::Stream(_) => true,
            TypeDefKind::Type(t)
            | TypeDefKind::List(t)
            | TypeDefKind::Option(t)
            | TypeDefKind::Map(_, t) => self.holds_handle(t),
            TypeDefKind::Record(r) => r.fields.iter().any(|f| self.holds_handle(&f.ty)),
            TypeDefKind::Tuple(t) => t.types.iter().any(|t| self.holds_handle(t)),
            TypeDefKind::Variant(v) => v.cases.iter().any(|c| holds(&c.ty)),
            TypeDefKind::Result(r) => holds(&r.ok) || holds(&r.err),
            _ => false,
        }
    }

    fn derives(&self, id: TypeId) -> &'static str {
        if self.holds_handle(&Type::Id(id)) {
            "#[derive(Debug)]"
        } else {
            "#[derive(Clone, Debug, PartialEq)]"
        }
    }

    /// The definition of named type `id`, in module `path`.
    pub fn typedef(&self, id: TypeId, path: &[String], out: &mut String) {
        let def = &self.resolve.types[id];
        let name = self.type_name(id);
        let guard = |out: &mut String| {
            let l = self.plan.layouts.layout(&Type::Id(id));
            let _ = writeln!(
                out,
                "const _: () = {{\n\
                 assert!(<{name} as wasmtime::component::ComponentType>::SIZE32 == {});\n\
                 assert!(<{name} as wasmtime::component::ComponentType>::ALIGN32 == {});\n}};",
                l.size, l.align
            );
        };
        match &def.kind {
            TypeDefKind::Record(r) => {
                docs(&def.docs, out);
                let _ = writeln!(
                    out,
                    "{DERIVE}\n#[component(record)]\n{}\npub struct {name} {{",
                    self.derives(id)
                );
                for f in &r.fields {
                    docs(&f.docs, out);
                    let _ = writeln!(
                        out,
                        "#[component(name = \"{}\")]\npub {}: {},",
                        f.name,
                        snake(&f.name),
                        self.ty(&f.ty, path)
                    );
                }
                out.push_str("}\n");
                guard(out);
            }
            TypeDefKind::Variant(v) => {
                docs(&def.docs, out);
                let _ = writeln!(
                    out,
                    "{DERIVE}\n#[component(variant)]\n{}\npub enum {name} {{",
                    self.derives(id)
                );
                for c in &v.cases {
                    docs(&c.docs, out);
                    let _ = write!(
                        out,
                        "#[component(name = \"{}\")]\n{}",
                        c.name,
                        camel(&c.name)
                    );
                    match &c.ty {
                        Some(t) => {
                            let _ = writeln!(out, "({}),", self.ty(t, path));
                        }
                        None => out.push_str(",\n"),
                    }
                }
                out.push_str("}\n");
                guard(out);
            }
            TypeDefKind::Enum(e) => {
                docs(&def.docs, out);
                let _ = writeln!(
                    out,
                    "{DERIVE}\n#[component(enum)]\n#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]\n\
                     #[repr({})]\npub enum {name} {{",
                    crate::rust::int_repr(e.cases.len())
                );
                for c in &e.cases {
                    docs(&c.docs, out);
                    let _ = writeln!(
                        out,
                        "#[component(name = \"{}\")]\n{},",
                        c.name,
                        camel(&c.name)
                    );
                }
                out.push_str("}\n");
                guard(out);
            }
            TypeDefKind::Flags(f) => {
                // `flags!` takes no doc attributes: the docs stay comments.
                if let Some(text) = &def.docs.contents {
                    for line in text.lines() {
                        let _ = writeln!(out, "// {line}");
                    }
                }
                let _ = writeln!(out, "wasmtime::component::flags! {{\n{name} {{");
                for flag in &f.flags {
                    let _ = writeln!(
                        out,
                        "#[component(name = \"{}\")]\nconst {};",
                        flag.name,
                        shouty(&flag.name)
                    );
                }
                out.push_str("}\n}\n");
                guard(out);
            }
            TypeDefKind::Resource if let Some(with) = self.with_type(id) => {
                docs(&def.docs, out);
                let _ = writeln!(
                    out,
                    "/// Resource `{}`, implemented by the host with the embedder's type \
                     (`with`).\npub type {name} = {with};",
                    def.name.as_deref().unwrap_or("")
                );
            }
            // The guest's resources are `ResourceAny` to the host: no type.
            TypeDefKind::Resource if self.host_resource(id) => {
                docs(&def.docs, out);
                let _ = writeln!(
                    out,
                    "/// Resource `{}`, implemented by the host: the type of its \
                     `wasmtime::component::Resource<{name}>` handles \
                     (see the `Host{name}` trait).\npub enum {name} {{}}",
                    def.name.as_deref().unwrap_or("")
                );
            }
            TypeDefKind::Type(t) => {
                // A `use` of a guest's resource: it has no Rust type to name.
                if let Type::Id(r) = self.unalias(t)
                    && matches!(self.resolve.types[r].kind, TypeDefKind::Resource)
                    && !self.host_resource(r)
                {
                    return;
                }
                docs(&def.docs, out);
                let _ = writeln!(out, "pub type {name} = {};", self.ty(t, path));
            }
            k @ (TypeDefKind::List(_)
            | TypeDefKind::Map(..)
            | TypeDefKind::Option(_)
            | TypeDefKind::Result(_)
            | TypeDefKind::Tuple(_)
            | TypeDefKind::Handle(_)
            | TypeDefKind::Future(_)
            | TypeDefKind::Stream(_)) => {
                docs(&def.docs, out);
                let _ = writeln!(out, "pub type {name} = {};", self.kind(k, path));
            }
            // The plan refuses worlds with the other kinds: never reached.
            _ => {}
        }
    }
}

/// `(A, B)`, with the trailing comma a one-element tuple needs.
pub(crate) fn tuple(items: impl Iterator<Item = String>) -> String {
    let items: Vec<String> = items.collect();
    match items.len() {
        1 => format!("({},)", items[0]),
        _ => format!("({})", items.join(", ")),
    }
}
