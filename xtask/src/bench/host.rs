//! `cargo xtask bench host`: what wcomp's host bindings (`wcomp bind --lang rust --host`) cost
//! an embedder, against wasmtime's `bindgen!` macro on the same world
//! (`fixtures/demo/host`, world `composed`: the demo's key-store app):
//!
//! - calls: calls per second of `handle("get k")` on the composed key store that
//!   `cargo xtask demo` builds (`target/demo/composed.wasm`), through our generated bindings,
//!   through `bindgen!` and through wasmtime's dynamic `Val` API, measured by the `host-calls`
//!   binary of the tests crate (in its dev profile, so that wasmtime is built once): a
//!   warm-up, then rounds of many calls in which the three take turns, every answer checked;
//!   the median round. Target: ours within 5% of `bindgen!`.
//! - build: `cargo build` (dev profile) of a small embedder crate (`target/bench/host-build/`:
//!   a library whose `send` instantiates the app and calls `handle`) whose `bindings.rs` is our
//!   generated file or one `bindgen!` call; both crates take wasmtime and wasmtime-wasi as the
//!   workspace does, with the workspace's `Cargo.lock` and target folder, so that wasmtime is
//!   built once (at worst in the untimed warm-up). Each timed build follows a touch of
//!   `lib.rs`, so that only that crate recompiles; runs alternate; the median. Target: ours
//!   below `bindgen!`'s.
//!
//! Without a wasm32 toolchain there is no key store to call: the calls are skipped (the builds
//! still run). Written to `target/bench/host.json`.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use super::Context;
use super::measure::{
    Tool, dur, io_err, json_num, json_object, json_str, measure, paired, run_quiet, stats,
    tool_json,
};
use super::wasm32::{touch, write_if_changed};
use crate::guests;

/// The world both bindings are generated for.
const WIT: &str = "fixtures/demo/host";
const WORLD: &str = "composed";
/// Timed calls per round; a call takes microseconds, so a round takes a fraction of a second.
const CALLS: usize = 50_000;
/// Builds take seconds each: at most this many timed ones per crate.
const BUILD_RUNS: usize = 5;
/// "Within 5%" of `bindgen!`'s calls per second.
const CALLS_TARGET: f64 = 0.95;

/// The embedder both crates build, a library (a binary's time would be mostly the link of
/// wasmtime's debug info, the same for both): the bindings differ, this does not.
const LIB: &str = r#"//! Written by `cargo xtask bench host`: an embedder of the composed key store.
mod bindings;

use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

struct Host {
    wasi: WasiCtx,
    table: ResourceTable,
}

