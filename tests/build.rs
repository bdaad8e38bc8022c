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
use std::path::{Path, PathBuf};

use wcomp_bindgen::{Lang, generate, rust_host};

#[path = "src/wit_sources.rs"]
mod wit_sources;

#[path = "src/random_world.rs"]
mod random_world;

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
    for dir in ["wit", "fixtures", "crates"] {
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
    // The demo runner's world, its pollables wasmtime-wasi's (`with`): a
    // key store whose WASI adapter imports `wasi:io/poll` (the Go one) then
    // links against one `pollable` type.
    let demo = root.join("fixtures/demo/host/world.wit");
    let wit = wcomp_wit::load(&demo, &Default::default()).expect("the demo host world loads");
    let id = wit.world(Some("composed")).expect("world `composed`");
    let opts = rust_host::Opts {
        with: [(
            "wasi:io/poll/pollable".to_string(),
            "wasmtime_wasi::p2::DynPollable".to_string(),
        )]
        .into(),
    };
    let files = generate(&wit.resolve, id, &Lang::RustHost(opts)).expect("demo host bindings");
    let (_, text) = files.iter().next().expect("one file per world");
    fs::write(host.join("demo.rs"), text).unwrap();
    modules.push_str(
        "/// The composed key-store app of the demo (`run-script`), its pollables\n\
         /// wasmtime-wasi's.\npub mod demo {\n    include!(concat!(env!(\"OUT_DIR\"), \"/host/demo.rs\"));\n}\n",
    );
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
    random_worlds(&out_dir);
}

/// The typed host side of the random worlds (`tests/random_worlds.rs`):
/// for each batch of `WCOMP_RANDOM_SEEDS` (default `0..100`), the batch's
/// WIT, host bindings of each world in it, each world's checks
/// (`random_world::host_module`), and a batch module that instantiates the
/// batch's component with every world's imports and runs every world.
fn random_worlds(out_dir: &Path) {
    use random_world::{BATCH, World, batch_wit, host_module, seeds};

    println!("cargo:rerun-if-env-changed=WCOMP_RANDOM_SEEDS");
    println!("cargo:rerun-if-changed=src/random_world.rs");
    let spec = std::env::var("WCOMP_RANDOM_SEEDS").ok();
    let seeds = seeds(spec.as_deref()).unwrap_or_else(|e| panic!("{e}"));
    let dir = out_dir.join("random");
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    let mut index = String::new();
    let mut table = String::new();
    for (b, chunk) in seeds.chunks(BATCH).enumerate() {
        let worlds: Vec<World> = chunk.iter().map(|&s| World::generate(s)).collect();
        let path = dir.join(format!("batch{b}.wit"));
        fs::write(&path, batch_wit(&worlds)).unwrap();
        let wit = wcomp_wit::load(&path, &Default::default())
            .unwrap_or_else(|e| panic!("random batch {b} ({chunk:?}) does not load: {e:?}"));
        let mut fields = String::new();
        let mut linking = String::new();
        let mut runs = String::new();
        for w in &worlds {
            let s = w.seed;
            let name = format!("w-s{s}");
            let id = wit.resolve.packages[wit.package].worlds[&name];
            let files = generate(
                &wit.resolve,
                id,
                &Lang::RustHost(rust_host::Opts::default()),
            )
            .unwrap_or_else(|e| panic!("random world {s}: host bindings: {e}"));
            let (_, text) = files.iter().next().expect("one file per world");
            fs::write(dir.join(format!("s{s}.rs")), text).unwrap();
            index += &host_module(w);
            let _ = writeln!(fields, "        pub s{s}: super::s{s}::Imports,");
            let _ = writeln!(
                linking,
                "        super::s{s}::add_to_linker(linker, |d: &mut Data| &mut d.s{s})?;"
            );
            let _ = writeln!(
                runs,
                "        if let Err(e) = fresh().and_then(|(mut store, instance)| {{\n            \
                 super::s{s}::run(&mut store, &instance, |d: &mut Data| &mut d.s{s})\n        }}) {{\n            \
                 failed.push(({s}, e));\n        }}"
            );
        }
        let _ = writeln!(
            index,
            "/// Batch {b}: seeds {chunk:?} in one component.\npub mod batch{b} {{\n    \
             /// The store's data: each world's imports.\n    #[derive(Default)]\n    pub struct Data {{\n{fields}    }}\n\n    \
             /// Instantiates the batch's component with every world's typed imports and runs\n    \
             /// every world: `(seed, what failed)` for each world that failed.\n    \
             pub fn check_typed(\n        engine: &wasmtime::Engine,\n        component: &wasmtime::component::Component,\n    \
             ) -> Result<Vec<(u64, String)>, String> {{\n        \
             let mut linker = wasmtime::component::Linker::new(engine);\n        \
             let define = |linker: &mut wasmtime::component::Linker<Data>| -> wasmtime::Result<()> {{\n{linking}            Ok(())\n        }};\n        \
             define(&mut linker).map_err(|e| format!(\"{{e:?}}\"))?;\n        \
             // An instance per world: a trap poisons its instance.\n        \
             let fresh = || {{\n            let mut store = wasmtime::Store::new(engine, Data::default());\n            \
             let instance = linker.instantiate(&mut store, component).map_err(|e| format!(\"{{e:?}}\"))?;\n            \
             Ok::<_, String>((store, instance))\n        }};\n        \
             let mut failed = Vec::new();\n{runs}        Ok(failed)\n    }}\n}}"
        );
        let _ = writeln!(
            table,
            "    Batch {{ seeds: &{chunk:?}, check_typed: batch{b}::check_typed }},"
        );
    }
    index += &format!(
        "/// Every batch of random worlds, with its typed check.\n\
         pub const BATCHES: &[Batch] = &[\n{table}];\n"
    );
    fs::write(out_dir.join("random_worlds.rs"), index).unwrap();
}
