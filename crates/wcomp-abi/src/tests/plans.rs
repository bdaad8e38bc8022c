//! Plans pinned for the keystore and the kitchen-sink world.

use wit_parser::Type;
use wit_parser::abi::{AbiVariant, WasmType};

use super::*;
use crate::test_support::KEYSTORE;

#[test]
fn keystore_signatures_pinned() {
    use WasmType::{I32, Length as Len, Pointer as Ptr};
    let (resolve, world) = load(KEYSTORE, "app");
    let app = WorldPlan::new(&resolve, world).unwrap();
    let world = resolve.select_world(&[resolve.worlds[world].package.unwrap()], Some("keystore"));
    let keystore = WorldPlan::new(&resolve, world.unwrap()).unwrap();
    let store = Some("wcomp:keystore/store@0.1.0");
    let import = |name| func(&app, Direction::Import, store, name);
    let export = |name| func(&keystore, Direction::Export, store, name);

    let set = import("set");
    assert_eq!(set.signature.params, [Ptr, Len, Ptr, Len, I32, I32, Ptr]);
    assert!(set.signature.results.is_empty());
    assert!(set.retptr() && !set.indirect_params());
    assert_eq!(set.return_area, Some(Layout { size: 16, align: 4 }));
    assert_eq!(
        set.core_name,
        CoreName::Import {
            module: "wcomp:keystore/store@0.1.0".into(),
            field: "set".into()
        }
    );
    // `result<_, error>` can carry an `invalid-key(string)` back.
    assert!(set.needs_realloc);
    assert_eq!(set.result.as_ref().unwrap().flat, [I32, I32, Ptr, Len]);

    let set = export("set");
    assert_eq!(set.signature.params, [Ptr, Len, Ptr, Len, I32, I32]);
    assert_eq!(set.signature.results, [Ptr]);
    assert!(set.retptr() && !set.indirect_params() && set.needs_realloc);
    assert_eq!(
        set.core_name,
        CoreName::Export {
            name: "wcomp:keystore/store@0.1.0#set".into()
        }
    );
    let post = set.post_return.as_ref().unwrap();
    assert_eq!(post.name, "cabi_post_wcomp:keystore/store@0.1.0#set");

    let get = import("get");
    assert_eq!(get.signature.params, [Ptr, Len, Ptr]);
    assert_eq!(get.return_area, Some(Layout { size: 16, align: 4 }));
    let get = export("get");
    assert_eq!(get.signature.params, [Ptr, Len]);
    assert_eq!(get.signature.results, [Ptr]);
    // ok's (ptr, len) joined with err's (tag, ptr, len).
    assert_eq!(get.result.as_ref().unwrap().flat, [I32, Ptr, Ptr, Len]);

    let delete = import("delete");
    assert_eq!(delete.signature.params, [Ptr, Len, Ptr]);
    assert!(delete.needs_realloc);
    let delete = export("delete");
    assert_eq!(delete.signature.params, [Ptr, Len]);
    assert_eq!(delete.signature.results, [Ptr]);
    assert!(delete.post_return.is_some());

    // The app's own export takes a string and returns one.
    let handle = func(
        &app,
        Direction::Export,
        Some("wcomp:keystore/handler@0.1.0"),
        "handle",
    );
    assert_eq!(handle.signature.params, [Ptr, Len]);
    assert_eq!(handle.signature.results, [Ptr]);
    assert_eq!(handle.return_area, Some(Layout { size: 8, align: 4 }));
    assert_eq!(
        handle.post_return.as_ref().unwrap().steps,
        [
            Step::Area {
                area: Area::Return,
                layout: Layout { size: 8, align: 4 }
            },
            Step::FreeString { offset: 0 }
        ]
    );
    assert!(app.needs_realloc() && keystore.needs_realloc());
}

