//! The Rust host backend: typed [wasmtime] bindings of a world, as one
//! readable Rust file (`wcomp bind --lang rust --host`).
//!
//! No lift/lower glue is written: wasmtime's runtime lifts and lowers
//! through its `ComponentType`, `Lift` and `Lower` traits (checking bounds,
//! alignment and UTF-8, calling the guest's `cabi_realloc`), so the file
//! holds types and linking code only:
//!
//! * every WIT type as a Rust type with wasmtime's derives (`flags!` for
//!   flags), each with a compile-time guard that wasmtime's idea of its
//!   size and alignment is the abi crate's ([`crate::abi::Layouts`]);
//!   resources the host implements as marker types behind
//!   `wasmtime::component::Resource<T>`, the guest's as `ResourceAny`
//!   (the private `types` module);
//! * per imported interface a `Host` trait (and a `HostR` trait per
//!   resource, with `drop`), and `add_to_linker` registering each function
//!   with `func_wrap` (the private `imports` module);
//! * per world a struct that instantiates the component and calls each
//!   export through a `TypedFunc`, with one accessor per exported
//!   interface (and per exported resource) (the private `exports` module).
//!
//! Modules follow the guest backend's: an imported interface of the
//! world's own package is `iface`, one of another package
//! `namespace::package::iface`, and exported ones sit under `exports::`.
//! Every host function returns `wasmtime::Result`: an `Err` traps the
//! guest, and a WIT `result` is the `Ok` value's own `Result`.
//!
//! [wasmtime]: https://docs.rs/wasmtime/48

mod exports;
mod imports;
#[cfg(test)]
mod tests;
mod types;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use wit_parser::{
    Function, FunctionKind, InterfaceId, Resolve, Type, TypeDefKind, TypeId, TypeOwner, WorldId,
    WorldItem, WorldKey,
};

use crate::abi::{Direction, WorldPlan, resource_of};
use crate::rust::names::{camel, snake};
use crate::{BindError, Files};

/// The wasmtime release line the generated code is written for.
pub const WASMTIME_VERSION: &str = "48";

/// Options of the Rust host backend.
#[derive(Debug, Clone, Default)]
pub struct Opts {
    /// Resources whose handles are of a type the embedder already has, as
    /// wasmtime's `bindgen!` takes them (`with`): `ns:pkg/iface/resource`
    /// (without a version) to a Rust path, such as
    /// `wasi:io/poll/pollable` to `wasmtime_wasi::p2::DynPollable`, so
    /// that the generated traits use the same handles as the crate that
    /// implements the interface.
    pub with: BTreeMap<String, String>,
}

impl Opts {
    /// Generates the host bindings of `world`: one file, `<world>_host.rs`.
    pub fn generate(&self, resolve: &Resolve, world: WorldId) -> Result<Files, BindError> {
        // The plan refuses what the canonical ABI plans do not cover
        // (error-context, fixed-length lists), naming the item; its
        // layouts feed the guards. Futures and streams of any type are
        // wasmtime's readers, which lift and lower their elements.
        let options = crate::abi::Options {
            async_calls: true,
            streams: true,
            ..Default::default()
        };
        let plan = WorldPlan::with_options(resolve, world, options)?;
        // The plan's copy of `resolve` has nominal ids: an interface
        // imported under two names is two interfaces, each with its own
        // types and resources, as the component model has it.
        let mut g = Gen::new(plan.resolve(), world, &plan)?;
        g.with = &self.with;
        let mut files = Files::default();
        files.insert(
            format!(
                "{}_host.rs",
                snake(&resolve.worlds[world].name).trim_start_matches("r#")
            ),
            g.file()?,
        );
        Ok(files)
    }
}

/// Generation state: the world, its plan, and where each interface lives.
pub(crate) struct Gen<'a> {
    pub resolve: &'a Resolve,
    pub world: WorldId,
    pub plan: &'a WorldPlan,
    /// The module (path from the file root) holding each interface's types.
    types_module: BTreeMap<InterfaceId, Vec<String>>,
    /// [`Opts::with`].
    with: &'a BTreeMap<String, String>,
}

/// One imported or exported interface of the world, or the world itself.
pub(crate) struct Item<'a> {
    /// `None` for the world's own functions.
    pub key: Option<&'a WorldKey>,
    /// The module its functions go in.
    pub module: Vec<String>,
    pub functions: Vec<&'a Function>,
}

