//! Old type spellings: `expected<T, E>` (now `result<T, E>`), `unit` (now
//! `_`, or nothing), `float32`/`float64` (now `f32`/`f64`), `handle r` (now
//! `r`), and `stream<T, E>` (no current equivalent).
//!
//! Only type positions are touched, judged by the tokens before them; a name
//! the file declares (`type unit = u8`) is never taken for the old one.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use super::{Edit, LegacyUse};
use crate::lex::{Kind, Token};
use crate::outline::{self, DeclKind};

const RESULT: &str = "`result<T, E>`";
const RESULT_MALFORMED: &str =
    "`result<T, E>` (this `expected<...>` lacks exactly two type arguments; fix it by hand)";
const UNIT_OK: &str = "`_` in `result<_, E>`";
const UNIT_ERR: &str = "no error payload: `result<T>`";
const UNIT_BOTH: &str = "no payloads: plain `result`";
const UNIT_RETURN: &str = "no result: the function has no `-> ...`";
const UNIT_IN_OPTION: &str = "`bool` (an `option<unit>` says only present or not)";
const UNIT_OTHER: &str = "nothing, there is no mechanical equivalent: remove it, \
     or use an enum case or a variant case without a payload";
const HANDLE: &str = "the resource name alone (`r` is an owned handle, `borrow<r>` a borrowed one)";
const STREAM_END: &str =
    "`stream<T>`: a stream no longer carries an end or error type; return it beside the stream";

/// Statements whose `a:b` colon is a package path, not a type annotation.
const PATH_STATEMENTS: &[&str] = &["package", "use", "import", "export", "include"];

