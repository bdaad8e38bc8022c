//! What the host calls: the world struct (instantiation, the world's own
//! exports, an accessor per exported interface) and per exported interface
//! a `Guest` struct with one typed method per function, plus a `GuestR`
//! accessor per exported resource.
//!
//! Each export is found and type-checked once, when the struct is made
//! (`_rt::func`); a call then builds its `TypedFunc` unchecked from the
//! stored `Func`, as wasmtime's `bindgen!` does.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use wit_parser::{Function, TypeId};

use super::types::tuple;
use super::{Gen, Item, func_name, param_name};
use crate::abi::Direction;
use crate::rust::docs;
use crate::rust::names::{camel, snake};

/// The field holding export `f`'s `Func`.
fn field(g: &Gen, f: &Function) -> String {
    match Gen::owner_resource(f) {
        Some(r) => format!(
            "{}_{}",
            snake(g.resolve.types[r].name.as_deref().unwrap_or("resource")),
            func_name(f)
        ),
        None => snake(&f.name),
    }
}

/// `(P, R)`: the parameter and result tuples of export `f`'s `TypedFunc`.
fn signature(g: &Gen, f: &Function, path: &[String]) -> (String, String) {
    let params = tuple(f.params.iter().map(|p| g.lent_ty(&p.ty, path)));
    let results = tuple(f.result.iter().map(|t| g.ty(t, path)));
    (params, results)
}

/// `field: _rt::func::<P, R>(&mut store, instance, parent, "name")?,`
fn lookup(g: &Gen, f: &Function, path: &[String], parent: &str, out: &mut String) {
    let (params, results) = signature(g, f, path);
    let _ = writeln!(
        out,
        "{}: {}_rt::func::<{params}, {results}>(&mut store, instance, {parent}, {:?})?,",
        field(g, f),
        g.rel(path, &[]),
        f.name
    );
}

/// The method calling export `f` through field `funcs.field`.
fn call(g: &Gen, f: &Function, path: &[String], funcs: &str, out: &mut String) {
    docs(&f.docs, out);
    let (ptypes, rtypes) = signature(g, f, path);
    // An async export runs in wasmtime's event loop, which needs a store
    // whose data may move between threads; in a world with async
    // functions every export is called that way (a store that holds
    // concurrent host functions takes no other calls).
    let asynchronous = f.kind.is_async() || g.plan.has_async_calls();
    let store = match asynchronous {
        true => "mut store: impl wasmtime::AsContextMut<Data: Send>",
        false => "mut store: impl wasmtime::AsContextMut",
    };
    let mut params = vec!["&self".to_string(), store.to_string()];
    let mut args = Vec::new();
    for p in &f.params {
        let (name, ty) = (&p.name, &p.ty);
        let name = param_name(name);
        params.push(format!("{name}: {}", g.lent_ty(ty, path)));
        args.push(name);
    }
    let ret = f
        .result
        .as_ref()
        .map_or("()".to_string(), |t| g.ty(t, path));
    let name = match f.kind {
        wit_parser::FunctionKind::Constructor(_) => "call_constructor".to_string(),
        // `call_loop`, not `call_r#loop`: the prefix makes any keyword a
        // plain identifier.
        _ => format!("call_{}", func_name(f).trim_start_matches("r#")),
    };
    let (bind, value) = match f.result {
        Some(_) => ("let (ret,) = ", "Ok(ret)"),
        None => ("", "Ok(())"),
    };
    let (asyncness, call) = match asynchronous {
        true => ("async ", "call_async"),
        false => ("", "call"),
    };
    let awaited = if asynchronous { ".await" } else { "" };
    let _ = writeln!(
        out,
        "pub {asyncness}fn {name}({}) -> wasmtime::Result<{ret}> {{\n\
         // SAFETY: the export's type was checked against these types when it was looked up.\n\
         let callee = unsafe {{\nwasmtime::component::TypedFunc::<{ptypes}, {rtypes}>::new_unchecked({funcs}.{})\n}};\n\
         {bind}callee.{call}(&mut store, {}){awaited}?;\n{value}\n}}",
        params.join(", "),
        field(g, f),
        tuple(args.iter().cloned()),
    );
    if f.kind.is_async() {
        concurrent_call(g, f, path, funcs, &name, &args, out);
    }
}

