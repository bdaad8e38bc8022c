//! Help lines and extra labels for WIT errors: the part of a diagnostic that
//! says how to fix it. Each rule fires only where the fix is knowable.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::PathBuf;

use wit_parser::{SourceMap, Span};

use crate::lex::{self, Kind, is_keyword, tokenize};
use crate::outline::{self, Decl, DeclKind};
use crate::similar_names;

/// What went wrong, as far as help is concerned.
pub(crate) enum Problem {
    /// A syntax or semantic error known only by its message.
    Message(String),
    Syntax,
    UnknownName {
        name: String,
        kind: String,
    },
    Cycle {
        name: String,
        kind: String,
    },
    UnknownPackage {
        requested: String,
        known: Vec<String>,
        deps_dir: Option<PathBuf>,
    },
    UnknownInPackage {
        requested: String,
        package: String,
        kind: &'static str,
        candidates: Vec<String>,
    },
    DuplicatePackage {
        other: Span,
    },
    PackageCycle {
        package: String,
    },
}

impl Problem {
    pub(crate) fn message(message: &str) -> Problem {
        Problem::Message(message.to_string())
    }
}

/// Where the error is.
pub(crate) struct Context<'a> {
    pub map: &'a SourceMap,
    pub texts: &'a BTreeMap<String, String>,
    pub path: &'a str,
    pub text: &'a str,
    pub span: Range<usize>,
}

/// What to add to the diagnostic.
#[derive(Default)]
pub(crate) struct Advice {
    /// A more precise diagnostic code than the parser's error kind gives.
    pub code: Option<&'static str>,
    pub label: Option<String>,
    pub help: Option<String>,
    pub related: Vec<(Range<usize>, String)>,
}

impl Advice {
    fn help(help: impl Into<String>) -> Advice {
        Advice {
            help: Some(help.into()),
            ..Advice::default()
        }
    }

    /// A more precise code than the parser's error kind gives.
    fn with_code(mut self, code: &'static str) -> Advice {
        self.code = Some(code);
        self
    }
}

pub(crate) fn advise(problem: &Problem, cx: &Context<'_>) -> Advice {
    match problem {
        Problem::UnknownName { name, kind } => unknown_name(name, kind, cx),
        Problem::Cycle { name, kind } => cycle(name, kind, cx),
        Problem::UnknownPackage {
            requested,
            known,
            deps_dir,
        } => {
            // wit-parser counts the package being resolved among the known
            // ones; a `deps/` listing holds only real dependencies (the one
            // being resolved too, when the error is in a dependency).
            let own = declared_package(cx.text).filter(|_| deps_dir.is_none());
            let known: Vec<String> = known
                .iter()
                .filter(|k| Some(k.as_str()) != own.as_deref())
                .cloned()
                .collect();
            unknown_package(requested, &known, deps_dir.as_ref())
        }
        Problem::UnknownInPackage {
            requested,
            package,
            kind,
            candidates,
        } => unknown_in_package(requested, package, kind, candidates),
        Problem::DuplicatePackage { other } => Advice {
            label: Some("defined here".into()),
            help: Some(format!(
                "it is also defined at {}; keep one of them (a package lives in one place: the main directory or one entry of `deps/`)",
                cx.map.render_location(*other)
            )),
            related: Vec::new(),
            ..Advice::default()
        },
        Problem::PackageCycle { package } => package_cycle(package, cx),
        Problem::Message(message) => by_message(message, cx),
        Problem::Syntax => Advice::default(),
    }
}

/// Names declared in the file of the error first, then in the other files read.
fn declared(cx: &Context<'_>, keep: impl Fn(&Decl) -> bool) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let others = cx.texts.iter().filter(|(p, _)| p.as_str() != cx.path);
    for (_, text) in std::iter::once((&String::new(), &cx.text.to_string())).chain(others) {
        for d in outline::outline(text) {
            if keep(&d) && !names.contains(&d.name) {
                names.push(d.name);
            }
        }
    }
    names
}

