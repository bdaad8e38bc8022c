//! Checking a core module against the world it claims to implement, before
//! wit-component sees it, so that each common mistake gets an error that
//! names the WIT function, the core name expected and how to fix it.
//!
//! The checks are conservative: whatever they let through, wit-component
//! still checks, and its own message is shown then.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use wasmparser::types::{EntityType, Types};
use wasmparser::{FuncType, ValType};
use wit_parser::abi::{AbiVariant, WasmType};
use wit_parser::{
    Function, LiftLowerAbi, ManglingAndAbi, Resolve, Type, TypeDefKind, WasmExport, WasmExportKind,
    WorldId, WorldItem, WorldKey,
};

use crate::error::ComponentError;

/// Import modules that adapters provide, so they are not the world's business.
pub(crate) const WASI_P1: &str = "wasi_snapshot_preview1";

/// Names a module may export its allocator under (wit-component accepts all).
const REALLOCS: &[&str] = &[
    "cabi_realloc",
    "cm32p2_realloc",
    "canonical_abi_realloc",
    "cabi_export_realloc",
    "cabi_import_realloc",
];
const MEMORIES: &[&str] = &["memory", "cm32p2_memory"];

/// What a core module imports and exports, with function signatures.
pub(crate) struct CoreShape {
    pub imports: Vec<(String, String, Option<FuncType>)>,
    pub exports: BTreeMap<String, Option<FuncType>>,
}

impl CoreShape {
    pub fn of(types: &Types) -> CoreShape {
        let types = types.as_ref();
        let func = |e: EntityType| match e {
            EntityType::Func(id) | EntityType::FuncExact(id) => {
                Some(types[id].unwrap_func().clone())
            }
            _ => None,
        };
        let imports = types
            .core_imports()
            .into_iter()
            .flatten()
            .map(|(m, n, e)| (m.to_string(), n.to_string(), func(e)))
            .collect();
        let exports = types
            .core_exports()
            .into_iter()
            .flatten()
            .map(|(n, e)| (n.to_string(), func(e)))
            .collect();
        CoreShape { imports, exports }
    }

    pub fn exports_func(&self, name: &str) -> bool {
        matches!(self.exports.get(name), Some(Some(_)))
    }

    pub fn imports_from(&self, module: &str) -> impl Iterator<Item = &str> {
        self.imports
            .iter()
            .filter(move |(m, _, _)| m == module)
            .map(|(_, n, _)| n.as_str())
    }
}

/// Checks `shape` against `world`: exports present with the right core
/// signatures, imports declared, realloc and memory where needed, no `env`.
/// `adapted` are import modules an adapter will provide.
pub(crate) fn check(
    path: &Path,
    shape: &CoreShape,
    resolve: &Resolve,
    world: WorldId,
    adapted: &BTreeSet<String>,
) -> Result<(), ComponentError> {
    check_env(path, shape)?;
    let world_name = world_display(resolve, world);
    let needs = check_exports(path, shape, resolve, world, &world_name)?;
    let needs_imports = check_imports(path, shape, resolve, world, &world_name, adapted)?;
    for need in needs.into_iter().chain(needs_imports) {
        if need.memory && !MEMORIES.iter().any(|m| shape.exports.contains_key(*m)) {
            return Err(ComponentError::NoMemory {
                path: path.to_path_buf(),
                function: need.function,
            });
        }
        if let Some(why) = need.realloc
            && !REALLOCS.iter().any(|r| shape.exports_func(r))
        {
            return Err(ComponentError::NoRealloc {
                path: path.to_path_buf(),
                function: need.function,
                why: why.to_string(),
            });
        }
    }
    Ok(())
}

/// What calling one WIT function through the canonical ABI requires.
struct Need {
    function: String,
    memory: bool,
    realloc: Option<&'static str>,
}

