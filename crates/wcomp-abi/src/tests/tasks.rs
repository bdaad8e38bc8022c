//! The async ABI plans ([`AsyncWorldPlan`]): names pinned, every name and
//! signature compared with wit-component's dummy module for the world, and
//! a core module made of nothing but the plans' names wrapped by
//! wit-component and validated with the features wasmtime turns on.

use std::collections::BTreeMap;

use wit_parser::abi::{WasmSignature, WasmType};
use wit_parser::{LiftLowerAbi, ManglingAndAbi, Resolve, WorldId};

use super::*;
use crate::test_support::load;

const TASKS: &str = include_str!("async.wit");
const BLOBS: &str = "test:tasks/blobs@0.1.0";

fn tasks() -> (Resolve, WorldId, AsyncWorldPlan) {
    let (resolve, world) = load(TASKS, "tasks");
    let plan = AsyncWorldPlan::new(&resolve, world).expect("plannable");
    (resolve, world, plan)
}

fn function<'a>(
    plan: &'a AsyncWorldPlan,
    direction: Direction,
    name: &str,
) -> &'a AsyncFunctionPlan {
    plan.functions
        .iter()
        .find(|f| f.direction == direction && f.function.name == name)
        .unwrap_or_else(|| panic!("no async {direction:?} `{name}`"))
}

fn import(module: &str, field: &str) -> CoreName {
    CoreName::Import {
        module: module.into(),
        field: field.into(),
    }
}

fn export(name: &str) -> CoreName {
    CoreName::Export { name: name.into() }
}

#[test]
fn async_functions_are_named_and_shaped_as_the_callback_abi_says() {
    let (_, _, plan) = tasks();
    use WasmType::{I32, Length, Pointer};

    let get = function(&plan, Direction::Import, "get");
    assert_eq!(get.entry.name, import(BLOBS, "[async-lower]get"));
    // The string flat, then the return area; a status back.
    assert_eq!(get.entry.signature.params, [Pointer, Length, Pointer]);
    assert_eq!(get.entry.signature.results, [I32]);
    assert_eq!(get.params_area, None);
    assert_eq!(get.return_area, Some(Layout { size: 12, align: 4 }));

    // Five flat parameters are more than an async import passes flat.
    let wide = function(&plan, Direction::Import, "wide");
    assert_eq!(wide.entry.signature.params, [Pointer, Pointer]);
    assert_eq!(wide.params_area, Some(Layout { size: 20, align: 4 }));
    assert_eq!(
        wide.return_area,
        Some(Layout {
            size: 136,
            align: 8
        })
    );
    let set = function(&plan, Direction::Import, "set");
    assert_eq!(set.return_area, None, "no result, no return area");

    let tick = function(&plan, Direction::Import, "tick");
    assert_eq!(tick.entry.name, import("$root", "[async-lower]tick"));

    let run = function(&plan, Direction::Export, "run");
    assert_eq!(run.entry.name, export("[async-lift]run"));
    assert_eq!(run.entry.signature.results, [I32], "a callback code");
    let callback = run.callback.as_ref().expect("a callback");
    assert_eq!(callback.name, export("[callback][async-lift]run"));
    assert_eq!(callback.signature.params, [I32, I32, I32]);
    let task_return = run.task_return.as_ref().expect("task.return");
    assert_eq!(
        task_return.name,
        import("[export]$root", "[task-return]run")
    );
    assert!(task_return.signature.results.is_empty());

    let get = function(&plan, Direction::Export, "get");
    assert_eq!(get.entry.name, export(&format!("[async-lift]{BLOBS}#get")));
    assert_eq!(
        get.task_return.as_ref().map(|t| &t.name),
        Some(&import(&format!("[export]{BLOBS}"), "[task-return]get"))
    );
    // 17 flat parameters go through memory, the result of 17 flat values too.
    let many = function(&plan, Direction::Export, "many");
    assert_eq!(many.entry.signature.params, [Pointer]);
    let wide = function(&plan, Direction::Export, "wide");
    assert_eq!(
        wide.task_return.as_ref().map(|t| &t.signature.params[..]),
        Some(&[Pointer][..])
    );
    // Only `async func`s: the sync `stream-value` has no entry here.
    assert!(plan.functions.iter().all(|f| f.function.kind.is_async()));
    assert_eq!(plan.functions.len(), 2 * 6 + 2);
}

