//! Go names: exported identifiers in `CamelCase` with Go's initialisms
//! (`ID`, `URL`, `TTL`), parameters in `lowerCamelCase`, and the registry
//! that keeps every package-level name unique.

use std::collections::BTreeSet;

/// Words Go spells in capitals (the list of the Go style guide's
/// linters), compared lowercase.
const INITIALISMS: &[&str] = &[
    "acl", "api", "ascii", "cpu", "css", "dns", "eof", "guid", "html", "http", "https", "id", "ip",
    "json", "lhs", "qps", "ram", "rhs", "rpc", "sla", "smtp", "sql", "ssh", "tcp", "tls", "ttl",
    "udp", "ui", "uid", "uuid", "uri", "url", "utf8", "vm", "xml", "xmpp", "xsrf", "xss",
];

/// Go's keywords and the predeclared identifiers the bindings use: a
/// parameter so named gets a `_` (shadowing `len` or `string` would break
/// the body that reads it).
const RESERVED: &[&str] = &[
    "break",
    "case",
    "chan",
    "const",
    "continue",
    "default",
    "defer",
    "else",
    "fallthrough",
    "for",
    "func",
    "go",
    "goto",
    "if",
    "import",
    "interface",
    "map",
    "package",
    "range",
    "return",
    "select",
    "struct",
    "switch",
    "type",
    "var",
    "any",
    "append",
    "bool",
    "byte",
    "cap",
    "clear",
    "copy",
    "error",
    "errors",
    "false",
    "float32",
    "float64",
    "int",
    "int8",
    "int16",
    "int32",
    "int64",
    "len",
    "make",
    "math",
    "new",
    "nil",
    "panic",
    "rune",
    "runtime",
    "string",
    "true",
    "uint",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "uintptr",
    "unsafe",
    // The bodies' own variables.
    "base",
    "keep",
    "result",
    "ret",
    "err",
    "impl",
    "made",
    "paramsArea",
    "r",
    "retArea",
    "retBase",
    "self",
    "v",
];

/// The words of a WIT name (`kebab-case`, a word possibly in capitals).
fn words(name: &str) -> impl Iterator<Item = &str> {
    name.split(['-', '_']).filter(|w| !w.is_empty())
}

/// One word, capitalised as Go would: an initialism in capitals.
fn word(w: &str) -> String {
    let lower = w.to_ascii_lowercase();
    if INITIALISMS.contains(&lower.as_str()) {
        return lower.to_ascii_uppercase();
    }
    let mut chars = w.chars();
    match chars.next() {
        Some(c) => c.to_ascii_uppercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

/// `CamelCase`, an exported Go name (`invalid-key` -> `InvalidKey`,
/// `get-id` -> `GetID`).
pub fn camel(name: &str) -> String {
    let s: String = words(name).map(word).collect();
    if s.starts_with(|c: char| c.is_ascii_digit()) || s.is_empty() {
        format!("X{s}")
    } else {
        s
    }
}

/// `lowerCamelCase`, for parameters (`max-ttl` -> `maxTTL`, `id` ->
/// `id`), never a keyword nor a name the bodies use.
pub fn lower_camel(name: &str) -> String {
    let mut ws = words(name);
    let mut s = ws.next().map(str::to_ascii_lowercase).unwrap_or_default();
    for w in ws {
        s.push_str(&word(w));
    }
    let numbered = |p: &str| {
        s.strip_prefix(p)
            .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
    };
    if RESERVED.contains(&s.as_str())
        || s.is_empty()
        || s.starts_with(|c: char| c.is_ascii_digit())
        || numbered("t")
        || numbered("a")
        || numbered("arg")
        || numbered("o")
    {
        format!("{s}_")
    } else {
        s
    }
}

/// Package-level names given out so far: each is unique in the package.
#[derive(Debug, Default)]
pub struct Names {
    taken: BTreeSet<String>,
}

impl Names {
    /// `want`, or `want2`, `want3`, ... when it is taken.
    pub fn claim(&mut self, want: &str) -> String {
        let mut name = want.to_string();
        let mut n = 2;
        while self.taken.contains(&name) {
            name = format!("{want}{n}");
            n += 1;
        }
        self.taken.insert(name.clone());
        name
    }
}

/// A Go package name from a world's: lowercase letters and digits only
/// (`app-rust` -> `apprust`), never a keyword, never empty.
pub fn package(name: &str) -> String {
    let s: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if s.is_empty()
        || s.starts_with(|c: char| c.is_ascii_digit())
        || RESERVED[..25].contains(&s.as_str())
    {
        format!("w{s}")
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_go_style() {
        assert_eq!(camel("invalid-key"), "InvalidKey");
        assert_eq!(camel("get-id"), "GetID");
        assert_eq!(camel("http-url"), "HTTPURL");
        assert_eq!(camel("fl32"), "Fl32");
        assert_eq!(camel("HTTP-request"), "HTTPRequest");
        assert_eq!(camel("a1"), "A1");
        assert_eq!(lower_camel("max-ttl"), "maxTTL");
        assert_eq!(lower_camel("type"), "type_");
        assert_eq!(lower_camel("len"), "len_");
        assert_eq!(lower_camel("t1"), "t1_");
        assert_eq!(lower_camel("key"), "key");
        assert_eq!(lower_camel("ret-area"), "retArea_");
        assert_eq!(package("app-rust"), "apprust");
        assert_eq!(package("go"), "wgo");
        let mut names = Names::default();
        assert_eq!(names.claim("Store"), "Store");
        assert_eq!(names.claim("Store"), "Store2");
    }
}
