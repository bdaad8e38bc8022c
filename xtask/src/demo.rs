//! `cargo xtask demo`: the keystore story end to end, as a user would type
//! it. Bind the `keystore` and `app` worlds of `wit/` for the two Rust guests
//! under `fixtures/`, build them for wasm32, wrap each with `wcomp new`,
//! compose the app with the key store, and run `fixtures/demo/script`
//! through the result in wasmtime, checking every answer. The runner
//! (`run-script`) calls the composed app through host bindings that
//! `wcomp bind --lang rust --host` generated (in the `tests` crate's
//! `build.rs`), and implements its clock through the generated trait.
//!
//! Then the same app runs over the C key store (`fixtures/keystore-c`),
//! bound from the same WIT with `wcomp bind --lang c` and built by clang-16,
//! and over the Go one (`fixtures/keystore-go`, `--lang go`, built by `go
//! build` for wasip1), each wrapped and composed the same way: one
//! interface, three implementations, the same answers, sizes side by side.
//! (Without a C or Go toolchain that half is skipped, with the command that
//! installs one.)
//!
//! Last comes the WASI 0.3 key store (`demo_async.rs`): the same story with
//! every call async and values streamed, run through the same script and
//! one of large streams.
//!
//! Leaves `target/demo/{app,keystore,composed}.wasm` (and the other key
//! stores' `keystore-{c,go}.wasm` and `composed-{c,go}.wasm`, and the WASI
//! 0.3 part's `{keystore,app,composed}-async.wasm`) for other tools. Exit 0 when
//! every step passed and every answer was right, 1 otherwise, 3 when no
//! wasm32 toolchain exists (with how to install one).

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use crate::guests::{self, Guest, grouped, shell_line};
use crate::toolchain;

pub const ABOUT: &str = "the keystore demo: bind, build, wrap and compose a Rust app and key \
                         store, then run fixtures/demo/script in wasmtime; the same over the C \
                         and Go stores, the HTTP service (--serve [--port N] serves it), and \
                         the WASI 0.3 key store whose values stream";

pub const SCRIPT: &str = "fixtures/demo/script";
/// The steps of the Rust half, and of each other key store's.
const STEPS: usize = 14;
/// The world the HTTP service is for.
const PROXY: &str = "wasi:http/proxy@0.2.12";
const HALF_STEPS: usize = 5;

/// Numbered steps: each prints its command line, then its time.
pub struct Steps<'a> {
    root: &'a Path,
    done: usize,
    total: usize,
}

impl Steps<'_> {
    /// Runs `cmd` from the workspace root. With `capture`, its output is
    /// printed indented under the command and returned (stdout, stderr);
    /// otherwise it goes straight to the terminal (cargo's progress).
    pub fn run(&mut self, cmd: &mut Command, capture: bool) -> Result<(String, String), String> {
        self.done += 1;
        let line = shell_line(cmd, self.root);
        println!("[{}/{}] {line}", self.done, self.total);
        cmd.current_dir(self.root).stdin(Stdio::null());
        let start = Instant::now();
        let (status, stdout, stderr) = if capture {
            let out = cmd.output();
            let out = out.map_err(|e| format!("cannot run `{line}`: {e}"))?;
            let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
            (out.status, text(&out.stdout), text(&out.stderr))
        } else {
            let status = cmd.status();
            let status = status.map_err(|e| format!("cannot run `{line}`: {e}"))?;
            (status, String::new(), String::new())
        };
        for text in [&stdout, &stderr] {
            for l in text.lines() {
                println!("      {l}");
            }
        }
        let took = start.elapsed().as_secs_f64();
        if !status.success() {
            return Err(format!(
                "step {} failed ({status}) after {took:.2}s",
                self.done
            ));
        }
        println!("      ({took:.2}s)");
        Ok((stdout, stderr))
    }
}

