//! `wcomp wit upgrade`: rewrite pre-1.0 WIT files into current syntax.
//!
//! The rewriting itself is in [`crate::legacy`]; this module decides which
//! files to touch and what a file without a package is named, and then loads
//! the upgraded text the way `wcomp wit check` will load it once written. An
//! upgrade that does not parse or resolve is reported with the usual
//! diagnostics, pointing into the upgraded text, and is not to be written.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::ops::Range;
use std::path::{Path, PathBuf};

use wit_parser::SourceMap;

use crate::diagnostic::{Label, SourceDiagnostic, WitError, line_col};
use crate::legacy::{self, Context, Documents, wit_name};
use crate::lex::{Kind, tokenize};
use crate::load::{load_upgraded, upgraded_name};

/// At most this many errors of the upgraded text are reported.
const MAX_ERRORS: usize = 10;

/// How to upgrade.
#[derive(Debug, Clone, Default)]
pub struct UpgradeOptions {
    /// The package of files that have no `package` line
    /// (`namespace:name[@version]`); `local:NAME` after the file or
    /// directory when not given.
    pub package: Option<String>,
}

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

/// What upgrading a file or a package directory gives.
#[derive(Debug)]
pub struct UpgradeSet {
    /// Every `.wit` file looked at, changed or not.
    pub files: Vec<FileUpgrade>,
    /// Errors of the upgraded text (it does not parse or resolve), pointing
    /// into it. When there are any, no file may be written.
    pub errors: Vec<WitError>,
}

impl UpgradeSet {
    /// The files whose text changes.
    pub fn changed(&self) -> impl Iterator<Item = &FileUpgrade> {
        self.files.iter().filter(|f| f.upgrade.changed())
    }

    /// The error that ends a run with [errors](Self::errors), saying that
    /// nothing was written (or, for `dry_run`, would be).
    pub fn not_written(&self, dry_run: bool) -> Option<WitError> {
        let count = self.errors.len();
        if count == 0 {
            return None;
        }
        let names: Vec<String> = self
            .changed()
            .map(|f| format!("`{}`", f.path.display()))
            .collect();
        let names = names.join(", ");
        let errors = if count == 1 {
            "an error".to_string()
        } else if count >= MAX_ERRORS {
            format!("{count} or more errors")
        } else {
            format!("{count} errors")
        };
        let several = self.changed().count() > 1;
        let message = match (dry_run, several) {
            (true, false) => {
                format!(
                    "the upgraded text of {names} has {errors} (above): it would not be written"
                )
            }
            (true, true) => format!(
                "the upgraded text of {names} has {errors} (above): they would not be written"
            ),
            (false, false) => {
                format!("{names} was not written: its upgraded text has {errors} (above)")
            }
            (false, true) => {
                format!("{names} were not written: their upgraded text has {errors} (above)")
            }
        };
        let them = if count == 1 { "it" } else { "them" };
        let mut help = format!(
            "fix {them} in {names} as it is (old syntax is fine there), then run the upgrade again"
        );
        if !dry_run {
            help.push_str("; `--dry-run` shows the upgraded text");
        }
        Some(WitError::NotWritten {
            message,
            help: Some(help),
        })
    }
}

/// Upgrades the `.wit` file at `path`, or every `.wit` file of a package
/// directory (and of its `deps/`). Nothing is written: the caller writes
/// each [changed](UpgradeSet::changed) file's text when
/// [`UpgradeSet::errors`] is empty.
///
/// Fails, for every file, when some old syntax has no mechanical rewrite.
pub fn upgrade_path(path: &Path, opts: &UpgradeOptions) -> Result<UpgradeSet, WitError> {
    if let Some(name) = &opts.package {
        check_package_name(name)?;
    }
    let mut found = Vec::new();
    collect(path, None, &mut found)?;
    if found.is_empty() {
        return Err(WitError::EmptyDir {
            path: path.to_path_buf(),
        });
    }
    let mut texts = Vec::new();
    let mut documents = Documents::default();
    let mut declared = BTreeSet::new();
    for (file, dep) in found {
        let bytes = fs::read(&file).map_err(|e| WitError::io(&file, e))?;
        let text = crate::load::utf8(&file, bytes)?;
        documents.add(dep.as_deref(), &stem(&file), &text);
        if legacy::declares_package(&text) {
            declared.insert(dep.clone());
        }
        texts.push((file, dep, text));
    }
    let own = match &opts.package {
        Some(name) => name.clone(),
        None => format!("local:{}", wit_name(&stem(path))),
    };
    let mut files = Vec::new();
    for (file, dep, original) in texts {
        // One package line per package: none where a file already has one.
        let package = (!declared.contains(&dep)).then(|| match &dep {
            None => own.clone(),
            Some(d) => format!("local:{}", wit_name(d)),
        });
        let cx = Context {
            package,
            interface: wit_name(&stem(&file)),
            documents: documents.clone(),
        };
        let upgrade = legacy::upgrade(&original, &cx);
        if upgrade.unfixable().next().is_some() {
            return Err(unfixable(&file, &original, &upgrade));
        }
        files.push(FileUpgrade {
            path: file,
            original,
            upgrade,
        });
    }
    let errors = if files.iter().any(|f| f.upgrade.changed()) {
        check_upgraded(path, &files)
    } else {
        Vec::new()
    };
    Ok(UpgradeSet { files, errors })
}

