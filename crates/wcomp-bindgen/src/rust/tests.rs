//! The Rust backend: generated bindings compile, warning-free, for the
//! host (the extern parts are `cfg`-gated to wasm32, so everything else is
//! checked here; the guest build is the toolchain test's job).

use std::path::Path;
use std::process::Command;

use super::*;

const SINK: &str = include_str!("sink.wit");
use wcomp_abi::test_support::{KEYSTORE, load};

fn generate(text: &str, world: &str) -> String {
    let (resolve, world) = load(text, world);
    let opts = Opts {
        bindings_module: Some("crate".into()),
        ..Opts::default()
    };
    let files = opts.generate(&resolve, world).unwrap();
    let (_, src) = files.iter().next().unwrap();
    src.to_string()
}

/// Compiles `src` as a library crate root with `#![deny(warnings)]`.
fn compile(name: &str, src: &str) {
    let dir = std::env::temp_dir().join(format!("wcomp-rust-bind-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("lib.rs");
    std::fs::write(&file, format!("#![deny(warnings)]\n{src}")).unwrap();
    let out = Command::new(std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()))
        .args([
            "--edition",
            "2024",
            "--crate-type",
            "lib",
            "--crate-name",
            "bindings",
        ])
        .arg("--out-dir")
        .arg(&dir)
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{name}: the generated bindings do not compile:\n{}\n--- source: {}",
        String::from_utf8_lossy(&out.stderr),
        Path::new(&file).display()
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn keystore_world_compiles() {
    let src = generate(KEYSTORE, "keystore");
    assert!(src.contains("pub trait Guest"), "{src}");
    assert!(
        src.contains("fn get(key: String) -> Result<Payload, Error>;"),
        "{src}"
    );
    assert!(src.contains("component-type:wcomp:keystore"), "{src}");
    assert!(src.contains("fn cabi_realloc"), "{src}");
    // The implementation and the macro call a user writes.
    let user = "struct Store;\n\
        impl exports::store::Guest for Store {\n\
        fn set(_: String, _: Vec<u8>, _: Option<u32>) -> Result<(), exports::store::Error> { Ok(()) }\n\
        fn get(key: String) -> Result<Vec<u8>, exports::store::Error> { Err(exports::store::Error::InvalidKey(key)) }\n\
        fn delete(_: String) -> Result<(), exports::store::Error> { Err(exports::store::Error::NotFound) }\n\
        }\nexport!(Store);\n";
    compile("keystore", &format!("{src}\n{user}"));
}

#[test]
fn app_world_compiles() {
    let src = generate(KEYSTORE, "app");
    assert!(
        src.contains("pub fn get(key: &str) -> Result<Payload, Error>"),
        "{src}"
    );
    let user = "struct App;\n\
        impl exports::handler::Guest for App {\n\
        fn handle(command: String) -> String { format!(\"{:?}\", store::get(&command)) }\n\
        }\nexport!(App);\n";
    compile("app", &format!("{src}\n{user}"));
}

#[test]
fn kitchen_sink_compiles() {
    let src = generate(SINK, "sink");
    compile("sink", &src);
}

/// `--stubs`: the file alone is a crate root implementing every export.
#[test]
fn stubs_compile_alone() {
    for (text, world) in [
        (SINK, "sink"),
        (SINK, "echo"),
        (KEYSTORE, "keystore"),
        (KEYSTORE, "app"),
    ] {
        let (resolve, world_id) = load(text, world);
        let opts = Opts {
            stubs: true,
            ..Opts::default()
        };
        let files = opts.generate(&resolve, world_id).unwrap();
        let (_, src) = files.iter().next().unwrap();
        assert!(src.contains("pub struct Stub;"), "{src}");
        compile(&format!("stubs-{world}"), src);
    }
}

/// Resources in every position: imported (`blob`, with a constructor,
/// methods and statics, own and borrow parameters, lists of owned handles)
/// and exported (`counter`), in the abi tests' sink world and in WASI.
#[test]
fn resources_compile() {
    let wit = wcomp_abi::test_support::SINK;
    let (resolve, world) = load(wit, "sink");
    let opts = Opts {
        stubs: true,
        ..Opts::default()
    };
    let files = opts.generate(&resolve, world).unwrap();
    let (_, src) = files.iter().next().unwrap();
    for want in [
        "pub struct Blob {",
        "pub fn new(init: &[u8]) -> Self",
        "pub fn read(&self, n: u32) -> Vec<u8>",
        "pub fn merge(a: Blob, b: &Blob) -> Blob",
        "pub trait GuestCounter: 'static {",
        "fn bump(&self, by: u32) -> u32;",
        "fn take(c: Counter) -> u32;",
        "type Counter: GuestCounter;",
    ] {
        assert!(src.contains(want), "missing `{want}`:\n{src}");
    }
    compile("resources", src);

    // A user's exported resource: `new` and `get` come from `export!`.
    let wit = "package a:b;\ninterface i {\nresource r { constructor(x: u32); get: func() -> u32; \
        add: func(other: borrow<r>) -> own<r>; }\nmake: func(x: u32) -> r;\n\
        peek: func(x: borrow<r>) -> u32;\ntake: func(x: list<r>) -> u32;\n}\nworld w { export i; }";
    let src = generate(wit, "w");
    let user = "struct S;\nstruct Mine(u32);\n\
        impl exports::i::Guest for S {\ntype R = Mine;\n\
        fn make(x: u32) -> exports::i::R { exports::i::R::new(Mine(x)) }\n\
        fn peek(x: &Mine) -> u32 { x.0 }\n\
        fn take(x: Vec<exports::i::R>) -> u32 { x.iter().map(|r| r.get().0).sum() }\n}\n\
        impl exports::i::GuestR for Mine {\nfn new(x: u32) -> Self { Mine(x) }\n\
        fn get(&self) -> u32 { self.0 }\n\
        fn add(&self, other: &Self) -> exports::i::R { exports::i::R::new(Mine(self.0 + other.0)) }\n}\n\
        export!(S);\n";
    compile("exported-resource", &format!("{src}\n{user}"));
}

/// Borrowed handles inside named and anonymous types, imported and
/// exported: a type holding one has a lifetime (`H<'a>` with `&'a R`), and
/// the guest's own resource lent inside a value is an `RBorrow<'a>` whose
/// `get` (from `export!`) reads the user's value.
#[test]
fn borrows_in_types_compile() {
    let wit = "package a:b;\n\
        interface host { resource r { get: func() -> u32; } record h { x: borrow<r>, n: u32 }\n\
        f: func(x: h, y: list<h>, z: tuple<borrow<r>, u32>, w: option<borrow<r>>) -> u32; }\n\
        interface lender { use host.{r}; resource c { get: func() -> u32; }\n\
        record pair { mine: borrow<c>, theirs: borrow<r> }\n\
        variant either { mine(borrow<c>), theirs(borrow<r>) }\n\
        type pairs = list<pair>;\n\
        sum: func(p: pair, ps: pairs, e: either, l: list<borrow<c>>, o: option<borrow<r>>) -> u32; }\n\
        world w { import host; export lender; }";
    let src = generate(wit, "w");
    for want in [
        "pub struct H<'a> {",
        "pub x: &'a R,",
        "pub fn f(x: H<'_>, y: &[H<'_>], z: (&R, u32, ), w: Option<&R>) -> u32",
        "pub struct Pair<'a> {",
        "pub mine: CBorrow<'a>,",
        "pub theirs: &'a super::super::host::R,",
        "pub type Pairs<'a> = Vec<Pair<'a>>;",
    ] {
        assert!(src.contains(want), "missing `{want}`:\n{src}");
    }
    let user = "struct S;\nstruct Mine(u32);\n\
        impl exports::lender::Guest for S {\ntype C = Mine;\n\
        fn sum(p: exports::lender::Pair<'_>, ps: exports::lender::Pairs<'_>, e: exports::lender::Either<'_>,\n\
        l: Vec<exports::lender::CBorrow<'_>>, o: Option<&host::R>) -> u32 {\n\
        let one = |p: &exports::lender::Pair<'_>| p.mine.get().0 + p.theirs.get();\n\
        let e = match e { exports::lender::Either::Mine(c) => c.get().0, exports::lender::Either::Theirs(r) => r.get() };\n\
        one(&p) + ps.iter().map(one).sum::<u32>() + e + l.iter().map(|c| c.get().0).sum::<u32>() + o.map_or(0, |r| r.get())\n}\n}\n\
        impl exports::lender::GuestC for Mine {\nfn get(&self) -> u32 { self.0 }\n}\n\
        export!(S);\n\
        pub fn call(r: &host::R) -> u32 {\n\
        let h = host::H { x: r, n: 1 };\n\
        host::f(h.clone(), &[h], (r, 2), Some(r))\n}\n";
    compile("borrows", &format!("{src}\n{user}"));
}

/// WIT text stops at 32 flags, but the ABI defines wider ones (see the
/// abi tests): widen `wide` in the resolved types and check the two- and
/// three-word spellings compile.
#[test]
fn wide_flags_compile() {
    let wit = "package a:b;\ninterface i {\nflags wide { f0 }\nflags wider { f0 }\n\
        echo: func(x: wide, y: wider) -> wide;\n}\nworld w { import i; export i; }";
    let (mut resolve, world) = load(wit, "w");
    for (_, ty) in resolve.types.iter_mut() {
        let want = match ty.name.as_deref() {
            Some("wide") => 64,
            Some("wider") => 65,
            _ => continue,
        };
        if let wit_parser::TypeDefKind::Flags(f) = &mut ty.kind {
            while f.flags.len() < want {
                let mut flag = f.flags[0].clone();
                flag.name = format!("f{}", f.flags.len());
                f.flags.push(flag);
            }
        }
    }
    let files = Opts::default().generate(&resolve, world).unwrap();
    let (_, src) = files.iter().next().unwrap();
    assert!(src.contains("bits: u64"), "{src}");
    assert!(src.contains("bits: u128"), "{src}");
    compile("wide", src);
}

/// The component type's byte string reads back as the same bytes: every
/// byte value, spaces where a continuation would eat them, brackets the
/// indenter would count.
#[test]
fn byte_string_round_trips() {
    let mut bytes: Vec<u8> = (0..=255).collect();
    bytes.extend(b"  {[( leading spaces )]}  ".repeat(9));
    let text = indent(&format!(
        "{{\nconst X: &[u8] = b\"\\\n{}\";\n}}",
        byte_string(&bytes)
    ));
    // Read the literal back as Rust does: `\` + newline skips the newline
    // and the next line's leading whitespace.
    let body = &text[text.find("b\"").unwrap() + 2..text.rfind('"').unwrap()];
    let mut out = Vec::new();
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c as u8);
            continue;
        }
        match chars.next() {
            Some('\n') => {
                while chars.peek().is_some_and(|c| c.is_whitespace()) {
                    chars.next();
                }
            }
            Some('x') => {
                let hex: String = chars.by_ref().take(2).collect();
                out.push(u8::from_str_radix(&hex, 16).unwrap());
            }
            other => panic!("unexpected escape {other:?}"),
        }
    }
    assert_eq!(out, bytes);
}

