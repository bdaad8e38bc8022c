//! The Go backend: spells a [`WorldPlan`] as one Go package per world, for
//! mainline Go on `GOOS=wasip1 GOARCH=wasm -buildmode=c-shared`, using
//! nothing but the standard library:
//!
//! * `<pkg>/<pkg>.go`: the types, the functions the guest imports (to
//!   call), the `Exports` interface the guest implements and `SetExports`;
//! * `<pkg>/cabi.go`: the canonical-ABI glue (`//go:wasmimport` and
//!   `//go:wasmexport` functions, `cabi_realloc` and its receive buffer).
//!
//! Go's own layout is not the canonical one (pointers, `int` and strings
//! are 64-bit wide on `GOARCH=wasm`), so values are copied field by field;
//! lists of numbers, whose elements are laid out alike, cross as their
//! buffers. Names are package-wide: an interface's items carry its name
//! (`StoreError`, `MonotonicClockNow`), which grows to the package's
//! (`KeystoreStore`) when two interfaces share one.
//!
//! Go has no custom sections, so the component type is not embedded:
//! `wcomp new` wraps the module given the WIT (`--wit`).
//!
//! Memory: `cabi_realloc` must not enter the Go allocator (its slow paths
//! read the clock, an import, which the canonical ABI forbids inside
//! realloc), so what the host passes in lands in a receive buffer of Go
//! memory made beforehand, is copied into Go values, and the buffer is
//! reused (and grown between calls when a call used more than half of
//! it). What the guest hands out (an export's results) stays reachable
//! from a package variable until the post-return function.

mod body;
mod doc;
mod func;
mod names;
mod payload;
mod task;
#[cfg(test)]
mod tests;
mod types;

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use wit_parser::{
    Docs, FunctionKind, InterfaceId, Resolve, Type, TypeDefKind, TypeId, TypeOwner, WorldId,
    WorldItem,
};

use crate::abi::{Direction, FunctionPlan, WorldPlan};
use crate::{BindError, Files};

pub(crate) use names::{camel, lower_camel};

/// Options of the Go backend.
#[derive(Debug, Clone, Default)]
pub struct Opts {
    /// The package name (default: the world's name, lowercase letters and
    /// digits). The package is written into a folder of that name.
    pub package: Option<String>,
}

impl Opts {
    /// Generates the bindings of `world`: `<pkg>/<pkg>.go` and `<pkg>/cabi.go`.
    pub fn generate(&self, resolve: &Resolve, world: WorldId) -> Result<Files, BindError> {
        let options = wcomp_abi::Options {
            async_calls: true,
            streams: true,
            ..Default::default()
        };
        let plan = WorldPlan::with_options(resolve, world, options)?;
        // The plan's copy of the resolve, with nominal ids: every id below
        // is of this one.
        let resolve = plan.resolve();
        let pkg = match &self.package {
            Some(p) => p.clone(),
            None => names::package(&resolve.worlds[world].name),
        };
        let g = Gen::new(resolve, world, &plan, pkg)?;
        let mut files = Files::default();
        let (api, glue) = g.files()?;
        files.insert(format!("{}/{}.go", g.pkg, g.pkg), api);
        files.insert(format!("{}/cabi.go", g.pkg), glue);
        Ok(files)
    }
}

/// Generation state shared by the type and function writers.
pub(crate) struct Gen<'a> {
    pub resolve: &'a Resolve,
    pub world: WorldId,
    pub plan: &'a WorldPlan,
    pub pkg: String,
    /// The name prefix of each interface's items (`Store`,
    /// `MonotonicClock`).
    prefixes: BTreeMap<InterfaceId, String>,
    /// The Go name of each named type.
    type_names: BTreeMap<TypeId, String>,
    /// The constant of each case (variants, enums) and flag, by type and
    /// index.
    case_names: BTreeMap<(TypeId, usize), String>,
    /// The Go name of each imported function (package-level) and the
    /// method name of each exported one, by direction and index in the
    /// plan.
    func_names: BTreeMap<(bool, usize), String>,
    /// The name of each function's glue (`StoreGet` of
    /// `wasmimportStoreGet`), by direction and index in the plan.
    glue_names: BTreeMap<(bool, usize), String>,
    /// The Go interface of each exported interface.
    export_ifaces: BTreeMap<InterfaceId, String>,
    /// Resources the guest implements (of exported interfaces).
    exported_resources: BTreeSet<TypeId>,
    /// Generic helper types used: `Option`, `Result`, `TupleN`.
    used: RefCell<BTreeSet<String>>,
    /// Names of helpers claimed up front.
    helpers: BTreeMap<&'static str, String>,
    /// The constructors of future and stream types that Go spells like
    /// another (`future<char>` and `future<s32>`), by type.
    typed_makers: BTreeMap<payload::PayloadKey, String>,
}

