//! `wcomp bind --lang rust --stubs` for every world in the repository: the
//! shipped WIT, every loadable WIT file under `fixtures/` and `crates/`, and
//! the vendored WASI 0.2 worlds (`fixtures/wasi`). Each world's stub file
//! is a crate root; all of them build for wasm32 under `#![deny(warnings)]`
//! (one cargo workspace, one build), and each built module is wrapped by
//! `wcomp new`, which checks every core import and export against the
//! world. Worlds whose bindings are byte-identical are built once.
//!
//! A world the backend refuses must be listed in `REFUSED` with the reason
//! the error gives; anything else failing fails the test.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use wcomp_tests::{build_guest, fnv_key, target_dir, text, wcomp_bin, workspace_root};

/// (WIT file, world) pairs the Rust backend refuses, and a word of the
/// error: features outside the synchronous ABI or this backend's reach.
const REFUSED: &[(&str, &str, &str)] = &[
    // Async bindings are issue 17's; `wcomp new` wraps this module's world.
    (
        "fixtures/new/async-builtins/world.wit",
        "async-jobs",
        "is async",
    ),
];

/// Files that are meant not to load (error fixtures) are skipped by trying:
/// at least this many worlds must remain, so that a loader regression
/// cannot quietly empty the test.
const MIN_WORLDS: usize = 40;

fn wit_sources(root: &Path) -> Vec<PathBuf> {
    let mut out = vec![root.join("wit"), root.join("fixtures/wasi")];
    let mut stack = vec![root.join("fixtures"), root.join("crates")];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let name = e.file_name();
            if p.is_dir() {
                // Dependencies are loaded through their dependents.
                if name != "deps" && name != "wasi" {
                    stack.push(p);
                }
            } else if p.extension().is_some_and(|x| x == "wit") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The worlds of the package at `path`, or `None` when it does not load.
fn worlds(path: &Path) -> Option<Vec<String>> {
    let out = Command::new(wcomp_bin())
        .args(["wit", "check", "--json"])
        .arg(path)
        .output()
        .unwrap();
    if !out.status.success() {
        return None;
    }
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let entry = &json[0];
    let root = entry["package"].as_str()?;
    let pkg = entry["packages"]
        .as_array()?
        .iter()
        .find(|p| p["name"] == root)?;
    Some(
        pkg["worlds"]
            .as_array()?
            .iter()
            .filter_map(|w| w["name"].as_str().map(String::from))
            .collect(),
    )
}

const MANIFEST: &str = "[package]\nname = \"NAME\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
[lib]\ncrate-type = [\"cdylib\"]\npath = \"lib.rs\"\n";

#[test]
fn every_world_binds_and_builds_for_wasm32() {
    let root = workspace_root();
    let dir = target_dir().join("bind-stubs");
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();

    // crate name -> the worlds it stands for
    let mut crates: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut refused = Vec::new();
    let mut count = 0;
    for source in wit_sources(root) {
        let Some(names) = worlds(&source) else {
            continue;
        };
        let rel = source.strip_prefix(root).unwrap().display().to_string();
        for world in names {
            count += 1;
            let what = format!("{rel} world {world}");
            let file = dir.join("out.rs");
            let out = Command::new(wcomp_bin())
                .args(["bind", "--lang", "rust", "--stubs", "--world", &world, "-o"])
                .arg(&file)
                .arg(&source)
                .output()
                .unwrap();
            if !out.status.success() {
                let err = text(&out.stderr);
                match REFUSED.iter().find(|(f, w, _)| *f == rel && *w == world) {
                    Some((_, _, word)) if err.contains(word) => refused.push(what),
                    _ => panic!("{what}: wcomp bind failed:\n{err}"),
                }
                continue;
            }
            let src = fs::read_to_string(&file).unwrap();
            let name = format!("stubs_{}", fnv_key(&[src.as_bytes()]));
            let krate = dir.join(&name);
            if !krate.exists() {
                fs::create_dir_all(&krate).unwrap();
                fs::write(krate.join("stubs.rs"), &src).unwrap();
                fs::write(
                    krate.join("lib.rs"),
                    "#![deny(warnings)]\ninclude!(\"stubs.rs\");\n",
                )
                .unwrap();
                fs::write(krate.join("Cargo.toml"), MANIFEST.replace("NAME", &name)).unwrap();
            }
            crates.entry(name).or_default().push(what);
        }
    }
    assert!(
        count >= MIN_WORLDS,
        "only {count} worlds found; expected at least {MIN_WORLDS}"
    );
    assert_eq!(
        refused.len(),
        REFUSED.len(),
        "REFUSED lists worlds that now bind: {refused:?}"
    );

    let members: Vec<String> = crates.keys().map(|c| format!("{c:?}")).collect();
    fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[workspace]\nresolver = \"3\"\nmembers = [{}]\n\n[profile.release]\npanic = \"abort\"\n",
            members.join(", ")
        ),
    )
    .unwrap();
    let Some(printed) = build_guest(&dir.join("Cargo.toml"))
        .unwrap_or_else(|e| panic!("the stubs did not build for wasm32:\n{e}"))
    else {
        return;
    };
    // `build-guest` prints the path of one artifact; the others sit beside it.
    let release = printed.parent().unwrap();
    for (name, what) in &crates {
        let core = release.join(format!("{name}.wasm"));
        let out = Command::new(wcomp_bin())
            .arg("new")
            .arg(&core)
            .arg("-o")
            .arg(dir.join(format!("{name}.component.wasm")))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}: wcomp new refused the stub module:\n{}",
            what.join(", "),
            text(&out.stderr)
        );
    }
    eprintln!(
        "{count} worlds, {} distinct bindings, all built for wasm32 and wrapped",
        crates.len()
    );
}
