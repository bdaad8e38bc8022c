//! Compose components into one: every import that some dependency exports
//! (same interface, semver-compatible version, matching types) is plugged,
//! transitively and with one shared instance per dependency; what nothing
//! satisfies stays an import of the result, and a policy decides whether
//! those capabilities are acceptable.
//!
//! - [`plan`]: which export satisfies which import, and why each candidate
//!   was or was not taken (for `--explain` and for errors);
//! - [`graph`]: the plan encoded with wasm-compose's graph API (the only
//!   module that knows the library, so moving to wac-graph stays local);
//! - [`light`]: wasm-compose given the inputs' types alone, the real
//!   components put back after;
//! - [`unify`]: one import per semver-compatible interface in the result;
//! - [`dedup`]: one copy of each core module that inputs share;
//! - [`policy`], [`provenance`], [`strip`]: what happens to the result;
//! - [`targets`]: whether a component fits a platform's world.

#![allow(clippy::result_large_err)]

pub mod composition;
pub mod config;
pub mod dedup;
pub mod error;
pub mod graph;
pub mod input;
pub mod light;
pub mod plan;
pub mod policy;
pub mod provenance;
pub mod strip;
pub mod targets;
pub mod typecheck;
pub mod unify;
pub mod version;

pub use composition::{ComposeOptions, Composition, PlugSpec, compose, explain, read_inputs};
pub use error::ComposeError;