impl<'a> Gen<'a> {
    fn new(
        resolve: &'a Resolve,
        world: WorldId,
        plan: &'a WorldPlan,
        pkg: String,
    ) -> Result<Gen<'a>, BindError> {
        let w = &resolve.worlds[world];
        let mut names = names::Names::default();
        let mut helpers = BTreeMap::new();
        for h in [
            "Option",
            "Some",
            "None",
            "Result",
            "Ok",
            "Err",
            "Exports",
            "SetExports",
            "ReserveTransferBytes",
        ] {
            helpers.insert(h, names.claim(h));
        }
        for n in 2..=16 {
            names.claim(&format!("Tuple{n}"));
        }
        // The generic ends of the futures and streams the world names.
        let (futures, streams) = payload::payload_kinds(resolve, world);
        for h in payload::HELPERS {
            let wanted = match h {
                "Stream" | "StreamWriter" | "NewStream" => streams,
                "Future" | "FutureWriter" | "NewFuture" => futures,
                _ => futures || streams,
            };
            if wanted {
                helpers.insert(h, names.claim(h));
            }
        }

        // Interface prefixes: the interface's name, or the whole path when
        // two interfaces share a name; an export sharing an import's gets
        // `Export`.
        let versioned = crate::paths::packages_in_several_versions(resolve, world);
        let mut entries: Vec<(InterfaceId, bool, String, String)> = Vec::new();
        for (exported, items) in [(false, &w.imports), (true, &w.exports)] {
            for (key, item) in items {
                if let WorldItem::Interface { id, .. } = item {
                    let path = crate::paths::key_path(resolve, world, key, *id, &versioned, |s| {
                        s.to_string()
                    });
                    let short = camel(path.last().map(String::as_str).unwrap_or("interface"));
                    let long: String = path.iter().map(|s| camel(s)).collect();
                    entries.push((*id, exported, short, long));
                }
            }
        }
        let mut prefixes = BTreeMap::new();
        let mut seen: BTreeSet<String> = BTreeSet::new();
        for (id, exported, short, long) in &entries {
            let clash = entries.iter().filter(|e| &e.2 == short).count() > 1;
            let mut p = if clash { long.clone() } else { short.clone() };
            if *exported && seen.contains(&p) {
                p = format!("Export{p}");
            }
            seen.insert(p.clone());
            prefixes.insert(*id, p);
        }

