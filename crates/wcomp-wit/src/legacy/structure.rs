//! The shape of a pre-1.0 WIT file, rewritten into current WIT.
//!
//! Old WIT had no `;`: a declaration ended where the next began. This pass
//! walks the tokens with the grammar of the old forms (never failing: a token
//! it does not understand is stepped over), finds where each declaration ends
//! and adds the `;`, and rewrites the declarations that changed:
//!
//! - 2022: a file was one interface, its items at the top level: they are
//!   wrapped in `interface <file stem> { ... }` under a `package` line;
//!   `use { a, b } from iface` is `use iface.{a, b};`; `function` is `func`;
//!   `union` is a `variant` with named cases; `static f: func()` in a
//!   resource is `f: static func()`; a named result `-> (x: T)` is `-> T`.
//! - 2023: a package was a directory of documents: `default world`,
//!   `default interface` lose the `default`; `use self.iface.{a}`,
//!   `use pkg.doc.iface.{a}` and `use pkg.doc.{a}` name the interface alone;
//!   `import x: self.iface` names the interface; `default export iface` is
//!   `export iface;` and `default export interface { f: func() }` exports
//!   its functions from the world.

use std::ops::Range;

use super::names::{union_cases, wit_name};
use super::{Context, Edit, LegacyUse};
use crate::lex::{Kind, Token, is_keyword, tokenize};

const DEFAULT_ITEM: &str = "nothing: a package has no default world or interface";
const DEFAULT_EXPORT: &str =
    "`export iface;` (it was the component's own exports; now an exported instance)";
const DEFAULT_EXPORT_INLINE: &str = "`export f: func(...);` in the world for each function";
const USE_FROM: &str = "`use iface.{a, b};`";
const USE_STAR: &str = "a list of the names: `use iface.{a, b};`";
const DOC_PATH: &str = "the interface alone, `iface` or `ns:pkg/iface` (documents are gone: interfaces belong to the package)";
const UNION: &str = "a `variant` with a name for each case";
const FUNCTION: &str = "`func`";
const STATIC: &str = "`name: static func(...)`";
const NO_RESULTS: &str = "no result: the function has no `-> ...`";
const ONE_NAMED_RESULT: &str = "the type alone: `-> T`";
const MANY_RESULTS: &str = "one result: a `tuple<...>` or a record of the values";
const VALUE: &str =
    "nothing: an interface holds no values; a function can return one (`name: func() -> T;`)";
const IMPLEMENTS: &str =
    "nothing: a resource has no supertype; drop `implements` and repeat its methods";
pub(super) const LOOSE_MIXED: &str =
    "an `interface NAME { ... }` around the items outside any interface or world";
const KEYWORD_NAME: &str = "a keyword: as a name it is written with a `%` (`%name`)";

/// Uses that are only a guess on a file that does not parse (a value is a
/// typo away from a function, loose items from a misplaced `}`): they block
/// an upgrade, but are not pointed at as old syntax.
pub(super) const GUESSES: &[&str] = &[VALUE, LOOSE_MIXED, KEYWORD_NAME];

/// What this pass found and the edits it makes.
#[derive(Debug, Default)]
pub(super) struct Shape {
    pub uses: Vec<LegacyUse>,
    pub edits: Vec<Edit>,
    pub semicolons: usize,
    pub package_added: Option<String>,
    pub wrapped_in: Option<String>,
    pub notes: Vec<String>,
}

/// Rewrites the structure of `src` (tokens `tokens`) as file `cx`.
pub(super) fn rewrite(src: &str, tokens: &[Token<'_>], cx: &Context) -> Shape {
    let mut w = Walker {
        src,
        t: tokens,
        cx,
        out: Shape::default(),
    };
    // A name that is a keyword now (`from: func()`, `(stream: u32)`): a
    // keyword followed by `:` is a name in old and current WIT alike.
    for k in 0..tokens.len() {
        let next = tokens.get(k + 1).is_some_and(|t| t.is_punct(':'));
        if next && tokens[k].kind == Kind::Ident && is_keyword(tokens[k].text) {
            w.escape(k);
        }
    }
    let mut top = Top::default();
    let mut i = 0;
    while i < tokens.len() {
        let next = w.top_item(i, &mut top);
        i = next.max(i + 1);
    }
    w.finish_file(&top);
    w.out
}

/// The name of the first `default interface NAME` of `src`.
pub(super) fn default_interface(src: &str) -> Option<String> {
    let t = tokenize(src);
    t.windows(3).find_map(|w| {
        (w[0].is_ident("default") && w[1].is_ident("interface") && w[2].kind == Kind::Ident)
            .then(|| w[2].text.to_string())
    })
}

/// What the top level of the file holds.
#[derive(Default)]
struct Top {
    /// Items seen so far.
    items: usize,
    /// Offset just past the `package` header (and its `;`, or where it goes).
    header_end: Option<usize>,
    /// Interfaces, worlds, nested packages, top-level `use`.
    structural: bool,
    /// The first token of the first interface item outside any interface.
    first_loose: Option<usize>,
}

struct Walker<'a, 's, 'c> {
    src: &'s str,
    t: &'a [Token<'s>],
    cx: &'c Context,
    out: Shape,
}

/// How an interface item is walked.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Items {
    Interface,
    /// The body of an old `default export interface { ... }`: its functions
    /// become world exports.
    DefaultExport,
}

