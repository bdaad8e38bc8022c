//! Functions: the Go function of each import (and the `//go:wasmimport`
//! declaration it calls), the `Exports` interface with the
//! `//go:wasmexport` function of each export and its post-return
//! function, and each imported resource's `Drop`. Bodies are the plan's
//! call sequences, driven through [`Body`].

use std::fmt::Write as _;

use wcomp_abi::{AsyncCall, CoreName, Direction, FunctionPlan, ResourcePlan, drive};
use wit_parser::abi::WasmSignature;
use wit_parser::{FunctionKind, WorldItem};

use super::body::{Body, Mode, core_ty, task_return_name};
use super::{Gen, doc_text, docs, lower_camel, top_doc};
use crate::BindError;

/// The Go name of parameter `index` of `f`: `self` for a method's
/// receiver.
pub(super) fn param_name(f: &FunctionPlan, index: usize) -> String {
    if index == 0 && matches!(f.function.kind, FunctionKind::Method(_)) {
        return "self".into();
    }
    lower_camel(&f.function.params[index].name)
}

/// `(p1 T1, p2 T2) R` of `f` as its Go callers see it (a method's
/// receiver left out).
pub(super) fn signature(g: &Gen<'_>, f: &FunctionPlan) -> String {
    let skip = usize::from(matches!(f.function.kind, FunctionKind::Method(_)));
    let params: Vec<String> = f
        .function
        .params
        .iter()
        .enumerate()
        .skip(skip)
        .map(|(i, p)| format!("{} {}", param_name(f, i), g.gty(&p.ty)))
        .collect();
    format!("({}){}", params.join(", "), results(g, f))
}

/// The Go results of `f`: ` T`, ` (T, error)`, ` error`, or nothing.
fn results(g: &Gen<'_>, f: &FunctionPlan) -> String {
    // An exported constructor makes the value; the bindings its handle.
    if let (FunctionKind::Constructor(r), Direction::Export) = (&f.function.kind, f.direction) {
        let made = format!("{}Impl", g.type_name(*r));
        return match (g.error_style(&f.function.result), g.constructor_error(f)) {
            (Some(_), _) => format!(" ({made}, error)"),
            (None, Some(e)) => {
                g.use_helper("Result");
                format!(" {}[{made}, {}]", g.helper("Result"), g.side(&e))
            }
            (None, None) => format!(" {made}"),
        };
    }
    match (&f.function.result, g.error_style(&f.function.result)) {
        (_, Some((Some(ok), _))) => format!(" ({}, error)", g.gty(&ok)),
        (_, Some((None, _))) => " error".into(),
        (Some(t), None) => format!(" {}", g.gty(t)),
        (None, None) => String::new(),
    }
}

/// `(arg0 T0, ..) R` of a core function.
fn core_sig(sig: &WasmSignature, named: bool) -> Result<String, BindError> {
    let ps: Vec<String> = sig
        .params
        .iter()
        .enumerate()
        .map(|(i, t)| match named {
            true => format!("arg{i} {}", core_ty(*t)),
            false => core_ty(*t).to_string(),
        })
        .collect();
    let ret = match sig.results.as_slice() {
        [] => String::new(),
        [r] => format!(" {}", core_ty(*r)),
        _ => {
            return Err(BindError::Internal(
                "a guest core signature with several results".into(),
            ));
        }
    };
    Ok(format!("({}){ret}", ps.join(", ")))
}

/// `//go:wasmimport MODULE NAME` and the declaration.
pub(super) fn wasmimport(
    name: &CoreName,
    symbol: &str,
    sig: &WasmSignature,
) -> Result<String, BindError> {
    let CoreName::Import { module, field } = name else {
        return Err(BindError::Internal(format!(
            "`{symbol}` has an export's core name"
        )));
    };
    Ok(format!(
        "\n//go:wasmimport {module} {field}\nfunc {symbol}{}\n",
        core_sig(sig, false)?
    ))
}

fn export_name(name: &CoreName, what: &str) -> Result<String, BindError> {
    match name {
        CoreName::Export { name } => Ok(name.clone()),
        CoreName::Import { .. } => Err(BindError::Internal(format!(
            "{what} has an import's core name"
        ))),
    }
}

