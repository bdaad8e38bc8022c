//! The Rust guest backend: spells a [`WorldPlan`] as one self-contained Rust
//! file (no runtime crate).
//!
//! Layout of the generated file:
//!
//! * each imported interface is a module of plain functions (`store::get`),
//!   named by the interface (prefixed with `namespace::package::` when the
//!   interface is not from the world's own package);
//! * each exported interface is a module under `exports::` holding its types
//!   and a `Guest` trait; world-level exports make a `Guest` trait at the root;
//! * `export!(Type)` defines the core exports, calling `Type`'s trait impls;
//! * `_rt` holds the few helpers every function shares (allocation, string
//!   and list lifting), so that functions stay short;
//! * the encoded component type sits in a `component-type:` custom section,
//!   so `wcomp new` needs no `--wit`.
//!
//! This backend never computes a layout, a flattening or the order of a
//! call itself: every function body is the plan's call sequence, which the
//! abi driver walks while the private `body` module spells each [`Step`];
//! the private `func` module writes the items around the bodies.
//! Resources get handle types and, when exported, traits of their own (the
//! private `resource` module).
//!
//! [`Step`]: crate::abi::Step

mod body;
mod func;
pub(crate) mod names;
mod payload;
mod resource;
mod task;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use wit_parser::{
    Docs, Handle, InterfaceId, Resolve, Type, TypeDefKind, TypeId, TypeOwner, WorldId, WorldItem,
    WorldKey,
};

use crate::abi::{Direction, ResourcePlan, WorldPlan};
use crate::{BindError, Files};

use names::{camel, shouty, snake};

/// Options of the Rust backend.
#[derive(Debug, Clone, Default)]
pub struct Opts {
    /// Where the user's crate puts the generated file, as a path the
    /// `export!(Type)` form uses (default `crate::bindings`); the
    /// `export!(Type with_types_in some::path)` form overrides it.
    pub bindings_module: Option<String>,
    /// Pipe the output through `rustfmt` when it is on PATH (the output is
    /// already indented; rustfmt only makes it canonical).
    pub rustfmt: bool,
    /// Also write a stub implementation of every export (`Stub`, with
    /// `unimplemented!()` bodies) and its `export!` call, so that the file
    /// alone is a crate root that compiles: a scaffold for a new component.
    pub stubs: bool,
}

/// The attributes every generated module carries: the bindings define more
/// than a given user needs (dead code), and spelled steps leave harmless
/// redundant parentheses, nested `unsafe` blocks, and a `mut` on export
/// results that hand nothing over.
const ALLOW: &str = "#[allow(dead_code, unused_mut, unused_parens, unused_unsafe, clippy::all)]";

impl Opts {
    /// Generates the bindings of `world`: one file, `<world>.rs`.
    pub fn generate(&self, resolve: &Resolve, world: WorldId) -> Result<Files, BindError> {
        let options = wcomp_abi::Options {
            async_calls: true,
            streams: true,
            ..Default::default()
        };
        let plan = WorldPlan::with_options(resolve, world, options)?;
        // The plan's copy of the resolve, where an interface used twice by
        // the world is two interfaces: every id below is of this one.
        let resolve = plan.resolve();
        let g = Gen::new(resolve, world, &plan);
        let mut src = g.file(self)?;
        if self.rustfmt
            && let Some(formatted) = rustfmt(&src)
        {
            src = formatted;
        }
        let mut files = Files::default();
        files.insert(
            format!(
                "{}.rs",
                snake(&resolve.worlds[world].name).trim_start_matches("r#")
            ),
            src,
        );
        Ok(files)
    }
}

fn rustfmt(src: &str) -> Option<String> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new("rustfmt")
        .args(["--edition", "2024"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(src.as_bytes()).ok()?;
    let out = child.wait_with_output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8(out.stdout).ok())?
}

/// Generation state shared by the type and function writers.
pub(crate) struct Gen<'a> {
    pub resolve: &'a Resolve,
    pub world: WorldId,
    pub plan: &'a WorldPlan,
    /// Module path (segments from the file root) of each interface. The
    /// plan's ids are nominal: an interface the world uses twice (imported
    /// and exported, or under two names) is two ids, two modules.
    modules: BTreeMap<InterfaceId, Vec<String>>,
    /// Exported resources lent inside values (`borrow<r>` in a record, a
    /// list, ...): they get an `RBorrow` type.
    lent: BTreeSet<TypeId>,
}

