//! Loading WIT from a file, a package directory (with `deps/`), a
//! wasm-encoded WIT package or a component, into a resolved [`Wit`].
//!
//! This follows wit-parser's `Resolve::push_path` rules but reads the files
//! itself, so that every error can be shown against the text it is about.
//! One difference: a `.wit` file also gets the `deps/` folder beside it (as
//! its directory would), where wit-parser's `push_file` sees no
//! dependencies at all; projects keep `wit/app.wit` next to `wit/deps/`.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use wit_parser::{
    PackageId, ParseError, ParseErrorKind, Resolve, ResolveError, ResolveErrorKind, SourceMap,
    Span, UnresolvedPackageGroup, WorldId,
};

use crate::diagnostic::{SourceDiagnostic, WitError};
use crate::help::{self, Problem};
use crate::{legacy, similar_names};

/// How to load WIT.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// `@unstable(feature = ...)` gates to enable.
    pub features: Vec<String>,
    /// Enable every `@unstable` gate.
    pub all_features: bool,
}

/// Where the WIT came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A single `.wit` file, with the `deps/` beside it if there is one.
    File,
    /// A directory of `.wit` files, with its `deps/`.
    Directory,
    /// A WIT package encoded as wasm (`wcomp wit encode`).
    WasmPackage,
    /// A component; its WIT is the world it targets.
    Component(WorldId),
}

/// Resolved WIT: every package loaded, and the one the user named.
#[derive(Debug, Clone)]
pub struct Wit {
    pub resolve: Resolve,
    /// The package the input defines (its dependencies are in `resolve` too).
    pub package: PackageId,
    pub path: PathBuf,
    pub origin: Origin,
}

/// Loads and resolves the WIT at `path`.
pub fn load(path: &Path, opts: &LoadOptions) -> Result<Wit, WitError> {
    load_with(path, opts, &BTreeMap::new())
}

/// Loads the WIT at `path` as [`load`] does, with the text of some `.wit`
/// files replaced by `upgraded` (by path, as they are found under `path`):
/// what the package would be once the upgrade is written. Those files are
/// named `NAME (upgraded)` in diagnostics.
pub(crate) fn load_upgraded(
    path: &Path,
    upgraded: &BTreeMap<PathBuf, String>,
) -> Result<Wit, WitError> {
    load_with(path, &LoadOptions::default(), upgraded)
}

/// How a file whose upgraded text is loaded is named in diagnostics.
pub(crate) fn upgraded_name(path: &Path) -> String {
    format!("{} (upgraded)", path_name(path))
}

fn load_with(
    path: &Path,
    opts: &LoadOptions,
    upgraded: &BTreeMap<PathBuf, String>,
) -> Result<Wit, WitError> {
    let meta = fs::metadata(path).map_err(|e| missing_path(path, e))?;
    let mut loader = Loader::new(opts);
    loader.upgraded = upgraded.clone();
    if meta.is_dir() {
        let package = loader.load_dir(path)?;
        return Ok(loader.finish(path, package, Origin::Directory));
    }
    let bytes = fs::read(path).map_err(|e| WitError::io(path, e))?;
    if path.extension().is_some_and(|e| e == "wat") {
        let bytes = wat_to_wasm(path, &bytes)?;
        let (package, origin) = loader.merge_wasm(path, &bytes)?;
        return Ok(loader.finish(path, package, origin));
    }
    if bytes.starts_with(b"\0asm") {
        let (package, origin) = loader.merge_wasm(path, &bytes)?;
        return Ok(loader.finish(path, package, origin));
    }
    if path.extension().is_some_and(|e| e == "wasm") {
        return Err(WitError::NotWit {
            path: path.to_path_buf(),
            what: format!(
                "it is named `.wasm` but does not start with the wasm magic bytes `\\0asm` (found {})",
                hex_prefix(&bytes)
            ),
            help: Some(
                "give a `.wit` file, a WIT package directory, or a package written by `wcomp wit encode`"
                    .into(),
            ),
        });
    }
    let file = loader.wit_text(path, bytes)?;
    let group = loader.parse(&[file], path)?;
    let deps_dir = path.parent().unwrap_or(Path::new("")).join("deps");
    let deps = if deps_dir.is_dir() {
        loader.load_deps(&deps_dir)?
    } else {
        Vec::new()
    };
    let package = loader.push(group, deps, path)?;
    Ok(loader.finish(path, package, Origin::File))
}