        let mut g = Gen {
            resolve,
            world,
            plan,
            pkg,
            prefixes,
            type_names: BTreeMap::new(),
            case_names: BTreeMap::new(),
            func_names: BTreeMap::new(),
            glue_names: BTreeMap::new(),
            export_ifaces: BTreeMap::new(),
            exported_resources: plan
                .resources
                .iter()
                .filter(|r| r.new.is_some())
                .map(|r| r.resource)
                .collect(),
            used: RefCell::new(BTreeSet::new()),
            helpers,
            typed_makers: BTreeMap::new(),
        };
        g.name_items(&mut names)?;
        for (key, want) in g.typed_maker_wants()? {
            let name = names.claim(&want);
            g.typed_makers.insert(key, name);
        }
        Ok(g)
    }

    /// Gives every type, case, function and exported interface its name.
    fn name_items(&mut self, names: &mut names::Names) -> Result<(), BindError> {
        let resolve = self.resolve;
        let w = &resolve.worlds[self.world];
        let mut types: Vec<TypeId> = Vec::new();
        for item in w.imports.values().chain(w.exports.values()) {
            match item {
                WorldItem::Interface { id, .. } => {
                    types.extend(resolve.interfaces[*id].types.values().copied())
                }
                WorldItem::Type { id, .. } => types.push(*id),
                WorldItem::Function(_) => {}
            }
        }
        for (exported, items) in [(false, &w.imports), (true, &w.exports)] {
            for item in items.values() {
                if let WorldItem::Interface { id, .. } = item
                    && exported
                {
                    let p = self.prefixes[id].clone();
                    self.export_ifaces.insert(*id, names.claim(&p));
                }
            }
        }
        for id in &types {
            let def = &resolve.types[*id];
            let Some(name) = &def.name else { continue };
            let name = names.claim(&format!("{}{}", self.owner_prefix(def.owner), camel(name)));
            self.type_names.insert(*id, name.clone());
            if self.exported_resources.contains(id) {
                // The user's values behind the handles, and the function
                // wrapping one in a handle.
                names.claim(&format!("{name}Impl"));
                names.claim(&format!("New{name}"));
            }
            let cases: Vec<&str> = match &def.kind {
                TypeDefKind::Variant(v) => v.cases.iter().map(|c| c.name.as_str()).collect(),
                TypeDefKind::Enum(e) => e.cases.iter().map(|c| c.name.as_str()).collect(),
                TypeDefKind::Flags(f) => {
                    if f.flags.len() > 64 {
                        return Err(BindError::BackendWorld {
                            world: w.name.clone(),
                            backend: "Go",
                            what: format!(
                                "has flags `{}` with {} flags",
                                def.name.as_deref().unwrap_or(""),
                                f.flags.len()
                            ),
                            help: "Go flags are one unsigned integer: at most 64 flags",
                        });
                    }
                    f.flags.iter().map(|c| c.name.as_str()).collect()
                }
                _ => Vec::new(),
            };
            for (i, c) in cases.into_iter().enumerate() {
                let n = names.claim(&format!("{name}{}", camel(c)));
                self.case_names.insert((*id, i), n);
            }
        }
        // Imported functions are package-level; resource functions are
        // methods (constructors `New{R}`, statics `{R}{Name}`).
        for (i, f) in self.plan.imports.iter().enumerate() {
            let n = match f.function.kind {
                FunctionKind::Method(_) => camel(f.function.item_name()),
                FunctionKind::Constructor(r) => names.claim(&format!("New{}", self.type_name(r))),
                FunctionKind::Static(r) => names.claim(&format!(
                    "{}{}",
                    self.type_name(r),
                    camel(f.function.item_name())
                )),
                _ => names.claim(&format!(
                    "{}{}",
                    self.func_prefix(f),
                    camel(f.function.item_name())
                )),
            };
            self.func_names.insert((false, i), n);
        }
        // Exported functions are methods of `Exports` (through the
        // interfaces it embeds): a name two of them share gets its
        // interface's prefix.
        // A resource's methods are its `Impl` interface's; constructors
        // (`New{R}`) and statics (`{R}{Name}`) are the interface's.
        let plain: Vec<String> = self
            .plan
            .exports
            .iter()
            .map(|f| {
                let r = |r: TypeId| camel(self.resolve.types[r].name.as_deref().unwrap_or(""));
                match f.function.kind {
                    FunctionKind::Constructor(id) => format!("New{}", r(id)),
                    FunctionKind::Static(id) => {
                        format!("{}{}", r(id), camel(f.function.item_name()))
                    }
                    _ => camel(f.function.item_name()),
                }
            })
            .collect();
        for (i, f) in self.plan.exports.iter().enumerate() {
            let n = &plain[i];
            let method = matches!(f.function.kind, FunctionKind::Method(_));
            let clash = plain
                .iter()
                .zip(&self.plan.exports)
                .filter(|(p, g)| *p == n && !matches!(g.function.kind, FunctionKind::Method(_)))
                .count()
                > 1;
            let n = if clash && !method {
                format!("{}{n}", self.func_prefix(f))
            } else {
                n.clone()
            };
            self.func_names.insert((true, i), n);
        }
        // Glue: the function's interface prefix (or resource) and name.
        let mut glue = names::Names::default();
        for (direction, list) in [
            (Direction::Import, &self.plan.imports),
            (Direction::Export, &self.plan.exports),
        ] {
            for (i, f) in list.iter().enumerate() {
                let item = camel(f.function.item_name());
                let want = match f.function.kind {
                    FunctionKind::Method(r) | FunctionKind::Static(r) => {
                        format!("{}{item}", self.type_name(r))
                    }
                    FunctionKind::Constructor(r) => format!("{}Constructor", self.type_name(r)),
                    _ => format!("{}{item}", self.func_prefix(f)),
                };
                self.glue_names
                    .insert((direction == Direction::Export, i), glue.claim(&want));
            }
        }
        Ok(())
    }

    /// The prefix of the names of what `owner` defines.
    pub fn owner_prefix(&self, owner: TypeOwner) -> String {
        match owner {
            TypeOwner::Interface(i) => self.prefixes.get(&i).cloned().unwrap_or_default(),
            TypeOwner::World(_) | TypeOwner::None => String::new(),
        }
    }

    /// The interface `f` belongs to, if any.
    pub fn func_interface(&self, f: &FunctionPlan) -> Option<InterfaceId> {
        let w = &self.resolve.worlds[self.world];
        let items = match f.direction {
            Direction::Import => &w.imports,
            Direction::Export => &w.exports,
        };
        f.interface.as_ref().and_then(|k| match items.get(k) {
            Some(WorldItem::Interface { id, .. }) => Some(*id),
            _ => None,
        })
    }

    /// The prefix of function `f`'s names: its interface's.
    pub fn func_prefix(&self, f: &FunctionPlan) -> String {
        self.func_interface(f)
            .map(|i| self.owner_prefix(TypeOwner::Interface(i)))
            .unwrap_or_default()
    }

    /// `f`'s key in the name maps: its direction and index in the plan.
    fn key_of(&self, f: &FunctionPlan) -> (bool, usize) {
        let list = match f.direction {
            Direction::Import => &self.plan.imports,
            Direction::Export => &self.plan.exports,
        };
        let i = list
            .iter()
            .position(|p| std::ptr::eq(p, f))
            .unwrap_or_default();
        (f.direction == Direction::Export, i)
    }

    /// The Go name of function `f` (an import's package-level name or
    /// method, an export's method).
    pub fn func_name(&self, f: &FunctionPlan) -> String {
        self.func_names
            .get(&self.key_of(f))
            .cloned()
            .unwrap_or_default()
    }

    /// A unique name for `f`'s glue (`StoreGet` in `wasmimportStoreGet`):
    /// its interface prefix and name, with the resource's for resource
    /// functions.
    pub fn glue_name(&self, f: &FunctionPlan) -> String {
        self.glue_names
            .get(&self.key_of(f))
            .cloned()
            .unwrap_or_default()
    }

    /// The Go name of named type `id` (aliases keep their own name).
    pub fn type_name(&self, id: TypeId) -> String {
        if let Some(name) = self.type_names.get(&id) {
            return name.clone();
        }
        let id = crate::abi::resource_of(self.resolve, id);
        self.type_names
            .get(&id)
            .cloned()
            .unwrap_or_else(|| camel(self.resolve.types[id].name.as_deref().unwrap_or("type")))
    }

    /// Whether the guest implements resource `r` (aliases followed).
    pub fn is_exported_resource(&self, r: TypeId) -> bool {
        self.exported_resources
            .contains(&crate::abi::resource_of(self.resolve, r))
    }

    /// The table of the user's values of exported resource `r`.
    pub fn table_of(&self, r: TypeId) -> String {
        format!(
            "cabi{}Table",
            self.type_name(crate::abi::resource_of(self.resolve, r))
        )
    }

    /// The constant of case (or flag) `i` of `ty`.
    pub fn case_name(&self, ty: TypeId, i: usize) -> String {
        self.case_names.get(&(ty, i)).cloned().unwrap_or_default()
    }

    /// The name of a helper claimed up front (`Option`, `Exports`).
    pub fn helper(&self, h: &str) -> String {
        self.helpers
            .get(h)
            .cloned()
            .unwrap_or_else(|| h.to_string())
    }

    /// The Go interface of exported interface `id`.
    pub fn export_iface(&self, id: InterfaceId) -> Option<&String> {
        self.export_ifaces.get(&id)
    }

    /// The world has an async function or passes a future or stream: the
    /// scheduler is needed.
    pub fn is_async(&self) -> bool {
        self.plan.has_async_calls() || self.has_payloads()
    }

    /// The world names a future or stream (the generic ends are needed).
    pub fn has_payloads(&self) -> bool {
        self.helpers.contains_key("ErrDropped")
    }

    /// Records that generic helper `h` is used.
    pub fn use_helper(&self, h: &str) {
        self.used.borrow_mut().insert(h.to_string());
    }

    /// `ty` with `type a = b` aliases followed.
    pub fn unalias(&self, ty: &Type) -> Type {
        crate::aliases::unalias(self.resolve, ty)
    }

    /// Writes both files.
    fn files(&self) -> Result<(String, String), BindError> {
        let w = &self.resolve.worlds[self.world];
        let generated = format!(
            "// Code generated by `wcomp bind --lang go` for world `{}`. DO NOT EDIT.\n",
            w.name
        );
        let mut api = String::new();
        let mut glue = String::new();
        api.push_str(&self.types()?);
        for r in &self.plan.resources {
            func::resource(self, r, &mut api, &mut glue)?;
        }
        for f in &self.plan.imports {
            func::import(self, f, &mut api, &mut glue)?;
        }
        func::exports(self, &mut api, &mut glue)?;
        glue.push_str(&runtime(self));
        if self.is_async() {
            self.async_support(&mut glue)?;
        }
        if self.has_payloads() {
            self.payload_support(&mut api, &mut glue)?;
        }
        if !self.exported_resources.is_empty() {
            glue.push_str(TABLE);
        }

        let helpers = self.generic_helpers();
        let world_id = match w.package {
            Some(p) => format!("{}/{}", self.resolve.packages[p].name, w.name),
            None => w.name.clone(),
        };
        let mut text = format!(
            "Package {pkg} binds world `{world_id}` for a Go guest\n\
             (`GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared`); wrap the module\n\
             with `wcomp new MODULE --wit WIT -o COMPONENT`.",
            pkg = self.pkg
        );
        if !self.plan.exports.is_empty() {
            let _ = write!(
                text,
                "\n\nImplement [{}] and pass it to [{}] in an `init` function.",
                self.helper("Exports"),
                self.helper("SetExports")
            );
        }
        let world_docs = doc_text(&w.docs);
        if !world_docs.is_empty() {
            let _ = write!(text, "\n\n{world_docs}");
        }
        let head = format!(
            "{generated}\n{}package {}\n",
            doc::doc_comment(&text),
            self.pkg
        );
        let api_text = format!("{helpers}{api}");
        let api = format!("{head}{}\n{}", imports(&api_text), indent(&api_text));
        let glue = format!(
            "{generated}\npackage {}\n{}\n{}",
            self.pkg,
            imports(&glue),
            indent(&glue)
        );
        Ok((tidy(&api), tidy(&glue)))
    }

    /// The generic types the package uses: `Option`, `Result`, `TupleN`.
    fn generic_helpers(&self) -> String {
        let used = self.used.borrow();
        let mut s = String::new();
        if used.contains("Option") {
            let (o, some, none) = (
                self.helper("Option"),
                self.helper("Some"),
                self.helper("None"),
            );
            let _ = writeln!(
                s,
                "\n// {o} is a WIT `option<T>`: a `T`, or none.\ntype {o}[T any] struct {{\n\
                 IsSome bool\nValue  T\n}}\n\n\
                 // {some} is an option holding `v`.\nfunc {some}[T any](v T) {o}[T] {{\n\
                 return {o}[T]{{IsSome: true, Value: v}}\n}}\n\n\
                 // {none} is an option holding nothing.\nfunc {none}[T any]() {o}[T] {{\n\
                 return {o}[T]{{}}\n}}"
            );
        }
        if used.contains("Result") {
            let (r, ok, err) = (self.helper("Result"), self.helper("Ok"), self.helper("Err"));
            let _ = writeln!(
                s,
                "\n// {r} is a WIT `result<T, E>`: a `T` (ok), or an `E` (`IsErr`).\n\
                 // A side without a payload is `struct{{}}`.\n\
                 type {r}[T, E any] struct {{\nIsErr bool\nOk    T\nErr   E\n}}\n\n\
                 // {ok} is a result holding `v`.\nfunc {ok}[T, E any](v T) {r}[T, E] {{\n\
                 return {r}[T, E]{{Ok: v}}\n}}\n\n\
                 // {err} is a result holding the error `e`.\nfunc {err}[T, E any](e E) {r}[T, E] {{\n\
                 return {r}[T, E]{{IsErr: true, Err: e}}\n}}"
            );
        }
        for n in 2..=16 {
            let t = format!("Tuple{n}");
            if used.contains(&t) {
                let params: Vec<String> = (0..n).map(|i| format!("T{i}")).collect();
                let _ = writeln!(
                    s,
                    "\n// {t} is a WIT `tuple` of {n} values.\ntype {t}[{} any] struct {{",
                    params.join(", ")
                );
                for (i, p) in params.iter().enumerate() {
                    let field = format!("F{i}");
                    let _ = writeln!(s, "{field:<w$} {p}", w = format!("F{}", n - 1).len());
                }
                s.push_str("}\n");
            }
        }
        s
    }
}

