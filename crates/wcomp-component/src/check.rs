//! Explaining, in WIT terms, why wit-component refused a core module: the
//! export a world function needs (with its core name and type), a wrong core
//! signature, an import the world does not declare, memory or `cabi_realloc`
//! missing, unresolved `env` symbols.
//!
//! A check may explain a failure, never cause one: `wrap.rs` runs these only
//! after wit-component has refused the module (or built an invalid
//! component), and shows wit-component's own message when none of them finds
//! the cause. So they must know every name wit-component accepts, in both
//! manglings (the legacy one and the standard `cm32p2` one): the names come
//! from wit-parser (`wasm_import_name`, `wasm_export_name`, `wasm_signature`),
//! as wit-component's `validation.rs` takes them, never spelled here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use wasmparser::types::{EntityType, Types};
use wasmparser::{FuncType, ValType};
use wit_parser::abi::{AbiVariant, WasmType};
use wit_parser::{
    Function, LiftLowerAbi, ManglingAndAbi, Resolve, ResourceIntrinsic, TypeDefKind, TypeId,
    WasmExport, WasmExportKind, WasmImport, WorldId, WorldItem, WorldKey,
};

use wcomp_abi::{CoreNeeds, Direction, ReallocFor, WorldFunction, world_functions};

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

/// The `env` functions LLVM emits for threads, which wit-component defines
/// itself (with `context.get`/`context.set` or a global), in i32 or i64.
const ENV_GETTERS: &[&str] = &["__wasm_get_stack_pointer", "__wasm_get_tls_base"];
const ENV_SETTERS: &[&str] = &["__wasm_set_stack_pointer", "__wasm_set_tls_base"];

use LiftLowerAbi::{AsyncCallback, AsyncStackful, Sync};
use ManglingAndAbi::{Legacy, Standard32};

/// Every name mangling and ABI a function may be exported under. The
/// standard mangling has no async ABI (yet): an async function exported
/// under it is lifted synchronously.
const EXPORT_ABIS: [ManglingAndAbi; 4] = [
    Legacy(Sync),
    Standard32,
    Legacy(AsyncCallback),
    Legacy(AsyncStackful),
];
/// The same for imports; both async ABIs lower with `[async-lower]`.
const IMPORT_ABIS: [ManglingAndAbi; 3] = [Legacy(Sync), Standard32, Legacy(AsyncCallback)];

/// What a core module imports and exports, with function signatures.
pub(crate) struct CoreShape {
    pub imports: Vec<(String, String, Option<FuncType>)>,
    pub exports: BTreeMap<String, Option<FuncType>>,
    /// It imports its memory as `env.memory`, which wit-component defines.
    pub imports_memory: bool,
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
        let mut imports_memory = false;
        let imports = types
            .core_imports()
            .into_iter()
            .flatten()
            .map(|(m, n, e)| {
                imports_memory |= m == "env" && n == "memory" && matches!(e, EntityType::Memory(_));
                (m.to_string(), n.to_string(), func(e))
            })
            .collect();
        let exports = types
            .core_exports()
            .into_iter()
            .flatten()
            .map(|(n, e)| (n.to_string(), func(e)))
            .collect();
        CoreShape {
            imports,
            exports,
            imports_memory,
        }
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

/// The names a module was built with. wit-component reads both manglings,
/// even mixed; a message names what is missing in the module's own.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mangling {
    Legacy,
    /// `cm32p2|ns:pkg/i@0.2` imports, `cm32p2||f` exports, `cm32p2_memory`.
    Standard,
}

impl Mangling {
    fn of(shape: &CoreShape) -> Mangling {
        let standard = |n: &str| n.starts_with("cm32p2");
        if shape.exports.keys().any(|n| standard(n))
            || shape.imports.iter().any(|(m, _, _)| standard(m))
        {
            Mangling::Standard
        } else {
            Mangling::Legacy
        }
    }

    fn abi(self) -> ManglingAndAbi {
        match self {
            Mangling::Legacy => Legacy(Sync),
            Mangling::Standard => Standard32,
        }
    }
}

/// What the checks share: where the module is from and the world it claims.
struct Cx<'a> {
    path: &'a Path,
    resolve: &'a Resolve,
    world: WorldId,
    world_name: String,
    mangling: Mangling,
}