/// Loads WIT from text in memory; `name` is used in messages only.
pub fn load_str(name: &str, text: &str, opts: &LoadOptions) -> Result<Wit, WitError> {
    let mut loader = Loader::new(opts);
    let path = Path::new(name);
    let group = loader.parse(&[(name.to_string(), text.to_string())], path)?;
    let package = loader.push(group, Vec::new(), path)?;
    Ok(loader.finish(path, package, Origin::File))
}

impl Wit {
    /// Picks a world of the loaded package: the one named, or the only one.
    pub fn world(&self, name: Option<&str>) -> Result<WorldId, WitError> {
        if let (Origin::Component(world), None) = (self.origin, name) {
            return Ok(world);
        }
        let pkg = &self.resolve.packages[self.package];
        let available: Vec<&str> = pkg.worlds.keys().map(String::as_str).collect();
        let list = || {
            if available.is_empty() {
                "it defines no worlds".to_string()
            } else {
                format!("its worlds are: {}", available.join(", "))
            }
        };
        match name {
            // `wasi:cli/command@0.2.12`: a world of any loaded package.
            Some(name) if name.contains(':') => self
                .resolve
                .select_world(&[self.package], Some(name))
                .map_err(|e| WitError::World {
                    message: format!("world `{name}` not found: {}", e.root_cause()),
                    help: Some(format!(
                        "a qualified world is `namespace:package/world[@version]`, from this \
                         package or one of its dependencies; this package's own are named \
                         alone: {}",
                        list()
                    )),
                }),
            Some(name) => {
                let name = name.rsplit('/').next().unwrap_or(name);
                if let Some(id) = pkg.worlds.get(name) {
                    return Ok(*id);
                }
                let near = similar_names(name, available.iter().copied());
                let help = match near.first() {
                    Some(best) => format!("did you mean `--world {best}`? ({})", list()),
                    None => format!("pick one with `--world NAME`; {}", list()),
                };
                Err(WitError::World {
                    message: format!("world `{name}` not found in package `{}`", pkg.name),
                    help: Some(help),
                })
            }
            None => match available.as_slice() {
                [only] => Ok(pkg.worlds[*only]),
                [] => Err(WitError::World {
                    message: format!("package `{}` defines no worlds", pkg.name),
                    help: Some("add a `world NAME { ... }` to the package".into()),
                }),
                _ => Err(WitError::World {
                    message: format!(
                        "package `{}` has {} worlds; say which one",
                        pkg.name,
                        available.len()
                    ),
                    help: Some(format!("pass `--world NAME`; {}", list())),
                }),
            },
        }
    }
}

struct Loader {
    resolve: Resolve,
    /// The text of every file read, by the name it was given in source maps.
    texts: BTreeMap<String, String>,
    /// The `deps/` folder read, if any, and the packages found in it, for
    /// "looked there and found ..." help.
    deps_dir: Option<PathBuf>,
    deps_found: Vec<String>,
    /// Texts to use instead of what is on disk (see [`load_upgraded`]).
    upgraded: BTreeMap<PathBuf, String>,
}

impl Loader {
    fn new(opts: &LoadOptions) -> Self {
        let mut resolve = Resolve {
            all_features: opts.all_features,
            ..Resolve::default()
        };
        resolve.features.extend(opts.features.iter().cloned());
        Loader {
            resolve,
            texts: BTreeMap::new(),
            deps_dir: None,
            deps_found: Vec::new(),
            upgraded: BTreeMap::new(),
        }
    }

    /// The name and text of the `.wit` file at `path`, read as `bytes`
    /// (or its upgraded text).
    fn wit_text(&self, path: &Path, bytes: Vec<u8>) -> Result<(String, String), WitError> {
        if let Some(text) = self.upgraded.get(path) {
            return Ok((upgraded_name(path), text.clone()));
        }
        Ok((path_name(path), utf8(path, bytes)?))
    }