#[test]
fn futures_and_streams_are_numbered_per_function() {
    let (resolve, _, plan) = tasks();
    let payloads = |direction, name: &str| -> Vec<&PayloadPlan> {
        plan.payloads
            .iter()
            .filter(|p| p.direction == direction && p.function == name)
            .collect()
    };
    // A sync function passes a stream too.
    let value = payloads(Direction::Import, "stream-value");
    assert_eq!(value.len(), 1);
    assert_eq!(value[0].kind, PayloadKind::Stream);
    assert_eq!(value[0].element, Some(Type::U8));
    assert_eq!(value[0].element_layout, Some(Layout { size: 1, align: 1 }));
    let names: Vec<_> = value[0]
        .intrinsics
        .iter()
        .map(|(_, i)| match &i.name {
            CoreName::Import { module, field } => {
                assert_eq!(module, BLOBS);
                field.as_str()
            }
            CoreName::Export { .. } => panic!("an intrinsic is imported"),
        })
        .collect();
    assert_eq!(
        names,
        [
            "[stream-new-0]stream-value",
            "[async-lower][stream-read-0]stream-value",
            "[async-lower][stream-write-0]stream-value",
            "[stream-cancel-read-0]stream-value",
            "[stream-cancel-write-0]stream-value",
            "[stream-drop-readable-0]stream-value",
            "[stream-drop-writable-0]stream-value",
        ]
    );
    let exported = payloads(Direction::Export, "stream-value");
    assert_eq!(
        exported[0].intrinsic(PayloadOp::New).name,
        import(&format!("[export]{BLOBS}"), "[stream-new-0]stream-value")
    );
    use WasmType::{I32, I64, Length, Pointer};
    assert_eq!(value[0].intrinsic(PayloadOp::New).signature.results, [I64]);
    assert_eq!(
        value[0].intrinsic(PayloadOp::Read).signature.params,
        [I32, Pointer, Length]
    );

    // Unit payloads: `future` and `stream` without a type.
    let pump = payloads(Direction::Import, "pump");
    let shape: Vec<_> = pump.iter().map(|p| (p.index, p.kind, p.element)).collect();
    assert_eq!(
        shape,
        [
            (0, PayloadKind::Stream, Some(Type::U8)),
            (1, PayloadKind::Future, None),
            (2, PayloadKind::Stream, None),
        ]
    );
    assert_eq!(
        pump[1].intrinsic(PayloadOp::Read).signature.params,
        [I32, Pointer]
    );

    // The inner future before the outer one; a type used twice is planned
    // once, numbered by its first place (as wit-parser names it).
    let nested = payloads(Direction::Import, "nested");
    let func = resolve.interfaces.iter().find_map(|(_, i)| {
        (i.name.as_deref() == Some("blobs")).then(|| i.functions["nested"].clone())
    });
    let all = func.expect("nested").find_futures_and_streams(&resolve);
    let expected: Vec<usize> = (0..all.len())
        .filter(|&i| !all[..i].contains(&all[i]))
        .collect();
    assert_eq!(nested.iter().map(|p| p.index).collect::<Vec<_>>(), expected);
    assert_eq!(nested[0].element, Some(Type::U32));
    assert!(matches!(nested[1].element, Some(Type::Id(_))));
    assert_eq!(
        nested[1].intrinsic(PayloadOp::DropReadable).name,
        import(BLOBS, "[future-drop-readable-1]nested")
    );
}

#[test]
fn a_world_without_async_needs_no_task_intrinsics() {
    let (resolve, world) = load(crate::test_support::KEYSTORE, "keystore");
    let plan = AsyncWorldPlan::new(&resolve, world).expect("plannable");
    assert_eq!(plan, AsyncWorldPlan::default());
    let (_, _, tasks) = tasks();
    assert_eq!(tasks.task.len(), TaskIntrinsic::ALL.len());
}

