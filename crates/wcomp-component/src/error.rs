//! The errors this crate returns, as miette diagnostics.
//!
//! Wasm has no lines to point at, so a location is a byte offset in the
//! message; every error names the file and, where the fix is knowable, says
//! how in a help line.

use std::path::{Path, PathBuf};

use miette::Diagnostic;
use thiserror::Error;
use wcomp_wit::WitError;

/// What a wasm binary is, from its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum WasmKind {
    /// A core module.
    Module,
    /// A component that is not just a WIT package.
    Component,
    /// A component that only encodes WIT types (`wcomp wit encode`).
    WitPackage,
}

impl std::fmt::Display for WasmKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            WasmKind::Module => "a core module",
            WasmKind::Component => "a component",
            WasmKind::WitPackage => "a WIT package",
        })
    }
}

/// Everything that can go wrong while wrapping, embedding or inspecting.
#[derive(Debug, Error, Diagnostic)]
pub enum ComponentError {
    /// A problem with the WIT given by `--wit` or embedded in the module.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Wit(#[from] WitError),

    #[error("`{}` does not exist", path.display())]
    #[diagnostic(code(wcomp::not_found))]
    NotFound { path: PathBuf },

    #[error("cannot read `{}`: {source}", path.display())]
    #[diagnostic(code(wcomp::io))]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("`{}` is not WebAssembly: {found}", path.display())]
    #[diagnostic(
        code(wasm::not_wasm),
        help(
            "a wasm binary starts with the bytes `\\0asm`; WAT text starting with `(module` or `(component` is read too"
        )
    )]
    NotWasm { path: PathBuf, found: String },

    #[error("`{}` is not valid WAT: {message}", path.display())]
    #[diagnostic(code(wasm::wat))]
    Wat { path: PathBuf, message: String },

    #[error("`{}` is not valid wasm: {message} (at byte offset {offset:#x})", path.display())]
    #[diagnostic(code(wasm::invalid))]
    Malformed {
        path: PathBuf,
        offset: u64,
        message: String,
        #[help]
        help: Option<String>,
    },

    #[error("`{}` is {found}, but {expected} is expected here", path.display())]
    #[diagnostic(code(wasm::wrong_kind))]
    WrongKind {
        path: PathBuf,
        expected: WasmKind,
        found: WasmKind,
        #[help]
        help: Option<String>,
    },

    #[error("`{}` carries no WIT world (no `component-type` custom section)", path.display())]
    #[diagnostic(
        code(component::no_world),
        help(
            "give the world it implements: `wcomp new MODULE --wit PATH [--world NAME]`, or embed it once with `wcomp embed MODULE --wit PATH -o OUT`"
        )
    )]
    NoWorld { path: PathBuf },

    #[error(
        "`{}` does not export `{export}`, which world `{world}` needs for {function}",
        path.display()
    )]
    #[diagnostic(code(component::missing_export))]
    MissingExport {
        path: PathBuf,
        /// The WIT function and where it is from.
        function: String,
        world: String,
        /// The core export name expected (legacy mangling).
        export: String,
        #[help]
        help: String,
    },

    #[error(
        "`{}` exports `{export}` with the wrong core signature for {function}\n  expected: {expected}\n     found: {found}",
        path.display()
    )]
    #[diagnostic(code(component::signature))]
    WrongSignature {
        path: PathBuf,
        export: String,
        function: String,
        expected: String,
        found: String,
        #[help]
        help: String,
    },

    #[error(
        "`{}` imports `{module}` `{name}` with the wrong core signature for {function}\n  expected: {expected}\n     found: {found}",
        path.display()
    )]
    #[diagnostic(code(component::signature))]
    WrongImportSignature {
        path: PathBuf,
        module: String,
        name: String,
        function: String,
        expected: String,
        found: String,
        #[help]
        help: String,
    },

    #[error("`{}` exports no `{realloc}`, but {function} needs one to {why}", path.display())]
    #[diagnostic(
        code(component::no_realloc),
        help(
            "export an allocator as `{realloc}: func(old-ptr: i32, old-size: i32, align: i32, new-size: i32) -> i32` (bindings generators emit one)"
        )
    )]
    NoRealloc {
        path: PathBuf,
        function: String,
        why: String,
        /// `cabi_realloc`, or `cm32p2_realloc` in the standard mangling.
        realloc: String,
    },

    #[error("`{}` exports no memory named `{memory}`, but {function} passes values through memory", path.display())]
    #[diagnostic(code(component::no_memory))]
    NoMemory {
        path: PathBuf,
        function: String,
        /// `memory`, or `cm32p2_memory` in the standard mangling.
        memory: String,
        #[help]
        help: String,
    },

    #[error("`{}` imports `{module}` `{name}`, which world `{world}` does not declare", path.display())]
    #[diagnostic(code(component::undeclared_import))]
    UndeclaredImport {
        path: PathBuf,
        module: String,
        name: String,
        world: String,
        #[help]
        help: String,
    },

    #[error(
        "`{}` imports {} unresolved symbol{} from `env`: {}",
        path.display(),
        symbols.len(),
        if symbols.len() == 1 { "" } else { "s" },
        list(symbols)
    )]
    #[diagnostic(code(component::env_imports))]
    EnvImports {
        path: PathBuf,
        symbols: Vec<String>,
        #[help]
        help: String,
    },

    #[error("`{}` uses WASI preview 1, and which adapter fits is ambiguous: {reason}", path.display())]
    #[diagnostic(
        code(component::ambiguous_adapter),
        help(
            "pick one: `--adapt wasi_snapshot_preview1=command` (runs `_start`) or `--adapt wasi_snapshot_preview1=reactor` (exports only)"
        )
    )]
    AmbiguousAdapter { path: PathBuf, reason: String },

    #[error("bad `--adapt {spec}`: {message}")]
    #[diagnostic(
        code(component::adapt),
        help(
            "write `--adapt NAME=PATH` (a core module that implements import module NAME), or `--adapt wasi_snapshot_preview1=command|reactor|proxy` for a bundled adapter"
        )
    )]
    BadAdapter { spec: String, message: String },

    #[error("cannot make a component of `{}`: {message}", path.display())]
    #[diagnostic(code(component::encode))]
    Encode {
        path: PathBuf,
        /// wit-component's message with its causes, outermost first.
        message: String,
        #[help]
        help: Option<String>,
    },

    #[error("internal error: {0}")]
    #[diagnostic(
        code(wcomp::internal),
        help("this is a bug in wcomp; please report it with the input that caused it")
    )]
    Internal(String),
}

impl ComponentError {
    /// True when the input was fine and wcomp failed (exit code 2, not 1).
    pub fn is_internal(&self) -> bool {
        match self {
            ComponentError::Wit(e) => e.is_internal(),
            ComponentError::Internal(_) => true,
            _ => false,
        }
    }

    /// An I/O error on `path`; a missing file gets its own message.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        if source.kind() == std::io::ErrorKind::NotFound {
            ComponentError::NotFound {
                path: path.to_path_buf(),
            }
        } else {
            ComponentError::Io {
                path: path.to_path_buf(),
                source,
            }
        }
    }
}

/// `a`, `b` and 3 more: long symbol lists stay one readable line.
fn list(items: &[String]) -> String {
    const SHOWN: usize = 8;
    let mut s = items
        .iter()
        .take(SHOWN)
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > SHOWN {
        s.push_str(&format!(" and {} more", items.len() - SHOWN));
    }
    s
}
