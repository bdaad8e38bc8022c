//! Random worlds (issue 12, item 5): seeded WIT worlds of nested records,
//! variants, enums, flags, options, results, lists, tuples, strings and
//! primitives (`wcomp_tests::random_world`), 100 by default. Each world's
//! Rust guest forwards every export to the same import; the host sends each
//! function's values through the export and checks what the import receives
//! and what the export answers, twice over:
//!
//! * through the world's generated host bindings (typed, compiled into this
//!   test by `build.rs`);
//! * through wasmtime's dynamic `Val` API.
//!
//! Worlds are batched: a batch's worlds are one WIT package whose world
//! `all` includes them, one guest crate, one component; every batch crate is
//! built by one cargo run. A failing seed is rerun alone with
//! `cargo xtask random-worlds SEED`, which sets `WCOMP_RANDOM_SEEDS` (also
//! `A..B` or a comma list) for this test. Skipped (with a note) where no
//! wasm32 route exists.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use wasmtime::Engine;
use wasmtime::component::{Component, Linker, Val};
use wcomp_tests::host::shared_engine;
use wcomp_tests::random_world::{
    DEFAULT_WORLDS, Def, PACKAGE, Ty, Value, World, batch_guest, batch_wit,
};
use wcomp_tests::{build_guest, target_dir, text, wcomp_bin};

/// `(seed, what failed)` for each world of a batch that failed; `Err` when
/// the batch could not be run at all.
type Failures = Result<Vec<(u64, String)>, String>;

/// A batch and its typed check, from `build.rs`.
struct Batch {
    seeds: &'static [u64],
    check_typed: fn(&Engine, &Component) -> Failures,
}

/// The generated typed side: modules `sN` (one per world) and `batchB`.
/// The checks use part of each world's bindings (not `instantiate`, not
/// every enum case), which are compiled warning-free in `host_bindings`.
#[allow(dead_code, clippy::all)]
mod typed {
    use super::Batch;
    include!(concat!(env!("OUT_DIR"), "/random_worlds.rs"));
}

/// A batch crate: a member of the `random-worlds` workspace, which sets
/// the profile.
const MANIFEST: &str = "[package]\nname = \"NAME\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
[lib]\ncrate-type = [\"cdylib\"]\n";

/// Writes `text` to `path` unless it is there already, so that an unchanged
/// guest is not rebuilt.
fn write_if_changed(path: &Path, text: &str) {
    if fs::read_to_string(path).ok().as_deref() != Some(text) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }
}

/// The command that reruns `seeds` alone.
fn repro(seeds: &[u64]) -> String {
    let contiguous = seeds.windows(2).all(|w| w[1] == w[0] + 1);
    let spec = match seeds {
        [one] => one.to_string(),
        [first, .., last] if contiguous => format!("{first}..{}", last + 1),
        _ => seeds
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(","),
    };
    format!("rerun alone with: cargo xtask random-worlds {spec}")
}

/// Binds the batch's guest crate (`wcomp bind --lang rust --world all`).
fn write_guest(dir: &Path, b: usize, worlds: &[World]) -> Result<(), String> {
    let wit = dir.join("wit/batch.wit");
    write_if_changed(&wit, &batch_wit(worlds));
    let out = Command::new(wcomp_bin())
        .args(["bind", "--lang", "rust", "--world", "all", "-o", "-"])
        .arg(&wit)
        .output()
        .unwrap();
    if !out.status.success() {
        return Err(format!(
            "wcomp bind failed on {}:\n{}",
            wit.display(),
            text(&out.stderr)
        ));
    }
    write_if_changed(&dir.join("src/bindings.rs"), &text(&out.stdout));
    write_if_changed(&dir.join("src/lib.rs"), &batch_guest(worlds));
    write_if_changed(
        &dir.join("Cargo.toml"),
        &MANIFEST.replace("NAME", &format!("random_batch{b}")),
    );
    Ok(())
}

fn wrap(core: &Path) -> Result<PathBuf, String> {
    let component = core.with_extension("component.wasm");
    let out = Command::new(wcomp_bin())
        .arg("new")
        .arg(core)
        .arg("-o")
        .arg(&component)
        .output()
        .unwrap();
    if !out.status.success() {
        return Err(format!("wcomp new failed:\n{}", text(&out.stderr)));
    }
    Ok(component)
}