/// An imported function: a Go function (or method) that lowers the
/// arguments, calls the core import and lifts the result.
pub(super) fn import(
    g: &Gen<'_>,
    f: &FunctionPlan,
    api: &mut String,
    glue: &mut String,
) -> Result<(), BindError> {
    let name = g.func_name(f);
    let symbol = format!("wasmimport{}", g.glue_name(f));
    glue.push_str(&wasmimport(&f.core_name, &symbol, &f.signature)?);
    let mut b = Body::new(g, f, Mode::Import);
    drive(&f.call, &mut b).map_err(|e| e.writing(f))?;
    let head = match f.function.kind {
        FunctionKind::Method(r) => {
            format!("func (self {}) {name}{}", g.type_name(r), signature(g, f))
        }
        _ => format!("func {name}{}", signature(g, f)),
    };
    api.push('\n');
    let blocks: &[&str] = match f.asynchronous {
        Some(_) => &[ASYNC_IMPORT],
        None => &[],
    };
    api.push_str(&top_doc(
        &f.function.docs,
        &format!("{name} calls `{}` of `{}`.", f.function.name, f.owner),
        blocks,
    ));
    let _ = writeln!(api, "{head} {{");
    if b.keeps {
        api.push_str("var keep []unsafe.Pointer\n");
    }
    api.push_str(&b.out);
    if let Some(v) = &b.result {
        match g.error_style(&f.function.result) {
            Some((ok, _)) => {
                let r = if is_ident(v) {
                    v.clone()
                } else {
                    let _ = writeln!(api, "r := {v}");
                    "r".into()
                };
                match ok {
                    Some(_) => {
                        let _ = writeln!(
                            api,
                            "if {r}.IsErr {{\nreturn {r}.Ok, {r}.Err\n}}\nreturn {r}.Ok, nil"
                        );
                    }
                    None => {
                        let _ = writeln!(api, "if {r}.IsErr {{\nreturn {r}.Err\n}}\nreturn nil");
                    }
                }
            }
            None => {
                let _ = writeln!(api, "return {v}");
            }
        }
    }
    api.push_str("}\n");
    Ok(())
}

/// The note on an async export's method.
fn async_note(f: &FunctionPlan, out: &mut String) {
    if f.asynchronous.is_some() {
        if f.function.docs.contents.is_some() {
            out.push_str("//\n");
        }
        out.push_str(
            "// It is async: each call runs on a goroutine of its own, which may block on\n\
             // async imports while other calls run.\n",
        );
    }
}

/// What the docs of an async import add.
const ASYNC_IMPORT: &str = "It is async: it blocks the calling goroutine until the call returns,\n\
     while the component's other goroutines run. Call it from the goroutines\n\
     of an async export.";