impl<'a> Gen<'a> {
    fn new(resolve: &'a Resolve, world: WorldId, plan: &'a WorldPlan) -> Result<Self, BindError> {
        let w = &resolve.worlds[world];
        let mut types_module: BTreeMap<InterfaceId, Vec<String>> = BTreeMap::new();
        // Imports first: an interface both imported and exported keeps its
        // types in the import's module, and the export uses them. So does
        // an interface imported under two names: the second import's module
        // has its own `Host` trait and `add_to_linker`, over the first's
        // types.
        for (export, items) in [(false, &w.imports), (true, &w.exports)] {
            for (key, item) in items {
                if let WorldItem::Interface { id, .. } = item {
                    let module = Self::module(resolve, world, key, *id, export);
                    types_module.entry(*id).or_insert(module);
                }
            }
        }
        static NONE: BTreeMap<String, String> = BTreeMap::new();
        Ok(Gen {
            resolve,
            world,
            plan,
            types_module,
            with: &NONE,
        })
    }

    /// The module of interface `id`, imported or exported under `key`.
    fn module(
        resolve: &Resolve,
        world: WorldId,
        key: &WorldKey,
        id: InterfaceId,
        export: bool,
    ) -> Vec<String> {
        let mut path: Vec<String> = if export {
            vec!["exports".into()]
        } else {
            Vec::new()
        };
        match key {
            WorldKey::Name(n) => path.push(snake(n)),
            WorldKey::Interface(_) => {
                let iface = &resolve.interfaces[id];
                let name = snake(iface.name.as_deref().unwrap_or("interface"));
                match iface.package {
                    Some(p) if Some(p) != resolve.worlds[world].package => {
                        let pkg = &resolve.packages[p].name;
                        path.push(snake(&pkg.namespace));
                        path.push(snake(&pkg.name));
                        path.push(name);
                    }
                    _ => path.push(name),
                }
            }
        }
        // `exports` holds the exported interfaces: an imported interface
        // (or namespace) of that name gets its own module.
        if !export && path[0] == "exports" {
            path[0] = "exports_".into();
        }
        path
    }

