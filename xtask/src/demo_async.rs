//! The WASI 0.3 part of `cargo xtask demo`: the key store again, with every
//! call async and values streamed (`async-keystore` and `async-app` of
//! `wit/`, in `fixtures/keystore-async` and `fixtures/app-async`). Bound,
//! built, wrapped and composed as the first part is, then run twice by the
//! same runner: the first part's script (the same answers, over async calls)
//! and `fixtures/demo/script-streams`, whose values of up to 16 MiB stream
//! in and out in chunks of 1 byte to 1 MiB. The same store under the WASI
//! 0.3 HTTP app (`fixtures/app-http-async`) makes a `wasi:http/service`
//! component, which `serve` runs (`tests/tests/http_service.rs` serves it).
//! Where clang-16 and Go are, the app runs the same scripts over the store
//! written in C and in Go (`run_other`).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::demo::{Builder, SCRIPT, Steps, capabilities, compose};
use crate::guests::{Guest, grouped};
use crate::toolchain;

/// The steps below.
pub const STEPS: usize = 13;
/// The first line of this part, by which `tests/demo.rs` finds it.
pub const HEADING: &str = "The WASI 0.3 key store";
const STREAMS_SCRIPT: &str = "fixtures/demo/script-streams";
/// The world the HTTP service is checked to fit, as hosts run it.
const SERVICE_WORLD: &str = "wasi:http/service@0.3.0";

/// Where this part reads and writes.
pub struct Paths<'a> {
    pub root: &'a Path,
    pub out: &'a Path,
    pub guests_target: &'a Path,
    pub runner: &'a Path,
    /// The `serve` binary, built beside the runner.
    pub serve: &'a Path,
    /// `wit/`, which the C store binds.
    pub wit: &'a Path,
}

/// The steps of [`run_other`].
pub const OTHER_STEPS: usize = 6;
/// The first line of [`run_other`]'s part for `language`, by which
/// `tests/demo.rs` finds it.
pub fn other_heading(language: &str) -> String {
    format!("The same WASI 0.3 app over the {language} key store")
}

/// The WASI 0.3 app over the store in C (`fixtures/keystore-c/keystore_async.c`)
/// or in Go (`fixtures/keystore-go/async`), bound with `--lang c` or `--lang
/// go`: the same two scripts, the same answers.
pub fn run_other(
    steps: &mut Steps<'_>,
    builder: &Builder,
    wcomp: &dyn Fn() -> Command,
    paths: &Paths<'_>,
) -> Result<(), String> {
    let lang = builder.lang();
    let (source, how) = match builder {
        Builder::C(_) => (
            Path::new("fixtures/keystore-c/keystore_async.c"),
            "tasks as state machines over the callback ABI",
        ),
        Builder::Go(_) => (
            Path::new("fixtures/keystore-go/async"),
            "each call on a goroutine of its own",
        ),
    };
    println!(
        "\n{} ({}), bound from the same WIT with `--lang {lang}` ({how}) and built by {}:",
        other_heading(builder.language()),
        source.display(),
        builder.describe()
    );
    // C bindings go beside the artifacts; Go ones into the store's module,
    // as a package of it (the folder is git-ignored).
    let bindings = match builder {
        Builder::C(_) => paths.out.join("keystore-async-c"),
        Builder::Go(_) => source.to_path_buf(),
    };
    steps.run(
        wcomp()
            .arg("bind")
            .arg(paths.wit)
            .args(["--world", "async-keystore", "--lang", lang, "--out-dir"])
            .arg(&bindings),
        true,
    )?;
    let core = paths.out.join(format!("keystore-async-{lang}.core.wasm"));
    let mut new = wcomp();
    new.arg("new").arg(&core);
    match builder {
        Builder::C(c) => {
            let sources = [
                source.to_path_buf(),
                bindings.join("async_keystore.c"),
                bindings.join("async_keystore_component_type.c"),
            ];
            steps.run(&mut c.build(&sources, &bindings, &core), true)?;
        }
        Builder::Go(go) => {
            // `-o` is read in the package's folder (`-C`): the path climbs
            // back out of it, so that the line works as printed.
            let up: PathBuf = source.components().map(|_| "..").collect();
            steps.run(&mut go.build(source, &up.join(&core)), true)?;
            // Go writes no custom sections: the WIT comes with the module.
            new.arg("--wit")
                .arg(paths.wit)
                .args(["--world", "async-keystore"]);
        }
    }
    let component = paths.out.join(format!("keystore-async-{lang}.wasm"));
    steps.run(new.arg("-o").arg(&component), true)?;
    let composed = paths.out.join(format!("composed-async-{lang}.wasm"));
    let app = paths.out.join("app-async.wasm");
    steps.run(
        compose(wcomp(), &app, &component).arg("-o").arg(&composed),
        true,
    )?;
    for script in [SCRIPT, STREAMS_SCRIPT] {
        let mut run = Command::new(paths.runner);
        run.arg(&composed).arg(script);
        steps.run(&mut run, false).map_err(|e| {
            format!(
                "{e}: {script} did not pass over the {} WASI 0.3 key store",
                builder.language()
            )
        })?;
    }
    let size = |p: &Path| grouped(fs::metadata(paths.root.join(p)).map_or(0, |m| m.len()));
    println!(
        "\nthe async key store in {}: {} bytes ({} bytes of core module); composed: {} bytes",
        builder.language(),
        size(&component),
        size(&core),
        size(&composed)
    );
    Ok(())
}

