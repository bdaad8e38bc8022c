//! Rust spellings of WIT names, with keywords escaped.

use heck::{ToShoutySnakeCase, ToSnakeCase, ToUpperCamelCase};

/// Rust keywords (2024 edition, reserved ones included).
const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "dyn", "else", "enum", "extern", "false",
    "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub",
    "ref", "return", "static", "struct", "trait", "true", "type", "unsafe", "use", "where",
    "while", "abstract", "become", "box", "do", "final", "macro", "override", "priv", "try",
    "typeof", "unsized", "virtual", "yield",
];

/// `snake_case`, as a valid identifier.
pub fn snake(name: &str) -> String {
    escape(name.to_snake_case())
}

/// `UpperCamelCase`, as a valid identifier.
pub fn camel(name: &str) -> String {
    escape(name.to_upper_camel_case())
}

/// One identifier from a module path, for items that share one scope (the
/// core exports inside `export!`): segments lose their `r#`, so that an
/// exported interface `type` gives `exports_type_...`, not the invalid
/// `exports_r#type_...`. (`__` would keep `a_b::c` and `a::b_c` apart, but
/// trips `non_snake_case` in the user's crate.)
pub fn path_ident(path: &[String]) -> String {
    let segments: Vec<&str> = path.iter().map(|s| s.trim_start_matches("r#")).collect();
    segments.join("_")
}

/// `SHOUTY_SNAKE_CASE`, as a valid identifier.
pub fn shouty(name: &str) -> String {
    escape(name.to_shouty_snake_case())
}

fn escape(s: String) -> String {
    match s.as_str() {
        // These cannot be raw identifiers.
        "self" | "Self" | "super" | "crate" | "_" => format!("{s}_"),
        _ if KEYWORDS.contains(&s.as_str()) => format!("r#{s}"),
        // WIT allows a leading digit after a dash (`a-1` -> `A1` is fine,
        // but a whole segment `1` is not an identifier).
        _ if s.starts_with(|c: char| c.is_ascii_digit()) => format!("_{s}"),
        _ => s,
    }
}