/// `value` (of `ty`, in `world`) as a dynamic value.
fn to_val(world: &World, ty: &Ty, value: &Value) -> Val {
    let boxed = |t: &Ty, v: &Value| Box::new(to_val(world, t, v));
    match (ty, value) {
        (_, Value::Bool(b)) => Val::Bool(*b),
        (_, Value::U8(n)) => Val::U8(*n),
        (_, Value::S8(n)) => Val::S8(*n),
        (_, Value::U16(n)) => Val::U16(*n),
        (_, Value::S16(n)) => Val::S16(*n),
        (_, Value::U32(n)) => Val::U32(*n),
        (_, Value::S32(n)) => Val::S32(*n),
        (_, Value::U64(n)) => Val::U64(*n),
        (_, Value::S64(n)) => Val::S64(*n),
        (_, Value::F32(x)) => Val::Float32(*x),
        (_, Value::F64(x)) => Val::Float64(*x),
        (_, Value::Char(c)) => Val::Char(*c),
        (_, Value::String(s)) => Val::String(s.clone()),
        (Ty::List(t), Value::List(items)) => {
            Val::List(items.iter().map(|v| to_val(world, t, v)).collect())
        }
        (Ty::Option(t), Value::Option(v)) => Val::Option(v.as_ref().map(|v| boxed(t, v))),
        (Ty::Result(ok, err), Value::Result(v)) => {
            let side = |t: &Option<Box<Ty>>, v: &Option<Box<Value>>| match (t, v) {
                (Some(t), Some(v)) => Some(boxed(t, v)),
                _ => None,
            };
            Val::Result(match v {
                Ok(v) => Ok(side(ok, v)),
                Err(v) => Err(side(err, v)),
            })
        }
        (Ty::Tuple(ts), Value::Tuple(vs)) => Val::Tuple(
            ts.iter()
                .zip(vs)
                .map(|(t, v)| to_val(world, t, v))
                .collect(),
        ),
        (Ty::Named(i), v) => match (&world.defs[*i], v) {
            (Def::Record(fields), Value::Record(vs)) => Val::Record(
                fields
                    .iter()
                    .zip(vs)
                    .enumerate()
                    .map(|(j, (t, v))| (format!("f{j}"), to_val(world, t, v)))
                    .collect(),
            ),
            (Def::Variant(cases), Value::Variant(case, v)) => {
                let payload = match (&cases[*case], v) {
                    (Some(t), Some(v)) => Some(boxed(t, v)),
                    _ => None,
                };
                Val::Variant(format!("c{case}"), payload)
            }
            (Def::Enum(_), Value::Enum(case)) => Val::Enum(format!("e{case}")),
            (Def::Flags(_), Value::Flags(set)) => Val::Flags(
                set.iter()
                    .enumerate()
                    .filter(|(_, on)| **on)
                    .map(|(j, _)| format!("g{j}"))
                    .collect(),
            ),
            (def, v) => panic!("value {v:?} is not of {def:?}"),
        },
        (ty, v) => panic!("value {v:?} is not of {ty:?}"),
    }
}

/// What an echo answers for `args`: the argument, or a tuple of them.
fn echoed(args: &[Val]) -> Val {
    match args {
        [one] => one.clone(),
        many => Val::Tuple(many.to_vec()),
    }
}

/// The batch's component through `Val`s: the imports are `func_new`
/// closures that check each call's arguments and hand them back.
fn check_dynamic(engine: &Engine, component: &Component, worlds: &[World]) -> Failures {
    let err = |e: wasmtime::Error| format!("{e:?}");
    let mut linker: Linker<()> = Linker::new(engine);
    // (world, function) -> import calls so far
    let mut counters = Vec::new();
    for w in worlds {
        linker
            .instance(&format!("{PACKAGE}/types-s{}", w.seed))
            .map_err(err)?;
        let mut inst = linker
            .instance(&format!("{PACKAGE}/echo-s{}", w.seed))
            .map_err(err)?;
        let mut world_counters = Vec::new();
        for (i, f) in w.funcs.iter().enumerate() {
            let sent: Vec<Vec<Val>> = f
                .calls
                .iter()
                .map(|args| {
                    f.params
                        .iter()
                        .zip(args)
                        .map(|(t, v)| to_val(w, t, v))
                        .collect()
                })
                .collect();
            let count = Arc::new(AtomicUsize::new(0));
            world_counters.push(count.clone());
            inst.func_new(&format!("f{i}"), move |_, _, params, results| {
                let call = count.fetch_add(1, Ordering::SeqCst);
                if sent.get(call).map(Vec::as_slice) != Some(params) {
                    return Err(wasmtime::format_err!(
                        "import f{i}, call {call}: received {params:?}, sent {:?}",
                        sent.get(call)
                    ));
                }
                results[0] = echoed(params);
                Ok(())
            })
            .map_err(err)?;
        }
        counters.push(world_counters);
    }
    let mut failed = Vec::new();
    'worlds: for (w, world_counters) in worlds.iter().zip(&counters) {
        // An instance per world: a trap poisons its instance.
        let mut store = wasmtime::Store::new(engine, ());
        let instance = linker.instantiate(&mut store, component).map_err(err)?;
        let name = format!("{PACKAGE}/echo-s{}", w.seed);
        let Some(parent) = instance.get_export_index(&mut store, None, &name) else {
            failed.push((w.seed, format!("no export `{name}`")));
            continue;
        };
        for (i, f) in w.funcs.iter().enumerate() {
            let func = instance
                .get_export_index(&mut store, Some(&parent), &format!("f{i}"))
                .and_then(|index| instance.get_func(&mut store, index));
            let Some(func) = func else {
                failed.push((w.seed, format!("no export `{name}#f{i}`")));
                continue 'worlds;
            };
            for (call, args) in f.calls.iter().enumerate() {
                let args: Vec<Val> = f
                    .params
                    .iter()
                    .zip(args)
                    .map(|(t, v)| to_val(w, t, v))
                    .collect();
                let mut results = [Val::Bool(false)];
                let at = format!("export f{i}, call {call} (Val)");
                if let Err(e) = func.call(&mut store, &args, &mut results) {
                    failed.push((w.seed, format!("{at}: {}", e.root_cause())));
                    continue 'worlds;
                }
                if results[0] != echoed(&args) {
                    failed.push((
                        w.seed,
                        format!("{at}: answered {:?}, sent {args:?}", results[0]),
                    ));
                    continue 'worlds;
                }
                if world_counters[i].load(Ordering::SeqCst) != call + 1 {
                    failed.push((w.seed, format!("{at}: the import was not called once")));
                    continue 'worlds;
                }
            }
        }
    }
    Ok(failed)
}

