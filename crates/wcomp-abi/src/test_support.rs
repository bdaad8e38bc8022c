//! WIT for tests (this crate's and the backends'): the keystore WIT and
//! the abi tests' kitchen-sink world, resolved with the WASI packages of
//! `wit/deps` (which the keystore world imports) pushed first, as loading
//! the `wit` directory would.
//!
//! Test code: it panics on WIT that does not resolve.

use wit_parser::{Resolve, WorldId};

/// `wit/keystore.wit`.
pub const KEYSTORE: &str = include_str!("../../../wit/keystore.wit");

/// Every type kind and resource shape, in both directions (world `sink`).
pub const SINK: &str = include_str!("tests/sink.wit");

/// `wit/deps`, each package's dependencies first.
const WASI_DEPS: [(&str, &str); 8] = [
    ("io.wit", include_str!("../../../wit/deps/io.wit")),
    ("clocks.wit", include_str!("../../../wit/deps/clocks.wit")),
    (
        "clocks-0.3.wit",
        include_str!("../../../wit/deps/clocks-0.3.wit"),
    ),
    ("random.wit", include_str!("../../../wit/deps/random.wit")),
    (
        "filesystem.wit",
        include_str!("../../../wit/deps/filesystem.wit"),
    ),
    ("sockets.wit", include_str!("../../../wit/deps/sockets.wit")),
    ("cli.wit", include_str!("../../../wit/deps/cli.wit")),
    ("http.wit", include_str!("../../../wit/deps/http.wit")),
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
