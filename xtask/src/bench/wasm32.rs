//! What `bench bind` and `bench guest` share: the wit-bindgen peer, and building small Rust
//! guest crates for wasm32 into the bench's own target folder (`target/bench/wasm32`, so that
//! the bench never overwrites a module that the tests or the demo are using; std is built
//! there once by the build-std route).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use super::Context;
use super::measure::{Sample, find_installed, io_err, measure_command, version_of};
use crate::guests::shell_line;
use crate::toolchain::{self, Route};

/// The keystore guest on wit-bindgen's `generate!`; its manifest pins the wit-bindgen crate.
pub const WIT_BINDGEN_FIXTURE: &str = "fixtures/bench/keystore-wit-bindgen";

/// The same release profile as `fixtures/keystore-rust`, for every crate the benches write.
pub const PROFILE: &str = "[profile.release]\npanic = \"abort\"\nopt-level = \"s\"\n";

/// The wit-bindgen CLI.
pub struct WitBindgen {
    pub program: PathBuf,
    /// `0.63.0`: the wit-bindgen crate its output needs.
    pub version: String,
}

/// `WIT_BINDGEN`, else `wit-bindgen` on PATH or in cargo's bin folder; `Err` says how to get it.
pub fn find_wit_bindgen() -> Result<WitBindgen, String> {
    let install = "`cargo install wit-bindgen-cli --locked` installs it (or set WIT_BINDGEN to \
                   its path)";
    let Some(program) = find_installed("WIT_BINDGEN", "wit-bindgen") else {
        return Err(format!("wit-bindgen is not installed: {install}"));
    };
    // `wit-bindgen-cli 0.63.0`
    let shown = version_of(&program);
    match shown.split_whitespace().last() {
        Some(v) if v.starts_with(|c: char| c.is_ascii_digit()) => Ok(WitBindgen {
            program,
            version: v.to_string(),
        }),
        _ => Err(format!(
            "{} does not run (`--version` printed `{shown}`): {install}",
            program.display()
        )),
    }
}

/// The wit-bindgen crate version that the fixture pins (`wit-bindgen = "=0.63.0"`).
pub fn pinned_wit_bindgen(root: &Path) -> Option<String> {
    let manifest = fs::read_to_string(root.join(WIT_BINDGEN_FIXTURE).join("Cargo.toml")).ok()?;
    manifest.lines().find_map(|l| {
        let v = l.trim().strip_prefix("wit-bindgen = \"=")?;
        Some(v.strip_suffix('"')?.to_string())
    })
}

/// Builds guest crates for wasm32 with the toolchain route found here.
pub struct Builder {
    pub route: Route,
    pub target: PathBuf,
    root: PathBuf,
}

impl Builder {
    /// `Err` says why no wasm32 build is possible here.
    pub fn new(ctx: &Context) -> Result<Builder, String> {
        let route = toolchain::detect()
            .map_err(|how| format!("{how}\n(`cargo xtask toolchain --install` installs one)"))?;
        Ok(Builder {
            route,
            target: ctx.dir.join("wasm32"),
            root: ctx.root.clone(),
        })
    }

    /// `cargo build --release` of the crate at `manifest` for wasm32, as a user types it.
    pub fn command(&self, manifest: &Path) -> Command {
        let mut cmd = self.route.build(manifest, &self.target);
        cmd.current_dir(&self.root);
        cmd
    }

    /// One timed build; cargo's output goes to `log`.
    pub fn build(&self, manifest: &Path, log: &Path) -> Result<Sample, String> {
        let mut cmd = self.command(manifest);
        let shown = shell_line(&cmd, &self.root);
        measure_command(&mut cmd, log, &shown)
    }

    /// The core module that building the package `name` writes.
    pub fn core_module(&self, name: &str) -> PathBuf {
        self.target
            .join(toolchain::TARGET)
            .join("release")
            .join(format!("{}.wasm", name.replace('-', "_")))
    }
}

