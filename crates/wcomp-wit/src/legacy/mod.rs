//! Finds and upgrades WIT as it was written before WIT 1.0, as 2022–2023
//! articles show it.
//!
//! Two passes over the same tokens each produce byte-range edits of the text:
//!
//! - [`types`]: type spellings: `expected<T, E>` (now `result<T, E>`), `unit`
//!   (now `_`, or nothing), `float32`/`float64` (now `f32`/`f64`).
//! - [`structure`]: the shape of the file: declarations without `;`, a file
//!   without a `package` line, a file that was one interface (its items at the
//!   top level), `default world`/`default interface`/`default export`, the old
//!   `use` forms, `union`, `function`, `static` before a name, named results,
//!   and the document paths of 2023 imports and exports (`self.iface`).
//!
//! Working on tokens, the rewrite never fails and touches only what it
//! rewrites: comments, doc comments and spacing stay as they were (wrapping a
//! file in an interface indents its lines by four spaces).

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;

use crate::lex::tokenize;

mod names;
mod structure;
mod types;

pub use names::wit_name;

/// A replacement of a byte range of the original text.
pub(crate) type Edit = (Range<usize>, String);

/// One use of pre-1.0 WIT syntax.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyUse {
    /// The offending token in the original text (for `expected<...>`, the word
    /// `expected`; for an old `use`, the word `use`).
    pub span: Range<usize>,
    /// The legacy spelling, e.g. `expected`, `unit`, `union`, `default`, `use`.
    pub found: String,
    /// One line on the current spelling, e.g. "`result<T, E>`" or "`f32`".
    pub now: &'static str,
    /// Whether [`upgrade`] rewrites it.
    pub fixable: bool,
}