    /// Reads the `.wit` file at `path` (or takes its upgraded text).
    fn read_wit(&self, path: &Path) -> Result<(String, String), WitError> {
        let bytes = if self.upgraded.contains_key(path) {
            Vec::new()
        } else {
            fs::read(path).map_err(|e| WitError::io(path, e))?
        };
        self.wit_text(path, bytes)
    }

    fn finish(self, path: &Path, package: PackageId, origin: Origin) -> Wit {
        Wit {
            resolve: self.resolve,
            package,
            path: path.to_path_buf(),
            origin,
        }
    }

    /// A package directory: its `*.wit` files, then everything in `deps/`.
    fn load_dir(&mut self, dir: &Path) -> Result<PackageId, WitError> {
        let main = self.parse_dir(dir)?;
        let deps = self.load_deps(&dir.join("deps"))?;
        self.push(main, deps, dir)
    }

    /// The packages of a `deps/` folder (none if it does not exist): WIT
    /// ones parsed, to resolve with the main package; encoded ones merged
    /// into the resolve at once.
    fn load_deps(&mut self, deps_dir: &Path) -> Result<Vec<UnresolvedPackageGroup>, WitError> {
        self.deps_dir = Some(deps_dir.to_path_buf());
        let mut deps = Vec::new();
        if !deps_dir.is_dir() {
            return Ok(deps);
        }
        for entry in sorted_entries(deps_dir)? {
            if entry.is_dir() {
                deps.push(self.parse_dir(&entry)?);
                continue;
            }
            match entry.extension().and_then(|e| e.to_str()) {
                Some("wit") => {
                    let file = self.read_wit(&entry)?;
                    deps.push(self.parse(&[file], &entry)?);
                }
                Some(ext @ ("wasm" | "wat")) => {
                    let mut bytes = fs::read(&entry).map_err(|e| WitError::io(&entry, e))?;
                    if ext == "wat" {
                        bytes = wat_to_wasm(&entry, &bytes)?;
                    }
                    let (pkg, _) = self.merge_wasm(&entry, &bytes)?;
                    let name = self.resolve.packages[pkg].name.to_string();
                    self.deps_found.push(name);
                }
                // Like wit-parser: other files (READMEs, .DS_Store) are not WIT.
                _ => {}
            }
        }
        for group in &deps {
            let names = std::iter::once(&group.main).chain(&group.nested);
            self.deps_found.extend(names.map(|p| p.name.to_string()));
        }
        Ok(deps)
    }

    fn parse_dir(&mut self, dir: &Path) -> Result<UnresolvedPackageGroup, WitError> {
        let mut files = Vec::new();
        for entry in sorted_entries(dir)? {
            if entry.extension().is_some_and(|e| e == "wit") && entry.is_file() {
                files.push(self.read_wit(&entry)?);
            }
        }
        if files.is_empty() {
            return Err(WitError::EmptyDir {
                path: dir.to_path_buf(),
            });
        }
        self.parse(&files, dir)
    }

    /// Parses the files of one package.
    fn parse(
        &mut self,
        files: &[(String, String)],
        origin: &Path,
    ) -> Result<UnresolvedPackageGroup, WitError> {
        if let [(name, text)] = files
            && text.trim().is_empty()
        {
            let mut d = SourceDiagnostic::new(
                "wit::empty_file",
                format!(
                    "`{name}` is empty: no `package` header was found in any WIT file for this package"
                ),
                name,
                text,
            );
            d.help = Some(
                "a WIT file starts with a package line, e.g. `package my-org:my-package;`, followed by its interfaces and worlds"
                    .into(),
            );
            return Err(d.into());
        }
        let mut map = SourceMap::new();
        for (name, text) in files {
            map.push_str(name, text.as_str());
            self.texts.insert(name.clone(), text.clone());
        }
        map.parse()
            .map_err(|(map, err)| self.parse_error(&map, &err, origin))
    }

    fn push(
        &mut self,
        main: UnresolvedPackageGroup,
        deps: Vec<UnresolvedPackageGroup>,
        origin: &Path,
    ) -> Result<PackageId, WitError> {
        match self.resolve.push_groups(main, deps) {
            Ok(id) => Ok(id),
            Err(err) => Err(self.resolve_error(&err, origin)),
        }
    }