impl<'a> Gen<'a> {
    fn new(resolve: &'a Resolve, world: WorldId, plan: &'a WorldPlan) -> Gen<'a> {
        let w = &resolve.worlds[world];
        let versioned = crate::paths::packages_in_several_versions(resolve, world);
        let mut modules = BTreeMap::new();
        for (prefix, items) in [(None, &w.imports), (Some("exports"), &w.exports)] {
            for (key, item) in items {
                if let WorldItem::Interface { id, .. } = item {
                    let mut path: Vec<String> = prefix.map(String::from).into_iter().collect();
                    path.extend(crate::paths::key_path(
                        resolve, world, key, *id, &versioned, snake,
                    ));
                    // An import's module (an interface or a namespace named
                    // `exports`) must not merge with the exports' one.
                    if prefix.is_none() && path.first().is_some_and(|m| m == "exports") {
                        path[0] = "exports_".into();
                    }
                    modules.insert(*id, path);
                }
            }
        }
        let mut lent = BTreeSet::new();
        for item in w.exports.values() {
            if let WorldItem::Interface { id, .. } = item {
                for t in resolve.interfaces[*id].types.values() {
                    resource::nested_borrows(resolve, &Type::Id(*t), false, &mut lent);
                }
            }
        }
        for f in &plan.exports {
            for p in &f.function.params {
                resource::nested_borrows(resolve, &p.ty, true, &mut lent);
            }
        }
        let mut g = Gen {
            resolve,
            world,
            plan,
            modules,
            lent,
        };
        // A borrow parameter of a resource another exported interface
        // defines is lent as that resource's `RBorrow` too: the function's
        // trait has no associated type naming it.
        for f in &plan.exports {
            for p in &f.function.params {
                if let Some(r) = resource::borrowed_resource(&g, &p.ty)
                    && g.exported_resource(r)
                    && !g.same_module(r, f)
                {
                    g.lent.insert(r);
                }
            }
        }
        g
    }

    /// The module of an interface, or the root (`[]`) for the world.
    fn module_of(&self, key: Option<&WorldKey>, direction: Direction) -> Vec<String> {
        let Some(key) = key else { return Vec::new() };
        let w = &self.resolve.worlds[self.world];
        let items = match direction {
            Direction::Import => &w.imports,
            Direction::Export => &w.exports,
        };
        match items.get(key) {
            Some(WorldItem::Interface { id, .. }) => {
                self.modules.get(id).cloned().unwrap_or_default()
            }
            // Functions of a named world item are an interface's.
            _ => Vec::new(),
        }
    }

    /// The path from module `from` to module `to` (`super::` up, then down).
    fn rel(&self, from: &[String], to: &[String]) -> String {
        let common = from.iter().zip(to).take_while(|(a, b)| a == b).count();
        let mut s = "super::".repeat(from.len() - common);
        for seg in &to[common..] {
            s.push_str(seg);
            s.push_str("::");
        }
        s
    }

    /// The path to the `_rt` helpers from module `from`.
    pub fn rt(&self, from: &[String]) -> String {
        format!("{}_rt", "super::".repeat(from.len()))
    }

    /// Path of the named type `id` as seen from module `from`.
    pub fn type_path(&self, id: TypeId, from: &[String]) -> String {
        let def = &self.resolve.types[id];
        let module: Vec<String> = match def.owner {
            TypeOwner::Interface(i) => self.modules.get(&i).cloned().unwrap_or_default(),
            TypeOwner::World(_) | TypeOwner::None => Vec::new(),
        };
        format!("{}{}", self.rel(from, &module), self.type_name(id))
    }

    /// The Rust name of the named type `id`: its name in camel case, with
    /// `_` added where that would clash with what this backend generates
    /// beside it: the `Guest` trait, a resource's `GuestR` trait or its
    /// `RBorrow` type (WIT type `guest` becomes `Guest_`). A resource keeps
    /// its name.
    pub fn type_name(&self, id: TypeId) -> String {
        let def = &self.resolve.types[id];
        // Only named type definitions reach here (anonymous ones are spelled inline).
        if matches!(def.kind, TypeDefKind::Resource) {
            return self.camel_of(id);
        }
        let name = camel(def.name.as_deref().unwrap_or("anonymous"));
        let siblings: Vec<TypeId> = match def.owner {
            TypeOwner::Interface(i) => self.resolve.interfaces[i].types.values().copied().collect(),
            TypeOwner::World(w) => {
                let w = &self.resolve.worlds[w];
                w.imports
                    .values()
                    .chain(w.exports.values())
                    .filter_map(|item| match item {
                        WorldItem::Type { id, .. } => Some(*id),
                        _ => None,
                    })
                    .collect()
            }
            TypeOwner::None => Vec::new(),
        };
        let generated = siblings
            .iter()
            .filter(|t| matches!(self.resolve.types[**t].kind, TypeDefKind::Resource))
            .map(|t| self.camel_of(*t))
            .any(|r| name == format!("Guest{r}") || name == format!("{r}Borrow"));
        if name == "Guest" || generated {
            format!("{name}_")
        } else {
            name
        }
    }

    /// The owned Rust type of `ty`, seen from module `from`.
    pub fn ty(&self, ty: &Type, from: &[String]) -> String {
        self.ty_in(ty, from, None)
    }

    /// [`Gen::ty`] inside a type definition whose lifetime is `lt` (`'a`):
    /// borrowed handles and types holding them carry it. Without one
    /// (`None`, function signatures and bodies) lifetimes are elided.
    fn ty_in(&self, ty: &Type, from: &[String], lt: Option<&str>) -> String {
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
                    let path = self.type_path(*id, from);
                    match self.lends(*id) {
                        true => format!("{path}<{}>", lt.unwrap_or("'_")),
                        false => path,
                    }
                } else {
                    self.kind(&def.kind, from, lt)
                }
            }
        }
    }

    /// The structural spelling of an anonymous type.
    fn kind(&self, kind: &TypeDefKind, from: &[String], lt: Option<&str>) -> String {
        let ty = |t: &Type| self.ty_in(t, from, lt);
        let opt = |t: &Option<Type>| t.as_ref().map_or("()".to_string(), ty);
        match kind {
            TypeDefKind::Type(t) => ty(t),
            TypeDefKind::List(t) => format!("Vec<{}>", ty(t)),
            // Ordered, so the entries cross in a deterministic order, and
            // no hasher to seed: no randomness import for a map.
            TypeDefKind::Map(k, v) => format!("::std::collections::BTreeMap<{}, {}>", ty(k), ty(v)),
            TypeDefKind::Option(t) => format!("Option<{}>", ty(t)),
            TypeDefKind::Result(r) => format!("Result<{}, {}>", opt(&r.ok), opt(&r.err)),
            TypeDefKind::Tuple(t) => {
                let mut s = String::from("(");
                for t in &t.types {
                    s.push_str(&ty(t));
                    s.push_str(", ");
                }
                s.push(')');
                s
            }
            TypeDefKind::Handle(Handle::Own(r)) => {
                self.type_path(resource::resource_of(self.resolve, *r), from)
            }
            TypeDefKind::Handle(Handle::Borrow(r)) => {
                let r = resource::resource_of(self.resolve, *r);
                // A guest's own resource is lent as its representation:
                // `RBorrow` (inside a type; a parameter of its own is
                // `&Self::R`, see `trait_param_ty`).
                if self.exported_resource(r) {
                    return format!("{}Borrow<{}>", self.type_path(r, from), lt.unwrap_or("'_"));
                }
                match lt {
                    Some(lt) => format!("&{lt} {}", self.type_path(r, from)),
                    None => format!("&{}", self.type_path(r, from)),
                }
            }
            TypeDefKind::Future(t) => format!("{}::task::FutureReader<{}>", self.rt(from), opt(t)),
            TypeDefKind::Stream(t) => format!("{}::task::StreamReader<{}>", self.rt(from), opt(t)),
            // Named kinds are spelled by name, and the plan refuses the
            // other async-era types: never spelled structurally.
            _ => "()".into(),
        }
    }

    /// Named type `id` holds a borrowed handle, so its Rust type has a
    /// lifetime (`H<'a>`).
    fn lends(&self, id: TypeId) -> bool {
        !matches!(
            self.resolve.types[id].kind,
            TypeDefKind::Resource | TypeDefKind::Handle(_)
        ) && resource::handles(self.resolve, &Type::Id(id)).borrow
    }

    /// The type of an import parameter: strings and lists are borrowed.
    pub fn param_ty(&self, ty: &Type, from: &[String]) -> String {
        match self.unalias(ty) {
            Type::String => "&str".into(),
            Type::Id(id) => match &self.resolve.types[id].kind {
                // A list of owned handles passes them on: it is given, not lent.
                TypeDefKind::List(t) if resource::handles(self.resolve, t).own => {
                    format!("Vec<{}>", self.ty(t, from))
                }
                TypeDefKind::List(t) => format!("&[{}]", self.ty(t, from)),
                TypeDefKind::Map(_, v) if !resource::handles(self.resolve, v).own => {
                    format!("&{}", self.ty(ty, from))
                }
                _ => self.ty(ty, from),
            },
            _ => self.ty(ty, from),
        }
    }

    /// `ty` with `type a = b` aliases followed.
    pub fn unalias(&self, ty: &Type) -> Type {
        crate::aliases::unalias(self.resolve, ty)
    }

    /// The error type of a fallible constructor (`constructor(..) ->
    /// result<r, e>`): `Some(e)`, itself `None` for `result<r>`.
    pub fn ctor_error(&self, f: &crate::abi::FunctionPlan) -> Option<Option<Type>> {
        let wit_parser::FunctionKind::Constructor(_) = f.function.kind else {
            return None;
        };
        match self.unalias(f.function.result.as_ref()?) {
            Type::Id(id) => match &self.resolve.types[id].kind {
                TypeDefKind::Result(r) => Some(r.err),
                _ => None,
            },
            _ => None,
        }
    }

    /// Records and variants holding owned handles cannot be cloned or
    /// compared: a handle has one owner.
    fn derives(&self, id: TypeId) -> &'static str {
        let handles = resource::handles(self.resolve, &Type::Id(id));
        if handles.own {
            "#[derive(Debug)]"
        } else if handles.borrow {
            // Handle types do not compare.
            "#[derive(Clone, Debug)]"
        } else {
            "#[derive(Clone, Debug, PartialEq)]"
        }
    }

    /// The Rust name of resource `r` (its handle type).
    pub fn camel_of(&self, r: TypeId) -> String {
        let name = camel(self.resolve.types[r].name.as_deref().unwrap_or("resource"));
        // A resource named like the interface's `Guest` trait, or like the
        // trait or borrow type another resource of its interface generates
        // (`guest-x` beside `x`), gets a `_` (WIT `guest` is `Guest_`).
        let siblings: Vec<String> = match self.resolve.types[r].owner {
            TypeOwner::Interface(i) => self.resolve.interfaces[i]
                .types
                .values()
                .filter(|t| {
                    **t != r && matches!(self.resolve.types[**t].kind, TypeDefKind::Resource)
                })
                .map(|t| camel(self.resolve.types[*t].name.as_deref().unwrap_or("resource")))
                .collect(),
            _ => Vec::new(),
        };
        let generated = siblings
            .iter()
            .any(|o| name == format!("Guest{o}") || name == format!("{o}Borrow"));
        if name == "Guest" || generated {
            format!("{name}_")
        } else {
            name
        }
    }

    pub fn resource_plan(&self, r: TypeId) -> Option<&'a ResourcePlan> {
        self.plan.resources.iter().find(|p| p.resource == r)
    }

    /// The guest implements resource `r`.
    pub fn exported_resource(&self, r: TypeId) -> bool {
        self.resource_plan(r)
            .is_some_and(|p| p.direction == Direction::Export)
    }

    /// Resource `r` is defined in the module of export `f`.
    pub fn same_module(&self, r: TypeId, f: &crate::abi::FunctionPlan) -> bool {
        let owner = match self.resolve.types[r].owner {
            TypeOwner::Interface(i) => self.modules.get(&i),
            _ => None,
        };
        owner == Some(&self.module_of(f.interface.as_ref(), Direction::Export))
    }

    /// The type of an export's parameter in the trait the user implements:
    /// a borrowed exported resource is the user's representation (`&Self`
    /// in the resource's own trait, `&Self::Counter` elsewhere in its
    /// interface), or its `CounterBorrow` from another interface.
    pub fn trait_param_ty(
        &self,
        ty: &Type,
        from: &[String],
        own: Option<TypeId>,
        f: &crate::abi::FunctionPlan,
    ) -> String {
        if let Type::Id(id) = self.unalias(ty)
            && let TypeDefKind::Handle(Handle::Borrow(r)) = self.resolve.types[id].kind
        {
            let r = resource::resource_of(self.resolve, r);
            if self.exported_resource(r) && !self.same_module(r, f) {
                return format!("{}Borrow<'_>", self.type_path(r, from));
            }
            if self.exported_resource(r) {
                return match own {
                    Some(o) if o == r => "&Self".into(),
                    _ => format!("&Self::{}", self.camel_of(r)),
                };
            }
        }
        self.ty(ty, from)
    }

    fn file(&self, opts: &Opts) -> Result<String, BindError> {
        let w = &self.resolve.worlds[self.world];
        let mut out = String::new();
        let _ = writeln!(
            out,
            "// Generated by `wcomp bind --lang rust` for world `{}`. Do not edit.",
            w.name
        );

        // Modules, as a tree: path -> contents.
        let mut modules: BTreeMap<Vec<String>, String> = BTreeMap::new();
        modules.insert(Vec::new(), String::new());
        for (id, path) in &self.modules {
            let body = modules.entry(path.clone()).or_default();
            self.interface_types(*id, path, body)?;
        }
        // World-level types.
        for item in w.imports.values().chain(w.exports.values()) {
            if let WorldItem::Type { id, .. } = item {
                let body = modules.entry(Vec::new()).or_default();
                self.typedef(*id, &[], body)?;
            }
        }
        // Imports: plain functions, or methods of their resource's handle type.
        let mut impls: BTreeMap<(Vec<String>, String), String> = BTreeMap::new();
        for f in &self.plan.imports {
            let path = self.module_of(f.interface.as_ref(), Direction::Import);
            let body = match resource::owner_resource(f) {
                Some(r) => impls.entry((path.clone(), self.camel_of(r))).or_default(),
                None => modules.entry(path.clone()).or_default(),
            };
            func::import(self, f, &path, body)?;
        }
        for ((path, name), methods) in impls {
            let body = modules.entry(path).or_default();
            let _ = writeln!(body, "impl {name} {{\n{methods}}}");
        }
        // Exports: a `Guest` trait per module (naming the user's type of
        // each exported resource), a `GuestR` trait per exported resource,
        // plus the shims.
        let mut traits: BTreeMap<Vec<String>, String> = BTreeMap::new();
        let mut resource_traits: BTreeMap<(Vec<String>, String), String> = BTreeMap::new();
        let mut macro_body = String::new();
        for r in &self.plan.resources {
            if r.direction != Direction::Export {
                continue;
            }
            let path = self.module_of(r.interface.as_ref(), Direction::Export);
            let name = self.camel_of(r.resource);
            let _ = writeln!(
                traits.entry(path.clone()).or_default(),
                "/// The type that implements resource `{}`.\ntype {name}: Guest{name};",
                r.name
            );
            resource_traits
                .entry((path.clone(), name.clone()))
                .or_default();
            let mpath = path.join("::");
            macro_body.push_str(&resource::macro_items(
                r,
                &name,
                &format!("$PATH::{mpath}::Guest"),
                &format!("$PATH::{mpath}::{name}"),
                &names::path_ident(&path),
                self.lent.contains(&r.resource),
            )?);
        }
        for f in &self.plan.exports {
            let path = self.module_of(f.interface.as_ref(), Direction::Export);
            let tr = match resource::owner_resource(f) {
                Some(r) => resource_traits
                    .entry((path.clone(), self.camel_of(r)))
                    .or_default(),
                None => traits.entry(path.clone()).or_default(),
            };
            func::trait_method(self, f, &path, tr);
            let body = modules.entry(path.clone()).or_default();
            func::export(self, f, &path, body, &mut macro_body)?;
        }
        for (path, tr) in traits {
            let body = modules.entry(path).or_default();
            let _ = writeln!(body, "/// What the component implements.");
            let _ = writeln!(body, "pub trait Guest {{\n{tr}}}");
        }
        for ((path, name), tr) in resource_traits {
            let body = modules.entry(path).or_default();
            let _ = writeln!(
                body,
                "/// What the user's type of resource `{name}` implements.\n\
                 pub trait Guest{name}: 'static {{\n{tr}}}"
            );
        }

        // Make sure every ancestor module exists, then nest them.
        let paths: Vec<Vec<String>> = modules.keys().cloned().collect();
        for p in paths {
            for n in 1..p.len() {
                modules.entry(p[..n].to_vec()).or_default();
            }
        }
        out.push_str(&nest(&modules, &[]));

        if !macro_body.is_empty() {
            let default = opts.bindings_module.as_deref().unwrap_or("crate::bindings");
            let arm = |path: &str| macro_body.replace("$PATH", path);
            let _ = writeln!(
                out,
                "/// Defines the core exports of world `{}`, calling the `Guest` impls of `$ty`.\n\
                 /// `export!(T)` expects these bindings at `{default}`; \
                 `export!(T with_types_in some::path)` says where they are.\n\
                 #[allow(unused_macros)]\n\
                 macro_rules! export {{\n\
                 ($ty:ident) => {{\nconst _: () = {{\n{}}};\n}};\n\
                 ($ty:ident with_types_in $($path:tt)*) => {{\nconst _: () = {{\n{}}};\n}};\n\
                 }}\n#[allow(unused_imports)]\npub(crate) use export;",
                w.name,
                arm(default),
                arm("$($path)*"),
            );
        }
        if opts.stubs && !macro_body.is_empty() {
            out.push_str(&self.stubs());
        }
        if self.async_runtime() {
            let items = match self.payload_runtime() {
                true => {
                    "{FutureReader, FutureWriter, StreamReader, StreamWriter, future_new, spawn, stream_new}"
                }
                false => "spawn",
            };
            let _ = writeln!(out, "{}", ASYNC_SUPPORT.replace("{items}", items));
        }
        out.push_str(&self.runtime()?);
        out.push_str(&self.component_type()?);
        Ok(indent(&out))
    }

    /// `Stub` implementing every export trait, and `export!(Stub ...)`:
    /// the file is then a crate root (the bindings live at `crate`).
    fn stubs(&self) -> String {
        let trait_path = |path: &[String], name: &str| {
            if path.is_empty() {
                name.to_string()
            } else {
                format!("{}::{name}", path.join("::"))
            }
        };
        // (trait path, implementing type) -> methods
        let mut impls: BTreeMap<(String, String), String> = BTreeMap::new();
        let mut s =
            String::from("/// A stub of every export: replace the bodies.\npub struct Stub;\n");
        for r in &self.plan.resources {
            if r.direction != Direction::Export {
                continue;
            }
            let path = self.module_of(r.interface.as_ref(), Direction::Export);
            let name = self.camel_of(r.resource);
            // Unique across interfaces exporting same-named resources.
            let stub = format!(
                "Stub{}{name}",
                camel(path.last().map_or("", |p| p.as_str()))
            );
            let _ = writeln!(
                s,
                "/// A stub of resource `{}`.\npub struct {stub};",
                r.name
            );
            let _ = writeln!(
                impls
                    .entry((trait_path(&path, "Guest"), "Stub".into()))
                    .or_default(),
                "type {name} = {stub};"
            );
            impls
                .entry((trait_path(&path, &format!("Guest{name}")), stub))
                .or_default();
        }
        for f in &self.plan.exports {
            let path = self.module_of(f.interface.as_ref(), Direction::Export);
            let key = match resource::owner_resource(f) {
                Some(r) => {
                    let name = self.camel_of(r);
                    let stub = format!(
                        "Stub{}{name}",
                        camel(path.last().map_or("", |p| p.as_str()))
                    );
                    (trait_path(&path, &format!("Guest{name}")), stub)
                }
                None => (trait_path(&path, "Guest"), "Stub".to_string()),
            };
            func::stub_method(self, f, impls.entry(key).or_default());
        }
        for ((tr, ty), methods) in impls {
            let _ = writeln!(s, "impl {tr} for {ty} {{\n{methods}}}");
        }
        s.push_str("export!(Stub with_types_in crate);\n");
        s
    }

    fn interface_types(
        &self,
        id: InterfaceId,
        path: &[String],
        out: &mut String,
    ) -> Result<(), BindError> {
        for ty in self.resolve.interfaces[id].types.values() {
            self.typedef(*ty, path, out)?;
        }
        Ok(())
    }

    /// The definition of a named type, in module `path`.
    fn typedef(&self, id: TypeId, path: &[String], out: &mut String) -> Result<(), BindError> {
        let def = &self.resolve.types[id];
        let name = self.type_name(id);
        // A type holding a borrowed handle lives no longer than the lender.
        let (generics, lt) = match self.lends(id) {
            true => ("<'a>", Some("'a")),
            false => ("", None),
        };
        let ty = |t: &Type| self.ty_in(t, path, lt);
        docs(&def.docs, out);
        match &def.kind {
            TypeDefKind::Record(r) => {
                let _ = writeln!(out, "{}\npub struct {name}{generics} {{", self.derives(id));
                for f in &r.fields {
                    docs(&f.docs, out);
                    let _ = writeln!(out, "pub {}: {},", snake(&f.name), ty(&f.ty));
                }
                out.push_str("}\n");
            }
            TypeDefKind::Variant(v) => {
                let _ = writeln!(out, "{}\npub enum {name}{generics} {{", self.derives(id));
                for c in &v.cases {
                    docs(&c.docs, out);
                    match &c.ty {
                        Some(t) => {
                            let _ = writeln!(out, "{}({}),", camel(&c.name), ty(t));
                        }
                        None => {
                            let _ = writeln!(out, "{},", camel(&c.name));
                        }
                    }
                }
                out.push_str("}\n");
            }
            TypeDefKind::Enum(e) => {
                // The plan lifts an enum from its case index; `repr` makes
                // that index the discriminant.
                let _ = writeln!(
                    out,
                    "#[repr({})]\n#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]\npub enum {name} {{",
                    int_repr(e.cases.len())
                );
                for c in &e.cases {
                    docs(&c.docs, out);
                    let _ = writeln!(out, "{},", camel(&c.name));
                }
                out.push_str("}\n");
            }
            TypeDefKind::Flags(f) => flags(&name, f, out),
            TypeDefKind::Type(t) => {
                let _ = writeln!(out, "pub type {name}{generics} = {};", ty(t));
            }
            k @ (TypeDefKind::List(_)
            | TypeDefKind::Future(_)
            | TypeDefKind::Stream(_)
            | TypeDefKind::Map(..)
            | TypeDefKind::Option(_)
            | TypeDefKind::Result(_)
            | TypeDefKind::Tuple(_)) => {
                let _ = writeln!(
                    out,
                    "pub type {name}{generics} = {};",
                    self.kind(k, path, lt)
                );
            }
            TypeDefKind::Resource => {
                if let Some(r) = self.resource_plan(id) {
                    resource::handle_type(r, &self.camel_of(id), self.lent.contains(&id), out)?;
                }
            }
            // Kinds the plan refuses get no Rust type.
            _ => {
                let _ = writeln!(
                    out,
                    "// `{}`: not supported by this backend yet",
                    def.name.as_deref().unwrap_or("")
                );
            }
        }
        Ok(())
    }

    /// The `_rt` module: helpers shared by every function, and the return
    /// area exports write their results to.
    fn runtime(&self) -> Result<String, BindError> {
        let mut s = String::from(RUNTIME);
        let area = self
            .plan
            .exports
            .iter()
            .filter_map(|f| f.return_area)
            .fold((0, 1), |(s, a), l| (s.max(l.size), a.max(l.align)));
        if area.0 > 0 {
            // One area for every export: the guest is single-threaded and
            // the area only lives until post-return.
            let _ = writeln!(
                s,
                "#[repr(C, align({}))]\npub struct RetArea([core::mem::MaybeUninit<u8>; {}]);\n\
                 pub static mut RET_AREA: RetArea = RetArea([core::mem::MaybeUninit::uninit(); {}]);",
                area.1, area.0, area.0
            );
        }
        if self.async_runtime() {
            s.push_str(&task::executor()?);
            if self.payload_runtime() {
                s.push_str(payload::PAYLOADS);
            }
            s.push_str("}\n");
            s.push_str(&payload::payload_impls(self)?);
        }
        s.push_str("}\n");
        if self.plan.needs_realloc() || payload::reads_need_realloc(self) {
            s.push_str(REALLOC);
        }
        Ok(s)
    }

    /// The world has an async function or passes a future or stream, so
    /// the file carries the executor (`_rt::task`).
    fn async_runtime(&self) -> bool {
        self.plan.has_async_calls() || self.payload_runtime()
    }

    /// The world has a future or stream (in a function or a type), so
    /// `_rt::task` carries their readers and writers.
    fn payload_runtime(&self) -> bool {
        let payload_fn = wcomp_abi::AsyncWorldPlan::new(self.resolve, self.world)
            .is_ok_and(|p| !p.payloads.is_empty());
        payload_fn || payload::world_has_payloads(self)
    }

    fn component_type(&self) -> Result<String, BindError> {
        let bytes = wit_component::metadata::encode(
            self.resolve,
            self.world,
            wit_component::StringEncoding::UTF8,
            None,
            false,
        )
        .map_err(|e| BindError::Encode {
            world: self.resolve.worlds[self.world].name.clone(),
            message: format!("{e:#}"),
        })?;
        let w = &self.resolve.worlds[self.world];
        let mut s = format!(
            "/// The world's component type, for `wcomp new` (and other wrappers).\n\
             #[cfg(target_arch = \"wasm32\")]\n\
             #[unsafe(link_section = \"component-type:wcomp:{}\")]\n\
             #[used]\n#[doc(hidden)]\n\
             static __WCOMP_COMPONENT_TYPE: [u8; {}] = *b\"\\\n",
            w.name,
            bytes.len()
        );
        s.push_str(&byte_string(&bytes));
        s.push_str("\";\n");
        Ok(s)
    }
}