/// The old type spellings of `src` (tokens `tokens`) and their rewrites.
pub(super) fn scan(src: &str, tokens: &[Token<'_>]) -> (Vec<LegacyUse>, Vec<Edit>) {
    let local = declared_names(src);
    let legacy = |t: &Token<'_>, word: &str| t.is_ident(word) && !local.contains(word);

    let mut uses = Vec::new();
    let mut edits: Vec<Edit> = Vec::new();
    // `unit` arguments of fixable `expected<..>`s: token index -> description.
    let mut unit_args: HashMap<usize, &'static str> = HashMap::new();
    // Open brackets; `u` is the `{` of a `union`, whose cases are types.
    let mut brackets: Vec<char> = Vec::new();

    for (i, tok) in tokens.iter().enumerate() {
        let innermost = brackets.last().copied();
        match tok.kind {
            Kind::Punct('{') if i >= 2 && tokens[i - 2].is_ident("union") => brackets.push('u'),
            Kind::Punct(c @ ('(' | '{' | '<')) => brackets.push(c),
            Kind::Punct(c @ (')' | '}' | '>')) => {
                let opener = match c {
                    ')' => '(',
                    '}' => '{',
                    _ => '<',
                };
                let top = brackets.last().copied();
                if top == Some(opener) || (c == '}' && top == Some('u')) {
                    brackets.pop();
                }
            }
            _ => {}
        }
        if tok.kind == Kind::Ident && in_type_position(tokens, i, innermost) {
            let mut report = |now: &'static str, fixable: bool| {
                uses.push(LegacyUse {
                    span: tok.span.clone(),
                    found: tok.text.to_string(),
                    now,
                    fixable,
                });
            };
            if legacy(tok, "expected") && tokens.get(i + 1).is_some_and(|t| t.is_punct('<')) {
                let open = i + 1;
                let args =
                    generic_args(tokens, open).and_then(|(args, close)| match args.as_slice() {
                        [ok, err] if !ok.is_empty() && !err.is_empty() => {
                            Some((ok.clone(), err.clone(), close))
                        }
                        _ => None,
                    });
                let Some((ok, err, close)) = args else {
                    report(RESULT_MALFORMED, false);
                    continue;
                };
                report(RESULT, true);
                edits.push((tok.span.clone(), "result".into()));
                let unit_arg = |r: &Range<usize>| {
                    (r.len() == 1 && legacy(&tokens[r.start], "unit")).then_some(r.start)
                };
                match (unit_arg(&ok), unit_arg(&err)) {
                    (Some(a), Some(b)) => {
                        unit_args.insert(a, UNIT_BOTH);
                        unit_args.insert(b, UNIT_BOTH);
                        let range = tokens[open].span.start..tokens[close].span.end;
                        edits.push((range, String::new()));
                    }
                    (Some(a), None) => {
                        unit_args.insert(a, UNIT_OK);
                        edits.push((tokens[a].span.clone(), "_".into()));
                    }
                    (None, Some(b)) => {
                        unit_args.insert(b, UNIT_ERR);
                        let from = tokens[ok.end - 1].span.end;
                        edits.push((from..tokens[b].span.end, String::new()));
                    }
                    (None, None) => {}
                }
            } else if legacy(tok, "unit") {
                if let Some(&now) = unit_args.get(&i) {
                    report(now, true);
                } else if let Some(paren) = returned_from(tokens, i) {
                    report(UNIT_RETURN, true);
                    // Drop ` -> unit`, including the whitespace before the arrow.
                    let after_paren = paren.span.end;
                    let arrow = tokens[i - 1].span.start;
                    let start = after_paren + src[after_paren..arrow].trim_end().len();
                    edits.push((start..tok.span.end, String::new()));
                } else if option_arg(tokens, i) {
                    report(UNIT_IN_OPTION, false);
                } else {
                    report(UNIT_OTHER, false);
                }
            } else if legacy(tok, "float32") || legacy(tok, "float64") {
                let (now, with) = if tok.text == "float32" {
                    ("`f32`", "f32")
                } else {
                    ("`f64`", "f64")
                };
                report(now, true);
                edits.push((tok.span.clone(), with.into()));
            } else if legacy(tok, "handle")
                && tokens.get(i + 1).is_some_and(|t| t.kind == Kind::Ident)
                && !tokens.get(i + 2).is_some_and(|t| t.is_punct(':'))
            {
                report(HANDLE, true);
                edits.push((tok.span.start..tokens[i + 1].span.start, String::new()));
            } else if tok.is_ident("stream")
                && tokens.get(i + 1).is_some_and(|t| t.is_punct('<'))
                && generic_args(tokens, i + 1).is_some_and(|(args, _)| args.len() == 2)
            {
                report(STREAM_END, false);
            }
        }
    }
    (uses, edits)
}

/// Whether token `i` stands where a type is expected, judged by what precedes
/// it; `innermost` is the innermost open bracket before it.
fn in_type_position(tokens: &[Token<'_>], i: usize, innermost: Option<char>) -> bool {
    let before = |n: usize| i.checked_sub(n).and_then(|j| tokens.get(j));
    let Some(prev) = before(1) else {
        return false;
    };
    match prev.kind {
        // `-> T`, `list<T`
        Kind::Arrow | Kind::Punct('<') => true,
        // `result<A, T`, or a case of a `union`
        Kind::Punct(',') => matches!(innermost, Some('<' | 'u')),
        // The first case of a `union`: `union u { T`
        Kind::Punct('{') => innermost == Some('u'),
        // `type x = T`, but not `@since(version = ...)`
        Kind::Punct('=') => before(3).is_some_and(|t| t.is_ident("type")),
        // `name: T`, but not `package a:b` or `use a:b/c`
        Kind::Punct(':') => {
            !before(3).is_some_and(|t| PATH_STATEMENTS.iter().any(|w| t.is_ident(w)))
        }
        // A variant case payload `case(T)`, not `func(name` or `@unstable(feature`
        Kind::Punct('(') => {
            before(2).is_some_and(|t| {
                t.kind == Kind::Ident
                    && !["func", "function", "constructor"]
                        .iter()
                        .any(|w| t.is_ident(w))
            }) && !before(3).is_some_and(|t| t.is_punct('@'))
        }
        _ => false,
    }
}

/// For a `unit` at `i` that is a whole function result (`) -> unit`), the `)`.
fn returned_from<'t, 'a>(tokens: &'t [Token<'a>], i: usize) -> Option<&'t Token<'a>> {
    let arrow = tokens.get(i.checked_sub(1)?)?;
    let paren = tokens.get(i.checked_sub(2)?)?;
    (arrow.kind == Kind::Arrow && paren.is_punct(')')).then_some(paren)
}