/// `call_f_concurrent`: async export `f` called inside `run_concurrent`,
/// where several calls may be in flight at once. wasmtime keeps the
/// arguments until the call has started, so they are owned.
fn concurrent_call(
    g: &Gen,
    f: &Function,
    path: &[String],
    funcs: &str,
    name: &str,
    args: &[String],
    out: &mut String,
) {
    let mut params = vec![
        "&self".to_string(),
        "accessor: &wasmtime::component::Accessor<T>".to_string(),
    ];
    for (p, arg) in f.params.iter().zip(args) {
        params.push(format!("{arg}: {}", g.ty(&p.ty, path)));
    }
    let ptypes = tuple(f.params.iter().map(|p| g.ty(&p.ty, path)));
    let (_, rtypes) = signature(g, f, path);
    let ret = f
        .result
        .as_ref()
        .map_or("()".to_string(), |t| g.ty(t, path));
    let (bind, value) = match f.result {
        Some(_) => ("let (ret,) = ", "Ok(ret)"),
        None => ("", "Ok(())"),
    };
    let _ = writeln!(
        out,
        "/// As `{name}`, inside `Store::run_concurrent`: calls in flight at once each get their own answer.\n\
         pub async fn {name}_concurrent<T: Send + 'static>({}) -> wasmtime::Result<{ret}> {{\n\
         // SAFETY: the export's type was checked against these types (lent or owned alike) when it was looked up.\n\
         let callee = unsafe {{\nwasmtime::component::TypedFunc::<{ptypes}, {rtypes}>::new_unchecked({funcs}.{})\n}};\n\
         {bind}callee.call_concurrent(accessor, {}).await?;\n{value}\n}}",
        params.join(", "),
        field(g, f),
        tuple(args.iter().cloned()),
    );
}

/// The `Guest` struct of an exported interface, and its resources' accessors.
pub(super) fn interface(g: &Gen, item: &Item, out: &mut String) {
    let Some(key) = item.key else { return };
    let path = &item.module;
    let name = g.resolve.name_world_key(key);
    let mut fields = String::new();
    let mut lookups = String::new();
    let mut methods = String::new();
    let mut resources: BTreeMap<TypeId, String> = BTreeMap::new();
    for f in &item.functions {
        let _ = writeln!(fields, "{}: wasmtime::component::Func,", field(g, f));
        lookup(g, f, path, "Some(&parent)", &mut lookups);
        match Gen::owner_resource(f) {
            Some(r) => call(g, f, path, "self.funcs", resources.entry(r).or_default()),
            None => call(g, f, path, "self", &mut methods),
        }
    }
    for r in resources.keys() {
        let rname = g.camel_of(*r);
        let _ = writeln!(
            methods,
            "/// The functions of resource `{}`.\npub fn {}(&self) -> Guest{rname}<'_> {{\nGuest{rname} {{ funcs: self }}\n}}",
            g.resolve.types[*r].name.as_deref().unwrap_or(""),
            snake(g.resolve.types[*r].name.as_deref().unwrap_or("resource"))
        );
    }
    let _ = writeln!(
        out,
        "/// The functions of exported interface `{name}`.\n\
         #[derive(Clone)]\npub struct Guest {{\n{fields}}}\n\
         impl Guest {{\n\
         /// Finds and type-checks every function of `{name}` in `instance`.\n\
         pub fn new(mut store: impl wasmtime::AsContextMut, instance: &wasmtime::component::Instance) -> wasmtime::Result<Guest> {{\n\
         let parent = {}_rt::instance(&mut store, instance, {name:?})?;\n\
         let guest = Guest {{\n{lookups}}};\nOk(guest)\n}}\n{methods}}}",
        g.rel(path, &[]),
    );
    for (r, methods) in resources {
        let rname = g.camel_of(r);
        let _ = writeln!(
            out,
            "/// The functions of the guest's resource `{wit}`. Its handles are \
             `ResourceAny`s, which the host drops with `resource_drop`.\n\
             pub struct Guest{rname}<'a> {{\nfuncs: &'a Guest,\n}}\n\
             impl Guest{rname}<'_> {{\n{methods}}}",
            wit = g.resolve.types[r].name.as_deref().unwrap_or("")
        );
    }
}

/// The accessor name of an exported interface, from its module path.
fn accessor(item: &Item) -> String {
    item.module[1..].join("_")
}