fn check_env(path: &Path, shape: &CoreShape) -> Result<(), ComponentError> {
    let symbols: Vec<String> = shape.imports_from("env").map(str::to_string).collect();
    if symbols.is_empty() {
        return Ok(());
    }
    Err(ComponentError::EnvImports {
        help: env_help(&symbols),
        path: path.to_path_buf(),
        symbols,
    })
}

/// The likely cause of `env` imports, from the symbols' names.
fn env_help(symbols: &[String]) -> String {
    const OBJECT: &[&str] = &[
        "__linear_memory",
        "__indirect_function_table",
        "__stack_pointer",
        "__memory_base",
        "__table_base",
    ];
    const LIBC: &[&str] = &[
        "malloc", "free", "calloc", "realloc", "printf", "puts", "memcpy", "memset", "memmove",
        "strlen", "strcmp", "abort", "exit", "fopen", "fprintf", "write", "read", "time",
    ];
    if symbols.iter().any(|s| OBJECT.contains(&s.as_str())) {
        return "this looks like an object file or a shared-memory build: link it into a module first (`wasm-ld --no-entry --export-dynamic`, or clang without `-c`)".to_string();
    }
    let libc: Vec<&str> = symbols
        .iter()
        .map(String::as_str)
        .filter(|s| LIBC.contains(s))
        .collect();
    if !libc.is_empty() {
        return format!(
            "{} {} from the C library, which was not linked in: build against wasi-libc (`clang --target=wasm32-wasip1 --sysroot=/usr/share/wasi-sysroot`) and let wcomp add the WASI adapter",
            libc.iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", "),
            if libc.len() == 1 { "comes" } else { "come" }
        );
    }
    "the linker left these undefined (`--allow-undefined` or `-Wl,--unresolved-symbols=import-dynamic` turns them into `env` imports): define them in the module, link the library that does, or declare them in the WIT world and import them through the generated bindings".to_string()
}

/// One function the world exports, and the core names it may have.
struct ExpectedExport<'a> {
    interface: Option<&'a WorldKey>,
    func: &'a Function,
    legacy: String,
    standard: String,
}

fn expected_exports(resolve: &Resolve, world: WorldId) -> Vec<ExpectedExport<'_>> {
    let mut expected = Vec::new();
    for (key, item) in &resolve.worlds[world].exports {
        let (interface, funcs): (Option<&WorldKey>, Vec<&Function>) = match item {
            WorldItem::Function(f) => (None, vec![f]),
            WorldItem::Interface { id, .. } => (
                Some(key),
                resolve.interfaces[*id].functions.values().collect(),
            ),
            WorldItem::Type { .. } => continue,
        };
        // Async functions use other names and ABIs: wit-component checks them.
        for func in funcs.into_iter().filter(|f| !f.kind.is_async()) {
            let name = |mangling| {
                let export = WasmExport::Func {
                    interface,
                    func,
                    kind: WasmExportKind::Normal,
                };
                resolve.wasm_export_name(mangling, export)
            };
            expected.push(ExpectedExport {
                interface,
                func,
                legacy: name(ManglingAndAbi::Legacy(LiftLowerAbi::Sync)),
                standard: name(ManglingAndAbi::Standard32),
            });
        }
    }
    expected
}

