//! `wcomp wit ...` end to end: what it writes, and that its outputs read back.

use std::fs;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use tempfile::TempDir;
use wcomp_tests::{copy_dir, run, text, wcomp_bin, workspace_root};

/// The keystore interface in pre-1.0 WIT, as old articles show it.
const LEGACY: &str = "\
/// A key-value store, in WIT from before 1.0.
package wcomp:keystore@0.1.0;

interface store {
    /// The stored bytes.
    type payload = list<u8>;

    /// Why an operation failed.
    variant error {
        not-found,
        invalid-key(string),
    }

    set: func(key: string, value: payload) -> expected<unit, error>;
    get: func(key: string) -> expected<payload, error>;
    delete: func(key: string) -> expected<unit, error>;
}
";

/// A temporary directory holding `name` with `content`.
fn dir_with(name: &str, content: &str) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join(name), content).unwrap();
    dir
}

/// A temporary directory holding a copy of the project's `wit/`:
/// `keystore.wit` and the `deps/` it resolves with.
fn keystore() -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&workspace_root().join("wit"), dir.path(), &[]).unwrap();
    dir
}

/// Runs `wcomp args` in `dir` and asserts it succeeded.
#[track_caller]
fn ok(args: &[&str], dir: &Path) -> Output {
    let out = run(args, dir);
    assert!(
        out.status.success(),
        "wcomp {} failed ({}):\n{}",
        args.join(" "),
        out.status,
        text(&out.stderr)
    );
    out
}

fn stdout(args: &[&str], dir: &Path) -> String {
    text(&ok(args, dir).stdout)
}

/// The names of the files in `dir`, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The package named `name` in a `wit check --json` input object.
fn package<'a>(input: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    input["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no package {name} in {input}"))
}