fn is_ident(v: &str) -> bool {
    v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The `Exports` interface (embedding one interface per exported
/// interface), `SetExports`, and the core exports calling it.
pub(super) fn exports(g: &Gen<'_>, api: &mut String, glue: &mut String) -> Result<(), BindError> {
    if g.plan.exports.is_empty() {
        return Ok(());
    }
    let exports = g.helper("Exports");
    let set = g.helper("SetExports");
    let w = &g.resolve.worlds[g.world];
    // One Go interface per exported interface, in world order.
    let mut embedded = String::new();
    let mut world_level = String::new();
    for (key, item) in &w.exports {
        match item {
            WorldItem::Interface { id, .. } => {
                let Some(iface) = g.export_iface(*id) else {
                    continue;
                };
                let qualified = g.resolve.name_world_key(key);
                let _ = writeln!(embedded, "{iface}");
                let head = format!(
                    "{iface} is the exported interface `{qualified}`: implement its functions."
                );
                let wit = doc_text(&g.resolve.interfaces[*id].docs);
                let text = if wit.is_empty() {
                    head
                } else {
                    format!("{head}\n\n{wit}")
                };
                let _ = write!(api, "\n{}", super::doc::doc_comment(&text));
                let _ = writeln!(api, "type {iface} interface {{");
                let mut first = true;
                for f in g.plan.exports.iter().filter(|f| {
                    g.func_interface(f) == Some(*id)
                        && !matches!(f.function.kind, FunctionKind::Method(_))
                }) {
                    if !first && f.function.docs.contents.is_some() {
                        api.push('\n');
                    }
                    first = false;
                    docs(&f.function.docs, api);
                    async_note(f, api);
                    let _ = writeln!(api, "{}{}", g.func_name(f), signature(g, f));
                }
                api.push_str("}\n");
            }
            WorldItem::Function(_) => {
                for f in g
                    .plan
                    .exports
                    .iter()
                    .filter(|f| f.interface.is_none() && f.function.name == *item_name(item))
                {
                    docs(&f.function.docs, &mut world_level);
                    async_note(f, &mut world_level);
                    let _ = writeln!(world_level, "{}{}", g.func_name(f), signature(g, f));
                }
            }
            WorldItem::Type { .. } => {}
        }
    }
    let _ = writeln!(
        api,
        "\n// {exports} is what the component exports: implement it, and pass it to\n\
         // [{set}] in an `init` function.\ntype {exports} interface {{\n{embedded}{}{world_level}}}\n\n\
         var cabiExports {exports}\n\n\
         // {set} sets the implementation of the exports; call it in an `init`\n\
         // function, before the host calls any.\nfunc {set}(e {exports}) {{\ncabiExports = e\n}}",
        if !embedded.is_empty() && !world_level.is_empty() {
            "\n"
        } else {
            ""
        }
    );

    let mut errors = false;
    for f in &g.plan.exports {
        errors |= g.error_style(&f.function.result).is_some();
        export(g, f, glue)?;
    }
    if errors {
        let _ = writeln!(
            glue,
            "\n// cabiAsError is the WIT error an export returned: `err` must be an `E`,\n\
             // or wrap one.\nfunc cabiAsError[E error](err error, what string) E {{\n\
             var e E\nif !errors.As(err, &e) {{\npanic(\"{}: \" + what + \" returned an error of no WIT error type: \" + err.Error())\n}}\nreturn e\n}}",
            g.pkg
        );
    }
    Ok(())
}

fn item_name(item: &WorldItem) -> &String {
    static EMPTY: String = String::new();
    match item {
        WorldItem::Function(f) => &f.name,
        _ => &EMPTY,
    }
}

/// An export's core function and its post-return function.
fn export(g: &Gen<'_>, f: &FunctionPlan, glue: &mut String) -> Result<(), BindError> {
    let export = export_name(&f.core_name, &format!("export `{}`", f.function.name))?;
    let symbol = format!("wasmexport{}", g.glue_name(f));
    let mut b = Body::new(g, f, Mode::Export);
    drive(&f.call, &mut b).map_err(|e| e.writing(f))?;
    let _ = writeln!(
        glue,
        "\n//go:wasmexport {export}\nfunc {symbol}{} {{\n{}}}",
        core_sig(&f.signature, true)?,
        b.out
    );
    if let Some(calls) = &f.asynchronous {
        async_export_items(g, f, calls, &symbol, glue)?;
    }
    if let Some(post) = &f.post_return {
        let mut b = Body::new(g, f, Mode::PostReturn);
        drive(&post.steps, &mut b).map_err(|e| e.writing(f))?;
        let _ = writeln!(
            glue,
            "\n// Lets go of what `{symbol}` handed over, once the host has read it.\n\
             //\n//go:wasmexport {}\nfunc {symbol}PostReturn(arg0 unsafe.Pointer) {{\n{}cabiUnpin()\n}}",
            post.name, b.out
        );
    }
    Ok(())
}

/// The rest of async export `f`: its callback, and the function giving its
/// result (the plan's `task.return` call, spelled as an import).
fn async_export_items(
    g: &Gen<'_>,
    f: &FunctionPlan,
    calls: &AsyncCall,
    symbol: &str,
    glue: &mut String,
) -> Result<(), BindError> {
    let (Some(task_return), Some(callback)) = (&calls.task_return, &calls.callback) else {
        return Err(BindError::Internal(format!(
            "async export `{}` lacks its task-return plan or callback",
            f.function.name
        )));
    };
    let callback = export_name(callback, &format!("the callback of `{}`", f.function.name))?;
    let _ = writeln!(
        glue,
        "\n// The host calls it on each event of a task of `{symbol}`.\n\
         //\n//go:wasmexport {callback}\nfunc {symbol}Callback(event, handle, payload int32) int32 {{\n\
         return cabiCallback(event, handle, payload)\n}}"
    );
    let give = task_return_name(g, f);
    let core = format!("wasmimport{}", &give["cabi".len()..]);
    glue.push_str(&wasmimport(
        &task_return.core_name,
        &core,
        &task_return.signature,
    )?);
    let mut b = Body::new(g, task_return, Mode::Import);
    b.symbol = Some(core);
    drive(&task_return.call, &mut b).map_err(|e| e.writing(f))?;
    let params = match &task_return.function.params.first() {
        Some(p) => format!("{} {}", param_name(task_return, 0), g.gty(&p.ty)),
        None => String::new(),
    };
    let _ = writeln!(
        glue,
        "\n// {give} gives the result of a task of `{symbol}` (the host copies it).\n\
         func {give}({params}) {{"
    );
    if b.keeps {
        glue.push_str("var keep []unsafe.Pointer\n");
    }
    glue.push_str(&b.out);
    glue.push_str("}\n");
    Ok(())
}

/// An imported resource's `Drop`.
pub(super) fn resource(
    g: &Gen<'_>,
    r: &ResourcePlan,
    api: &mut String,
    glue: &mut String,
) -> Result<(), BindError> {
    let name = g.type_name(r.resource);
    let symbol = format!("wasmimport{name}ResourceDrop");
    glue.push_str(&wasmimport(&r.drop.name, &symbol, &r.drop.signature)?);
    let method = if g
        .plan
        .imports
        .iter()
        .any(|f| matches!(f.function.kind, FunctionKind::Method(id) if crate::abi::resource_of(g.resolve, id) == r.resource) && f.function.item_name() == "drop")
    {
        "DropHandle"
    } else {
        "Drop"
    };
    let _ = writeln!(
        api,
        "\n// {method} drops an owned handle (once; it is invalid afterwards).\n\
         func (self {name}) {method}() {{\n{symbol}(self.handle)\n}}"
    );
    let (Some(new), Some(rep), Some(dtor)) = (&r.new, &r.rep, &r.dtor) else {
        return Ok(());
    };
    if r.direction != Direction::Export {
        return Err(BindError::Internal(format!(
            "resource `{}` has a constructor of its handles but is imported",
            r.name
        )));
    }
    // The user's values live in a table; a handle's rep is the index.
    let table = g.table_of(r.resource);
    let new_sym = format!("wasmimport{name}ResourceNew");
    let rep_sym = format!("wasmimport{name}ResourceRep");
    glue.push_str(&wasmimport(&new.name, &new_sym, &new.signature)?);
    glue.push_str(&wasmimport(&rep.name, &rep_sym, &rep.signature)?);
    let dtor_name = export_name(&dtor.name, &format!("the destructor of `{}`", r.name))?;
    let _ = writeln!(
        glue,
        "\n// The values behind the handles of `{}`.\nvar {table} cabiTable[{name}Impl]\n\n\
         // Called once the last handle to a value is dropped.\n//\n//go:wasmexport {dtor_name}\n\
         func wasmexport{name}Destructor(rep int32) {{\nv := {table}.remove(rep)\n\
         if d, ok := v.(interface{{ Drop() }}); ok {{\nd.Drop()\n}}\n}}",
        r.name
    );
    let _ = writeln!(
        api,
        "\n// New{name} makes a handle owning `v`.\nfunc New{name}(v {name}Impl) {name} {{\n\
         return {name}{{handle: {new_sym}({table}.add(v))}}\n}}\n\n\
         // Rep is the value an owned handle was made from.\nfunc (self {name}) Rep() {name}Impl {{\n\
         return {table}.get({rep_sym}(self.handle))\n}}"
    );
    Ok(())
}