/// What a user's async code reaches: spawning, and making and using the
/// ends of futures and streams.
const ASYNC_SUPPORT: &str = "/// Async support: run a future beside the export's own (`spawn`), and \
make futures and streams, read and write their ends (when the world has any).\n\
#[allow(unused_imports)]\n\
pub mod async_support {\n\
pub use super::_rt::task::{items};\n\
}";

const RUNTIME: &str = r#"
#[allow(dead_code, clippy::all)]
mod _rt {
extern crate alloc;
use alloc::{string::String, vec::Vec};

/// Allocates `size` bytes aligned to `align` with the global allocator, as
/// `cabi_realloc` does; zero sizes get a dangling, aligned pointer.
pub unsafe fn alloc(size: usize, align: usize) -> *mut u8 {
if size == 0 {
return align as *mut u8;
}
// Sizes and alignments come from the plan or the host: valid by construction.
let layout = unsafe { alloc::alloc::Layout::from_size_align_unchecked(size, align) };
let ptr = unsafe { alloc::alloc::alloc(layout) };
if ptr.is_null() {
alloc::alloc::handle_alloc_error(layout);
}
ptr
}

/// Frees what [`alloc`] (or `cabi_realloc`) returned.
pub unsafe fn free(ptr: *mut u8, size: usize, align: usize) {
if size != 0 {
// Sizes and alignments come from the plan or the host: valid by construction.
let layout = unsafe { alloc::alloc::Layout::from_size_align_unchecked(size, align) };
unsafe { alloc::alloc::dealloc(ptr, layout) }
}
}

/// Copies `size` bytes into a fresh allocation whose ownership passes to
/// the receiver (an export's result, freed by its post-return function).
pub unsafe fn copy_out(src: *const u8, size: usize, align: usize) -> *mut u8 {
unsafe {
let dst = alloc(size, align);
core::ptr::copy_nonoverlapping(src, dst, size);
dst
}
}

/// Takes ownership of UTF-8 bytes allocated with `cabi_realloc` (checked
/// only in debug builds, where invalid UTF-8 traps).
pub unsafe fn string_lift(ptr: *mut u8, len: usize) -> String {
if len == 0 {
return String::new();
}
let bytes = unsafe { Vec::from_raw_parts(ptr, len, len) };
// The canonical ABI hands a guest only valid UTF-8 (the runtime checks it
// when it lifts the sender's string), so release builds trust it.
if cfg!(debug_assertions) {
match String::from_utf8(bytes) {
Ok(s) => s,
Err(_) => invalid(),
}
} else {
unsafe { String::from_utf8_unchecked(bytes) }
}
}

/// Takes ownership of a buffer of plain-data elements, as is.
pub unsafe fn list_lift<T>(ptr: *mut u8, len: usize) -> Vec<T> {
if len == 0 {
return Vec::new();
}
unsafe { Vec::from_raw_parts(ptr.cast::<T>(), len, len) }
}

/// A value the canonical ABI forbids (a bad discriminant, invalid UTF-8):
/// trap.
#[cold]
pub fn invalid() -> ! {
#[cfg(target_arch = "wasm32")]
core::arch::wasm32::unreachable();
#[cfg(not(target_arch = "wasm32"))]
panic!("invalid canonical ABI value");
}
"#;

const REALLOC: &str = r#"
/// The allocator the host uses to pass strings and lists into this module.
#[cfg(target_arch = "wasm32")]
#[unsafe(no_mangle)]
unsafe extern "C" fn cabi_realloc(old: *mut u8, old_len: usize, align: usize, new_len: usize) -> *mut u8 {
extern crate alloc;
if old_len == 0 {
return unsafe { _rt::alloc(new_len, align) };
}
let layout = unsafe { alloc::alloc::Layout::from_size_align_unchecked(old_len, align) };
let ptr = unsafe { alloc::alloc::realloc(old, layout, new_len) };
if ptr.is_null() {
_rt::invalid();
}
ptr
}
"#;

pub(crate) fn int_repr(cases: usize) -> &'static str {
    if cases <= 1 << 8 {
        "u8"
    } else if cases <= 1 << 16 {
        "u16"
    } else {
        "u32"
    }
}

