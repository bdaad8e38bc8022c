//! `wcomp bind --lang rust` end to end: for each case of `fixtures/bind-rust`
//! (`case`: the WIT path and world; `lib.rs`: a guest using the bindings;
//! `calls`: what to call and what must come back), bind, build the guest for
//! wasm32 with `cargo xtask build-guest`, wrap it with `wcomp new` (no
//! `--wit`: the bindings embed the world) and run the calls in wasmtime.
//! Skipped (with a note) where no wasm32 route exists; CI installs one.

#[path = "common/calls.rs"]
mod calls;

use std::fs;
use std::path::Path;
use std::process::Command;

use wasmtime::Engine;
use wasmtime::component::Component;
use wcomp_tests::{target_dir, text, wcomp_bin, workspace_root};

const MANIFEST: &str = "[package]\nname = \"NAME\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
[lib]\ncrate-type = [\"cdylib\"]\n\n[profile.release]\npanic = \"abort\"\nopt-level = \"s\"\n\n[workspace]\n";

fn case(name: &str) {
    let root = workspace_root();
    let fixture = root.join("fixtures/bind-rust").join(name);
    let spec = fs::read_to_string(fixture.join("case")).unwrap();
    let (wit, world) = spec.trim().split_once(' ').expect("case: WIT WORLD");
    let dir = target_dir().join("bind-rust").join(name);
    fs::create_dir_all(dir.join("src")).unwrap();
    let crate_name = format!("bind_{}", name.replace('-', "_"));
    fs::write(
        dir.join("Cargo.toml"),
        MANIFEST.replace("NAME", &crate_name),
    )
    .unwrap();
    fs::copy(fixture.join("lib.rs"), dir.join("src/lib.rs")).unwrap();

    let bindings = dir.join("src/bindings.rs");
    let out = Command::new(wcomp_bin())
        .args(["bind", "--lang", "rust", "--world", world, "-o"])
        .arg(&bindings)
        .arg(root.join(wit))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "wcomp bind failed:\n{}",
        text(&out.stderr)
    );

    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args(["xtask", "build-guest"])
        .arg(dir.join("Cargo.toml"))
        .current_dir(root)
        .output()
        .unwrap();
    if out.status.code() == Some(3) {
        eprintln!("skipped: {}", text(&out.stderr));
        return;
    }
    assert!(
        out.status.success(),
        "the guest did not build:\n{}",
        text(&out.stderr)
    );
    let core = text(&out.stdout).trim().to_string();

    let component = dir.join(format!("{name}.component.wasm"));
    let out = Command::new(wcomp_bin())
        .arg("new")
        .arg(&core)
        .arg("-o")
        .arg(&component)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "wcomp new failed:\n{}",
        text(&out.stderr)
    );

    let engine = Engine::default();
    let script = fs::read_to_string(fixture.join("calls")).unwrap();
    let result = calls::Script::parse(&script).and_then(|script| {
        let component = Component::from_file(&engine, Path::new(&component))
            .map_err(|e| format!("wasmtime cannot compile the component: {e:?}"))?;
        calls::run(&engine, &component, &script)
    });
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
}

#[test]
fn keystore() {
    case("keystore");
}

#[test]
fn kitchen_sink() {
    case("kitchen-sink");
}

#[test]
fn app() {
    case("app");
}

#[test]
fn sink() {
    case("sink");
}
