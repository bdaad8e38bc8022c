//! The errors composition returns, as miette diagnostics: each names the
//! components involved, what was expected and how to fix it.

use std::path::PathBuf;

use miette::Diagnostic;
use thiserror::Error;
use wcomp_component::ComponentError;

use crate::typecheck::Mismatch;

#[derive(Debug, Error, Diagnostic)]
pub enum ComposeError {
    /// Unreadable, not wasm, malformed: the input checks of `wcomp new`.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Input(#[from] ComponentError),

    #[error("`{}` is a core module, but composition takes components", path.display())]
    #[diagnostic(
        code(compose::core_module),
        help("wrap it first: `wcomp new {} -o COMPONENT.wasm` (add `--wit PATH` if it carries no world)", path.display())
    )]
    CoreModule { path: PathBuf },

    #[error("`{}` is a WIT package, not a component: it has types but no code", path.display())]
    #[diagnostic(
        code(compose::wit_package),
        help("compose components built from the package (`wcomp new`), not the package itself")
    )]
    WitPackage { path: PathBuf },

    #[error("the WIT of `{}` cannot be read: {message}", path.display())]
    #[diagnostic(code(compose::decode))]
    Decode { path: PathBuf, message: String },

    #[error("`{import}` of {importer} can be satisfied by {} components: {}", candidates.len(), candidates.join(", "))]
    #[diagnostic(code(compose::ambiguous))]
    Ambiguous {
        import: String,
        importer: String,
        candidates: Vec<String>,
        #[help]
        help: String,
    },

    #[error(
        "{exporter} exports `{export}`, but not what {importer} imports as `{import}`: {}\n  import: {}\n  export: {}",
        mismatch.difference,
        mismatch.import.as_deref().unwrap_or("(absent)"),
        mismatch.export.as_deref().unwrap_or("(absent)")
    )]
    #[diagnostic(
        code(compose::type_mismatch),
        help(
            "the two were built against different revisions of the interface: rebuild one of them against the other's WIT, or leave the import unplugged"
        )
    )]
    TypeMismatch {
        importer: String,
        import: String,
        exporter: String,
        export: String,
        mismatch: Box<Mismatch>,
    },

    #[error(
        "{exporter} exports `{export}`, which cannot satisfy `{import}` of {importer}: {reason}"
    )]
    #[diagnostic(code(compose::version))]
    IncompatibleVersion {
        importer: String,
        import: String,
        exporter: String,
        export: String,
        reason: String,
        #[help]
        help: Option<String>,
    },

    #[error("the components import each other in a cycle: {}", cycle.join(" → "))]
    #[diagnostic(
        code(compose::cycle),
        help(
            "an instance must exist before another can import from it; break the cycle by leaving one import unplugged (drop a `--with`, or `--plug` another provider)"
        )
    )]
    Cycle { cycle: Vec<String> },

    #[error("`--plug {spec}`: {message}")]
    #[diagnostic(code(compose::plug))]
    BadPlug {
        spec: String,
        message: String,
        #[help]
        help: Option<String>,
    },

    #[error("{component} satisfies no import (it exports {})", if exports.is_empty() { "nothing".to_string() } else { exports.join(", ") })]
    #[diagnostic(
        code(compose::unused),
        help(
            "drop it from `--with`, or check that the app imports what it exports (`wcomp compose --explain`)"
        )
    )]
    Unused {
        component: String,
        exports: Vec<String>,
    },

    #[error("the composition would import what the policy {}:\n{}", if *allow_list { "does not allow" } else { "denies" }, denied.join("\n"))]
    #[diagnostic(code(compose::policy))]
    Policy {
        /// `wasi:filesystem/types@0.2.0 (asked for by keystore.wasm; matches --deny wasi:filesystem/*)`.
        denied: Vec<String>,
        allow_list: bool,
        #[help]
        help: String,
    },

    #[error("bad pattern `{pattern}`: {message}")]
    #[diagnostic(
        code(compose::pattern),
        help(
            "a pattern is `namespace:package/interface` with `*` for any run of characters, e.g. `wasi:filesystem/*`, `wasi:*`, `wcomp:keystore/store`; a version is ignored"
        )
    )]
    BadPattern { pattern: String, message: String },

    #[error("no app to compose: give APP.wasm, or `--config FILE` (there is no `wcomp.toml` here)")]
    #[diagnostic(
        code(compose::no_app),
        help("`wcomp compose APP.wasm --with DEP.wasm -o OUT.wasm`")
    )]
    NoApp,

    #[error("cannot read `{}`: {message}", path.display())]
    #[diagnostic(code(compose::config))]
    Config {
        path: PathBuf,
        message: String,
        #[help]
        help: Option<String>,
    },

    #[error("wasm-compose rejected the composition: {message}")]
    #[diagnostic(
        code(compose::graph),
        help(
            "this is likely a wcomp bug (the plan passed its checks); please report it with the inputs"
        )
    )]
    Graph { message: String },

    /// The composition does not validate: a bug, not the inputs' fault.
    #[error(
        "internal error: the composed component does not validate: {message} (at byte offset {offset:#x})"
    )]
    #[diagnostic(
        code(wcomp::internal),
        help("this is a bug in wcomp or wasm-compose; please report it with the inputs")
    )]
    InvalidOutput { offset: u64, message: String },

    #[error("internal error: {0}")]
    #[diagnostic(
        code(wcomp::internal),
        help("this is a bug in wcomp; please report it with the inputs that caused it")
    )]
    Internal(String),
}

impl ComposeError {
    /// True when the inputs were fine and wcomp failed (exit code 2, not 1).
    pub fn is_internal(&self) -> bool {
        match self {
            ComposeError::Input(e) => e.is_internal(),
            ComposeError::Graph { .. }
            | ComposeError::InvalidOutput { .. }
            | ComposeError::Internal(_) => true,
            _ => false,
        }
    }
}