    /// The world's interfaces (and its own functions, at the root) in one
    /// direction, in world order.
    pub fn items(&self, direction: Direction) -> Vec<Item<'a>> {
        let w = &self.resolve.worlds[self.world];
        let (items, export) = match direction {
            Direction::Import => (&w.imports, false),
            Direction::Export => (&w.exports, true),
        };
        let mut root = Item {
            key: None,
            module: Vec::new(),
            functions: Vec::new(),
        };
        let mut out = Vec::new();
        for (key, item) in items {
            match item {
                WorldItem::Function(f) => root.functions.push(f),
                WorldItem::Interface { id, .. } => out.push(Item {
                    key: Some(key),
                    module: Self::module(self.resolve, self.world, key, *id, export),
                    functions: self.resolve.interfaces[*id].functions.values().collect(),
                }),
                WorldItem::Type { .. } => {}
            }
        }
        if !root.functions.is_empty() {
            out.insert(0, root);
        }
        out
    }

    /// The path from module `from` to module `to` (`super::` up, then down).
    pub fn rel(&self, from: &[String], to: &[String]) -> String {
        let common = from.iter().zip(to).take_while(|(a, b)| a == b).count();
        let mut s = "super::".repeat(from.len() - common);
        for seg in &to[common..] {
            s.push_str(seg);
            s.push_str("::");
        }
        s
    }

    /// The module holding the definition of named type `id`.
    pub fn module_of_type(&self, id: TypeId) -> Vec<String> {
        match self.resolve.types[id].owner {
            TypeOwner::Interface(i) => self.types_module.get(&i).cloned().unwrap_or_default(),
            TypeOwner::World(_) | TypeOwner::None => Vec::new(),
        }
    }

    /// Path of the named type `id` as seen from module `from`.
    pub fn type_path(&self, id: TypeId, from: &[String]) -> String {
        let name = self.type_name(id);
        format!("{}{name}", self.rel(from, &self.module_of_type(id)))
    }

    /// The Rust name of named type `id`: its WIT name in UpperCamelCase,
    /// with a `_` when the module it lives in defines that name itself (an
    /// imported interface's `Host` and `HostR` traits, an exported one's
    /// `Guest` and `GuestR` structs, the world's struct and its imports'
    /// trait at the root).
    pub fn type_name(&self, id: TypeId) -> String {
        let def = &self.resolve.types[id];
        let name = camel(def.name.as_deref().unwrap_or("anonymous"));
        let taken = match def.owner {
            TypeOwner::Interface(i) => {
                let exported = self
                    .types_module
                    .get(&i)
                    .and_then(|m| m.first())
                    .is_some_and(|first| first == "exports");
                let prefix = if exported { "Guest" } else { "Host" };
                name == prefix
                    || self.resolve.interfaces[i].types.values().any(|t| {
                        let t = &self.resolve.types[*t];
                        matches!(t.kind, TypeDefKind::Resource)
                            && name == format!("{prefix}{}", camel(t.name.as_deref().unwrap_or("")))
                    })
            }
            TypeOwner::World(w) => {
                let world = camel(&self.resolve.worlds[w].name);
                name == world || name == format!("{world}Imports")
            }
            TypeOwner::None => false,
        };
        if taken { name + "_" } else { name }
    }

    /// The host implements resource `r` (the world imports it), so it has
    /// a marker type and a `HostR` trait; the guest's resources are
    /// `ResourceAny` to the host.
    pub fn host_resource(&self, r: TypeId) -> bool {
        let r = resource_of(self.resolve, r);
        self.plan
            .resources
            .iter()
            .any(|p| p.resource == r && p.direction == Direction::Import)
    }

    /// The embedder's type for resource `r`, when [`Opts::with`] names one.
    pub fn with_type(&self, r: TypeId) -> Option<&String> {
        let def = &self.resolve.types[resource_of(self.resolve, r)];
        let TypeOwner::Interface(i) = def.owner else {
            return None;
        };
        let iface = &self.resolve.interfaces[i];
        let pkg = &self.resolve.packages[iface.package?].name;
        self.with.get(&format!(
            "{}:{}/{}/{}",
            pkg.namespace,
            pkg.name,
            iface.name.as_deref()?,
            def.name.as_deref()?
        ))
    }

    /// The resource a function belongs to, if any.
    pub fn owner_resource(f: &Function) -> Option<TypeId> {
        match f.kind {
            FunctionKind::Method(r) | FunctionKind::Static(r) | FunctionKind::Constructor(r) => {
                Some(r)
            }
            _ => None,
        }
    }

    /// The Rust name of resource `r` (its marker type, for the host's own).
    pub fn camel_of(&self, r: TypeId) -> String {
        self.type_name(r)
    }

    /// `ty` with `type a = b` aliases followed.
    pub fn unalias(&self, ty: &Type) -> Type {
        crate::aliases::unalias(self.resolve, ty)
    }

    fn file(&self) -> Result<String, BindError> {
        let w = &self.resolve.worlds[self.world];
        let mut modules: BTreeMap<Vec<String>, String> = BTreeMap::new();
        modules.insert(Vec::new(), String::new());
        // Types: each interface's in its module, the world's at the root.
        for (id, path) in &self.types_module {
            let body = modules.entry(path.clone()).or_default();
            for ty in self.resolve.interfaces[*id].types.values() {
                self.typedef(*ty, path, body);
            }
        }
        for item in w.imports.values().chain(w.exports.values()) {
            if let WorldItem::Type { id, .. } = item {
                self.typedef(*id, &[], modules.entry(Vec::new()).or_default());
            }
        }
        for item in self.items(Direction::Import) {
            imports::interface(self, &item, modules.entry(item.module.clone()).or_default());
        }
        for item in self.items(Direction::Export) {
            if item.key.is_some() {
                exports::interface(self, &item, modules.entry(item.module.clone()).or_default());
            }
        }
        let root = modules.entry(Vec::new()).or_default();
        exports::world(self, root);
        imports::world(self, root);

        // Every ancestor module exists, then they nest.
        let paths: Vec<Vec<String>> = modules.keys().cloned().collect();
        for p in paths {
            for n in 1..p.len() {
                modules.entry(p[..n].to_vec()).or_default();
            }
        }
        let mut out = String::new();
        let _ = writeln!(
            out,
            "// Generated by `wcomp bind --lang rust --host` for world `{}`. Do not edit.\n\
             // Host bindings for wasmtime {WASMTIME_VERSION}: the embedding crate depends on \
             `wasmtime = \"{WASMTIME_VERSION}\"` with the `component-model` feature.",
            w.name,
        );
        out.push_str(&nest(&modules, &[]));
        Ok(crate::rust::indent(&out))
    }
}

/// Nests the module bodies under their parents.
fn nest(modules: &BTreeMap<Vec<String>, String>, path: &[String]) -> String {
    let mut s = modules.get(path).cloned().unwrap_or_default();
    for child in modules.keys() {
        if child.len() == path.len() + 1 && child.starts_with(path) {
            let _ = writeln!(
                s,
                "#[allow(clippy::all)]\npub mod {} {{\n{}}}",
                child[path.len()],
                nest(modules, child)
            );
        }
    }
    s
}

/// A Rust identifier for a WIT parameter, kept clear of the names the
/// generated bodies use themselves.
pub(crate) fn param_name(name: &str) -> String {
    let s = snake(name);
    match s.as_str() {
        "store" | "callee" | "host" | "ret" | "caller" | "host_getter" => format!("{s}_"),
        _ => s,
    }
}

/// The Rust name of a function within its trait or accessor: the WIT name,
/// or for a resource's function its method name (`new` for constructors).
pub(crate) fn func_name(f: &Function) -> String {
    match f.kind {
        FunctionKind::Constructor(_) => "new".into(),
        _ => snake(f.item_name()),
    }
}
