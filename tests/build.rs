//! Host bindings (`wcomp bind --lang rust --host`, through the library)
//! for every world in the repository: the shipped WIT, every loadable WIT
//! file under `fixtures/` and `crates/`, and the vendored WASI 0.2 worlds
//! (`fixtures/wasi`). They are written to `OUT_DIR` and compiled into this
//! crate (`src/host_bindings.rs`, under `deny(warnings)`), so a change that
//! breaks the host backend breaks this crate's build. Byte-identical
//! bindings are compiled once.
//!
//! A world the backend refuses is recorded (`REFUSED` in the generated
//! file) with the error, for `tests/host_bindings.rs` to check against its
//! list; an internal error fails the build.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::PathBuf;

use wcomp_bindgen::{Lang, generate, rust_host};

#[path = "src/wit_sources.rs"]
mod wit_sources;

use wit_sources::wit_sources;

/// A module name for world `world` of `rel`.
fn module_name(rel: &str, world: &str) -> String {
    let mut s = String::new();
    for c in format!("{rel}_{world}").chars() {
        if c.is_ascii_alphanumeric() {
            s.push(c.to_ascii_lowercase());
        } else if !s.ends_with('_') {
            s.push('_');
        }
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    s
}

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest.parent().unwrap();
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap());
    for dir in ["wit", "fixtures", "crates/wcomp-bindgen/src"] {
        println!("cargo:rerun-if-changed={}", root.join(dir).display());
    }

    // text -> the module that compiles it, so that identical bindings are compiled once
    let mut distinct: BTreeMap<String, String> = BTreeMap::new();
    let mut worlds = String::new();
    let mut refused = String::new();
    let mut modules = String::new();
    for source in wit_sources(root) {
        let Ok(wit) = wcomp_wit::load(&source, &Default::default()) else {
            continue;
        };
        let rel = source.strip_prefix(root).unwrap().display().to_string();
        let ids: Vec<_> = wit.resolve.packages[wit.package]
            .worlds
            .values()
            .copied()
            .collect();
        for id in ids {
            let world = wit.resolve.worlds[id].name.clone();
            let files = match generate(
                &wit.resolve,
                id,
                &Lang::RustHost(rust_host::Opts::default()),
            ) {
                Ok(files) => files,
                Err(e) if e.is_internal() => panic!("{rel} world {world}: {e}"),
                Err(e) => {
                    let _ = writeln!(refused, "    ({rel:?}, {world:?}, {:?}),", e.to_string());
                    continue;
                }
            };
            let (_, text) = files.iter().next().expect("one file per world");
            let module = module_name(&rel, &world);
            let _ = writeln!(worlds, "    ({rel:?}, {world:?}),");
            match distinct.get(text) {
                Some(first) => {
                    let _ = writeln!(
                        modules,
                        "/// World `{world}` of `{rel}` (the same bindings).\npub use self::{first} as {module};"
                    );
                }
                None => {
                    let _ = writeln!(
                        modules,
                        "/// World `{world}` of `{rel}`.\npub mod {module} {{\n    include!(concat!(env!(\"OUT_DIR\"), \"/host/{module}.rs\"));\n}}"
                    );
                    distinct.insert(text.to_string(), module);
                }
            }
        }
    }
    let host = out_dir.join("host");
    let _ = fs::remove_dir_all(&host);
    fs::create_dir_all(&host).unwrap();
    for (text, module) in &distinct {
        fs::write(host.join(format!("{module}.rs")), text).unwrap();
    }
    let index = format!(
        "/// Every (WIT source, world) whose host bindings are compiled here.\n\
         pub const WORLDS: &[(&str, &str)] = &[\n{worlds}];\n\
         /// Every (WIT source, world, error) the host backend refused.\n\
         pub const REFUSED: &[(&str, &str, &str)] = &[\n{refused}];\n\
         /// How many distinct binding files were compiled.\n\
         pub const DISTINCT: usize = {};\n{modules}",
        distinct.len()
    );
    fs::write(out_dir.join("host_bindings.rs"), index).unwrap();
}