/// An interface both imported and exported is two modules, each with its
/// own types and resource: the import's `i::R` (the host's) and the
/// export's `exports::i::R` (the guest's), which an implementation can
/// convert between.
#[test]
fn interface_both_ways_is_two_modules() {
    let wit = "package a:b;\ninterface i {\nresource r { constructor(x: u32); get: func() -> u32; }\n\
        record holder { r: r, n: u32 }\nmake: func(h: holder) -> r;\n}\n\
        world w { import i; export i; }";
    let src = generate(wit, "w");
    for want in [
        "#[link(wasm_import_module = \"a:b/i\")]",
        "#[link(wasm_import_module = \"[export]a:b/i\")]",
        "export_name = \"a:b/i#[dtor]r\"",
    ] {
        assert!(src.contains(want), "missing `{want}`:\n{src}");
    }
    let user = "struct S;\nstruct Mine(i::R);\n\
        impl exports::i::Guest for S {\ntype R = Mine;\n\
        fn make(h: exports::i::Holder) -> exports::i::R {\n\
        let n = h.r.get().0.get() + h.n;\n\
        exports::i::R::new(Mine(i::make(i::Holder { r: i::R::new(n), n })))\n}\n}\n\
        impl exports::i::GuestR for Mine {\nfn new(x: u32) -> Self { Mine(i::R::new(x)) }\n\
        fn get(&self) -> u32 { self.0.get() }\n}\n\
        export!(S);\n";
    compile("both-ways", &format!("{src}\n{user}"));
}

