//! `wcomp bind --lang rust` end to end: for each case of `fixtures/bind-rust`
//! (`case`: the WIT path and world; `lib.rs`: a guest using the bindings;
//! `calls`: what to call and what must come back), bind, build the guest for
//! wasm32 with `cargo xtask build-guest`, wrap it with `wcomp new` (no
//! `--wit`: the bindings embed the world) and run the calls in wasmtime.
//! Skipped (with a note) where no wasm32 route exists; CI installs one.

#[path = "common/bind_guest.rs"]
mod bind_guest;
#[path = "common/calls.rs"]
mod calls;

use std::fs;
use std::process::Command;

use bind_guest::build;
use wasmtime::Engine;
use wasmtime::component::Component;
use wcomp_tests::{text, wcomp_bin, workspace_root};

/// Runs case `name`: its component (composed with the case named by a
/// `with NAME` line, if any) answers its `calls` script in wasmtime.
fn case(name: &str) {
    let fixture = workspace_root().join("fixtures/bind-rust").join(name);
    let spec = fs::read_to_string(fixture.join("case")).unwrap();
    let Some(mut component) = build(name) else {
        return;
    };
    if let Some(dep) = spec.lines().find_map(|l| l.trim().strip_prefix("with ")) {
        let Some(dep) = build(dep.trim()) else { return };
        let composed = component.with_extension("composed.wasm");
        let out = Command::new(wcomp_bin())
            .arg("compose")
            .arg(&component)
            .arg("--with")
            .arg(&dep)
            .arg("-o")
            .arg(&composed)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "wcomp compose failed:\n{}",
            text(&out.stderr)
        );
        component = composed;
    }

    let engine = Engine::default();
    let script = fs::read_to_string(fixture.join("calls")).unwrap();
    let result = calls::Script::parse(&script).and_then(|script| {
        let component = Component::from_file(&engine, &component)
            .map_err(|e| format!("wasmtime cannot compile the component: {e:?}"))?;
        calls::run(&engine, &component, &script)
    });
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
}

#[test]
fn keystore() {
    case("keystore");
}

#[test]
fn kitchen_sink() {
    case("kitchen-sink");
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

/// Values too big for a calls script: 1 MiB of non-ASCII text and of bytes
/// go into the kitchen sink and come back intact (strings as they are,
/// bytes reversed), so realloc, copies and frees hold at size; then many
/// calls under a memory cap show that nothing leaks (every buffer an export
/// hands over is freed by its post-return, every argument by the guest).
#[test]
fn kitchen_sink_big_values() {
    use wasmtime::component::{Linker, Val};
    use wasmtime::{Store, StoreLimits, StoreLimitsBuilder};

    let Some(component) = build("kitchen-sink") else {
        return;
    };
    let engine = Engine::default();
    let component = Component::from_file(&engine, &component).unwrap();
    // 8 MiB: room for a few 1 MiB values at a time, not for a leak of them.
    let limits = StoreLimitsBuilder::new().memory_size(8 << 20).build();
    let mut store: Store<StoreLimits> = Store::new(&engine, limits);
    store.limiter(|l| l);
    let instance = Linker::new(&engine)
        .instantiate(&mut store, &component)
        .unwrap();
    let iface = instance
        .get_export_index(&mut store, None, "test:rsink/funcs@0.1.0")
        .expect("the funcs export");
    let mut call = |name: &str, arg: Val| -> Val {
        let idx = instance
            .get_export_index(&mut store, Some(&iface), name)
            .unwrap_or_else(|| panic!("no export {name}"));
        let func = instance.get_func(&mut store, idx).unwrap();
        let mut results = [Val::Bool(false)];
        func.call(&mut store, &[arg], &mut results)
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
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
    for round in 0..24 {
        match call("echo-str", Val::String(text.clone())) {
            Val::String(back) => assert!(back == text, "round {round}: the 1 MiB string changed"),
            other => panic!("echo-str returned {other:?}"),
        }
        match call("bytes", list.clone()) {
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
                    "round {round}: the 1 MiB list did not come back reversed"
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
        let Val::List(outer) = call("strings", strings()) else {
            panic!("strings returned no list");
        };
        assert_eq!(outer.len(), 2);
    }
}