pub fn run(args: &[String]) -> ExitCode {
    let usage = "usage: cargo xtask demo [--serve [--port N]]";
    let (mut serve, mut port) = (false, 8080u16);
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--serve" => serve = true,
            "--port" => match it.next().and_then(|p| p.parse().ok()) {
                Some(p) => port = p,
                None => {
                    eprintln!("error: `--port` wants a port number\n{usage}");
                    return ExitCode::from(1);
                }
            },
            extra => {
                eprintln!("error: unexpected argument `{extra}`\n{usage}");
                return ExitCode::from(1);
            }
        }
    }
    let route = match toolchain::detect() {
        Ok(route) => route,
        Err(how) => {
            eprintln!("error: the demo builds Rust guests for wasm32, but {how}");
            return ExitCode::from(3);
        }
    };
    let start = Instant::now();
    match demo(&route) {
        Ok(out) => {
            println!(
                "demo passed in {:.1}s; the components are in {}/",
                start.elapsed().as_secs_f64(),
                out.display()
            );
            if serve {
                return serve_service(&out, port);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: the demo failed: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `--serve`: the HTTP service on 127.0.0.1:`port`, until interrupted,
/// with `curl` lines to try.
fn serve_service(out: &Path, port: u16) -> ExitCode {
    let root = crate::step::workspace_root();
    let server = guests::target_dir(&root)
        .join("debug")
        .join(format!("serve{}", std::env::consts::EXE_SUFFIX));
    let url = format!("http://127.0.0.1:{port}/kv");
    println!(
        "\nServing {} (the HTTP app over the Rust key store) with wasmtime's wasi:http. Try:\n\
         \x20 curl -i -X PUT --data hello {url}/greeting\n\
         \x20 curl -i {url}/greeting\n\
         \x20 curl -i -X PUT --data 'gone soon' '{url}/session?ttl=5'\n\
         \x20 curl -i -X DELETE {url}/greeting\n\
         \x20 curl -i {url}/greeting\n\
         Ctrl-C stops it.",
        out.join("service.wasm").display()
    );
    match Command::new(&server)
        .arg(root.join(out).join("service.wasm"))
        .args(["--port", &port.to_string()])
        .status()
    {
        Ok(status) if status.success() => ExitCode::SUCCESS,
        Ok(status) => {
            eprintln!("error: the server stopped ({status})");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("error: cannot run {}: {e}", server.display());
            ExitCode::FAILURE
        }
    }
}

/// The whole path; the folder of the artifacts, shown relative to the root.
fn demo(route: &toolchain::Route) -> Result<PathBuf, String> {
    let root = crate::step::workspace_root();
    let target = guests::target_dir(&root);
    let shown = |p: &Path| p.strip_prefix(&root).unwrap_or(p).to_path_buf();
    let out = shown(&target.join("demo"));
    let guests_target = shown(&target.join("guests"));
    fs::create_dir_all(root.join(&out))
        .map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let keystore = Guest::load_bound(&root, Path::new("fixtures/keystore-rust"))?;
    let app = Guest::load_bound(&root, Path::new("fixtures/app-rust"))?;
    let http_app = Guest::load_bound(&root, Path::new("fixtures/app-http"))?;
    println!(
        "The keystore demo: a Rust key store and a Rust app, bound from `{}`, built for \
         wasm32, wrapped, composed, and run in wasmtime.\n\
         wasm32 builds: {}\n\
         wcomp: {}\n",
        keystore.1.wit.display(),
        route.describe(),
        shown(&guests::wcomp_path(&target)).display()
    );
    // The other key stores, where their toolchains are.
    let (mut builders, mut skipped) = (Vec::new(), Vec::new());
    match crate::c_toolchain::detect() {
        Ok(c) => builders.push(Builder::C(c)),
        Err(how) => skipped.push(format!("The C key store is skipped: {how}")),
    }
    match crate::go_toolchain::detect() {
        Ok(go) => builders.push(Builder::Go(go)),
        Err(how) => skipped.push(format!("The Go key store is skipped: {how}")),
    }
    let mut steps = Steps {
        root: &root,
        done: 0,
        total: STEPS
            + HALF_STEPS * builders.len()
            + crate::demo_async::STEPS
            + crate::demo_async::OTHER_STEPS * builders.len(),
    };
    steps.run(&mut guests::build_wcomp(&root), false)?;
    let wcomp = || Command::new(guests::wcomp_path(&target));

    for (guest, bind) in [&keystore, &app, &http_app] {
        steps.run(wcomp().args(guest.bind_args(bind)), true)?;
    }
    let wit = keystore.1.wit.clone();
    let (keystore, app, http_app) = (keystore.0, app.0, http_app.0);
    for guest in [&keystore, &app, &http_app] {
        steps.run(&mut route.build(&guest.manifest(), &guests_target), false)?;
    }
    let (app_wasm, keystore_wasm) = (out.join("app.wasm"), out.join("keystore.wasm"));
    let http_app_wasm = out.join("app-http.wasm");
    for (guest, component) in [
        (&keystore, &keystore_wasm),
        (&app, &app_wasm),
        (&http_app, &http_app_wasm),
    ] {
        let core = guest.core_module(&guests_target);
        steps.run(wcomp().arg("new").arg(&core).arg("-o").arg(component), true)?;
    }
    let composed = out.join("composed.wasm");
    let (stdout, _) = steps.run(
        compose(wcomp(), &app_wasm, &keystore_wasm)
            .arg("-o")
            .arg(&composed),
        true,
    )?;
    let composed_capabilities = capabilities(&stdout)?;
    // The same store under the HTTP app: a service the platforms run as
    // it is, checked against their world before it is written.
    let service = out.join("service.wasm");
    let (stdout, _) = steps.run(
        compose(wcomp(), &http_app_wasm, &keystore_wasm)
            .args(["--target", PROXY, "-o"])
            .arg(&service),
        true,
    )?;
    let service_capabilities = capabilities(&stdout)?;

    println!("\nsizes:");
    let size = |p: &Path| fs::metadata(root.join(p)).map_or(0, |m| m.len());
    let width = composed.display().to_string().len();
    for (component, core) in [
        (&app_wasm, Some(&app)),
        (&keystore_wasm, Some(&keystore)),
        (&composed, None),
        (&http_app_wasm, Some(&http_app)),
        (&service, None),
    ] {
        let core = core.map_or(String::new(), |guest| {
            let core = size(&guest.core_module(&guests_target));
            format!("  (core module {} bytes)", grouped(core))
        });
        println!(
            "  {:<width$}  {:>9} bytes{core}",
            component.display().to_string(),
            grouped(size(component)),
        );
    }
    for (artifact, capabilities) in [
        (&composed, &composed_capabilities),
        (&service, &service_capabilities),
    ] {
        println!(
            "capabilities of {} (what the host must grant): {}",
            artifact.display(),
            if capabilities.is_empty() {
                "none".to_string()
            } else {
                capabilities.join(", ")
            }
        );
    }
    println!(
        "{} is a {PROXY} component: Spin, wasmCloud, `wasmtime serve` and jco's `serve` run that world \
         (`cargo xtask demo --serve` serves it here).\n",
        service.display()
    );

    // The runner embeds wasmtime (and its build generates its host
    // bindings with wcomp's library): on a fresh clone its first build takes
    // minutes, so it is a step of its own, with cargo's progress on screen.
    let runner = target
        .join("debug")
        .join(format!("run-script{}", std::env::consts::EXE_SUFFIX));
    let serve = target
        .join("debug")
        .join(format!("serve{}", std::env::consts::EXE_SUFFIX));
    if !runner.exists() {
        println!(
            "The next step builds the script runner, which embeds wasmtime: the first time, \
             that takes several minutes (about ten on two cores); later demos reuse it."
        );
    }
    let mut build_runner = guests::cargo(&root);
    build_runner.args([
        "build",
        "-p",
        "wcomp-tests",
        "--bin",
        "run-script",
        "--bin",
        "serve",
    ]);
    steps.run(&mut build_runner, false)?;
    let mut script = Command::new(&runner);
    script.arg(&composed).arg(SCRIPT);
    steps
        .run(&mut script, false)
        .map_err(|e| format!("{e}: the script did not pass (see above)"))?;
    debug_assert_eq!(steps.done, STEPS, "STEPS counts the steps above");

    let mut halves = Vec::new();
    for builder in builders {
        let half = Half {
            builder,
            wit: &wit,
            out: &out,
            app_wasm: &app_wasm,
            runner: &runner,
        };
        half.run(&mut steps, &wcomp)?;
        halves.push(half);
    }
    for how in skipped {
        println!("\n{how}");
    }
    if !halves.is_empty() {
        let rust_core = keystore.core_module(&guests_target);
        sizes(&root, &[&keystore_wasm, &rust_core, &composed], &halves);
    }
    let paths = crate::demo_async::Paths {
        root: &root,
        out: &out,
        guests_target: &guests_target,
        runner: &runner,
        serve: &serve,
        wit: &wit,
    };
    crate::demo_async::run(&mut steps, route, &wcomp, &paths)?;
    for half in &halves {
        crate::demo_async::run_other(&mut steps, &half.builder, &wcomp, &paths)?;
    }
    Ok(out)
}

/// How another key store is built: C by clang-16, Go by `go build`.
pub enum Builder {
    C(crate::c_toolchain::CRoute),
    Go(crate::go_toolchain::GoRoute),
}

impl Builder {
    /// `C`, `Go`.
    pub fn language(&self) -> &'static str {
        match self {
            Builder::C(_) => "C",
            Builder::Go(_) => "Go",
        }
    }

    /// `c`, `go`: the `--lang`, and the suffix of the artifacts' names.
    pub fn lang(&self) -> &'static str {
        match self {
            Builder::C(_) => "c",
            Builder::Go(_) => "go",
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Builder::C(c) => c.describe(),
            Builder::Go(go) => go.describe(),
        }
    }
}

/// Another key store's half of the demo: the same WIT, app and script.
struct Half<'a> {
    builder: Builder,
    wit: &'a Path,
    out: &'a Path,
    app_wasm: &'a Path,
    runner: &'a Path,
}