/// The stem of a file, or the name of a directory (`.` as its real name).
fn stem(path: &Path) -> String {
    let name = if path.is_dir() {
        fs::canonicalize(path)
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
    } else {
        path.file_stem().map(|n| n.to_string_lossy().into_owned())
    };
    name.unwrap_or_default()
}

/// `name` must be a package name: `namespace:name[@version]`.
fn check_package_name(name: &str) -> Result<(), WitError> {
    let bad = |reason: &str| WitError::PackageName {
        value: name.to_string(),
        reason: reason.to_string(),
    };
    let allowed = |c: char| c.is_ascii_alphanumeric() || "-:@.+%".contains(c);
    if let Some(c) = name.chars().find(|c| !allowed(*c)) {
        return Err(bad(&format!("`{c}` cannot be part of one")));
    }
    if !name.contains(':') {
        return Err(bad("it has no namespace (`namespace:name`)"));
    }
    let mut map = SourceMap::new();
    map.push_str("package.wit", format!("package {name};"));
    map.parse().map(|_| ()).map_err(|(_, e)| {
        let message = e.to_string();
        bad(message.lines().next().unwrap_or("it does not parse"))
    })
}

/// The `.wit` files at `path` with the dependency directory each belongs
/// to (`None`: the package itself).
fn collect(
    path: &Path,
    dep: Option<String>,
    files: &mut Vec<(PathBuf, Option<String>)>,
) -> Result<(), WitError> {
    let meta = fs::metadata(path).map_err(|e| WitError::io(path, e))?;
    if !meta.is_dir() {
        files.push((path.to_path_buf(), dep));
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = fs::read_dir(path)
        .and_then(|rd| rd.map(|e| e.map(|e| e.path())).collect())
        .map_err(|e| WitError::io(path, e))?;
    entries.sort();
    for entry in entries {
        if entry.is_dir() {
            if dep.is_none() && entry.file_name().is_some_and(|n| n == "deps") {
                let mut deps: Vec<PathBuf> = fs::read_dir(&entry)
                    .map_err(|e| WitError::io(&entry, e))?
                    .flatten()
                    .map(|d| d.path())
                    .collect();
                deps.sort();
                for d in deps {
                    if d.is_dir() || d.extension().is_some_and(|e| e == "wit") {
                        let name = if d.is_dir() {
                            d.file_name().map(|n| n.to_string_lossy().into_owned())
                        } else {
                            d.file_stem().map(|n| n.to_string_lossy().into_owned())
                        };
                        collect(&d, Some(name.unwrap_or_default()), files)?;
                    }
                }
            }
        } else if entry.extension().is_some_and(|e| e == "wit") {
            files.push((entry, dep.clone()));
        }
    }
    Ok(())
}

/// The error for old syntax that has no mechanical rewrite.
fn unfixable(file: &Path, original: &str, upgrade: &legacy::Upgrade) -> WitError {
    let name = file.display().to_string();
    let stuck: Vec<&legacy::LegacyUse> = upgrade.unfixable().collect();
    let mut d = SourceDiagnostic::new(
        "wit::legacy_syntax",
        format!("`{name}` has old syntax with no mechanical rewrite"),
        &name,
        original,
    );
    d.labels = stuck
        .iter()
        .map(|u| Label {
            span: u.span.clone(),
            text: u.label(),
        })
        .collect();
    // What to write instead, once per kind.
    let mut instead: Vec<String> = Vec::new();
    for u in &stuck {
        let line = u.instead();
        if !instead.contains(&line) {
            instead.push(line);
        }
    }
    let waiting = match upgrade.uses.iter().filter(|u| u.fixable).count() {
        0 => String::new(),
        1 => " (the 1 other old construct waits too)".to_string(),
        n => format!(" (the {n} other old constructs wait too)"),
    };
    d.help = Some(format!(
        "{}. Nothing was rewritten{waiting}: fix the marked ones by hand, then run the upgrade again",
        instead.join("; ")
    ));
    d.into()
}

/// Loads the package at `root` with the upgraded texts of `files`, and
/// returns its errors, located in the upgraded text.
///
/// wit-parser stops at the first error; an undeclared name is declared for
/// the next try (with a placeholder `type NAME = u8;`) so that each of them
/// is reported, up to [`MAX_ERRORS`].
fn check_upgraded(root: &Path, files: &[FileUpgrade]) -> Vec<WitError> {
    let mut texts: BTreeMap<PathBuf, String> = files
        .iter()
        .filter(|f| f.upgrade.changed())
        .map(|f| (f.path.clone(), f.upgrade.text.clone()))
        .collect();
    // Placeholders added, per file: (offset in the text at the time, length).
    let mut added: BTreeMap<PathBuf, Vec<(usize, usize)>> = BTreeMap::new();
    let mut errors = Vec::new();
    let mut seen = BTreeSet::new();
    while errors.len() < MAX_ERRORS {
        let err = match load_upgraded(root, &texts) {
            Ok(_) => break,
            Err(e) => e,
        };
        let Some(d) = err.source_diagnostic() else {
            errors.push(err);
            break;
        };
        let file = files
            .iter()
            .find(|f| texts.contains_key(&f.path) && upgraded_name(&f.path) == d.path);
        let Some(file) = file else {
            errors.push(err);
            break;
        };
        let inserted = added.get(&file.path).map_or(&[][..], Vec::as_slice);
        let located = relocate(d, file, inserted);
        let primary = d.labels.first().map(|l| l.span.clone());
        if !seen.insert((d.path.clone(), located.labels.first().map(|l| l.span.start))) {
            break;
        }
        errors.push(located.into());
        let placeholder = primary
            .filter(|_| d.code == "wit::unknown_name")
            .and_then(|span| placeholder(d.text(), span));
        let (Some((at, decl)), Some(text)) = (placeholder, texts.get_mut(&file.path)) else {
            break;
        };
        text.insert_str(at, &decl);
        added
            .entry(file.path.clone())
            .or_default()
            .push((at, decl.len()));
    }
    errors
}

/// `d` (on the upgraded text with placeholders `inserted`) as a diagnostic
/// on the upgraded text, its help saying where that is in the file as it is.
fn relocate(
    d: &SourceDiagnostic,
    file: &FileUpgrade,
    inserted: &[(usize, usize)],
) -> SourceDiagnostic {
    let back = |mut offset: usize| {
        for &(at, len) in inserted.iter().rev() {
            if offset >= at + len {
                offset -= len;
            } else if offset > at {
                offset = at;
            }
        }
        offset
    };
    let text = &file.upgrade.text;
    let mut out = SourceDiagnostic::new(d.code.clone(), d.message.clone(), &d.path, text);
    out.labels = d
        .labels
        .iter()
        .map(|l| {
            let start = back(l.span.start).min(text.len());
            let end = back(l.span.end).clamp(start, text.len());
            Label {
                span: start..end,
                text: l.text.clone(),
            }
        })
        .collect();
    let name = file.path.display().to_string();
    let place = out.labels.first().map(|l| {
        let original = file.upgrade.original_offset(l.span.start);
        let (line, _) = line_col(&file.original, original);
        format!("before the upgrade, this is line {line} of `{name}`")
    });
    out.help = match (d.help.clone(), place) {
        (Some(help), Some(place)) => Some(format!("{help}; {place}")),
        (help, place) => help.or(place),
    };
    out
}

/// Where to declare the undeclared name at `span` of `text`, and the
/// declaration: before the `}` of the interface or world it is used in.
fn placeholder(text: &str, span: Range<usize>) -> Option<(usize, String)> {
    let name = text.get(span.clone())?;
    let tokens = tokenize(name);
    if !matches!(tokens.as_slice(), [t] if t.kind == Kind::Ident) {
        return None;
    }
    let tokens = tokenize(text);
    // Open braces: (start offset, whether it opens an interface or a world).
    let mut open: Vec<(usize, bool)> = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        if t.is_punct('{') {
            let before = |n: usize| i.checked_sub(n).and_then(|j| tokens.get(j));
            let named = before(2).is_some_and(|k| k.is_ident("interface") || k.is_ident("world"))
                && before(1).is_some_and(|k| k.kind == Kind::Ident);
            let inline = before(1).is_some_and(|k| k.is_ident("interface"));
            open.push((t.span.start, named || inline));
        } else if t.is_punct('}')
            && let Some((start, container)) = open.pop()
            && container
            && start <= span.start
            && span.end <= t.span.start
        {
            return Some((t.span.start, format!("type {name} = u8; ")));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_names() {
        for ok in ["a:b", "my-org:key-store@0.1.0", "a:b@1.0.0-rc.1+x"] {
            assert!(check_package_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "ab",
            "a:b;interface x {}",
            "a:B c",
            "a:",
            ":b",
            "a:b@x",
            "a:world",
        ] {
            let err = check_package_name(bad).err();
            assert!(
                matches!(err, Some(WitError::PackageName { .. })),
                "{bad}: {err:?}"
            );
        }
    }

    #[test]
    fn placeholders_go_into_the_enclosing_interface() {
        let text = "package a:b;\ninterface i {\n  record r { a: x }\n}\n";
        let span = text.find(": x").map(|n| n + 2..n + 3).unwrap_or_default();
        let (at, decl) = placeholder(text, span).unwrap_or_default();
        assert_eq!(decl, "type x = u8; ");
        assert_eq!(&text[at..], "}\n");
        let text = "world w { import i: interface { f: func(a: y); } }";
        let span = text.find("y)").map(|n| n..n + 1).unwrap_or_default();
        let (at, _) = placeholder(text, span).unwrap_or_default();
        assert_eq!(&text[at..], "} }");
        assert!(placeholder("type x = y;", 9..10).is_none());
        assert!(placeholder("interface i { a: func() -> y<u8>; }", 27..31).is_none());
    }
}
