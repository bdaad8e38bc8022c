//! Support for the end-to-end tests: build the `wcomp` binary once, run it
//! the way a script would (no terminal, no colour), and make what it prints
//! comparable across machines.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

pub mod c_guest;
pub mod go_guest;
pub mod host;
pub mod host_bindings;
pub mod http_host;
pub mod jco;
pub mod random_world;
pub mod script;
mod wit_sources;

pub use wit_sources::wit_sources;

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

/// The cargo target directory (`CARGO_TARGET_DIR`, else `target/` at the
/// workspace root), for caches that outlive one test run.
pub fn target_dir() -> PathBuf {
    let root = workspace_root();
    std::env::var_os("CARGO_TARGET_DIR")
        .map(|dir| root.join(dir))
        .unwrap_or_else(|| root.join("target"))
}

/// Builds the guest crate (or workspace) at `manifest` for wasm32 with
/// `cargo xtask build-guest`: `Ok(Some(path))` of the core module it
/// printed, `Ok(None)` (after a `skipped:` note) where no wasm32 route
/// exists, `Err` with cargo's output when the build fails.
pub fn build_guest(manifest: &Path) -> Result<Option<PathBuf>, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args(["xtask", "build-guest"])
        .arg(manifest)
        .current_dir(workspace_root())
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if out.status.code() == Some(3) {
        eprintln!("skipped: {}", text(&out.stderr));
        return Ok(None);
    }
    if !out.status.success() {
        return Err(text(&out.stderr));
    }
    Ok(Some(PathBuf::from(text(&out.stdout).trim())))
}

/// The program `name` on `PATH`, if any.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// A 64-bit FNV-1a hash of `parts` (each length-prefixed), as 16 hex
/// digits: a stable key for cached build products, not a digest to trust.
pub fn fnv_key(parts: &[&[u8]]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    for part in parts {
        eat(&(part.len() as u64).to_le_bytes());
        eat(part);
    }
    format!("{hash:016x}")
}

/// Every file under `dir` (by path relative to it) with a key of its bytes,
/// to tell afterwards what a run wrote or changed.
pub fn snapshot(dir: &Path) -> io::Result<BTreeMap<PathBuf, String>> {
    let mut found = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(at) = stack.pop() {
        for entry in fs::read_dir(&at)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let key = fnv_key(&[&fs::read(&path)?]);
                let rel = path.strip_prefix(dir).unwrap_or(&path).to_path_buf();
                found.insert(rel, key);
            }
        }
    }
    Ok(found)
}

/// The files under `dir` that are new or changed since `before` ([`snapshot`]).
pub fn changed_since(dir: &Path, before: &BTreeMap<PathBuf, String>) -> io::Result<Vec<String>> {
    Ok(snapshot(dir)?
        .into_iter()
        .filter(|(path, key)| before.get(path) != Some(key))
        .map(|(path, _)| path.display().to_string())
        .collect())
}

/// Reads an unsigned LEB128 number at `*at`, moving past it.
fn leb(bytes: &[u8], at: &mut usize) -> Option<usize> {
    let (mut value, mut shift) = (0usize, 0u32);
    loop {
        let byte = *bytes.get(*at)?;
        *at += 1;
        value |= usize::from(byte & 0x7f).checked_shl(shift)?;
        if byte & 0x80 == 0 {
            return Some(value);
        }
        shift += 7;
    }
}

/// The top-level sections of a wasm module or component: (id, payload).
/// `None` if the file is cut short.
fn sections(wasm: &[u8]) -> Option<Vec<(u8, &[u8])>> {
    let mut found = Vec::new();
    let mut at = 8;
    while at < wasm.len() {
        let id = wasm[at];
        at += 1;
        let size = leb(wasm, &mut at)?;
        found.push((id, wasm.get(at..at.checked_add(size)?)?));
        at += size;
    }
    Some(found)
}

/// A custom section's name and data.
fn custom(body: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut at = 0;
    let len = leb(body, &mut at)?;
    let name = body.get(at..at.checked_add(len)?)?;
    Some((name, &body[at + len..]))
}

/// The payload of the top-level custom section `name` of a wasm module or
/// component, if it has one (the last, if several).
pub fn custom_section<'a>(wasm: &'a [u8], name: &str) -> Option<&'a [u8]> {
    sections(wasm)?
        .into_iter()
        .filter(|(id, _)| *id == 0)
        .filter_map(|(_, body)| custom(body))
        .filter(|(n, _)| *n == name.as_bytes())
        .map(|(_, data)| data)
        .next_back()
}

/// The names of all custom sections of a wasm file, at any depth: those of
/// the core modules (section 1) and components (section 4) nested in a
/// component too, in order.
pub fn custom_section_names(wasm: &[u8]) -> Vec<String> {
    let component = wasm.get(4..8) == Some(&[0x0d, 0, 1, 0][..]);
    let mut names = Vec::new();
    for (id, body) in sections(wasm).unwrap_or_default() {
        match id {
            0 => names.extend(custom(body).map(|(n, _)| text(n))),
            1 | 4 if component => names.extend(custom_section_names(body)),
            _ => {}
        }
    }
    names
}

