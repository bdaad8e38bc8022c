//! Bindings from WIT: one module per target language, each only spelling
//! the plans of [`abi`] (the `wcomp-abi` crate).
//!
//! [`abi`] works out, once and for every language, what the canonical ABI
//! asks of each function of a world (core signature and names, memory
//! layout, areas, `cabi_realloc`, post-return functions, the lift/lower
//! steps and the whole call sequence), and its driver walks a function's
//! steps for a backend that spells one step at a time. A backend decides
//! names, types and the shape of the output, never an ABI fact or the
//! order of a call.
//!
//! One entry point serves every backend: [`generate`] with a [`Lang`]
//! (which carries the backend's options) returns [`Files`], in memory;
//! errors are [`BindError`]s, whose [`is_internal`](BindError::is_internal)
//! tells a bug in wcomp from a property of the input. Backends:
//!
//! * [`rust`]: Rust guest bindings (`wcomp bind --lang rust`), one file per
//!   world.
//! * [`rust_host`]: Rust host bindings for wasmtime (`wcomp bind --lang
//!   rust --host`), one file per world.
//! * [`c`]: C guest bindings (`wcomp bind --lang c`): a header, a source
//!   file and the component type, per world.
//! * [`go`]: Go guest bindings (`wcomp bind --lang go`): a package per
//!   world.

pub use wcomp_abi as abi;

mod aliases;
pub mod c;
mod error;
mod files;
pub mod go;
mod paths;
pub mod rust;
pub mod rust_host;

pub use error::BindError;
pub use files::Files;

use wit_parser::{Resolve, WorldId};

/// A target language, with its backend's options.
#[derive(Debug, Clone)]
pub enum Lang {
    /// Rust guest bindings.
    Rust(rust::Opts),
    /// Rust host bindings for wasmtime.
    RustHost(rust_host::Opts),
    /// C guest bindings.
    C(c::Opts),
    /// Go guest bindings.
    Go(go::Opts),
}

impl Lang {
    /// The language's name, as messages say it (`Rust`).
    pub fn name(&self) -> &'static str {
        match self {
            Lang::Rust(_) => "Rust",
            Lang::RustHost(_) => "Rust host",
            Lang::C(_) => "C",
            Lang::Go(_) => "Go",
        }
    }
}

/// Generates the bindings of `world` in `lang`.
pub fn generate(resolve: &Resolve, world: WorldId, lang: &Lang) -> Result<Files, BindError> {
    match lang {
        Lang::Rust(opts) => opts.generate(resolve, world),
        Lang::RustHost(opts) => opts.generate(resolve, world),
        Lang::C(opts) => opts.generate(resolve, world),
        Lang::Go(opts) => opts.generate(resolve, world),
    }
}
