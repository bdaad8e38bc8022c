//! C for wasm32-wasi with Debian's clang-16, lld-16 and wasi-libc (what CI
//! installs): the one place tests find the toolchain and its flags.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use crate::{text, which};

/// How to build C for wasm32-wasi here.
pub struct CToolchain {
    pub clang: PathBuf,
    /// Target flags, for compiling.
    pub flags: Vec<String>,
    /// Linker and library flags, for linking too.
    pub link_flags: Vec<String>,
}

/// The flags every generated C file must compile cleanly under.
pub const STRICT: &[&str] = &["-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic"];

/// The toolchain, if clang-16 and a wasm-ld are installed.
pub fn c_toolchain() -> Option<&'static CToolchain> {
    static FOUND: OnceLock<Option<CToolchain>> = OnceLock::new();
    FOUND.get_or_init(find).as_ref()
}

fn find() -> Option<CToolchain> {
    let clang = which("clang-16")?;
    let linker = which("wasm-ld-16").or_else(|| which("wasm-ld"))?;
    let mut flags = vec!["--target=wasm32-wasi".to_string()];
    let mut link_flags = vec![format!("-fuse-ld={}", linker.display())];
    // wasi-sdk's layout; Debian's wasi-libc is found without it.
    let sysroot = Path::new("/usr/share/wasi-sysroot");
    if sysroot.is_dir() {
        flags.push(format!("--sysroot={}", sysroot.display()));
    }
    // Debian ships no compiler-rt for wasm32; small programs link without.
    let builtins = Command::new(&clang)
        .args(&flags)
        .arg("-print-libgcc-file-name")
        .output()
        .ok()?;
    if !Path::new(text(&builtins.stdout).trim()).is_file() {
        link_flags.extend(["-nodefaultlibs".to_string(), "-lc".to_string()]);
    }
    Some(CToolchain {
        clang,
        flags,
        link_flags,
    })
}

impl CToolchain {
    /// Compiles and links: runs clang in `dir` with every flag of the
    /// toolchain and `args`; `Err` with the command and its diagnostics
    /// when it fails.
    pub fn run(&self, dir: &Path, args: &[String]) -> Result<(), String> {
        let mut all = self.link_flags.clone();
        all.extend_from_slice(args);
        self.compile(dir, &all)
    }

    /// Runs clang in `dir` with the target flags and `args` (`-c` ones).
    pub fn compile(&self, dir: &Path, args: &[String]) -> Result<(), String> {
        let out = Command::new(&self.clang)
            .args(&self.flags)
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", self.clang.display()))?;
        if !out.status.success() {
            return Err(format!(
                "`{} {} {}` failed:\n{}",
                self.clang.display(),
                self.flags.join(" "),
                args.join(" "),
                text(&out.stderr)
            ));
        }
        Ok(())
    }
}