fn check_exports(
    path: &Path,
    shape: &CoreShape,
    resolve: &Resolve,
    world: WorldId,
    world_name: &str,
) -> Result<Vec<Need>, ComponentError> {
    let expected = expected_exports(resolve, world);
    let exported = |e: &ExpectedExport| {
        [&e.legacy, &e.standard].into_iter().find_map(|n| {
            shape
                .exports
                .get(n.as_str())
                .map(|t| (n.clone(), t.clone()))
        })
    };
    let missing: Vec<&ExpectedExport> = expected.iter().filter(|e| exported(e).is_none()).collect();
    if let Some(first) = missing.first() {
        return Err(ComponentError::MissingExport {
            path: path.to_path_buf(),
            help: missing_export_help(resolve, shape, &expected, &missing),
            function: function_display(resolve, first.interface, first.func),
            world: world_name.to_string(),
            export: first.legacy.clone(),
        });
    }
    let mut needs = Vec::new();
    for e in &expected {
        let Some((name, found)) = exported(e) else {
            continue;
        };
        let function = function_display(resolve, e.interface, e.func);
        let sig = resolve.wasm_signature(AbiVariant::GuestExport, e.func);
        let expected = FlatSig::of_wit(&sig.params, &sig.results);
        let Some(found) = found else {
            return Err(ComponentError::MissingExport {
                path: path.to_path_buf(),
                help: format!("`{name}` is exported, but it is not a function"),
                function,
                world: world_name.to_string(),
                export: name,
            });
        };
        let found = FlatSig::of_core(&found);
        if expected != found {
            return Err(ComponentError::WrongSignature {
                path: path.to_path_buf(),
                export: name,
                function,
                help: signature_help(&expected, &found),
                expected: expected.to_string(),
                found: found.to_string(),
            });
        }
        let params = contents(resolve, e.func.params.iter().map(|p| &p.ty));
        let results = contents(resolve, e.func.result.iter());
        needs.push(Need {
            function,
            memory: params.memory || results.memory || sig.retptr || sig.indirect_params,
            realloc: if params.memory || sig.indirect_params {
                Some("receive its parameters")
            } else {
                None
            },
        });
    }
    Ok(needs)
}

fn signature_help(expected: &FlatSig, found: &FlatSig) -> String {
    format!(
        "{}; the canonical ABI derives the core signature from the WIT types: rebuild the module against this WIT, or fix the function",
        first_difference(expected, found)
    )
}

/// What to add (with its core type), a rename when an export that no world
/// function uses has nearly the right name, and what else is missing.
fn missing_export_help(
    resolve: &Resolve,
    shape: &CoreShape,
    expected: &[ExpectedExport],
    missing: &[&ExpectedExport],
) -> String {
    let first = missing[0];
    let sig = resolve.wasm_signature(AbiVariant::GuestExport, first.func);
    let mut help = format!(
        "add an export `{}` of core type {}, or rebuild the module against this world",
        first.legacy,
        FlatSig::of_wit(&sig.params, &sig.results)
    );
    // Exports that are not a world function, nor the ABI's own names.
    let used = |n: &str| {
        expected.iter().any(|e| e.legacy == n || e.standard == n)
            || n.starts_with("cabi_")
            || n.starts_with("cm32p2_")
            || n.starts_with('_')
            || n.contains("#[dtor]")
    };
    let spare: Vec<&str> = shape
        .exports
        .iter()
        .filter(|(n, t)| t.is_some() && !used(n))
        .map(|(n, _)| n.as_str())
        .collect();
    let short = first.legacy.rsplit('#').next().unwrap_or(&first.legacy);
    let near = spare
        .iter()
        .find(|n| n.rsplit('#').next() == Some(short))
        .map(|n| n.to_string())
        .or_else(|| {
            wcomp_wit::similar_names(&first.legacy, spare.iter().copied())
                .into_iter()
                .next()
        });
    if let Some(n) = near {
        help.push_str(&format!(
            "; the module exports `{n}`, which no world function uses: is that it, misnamed?"
        ));
    }
    if missing.len() > 1 {
        let rest: Vec<String> = missing[1..]
            .iter()
            .take(6)
            .map(|e| format!("`{}`", e.legacy))
            .collect();
        let more = missing.len() - 1 - rest.len();
        help.push_str(&format!(
            "; also missing: {}{}",
            rest.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        ));
    }
    help
}