/// One interface imported under two names is two modules.
#[test]
fn interface_under_two_names_is_two_modules() {
    let wit = "package a:b;\ninterface log { record line { text: string } write: func(l: line); }\n\
        world w { import log; import console: log; }";
    let src = generate(wit, "w");
    assert!(src.contains("pub mod log {"), "{src}");
    assert!(src.contains("pub mod console {"), "{src}");
    let user = "pub fn both() {\nlog::write(log::Line { text: \"a\".into() });\n\
        console::write(console::Line { text: \"b\".into() });\n}\n";
    compile("two-names", &format!("{src}\n{user}"));
}

/// `generate` with `Lang::Rust` is the backend's own entry: one file,
/// `<world>.rs`, the same on every run.
#[test]
fn generate_is_the_one_entry_point() {
    let (resolve, world) = load(KEYSTORE, "app");
    let lang = crate::Lang::Rust(Opts::default());
    assert_eq!(lang.name(), "Rust");
    let files = crate::generate(&resolve, world, &lang).unwrap();
    assert_eq!(files, Opts::default().generate(&resolve, world).unwrap());
    assert_eq!(files, crate::generate(&resolve, world, &lang).unwrap());
    let names: Vec<&str> = files.iter().map(|(name, _)| name).collect();
    assert_eq!(names, ["app.rs"]);
    assert_eq!(files.len(), 1);
    assert!(
        files
            .get("app.rs")
            .is_some_and(|src| src.contains("pub mod store"))
    );
}

/// A world named like a keyword: the file is `type.rs` (and, for the
/// host, `type_host.rs`), not `r#type.rs`.
#[test]
fn a_keyword_world_names_a_plain_file() {
    let text = "package t:kw;\nworld %type { export run: func() -> u32; }\n";
    let (resolve, world) = load(text, "%type");
    let guest = crate::generate(&resolve, world, &crate::Lang::Rust(Opts::default())).unwrap();
    let names: Vec<&str> = guest.iter().map(|(name, _)| name).collect();
    assert_eq!(names, ["type.rs"]);
    let host =
        crate::generate(&resolve, world, &crate::Lang::RustHost(Default::default())).unwrap();
    let names: Vec<&str> = host.iter().map(|(name, _)| name).collect();
    assert_eq!(names, ["type_host.rs"]);
}
