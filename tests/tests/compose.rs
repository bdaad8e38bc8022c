//! `wcomp compose` end to end: every folder under `fixtures/compose/`
//! (but `parts/`) is one test, `compose/<case>`. The format is in
//! `fixtures/compose/README.md`; in short:
//!
//! - `build` says which components to make first (from WAT parts with
//!   `wcomp new`, or from Python with componentize-py), in a temporary copy
//!   of the case's folder; `cmd` holds the arguments after `wcomp compose`;
//! - a case with a `stdout` file must succeed and print it (and `stderr`);
//!   what it writes (`out.wasm`, or what its `output` file names, `none`
//!   for nothing) must validate, carry its provenance, come out
//!   byte-identical a second time, and pass its `calls` script in wasmtime
//!   (and each `calls-NAME` script against `NAME.wasm`);
//! - a case without one must fail with exit code 1, the error in `stderr`,
//!   no output and every input as it was;
//! - a `pending` file (what the message should say) ignores the case.
//!
//! `BLESS=1 cargo test -p wcomp-tests --test compose` rewrites `stdout` and
//! `stderr`.

#[path = "compose/build.rs"]
mod build;
#[path = "common/calls.rs"]
mod calls;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Instant;

use libtest_mimic::{Arguments, Failed, Trial};
use wasmtime::component::Component;
use wcomp_tests::host::shared_engine;
use wcomp_tests::{
    changed_since, component_exports, copy_dir, custom_section, custom_section_names, expect_file,
    fnv_key, normalize, run, snapshot, split_args, target_dir, temporaries, text, wasm_tools,
    wasm_tools_validate, workspace_root,
};

/// The composed component a succeeding case writes, unless its `output` file says otherwise.
const OUT: &str = "out.wasm";
/// The name of the provenance custom section.
const PROVENANCE: &str = "wcomp-provenance";

fn main() {
    let args = Arguments::from_args();
    let dir = workspace_root().join("fixtures/compose");
    let mut cases: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir() && p.file_name().is_some_and(|n| n != "parts"))
        .collect();
    cases.sort();
    let mut trials = Vec::new();
    for case in cases {
        let name = format!("compose/{}", case.file_name().unwrap().to_string_lossy());
        let mut ignored = case.join("pending").exists();
        let builds = fs::read_to_string(case.join("build")).unwrap_or_default();
        let python = build::parse(&builds).is_ok_and(|b| build::needs_python(&b));
        if python && build::componentize_py().is_none() {
            eprintln!("note: {name} is skipped: componentize-py is not installed");
            ignored = true;
        }
        trials.push(Trial::test(name, move || check(&case)).with_ignored_flag(ignored));
    }
    libtest_mimic::run(&args, trials).exit();
}

/// Prints how long a slow step took, when `WCOMP_TEST_TIMES` is set.
fn timed<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let result = f();
    if std::env::var_os("WCOMP_TEST_TIMES").is_some() {
        eprintln!("time: {what}: {:.2?}", start.elapsed());
    }
    result
}

/// Files that describe a case; they are not copied to where it runs.
fn is_meta(name: &str) -> bool {
    matches!(
        name,
        "build" | "cmd" | "calls" | "stdout" | "stderr" | "output" | "pending" | "README.md"
    ) || name.starts_with("calls-")
}

fn check(case: &Path) -> Result<(), Failed> {
    let name = case.file_name().unwrap().to_string_lossy().into_owned();
    let tmp = tempfile::tempdir()?;
    let work = tmp.path();
    let meta: Vec<String> = fs::read_dir(case)?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| is_meta(n))
        .collect();
    let meta: Vec<&str> = meta.iter().map(String::as_str).collect();
    copy_dir(case, work, &meta)?;

    let builds = build::parse(&fs::read_to_string(case.join("build")).unwrap_or_default())?;
    timed(&format!("{name}: build"), || {
        build::build_all(&builds, case, work)
    })?;
    let cmd = fs::read_to_string(case.join("cmd")).map_err(|e| format!("cannot read cmd: {e}"))?;
    let mut args = vec!["compose".to_string()];
    args.extend(split_args(&cmd)?);

    let output = expected_output(case)?;
    let before = snapshot(work)?;
    let out = timed(&format!("{name}: compose"), || run(&args, work));
    let mut problems = if case.join("stdout").exists() {
        check_success(case, work, &args, &out, output.as_deref(), &before)?
    } else {
        check_error(case, work, &out, &before)?
    };
    for path in temporaries(work) {
        problems.push(format!("temporary file left behind: {}", path.display()));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n\n").into())
    }
}

