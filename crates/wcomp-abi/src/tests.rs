//! The plans checked against wit-parser's own answers (layouts, flat
//! signatures, names in both manglings), pinned for the keystore and the
//! kitchen-sink world, every plan run through an abstract machine that
//! checks what the step docs promise, and through the driver.

use wit_parser::{Resolve, Type, TypeDefKind, TypeId, WorldId};

use super::*;

mod async_calls;
mod call;
mod drive;
mod layout;
mod machine;
mod plans;
mod resources;
mod tasks;

use crate::test_support::{SINK, load};

fn sink() -> (Resolve, WorldId, WorldPlan) {
    let (mut resolve, world) = load(SINK, "sink");
    widen_flags(&mut resolve);
    let plan = WorldPlan::new(&resolve, world).expect("plannable");
    // The plan's ids are those of its nominal copy: `funcs` is both
    // imported and exported.
    (plan.resolve().clone(), world, plan)
}

/// wit-parser 0.263 refuses more than 32 flags in WIT text (the spec caps
/// them there now), but the ABI still defines wider flags: widen `fl33` and
/// `fl64` in the resolved types.
fn widen_flags(resolve: &mut Resolve) {
    for (_, ty) in resolve.types.iter_mut() {
        let want = match ty.name.as_deref() {
            Some("fl33") => 33,
            Some("fl64") => 64,
            _ => continue,
        };
        if let TypeDefKind::Flags(f) = &mut ty.kind {
            while f.flags.len() < want {
                let mut flag = f.flags[0].clone();
                flag.name = format!("b{}", f.flags.len());
                f.flags.push(flag);
            }
        }
    }
}

/// Type `name` of the test's interface named `iface` (WASI's own `types`
/// interfaces are passed over).
fn type_named(resolve: &Resolve, iface: &str, name: &str) -> Type {
    let wasi = |i: &wit_parser::Interface| {
        i.package
            .is_some_and(|p| resolve.packages[p].name.namespace == "wasi")
    };
    let (_, i) = resolve
        .interfaces
        .iter()
        .find(|(_, i)| i.name.as_deref() == Some(iface) && !wasi(i))
        .expect("interface");
    Type::Id(i.types[name])
}

/// The plan of function `name` of `interface` (`name_world_key` form, or
/// `None` at world level) in `direction`.
fn func<'a>(
    plan: &'a WorldPlan,
    direction: Direction,
    interface: Option<&str>,
    name: &str,
) -> &'a FunctionPlan {
    plan.function(direction, interface, name)
        .unwrap_or_else(|| panic!("no {direction:?} `{name}` of {interface:?}"))
}

fn resource(resolve: &Resolve, iface: &str, name: &str) -> TypeId {
    let Type::Id(id) = type_named(resolve, iface, name) else {
        panic!()
    };
    id
}
