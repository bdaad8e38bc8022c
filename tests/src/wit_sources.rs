//! Where the repository's WIT is: shared by `build.rs` (host bindings for
//! every world) and `tests/bind_stubs.rs` (guest stubs for every world), so
//! both walk the same files.

use std::fs;
use std::path::{Path, PathBuf};

/// The shipped WIT, the vendored WASI 0.2 worlds, and every `.wit` file
/// under `fixtures/` and `crates/` (dependency folders are loaded through
/// their dependents), sorted.
pub fn wit_sources(root: &Path) -> Vec<PathBuf> {
    let mut out = vec![root.join("wit"), root.join("fixtures/wasi")];
    let mut stack = vec![root.join("fixtures"), root.join("crates")];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let name = e.file_name();
            if p.is_dir() {
                if name != "deps" && name != "wasi" {
                    stack.push(p);
                }
            } else if p.extension().is_some_and(|x| x == "wit") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}
