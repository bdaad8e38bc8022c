//! wit-parser's own test corpus, run through `wcomp wit check`.
//!
//! Every input that wit-parser accepts must check clean, naming the same
//! packages as wit-parser's resolved JSON; every input it rejects must give a
//! diagnostic with wit-parser's message at wit-parser's line and column, exit
//! code 1 and no panic. The number of diagnostics that carry a `help:` line
//! is printed (none of the peers gives one on these inputs).
//!
//! The corpus lives beside the project, in `../shared/corpora/wit-parser-ui`.

use std::fs;
use std::path::{Path, PathBuf};

use libtest_mimic::{Arguments, Failed, Trial};
use wcomp_tests::{run, text, workspace_root};

/// Inputs whose expectation moved in the wit-parser we build on (0.263),
/// after the corpus snapshot (wasm-tools 1.257.1), with the reason.
const DRIFTED: &[(&str, &str)] = &[
    ("types.wit", "an empty `record {}` is an error since 0.258"),
    (
        "use-chain.wit",
        "an empty `record {}` is an error since 0.258",
    ),
    (
        "union-fuzz-2.wit",
        "an empty `record {}` is an error since 0.258",
    ),
    ("multi-file", "an empty `record {}` is an error since 0.258"),
    (
        "parse-fail/async-bad-world3",
        "stops earlier, at its empty `record x {}`",
    ),
    (
        "parse-fail/import-and-export5",
        "stops earlier, at its empty `record x {}`",
    ),
    (
        "parse-fail/bad-resource8",
        "method names are checked first now: `[method]a.a` conflicts with `a`, one line earlier",
    ),
];

/// Inputs whose message was reworded since the snapshot: only the location is compared.
const REWORDED: &[&str] = &[
    "bad-resource7",
    "case-insensitive-duplicates",
    "duplicate-functions",
    "use-conflict3",
];

/// The minimum number of failing inputs whose diagnostic has a `help:` line.
const MIN_HELP_LINES: usize = 50;

fn corpus() -> PathBuf {
    workspace_root().join("../shared/corpora/wit-parser-ui")
}

fn drifted(name: &str) -> bool {
    DRIFTED.iter().any(|(n, _)| *n == name)
}

fn main() {
    let args = Arguments::from_args();
    let root = corpus();
    let mut trials = Vec::new();
    if !root.is_dir() {
        trials.push(Trial::test("corpus-present", move || {
            Err(format!(
                "{} is missing: clone with ../shared beside the project",
                root.display()
            )
            .into())
        }));
        libtest_mimic::run(&args, trials).exit();
    }

    for path in entries(&root) {
        let name = file_name(&path);
        if name == "parse-fail" || name.ends_with(".json") || name.ends_with(".md") {
            continue;
        }
        let json = root.join(format!(
            "{}.json",
            name.trim_end_matches(".wit").to_owned() + ".wit"
        ));
        trials.push(Trial::test(format!("accepts/{name}"), move || {
            accepts(&path, &json)
        }));
    }

    let fail = root.join("parse-fail");
    let mut failing = Vec::new();
    for result in entries(&fail) {
        let Some(stem) = file_name(&result)
            .strip_suffix(".wit.result")
            .map(str::to_owned)
        else {
            continue;
        };
        // A few stale `.result` files have no input beside them.
        let Some(input) = [fail.join(format!("{stem}.wit")), fail.join(&stem)]
            .into_iter()
            .find(|p| p.exists())
        else {
            continue;
        };
        failing.push((stem, input, result));
    }

    // Run them all up front: the help-line count needs every output.
    let outputs: Vec<(String, PathBuf, String, Option<i32>, String)> = failing
        .into_iter()
        .map(|(stem, input, result)| {
            let out = run(
                ["wit", "check", &input.display().to_string()],
                workspace_root(),
            );
            let expected = fs::read_to_string(&result).unwrap_or_default();
            (stem, input, expected, out.status.code(), text(&out.stderr))
        })
        .collect();
    let helps = outputs
        .iter()
        .filter(|o| o.4.contains("\n  help: "))
        .count();
    println!(
        "wit-parser corpus: {} failing inputs located, {helps} with a help line (minimum {MIN_HELP_LINES})",
        outputs.len()
    );
    trials.push(Trial::test("help-lines", move || {
        if helps >= MIN_HELP_LINES {
            Ok(())
        } else {
            Err(format!("only {helps} diagnostics have a help line").into())
        }
    }));
    for (stem, input, expected, code, stderr) in outputs {
        let name = format!("parse-fail/{stem}");
        let is_drifted = drifted(&name);
        let reworded = REWORDED.contains(&stem.as_str());
        trials.push(Trial::test(format!("rejects/{stem}"), move || {
            rejects(&input, &expected, code, &stderr, is_drifted, reworded)
        }));
    }
    libtest_mimic::run(&args, trials).exit();
}

