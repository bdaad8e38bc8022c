//! Bindings from WIT.
//!
//! The crate is split the way wit-bindgen is: [`abi`] (the `wcomp-abi`
//! crate) works out, once and for every language, what the canonical ABI
//! asks of each function of a world (core signature and names, memory
//! layout, return areas, `cabi_realloc`, post-return functions, and the
//! lift/lower steps for every parameter and result); a language backend
//! only spells that plan. [`rust`] is the first backend (`wcomp bind --lang
//! rust`).

pub use wcomp_abi as abi;

mod error;
pub mod rust;

pub use error::BindError;