/// The file a succeeding case writes: `out.wasm`, or the path its `output`
/// file names; `None` when that says `none` (`--explain` alone writes nothing).
fn expected_output(case: &Path) -> Result<Option<String>, Failed> {
    match fs::read_to_string(case.join("output")) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Some(OUT.to_string())),
        Err(e) => Err(format!("cannot read `output`: {e}").into()),
        Ok(text) if text.trim() == "none" => Ok(None),
        Ok(text) => Ok(Some(text.trim().to_string())),
    }
}

/// What `wcomp` printed on stderr, comparable across runs: paths of the case
/// read `[CASE]`, and the size in the `wrote ...` line reads `[SIZE]`.
fn stderr_of(out: &Output, work: &Path) -> String {
    let stderr = normalize(&text(&out.stderr), work);
    stderr
        .lines()
        .map(|line| match line.strip_suffix(" bytes") {
            Some(head) if line.starts_with("wrote ") => {
                let digits = head.trim_end_matches(|c: char| c.is_ascii_digit());
                format!("{digits}[SIZE] bytes")
            }
            _ => line.to_string(),
        })
        .map(|line| line + "\n")
        .collect()
}

fn describe(args: &[String], out: &Output, work: &Path) -> String {
    format!(
        "`wcomp {}` ({}):\nstdout:\n{}\nstderr:\n{}",
        args.join(" "),
        out.status,
        normalize(&text(&out.stdout), work),
        normalize(&text(&out.stderr), work)
    )
}

/// A composition that must succeed.
fn check_success(
    case: &Path,
    work: &Path,
    args: &[String],
    out: &Output,
    output: Option<&str>,
    before: &BTreeMap<PathBuf, String>,
) -> Result<Vec<String>, Failed> {
    if !out.status.success() {
        return Ok(vec![format!(
            "expected success (the case has `stdout`), but {}",
            describe(args, out, work)
        )]);
    }
    let mut problems = Vec::new();
    expect_file(
        case,
        "stdout",
        &normalize(&text(&out.stdout), work),
        &mut problems,
    )?;
    expect_file(case, "stderr", &stderr_of(out, work), &mut problems)?;

    let written = changed_since(work, before)?;
    let has_calls = case.join("calls").exists();
    match output {
        None if written.is_empty() => {}
        None => problems.push(format!(
            "the case writes nothing (`output` says none), but the run wrote {written:?}"
        )),
        Some(name) if !work.join(name).is_file() => {
            problems.push(format!("{name} was not written"));
        }
        Some(name) => {
            if written != [name] {
                problems.push(format!(
                    "the run wrote {written:?}, expected only [{name:?}]"
                ));
            }
            check_output(work, name, args, &mut problems)?;
            let undeduplicated = check_no_dedup(work, name, args, &mut problems)?;
            if has_calls {
                let script = fs::read_to_string(case.join("calls"))?;
                // The same answers with and without shared modules.
                for file in [Some(name), undeduplicated.as_deref()]
                    .into_iter()
                    .flatten()
                {
                    if let Err(e) = run_calls(case, &work.join(file), &script, "calls") {
                        problems.push(e);
                    }
                }
            }
        }
    }
    // `calls-NAME` runs against the component `NAME.wasm` the case built.
    let mut scripts: Vec<PathBuf> = fs::read_dir(case)?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("calls-")
        })
        .collect();
    scripts.sort();
    for path in scripts {
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let target = work.join(format!("{}.wasm", &file["calls-".len()..]));
        let script = fs::read_to_string(&path)?;
        if let Err(e) = run_calls(case, &target, &script, &file) {
            problems.push(e);
        }
    }
    Ok(problems)
}

