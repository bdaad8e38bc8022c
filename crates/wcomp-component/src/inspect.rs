//! `wcomp inspect`: what a wasm file is and what is inside it.
//!
//! One wasmparser pass over the whole file (nested modules and components
//! included) collects structure, section sizes and custom sections; WIT comes
//! from wit-component's decoders. The result serialises to JSON with stable
//! kebab-case keys and renders as deterministic text.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use serde::Serialize;
use wasmparser::{
    BinaryReaderError, CompositeInnerType, Encoding, ExternalKind, KnownCustom, Parser, Payload,
    TypeRef, WasmFeatures,
};
use wcomp_wit::summary::Summary;
use wcomp_wit::wit_parser::decoding::decode_world;
use wcomp_wit::wit_parser::{
    IndexMap, InterfaceId, Resolve, TypeDefKind, WorldId, WorldItem, WorldKey,
};
use wcomp_wit::{Origin, Wit};
use wit_component::{DecodedWasm, WitPrinter};

use crate::error::{ComponentError, WasmKind};
use crate::input::WasmInput;

/// Everything `wcomp inspect` reports about one file.
#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Inspection {
    pub path: String,
    pub kind: WasmKind,
    /// Total size in bytes.
    pub size: u64,
    /// A component's world, or the world a core module embeds.
    pub world: Option<WorldInfo>,
    /// A component's imports grouped by package; `None` for other kinds.
    pub capabilities: Option<Vec<CapabilityGroup>>,
    /// Details of a core module.
    pub module: Option<ModuleInfo>,
    /// The core modules, instances and nested components of a component.
    pub contents: Option<ComponentContents>,
    /// The packages, interfaces and worlds of a WIT package.
    pub package: Option<Summary>,
    /// Top-level sections in file order, merged by kind.
    pub sections: Vec<SectionSize>,
    /// Top-level custom sections in file order.
    pub custom_sections: Vec<CustomSectionInfo>,
    /// Core modules a composition defines once for several components, as
    /// its `wcomp-provenance` section records them.
    pub shared_modules: Vec<SharedModuleInfo>,
    /// What could not be decoded (the rest of the report still holds).
    pub notes: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct SharedModuleInfo {
    pub size: u64,
    /// The components that import it (the inputs' file names).
    pub users: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct WorldInfo {
    /// e.g. `root:component/root` (a component's) or `wcomp:keystore/app@0.1.0`.
    pub name: String,
    /// The world alone, as WIT text.
    pub wit: String,
    /// e.g. `wasi:clocks/monotonic-clock@0.2.0`, `func log`, `interface x`.
    pub imports: Vec<String>,
    pub exports: Vec<String>,
    /// The functions that need a runtime with component-model async: `async
    /// func`s and those passing streams or futures, e.g. `export
    /// wcomp:test/jobs@0.1.0#run: async func`.
    #[serde(rename = "async", skip_serializing_if = "Vec::is_empty")]
    pub async_functions: Vec<String>,
}

/// Imports from one package (`wasi:clocks`), or world-level ones (`(world)`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct CapabilityGroup {
    pub package: String,
    /// Interfaces with versions (`monotonic-clock@0.2.0`), or `func NAME`.
    pub items: Vec<String>,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ModuleInfo {
    pub imports: Vec<CoreImport>,
    pub exports: Vec<CoreExport>,
    pub memories: Vec<MemoryInfo>,
    /// Functions defined (not imported).
    pub functions: u64,
    /// `command` or `reactor` when it imports `wasi_snapshot_preview1`.
    pub wasi_adapter: Option<String>,
    /// Non-memory imports from `env`: symbols the linker left unresolved.
    pub env_imports: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct CoreImport {
    pub module: String,
    pub name: String,
    /// `func`, `memory`, `table`, `global` or `tag`.
    pub kind: String,
    /// For functions: `(i32, i32) -> i32`.
    pub signature: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct CoreExport {
    pub name: String,
    pub kind: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct MemoryInfo {
    /// In pages.
    pub initial: u64,
    pub maximum: Option<u64>,
    pub memory64: bool,
    pub shared: bool,
    /// `module.name` when imported.
    pub imported_from: Option<String>,
}

/// One component: the file itself, or one nested in it.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ComponentContents {
    /// 0 for the file itself.
    pub depth: usize,
    pub size: u64,
    pub core_modules: Vec<CoreModuleInfo>,
    /// Core modules it imports (a composition passes shared modules so).
    pub imported_core_modules: u64,
    pub core_instances: u64,
    pub component_instances: u64,
    /// Nested components in definition order (their index space may also
    /// hold imported ones).
    pub components: Vec<ComponentContents>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct CoreModuleInfo {
    /// Position among the modules the component defines.
    pub index: usize,
    pub size: u64,
    pub functions: u64,
    pub imports: u64,
    pub exports: u64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct SectionSize {
    /// `type`, `core module`, `canonical`, `custom:producers`, ...
    pub kind: String,
    pub count: u64,
    /// Section headers included, so sizes add up to the file less its 8-byte preamble.
    pub size: u64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct CustomSectionInfo {
    pub name: String,
    /// Bytes of data after the name.
    pub size: u64,
    /// What a recognised section is for.
    pub description: Option<String>,
    /// `producers`: field (`language`, `processed-by`, `sdk`) → `NAME VERSION`s.
    pub producers: Option<BTreeMap<String, Vec<String>>>,
    /// `wcomp-provenance`, when its data is JSON.
    pub json: Option<serde_json::Value>,
}

/// Inspects `input`, validating it first so errors carry an offset.
pub fn inspect(input: &WasmInput) -> Result<Inspection, ComponentError> {
    input.validate()?;
    let walked = walk(input)?;
    let mut out = Inspection {
        path: input.path.display().to_string(),
        kind: WasmKind::Module,
        size: input.bytes.len() as u64,
        world: None,
        capabilities: None,
        module: None,
        contents: None,
        package: None,
        shared_modules: shared_modules(&walked.customs),
        sections: walked.sections,
        custom_sections: walked.customs,
        notes: Vec::new(),
    };
    match walked.top {
        Some(Frame::Module(m)) => {
            out.module = Some(m.info());
            embedded_world(input, &mut out);
        }
        Some(Frame::Component(c)) => {
            out.kind = WasmKind::Component;
            out.contents = Some(c);
            decode_component(input, &mut out);
        }
        None => return Err(internal("the parser ended without a module or component")),
    }
    Ok(out)
}

/// The `shared` list of a `wcomp-provenance` section: `{size, users}` each.
fn shared_modules(customs: &[CustomSectionInfo]) -> Vec<SharedModuleInfo> {
    let shared = customs
        .iter()
        .filter_map(|c| c.json.as_ref())
        .filter_map(|json| json.get("shared")?.as_array())
        .flatten();
    shared
        .filter_map(|m| {
            Some(SharedModuleInfo {
                size: m.get("size")?.as_u64()?,
                users: m
                    .get("users")?
                    .as_array()?
                    .iter()
                    .filter_map(|u| Some(u.as_str()?.to_string()))
                    .collect(),
            })
        })
        .collect()
}

/// Runs a decoder, turning a panic (wit-parser unwraps in places on odd
/// input) into an error, since inspect must not panic on any file; errors
/// (anyhow's, from wit-component) become one line with their causes.
fn guarded<T, E: std::fmt::Display>(f: impl FnOnce() -> Result<T, E>) -> Result<T, String> {
    match wcomp_wit::catch_library_panic(f) {
        Ok(result) => result.map_err(|e| format!("{e:#}")),
        Err(panic) => Err(format!("the decoder crashed: {panic}")),
    }
}

fn decode_component(input: &WasmInput, out: &mut Inspection) {
    match guarded(|| wit_component::decode(&input.bytes)) {
        Ok(DecodedWasm::WitPackage(resolve, package)) => {
            out.kind = WasmKind::WitPackage;
            out.contents = None;
            let (path, origin) = (input.path.clone(), Origin::WasmPackage);
            out.package = Some(Summary::of(&Wit {
                resolve,
                package,
                path,
                origin,
            }));
        }
        Ok(DecodedWasm::Component(resolve, world)) => {
            out.capabilities = Some(capabilities(&resolve, world));
            match world_info(&resolve, world) {
                Ok(w) => out.world = Some(w),
                Err(e) => out.notes.push(format!("cannot print the world: {e}")),
            }
        }
        Err(e) => out.notes.push(format!("cannot decode its WIT: {e}")),
    }
}

/// The world a core module was built for, from its `component-type` sections.
fn embedded_world(input: &WasmInput, out: &mut Inspection) {
    let mut parser = Parser::new(0);
    parser.set_features(WasmFeatures::all());
    let sections: Vec<&[u8]> = parser
        .parse_all(&input.bytes)
        .filter_map(|p| match p {
            Ok(Payload::CustomSection(c)) if c.name().starts_with("component-type") => {
                Some(c.data())
            }
            _ => None,
        })
        .collect();
    // What wrapping uses: every section merged into one world, which
    // wit-component names `root:root/root`.
    let merged = || {
        let decoded = guarded(|| wit_component::metadata::decode(&input.bytes));
        decoded.map(|(_, b)| (b.resolve, b.world))
    };
    let decoded = match sections.as_slice() {
        [] => return,
        // A single section keeps its world's own name.
        [one] => guarded(|| decode_world(one)).or_else(|_| merged()),
        _ => merged(),
    };
    match decoded.and_then(|(resolve, world)| world_info(&resolve, world)) {
        Ok(w) => out.world = Some(w),
        Err(e) => out.notes.push(format!("cannot decode its world: {e}")),
    }
}

fn world_info(resolve: &Resolve, world: WorldId) -> Result<WorldInfo, String> {
    let w = resolve.worlds.get(world).ok_or("unknown world")?;
    let package = w.package.ok_or("the world has no package")?;
    // Print the world alone, in a copy of its package that holds nothing
    // else, so that the interfaces it names print as full paths.
    let mut only = resolve.clone();
    let mut alone = only.packages.get(package).ok_or("unknown package")?.clone();
    alone.interfaces.clear();
    alone.worlds = [(w.name.clone(), world)].into_iter().collect();
    let alone = only.packages.alloc(alone);
    if let Some(w) = only.worlds.get_mut(world) {
        w.package = Some(alone);
    }
    let mut printer = WitPrinter::default();
    printer.emit_docs(false);
    guarded(|| printer.print(&only, alone, &[]))?;
    let names = |items: &IndexMap<WorldKey, WorldItem>| {
        let names = items.iter().map(|(k, i)| item_name(resolve, k, i));
        names.collect()
    };
    Ok(WorldInfo {
        name: resolve.id_of_name(package, &w.name),
        wit: printer.output.to_string(),
        imports: names(&w.imports),
        exports: names(&w.exports),
        async_functions: async_functions(resolve, world),
    })
}

/// `import IFACE#f: async func`, `export g: func passing 1 stream`: every
/// function of `world` that is async or passes streams or futures.
fn async_functions(resolve: &Resolve, world: WorldId) -> Vec<String> {
    let mut out = Vec::new();
    for f in wcomp_abi::world_functions(resolve, world) {
        let payloads = f.function.find_futures_and_streams(resolve);
        if !f.function.kind.is_async() && payloads.is_empty() {
            continue;
        }
        let (mut streams, mut futures) = (0, 0);
        for id in payloads {
            match resolve.types.get(id).map(|t| &t.kind) {
                Some(TypeDefKind::Stream(_)) => streams += 1,
                _ => futures += 1,
            }
        }
        let count = |n: usize, what: &str| match n {
            0 => None,
            1 => Some(format!("1 {what}")),
            n => Some(format!("{n} {what}s")),
        };
        let passes: Vec<String> = [count(streams, "stream"), count(futures, "future")]
            .into_iter()
            .flatten()
            .collect();
        let direction = match f.direction {
            wcomp_abi::Direction::Import => "import",
            wcomp_abi::Direction::Export => "export",
        };
        let name = match f.interface {
            Some(key) => format!("{}#{}", resolve.name_world_key(key), f.function.name),
            None => f.function.name.clone(),
        };
        let kind = if f.function.kind.is_async() {
            "async func"
        } else {
            "func"
        };
        out.push(match passes.is_empty() {
            true => format!("{direction} {name}: {kind}"),
            false => format!("{direction} {name}: {kind} passing {}", passes.join(", ")),
        });
    }
    out
}

fn item_name(resolve: &Resolve, key: &WorldKey, item: &WorldItem) -> String {
    match (key, item) {
        (WorldKey::Interface(id), _) => interface_id(resolve, *id),
        (WorldKey::Name(name), WorldItem::Interface { .. }) => format!("interface {name}"),
        (WorldKey::Name(name), WorldItem::Function(_)) => format!("func {name}"),
        (WorldKey::Name(name), WorldItem::Type { .. }) => format!("type {name}"),
    }
}

/// `wasi:clocks/monotonic-clock@0.2.0`, without `Resolve::id_of`'s unwrap.
fn interface_id(resolve: &Resolve, id: InterfaceId) -> String {
    let iface = resolve.interfaces.get(id);
    match iface.and_then(|i| Some((i.package?, i.name.as_ref()?))) {
        Some((p, name)) if resolve.packages.get(p).is_some() => resolve.id_of_name(p, name),
        _ => "<anonymous interface>".into(),
    }
}

/// The world's imports by package, packages sorted, world-level items last.
fn capabilities(resolve: &Resolve, world: WorldId) -> Vec<CapabilityGroup> {
    let mut groups: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let imports = resolve.worlds.get(world).map(|w| &w.imports);
    // Types are not capabilities; the functions that use them are.
    let imports = imports.into_iter().flatten();
    for (key, item) in imports.filter(|(_, i)| !matches!(i, WorldItem::Type { .. })) {
        let name = item_name(resolve, key, item);
        // `wasi:clocks/monotonic-clock@0.2.0` → `wasi:clocks`, `monotonic-clock@0.2.0`.
        let (group, entry) = match (key, name.split_once('/')) {
            (WorldKey::Interface(_), Some((p, i))) => (p.to_string(), i.to_string()),
            _ => (WORLD.to_string(), name),
        };
        groups.entry(group).or_default().insert(entry);
    }
    let world_level = groups.remove(WORLD);
    let groups = groups
        .into_iter()
        .chain(world_level.map(|i| (WORLD.to_string(), i)));
    let group = |(package, items): (String, BTreeSet<String>)| CapabilityGroup {
        package,
        items: items.into_iter().collect(),
    };
    groups.map(group).collect()
}

/// The capability group of world-level imports.
const WORLD: &str = "(world)";

// ---- the text form ----

impl Inspection {
    /// The human-readable report: a header line, then one block per topic.
    pub fn to_text(&self) -> String {
        let mut blocks = Vec::new();
        if let Some(world) = &self.world {
            let source = match self.kind {
                WasmKind::Module => " (embedded in its component-type section)",
                _ => "",
            };
            blocks.push(format!(
                "world {}{source}:\n{}",
                world.name,
                indent(&world.wit)
            ));
            if !world.async_functions.is_empty() {
                let mut s = "async (a runtime with component-model async runs these, \
                             e.g. wasmtime 46 or later):\n"
                    .to_string();
                for f in &world.async_functions {
                    s.push_str(&format!("  {f}\n"));
                }
                blocks.push(s);
            }
        }
        if let Some(groups) = &self.capabilities {
            blocks.push(capabilities_text(groups));
        }
        if let Some(module) = &self.module {
            blocks.push(module_text(module));
        }
        if let Some(contents) = &self.contents {
            let mut s = "core modules and instances:\n".to_string();
            contents_text(contents, "  ", &mut s);
            blocks.push(s);
        }
        if !self.shared_modules.is_empty() {
            let mut s = "shared core modules (defined once, imported by each user):\n".to_string();
            let mut saved = 0u64;
            for (i, m) in self.shared_modules.iter().enumerate() {
                saved = saved.saturating_add(
                    m.size
                        .saturating_mul(m.users.len().saturating_sub(1) as u64),
                );
                let _ = writeln!(
                    s,
                    "  {i}: {} bytes, used by {}",
                    thousands(m.size),
                    m.users.join(", ")
                );
            }
            let _ = writeln!(s, "  {} bytes saved", thousands(saved));
            blocks.push(s);
        }
        if let Some(package) = &self.package {
            blocks.push(format!("package:\n{}", indent(&package.to_tree())));
        }
        blocks.push(self.sections_text());
        if !self.custom_sections.is_empty() {
            blocks.push(custom_text(&self.custom_sections));
        }
        if !self.notes.is_empty() {
            blocks.push(format!("notes:\n{}", indent(&self.notes.join("\n"))));
        }
        let size = thousands(self.size);
        let mut out = format!("{}: {}, {size} bytes\n", self.path, self.kind);
        for block in blocks {
            let _ = write!(out, "\n{}\n", block.trim_end());
        }
        out
    }

    fn sections_text(&self) -> String {
        let mut rows = vec![vec!["kind".into(), "count".into(), "bytes".into()]];
        let (mut count, mut size) = (0u64, 0u64);
        for s in &self.sections {
            count = count.saturating_add(s.count);
            size = size.saturating_add(s.size);
            rows.push(vec![s.kind.clone(), s.count.to_string(), thousands(s.size)]);
        }
        rows.push(vec!["total".into(), count.to_string(), thousands(size)]);
        let table = table(&rows, &[false, true, true]);
        format!("sections (bytes include section headers, not the 8-byte preamble):\n{table}")
    }
}

fn capabilities_text(groups: &[CapabilityGroup]) -> String {
    if groups.is_empty() {
        return "capabilities: none (it imports nothing)".into();
    }
    let mut s = "capabilities (imports the host must provide):\n".to_string();
    for g in groups {
        let _ = writeln!(s, "  {}", g.package);
        for item in &g.items {
            let _ = writeln!(s, "    {item}");
        }
    }
    s
}

fn module_text(m: &ModuleInfo) -> String {
    let imports: Vec<Vec<String>> = (m.imports.iter())
        .map(|i| {
            let ty = match &i.signature {
                Some(sig) => format!("{} {sig}", i.kind),
                None => i.kind.clone(),
            };
            vec![i.module.clone(), i.name.clone(), ty]
        })
        .collect();
    let exports: Vec<Vec<String>> = (m.exports.iter())
        .map(|e| vec![e.name.clone(), e.kind.clone()])
        .collect();
    let mut s = format!("imports ({}):\n{}", imports.len(), table(&imports, &[]));
    let _ = write!(s, "exports ({}):\n{}", exports.len(), table(&exports, &[]));
    for (n, mem) in m.memories.iter().enumerate() {
        let _ = write!(s, "memory {n}: {}", plural(mem.initial, "page"));
        if let Some(max) = mem.maximum {
            let _ = write!(s, ", max {}", thousands(max));
        }
        s.push_str(if mem.memory64 { ", 64-bit" } else { "" });
        s.push_str(if mem.shared { ", shared" } else { "" });
        if let Some(from) = &mem.imported_from {
            let _ = write!(s, ", imported from {from}");
        }
        s.push('\n');
    }
    let imported = m.imports.iter().filter(|i| i.kind == "func").count();
    let defined = thousands(m.functions);
    let _ = writeln!(s, "functions: {defined} defined, {imported} imported");
    if let Some(adapter) = &m.wasi_adapter {
        let why = match adapter.as_str() {
            "command" => "it exports `_start`",
            _ => "it does not export `_start`",
        };
        let _ = writeln!(
            s,
            "WASI preview 1: wrapping adds the {adapter} adapter ({why})"
        );
    }
    if !m.env_imports.is_empty() {
        let (n, list) = (m.env_imports.len(), m.env_imports.join(", "));
        let _ = writeln!(s, "unresolved symbols imported from `env` ({n}): {list}");
    }
    s
}

fn contents_text(c: &ComponentContents, pad: &str, s: &mut String) {
    for m in &c.core_modules {
        let _ = writeln!(
            s,
            "{pad}core module {}: {} bytes, {}, {}, {}",
            m.index,
            thousands(m.size),
            plural(m.functions, "function"),
            plural(m.imports, "import"),
            plural(m.exports, "export"),
        );
    }
    if c.imported_core_modules > 0 {
        let _ = writeln!(
            s,
            "{pad}{} (shared by the composition)",
            plural(c.imported_core_modules, "imported core module")
        );
    }
    let _ = writeln!(
        s,
        "{pad}{}, {}, {}",
        plural(c.core_instances, "core instance"),
        plural(c.component_instances, "component instance"),
        plural(c.components.len() as u64, "nested component"),
    );
    for (index, inner) in c.components.iter().enumerate() {
        let size = thousands(inner.size);
        let _ = writeln!(
            s,
            "{pad}component {index} (depth {}): {size} bytes",
            inner.depth
        );
        contents_text(inner, &format!("{pad}  "), s);
    }
}

fn custom_text(customs: &[CustomSectionInfo]) -> String {
    let width = customs
        .iter()
        .map(|c| c.name.chars().count())
        .max()
        .unwrap_or(0);
    let mut s = "custom sections:\n".to_string();
    for c in customs {
        let size = format!("{} bytes", thousands(c.size));
        let line = match &c.description {
            Some(d) => format!("  {:width$}  {size:>11}  {d}", c.name),
            None => format!("  {:width$}  {size:>11}", c.name),
        };
        let _ = writeln!(s, "{}", line.trim_end());
        for (field, values) in c.producers.iter().flatten() {
            let _ = writeln!(s, "    {field}: {}", values.join(", "));
        }
        if let Some(json) = &c.json {
            let text = serde_json::to_string_pretty(json).unwrap_or_default();
            let _ = writeln!(s, "{}", indent(&indent(&text)));
        }
    }
    s
}

/// Rows indented two spaces, columns padded to their widest cell (right
/// aligned where `right[i]`); lines never end in spaces.
fn table(rows: &[Vec<String>], right: &[bool]) -> String {
    let mut widths: Vec<usize> = Vec::new();
    for row in rows {
        widths.resize(widths.len().max(row.len()), 0);
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut s = String::new();
    for row in rows {
        let mut line = String::new();
        for ((cell, width), i) in row.iter().zip(&widths).zip(0..) {
            let _ = match right.get(i) {
                Some(true) => write!(line, "  {cell:>width$}"),
                _ => write!(line, "  {cell:width$}"),
            };
        }
        let _ = writeln!(s, "{}", line.trim_end());
    }
    s
}

/// `text` indented two spaces; blank lines stay empty.
fn indent(text: &str) -> String {
    let lines = text.trim_end().lines().map(|l| match l.trim_end() {
        "" => String::new(),
        l => format!("  {l}"),
    });
    lines.collect::<Vec<_>>().join("\n")
}

fn plural(n: u64, what: &str) -> String {
    format!("{} {what}{}", thousands(n), if n == 1 { "" } else { "s" })
}

/// `12345` → `12,345`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

// ---- the wasmparser walk ----

#[derive(Default)]
struct Walked {
    sections: Vec<SectionSize>,
    customs: Vec<CustomSectionInfo>,
    /// The file's own module or component, once its `End` is reached.
    top: Option<Frame>,
}

enum Frame {
    Module(ModuleScan),
    Component(ComponentContents),
}

/// Section names by id (wasmparser keeps its constants private).
#[rustfmt::skip]
const CORE_SECTIONS: [&str; 14] = [
    "custom", "type", "import", "function", "table", "memory", "global", "export", "start",
    "element", "code", "data", "data count", "tag",
];
#[rustfmt::skip]
const COMPONENT_SECTIONS: [&str; 12] = [
    "custom", "core module", "core instance", "core type", "component", "instance", "alias",
    "type", "canonical", "start", "import", "export",
];

fn walk(input: &WasmInput) -> Result<Walked, ComponentError> {
    let err = |e: BinaryReaderError| malformed(input, &e);
    let mut parser = Parser::new(0);
    parser.set_features(WasmFeatures::all());
    let mut out = Walked::default();
    let mut stack: Vec<Frame> = Vec::new();
    // The size of the next nested module or component: set by the parent's
    // section payload, taken by the child's `Version` payload.
    let mut next = None;
    let mut names: &[&str] = &CORE_SECTIONS;
    for payload in parser.parse_all(&input.bytes) {
        let payload = payload.map_err(err)?;
        if stack.len() == 1 {
            top_level(&payload, names, &mut out);
        }
        match payload {
            Payload::Version { encoding, .. } => {
                let size = next.take().unwrap_or(input.bytes.len() as u64);
                if stack.is_empty() && encoding == Encoding::Component {
                    names = &COMPONENT_SECTIONS;
                }
                stack.push(match encoding {
                    Encoding::Module => Frame::Module(ModuleScan {
                        size,
                        ..Default::default()
                    }),
                    Encoding::Component => Frame::Component(ComponentContents {
                        depth: stack.len(),
                        size,
                        ..Default::default()
                    }),
                });
            }
            Payload::End(_) => match (stack.pop(), stack.last_mut()) {
                (Some(done), None) => out.top = Some(done),
                (Some(Frame::Module(m)), Some(Frame::Component(parent))) => {
                    let index = parent.core_modules.len();
                    parent.core_modules.push(m.summary(index));
                }
                (Some(Frame::Component(c)), Some(Frame::Component(parent))) => {
                    parent.components.push(c);
                }
                _ => return Err(internal("unbalanced nesting in the parser")),
            },
            other => match stack.last_mut() {
                Some(Frame::Module(m)) => m.payload(other).map_err(err)?,
                Some(Frame::Component(c)) => c.payload(other, &mut next),
                None => {}
            },
        }
    }
    Ok(out)
}

/// Section sizes and custom sections of the file's own level.
fn top_level(payload: &Payload<'_>, names: &[&str], out: &mut Walked) {
    let Some((id, range)) = payload.as_section() else {
        return;
    };
    let content = range.end.saturating_sub(range.start);
    let size = content.saturating_add(1).saturating_add(leb_len(content));
    let kind = match (payload, names.get(usize::from(id))) {
        (Payload::CustomSection(c), _) => {
            out.customs.push(custom_section(c));
            format!("custom:{}", c.name())
        }
        (_, Some(name)) => name.to_string(),
        (_, None) => format!("unknown (id {id})"),
    };
    match out.sections.iter_mut().find(|s| s.kind == kind) {
        Some(s) => {
            s.count = s.count.saturating_add(1);
            s.size = s.size.saturating_add(size);
        }
        None => out.sections.push(SectionSize {
            kind,
            count: 1,
            size,
        }),
    }
}

fn custom_section(c: &wasmparser::CustomSectionReader<'_>) -> CustomSectionInfo {
    let name = c.name();
    let description = match name {
        n if n.starts_with("component-type") => {
            "embedded WIT metadata: the world the module was built for"
        }
        "name" | "component-name" => "debug names",
        "producers" => "the tools that produced this file",
        "package-docs" => "WIT doc comments",
        "target_features" => "the wasm features the compiler targeted",
        "wcomp-provenance" => "how wcomp composed this artifact",
        n if n.starts_with(".debug_") => "DWARF debug info",
        _ => "",
    };
    let mut info = CustomSectionInfo {
        name: name.to_string(),
        size: c.data().len() as u64,
        description: Some(description.to_string()).filter(|d| !d.is_empty()),
        producers: None,
        json: None,
    };
    if name == "wcomp-provenance" {
        info.json = serde_json::from_slice(c.data()).ok();
    } else if let KnownCustom::Producers(reader) = c.as_known() {
        match producers(reader) {
            Ok(p) => info.producers = Some(p),
            Err(e) => info.description = Some(format!("unreadable producers: {}", e.message())),
        }
    }
    info
}

fn producers(
    reader: wasmparser::ProducersSectionReader<'_>,
) -> Result<BTreeMap<String, Vec<String>>, BinaryReaderError> {
    let mut fields: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for field in reader {
        let field = field?;
        let values = fields.entry(field.name.to_string()).or_default();
        for value in field.values {
            let value = value?;
            values.push(
                format!("{} {}", value.name, value.version)
                    .trim()
                    .to_string(),
            );
        }
    }
    Ok(fields)
}

#[derive(Default)]
struct ModuleScan {
    size: u64,
    /// Signatures by type index (`None` for non-function types).
    types: Vec<Option<String>>,
    info: ModuleInfo,
}

impl ModuleScan {
    fn payload(&mut self, payload: Payload<'_>) -> Result<(), BinaryReaderError> {
        match payload {
            Payload::TypeSection(reader) => {
                for group in reader {
                    for sub in group?.into_types() {
                        self.types.push(match &sub.composite_type.inner {
                            CompositeInnerType::Func(f) => Some(signature(f)),
                            _ => None,
                        });
                    }
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    let import = import?;
                    let (kind, signature) = match import.ty {
                        TypeRef::Func(t) | TypeRef::FuncExact(t) => {
                            ("func", self.types.get(t as usize).cloned().flatten())
                        }
                        TypeRef::Memory(m) => {
                            let from = format!("{}.{}", import.module, import.name);
                            self.info.memories.push(memory(m, Some(from)));
                            ("memory", None)
                        }
                        TypeRef::Table(_) => ("table", None),
                        TypeRef::Global(_) => ("global", None),
                        TypeRef::Tag(_) => ("tag", None),
                    };
                    let (module, name, kind) = (import.module.into(), import.name.into(), kind);
                    let kind = kind.into();
                    self.info.imports.push(CoreImport {
                        module,
                        name,
                        kind,
                        signature,
                    });
                }
            }
            Payload::FunctionSection(reader) => self.info.functions = reader.count().into(),
            Payload::MemorySection(reader) => {
                for m in reader {
                    self.info.memories.push(memory(m?, None));
                }
            }
            Payload::ExportSection(reader) => {
                for export in reader {
                    let export = export?;
                    let kind = match export.kind {
                        ExternalKind::Func | ExternalKind::FuncExact => "func",
                        ExternalKind::Table => "table",
                        ExternalKind::Memory => "memory",
                        ExternalKind::Global => "global",
                        ExternalKind::Tag => "tag",
                    };
                    let (name, kind) = (export.name.to_string(), kind.to_string());
                    self.info.exports.push(CoreExport { name, kind });
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn summary(self, index: usize) -> CoreModuleInfo {
        let m = self.info;
        let (imports, exports) = (m.imports.len() as u64, m.exports.len() as u64);
        let (size, functions) = (self.size, m.functions);
        CoreModuleInfo {
            index,
            size,
            functions,
            imports,
            exports,
        }
    }

    fn info(mut self) -> ModuleInfo {
        let m = &mut self.info;
        if m.imports
            .iter()
            .any(|i| i.module == "wasi_snapshot_preview1")
        {
            // The adapter wrapping picks: `_start` makes a command.
            let command = m.exports.iter().any(|e| e.name == "_start");
            m.wasi_adapter = Some(if command { "command" } else { "reactor" }.into());
        }
        let env = m
            .imports
            .iter()
            .filter(|i| i.module == "env" && i.kind != "memory");
        m.env_imports = env.map(|i| i.name.clone()).collect();
        self.info
    }
}

fn signature(f: &wasmparser::FuncType) -> String {
    let list = |tys: &[wasmparser::ValType]| {
        let tys: Vec<String> = tys.iter().map(ToString::to_string).collect();
        tys.join(", ")
    };
    let results = match f.results() {
        [one] => one.to_string(),
        many => format!("({})", list(many)),
    };
    format!("({}) -> {results}", list(f.params()))
}

fn memory(m: wasmparser::MemoryType, imported_from: Option<String>) -> MemoryInfo {
    let (initial, maximum, memory64, shared) = (m.initial, m.maximum, m.memory64, m.shared);
    MemoryInfo {
        initial,
        maximum,
        memory64,
        shared,
        imported_from,
    }
}

impl ComponentContents {
    /// Counts what a section of this component adds; nested modules and
    /// components are walked on their own and pushed when they end.
    fn payload(&mut self, payload: Payload<'_>, next: &mut Option<u64>) {
        let len = |r: std::ops::Range<u64>| r.end.saturating_sub(r.start);
        match payload {
            Payload::ModuleSection {
                unchecked_range: r, ..
            }
            | Payload::ComponentSection {
                unchecked_range: r, ..
            } => *next = Some(len(r)),
            Payload::InstanceSection(r) => {
                self.core_instances = self.core_instances.saturating_add(r.count().into());
            }
            Payload::ComponentInstanceSection(r) => {
                let n = &mut self.component_instances;
                *n = n.saturating_add(r.count().into());
            }
            Payload::ComponentImportSection(r) => {
                let modules = r
                    .into_iter()
                    .flatten()
                    .filter(|i| matches!(i.ty, wasmparser::ComponentTypeRef::Module(_)))
                    .count();
                let n = &mut self.imported_core_modules;
                *n = n.saturating_add(modules as u64);
            }
            _ => {}
        }
    }
}

/// Bytes a LEB128-encoded `n` takes.
fn leb_len(mut n: u64) -> u64 {
    let mut len = 1;
    while n >= 0x80 {
        n >>= 7;
        len += 1;
    }
    len
}

fn malformed(input: &WasmInput, e: &BinaryReaderError) -> ComponentError {
    ComponentError::Malformed {
        path: input.path.clone(),
        offset: e.offset(),
        message: e.message().to_string(),
        help: None,
    }
}

fn internal(what: &str) -> ComponentError {
    ComponentError::Internal(format!("inspect: {what}"))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn inspect_bytes(bytes: Vec<u8>) -> Inspection {
        inspect(&WasmInput::from_bytes(Path::new("x.wasm"), bytes).unwrap()).unwrap()
    }

    const APP_WIT: &str = r#"package wcomp:keystore@0.1.0;
        interface store { set: func(key: u32, value: u32); }
        interface handler { handle: func(x: u32) -> u32; }
        world app {
            import wasi:clocks/monotonic-clock@0.2.0;
            import wasi:clocks/wall-clock@0.2.0;
            import store;
            import log: func(msg: string);
            export handler;
        }
        package wasi:clocks@0.2.0 {
            interface monotonic-clock { now: func() -> u64; }
            interface wall-clock { seconds: func() -> u64; }
        }"#;

    fn app_wit() -> Wit {
        wcomp_wit::load_str("app.wit", APP_WIT, &Default::default()).unwrap()
    }

    /// A module with its world embedded, as bindings generators emit it.
    fn app_module() -> Vec<u8> {
        let mut module = wat::parse_str(
            r#"(module
                (import "wasi:clocks/monotonic-clock@0.2.0" "now" (func (result i64)))
                (import "wasi:clocks/wall-clock@0.2.0" "seconds" (func (result i64)))
                (import "wcomp:keystore/store@0.1.0" "set" (func (param i32 i32)))
                (import "$root" "log" (func (param i32 i32)))
                (memory (export "memory") 1)
                (func (export "wcomp:keystore/handler@0.1.0#handle") (param i32) (result i32)
                    local.get 0))"#,
        )
        .unwrap();
        let wit = app_wit();
        let world = wit.world(Some("app")).unwrap();
        let utf8 = wit_component::StringEncoding::UTF8;
        wit_component::embed_component_metadata(&mut module, &wit.resolve, world, utf8, false)
            .unwrap();
        module
    }

    fn app_component() -> Vec<u8> {
        let mut encoder = wit_component::ComponentEncoder::default();
        encoder.module(&app_module()).unwrap().encode().unwrap()
    }

    #[test]
    fn a_core_module_lists_imports_exports_wasi_env_and_custom_sections() {
        let bytes = wat::parse_str(
            r#"(module
                (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
                (import "env" "missing_symbol" (func))
                (import "env" "memory" (memory 2 10))
                (func (export "_start"))
                (@custom "wcomp-provenance" "{\"composed\": [\"a.wasm\"]}")
                (@custom "vendor-notes" "hello")
                (@producers (language "Rust" "1.80")))"#,
        )
        .unwrap();
        let report = inspect_bytes(bytes);
        assert_eq!(report.kind, WasmKind::Module);
        let m = report.module.as_ref().unwrap();
        let sig = |i: usize| m.imports[i].signature.as_deref();
        assert_eq!(sig(0), Some("(i32, i32, i32, i32) -> i32"));
        assert_eq!(sig(1), Some("() -> ()"));
        assert_eq!((m.exports[0].name.as_str(), m.functions), ("_start", 1));
        assert_eq!(m.wasi_adapter.as_deref(), Some("command"));
        assert_eq!(m.env_imports, ["missing_symbol"]);
        assert_eq!(m.memories[0].imported_from.as_deref(), Some("env.memory"));
        assert!(report.world.is_none() && report.capabilities.is_none());

        let custom = |name: &str| {
            report
                .custom_sections
                .iter()
                .find(|c| c.name == name)
                .unwrap()
        };
        let provenance = serde_json::json!({"composed": ["a.wasm"]});
        assert_eq!(custom("wcomp-provenance").json, Some(provenance));
        assert_eq!(custom("vendor-notes").size, 5);
        let producers = custom("producers").producers.as_ref().unwrap();
        assert_eq!(producers["language"], ["Rust 1.80"]);
        // Sizes include headers, so they add up to the file less the preamble.
        let total: u64 = report.sections.iter().map(|s| s.size).sum();
        assert_eq!(total + 8, report.size);
        let text = report.to_text();
        assert!(text.starts_with("x.wasm: a core module, "), "{text}");
        assert!(text.contains("adds the command adapter"), "{text}");
    }

    #[test]
    fn a_module_with_metadata_shows_the_world_it_was_built_for() {
        let world = inspect_bytes(app_module()).world.unwrap();
        assert_eq!(world.name, "wcomp:keystore/app@0.1.0");
        assert!(
            world.wit.contains("  import wcomp:keystore/store@0.1.0;\n"),
            "{}",
            world.wit
        );
        assert_eq!(world.imports[3], "func log");
    }

    #[test]
    fn a_component_groups_its_capabilities_by_package() {
        let report = inspect_bytes(app_component());
        assert_eq!(report.kind, WasmKind::Component);
        let groups: Vec<(&str, Vec<&str>)> = (report.capabilities.iter().flatten())
            .map(|g| {
                (
                    g.package.as_str(),
                    g.items.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        let expected = [
            (
                "wasi:clocks",
                vec!["monotonic-clock@0.2.0", "wall-clock@0.2.0"],
            ),
            ("wcomp:keystore", vec!["store@0.1.0"]),
            ("(world)", vec!["func log"]),
        ];
        assert_eq!(groups, expected);
        let world = report.world.as_ref().unwrap();
        assert_eq!(world.exports, ["wcomp:keystore/handler@0.1.0"]);
        let contents = report.contents.as_ref().unwrap();
        assert!(contents.core_modules.len() >= 2 && contents.core_instances >= 2);
        assert!(
            contents
                .core_modules
                .iter()
                .any(|m| m.functions == 1 && m.imports == 4)
        );
        let producers = report
            .custom_sections
            .iter()
            .find(|c| c.name == "producers");
        let processed = &producers.unwrap().producers.as_ref().unwrap()["processed-by"];
        assert!(processed[0].starts_with("wit-component "), "{processed:?}");

        let text = report.to_text();
        assert_eq!(text, report.to_text());
        let caps = "capabilities (imports the host must provide):\n  wasi:clocks\n    monotonic";
        assert!(text.contains(caps), "{text}");
        assert!(
            text.lines().all(|l| l == l.trim_end()),
            "trailing spaces:\n{text}"
        );
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["kind"], "component");
        assert!(json["contents"]["core-modules"].is_array(), "{json}");
    }

    #[test]
    fn nested_components_are_walked_with_their_depth() {
        let report = inspect_bytes(
            wat::parse_str(
                r#"(component
                    (core module $a (func (export "f")))
                    (core instance (instantiate $a))
                    (component $inner (core module (func) (func)) (core module))
                    (instance (instantiate $inner)))"#,
            )
            .unwrap(),
        );
        let top = report.contents.as_ref().unwrap();
        assert_eq!(
            (top.depth, top.core_modules.len(), top.core_instances),
            (0, 1, 1)
        );
        assert_eq!((top.component_instances, top.components.len()), (1, 1));
        let inner = &top.components[0];
        let functions: Vec<u64> = inner.core_modules.iter().map(|m| m.functions).collect();
        assert_eq!((inner.depth, functions), (1, vec![2, 0]));
        assert!(report.to_text().contains("  component 0 (depth 1): "));
    }

    #[test]
    fn a_wit_package_is_summarised() {
        let wit = app_wit();
        let report =
            inspect_bytes(wit_component::encode(&wit.resolve, wit.package, false).unwrap());
        assert_eq!(report.kind, WasmKind::WitPackage);
        assert_eq!(
            report.package.as_ref().unwrap().package,
            "wcomp:keystore@0.1.0"
        );
        assert!(report.contents.is_none() && report.capabilities.is_none());
        assert!(report.to_text().contains("interface store"));
    }

    #[test]
    fn truncated_input_is_malformed_not_a_panic() {
        let bytes = app_component();
        for cut in [9, bytes.len() / 2, bytes.len() - 1] {
            let input = WasmInput::from_bytes(Path::new("t.wasm"), bytes[..cut].to_vec()).unwrap();
            let e = inspect(&input).unwrap_err();
            assert!(matches!(e, ComponentError::Malformed { .. }), "{e}");
        }
    }

    /// Async functions, and sync ones passing streams or futures, are
    /// listed with their direction; the others are not.
    #[test]
    fn async_functions_and_those_passing_streams_are_listed() {
        let mut resolve = Resolve::default();
        let pkg = resolve
            .push_str(
                "t.wit",
                "package t:a@0.1.0;
                 interface io {
                     read: func(n: u32) -> stream<u8>;
                     pipe: async func(x: stream<u8>, y: stream<u8>, done: future) -> u32;
                     plain: func();
                 }
                 world w {
                     import io;
                     export run: async func();
                 }",
            )
            .unwrap();
        let world = resolve.select_world(&[pkg], Some("w")).unwrap();
        assert_eq!(
            async_functions(&resolve, world),
            [
                "import t:a/io@0.1.0#read: func passing 1 stream",
                "import t:a/io@0.1.0#pipe: async func passing 2 streams, 1 future",
                "export run: async func",
            ]
        );
    }
}
