//! Names the upgrade makes up: interfaces and packages named after files,
//! and the case names of a `union` turned into a `variant`.

use crate::lex::{Kind, Token, is_keyword};

/// `text` as a WIT identifier: lowercase kebab-case words, each starting with
/// a letter, `%`-escaped when it is a keyword (`my_API.v2` → `my-api-v2`,
/// `world` → `%world`). Gives `main` when nothing usable is left.
pub fn wit_name(text: &str) -> String {
    let words: Vec<String> = text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .skip_while(|w| !w.starts_with(|c: char| c.is_ascii_alphabetic()))
        .collect();
    // A word after the first may start with a digit only when glued to the one before.
    let mut name = String::new();
    for word in words {
        if word.starts_with(|c: char| c.is_ascii_digit()) {
            name.push_str(&word);
        } else {
            if !name.is_empty() {
                name.push('-');
            }
            name.push_str(&word);
        }
    }
    if name.is_empty() {
        name = "main".into();
    }
    escape(name)
}

fn escape(name: String) -> String {
    if is_keyword(&name) {
        format!("%{name}")
    } else {
        name
    }
}

/// Case names for the cases of a `union`, one per case type (given as its
/// tokens): the type's words (`list<string>` → `list-string`, `u32` → `%u32`,
/// so that bindings keep the names generators gave union cases), or
/// `caseN` when that is empty or taken.
pub(super) fn union_cases(cases: &[&[Token<'_>]]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for (n, case) in cases.iter().enumerate() {
        let mut words: Vec<String> = Vec::new();
        for t in case.iter().filter(|t| t.kind == Kind::Ident) {
            let word = match t.text.trim_start_matches('%') {
                "float32" => "f32",
                "float64" => "f64",
                "expected" => "result",
                "_" | "unit" | "handle" => continue,
                w => w,
            };
            words.push(word.to_ascii_lowercase());
        }
        let name = words.join("-");
        let usable = !name.is_empty()
            && name
                .split('-')
                .all(|w| w.starts_with(|c: char| c.is_ascii_alphabetic()))
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        let mut name = if usable {
            escape(name)
        } else {
            format!("case{}", n + 1)
        };
        let mut k = n + 1;
        while names.contains(&name) {
            name = format!("case{k}");
            k += 1;
        }
        names.push(name);
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lex::tokenize;

    #[test]
    fn file_stems_become_names() {
        for (stem, want) in [
            ("keystore", "keystore"),
            ("key_store", "key-store"),
            ("KeyStore", "keystore"),
            ("my_API.v2", "my-api-v2"),
            ("2022-kv", "kv"),
            ("wasi-http-0.2", "wasi-http02"),
            ("world", "%world"),
            ("__", "main"),
            ("é", "main"),
        ] {
            assert_eq!(wit_name(stem), want, "{stem}");
        }
    }

    #[test]
    fn union_case_names_follow_the_types() {
        let names = |cases: &[&str]| {
            let tokens: Vec<Vec<Token<'_>>> = cases.iter().map(|c| tokenize(c)).collect();
            let slices: Vec<&[Token<'_>]> = tokens.iter().map(Vec::as_slice).collect();
            union_cases(&slices)
        };
        assert_eq!(
            names(&[
                "u32",
                "list<string>",
                "option<float32>",
                "my-record",
                "expected<unit, e>",
                "%t",
                "_",
                "tuple<u8, u16>",
            ]),
            [
                "%u32",
                "list-string",
                "option-f32",
                "my-record",
                "result-e",
                "t",
                "case7",
                "tuple-u8-u16",
            ]
        );
        assert_eq!(names(&["u8", "u8", "case2"]), ["%u8", "case2", "case3"]);
    }
}