/// The names a component exports at its top level (its export sections,
/// id 11), in order; `None` if they cannot be read.
pub fn component_exports(wasm: &[u8]) -> Option<Vec<String>> {
    let mut names = Vec::new();
    for (_, body) in sections(wasm)?.into_iter().filter(|(id, _)| *id == 11) {
        let mut at = 0;
        let byte = |at: &mut usize| {
            let b = *body.get(*at)?;
            *at += 1;
            Some(b)
        };
        for _ in 0..leb(body, &mut at)? {
            // exportname': 0x00 or 0x01, then the name as a string.
            if byte(&mut at)? > 1 {
                return None;
            }
            let len = leb(body, &mut at)?;
            names.push(text(body.get(at..at.checked_add(len)?)?));
            at += len;
            // sort (0x00 takes a core sort byte more), then the index.
            if byte(&mut at)? == 0 {
                byte(&mut at)?;
            }
            leb(body, &mut at)?;
            // An optional type ascription: the sort again, then an index
            // (or a value type, one LEB too).
            match byte(&mut at)? {
                0 => {}
                1 => match byte(&mut at)? {
                    0 => {
                        byte(&mut at)?;
                        leb(body, &mut at)?;
                    }
                    // A type: `0x00 typeidx` (equal to) or `0x01` (a new resource).
                    3 => {
                        if byte(&mut at)? == 0 {
                            leb(body, &mut at)?;
                        }
                    }
                    _ => {
                        leb(body, &mut at)?;
                    }
                },
                _ => return None,
            }
        }
    }
    Some(names)
}

/// Whether `BLESS` is set: expectations are rewritten instead of compared.
pub fn bless() -> bool {
    std::env::var_os("BLESS").is_some_and(|v| !v.is_empty())
}

/// Compares `actual` with the case's file `name` (a diff goes to
/// `problems`), or writes it there under `BLESS`.
pub fn expect_file(
    case: &Path,
    name: &str,
    actual: &str,
    problems: &mut Vec<String>,
) -> io::Result<()> {
    let path = case.join(name);
    if bless() {
        return fs::write(&path, actual);
    }
    let expected = fs::read_to_string(&path).unwrap_or_default();
    if expected != actual {
        let diff = similar::TextDiff::from_lines(expected.as_str(), actual)
            .unified_diff()
            .header("expected", "actual")
            .to_string();
        problems.push(format!("{name} differs (BLESS=1 accepts it):\n{diff}"));
    }
    Ok(())
}

/// `wasm-tools validate --features all FILE` as an outside check: `None`
/// when the file is valid or wasm-tools is not installed.
pub fn wasm_tools_validate(file: &Path) -> Option<String> {
    let args = [
        OsStr::new("validate"),
        "--features".as_ref(),
        "all".as_ref(),
    ];
    let out = wasm_tools(args.into_iter().chain([file.as_os_str()]), Path::new("."))?.ok()?;
    (!out.status.success()).then(|| text(&out.stderr))
}

/// Runs `wasm-tools args...` in `cwd`: `None` when wasm-tools is not
/// installed, `Err` when it cannot be started.
pub fn wasm_tools<S: AsRef<OsStr>>(
    args: impl IntoIterator<Item = S>,
    cwd: &Path,
) -> Option<io::Result<Output>> {
    static INSTALLED: OnceLock<bool> = OnceLock::new();
    let installed = INSTALLED.get_or_init(|| {
        Command::new("wasm-tools")
            .arg("--version")
            .stdin(Stdio::null())
            .output()
            .is_ok_and(|out| out.status.success())
    });
    if !installed {
        return None;
    }
    Some(
        Command::new("wasm-tools")
            .args(args)
            .current_dir(cwd)
            .stdin(Stdio::null())
            .output(),
    )
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
    fn finds_custom_sections() {
        // A component preamble, a custom section `a` holding "xy", a type
        // section (id 7) of two bytes, and a custom section `b`.
        let wasm = [
            0, b'a', b's', b'm', 0x0d, 0, 1, 0, 0, 4, 1, b'a', b'x', b'y', 7, 2, 0, 0, 0, 2, 1,
            b'b',
        ];
        assert_eq!(custom_section(&wasm, "a"), Some(&b"xy"[..]));
        assert_eq!(custom_section(&wasm, "b"), Some(&b""[..]));
        assert_eq!(custom_section(&wasm, "c"), None);
        assert_eq!(custom_section(&wasm[..12], "a"), None);
        assert_eq!(custom_section_names(&wasm), ["a", "b"]);
        // The same bytes nested as a component (section 4) and as a core
        // module (section 1, whose own sections are not a component's).
        let mut outer = vec![0, b'a', b's', b'm', 0x0d, 0, 1, 0, 4, wasm.len() as u8];
        outer.extend(wasm);
        outer.extend([1, 13, 0, b'a', b's', b'm', 1, 0, 0, 0, 0, 3, 2, b'c', b'd']);
        assert_eq!(custom_section_names(&outer), ["a", "b", "cd"]);
    }

    #[test]
    fn fnv_keys_are_stable() {
        assert_eq!(fnv_key(&[]), "cbf29ce484222325");
        assert_ne!(fnv_key(&[b"ab", b"c"]), fnv_key(&[b"a", b"bc"]));
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
