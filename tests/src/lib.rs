//! Support for the end-to-end tests: build the `wcomp` binary once, run it
//! the way a script would (no terminal, no colour), and make what it prints
//! comparable across machines.

use std::ffi::OsStr;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// The workspace root: the parent of this crate.
pub fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
}

/// The `wcomp` binary, built (once per test process) with the same cargo
/// that runs the tests. If the build fails, every caller panics with why.
pub fn wcomp_bin() -> PathBuf {
    static BIN: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BIN.get_or_init(build)
        .clone()
        .unwrap_or_else(|e| panic!("{e}"))
}

fn build() -> Result<PathBuf, String> {
    let root = workspace_root();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args(["build", "-p", "wcomp", "--quiet"])
        .current_dir(root)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "`cargo build -p wcomp` failed:\n{}",
            text(&out.stderr)
        ));
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(|dir| root.join(dir))
        .unwrap_or_else(|| root.join("target"));
    Ok(target
        .join("debug")
        .join(format!("wcomp{}", std::env::consts::EXE_SUFFIX)))
}

/// Runs `wcomp args...` in `cwd` with `NO_COLOR=1`, stdin closed and
/// stdout/stderr captured, so that nothing sees a terminal.
pub fn run<S: AsRef<OsStr>>(args: impl IntoIterator<Item = S>, cwd: &Path) -> Output {
    wcomp(args, cwd).output().expect("cannot run wcomp")
}

/// The command that [`run`] runs, to adjust before running it.
pub fn wcomp<S: AsRef<OsStr>>(args: impl IntoIterator<Item = S>, cwd: &Path) -> Command {
    let mut cmd = Command::new(wcomp_bin());
    cmd.args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .env("RUST_BACKTRACE", "0")
        // Things that change colour or wrapping of clap's and miette's output.
        .env_remove("CLICOLOR_FORCE")
        .env_remove("FORCE_COLOR")
        .env_remove("COLUMNS")
        .stdin(Stdio::null());
    cmd
}

/// Output bytes as text (lossy: a test compares text).
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Replaces the case directory with `[CASE]` and the workspace root with
/// `[ROOT]`, so that absolute paths in messages do not depend on the machine.
pub fn normalize(output: &str, case_dir: &Path) -> String {
    let mut out = output.to_string();
    let case = [
        case_dir.to_path_buf(),
        case_dir.canonicalize().unwrap_or_default(),
    ];
    for dir in case.iter().filter(|d| !d.as_os_str().is_empty()) {
        out = out.replace(&*dir.to_string_lossy(), "[CASE]");
    }
    out.replace(&*workspace_root().to_string_lossy(), "[ROOT]")
}

/// Copies the directory `from` into `to` (created if needed), recursively,
/// leaving out the top-level entries whose names are in `skip`.
pub fn copy_dir(from: &Path, to: &Path, skip: &[&str]) -> io::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if skip.iter().any(|s| OsStr::new(s) == name) {
            continue;
        }
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &to.join(&name), &[])?;
        } else {
            fs::copy(entry.path(), to.join(&name))?;
        }
    }
    Ok(())
}

/// Splits a `cmd` line into arguments: on whitespace, except inside simple
/// double quotes (no escapes; `""` is an empty argument).
pub fn split_args(line: &str) -> Result<Vec<String>, String> {
    let (mut args, mut cur, mut started, mut quoted) = (Vec::new(), String::new(), false, false);
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                started = true;
            }
            c if c.is_whitespace() && !quoted => {
                if started {
                    args.push(std::mem::take(&mut cur));
                    started = false;
                }
            }
            c => {
                cur.push(c);
                started = true;
            }
        }
    }
    if quoted {
        return Err(format!("unclosed `\"` in {line:?}"));
    }
    if started {
        args.push(cur);
    }
    Ok(args)
}

/// The write-to-a-temporary-then-rename files (`*.wcomp-tmp`) that `wcomp`
/// left under `dir`: a finished run leaves none.
pub fn temporaries(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for path in fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
    {
        if path.is_dir() {
            found.extend(temporaries(&path));
        } else if path.to_string_lossy().ends_with(".wcomp-tmp") {
            found.push(path);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_arguments() {
        assert_eq!(
            split_args(" wit  check\ta.wit\n").unwrap(),
            ["wit", "check", "a.wit"]
        );
        assert_eq!(
            split_args(r#"print "my dir/a.wit" """#).unwrap(),
            ["print", "my dir/a.wit", ""]
        );
        assert_eq!(split_args(r#"--x="a b""#).unwrap(), ["--x=a b"]);
        assert!(split_args(r#"print "a"#).is_err());
    }

    #[test]
    fn normalizes_paths() {
        let dir = Path::new("/tmp/case-1");
        let root = workspace_root().join("wit/keystore.wit");
        let text = format!("`/tmp/case-1/a.wit` and `{}`", root.display());
        assert_eq!(
            normalize(&text, dir),
            "`[CASE]/a.wit` and `[ROOT]/wit/keystore.wit`"
        );
    }
}
