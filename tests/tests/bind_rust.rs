//! Guest bindings end to end, one folder per case in `fixtures/bind-rust`:
//! `case` (the WIT path and world, and `with NAME` to compose with another
//! case), `calls` (what to call and what must come back) and one guest file
//! per language (`guest.rs`, `guest.c`, `guest.go`). For every language
//! present the runner binds the world (`wcomp bind --lang L`), keeps the
//! bindings as golden files beside the guest (`expected.rs`, `expected.h`
//! and `expected.c`, `expected.go.golden` and `expected-cabi.go.golden`;
//! `BLESS=1` rewrites them), builds the guest for wasm32 (Go: gofmt- and
//! vet-checked first), wraps it with `wcomp new` (no `--wit` for Rust and C,
//! whose bindings embed the world; Go cannot, so it is given the WIT) and
//! runs the calls in wasmtime. Adding a language is adding its
//! entry in `LANGUAGES` and one guest file per case. Builds are skipped
//! (with a note) where no wasm32 route exists; CI installs one.

#[path = "common/bind_guest.rs"]
mod bind_guest;
#[path = "common/calls.rs"]
mod calls;

use std::fs;
use std::process::Command;

use bind_guest::{CASES, bind, build_in, fixture, languages_of};
use wasmtime::Engine;
use wasmtime::component::Component;
use wcomp_tests::{expect_file, text, wcomp_bin, workspace_root};

/// Runs case `name` in every language present: its component (composed
/// with the case named by a `with NAME` line, if any, in each language that
/// case has: guests of any language plug into one another) answers its
/// `calls` script in wasmtime.
fn case(name: &str) {
    let spec = fs::read_to_string(fixture(name).join("case")).unwrap();
    let languages = languages_of(name);
    assert!(!languages.is_empty(), "{name}: no guest file");
    let dep = spec
        .lines()
        .find_map(|l| l.trim().strip_prefix("with "))
        .map(str::trim);
    for language in languages {
        let Some(component) = build_in(name, language) else {
            return;
        };
        let Some(dep) = dep else {
            run(name, language.lang, &component);
            continue;
        };
        let dep_languages = languages_of(dep);
        assert!(
            !dep_languages.is_empty(),
            "{name}: the case `{dep}` has no guest"
        );
        for dep_language in dep_languages {
            let Some(dep_component) = build_in(dep, dep_language) else {
                return;
            };
            let composed = component.with_file_name(format!(
                "{name}.{}.with-{}.composed.wasm",
                language.lang, dep_language.lang
            ));
            let out = Command::new(wcomp_bin())
                .arg("compose")
                .arg(&component)
                .arg("--with")
                .arg(&dep_component)
                .arg("-o")
                .arg(&composed)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "wcomp compose failed:\n{}",
                text(&out.stderr)
            );
            let what = format!("{} with the {} {dep}", language.lang, dep_language.lang);
            run(name, &what, &composed);
        }
    }
}

/// Runs case `name`'s `calls` script against `component` (`what` says which
/// languages it was built from).
fn run(name: &str, what: &str, component: &std::path::Path) {
    let engine = engine();
    let script = fs::read_to_string(fixture(name).join("calls")).unwrap();
    let result = calls::Script::parse(&script).and_then(|script| {
        let component = Component::from_file(&engine, component)
            .map_err(|e| format!("wasmtime cannot compile the component: {e:?}"))?;
        calls::run(&engine, &component, &script)
    });
    if let Err(e) = result {
        panic!("{name} ({what}): {e}");
    }
}

/// wasmtime with the component-model features the cases use (`map`).
fn engine() -> Engine {
    let mut config = wasmtime::Config::new();
    config.wasm_component_model_map(true);
    Engine::new(&config).unwrap()
}

