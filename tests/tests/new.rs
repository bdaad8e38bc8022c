//! `wcomp new` end to end: every folder under `fixtures/new/` is one test,
//! `new/<case>`. The format is in `fixtures/new/README.md`; in short:
//!
//! - the input is `module.wat`, `module.wasm` or `module.c` (built with
//!   clang-16 for wasm32-wasip1; skipped without it), the WIT `world.wit` or
//!   `wit/` (given with `--wit`), `args` more arguments for the command that
//!   takes the WIT, and an `embed` file means "`wcomp embed` it first, then
//!   `wcomp new` the module that carries its world";
//! - a case with a `calls` file must wrap: the component must validate
//!   (`wasm-tools validate`, when installed), `wcomp inspect` must print
//!   `inspect`, its WIT must be that of what `wasm-tools component new`
//!   makes of the same input (when installed, and no adapter is involved),
//!   and the `calls` script runs in wasmtime; a `no-run` file (why the
//!   component cannot run here) instead of `calls` checks all but the run;
//! - a case without one must fail with exit code 1, the error in `stderr`,
//!   and no output file;
//! - a `pending` file (why the current behaviour is wrong) ignores the case.
//!
//! `BLESS=1 cargo test -p wcomp-tests --test new` rewrites `inspect` and
//! `stderr`.

#[path = "common/calls.rs"]
mod calls;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use libtest_mimic::{Arguments, Failed, Trial};
use wasmtime::component::Component;
use wcomp_tests::c_guest::c_toolchain;
use wcomp_tests::host::shared_engine;
use wcomp_tests::{
    copy_dir, expect_file, normalize, run, split_args, temporaries, text, wasm_tools,
    wasm_tools_validate, workspace_root,
};

/// Files that describe a case; they are not copied to where it runs.
const META: &[&str] = &["calls", "inspect", "stderr", "pending", "no-run"];
/// The component `wcomp new` writes, in the case's temporary folder.
const OUT: &str = "out.wasm";
/// The module `wcomp embed` writes for an `embed` case.
const EMBEDDED: &str = "module.core.wasm";
/// What `wasm-tools component embed` and `component new` write.
const REFERENCE_CORE: &str = "reference.core.wasm";
const REFERENCE: &str = "reference.wasm";

fn main() {
    let args = Arguments::from_args();
    let dir = workspace_root().join("fixtures/new");
    let mut cases: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    let mut trials = vec![Trial::test("new/calls-script-reader", || {
        calls::self_check().map_err(Failed::from)
    })];
    for case in cases {
        let name = format!("new/{}", case.file_name().unwrap().to_string_lossy());
        let mut ignored = case.join("pending").exists();
        if case.join("module.c").exists() && c_toolchain().is_none() {
            eprintln!("note: {name} is skipped: clang-16 with a wasm-ld is not installed");
            ignored = true;
        }
        trials.push(Trial::test(name, move || check(&case)).with_ignored_flag(ignored));
    }
    libtest_mimic::run(&args, trials).exit();
}

/// A `wcomp` command of a case and the file it should write.
struct Step {
    args: Vec<String>,
    output: &'static str,
}

/// The commands of a case, and its input as `wasm-tools` takes it.
struct Plan {
    steps: Vec<Step>,
    /// The module (WAT, or wasm as read or built), in the case's folder.
    input: String,
    /// `world.wit` or `wit`, if the case has one.
    wit: Option<&'static str>,
    /// `--world NAME` and `--adapt ...` from `args`.
    world: Option<String>,
    adapts: bool,
}

