//! Seeded mutations of WIT text, shared by the mutation tests of the
//! library (`crates/wcomp-wit/tests/mutations.rs`) and of the CLI
//! (`tests/tests/mutate_wit_upgrade.rs`).
#![allow(dead_code)]

/// Pieces that make mutations land on interesting syntax, current and old.
pub const PIECES: &[&str] = &[
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
    ".",
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
    // Old forms.
    "default ",
    "union u { u8, string }",
    "use { a, b } from ",
    "use * from x",
    "self.",
    "pkg.doc.",
    "function",
    "static ",
    "-> (a: u8)",
    "-> ()",
    "import x: ",
    "export ",
    "default export interface {",
    "handle ",
    "from",
];

/// Old-syntax inputs to mutate (the upgrade rewriter's fixture inputs), by file name.
pub const OLD: &[(&str, &str)] = &[
    (
        "keystore.wit",
        include_str!("../../../../fixtures/upgrade/2022-keystore/keystore.wit"),
    ),
    (
        "keystore.wit",
        include_str!("../../../../fixtures/upgrade/2022-keystore-declared/keystore.wit"),
    ),
    (
        "app.wit",
        include_str!("../../../../fixtures/upgrade/2023-default-world/app.wit"),
    ),
    (
        "app.wit",
        include_str!("../../../../fixtures/upgrade/2022-world-default-export/app.wit"),
    ),
    (
        "handler.wit",
        include_str!("../../../../fixtures/upgrade/2022-use-from/handler.wit"),
    ),
    (
        "value.wit",
        include_str!("../../../../fixtures/upgrade/2022-union/value.wit"),
    ),
    (
        "files.wit",
        include_str!("../../../../fixtures/upgrade/2022-resource/files.wit"),
    ),
    (
        "shapes.wit",
        include_str!("../../../../fixtures/upgrade/2022-types/shapes.wit"),
    ),
    (
        "store.wit",
        include_str!("../../../../fixtures/upgrade/2023-no-semicolons/store.wit"),
    ),
];

/// A small deterministic generator (xorshift), so failures reproduce.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 as usize
    }
}

/// One to three edits of `src`: a range replaced by a piece, a piece
/// inserted, or the text cut short.
pub fn mutate(src: &str, rng: &mut Rng) -> String {
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
