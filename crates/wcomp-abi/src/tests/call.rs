//! Call sequences, core names in both manglings, and skipping what cannot
//! be planned.

use wit_parser::abi::WasmType;
use wit_parser::{WasmExport, WasmExportKind, WasmImport};

use super::*;
use crate::test_support::KEYSTORE;

fn names(steps: &[Step]) -> Vec<&'static str> {
    steps.iter().map(Step::name).collect()
}

#[test]
fn keystore_call_sequences_pinned() {
    use WasmType::{I32, Length as Len, Pointer as Ptr};
    let (resolve, world) = load(KEYSTORE, "app");
    let app = WorldPlan::new(&resolve, world).unwrap();
    let store = Some("wcomp:keystore/store@0.1.0");
    let set = func(&app, Direction::Import, store, "set");
    println!("{set}");
    assert_eq!(
        names(&set.call),
        [
            "GetArg",
            "StringLower",
            "GetArg",
            "ListLower",
            "GetArg",
            "OptionLower",
            "Area",
            "AreaAddress",
            "CallImport",
            "Load",
            "ResultLift",
            "FreeTemporaries",
            "Return"
        ]
    );
    assert_eq!(set.call[0], Step::GetArg { index: 0 });
    assert_eq!(set.call[4], Step::GetArg { index: 2 });
    assert_eq!(
        set.call[6],
        Step::Area {
            area: Area::Return,
            layout: Layout { size: 16, align: 4 }
        }
    );
    assert_eq!(
        set.call[8],
        Step::CallImport {
            params: vec![Ptr, Len, Ptr, Len, I32, I32, Ptr],
            results: vec![]
        }
    );
    assert_eq!(
        set.call[12],
        Step::Return {
            results: vec![Kind::Value]
        }
    );

    let world = resolve.select_world(&[resolve.worlds[world].package.unwrap()], Some("keystore"));
    let keystore = WorldPlan::new(&resolve, world.unwrap()).unwrap();
    let get = func(&keystore, Direction::Export, store, "get");
    println!("{get}");
    assert_eq!(
        names(&get.call),
        [
            "CoreArg",
            "CoreArg",
            "StringLift",
            "ArgLifted",
            "CallImpl",
            "Area",
            "ResultLower",
            "Store",
            "AreaAddress",
            "Return"
        ]
    );
    assert_eq!(get.call[1], Step::CoreArg { index: 1, ty: Len });
    assert_eq!(
        get.call[4],
        Step::CallImpl {
            params: 1,
            results: 1
        }
    );
    assert_eq!(
        get.call[9],
        Step::Return {
            results: vec![Kind::Core(Ptr)]
        }
    );
}

/// Seventeen parameters go through memory: the import fills an area it
/// provides, the export reads the caller's and frees it before the call.
#[test]
fn indirect_params_call_sequences() {
    let (_, _, plan) = sink();
    let funcs = Some("test:sink/funcs@0.1.0");
    let area = Step::Area {
        area: Area::Params,
        layout: Layout { size: 68, align: 4 },
    };
    let import = func(&plan, Direction::Import, funcs, "many");
    assert_eq!(import.call[0], area);
    assert_eq!(
        import.call[1..4],
        [
            Step::GetArg { index: 0 },
            Step::I32FromU32,
            Step::Store {
                offset: 0,
                ty: MemType::I32
            }
        ]
    );
    let n = import.call.len();
    assert_eq!(
        import.call[n - 5..],
        [
            Step::AreaAddress { area: Area::Params },
            Step::CallImport {
                params: vec![WasmType::Pointer],
                results: vec![WasmType::I32]
            },
            Step::U32FromI32,
            Step::FreeTemporaries {
                results: vec![Kind::Value]
            },
            Step::Return {
                results: vec![Kind::Value]
            }
        ]
    );
    let export = func(&plan, Direction::Export, funcs, "many");
    assert_eq!(export.call[0], area);
    assert_eq!(
        export.call[1..4],
        [
            Step::Load {
                offset: 0,
                ty: MemType::I32
            },
            Step::U32FromI32,
            Step::ArgLifted { index: 0 }
        ]
    );
    let n = export.call.len();
    assert_eq!(
        export.call[n - 4..],
        [
            Step::FreeArea {
                area: Area::Params,
                layout: Layout { size: 68, align: 4 }
            },
            Step::CallImpl {
                params: 17,
                results: 1
            },
            Step::I32FromU32,
            Step::Return {
                results: vec![Kind::Core(WasmType::I32)]
            }
        ]
    );
}

/// Every function's names, in both manglings, are wit-parser's; the plan's
/// own name follows `Options::mangling`.
#[test]
fn both_manglings_match_wit_parser() {
    let (resolve, world, _) = sink();
    for mangling in [Mangling::Legacy, Mangling::Standard] {
        let options = Options {
            mangling,
            ..Options::default()
        };
        let plan = WorldPlan::with_options(&resolve, world, options).unwrap();
        check_against_wit_parser_names(&resolve, &plan);
    }
}

