//! `host-calls COMPONENT [--calls N] [--runs N]`: calls per second of
//! `wcomp:keystore/handler@0.1.0#handle("get k")` on the composed key-store
//! app (`target/demo/composed.wasm`), for `cargo xtask bench host`, through
//! three host-side paths to the same export:
//!
//! - `wcomp`: our generated host bindings (`wcomp_tests::host_bindings::demo`);
//! - `bindgen!`: wasmtime's macro on the same world (`fixtures/demo/host`);
//! - `Val`: wasmtime's dynamic API (`Func::call` with `Val`s).
//!
//! Each path has its own instance, where `set k v` is sent first; then
//! `WARM_UP` calls, then `runs` rounds of `calls` timed calls, the paths
//! taking turns in each round so that drift (heat, neighbours) is spread
//! over all three. Every answer is checked (`v`). Prints JSON on stdout, one
//! path a line:
//!
//! ```text
//! {"component": "...", "calls": 20000, "runs": 5, "paths": [
//!   {"name": "wcomp", "calls_per_s_median": 123456.7, "calls_per_s": [..]}, ...]}
//! ```
//!
//! It runs in the tests' dev profile (wasmtime's crates at opt-level 1), as
//! `call-cost` does: absolute rates are below a release host's; the ratios
//! are what counts. Exit 0 on success, 1 when a call fails or answers
//! wrong, 2 on bad usage.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use wasmtime::component::{Component, Func, Linker, Val};
use wasmtime::{Engine, Store};
use wasmtime_wasi::WasiCtxBuilder;
use wcomp_tests::host::WasiHost;
use wcomp_tests::host_bindings::demo;

/// The same world through wasmtime's macro.
mod theirs {
    wasmtime::component::bindgen!({
        path: "../fixtures/demo/host",
        world: "composed",
    });
}

const INTERFACE: &str = "wcomp:keystore/handler@0.1.0";
const COMMAND: &str = "get k";
const ANSWER: &str = "v";
const DEFAULT_CALLS: usize = 20_000;
const DEFAULT_RUNS: usize = 5;
/// Untimed calls first: code paths, caches and the guest's allocator settle.
const WARM_UP: usize = 2_000;

/// One way of calling `handle`, with its own store and instance.
enum Path3 {
    Ours(Store<WasiHost>, demo::Composed),
    Theirs(Store<WasiHost>, theirs::Composed),
    Dynamic(Store<WasiHost>, Func),
}

impl Path3 {
    fn name(&self) -> &'static str {
        match self {
            Path3::Ours(..) => "wcomp",
            Path3::Theirs(..) => "bindgen!",
            Path3::Dynamic(..) => "Val",
        }
    }

    fn handle(&mut self, command: &str) -> Result<String, String> {
        let err = |e: wasmtime::Error| format!("`{command}` failed: {e:?}");
        match self {
            Path3::Ours(store, app) => app
                .wcomp_keystore_handler()
                .call_handle(store, command)
                .map_err(err),
            Path3::Theirs(store, app) => app
                .wcomp_keystore_handler()
                .call_handle(store, command)
                .map_err(err),
            Path3::Dynamic(store, func) => {
                let mut results = [Val::Bool(false)];
                func.call(&mut *store, &[Val::String(command.into())], &mut results)
                    .map_err(err)?;
                match &results[0] {
                    Val::String(s) => Ok(s.clone()),
                    other => Err(format!("`{command}` answered {other:?}, not a string")),
                }
            }
        }
    }

    /// `calls` calls of `get k`, each answer checked: calls per second.
    fn rate(&mut self, calls: usize) -> Result<f64, String> {
        let start = Instant::now();
        for _ in 0..calls {
            let answer = self.handle(COMMAND)?;
            if answer != ANSWER {
                return Err(format!(
                    "{}: `{COMMAND}` answered {answer:?}, expected {ANSWER:?}",
                    self.name()
                ));
            }
        }
        Ok(calls as f64 / start.elapsed().as_secs_f64())
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((component, calls, runs)) = parse(&args) else {
        eprintln!("usage: host-calls COMPONENT [--calls N] [--runs N]");
        return ExitCode::from(2);
    };
    match run(Path::new(&component), calls, runs) {
        Ok(rates) => {
            print!("{}", to_json(&component, calls, runs, &rates));
            ExitCode::SUCCESS
        }
        Err(why) => {
            eprintln!("error: {why}");
            ExitCode::from(1)
        }
    }
}

