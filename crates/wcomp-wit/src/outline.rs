//! A rough outline of a WIT file, built from tokens: which names it declares,
//! where, with which feature gate, and which declared names each body mentions.
//!
//! It is only used to explain errors (nearest names, the first of two
//! duplicates, a cycle's chain, the feature that gates an item), so it works
//! on text that does not parse and never fails.

use std::ops::Range;

use crate::lex::{Kind, Token, tokenize};

/// What a declaration declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeclKind {
    Interface,
    World,
    /// `type`, `record`, `variant`, `enum`, `flags`, `resource` (or the old
    /// `union`), or a name brought in by `use`.
    Type,
    /// A function, or a named import/export in a world.
    Item,
}

/// One declared name.
#[derive(Debug, Clone)]
pub struct Decl {
    pub kind: DeclKind,
    pub name: String,
    pub span: Range<usize>,
    /// Declared names mentioned in the body (deduplicated, in order).
    pub mentions: Vec<String>,
    /// `@unstable(feature = NAME)` right before the declaration.
    pub feature: Option<String>,
    /// Byte range of the whole declaration.
    pub extent: Range<usize>,
}

/// The declarations of one file, in source order.
pub fn outline(src: &str) -> Vec<Decl> {
    let toks = tokenize(src);
    let mut decls = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        if toks[i].is_ident("use") {
            i = use_names(&toks, i, &mut decls);
            continue;
        }
        if let Some((decl, next)) = decl_at(&toks, i) {
            decls.push(decl);
            // Step into bodies of interfaces and worlds; skip over the others.
            i = if matches!(
                decls.last().map(|d| d.kind),
                Some(DeclKind::Interface | DeclKind::World)
            ) {
                i + 2
            } else {
                next.max(i + 1)
            };
        } else {
            i += 1;
        }
    }
    let names: Vec<String> = decls.iter().map(|d| d.name.clone()).collect();
    for d in &mut decls {
        let body: Vec<String> = toks
            .iter()
            .filter(|t| t.span.start >= d.span.end && t.span.end <= d.extent.end)
            .filter(|t| t.kind == Kind::Ident && names.contains(&strip(t.text).to_string()))
            .map(|t| strip(t.text).to_string())
            .collect();
        for name in body {
            if !d.mentions.contains(&name) {
                d.mentions.push(name);
            }
        }
    }
    decls
}