impl Half<'_> {
    /// The store's sources: `fixtures/keystore-c`, `fixtures/keystore-go`.
    fn fixture(&self) -> PathBuf {
        PathBuf::from(format!("fixtures/keystore-{}", self.builder.lang()))
    }

    /// Where its bindings go: beside the artifacts for C; for Go into the
    /// store's module, as a package of it (the folder is git-ignored).
    fn bindings(&self) -> PathBuf {
        match self.builder {
            Builder::C(_) => self.out.join("keystore-c"),
            Builder::Go(_) => self.fixture(),
        }
    }

    fn core(&self) -> PathBuf {
        self.out
            .join(format!("keystore-{}.core.wasm", self.builder.lang()))
    }

    fn component(&self) -> PathBuf {
        self.out
            .join(format!("keystore-{}.wasm", self.builder.lang()))
    }

    fn composed(&self) -> PathBuf {
        self.out
            .join(format!("composed-{}.wasm", self.builder.lang()))
    }

    fn run(&self, steps: &mut Steps<'_>, wcomp: &dyn Fn() -> Command) -> Result<(), String> {
        let language = self.builder.language();
        println!(
            "\nThe same app over the {language} key store ({}), bound from the same \
             WIT with `--lang {}` and built by {}:",
            self.fixture().display(),
            self.builder.lang(),
            self.builder.describe()
        );
        steps.run(
            wcomp()
                .args(["bind"])
                .arg(self.wit)
                .args([
                    "--world",
                    "keystore",
                    "--lang",
                    self.builder.lang(),
                    "--out-dir",
                ])
                .arg(self.bindings()),
            true,
        )?;
        let bindings = self.bindings();
        let mut new = wcomp();
        new.arg("new").arg(self.core());
        match &self.builder {
            Builder::C(c) => {
                let sources = [
                    self.fixture().join("keystore.c"),
                    bindings.join("keystore.c"),
                    bindings.join("keystore_component_type.c"),
                ];
                steps.run(&mut c.build(&sources, &bindings, &self.core()), true)?;
            }
            Builder::Go(go) => {
                // `-o` is read in the module's folder (`-C`): the path climbs
                // back out of it, so that the line works as printed.
                let up: PathBuf = self.fixture().components().map(|_| "..").collect();
                steps.run(&mut go.build(&self.fixture(), &up.join(self.core())), true)?;
                // Go writes no custom sections: the WIT comes with the module.
                new.arg("--wit").arg(self.wit).args(["--world", "keystore"]);
            }
        }
        steps.run(new.arg("-o").arg(self.component()), true)?;
        steps.run(
            compose(wcomp(), self.app_wasm, &self.component())
                .arg("-o")
                .arg(self.composed()),
            true,
        )?;
        let mut script = Command::new(self.runner);
        script.arg(self.composed()).arg(SCRIPT);
        steps
            .run(&mut script, false)
            .map_err(|e| format!("{e}: the script did not pass over the {language} key store"))?;
        Ok(())
    }
}