pub fn run(
    steps: &mut Steps<'_>,
    route: &toolchain::Route,
    wcomp: &dyn Fn() -> Command,
    paths: &Paths<'_>,
) -> Result<(), String> {
    let keystore = Guest::load_bound(paths.root, Path::new("fixtures/keystore-async"))?;
    let app = Guest::load_bound(paths.root, Path::new("fixtures/app-async"))?;
    let http = Guest::load_bound(paths.root, Path::new("fixtures/app-http-async"))?;
    println!(
        "\n{HEADING} ({}) and app ({}), worlds `{}` and `{}` of the same WIT: every call \
         async (component-model async, run by wasmtime 46 or later), values streamed \
         (`stream<u8>`):",
        keystore.0.dir.display(),
        app.0.dir.display(),
        keystore.1.world,
        app.1.world
    );
    for (guest, bind) in [&keystore, &app, &http] {
        steps.run(wcomp().args(guest.bind_args(bind)), true)?;
    }
    let (keystore, app, http) = (keystore.0, app.0, http.0);
    for guest in [&keystore, &app, &http] {
        steps.run(
            &mut route.build(&guest.manifest(), paths.guests_target),
            false,
        )?;
    }
    let keystore_wasm = paths.out.join("keystore-async.wasm");
    let app_wasm = paths.out.join("app-async.wasm");
    let http_wasm = paths.out.join("app-http-async.wasm");
    for (guest, component) in [
        (&keystore, &keystore_wasm),
        (&app, &app_wasm),
        (&http, &http_wasm),
    ] {
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
    let service = paths.out.join("service-async.wasm");
    let (stdout, _) = steps.run(
        compose(wcomp(), &http_wasm, &keystore_wasm)
            .args(["--target", SERVICE_WORLD, "-o"])
            .arg(&service),
        true,
    )?;
    let service_capabilities = crate::demo::capabilities(&stdout)?;
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
    for component in [&app_wasm, &keystore_wasm, &composed, &http_wasm, &service] {
        println!(
            "  {:<width$}  {:>9} bytes",
            component.display().to_string(),
            size(component)
        );
    }
    for (component, capabilities) in [(&composed, capabilities), (&service, service_capabilities)] {
        println!(
            "capabilities of {} (what the host must grant): {}",
            component.display(),
            capabilities.join(", ")
        );
    }
    println!(
        "{} is a {SERVICE_WORLD} component: `{} {}` serves it with wasmtime's WASI 0.3 host.",
        service.display(),
        paths
            .serve
            .strip_prefix(paths.root)
            .unwrap_or(paths.serve)
            .display(),
        service.display()
    );
    Ok(())
}
