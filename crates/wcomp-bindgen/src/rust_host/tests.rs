//! The host backend on its own: what it refuses and the shape of what it
//! writes. That the output compiles against wasmtime is the `tests`
//! crate's check (it generates host bindings for every world of the
//! repository from its `build.rs`); the exact text is in the golden files
//! of `fixtures/bind-host`.

use super::*;
use wcomp_abi::test_support::{KEYSTORE, SINK, load};

fn generate(text: &str, world: &str) -> Result<String, BindError> {
    let (resolve, world) = load(text, world);
    let files = Opts::default().generate(&resolve, world)?;
    assert_eq!(files.len(), 1);
    let (name, src) = files.iter().next().unwrap();
    assert!(name.ends_with("_host.rs"), "{name}");
    Ok(src.to_string())
}

#[test]
fn keystore_has_a_world_struct_and_a_host_trait_per_import() {
    let src = generate(KEYSTORE, "keystore").unwrap();
    assert!(src.contains("for wasmtime 48"), "{src}");
    assert!(src.contains("pub struct Keystore {"), "{src}");
    assert!(src.contains("pub mod monotonic_clock {"), "{src}");
    assert!(
        src.contains("fn now(&mut self) -> wasmtime::Result<Instant>;"),
        "{src}"
    );
    assert!(
        src.contains("linker.instance(\"wasi:clocks/monotonic-clock@0.2."),
        "{src}"
    );
}

#[test]
fn every_named_type_has_a_layout_guard() {
    let src = generate(SINK, "sink").unwrap();
    let derived = src.matches("#[component(record)]").count()
        + src.matches("#[component(variant)]").count()
        + src.matches("#[component(enum)]").count()
        + src.matches("wasmtime::component::flags!").count();
    assert!(derived > 0, "{src}");
    assert_eq!(src.matches("::SIZE32 ==").count(), derived, "{src}");
    assert_eq!(src.matches("::ALIGN32 ==").count(), derived, "{src}");
}

#[test]
fn output_is_deterministic() {
    assert_eq!(
        generate(SINK, "sink").unwrap(),
        generate(SINK, "sink").unwrap()
    );
}

#[test]
fn async_functions_are_called_and_implemented_in_the_event_loop() {
    let wit = "package t:a;\ninterface i { f: async func(x: string) -> u32; g: func(); }\n\
               world w { import i; export i; }";
    let src = generate(wit, "w").unwrap();
    // Exports: every call is async in such a world, and the async one can
    // also be one of several calls in flight.
    assert!(src.contains("pub async fn call_f(&self, mut store: impl wasmtime::AsContextMut<Data: Send>, x: &str)"), "{src}");
    assert!(
        src.contains("callee.call_async(&mut store, (x,)).await?"),
        "{src}"
    );
    assert!(src.contains("pub async fn call_g("), "{src}");
    assert!(src.contains("pub async fn call_f_concurrent<T: Send + 'static>(&self, accessor: &wasmtime::component::Accessor<T>, x: String)"), "{src}");
    // Imports: the async one is a concurrent host function given the call's accessor.
    assert!(src.contains("inst.func_wrap_concurrent("), "{src}");
    assert!(src.contains("fn f<T: 'static>(accessor: &wasmtime::component::Accessor<T, wasmtime::component::HasSelf<Self>>, x: String)"), "{src}");
    assert!(
        src.contains("fn g(&mut self) -> wasmtime::Result<()>;"),
        "{src}"
    );
    assert!(
        src.contains("pub async fn instantiate_async<T: Send + 'static>("),
        "{src}"
    );
}

#[test]
fn streams_and_futures_are_wasmtime_readers() {
    let wit = "package t:a;\ninterface i {\n  record r { s: stream<u8> }\n  \
               f: func(s: stream<u8>, r: r) -> future<result<string, u32>>;\n  \
               g: async func() -> stream;\n}\nworld w { import i; export i; }";
    let src = generate(wit, "w").unwrap();
    for spelled in [
        "s: wasmtime::component::StreamReader<u8>",
        "wasmtime::component::FutureReader<Result<String, u32>>",
        "wasmtime::component::StreamReader<()>",
    ] {
        assert!(src.contains(spelled), "no `{spelled}`:\n{src}");
    }
    // A record holding a reader has one owner: no `Clone`.
    let r = src.find("pub struct R {").expect("record `r`");
    let derives = &src[src[..r].rfind("#[component(record)]").unwrap()..r];
    assert!(derives.contains("#[derive(Debug)]"), "{derives}");
}

#[test]
fn error_context_is_refused_naming_the_function() {
    let wit = "package t:a;\ninterface i { f: func(e: error-context); }\nworld w { import i; }";
    let e = generate(wit, "w").unwrap_err();
    assert!(!e.is_internal());
    assert!(e.to_string().contains("`f`"), "{e}");
}