/// `wcomp compose APP --with STORE`, for the options and output to follow.
pub fn compose(mut wcomp: Command, app: &Path, store: &Path) -> Command {
    wcomp.arg("compose").arg(app).arg("--with").arg(store);
    wcomp
}

/// The key stores and their compositions, side by side.
fn sizes(root: &Path, rust: &[&Path; 3], halves: &[Half<'_>]) {
    let size = |p: &Path| grouped(fs::metadata(root.join(p)).map_or(0, |m| m.len()));
    let mut head = format!("  {:<18} {:>10}", "", "Rust");
    for h in halves {
        let _ = write!(head, " {:>10}", h.builder.language());
    }
    println!(
        "\none interface, {} implementations (bytes):\n{head}",
        ["one", "two", "three", "four"][halves.len().min(3)]
    );
    for (i, what) in ["key store", "  its core module", "composed app"]
        .iter()
        .enumerate()
    {
        let mut line = format!("  {what:<18} {:>10}", size(rust[i]));
        for h in halves {
            let p = [h.component(), h.core(), h.composed()];
            let _ = write!(line, " {:>10}", size(&p[i]));
        }
        println!("{line}");
    }
}

/// The imports a composition still needs, as `namespace:package/interface@version`,
/// from what `wcomp compose` prints:
///
/// ```text
/// capabilities (imports the host must provide):
///   wasi:clocks
///     monotonic-clock@0.2.12  (keystore.wasm)
/// ```
///
/// or `capabilities: none (...)`.
pub fn capabilities(compose_stdout: &str) -> Result<Vec<String>, String> {
    let mut lines = compose_stdout.lines();
    match lines.next() {
        Some(l) if l.starts_with("capabilities: none") => return Ok(Vec::new()),
        Some(l) if l.starts_with("capabilities (") => {}
        _ => {
            return Err(format!(
                "cannot read the capabilities from `wcomp compose`'s output:\n{compose_stdout}"
            ));
        }
    }
    let (mut found, mut package) = (Vec::new(), "");
    for line in lines.take_while(|l| l.starts_with("  ")) {
        match line.strip_prefix("    ") {
            Some(item) => {
                let name = item.split_whitespace().next().unwrap_or_default();
                found.push(format!("{package}/{name}"));
            }
            None => package = line.trim(),
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_capabilities_from_compose() {
        let out = "capabilities (imports the host must provide):\n  wasi:clocks\n    \
                   monotonic-clock@0.2.12  (keystore.wasm)\n    wall-clock@0.2.12  (a.wasm, \
                   b.wasm)\n  wasi:io\n    poll@0.2.12  (keystore.wasm)\n";
        assert_eq!(
            capabilities(out).unwrap(),
            [
                "wasi:clocks/monotonic-clock@0.2.12",
                "wasi:clocks/wall-clock@0.2.12",
                "wasi:io/poll@0.2.12"
            ]
        );
        let none = "capabilities: none (the composition imports nothing)\n";
        assert!(capabilities(none).unwrap().is_empty());
        assert!(capabilities("").is_err());
    }
}
