//! A forgiving WIT tokenizer for diagnostics and rewrites.
//!
//! wit-parser's own lexer is private, and it stops at the first error. The
//! help heuristics and the legacy-syntax upgrade need to look at the tokens
//! around an error (and at files that do not parse), so this one never fails:
//! anything it does not understand becomes a [`Kind::Other`] token.

use std::ops::Range;

/// What a token is. Comments and whitespace are dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A name or keyword, with a leading `%` when escaped.
    Ident,
    /// Digits, possibly with dots (a version such as `0.2.0`).
    Number,
    /// A quoted string.
    Str,
    /// `->`
    Arrow,
    /// A single punctuation character: `< > ( ) { } , ; : = . / @ * + -`.
    Punct(char),
    /// Anything else.
    Other,
}

/// One token and where it stands in the source, in bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token<'a> {
    pub kind: Kind,
    pub text: &'a str,
    pub span: Range<usize>,
}

impl Token<'_> {
    /// True for an identifier spelled exactly `word` (an escaped `%word` is not a keyword).
    pub fn is_ident(&self, word: &str) -> bool {
        self.kind == Kind::Ident && self.text == word
    }

    pub fn is_punct(&self, c: char) -> bool {
        self.kind == Kind::Punct(c)
    }
}

/// Splits `src` into tokens, skipping whitespace and comments.
pub fn tokenize(src: &str) -> Vec<Token<'_>> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        let c = match src[i..].chars().next() {
            Some(c) => c,
            None => break,
        };
        let kind = if c.is_whitespace() {
            i += c.len_utf8();
            continue;
        } else if src[i..].starts_with("//") {
            i = src[i..].find('\n').map_or(bytes.len(), |n| i + n);
            continue;
        } else if src[i..].starts_with("/*") {
            i = skip_block_comment(src, i);
            continue;
        } else if src[i..].starts_with("->") {
            i += 2;
            Kind::Arrow
        } else if c == '%' || c.is_ascii_alphabetic() || c == '_' {
            i += 1;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'-') {
                i += 1;
            }
            // A trailing `-` belongs to the next token (`a- b` is not a name).
            while i > start + 1 && bytes[i - 1] == b'-' {
                i -= 1;
            }
            Kind::Ident
        } else if c.is_ascii_digit() {
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'.') {
                i += 1;
            }
            Kind::Number
        } else if c == '"' {
            i += 1;
            while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                i += 1;
            }
            i = (i + 1).min(bytes.len());
            Kind::Str
        } else if "<>(){},;:=./@*+-".contains(c) {
            i += 1;
            Kind::Punct(c)
        } else {
            i += c.len_utf8();
            Kind::Other
        };
        out.push(Token {
            kind,
            text: &src[start..i],
            span: start..i,
        });
    }
    out
}

/// Returns the offset just past the block comment starting at `start`
/// (block comments nest in WIT).
fn skip_block_comment(src: &str, start: usize) -> usize {
    let mut depth = 0usize;
    let mut i = start;
    while i < src.len() {
        if src[i..].starts_with("/*") {
            depth += 1;
            i += 2;
        } else if src[i..].starts_with("*/") {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += src[i..].chars().next().map_or(1, char::len_utf8);
        }
    }
    src.len()
}

/// Every WIT keyword: these need a `%` to be used as a name.
pub const KEYWORDS: &[&str] = &[
    "as",
    "async",
    "bool",
    "borrow",
    "char",
    "constructor",
    "enum",
    "export",
    "f32",
    "f64",
    "flags",
    "from",
    "func",
    "future",
    "import",
    "include",
    "interface",
    "list",
    "map",
    "option",
    "own",
    "package",
    "record",
    "resource",
    "result",
    "s16",
    "s32",
    "s64",
    "s8",
    "static",
    "stream",
    "string",
    "tuple",
    "type",
    "u16",
    "u32",
    "u64",
    "u8",
    "use",
    "variant",
    "with",
    "world",
    "error-context",
];

pub fn is_keyword(word: &str) -> bool {
    KEYWORDS.contains(&word)
}

/// The index of the token whose span contains byte `offset`, or the first one after it.
pub fn token_at(tokens: &[Token<'_>], offset: usize) -> Option<usize> {
    tokens.iter().position(|t| t.span.end > offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<(Kind, &str)> {
        tokenize(src)
            .into_iter()
            .map(|t| (t.kind, t.text))
            .collect()
    }

    #[test]
    fn names_punctuation_and_comments() {
        assert_eq!(
            kinds("set: func(k: %type) -> result<_, e> // tail\n/* a /* nested */ b */ x"),
            vec![
                (Kind::Ident, "set"),
                (Kind::Punct(':'), ":"),
                (Kind::Ident, "func"),
                (Kind::Punct('('), "("),
                (Kind::Ident, "k"),
                (Kind::Punct(':'), ":"),
                (Kind::Ident, "%type"),
                (Kind::Punct(')'), ")"),
                (Kind::Arrow, "->"),
                (Kind::Ident, "result"),
                (Kind::Punct('<'), "<"),
                (Kind::Ident, "_"),
                (Kind::Punct(','), ","),
                (Kind::Ident, "e"),
                (Kind::Punct('>'), ">"),
                (Kind::Ident, "x"),
            ]
        );
    }

    #[test]
    fn versions_and_kebab_names() {
        assert_eq!(
            kinds("package wasi:io@0.2.0; invalid-key"),
            vec![
                (Kind::Ident, "package"),
                (Kind::Ident, "wasi"),
                (Kind::Punct(':'), ":"),
                (Kind::Ident, "io"),
                (Kind::Punct('@'), "@"),
                (Kind::Number, "0.2.0"),
                (Kind::Punct(';'), ";"),
                (Kind::Ident, "invalid-key"),
            ]
        );
    }

    #[test]
    fn never_fails_on_garbage() {
        let toks = tokenize("\"unterminated\n§ /* open");
        assert_eq!(toks[0].kind, Kind::Str);
        assert_eq!(toks[1].kind, Kind::Other);
    }
}
