//! WIT for the unit tests: the keystore and text worlds, resolved with the
//! WASI packages of `wit/deps` (which the keystore world imports) pushed
//! first, as loading the `wit` directory would.

use wit_parser::{Resolve, WorldId};

pub const KEYSTORE: &str = include_str!("../../../wit/keystore.wit");

const WASI_DEPS: [(&str, &str); 2] = [
    ("io.wit", include_str!("../../../wit/deps/io.wit")),
    ("clocks.wit", include_str!("../../../wit/deps/clocks.wit")),
];

/// Resolves `text` (one package) and selects `world`.
pub fn load(text: &str, world: &str) -> (Resolve, WorldId) {
    let mut resolve = Resolve::default();
    for (name, wit) in WASI_DEPS {
        resolve.push_str(name, wit).expect("valid WASI WIT");
    }
    let pkg = resolve.push_str("test.wit", text).expect("valid WIT");
    let world = resolve.select_world(&[pkg], Some(world)).expect("world");
    (resolve, world)
}