fn check_imports(
    path: &Path,
    shape: &CoreShape,
    resolve: &Resolve,
    world: WorldId,
    world_name: &str,
    adapted: &BTreeSet<String>,
) -> Result<Vec<Need>, ComponentError> {
    // Core import module name → (world key, functions by name).
    let mut modules: BTreeMap<String, (Option<&WorldKey>, BTreeMap<&str, &Function>)> =
        BTreeMap::new();
    let mut root: BTreeMap<&str, &Function> = BTreeMap::new();
    for (key, item) in &resolve.worlds[world].imports {
        match item {
            WorldItem::Function(f) => {
                root.insert(f.name.as_str(), f);
            }
            WorldItem::Interface { id, .. } => {
                let funcs: BTreeMap<&str, &Function> = resolve.interfaces[*id]
                    .functions
                    .iter()
                    .map(|(n, f)| (n.as_str(), f))
                    .collect();
                modules.insert(resolve.name_world_key(key), (Some(key), funcs.clone()));
                modules.insert(
                    format!("cm32p2|{}", resolve.name_canonicalized_world_key(key)),
                    (Some(key), funcs),
                );
            }
            WorldItem::Type { .. } => {}
        }
    }
    modules.insert("$root".to_string(), (None, root.clone()));
    modules.insert("cm32p2".to_string(), (None, root));

    let undeclared = |module: &str, name: &str, help: String| ComponentError::UndeclaredImport {
        path: path.to_path_buf(),
        module: module.to_string(),
        name: name.to_string(),
        world: world_name.to_string(),
        help,
    };
    let mut needs = Vec::new();
    for (module, name, ty) in &shape.imports {
        if adapted.contains(module) || module.starts_with('[') || module.starts_with("cm32p2|_ex_")
        {
            continue;
        }
        // Intrinsics (`[resource-drop]r`, `[context-get-0]`...) are wit-component's to check.
        if name.starts_with('[') {
            continue;
        }
        let Some((key, funcs)) = modules.get(module.as_str()) else {
            let mut known: Vec<&str> = modules
                .keys()
                .map(String::as_str)
                .filter(|m| !m.starts_with("cm32p2") && *m != "$root")
                .collect();
            known.sort();
            return Err(undeclared(
                module,
                name,
                undeclared_interface_help(module, &known),
            ));
        };
        let Some(func) = funcs.get(name.as_str()) else {
            let near = wcomp_wit::similar_names(name, funcs.keys().copied());
            let owner = if key.is_some() {
                format!("interface `{module}`")
            } else {
                "the world".to_string()
            };
            let help = match near.first() {
                Some(n) => format!("{owner} has no function `{name}`; did you mean `{n}`?"),
                None => format!(
                    "{owner} has no function `{name}`; it has: {}",
                    funcs
                        .keys()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            return Err(undeclared(module, name, help));
        };
        if func.kind.is_async() {
            continue;
        }
        let sig = resolve.wasm_signature(AbiVariant::GuestImport, func);
        let function = function_display(resolve, *key, func);
        if let Some(found) = ty {
            let expected = FlatSig::of_wit(&sig.params, &sig.results);
            let found = FlatSig::of_core(found);
            if expected != found {
                return Err(ComponentError::WrongImportSignature {
                    path: path.to_path_buf(),
                    module: module.clone(),
                    name: name.clone(),
                    function,
                    help: signature_help(&expected, &found),
                    expected: expected.to_string(),
                    found: found.to_string(),
                });
            }
        }
        let params = contents(resolve, func.params.iter().map(|p| &p.ty));
        let results = contents(resolve, func.result.iter());
        needs.push(Need {
            function,
            memory: params.memory || results.memory || sig.retptr || sig.indirect_params,
            realloc: results.memory.then_some("return its results"),
        });
    }
    Ok(needs)
}

/// A same-named interface of another version or package, else one spelled
/// nearly the same; otherwise how to declare it.
fn undeclared_interface_help(module: &str, known: &[&str]) -> String {
    if module == WASI_P1 {
        return "this is a WASI preview 1 import; do not pass `--adapt` for another name"
            .to_string();
    }
    // `ns:pkg/iface@1.2.3` → `iface`.
    let short = |m: &str| -> String {
        let m = m.split('@').next().unwrap_or(m);
        m.rsplit('/').next().unwrap_or(m).to_string()
    };
    let wanted = short(module);
    let same = known.iter().find(|k| short(k) == wanted);
    let shorts: Vec<String> = known.iter().map(|k| short(k)).collect();
    let near = same.map(|k| k.to_string()).or_else(|| {
        let close = wcomp_wit::similar_names(&wanted, shorts.iter().map(String::as_str));
        close
            .first()
            .and_then(|c| known.iter().find(|k| short(k) == *c))
            .map(|k| k.to_string())
    });
    let declare = format!("add `import {module};` to the world, or remove the import");
    match near {
        Some(k) => format!("the world imports `{k}`: is that the one meant? Otherwise {declare}"),
        None => declare[..1].to_uppercase() + &declare[1..],
    }
}

/// Whether values of some types live in linear memory (strings and lists).
#[derive(Default)]
struct Contents {
    memory: bool,
}

fn contents<'a>(resolve: &Resolve, types: impl Iterator<Item = &'a Type>) -> Contents {
    let mut c = Contents::default();
    for ty in types {
        c.memory |= in_memory(resolve, ty, 0);
    }
    c
}

fn in_memory(resolve: &Resolve, ty: &Type, depth: usize) -> bool {
    // WIT nesting is bounded by wit-parser; the depth guard is belt and braces.
    if depth > 100 {
        return false;
    }
    let id = match ty {
        Type::String => return true,
        Type::Id(id) => *id,
        _ => return false,
    };
    let sub = |t: &Type| in_memory(resolve, t, depth + 1);
    match &resolve.types[id].kind {
        TypeDefKind::List(_) | TypeDefKind::FixedLengthList(..) | TypeDefKind::Map(..) => true,
        TypeDefKind::Type(t) | TypeDefKind::Option(t) => sub(t),
        TypeDefKind::Record(r) => r.fields.iter().any(|f| sub(&f.ty)),
        TypeDefKind::Tuple(t) => t.types.iter().any(sub),
        TypeDefKind::Variant(v) => v.cases.iter().filter_map(|c| c.ty.as_ref()).any(sub),
        TypeDefKind::Result(r) => r.ok.iter().chain(r.err.iter()).any(sub),
        _ => false,
    }
}

fn wasm_type(t: &WasmType) -> &'static str {
    match t {
        WasmType::I32 | WasmType::Pointer | WasmType::Length => "i32",
        WasmType::I64 | WasmType::PointerOrI64 => "i64",
        WasmType::F32 => "f32",
        WasmType::F64 => "f64",
    }
}