fn check_against_wit_parser_names(resolve: &Resolve, plan: &WorldPlan) {
    for f in plan.imports.iter().chain(&plan.exports) {
        assert_eq!(&f.core_name, f.core_names.get(plan.options.mangling));
        for m in [Mangling::Legacy, Mangling::Standard] {
            let interface = f.interface.as_ref();
            let func = &f.function;
            let want = match f.direction {
                Direction::Import => {
                    let (module, field) = resolve
                        .wasm_import_name(m.wit_parser(), WasmImport::Func { interface, func });
                    CoreName::Import { module, field }
                }
                Direction::Export => CoreName::Export {
                    name: resolve.wasm_export_name(
                        m.wit_parser(),
                        WasmExport::Func {
                            interface,
                            func,
                            kind: WasmExportKind::Normal,
                        },
                    ),
                },
            };
            assert_eq!(f.core_names.get(m), &want);
            if let Some(post) = &f.post_return {
                let want = resolve.wasm_export_name(
                    m.wit_parser(),
                    WasmExport::Func {
                        interface,
                        func,
                        kind: WasmExportKind::PostReturn,
                    },
                );
                assert_eq!(post.names.get(m), &want);
                assert_eq!(&post.name, post.names.get(plan.options.mangling));
            }
        }
    }
}

#[test]
fn keystore_standard_names_pinned() {
    let (resolve, world) = load(KEYSTORE, "keystore");
    let options = Options {
        mangling: Mangling::Standard,
        ..Options::default()
    };
    let plan = WorldPlan::with_options(&resolve, world, options).unwrap();
    let get = func(
        &plan,
        Direction::Export,
        Some("wcomp:keystore/store@0.1.0"),
        "get",
    );
    assert_eq!(
        get.core_name,
        CoreName::Export {
            name: "cm32p2|wcomp:keystore/store@0.1|get".into()
        }
    );
    assert_eq!(
        get.core_names.legacy,
        CoreName::Export {
            name: "wcomp:keystore/store@0.1.0#get".into()
        }
    );
    let post = get.post_return.as_ref().unwrap();
    assert_eq!(post.name, "cm32p2|wcomp:keystore/store@0.1|get_post");
    assert_eq!(
        post.names.legacy,
        "cabi_post_wcomp:keystore/store@0.1.0#get"
    );
    let now = func(
        &plan,
        Direction::Import,
        Some("wasi:clocks/monotonic-clock@0.2.12"),
        "now",
    );
    assert_eq!(
        now.core_name,
        CoreName::Import {
            module: "cm32p2|wasi:clocks/monotonic-clock@0.2".into(),
            field: "now".into()
        }
    );
    let pollable = plan
        .resource_named(Some("wasi:io/poll@0.2.12"), "pollable")
        .unwrap();
    assert_eq!(
        pollable.drop.name,
        CoreName::Import {
            module: "cm32p2|wasi:io/poll@0.2".into(),
            field: "pollable_drop".into()
        }
    );
    assert_eq!(Mangling::Standard.realloc(), "cm32p2_realloc");
    assert_eq!(Mangling::Legacy.realloc(), "cabi_realloc");
}

/// A checker plans what it can: async functions and async-era types are
/// listed with the reason, the rest is planned.
#[test]
fn unsupported_functions_are_skipped_on_request() {
    let text = "package test:x@0.1.0;
interface api {
    fetch: async func();
    f: func(x: future<u8>);
    g: func(x: string) -> u32;
}
world w { import api; export api; }
";
    let (resolve, world) = load(text, "w");
    let err = WorldPlan::new(&resolve, world).unwrap_err();
    assert!(err.to_string().contains("`fetch`"), "{err}");
    let options = Options {
        skip_unsupported: true,
        ..Options::default()
    };
    let plan = WorldPlan::with_options(&resolve, world, options).unwrap();
    let planned: Vec<(&str, Direction)> = plan
        .imports
        .iter()
        .chain(&plan.exports)
        .map(|f| (f.function.name.as_str(), f.direction))
        .collect();
    assert_eq!(
        planned,
        [("g", Direction::Import), ("g", Direction::Export)]
    );
    let skipped: Vec<(&str, Direction, String)> = plan
        .skipped
        .iter()
        .map(|s| (s.function.name.as_str(), s.direction, s.reason.to_string()))
        .collect();
    assert_eq!(skipped.len(), 4);
    assert_eq!(skipped[0].0, "fetch");
    assert!(skipped[0].2.contains("is async"), "{}", skipped[0].2);
    assert_eq!((skipped[1].0, skipped[1].1), ("f", Direction::Import));
    assert!(skipped[1].2.contains("`future`"), "{}", skipped[1].2);
    assert_eq!(skipped[3].1, Direction::Export);
    let g = plan.function(Direction::Export, Some("test:x/api@0.1.0"), "g");
    assert!(g.is_some_and(|g| g.needs_memory && g.needs_realloc));
}