/// Each case's bindings, in every language present, are the golden file
/// beside its guest: a change to generated code shows up in review.
#[test]
fn golden_bindings() {
    let mut problems = Vec::new();
    for name in CASES {
        for language in languages_of(name) {
            let bindings = bind(name, language, "bind-golden");
            for (golden, text) in bindings.golden(language) {
                let mut differs = Vec::new();
                expect_file(&fixture(name), golden, text, &mut differs).unwrap();
                problems.extend(differs.into_iter().map(|d| format!("{name}: {d}")));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A case folder without a test would never run.
#[test]
fn every_case_folder_is_run() {
    let mut folders: Vec<String> = fs::read_dir(workspace_root().join("fixtures/bind-rust"))
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    folders.sort();
    assert_eq!(
        folders, CASES,
        "CASES must list every folder of fixtures/bind-rust"
    );
}

#[test]
fn async_calls() {
    case("async-calls");
}

#[test]
fn stream_app() {
    case("stream-app");
}

#[test]
fn stream_app_go() {
    case("stream-app-go");
}

#[test]
fn stream_store() {
    case("stream-store");
}

#[test]
fn keystore() {
    case("keystore");
}

#[test]
fn keywords() {
    case("keywords");
}

#[test]
fn kitchen_sink() {
    case("kitchen-sink");
}

/// Maps in every position, crossing between two guests.
#[test]
fn maps() {
    case("maps");
}

#[test]
fn maps_provider() {
    case("maps-provider");
}

#[test]
fn app() {
    case("app");
}

#[test]
fn sink() {
    case("sink");
}

#[test]
fn resources() {
    case("resources");
}

#[test]
fn resource_user() {
    case("resource-user");
}

#[test]
fn nominal_provider() {
    case("nominal-provider");
}

/// An interface the world both imports and exports, the import provided
/// by `nominal-provider`.
#[test]
fn nominal() {
    case("nominal");
}

/// Values too big for a calls script: 1 MiB of non-ASCII text and of bytes
/// go into the kitchen sink and come back intact (strings as they are,
/// bytes reversed), so realloc, copies and frees hold at size; then many
/// calls under a memory cap, and the guest's own count of bytes allocated
/// and not freed (`outstanding-bytes`, the same before and after the
/// batch), show that nothing leaks: every buffer an export hands over is
/// freed by its post-return, every argument by the guest.
#[test]
fn kitchen_sink_big_values() {
    for language in languages_of("kitchen-sink") {
        big_values(language);
    }
}

fn big_values(language: &'static bind_guest::Language) {
    use wasmtime::component::{Linker, Val};
    use wasmtime::{Store, StoreLimits, StoreLimitsBuilder};
    use wasmtime_wasi::{WasiCtxView, WasiView};
    use wcomp_tests::host::WasiHost;

    /// WASI (a Go guest's runtime imports it) and the memory cap.
    struct Data {
        host: WasiHost,
        limits: StoreLimits,
    }
    impl WasiView for Data {
        fn ctx(&mut self) -> WasiCtxView<'_> {
            self.host.ctx()
        }
    }

    let lang = language.lang;
    let Some(component) = build_in("kitchen-sink", language) else {
        return;
    };
    let engine = Engine::default();
    let component = Component::from_file(&engine, &component).unwrap();
    // Room for a few 1 MiB values at a time, not for a leak of them: 8 MiB,
    // and for Go, whose runtime and collected heap take more, 48 MiB (24
    // rounds leaking 2 MiB each would pass it). Go's outstanding bytes are
    // its heap after a collection, which moves a little between batches.
    let (cap, slack) = match lang {
        "go" => (48 << 20, 1 << 20),
        _ => (8 << 20, 0),
    };
    let limits = StoreLimitsBuilder::new().memory_size(cap).build();
    let host = WasiHost::new(wasmtime_wasi::WasiCtx::builder().inherit_stderr().build());
    let mut store: Store<Data> = Store::new(&engine, Data { host, limits });
    store.limiter(|d| &mut d.limits);
    let mut linker = Linker::new(&engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).unwrap();
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let iface = instance
        .get_export_index(&mut store, None, "test:rsink/funcs@0.1.0")
        .expect("the funcs export");
    let outstanding = instance
        .get_typed_func::<(), (i64,)>(&mut store, "outstanding-bytes")
        .expect("the outstanding-bytes export");
    let outstanding = move |store: &mut Store<Data>| {
        let (n,) = outstanding.call(&mut *store, ()).unwrap();
        n
    };
    let call = |store: &mut Store<Data>, name: &str, arg: Val| -> Val {
        let idx = instance
            .get_export_index(&mut *store, Some(&iface), name)
            .unwrap_or_else(|| panic!("no export {name}"));
        let func = instance.get_func(&mut *store, idx).unwrap();
        let mut results = [Val::Bool(false)];
        func.call(&mut *store, &[arg], &mut results)
            .unwrap_or_else(|e| panic!("{name} ({lang}): {e:?}"));
        results[0].clone()
    };

    // 1 MiB of 1- to 4-byte UTF-8 sequences.
    let unit = "aé✓🦀";
    let text = unit.repeat((1 << 20) / unit.len());
    assert!(text.len() >= (1 << 20) - unit.len());
    let bytes: Vec<u8> = (0..1u32 << 20).map(|i| (i * 7 % 251) as u8).collect();
    let mut reversed = bytes.clone();
    reversed.reverse();
    let list = Val::List(bytes.iter().map(|b| Val::U8(*b)).collect());
    let mut before = 0;
    for round in 0..24 {
        if round == 1 {
            // Lazily made state (the allocator's own, say) exists by now.
            before = outstanding(&mut store);
        }
        match call(&mut store, "echo-str", Val::String(text.clone())) {
            Val::String(back) => assert!(
                back == text,
                "{lang}, round {round}: the 1 MiB string changed"
            ),
            other => panic!("echo-str returned {other:?}"),
        }
        match call(&mut store, "bytes", list.clone()) {
            Val::List(back) => {
                let back: Vec<u8> = back
                    .iter()
                    .map(|v| match v {
                        Val::U8(b) => *b,
                        other => panic!("not a byte: {other:?}"),
                    })
                    .collect();
                assert!(
                    back == reversed,
                    "{lang}, round {round}: the 1 MiB list did not come back reversed"
                );
            }
            other => panic!("bytes returned {other:?}"),
        }
    }
    // Nested lists of strings, both ways, many times.
    let strings = || {
        Val::List(
            ["a", "bc", "", "déjà vu"]
                .map(|s| Val::String(s.into()))
                .to_vec(),
        )
    };
    for _ in 0..20_000 {
        let Val::List(outer) = call(&mut store, "strings", strings()) else {
            panic!("strings returned no list");
        };
        assert_eq!(outer.len(), 2);
    }
    let after = outstanding(&mut store);
    assert!(
        after - before <= slack,
        "{lang}: the guest holds {} bytes more after the batch than before it",
        after - before
    );
}

/// The app world's guest with a host store that takes and gives 1 MiB
/// values: each direction a guest's bindings have — an export's argument
/// (`handle`'s command), an import's argument (`set`'s value), an import's
/// result (`get`'s value, which the host writes through the guest's
/// `cabi_realloc` during the import: Go's must not enter its allocator
/// there) and an export's result (the answer) — then values past Go's
/// initial receive buffer (4 MiB), which it has grown to by then.
#[test]
fn app_big_values() {
    use std::sync::{Arc, Mutex};
    use wasmtime::Store;
    use wasmtime::component::{Linker, Val};
    use wcomp_tests::host::WasiHost;

    for language in languages_of("app") {
        let lang = language.lang;
        let Some(component) = build_in("app", language) else {
            return;
        };
        let engine = Engine::default();
        let component = Component::from_file(&engine, &component).unwrap();
        let mut linker: Linker<WasiHost> = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).unwrap();
        // What the host's store holds: the last value set.
        let held: Arc<Mutex<Vec<u8>>> = Arc::default();
        let mut store_api = linker.instance("wcomp:keystore/store@0.1.0").unwrap();
        let set_held = held.clone();
        store_api
            .func_new("set", move |_, _, args, results| {
                let Val::List(bytes) = &args[1] else {
                    panic!("set: no list");
                };
                let bytes = bytes.iter().map(|v| match v {
                    Val::U8(b) => *b,
                    other => panic!("not a byte: {other:?}"),
                });
                *set_held.lock().unwrap() = bytes.collect();
                results[0] = Val::Result(Ok(None));
                Ok(())
            })
            .unwrap();
        let get_held = held.clone();
        store_api
            .func_new("get", move |_, _, _, results| {
                let bytes = get_held
                    .lock()
                    .unwrap()
                    .iter()
                    .map(|b| Val::U8(*b))
                    .collect();
                results[0] = Val::Result(Ok(Some(Box::new(Val::List(bytes)))));
                Ok(())
            })
            .unwrap();
        store_api
            .func_new("delete", |_, _, _, results| {
                results[0] = Val::Result(Ok(None));
                Ok(())
            })
            .unwrap();
        let host = WasiHost::new(wasmtime_wasi::WasiCtx::builder().inherit_stderr().build());
        let mut store = Store::new(&engine, host);
        // A value lifted to `Val`s costs wasmtime's hostcall fuel per `Val`,
        // not per byte: 5 MiB of `Val::U8` is past the default 128 MiB.
        store.set_hostcall_fuel(1 << 31);
        let instance = linker.instantiate(&mut store, &component).unwrap();
        let iface = instance
            .get_export_index(&mut store, None, "wcomp:keystore/handler@0.1.0")
            .unwrap();
        let handle = instance
            .get_export_index(&mut store, Some(&iface), "handle")
            .unwrap();
        let handle = instance
            .get_typed_func::<(String,), (String,)>(&mut store, &handle)
            .unwrap();
        let mut call = |command: String| -> String {
            let (answer,) = handle
                .call(&mut store, (command,))
                .unwrap_or_else(|e| panic!("{lang}: handle trapped: {e:?}"));
            answer
        };
        for size in [1 << 20, 1 << 20, 3 << 20, 5 << 20] {
            let value: String = (0..size)
                .map(|i| char::from(b'a' + (i % 26) as u8))
                .collect();
            assert_eq!(call(format!("set k {value}")), "ok", "{lang}, {size} B");
            assert!(
                *held.lock().unwrap() == value.as_bytes(),
                "{lang}: the host got another {size} B value"
            );
            assert!(
                call("get k".into()) == value,
                "{lang}: the {size} B value did not come back"
            );
        }
    }
}