fn check(case: &Path) -> Result<(), Failed> {
    let tmp = tempfile::tempdir()?;
    let work = tmp.path();
    copy_dir(case, work, META)?;
    let plan = plan(case, work)?;
    let steps = &plan.steps;

    let mut failed = None;
    // What the last step reported (on stderr): which adapters it used.
    let mut report = String::new();
    for step in steps {
        let out = run(&step.args, work);
        if !out.status.success() {
            failed = Some((step, out));
            break;
        }
        report = text(&out.stderr);
    }
    let wraps = case.join("calls").exists() || case.join("no-run").exists();
    let mut problems = match (wraps, failed) {
        (true, None) => {
            let mut problems = check_component(case, work)?;
            // A warning the case expects is pinned like an error's text.
            if case.join("stderr").exists() {
                expect_file(case, "stderr", &normalize(&report, work), &mut problems)?;
            }
            // wcomp bundles the WASI adapters that wasm-tools needs named.
            if !plan.adapts && !report.contains(", adapted with ") {
                problems.extend(compare_with_wasm_tools(&plan, work));
            }
            problems
        }
        (true, Some((step, out))) => vec![format!(
            "`wcomp {}` failed ({}):\n{}",
            step.args.join(" "),
            out.status,
            normalize(&text(&out.stderr), work)
        )],
        (false, Some((step, out))) => check_error(case, work, step, &out)?,
        (false, None) => vec![format!(
            "`wcomp {}` succeeded, but this case (no `calls` or `no-run` file) expects an error",
            steps.last().expect("a case has steps").args.join(" ")
        )],
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

/// The `wcomp` commands the case runs, in `work`.
fn plan(case: &Path, work: &Path) -> Result<Plan, Failed> {
    let inputs: Vec<&str> = ["module.wat", "module.wasm", "module.c"]
        .into_iter()
        .filter(|f| case.join(f).is_file())
        .collect();
    let input = match inputs[..] {
        [input] => input,
        _ => {
            return Err(format!(
                "expected one of module.wat, module.wasm, module.c; found {inputs:?}"
            )
            .into());
        }
    };
    let input = if input == "module.c" {
        build_c(work)?
    } else {
        input.to_string()
    };
    let wit = ["world.wit", "wit"]
        .into_iter()
        .find(|f| case.join(f).exists());
    let extra = split_args(&fs::read_to_string(case.join("args")).unwrap_or_default())?;
    let world = extra
        .iter()
        .position(|a| a == "--world")
        .and_then(|i| extra.get(i + 1))
        .cloned();
    let adapts = extra.iter().any(|a| a.starts_with("--adapt"));
    let owned = |args: &[&str]| args.iter().map(|a| a.to_string()).collect::<Vec<_>>();

    let mut with_wit = match wit {
        Some(wit) => owned(&["--wit", wit]),
        None => Vec::new(),
    };
    with_wit.extend(extra);
    let steps = if case.join("embed").exists() {
        if wit.is_none() {
            return Err("an `embed` case needs world.wit or wit/".into());
        }
        let mut embed = owned(&["embed", &input, "-o", EMBEDDED]);
        embed.extend(with_wit);
        vec![
            Step {
                args: embed,
                output: EMBEDDED,
            },
            Step {
                args: owned(&["new", EMBEDDED, "-o", OUT]),
                output: OUT,
            },
        ]
    } else {
        let mut new = owned(&["new", &input, "-o", OUT]);
        new.extend(with_wit);
        vec![Step {
            args: new,
            output: OUT,
        }]
    };
    Ok(Plan {
        steps,
        input,
        wit,
        world,
        adapts,
    })
}

/// What `wasm-tools component new` makes of the case's input (embedding its
/// WIT first with `wasm-tools component embed`) must have the WIT that
/// wcomp's component has. Nothing to compare without wasm-tools.
fn compare_with_wasm_tools(plan: &Plan, work: &Path) -> Vec<String> {
    let tool = |args: &[&str]| -> Result<Option<String>, String> {
        let Some(out) = wasm_tools(args, work) else {
            return Ok(None);
        };
        let out = out.map_err(|e| format!("cannot run wasm-tools: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "`wasm-tools {}` failed ({}), though wcomp wraps the input:\n{}",
                args.join(" "),
                out.status,
                normalize(&text(&out.stderr), work)
            ));
        }
        Ok(Some(text(&out.stdout)))
    };
    let result = (|| {
        let core = match plan.wit {
            Some(wit) => {
                let mut embed = vec!["component", "embed", wit, &plan.input, "-o", REFERENCE_CORE];
                if let Some(world) = &plan.world {
                    embed.extend(["--world", world]);
                }
                if tool(&embed)?.is_none() {
                    return Ok(None);
                }
                REFERENCE_CORE
            }
            None => &plan.input,
        };
        if tool(&["component", "new", core, "-o", REFERENCE])?.is_none() {
            return Ok(None);
        }
        let theirs = tool(&["component", "wit", REFERENCE])?;
        let ours = tool(&["component", "wit", OUT])?;
        Ok(theirs.zip(ours))
    })();
    match result {
        Ok(Some((theirs, ours))) if theirs != ours => {
            let diff = similar::TextDiff::from_lines(&theirs, &ours)
                .unified_diff()
                .header("wasm-tools component new", "wcomp new")
                .to_string();
            vec![format!(
                "the WIT of {OUT} differs from that of what `wasm-tools component new` makes:\n{diff}"
            )]
        }
        Ok(_) => Vec::new(),
        Err(problem) => vec![problem],
    }
}

/// A wrapped component: validate it, inspect it, run its `calls`.
fn check_component(case: &Path, work: &Path) -> Result<Vec<String>, Failed> {
    let mut problems = Vec::new();
    let out = work.join(OUT);
    let bytes = fs::read(&out).map_err(|e| format!("cannot read {OUT}: {e}"))?;
    if let Some(error) = wasm_tools_validate(&out) {
        problems.push(format!("`wasm-tools validate` rejects {OUT}:\n{error}"));
    }

    let inspect = run(["inspect", OUT], work);
    if !inspect.status.success() {
        problems.push(format!(
            "`wcomp inspect {OUT}` failed ({}):\n{}",
            inspect.status,
            text(&inspect.stderr)
        ));
    } else if !case.join("module.c").exists() {
        // What clang and wasi-libc put in a module varies with their
        // versions, so a C case's inspection is not compared.
        let shown = normalize(&text(&inspect.stdout), work);
        expect_file(case, "inspect", &shown, &mut problems)?;
    }

    if case.join("no-run").exists() {
        return Ok(problems);
    }
    let script = fs::read_to_string(case.join("calls"))?;
    let result = calls::Script::parse(&script).and_then(|script| {
        let component = Component::new(shared_engine(), &bytes)
            .map_err(|e| format!("wasmtime cannot compile {OUT}: {e:?}"))?;
        calls::run(shared_engine(), &component, &script)
    });
    if let Err(e) = result {
        problems.push(e);
    }
    Ok(problems)
}

/// A failed step: exit code 1, the expected message, and no output.
fn check_error(case: &Path, work: &Path, step: &Step, out: &Output) -> Result<Vec<String>, Failed> {
    let mut problems = Vec::new();
    if out.status.code() != Some(1) {
        problems.push(format!("expected exit code 1, got {}", out.status));
    }
    if !out.stdout.is_empty() {
        problems.push(format!("expected no stdout, got:\n{}", text(&out.stdout)));
    }
    let stderr = normalize(&text(&out.stderr), work);
    expect_file(case, "stderr", &stderr, &mut problems)?;
    for file in [step.output, OUT] {
        if work.join(file).exists() {
            problems.push(format!("`{file}` was written, but the command failed"));
        }
    }
    Ok(problems)
}

/// Builds `module.c` in `work` into `module.wasm`; returns its name.
fn build_c(work: &Path) -> Result<String, Failed> {
    let tc = c_toolchain().ok_or("clang-16 is not installed")?;
    tc.run(
        work,
        &[
            "-O1".into(),
            "module.c".into(),
            "-o".into(),
            "module.wasm".into(),
        ],
    )?;
    Ok("module.wasm".to_string())
}
