//! The guests of `fixtures/bind-rust`, bound with `wcomp bind --lang rust`,
//! built for wasm32 (`cargo xtask build-guest`) and wrapped with `wcomp
//! new`: shared by `bind_rust.rs` (calls through `Val`s) and
//! `host_roundtrip.rs` (calls through generated host bindings).

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;

use wcomp_tests::{build_guest, target_dir, text, wcomp_bin, workspace_root};

const MANIFEST: &str = "[package]\nname = \"NAME\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
[lib]\ncrate-type = [\"cdylib\"]\n\n[profile.release]\npanic = \"abort\"\nopt-level = \"s\"\n\n[workspace]\n";

/// Binds, builds and wraps case `name`, once per test run (tests share
/// cases, and two builds of one folder at a time would race); `None` (with
/// a note) where no wasm32 route exists.
pub fn build(name: &str) -> Option<PathBuf> {
    static BUILT: Mutex<BTreeMap<String, Option<PathBuf>>> = Mutex::new(BTreeMap::new());
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(done) = built.get(name) {
        return done.clone();
    }
    let done = build_once(name);
    built.insert(name.to_string(), done.clone());
    done
}

fn build_once(name: &str) -> Option<PathBuf> {
    let root = workspace_root();
    let fixture = root.join("fixtures/bind-rust").join(name);
    let spec = fs::read_to_string(fixture.join("case")).unwrap();
    let first = spec.lines().next().unwrap_or_default();
    let (wit, world) = first.trim().split_once(' ').expect("case: WIT WORLD");
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

    let core = build_guest(&dir.join("Cargo.toml"))
        .unwrap_or_else(|e| panic!("the guest did not build:\n{e}"))?;

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
    Some(component)
}