#[test]
fn callback_codes_pack_as_wasmtime_reads_them() {
    assert_eq!(codes::callback::wait(3), 0x32);
    assert_eq!(codes::callback::wait(3) & 0xf, codes::callback::WAIT);
    assert_eq!(codes::copy::MAX_COUNT, 0x0fff_ffff);
}

/// Core functions by name, with their flat types as core value types.
type Signatures = BTreeMap<CoreName, (Vec<wasmparser::ValType>, Vec<wasmparser::ValType>)>;

fn core_types(sig: &WasmSignature) -> (Vec<wasmparser::ValType>, Vec<wasmparser::ValType>) {
    let core = |t: &WasmType| match t {
        WasmType::I32 | WasmType::Pointer | WasmType::Length => wasmparser::ValType::I32,
        WasmType::I64 | WasmType::PointerOrI64 => wasmparser::ValType::I64,
        WasmType::F32 => wasmparser::ValType::F32,
        WasmType::F64 => wasmparser::ValType::F64,
    };
    (
        sig.params.iter().map(core).collect(),
        sig.results.iter().map(core).collect(),
    )
}

/// Every intrinsic, entry and callback of `plan`, with its signature.
fn planned(plan: &AsyncWorldPlan) -> Vec<&Intrinsic> {
    let mut out: Vec<&Intrinsic> = plan.task.iter().map(|(_, i)| i).collect();
    for f in &plan.functions {
        out.push(&f.entry);
        out.extend(f.callback.iter().chain(&f.task_return));
    }
    for p in &plan.payloads {
        out.extend(p.intrinsics.iter().map(|(_, i)| i));
    }
    out
}

