//! The guests of `fixtures/bind-rust`: each case folder's guest, in every
//! language present, bound with `wcomp bind --lang L`, built for wasm32
//! (`cargo xtask build-guest`) and wrapped with `wcomp new`. Shared by
//! `bind_rust.rs` (calls through `Val`s, golden bindings) and
//! `host_roundtrip.rs` (calls through generated host bindings), which each
//! use part of it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use wcomp_tests::{build_guest, target_dir, text, wcomp_bin, workspace_root};

/// A guest language: its file in a case folder, its `--lang`, the name of
/// its golden bindings, and how a guest becomes a core module.
pub struct Language {
    pub guest: &'static str,
    pub lang: &'static str,
    pub expected: &'static str,
    pub build: fn(case: &str, fixture: &Path, bindings: &str) -> Option<PathBuf>,
}

pub const LANGUAGES: &[Language] = &[Language {
    guest: "guest.rs",
    lang: "rust",
    expected: "expected.rs",
    build: build_rust,
}];

/// Every case folder, each run by a test below (checked by
/// `every_case_folder_is_run`).
pub const CASES: &[&str] = &[
    "app",
    "keystore",
    "keywords",
    "kitchen-sink",
    "maps",
    "maps-provider",
    "nominal",
    "nominal-provider",
    "resource-user",
    "resources",
    "sink",
];

const MANIFEST: &str = "[package]\nname = \"NAME\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
[lib]\ncrate-type = [\"cdylib\"]\n\n[profile.release]\npanic = \"abort\"\nopt-level = \"s\"\n\n[workspace]\n";

pub fn fixture(name: &str) -> PathBuf {
    workspace_root().join("fixtures/bind-rust").join(name)
}

/// The case's WIT path (from the workspace root) and world.
pub fn wit_and_world(name: &str) -> (String, String) {
    let spec = fs::read_to_string(fixture(name).join("case")).unwrap();
    let first = spec.lines().next().unwrap_or_default();
    let (wit, world) = first.trim().split_once(' ').expect("case: WIT WORLD");
    (wit.to_string(), world.to_string())
}

/// The languages whose guest file is in the case's folder.
pub fn languages_of(name: &str) -> Vec<&'static Language> {
    let dir = fixture(name);
    LANGUAGES
        .iter()
        .filter(|l| dir.join(l.guest).is_file())
        .collect()
}

/// `wcomp bind --lang L` for the case's world, as text.
pub fn bind(name: &str, language: &Language) -> String {
    let (wit, world) = wit_and_world(name);
    let out = Command::new(wcomp_bin())
        .args([
            "bind",
            "--lang",
            language.lang,
            "--world",
            &world,
            "-o",
            "-",
        ])
        .arg(workspace_root().join(wit))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{name}: wcomp bind --lang {} failed:\n{}",
        language.lang,
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// Binds, builds and wraps case `name` in `language`, once per test run
/// (tests share cases, and two builds of one folder at a time would race);
/// `None` (with a note) where no wasm32 route exists.
pub fn build_in(name: &str, language: &'static Language) -> Option<PathBuf> {
    static BUILT: Mutex<BTreeMap<(String, &str), Option<PathBuf>>> = Mutex::new(BTreeMap::new());
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    let key = (name.to_string(), language.lang);
    if let Some(done) = built.get(&key) {
        return done.clone();
    }
    let bindings = bind(name, language);
    let done = (language.build)(name, &fixture(name), &bindings)
        .map(|core| wrap(&format!("{name}.{}", language.lang), &core));
    built.insert(key, done.clone());
    done
}

/// A Rust guest: a cdylib crate of the guest file and its bindings.
pub fn build_rust(name: &str, fixture: &Path, bindings: &str) -> Option<PathBuf> {
    let dir = target_dir().join("bind-rust").join(name);
    fs::create_dir_all(dir.join("src")).unwrap();
    let crate_name = format!("bind_{}", name.replace('-', "_"));
    fs::write(
        dir.join("Cargo.toml"),
        MANIFEST.replace("NAME", &crate_name),
    )
    .unwrap();
    fs::copy(fixture.join("guest.rs"), dir.join("src/lib.rs")).unwrap();
    fs::write(dir.join("src/bindings.rs"), bindings).unwrap();
    build_guest(&dir.join("Cargo.toml"))
        .unwrap_or_else(|e| panic!("{name}: the guest did not build:\n{e}"))
}

/// `wcomp new` of a guest's core module, beside it.
pub fn wrap(name: &str, core: &Path) -> PathBuf {
    let component = core.with_file_name(format!("{name}.component.wasm"));
    let out = Command::new(wcomp_bin())
        .arg("new")
        .arg(core)
        .arg("-o")
        .arg(&component)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{name}: wcomp new failed:\n{}",
        text(&out.stderr)
    );
    component
}

/// Case `name`'s Rust guest as a component.
pub fn build(name: &str) -> Option<PathBuf> {
    build_in(name, &LANGUAGES[0])
}
