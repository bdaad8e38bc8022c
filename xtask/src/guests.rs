//! The Rust guests under `fixtures/`: each a crate `fixtures/NAME/Cargo.toml`
//! (a workspace of its own) whose `[package.metadata.wcomp]` names the WIT
//! (`wit`, relative to the crate) and the `world` that `wcomp bind` turns
//! into its `src/bindings.rs` (a guest without it, bound some other way, is
//! only built). `cargo xtask build-fixtures` binds and builds each one;
//! `cargo xtask demo` uses two of them.

use std::env;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use crate::toolchain::{self, Route};

pub const BUILD_FIXTURES_ABOUT: &str =
    "bind and build every Rust guest under fixtures/ (wasm32, into target/guests)";

/// One guest crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guest {
    /// Its folder, relative to the workspace root (`fixtures/app-rust`).
    pub dir: PathBuf,
    /// The package name (`app-rust`).
    pub name: String,
    /// What `wcomp bind` makes its bindings from, if it says.
    pub bind: Option<Bind>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bind {
    /// The WIT, relative to the workspace root (`wit`).
    pub wit: PathBuf,
    pub world: String,
}

impl Guest {
    /// Reads `dir/Cargo.toml` (`dir` relative to `root`).
    pub fn load(root: &Path, dir: &Path) -> Result<Guest, String> {
        let manifest = dir.join("Cargo.toml");
        let text = fs::read_to_string(root.join(&manifest))
            .map_err(|e| format!("cannot read {}: {e}", manifest.display()))?;
        let name = manifest_field(&text, "package", "name").ok_or_else(|| {
            format!(
                "{}: no `name = \"...\"` under [package]",
                manifest.display()
            )
        })?;
        const META: &str = "package.metadata.wcomp";
        let bind = match (
            manifest_field(&text, META, "wit"),
            manifest_field(&text, META, "world"),
        ) {
            (None, None) => None,
            (Some(wit_rel), Some(world)) => {
                let wit = relative_to(root, &root.join(dir).join(&wit_rel)).ok_or_else(|| {
                    format!(
                        "{}: the WIT `{wit_rel}` does not exist inside the workspace",
                        manifest.display()
                    )
                })?;
                Some(Bind { wit, world })
            }
            _ => {
                return Err(format!(
                    "{}: [{META}] needs both `wit = \"...\"` (relative to the crate) and \
                     `world = \"...\"`",
                    manifest.display()
                ));
            }
        };
        Ok(Guest {
            dir: dir.to_path_buf(),
            name,
            bind,
        })
    }

    /// [`Guest::load`], for a guest that must say what to bind.
    pub fn load_bound(root: &Path, dir: &Path) -> Result<(Guest, Bind), String> {
        let guest = Guest::load(root, dir)?;
        match guest.bind.clone() {
            Some(bind) => Ok((guest, bind)),
            None => Err(format!(
                "{}: no [package.metadata.wcomp] with the `wit` and `world` to bind",
                guest.manifest().display()
            )),
        }
    }

    pub fn manifest(&self) -> PathBuf {
        self.dir.join("Cargo.toml")
    }

    pub fn bindings(&self) -> PathBuf {
        self.dir.join("src/bindings.rs")
    }

    /// `wcomp bind WIT --world W --lang rust -o BINDINGS`'s arguments,
    /// relative to the workspace root.
    pub fn bind_args(&self, bind: &Bind) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec!["bind".into(), bind.wit.clone().into()];
        for arg in ["--world", &bind.world, "--lang", "rust", "-o"] {
            args.push(arg.into());
        }
        args.push(self.bindings().into());
        args
    }

    /// The core module its release build writes under `target/guests`.
    pub fn core_module(&self, guests_target: &Path) -> PathBuf {
        guests_target
            .join(toolchain::TARGET)
            .join("release")
            .join(format!("{}.wasm", self.name.replace('-', "_")))
    }
}

/// The value of `key = "..."` in the TOML `[section]` of `text`: the simple
/// one-line form this repository's guest manifests use.
fn manifest_field(text: &str, section: &str, key: &str) -> Option<String> {
    let mut current = "";
    for line in text.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = name.trim();
        } else if current == section {
            let Some((k, v)) = line.split_once('=') else {
                continue;
            };
            if k.trim() == key {
                let v = v.trim();
                return v
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .map(str::to_string);
            }
        }
    }
    None
}

/// `path` relative to `root`, both resolved; `None` if it does not exist
/// or lies outside.
fn relative_to(root: &Path, path: &Path) -> Option<PathBuf> {
    let root = root.canonicalize().ok()?;
    let path = path.canonicalize().ok()?;
    path.strip_prefix(&root).ok().map(Path::to_path_buf)
}