/// WIT docs as the text of a comment (lines without `// `), or "".
pub(crate) fn doc_text(docs: &Docs) -> String {
    docs.contents
        .as_deref()
        .map(|t| t.lines().map(str::trim_end).collect::<Vec<_>>().join("\n"))
        .unwrap_or_default()
}

/// The doc comment of a top-level declaration: WIT docs, or `fallback`,
/// then `more` paragraphs, in gofmt's form.
pub(crate) fn top_doc(wit: &Docs, fallback: &str, more: &[&str]) -> String {
    let mut text = doc_text(wit);
    if text.trim().is_empty() {
        text = fallback.to_string();
    }
    for m in more {
        text.push_str("\n\n");
        text.push_str(m);
    }
    doc::doc_comment(&text)
}

/// Comment lines from WIT docs (inside a declaration, where gofmt keeps
/// them as they are).
pub(crate) fn docs(docs: &Docs, out: &mut String) {
    if let Some(text) = &docs.contents {
        for line in text.lines() {
            let line = line.trim_end();
            if line.is_empty() {
                out.push_str("//\n");
            } else {
                let _ = writeln!(out, "// {line}");
            }
        }
    }
}

/// The import block the text needs: every standard package it names.
fn imports(text: &str) -> String {
    // Code only: comments and strings may name a package too.
    let code: String = text
        .lines()
        .map(|l| crate::c::code_of(l.trim_start()) + "\n")
        .collect();
    let mut list: Vec<&str> = Vec::new();
    for (pkg, marker) in [
        ("errors", "errors."),
        ("math", "math."),
        ("io", "io."),
        ("runtime", "runtime."),
        ("runtime/metrics", "metrics."),
        ("unsafe", "unsafe."),
    ] {
        if code.contains(marker) {
            list.push(pkg);
        }
    }
    match list.as_slice() {
        [] => String::new(),
        [one] => format!("\nimport \"{one}\"\n"),
        many => {
            let mut s = String::from("\nimport (\n");
            for p in many {
                let _ = writeln!(s, "\t\"{p}\"");
            }
            s.push_str(")\n");
            s
        }
    }
}

