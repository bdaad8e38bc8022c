//! `cargo xtask demo` end to end: it must print every answer of
//! `fixtures/demo/script` on its command's line, over the Rust key store
//! and again over the C and Go ones (the same answers, TTL expiry
//! included), show the composed artifact's one capability (the key store's
//! monotonic clock), and leave the three components in `target/demo/`.
//! Then the WASI 0.3 key store must answer the same script over async
//! calls, and `fixtures/demo/script-streams` (values streamed in and out),
//! and compose under the WASI 0.3 HTTP app into a `wasi:http/handler@0.3.0`
//! component whose capabilities are the clock and the HTTP types; and the
//! same two scripts over the WASI 0.3 stores written in C and in Go.
//! The script runner must also fail on a wrong answer, and honour real
//! time with `--real-clock`. The composed artifact then runs the same
//! script under jco (transpiled to JavaScript, in node), where `wait`
//! really waits. Skipped (with a note) where no wasm32 toolchain exists
//! (the demo exits 3); CI installs one.
use std::fs;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::SystemTime;

use wcomp_tests::script::{self, Step};
use wcomp_tests::{component_exports, target_dir, text, workspace_root};

fn run_script(component: &Path, script: &str, flags: &[&str]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("script");
    fs::write(&file, script).unwrap();
    Command::new(env!("CARGO_BIN_EXE_run-script"))
        .arg(component)
        .arg(&file)
        .args(flags)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn demo_answers_the_script_and_leaves_the_components() {
    let root = workspace_root();
    let started = SystemTime::now();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args(["xtask", "demo"])
        .current_dir(root)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    if out.status.code() == Some(3) {
        eprintln!("skipped: {}", text(&out.stderr));
        return;
    }
    let stdout = text(&out.stdout);
    assert!(
        out.status.success(),
        "cargo xtask demo failed ({}):\n{stdout}\n{}",
        out.status,
        text(&out.stderr)
    );

    // Every command of the script, in order, with its expected answer: over
    // the Rust key store, then over the C one and the Go one (CI has
    // clang-16 and Go; elsewhere the demo says it skipped that half).
    let steps =
        script::parse(&fs::read_to_string(root.join("fixtures/demo/script")).unwrap()).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    let half_at = |language: &str| {
        lines
            .iter()
            .position(|l| l.starts_with(&format!("The same app over the {language} key store")))
    };
    let (c_half, go_half) = (half_at("C"), half_at("Go"));
    // Last, the WASI 0.3 part: the same script over async calls.
    let async_part = lines
        .iter()
        .position(|l| l.starts_with("The WASI 0.3 key store"))
        .unwrap_or_else(|| panic!("the demo ran no WASI 0.3 key store:\n{stdout}"));
    assert!(
        c_half.is_some() || wcomp_tests::c_guest::c_toolchain().is_none(),
        "clang-16 is installed, but the demo ran no C key store:\n{stdout}"
    );
    assert!(
        go_half.is_some() || wcomp_tests::go_guest::go_toolchain().is_none(),
        "Go is installed, but the demo ran no Go key store:\n{stdout}"
    );
    // And the WASI 0.3 app over the C and the Go store, where their
    // toolchains are.
    let async_at = |language: &str| {
        lines.iter().position(|l| {
            l.starts_with(&format!(
                "The same WASI 0.3 app over the {language} key store"
            ))
        })
    };
    let (c_async_part, go_async_part) = (async_at("C"), async_at("Go"));
    assert!(
        c_async_part.is_some() || wcomp_tests::c_guest::c_toolchain().is_none(),
        "clang-16 is installed, but the demo ran no C WASI 0.3 key store:\n{stdout}"
    );
    assert!(
        go_async_part.is_some() || wcomp_tests::go_guest::go_toolchain().is_none(),
        "Go is installed, but the demo ran no Go WASI 0.3 key store:\n{stdout}"
    );
    // The halves in order: Rust, then each other store that ran.
    let mut starts: Vec<(usize, &str)> = vec![(0, "Rust")];
    starts.extend(c_half.map(|at| (at, "C")));
    starts.extend(go_half.map(|at| (at, "Go")));
    starts.push((async_part, "WASI 0.3"));
    starts.extend(c_async_part.map(|at| (at, "WASI 0.3 in C")));
    starts.extend(go_async_part.map(|at| (at, "WASI 0.3 in Go")));
    let halves: Vec<(&[&str], &str)> = starts
        .iter()
        .enumerate()
        .map(|(i, (at, name))| {
            let end = starts.get(i + 1).map_or(lines.len(), |(next, _)| *next);
            (&lines[*at..end], *name)
        })
        .collect();
    let streams =
        script::parse(&fs::read_to_string(root.join("fixtures/demo/script-streams")).unwrap())
            .unwrap();
    let mut checks: Vec<(&[&str], &str, &[script::Line])> = halves
        .iter()
        .map(|&(lines, store)| (lines, store, &steps[..]))
        .collect();
    // The streams' script, after the first, over the WASI 0.3 stores.
    for (lines, store) in &halves {
        if store.starts_with("WASI 0.3") {
            checks.push((lines, "WASI 0.3 (streams)", &streams[..]));
        }
    }
    for (lines, store, steps) in checks {
        let mut at = 0;
        for line in steps {
            let found = lines[at..].iter().position(|l| match &line.step {
                Step::Send { command, expect } => l
                    .trim_start()
                    .strip_prefix(command.as_str())
                    .is_some_and(|rest| rest.trim_start() == format!("=> {expect}")),
                Step::Wait(_) => l.trim_start().starts_with(&line.text) && l.contains("simulated"),
            });
            let Some(found) = found else {
                panic!(
                    "script:{}: `{}` is not answered as expected, in order, over the {store} key store:\n{stdout}",
                    line.number, line.text,
                );
            };
            at += found + 1;
        }
    }
    if c_half.is_some() || go_half.is_some() {
        assert!(
            stdout.contains(" implementations (bytes):"),
            "no sizes side by side:\n{stdout}"
        );
    }
    for (half, lang) in [(c_half, "c"), (go_half, "go")] {
        if half.is_some() {
            for name in [
                format!("keystore-{lang}.wasm"),
                format!("composed-{lang}.wasm"),
            ] {
                let wasm = fs::read(target_dir().join("demo").join(&name)).unwrap();
                assert_eq!(wasm.get(4..8), Some(&[0x0d, 0, 1, 0][..]), "{name}");
            }
        }
    }

    // The HTTP service was checked against the platforms' world.
    assert!(
        stdout.contains("is a wasi:http/proxy@0.2.12 component"),
        "no HTTP service:\n{stdout}"
    );
    let service = fs::read(target_dir().join("demo/service.wasm")).unwrap();
    assert_eq!(
        service.get(4..8),
        Some(&[0x0d, 0, 1, 0][..]),
        "service.wasm"
    );

    // The composition needs exactly one thing from its host: the clock.
    let capabilities = lines
        .iter()
        .find_map(|l| l.strip_prefix("capabilities of "))
        .unwrap_or_else(|| panic!("no capabilities line:\n{stdout}"));
    let (_, list) = capabilities.split_once(": ").unwrap();
    let list: Vec<&str> = list.split(", ").collect();
    assert!(
        matches!(list[..], [one] if one.starts_with("wasi:clocks/monotonic-clock@")),
        "{capabilities}"
    );

    let demo = target_dir().join("demo");
    for name in ["app.wasm", "keystore.wasm", "composed.wasm"] {
        let path = demo.join(name);
        let written = fs::metadata(&path)
            .and_then(|m| m.modified())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(written >= started, "{name} was not written by this run");
        let wasm = fs::read(&path).unwrap();
        assert_eq!(
            wasm.get(4..8),
            Some(&[0x0d, 0, 1, 0][..]),
            "{name}: not a component"
        );
    }
    let composed = demo.join("composed.wasm");
    let exports = component_exports(&fs::read(&composed).unwrap()).unwrap();
    assert_eq!(exports, ["wcomp:keystore/handler@0.1.0"]);
    // The WASI 0.3 composition: the async handler, and the 0.3 clock alone.
    let composed_async = demo.join("composed-async.wasm");
    let exports = component_exports(&fs::read(&composed_async).unwrap()).unwrap();
    assert_eq!(exports, ["wcomp:keystore/async-handler@0.1.0"]);
    assert!(
        stdout.contains(
            "capabilities of target/demo/composed-async.wasm (what the host must grant): \
             wasi:clocks/monotonic-clock@0.3.0\n"
        ),
        "{stdout}"
    );
    // The WASI 0.3 HTTP service: the handler, and the clock and HTTP types.
    let service_async = demo.join("service-async.wasm");
    let exports = component_exports(&fs::read(&service_async).unwrap()).unwrap();
    assert_eq!(exports, ["wasi:http/handler@0.3.0"]);
    assert!(
        stdout.contains(
            "capabilities of target/demo/service-async.wasm (what the host must grant): \
             wasi:clocks/monotonic-clock@0.3.0, wasi:http/types@0.3.0\n"
        ),
        "{stdout}"
    );

    // Outside wasmtime: the same script under jco (node), real clock.
    wcomp_tests::jco::check_script_file("demo", &composed, &root.join("fixtures/demo/script"))
        .unwrap_or_else(|e| panic!("{e}"));

    // A wrong expectation fails the run and names its line.
    let out = run_script(
        &composed,
        "get nobody => error: not found\nget nobody => ok\n",
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr)
            .contains("script:2: `get nobody` answered \"error: not found\", expected \"ok\""),
        "{}",
        text(&out.stderr)
    );

    // The same component on the real clock: the TTL runs out in real time.
    let real = "set s v 1 => ok\nget s => v\nwait 1.1\nget s => error: not found\n";
    for component in [&composed, &composed_async] {
        let out = run_script(component, real, &["--real-clock"]);
        assert!(
            out.status.success(),
            "{}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
    }
}