const BUILTIN_TYPES: &[&str] = &[
    "bool", "u8", "u16", "u32", "u64", "s8", "s16", "s32", "s64", "f32", "f64", "char", "string",
    "list", "option", "result", "tuple", "borrow", "own", "future", "stream",
];

fn unknown_name(name: &str, kind: &str, cx: &Context<'_>) -> Advice {
    let wants_type = kind == "type" || kind == "name";
    let names = if wants_type {
        let mut n = declared(cx, |d| d.kind == DeclKind::Type);
        n.extend(BUILTIN_TYPES.iter().map(|s| s.to_string()));
        n
    } else {
        declared(cx, |d| {
            matches!(d.kind, DeclKind::Interface | DeclKind::World)
        })
    };
    if let Some(best) = similar_names(name, names.iter().map(String::as_str)).first() {
        return Advice {
            label: Some("not declared".into()),
            help: Some(format!("did you mean `{best}`?")),
            related: Vec::new(),
            ..Advice::default()
        };
    }
    let help = if wants_type {
        format!(
            "declare it (`type {name} = ...;`, `record {name} {{ ... }}`) or bring it into scope with `use some-interface.{{{name}}};`"
        )
    } else {
        let known = declared(cx, |d| {
            matches!(d.kind, DeclKind::Interface | DeclKind::World)
        });
        let listed = if known.is_empty() {
            "this package declares none".to_string()
        } else {
            format!("this package declares: {}", known.join(", "))
        };
        format!("{listed}; an interface of another package is written `namespace:package/{name}`")
    };
    Advice {
        label: Some("not declared".into()),
        help: Some(help),
        related: Vec::new(),
        ..Advice::default()
    }
}

fn cycle(name: &str, kind: &str, cx: &Context<'_>) -> Advice {
    let decls = outline::outline(cx.text);
    let chain = outline::cycle(&decls, name).filter(|c| c.len() > 2);
    let fix = if kind == "type" {
        "WIT types cannot be recursive: hold the inner value in a resource, or flatten the types"
    } else {
        "remove one of the `use` or `include` links"
    };
    let help = match chain {
        Some(chain) => format!(
            "the cycle is {}; {fix}",
            chain
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(" -> ")
        ),
        None => format!("`{name}` refers to itself; {fix}"),
    };
    Advice::help(help)
}

/// The name in the file's `package ns:name@version;` line.
fn declared_package(text: &str) -> Option<String> {
    let toks = tokenize(text);
    let start = toks.iter().position(|t| t.is_ident("package"))? + 1;
    let name: String = toks[start..]
        .iter()
        .take_while(|t| !t.is_punct(';') && !t.is_punct('{'))
        .map(|t| t.text)
        .collect();
    (!name.is_empty()).then_some(name)
}

fn unknown_package(requested: &str, known: &[String], deps_dir: Option<&PathBuf>) -> Advice {
    let base = |p: &str| p.split('@').next().unwrap_or(p).to_string();
    let versions: Vec<&String> = known
        .iter()
        .filter(|k| base(k) == base(requested))
        .collect();
    if !versions.is_empty() {
        let add = if deps_dir.is_some() {
            format!(", or add `{requested}` to `deps/`")
        } else {
            String::new()
        };
        return Advice::help(format!(
            "versions present: {}; ask for one of them (`{}@VERSION/...`){add}",
            versions
                .iter()
                .map(|v| format!("`{v}`"))
                .collect::<Vec<_>>()
                .join(", "),
            base(requested)
        ));
    }
    let found = if known.is_empty() {
        "no packages".to_string()
    } else {
        known.join(", ")
    };
    let help = match deps_dir {
        Some(dir) => format!(
            "looked in `{}` and found {found}; put `{requested}` there as a directory of `.wit` files, a single `.wit` file or an encoded `.wasm` package",
            dir.display()
        ),
        None => format!(
            "dependencies are read from a `deps/` folder beside the file, and there is none: create it and put `{requested}` there as a directory of `.wit` files, a single `.wit` file or an encoded `.wasm` package"
        ),
    };
    Advice::help(help)
}