    /// Decodes a wasm-encoded WIT package or a component and merges it in.
    fn merge_wasm(&mut self, path: &Path, bytes: &[u8]) -> Result<(PackageId, Origin), WitError> {
        let bad = |message: String, help: Option<String>| WitError::BadWasm {
            path: path.to_path_buf(),
            message,
            help,
        };
        if !wasmparser::Parser::is_component(bytes) {
            if let Some((resolve, world)) = embedded_world(bytes) {
                return self.merge_decoded(path, resolve, world);
            }
            return Err(bad(
                "it is a core module".into(),
                Some(
                    "a core module carries no WIT package; wrap it into a component first (`wcomp new`)"
                        .into(),
                ),
            ));
        }
        let decoded = crate::catch_library_panic(|| wit_parser::decoding::decode(bytes))
            .map_err(|panic| format!("the decoder crashed on it: {panic}"))
            .and_then(|r| r.map_err(|e| format!("{e:#}")))
            .map_err(|message| bad(message, Some("the file may be truncated or corrupt".into())))?;
        let (resolve, package, world) = match decoded {
            wit_parser::decoding::DecodedWasm::WitPackage(resolve, pkg) => (resolve, pkg, None),
            wit_parser::decoding::DecodedWasm::Component(resolve, world) => {
                let pkg = resolve.worlds[world].package.ok_or_else(|| {
                    WitError::Internal("decoded component world has no package".into())
                })?;
                (resolve, pkg, Some(world))
            }
        };
        match world {
            Some(world) => self.merge_decoded(path, resolve, world),
            None => {
                let remap = self
                    .resolve
                    .merge(resolve)
                    .map_err(|e| bad(format!("{e:#}"), None))?;
                Ok((remap.packages[package.index()], Origin::WasmPackage))
            }
        }
    }

    /// Merges the WIT of a component (or of a core module's embedded
    /// world): the package is the world's.
    fn merge_decoded(
        &mut self,
        path: &Path,
        resolve: Resolve,
        world: WorldId,
    ) -> Result<(PackageId, Origin), WitError> {
        let package = resolve.worlds[world]
            .package
            .ok_or_else(|| WitError::Internal("decoded world has no package".into()))?;
        let remap = self.resolve.merge(resolve).map_err(|e| WitError::BadWasm {
            path: path.to_path_buf(),
            message: format!("{e:#}"),
            help: None,
        })?;
        let package = remap.packages[package.index()];
        let world = remap.worlds[world.index()].ok_or_else(|| {
            WitError::Internal("component world was dropped while merging".into())
        })?;
        Ok((package, Origin::Component(world)))
    }

    fn parse_error(&self, map: &SourceMap, err: &ParseError, origin: &Path) -> WitError {
        let kind = err.kind();
        let (code, problem) = match kind {
            ParseErrorKind::Lex(e) => ("wit::syntax", Problem::message(&e.to_string())),
            ParseErrorKind::Syntax { message, .. } => ("wit::syntax", Problem::message(message)),
            ParseErrorKind::ItemNotFound { name, kind, .. } => (
                "wit::unknown_name",
                Problem::UnknownName {
                    name: name.clone(),
                    kind: kind.clone(),
                },
            ),
            ParseErrorKind::TypeCycle { name, kind, .. } => (
                "wit::cycle",
                Problem::Cycle {
                    name: name.clone(),
                    kind: kind.clone(),
                },
            ),
            _ => ("wit::error", Problem::Syntax),
        };
        self.located(map, kind.span(), code, kind.to_string(), problem, origin)
    }