fn val_type(t: &ValType) -> String {
    match t {
        ValType::I32 => "i32".into(),
        ValType::I64 => "i64".into(),
        ValType::F32 => "f32".into(),
        ValType::F64 => "f64".into(),
        ValType::V128 => "v128".into(),
        ValType::Ref(r) => format!("{r}"),
    }
}

/// Core parameter and result types, spelled as in WAT.
pub(crate) struct FlatSig(Vec<String>, Vec<String>);

impl FlatSig {
    pub fn of_wit(params: &[WasmType], results: &[WasmType]) -> FlatSig {
        let spell = |ts: &[WasmType]| ts.iter().map(|t| wasm_type(t).to_string()).collect();
        FlatSig(spell(params), spell(results))
    }

    pub fn of_core(ft: &FuncType) -> FlatSig {
        FlatSig(
            ft.params().iter().map(val_type).collect(),
            ft.results().iter().map(val_type).collect(),
        )
    }
}

/// `(i32, i32) -> (i32)`, the way WAT writes a function type.
impl std::fmt::Display for FlatSig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "({}) -> ({})", self.0.join(", "), self.1.join(", "))
    }
}

impl PartialEq for FlatSig {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0 && self.1 == other.1
    }
}

/// "`get: func(key: string) -> ...` of `wcomp:keystore/store@0.1.0`", or
/// "world function `run: func() -> u32`".
fn function_display(resolve: &Resolve, interface: Option<&WorldKey>, func: &Function) -> String {
    let sig = wcomp_wit::signature::function(resolve, func);
    match interface {
        Some(key) => format!("`{sig}` of `{}`", resolve.name_world_key(key)),
        None => format!("world function `{sig}`"),
    }
}

