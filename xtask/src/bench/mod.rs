//! `cargo xtask bench [new|compose|bind|guest|host] [--runs N]`: wcomp against the other tools
//! that do the same job, on the same inputs. All five benches by default:
//!
//! - `new`: `wcomp new` against `wasm-tools component new` on a generated 30 MB core module
//!   (see `new.rs`), written to `target/bench/new.json`;
//! - `compose`: `wcomp compose` against `wasm-tools compose` and `wac plug` on a small WAT key
//!   store pair and on a large componentize-py pair (see `compose.rs`), written to
//!   `target/bench/compose.json`;
//! - `bind`: `wcomp bind --lang rust` against `wit-bindgen rust` on the keystore world and
//!   the WASI 0.2 command world: lines, bytes, generation and `cargo build` times (see
//!   `bind.rs`), written to `target/bench/bind.json`; then `--lang c` against
//!   `wit-bindgen c`: lines, generation and `clang -c` times (`bind_c.rs`, `bind-c.json`);
//! - `guest`: the keystore guest on wcomp's bindings against the same guest on wit-bindgen's:
//!   module sizes and the wasmtime fuel of a `get` and a `set` (see `guest.rs`), written to
//!   `target/bench/guest.json`;
//! - `host`: wcomp's host bindings (`bind --lang rust --host`) against wasmtime's `bindgen!` on
//!   the demo's composed key store: calls per second of `handle("get k")` (and through `Val`),
//!   and the build time of a small embedder crate (see `host.rs`), written to
//!   `target/bench/host.json`.
//!
//! `WASM_TOOLS=PATH`, `WAC=PATH` and `WIT_BINDGEN=PATH` pick the peers; `WCOMP=PATH` benches
//! that wcomp instead of building one (another build, for a before and after). A peer that is not
//! installed is skipped with the command that installs it. Timing noise never fails the
//! command: it reports, and fails only when a tool fails.

mod bind;
mod bind_c;
mod compose;
mod guest;
mod host;
mod http;
mod inputs;
mod measure;
mod new;
mod wasm32;

use std::env::{self, consts::EXE_SUFFIX};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use measure::{find_wasm_tools, io_err, note_load, secs};

const DEFAULT_RUNS: usize = 5;

/// The summary `cargo xtask help` shows.
pub const ABOUT: &str = "time wcomp against its peers: `new` (30 MB module), `compose` (keystore pairs), \
     `bind` (generated Rust), `guest` (keystore guest cost), `host` (host bindings: calls/s, build), \
     `http` (the served key-store service: latency, requests/s) [new|compose|bind|guest|host|http] [--runs N]";

/// What every bench needs.
pub struct Context {
    pub root: PathBuf,
    /// `target/bench`: inputs, outputs and the JSON reports.
    pub dir: PathBuf,
    /// The release build of wcomp.
    pub wcomp: PathBuf,
    pub runs: usize,
    pub wasm_tools: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Which {
    All,
    New,
    Compose,
    Bind,
    Guest,
    Host,
    Http,
}

pub fn run(args: &[String]) -> ExitCode {
    match bench(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(why) => {
            eprintln!("==> FAILED bench: {why}");
            ExitCode::FAILURE
        }
    }
}

fn parse(args: &[String]) -> Result<(Which, usize), String> {
    let usage = || {
        format!(
            "usage: cargo xtask bench [new|compose|bind|guest|host|http] [--runs N], not `{}`",
            args.join(" ")
        )
    };
    let (which, rest) = match args.split_first() {
        Some((w, rest)) if w == "new" => (Which::New, rest),
        Some((w, rest)) if w == "compose" => (Which::Compose, rest),
        Some((w, rest)) if w == "bind" => (Which::Bind, rest),
        Some((w, rest)) if w == "guest" => (Which::Guest, rest),
        Some((w, rest)) if w == "host" => (Which::Host, rest),
        Some((w, rest)) if w == "http" => (Which::Http, rest),
        _ => (Which::All, args),
    };
    let runs = match rest {
        [] => Some(DEFAULT_RUNS),
        [flag, n] if flag == "--runs" => n.parse().ok().filter(|&n| n > 0),
        _ => None,
    };
    Ok((which, runs.ok_or_else(usage)?))
}

fn bench(args: &[String]) -> Result<(), String> {
    let (which, runs) = parse(args)?;
    let total = Instant::now();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    // Absolute, and passed on to the build, so that a relative CARGO_TARGET_DIR means the same.
    let cwd = env::current_dir().map_err(|e| format!("no current directory: {e}"))?;
    let target = env::var_os("CARGO_TARGET_DIR").map_or(root.join("target"), |d| cwd.join(d));
    let dir = target.join("bench");
    fs::create_dir_all(&dir).map_err(io_err("cannot create", &dir))?;

    // Before the build, whose own load would count.
    note_load();
    let wcomp = match env::var_os("WCOMP") {
        Some(path) => PathBuf::from(path),
        None => {
            build(root, &target)?;
            target.join("release").join(format!("wcomp{EXE_SUFFIX}"))
        }
    };
    let ctx = Context {
        root: root.to_path_buf(),
        wcomp,
        dir,
        runs,
        wasm_tools: find_wasm_tools(),
    };
    let wanted = |one: Which| which == Which::All || which == one;
    if wanted(Which::New) {
        new::run(&ctx)?;
    }
    if wanted(Which::Compose) {
        compose::run(&ctx)?;
    }
    if wanted(Which::Bind) {
        bind::run(&ctx)?;
    }
    if wanted(Which::Guest) {
        guest::run(&ctx)?;
    }
    if wanted(Which::Host) {
        host::run(&ctx)?;
    }
    if wanted(Which::Http) {
        http::run(&ctx)?;
    }
    eprintln!("==> bench took {}", secs(total));
    Ok(())
}

fn build(root: &Path, target: &Path) -> Result<(), String> {
    let build = "cargo build --release -p wcomp";
    eprintln!("==> {build}");
    let start = Instant::now();
    let mut cargo = Command::new(env::var_os("CARGO").unwrap_or("cargo".into()));
    cargo.args(build.split(' ').skip(1)).current_dir(root);
    match cargo.env("CARGO_TARGET_DIR", target).status() {
        Ok(s) if s.success() => eprintln!("==> ok {build} in {}", secs(start)),
        Ok(s) => return Err(format!("{build} ({s})")),
        Err(e) => return Err(format!("could not start cargo: {e}")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn arguments_pick_the_bench_and_the_runs() {
        assert_eq!(parse(&args("")), Ok((Which::All, DEFAULT_RUNS)));
        assert_eq!(parse(&args("--runs 3")), Ok((Which::All, 3)));
        assert_eq!(parse(&args("new")), Ok((Which::New, DEFAULT_RUNS)));
        assert_eq!(parse(&args("compose --runs 2")), Ok((Which::Compose, 2)));
        assert_eq!(parse(&args("bind")), Ok((Which::Bind, DEFAULT_RUNS)));
        assert_eq!(parse(&args("guest --runs 1")), Ok((Which::Guest, 1)));
        assert_eq!(parse(&args("host")), Ok((Which::Host, DEFAULT_RUNS)));
        assert_eq!(parse(&args("http")), Ok((Which::Http, DEFAULT_RUNS)));
        for bad in [
            "--runs 0",
            "--runs",
            "compose new",
            "bind guest",
            "other",
            "new --runs x",
        ] {
            assert!(parse(&args(bad)).is_err(), "{bad}");
        }
    }
}
