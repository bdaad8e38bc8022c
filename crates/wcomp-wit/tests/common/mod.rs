//! Helpers shared by the integration tests of this crate (and, by path, of `tests/`).

pub mod mutate;
