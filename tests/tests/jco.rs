//! The jco harness (`wcomp_tests::jco`) end to end: a composed app and key
//! store, transpiled by jco and driven by a script in node, answer as they
//! do in wasmtime; a wrong expectation is reported with its line. The demo's
//! own test calls `jco::check_script_file` the same way with
//! `target/demo/composed.wasm`.
//!
//! Skipped, with a note, where jco is not installed, unless
//! `WCOMP_REQUIRE_JCO=1` (CI) makes that a failure.

#[allow(dead_code)]
#[path = "compose/build.rs"]
mod build;

use std::fs;
use std::path::Path;
use std::time::Duration;

use tempfile::TempDir;
use wcomp_tests::jco::{self, ScriptRun};
use wcomp_tests::{normalize, run, text, workspace_root};

/// The `app` world of `wit/keystore.wit` in WAT: splits the command on
/// spaces, calls the store, and answers like the Python app of
/// `fixtures/compose/python-keystore` (`ok`, the value, `error: ...`).
/// A bump allocator that never frees.
///
/// Memory: scratch at 0, the store's return area at 16, `handle`'s at 32,
/// the answer texts from 64, the words of the command (ptr, len) at 400,
/// the heap from 1024.
const APP_WAT: &str = r#"
(module
  (import "wcomp:keystore/store@0.1.0" "set"
    (func $set (param i32 i32 i32 i32 i32 i32 i32)))
  (import "wcomp:keystore/store@0.1.0" "get" (func $get (param i32 i32 i32)))
  (import "wcomp:keystore/store@0.1.0" "delete" (func $delete (param i32 i32 i32)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (data (i32.const 64) "ok")
  (data (i32.const 72) "error: not found")
  (data (i32.const 96) "error: invalid key: ")
  (data (i32.const 128) "error: storage full")
  (data (i32.const 160) "error: other: ")
  (data (i32.const 192) "error: usage: set K V [TTL] | get K | delete K")
  (data (i32.const 256) "set")
  (data (i32.const 260) "get")
  (data (i32.const 264) "delete")

  (func $realloc (export "cabi_realloc")
    (param $old i32) (param $old-size i32) (param $align i32) (param $size i32) (result i32)
    (local $ptr i32)
    (local.set $ptr
      (i32.and
        (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
        (i32.sub (i32.const 0) (local.get $align))))
    (global.set $heap (i32.add (local.get $ptr) (local.get $size)))
    (if (i32.gt_u (global.get $heap) (i32.mul (memory.size) (i32.const 65536)))
      (then
        (if (i32.eq (memory.grow (i32.add (i32.shr_u (local.get $size) (i32.const 16)) (i32.const 1)))
                    (i32.const -1))
          (then unreachable))))
    (if (local.get $old)
      (then (memory.copy (local.get $ptr) (local.get $old) (local.get $old-size))))
    (local.get $ptr))

  ;; Word $i of the command: its pointer and length.
  (func $wp (param $i i32) (result i32)
    (i32.load (i32.add (i32.const 400) (i32.shl (local.get $i) (i32.const 3)))))
  (func $wl (param $i i32) (result i32)
    (i32.load (i32.add (i32.const 404) (i32.shl (local.get $i) (i32.const 3)))))

  ;; Splits (ptr, len) at spaces into the word table (five words at most
  ;; kept) and returns how many words there are.
  (func $split (param $p i32) (param $n i32) (result i32)
    (local $i i32) (local $count i32) (local $start i32) (local $in i32) (local $c i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $c (i32.load8_u (i32.add (local.get $p) (local.get $i))))
        (if (i32.or (i32.eq (local.get $c) (i32.const 32))
                    (i32.and (i32.ge_u (local.get $c) (i32.const 9))
                             (i32.le_u (local.get $c) (i32.const 13))))
          (then
            (if (local.get $in)
              (then
                (call $word (local.get $count) (local.get $start)
                  (i32.sub (i32.add (local.get $p) (local.get $i)) (local.get $start)))
                (local.set $count (i32.add (local.get $count) (i32.const 1)))
                (local.set $in (i32.const 0)))))
          (else
            (if (i32.eqz (local.get $in))
              (then
                (local.set $start (i32.add (local.get $p) (local.get $i)))
                (local.set $in (i32.const 1))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (if (local.get $in)
      (then
        (call $word (local.get $count) (local.get $start)
          (i32.sub (i32.add (local.get $p) (local.get $n)) (local.get $start)))
        (local.set $count (i32.add (local.get $count) (i32.const 1)))))
    (local.get $count))
  (func $word (param $i i32) (param $ptr i32) (param $len i32)
    (if (i32.lt_u (local.get $i) (i32.const 5))
      (then
        (i32.store (i32.add (i32.const 400) (i32.shl (local.get $i) (i32.const 3))) (local.get $ptr))
        (i32.store (i32.add (i32.const 404) (i32.shl (local.get $i) (i32.const 3))) (local.get $len)))))

  ;; Whether word 0 is the text (ptr, len).
  (func $is (param $ptr i32) (param $len i32) (result i32)
    (local $i i32)
    (if (i32.ne (call $wl (i32.const 0)) (local.get $len)) (then (return (i32.const 0))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (if (i32.ne (i32.load8_u (i32.add (call $wp (i32.const 0)) (local.get $i)))
                    (i32.load8_u (i32.add (local.get $ptr) (local.get $i))))
          (then (return (i32.const 0))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.const 1))

  ;; A decimal u32, or -1.
  (func $number (param $p i32) (param $n i32) (result i64)
    (local $i i32) (local $v i64) (local $d i32)
    (if (i32.eqz (local.get $n)) (then (return (i64.const -1))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $d (i32.sub (i32.load8_u (i32.add (local.get $p) (local.get $i))) (i32.const 48)))
        (if (i32.gt_u (local.get $d) (i32.const 9)) (then (return (i64.const -1))))
        (local.set $v (i64.add (i64.mul (local.get $v) (i64.const 10)) (i64.extend_i32_u (local.get $d))))
        (if (i64.gt_u (local.get $v) (i64.const 0xffffffff)) (then (return (i64.const -1))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $v))

  ;; The answer (ptr, len), in handle's return area.
  (func $answer (param $ptr i32) (param $len i32) (result i32)
    (i32.store (i32.const 32) (local.get $ptr))
    (i32.store (i32.const 36) (local.get $len))
    (i32.const 32))
  (func $concat (param $a i32) (param $al i32) (param $b i32) (param $bl i32) (result i32)
    (local $dst i32)
    (local.set $dst
      (call $realloc (i32.const 0) (i32.const 0) (i32.const 1) (i32.add (local.get $al) (local.get $bl))))
    (memory.copy (local.get $dst) (local.get $a) (local.get $al))
    (memory.copy (i32.add (local.get $dst) (local.get $al)) (local.get $b) (local.get $bl))
    (call $answer (local.get $dst) (i32.add (local.get $al) (local.get $bl))))
  (func $usage (result i32) (call $answer (i32.const 192) (i32.const 46)))

  ;; The `error` of a failed result at 16: its case at 20, its text at 24.
  (func $error (result i32)
    (local $case i32)
    (local.set $case (i32.load8_u (i32.const 20)))
    (if (i32.eqz (local.get $case)) (then (return (call $answer (i32.const 72) (i32.const 16)))))
    (if (i32.eq (local.get $case) (i32.const 1))
      (then (return (call $concat (i32.const 96) (i32.const 20)
                                  (i32.load (i32.const 24)) (i32.load (i32.const 28))))))
    (if (i32.eq (local.get $case) (i32.const 2))
      (then (return (call $answer (i32.const 128) (i32.const 19)))))
    (call $concat (i32.const 160) (i32.const 14) (i32.load (i32.const 24)) (i32.load (i32.const 28))))
  (func $done (result i32)
    (if (result i32) (i32.load8_u (i32.const 16))
      (then (call $error))
      (else (call $answer (i32.const 64) (i32.const 2)))))

  (func (export "wcomp:keystore/handler@0.1.0#handle") (param $p i32) (param $n i32) (result i32)
    (local $count i32) (local $ttl i64)
    (local.set $count (call $split (local.get $p) (local.get $n)))
    (if (i32.and (call $is (i32.const 256) (i32.const 3)) (i32.eq (local.get $count) (i32.const 3)))
      (then
        (call $set (call $wp (i32.const 1)) (call $wl (i32.const 1))
                   (call $wp (i32.const 2)) (call $wl (i32.const 2))
                   (i32.const 0) (i32.const 0) (i32.const 16))
        (return (call $done))))
    (if (i32.and (call $is (i32.const 256) (i32.const 3)) (i32.eq (local.get $count) (i32.const 4)))
      (then
        (local.set $ttl (call $number (call $wp (i32.const 3)) (call $wl (i32.const 3))))
        (if (i64.lt_s (local.get $ttl) (i64.const 0)) (then (return (call $usage))))
        (call $set (call $wp (i32.const 1)) (call $wl (i32.const 1))
                   (call $wp (i32.const 2)) (call $wl (i32.const 2))
                   (i32.const 1) (i32.wrap_i64 (local.get $ttl)) (i32.const 16))
        (return (call $done))))
    (if (i32.and (call $is (i32.const 260) (i32.const 3)) (i32.eq (local.get $count) (i32.const 2)))
      (then
        (call $get (call $wp (i32.const 1)) (call $wl (i32.const 1)) (i32.const 16))
        (if (i32.load8_u (i32.const 16)) (then (return (call $error))))
        (return (call $answer (i32.load (i32.const 20)) (i32.load (i32.const 24))))))
    (if (i32.and (call $is (i32.const 264) (i32.const 6)) (i32.eq (local.get $count) (i32.const 2)))
      (then
        (call $delete (call $wp (i32.const 1)) (call $wl (i32.const 1)) (i32.const 16))
        (return (call $done))))
    (call $usage))
)
"#;

/// What both pairs answer alike. The WAT key store keeps one entry and
/// prints `set` for each `set`; a time to live of 0 expires at once.
const SCRIPT: &str = "\
# set, get, delete and the errors, through the app's handler
set a hello => ok
get a => hello
get b => error: not found
delete a => ok
get a => error: not found
delete a => error: not found
set t v 0 => ok
get t => error: not found
wait 0.3
set k λ-ü 60 => ok
get k => λ-ü
get bad key => error: usage: set K V [TTL] | get K | delete K
  frobnicate   =>   error: usage: set K V [TTL] | get K | delete K
";

/// The answers the script expects, in order.
fn expected_answers() -> Vec<String> {
    wcomp_tests::script::parse(SCRIPT)
        .unwrap()
        .into_iter()
        .filter_map(|l| match l.step {
            wcomp_tests::script::Step::Send { expect, .. } => Some(expect),
            wcomp_tests::script::Step::Wait(_) => None,
        })
        .collect()
}

/// Builds `keystore.wasm` (the `keystore-wat` part) and, with `app`,
/// `app.wasm`, composes them into `composed.wasm` in a new folder.
fn composed(app: impl FnOnce(&Path) -> Result<(), String>) -> Result<TempDir, String> {
    let work = tempfile::tempdir().map_err(|e| e.to_string())?;
    let builds = build::parse("keystore.wasm = part keystore-wat")?;
    build::build_all(
        &builds,
        &workspace_root().join("fixtures/compose"),
        work.path(),
    )?;
    app(work.path())?;
    let args = [
        "compose",
        "app.wasm",
        "--with",
        "keystore.wasm",
        "-o",
        "composed.wasm",
    ];
    let out = run(args, work.path());
    if !out.status.success() {
        return Err(format!(
            "`wcomp {}` failed:\n{}",
            args.join(" "),
            normalize(&text(&out.stderr), work.path())
        ));
    }
    Ok(work)
}

/// The WAT app, wrapped against the repository's `wit` directory.
fn wat_app(dir: &Path) -> Result<(), String> {
    fs::write(dir.join("app.wat"), APP_WAT).map_err(|e| e.to_string())?;
    let wit = workspace_root().join("wit");
    let wit = wit.to_string_lossy();
    let args = [
        "new", "app.wat", "--wit", &wit, "--world", "app", "-o", "app.wasm",
    ];
    let out = run(args, dir);
    if !out.status.success() {
        return Err(format!(
            "`wcomp new app.wat` failed:\n{}",
            text(&out.stderr)
        ));
    }
    Ok(())
}

fn report(test: &str, run: &ScriptRun) {
    eprintln!(
        "jco: {test}: transpile {:.2?}, run {:.2?} ({} commands)",
        run.transpile_time,
        run.run_time,
        run.answers.len()
    );
}

#[test]
fn wat_app_and_keystore_answer_under_jco() -> Result<(), String> {
    let Some(tool) = jco::jco_or_skip("wat_app_and_keystore_answer_under_jco")? else {
        return Ok(());
    };
    let work = composed(wat_app)?;
    let dir = work.path();
    let run = jco::run_handler_script(&dir.join("composed.wasm"), SCRIPT, &dir.join("jco"))
        .map_err(|e| format!("under jco {}: {e}", tool.version))?;
    report("wat app + wat keystore", &run);
    assert_eq!(run.answers, expected_answers());
    // The key store's WASI stdout reached node through preview2-shim.
    assert_eq!(run.stdout, "set\n".repeat(3));
    // `wait 0.3` really waited.
    assert!(run.run_time >= Duration::from_millis(300), "{run:?}");
    Ok(())
}

#[test]
fn a_wrong_answer_is_reported_with_its_line() -> Result<(), String> {
    let Some(_) = jco::jco_or_skip("a_wrong_answer_is_reported_with_its_line")? else {
        return Ok(());
    };
    let work = composed(wat_app)?;
    let dir = work.path();
    let script = "set a hello => ok\n\n# the value is `hello`\nget a => hullo\nget a => hello\n";
    let err = jco::run_handler_script(&dir.join("composed.wasm"), script, &dir.join("jco"))
        .expect_err("`hullo` is not what `get a` answers");
    assert_eq!(
        err,
        "script line 4: `get a`\n  expected: \"hullo\"\n  answered: \"hello\""
    );
    Ok(())
}

/// A component without the handler export fails before any command, and
/// says what it exports instead.
#[test]
fn a_component_without_the_handler_is_refused() -> Result<(), String> {
    let Some(_) = jco::jco_or_skip("a_component_without_the_handler_is_refused")? else {
        return Ok(());
    };
    let work = composed(wat_app)?;
    let dir = work.path();
    let err = jco::run_handler_script(&dir.join("keystore.wasm"), "get a => x\n", &dir.join("jco"))
        .expect_err("the key store has no handler");
    assert!(
        err.starts_with(
            "under jco, before any command: the component does not export wcomp:keystore/handler@0.1.0"
        ),
        "{err}"
    );
    assert!(err.contains("wcomp:keystore/store@0.1.0"), "{err}");
    Ok(())
}

/// The Python app of the compose tests (componentize-py, 18 MB) with the
/// WAT key store: the same script, the same answers.
#[test]
fn python_app_and_wat_keystore_answer_under_jco() -> Result<(), String> {
    let test = "python_app_and_wat_keystore_answer_under_jco";
    let Some(_) = jco::jco_or_skip(test)? else {
        return Ok(());
    };
    if build::componentize_py().is_none() {
        eprintln!("skipped: {test}: componentize-py is not installed");
        return Ok(());
    }
    let work = composed(|dir| {
        let builds = build::parse("app.wasm = python app")?;
        let case = workspace_root().join("fixtures/compose/python-keystore");
        build::build_all(&builds, &case, dir)
    })?;
    let dir = work.path();
    let component = dir.join("composed.wasm");
    let script = dir.join("script");
    fs::write(&script, SCRIPT).map_err(|e| e.to_string())?;
    let run = jco::check_script_file("python app + wat keystore", &component, &script)?
        .ok_or("jco was found, then not")?;
    assert_eq!(run.answers, expected_answers());
    assert_eq!(run.stdout, "set\n".repeat(3));
    Ok(())
}

/// The Python app and the Python key store share seven core modules
/// (componentize-py's runtime): composed with them shared (the default)
/// and with `--no-dedup`, both answer the script, with the same answers.
#[test]
fn python_pair_answers_the_same_under_jco_with_and_without_shared_modules() -> Result<(), String> {
    let test = "python_pair_answers_the_same_under_jco_with_and_without_shared_modules";
    let Some(tool) = jco::jco_or_skip(test)? else {
        return Ok(());
    };
    if build::componentize_py().is_none() {
        eprintln!("skipped: {test}: componentize-py is not installed");
        return Ok(());
    }
    let work = tempfile::tempdir().map_err(|e| e.to_string())?;
    let dir = work.path();
    let builds = build::parse("keystore.wasm = python keystore\napp.wasm = python app")?;
    let case = workspace_root().join("fixtures/compose/python-keystore");
    build::build_all(&builds, &case, dir)?;
    let mut answers = Vec::new();
    for (out, extra) in [("shared.wasm", None), ("copies.wasm", Some("--no-dedup"))] {
        let mut args = vec!["compose", "app.wasm", "--with", "keystore.wasm", "-o", out];
        args.extend(extra);
        let done = run(&args, dir);
        if !done.status.success() {
            return Err(format!(
                "`wcomp {}` failed:\n{}",
                args.join(" "),
                normalize(&text(&done.stderr), dir)
            ));
        }
        let run = jco::run_handler_script(&dir.join(out), SCRIPT, &dir.join(format!("jco-{out}")))
            .map_err(|e| format!("{out} under jco {}: {e}", tool.version))?;
        report(out, &run);
        answers.push(run.answers);
    }
    let (shared, copies) = (
        fs::metadata(dir.join("shared.wasm")).map_err(|e| e.to_string())?,
        fs::metadata(dir.join("copies.wasm")).map_err(|e| e.to_string())?,
    );
    assert!(shared.len() < copies.len(), "nothing was shared");
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0], expected_answers());
    Ok(())
}
