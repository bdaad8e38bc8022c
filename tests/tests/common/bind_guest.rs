//! The guests of `fixtures/bind-rust`: each case folder's guest, in every
//! language present, bound with `wcomp bind --lang L`, built for wasm32
//! (`cargo xtask build-guest` for Rust, clang-16 for C) and wrapped with
//! `wcomp new`. Shared by
//! `bind_rust.rs` (calls through `Val`s, golden bindings) and
//! `host_roundtrip.rs` (calls through generated host bindings), which each
//! use part of it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use wcomp_tests::c_guest::{STRICT, c_toolchain};
use wcomp_tests::go_guest::{go_toolchain, write_go_mod};
use wcomp_tests::{build_guest, target_dir, text, wcomp_bin, workspace_root};

/// A guest language: its file in a case folder, its `--lang`, the golden
/// file beside the guest of each generated file kept as one (by the
/// generated file's extension), and how a guest becomes a core module.
pub struct Language {
    pub guest: &'static str,
    pub lang: &'static str,
    pub expected: &'static [(&'static str, &'static str)],
    pub build: fn(case: &str, fixture: &Path, bindings: &Bindings) -> Option<PathBuf>,
    /// The module carries no component type (Go cannot write custom
    /// sections): `wcomp new` is given the case's WIT.
    pub wrap_with_wit: bool,
}

pub const LANGUAGES: &[Language] = &[
    Language {
        guest: "guest.rs",
        lang: "rust",
        expected: &[(".rs", "expected.rs")],
        build: build_rust,
        wrap_with_wit: false,
    },
    Language {
        guest: "guest.c",
        lang: "c",
        // The component type's bytes are left out: the WIT is reviewed.
        expected: &[(".h", "expected.h"), (".c", "expected.c")],
        build: build_c,
        wrap_with_wit: false,
    },
    Language {
        guest: "guest.go",
        lang: "go",
        // Not `.go` files: the case folder is no Go package.
        expected: &[
            ("/cabi.go", "expected-cabi.go.golden"),
            (".go", "expected.go.golden"),
        ],
        build: build_go,
        wrap_with_wit: true,
    },
];

/// The files `wcomp bind` wrote for a case, by name.
pub struct Bindings {
    pub dir: PathBuf,
    pub files: BTreeMap<String, String>,
}

impl Bindings {
    /// The golden files of `language`: (golden name, text).
    /// A file matches the first pattern it ends with, in order.
    pub fn golden(&self, language: &Language) -> Vec<(&'static str, &str)> {
        let patterns = language.expected;
        patterns
            .iter()
            .enumerate()
            .filter_map(|(i, (ext, golden))| {
                self.files
                    .iter()
                    .find(|(name, _)| {
                        name.ends_with(ext)
                            && !patterns[..i].iter().any(|(e, _)| name.ends_with(e))
                            && !name.ends_with("_component_type.c")
                    })
                    .map(|(_, text)| (*golden, text.as_str()))
            })
            .collect()
    }
}

/// Every case folder, each run by a test below (checked by
/// `every_case_folder_is_run`).
pub const CASES: &[&str] = &[
    "app",
    "async-calls",
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
    "stream-app",
    "stream-app-go",
    "stream-store",
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

/// `wcomp bind --lang L` for the case's world, into a folder of its own
/// under `purpose` (tests that bind one case at the same time must not
/// share a folder: each empties it first).
pub fn bind(name: &str, language: &Language, purpose: &str) -> Bindings {
    let (wit, world) = wit_and_world(name);
    let dir = target_dir()
        .join(purpose)
        .join(format!("{name}.{}", language.lang));
    let _ = fs::remove_dir_all(&dir);
    let out = Command::new(wcomp_bin())
        .args([
            "bind",
            "--lang",
            language.lang,
            "--world",
            &world,
            "--out-dir",
        ])
        .arg(&dir)
        .arg(workspace_root().join(wit))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{name}: wcomp bind --lang {} failed:\n{}",
        language.lang,
        text(&out.stderr)
    );
    let mut files = BTreeMap::new();
    read_tree(&dir, "", &mut files);
    Bindings { dir, files }
}

/// Every file under `dir`, by its `/`-separated path from it.
fn read_tree(dir: &Path, prefix: &str, files: &mut BTreeMap<String, String>) {
    for e in fs::read_dir(dir).unwrap().flatten() {
        let name = format!("{prefix}{}", e.file_name().to_string_lossy());
        if e.path().is_dir() {
            read_tree(&e.path(), &format!("{name}/"), files);
        } else {
            files.insert(name, fs::read_to_string(e.path()).unwrap());
        }
    }
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
    let bindings = bind(name, language, "bind-out");
    let wit = language.wrap_with_wit.then(|| wit_and_world(name));
    let done = (language.build)(name, &fixture(name), &bindings)
        .map(|core| wrap(&format!("{name}.{}", language.lang), &core, wit.as_ref()));
    built.insert(key, done.clone());
    done
}

