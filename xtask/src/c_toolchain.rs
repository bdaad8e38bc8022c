//! The C route: Debian's `clang-16` and `lld-16` with `wasi-libc` build C
//! guests for wasm32-wasi (reactors, as `wcomp new` wraps them). Detected
//! like the Rust routes; where it is missing, the exact install command.

use std::path::{Path, PathBuf};
use std::process::Command;

const PACKAGES: &[&str] = &["clang-16", "lld-16", "wasi-libc"];

/// How C guests get built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CRoute {
    pub clang: PathBuf,
    pub linker: PathBuf,
    /// wasi-sdk's sysroot, where it is (Debian's wasi-libc needs none).
    pub sysroot: Option<PathBuf>,
    /// No compiler-rt for wasm32 (Debian ships none): link libc alone.
    pub no_builtins: bool,
}

impl CRoute {
    pub fn describe(&self) -> String {
        format!(
            "{} with wasi-libc, linked by {}",
            self.clang.display(),
            self.linker.display()
        )
    }

    /// Compiles `sources` (with `include` on the header path) and links
    /// them as a wasm32-wasi reactor at `out`, optimised for size, debug
    /// information stripped (custom sections such as the component type
    /// stay). Bulk memory (wasm 2.0, which wasmtime and jco run) makes
    /// `memcpy` one `memory.copy`: a 64 KiB `get` costs a quarter less.
    pub fn build(&self, sources: &[PathBuf], include: &Path, out: &Path) -> Command {
        let mut cmd = Command::new(&self.clang);
        cmd.arg("--target=wasm32-wasi")
            .arg(format!("-fuse-ld={}", self.linker.display()));
        if let Some(sysroot) = &self.sysroot {
            cmd.arg(format!("--sysroot={}", sysroot.display()));
        }
        if self.no_builtins {
            cmd.args(["-nodefaultlibs", "-lc"]);
        }
        cmd.args([
            "-std=c11",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-pedantic",
            "-Os",
            "-mexec-model=reactor",
            "-mbulk-memory",
            "-Wl,--strip-debug",
        ])
        .arg("-I")
        .arg(include)
        .args(sources)
        .arg("-o")
        .arg(out);
        cmd
    }
}

/// The C route here, or how to install it.
pub fn detect() -> Result<CRoute, String> {
    let how = format!(
        "no C toolchain for wasm32 here. Install one with:\n  apt-get install -y {}",
        PACKAGES.join(" ")
    );
    let clang = crate::step::on_path("clang-16").ok_or_else(|| how.clone())?;
    let linker = crate::step::on_path("wasm-ld-16")
        .or_else(|| crate::step::on_path("wasm-ld"))
        .ok_or_else(|| how.clone())?;
    let sysroot = Some(PathBuf::from("/usr/share/wasi-sysroot")).filter(|p| p.is_dir());
    let libc = Path::new("/usr/lib/wasm32-wasi/libc.a");
    if sysroot.is_none() && !libc.is_file() {
        return Err(how);
    }
    let builtins = Command::new(&clang)
        .arg("--target=wasm32-wasi")
        .arg("-print-libgcc-file-name")
        .output()
        .map_err(|e| format!("cannot run {}: {e}", clang.display()))?;
    let no_builtins = !Path::new(String::from_utf8_lossy(&builtins.stdout).trim()).is_file();
    Ok(CRoute {
        clang,
        linker,
        sysroot,
        no_builtins,
    })
}

/// The Debian packages of the route, for `toolchain --install`.
pub fn packages() -> &'static [&'static str] {
    PACKAGES
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_a_stripped_reactor_with_the_strict_flags() {
        let route = CRoute {
            clang: "clang-16".into(),
            linker: "/usr/bin/wasm-ld-16".into(),
            sysroot: None,
            no_builtins: true,
        };
        let cmd = route.build(&["a.c".into()], Path::new("gen"), Path::new("a.wasm"));
        let args: Vec<String> = cmd
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        for flag in [
            "-fuse-ld=/usr/bin/wasm-ld-16",
            "-nodefaultlibs",
            "-mexec-model=reactor",
            "-Werror",
            "-pedantic",
            "-Wl,--strip-debug",
            "-mbulk-memory",
        ] {
            assert!(args.iter().any(|a| a == flag), "{flag} missing: {args:?}");
        }
    }
}