/// Runs a calls script against a component file.
fn run_calls(case: &Path, file: &Path, script: &str, script_name: &str) -> Result<(), String> {
    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    let slot = format!("{}-{name}", case.file_name().unwrap().to_string_lossy());
    let script = calls::Script::parse(script).map_err(|e| format!("{script_name}: {e}"))?;
    let bytes = fs::read(file).map_err(|e| format!("cannot read {name}: {e}"))?;
    let component = timed(&format!("wasmtime compiles {name}"), || {
        compile(&bytes, &slot)
    })
    .map_err(|e| format!("wasmtime cannot compile {name}: {e:?}"))?;
    // What wasmtime sees checks the export reader that compares the app's
    // exports with the composition's.
    let seen: Vec<String> = component
        .component_type()
        .exports(shared_engine())
        .map(|(n, _)| n.to_string())
        .collect();
    if component_exports(&bytes).as_ref() != Some(&seen) {
        return Err(format!(
            "the test's export reader reads {:?} from {name}, wasmtime {seen:?}",
            component_exports(&bytes)
        ));
    }
    timed(&format!("{script_name} against {name}"), || {
        calls::run(shared_engine(), &component, &script)
    })
    .map_err(|e| format!("{script_name} against {name}: {e}"))
}

/// Components at least this big (the Python ones, whose compilation takes
/// tens of seconds) are compiled through a cache on disk.
const CACHE_FROM: usize = 1 << 20;

/// Compiles a component, through `target/compose-fixtures/` if it is big;
/// the cache keeps one compiled file per `slot` (case and file name).
fn compile(bytes: &[u8], slot: &str) -> wasmtime::Result<Component> {
    if bytes.len() < CACHE_FROM {
        return Component::new(shared_engine(), bytes);
    }
    let cache = target_dir().join("compose-fixtures");
    let prefix = format!("compiled-{slot}-");
    let path = cache.join(format!("{prefix}{}.cwasm", fnv_key(&[bytes])));
    if path.is_file() {
        // SAFETY: the file was written below by `precompile_component` of
        // an engine of this same test binary; wasmtime still checks that it
        // was compiled for a compatible engine, and it is rebuilt if not.
        if let Ok(component) = unsafe { Component::deserialize_file(shared_engine(), &path) } {
            return Ok(component);
        }
    }
    let compiled = shared_engine().precompile_component(bytes)?;
    // What an older wcomp composed for this slot is of no more use.
    for old in fs::read_dir(&cache).into_iter().flatten().flatten() {
        if old.file_name().to_string_lossy().starts_with(&prefix) {
            let _ = fs::remove_file(old.path());
        }
    }
    let written = fs::create_dir_all(&cache).and_then(|()| {
        let partial = path.with_extension(format!("{}.part", std::process::id()));
        fs::write(&partial, &compiled)?;
        fs::rename(&partial, &path)
    });
    if let Err(e) = written {
        eprintln!(
            "note: cannot cache compiled code in {}: {e}",
            cache.display()
        );
    }
    // SAFETY: `compiled` was just made by `precompile_component` of this engine.
    unsafe { Component::deserialize(shared_engine(), &compiled) }
}

