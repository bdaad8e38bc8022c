//! Resource intrinsics: names and flat signatures pinned for sink.wit, and
//! checked against wit-parser's own mangling and the functions' handle
//! steps.

use wit_parser::abi::WasmType::I32;
use wit_parser::{ResourceIntrinsic, WasmExport, WasmImport};

use super::*;
use crate::test_support::KEYSTORE;

fn import(module: &str, field: &str) -> CoreName {
    CoreName::Import {
        module: module.into(),
        field: field.into(),
    }
}

#[test]
fn sink_resources_pinned() {
    let (resolve, _, plan) = sink();
    let names: Vec<(&str, Direction)> = plan
        .resources
        .iter()
        .map(|r| (r.name.as_str(), r.direction))
        .collect();
    // `types` is imported (through `use`) before `counters` is exported.
    assert_eq!(
        names,
        [("blob", Direction::Import), ("counter", Direction::Export)]
    );

    let blob = plan
        .resource_named(Some("test:sink/types@0.1.0"), "blob")
        .unwrap();
    assert_eq!(blob.resource, resource(&resolve, "types", "blob"));
    assert_eq!(plan.resource(blob.resource), Some(blob));
    assert_eq!(blob.owner, "test:sink/types@0.1.0");
    assert_eq!(
        blob.drop.name,
        import("test:sink/types@0.1.0", "[resource-drop]blob")
    );
    assert_eq!(
        (
            &blob.drop.signature.params[..],
            &blob.drop.signature.results[..]
        ),
        (&[I32][..], &[][..])
    );
    assert!(blob.new.is_none() && blob.rep.is_none() && blob.dtor.is_none());

    let counter = plan
        .resource_named(Some("test:sink/counters@0.1.0"), "counter")
        .unwrap();
    assert_eq!(counter.resource, resource(&resolve, "counters", "counter"));
    assert_eq!(plan.resource(counter.resource), Some(counter));
    let module = "[export]test:sink/counters@0.1.0";
    let pinned = [
        (
            &counter.drop,
            import(module, "[resource-drop]counter"),
            &[][..],
        ),
        (
            counter.new.as_ref().unwrap(),
            import(module, "[resource-new]counter"),
            &[I32][..],
        ),
        (
            counter.rep.as_ref().unwrap(),
            import(module, "[resource-rep]counter"),
            &[I32][..],
        ),
        (
            counter.dtor.as_ref().unwrap(),
            CoreName::Export {
                name: "test:sink/counters@0.1.0#[dtor]counter".into(),
            },
            &[][..],
        ),
    ];
    for (func, name, results) in pinned {
        assert_eq!(func.name, name);
        assert_eq!(func.signature.params, [I32], "{name:?}");
        assert_eq!(func.signature.results, results, "{name:?}");
        assert!(!func.signature.indirect_params && !func.signature.retptr);
    }
    assert_eq!(counter.core_funcs().count(), 4);
    assert!(
        plan.resource_named(Some("test:sink/funcs@0.1.0"), "blob")
            .is_none()
    );

    let shown = counter.to_string();
    println!("{blob}{shown}");
    assert!(shown.starts_with("Export resource `counter` of `test:sink/counters@0.1.0`\n"));
    assert!(
        shown.contains("  core export \"test:sink/counters@0.1.0#[dtor]counter\" [I32] -> []\n")
    );
}

/// Every name, in both manglings, is what wit-parser gives, and `name` is
/// the one of the plan's mangling.
fn check_against_wit_parser(resolve: &Resolve, plan: &WorldPlan) {
    for r in &plan.resources {
        for func in r.core_funcs() {
            assert_eq!(&func.name, func.names.get(plan.options.mangling));
        }
        for m in [Mangling::Legacy, Mangling::Standard] {
            let import = |intrinsic| {
                let (module, field) = resolve.wasm_import_name(
                    m.wit_parser(),
                    WasmImport::ResourceIntrinsic {
                        interface: r.interface.as_ref(),
                        resource: r.resource,
                        intrinsic,
                    },
                );
                CoreName::Import { module, field }
            };
            let name = |f: &CoreFunc| f.names.get(m).clone();
            match r.direction {
                Direction::Import => {
                    assert_eq!(name(&r.drop), import(ResourceIntrinsic::ImportedDrop));
                    assert!(r.new.is_none() && r.rep.is_none() && r.dtor.is_none());
                }
                Direction::Export => {
                    assert_eq!(name(&r.drop), import(ResourceIntrinsic::ExportedDrop));
                    let new = r.new.as_ref().unwrap();
                    assert_eq!(name(new), import(ResourceIntrinsic::ExportedNew));
                    let rep = r.rep.as_ref().unwrap();
                    assert_eq!(name(rep), import(ResourceIntrinsic::ExportedRep));
                    let dtor = resolve.wasm_export_name(
                        m.wit_parser(),
                        WasmExport::ResourceDtor {
                            interface: r.interface.as_ref().unwrap(),
                            resource: r.resource,
                        },
                    );
                    let dtor_name = CoreName::Export { name: dtor };
                    assert_eq!(name(r.dtor.as_ref().unwrap()), dtor_name);
                }
            }
        }
    }
}

/// Every resource of every handle step, with whether it is exported.
fn handles(steps: &[Step], out: &mut Vec<(TypeId, bool)>) {
    for s in steps {
        let blocks: Vec<&Block> = match s {
            Step::HandleLower {
                resource, exported, ..
            }
            | Step::HandleLift {
                resource, exported, ..
            } => {
                out.push((*resource, *exported));
                Vec::new()
            }
            _ => s.blocks(),
        };
        for b in blocks {
            handles(&b.steps, out);
        }
    }
}