#[test]
fn keystore_set_steps_pinned() {
    let (resolve, world) = load(KEYSTORE, "app");
    let app = WorldPlan::new(&resolve, world).unwrap();
    let set = func(
        &app,
        Direction::Import,
        Some("wcomp:keystore/store@0.1.0"),
        "set",
    );
    assert_eq!(set.params[0].steps, [Step::StringLower { realloc: false }]);
    assert_eq!(
        set.params[1].steps,
        [Step::ListLower {
            element: Type::U8,
            layout: Layout { size: 1, align: 1 },
            store: Block {
                params: vec![Kind::Value],
                results: vec![],
                steps: vec![
                    Step::I32FromU8,
                    Step::Store {
                        offset: 0,
                        ty: MemType::U8
                    }
                ],
            },
            realloc: false,
        }]
    );
    let Step::OptionLower { none, some, .. } = &set.params[2].steps[0] else {
        panic!("{:?}", set.params[2].steps)
    };
    assert_eq!(none.steps, [Step::Zeros(vec![WasmType::I32])]);
    assert_eq!(some.steps, [Step::I32FromU32]);
    // The result is read back from the return area.
    let r = &set.result.as_ref().unwrap().steps;
    assert_eq!(
        r[0],
        Step::Load {
            offset: 0,
            ty: MemType::U8
        }
    );
    let Step::ResultLift {
        joined, ok, err, ..
    } = &r[1]
    else {
        panic!("{r:?}")
    };
    assert!(joined.is_empty() && ok.steps.is_empty());
    assert_eq!(
        err.steps[0],
        Step::Load {
            offset: 4,
            ty: MemType::U8
        }
    );
    let Step::VariantLift { cases, .. } = &err.steps[1] else {
        panic!("{:?}", err.steps)
    };
    assert_eq!(
        cases[1].steps,
        [
            Step::Load {
                offset: 8,
                ty: MemType::Pointer
            },
            Step::Load {
                offset: 12,
                ty: MemType::Length
            },
            Step::StringLift
        ]
    );
    println!("{set}");
    let world = resolve.select_world(&[resolve.worlds[world].package.unwrap()], Some("keystore"));
    let keystore = WorldPlan::new(&resolve, world.unwrap()).unwrap();
    let set = func(
        &keystore,
        Direction::Export,
        Some("wcomp:keystore/store@0.1.0"),
        "set",
    );
    println!("{set}");
    assert_eq!(
        set.params[1].steps[0],
        Step::ListLift {
            element: Type::U8,
            layout: Layout { size: 1, align: 1 },
            load: Block {
                params: vec![],
                results: vec![Kind::Value],
                steps: vec![
                    Step::Load {
                        offset: 0,
                        ty: MemType::U8
                    },
                    Step::U8FromI32
                ],
            },
        }
    );
}

#[test]
fn indirect_params() {
    let (_, _, plan) = sink();
    for dir in [Direction::Import, Direction::Export] {
        let f = func(&plan, dir, Some("test:sink/funcs@0.1.0"), "many");
        assert!(f.indirect_params());
        assert_eq!(f.signature.params, [WasmType::Pointer]);
        assert_eq!(f.params_area, Some(Layout { size: 68, align: 4 }));
        assert_eq!(f.params[16].place, Place::Memory { offset: 64 });
        // The host allocates an export's parameter area.
        assert_eq!(f.needs_realloc, dir == Direction::Export);
    }
}