/// `use path.{a, b as c};` declares `a` and `c`. Returns the index past it.
fn use_names(toks: &[Token<'_>], i: usize, decls: &mut Vec<Decl>) -> usize {
    let end = end_of_decl(toks, i);
    let Some(open) = (i..end).find(|&k| toks[k].is_punct('{')) else {
        return end.max(i + 1);
    };
    let mut k = open + 1;
    while k < end && !toks[k].is_punct('}') {
        let mut name = &toks[k];
        if toks.get(k + 1).is_some_and(|t| t.is_ident("as"))
            && let Some(alias) = toks.get(k + 2)
        {
            name = alias;
            k += 2;
        }
        if name.kind == Kind::Ident {
            decls.push(Decl {
                kind: DeclKind::Type,
                name: strip(name.text).into(),
                span: name.span.clone(),
                mentions: Vec::new(),
                feature: None,
                extent: name.span.clone(),
            });
        }
        k += 1;
        if toks.get(k).is_some_and(|t| t.is_punct(',')) {
            k += 1;
        }
    }
    end.max(i + 1)
}

fn strip(name: &str) -> &str {
    name.strip_prefix('%').unwrap_or(name)
}

fn decl_at(toks: &[Token<'_>], i: usize) -> Option<(Decl, usize)> {
    let t = &toks[i];
    let next = toks.get(i + 1)?;
    if t.kind != Kind::Ident {
        return None;
    }
    let kind = match t.text {
        "interface" if next.kind == Kind::Ident => DeclKind::Interface,
        "world" if next.kind == Kind::Ident => DeclKind::World,
        "type" | "record" | "variant" | "enum" | "flags" | "resource" | "union"
            if next.kind == Kind::Ident =>
        {
            DeclKind::Type
        }
        // `name: func(...)`, `import name: ...`, `export name: ...`
        _ if next.is_punct(':')
            && !toks
                .get(i.wrapping_sub(1))
                .is_some_and(|p| p.is_punct(':') || p.is_punct('('))
            && toks
                .get(i + 2)
                .is_some_and(|n| n.kind == Kind::Ident || n.is_punct('('))
            && at_item_start(toks, i) =>
        {
            let name_tok = t;
            let end = end_of_decl(toks, i);
            return Some((
                Decl {
                    kind: DeclKind::Item,
                    name: strip(name_tok.text).into(),
                    span: name_tok.span.clone(),
                    mentions: Vec::new(),
                    feature: feature_before(toks, i),
                    extent: name_tok.span.start..toks[end.saturating_sub(1).max(i)].span.end,
                },
                end,
            ));
        }
        _ => return None,
    };
    let end = end_of_decl(toks, i + 1);
    Some((
        Decl {
            kind,
            name: strip(next.text).into(),
            span: next.span.clone(),
            mentions: Vec::new(),
            feature: feature_before(toks, i),
            extent: t.span.start..toks[end.saturating_sub(1).max(i)].span.end,
        },
        end,
    ))
}

/// True when token `i` starts an item (after `;`, `{`, `}`, an attribute, or `import`/`export`).
fn at_item_start(toks: &[Token<'_>], i: usize) -> bool {
    match i.checked_sub(1).map(|p| &toks[p]) {
        None => true,
        Some(p) => {
            p.is_punct(';')
                || p.is_punct('{')
                || p.is_punct('}')
                || p.is_punct(')')
                || p.is_ident("import")
                || p.is_ident("export")
        }
    }
}

/// The index just past the declaration whose name is at `i`: past its
/// `{ ... }` body or its `;`, whichever comes first.
fn end_of_decl(toks: &[Token<'_>], i: usize) -> usize {
    let mut depth = 0usize;
    for (j, t) in toks.iter().enumerate().skip(i) {
        match t.kind {
            Kind::Punct('{') => depth += 1,
            Kind::Punct('}') => {
                if depth <= 1 {
                    return j + 1;
                }
                depth -= 1;
            }
            Kind::Punct(';') if depth == 0 => return j + 1,
            _ => {}
        }
    }
    toks.len()
}

/// Reads back over attributes before token `i` for `@unstable(feature = NAME)`.
fn feature_before(toks: &[Token<'_>], i: usize) -> Option<String> {
    let mut j = i;
    // Allow `import`/`export` between the attribute and the declaration.
    while j > 0 && (toks[j - 1].is_ident("import") || toks[j - 1].is_ident("export")) {
        j -= 1;
    }
    while j > 0 && toks[j - 1].is_punct(')') {
        let close = j - 1;
        let open = (0..close).rev().find(|&k| toks[k].is_punct('('))?;
        if open < 2 || !toks[open - 2].is_punct('@') {
            return None;
        }
        let inner = &toks[open + 1..close];
        if toks[open - 1].is_ident("unstable")
            && let [key, eq, value] = inner
            && key.is_ident("feature")
            && eq.is_punct('=')
        {
            return Some(value.text.to_string());
        }
        j = open - 2;
    }
    None
}

/// Finds a chain of mentions from `start` back to itself, e.g. `a -> b -> a`.
pub fn cycle(decls: &[Decl], start: &str) -> Option<Vec<String>> {
    fn walk(decls: &[Decl], at: &str, start: &str, path: &mut Vec<String>) -> bool {
        let Some(d) = decls
            .iter()
            .find(|d| d.name == at && d.kind != DeclKind::Item)
        else {
            return false;
        };
        for m in &d.mentions {
            if m == start {
                path.push(m.clone());
                return true;
            }
            if path.contains(m) {
                continue;
            }
            path.push(m.clone());
            if walk(decls, m, start, path) {
                return true;
            }
            path.pop();
        }
        false
    }
    let mut path = vec![start.to_string()];
    walk(decls, start, start, &mut path).then_some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declarations_and_mentions() {
        let src = "package a:b;\ninterface i {\n  use j.{t};\n  @unstable(feature = fancy)\n  record r { x: t, y: list<r2> }\n  type r2 = r;\n  f: func(a: r) -> r2;\n}\nworld w { import i; export g: func(); }";
        let d = outline(src);
        let names: Vec<(&str, DeclKind)> = d.iter().map(|d| (d.name.as_str(), d.kind)).collect();
        assert_eq!(
            names,
            vec![
                ("i", DeclKind::Interface),
                ("t", DeclKind::Type),
                ("r", DeclKind::Type),
                ("r2", DeclKind::Type),
                ("f", DeclKind::Item),
                ("w", DeclKind::World),
                ("g", DeclKind::Item),
            ]
        );
        assert_eq!(d[2].feature.as_deref(), Some("fancy"));
        assert_eq!(d[2].mentions, vec!["t", "r2"]);
        assert_eq!(cycle(&d, "r").unwrap(), vec!["r", "r2", "r"]);
        assert!(cycle(&d, "f").is_none());
        assert_eq!(d[5].mentions, vec!["i", "g"]);
    }
}
