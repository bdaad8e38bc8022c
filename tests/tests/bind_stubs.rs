//! `wcomp bind --lang rust --stubs` for every world in the repository (the
//! shipped WIT, every loadable WIT file under `fixtures/` and `crates/`, and
//! the vendored WASI 0.2 worlds in `fixtures/wasi`) and in wit-parser's own
//! test corpus (`../shared/corpora/wit-parser-ui`). A corpus package with
//! interfaces and no world gets two worlds written beside a copy of it, one
//! importing and one exporting all of its interfaces, so that its types and
//! functions are bound both ways. Each world's stub file
//! is a crate root; all of them build for wasm32 under `#![deny(warnings)]`
//! (one cargo workspace, one build), and each built module is wrapped by
//! `wcomp new`, which checks every core import and export against the
//! world. Worlds whose bindings are byte-identical are built once.
//!
//! The same worlds are bound in C (`--lang c`), and every distinct set of C
//! bindings compiles for wasm32 under the strict flags.
//!
//! A world a backend refuses must be listed in `REFUSED` with the reason
//! the error gives (every backend refuses the same ones); anything else
//! failing fails the test.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use wcomp_tests::c_guest::{STRICT, c_toolchain};
use wcomp_tests::{build_guest, fnv_key, target_dir, text, wcomp_bin, wit_sources, workspace_root};

/// (WIT file, world) pairs the backends refuse, and words of the error (one
/// of those between `|`, as backends name the first item they refuse):
/// features outside every backend's reach. (Async functions, futures and
/// streams bind in all three: the async worlds of the repository and of the
/// corpus are built like the others.)
const REFUSED: &[(&str, &str, &str)] = &[
    // Gated in wasmtime 48, so no guest could run it.
    (
        "corpus/error-context.wit",
        "corpus-imports",
        "uses `error-context`",
    ),
    (
        "corpus/error-context.wit",
        "corpus-exports",
        "uses `error-context`",
    ),
];

/// Worlds that bind and build, but whose module `wcomp new` refuses,
/// because wasmparser refuses a type WIT can spell: (WIT file, world,
/// words of the error).
const NEW_REFUSED: &[(&str, &str, &str)] = &[(
    "fixtures/new/stream-of-char/world.wit",
    "letters",
    "`stream<char>` is not valid at this time",
)];

/// `Ok` when `world` of `rel` is expected to be refused and the error
/// names its reason; else the error, to report.
fn expected_refusal(rel: &str, world: &str, err: &str) -> Result<(), String> {
    match REFUSED.iter().find(|(f, w, _)| *f == rel && *w == world) {
        Some((_, _, words)) if words.split('|').any(|w| err.contains(w)) => Ok(()),
        _ => Err(err.to_string()),
    }
}

/// How many of `REFUSED` a backend must refuse (those of the corpus only
/// when it is there).
fn expected_refusals(corpus: bool) -> usize {
    REFUSED
        .iter()
        .filter(|(f, _, _)| corpus || !f.starts_with("corpus/"))
        .count()
}

/// Files that are meant not to load (error fixtures) are skipped by trying:
/// at least this many worlds must remain, so that a loader regression
/// cannot quietly empty the test.
const MIN_WORLDS: usize = 40;

/// As `MIN_WORLDS`, for the worlds that come from the corpus.
const MIN_CORPUS_WORLDS: usize = 40;

/// wit-parser's UI corpus, kept beside the project.
fn corpus_dir() -> PathBuf {
    workspace_root().join("../shared/corpora/wit-parser-ui")
}

/// The corpus inputs that wit-parser accepts: top-level `.wit` files and
/// package folders (`parse-fail/` holds the ones it rejects).
fn corpus_sources() -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(corpus_dir()) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().unwrap_or_default().to_string_lossy();
            if p.is_dir() {
                name != "parse-fail"
            } else {
                name.ends_with(".wit")
            }
        })
        .collect();
    out.sort();
    out
}

