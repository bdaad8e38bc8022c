//! No input makes the WIT front end panic: a seeded loop mutates the keystore
//! WIT (and a legacy variant) a few thousand ways, loads each, and renders
//! every error the way the CLI does.

use miette::{GraphicalReportHandler, GraphicalTheme};
use wcomp_wit::{LoadOptions, legacy, load_str};

const KEYSTORE: &str = include_str!("../../../wit/keystore.wit");

/// Pieces that make mutations land on interesting syntax.
const PIECES: &[&str] = &[
    "",
    ";",
    "{",
    "}",
    "<",
    ">",
    "(",
    ")",
    ",",
    ":",
    "->",
    "@",
    "%",
    "\"",
    "/*",
    "*/",
    "//",
    "type",
    "record",
    "use",
    "include",
    "world",
    "interface",
    "expected<unit,",
    "unit",
    "float32",
    "own<",
    "borrow<",
    "@unstable(feature = x)",
    "package a:b;",
    "\u{0}",
    "é",
    "\n",
    "payload",
    "error",
    "store",
];

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 as usize
    }
}

fn mutate(src: &str, rng: &mut Rng) -> String {
    let mut s = src.to_string();
    for _ in 0..1 + rng.next() % 3 {
        let mut at = rng.next() % (s.len() + 1);
        while !s.is_char_boundary(at) {
            at -= 1;
        }
        let mut end = (at + rng.next() % 12).min(s.len());
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        let piece = PIECES[rng.next() % PIECES.len()];
        match rng.next() % 3 {
            0 => s.replace_range(at..end, piece),
            1 => s.insert_str(at, piece),
            _ => s.truncate(at),
        }
    }
    s
}

#[test]
fn mutated_wit_never_panics() {
    // Mutants are loaded as lone text, without `wit/deps`: drop the WASI
    // import, or nearly every mutant would stop at the missing package.
    let clock = "import wasi:clocks/monotonic-clock@0.2.12;";
    assert!(KEYSTORE.contains(clock), "update the import mutants drop");
    let keystore = KEYSTORE.replace(clock, "");
    let legacy_src = keystore.replace("result<_, error>", "expected<unit, error>");
    let handler = GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor());
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let (mut ok, mut failed) = (0, 0);
    for i in 0..3000 {
        let base = if i % 3 == 0 { &legacy_src } else { &keystore };
        let text = mutate(base, &mut rng);
        let _ = legacy::upgrade(&text, &legacy::Context::default());
        match load_str("mutant.wit", &text, &LoadOptions::default()) {
            Ok(_) => ok += 1,
            Err(e) => {
                failed += 1;
                assert!(
                    !e.is_internal(),
                    "internal error on input {i}:\n{text}\n{e}"
                );
                let mut out = String::new();
                handler
                    .render_report(&mut out, &e)
                    .unwrap_or_else(|_| panic!("cannot render the error for input {i}"));
                assert!(!out.is_empty());
            }
        }
    }
    // The loop must exercise both paths to mean anything.
    assert!(ok > 50 && failed > 1000, "ok {ok}, failed {failed}");
}