impl WasiView for Host {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

/// Sends `commands` to the app in `path`: its answers.
pub fn send(path: &str, commands: &[&str]) -> wasmtime::Result<Vec<String>> {
    let engine = Engine::default();
    let component = Component::from_file(&engine, path)?;
    let mut linker = Linker::new(&engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
    let host = Host { wasi: WasiCtx::builder().build(), table: ResourceTable::new() };
    let mut store = Store::new(&engine, host);
    let app = bindings::Composed::instantiate(&mut store, &component, &linker)?;
    let handler = app.wcomp_keystore_handler();
    commands.iter().map(|c| handler.call_handle(&mut store, c)).collect()
}
"#;

/// `bindings.rs` of the `bindgen!` crate (its `wit/` is a copy of `WIT`).
const BINDGEN: &str = "wasmtime::component::bindgen!({ path: \"wit\", world: \"composed\" });\n";

/// What `host-calls` measured for one path.
struct Path3 {
    name: String,
    rate: f64,
    /// Its JSON line, as printed, for the report file.
    json: String,
}

struct Calls {
    component: PathBuf,
    rounds: usize,
    paths: Vec<Path3>,
}

impl Calls {
    fn rate(&self, name: &str) -> Option<f64> {
        self.paths.iter().find(|p| p.name == name).map(|p| p.rate)
    }

    /// Ours over `bindgen!`'s calls per second.
    fn ratio(&self) -> Option<f64> {
        Some(self.rate("wcomp")? / self.rate("bindgen!")?)
    }
}

pub fn run(ctx: &Context) -> Result<(), String> {
    let mut skipped: Vec<(String, String)> = Vec::new();
    let calls = match demo_artifact(ctx)? {
        Some(component) => Some(host_calls(ctx, &component)?),
        None => {
            let why = "no wasm32 toolchain: `cargo xtask demo` cannot build the key store \
                       (`cargo xtask toolchain --install` installs one)";
            eprintln!("==> skipping the calls: {why}");
            skipped.push(("the calls".into(), why.into()));
            None
        }
    };
    let runs = ctx.runs.min(BUILD_RUNS);
    let builds = time_builds(ctx, runs)?;
    print!("{}", report(calls.as_ref(), &builds, runs));
    if !skipped.is_empty() {
        println!("\nskipped:");
        for (what, why) in &skipped {
            println!("  {what}: {why}");
        }
    }
    write_json(ctx, calls.as_ref(), &builds, runs, &skipped)
}

/// `cargo xtask demo`, whose output is the composed key store; `None` without a wasm32
/// toolchain (its exit 3).
pub(super) fn demo_artifact(ctx: &Context) -> Result<Option<PathBuf>, String> {
    let log = ctx.dir.join("host-demo.log");
    eprintln!(
        "==> cargo xtask demo (builds target/demo/composed.wasm; output in {})",
        log.display()
    );
    let mut cargo = guests::cargo(&ctx.root);
    cargo.args(["run", "-q", "-p", "xtask", "--", "demo"]);
    let out = cargo
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    let text = [out.stdout, out.stderr].concat();
    fs::write(&log, &text).map_err(io_err("cannot write", &log))?;
    match out.status.code() {
        Some(0) => Ok(Some(
            guests::target_dir(&ctx.root).join("demo/composed.wasm"),
        )),
        Some(3) => Ok(None),
        _ => Err(format!(
            "`cargo xtask demo` failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&text)
        )),
    }
}

/// `host-calls` on the composed key store.
fn host_calls(ctx: &Context, component: &Path) -> Result<Calls, String> {
    let mut cargo = guests::cargo(&ctx.root);
    cargo.args([
        "run",
        "-q",
        "-p",
        "wcomp-tests",
        "--bin",
        "host-calls",
        "--",
    ]);
    cargo.arg(component);
    let (calls, rounds) = (CALLS.to_string(), ctx.runs.to_string());
    cargo.args(["--calls", &calls, "--runs", &rounds]);
    eprintln!(
        "==> cargo run -q -p wcomp-tests --bin host-calls -- {} --calls {calls} --runs {rounds}",
        component.display()
    );
    let out = cargo
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(format!("host-calls failed ({}):\n{stderr}", out.status));
    }
    let paths = parse_paths(&String::from_utf8_lossy(&out.stdout));
    if paths.len() != 3 {
        return Err("host-calls did not print its three paths".into());
    }
    Ok(Calls {
        component: component.to_path_buf(),
        rounds: ctx.runs,
        paths,
    })
}

/// The paths of host-calls' JSON: one object a line.
fn parse_paths(json: &str) -> Vec<Path3> {
    json.lines()
        .filter_map(|line| {
            let field = |key: &str| {
                let at = line.find(&format!("\"{key}\": "))? + key.len() + 4;
                let rest = &line[at..];
                let end = rest.find([',', '}']).unwrap_or(rest.len());
                Some(rest[..end].trim().trim_matches('"').to_string())
            };
            Some(Path3 {
                name: field("name")?,
                rate: field("calls_per_s_median")?.parse().ok()?,
                json: line.trim().trim_end_matches(',').to_string(),
            })
        })
        .collect()
}

/// The two embedder crates, built: `[ours, bindgen!]`.
fn time_builds(ctx: &Context, runs: usize) -> Result<[Tool; 2], String> {
    let base = ctx.dir.join("host-build");
    let ours = base.join("wcomp");
    write_crate(ctx, &ours, "host-build-wcomp")?;
    let fresh = base.join("wcomp-bindings.rs");
    let wit = ctx.root.join(WIT);
    let args = [
        "bind".as_ref(),
        wit.as_os_str(),
        "--world".as_ref(),
        WORLD.as_ref(),
        "--lang".as_ref(),
        "rust".as_ref(),
        "--host".as_ref(),
        "-o".as_ref(),
        fresh.as_os_str(),
    ];
    run_quiet(&ctx.wcomp, &args, None)?;
    let text = fs::read(&fresh).map_err(io_err("cannot read", &fresh))?;
    write_if_changed(&ours.join("src/bindings.rs"), &text)?;

    let theirs = base.join("bindgen");
    write_crate(ctx, &theirs, "host-build-bindgen")?;
    write_if_changed(&theirs.join("src/bindings.rs"), BINDGEN.as_bytes())?;
    copy_wit(&wit, &theirs.join("wit"))?;

    let target = guests::target_dir(&ctx.root);
    let mut tools = [
        build_tool("wcomp", &ours, &target, "host-build-wcomp"),
        build_tool("bindgen!", &theirs, &target, "host-build-bindgen"),
    ];
    for tool in &tools {
        eprintln!(
            "==> warm-up: {} (builds wasmtime if this target folder lacks it)",
            tool.command()
        );
        measure(tool)?;
    }
    for run in 1..=runs {
        for (tool, dir) in tools.iter_mut().zip([&ours, &theirs]) {
            touch(&dir.join("src/lib.rs"))?;
            let sample = measure(tool)?;
            let wall = sample.wall.as_secs_f64();
            eprintln!("==> run {run}/{runs} (build): {} {wall:.3}s", tool.name);
            tool.samples.push(sample);
        }
    }
    Ok(tools)
}

/// A library crate in `dir` named `name`: `lib.rs`, wasmtime as the workspace takes it, the
/// workspace's dev profile (so that wasmtime's build is the same one) and its `Cargo.lock` (so
/// that nothing is resolved anew).
fn write_crate(ctx: &Context, dir: &Path, name: &str) -> Result<(), String> {
    let src = dir.join("src");
    fs::create_dir_all(&src).map_err(io_err("cannot create", &src))?;
    let root_manifest = ctx.root.join("Cargo.toml");
    let workspace =
        fs::read_to_string(&root_manifest).map_err(io_err("cannot read", &root_manifest))?;
    let dependency = |dep: &str| {
        workspace
            .lines()
            .find(|l| l.starts_with(&format!("{dep} = ")))
            .ok_or_else(|| format!("{} names no `{dep}`", root_manifest.display()))
    };
    let manifest = format!(
        "# Written by `cargo xtask bench host`.\n[package]\nname = \"{name}\"\nversion = \
         \"0.1.0\"\nedition = \"2024\"\npublish = false\nautobins = false\n\n[dependencies]\n{}\n{}\n\n\
         [profile.dev.package.\"*\"]\nopt-level = 1\ndebug = false\n\n[workspace]\n",
        dependency("wasmtime")?,
        dependency("wasmtime-wasi")?,
    );
    write_if_changed(&dir.join("Cargo.toml"), manifest.as_bytes())?;
    write_if_changed(&src.join("lib.rs"), LIB.as_bytes())?;
    let lock = dir.join("Cargo.lock");
    if !lock.exists() {
        let from = ctx.root.join("Cargo.lock");
        fs::copy(&from, &lock).map_err(io_err("cannot copy", &from))?;
    }
    Ok(())
}

/// `from`'s `.wit` files and its `deps/` folder, into `to`.
fn copy_wit(from: &Path, to: &Path) -> Result<(), String> {
    for sub in ["", "deps"] {
        let (from, to) = (from.join(sub), to.join(sub));
        fs::create_dir_all(&to).map_err(io_err("cannot create", &to))?;
        let entries = fs::read_dir(&from).map_err(io_err("cannot read", &from))?;
        for path in entries.flatten().map(|e| e.path()) {
            if path.extension().is_some_and(|e| e == "wit") {
                let text = fs::read(&path).map_err(io_err("cannot read", &path))?;
                write_if_changed(&to.join(path.file_name().unwrap_or_default()), &text)?;
            }
        }
    }
    Ok(())
}

/// `cargo build` of the crate in `dir`, into the workspace's target folder.
fn build_tool(name: &'static str, dir: &Path, target: &Path, package: &str) -> Tool {
    let cargo = PathBuf::from(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    let manifest = dir.join("Cargo.toml");
    let args: Vec<OsString> = vec!["build".into(), "--manifest-path".into(), manifest.into()];
    let mut tool = Tool::new(name, cargo, args, &dir.join("build"));
    tool.env = vec![("CARGO_TARGET_DIR".into(), target.into())];
    let lib = format!("lib{}.rlib", package.replace('-', "_"));
    tool.output = target.join("debug").join(lib);
    tool
}

fn report(calls: Option<&Calls>, builds: &[Tool; 2], runs: usize) -> String {
    let mut out = String::from("\nhost: wcomp's host bindings against wasmtime's bindgen!\n");
    if let Some(c) = calls {
        let _ = writeln!(
            out,
            "\ncalls of handle(\"get k\") on {} per second, median of {} rounds of {CALLS} \
             (tests' dev profile; every answer checked)",
            c.component.display(),
            c.rounds
        );
        for p in &c.paths {
            let rate = crate::guests::grouped(p.rate.round() as u64);
            let _ = writeln!(out, "  {:<10}{rate:>12}", p.name);
        }
        if let Some(r) = c.ratio() {
            let met = if r >= CALLS_TARGET { "met" } else { "missed" };
            let _ = writeln!(
                out,
                "  wcomp / bindgen!: {r:.3}x  (target: within 5%: {met})"
            );
        }
    }
    let _ = writeln!(
        out,
        "\nbuild of the embedder crate (`cargo build`, dev profile; median of {runs}, each \
         after a touch of src/lib.rs, wasmtime built in the warm-up)"
    );
    for tool in builds {
        let s = stats(tool);
        let cpu = s.cpu.map_or(String::new(), |c| format!("  cpu {}", dur(c)));
        let _ = writeln!(
            out,
            "  {:<10}{:>10}  (min {}){cpu}",
            tool.name,
            dur(s.median),
            dur(s.min)
        );
    }
    let (wall, cpu) = paired(&builds[0], &builds[1]);
    if let Some(w) = wall {
        let met = if w < 1.0 { "met" } else { "missed" };
        let cpu = cpu.map_or(String::new(), |c| format!(", cpu {c:.3}x"));
        let _ = writeln!(
            out,
            "  wcomp / bindgen!: {w:.3}x wall{cpu}  (target: below: {met})"
        );
    }
    out
}

fn write_json(
    ctx: &Context,
    calls: Option<&Calls>,
    builds: &[Tool; 2],
    runs: usize,
    skipped: &[(String, String)],
) -> Result<(), String> {
    let calls = calls.map_or("null".into(), |c| {
        let paths: Vec<&str> = c.paths.iter().map(|p| p.json.as_str()).collect();
        format!(
            "{{\n    \"component\": {},\n    \"command\": \"get k\",\n    \"calls_per_round\": \
             {CALLS},\n    \"rounds\": {},\n    \"ratio_wcomp_over_bindgen\": {},\n    \
             \"paths\": [\n      {}\n    ]\n  }}",
            json_str(&c.component.display().to_string()),
            c.rounds,
            json_num(c.ratio()),
            paths.join(",\n      ")
        )
    });
    let rows: Vec<String> = builds
        .iter()
        .map(|t| format!("      {}", json_object(&tool_json(t, &stats(t)))))
        .collect();
    let (wall, cpu) = paired(&builds[0], &builds[1]);
    let builds = format!(
        "{{\n    \"runs\": {runs},\n    \"ratio_wcomp_over_bindgen_wall\": {},\n    \
         \"ratio_wcomp_over_bindgen_cpu\": {},\n    \"crates\": [\n{}\n    ]\n  }}",
        json_num(wall),
        json_num(cpu),
        rows.join(",\n")
    );
    let skipped: Vec<String> = skipped
        .iter()
        .map(|(what, why)| json_object(&[("what", json_str(what)), ("why", json_str(why))]))
        .collect();
    let text = format!(
        "{{\n  \"world\": \"{WIT} {WORLD}\",\n  \"calls\": {calls},\n  \"builds\": {builds},\n  \
         \"skipped\": [{}]\n}}\n",
        skipped.join(", ")
    );
    let json = ctx.dir.join("host.json");
    fs::write(&json, text).map_err(io_err("cannot write", &json))?;
    eprintln!("==> wrote {}", json.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_host_calls_prints() {
        let json = "{\"component\": \"c.wasm\", \"calls\": 5, \"runs\": 2, \"paths\": [\n  \
            {\"name\": \"wcomp\", \"calls_per_s_median\": 150.5, \"calls_per_s\": [150.5, 151.0]},\n  \
            {\"name\": \"bindgen!\", \"calls_per_s_median\": 140.0, \"calls_per_s\": [140.0]},\n  \
            {\"name\": \"Val\", \"calls_per_s_median\": 100.0, \"calls_per_s\": [100.0]}\n]}\n";
        let paths = parse_paths(json);
        let names: Vec<&str> = paths.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["wcomp", "bindgen!", "Val"]);
        assert!(
            paths[0].json.ends_with("[150.5, 151.0]}"),
            "{}",
            paths[0].json
        );
        let calls = Calls {
            component: PathBuf::from("c.wasm"),
            rounds: 2,
            paths,
        };
        assert_eq!(calls.ratio(), Some(150.5 / 140.0));
    }
}