/// The Rust integer holding a flags value of `count` flags, and its words.
pub(crate) fn flags_repr(count: usize) -> &'static str {
    match count {
        0..=32 => "u32",
        33..=64 => "u64",
        _ => "u128",
    }
}

fn flags(name: &str, f: &wit_parser::Flags, out: &mut String) {
    let repr = flags_repr(f.flags.len());
    let _ = writeln!(
        out,
        "#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]\npub struct {name} {{\nbits: {repr},\n}}\nimpl {name} {{"
    );
    for (i, flag) in f.flags.iter().enumerate() {
        docs(&flag.docs, out);
        let _ = writeln!(
            out,
            "pub const {}: Self = Self {{ bits: 1 << {i} }};",
            shouty(&flag.name)
        );
    }
    let all = match f.flags.len() {
        128.. => u128::MAX,
        n => (1u128 << n) - 1,
    };
    let all = format!("{all:#x}");
    let _ = writeln!(
        out,
        "/// No flag set.\npub const fn empty() -> Self {{ Self {{ bits: 0 }} }}\n\
         /// Every flag set.\npub const fn all() -> Self {{ Self {{ bits: {all} }} }}\n\
         /// The bits, flag `i` at bit `i`.\npub const fn bits(self) -> {repr} {{ self.bits }}\n\
         /// The flags of `bits`; bits past the last flag are dropped.\n\
         pub const fn from_bits_truncate(bits: {repr}) -> Self {{ Self {{ bits: bits & Self::all().bits }} }}\n\
         pub const fn contains(self, other: Self) -> bool {{ self.bits & other.bits == other.bits }}\n\
         pub const fn is_empty(self) -> bool {{ self.bits == 0 }}\n\
         pub fn insert(&mut self, other: Self) {{ self.bits |= other.bits; }}\n\
         pub fn remove(&mut self, other: Self) {{ self.bits &= !other.bits; }}\n\
         }}\n\
         impl core::ops::BitOr for {name} {{ type Output = Self; fn bitor(self, o: Self) -> Self {{ Self {{ bits: self.bits | o.bits }} }} }}\n\
         impl core::ops::BitAnd for {name} {{ type Output = Self; fn bitand(self, o: Self) -> Self {{ Self {{ bits: self.bits & o.bits }} }} }}\n\
         impl core::ops::BitOrAssign for {name} {{ fn bitor_assign(&mut self, o: Self) {{ self.bits |= o.bits; }} }}"
    );
}

