//! Turn core wasm modules into components and look inside any wasm binary.
//!
//! - [`wrap`]: `wcomp new`/`wcomp embed`: find the module's WIT world (its
//!   `component-type` section or `--wit`), add WASI preview 1 adapters,
//!   encode with wit-component and validate the result; when wit-component
//!   refuses, check the module against the world to say why in WIT terms.
//! - [`inspect`]: what a file is, its world, capabilities, nested modules and
//!   instances, section sizes and custom sections.
//!
//! Every function here is a library call that a build script can make; the
//! `wcomp` CLI only parses flags, renders diagnostics and writes files.

// Errors are rare and carry the whole story (paths, names, signatures, help):
// their size does not matter on the cold path.
#![allow(clippy::result_large_err)]

pub mod adapter;
mod check;
pub mod error;
pub mod input;
pub mod inspect;
mod stand_in;
pub mod wrap;

pub use error::{ComponentError, WasmKind};
pub use input::WasmInput;
pub use stand_in::typed_only;