fn unknown_in_package(requested: &str, package: &str, kind: &str, candidates: &[String]) -> Advice {
    if let Some(best) = similar_names(requested, candidates.iter().map(String::as_str)).first() {
        return Advice::help(format!("did you mean `{package}/{best}`?"));
    }
    let listed = if candidates.is_empty() {
        format!("package `{package}` has no {kind}s")
    } else {
        format!("the {kind}s of `{package}` are: {}", candidates.join(", "))
    };
    Advice::help(listed)
}

fn package_cycle(package: &str, cx: &Context<'_>) -> Advice {
    // Which package each file declares, and which packages it mentions.
    let mut edges: Vec<(String, Vec<String>)> = Vec::new();
    for text in cx.texts.values() {
        let toks = tokenize(text);
        let mut own = None;
        let mut uses = Vec::new();
        for (i, t) in toks.iter().enumerate() {
            let next_colon = toks.get(i + 1).is_some_and(|n| n.is_punct(':'));
            if t.kind == Kind::Ident
                && next_colon
                && let Some(pkg) = toks.get(i + 2).filter(|n| n.kind == Kind::Ident)
            {
                let name = format!("{}:{}", t.text, pkg.text);
                if i > 0 && toks[i - 1].is_ident("package") {
                    own.get_or_insert(name);
                } else if toks.get(i + 3).is_some_and(|n| n.is_punct('/')) {
                    uses.push(name);
                }
            }
        }
        if let Some(own) = own {
            edges.push((own, uses));
        }
    }
    let start = package.split('@').next().unwrap_or(package).to_string();
    if edges
        .iter()
        .any(|(p, uses)| *p == start && uses.contains(&start))
    {
        return Advice::help(format!(
            "`{start}` uses itself by its package name; within a package, refer to an interface by its plain name (`use iface.{{...}}`)"
        ));
    }
    let mut chain = vec![start.clone()];
    let mut at = start.clone();
    for _ in 0..edges.len() {
        let next = edges
            .iter()
            .filter(|(p, _)| *p == at)
            .flat_map(|(_, u)| u)
            .find(|u| **u == start || !chain.contains(u))
            .cloned();
        match next {
            Some(n) => {
                chain.push(n.clone());
                if n == start {
                    return Advice::help(format!(
                        "the packages use each other: {}; packages must form a tree, so move the shared interfaces into one package",
                        chain.join(" -> ")
                    ));
                }
                at = n;
            }
            None => break,
        }
    }
    Advice::help(
        "packages must not use each other in a cycle; move the shared interfaces into one package",
    )
}

