//! What `build.rs` made of every world in the repository with `wcomp bind
//! --lang rust --host`: the bindings of all but a few compiled into
//! `wcomp_tests::host_bindings` (under `deny(warnings)`, or this crate would
//! not have built), and the few refused for the reason expected.

use wcomp_tests::host_bindings::{DISTINCT, REFUSED, WORLDS};

/// (WIT file, world, a word of the error) the host backend refuses:
/// async-era features.
const EXPECTED_REFUSALS: &[(&str, &str, &str)] = &[
    (
        "crates/wcomp-abi/src/tests/async.wit",
        "tasks",
        "uses `stream`",
    ),
    ("fixtures/wasi-0.3/world.wit", "command", "uses `stream`"),
    ("fixtures/wasi-0.3/world.wit", "service", "uses `stream`"),
    ("fixtures/wasi-0.3/world.wit", "middleware", "uses `stream`"),
    (
        "fixtures/bind-rust/stream-store/world.wit",
        "store",
        "uses `stream`",
    ),
    (
        "fixtures/bind-rust/stream-store/world.wit",
        "app",
        "uses `stream`",
    ),
];

/// A loader regression must not quietly empty the build.
const MIN_WORLDS: usize = 60;

#[test]
fn every_world_has_compiled_host_bindings() {
    assert!(
        WORLDS.len() >= MIN_WORLDS,
        "only {} worlds got host bindings; expected at least {MIN_WORLDS}",
        WORLDS.len()
    );
    assert!(DISTINCT > 0 && DISTINCT <= WORLDS.len());
    eprintln!(
        "{} worlds, {DISTINCT} distinct host bindings, {} refused",
        WORLDS.len(),
        REFUSED.len()
    );
}

#[test]
fn only_the_expected_worlds_are_refused() {
    for (file, world, error) in REFUSED {
        assert!(
            EXPECTED_REFUSALS
                .iter()
                .any(|(f, w, word)| f == file && w == world && error.contains(word)),
            "{file} world {world} was refused: {error}"
        );
    }
    assert_eq!(
        REFUSED.len(),
        EXPECTED_REFUSALS.len(),
        "EXPECTED_REFUSALS lists worlds that now bind: {REFUSED:?}"
    );
}