/// Indents Go by its braces (the writers emit flat lines), with `case`
/// and `default` at their switch's depth, as gofmt has it.
pub(crate) fn indent(src: &str) -> String {
    let mut out = String::with_capacity(src.len() * 2);
    let mut depth: usize = 0;
    for line in src.lines() {
        let line = line.trim_start();
        if line.is_empty() {
            out.push('\n');
            continue;
        }
        let code = crate::c::code_of(line);
        // `}` and `)` starting a line close a level; `})` closes the one
        // brace (the call's `(` opened none).
        let leading = match code.starts_with(')') {
            true => code.chars().take_while(|c| *c == ')').count(),
            false => code.chars().take_while(|c| *c == '}').count(),
        };
        // `const (` and `var (` blocks indent as braces do.
        let opens = code.chars().filter(|c| *c == '{').count()
            + usize::from(code.trim_end().ends_with('('));
        let closes = code.chars().filter(|c| *c == '}').count()
            + code.chars().take_while(|c| *c == ')').count();
        let case = line.starts_with("case ") || line.starts_with("default:");
        let d = depth
            .saturating_sub(leading)
            .saturating_sub(usize::from(case));
        for _ in 0..d {
            out.push('\t');
        }
        out.push_str(line);
        out.push('\n');
        depth = (depth + opens).saturating_sub(closes);
    }
    out
}