/// Every handle step's resource has a plan, exported exactly when the
/// step says so.
fn check_handles_planned(plan: &WorldPlan) -> usize {
    let mut found = Vec::new();
    for f in plan.imports.iter().chain(&plan.exports) {
        for v in f.params.iter().chain(&f.result) {
            handles(&v.steps, &mut found);
        }
    }
    for (resource, exported) in &found {
        let r = plan
            .resource(*resource)
            .unwrap_or_else(|| panic!("no plan for {resource:?}"));
        assert_eq!(r.direction == Direction::Export, *exported, "{}", r.name);
    }
    found.len()
}

#[test]
fn sink_handles_have_resource_plans() {
    let (resolve, _, plan) = sink();
    assert!(check_handles_planned(&plan) >= 10);
    check_against_wit_parser(&resolve, &plan);
    let ids: std::collections::HashSet<TypeId> =
        plan.resources.iter().map(|r| r.resource).collect();
    assert_eq!(ids.len(), plan.resources.len());
}

#[test]
fn keystore_resources() {
    let (resolve, world) = load(KEYSTORE, "app");
    let plan = WorldPlan::new(&resolve, world).unwrap();
    check_handles_planned(&plan);
    check_against_wit_parser(&resolve, &plan);
}

/// A world-level resource is dropped through `$root`; an interface both
/// imported and exported is two interfaces with a resource each: the
/// host's (imported, dropped through the interface's module) and the
/// guest's (exported, with `new`, `rep` and a destructor), and each side's
/// handle steps name its own.
#[test]
fn world_level_and_import_export_same_interface() {
    let text = "package test:r@0.1.0;
interface api {
    resource thing { constructor(); }
    make: func() -> thing;
}
world w {
    resource local;
    import get: func() -> local;
    import api;
    export api;
}
";
    let (resolve, world) = load(text, "w");
    let plan = WorldPlan::new(&resolve, world).unwrap();
    // `get`, and `make` and the constructor in both directions.
    assert_eq!(check_handles_planned(&plan), 5);
    check_against_wit_parser(plan.resolve(), &plan);
    let local = plan.resource_named(None, "local").unwrap();
    assert_eq!(local.direction, Direction::Import);
    assert_eq!(local.owner, "world w");
    assert_eq!(local.drop.name, import("$root", "[resource-drop]local"));
    let thing: Vec<_> = plan
        .resources
        .iter()
        .filter(|r| r.name == "thing")
        .collect();
    assert_eq!(thing.len(), 2);
    assert_ne!(thing[0].resource, thing[1].resource);
    assert_eq!(thing[0].direction, Direction::Import);
    assert_eq!(
        thing[0].drop.name,
        import("test:r/api@0.1.0", "[resource-drop]thing")
    );
    assert_eq!(thing[1].direction, Direction::Export);
    assert_eq!(
        thing[1].drop.name,
        import("[export]test:r/api@0.1.0", "[resource-drop]thing")
    );
    assert!(thing[1].dtor.is_some());
    assert_eq!(plan.resources.len(), 3);
    // Each side's functions return that side's resource.
    for (direction, r) in [
        (Direction::Import, thing[0].resource),
        (Direction::Export, thing[1].resource),
    ] {
        let make = plan
            .function(direction, Some("test:r/api@0.1.0"), "make")
            .unwrap();
        let mut found = Vec::new();
        handles(&make.result.as_ref().unwrap().steps, &mut found);
        assert_eq!(found, [(r, direction == Direction::Export)]);
    }
}

/// One interface imported under two names is two interfaces, each with
/// its own types, functions under its own name, and resource.
#[test]
fn one_interface_under_two_names() {
    let text = "package test:r@0.1.0;
interface api {
    resource thing;
    record pair { a: u32, b: string }
    make: func(p: pair) -> thing;
}
world w {
    import api;
    import other: api;
    export again: api;
}
";
    let (resolve, world) = load(text, "w");
    let plan = WorldPlan::new(&resolve, world).unwrap();
    let nominal = plan.resolve();
    check_handles_planned(&plan);
    check_against_wit_parser(nominal, &plan);
    let owners: Vec<(&str, Direction)> = plan
        .resources
        .iter()
        .map(|r| (r.owner.as_str(), r.direction))
        .collect();
    assert_eq!(
        owners,
        [
            ("test:r/api@0.1.0", Direction::Import),
            ("other", Direction::Import),
            ("again", Direction::Export),
        ]
    );
    let ids: std::collections::HashSet<TypeId> =
        plan.resources.iter().map(|r| r.resource).collect();
    assert_eq!(ids.len(), 3);
    // The record parameter of each `make` is its own interface's type.
    let mut pairs = std::collections::HashSet::new();
    for (direction, interface) in [
        (Direction::Import, "test:r/api@0.1.0"),
        (Direction::Import, "other"),
        (Direction::Export, "again"),
    ] {
        let make = plan.function(direction, Some(interface), "make").unwrap();
        let Type::Id(pair) = make.function.params[0].ty else {
            panic!("a record")
        };
        pairs.insert(pair);
        let other = plan.resource_named(Some(interface), "thing").unwrap();
        let mut found = Vec::new();
        handles(&make.result.as_ref().unwrap().steps, &mut found);
        assert_eq!(found, [(other.resource, direction == Direction::Export)]);
    }
    assert_eq!(pairs.len(), 3);
}

/// A world that uses each interface once is planned on the same ids as the
/// resolve it was given.
#[test]
fn nominal_copy_keeps_ids_of_single_use_worlds() {
    let (resolve, world) = load(KEYSTORE, "keystore");
    let plan = WorldPlan::new(&resolve, world).unwrap();
    assert_eq!(plan.resolve().types.len(), resolve.types.len());
    assert_eq!(plan.resolve().interfaces.len(), resolve.interfaces.len());
}