impl fmt::Display for LegacyUse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` is pre-1.0 WIT; now {}", self.found, self.now)?;
        if !self.fixable {
            f.write_str(" (not upgraded automatically)")?;
        }
        Ok(())
    }
}

impl LegacyUse {
    /// A label for the old spelling, when it has no mechanical rewrite.
    pub fn label(&self) -> String {
        if self.now == structure::LOOSE_MIXED {
            return "outside any interface or world".into();
        }
        format!("no current equivalent for `{}` here", short(&self.found))
    }

    /// What to write instead, as a help line: "instead of `X` there: ...".
    pub fn instead(&self) -> String {
        if self.now == structure::LOOSE_MIXED {
            return format!(
                "put `{}` and the other items outside any interface or world into an interface of their own",
                short(&self.found)
            );
        }
        format!("instead of `{}` there: {}", kind_of(&self.found), self.now)
    }
}

/// A found spelling short enough for a label: its first line, at most 40 characters.
fn short(found: &str) -> String {
    let line = found.lines().next().unwrap_or_default();
    if line.chars().count() > 40 || line.len() < found.len() {
        let cut: String = line.chars().take(40).collect();
        format!("{}...", cut.trim_end())
    } else {
        line.to_string()
    }
}

/// The kind of a found spelling, for "instead of X": its first word (or
/// all of it when it does not start with one).
fn kind_of(found: &str) -> String {
    let word: String = found
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    if word.is_empty() { short(found) } else { word }
}

/// What the file is upgraded as: the names it gets when it has none.
#[derive(Debug, Clone)]
pub struct Context {
    /// The `package` line to add when the file has none (`ns:name[@version]`),
    /// or `None` when another file of the package declares it.
    pub package: Option<String>,
    /// The interface a file of loose items (2022: a file was an interface) is
    /// wrapped in, usually the file stem.
    pub interface: String,
    /// The default interface of each document, for 2023 paths that name a
    /// document (`pkg.doc`, `dep.doc`) rather than an interface.
    pub documents: Documents,
}

impl Context {
    /// A file upgraded on its own: package `local:NAME`, interface `NAME`.
    pub fn for_file(name: &str) -> Context {
        let name = wit_name(name);
        Context {
            package: Some(format!("local:{name}")),
            interface: name,
            documents: Documents::default(),
        }
    }
}

impl Default for Context {
    fn default() -> Self {
        Context::for_file("main")
    }
}

/// The default interfaces of 2023 documents (files), by package and file stem.
///
/// In 2023 a package was a directory of documents, and `use pkg.doc.{a}` or
/// `import x: dep.doc` named a document's `default interface`. Documents are
/// gone: such a path now names the interface itself.
#[derive(Debug, Clone, Default)]
pub struct Documents {
    /// (dependency directory, or `None` for the package itself; file stem) -> interface.
    defaults: BTreeMap<(Option<String>, String), String>,
}

impl Documents {
    /// Records the default interface of `src` (if it declares one) as the
    /// one of document `stem` in dependency `dep` (`None`: this package).
    pub fn add(&mut self, dep: Option<&str>, stem: &str, src: &str) {
        if let Some(name) = structure::default_interface(src) {
            self.defaults
                .insert((dep.map(str::to_string), stem.to_string()), name);
        }
    }

    fn default_of(&self, dep: Option<&str>, doc: &str) -> Option<&str> {
        self.defaults
            .get(&(dep.map(str::to_string), doc.to_string()))
            .map(String::as_str)
    }
}

/// Whether `src` starts with a `package ns:name` line (with or without `;`),
/// as opposed to no package line or only nested `package ns:name { ... }`.
pub fn declares_package(src: &str) -> bool {
    let tokens = tokenize(src);
    if !tokens.first().is_some_and(|t| t.is_ident("package")) {
        return false;
    }
    let (end, _) = structure::path(&tokens, 1);
    !tokens.get(end).is_some_and(|t| t.is_punct('{'))
}

/// How `src` looks like WIT from before 1.0 when no old token says so: its
/// items stand outside any interface, or no declaration ends with `;`.
pub fn old_shape(src: &str) -> Option<&'static str> {
    let tokens = tokenize(src);
    let shape = structure::rewrite(src, &tokens, &Context::default());
    if shape.wrapped_in.is_some() {
        Some("has its items outside any interface, as in 2022 (a file was one interface)")
    } else if shape.semicolons > 0 && !tokens.iter().any(|t| t.is_punct(';')) {
        Some("ends no declaration with `;`, as before late 2023")
    } else {
        None
    }
}

/// Every evident use of pre-1.0 WIT syntax in `src`, in source order: old
/// type spellings and old declarations. Missing `;` and a missing `package`
/// line are not listed (they have no token to point at), nor what looks old
/// only on a guess (an item outside any interface, in a file with interfaces).
///
/// Each `unit` argument of an `expected<..>` is reported on its own as well.
pub fn find_legacy(src: &str) -> Vec<LegacyUse> {
    let mut uses = upgrade(src, &Context::default()).uses;
    uses.retain(|u| !structure::GUESSES.contains(&u.now));
    uses
}

/// The result of [`upgrade`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upgrade {
    /// The upgraded source.
    pub text: String,
    /// The old constructs found (the same as [`find_legacy`]).
    pub uses: Vec<LegacyUse>,
    /// How many `;` were added at the end of declarations.
    pub semicolons: usize,
    /// The `package` line added, if any (its name).
    pub package_added: Option<String>,
    /// The interface the file's top-level items were wrapped in, if any.
    pub wrapped_in: Option<String>,
    /// What to check by hand after the rewrite (generated names, a changed meaning).
    pub notes: Vec<String>,
    /// The edits applied, in order, for mapping offsets back.
    applied: Vec<(Range<usize>, usize)>,
}

impl Upgrade {
    /// True when the text changed.
    pub fn changed(&self) -> bool {
        !self.applied.is_empty()
    }

    /// The uses left as they are, which need a hand edit.
    pub fn unfixable(&self) -> impl Iterator<Item = &LegacyUse> {
        self.uses.iter().filter(|u| !u.fixable)
    }

    /// A unified diff from `original` to the upgraded text, with `path` in the
    /// `---`/`+++` headers (empty when nothing changed).
    pub fn diff(&self, original: &str, path: &str) -> String {
        similar::TextDiff::from_lines(original, &self.text)
            .unified_diff()
            .header(path, path)
            .to_string()
    }

    /// One line on what changed, e.g. "3 old constructs rewritten, 3 `;` added".
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        let rewritten = self.uses.iter().filter(|u| u.fixable).count();
        if rewritten > 0 {
            let s = if rewritten == 1 { "" } else { "s" };
            parts.push(format!("{rewritten} old construct{s} rewritten"));
        }
        if self.semicolons > 0 {
            parts.push(format!("{} `;` added", self.semicolons));
        }
        match (&self.wrapped_in, &self.package_added) {
            (Some(iface), Some(pkg)) => parts.push(format!(
                "items wrapped in `interface {iface}` of the new `package {pkg}`"
            )),
            (Some(iface), None) => parts.push(format!("items wrapped in `interface {iface}`")),
            (None, Some(pkg)) => parts.push(format!("`package {pkg};` added")),
            (None, None) => {}
        }
        if parts.is_empty() {
            "nothing to change".into()
        } else {
            parts.join(", ")
        }
    }

    /// The offset in the original text that `offset` of the upgraded text
    /// comes from (the start of a rewritten piece for an offset inside it).
    pub fn original_offset(&self, offset: usize) -> usize {
        let (mut orig, mut new) = (0usize, 0usize);
        for (range, len) in &self.applied {
            let same = range.start - orig;
            if offset < new + same {
                return orig + (offset - new);
            }
            new += same;
            if offset < new + len {
                return range.start;
            }
            new += len;
            orig = range.end;
        }
        orig + offset.saturating_sub(new)
    }
}

/// Upgrades `src`: every fixable rewrite is applied, unfixable uses stay as
/// they are (and are listed in [`Upgrade::uses`]).
pub fn upgrade(src: &str, cx: &Context) -> Upgrade {
    let tokens = tokenize(src);
    let (mut uses, mut edits) = types::scan(src, &tokens);
    let shape = structure::rewrite(src, &tokens, cx);
    uses.extend(shape.uses);
    edits.extend(shape.edits);
    uses.sort_by_key(|u| u.span.start);
    let (text, applied) = apply(src, edits);
    Upgrade {
        text,
        uses,
        semicolons: shape.semicolons,
        package_added: shape.package_added,
        wrapped_in: shape.wrapped_in,
        notes: shape.notes,
        applied,
    }
}

/// Applies `edits` to `src`. Edits are sorted by position, insertions at one
/// offset keep the order they were made in; an edit overlapping an earlier
/// one is dropped rather than corrupting the text.
fn apply(src: &str, mut edits: Vec<Edit>) -> (String, Vec<(Range<usize>, usize)>) {
    edits.sort_by_key(|(range, _)| (range.start, range.end));
    let mut text = String::with_capacity(src.len() + src.len() / 8);
    let mut applied = Vec::new();
    let mut at = 0;
    for (range, with) in edits {
        let fits = range.start >= at
            && range.end <= src.len()
            && src.is_char_boundary(range.start)
            && src.is_char_boundary(range.end);
        if !fits || (range.is_empty() && with.is_empty()) {
            continue;
        }
        text.push_str(&src[at..range.start]);
        text.push_str(&with);
        applied.push((range.clone(), with.len()));
        at = range.end;
    }
    text.push_str(&src[at..]);
    (text, applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Upgrades `src` as file `x.wit`, checks that upgrading again changes
    /// nothing, and returns the text.
    fn up(src: &str) -> String {
        let cx = Context::for_file("x");
        let first = upgrade(src, &cx);
        let again = upgrade(&first.text, &cx);
        assert_eq!(again.text, first.text, "not idempotent for {src:?}");
        assert!(!again.changed(), "second upgrade changed {src:?}");
        first.text
    }

    #[test]
    fn the_2022_snippet_becomes_a_package() {
        let src = "set: func(key: string, value: payload, ttl: option<u32>) -> expected<unit, error>\n\n\
                   get: func(key: string) -> expected<payload, error>\n";
        let want = "package local:x;\n\ninterface x {\n    \
                    set: func(key: string, value: payload, ttl: option<u32>) -> result<_, error>;\n\n    \
                    get: func(key: string) -> result<payload, error>;\n}\n";
        assert_eq!(up(src), want);
        let result = upgrade(src, &Context::for_file("x"));
        assert_eq!(result.semicolons, 2);
        assert_eq!(result.wrapped_in.as_deref(), Some("x"));
        assert_eq!(result.package_added.as_deref(), Some("local:x"));
        assert_eq!(
            result.summary(),
            "3 old constructs rewritten, 2 `;` added, items wrapped in `interface x` of the new `package local:x`"
        );
    }

    #[test]
    fn current_text_is_left_alone() {
        let src = include_str!("../../../../wit/keystore.wit");
        let result = upgrade(src, &Context::for_file("keystore"));
        assert!(!result.changed(), "{}", result.diff(src, "keystore.wit"));
        assert_eq!(result.text, src);
        assert_eq!(result.summary(), "nothing to change");
    }

    #[test]
    fn offsets_map_back_to_the_original() {
        let src = "f: func() -> expected<u8, unit>\n";
        let result = upgrade(src, &Context::for_file("x"));
        let text = &result.text;
        let at = text.find("f: func").unwrap_or_default();
        assert_eq!(result.original_offset(at), 0);
        let arrow = text.find("->").unwrap_or_default();
        assert_eq!(
            result.original_offset(arrow),
            src.find("->").unwrap_or_default()
        );
        // Inside the rewritten `result`: the start of `expected`.
        let inside = text.find("sult").unwrap_or_default();
        assert_eq!(
            result.original_offset(inside),
            src.find("expected").unwrap_or_default()
        );
        assert_eq!(result.original_offset(text.len()), src.len());
    }

    #[test]
    fn unfixable_labels_and_help() {
        let result = upgrade(
            "interface i {}\nput: func()\nx: func() -> (a: u8,\n b: u8)",
            &Context::default(),
        );
        let stuck: Vec<_> = result.unfixable().collect();
        let texts: Vec<(String, String)> = stuck.iter().map(|u| (u.label(), u.instead())).collect();
        assert_eq!(texts[0].0, "outside any interface or world");
        assert!(
            texts[0].1.starts_with(
                "put `put` and the other items outside any interface or world into an interface"
            ),
            "{}",
            texts[0].1
        );
        assert_eq!(texts[1].0, "no current equivalent for `(a: u8,...` here");
        assert!(
            texts[1]
                .1
                .starts_with("instead of `(a: u8,...` there: one result"),
            "{}",
            texts[1].1
        );
        assert_eq!(kind_of("use * from x"), "use");
    }

    #[test]
    fn old_shapes() {
        assert!(old_shape("f: func()\n").is_some_and(|s| s.contains("2022")));
        assert!(
            old_shape("package a:b\ninterface i { f: func() }").is_some_and(|s| s.contains("`;`"))
        );
        // One `;` missing is a typo, not an old file.
        assert_eq!(old_shape("package a:b;\ninterface i { f: func() }"), None);
        assert_eq!(
            old_shape(include_str!("../../../../wit/keystore.wit")),
            None
        );
        assert_eq!(old_shape(""), None);
    }

    #[test]
    fn package_lines() {
        assert!(declares_package(
            "// c\npackage a:b@1.0.0-rc.1;\ninterface i {}"
        ));
        assert!(declares_package("package a:b\ninterface i {}"));
        assert!(!declares_package("package a:b { interface i {} }"));
        assert!(!declares_package("interface i {}\npackage a:b;"));
        assert!(!declares_package(""));
    }

    #[test]
    fn diff_and_changed() {
        let src = "package a:b;\ninterface i {\nf: func() -> unit;\n}\n";
        let result = upgrade(src, &Context::for_file("x"));
        assert!(result.changed());
        let diff = result.diff(src, "x.wit");
        assert!(diff.starts_with("--- x.wit\n+++ x.wit\n"), "{diff}");
        assert!(
            diff.contains("-f: func() -> unit;\n+f: func();\n"),
            "{diff}"
        );

        let clean_src = "package a:b;\ninterface i { f: func() -> result<_, u8>; }";
        let clean = upgrade(clean_src, &Context::for_file("x"));
        assert!(!clean.changed() && clean.uses.is_empty());
        assert_eq!(clean.diff(clean_src, "x.wit"), "");

        let stuck = upgrade(
            "package a:b;\ninterface i { x: func(a: option<unit>); }",
            &Context::for_file("x"),
        );
        assert!(!stuck.changed());
        assert_eq!(stuck.unfixable().count(), 1);
    }

    #[test]
    fn overlapping_edits_are_dropped() {
        let edits = vec![
            (0..3, "a".to_string()),
            (1..2, "b".to_string()),
            (3..3, "c".into()),
        ];
        assert_eq!(apply("xyzw", edits).0, "acw");
        // Out of range or off a character boundary: dropped.
        let edits = vec![(1..2, "b".to_string()), (9..10, "z".into())];
        assert_eq!(apply("é", edits).0, "é");
    }

    #[test]
    fn idempotent_on_every_form() {
        for src in [
            "use { a, b } from c\nf: func(x: a) -> b\n",
            "default world w { import x: self.i }\ninterface i {}\n",
            "union u { u32, string }\n",
            "resource r { static new: func() -> r }\n",
            "package a:b\ninterface i { f: function() -> (x: u32) }\n",
        ] {
            let _ = up(src);
        }
    }
}