/// The type arguments of the `<` at token `open`: token ranges of the top-level
/// arguments and the index of the closing `>`, or `None` if it never closes.
fn generic_args(tokens: &[Token<'_>], open: usize) -> Option<(Vec<Range<usize>>, usize)> {
    let mut depth = 0usize;
    let mut start = open + 1;
    let mut args = Vec::new();
    for (j, t) in tokens.iter().enumerate().skip(open) {
        match t.kind {
            Kind::Punct('<') => depth += 1,
            Kind::Punct('>') => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    args.push(start..j);
                    return Some((args, j));
                }
            }
            Kind::Punct(',') if depth == 1 => {
                args.push(start..j);
                start = j + 1;
            }
            Kind::Punct('(' | ')' | '{' | '}' | ';' | '=' | ':') | Kind::Arrow => return None,
            _ => {}
        }
    }
    None
}

/// True when token `i` is the whole argument of `option<...>`.
fn option_arg(tokens: &[Token<'_>], i: usize) -> bool {
    i >= 2
        && tokens[i - 1].is_punct('<')
        && tokens[i - 2].is_ident("option")
        && tokens.get(i + 1).is_some_and(|t| t.is_punct('>'))
}

/// Type names this file declares or imports; these are never legacy.
fn declared_names(src: &str) -> HashSet<String> {
    outline::outline(src)
        .into_iter()
        .filter(|d| d.kind == DeclKind::Type)
        .map(|d| d.name)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lex::tokenize;

    /// What this pass alone makes of `src`.
    struct Scanned {
        text: String,
        uses: Vec<LegacyUse>,
    }

    impl Scanned {
        fn changed(&self) -> bool {
            self.uses.iter().any(|u| u.fixable)
        }

        fn unfixable(&self) -> impl Iterator<Item = &LegacyUse> {
            self.uses.iter().filter(|u| !u.fixable)
        }
    }

    fn upgrade(src: &str) -> Scanned {
        let (mut uses, edits) = scan(src, &tokenize(src));
        uses.sort_by_key(|u| u.span.start);
        let (text, _) = super::super::apply(src, edits);
        Scanned { text, uses }
    }

    fn find_legacy(src: &str) -> Vec<LegacyUse> {
        upgrade(src).uses
    }

    const EXAMPLE: &str = "package a:b;

interface store {
    type payload = list<u8>;
    variant error { not-found, other(string) }
    set: func(key: string, value: payload, ttl: option<u32>) -> expected<unit, error>;
    get: func(key: string) -> expected<payload, error>;
    ping: func() -> unit;
    avg: func(a: float32, b: float64) -> float64;
}
";

    /// Upgrades `src`, checks that upgrading again changes nothing, returns the text.
    fn up(src: &str) -> String {
        let first = upgrade(src);
        let again = upgrade(&first.text);
        assert_eq!(again.text, first.text, "not idempotent for {src:?}");
        assert!(!again.changed(), "second upgrade changed {src:?}");
        first.text
    }

    fn found(src: &str) -> Vec<(String, bool)> {
        let uses = find_legacy(src);
        uses.into_iter().map(|u| (u.found, u.fixable)).collect()
    }

    fn resolves(text: &str) -> bool {
        let mut resolve = wit_parser::Resolve::default();
        resolve.push_str("x.wit", text).is_ok()
    }

    #[test]
    fn rewrites() {
        for case in [
            "f: func() -> expected<u32, string>; => f: func() -> result<u32, string>;",
            "-> expected<unit, e>; => -> result<_, e>;",
            "-> expected<u32, unit>; => -> result<u32>;",
            "-> expected<unit, unit>; => -> result;",
            "-> expected< unit ,unit >; => -> result;",
            "x: option<expected<float32, unit>> => x: option<result<f32>>",
            "ping: func() -> unit; => ping: func();",
            "ping: func()\n      -> unit;\n => ping: func();\n",
            "f: func() /* kept */ -> unit; => f: func() /* kept */;",
            "world w { import f: func(a: u8) -> unit; } => world w { import f: func(a: u8); }",
            "f: func(a: float32) -> list<float64>; => f: func(a: f32) -> list<f64>;",
            "x: tuple<float32, float64> => x: tuple<f32, f64>",
            "type t = float32; => type t = f32;",
            "record r { x: float64 } => record r { x: f64 }",
            "variant v { a(float32) } => variant v { a(f32) }",
            "resource r { constructor(x: float32); } => resource r { constructor(x: f32); }",
        ] {
            let (src, want) = case.split_once(" => ").unwrap_or_default();
            assert_eq!(up(src), want, "{src}");
        }
    }

    #[test]
    fn nested() {
        let src = "-> expected<list<expected<unit, string>>, unit>;";
        assert_eq!(up(src), "-> result<list<result<_, string>>>;");
        let want = ["expected", "expected", "unit", "unit"].map(|f| (f.to_string(), true));
        assert_eq!(found(src), want);
        let src = "-> expected<expected<unit, unit>, expected<u8, unit>>;";
        assert_eq!(up(src), "-> result<result, result<u8>>;");
    }

    #[test]
    fn spans_point_at_the_words() {
        let src = "f: func(x: float32) -> expected<unit, unit>;";
        let uses = find_legacy(src);
        assert_eq!(uses.len(), 4);
        for u in &uses {
            assert_eq!(&src[u.span.clone()], u.found);
        }
        assert_eq!(
            (uses[1].span.clone(), uses[1].now),
            (23..31, "`result<T, E>`")
        );
        assert_eq!(uses[0].now, "`f32`");
        assert!(uses.windows(2).all(|w| w[0].span.start < w[1].span.start));
    }

    #[test]
    fn declared_names_are_not_legacy() {
        for decl in concat!(
            "type unit = u8; | record unit { a: u8 } | variant unit { a } | enum unit { a } | ",
            "flags unit { a } | resource unit; | type %unit = u8; | use t.{unit}; | ",
            "use t.{a, unit}; | use t.{a as unit};",
        )
        .split(" | ")
        {
            let src = format!("{decl}\nf: func(x: option<unit>) -> unit;");
            assert_eq!(up(&src), src);
            assert!(find_legacy(&src).is_empty(), "{src}");
        }
        let src = "variant expected { a }\nenum float32 { a }\nflags float64 { a }\n\
                   f: func(x: expected, y: float32) -> float64;";
        assert!(find_legacy(src).is_empty());
        // A declared `unit` is a real type, even inside a legacy `expected`.
        let src = "type unit = u8; f: func() -> expected<unit, unit>;";
        assert_eq!(up(src), "type unit = u8; f: func() -> result<unit, unit>;");
        // Renamed on import: the bare `unit` is still the legacy one.
        assert_eq!(found("use t.{unit as u}; type x = unit;").len(), 1);
    }

    #[test]
    fn only_type_positions() {
        let src = "package unit:float32@1.0.0;
use wasi:unit/expected.{float64};
interface expected {
    @unstable(feature = unit)
    record r { unit: u8, float32: u8, expected: u8 }
    variant v { unit, float32(u8) }
    enum e { unit, float64 }
    expected: func(unit: u8, float32: u8);
    unit: func();
}
world w { import unit: func(); export float32: func(); include a:unit/b; }";
        assert_eq!(found(src), []);
        assert_eq!(up(src), src);
        assert!(find_legacy("f: func() -> expected;").is_empty());
        assert!(find_legacy("x: %unit, y: %float32, z: %expected<u8, u8>").is_empty());
    }

    #[test]
    fn comments_and_strings_are_untouched() {
        let src = "/// Returns `expected<unit, unit>` as float32.
// ping: func() -> unit;
/* type t = float64; /* unit */ */
f: func(/* unit */ x: float32 /* float32 */) -> unit; // -> unit
";
        let want = src
            .replace("x: float32 ", "x: f32 ")
            .replace(" */) -> unit;", " */);");
        assert_eq!(up(src), want);
        assert_eq!(found(src).len(), 2);
    }

    #[test]
    fn unit_in_an_option_suggests_bool() {
        let uses = find_legacy("package a:b; interface i { f: func() -> option<unit>; }");
        assert_eq!(uses.len(), 1);
        assert!(!uses[0].fixable);
        assert_eq!(uses[0].now, UNIT_IN_OPTION);
        assert!(uses[0].to_string().contains("not upgraded automatically"));
        // An option of something else is not this case.
        let other = find_legacy("x: option<list<unit>>");
        assert!(other[0].now.contains("variant case without a payload"));
    }

    #[test]
    fn unit_elsewhere_is_unfixable() {
        for src in concat!(
            "x: list<unit> | type x = unit; | x: tuple<unit, u8> | ",
            "variant v { a(unit) } | record r { a: unit } | f: func(x: unit); | ",
            "-> expected<list<unit>, e>",
        )
        .split(" | ")
        {
            let result = upgrade(src);
            let bad: Vec<_> = result.unfixable().collect();
            assert_eq!(bad.len(), 1, "{src}");
            assert_eq!(
                (bad[0].found.as_str(), &src[bad[0].span.clone()]),
                ("unit", "unit")
            );
            assert!(bad[0].now.contains("variant case without a payload"));
            assert!(bad[0].to_string().contains("not upgraded automatically"));
            assert!(result.text.contains("unit"));
        }
        assert_eq!(up("-> expected<list<unit>, e>"), "-> result<list<unit>, e>");
    }

    #[test]
    fn malformed_expected_is_left_alone() {
        for src in concat!(
            "-> expected<u8>; | -> expected<u8, u8, u8>; | -> expected<, u8>; | ",
            "-> expected<u8, unit | -> expected<u8; }",
        )
        .split(" | ")
        {
            let result = upgrade(src);
            assert_eq!(result.text, src);
            let bad: Vec<_> = result.unfixable().collect();
            assert_eq!(
                (bad[0].found.as_str(), bad[0].now),
                ("expected", RESULT_MALFORMED)
            );
        }
    }

    #[test]
    fn never_panics_on_garbage() {
        for src in concat!(
            "unit | -> unit | expected< | expected<<<> | type = unit | use {unit | use x.{ | ",
            "(unit | § -> float32 ünït \"unit | >>> , unit | f: func() ->   unit",
        )
        .split(" | ")
        {
            let _ = up(src);
        }
        assert_eq!(up(") -> unit"), ")");
        assert_eq!(up(""), "");
    }

    #[test]
    fn example_upgrades_and_resolves() {
        assert!(!resolves(EXAMPLE));
        let result = upgrade(EXAMPLE);
        assert!(result.changed());
        assert_eq!((result.uses.len(), result.unfixable().count()), (7, 0));
        let want = EXAMPLE
            .replace("expected<unit, error>", "result<_, error>")
            .replace("expected<payload, error>", "result<payload, error>")
            .replace("func() -> unit", "func()")
            .replace("float32", "f32")
            .replace("float64", "f64");
        assert_eq!(result.text, want);
        assert!(resolves(&result.text), "{}", result.text);
        assert_eq!(up(EXAMPLE), want);
    }
}
