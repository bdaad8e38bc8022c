//! The Go backend's shape: files, names, the error style of results,
//! exported resources, refusals and determinism. (That the output is
//! gofmt- and vet-clean, builds and runs is checked end to end in
//! `tests/`, where Go is: every world of the repository, and the case
//! guests round-trip values in wasmtime.)

use super::*;

use wcomp_abi::test_support::{KEYSTORE, SINK, load};

fn generate(text: &str, world: &str) -> Files {
    let (resolve, world) = load(text, world);
    Opts::default().generate(&resolve, world).unwrap()
}

fn file<'f>(files: &'f Files, name: &str) -> &'f str {
    files.get(name).unwrap_or_else(|| {
        panic!(
            "no {name} among {:?}",
            files.iter().map(|f| f.0).collect::<Vec<_>>()
        )
    })
}

#[test]
fn keystore_world_is_one_package_named_by_world() {
    let files = generate(KEYSTORE, "keystore");
    let names: Vec<&str> = files.iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["keystore/cabi.go", "keystore/keystore.go"]);
    let api = file(&files, "keystore/keystore.go");
    assert!(api.contains("\npackage keystore\n"), "{api}");
    // `result<payload, error>` reads as Go: a value and an error.
    assert!(
        api.contains("\tGet(key string) (StorePayload, error)\n"),
        "{api}"
    );
    assert!(
        api.contains("\tSet(key string, value StorePayload, ttl Option[uint32]) error\n"),
        "{api}"
    );
    assert!(
        api.contains("func (e StoreError) Error() string {"),
        "{api}"
    );
    assert!(
        api.contains("func MonotonicClockNow() MonotonicClockInstant {"),
        "{api}"
    );
    let glue = file(&files, "keystore/cabi.go");
    assert!(
        glue.contains("//go:wasmexport wcomp:keystore/store@0.1.0#get\nfunc wasmexportStoreGet("),
        "{glue}"
    );
    assert!(glue.contains("//go:wasmexport cabi_realloc\n"), "{glue}");
    assert!(
        glue.contains("//go:wasmexport cabi_realloc_adapter\n"),
        "{glue}"
    );
    // Only the standard library.
    for f in [api, glue] {
        for line in f
            .lines()
            .filter(|l| l.starts_with("\t\"") || l.starts_with("import \""))
        {
            let pkg = line.trim().trim_start_matches("import ").trim_matches('"');
            assert!(
                ["errors", "math", "runtime", "unsafe"].contains(&pkg),
                "imports {pkg}"
            );
        }
    }
}

#[test]
fn realloc_never_calls_the_go_allocator() {
    let files = generate(KEYSTORE, "keystore");
    let glue = file(&files, "keystore/cabi.go");
    let body = |name: &str| {
        let start = glue.find(&format!("func {name}(")).unwrap();
        let end = start + glue[start..].find("\n}\n").unwrap();
        glue[start..end].to_string()
    };
    for f in ["cabiRealloc", "cabiReallocAdapter"] {
        let b = body(f);
        for call in ["make(", "append(", "new(", "string("] {
            assert!(!b.contains(call), "{f} calls {call}:\n{b}");
        }
    }
}

#[test]
fn every_kind_has_a_go_type() {
    let files = generate(SINK, "sink");
    let api = file(&files, "sink/sink.go");
    for want in [
        "type Option[T any] struct {",
        "type Result[T, E any] struct {",
        "type Tuple2[T0, T1 any] struct {",
        "Case TypesShapeCase",
        "TypesColorRed TypesColor = iota",
        "TypesFl8B0 TypesFl8 = 1 << iota",
        "type TypesBlob struct {",
        "func (self TypesBlob) Drop() {",
        "type CountersCounterImpl interface {",
    ] {
        assert!(api.contains(want), "no `{want}` in:\n{api}");
    }
}

#[test]
fn exported_resources_are_values_behind_handles() {
    let wit = "package test:r;\ninterface counters {\n  resource counter {\n    constructor(start: u32);\n    \
               get: func() -> u32;\n    plus: func(other: borrow<counter>) -> counter;\n  }\n  \
               take: func(c: counter) -> u32;\n}\nworld w { export counters; }\n";
    let files = generate(wit, "w");
    let api = file(&files, "w/w.go");
    for want in [
        "type CountersCounterImpl interface {",
        "\tPlus(other CountersCounterImpl) CountersCounter\n",
        "func NewCountersCounter(v CountersCounterImpl) CountersCounter {",
        "func (self CountersCounter) Rep() CountersCounterImpl {",
        "\tNewCounter(start uint32) CountersCounterImpl\n",
        "\tTake(c CountersCounter) uint32\n",
    ] {
        assert!(api.contains(want), "no `{want}` in:\n{api}");
    }
    let glue = file(&files, "w/cabi.go");
    assert!(glue.contains("#[dtor]counter"), "{glue}");
}

#[test]
fn names_never_clash_in_the_package() {
    // Two interfaces named `types`, and a type named like a helper.
    let wit = "package test:n;\ninterface types { record %option { a: u32 } get: func() -> %option; }\n\
               world w {\n  import types;\n  import other: interface { record %option { b: u32 } }\n  export types;\n}\n";
    let files = generate(wit, "w");
    let api = file(&files, "w/w.go");
    assert!(api.contains("type TypesOption struct {"), "{api}");
    assert!(api.contains("type OtherOption struct {"), "{api}");
    assert!(api.contains("type ExportTypesOption struct {"), "{api}");
}

#[test]
fn package_option_names_the_folder_and_output_is_deterministic() {
    let (resolve, world) = load(KEYSTORE, "keystore");
    let opts = Opts {
        package: Some("store".into()),
    };
    let a = opts.generate(&resolve, world).unwrap();
    let b = opts.generate(&resolve, world).unwrap();
    assert_eq!(a, b);
    assert!(file(&a, "store/store.go").contains("\npackage store\n"));
}

/// Future and stream types Go spells alike (`char` and `s32` are both
/// `int32`; a 1-tuple is its element) get constructors of their own, and
/// the generic constructor refuses the shared Go type; a type Go spells
/// once keeps only the generic one.
#[test]
fn payload_types_go_spells_alike_have_their_own_constructors() {
    let files = generate(
        r#"
        package test:alike;
        interface i {
            letter: async func() -> future<char>;
            number: async func(n: future<s32>);
            pair: async func() -> stream<tuple<u64>>;
            count: async func(s: stream<u64>);
            bytes: async func(s: stream<u8>);
        }
        world w { export i; }
        "#,
        "w",
    );
    let api = file(&files, "w/w.go");
    for constructor in [
        "func NewFutureChar() (Future[rune], FutureWriter[rune]) {",
        "func NewFutureS32() (Future[int32], FutureWriter[int32]) {",
        "func NewStreamTupleU64() (Stream[uint64], StreamWriter[uint64]) {",
        "func NewStreamU64() (Stream[uint64], StreamWriter[uint64]) {",
    ] {
        assert!(api.contains(constructor), "{constructor}\n{api}");
    }
    assert!(!api.contains("NewStreamU8"), "{api}");
    let glue = file(&files, "w/cabi.go");
    assert!(
        glue.contains(
            "panic(\"w: Go spells future<char> (NewFutureChar) and future<s32> (NewFutureS32) alike"
        ),
        "{glue}"
    );
    assert!(
        glue.contains("case **cabiPayload[uint8]:\n\t\t*p = &cabiStream"),
        "{glue}"
    );
    // A stream made as one type and passed as the other is refused by name.
    assert!(
        glue.contains("\" was passed where a \" + ops.wit + \" is expected\")"),
        "{glue}"
    );
}