/// Every guest crate directly under `fixtures/`, in name order.
pub fn discover(root: &Path) -> Result<Vec<Guest>, String> {
    let fixtures = root.join("fixtures");
    let mut dirs: Vec<PathBuf> = fs::read_dir(&fixtures)
        .map_err(|e| format!("cannot read {}: {e}", fixtures.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("Cargo.toml").is_file())
        .filter_map(|p| p.strip_prefix(root).ok().map(Path::to_path_buf))
        .collect();
    dirs.sort();
    dirs.iter().map(|dir| Guest::load(root, dir)).collect()
}

/// Where `cargo xtask` puts things: `$CARGO_TARGET_DIR` (relative to the
/// current folder, as cargo reads it), else `ROOT/target`; absolute.
pub fn target_dir(root: &Path) -> PathBuf {
    match env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => env::current_dir().unwrap_or_default().join(dir),
        None => root.join("target"),
    }
}

/// The command as a user would type it from the workspace root: the
/// variables it sets (but `PATH`, which only puts `/usr/bin` first), the
/// program (`cargo` for `$CARGO`, `wcomp` for the built binary, as if
/// installed), and the arguments, with paths inside the root made relative
/// and shell quoting where needed.
pub fn shell_line(cmd: &Command, root: &Path) -> String {
    let show = |s: &std::ffi::OsStr| {
        let path = Path::new(s);
        let s = match path.strip_prefix(root) {
            Ok(rel) if path.is_absolute() => rel.to_string_lossy(),
            _ => s.to_string_lossy(),
        };
        quote(&s)
    };
    let mut line = String::new();
    for (key, value) in cmd.get_envs() {
        if let (Some(value), false) = (value, key == "PATH") {
            let _ = write!(line, "{}={} ", key.to_string_lossy(), show(value));
        }
    }
    let program = cmd.get_program();
    let wcomp = format!("wcomp{}", env::consts::EXE_SUFFIX);
    if Some(program) == env::var_os("CARGO").as_deref() {
        line.push_str("cargo");
    } else if Path::new(program).file_name() == Some(wcomp.as_ref()) {
        line.push_str("wcomp");
    } else {
        line.push_str(&show(program));
    }
    for arg in cmd.get_args() {
        line.push(' ');
        line.push_str(&show(arg));
    }
    line
}