#[test]
fn variant_joins_cast_and_pad() {
    let (resolve, _, plan) = sink();
    let f = func(
        &plan,
        Direction::Import,
        Some("test:sink/funcs@0.1.0"),
        "var",
    );
    let Step::VariantLower { cases, .. } = &f.params[0].steps[0] else {
        panic!()
    };
    use WasmType::{F32, I32, I64, Length, Pointer, PointerOrI64};
    // empty: all padding; circle(f32): f32 -> i64 bits, then a length.
    assert_eq!(cases[0].steps, [Step::Zeros(vec![PointerOrI64, Length])]);
    assert_eq!(
        cases[1].steps[1..],
        [
            Step::Casts(vec![Cast {
                from: F32,
                to: PointerOrI64
            }]),
            Step::Zeros(vec![Length])
        ]
    );
    // rect(tuple<u64, f32>): the f32 travels in the length slot as i32 bits.
    assert_eq!(
        cases[2].steps.last(),
        Some(&Step::Casts(vec![
            Cast {
                from: I64,
                to: PointerOrI64
            },
            Cast {
                from: F32,
                to: Length
            }
        ]))
    );
    let _ = (I32, Pointer);
    // Every list keeps its element steps; what a backend may copy as bytes
    // is its own answer, from facts like these.
    let Step::ListLower { element, store, .. } = &cases[4].steps[0] else {
        panic!("{:?}", cases[4].steps)
    };
    assert_eq!(plain_data(&resolve, element), PlainData::Numbers);
    assert!(matches!(store.steps[0], Step::RecordLower { .. }));
    let words = func(
        &plan,
        Direction::Export,
        Some("test:sink/funcs@0.1.0"),
        "words",
    );
    let Step::ListLift { element, load, .. } = &words.params[0].steps[0] else {
        panic!()
    };
    assert_eq!(plain_data(&resolve, element), PlainData::Number);
    assert_eq!(
        load.steps,
        [
            Step::Load {
                offset: 0,
                ty: MemType::I32
            },
            Step::U32FromI32
        ]
    );
    assert!(matches!(
        words.result.as_ref().unwrap().steps[0],
        Step::ListLower { realloc: true, .. }
    ));
    let strings = type_named(&resolve, "types", "error");
    assert_eq!(plain_data(&resolve, &strings), PlainData::No);
    assert_eq!(plain_data(&resolve, &Type::Char), PlainData::No);
}

#[test]
fn flags_steps() {
    let (_, _, plan) = sink();
    let f = func(
        &plan,
        Direction::Export,
        Some("test:sink/funcs@0.1.0"),
        "get-fl33",
    );
    // 33 flags: two i32 words, returned through memory.
    assert!(f.retptr());
    let steps = &f.result.as_ref().unwrap().steps;
    assert!(matches!(
        steps[0],
        Step::FlagsLower {
            count: 33,
            words: 2,
            ..
        }
    ));
    assert_eq!(
        steps[1..],
        [
            Step::Store {
                offset: 4,
                ty: MemType::I32
            },
            Step::Store {
                offset: 0,
                ty: MemType::I32
            }
        ]
    );
}

#[test]
fn resources_and_world_functions() {
    let (resolve, _, plan) = sink();
    let counter = resource(&resolve, "counters", "counter");
    let bump = func(
        &plan,
        Direction::Export,
        Some("test:sink/counters@0.1.0"),
        "[method]counter.bump",
    );
    assert_eq!(bump.signature.params, [WasmType::Pointer, WasmType::I32]);
    assert_eq!(
        bump.params[0].steps,
        [Step::HandleLift {
            resource: counter,
            own: false,
            exported: true
        }]
    );
    let take = func(
        &plan,
        Direction::Export,
        Some("test:sink/counters@0.1.0"),
        "[static]counter.take",
    );
    assert!(matches!(
        take.params[0].steps[0],
        Step::HandleLift {
            own: true,
            exported: true,
            ..
        }
    ));
    let ctor = func(
        &plan,
        Direction::Export,
        Some("test:sink/counters@0.1.0"),
        "[constructor]counter",
    );
    assert!(matches!(
        ctor.result.as_ref().unwrap().steps[0],
        Step::HandleLower {
            own: true,
            exported: true,
            ..
        }
    ));
    // Imported resource, used through `use`.
    let own = func(
        &plan,
        Direction::Import,
        Some("test:sink/funcs@0.1.0"),
        "own-blob",
    );
    let blob = resource(&resolve, "types", "blob");
    assert_eq!(
        own.params[0].steps,
        [Step::HandleLower {
            resource: blob,
            own: true,
            exported: false
        }]
    );
    // World-level functions.
    let top = func(&plan, Direction::Import, None, "top");
    assert_eq!(
        top.core_name,
        CoreName::Import {
            module: "$root".into(),
            field: "top".into()
        }
    );
    assert!(top.needs_realloc && top.retptr());
    let run = func(&plan, Direction::Export, None, "run");
    assert_eq!(run.core_name, CoreName::Export { name: "run".into() });
    assert_eq!(run.post_return.as_ref().unwrap().name, "cabi_post_run");
    assert!(matches!(
        run.post_return.as_ref().unwrap().steps[..],
        [
            Step::Area {
                area: Area::Return,
                ..
            },
            Step::FreeVariant { offset: 0, .. }
        ]
    ));
    assert_eq!(run.owner, "world sink");
}