/// At most one blank line in a row, none after `{` or before `}`, and
/// one newline at the end: gofmt's spacing.
fn tidy(src: &str) -> String {
    let lines: Vec<&str> = src.lines().collect();
    let mut out = String::with_capacity(src.len());
    let mut prev = "";
    for (i, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            let next = lines[i + 1..]
                .iter()
                .find(|l| !l.trim().is_empty())
                .copied()
                .unwrap_or("}");
            if prev.trim().is_empty()
                || prev.trim_end().ends_with('{')
                || next.trim_start().starts_with('}')
                || next.trim_start().starts_with("case ")
                || next.trim_start().starts_with("default:")
            {
                continue;
            }
            out.push('\n');
            prev = "";
            continue;
        }
        out.push_str(line.trim_end());
        out.push('\n');
        prev = line;
    }
    out
}

/// The table of the values behind exported resources' handles: a rep is
/// an index plus one (0 is no rep), and freed slots are reused.
const TABLE: &str = r#"
type cabiTable[T any] struct {
	items []T
	free  []int32
}

func (t *cabiTable[T]) add(v T) int32 {
	if n := len(t.free); n > 0 {
		rep := t.free[n-1]
		t.free = t.free[:n-1]
		t.items[rep-1] = v
		return rep
	}
	t.items = append(t.items, v)
	return int32(len(t.items))
}