/// The world struct, and the `_rt` helpers its lookups use.
pub(super) fn world(g: &Gen, out: &mut String) {
    let w = &g.resolve.worlds[g.world];
    let name = camel(&w.name);
    let mut fields = String::new();
    let mut inits = String::new();
    let mut methods = String::new();
    for item in g.items(Direction::Export) {
        match item.key {
            Some(key) => {
                let acc = accessor(&item);
                let module = item.module.join("::");
                let _ = writeln!(fields, "{acc}: {module}::Guest,");
                let _ = writeln!(inits, "{acc}: {module}::Guest::new(&mut store, instance)?,");
                let _ = writeln!(
                    methods,
                    "/// The exported interface `{}`.\npub fn {acc}(&self) -> &{module}::Guest {{\n&self.{acc}\n}}",
                    g.resolve.name_world_key(key)
                );
            }
            None => {
                for f in &item.functions {
                    let _ = writeln!(fields, "{}: wasmtime::component::Func,", field(g, f));
                    lookup(g, f, &[], "None", &mut inits);
                    call(g, f, &[], "self", &mut methods);
                }
            }
        }
    }
    let _ = writeln!(
        out,
        "/// World `{wname}`, instantiated: its exports, typed.\n\
         #[derive(Clone)]\npub struct {name} {{\n{fields}}}\n\
         #[allow(clippy::too_many_arguments)]\nimpl {name} {{\n\
         /// Instantiates `component` with the imports `linker` defines.\n\
         pub fn instantiate<T: 'static>(\nmut store: impl wasmtime::AsContextMut<Data = T>,\n\
         component: &wasmtime::component::Component,\nlinker: &wasmtime::component::Linker<T>,\n\
         ) -> wasmtime::Result<{name}> {{\n\
         let pre = linker.instantiate_pre(component)?;\n{name}::new(&mut store, &pre)\n}}\n\
         /// Instantiates a pre-linked component.\n\
         pub fn new<T: 'static>(\nmut store: impl wasmtime::AsContextMut<Data = T>,\n\
         pre: &wasmtime::component::InstancePre<T>,\n) -> wasmtime::Result<{name}> {{\n\
         let instance = pre.instantiate(&mut store)?;\n{name}::from_instance(&mut store, &instance)\n}}\n\
         {async_new}\
         /// Finds and type-checks every export of the world in `instance`.\n\
         pub fn from_instance(\nmut store: impl wasmtime::AsContextMut,\n\
         instance: &wasmtime::component::Instance,\n) -> wasmtime::Result<{name}> {{\n\
         {}let world = {name} {{\n{inits}}};\nOk(world)\n}}\n{methods}}}",
        if inits.is_empty() {
            "let _ = (&mut store, instance);\n"
        } else {
            ""
        },
        wname = w.name,
        async_new = if g.plan.has_async_calls() {
            instantiate_async(&name)
        } else {
            String::new()
        },
    );
    out.push_str(RUNTIME);
}

/// `instantiate_async`: a linker holding concurrent host functions (the
/// world's async imports) instantiates in wasmtime's event loop.
fn instantiate_async(name: &str) -> String {
    format!(
        "/// As `instantiate`, in wasmtime's event loop: needed when `linker` holds \
         concurrent host functions (the world's async imports).\n\
         pub async fn instantiate_async<T: Send + 'static>(\nmut store: impl wasmtime::AsContextMut<Data = T>,\n\
         component: &wasmtime::component::Component,\nlinker: &wasmtime::component::Linker<T>,\n\
         ) -> wasmtime::Result<{name}> {{\n\
         let pre = linker.instantiate_pre(component)?;\n\
         let instance = pre.instantiate_async(&mut store).await?;\n\
         {name}::from_instance(&mut store, &instance)\n}}\n"
    )
}

/// Export lookups, shared by every struct of the file.
const RUNTIME: &str = r#"
#[doc(hidden)]
#[allow(dead_code)]
mod _rt {
/// The index of exported instance `name`.
pub fn instance(
mut store: impl wasmtime::AsContextMut,
instance: &wasmtime::component::Instance,
name: &str,
) -> wasmtime::Result<wasmtime::component::ComponentExportIndex> {
instance
.get_export_index(&mut store, None, name)
.ok_or_else(|| wasmtime::format_err!("the component exports no instance `{name}`"))
}

/// Export `name` (of exported instance `parent`), checked to be a function
/// taking `P` and returning `R`.
pub fn func<P, R>(
mut store: impl wasmtime::AsContextMut,
instance: &wasmtime::component::Instance,
parent: Option<&wasmtime::component::ComponentExportIndex>,
name: &str,
) -> wasmtime::Result<wasmtime::component::Func>
where
P: wasmtime::component::ComponentNamedList + wasmtime::component::Lower,
R: wasmtime::component::ComponentNamedList + wasmtime::component::Lift,
{
let index = instance
.get_export_index(&mut store, parent, name)
.ok_or_else(|| wasmtime::format_err!("the component exports no function `{name}`"))?;
let func = instance
.get_func(&mut store, index)
.ok_or_else(|| wasmtime::format_err!("export `{name}` is not a function"))?;
func.typed::<P, R>(&store)?;
Ok(func)
}
}
"#;