fn by_message(message: &str, cx: &Context<'_>) -> Advice {
    let tokens = tokenize(cx.text);
    let at = lex::token_at(&tokens, cx.span.start);
    let quoted = first_quoted(message);

    if let Some(keyword) = message
        .split("found keyword `")
        .nth(1)
        .and_then(|s| s.split('`').next())
    {
        let prev = at.and_then(|i| i.checked_sub(1)).map(|i| &tokens[i]);
        let before = at.and_then(|i| i.checked_sub(2)).map(|i| &tokens[i]);
        let in_handle = prev.is_some_and(|p| p.is_punct('<'))
            && before.is_some_and(|b| b.is_ident("own") || b.is_ident("borrow"));
        if in_handle {
            return Advice::help(
                "`own<T>` and `borrow<T>` take a resource declared with `resource T`, not a built-in type",
            );
        }
        if message.contains("identifier") && is_keyword(keyword) {
            return Advice {
                code: Some("wit::keyword_as_name"),
                label: Some("a keyword".into()),
                help: Some(format!(
                    "`{keyword}` is a keyword; to use it as a name, escape it: `%{keyword}`"
                )),
                related: Vec::new(),
            };
        }
    }
    if message.contains("expected `version`, found `since`") {
        return Advice::help("write `@deprecated(version = X.Y.Z)`");
    }
    if message.contains("expected fixed-length") {
        return Advice::help(
            "a list's second parameter is its length, a number (`list<u8, 16>`); a list of any length is `list<T>`",
        );
    }
    if message.starts_with("expected ';'") {
        return missing_semicolon(&tokens, at);
    }
    if message.contains("found eof") {
        return unclosed(&tokens, cx);
    }
    if message.contains("unterminated string") {
        return Advice::help("close the string with `\"` on the same line");
    }
    if message.contains("excluded due to its feature not being activated") {
        return feature_gate(&tokens, at, cx).with_code("wit::feature_gated");
    }
    if message.contains("which is not supported") && message.contains("borrow") {
        return Advice::help(
            "a function cannot return a borrowed handle: return an owned one (`T` instead of `borrow<T>`)",
        );
    }
    if message.contains("used in a handle must be a resource") {
        return Advice::help(
            "`own<T>` and `borrow<T>` take a resource: declare it with `resource T { ... }`, or use the type without a handle",
        );
    }
    if message.contains("feature gate cannot reference unreleased version") {
        let current = message
            .split("current version ")
            .nth(1)
            .map(|s| s.trim_end_matches(')'))
            .unwrap_or("the package's");
        return Advice::help(format!(
            "`@since(version = ...)` cannot be newer than the package version {current}: lower it, or raise the version in the `package` line"
        ));
    }
    if message.contains("is defined as a world, not an interface") {
        return Advice::help(
            "`use`, `import` and `export` take interfaces; to reuse a world's items, `include` it in another world",
        );
    }
    if message.contains("is defined as an interface, not a world") {
        return Advice::help(
            "`include` takes a world; to bring in an interface, `import` or `export` it",
        );
    }
    if message == "empty variant" || message == "empty enum" {
        return Advice::help("add at least one case: a type with no cases can hold no value");
    }
    if message.contains("must be the resource being constructed")
        || message.contains("constructor return type is declared")
    {
        return Advice::help(
            "a constructor returns nothing (`constructor(...)`) or `result<R, E>` where `R` is the resource it constructs",
        );
    }
    if message.contains("nesting too deep") {
        return Advice::help("split the nesting into named types (`type inner = ...;`)");
    }
    if message.contains("header was found") {
        return Advice::help(
            "start the file with a package line, e.g. `package my-org:my-package;`",
        );
    }
    if message.contains("nested packages must be placed at the top-level") {
        return Advice::help("move the inner `package ... { }` block to the top level of the file");
    }
    if message.contains("does not match previous package name") {
        return Advice::help(
            "all `.wit` files of one directory form one package: give them the same `package` line, or move this one into `deps/`",
        );
    }
    if message.contains("found doc comments on multiple") {
        return Advice::help("document the package in one file only");
    }
    if message.starts_with("cannot use function") {
        return Advice::help("a function is not a type: name the type it takes or returns instead");
    }
    if let Some(name) = quoted.filter(|_| is_duplicate(message)) {
        return duplicate(name, message, &tokens, cx);
    }
    if message.contains("more than once") {
        return duplicate("", message, &tokens, cx);
    }
    if message.contains("shadows previously") {
        return Advice::help(
            "rename one of the clashing items, e.g. `include other with { name as other-name }`",
        );
    }
    Advice::default()
}

fn first_quoted(message: &str) -> Option<&str> {
    message.split('`').nth(1)
}

fn is_duplicate(message: &str) -> bool {
    message.contains("more than once")
        || message.contains("duplicate")
        || message.contains("conflicts with")
}

