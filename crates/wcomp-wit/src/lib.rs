//! The WIT front end of wcomp: load WIT from wherever it lives, resolve it,
//! pick a world, print, encode and upgrade it, and explain every error as a
//! miette diagnostic that points at the text and says how to fix it.

pub mod diagnostic;
mod guard;
mod help;
pub mod legacy;
mod lex;
mod load;
mod outline;
pub mod signature;
pub mod summary;
mod text;
pub mod upgrade;
pub mod wasi;

pub use diagnostic::{SourceDiagnostic, WitError};
pub use guard::catch_library_panic;
pub use load::{LoadOptions, Origin, Wit, load, load_str};
pub use text::{encode, print};

/// Re-exported so that users of this crate build on the same wit-parser.
pub use wit_parser;

/// Names from `candidates` close to `wanted` (typos, case, a letter off),
/// nearest first.
pub fn similar_names<'a>(wanted: &str, candidates: impl Iterator<Item = &'a str>) -> Vec<String> {
    let limit = (wanted.chars().count() / 3).max(1);
    let mut scored: Vec<(usize, &str)> = candidates
        .filter(|c| *c != wanted)
        .map(|c| (edit_distance(&wanted.to_lowercase(), &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .collect();
    scored.sort();
    scored.dedup();
    scored.into_iter().map(|(_, c)| c.to_string()).collect()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_names() {
        let names = ["payload", "error", "store", "handler"];
        assert_eq!(similar_names("paylod", names.into_iter()), vec!["payload"]);
        assert_eq!(similar_names("Store", names.into_iter()), vec!["store"]);
        assert!(similar_names("xyz", names.into_iter()).is_empty());
    }
}