#[test]
fn wit_parser_flat_signatures_for_every_kind() {
    let (resolve, _, plan) = sink();
    use WasmType::*;
    let cases: &[(&str, &[WasmType], &[WasmType])] = &[
        (
            "prims",
            &[I32, I32, I32, I32, I32, I32, I32, I64, I64, F32, F64, I32],
            &[I32],
        ),
        ("echo-b", &[I32], &[I32]),
        ("echo-i64", &[I64], &[I64]),
        ("echo-floats", &[F32], &[F64]),
        ("echo-str", &[Pointer, Length], &[Pointer]),
        ("opt", &[I32, I32], &[Pointer]),
        ("res-none", &[I32], &[I32]),
        ("res-ok", &[I32, I64], &[Pointer]),
        ("tup", &[I32, Pointer, Length, F64], &[Pointer]),
        ("rec", &[I32, I32, I32, I32, I32, I32], &[Pointer]),
        ("en", &[I32], &[I32]),
        ("fl", &[I32, I32, I32, I32, I32, I32, I32], &[Pointer]),
        ("own-blob", &[I32], &[I32]),
        ("nothing", &[], &[]),
    ];
    for (name, params, results) in cases {
        let f = func(
            &plan,
            Direction::Export,
            Some("test:sink/funcs@0.1.0"),
            name,
        );
        let sig = resolve.wasm_signature(AbiVariant::GuestExport, &f.function);
        assert_eq!(
            (&sig.params[..], &sig.results[..]),
            (*params, *results),
            "{name}"
        );
        assert_eq!(f.signature, sig);
    }
}

#[test]
fn unsupported_features_are_named() {
    let cases = [
        (
            "fetch: async func();",
            "function `fetch` of `test:x/api@0.1.0` is async; this backend does not bind async functions yet",
        ),
        (
            "f: func(x: future<u8>);",
            "function `f` of `test:x/api@0.1.0` uses `future` (in parameter `x`)",
        ),
        (
            "f: func() -> option<stream<u8>>;",
            "function `f` of `test:x/api@0.1.0` uses `stream` (in the result)",
        ),
        (
            "f: func(e: list<error-context>);",
            "uses `error-context` (in parameter `e`)",
        ),
        // A type no function uses is still refused: a backend spells it.
        (
            "type later = future<u8>; f: func();",
            "type `later` of `test:x/api@0.1.0` uses `future`, which this backend does not bind yet",
        ),
        (
            "record r { e: error-context } f: func();",
            "type `r` of `test:x/api@0.1.0` uses `error-context`",
        ),
    ];
    for (func, message) in cases {
        let text = format!(
            "package test:x@0.1.0;\ninterface api {{ {func} }}\nworld w {{ export api; }}\n"
        );
        let (resolve, world) = load(&text, "w");
        let err = WorldPlan::new(&resolve, world).unwrap_err();
        assert!(err.to_string().contains(message), "{err}");
    }
}
