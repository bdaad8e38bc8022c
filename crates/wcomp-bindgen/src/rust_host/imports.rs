//! What the host implements: per imported interface a `Host` trait (and a
//! `HostR` trait per resource, with `drop`) and `add_to_linker`, which
//! registers each function with `func_wrap`; at the root, the world's own
//! imported functions (`WorldImports`) and the world's `add_to_linker`
//! taking them all.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use wit_parser::{Function, TypeId};

use super::types::tuple;
use super::{Gen, Item, func_name, param_name};
use crate::abi::Direction;
use crate::rust::docs;
use crate::rust::names::camel;

/// The trait holding an item's free functions: `Host` for an interface,
/// `{World}Imports` for the world's own.
fn trait_name(g: &Gen, item: &Item) -> String {
    match item.key {
        Some(_) => "Host".into(),
        None => format!("{}Imports", camel(&g.resolve.worlds[g.world].name)),
    }
}

/// The trait method of import `f`, in module `path`. An `async func` is
/// an associated function given the call's `Accessor`, through which it
/// reaches the implementation (`accessor.with(|mut a| a.get().field)`)
/// between awaits, while other calls run.
fn method(g: &Gen, f: &Function, path: &[String], out: &mut String) {
    docs(&f.docs, out);
    let asynchronous = f.kind.is_async();
    let mut params = vec![match asynchronous {
        true => "accessor: &wasmtime::component::Accessor<T, wasmtime::component::HasSelf<Self>>"
            .to_string(),
        false => "&mut self".to_string(),
    }];
    for p in &f.params {
        let (name, ty) = (&p.name, &p.ty);
        params.push(format!("{}: {}", param_name(name), g.ty(ty, path)));
    }
    let ret = f
        .result
        .as_ref()
        .map_or("()".to_string(), |t| g.ty(t, path));
    if asynchronous {
        let _ = writeln!(
            out,
            "fn {}<T: 'static>({}) -> impl core::future::Future<Output = wasmtime::Result<{ret}>> + Send\n\
             where\nSelf: 'static;",
            func_name(f),
            params.join(", ")
        );
        return;
    }
    let _ = writeln!(
        out,
        "fn {}({}) -> wasmtime::Result<{ret}>;",
        func_name(f),
        params.join(", ")
    );
}

/// The resources of an item the host implements, in definition order.
fn resources(g: &Gen, item: &Item) -> Vec<TypeId> {
    g.plan
        .resources
        .iter()
        .filter(|r| r.direction == Direction::Import && r.interface.as_ref() == item.key)
        .map(|r| r.resource)
        .collect()
}

/// The traits and `add_to_linker` of an imported interface (or, at the
/// root, of the world's own imported functions).
pub(super) fn interface(g: &Gen, item: &Item, out: &mut String) {
    let path = &item.module;
    let main = trait_name(g, item);
    let mut traits: BTreeMap<TypeId, String> = BTreeMap::new();
    let mut free = String::new();
    let resources = resources(g, item);
    for r in &resources {
        let name = g.type_path(*r, path);
        traits.insert(
            *r,
            format!(
                "/// Drops a `{}` handle the guest owned; the host frees what it stands for.\n\
                 fn drop(&mut self, rep: wasmtime::component::Resource<{name}>) -> wasmtime::Result<()>;\n",
                g.resolve.types[*r].name.as_deref().unwrap_or("")
            ),
        );
    }
    for f in &item.functions {
        match Gen::owner_resource(f) {
            Some(r) => method(g, f, path, traits.entry(r).or_default()),
            None => method(g, f, path, &mut free),
        }
    }
    let supers: Vec<String> = resources
        .iter()
        .map(|r| format!("Host{}", g.camel_of(*r)))
        .collect();
    for r in &resources {
        let _ = writeln!(
            out,
            "/// What the host implements for resource `{}`.\npub trait Host{} {{\n{}}}",
            g.resolve.types[*r].name.as_deref().unwrap_or(""),
            g.camel_of(*r),
            traits[r]
        );
    }
    let what = match item.key {
        Some(key) => format!("interface `{}`", g.resolve.name_world_key(key)),
        None => format!("world `{}`'s own imports", g.resolve.worlds[g.world].name),
    };
    let bound = if supers.is_empty() {
        String::new()
    } else {
        format!(": {}", supers.join(" + "))
    };
    let _ = writeln!(
        out,
        "/// What the host implements for {what}. An `Err` traps the calling guest.\n\
         pub trait {main}{bound} {{\n{free}}}"
    );
    linker(g, item, &main, &resources, out);
}