/// For a corpus input whose root package has interfaces but no world: a
/// copy of it in `into` with a file adding `corpus-imports` and
/// `corpus-exports`. `None` when the input does not load or has worlds.
fn with_corpus_worlds(source: &Path, into: &Path) -> Option<(PathBuf, Vec<String>)> {
    let out = Command::new(wcomp_bin())
        .args(["wit", "check", "--json"])
        .arg(source)
        .output()
        .unwrap();
    if !out.status.success() {
        return None;
    }
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let root = json[0]["package"].as_str()?;
    let pkg = json[0]["packages"]
        .as_array()?
        .iter()
        .find(|p| p["name"] == root)?;
    if !pkg["worlds"].as_array()?.is_empty() {
        return None;
    }
    let interfaces: Vec<&str> = pkg["interfaces"]
        .as_array()?
        .iter()
        .filter_map(|i| i["name"].as_str())
        .collect();
    if interfaces.is_empty() {
        return None;
    }
    let _ = fs::remove_dir_all(into);
    fs::create_dir_all(into).unwrap();
    if source.is_dir() {
        copy_dir(source, into);
    } else {
        fs::copy(source, into.join(source.file_name()?)).unwrap();
    }
    let item = |dir: &str| {
        interfaces
            .iter()
            .map(|i| format!("  {dir} %{i};\n"))
            .collect::<String>()
    };
    fs::write(
        into.join("zz-corpus-worlds.wit"),
        format!(
            "package {root};\n\nworld corpus-imports {{\n{}}}\n\nworld corpus-exports {{\n{}}}\n",
            item("import"),
            item("export")
        ),
    )
    .unwrap();
    // Nested `package x { ... }` blocks and the like may not take a
    // second file: such an input is skipped.
    let names = worlds(into)?;
    Some((into.to_path_buf(), names))
}

fn copy_dir(from: &Path, to: &Path) {
    for e in fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            fs::create_dir_all(&target).unwrap();
            copy_dir(&e.path(), &target);
        } else {
            fs::copy(e.path(), &target).unwrap();
        }
    }
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

/// A WIT input with worlds: what to bind, how `REFUSED` names it, its
/// worlds, and whether it is from the corpus.
type Source = (PathBuf, String, Vec<String>, bool);

/// Every world source, and the corpus inputs found (a corpus package
/// without worlds is copied under `dir` with two worlds added).
fn all_sources(dir: &Path) -> (Vec<Source>, Vec<PathBuf>) {
    let root = workspace_root();
    let mut sources = Vec::new();
    for source in wit_sources(root) {
        let Some(names) = worlds(&source) else {
            continue;
        };
        let rel = source.strip_prefix(root).unwrap().display().to_string();
        sources.push((source, rel, names, false));
    }
    let corpus = corpus_sources();
    for source in &corpus {
        let name = source.file_name().unwrap().to_string_lossy().into_owned();
        let rel = format!("corpus/{name}");
        if let Some((copy, names)) = with_corpus_worlds(source, &dir.join("corpus").join(&name)) {
            sources.push((copy, rel, names, true));
        } else if let Some(names) = worlds(source) {
            sources.push((source.clone(), rel, names, true));
        }
    }
    (sources, corpus)
}

