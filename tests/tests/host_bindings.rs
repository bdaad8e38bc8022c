//! What `build.rs` made of every world in the repository with `wcomp bind
//! --lang rust --host`: the bindings of all but a few compiled into
//! `wcomp_tests::host_bindings` (under `deny(warnings)`, or this crate would
//! not have built), and the few refused for the reason expected.

use wcomp_tests::host_bindings::{DISTINCT, REFUSED, WORLDS};

/// (WIT file, world, a word of the error) the host backend refuses: none
/// since futures and streams bind (as wasmtime's readers), the WASI 0.3
/// worlds included.
const EXPECTED_REFUSALS: &[(&str, &str, &str)] = &[];

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