/// `add_to_linker`: every function (and resource destructor) of the item,
/// implemented by the `U` that `host_getter` finds in the store's data.
fn linker(g: &Gen, item: &Item, main: &str, resources: &[TypeId], out: &mut String) {
    let path = &item.module;
    let empty = resources.is_empty() && item.functions.is_empty();
    let (fn_name, instance) = match item.key {
        // Types only: the instance still has to exist for the component's import.
        Some(key) if empty => (
            "add_to_linker".to_string(),
            format!(
                "let _ = host_getter;\nlinker.instance({:?})?;",
                g.resolve.name_world_key(key)
            ),
        ),
        Some(key) => (
            "add_to_linker".to_string(),
            format!(
                "let mut inst = linker.instance({:?})?;",
                g.resolve.name_world_key(key)
            ),
        ),
        None => (
            "add_imports_to_linker".to_string(),
            "let mut inst = linker.root();".to_string(),
        ),
    };
    let _ = writeln!(
        out,
        "/// Defines every function of {} in `linker`, each calling the `{main}` \
         implementation `host_getter` finds in the store's data.\n\
         pub fn {fn_name}<T: 'static, U: {main} + 'static>(\n\
         linker: &mut wasmtime::component::Linker<T>,\nhost_getter: fn(&mut T) -> &mut U,\n\
         ) -> wasmtime::Result<()> {{\n{instance}",
        match item.key {
            Some(key) => format!("`{}`", g.resolve.name_world_key(key)),
            None => "the world's own imports".into(),
        }
    );
    for r in resources {
        let name = g.camel_of(*r);
        let wit = g.resolve.types[*r].name.as_deref().unwrap_or("");
        let _ = writeln!(
            out,
            "inst.resource(\n{wit:?},\nwasmtime::component::ResourceType::host::<{name}>(),\n\
             move |mut store, rep| Host{name}::drop(host_getter(store.data_mut()), \
             wasmtime::component::Resource::new_own(rep)),\n)?;"
        );
    }
    for f in &item.functions {
        let args: Vec<String> = (0..f.params.len()).map(|i| format!("arg{i}")).collect();
        let types = tuple(f.params.iter().map(|p| g.ty(&p.ty, path)));
        let tr = match Gen::owner_resource(f) {
            Some(r) => format!("Host{}", g.camel_of(r)),
            None => main.to_string(),
        };
        let mut call = vec!["host".to_string()];
        call.extend(args.iter().cloned());
        let (ret, ok) = match f.result {
            Some(_) => ("let ret = ", "Ok((ret,))"),
            None => ("", "Ok(())"),
        };
        if f.kind.is_async() {
            call[0] = "&accessor".to_string();
            let _ = writeln!(
                out,
                "inst.func_wrap_concurrent(\n{:?},\n\
                 move |accessor: &wasmtime::component::Accessor<T>, {}: {types}| {{\n\
                 Box::pin(async move {{\n\
                 let accessor = accessor.with_getter::<wasmtime::component::HasSelf<U>>(host_getter);\n\
                 {ret}<U as {tr}>::{}::<T>({}).await?;\n{ok}\n}})\n}},\n)?;",
                f.name,
                tuple(args.into_iter()),
                func_name(f),
                call.join(", ")
            );
            continue;
        }
        let _ = writeln!(
            out,
            "inst.func_wrap(\n{:?},\n\
             move |mut caller: wasmtime::StoreContextMut<'_, T>, {}: {types}| {{\n\
             let host = host_getter(caller.data_mut());\n\
             {ret}{tr}::{}({})?;\n{ok}\n}},\n)?;",
            f.name,
            tuple(args.into_iter()),
            func_name(f),
            call.join(", ")
        );
    }
    out.push_str("Ok(())\n}\n");
}

/// At the root: `add_to_linker` for the whole world, taking one `U` that
/// implements every imported interface's trait.
pub(super) fn world(g: &Gen, out: &mut String) {
    let items = g.items(Direction::Import);
    if items.is_empty() {
        return;
    }
    let mut bounds = Vec::new();
    let mut calls = String::new();
    for item in &items {
        let (bound, call) = match item.key {
            Some(_) => (
                format!("{}::Host", item.module.join("::")),
                format!("{}::add_to_linker", item.module.join("::")),
            ),
            None => (trait_name(g, item), "add_imports_to_linker".to_string()),
        };
        bounds.push(bound);
        let _ = writeln!(calls, "{call}(linker, host_getter)?;");
    }
    let world = camel(&g.resolve.worlds[g.world].name);
    let _ = writeln!(
        out,
        "impl {world} {{\n\
         /// Defines every import of world `{}` in `linker`, implemented by the \
         `U` that `host_getter` finds in the store's data.\n\
         pub fn add_to_linker<T: 'static, U>(\n\
         linker: &mut wasmtime::component::Linker<T>,\nhost_getter: fn(&mut T) -> &mut U,\n\
         ) -> wasmtime::Result<()>\nwhere\nU: {} + 'static,\n{{\n{calls}Ok(())\n}}\n}}",
        g.resolve.worlds[g.world].name,
        bounds.join(" + "),
    );
}