const MANIFEST: &str = "[package]\nname = \"NAME\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
[lib]\ncrate-type = [\"cdylib\"]\npath = \"lib.rs\"\n";

#[test]
fn every_world_binds_and_builds_for_wasm32() {
    let dir = target_dir().join("bind-stubs");
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();

    // crate name -> the worlds it stands for
    let mut crates: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut refused = Vec::new();
    let mut count = 0;
    let (sources, corpus) = all_sources(&dir);
    let mut corpus_count = 0;
    let mut unexpected = Vec::new();
    for (source, rel, names, from_corpus) in &sources {
        for world in names {
            count += 1;
            corpus_count += usize::from(*from_corpus);
            let what = format!("{rel} world {world}");
            let file = dir.join("out.rs");
            let out = Command::new(wcomp_bin())
                .args(["bind", "--lang", "rust", "--stubs", "--world", world, "-o"])
                .arg(&file)
                .arg(source)
                .output()
                .unwrap();
            if !out.status.success() {
                match expected_refusal(rel, world, &text(&out.stderr)) {
                    Ok(()) => refused.push(what),
                    Err(err) => unexpected.push(format!("{what}: wcomp bind failed:\n{err}")),
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
    assert!(unexpected.is_empty(), "{}", unexpected.join("\n"));
    if corpus.is_empty() {
        eprintln!(
            "note: no corpus at {}: its worlds were not bound",
            corpus_dir().display()
        );
    } else {
        assert!(
            corpus_count >= MIN_CORPUS_WORLDS,
            "only {corpus_count} corpus worlds found; expected at least {MIN_CORPUS_WORLDS}"
        );
    }
    assert!(
        count >= MIN_WORLDS,
        "only {count} worlds found; expected at least {MIN_WORLDS}"
    );
    assert_eq!(
        refused.len(),
        expected_refusals(!corpus.is_empty()),
        "REFUSED lists worlds that now bind; refused were only {refused:?}"
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
    let mut new_refused = 0;
    for (name, what) in &crates {
        let core = release.join(format!("{name}.wasm"));
        let out = Command::new(wcomp_bin())
            .arg("new")
            .arg(&core)
            .arg("-o")
            .arg(dir.join(format!("{name}.component.wasm")))
            .output()
            .unwrap();
        let expected = |err: &str| {
            what.iter().all(|w| {
                NEW_REFUSED.iter().any(|(f, world, words)| {
                    *w == format!("{f} world {world}") && err.contains(words)
                })
            })
        };
        if !out.status.success() && expected(&text(&out.stderr)) {
            new_refused += what.len();
            continue;
        }
        assert!(
            out.status.success(),
            "{}: wcomp new refused the stub module:\n{}",
            what.join(", "),
            text(&out.stderr)
        );
    }
    assert_eq!(
        new_refused,
        NEW_REFUSED.len(),
        "NEW_REFUSED lists worlds whose modules now wrap"
    );
    eprintln!(
        "{count} worlds ({corpus_count} from the corpus), {} refused, {} distinct bindings, all built for wasm32 and wrapped but {new_refused} the component model refuses",
        refused.len(),
        crates.len()
    );
}

/// `wcomp bind --lang c` for every world: each distinct set of bindings
/// compiles for wasm32 under `-std=c11 -Wall -Wextra -Werror -pedantic`
/// (the `.c` files, which include the header; exports are left to
/// implement, so nothing is linked), and each header reads as C++17 under
/// the same warnings, where clang++-16 is. The refusals are `REFUSED`'s.
#[test]
fn every_world_binds_in_c_and_compiles() {
    let (sets, distinct) = bind_every_world("c");
    let (count, refused) = (distinct.count, distinct.refused);
    let distinct = distinct.sets;
    let Some(tc) = c_toolchain() else {
        eprintln!("skipped: compiling the C bindings: clang-16 with a wasm-ld is not installed");
        return;
    };
    // The headers say `extern "C"`: they must read as C++ too.
    let cxx = wcomp_tests::which("clang++-16");
    let mut failed = Vec::new();
    for (key, worlds) in &distinct {
        let set = sets.join(key);
        let mut args: Vec<String> = STRICT.iter().map(|s| s.to_string()).collect();
        args.extend(["-O1".into(), "-c".into()]);
        let mut headers = Vec::new();
        for e in fs::read_dir(&set).unwrap().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.ends_with(".c") {
                args.push(name);
            } else if name.ends_with(".h") {
                headers.push(name);
            }
        }
        if let Err(e) = tc.compile(&set, &args) {
            failed.push(format!("{}:\n{e}", worlds.join(", ")));
        }
        if let Some(cxx) = &cxx {
            let out = Command::new(cxx)
                .args(&tc.flags)
                .args([
                    "-x",
                    "c++",
                    "-std=c++17",
                    "-fsyntax-only",
                    "-Wall",
                    "-Wextra",
                ])
                .args(["-Werror", "-pedantic"])
                .args(&headers)
                .current_dir(&set)
                .output()
                .unwrap();
            if !out.status.success() {
                failed.push(format!(
                    "{} (the header as C++):\n{}",
                    worlds.join(", "),
                    text(&out.stderr)
                ));
            }
        }
    }
    assert!(
        failed.is_empty(),
        "C bindings that do not compile:\n{}",
        failed.join("\n")
    );
    eprintln!(
        "{count} worlds, {} refused, {} distinct C bindings, all compiled for wasm32 (headers as C++ too, where clang++-16 is)",
        refused.len(),
        distinct.len()
    );
}

/// The worlds of every source, bound in one language.
struct Bound {
    count: usize,
    refused: Vec<String>,
    /// Bindings hash -> the worlds they stand for.
    sets: BTreeMap<String, Vec<String>>,
}

/// `wcomp bind --lang LANG` for every world of every source, each distinct
/// set of files kept once, in `target/bind-LANG-all/sets/<hash>/` (the folder
/// returned); a refusal must be `REFUSED`'s, and every world must be found.
fn bind_every_world(lang: &str) -> (PathBuf, Bound) {
    let dir = target_dir().join(format!("bind-{lang}-all"));
    let _ = fs::remove_dir_all(&dir);
    let sets = dir.join("sets");
    fs::create_dir_all(&sets).unwrap();
    let (sources, corpus) = all_sources(&dir);
    let mut bound = Bound {
        count: 0,
        refused: Vec::new(),
        sets: BTreeMap::new(),
    };
    let mut unexpected = Vec::new();
    for (source, rel, names, _) in &sources {
        for world in names {
            bound.count += 1;
            let what = format!("{rel} world {world}");
            let out_dir = dir.join("out");
            let _ = fs::remove_dir_all(&out_dir);
            let out = Command::new(wcomp_bin())
                .args(["bind", "--lang", lang, "--world", world, "--out-dir"])
                .arg(&out_dir)
                .arg(source)
                .output()
                .unwrap();
            if !out.status.success() {
                match expected_refusal(rel, world, &text(&out.stderr)) {
                    Ok(()) => bound.refused.push(what),
                    Err(err) => {
                        unexpected.push(format!("{what}: wcomp bind --lang {lang} failed:\n{err}"))
                    }
                }
                continue;
            }
            let mut files = Vec::new();
            read_tree(&out_dir, "", &mut files);
            files.sort();
            let parts: Vec<&[u8]> = files
                .iter()
                .flat_map(|(n, t)| [n.as_bytes(), t.as_bytes()])
                .collect();
            let key = fnv_key(&parts);
            let set = sets.join(&key);
            if !set.exists() {
                fs::rename(&out_dir, &set).unwrap();
            }
            bound.sets.entry(key).or_default().push(what);
        }
    }
    assert!(unexpected.is_empty(), "{}", unexpected.join("\n"));
    assert!(
        bound.count >= MIN_WORLDS,
        "only {} worlds found; expected at least {MIN_WORLDS}",
        bound.count
    );
    assert_eq!(
        bound.refused.len(),
        expected_refusals(!corpus.is_empty()),
        "REFUSED lists worlds that now bind; refused were only {:?}",
        bound.refused
    );
    (sets, bound)
}

/// Every file under `dir`, by its `/`-separated path from it.
fn read_tree(dir: &Path, prefix: &str, files: &mut Vec<(String, String)>) {
    for e in fs::read_dir(dir).unwrap().flatten() {
        let name = format!("{prefix}{}", e.file_name().to_string_lossy());
        if e.path().is_dir() {
            read_tree(&e.path(), &format!("{name}/"), files);
        } else {
            files.push((name, fs::read_to_string(e.path()).unwrap()));
        }
    }
}

/// The same worlds bound in Go (`--lang go`): every distinct package is
/// gofmt-clean, passes `go vet` and compiles for wasip1 (one Go module
/// holding them all, one `go vet` and one `go build`).
#[test]
fn every_world_binds_in_go_and_vets() {
    let (module, bound) = bind_every_world("go");
    let Some(go) = wcomp_tests::go_guest::go_toolchain() else {
        eprintln!("skipped: checking the Go bindings: no Go 1.24 or later on PATH");
        return;
    };
    wcomp_tests::go_guest::write_go_mod(&module).unwrap();
    let unformatted = go.unformatted(&module).unwrap();
    assert!(
        unformatted.is_empty(),
        "gofmt would change: {unformatted:?}"
    );
    go.vet(&module).unwrap_or_else(|e| panic!("go vet:\n{e}"));
    go.run(&module, &["build", "./..."])
        .unwrap_or_else(|e| panic!("go build:\n{e}"));
    eprintln!(
        "{} worlds, {} refused, {} distinct Go packages, gofmt- and vet-clean, built for wasip1",
        bound.count,
        bound.refused.len(),
        bound.sets.len()
    );
}