/// The functions a core module imports and exports, by name.
fn signatures_of(module: &[u8]) -> Signatures {
    let mut types = Vec::new();
    let mut funcs = Vec::new();
    let mut out = Signatures::new();
    for payload in wasmparser::Parser::new(0).parse_all(module) {
        match payload.expect("a valid module") {
            wasmparser::Payload::TypeSection(r) => {
                for ty in r.into_iter_err_on_gc_types() {
                    let f = ty.expect("a func type");
                    types.push((f.params().to_vec(), f.results().to_vec()));
                }
            }
            wasmparser::Payload::ImportSection(r) => {
                for import in r.into_imports() {
                    let import = import.expect("an import");
                    if let wasmparser::TypeRef::Func(t) = import.ty {
                        funcs.push(t);
                        out.insert(
                            CoreName::Import {
                                module: import.module.into(),
                                field: import.name.into(),
                            },
                            types[t as usize].clone(),
                        );
                    }
                }
            }
            wasmparser::Payload::FunctionSection(r) => {
                funcs.extend(r.into_iter().map(|t| t.expect("a function")));
            }
            wasmparser::Payload::ExportSection(r) => {
                for export in r {
                    let export = export.expect("an export");
                    if export.kind == wasmparser::ExternalKind::Func {
                        let t = funcs[export.index as usize];
                        out.insert(
                            CoreName::Export {
                                name: export.name.into(),
                            },
                            types[t as usize].clone(),
                        );
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// wit-component's dummy module for the world names every async function,
/// `task.return`, callback, future and stream intrinsic and task intrinsic
/// it can use. The plans name the same with the same types, but for what
/// they leave out on purpose (`forward`, which wasmtime 48 cannot read, and
/// `task.return` of a sync export) and the futures and streams of sync
/// functions (which the dummy module does not list, and the wrap test
/// below shows wit-component accepts).
#[test]
fn plans_agree_with_wit_components_dummy_module() {
    let (resolve, world, plan) = tasks();
    let dummy = signatures_of(&wit_component::dummy_module(
        &resolve,
        world,
        ManglingAndAbi::Legacy(LiftLowerAbi::AsyncCallback),
    ));
    let ours: BTreeMap<&CoreName, &Intrinsic> =
        planned(&plan).into_iter().map(|i| (&i.name, i)).collect();
    let sync_functions: Vec<&str> = world_functions(&resolve, world)
        .iter()
        .filter(|f| !f.function.kind.is_async())
        .map(|f| f.function.name.as_str())
        .collect();
    for (name, intrinsic) in &ours {
        match dummy.get(name) {
            Some(types) => assert_eq!(&core_types(&intrinsic.signature), types, "{name:?}"),
            None => {
                let CoreName::Import { field, .. } = name else {
                    panic!("export {name:?} is not wit-component's");
                };
                assert!(
                    sync_functions
                        .iter()
                        .any(|f| field.ends_with(&format!("]{f}"))),
                    "{name:?} is not wit-component's"
                );
            }
        }
    }
    let mut compared = 0;
    for name in dummy.keys() {
        let in_scope = match name {
            CoreName::Import { field, .. } => {
                let sync_task_return = field
                    .strip_prefix("[task-return]")
                    .is_some_and(|f| sync_functions.contains(&f));
                field.starts_with('[')
                    && !field.starts_with("[resource-")
                    && !field.contains("-forward-")
                    && !sync_task_return
            }
            CoreName::Export { name } => name.starts_with('['),
        };
        if in_scope {
            assert!(ours.contains_key(name), "the plans miss {name:?}");
            compared += 1;
        }
    }
    assert!(compared > 60, "only {compared} names compared");
}

/// A core module of the plans' names alone (bodies `unreachable`) wraps
/// into a component that validates with wasmparser's default features,
/// the async ones wasmtime turns on by default and no more.
#[test]
fn a_module_of_the_planned_names_wraps_into_a_valid_component() {
    let (resolve, world, plan) = tasks();
    let valtype = |t: &WasmType| match t {
        WasmType::I32 | WasmType::Pointer | WasmType::Length => "i32",
        WasmType::I64 | WasmType::PointerOrI64 => "i64",
        WasmType::F32 => "f32",
        WasmType::F64 => "f64",
    };
    let func_type = |sig: &WasmSignature| {
        let mut s = String::from("(func");
        for (what, types) in [("param", &sig.params), ("result", &sig.results)] {
            if !types.is_empty() {
                let types: Vec<_> = types.iter().map(valtype).collect();
                s.push_str(&format!(" ({what} {})", types.join(" ")));
            }
        }
        s
    };
    let mut wat = String::from("(module\n");
    let mut exports = String::new();
    for i in planned(&plan) {
        match &i.name {
            CoreName::Import { module, field } => wat.push_str(&format!(
                "(import {module:?} {field:?} {}))\n",
                func_type(&i.signature)
            )),
            CoreName::Export { name } => exports.push_str(&format!(
                "{} unreachable)\n",
                func_type(&i.signature).replacen("(func", &format!("(func (export {name:?})"), 1)
            )),
        }
    }
    // The world's one sync export, through the sync plan.
    let sync = WorldPlan::new(&resolve, world).map(|_| ()).err();
    assert!(
        sync.is_some(),
        "the sync plans still refuse async functions"
    );
    for f in world_functions(&resolve, world) {
        if f.direction == Direction::Export && !f.function.kind.is_async() {
            let sig = resolve.wasm_signature(wit_parser::abi::AbiVariant::GuestExport, f.function);
            let name = resolve.wasm_export_name(
                Mangling::Legacy.wit_parser(),
                wit_parser::WasmExport::Func {
                    interface: f.interface,
                    func: f.function,
                    kind: wit_parser::WasmExportKind::Normal,
                },
            );
            exports.push_str(&format!(
                "{} unreachable)\n",
                func_type(&sig).replacen("(func", &format!("(func (export {name:?})"), 1)
            ));
        }
    }
    wat.push_str(&exports);
    wat.push_str(
        "(memory (export \"memory\") 1)\n\
         (func (export \"cabi_realloc\") (param i32 i32 i32 i32) (result i32) unreachable))",
    );
    let mut module = wat::parse_str(&wat).expect("the plans' names make a module");
    wit_component::embed_component_metadata(
        &mut module,
        &resolve,
        world,
        wit_component::StringEncoding::UTF8,
        false,
    )
    .expect("metadata");
    let component = wit_component::ComponentEncoder::default()
        .validate(true)
        .module(&module)
        .and_then(|e| e.encode())
        .unwrap_or_else(|e| panic!("wit-component refuses the plans: {e:?}\n{wat}"));
    wasmparser::Validator::new()
        .validate_all(&component)
        .expect("valid with the default features");
}