impl<'s> Walker<'_, 's, '_> {
    // ---- tokens -------------------------------------------------------

    fn tok(&self, i: usize) -> Option<&Token<'s>> {
        self.t.get(i)
    }

    fn is(&self, i: usize, word: &str) -> bool {
        self.tok(i).is_some_and(|t| t.is_ident(word))
    }

    fn punct(&self, i: usize, c: char) -> bool {
        self.tok(i).is_some_and(|t| t.is_punct(c))
    }

    fn ident(&self, i: usize) -> bool {
        self.tok(i).is_some_and(|t| t.kind == Kind::Ident)
    }

    /// Byte offset where token `i` starts (the end of the text past the last).
    fn start(&self, i: usize) -> usize {
        self.tok(i).map_or(self.src.len(), |t| t.span.start)
    }

    fn end(&self, i: usize) -> usize {
        self.tok(i).map_or(self.src.len(), |t| t.span.end)
    }

    /// The index of the bracket closing the one at `open` (or the end).
    fn closing(&self, open: usize, o: char, c: char) -> usize {
        let mut depth = 0usize;
        for (j, t) in self.t.iter().enumerate().skip(open) {
            if t.is_punct(o) {
                depth += 1;
            } else if t.is_punct(c) {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return j;
                }
            }
        }
        self.t.len()
    }

    // ---- output -------------------------------------------------------

    fn found(&mut self, span: Range<usize>, now: &'static str, fixable: bool) {
        let found = self.src.get(span.clone()).unwrap_or_default().to_string();
        self.out.uses.push(LegacyUse {
            span,
            found,
            now,
            fixable,
        });
    }

    fn edit(&mut self, range: Range<usize>, with: impl Into<String>) {
        self.out.edits.push((range, with.into()));
    }

    /// Removes `range`, and the whole line when nothing else is left on it.
    fn remove_on_line(&mut self, range: Range<usize>) {
        let src = self.src;
        let line_start = src[..range.start].rfind('\n').map_or(0, |n| n + 1);
        let line_end = src[range.end..]
            .find('\n')
            .map_or(src.len(), |n| range.end + n + 1);
        let blank = |s: &str| s.trim().is_empty();
        if blank(&src[line_start..range.start]) && blank(&src[range.end..line_end]) {
            self.edit(line_start..line_end, "");
        } else {
            self.edit(range, "");
        }
    }

    /// Moves the lines between `from` and `to` one level out, to the
    /// indentation of the line of `outer`: the body of a block that is removed.
    fn dedent(&mut self, outer: usize, from: usize, to: usize) {
        let src = self.src;
        let width_at = |line: usize| {
            let rest = &src[line..];
            rest.len() - rest.trim_start_matches([' ', '\t']).len()
        };
        let outer_line = src[..outer].rfind('\n').map_or(0, |n| n + 1);
        let outer_width = width_at(outer_line);
        let mut extra = None;
        let mut at = src[from..].find('\n').map(|n| from + n + 1);
        while let Some(line) = at.filter(|&l| l < to) {
            let width = width_at(line);
            let blank = src[line..]
                .lines()
                .next()
                .is_none_or(|l| l.trim().is_empty());
            if !blank {
                // The first line inside sets how much deeper the block is.
                let deeper = width.saturating_sub(outer_width);
                let cut = (*extra.get_or_insert(deeper)).min(deeper);
                if cut > 0 {
                    let start = line + outer_width;
                    self.edit(start..start + cut, "");
                }
            }
            at = src[line..].find('\n').map(|n| line + n + 1);
        }
    }

    /// Ends the declaration whose tokens are `start..end`: past its `;`, or
    /// with a `;` added after its last token.
    fn end_decl(&mut self, start: usize, end: usize) -> usize {
        if self.punct(end, ';') {
            return end + 1;
        }
        if end > start && end <= self.t.len() {
            let at = self.end(end - 1);
            self.edit(at..at, ";");
            self.out.semicolons += 1;
        }
        end
    }

    /// Steps over `@name` or `@name(...)`.
    fn attribute(&self, i: usize) -> usize {
        let mut j = i + 1;
        if self.ident(j) {
            j += 1;
        }
        if self.punct(j, '(') {
            j = self.closing(j, '(', ')') + 1;
        }
        j
    }

    /// Walks the items of the `{ ... }` opening at `open`; returns the index
    /// past its `}`.
    fn body(&mut self, open: usize, item: fn(&mut Self, usize) -> usize) -> usize {
        let mut i = open + 1;
        while i < self.t.len() {
            if self.punct(i, '}') {
                return i + 1;
            }
            let next = item(self, i);
            i = next.max(i + 1);
        }
        i
    }

    // ---- the top level --------------------------------------------------

    fn top_item(&mut self, i: usize, top: &mut Top) -> usize {
        let first = top.items == 0;
        top.items += 1;
        let Some(t) = self.tok(i) else {
            return i + 1;
        };
        match t.text {
            "package" if t.kind == Kind::Ident => {
                let (end, _) = self.path(i + 1);
                if self.punct(end, '{') {
                    top.structural = true;
                    return self.body(end, |w, j| w.top_item(j, &mut Top::default()));
                }
                let next = self.end_decl(i, end);
                if first {
                    top.header_end = Some(self.end(next.saturating_sub(1)));
                }
                next
            }
            "default"
                if t.kind == Kind::Ident
                    && (self.is(i + 1, "interface") || self.is(i + 1, "world")) =>
            {
                self.found(t.span.clone(), DEFAULT_ITEM, true);
                self.edit(self.start(i)..self.start(i + 1), "");
                self.top_item(i + 1, top)
            }
            "interface" | "world" if t.kind == Kind::Ident && self.ident(i + 1) => {
                top.structural = true;
                if !self.punct(i + 2, '{') {
                    return i + 2;
                }
                if t.text == "interface" {
                    self.body(i + 2, |w, j| w.interface_item(j, Items::Interface))
                } else {
                    self.body(i + 2, Self::world_item)
                }
            }
            "use" if t.kind == Kind::Ident => {
                if self.interface_use(i) {
                    top.first_loose.get_or_insert(i);
                } else {
                    top.structural = true;
                }
                self.use_decl(i)
            }
            "@" => self.attribute(i),
            ";" => i + 1,
            _ if self.starts_interface_item(i) => {
                top.first_loose.get_or_insert(i);
                self.interface_item(i, Items::Interface)
            }
            _ => i + 1,
        }
    }

    /// Whether the `use` at `i` is one an interface holds (`use x.{a}`, old
    /// forms), not a top-level `use ns:pkg/iface [as name]`.
    fn interface_use(&self, i: usize) -> bool {
        if self.punct(i + 1, '{') || self.punct(i + 1, '*') {
            return true;
        }
        let (end, _) = self.path(i + 1);
        self.names_after(end).is_some()
    }

    /// For a path ending before `end`, the index of the `{` of a following
    /// `.{ names }` (the lexer glues the `.` to a version: `@0.2.0.{`).
    fn names_after(&self, end: usize) -> Option<usize> {
        if self.punct(end, '.') && self.punct(end + 1, '{') {
            return Some(end + 1);
        }
        let glued = end
            .checked_sub(1)
            .and_then(|k| self.tok(k))
            .is_some_and(|t| t.kind == Kind::Number && t.text.ends_with('.'));
        (glued && self.punct(end, '{')).then_some(end)
    }

    fn starts_interface_item(&self, i: usize) -> bool {
        let keyword = [
            "type", "record", "variant", "enum", "flags", "union", "resource",
        ]
        .iter()
        .any(|k| self.is(i, k));
        (keyword && self.ident(i + 1)) || (self.ident(i) && self.punct(i + 1, ':'))
    }

    /// After the walk: wrap loose items in an interface, add the package line.
    fn finish_file(&mut self, top: &Top) {
        if self.t.is_empty() {
            return;
        }
        if let Some(first) = top.first_loose {
            if top.structural {
                let span = self.start(first)..self.end(first);
                self.found(span, LOOSE_MIXED, false);
                return;
            }
            self.wrap(top.header_end);
            return;
        }
        if top.header_end.is_none()
            && let Some(package) = &self.cx.package
        {
            let line = format!("package {package};\n\n");
            self.out.package_added = Some(package.clone());
            self.edit(0..0, line);
        }
    }

    /// Wraps the whole file (past its `package` header) in `interface NAME { ... }`,
    /// indenting each line by four spaces.
    fn wrap(&mut self, header_end: Option<usize>) {
        let iface = self.cx.interface.clone();
        let content_end = self.src.trim_end().len();
        let start = match header_end {
            Some(at) => {
                self.edit(at..at, format!("\n\ninterface {iface} {{"));
                at
            }
            None => {
                let mut head = String::new();
                if let Some(package) = &self.cx.package {
                    head = format!("package {package};\n\n");
                    self.out.package_added = Some(package.clone());
                }
                head.push_str(&format!("interface {iface} {{\n"));
                self.edit(0..0, head);
                0
            }
        };
        let src = self.src;
        let mut line = if header_end.is_some() {
            src[start..].find('\n').map(|n| start + n + 1)
        } else {
            Some(0)
        };
        while let Some(at) = line.filter(|&at| at < content_end) {
            let next = src[at..].find('\n').map(|n| at + n + 1);
            let text = &src[at..next.unwrap_or(src.len()).min(content_end)];
            if !text.trim().is_empty() {
                self.edit(at..at, "    ");
            }
            line = next;
        }
        self.edit(content_end..content_end, "\n}");
        self.out.wrapped_in = Some(iface);
    }

    // ---- interfaces -----------------------------------------------------

    fn interface_item(&mut self, i: usize, items: Items) -> usize {
        let Some(t) = self.tok(i) else {
            return i + 1;
        };
        if t.kind != Kind::Ident {
            return match t.text {
                "@" => self.attribute(i),
                _ => i + 1,
            };
        }
        match t.text {
            "use" => self.use_decl(i),
            "type" if self.ident(i + 1) && self.punct(i + 2, '=') => {
                let end = self.ty(i + 3);
                self.end_decl(i, end)
            }
            "record" | "variant" | "enum" | "flags"
                if self.ident(i + 1) && self.punct(i + 2, '{') =>
            {
                let close = self.closing(i + 2, '{', '}');
                if t.text != "record" {
                    self.case_names(i + 2, close);
                }
                close + 1
            }
            "union" if self.ident(i + 1) && self.punct(i + 2, '{') => self.union(i),
            "resource" if self.ident(i + 1) => self.resource(i),
            _ if self.punct(i + 1, ':') => {
                if items == Items::DefaultExport {
                    self.edit(t.span.start..t.span.start, "export ");
                }
                self.named(i)
            }
            _ => i + 1,
        }
    }

    /// `name: func(...)`, or an old value `name: T`.
    fn named(&mut self, i: usize) -> usize {
        let k = i + 2;
        if self.is(k, "func") || self.is(k, "function") || self.is(k, "async") {
            let end = self.func(k);
            return self.end_decl(i, end);
        }
        let end = self.ty(k);
        if end > k {
            let span = self.start(i)..self.end(end - 1);
            self.found(span, VALUE, false);
        }
        self.end_decl(i, end)
    }

    /// A function type starting at `i` (`func`, `function`, `async func`):
    /// the index past it.
    fn func(&mut self, i: usize) -> usize {
        let mut j = i;
        if self.is(j, "async") {
            j += 1;
        }
        if self.is(j, "function") {
            let span = self.start(j)..self.end(j);
            self.found(span.clone(), FUNCTION, true);
            self.edit(span, "func");
        } else if !self.is(j, "func") {
            return j;
        }
        j += 1;
        if !self.punct(j, '(') {
            return j;
        }
        j = self.closing(j, '(', ')') + 1;
        if !self.tok(j).is_some_and(|t| t.kind == Kind::Arrow) {
            return j;
        }
        let k = j + 1;
        if self.punct(k, '(') {
            return self.named_results(j, k);
        }
        self.ty(k)
    }

    /// `-> (...)` with the arrow at `arrow` and `(` at `open`.
    fn named_results(&mut self, arrow: usize, open: usize) -> usize {
        let close = self.closing(open, '(', ')');
        if close >= self.t.len() {
            return close;
        }
        let span = self.start(open)..self.end(close);
        let inner = &self.t[open + 1..close];
        let entries: Vec<&[Token<'_>]> = inner
            .split(|t| t.is_punct(','))
            .filter(|e| !e.is_empty())
            .collect();
        match entries.as_slice() {
            [] => {
                self.found(span, NO_RESULTS, true);
                // Drop ` -> ()`, with the space before the arrow.
                let after_params = self.end(arrow - 1);
                self.edit(after_params..self.end(close), "");
            }
            [[name, colon, ty @ ..]] if name.kind == Kind::Ident && colon.is_punct(':') => {
                if let (Some(first), Some(last)) = (ty.first(), ty.last()) {
                    self.found(span, ONE_NAMED_RESULT, true);
                    self.edit(self.start(open)..first.span.start, "");
                    self.edit(last.span.end..self.end(close), "");
                }
            }
            _ => self.found(span, MANY_RESULTS, false),
        }
        close + 1
    }

    /// A type starting at `i`: the index past it (`i` when there is none).
    fn ty(&self, i: usize) -> usize {
        if !self.ident(i) {
            return i;
        }
        // `handle r` (rewritten by the types pass) is two words.
        if self.is(i, "handle") && self.ident(i + 1) && !self.punct(i + 2, ':') {
            return i + 2;
        }
        let j = i + 1;
        if !self.punct(j, '<') {
            return j;
        }
        let mut depth = 0usize;
        for (k, t) in self.t.iter().enumerate().skip(j) {
            match t.kind {
                Kind::Punct('<') => depth += 1,
                Kind::Punct('>') => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return k + 1;
                    }
                }
                Kind::Punct('{' | '}' | ';' | '(' | ')' | '=' | ':') | Kind::Arrow => return k,
                _ => {}
            }
        }
        self.t.len()
    }

    /// Escapes the case names between the braces at `open` and `close` of a
    /// `variant`, `enum` or `flags` that are keywords now (`%stream`).
    fn case_names(&mut self, open: usize, close: usize) {
        let mut depth = 0usize;
        for k in open + 1..close.min(self.t.len()) {
            let t = &self.t[k];
            match t.kind {
                Kind::Punct('(' | '<') => depth += 1,
                Kind::Punct(')' | '>') => depth = depth.saturating_sub(1),
                Kind::Ident if depth == 0 && is_keyword(t.text) => {
                    let starts_case = self.punct(k - 1, '{') || self.punct(k - 1, ',');
                    let named = self.punct(k + 1, ':');
                    if starts_case && !named {
                        self.escape(k);
                    }
                }
                _ => {}
            }
        }
    }

    /// Writes the name at token `k`, a keyword now, as `%name`.
    fn escape(&mut self, k: usize) {
        let span = self.start(k)..self.end(k);
        self.found(span.clone(), KEYWORD_NAME, true);
        self.edit(span.start..span.start, "%");
    }

    /// `union name { T, U }` → `variant name { t(T), u(U) }`.
    fn union(&mut self, i: usize) -> usize {
        let open = i + 2;
        let close = self.closing(open, '{', '}');
        if close >= self.t.len() {
            return close;
        }
        let mut cases: Vec<&[Token<'_>]> = Vec::new();
        let (mut depth, mut from) = (0usize, open + 1);
        for k in open + 1..=close {
            let t = &self.t[k];
            if k == close || (depth == 0 && t.is_punct(',')) {
                if k > from {
                    cases.push(&self.t[from..k]);
                }
                from = k + 1;
                continue;
            }
            match t.kind {
                Kind::Punct('<' | '(') => depth += 1,
                Kind::Punct('>' | ')') => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        let names = union_cases(&cases);
        let name = self.t[i + 1].text;
        self.found(self.t[i].span.clone(), UNION, true);
        self.edit(self.t[i].span.clone(), "variant");
        let mut edits = Vec::new();
        for (case, case_name) in cases.iter().zip(&names) {
            if let (Some(first), Some(last)) = (case.first(), case.last()) {
                let at = first.span.start;
                edits.push((at..at, format!("{case_name}(")));
                let at = last.span.end;
                edits.push((at..at, ")".to_string()));
            }
        }
        self.out.edits.extend(edits);
        if !names.is_empty() {
            let list: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
            self.out.notes.push(format!(
                "`union {name}` is now a `variant` whose case names were made from the case types ({}): rename them to say what each case means",
                list.join(", ")
            ));
        }
        close + 1
    }

    /// `resource name`, `resource name { ... }`, `resource name implements other`.
    fn resource(&mut self, i: usize) -> usize {
        let mut j = i + 2;
        if self.is(j, "implements") {
            let span = self.start(j)..self.end(j + 1);
            self.found(span, IMPLEMENTS, false);
            j += 2;
        }
        if self.punct(j, '{') {
            return self.body(j, Self::resource_item);
        }
        self.end_decl(i, j)
    }

    fn resource_item(&mut self, i: usize) -> usize {
        if self.punct(i, '@') {
            return self.attribute(i);
        }
        if self.is(i, "constructor") && self.punct(i + 1, '(') {
            let mut end = self.closing(i + 1, '(', ')') + 1;
            if self.tok(end).is_some_and(|t| t.kind == Kind::Arrow) {
                end = self.ty(end + 1);
            }
            return self.end_decl(i, end);
        }
        // 2022: `static name: func(...)`; now `name: static func(...)`.
        if self.is(i, "static") && self.ident(i + 1) && self.punct(i + 2, ':') {
            let span = self.start(i)..self.end(i);
            self.found(span, STATIC, true);
            self.edit(self.start(i)..self.start(i + 1), "");
            let at = self.start(i + 3);
            self.edit(at..at, "static ");
            let end = self.func(i + 3);
            return self.end_decl(i, end);
        }
        if self.ident(i) && self.punct(i + 1, ':') {
            let k = if self.is(i + 2, "static") {
                i + 3
            } else {
                i + 2
            };
            let end = self.func(k);
            return self.end_decl(i, end);
        }
        i + 1
    }

    // ---- worlds ---------------------------------------------------------

    fn world_item(&mut self, i: usize) -> usize {
        let Some(t) = self.tok(i) else {
            return i + 1;
        };
        match t.text {
            "import" | "export" if t.kind == Kind::Ident => self.import_export(i),
            "default" if t.kind == Kind::Ident && self.is(i + 1, "export") => {
                self.default_export(i)
            }
            "include" if t.kind == Kind::Ident => {
                let (end, _) = self.path(i + 1);
                if self.is(end, "with") && self.punct(end + 1, '{') {
                    return self.closing(end + 1, '{', '}') + 1;
                }
                self.end_decl(i, end)
            }
            _ => self.interface_item(i, Items::Interface),
        }
    }

    /// `import`/`export` at `i`, of a function, an inline interface or a path.
    fn import_export(&mut self, i: usize) -> usize {
        let j = i + 1;
        let labelled = self.ident(j) && self.punct(j + 1, ':') && !self.punct(j + 3, '/');
        if !labelled {
            let (end, _) = self.path(j);
            return self.end_decl(i, end);
        }
        let k = j + 2;
        if self.is(k, "func") || self.is(k, "function") || self.is(k, "async") {
            let end = self.func(k);
            return self.end_decl(i, end);
        }
        if self.is(k, "interface") && self.punct(k + 1, '{') {
            return self.body(k + 1, |w, n| w.interface_item(n, Items::Interface));
        }
        let (end, segments) = self.path(k);
        let old = segments.len() > 1;
        let target = self.rewrite_path(&segments);
        // `import foo: foo` (2022) and `import foo: self.foo` (2023): the
        // interface is imported under its own name, as `import foo;` says now.
        let same = target.as_deref() == Some(self.t[j].text);
        if same && (old || !self.punct(end, ';')) {
            self.edit(self.start(j)..self.start(k), "");
        }
        self.end_decl(i, end)
    }

    /// `default export iface` → `export iface;`, and
    /// `default export interface { f: func() }` → `export f: func();`.
    fn default_export(&mut self, i: usize) -> usize {
        let export = i + 1;
        if self.is(export + 1, "interface") && self.punct(export + 2, '{') {
            let open = export + 2;
            let close = self.closing(open, '{', '}');
            self.found(self.start(i)..self.end(open), DEFAULT_EXPORT_INLINE, true);
            self.remove_on_line(self.start(i)..self.end(open));
            self.dedent(self.start(i), self.end(open), self.start(close));
            let mut k = open + 1;
            while k < close {
                let next = self.interface_item(k, Items::DefaultExport);
                k = next.max(k + 1);
            }
            if close < self.t.len() {
                self.remove_on_line(self.start(close)..self.end(close));
            }
            return close + 1;
        }
        self.found(self.start(i)..self.end(i), DEFAULT_EXPORT, true);
        self.edit(self.start(i)..self.start(export), "");
        let name = self.tok(export + 1).map_or("", |t| t.text).to_string();
        self.out.notes.push(format!(
            "`default export {name}` is now `export {name};`: the functions the component exported itself are now exported as an instance"
        ));
        self.import_export(export)
    }

    // ---- `use` and paths ----------------------------------------------

    /// A `use` declaration at `i`, in any of its forms.
    fn use_decl(&mut self, i: usize) -> usize {
        let j = i + 1;
        // 2022: `use { a, b as c } from iface`
        if self.punct(j, '{') {
            let close = self.closing(j, '{', '}');
            if !(self.is(close + 1, "from") && self.ident(close + 2)) {
                return close + 1;
            }
            let from = self.t[close + 2].text;
            self.found(self.start(i)..self.end(close + 2), USE_FROM, true);
            let at = self.start(j);
            self.edit(at..at, format!("{from}."));
            self.edit(self.end(close)..self.end(close + 2), "");
            return self.end_decl(i, close + 3);
        }
        // 2022: `use * from iface`
        if self.punct(j, '*') {
            let mut end = j + 1;
            if self.is(end, "from") && self.ident(end + 1) {
                end += 2;
            }
            self.found(self.start(i)..self.end(end - 1), USE_STAR, false);
            return self.end_decl(i, end);
        }
        let (end, segments) = self.path(j);
        if let Some(open) = self.names_after(end) {
            self.rewrite_path(&segments);
            let close = self.closing(open, '{', '}');
            return self.end_decl(i, close + 1);
        }
        // A top-level `use ns:pkg/iface [as name]`.
        let mut end = end;
        if self.is(end, "as") && self.ident(end + 1) {
            end += 2;
        }
        self.end_decl(i, end)
    }

    fn path(&self, i: usize) -> (usize, Vec<usize>) {
        path(self.t, i)
    }

    /// Rewrites a 2023 dotted path (its word indices) to what names the same
    /// interface now; returns the interface's local name when it is in this
    /// package (also for a one-word path, which stays as it is).
    fn rewrite_path(&mut self, words: &[usize]) -> Option<String> {
        let text = |w: &Self, k: usize| w.t[k].text.to_string();
        let (&first, &last) = (words.first()?, words.last()?);
        let span = self.start(first)..self.end(last);
        let head = text(self, first);
        let (with, local) = match (head.as_str(), words.len()) {
            (_, 1) => return Some(head),
            ("self", 2) | ("pkg", 3) => {
                let name = text(self, last);
                (name.clone(), Some(name))
            }
            ("pkg", 2) => {
                let doc = text(self, last);
                let name = self.document_interface(None, &doc);
                (name.clone(), Some(name))
            }
            (dep, 2) => {
                let doc = text(self, last);
                let name = self.document_interface(Some(dep), &doc);
                (format!("local:{}/{name}", wit_name(dep)), None)
            }
            (dep, 3) => (
                format!("local:{}/{}", wit_name(dep), text(self, last)),
                None,
            ),
            _ => return None,
        };
        self.found(span.clone(), DOC_PATH, true);
        self.edit(span, with);
        local
    }

    /// The default interface of document `doc`, or `doc` itself when unknown.
    fn document_interface(&mut self, dep: Option<&str>, doc: &str) -> String {
        if let Some(name) = self.cx.documents.default_of(dep, doc) {
            return name.to_string();
        }
        let dep_note = dep.map_or(String::new(), |d| format!(" of `{d}`"));
        let note = format!(
            "document `{doc}`{dep_note} was not found: its default interface was taken to be `{doc}`; check the name"
        );
        if !self.out.notes.contains(&note) {
            self.out.notes.push(note);
        }
        doc.to_string()
    }
}

/// A path at `i`: `ns:pkg/name[@version]`, or dotted words `a.b.c` (not
/// counting a `.` before `{`). Returns the index past it and, for a dotted
/// path, the indices of its words.
pub(super) fn path(t: &[Token<'_>], i: usize) -> (usize, Vec<usize>) {
    let ident = |k: usize| t.get(k).is_some_and(|t| t.kind == Kind::Ident);
    let punct = |k: usize, c: char| t.get(k).is_some_and(|t| t.is_punct(c));
    if !ident(i) {
        return (i, Vec::new());
    }
    if punct(i + 1, ':') && ident(i + 2) {
        let mut end = i + 3;
        while punct(end, '/') && ident(end + 1) {
            end += 2;
        }
        if punct(end, '@') {
            end += 1;
            // The version is glued to the `@`: `@0.2.0-rc.1`.
            while let (Some(tok), Some(prev)) = (t.get(end), t.get(end - 1)) {
                let glued = tok.span.start == prev.span.end;
                let part = matches!(tok.kind, Kind::Number | Kind::Ident)
                    || tok.is_punct('.')
                    || tok.is_punct('-')
                    || tok.is_punct('+');
                if !(glued && part) {
                    break;
                }
                end += 1;
            }
        }
        return (end, Vec::new());
    }
    let mut words = vec![i];
    let mut k = i + 1;
    while punct(k, '.') && ident(k + 1) {
        words.push(k + 1);
        k += 2;
    }
    (k, words)
}

#[cfg(test)]
mod tests {
    use super::super::{Context, Documents, upgrade};

    /// Upgrades `src` as `x.wit`, checks idempotence, returns the text.
    fn up(src: &str) -> String {
        up_with(src, &Context::for_file("x"))
    }

    fn up_with(src: &str, cx: &Context) -> String {
        let first = upgrade(src, cx);
        let again = upgrade(&first.text, cx);
        assert_eq!(again.text, first.text, "not idempotent for {src:?}");
        first.text
    }

    /// Upgrades `body` inside an interface of a package, returns the body.
    fn in_interface(body: &str) -> String {
        let src = format!("package a:b;\ninterface i {{\n{body}\n}}\n");
        let text = up(&src);
        text.strip_prefix("package a:b;\ninterface i {\n")
            .and_then(|t| t.strip_suffix("\n}\n"))
            .unwrap_or(&text)
            .to_string()
    }

    #[test]
    fn semicolons() {
        for (src, want) in [
            ("type t = u32", "type t = u32;"),
            (
                "type t = list<tuple<u8, u16>> // c",
                "type t = list<tuple<u8, u16>>; // c",
            ),
            ("f: func()", "f: func();"),
            (
                "f: func(a: u8) -> option<u8>",
                "f: func(a: u8) -> option<u8>;",
            ),
            ("f: func()\ng: func()", "f: func();\ng: func();"),
            ("f: func();\ng: func()", "f: func();\ng: func();"),
            ("use j.{a, b}", "use j.{a, b};"),
            ("use a:b/c@0.2.0.{d}", "use a:b/c@0.2.0.{d};"),
            (
                "use a:b/c@0.2.0-rc.1.{d}\nf: func()",
                "use a:b/c@0.2.0-rc.1.{d};\nf: func();",
            ),
            ("resource r", "resource r;"),
            (
                "resource r {\n  f: func()\n  constructor(a: u8)\n}",
                "resource r {\n  f: func();\n  constructor(a: u8);\n}",
            ),
            (
                "record r { a: u8 }\nf: func()",
                "record r { a: u8 }\nf: func();",
            ),
            (
                "@since(version = 0.2.0)\nf: func()",
                "@since(version = 0.2.0)\nf: func();",
            ),
            ("f: async func()", "f: async func();"),
        ] {
            assert_eq!(in_interface(src), want, "{src}");
        }
    }

    #[test]
    fn package_and_world_statements() {
        let src = "package a:b@0.1.0-rc.1\nworld w {\n  import a:c/d@1.0.0\n  export e\n  include a:c/w\n  include x with { a as b }\n  import f: func() -> u8\n  use i.{t}\n  type t = u8\n}\ninterface e {}\nuse a:c/d as z\n";
        let want = "package a:b@0.1.0-rc.1;\nworld w {\n  import a:c/d@1.0.0;\n  export e;\n  include a:c/w;\n  include x with { a as b }\n  import f: func() -> u8;\n  use i.{t};\n  type t = u8;\n}\ninterface e {}\nuse a:c/d as z;\n";
        assert_eq!(up(src), want);
    }

    #[test]
    fn a_file_of_items_is_wrapped() {
        let src = "// Header.\n\n/// Docs.\ntype t = u32\n\nf: func(a: t)\n";
        let want = "package local:x;\n\ninterface x {\n    // Header.\n\n    /// Docs.\n    type t = u32;\n\n    f: func(a: t);\n}\n";
        assert_eq!(up(src), want);
        // With a package line already, only the interface is added.
        let src = "package a:b\n\nf: func()";
        assert_eq!(
            up(src),
            "package a:b;\n\ninterface x {\n\n    f: func();\n}"
        );
        // Another package name.
        let cx = Context {
            package: Some("my:kv@1.0.0".into()),
            interface: "store".into(),
            documents: Documents::default(),
        };
        assert_eq!(
            up_with("f: func()\n", &cx),
            "package my:kv@1.0.0;\n\ninterface store {\n    f: func();\n}\n"
        );
        // A sibling file declares the package: no line.
        let cx = Context {
            package: None,
            ..Context::for_file("x")
        };
        assert_eq!(
            up_with("f: func()\n", &cx),
            "interface x {\n    f: func();\n}\n"
        );
    }

    #[test]
    fn a_package_line_is_added_to_documents() {
        assert_eq!(
            up("interface i {}\nworld w {}\n"),
            "package local:x;\n\ninterface i {}\nworld w {}\n"
        );
        assert_eq!(up(""), "");
        assert_eq!(up("// only a comment\n"), "// only a comment\n");
    }

    #[test]
    fn loose_items_beside_interfaces_are_unfixable() {
        let result = upgrade("interface i {}\nf: func()\n", &Context::for_file("x"));
        let bad: Vec<_> = result.unfixable().map(|u| u.found.as_str()).collect();
        assert_eq!(bad, ["f"]);
    }

    #[test]
    fn old_use_forms() {
        for (src, want) in [
            ("use { a, b as c } from other", "use other.{ a, b as c };"),
            (
                "use {a} from other\ntype t = a",
                "use other.{a};\ntype t = a;",
            ),
            ("use self.j.{a}", "use j.{a};"),
            ("use pkg.doc.j.{a, b}", "use j.{a, b};"),
            ("use pkg.doc.{a}", "use doc.{a};"),
            ("use wasi.clocks.wall.{t}", "use local:wasi/wall.{t};"),
            ("use wasi.clocks.{t}", "use local:wasi/clocks.{t};"),
            ("use self.empty.{}", "use empty.{};"),
        ] {
            assert_eq!(in_interface(src), want, "{src}");
        }
        let result = upgrade("use * from other\n", &Context::for_file("x"));
        assert_eq!(result.unfixable().count(), 1);
    }

    #[test]
    fn document_paths_use_the_default_interfaces() {
        let mut documents = Documents::default();
        documents.add(None, "doc", "default interface the-iface {}");
        documents.add(Some("wasi"), "clocks", "default interface wall-clock {}");
        let cx = Context {
            documents,
            ..Context::for_file("x")
        };
        let src = "package a:b\ninterface i {\n  use pkg.doc.{a}\n  use wasi.clocks.{t}\n}\nworld w {\n  import the-iface: pkg.doc\n  import c: wasi.clocks\n}\n";
        let want = "package a:b;\ninterface i {\n  use the-iface.{a};\n  use local:wasi/wall-clock.{t};\n}\nworld w {\n  import the-iface;\n  import c: local:wasi/wall-clock;\n}\n";
        assert_eq!(up_with(src, &cx), want);
        assert!(upgrade(src, &cx).notes.is_empty());
        // Unknown: the document's own name, with a note.
        let result = upgrade(src, &Context::for_file("x"));
        assert_eq!(result.notes.len(), 2, "{:?}", result.notes);
    }

    #[test]
    fn defaults() {
        let src = "default interface i {\n  f: func()\n}\n\ndefault world w {\n  import i: self.i\n  export j: pkg.doc.k\n  import x: self.y\n  import z: z\n  default export i\n}\n";
        let want = "package local:x;\n\ninterface i {\n  f: func();\n}\n\nworld w {\n  import i;\n  export j: k;\n  import x: y;\n  import z;\n  export i;\n}\n";
        assert_eq!(up(src), want);
        let result = upgrade(src, &Context::for_file("x"));
        assert_eq!(result.notes.len(), 1, "{:?}", result.notes);
        // A labelled import in current syntax stays as it is.
        let current = "package a:b;\nworld w { import z: z; }\n";
        assert_eq!(up(current), current);
    }

    #[test]
    fn inline_default_export() {
        let src = "world w {\n  import x: func()\n  default export interface {\n    type t = u8\n    f: func(a: t)\n  }\n}\n";
        let want = "package local:x;\n\nworld w {\n  import x: func();\n  type t = u8;\n  export f: func(a: t);\n}\n";
        assert_eq!(up(src), want);
    }

    #[test]
    fn unions_become_variants() {
        let src = "union u {\n  /// a number\n  u32,\n  list<string>,\n  float32,\n}";
        let want = "variant u {\n  /// a number\n  %u32(u32),\n  list-string(list<string>),\n  %f32(f32),\n}";
        assert_eq!(in_interface(src), want);
        assert_eq!(
            in_interface("union u { s8, option<my-t> }"),
            "variant u { %s8(s8), option-my-t(option<my-t>) }"
        );
        let result = upgrade("union u { u8 }", &Context::for_file("x"));
        assert_eq!(result.notes.len(), 1);
        assert!(result.notes[0].contains("`%u8`"), "{:?}", result.notes);
    }

    #[test]
    fn functions_and_results() {
        for (src, want) in [
            ("f: function(a: u8) -> u8", "f: func(a: u8) -> u8;"),
            ("f: func() -> ()", "f: func();"),
            ("f: func() -> (a: u32)", "f: func() -> u32;"),
            ("f: func() -> (a: list<u32>,)", "f: func() -> list<u32>;"),
            (
                "resource r {\n  static new: func() -> r\n}",
                "resource r {\n  new: static func() -> r;\n}",
            ),
            (
                "resource r { static new: function() }",
                "resource r { new: static func(); }",
            ),
            (
                "resource r { new: static func() }",
                "resource r { new: static func(); }",
            ),
        ] {
            assert_eq!(in_interface(src), want, "{src}");
        }
        for src in [
            "f: func() -> (a: u32, b: u32)",
            "x: u32",
            "resource r implements s",
        ] {
            let result = upgrade(src, &Context::for_file("x"));
            assert_eq!(result.unfixable().count(), 1, "{src}");
        }
    }

    #[test]
    fn names_that_are_keywords_now() {
        for (src, want) in [
            (
                "copy: func(from: u8, to: u8)",
                "copy: func(%from: u8, to: u8);",
            ),
            (
                "record r { own: u8, with: string }",
                "record r { %own: u8, %with: string }",
            ),
            (
                "enum e { stream, future, other }",
                "enum e { %stream, %future, other }",
            ),
            ("flags f { include }", "flags f { %include }"),
            ("variant v { map(u8), own }", "variant v { %map(u8), %own }"),
            ("world: func() -> (result: u8)", "%world: func() -> u8;"),
        ] {
            assert_eq!(in_interface(src), want, "{src}");
        }
        // Not a name: a keyword where the grammar has it.
        let src = "variant v { a(list<u8>), b(own<r>) }";
        assert_eq!(in_interface(src), src);
    }

    #[test]
    fn never_panics_on_garbage() {
        for src in concat!(
            "use | use { | use {} from | use * | use a. | use a.{ | union | union u { | ",
            "union u { , , } | default | default export | default export interface { | ",
            "import | import a: | import a: self. | resource r { static | f: func( | ",
            "f: func() -> ( | f: func() -> (a: | package | package a:b@ | world w { include ",
            "| interface | @ | @a( | type t = | -> | } } } | f: function",
        )
        .split(" | ")
        {
            let _ = upgrade(src, &Context::for_file("x"));
        }
    }
}
