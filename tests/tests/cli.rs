//! Data-driven CLI cases: every folder under `fixtures/cli/` and
//! `fixtures/wit-errors/` that holds a `cmd` file is one test.
//!
//! - `cmd`: the arguments, split on whitespace (`"..."` keeps spaces); the
//!   case runs in a temporary copy of its folder, so paths stay relative
//!   and outputs never land in the source tree.
//! - `stdout`, `stderr`: the expected text (a missing file expects nothing).
//! - `exit`: the expected exit code (missing: 0).
//! - `expect-no-file`: names, one a line, that must not exist after the run.
//! - `expect-file`: names, one a line, that must exist (not empty) after it.
//! - `from-root`: repository paths, one a line, copied into the case's
//!   folder at the same relative path first (`wit` for the shipped WIT), so
//!   a command runs exactly as a user types it in a clone.
//!
//! A run that fails (exit code not 0) must leave every file as it was.
//! - `pending`: why the current output is not accepted yet; the case is
//!   ignored (run it with `-- --ignored`).
//!
//! `BLESS=1 cargo test -p wcomp-tests --test cli` rewrites the expectations.

use std::fs;
use std::path::{Path, PathBuf};

use libtest_mimic::{Arguments, Failed, Trial};
use similar::TextDiff;
use wcomp_tests::{
    changed_since, copy_dir, normalize, run, snapshot, split_args, text, workspace_root,
};

const SUITES: &[&str] = &["cli", "wit-errors"];
/// Files that describe a case; they are not copied to where it runs.
const META: &[&str] = &[
    "cmd",
    "stdout",
    "stderr",
    "exit",
    "expect-no-file",
    "expect-file",
    "from-root",
    "pending",
];

fn main() {
    let args = Arguments::from_args();
    let fixtures = workspace_root().join("fixtures");
    let mut trials = Vec::new();
    for suite in SUITES {
        let mut cases = Vec::new();
        find_cases(&fixtures.join(suite), &mut cases);
        for dir in cases {
            let name = dir.strip_prefix(&fixtures).unwrap().display().to_string();
            let pending = dir.join("pending").exists();
            trials.push(Trial::test(name, move || check(&dir)).with_ignored_flag(pending));
        }
    }
    assert!(!trials.is_empty(), "no cases under {}", fixtures.display());
    libtest_mimic::run(&args, trials).exit();
}

fn find_cases(dir: &Path, out: &mut Vec<PathBuf>) {
    if dir.join("cmd").is_file() {
        out.push(dir.to_path_buf());
        return;
    }
    let mut subdirs: Vec<PathBuf> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    subdirs.sort();
    for sub in subdirs {
        find_cases(&sub, out);
    }
}

fn check(case: &Path) -> Result<(), Failed> {
    let args = split_args(&read(case, "cmd"))?;
    let tmp = tempfile::tempdir()?;
    copy_dir(case, tmp.path(), META)?;
    for rel in lines(case, "from-root") {
        let from = workspace_root().join(&rel);
        let to = tmp.path().join(&rel);
        if from.is_dir() {
            copy_dir(&from, &to, &[])?;
        } else {
            fs::create_dir_all(to.parent().unwrap_or(tmp.path()))?;
            fs::copy(&from, &to).map_err(|e| format!("from-root `{rel}`: {e}"))?;
        }
    }
    let before = snapshot(tmp.path())?;
    let out = run(&args, tmp.path());
    let stdout = normalize(&text(&out.stdout), tmp.path());
    let stderr = normalize(&text(&out.stderr), tmp.path());
    let exit = out
        .status
        .code()
        .map_or("killed by a signal".into(), |c| c.to_string());

    let mut problems = Vec::new();
    if std::env::var_os("BLESS").is_some_and(|v| !v.is_empty()) {
        bless(case, "stdout", &stdout)?;
        bless(case, "stderr", &stderr)?;
        bless(case, "exit", if exit == "0" { "" } else { &exit })?;
    } else {
        compare("stdout", &read(case, "stdout"), &stdout, &mut problems);
        compare("stderr", &read(case, "stderr"), &stderr, &mut problems);
        let want = read(case, "exit");
        let want = want.trim();
        let want = if want.is_empty() { "0" } else { want };
        if want != exit {
            problems.push(format!("exit code: expected {want}, got {exit}"));
        }
    }
    for name in lines(case, "expect-no-file") {
        if tmp.path().join(&name).exists() {
            problems.push(format!("`{name}` exists after the run, but should not"));
        }
    }
    for name in lines(case, "expect-file") {
        if fs::metadata(tmp.path().join(&name)).map_or(true, |m| m.len() == 0) {
            problems.push(format!(
                "`{name}` should have been written, but is missing or empty"
            ));
        }
    }
    if exit != "0" {
        let changed = changed_since(tmp.path(), &before)?;
        if !changed.is_empty() {
            problems.push(format!("the run failed, but wrote or changed {changed:?}"));
        }
    }
    for path in wcomp_tests::temporaries(tmp.path()) {
        problems.push(format!("temporary file left behind: {}", path.display()));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n").into())
    }
}

/// A case file's text; a missing file reads as empty.
fn read(case: &Path, name: &str) -> String {
    fs::read_to_string(case.join(name)).unwrap_or_default()
}

/// The non-empty lines of a case file.
fn lines(case: &Path, name: &str) -> Vec<String> {
    read(case, name)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// Writes an expectation file, or removes it when it would be empty.
fn bless(case: &Path, name: &str, content: &str) -> std::io::Result<()> {
    let path = case.join(name);
    match content {
        "" if path.exists() => fs::remove_file(path),
        "" => Ok(()),
        _ if name == "exit" => fs::write(path, format!("{content}\n")),
        _ => fs::write(path, content),
    }
}

fn compare(what: &str, expected: &str, actual: &str, problems: &mut Vec<String>) {
    if expected != actual {
        let diff = TextDiff::from_lines(expected, actual)
            .unified_diff()
            .header("expected", "actual")
            .to_string();
        problems.push(format!("{what} differs (BLESS=1 accepts it):\n{diff}"));
    }
}