/// The world the module was built for. wit-component merges every
/// `component-type` section into a synthetic `root:root/root` world, so name
/// the worlds that were merged instead.
pub(crate) fn world_display(resolve: &Resolve, world: WorldId) -> String {
    let name = |id: WorldId| {
        let w = &resolve.worlds[id];
        match w.package.map(|p| &resolve.packages[p].name) {
            Some(p) => match &p.version {
                Some(v) => format!("{}:{}/{}@{v}", p.namespace, p.name, w.name),
                None => format!("{}:{}/{}", p.namespace, p.name, w.name),
            },
            None => w.name.clone(),
        }
    };
    let merged = name(world);
    if merged != "root:root/root" {
        return merged;
    }
    let root = resolve.worlds[world].package;
    let mut sources: Vec<String> = resolve
        .worlds
        .iter()
        .filter(|(_, w)| w.package.is_some() && w.package != root)
        .map(|(id, _)| name(id))
        .collect();
    sources.sort();
    sources.dedup();
    if sources.is_empty() {
        merged
    } else {
        sources.join(" + ")
    }
}

/// "parameter 2 is `i64` where ... needs `i32`": the first place two flat
/// signatures differ.
fn first_difference(expected: &FlatSig, found: &FlatSig) -> String {
    for (what, e, f) in [
        ("parameter", &expected.0, &found.0),
        ("result", &expected.1, &found.1),
    ] {
        for i in 0..e.len().max(f.len()) {
            match (e.get(i), f.get(i)) {
                (Some(a), Some(b)) if a == b => {}
                (Some(a), Some(b)) => {
                    return format!(
                        "{what} {} is `{b}` where the canonical ABI needs `{a}`",
                        i + 1
                    );
                }
                (Some(a), None) => {
                    return format!("{what} {} (`{a}`) is missing", i + 1);
                }
                (None, Some(b)) => {
                    return format!("{what} {} (`{b}`) is one too many", i + 1);
                }
                (None, None) => {}
            }
        }
    }
    "the signatures differ".to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(p: &[&str], r: &[&str]) -> FlatSig {
        let v = |s: &[&str]| s.iter().map(|t| t.to_string()).collect();
        FlatSig(v(p), v(r))
    }

    #[test]
    fn first_difference_names_the_position() {
        let want = sig(&["i32", "i32"], &["i32"]);
        assert_eq!(
            first_difference(&want, &sig(&["i32", "i64"], &["i32"])),
            "parameter 2 is `i64` where the canonical ABI needs `i32`"
        );
        assert_eq!(
            first_difference(&want, &sig(&["i32"], &["i32"])),
            "parameter 2 (`i32`) is missing"
        );
        assert_eq!(
            first_difference(&want, &sig(&["i32", "i32"], &["i32", "i32"])),
            "result 2 (`i32`) is one too many"
        );
        assert_eq!(want.to_string(), "(i32, i32) -> (i32)");
    }

    #[test]
    fn strings_and_lists_live_in_memory() {
        let mut resolve = Resolve::default();
        let pkg = resolve
            .push_str(
                "t.wit",
                "package a:b;
                 interface i {
                   record r { x: u32, names: list<string> }
                   variant v { a(u8), b(option<string>) }
                   f: func(a: u32, b: tuple<u8, bool>) -> option<u64>;
                   g: func(a: r) -> v;
                 }",
            )
            .unwrap();
        let iface = resolve.packages[pkg].interfaces["i"];
        let funcs = &resolve.interfaces[iface].functions;
        let f = &funcs["f"];
        let g = &funcs["g"];
        assert!(!contents(&resolve, f.params.iter().map(|p| &p.ty)).memory);
        assert!(!contents(&resolve, f.result.iter()).memory);
        assert!(contents(&resolve, g.params.iter().map(|p| &p.ty)).memory);
        assert!(contents(&resolve, g.result.iter()).memory);
    }
}
