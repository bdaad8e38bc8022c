//! The shape `wcomp compose` deduplicates into, built by hand: a core
//! module defined once at the outer level, and an inner component that
//! imports a core module and is instantiated (twice) with it passed by
//! `with`. Every consumer of composed artifacts must accept this shape:
//! wasmparser with all features, `wasm-tools validate --features all` and
//! wasmtime, which must also run it.

use wasmtime::Store;
use wasmtime::component::{Component, Linker};
use wcomp_tests::host::shared_engine;
use wcomp_tests::wasm_tools_validate;

const SHAPE: &str = r#"
(component
  (core module $m
    (global $g (mut i32) (i32.const 40))
    (func (export "next") (result i32)
      (global.set $g (i32.add (global.get $g) (i32.const 1)))
      (global.get $g)))
  (component $inner
    (core type $mt (module (export "next" (func (result i32)))))
    (import "shared" (core module $m (type $mt)))
    (core instance $i (instantiate $m))
    (func (export "next") (result u32) (canon lift (core func $i "next"))))
  (instance $a (instantiate $inner (with "shared" (core module $m))))
  (instance $b (instantiate $inner (with "shared" (core module $m))))
  (export "a-next" (func $a "next"))
  (export "b-next" (func $b "next")))
"#;

#[test]
fn a_core_module_passed_to_inner_components_validates_and_runs() {
    let bytes = wat::parse_str(SHAPE).unwrap();
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(&bytes)
        .expect("wasmparser validates the shape");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("shape.wasm");
    std::fs::write(&file, &bytes).unwrap();
    if let Some(error) = wasm_tools_validate(&file) {
        panic!("wasm-tools validate rejects the shape:\n{error}");
    }

    let engine = shared_engine();
    let component = Component::new(engine, &bytes).expect("wasmtime compiles the shape");
    let mut store = Store::new(engine, ());
    let instance = Linker::new(engine)
        .instantiate(&mut store, &component)
        .expect("wasmtime instantiates the shape");
    let mut call = |name: &str| -> u32 {
        let f = instance
            .get_typed_func::<(), (u32,)>(&mut store, name)
            .unwrap();
        let (v,) = f.call(&mut store, ()).unwrap();
        v
    };
    // One module, two instances of it: each has its own global.
    assert_eq!(call("a-next"), 41);
    assert_eq!(call("a-next"), 42);
    assert_eq!(call("b-next"), 41);
}