fn parse(args: &[String]) -> Option<(String, usize, usize)> {
    let (component, mut rest) = args.split_first()?;
    let (mut calls, mut runs) = (DEFAULT_CALLS, DEFAULT_RUNS);
    while let [flag, value, more @ ..] = rest {
        let n = value.parse().ok().filter(|&n| n > 0)?;
        match flag.as_str() {
            "--calls" => calls = n,
            "--runs" => runs = n,
            _ => return None,
        }
        rest = more;
    }
    (rest.is_empty() && !component.starts_with("--")).then_some((component.clone(), calls, runs))
}

fn run(path: &Path, calls: usize, runs: usize) -> Result<Vec<(&'static str, Vec<f64>)>, String> {
    let engine = Engine::default();
    let component = Component::from_file(&engine, path)
        .map_err(|e| format!("wasmtime cannot load {}: {e:?}", path.display()))?;
    // One linker for all three: the paths differ only in how they call.
    let mut linker = Linker::new(&engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(|e| format!("{e:?}"))?;
    let store = || Store::new(&engine, WasiHost::new(WasiCtxBuilder::new().build()));
    let inst = |e: wasmtime::Error| format!("cannot instantiate {}: {e:?}", path.display());

    let mut s = store();
    let ours = demo::Composed::instantiate(&mut s, &component, &linker).map_err(inst)?;
    let mut paths = vec![Path3::Ours(s, ours)];
    let mut s = store();
    let theirs = theirs::Composed::instantiate(&mut s, &component, &linker).map_err(inst)?;
    paths.push(Path3::Theirs(s, theirs));
    let mut s = store();
    let instance = linker.instantiate(&mut s, &component).map_err(inst)?;
    let iface = instance
        .get_export_index(&mut s, None, INTERFACE)
        .ok_or_else(|| format!("{} does not export `{INTERFACE}`", path.display()))?;
    let func = instance
        .get_export_index(&mut s, Some(&iface), "handle")
        .and_then(|index| instance.get_func(&mut s, index))
        .ok_or_else(|| format!("`{INTERFACE}` has no function `handle`"))?;
    paths.push(Path3::Dynamic(s, func));

    for p in &mut paths {
        let answer = p.handle("set k v")?;
        if answer != "ok" {
            return Err(format!("{}: `set k v` answered {answer:?}", p.name()));
        }
        p.rate(WARM_UP)?;
    }
    let mut rates: Vec<Vec<f64>> = vec![Vec::new(); paths.len()];
    for _ in 0..runs {
        for (p, r) in paths.iter_mut().zip(&mut rates) {
            r.push(p.rate(calls)?);
        }
    }
    Ok(paths.iter().map(|p| p.name()).zip(rates).collect())
}

fn median(samples: &[f64]) -> f64 {
    let mut v = samples.to_vec();
    v.sort_by(f64::total_cmp);
    (v[(v.len() - 1) / 2] + v[v.len() / 2]) / 2.0
}

fn to_json(component: &str, calls: usize, runs: usize, rates: &[(&str, Vec<f64>)]) -> String {
    let path: String = component
        .chars()
        .flat_map(|c| match c {
            '"' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    let lines: Vec<String> = rates
        .iter()
        .map(|(name, r)| {
            let all: Vec<String> = r.iter().map(|x| format!("{x:.1}")).collect();
            format!(
                "  {{\"name\": \"{name}\", \"calls_per_s_median\": {:.1}, \"calls_per_s\": [{}]}}",
                median(r),
                all.join(", ")
            )
        })
        .collect();
    format!(
        "{{\"component\": \"{path}\", \"calls\": {calls}, \"runs\": {runs}, \"paths\": [\n{}\n]}}\n",
        lines.join(",\n")
    )
}