/// `text` quoted for a POSIX shell if it needs it.
fn quote(text: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./=,:@%+".contains(c);
    if !text.is_empty() && text.chars().all(plain) {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// `1234567` as `1,234,567`.
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `$CARGO` (the cargo running xtask), run at the workspace root. A
/// `CARGO_TARGET_DIR` the user set is passed on absolute, since the folder
/// it was relative to need not be the root.
pub fn cargo(root: &Path) -> Command {
    let mut cmd = Command::new(env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(root);
    if env::var_os("CARGO_TARGET_DIR").is_some() {
        cmd.env("CARGO_TARGET_DIR", target_dir(root));
    }
    cmd
}

/// `cargo build -p wcomp`: the binary at [`wcomp_path`].
pub fn build_wcomp(root: &Path) -> Command {
    let mut cmd = cargo(root);
    cmd.args(["build", "-p", "wcomp"]);
    cmd
}

/// The `wcomp` binary that [`build_wcomp`] builds.
pub fn wcomp_path(target: &Path) -> PathBuf {
    target
        .join("debug")
        .join(format!("wcomp{}", env::consts::EXE_SUFFIX))
}

/// `cargo xtask build-fixtures`: binds and builds every guest once, printing
/// each core module's path and size. Exit 3 when no wasm32 route exists.
pub fn build_fixtures(args: &[String]) -> ExitCode {
    if let [extra, ..] = args {
        eprintln!("error: unexpected argument `{extra}`\nusage: cargo xtask build-fixtures");
        return ExitCode::from(1);
    }
    let root = crate::step::workspace_root();
    let route = match toolchain::detect() {
        Ok(route) => route,
        Err(how) => {
            eprintln!("error: {how}");
            return ExitCode::from(3);
        }
    };
    match build_all(&root, &route) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

fn build_all(root: &Path, route: &Route) -> Result<(), String> {
    let guests = discover(root)?;
    let target = target_dir(root);
    let status = build_wcomp(root)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err(format!("`cargo build -p wcomp` failed ({status})"));
    }
    let wcomp = wcomp_path(&target);
    let guests_target = target.join("guests");
    eprintln!(
        "==> {} guests; wasm32 builds with: {}",
        guests.len(),
        route.describe()
    );
    for guest in &guests {
        let start = Instant::now();
        if let Some(b) = &guest.bind {
            let mut bind = Command::new(&wcomp);
            bind.args(guest.bind_args(b)).current_dir(root);
            eprintln!("==> {}", shell_line(&bind, root));
            let out = bind
                .output()
                .map_err(|e| format!("cannot run {}: {e}", wcomp.display()))?;
            if !out.status.success() {
                return Err(format!(
                    "`wcomp bind` of {} failed:\n{}",
                    guest.name,
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
        }
        let mut build = route.build(&root.join(guest.manifest()), &guests_target);
        build.current_dir(root);
        eprintln!("==> {}", shell_line(&build, root));
        let status = build
            .status()
            .map_err(|e| format!("cannot run cargo: {e}"))?;
        if !status.success() {
            return Err(format!("{} did not build ({status})", guest.name));
        }
        let core = guest.core_module(&guests_target);
        let size = fs::metadata(&core)
            .map_err(|e| format!("{} built, but {}: {e}", guest.name, core.display()))?
            .len();
        println!(
            "{}  {} bytes  ({} in {:.1}s)",
            core.display(),
            grouped(size),
            guest.name,
            start.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = "[package]\nname = \"app-rust\"\nversion = \"0.1.0\"\n\n\
        [package.metadata.wcomp]\nwit = \"../../wit\"\nworld = \"app\"\n\n[lib]\nname = \"other\"\n";

    #[test]
    fn reads_fields_of_their_own_section() {
        assert_eq!(
            manifest_field(MANIFEST, "package", "name").as_deref(),
            Some("app-rust")
        );
        assert_eq!(
            manifest_field(MANIFEST, "lib", "name").as_deref(),
            Some("other")
        );
        assert_eq!(
            manifest_field(MANIFEST, "package.metadata.wcomp", "world").as_deref(),
            Some("app")
        );
        assert_eq!(manifest_field(MANIFEST, "package", "world"), None);
    }

    #[test]
    fn finds_the_repository_guests() {
        let root = crate::step::workspace_root();
        let guests = discover(&root).unwrap();
        let app = guests.iter().find(|g| g.name == "app-rust").unwrap();
        let bind = app.bind.as_ref().unwrap();
        assert_eq!(bind.wit, Path::new("wit"));
        assert_eq!(bind.world, "app");
        assert_eq!(
            shell_line(Command::new("wcomp").args(app.bind_args(bind)), &root),
            "wcomp bind wit --world app --lang rust -o fixtures/app-rust/src/bindings.rs"
        );
        let (_, bind) = Guest::load_bound(&root, Path::new("fixtures/keystore-rust")).unwrap();
        assert_eq!(bind.world, "keystore");
    }

    #[test]
    fn metadata_is_all_or_nothing() {
        let root = env::temp_dir().join(format!("xtask-guests-{}", std::process::id()));
        let dir = Path::new("g");
        fs::create_dir_all(root.join(dir)).unwrap();
        let write = |text: &str| fs::write(root.join(dir).join("Cargo.toml"), text).unwrap();
        write("[package]\nname = \"plain\"\n");
        let guest = Guest::load(&root, dir).unwrap();
        assert_eq!((guest.name.as_str(), guest.bind), ("plain", None));
        assert!(Guest::load_bound(&root, dir).is_err());
        write("[package]\nname = \"half\"\n[package.metadata.wcomp]\nworld = \"app\"\n");
        let err = Guest::load(&root, dir).unwrap_err();
        assert!(err.contains("needs both"), "{err}");
        write(
            "[package]\nname = \"x\"\n[package.metadata.wcomp]\nwit = \"nowhere\"\nworld = \"app\"\n",
        );
        let err = Guest::load(&root, dir).unwrap_err();
        assert!(err.contains("`nowhere` does not exist"), "{err}");
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn quotes_what_a_shell_would_split() {
        let root = Path::new("/r");
        let mut cmd = Command::new("/usr/bin/cargo");
        cmd.env("RUSTC_BOOTSTRAP", "1")
            .env("PATH", "/usr/bin")
            .args(["--config", "t.linker=\"/x y\"", "/r/fixtures/a", "it's"]);
        assert_eq!(
            shell_line(&cmd, root),
            "RUSTC_BOOTSTRAP=1 /usr/bin/cargo --config 't.linker=\"/x y\"' fixtures/a 'it'\\''s'"
        );
    }

    #[test]
    fn groups_digits() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1,000");
        assert_eq!(grouped(36_704_952), "36,704,952");
    }
}