/// A Rust guest: a cdylib crate of the guest file and its bindings.
pub fn build_rust(name: &str, fixture: &Path, bindings: &Bindings) -> Option<PathBuf> {
    let bindings = match bindings.files.values().next() {
        Some(text) if bindings.files.len() == 1 => text,
        _ => panic!("{name}: the Rust bindings are not one file"),
    };
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

/// A C guest: the guest file and the bindings' `.c` files, compiled
/// under the strict flags and linked as a reactor by clang-16, with the
/// case's own flags (a `cflags` file beside the guest, if any).
pub fn build_c(name: &str, fixture: &Path, bindings: &Bindings) -> Option<PathBuf> {
    let Some(tc) = c_toolchain() else {
        eprintln!("skipped: {name} (C): clang-16 with a wasm-ld is not installed");
        return None;
    };
    let dir = target_dir().join("bind-c").join(name);
    fs::create_dir_all(&dir).unwrap();
    // Compiled where it is (through a link, where the guest is another
    // fixture's file), so that the headers beside it are found.
    let guest = fs::canonicalize(fixture.join("guest.c")).unwrap();
    let core = dir.join(format!("{name}.core.wasm"));
    let mut args: Vec<String> = STRICT.iter().map(|s| s.to_string()).collect();
    args.extend(["-O2".into(), "-mexec-model=reactor".into(), "-I".into()]);
    args.push(bindings.dir.display().to_string());
    args.push(guest.display().to_string());
    for file in bindings.files.keys().filter(|f| f.ends_with(".c")) {
        args.push(bindings.dir.join(file).display().to_string());
    }
    args.extend(["-o".into(), core.display().to_string()]);
    if let Ok(flags) = fs::read_to_string(fixture.join("cflags")) {
        args.extend(flags.split_whitespace().map(String::from));
    }
    if let Err(e) = tc.run(&dir, &args) {
        panic!("{name}: the C guest did not build:\n{e}");
    }
    Some(core)
}

/// A Go guest: a module of the guest file (`main.go`), the packages of its
/// own it imports (beside the file the guest links to) and its bindings'
/// package, built as a wasip1 reactor.
pub fn build_go(name: &str, fixture: &Path, bindings: &Bindings) -> Option<PathBuf> {
    let Some(go) = go_toolchain() else {
        eprintln!("skipped: {name} (Go): no Go 1.24 or later on PATH");
        return None;
    };
    let dir = target_dir().join("bind-go").join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    write_go_mod(&dir).unwrap();
    let guest = fs::canonicalize(fixture.join("guest.go")).unwrap();
    fs::copy(&guest, dir.join("main.go")).unwrap();
    let source = fs::read_to_string(&guest).unwrap();
    let generated: Vec<&str> = bindings
        .files
        .keys()
        .filter_map(|f| f.split('/').next())
        .collect();
    for package in source.lines().filter_map(|l| {
        l.trim()
            .strip_prefix("\"wcomp.example/guest/")?
            .strip_suffix('"')
    }) {
        if generated.contains(&package) {
            continue;
        }
        let from = guest.parent().unwrap().join(package);
        fs::create_dir_all(dir.join(package)).unwrap();
        for file in fs::read_dir(&from).unwrap().flatten() {
            if file.path().extension().is_some_and(|e| e == "go") {
                fs::copy(file.path(), dir.join(package).join(file.file_name())).unwrap();
            }
        }
    }
    for (file, text) in &bindings.files {
        let path = dir.join(file);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }
    // Generated Go is gofmt- and vet-clean, as a user's linters expect.
    match go.unformatted(&dir) {
        Ok(files) => assert!(
            files.iter().all(|f| f.ends_with("main.go")),
            "{name}: gofmt would change {files:?}"
        ),
        Err(e) => panic!("{name}: {e}"),
    }
    if let Err(e) = go.vet(&dir) {
        panic!("{name}: go vet:\n{e}");
    }
    let core = dir.join(format!("{name}.core.wasm"));
    if let Err(e) = go.build(&dir, &core) {
        panic!("{name}: the Go guest did not build:\n{e}");
    }
    Some(core)
}

/// `wcomp new` of a guest's core module, beside it (given the WIT and
/// world, for a module without its component type).
pub fn wrap(name: &str, core: &Path, wit: Option<&(String, String)>) -> PathBuf {
    let component = core.with_file_name(format!("{name}.component.wasm"));
    let mut cmd = Command::new(wcomp_bin());
    cmd.arg("new").arg(core).arg("-o").arg(&component);
    if let Some((wit, world)) = wit {
        cmd.arg("--wit")
            .arg(workspace_root().join(wit))
            .args(["--world", world]);
    }
    let out = cmd.output().unwrap();
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