    fn resolve_error(&self, err: &ResolveError, origin: &Path) -> WitError {
        let kind = err.kind();
        let map = &self.resolve.source_map;
        let (code, problem) = match kind {
            ResolveErrorKind::PackageNotFound {
                requested, known, ..
            } => (
                "wit::unknown_package",
                Problem::UnknownPackage {
                    requested: requested.to_string(),
                    known: if self.deps_dir.is_some() {
                        self.deps_found.clone()
                    } else {
                        known.iter().map(ToString::to_string).collect()
                    },
                    deps_dir: self.deps_dir.clone(),
                },
            ),
            ResolveErrorKind::WorldNotFound {
                requested, package, ..
            } => (
                "wit::unknown_name",
                self.unknown_in_package(requested, package, "world"),
            ),
            ResolveErrorKind::InterfaceNotFound {
                requested, package, ..
            } => (
                "wit::unknown_name",
                self.unknown_in_package(requested, package, "interface"),
            ),
            ResolveErrorKind::DuplicatePackage { span2, .. } => (
                "wit::duplicate_package",
                Problem::DuplicatePackage { other: *span2 },
            ),
            ResolveErrorKind::PackageCycle { package, .. } => (
                "wit::package_cycle",
                Problem::PackageCycle {
                    package: package.to_string(),
                },
            ),
            ResolveErrorKind::Semantic { message, .. } => {
                ("wit::invalid", Problem::message(message))
            }
            _ => ("wit::invalid", Problem::Syntax),
        };
        self.located(map, kind.span(), code, kind.to_string(), problem, origin)
    }

    fn unknown_in_package(
        &self,
        requested: &str,
        package: &wit_parser::PackageName,
        kind: &'static str,
    ) -> Problem {
        let candidates = self
            .resolve
            .package_names
            .get(package)
            .map(|id| {
                let pkg = &self.resolve.packages[*id];
                if kind == "world" {
                    pkg.worlds.keys().cloned().collect()
                } else {
                    pkg.interfaces.keys().cloned().collect()
                }
            })
            .unwrap_or_default();
        Problem::UnknownInPackage {
            requested: requested.to_string(),
            package: package.to_string(),
            kind,
            candidates,
        }
    }

    /// Turns an error at `span` of `map` into a diagnostic on its file.
    fn located(
        &self,
        map: &SourceMap,
        span: Span,
        code: &str,
        message: String,
        problem: Problem,
        origin: &Path,
    ) -> WitError {
        let Some(loc) = map.resolve_span(span) else {
            // No location (e.g. a missing `package` line): the whole input is at fault.
            let name = path_name(origin);
            let text = self.texts.get(&name).map_or("", String::as_str);
            let mut diag = SourceDiagnostic::new(code, message, &name, text);
            let ctx = help::Context {
                map,
                texts: &self.texts,
                path: &name,
                text,
                span: 0..0,
            };
            diag.help = help::advise(&problem, &ctx).help;
            return diag.into();
        };
        let text = self.texts.get(loc.path).map_or("", String::as_str);
        let range = loc.range.clone();
        let mut diag = SourceDiagnostic::new(code, message, loc.path, text);
        let ctx = help::Context {
            map,
            texts: &self.texts,
            path: loc.path,
            text,
            span: range.clone(),
        };
        let advice = help::advise(&problem, &ctx);
        if let Some(code) = advice.code {
            diag.code = code.into();
        }
        diag = diag.label(range.clone(), advice.label.unwrap_or_default());
        for (span, label) in advice.related {
            diag = diag.label(span, label);
        }
        diag.help = advice.help;
        legacy_override(diag, range).into()
    }
}

/// Old syntax explains most parse errors in text copied from old articles:
/// point at every old token and name the command that upgrades them.
fn legacy_override(
    mut diag: SourceDiagnostic,
    error_span: std::ops::Range<usize>,
) -> SourceDiagnostic {
    let uses = legacy::find_legacy(diag.text());
    if uses.is_empty() {
        // No old token to point at, but maybe the shape of an old file.
        if let Some(shape) = legacy::old_shape(diag.text()) {
            let hint = format!(
                "{shape}: run `wcomp wit upgrade {}` to rewrite it in current syntax (`--dry-run` shows the diff)",
                diag.path
            );
            diag.help = Some(match diag.help.take() {
                Some(help) => format!("{help}; also, this file {hint}"),
                None => format!("this file {hint}"),
            });
        }
        return diag;
    }
    let at_error = uses.iter().any(|u| u.span.start == error_span.start);
    let parser_label = diag.labels.remove(0);
    if !at_error {
        diag.message = "this file uses WIT syntax from before WIT 1.0".into();
        diag.code = "wit::legacy_syntax".into();
    }
    let mut labels: Vec<_> = uses
        .iter()
        .map(|u| crate::diagnostic::Label {
            span: u.span.clone(),
            text: format!("`{}` is now {}", u.found, u.now),
        })
        .collect();
    if at_error {
        // Keep wit-parser's location as the primary one.
        labels.sort_by_key(|l| l.span.start != error_span.start);
    } else {
        labels.push(crate::diagnostic::Label {
            span: parser_label.span,
            text: "the parser stopped here".into(),
        });
    }
    diag.labels = labels;
    let fixable = uses.iter().any(|u| u.fixable);
    diag.help = Some(if fixable {
        format!(
            "run `wcomp wit upgrade {}` to rewrite it in current syntax (`--dry-run` shows the diff)",
            diag.path
        )
    } else {
        "rewrite the marked types in current WIT syntax".into()
    });
    diag
}