/// Checks every written composition gets: it validates, `wcomp inspect`
/// reads it, its provenance names its inputs, a second run writes the same
/// bytes, and `--strip` makes it smaller.
fn check_output(
    work: &Path,
    out_name: &str,
    args: &[String],
    problems: &mut Vec<String>,
) -> Result<(), Failed> {
    let composed = work.join(out_name);
    let bytes = fs::read(&composed)?;
    if let Some(error) = wasm_tools_validate(&composed) {
        problems.push(format!(
            "`wasm-tools validate` rejects {out_name}:\n{error}"
        ));
    }

    let inspect = run(["inspect", out_name], work);
    let shown = text(&inspect.stdout);
    if !inspect.status.success() {
        problems.push(format!(
            "`wcomp inspect {out_name}` failed ({}):\n{}",
            inspect.status,
            text(&inspect.stderr)
        ));
    } else if !shown.contains(PROVENANCE) {
        problems.push(format!(
            "`wcomp inspect {out_name}` does not mention {PROVENANCE}:\n{shown}"
        ));
    }
    // Modules shared by the composition are listed, with their users.
    let shared = custom_section(&bytes, PROVENANCE)
        .and_then(|s| serde_json::from_slice::<serde_json::Value>(s).ok())
        .and_then(|json| json["shared"].as_array().cloned())
        .unwrap_or_default();
    if !shared.is_empty() && !shown.contains("shared core modules") {
        problems.push(format!(
            "{out_name} shares {} core modules, but `wcomp inspect` does not list them:\n{shown}",
            shared.len()
        ));
    }
    if let Err(e) = check_provenance(&bytes, work) {
        problems.push(format!("{PROVENANCE} of {out_name}: {e}"));
    }
    // The composition exports what the app (`app.wasm` in every case) exports.
    if let Ok(app) = fs::read(work.join("app.wasm")) {
        let (mut want, mut got) = (component_exports(&app), component_exports(&bytes));
        for names in [&mut want, &mut got].into_iter().flatten() {
            names.sort();
        }
        if want != got {
            problems.push(format!(
                "{out_name} exports {got:?}, but app.wasm exports {want:?}"
            ));
        }
    }

    // The same command again: the same bytes.
    let first = work.join("out.first.wasm");
    fs::rename(&composed, &first)?;
    let again = run(args, work);
    match fs::read(&composed) {
        Ok(second) if second == bytes => {}
        Ok(second) => problems.push(format!(
            "a second run wrote different bytes ({} then {} bytes)",
            bytes.len(),
            second.len()
        )),
        Err(e) => problems.push(format!(
            "a second run wrote no {out_name} ({e}): {}",
            describe(args, &again, work)
        )),
    }
    fs::rename(&first, &composed)?;

    if args.iter().any(|a| a == "--strip") {
        let plain: Vec<String> = args
            .iter()
            .filter(|a| *a != "--strip")
            .map(|a| {
                if a == out_name {
                    "unstripped.wasm".into()
                } else {
                    a.clone()
                }
            })
            .collect();
        let out = run(&plain, work);
        match fs::read(work.join("unstripped.wasm")) {
            Ok(full) if full.len() > bytes.len() => {}
            Ok(full) => problems.push(format!(
                "--strip wrote {} bytes, no fewer than the {} without it",
                bytes.len(),
                full.len()
            )),
            Err(e) => problems.push(format!(
                "without --strip, no output ({e}): {}",
                describe(&plain, &out, work)
            )),
        }
        // What --strip drops, at any depth; the unstripped file must have
        // some for the check to mean anything.
        let debug = |n: &String| {
            ["name", "component-name", "producers"].contains(&n.as_str()) || n.starts_with(".debug")
        };
        let left: Vec<String> = custom_section_names(&bytes)
            .into_iter()
            .filter(debug)
            .collect();
        if !left.is_empty() {
            problems.push(format!("--strip left custom sections {left:?}"));
        }
        let full = fs::read(work.join("unstripped.wasm")).unwrap_or_default();
        if !custom_section_names(&full).iter().any(debug) {
            problems.push("without --strip, there are no debug sections to strip".into());
        }
        if custom_section(&bytes, PROVENANCE).is_none() {
            problems.push(format!("--strip dropped {PROVENANCE}"));
        }
    }
    Ok(())
}