#[test]
fn random_worlds_round_trip_through_typed_and_dynamic_hosts() {
    let batches = typed::BATCHES;
    let seeds: Vec<u64> = batches
        .iter()
        .flat_map(|b| b.seeds.iter().copied())
        .collect();
    if std::env::var_os("WCOMP_RANDOM_SEEDS").is_none() {
        assert!(
            seeds.len() as u64 >= DEFAULT_WORLDS,
            "only {} random worlds; CI runs at least {DEFAULT_WORLDS}",
            seeds.len()
        );
    }
    let dir = target_dir().join("random-worlds");
    let mut members = Vec::new();
    for (b, batch) in batches.iter().enumerate() {
        let worlds: Vec<World> = batch.seeds.iter().map(|&s| World::generate(s)).collect();
        if let Err(e) = write_guest(&dir.join(format!("batch{b}")), b, &worlds) {
            panic!("batch {b}: {e}\n{}", repro(batch.seeds));
        }
        members.push(format!("\"batch{b}\""));
    }
    write_if_changed(
        &dir.join("Cargo.toml"),
        &format!(
            "[workspace]\nresolver = \"3\"\nmembers = [{}]\n\n[profile.release]\npanic = \"abort\"\n",
            members.join(", ")
        ),
    );
    let printed = match build_guest(&dir.join("Cargo.toml")) {
        Ok(Some(printed)) => printed,
        Ok(None) => return,
        Err(e) => panic!(
            "the random-world guests did not build:\n{e}\n{}",
            repro(&seeds)
        ),
    };
    // `build-guest` prints one artifact's path; the others sit beside it.
    let release = printed.parent().unwrap();
    let engine = shared_engine();
    let mut failures = Vec::new();
    for (b, batch) in batches.iter().enumerate() {
        let worlds: Vec<World> = batch.seeds.iter().map(|&s| World::generate(s)).collect();
        let component = wrap(&release.join(format!("random_batch{b}.wasm")))
            .and_then(|path| Component::from_file(engine, &path).map_err(|e| format!("{e:?}")));
        let component = match component {
            Ok(c) => c,
            Err(e) => panic!("batch {b}: {e}\n{}", repro(batch.seeds)),
        };
        for (how, result) in [
            ("typed bindings", (batch.check_typed)(engine, &component)),
            ("Val", check_dynamic(engine, &component, &worlds)),
        ] {
            match result {
                Ok(failed) => failures.extend(
                    failed
                        .into_iter()
                        .map(|(seed, e)| format!("seed {seed} ({how}): {e}\n  {}", repro(&[seed]))),
                ),
                Err(e) => {
                    failures.push(format!("batch {b} ({how}): {e}\n  {}", repro(batch.seeds)))
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} random-world failures (WIT of each batch in {}):\n{}",
        failures.len(),
        dir.display(),
        failures.join("\n")
    );
    eprintln!(
        "{} random worlds round-tripped through typed bindings and Vals",
        seeds.len()
    );
}