/// The names of an input's packages other than its own.
fn dependencies(input: &serde_json::Value) -> Vec<String> {
    input["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .filter(|name| *name != input["package"])
        .collect()
}

/// The package reads back the same; of its dependencies, the encoding
/// keeps what the package uses (a `deps/` may hold more), and prints them
/// nested after it, since a wasm file has no `deps/` beside it.
#[test]
fn encoded_package_reads_back_the_same() {
    let dir = keystore();
    let d = dir.path();
    ok(&["wit", "encode", "keystore.wit", "-o", "keystore.wasm"], d);
    let json = |path: &str| -> serde_json::Value {
        let out = stdout(&["wit", "check", "--json", path], d);
        serde_json::from_str::<serde_json::Value>(&out).unwrap()[0].take()
    };
    let (wasm, wit) = (json("keystore.wasm"), json("keystore.wit"));
    assert_eq!(wasm["package"], wit["package"]);
    let name = wit["package"].as_str().unwrap();
    assert_eq!(package(&wasm, name), package(&wit, name));
    let from_deps = dependencies(&wit);
    for dep in dependencies(&wasm) {
        assert!(from_deps.contains(&dep), "{dep} in {from_deps:?}");
    }

    let printed = stdout(&["wit", "print", "keystore.wasm"], d);
    let own = stdout(&["wit", "print", "keystore.wit"], d);
    let nested = printed
        .strip_prefix(own.as_str())
        .unwrap_or_else(|| panic!("`{printed}` starts with `{own}`"));
    for dep in dependencies(&wasm) {
        assert!(nested.contains(&format!("package {dep} {{")), "{nested}");
    }
}

#[test]
fn check_json_describes_the_package() {
    let dir = keystore();
    let json = stdout(&["wit", "check", "--json", "keystore.wit"], dir.path());
    let json: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
    let input = &json[0];
    assert_eq!(input["package"], "wcomp:keystore@0.1.0");
    let package = package(input, "wcomp:keystore@0.1.0");
    let interfaces: Vec<(&str, u64)> = package["interfaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["name"].as_str().unwrap(),
                i["functions"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        interfaces,
        [
            ("store", 3),
            ("handler", 1),
            ("async-store", 3),
            ("async-handler", 1)
        ]
    );
    let worlds: Vec<&str> = package["worlds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        worlds,
        ["keystore", "app", "async-keystore", "async-app", "service"]
    );
}

#[test]
fn upgrade_rewrites_legacy_syntax_in_place() {
    let dir = dir_with("store.wit", LEGACY);
    let out = ok(&["wit", "upgrade", "store.wit"], dir.path());
    assert!(text(&out.stderr).contains("upgraded store.wit"));
    let upgraded = fs::read_to_string(dir.path().join("store.wit")).unwrap();
    // Only the types change; comments and spacing stay as they were.
    let expected = LEGACY
        .replace("expected<unit,", "result<_,")
        .replace("expected<", "result<");
    assert_eq!(upgraded, expected);
    ok(&["wit", "check", "store.wit"], dir.path());
}

#[test]
fn upgrade_dry_run_prints_a_diff_and_writes_nothing() {
    let dir = dir_with("store.wit", LEGACY);
    let diff = stdout(&["wit", "upgrade", "--dry-run", "store.wit"], dir.path());
    assert!(diff.contains("-    get: func(key: string) -> expected<payload, error>;"));
    assert!(diff.contains("+    get: func(key: string) -> result<payload, error>;"));
    assert_eq!(
        fs::read(dir.path().join("store.wit")).unwrap(),
        LEGACY.as_bytes()
    );
    assert_eq!(listing(dir.path()), ["store.wit"]);
}

#[test]
fn upgrade_of_current_syntax_does_nothing() {
    let dir = keystore();
    let before = fs::read(dir.path().join("keystore.wit")).unwrap();
    let out = ok(&["wit", "upgrade", "keystore.wit"], dir.path());
    assert!(text(&out.stderr).contains("nothing to do"));
    assert_eq!(out.stdout, b"");
    assert_eq!(fs::read(dir.path().join("keystore.wit")).unwrap(), before);
}

#[test]
fn failed_upgrade_leaves_the_file_alone() {
    let source = LEGACY.replace("-> expected<unit, error>;\n}", "-> option<unit>;\n}");
    let dir = dir_with("store.wit", &source);
    let out = run(["wit", "upgrade", "store.wit"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        fs::read_to_string(dir.path().join("store.wit")).unwrap(),
        source
    );
    assert_eq!(listing(dir.path()), ["store.wit"]);
}

/// The 2022 keystore snippet, a file that was an interface, with its names
/// declared: it is written as a package that checks clean, as the rewriter's
/// own case expects it.
#[test]
fn upgrade_of_2022_text_writes_a_package_that_checks() {
    let cases = workspace_root().join("fixtures/upgrade/2022-keystore-declared");
    let old = fs::read_to_string(cases.join("keystore.wit")).unwrap();
    let want = fs::read_to_string(cases.join("upgraded/keystore.wit")).unwrap();
    let dir = dir_with("keystore.wit", &old);
    let out = ok(&["wit", "upgrade", "keystore.wit"], dir.path());
    assert!(text(&out.stderr).starts_with("upgraded keystore.wit: "));
    assert_eq!(
        fs::read_to_string(dir.path().join("keystore.wit")).unwrap(),
        want
    );
    let summary = stdout(&["wit", "check", "keystore.wit"], dir.path());
    assert!(summary.starts_with("local:keystore"), "{summary}");
    // Once upgraded, there is nothing left to do.
    let again = ok(&["wit", "upgrade", "keystore.wit"], dir.path());
    assert!(text(&again.stderr).contains("nothing to do"));
}

/// The snippet as articles show it names `payload` and `error` without
/// declaring them: both are reported, and the file is left as it was.
#[test]
fn upgrade_that_does_not_resolve_writes_nothing() {
    let old =
        fs::read_to_string(workspace_root().join("fixtures/upgrade/2022-keystore/keystore.wit"))
            .unwrap();
    let dir = dir_with("keystore.wit", &old);
    for args in [
        &["wit", "upgrade", "keystore.wit"][..],
        &["wit", "upgrade", "--dry-run", "keystore.wit"],
    ] {
        let out = run(args, dir.path());
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
        let stderr = text(&out.stderr);
        for name in ["`payload`", "`error`"] {
            assert!(
                stderr.contains(&format!("name {name} does not exist")),
                "{stderr}"
            );
        }
        assert_eq!(
            fs::read_to_string(dir.path().join("keystore.wit")).unwrap(),
            old
        );
        assert_eq!(listing(dir.path()), ["keystore.wit"]);
    }
}

#[test]
fn output_into_a_missing_directory_fails_and_creates_nothing() {
    let dir = keystore();
    let before = listing(dir.path());
    for args in [
        ["wit", "encode", "keystore.wit", "-o", "nodir/keystore.wasm"],
        ["wit", "print", "keystore.wit", "-o", "nodir/keystore.wit"],
    ] {
        let out = run(args, dir.path());
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
        assert!(text(&out.stderr).contains("cannot write `nodir/"));
        assert_eq!(listing(dir.path()), before);
    }
}

#[test]
fn dash_output_is_stdout() {
    let dir = keystore();
    let d = dir.path();
    let wasm = ok(&["wit", "encode", "keystore.wit", "-o", "-"], d).stdout;
    assert!(wasm.starts_with(b"\0asm"));
    ok(&["wit", "encode", "keystore.wit", "-o", "keystore.wasm"], d);
    assert_eq!(wasm, fs::read(d.join("keystore.wasm")).unwrap());
    assert_eq!(
        stdout(&["wit", "print", "keystore.wit", "-o", "-"], d),
        stdout(&["wit", "print", "keystore.wit"], d),
    );
}

#[test]
fn encoding_is_deterministic() {
    let dir = keystore();
    let d = dir.path();
    ok(&["wit", "encode", "keystore.wit", "-o", "a.wasm"], d);
    ok(&["wit", "encode", "keystore.wit", "-o", "b.wasm"], d);
    // From elsewhere, by an absolute path: no path may leak into the bytes.
    let absolute = d.join("keystore.wit");
    let c = d.join("c.wasm");
    let other = tempfile::tempdir().unwrap();
    let args = [
        Path::new("wit"),
        Path::new("encode"),
        &absolute,
        Path::new("-o"),
        &c,
    ];
    assert!(run(args, other.path()).status.success());
    let a = fs::read(d.join("a.wasm")).unwrap();
    assert_eq!(a, fs::read(d.join("b.wasm")).unwrap());
    assert_eq!(a, fs::read(c).unwrap());
}

/// An input that fails, so that stderr has a full diagnostic to colour.
const TYPO: &str = "package demo:typo;\n\ninterface i {\n    type payload = list<u8>;\n    get: func() -> paylaod;\n}\n";

#[test]
fn no_color_output_has_no_escapes() {
    let dir = dir_with("typo.wit", TYPO);
    for args in [
        &["wit", "check", "typo.wit"][..],
        &["wit", "check", "--help"],
    ] {
        let out = run(args, dir.path());
        assert!(!text(&out.stdout).contains('\x1b'), "{args:?}");
        assert!(!text(&out.stderr).contains('\x1b'), "{args:?}");
    }
}

/// `NO_COLOR` wins even on a terminal. Uses util-linux `script` for a
/// pseudo-terminal, and checks without `NO_COLOR` too, to show that the
/// terminal would get colour.
#[test]
fn no_color_wins_on_a_terminal() {
    let script = Command::new("script").arg("--version").output();
    if !script.is_ok_and(|out| out.status.success()) {
        eprintln!("skipped: no util-linux `script` to make a terminal");
        return;
    }
    let dir = dir_with("typo.wit", TYPO);
    let on_terminal = |no_color: bool| {
        let shell = format!("'{}' wit check typo.wit", wcomp_bin().display());
        let mut script = Command::new("script");
        script
            .args(["-qec", &shell, "/dev/null"])
            .current_dir(dir.path())
            .env_remove("NO_COLOR")
            .env_remove("CLICOLOR_FORCE")
            .stdin(Stdio::null());
        if no_color {
            script.env("NO_COLOR", "1");
        }
        text(&script.output().unwrap().stdout)
    };
    let plain = on_terminal(true);
    assert!(plain.contains("paylaod"), "{plain}");
    assert!(!plain.contains('\x1b'), "{plain}");
    assert!(
        on_terminal(false).contains('\x1b'),
        "a terminal gets colour"
    );
}

/// `wit check --json PATH` run from the workspace root, parsed.
fn check_json(path: &str) -> serde_json::Value {
    let json = stdout(&["wit", "check", "--json", path], workspace_root());
    serde_json::from_str(&json).expect("valid JSON")
}

/// The vendored WASI 0.2 WIT resolves, and its root package names the
/// `wasi:cli/command` world with everything it includes.
#[test]
fn vendored_wasi_worlds_resolve() {
    let json = check_json("fixtures/wasi");
    let packages: Vec<&str> = json[0]["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for name in ["cli", "clocks", "filesystem", "io", "random", "sockets"] {
        let want = format!("wasi:{name}@0.2.12");
        assert!(packages.contains(&want.as_str()), "{want} in {packages:?}");
    }
    assert_eq!(json[0]["package"], "wcomp:wasi-worlds");
    let root = package(&json[0], "wcomp:wasi-worlds");
    let command = root["worlds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["name"] == "command")
        .expect("a `command` world");
    assert_eq!(
        command["exports"],
        serde_json::json!(["wasi:cli/run@0.2.12"])
    );
    let imports = command["imports"].as_array().unwrap();
    for iface in [
        "wasi:cli/environment@0.2.12",
        "wasi:clocks/monotonic-clock@0.2.12",
        "wasi:filesystem/preopens@0.2.12",
        "wasi:io/streams@0.2.12",
        "wasi:random/random@0.2.12",
        "wasi:sockets/tcp@0.2.12",
    ] {
        assert!(imports.iter().any(|i| i == iface), "{iface} in {imports:?}");
    }
}

/// A `.wit` file resolves with the `deps/` beside it, exactly as its
/// directory does; alone, it names the first package it misses.
#[test]
fn a_file_gets_the_deps_beside_it() {
    let dir = check_json("fixtures/wasi");
    let file = check_json("fixtures/wasi/world.wit");
    assert_eq!(file[0]["path"], "fixtures/wasi/world.wit");
    assert_eq!(file[0]["packages"], dir[0]["packages"]);
    let root = workspace_root();
    assert_eq!(
        stdout(&["wit", "print", "fixtures/wasi/world.wit"], root),
        stdout(&["wit", "print", "fixtures/wasi"], root),
    );

    let alone = dir_with(
        "world.wit",
        &fs::read_to_string(root.join("fixtures/wasi/world.wit")).unwrap(),
    );
    let out = run(["wit", "check", "world.wit"], alone.path());
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("wit::unknown_package"), "{stderr}");
    assert!(stderr.contains("wasi:cli@0.2.12"), "{stderr}");
}

/// `--world` also takes a qualified name, of the package or of a
/// dependency: `wasi:cli/command@0.2.12` binds the same world as the
/// vendored package's `command`, which includes it.
#[test]
fn qualified_world_names_pick_a_dependency_world() {
    let root = workspace_root();
    let dir = tempfile::tempdir().unwrap();
    let bind = |world: &str, out: &str| {
        run(
            [
                "bind",
                "fixtures/wasi",
                "--lang",
                "rust",
                "--world",
                world,
                "-o",
                dir.path().join(out).to_str().unwrap(),
            ],
            root,
        )
    };
    for (world, out) in [
        ("wasi:cli/command@0.2.12", "qualified.rs"),
        ("wasi:cli/command", "unversioned.rs"),
    ] {
        let done = bind(world, out);
        assert!(done.status.success(), "{world}: {}", text(&done.stderr));
        let src = fs::read_to_string(dir.path().join(out)).unwrap();
        assert!(src.contains("world `command`"), "{world}");
        assert!(src.contains("pub mod wasi"), "{world}");
    }
    let done = bind("wasi:cli/comand@0.2.12", "typo.rs");
    assert_eq!(done.status.code(), Some(1));
    let stderr = text(&done.stderr);
    assert!(
        stderr.contains("`wasi:cli/comand@0.2.12` not found"),
        "{stderr}"
    );
    assert!(!dir.path().join("typo.rs").exists());
}