fn missing_path(path: &Path, e: std::io::Error) -> WitError {
    if e.kind() != std::io::ErrorKind::NotFound {
        return WitError::io(path, e);
    }
    // Suggest a near name in the same directory, the usual typo.
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let wanted = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let names: Vec<String> = fs::read_dir(parent)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    let near = similar_names(wanted, names.iter().map(String::as_str));
    let help = match near.first() {
        Some(n) if path.parent().is_some_and(|p| p.as_os_str().is_empty()) => {
            Some(format!("did you mean `{n}`?"))
        }
        Some(n) => Some(format!("did you mean `{}`?", parent.join(n).display())),
        None if !parent.exists() => Some(format!(
            "the directory `{}` does not exist either",
            parent.display()
        )),
        None => None,
    };
    WitError::NotFound {
        path: path.to_path_buf(),
        help,
    }
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>, WitError> {
    let mut entries = fs::read_dir(dir)
        .and_then(|rd| {
            rd.map(|e| e.map(|e| e.path()))
                .collect::<Result<Vec<_>, _>>()
        })
        .map_err(|e| WitError::io(dir, e))?;
    entries.sort();
    Ok(entries)
}

/// Checks UTF-8, pointing at the first bad byte.
pub(crate) fn utf8(path: &Path, bytes: Vec<u8>) -> Result<String, WitError> {
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let lossy = String::from_utf8_lossy(e.as_bytes()).into_owned();
        let bad = e.as_bytes()[at];
        let name = path_name(path);
        let mut d = SourceDiagnostic::new(
            "wit::not-utf8",
            format!("`{name}` is not valid UTF-8: byte 0x{bad:02x} at offset {at}"),
            &name,
            &lossy,
        )
        .label(at..at + '\u{fffd}'.len_utf8(), "this byte is not UTF-8");
        d.help = Some("WIT files are UTF-8 text; re-save the file as UTF-8".into());
        d.into()
    })
}

/// The text format of a WIT package or component, as wasm-tools accepts it.
fn wat_to_wasm(path: &Path, bytes: &[u8]) -> Result<Vec<u8>, WitError> {
    wat::parse_bytes(bytes)
        .map(|b| b.into_owned())
        .map_err(|mut e| {
            e.set_path(path);
            WitError::BadWasm {
                path: path.to_path_buf(),
                message: e.to_string(),
                help: None,
            }
        })
}

fn path_name(path: &Path) -> String {
    path.display().to_string()
}

fn hex_prefix(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "an empty file".into();
    }
    let hex: Vec<String> = bytes.iter().take(4).map(|b| format!("{b:02x}")).collect();
    format!("`{}`", hex.join(" "))
}

/// The world a core module was built for, from its `component-type`
/// sections: the world as declared when there is one section, else the
/// merged world wit-component would use.
fn embedded_world(bytes: &[u8]) -> Option<(Resolve, WorldId)> {
    let (stripped, bindgen) = crate::catch_library_panic(|| wit_component::metadata::decode(bytes))
        .ok()?
        .ok()?;
    stripped.as_ref()?;
    let root = bindgen.resolve.worlds[bindgen.world].package;
    let mut declared = bindgen
        .resolve
        .worlds
        .iter()
        .filter(|(_, w)| w.package.is_some() && w.package != root)
        .map(|(id, _)| id);
    let world = match (declared.next(), declared.next()) {
        (Some(only), None) => only,
        _ => bindgen.world,
    };
    Some((bindgen.resolve, world))
}
