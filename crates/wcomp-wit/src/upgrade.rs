//! `wcomp wit upgrade`: rewrite pre-1.0 WIT files into current syntax.
//!
//! The rewriting itself is in [`crate::legacy`]; this module decides which
//! files to touch and refuses to produce text that does not parse.

use std::fs;
use std::path::{Path, PathBuf};

use wit_parser::SourceMap;

use crate::diagnostic::{Label, SourceDiagnostic, WitError};
use crate::legacy;

/// One file and what upgrading it gives.
#[derive(Debug)]
pub struct FileUpgrade {
    pub path: PathBuf,
    pub original: String,
    pub upgrade: legacy::Upgrade,
}

impl FileUpgrade {
    /// The unified diff from the old text to the new.
    pub fn diff(&self) -> String {
        self.upgrade
            .diff(&self.original, &self.path.display().to_string())
    }
}

/// Upgrades the `.wit` file at `path`, or every `.wit` file of a package
/// directory (and of its `deps/`). Nothing is written: the caller writes
/// [`FileUpgrade::upgrade`]`.text` where it [changed](legacy::Upgrade::changed).
///
/// Fails, for every file, when some old syntax has no mechanical rewrite or
/// when the rewritten text does not parse.
pub fn upgrade_path(path: &Path) -> Result<Vec<FileUpgrade>, WitError> {
    let mut files = Vec::new();
    collect(path, &mut files, true)?;
    if files.is_empty() {
        return Err(WitError::EmptyDir {
            path: path.to_path_buf(),
        });
    }
    let mut out = Vec::new();
    for file in files {
        let bytes = fs::read(&file).map_err(|e| WitError::io(&file, e))?;
        let original = crate::load::utf8(&file, bytes)?;
        let stem = file.file_stem().map(|s| s.to_string_lossy().into_owned());
        let cx = legacy::Context::for_file(&stem.unwrap_or_default());
        let upgrade = legacy::upgrade(&original, &cx);
        let name = file.display().to_string();
        let unfixable: Vec<&legacy::LegacyUse> = upgrade.unfixable().collect();
        if !unfixable.is_empty() {
            let mut d = SourceDiagnostic::new(
                "wit::legacy_syntax",
                format!("`{name}` has old syntax with no mechanical rewrite"),
                &name,
                &original,
            );
            d.labels = unfixable
                .iter()
                .map(|u| Label {
                    span: u.span.clone(),
                    text: format!("no current equivalent for `{}` here", u.found),
                })
                .collect();
            // What each marked spelling becomes, once per kind.
            let mut instead: Vec<&str> = unfixable.iter().map(|u| u.now).collect();
            instead.dedup();
            let fixable = upgrade.uses.iter().filter(|u| u.fixable).count();
            d.help = Some(format!(
                "instead of `unit` there: {}. Nothing was rewritten (the {fixable} other old constructs wait too): fix the marked ones by hand, then run the upgrade again",
                instead.join("; ")
            ));
            return Err(d.into());
        }
        if upgrade.changed() {
            let mut map = SourceMap::new();
            map.push_str(&name, upgrade.text.as_str());
            if let Err((_, e)) = map.parse() {
                return Err(WitError::Internal(format!(
                    "the upgraded text of `{name}` does not parse ({e}); the file was left as it was"
                )));
            }
        }
        out.push(FileUpgrade {
            path: file,
            original,
            upgrade,
        });
    }
    Ok(out)
}

fn collect(path: &Path, files: &mut Vec<PathBuf>, top: bool) -> Result<(), WitError> {
    let meta = fs::metadata(path).map_err(|e| WitError::io(path, e))?;
    if !meta.is_dir() {
        files.push(path.to_path_buf());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = fs::read_dir(path)
        .and_then(|rd| rd.map(|e| e.map(|e| e.path())).collect())
        .map_err(|e| WitError::io(path, e))?;
    entries.sort();
    for entry in entries {
        if entry.is_dir() {
            if top && entry.file_name().is_some_and(|n| n == "deps") {
                let mut deps: Vec<PathBuf> = fs::read_dir(&entry)
                    .map_err(|e| WitError::io(&entry, e))?
                    .flatten()
                    .map(|d| d.path())
                    .collect();
                deps.sort();
                for dep in deps {
                    if dep.is_dir() || dep.extension().is_some_and(|e| e == "wit") {
                        collect(&dep, files, false)?;
                    }
                }
            }
        } else if entry.extension().is_some_and(|e| e == "wit") {
            files.push(entry);
        }
    }
    Ok(())
}