pub(crate) fn docs(docs: &Docs, out: &mut String) {
    if let Some(text) = &docs.contents {
        for line in text.lines() {
            let _ = writeln!(out, "/// {line}");
        }
    }
}

/// Nests the module bodies under their parents.
fn nest(modules: &BTreeMap<Vec<String>, String>, path: &[String]) -> String {
    let mut s = modules.get(path).cloned().unwrap_or_default();
    for child in modules.keys() {
        if child.len() == path.len() + 1 && child.starts_with(path) {
            let _ = writeln!(
                s,
                "{ALLOW}\npub mod {} {{\n{}}}",
                child[path.len()],
                nest(modules, child)
            );
        }
    }
    s
}

/// Indents generated code by its brackets (the generator writes flat
/// lines; doc comments and string contents carry no brackets that matter).
/// The body of a byte string literal holding `bytes`, in lines of about 80
/// characters joined by `\` continuations: names stay readable, other
/// bytes are `\xNN`. Brackets are escaped too (the indenter counts them),
/// as is a space that starts a line (a continuation skips it).
fn byte_string(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    let mut line = 0;
    for &b in bytes {
        let plain =
            (b.is_ascii_graphic() && !b"\\\"{}()[]".contains(&b)) || (b == b' ' && line > 0);
        if plain {
            out.push(b as char);
            line += 1;
        } else {
            let _ = write!(out, "\\x{b:02x}");
            line += 4;
        }
        if line >= 80 {
            out.push_str("\\\n");
            line = 0;
        }
    }
    out
}

pub(crate) fn indent(src: &str) -> String {
    let mut out = String::with_capacity(src.len() * 2);
    let mut depth: usize = 0;
    for line in src.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let code = if line.starts_with("//") { "" } else { line };
        let leading = code
            .chars()
            .take_while(|c| matches!(c, '}' | ')' | ']'))
            .count();
        let opens = code
            .chars()
            .filter(|c| matches!(c, '{' | '(' | '['))
            .count();
        let closes = code
            .chars()
            .filter(|c| matches!(c, '}' | ')' | ']'))
            .count();
        let this = depth.saturating_sub(leading);
        for _ in 0..this {
            out.push_str("    ");
        }
        out.push_str(line);
        out.push('\n');
        depth = (depth + opens).saturating_sub(closes);
    }
    out
}