/// A cdylib crate `dir` named `name`, with `dependencies` (TOML lines) and the bench profile.
/// Its `src/` is left to the caller.
pub fn write_manifest(dir: &Path, name: &str, dependencies: &str) -> Result<PathBuf, String> {
    let src = dir.join("src");
    fs::create_dir_all(&src).map_err(io_err("cannot create", &src))?;
    let manifest = dir.join("Cargo.toml");
    let text = format!(
        "# Written by `cargo xtask bench`.\n[package]\nname = \"{name}\"\nversion = \"0.1.0\"\n\
         edition = \"2024\"\npublish = false\n\n[lib]\ncrate-type = [\"cdylib\"]\n\n\
         [dependencies]\n{dependencies}\n{PROFILE}\n[workspace]\n"
    );
    write_if_changed(&manifest, text.as_bytes())?;
    Ok(manifest)
}

/// Writes `bytes` unless the file holds them already (its mtime then stays, and so does
/// cargo's build of it).
pub fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<(), String> {
    if fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(());
    }
    fs::write(path, bytes).map_err(io_err("cannot write", path))
}

/// Sets the file's modification time to now: cargo then rebuilds its crate, and only it.
pub fn touch(path: &Path) -> Result<(), String> {
    let file = fs::File::options()
        .write(true)
        .open(path)
        .map_err(io_err("cannot open", path))?;
    file.set_modified(SystemTime::now())
        .map_err(io_err("cannot touch", path))
}

/// The one `.rs` file in `dir` (where `wit-bindgen rust --out-dir` writes).
pub fn only_rs_file(dir: &Path) -> Result<PathBuf, String> {
    let entries = fs::read_dir(dir).map_err(io_err("cannot read", dir))?;
    let files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    match files.as_slice() {
        [file] => Ok(file.clone()),
        _ => Err(format!(
            "expected one .rs file in {}, found {}",
            dir.display(),
            files.len()
        )),
    }
}

/// The size of each section of a core module, by id (custom sections, id 0, added up).
pub fn section_sizes(bytes: &[u8]) -> [u64; 13] {
    let mut sizes = [0; 13];
    let mut at = 8; // past the preamble
    while let Some((size, len)) = bytes.get(at + 1..).and_then(leb128) {
        let end = at + 1 + len + size;
        if end > bytes.len() {
            break;
        }
        if let Some(slot) = sizes.get_mut(usize::from(bytes[at])) {
            *slot += size as u64;
        }
        at = end;
    }
    sizes
}

/// The id of the code section.
pub const CODE: usize = 10;

/// An unsigned LEB128 at the start of `bytes`, and how many bytes it took.
pub(super) fn leb128(bytes: &[u8]) -> Option<(usize, usize)> {
    let mut value = 0usize;
    for (i, &b) in bytes.iter().enumerate().take(5) {
        value |= usize::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_are_sized_by_id() {
        let mut wasm = b"\0asm\x01\0\0\0".to_vec();
        wasm.extend([1, 3, 1, 0x60, 0]); // type section, 3 bytes
        wasm.extend([10, 4, 1, 2, 0, 0x0b]); // code section, 4 bytes
        wasm.extend([0, 2, 1, b'x']); // custom section, 2 bytes
        let sizes = section_sizes(&wasm);
        assert_eq!((sizes[1], sizes[CODE], sizes[0]), (3, 4, 2));
        // A section that claims more than the file holds ends the walk.
        wasm.extend([11, 100, 0]);
        assert_eq!(section_sizes(&wasm)[11], 0);
    }

    #[test]
    fn the_fixture_pins_wit_bindgen() {
        let root = crate::step::workspace_root();
        let pinned = pinned_wit_bindgen(&root).expect("a `wit-bindgen = \"=X.Y.Z\"` line");
        assert_eq!(pinned.split('.').count(), 3, "{pinned}");
    }
}
