//! The WASI 0.3 part of `cargo xtask demo`: the key store again, with every
//! call async and values streamed (`async-keystore` and `async-app` of
//! `wit/`, in `fixtures/keystore-async` and `fixtures/app-async`). Bound,
//! built, wrapped and composed as the first part is, then run twice by the
//! same runner: the first part's script (the same answers, over async calls)
//! and `fixtures/demo/script-streams`, whose values of up to 16 MiB stream
//! in and out in chunks of 1 byte to 1 MiB.

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::demo::{SCRIPT, Steps, capabilities, compose};
use crate::guests::{Guest, grouped};
use crate::toolchain;

/// The steps below.
pub const STEPS: usize = 9;
/// The first line of this part, by which `tests/demo.rs` finds it.
pub const HEADING: &str = "The WASI 0.3 key store";
const STREAMS_SCRIPT: &str = "fixtures/demo/script-streams";

/// Where this part reads and writes.
pub struct Paths<'a> {
    pub root: &'a Path,
    pub out: &'a Path,
    pub guests_target: &'a Path,
    pub runner: &'a Path,
}

pub fn run(
    steps: &mut Steps<'_>,
    route: &toolchain::Route,
    wcomp: &dyn Fn() -> Command,
    paths: &Paths<'_>,
) -> Result<(), String> {
    let keystore = Guest::load_bound(paths.root, Path::new("fixtures/keystore-async"))?;
    let app = Guest::load_bound(paths.root, Path::new("fixtures/app-async"))?;
    println!(
        "\n{HEADING} ({}) and app ({}), worlds `{}` and `{}` of the same WIT: every call \
         async (component-model async, run by wasmtime 46 or later), values streamed \
         (`stream<u8>`):",
        keystore.0.dir.display(),
        app.0.dir.display(),
        keystore.1.world,
        app.1.world
    );
    for (guest, bind) in [&keystore, &app] {
        steps.run(wcomp().args(guest.bind_args(bind)), true)?;
    }
    let (keystore, app) = (keystore.0, app.0);
    for guest in [&keystore, &app] {
        steps.run(
            &mut route.build(&guest.manifest(), paths.guests_target),
            false,
        )?;
    }
    let keystore_wasm = paths.out.join("keystore-async.wasm");
    let app_wasm = paths.out.join("app-async.wasm");
    for (guest, component) in [(&keystore, &keystore_wasm), (&app, &app_wasm)] {
        let core = guest.core_module(paths.guests_target);
        steps.run(wcomp().arg("new").arg(&core).arg("-o").arg(component), true)?;
    }
    let composed = paths.out.join("composed-async.wasm");
    let (stdout, _) = steps.run(
        compose(wcomp(), &app_wasm, &keystore_wasm)
            .arg("-o")
            .arg(&composed),
        true,
    )?;
    let capabilities = capabilities(&stdout)?;
    for script in [SCRIPT, STREAMS_SCRIPT] {
        let mut run = Command::new(paths.runner);
        run.arg(&composed).arg(script);
        steps
            .run(&mut run, false)
            .map_err(|e| format!("{e}: {script} did not pass over the WASI 0.3 key store"))?;
    }
    let size = |p: &Path| grouped(fs::metadata(paths.root.join(p)).map_or(0, |m| m.len()));
    println!("\nsizes of the WASI 0.3 part (the executor that drives async calls included):");
    let width = composed.display().to_string().len();
    for component in [&app_wasm, &keystore_wasm, &composed] {
        println!(
            "  {:<width$}  {:>9} bytes",
            component.display().to_string(),
            size(component)
        );
    }
    println!(
        "capabilities of {} (what the host must grant): {}",
        composed.display(),
        capabilities.join(", ")
    );
    Ok(())
}
