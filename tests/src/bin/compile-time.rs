//! `compile-time COMPONENT...`: how long wasmtime takes to compile each
//! component (`Component::new`), for `cargo xtask bench compose`: a core
//! module that a composition defines once is compiled once. Prints one line
//! per component, `SECONDS<TAB>PATH`. Exit 1 when one does not compile, 2 on
//! bad usage.
//!
//! It runs in the tests' dev profile (wasmtime's crates at opt-level 1), so
//! the times are slower than a release host's; their ratios are what counts.

use std::process::ExitCode;
use std::time::Instant;

use wasmtime::component::Component;
use wasmtime::{Config, Engine};

fn main() -> ExitCode {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    if paths.is_empty() || paths.iter().any(|p| p.starts_with('-')) {
        eprintln!("usage: compile-time COMPONENT...");
        return ExitCode::from(2);
    }
    let mut config = Config::new();
    config.wasm_component_model(true);
    let engine = match Engine::new(&config) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("compile-time: no engine: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    for path in paths {
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("compile-time: cannot read {path}: {e}");
                return ExitCode::FAILURE;
            }
        };
        let start = Instant::now();
        if let Err(e) = Component::new(&engine, &bytes) {
            eprintln!("compile-time: {path} does not compile: {e:#}");
            return ExitCode::FAILURE;
        }
        println!("{:.4}\t{path}", start.elapsed().as_secs_f64());
    }
    ExitCode::SUCCESS
}