/// The same composition with `--no-dedup`, into `nodedup.wasm`: it must
/// validate, be no smaller, and have the WIT of the deduplicated one (what
/// it imports and exports, as `wasm-tools component wit` prints it). Returns
/// the file's name when it was written and differs, for its calls to run too.
fn check_no_dedup(
    work: &Path,
    out_name: &str,
    args: &[String],
    problems: &mut Vec<String>,
) -> Result<Option<String>, Failed> {
    const PLAIN: &str = "nodedup.wasm";
    let mut plain: Vec<String> = args
        .iter()
        .map(|a| {
            if a == out_name {
                PLAIN.into()
            } else {
                a.clone()
            }
        })
        .collect();
    if !plain.iter().any(|a| a == PLAIN) {
        plain.extend(["-o".into(), PLAIN.into()]);
    }
    plain.push("--no-dedup".into());
    let out = run(&plain, work);
    let (deduped, full) = match fs::read(work.join(PLAIN)) {
        Ok(full) => (fs::read(work.join(out_name))?, full),
        Err(e) => {
            problems.push(format!(
                "--no-dedup wrote no {PLAIN} ({e}): {}",
                describe(&plain, &out, work)
            ));
            return Ok(None);
        }
    };
    if deduped.len() > full.len() {
        problems.push(format!(
            "sharing core modules made the output bigger: {} bytes, {} with --no-dedup",
            deduped.len(),
            full.len()
        ));
    }
    if deduped == full {
        return Ok(None);
    }
    if let Some(error) = wasm_tools_validate(&work.join(PLAIN)) {
        problems.push(format!("`wasm-tools validate` rejects {PLAIN}:\n{error}"));
    }
    let wit = |file: &str| {
        wasm_tools(["component", "wit", file], work).map(|r| {
            r.map_err(|e| e.to_string()).and_then(|o| {
                if o.status.success() {
                    Ok(text(&o.stdout))
                } else {
                    Err(text(&o.stderr))
                }
            })
        })
    };
    match (wit(out_name), wit(PLAIN)) {
        (Some(Ok(a)), Some(Ok(b))) if a == b => {}
        (Some(Ok(a)), Some(Ok(b))) => problems.push(format!(
            "the WIT of {out_name} and of {PLAIN} (--no-dedup) differ:\n{a}\n---\n{b}"
        )),
        (Some(Err(e)), _) | (_, Some(Err(e))) => {
            problems.push(format!("`wasm-tools component wit` fails: {e}"));
        }
        // Without wasm-tools, wasmtime's view of the exports is compared
        // when the calls run; the names at least must agree.
        _ => {
            if component_exports(&deduped) != component_exports(&full) {
                problems.push(format!("{out_name} and {PLAIN} export different names"));
            }
        }
    }
    Ok(Some(PLAIN.to_string()))
}

/// The provenance section: JSON naming the tool and each input, with its
/// digest and role, one `app`.
fn check_provenance(bytes: &[u8], work: &Path) -> Result<(), String> {
    let section = custom_section(bytes, PROVENANCE).ok_or("no such custom section")?;
    let json: serde_json::Value =
        serde_json::from_slice(section).map_err(|e| format!("not JSON: {e}"))?;
    let tool = json["tool"].as_str().unwrap_or_default();
    if !tool.starts_with("wcomp") {
        return Err(format!("`tool` is {:?}, not wcomp's name", json["tool"]));
    }
    let inputs = json["inputs"].as_array().ok_or("no `inputs` array")?;
    let mut apps = 0;
    for input in inputs {
        let file = input["file"].as_str().ok_or("an input has no `file`")?;
        if !work.join(file).is_file() {
            return Err(format!("input `{file}` is not a file of the case"));
        }
        let sha = input["sha256"].as_str().unwrap_or_default();
        if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("input `{file}` has no sha256 digest: {input}"));
        }
        match input["role"].as_str() {
            Some("app") => apps += 1,
            Some("dependency") => {}
            _ => return Err(format!("input `{file}` has no role app|dependency")),
        }
        if !input["provides"].is_array() {
            return Err(format!("input `{file}` has no `provides` array"));
        }
    }
    if apps != 1 {
        return Err(format!("{apps} inputs have the role `app`, not 1: {json}"));
    }
    Ok(())
}

/// A composition that must fail: exit code 1, the expected message, nothing
/// on stdout, and no output.
fn check_error(
    case: &Path,
    work: &Path,
    out: &Output,
    before: &BTreeMap<PathBuf, String>,
) -> Result<Vec<String>, Failed> {
    let mut problems = Vec::new();
    if out.status.code() != Some(1) {
        problems.push(format!(
            "expected exit code 1 (the case has no `stdout`), got {}",
            out.status
        ));
    }
    if !out.stdout.is_empty() {
        problems.push(format!("expected no stdout, got:\n{}", text(&out.stdout)));
    }
    expect_file(case, "stderr", &stderr_of(out, work), &mut problems)?;
    let written = changed_since(work, before)?;
    if !written.is_empty() {
        problems.push(format!(
            "the command failed, but wrote or changed {written:?}"
        ));
    }
    Ok(problems)
}