/// Why wit-component refused `shape` as an implementation of `world`, in WIT
/// terms, if one of the checks finds it; `None` if none does.
/// `adapted` are import modules an adapter provides.
pub(crate) fn explain(
    path: &Path,
    shape: &CoreShape,
    resolve: &Resolve,
    world: WorldId,
    adapted: &BTreeSet<String>,
) -> Option<ComponentError> {
    let cx = Cx {
        path,
        resolve,
        world,
        world_name: world_display(resolve, world),
        mangling: Mangling::of(shape),
    };
    check(&cx, shape, adapted).err()
}

fn check(cx: &Cx, shape: &CoreShape, adapted: &BTreeSet<String>) -> Result<(), ComponentError> {
    if !adapted.contains("env") {
        check_env(cx.path, shape)?;
    }
    let needs = check_exports(cx, shape)?;
    let needs_imports = check_imports(cx, shape, adapted)?;
    let has_memory = shape.imports_memory
        || MEMORIES
            .iter()
            .any(|m| matches!(shape.exports.get(*m), Some(None)));
    let has_realloc = REALLOCS.iter().any(|r| shape.exports_func(r));
    let name = |export| cx.resolve.wasm_export_name(cx.mangling.abi(), export);
    for need in needs.into_iter().chain(needs_imports) {
        if need.memory && !has_memory {
            let memory = name(WasmExport::Memory);
            return Err(ComponentError::NoMemory {
                path: cx.path.to_path_buf(),
                function: need.function,
                help: match cx.mangling {
                    Mangling::Legacy => format!(
                        "export the module's linear memory as `{memory}` (wasm-ld does this by default; in WAT: `(memory (export \"{memory}\") 1)`)"
                    ),
                    Mangling::Standard => format!(
                        "export the module's linear memory as `{memory}`, the name the `cm32p2` mangling gives it (in WAT: `(memory (export \"{memory}\") 1)`)"
                    ),
                },
                memory,
            });
        }
        if let Some(why) = need.realloc
            && !has_realloc
        {
            return Err(ComponentError::NoRealloc {
                path: cx.path.to_path_buf(),
                function: need.function,
                why: why.to_string(),
                realloc: name(WasmExport::Realloc),
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

impl Need {
    /// From the abi crate's rule for the function in `abi` (sync or
    /// async), the one the bindings' plans follow too.
    fn of(resolve: &Resolve, func: &Function, abi: AbiVariant, function: String) -> Need {
        let needs = CoreNeeds::of(resolve, func, abi);
        Need {
            function,
            memory: needs.memory,
            realloc: needs.realloc.map(|what| match what {
                ReallocFor::Params => "receive its parameters",
                ReallocFor::Results => "return its results",
            }),
        }
    }
}

/// `env` imports are symbols the linker left undefined, except those that
/// wit-component defines itself: the memory and the stack-pointer and TLS
/// accessors (`() -> (i32)` or `(i64)`, and the setters the other way).
fn check_env(path: &Path, shape: &CoreShape) -> Result<(), ComponentError> {
    let provided = |name: &str, ty: &Option<FuncType>| {
        let Some(ty) = ty else {
            return name == "memory" && shape.imports_memory;
        };
        let pointer = |ts: &[ValType]| matches!(ts, [ValType::I32] | [ValType::I64]);
        (ENV_GETTERS.contains(&name) && ty.params().is_empty() && pointer(ty.results()))
            || (ENV_SETTERS.contains(&name) && pointer(ty.params()) && ty.results().is_empty())
    };
    let symbols: Vec<String> = shape
        .imports
        .iter()
        .filter(|(m, n, ty)| m == "env" && !provided(n, ty))
        .map(|(_, n, _)| n.clone())
        .collect();
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
    if let Some(s) = symbols
        .iter()
        .find(|s| ENV_GETTERS.contains(&s.as_str()) || ENV_SETTERS.contains(&s.as_str()))
    {
        let ty = if ENV_GETTERS.contains(&s.as_str()) {
            "() -> (i32)` or `() -> (i64)"
        } else {
            "(i32) -> ()` or `(i64) -> ()"
        };
        return format!(
            "wit-component defines `{s}` itself, but only with core type `{ty}`: import it with that type"
        );
    }
    if symbols.iter().any(|s| s == "memory") {
        return "wit-component defines `env.memory` itself, but only as a memory: import the module's memory as `(import \"env\" \"memory\" (memory 1))`, or export it instead".to_string();
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

/// One function the world exports.
struct ExpectedExport<'a> {
    interface: Option<&'a WorldKey>,
    func: &'a Function,
}

impl ExpectedExport<'_> {
    fn name(&self, resolve: &Resolve, abi: ManglingAndAbi, kind: WasmExportKind) -> String {
        let export = WasmExport::Func {
            interface: self.interface,
            func: self.func,
            kind,
        };
        resolve.wasm_export_name(abi, export)
    }

    /// The module's export for this function, its type (`None`: not a
    /// function) and the mangling and ABI its name says.
    fn found<'s>(
        &self,
        resolve: &Resolve,
        shape: &'s CoreShape,
    ) -> Option<(String, Option<&'s FuncType>, ManglingAndAbi)> {
        EXPORT_ABIS.into_iter().find_map(|abi| {
            let name = self.name(resolve, abi, WasmExportKind::Normal);
            let ty = shape.exports.get(&name)?;
            Some((name, ty.as_ref(), abi))
        })
    }
}

fn expected_exports(resolve: &Resolve, world: WorldId) -> Vec<ExpectedExport<'_>> {
    world_functions(resolve, world)
        .into_iter()
        .filter(|f| f.direction == Direction::Export)
        .map(|f| ExpectedExport {
            interface: f.interface,
            func: f.function,
        })
        .collect()
}

fn check_exports(cx: &Cx, shape: &CoreShape) -> Result<Vec<Need>, ComponentError> {
    let resolve = cx.resolve;
    let expected = expected_exports(resolve, cx.world);
    let missing: Vec<&ExpectedExport> = expected
        .iter()
        .filter(|e| e.found(resolve, shape).is_none())
        .collect();
    if let Some(first) = missing.first() {
        return Err(ComponentError::MissingExport {
            path: cx.path.to_path_buf(),
            help: missing_export_help(cx, shape, &expected, &missing),
            function: function_display(resolve, first.interface, first.func),
            world: cx.world_name.clone(),
            export: first.name(resolve, cx.mangling.abi(), WasmExportKind::Normal),
        });
    }
    let mut needs = Vec::new();
    for e in &expected {
        let Some((name, found, abi)) = e.found(resolve, shape) else {
            continue;
        };
        let function = function_display(resolve, e.interface, e.func);
        let Some(found) = found else {
            return Err(ComponentError::MissingExport {
                path: cx.path.to_path_buf(),
                help: format!("`{name}` is exported, but it is not a function"),
                function,
                world: cx.world_name.clone(),
                export: name,
            });
        };
        let sig = resolve.wasm_signature(abi.export_variant(), e.func);
        let expected = FlatSig::of_wit(&sig.params, &sig.results);
        let found = FlatSig::of_core(found);
        if expected != found {
            return Err(ComponentError::WrongSignature {
                path: cx.path.to_path_buf(),
                export: name,
                function,
                help: signature_help(&expected, &found),
                expected: expected.to_string(),
                found: found.to_string(),
            });
        }
        if abi == Legacy(AsyncCallback) {
            check_callback(cx, shape, e, &name, &function)?;
        }
        needs.push(Need::of(resolve, e.func, abi.export_variant(), function));
    }
    Ok(needs)
}

/// An export lifted with `[async-lift]` needs its callback,
/// `[callback][async-lift]...: (event, waitable, payload) -> code`.
fn check_callback(
    cx: &Cx,
    shape: &CoreShape,
    e: &ExpectedExport,
    lifted: &str,
    function: &str,
) -> Result<(), ComponentError> {
    let callback = e.name(cx.resolve, Legacy(AsyncCallback), WasmExportKind::Callback);
    let expected = FlatSig::of_wit(&[WasmType::I32; 3], &[WasmType::I32]);
    match shape.exports.get(&callback) {
        Some(Some(found)) if FlatSig::of_core(found) == expected => Ok(()),
        Some(Some(found)) => {
            let found = FlatSig::of_core(found);
            Err(ComponentError::WrongSignature {
                path: cx.path.to_path_buf(),
                help: format!(
                    "{}; a callback takes the event code, the waitable and the payload, and returns what the task does next",
                    first_difference(&expected, &found)
                ),
                export: callback,
                function: format!("the async callback of {function}"),
                expected: expected.to_string(),
                found: found.to_string(),
            })
        }
        _ => Err(ComponentError::MissingExport {
            path: cx.path.to_path_buf(),
            help: format!(
                "`{lifted}` is lifted with the async ABI with a callback: add an export `{callback}` of core type {expected}, or export it as `{}` to lift it without one",
                e.name(cx.resolve, Legacy(AsyncStackful), WasmExportKind::Normal)
            ),
            function: function.to_string(),
            world: cx.world_name.clone(),
            export: callback,
        }),
    }
}

fn signature_help(expected: &FlatSig, found: &FlatSig) -> String {
    format!(
        "{}; the canonical ABI derives the core signature from the WIT types: rebuild the module against this WIT, or fix the function",
        first_difference(expected, found)
    )
}

/// Exports that are the ABI's own (allocators, post-returns, destructors,
/// callbacks), never a misnamed world function.
fn abi_export(name: &str) -> bool {
    name.starts_with("cabi_")
        || name.starts_with("cm32p2_")
        || name.starts_with('_')
        || name.starts_with('[')
        || name.contains("#[dtor]")
        || (name.starts_with("cm32p2|") && (name.ends_with("_post") || name.ends_with("_dtor")))
}

/// What to add (with its core type), a rename when an export that no world
/// function uses has nearly the right name, and what else is missing; names
/// in the module's mangling.
fn missing_export_help(
    cx: &Cx,
    shape: &CoreShape,
    expected: &[ExpectedExport],
    missing: &[&ExpectedExport],
) -> String {
    let resolve = cx.resolve;
    let name = |e: &ExpectedExport| e.name(resolve, cx.mangling.abi(), WasmExportKind::Normal);
    let Some((first, rest)) = missing.split_first() else {
        return String::new();
    };
    let wanted = name(first);
    let sig = resolve.wasm_signature(AbiVariant::GuestExport, first.func);
    let mut help = format!(
        "add an export `{wanted}` of core type {}, or rebuild the module against this world",
        FlatSig::of_wit(&sig.params, &sig.results)
    );
    // Exports that are neither a world function nor the ABI's own names.
    let used = |n: &str| {
        abi_export(n)
            || expected.iter().any(|e| {
                EXPORT_ABIS
                    .into_iter()
                    .any(|abi| e.name(resolve, abi, WasmExportKind::Normal) == n)
            })
    };
    let spare: Vec<&str> = shape
        .exports
        .iter()
        .filter(|(n, t)| t.is_some() && !used(n))
        .map(|(n, _)| n.as_str())
        .collect();
    let last = |n: &str| n.rsplit(['#', '|']).next().map(str::to_string);
    let near = spare
        .iter()
        .find(|n| last(n).as_deref() == Some(first.func.name.as_str()))
        .map(|n| n.to_string())
        .or_else(|| {
            wcomp_wit::similar_names(&wanted, spare.iter().copied())
                .into_iter()
                .next()
        });
    if let Some(n) = near {
        help.push_str(&format!(
            "; the module exports `{n}`, which no world function uses: is that it, misnamed?"
        ));
    }
    if !rest.is_empty() {
        let shown: Vec<String> = rest
            .iter()
            .take(6)
            .map(|e| format!("`{}`", name(e)))
            .collect();
        let more = rest.len() - shown.len();
        help.push_str(&format!(
            "; also missing: {}{}",
            shown.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        ));
    }
    help
}

/// What a core import resolves to in the world.
enum Target<'a> {
    Func {
        interface: Option<&'a WorldKey>,
        func: &'a Function,
        abi: AbiVariant,
    },
    /// The destructor of an imported resource: wit-component checks its type.
    ResourceDrop,
}

/// The core imports the world's imports may be reached by, keyed by
/// (module, name) with the module's version on its compatibility track.
fn expected_imports(resolve: &Resolve, world: WorldId) -> BTreeMap<(String, String), Target<'_>> {
    let mut names = BTreeMap::new();
    let imports = world_functions(resolve, world)
        .into_iter()
        .filter(|f| f.direction == Direction::Import);
    for WorldFunction {
        interface,
        function: func,
        ..
    } in imports
    {
        for abi in IMPORT_ABIS {
            let (module, name) =
                resolve.wasm_import_name(abi, WasmImport::Func { interface, func });
            let target = Target::Func {
                interface,
                func,
                abi: abi.import_variant(),
            };
            names.insert((canonical_module(&module), name), target);
        }
    }
    for (key, item) in &resolve.worlds[world].imports {
        let (interface, resources): (_, Vec<TypeId>) = match item {
            WorldItem::Function(_) => continue,
            WorldItem::Interface { id, .. } => (
                Some(key),
                resolve.interfaces[*id].types.values().copied().collect(),
            ),
            WorldItem::Type { id, .. } => (None, vec![*id]),
        };
        let resources = resources
            .into_iter()
            .filter(|id| matches!(resolve.types[*id].kind, TypeDefKind::Resource));
        for resource in resources {
            for abi in [Legacy(Sync), Standard32] {
                let import = WasmImport::ResourceIntrinsic {
                    interface,
                    resource,
                    intrinsic: ResourceIntrinsic::ImportedDrop,
                };
                let (module, name) = resolve.wasm_import_name(abi, import);
                names.insert((canonical_module(&module), name), Target::ResourceDrop);
            }
        }
    }
    names
}

/// `ns:pkg/i@0.2.5` → `ns:pkg/i@0.2`: wit-component resolves a legacy import
/// module to the world's interface of any version on the same
/// compatibility track. Standard (`cm32p2`) names carry the track already.
fn canonical_module(module: &str) -> String {
    if module.starts_with("cm32p2") {
        return module.to_string();
    }
    let track = module.rsplit_once('@').and_then(|(base, version)| {
        let (track, _) = wasmparser::names::split_canonical_version(version)?;
        Some(format!("{base}@{track}"))
    });
    track.unwrap_or_else(|| module.to_string())
}

/// Import modules that are not the world's imports: `env` (its own check),
/// an adapter's view of the main module, and the intrinsics of exports
/// (`[export]...`, `cm32p2|_ex_...`), which wit-component checks.
fn not_world_imports(module: &str) -> bool {
    module == "env"
        || module == "__main_module__"
        || module.starts_with('[')
        || module.starts_with("cm32p2_ex_")
        || module.starts_with("cm32p2|_ex_")
}

fn check_imports(
    cx: &Cx,
    shape: &CoreShape,
    adapted: &BTreeSet<String>,
) -> Result<Vec<Need>, ComponentError> {
    let resolve = cx.resolve;
    let expected = expected_imports(resolve, cx.world);
    let mut needs = Vec::new();
    for (module, name, ty) in &shape.imports {
        if adapted.contains(module) || not_world_imports(module) {
            continue;
        }
        match expected.get(&(canonical_module(module), name.clone())) {
            Some(Target::Func {
                interface,
                func,
                abi,
            }) => {
                let function = function_display(resolve, *interface, func);
                if let Some(found) = ty {
                    let sig = resolve.wasm_signature(*abi, func);
                    let expected = FlatSig::of_wit(&sig.params, &sig.results);
                    let found = FlatSig::of_core(found);
                    if expected != found {
                        return Err(ComponentError::WrongImportSignature {
                            path: cx.path.to_path_buf(),
                            module: module.clone(),
                            name: name.clone(),
                            function,
                            help: signature_help(&expected, &found),
                            expected: expected.to_string(),
                            found: found.to_string(),
                        });
                    }
                }
                needs.push(Need::of(resolve, func, *abi, function));
            }
            Some(Target::ResourceDrop) => {}
            // The intrinsics (`[context-get-0]`, `[waitable-set-new]`,
            // `[future-new-0]f`...) are wit-component's to check.
            None if name.starts_with('[') => {}
            None => {
                return Err(ComponentError::UndeclaredImport {
                    path: cx.path.to_path_buf(),
                    module: module.clone(),
                    name: name.clone(),
                    world: cx.world_name.clone(),
                    help: undeclared_help(cx, &expected, module, name),
                });
            }
        }
    }
    Ok(needs)
}

/// The function the module meant, when the world imports its interface;
/// else the interface it meant.
fn undeclared_help(
    cx: &Cx,
    expected: &BTreeMap<(String, String), Target>,
    module: &str,
    name: &str,
) -> String {
    let canonical = canonical_module(module);
    let root = module == "$root" || module == "cm32p2";
    let funcs: Vec<&str> = expected
        .iter()
        .filter(|((m, n), t)| {
            *m == canonical && !n.starts_with('[') && matches!(t, Target::Func { .. })
        })
        .map(|((_, n), _)| n.as_str())
        .collect();
    if !root && funcs.is_empty() {
        let known: Vec<String> = cx.resolve.worlds[cx.world]
            .imports
            .iter()
            .filter(|(_, item)| matches!(item, WorldItem::Interface { .. }))
            .map(|(key, _)| cx.resolve.name_world_key(key))
            .collect();
        return undeclared_interface_help(module, &known);
    }
    let owner = if root {
        "the world".to_string()
    } else {
        format!("interface `{module}`")
    };
    match wcomp_wit::similar_names(name, funcs.iter().copied()).first() {
        Some(n) => format!("{owner} has no function `{name}`; did you mean `{n}`?"),
        None if funcs.is_empty() => format!("{owner} imports no functions"),
        None => format!(
            "{owner} has no function `{name}`; it has: {}",
            funcs
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// A same-named interface of another version or package, else one spelled
/// nearly the same; otherwise how to declare it.
fn undeclared_interface_help(module: &str, known: &[String]) -> String {
    if module == WASI_P1 {
        return "this is a WASI preview 1 import; do not pass `--adapt` for another name"
            .to_string();
    }
    // `ns:pkg/iface@1.2.3` → `iface`.
    let short = |m: &str| -> String {
        let m = m.split('@').next().unwrap_or(m);
        m.rsplit(['/', '|']).next().unwrap_or(m).to_string()
    };
    let wanted = short(module);
    let same = known.iter().find(|k| short(k) == wanted);
    let shorts: Vec<String> = known.iter().map(|k| short(k)).collect();
    let near = same.cloned().or_else(|| {
        let close = wcomp_wit::similar_names(&wanted, shorts.iter().map(String::as_str));
        close
            .first()
            .and_then(|c| known.iter().find(|k| short(k) == *c))
            .cloned()
    });
    let interface = module.strip_prefix("cm32p2|").unwrap_or(module);
    let declare = format!("add `import {interface};` to the world, or remove the import");
    match near {
        Some(k) => format!("the world imports `{k}`: is that the one meant? Otherwise {declare}"),
        None => declare[..1].to_uppercase() + &declare[1..],
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

    /// What the checks make of a module (WAT) implementing the one world of `wit`.
    fn explain_wat(wit: &str, wat: &str) -> Option<ComponentError> {
        let mut resolve = Resolve::default();
        let pkg = resolve.push_str("world.wit", wit).unwrap();
        let world = resolve.select_world(&[pkg], None).unwrap();
        let bytes = wat::parse_str(wat).unwrap();
        let types = wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
            .validate_all(&bytes)
            .unwrap();
        let shape = CoreShape::of(&types);
        explain(
            Path::new("module.wat"),
            &shape,
            &resolve,
            world,
            &BTreeSet::new(),
        )
    }

    macro_rules! case {
        ($name:literal) => {
            (
                $name,
                include_str!(concat!("../../../fixtures/new/", $name, "/world.wit")),
                include_str!(concat!("../../../fixtures/new/", $name, "/module.wat")),
            )
        };
    }

    /// Modules that wit-component wraps: no check may find fault with them,
    /// whatever else made wit-component fail.
    #[test]
    fn valid_modules_have_nothing_to_explain() {
        for (name, wit, wat) in [
            case!("imported-memory"),
            case!("stack-pointer-32"),
            case!("stack-pointer-64"),
            case!("cm32p2"),
            case!("async-builtins"),
            case!("resource"),
            case!("strings-lists"),
            case!("world-funcs"),
        ] {
            if let Some(e) = explain_wat(wit, wat) {
                panic!(
                    "{name}: {e}\n{:?}",
                    miette::Diagnostic::help(&e).map(|h| h.to_string())
                );
            }
        }
    }

    const MATH: &str = "package a:b@0.1.0;
        interface math { add: func(x: u32) -> u32; }
        interface jobs { run: async func(n: u32) -> u32; }
        world w { import math; export jobs; }";

    #[test]
    fn an_import_of_a_compatible_version_is_the_worlds() {
        let wat = r#"(module
          (import "a:b/math@0.1.7" "add" (func (param i32) (result i32)))
          (func (export "a:b/jobs@0.1.0#run") (param i32) (result i32) (local.get 0)))"#;
        assert!(explain_wat(MATH, wat).is_none());
        let wat = wat.replace("0.1.7", "0.2.0");
        let e = explain_wat(MATH, &wat).expect("another track is another interface");
        assert!(matches!(e, ComponentError::UndeclaredImport { .. }), "{e}");
    }

    #[test]
    fn imported_resources_are_dropped_under_either_mangling() {
        let wit = "package a:b@0.2.0;
            interface files { resource file; open: func() -> file; }
            world w { import files; }";
        let wat = r#"(module
          (import "a:b/files@0.2.0" "[resource-drop]file" (func (param i32)))
          (import "cm32p2|a:b/files@0.2" "file_drop" (func (param i32)))
          (import "cm32p2|a:b/files@0.2" "open" (func (result i32))))"#;
        assert!(explain_wat(wit, wat).is_none());
        let wat = wat.replace("file_drop", "file_free");
        let Some(ComponentError::UndeclaredImport { help, .. }) = explain_wat(wit, &wat) else {
            panic!("an unknown name passed");
        };
        assert!(help.contains("has no function `file_free`"), "{help}");
    }

    #[test]
    fn an_async_lift_needs_its_callback() {
        let wat = r#"(module
          (func (export "[async-lift]a:b/jobs@0.1.0#run") (param i32) (result i32) (local.get 0)))"#;
        let Some(ComponentError::MissingExport { export, help, .. }) = explain_wat(MATH, wat)
        else {
            panic!("no missing callback found");
        };
        assert_eq!(export, "[callback][async-lift]a:b/jobs@0.1.0#run");
        assert!(
            help.contains("[async-lift-stackful]a:b/jobs@0.1.0#run"),
            "{help}"
        );
    }

    #[test]
    fn a_missing_export_is_named_in_the_modules_mangling() {
        let (_, wit, wat) = case!("cm32p2-missing-export");
        let Some(ComponentError::MissingExport { export, .. }) = explain_wat(wit, wat) else {
            panic!("no missing export found");
        };
        assert_eq!(export, "cm32p2||run");
        let legacy = wat.replace(
            "cm32p2|wcomp:test/math@0.1|add",
            "wcomp:test/math@0.1.0#add",
        );
        let legacy = legacy.replace("cm32p2||runn", "runn");
        let Some(ComponentError::MissingExport { export, .. }) = explain_wat(wit, &legacy) else {
            panic!("no missing export found");
        };
        assert_eq!(export, "run");
    }

    #[test]
    fn env_accessors_of_the_wrong_type_are_unresolved() {
        let wit = "package a:b; world w {}";
        let wat =
            r#"(module (import "env" "__wasm_get_stack_pointer" (func (param i32) (result i32))))"#;
        let Some(ComponentError::EnvImports { symbols, help, .. }) = explain_wat(wit, wat) else {
            panic!("a mistyped accessor passed");
        };
        assert_eq!(symbols, ["__wasm_get_stack_pointer"]);
        assert!(help.contains("() -> (i32)"), "{help}");
        let wat = r#"(module (import "env" "memory" (memory i64 1)))"#;
        assert!(explain_wat(wit, wat).is_none());
    }

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
                   h: func(m: map<u32, u8>) -> u32;
                 }",
            )
            .unwrap();
        let iface = resolve.packages[pkg].interfaces["i"];
        let funcs = &resolve.interfaces[iface].functions;
        let need = |name: &str, abi| Need::of(&resolve, &funcs[name], abi, name.into());
        // `option<u64>` is two core results: a return area, in memory, but
        // nothing for the host to allocate.
        let f = need("f", AbiVariant::GuestExport);
        assert!(f.memory && f.realloc.is_none());
        // An import returning strings needs realloc; exporting it, the
        // parameters do.
        let g = need("g", AbiVariant::GuestImport);
        assert!(g.memory && g.realloc == Some("return its results"));
        let g = need("g", AbiVariant::GuestExport);
        assert!(g.memory && g.realloc == Some("receive its parameters"));
        // A map is a list in memory.
        let h = need("h", AbiVariant::GuestExport);
        assert!(h.memory && h.realloc.is_some());
        assert!(need("h", AbiVariant::GuestImport).realloc.is_none());
    }
}