/// Points at the first of two same-named things.
fn duplicate(name: &str, message: &str, tokens: &[lex::Token<'_>], cx: &Context<'_>) -> Advice {
    // Resource functions are named `[constructor]r`, `[method]r.f`, `[static]r.f`.
    let name = match name.strip_prefix('[').and_then(|n| n.split_once(']')) {
        Some(("constructor", _)) => "constructor",
        Some((_, qualified)) => qualified.rsplit('.').next().unwrap_or(qualified),
        None => name,
    };
    let insensitive = message.contains("case-insensitive");
    let same = |text: &str| {
        let text = text.strip_prefix('%').unwrap_or(text);
        if insensitive {
            text.eq_ignore_ascii_case(name)
        } else {
            text == name
        }
    };
    let before = |t: &&lex::Token<'_>| t.span.start < cx.span.start;
    let first = if name.is_empty() {
        // "interface cannot be imported more than once": same text as the error's token.
        let at = lex::token_at(tokens, cx.span.start);
        at.filter(|&i| i > 0)
            .and_then(|i| {
                // The same `import foo` / `export foo` earlier on.
                let (verb, target) = (tokens[i - 1].text, tokens[i].text);
                tokens[..i]
                    .windows(2)
                    .find(|w| w[0].text == verb && w[1].text == target)
            })
            .map(|w| w[1].span.clone())
    } else {
        // A declaration of that name, else a named field, case or parameter (`name:`).
        outline::outline(cx.text)
            .into_iter()
            .rfind(|d| d.span.start < cx.span.start && same(&d.name))
            .map(|d| d.span)
            .or_else(|| {
                tokens
                    .windows(2)
                    .map(|w| (&w[0], &w[1]))
                    .find(|(t, next)| {
                        before(t) && t.kind == Kind::Ident && same(t.text) && next.is_punct(':')
                    })
                    .map(|(t, _)| t.span.clone())
            })
    };
    match first {
        Some(span) => Advice {
            code: Some("wit::duplicate_name"),
            label: Some("second definition".into()),
            help: Some(
                "each name may be defined once in its scope: rename or remove one of them".into(),
            ),
            related: vec![(span, "first defined here".into())],
        },
        None => {
            Advice::help("each name may be defined once in its scope: rename or remove one of them")
                .with_code("wit::duplicate_name")
        }
    }
}

/// A `;` forgotten at the end of a line: the parser notices only on the next
/// line, so point at where it belongs.
fn missing_semicolon(tokens: &[lex::Token<'_>], at: Option<usize>) -> Advice {
    let Some(prev) = at.and_then(|i| i.checked_sub(1)).map(|i| &tokens[i]) else {
        return Advice::help("add the missing `;`");
    };
    Advice {
        label: Some("the next item starts here".into()),
        help: Some("end the declaration with `;`".into()),
        related: vec![(
            prev.span.end..prev.span.end,
            "expected `;` after this".into(),
        )],
        ..Advice::default()
    }
}

/// For an early end of file: the `{` that is never closed.
fn unclosed(tokens: &[lex::Token<'_>], cx: &Context<'_>) -> Advice {
    let mut open = Vec::new();
    for t in tokens {
        match t.kind {
            Kind::Punct('{') => open.push(t.span.clone()),
            Kind::Punct('}') => {
                open.pop();
            }
            _ => {}
        }
    }
    match open.first() {
        Some(span) => Advice {
            label: None,
            help: Some("add the missing `}`".into()),
            related: vec![(span.clone(), "this `{` is never closed".into())],
            ..Advice::default()
        },
        None => Advice::help(format!(
            "`{}` ends in the middle of a declaration: finish it, or end it with `;`",
            cx.path
        )),
    }
}

fn feature_gate(tokens: &[lex::Token<'_>], at: Option<usize>, cx: &Context<'_>) -> Advice {
    let all: Vec<Decl> = cx
        .texts
        .values()
        .flat_map(|t| outline::outline(t))
        .collect();
    let named = at
        .map(|i| tokens[i].text.trim_start_matches('%'))
        .and_then(|name| all.iter().find(|d| d.name == name && d.feature.is_some()));
    let mut features: Vec<String> = match named {
        Some(d) => d.feature.iter().cloned().collect(),
        None => all.iter().filter_map(|d| d.feature.clone()).collect(),
    };
    features.sort();
    features.dedup();
    match features.as_slice() {
        [] => Advice::help(
            "enable the item's feature with `--features NAME`, or all of them with `--all-features`",
        ),
        [one] => Advice::help(format!(
            "the item is `@unstable(feature = {one})`: enable it with `--features {one}` (or `--all-features`)"
        )),
        many => Advice::help(format!(
            "the file gates items behind the features {}: enable the one needed with `--features NAME` (or `--all-features`)",
            many.join(", ")
        )),
    }
}