fn accepts(path: &Path, json: &Path) -> Result<(), Failed> {
    let name = file_name(path);
    let out = run(
        [
            "wit",
            "check",
            "--json",
            "--features",
            "active",
            &path.display().to_string(),
        ],
        workspace_root(),
    );
    let stderr = text(&out.stderr);
    if drifted(&name) {
        return match out.status.code() {
            Some(1) if stderr.contains("empty record") => Ok(()),
            code => Err(format!("drifted input changed again (exit {code:?}):\n{stderr}").into()),
        };
    }
    if !out.status.success() {
        return Err(format!("rejected (exit {:?}):\n{stderr}", out.status.code()).into());
    }
    // The same packages as wit-parser resolved.
    let ours: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let mut our_names: Vec<String> = ours[0]["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["name"].as_str().map(str::to_owned))
        .collect();
    if let Ok(theirs) = fs::read_to_string(json) {
        let theirs: serde_json::Value = serde_json::from_str(&theirs)?;
        let mut their_names: Vec<String> = theirs["packages"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["name"].as_str().map(str::to_owned))
            .collect();
        our_names.sort();
        their_names.sort();
        if our_names != their_names {
            return Err(format!(
                "packages differ: ours {our_names:?}, wit-parser's {their_names:?}"
            )
            .into());
        }
    }
    Ok(())
}

fn rejects(
    input: &Path,
    expected: &str,
    code: Option<i32>,
    stderr: &str,
    drifted: bool,
    reworded: bool,
) -> Result<(), Failed> {
    if stderr.contains("panicked") || code != Some(1) {
        return Err(format!("exit {code:?}, want 1:\n{stderr}").into());
    }
    if drifted {
        return Ok(());
    }
    let (message, line_col) = expectation(expected);
    // miette wraps long lines and draws a margin: compare words only.
    let words = |s: &str| {
        s.replace(['│', '×'], " ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    let flat = words(stderr);
    let lines = message.lines().map(|l| l.trim().trim_end_matches(':'));
    for line in lines.filter(|l| !l.is_empty() && !reworded) {
        // `* path:LINE:COL`: one of several places (a package defined twice).
        if let Some(place) = line.strip_prefix("* ") {
            let line_col = place.split_once(':').map_or(place, |(_, lc)| lc);
            if !stderr.contains(&format!(":{line_col}")) {
                return Err(format!("place {place} not shown in:\n{stderr}").into());
            }
            continue;
        }
        if !flat.contains(&words(line)) {
            return Err(format!("message line {line:?} missing from:\n{stderr}").into());
        }
    }
    if let Some((line, col)) = line_col {
        let at = format!(":{line}:{col}");
        // A long path may wrap after `-->`: look at the flattened words too.
        let located = stderr
            .lines()
            .any(|l| (l.contains("╭─[") || l.contains("--> ")) && l.contains(&*at))
            || flat.split("--> ").skip(1).any(|rest| {
                rest.split(' ')
                    .next()
                    .is_some_and(|place| place.ends_with(&*at))
            });
        if !located {
            return Err(format!(
                "not located at {line}:{col} of {}:\n{stderr}",
                input.display()
            )
            .into());
        }
    }
    Ok(())
}

/// wit-parser's message (without the "failed to parse ..." context that
/// wasm-tools puts before it) and the line and column it points at.
fn expectation(result: &str) -> (String, Option<(u32, u32)>) {
    let (head, loc) = match result.find("\n     --> ") {
        Some(i) => {
            let loc = result[i..].lines().nth(1).unwrap_or("");
            (&result[..i], loc.rsplit(' ').next().unwrap_or(""))
        }
        // `path:LINE:COL: message`, used for overly long lines.
        None => match result.split_once(": ") {
            Some((loc, msg)) => (msg, loc),
            None => (result, ""),
        },
    };
    let mut parts = loc.rsplitn(3, ':');
    let col = parts.next().and_then(|c| c.trim().parse().ok());
    let line = parts.next().and_then(|l| l.parse().ok());
    let mut message = head.to_string();
    for prefix in [
        "failed to resolve directory while parsing WIT for path [",
        "failed to parse package: ",
    ] {
        while let Some(rest) = message.strip_prefix(prefix) {
            // Context ends at the first `]: ` or `: ` after a path.
            let cut = rest
                .find("]: ")
                .map(|i| i + 3)
                .or_else(|| rest.find(": ").map(|i| i + 2));
            message = cut.map_or(rest.to_string(), |c| rest[c..].to_string());
        }
    }
    (message, line.zip(col))
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .collect();
    v.sort();
    v
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