func (t *cabiTable[T]) get(rep int32) T {
	return t.items[rep-1]
}

func (t *cabiTable[T]) remove(rep int32) T {
	v := t.items[rep-1]
	var zero T
	t.items[rep-1] = zero
	t.free = append(t.free, rep)
	return v
}
"#;

/// The glue every package has: the receive buffer and `cabi_realloc`,
/// the adapter's allocator, the export pins and the lift helpers.
fn runtime(g: &Gen<'_>) -> String {
    let (size, align) = g
        .plan
        .exports
        .iter()
        .filter_map(|f| f.return_area)
        .fold((0, 1), |(s, a), l| (s.max(l.size), a.max(l.align)));
    let mut s = String::new();
    if size > 0 {
        let _ = writeln!(
            s,
            "\n// Where exports put their results until post-return (align {align}).\n\
             var cabiRetArea [{}]uint64",
            size.div_ceil(8)
        );
    }
    let reserve = g.helper("ReserveTransferBytes");
    let _ = write!(
        s,
        r#"
// The receive buffer: `cabi_realloc` hands out its memory for what the host
// passes in (an export's arguments, an import's results), which the
// bindings copy into Go values before the buffer is reused. It must not call
// the Go allocator: the allocator may read the clock, an import, and the
// canonical ABI forbids calling imports from `cabi_realloc`. So the buffer is
// made beforehand, and grown between calls after a call used more than half
// of it. One call can receive at most its size: see [{reserve}].
var cabiBuffer = make([]uint64, cabiDefaultBuffer/8)

// The default size of the receive buffer.
const cabiDefaultBuffer = 4 << 20

var (
	cabiUsed uintptr
	cabiHigh uintptr
)

// {reserve} makes room for `n` bytes of strings and lists received
// in one call (the arguments of an export, or the results of an import,
// with their alignment padding): calls that receive more fail. The room
// also grows by itself after a call that used more than half of it.
func {reserve}(n int) {{
	if uintptr(n) > uintptr(len(cabiBuffer))*8 {{
		cabiBuffer = make([]uint64, (n+7)/8)
	}}
}}

//go:wasmexport cabi_realloc
func cabiRealloc(old unsafe.Pointer, oldSize, align, newSize uint32) unsafe.Pointer {{
	start := (cabiUsed + uintptr(align) - 1) &^ (uintptr(align) - 1)
	end := start + uintptr(newSize)
	if end > uintptr(len(cabiBuffer))*8 {{
		// Past the end of memory: the host refuses it, and the call fails.
		return unsafe.Add(nil, ^uint32(0))
	}}
	p := unsafe.Add(unsafe.Pointer(unsafe.SliceData(cabiBuffer)), start)
	if old != nil && oldSize > 0 {{
		copy(unsafe.Slice((*byte)(p), min(oldSize, newSize)), unsafe.Slice((*byte)(old), oldSize))
	}}
	cabiUsed = end
	cabiHigh = max(cabiHigh, end)
	return p
}}

// cabiReset makes the receive buffer's memory free again, once what it held
// is copied.
func cabiReset() {{{in_flight}
	cabiUsed = 0
	if cabiHigh > uintptr(len(cabiBuffer))*4 {{
		cabiBuffer = make([]uint64, cabiHigh/4+1)
	}}
	cabiHigh = 0
}}

// The WASI adapter's state (two blocks of 64 KiB, asked for once) is
// allocated before the Go runtime starts, so its allocator is a static area.
var (
	cabiAdapterArea [cabiAdapterBytes / 8]uint64
	cabiAdapterUsed uintptr
)

const cabiAdapterBytes = 128 << 10

//go:wasmexport cabi_realloc_adapter
func cabiReallocAdapter(old unsafe.Pointer, oldSize, align, newSize uint32) unsafe.Pointer {{
	start := (cabiAdapterUsed + uintptr(align) - 1) &^ (uintptr(align) - 1)
	end := start + uintptr(newSize)
	if old != nil || end > cabiAdapterBytes {{
		return unsafe.Add(nil, ^uint32(0))
	}}
	cabiAdapterUsed = end
	return unsafe.Add(unsafe.Pointer(&cabiAdapterArea), start)
}}

// What exports hand to the host stays reachable until post-return.
var cabiPins []unsafe.Pointer

func cabiPin(p unsafe.Pointer) {{
	cabiPins = append(cabiPins, p)
}}

func cabiUnpin() {{
	clear(cabiPins)
	cabiPins = cabiPins[:0]
}}

// cabiAlloc is a zeroed buffer of `size` bytes, aligned to 8.
func cabiAlloc(size int) unsafe.Pointer {{
	return unsafe.Pointer(unsafe.SliceData(make([]uint64, (size+7)/8)))
}}

// cabiString copies a string out of memory.
func cabiString(p unsafe.Pointer, n uint32) string {{
	if n == 0 {{
		return ""
	}}
	return string(unsafe.Slice((*byte)(p), n))
}}

// cabiList copies a list of numbers out of memory.
func cabiList[T any](p unsafe.Pointer, n uint32) []T {{
	if n == 0 {{
		return nil
	}}
	v := make([]T, n)
	copy(v, unsafe.Slice((*T)(p), n))
	return v
}}

func cabiBool(b bool) int32 {{
	if b {{
		return 1
	}}
	return 0
}}

func cabiTag(b bool) int {{
	if b {{
		return 1
	}}
	return 0
}}

// cabiChar checks a Unicode scalar value.
func cabiChar(v int32) rune {{
	if uint32(v) >= 0x110000 || (v >= 0xd800 && v < 0xe000) {{
		panic("{pkg}: not a Unicode scalar value")
	}}
	return rune(v)
}}

// cabiCase checks a case index.
func cabiCase(v int32, cases uint32) int32 {{
	if uint32(v) >= cases {{
		panic("{pkg}: a case index out of range")
	}}
	return v
}}
"#,
        pkg = g.pkg,
        in_flight = if g.is_async() {
            "\n\tif cabiInFlight > 0 {\n\t\t// An async call's results may still land in it.\n\t\treturn\n\t}"
        } else {
            ""
        },
    );
    s
}
