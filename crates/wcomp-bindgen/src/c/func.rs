//! Functions: the C items around each planned function (the imported
//! function, the core export calling the user's implementation and its
//! post-return function) and each resource's functions. Bodies are the
//! plan's call sequences, driven through [`Body`].

use std::fmt::Write as _;

use wcomp_abi::{CoreFunc, CoreName, Direction, FunctionPlan, ResourcePlan, drive, has_own_handle};

use super::body::{Body, Mode, core_ty, declare, is_method};
use super::{Gen, LOCALS, docs, ident};
use crate::BindError;
use heck::ToShoutySnakeCase;

/// The C name of parameter `index` of `f`: `self` for a method's receiver,
/// its WIT name otherwise (with a `_` where it would clash with a keyword
/// or with what the bodies use).
pub(super) fn param_name(f: &FunctionPlan, index: usize) -> String {
    if index == 0 && is_method(f) {
        return "self".into();
    }
    let name = ident(&f.function.params[index].name);
    let numbered = |p: &str| {
        name.strip_prefix(p)
            .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
    };
    if LOCALS.contains(&name.as_str()) || numbered("t") || numbered("a") || numbered("arg") {
        format!("{name}_")
    } else {
        name
    }
}

/// The C prototype of `f` as the user sees it (`const T *` arguments for
/// an import, `T *` for an export; a compound result through `ret`).
fn prototype(g: &Gen<'_>, f: &FunctionPlan) -> String {
    prototype_named(g, f, &g.func_name(f))
}

/// [`prototype`] under another name. An async import takes its arguments
/// in an `args` struct when they do not fit the flat parameters, puts its
/// result in `*ret`, and answers its status; an async export answers a
/// callback code, its result leaving through its `_return` function.
fn prototype_named(g: &Gen<'_>, f: &FunctionPlan, name: &str) -> String {
    if f.asynchronous.is_some() {
        return async_prototype(g, f, name);
    }
    let mut params: Vec<String> = f
        .function
        .params
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let ty = g.cty(&p.ty);
            let name = param_name(f, i);
            match (g.by_value(&p.ty), f.direction) {
                (true, _) => format!("{ty} {name}"),
                (false, Direction::Import) => format!("const {ty} *{name}"),
                (false, Direction::Export) => format!("{ty} *{name}"),
            }
        })
        .collect();
    let ret = match &f.function.result {
        Some(t) if g.by_value(t) => g.cty(t),
        Some(t) => {
            params.push(format!("{} *ret", g.cty(t)));
            "void".into()
        }
        None => "void".into(),
    };
    if params.is_empty() {
        params.push("void".into());
    }
    function_head(&ret, &format!("{name}({})", params.join(", ")))
}

fn async_prototype(g: &Gen<'_>, f: &FunctionPlan, name: &str) -> String {
    let mut params: Vec<String> = match (f.direction, f.params_area) {
        (Direction::Import, Some(_)) => vec![format!("{} *args", args_name(g, f))],
        _ => f
            .function
            .params
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let ty = g.cty(&p.ty);
                let name = param_name(f, i);
                match (g.by_value(&p.ty), f.direction) {
                    (true, _) => format!("{ty} {name}"),
                    (false, Direction::Import) => format!("const {ty} *{name}"),
                    (false, Direction::Export) => format!("{ty} *{name}"),
                }
            })
            .collect(),
    };
    if let (Direction::Import, Some(t)) = (f.direction, &f.function.result) {
        params.push(format!("{} *ret", g.cty(t)));
    }
    if params.is_empty() {
        params.push("void".into());
    }
    function_head("uint32_t", &format!("{name}({})", params.join(", ")))
}

/// The struct of an async import's arguments, when they go through memory.
fn args_name(g: &Gen<'_>, f: &FunctionPlan) -> String {
    format!("{}_args_t", g.func_name(f))
}

/// Who frees what, for the function's comment.
fn ownership(g: &Gen<'_>, f: &FunctionPlan) -> Result<String, BindError> {
    let mut s = String::new();
    match f.direction {
        Direction::Import => {
            let gives = f
                .function
                .params
                .iter()
                .any(|p| has_own_handle(g.resolve, &p.ty));
            if gives {
                s.push_str("// Owned handles among the arguments pass to the callee; the rest stay yours.\n");
            }
            if let Some(t) = &f.function.result
                && let Some(free) = g.free_fn(t)?
            {
                let _ = writeln!(s, "// The result is yours: free it with `{free}`.");
            }
        }
        Direction::Export => {
            let frees: Vec<String> = f
                .function
                .params
                .iter()
                .enumerate()
                .filter_map(|(i, p)| match g.free_fn(&p.ty) {
                    Ok(Some(free)) => Some(Ok(format!("`{}` with `{free}`", param_name(f, i)))),
                    Ok(None) => None,
                    Err(e) => Some(Err(e)),
                })
                .collect::<Result<_, _>>()?;
            if !frees.is_empty() {
                let _ = writeln!(
                    s,
                    "// The arguments are yours: keep them, or free {}.",
                    frees.join(", ")
                );
            }
            if let Some(t) = &f.function.result
                && g.free_fn(t)?.is_some()
                && f.asynchronous.is_none()
            {
                s.push_str(
                    "// The result is handed over and freed after the call: allocate its\n\
                     // buffers with `malloc` (or the `_dup` functions).\n",
                );
            }
        }
    }
    Ok(s)
}

/// The core signature: `(T0, T1)` for a declaration, `(T0 arg0, ..)` for
/// a definition, and the result type.
fn core_sig(
    params: &[wit_parser::abi::WasmType],
    results: &[wit_parser::abi::WasmType],
    named: bool,
) -> Result<(String, String), BindError> {
    let ps: Vec<String> = params
        .iter()
        .enumerate()
        .map(|(i, t)| match named {
            true => declare(core_ty(*t), &format!("arg{i}")),
            false => core_ty(*t).to_string(),
        })
        .collect();
    let ps = if ps.is_empty() {
        "void".to_string()
    } else {
        ps.join(", ")
    };
    let ret = match results {
        [] => "void",
        [r] => core_ty(*r),
        _ => {
            return Err(BindError::Internal(
                "a guest core signature with several results".into(),
            ));
        }
    };
    Ok((format!("({ps})"), ret.to_string()))
}

/// `RET NAME(PARAMS)`, with a pointer result's `*` beside the name.
fn function_head(ret: &str, name_and_params: &str) -> String {
    declare(ret, name_and_params)
}

/// `__attribute__((...)) extern RET NAME(TYPES);` for a core import.
pub(super) fn core_import(
    name: &CoreName,
    symbol: &str,
    sig: &wit_parser::abi::WasmSignature,
) -> Result<String, BindError> {
    let CoreName::Import { module, field } = name else {
        return Err(BindError::Internal(format!(
            "`{symbol}` has an export's core name"
        )));
    };
    let (ps, ret) = core_sig(&sig.params, &sig.results, false)?;
    Ok(format!(
        "__attribute__((__import_module__({}), __import_name__({})))\nextern {};\n",
        c_string(module),
        c_string(field),
        function_head(&ret, &format!("{symbol}{ps}"))
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

/// An imported function: its prototype in the header, and a body in the
/// source that lowers the arguments, calls the core import and lifts the
/// result, as its call sequence says.
pub(super) fn import(
    g: &Gen<'_>,
    f: &FunctionPlan,
    h: &mut String,
    c: &mut String,
) -> Result<(), BindError> {
    let name = g.func_name(f);
    docs(&f.function.docs, h);
    if f.asynchronous.is_some() {
        async_import_notes(g, f, h, c)?;
    } else {
        h.push_str(&ownership(g, f)?);
    }
    import_named(g, f, &name, h, c)
}

/// The prototype of import `f` under `name` in the header, and its body:
/// the call sequence, with the core import it calls.
fn import_named(
    g: &Gen<'_>,
    f: &FunctionPlan,
    name: &str,
    h: &mut String,
    c: &mut String,
) -> Result<(), BindError> {
    let proto = prototype_named(g, f, name);
    let _ = writeln!(h, "{proto};\n");
    let symbol = format!("__wasm_import_{name}");
    c.push_str(&core_import(&f.core_name, &symbol, &f.signature)?);
    let mut b = Body::new(g, Some(f), Mode::Import);
    b.import_name = Some(name.to_string());
    drive(&f.call, &mut b).map_err(|e| e.writing(f))?;
    let _ = writeln!(c, "\n{proto} {{\n{}}}\n", b.finish());
    Ok(())
}

/// How to call an async import, in its comment, and its `args` struct.
fn async_import_notes(
    g: &Gen<'_>,
    f: &FunctionPlan,
    h: &mut String,
    c: &mut String,
) -> Result<(), BindError> {
    let big = g.w.to_shouty_snake_case();
    if let Some(area) = f.params_area {
        let args = args_name(g, f);
        let _ = writeln!(
            h,
            "// The arguments of `{}`, in memory.\ntypedef struct {} {{",
            g.func_name(f),
            args.trim_end_matches("_t")
        );
        for (i, p) in f.function.params.iter().enumerate() {
            let _ = writeln!(
                h,
                "{};",
                super::body::declare(&g.cty(&p.ty), &param_name(f, i))
            );
        }
        let _ = writeln!(h, "}} {args};");
        // In the source: the header is C++ too, where `_Static_assert` is not.
        let _ = writeln!(
            c,
            "_Static_assert(sizeof({args}) == {} && _Alignof({args}) == {}, \"{args}: not the canonical layout\");",
            area.size, area.align
        );
    }
    let _ = writeln!(
        h,
        "// Async: starts the call and answers its status ({big}_SUBTASK_...). The\n\
         // arguments{} must stay until the subtask has started, and `*ret` until it\n\
         // has returned: the result is there then.",
        if f.params_area.is_some() {
            " (`*args`)"
        } else {
            ""
        }
    );
    if let Some(t) = &f.function.result
        && let Some(free) = g.free_fn(t)?
    {
        let _ = writeln!(h, "// The result is yours: free it with `{free}`.");
    }
    Ok(())
}

/// An export: the prototype the user implements, the core export that
/// lifts the arguments, calls it and lowers the result, and its
/// post-return function.
pub(super) fn export(
    g: &Gen<'_>,
    f: &FunctionPlan,
    h: &mut String,
    c: &mut String,
) -> Result<(), BindError> {
    let name = g.func_name(f);
    docs(&f.function.docs, h);
    h.push_str(&ownership(g, f)?);
    if f.asynchronous.is_some() {
        let big = g.w.to_shouty_snake_case();
        let _ = writeln!(
            h,
            "// Async: starts the task (copy the arguments into its state: the pointers\n\
             // are for this call only) and answers a callback code ({big}_CALLBACK_...);\n\
             // `{name}_callback` gets the task's events until it answers\n\
             // {big}_CALLBACK_EXIT, having called `{name}_return` once (or, cancelled,\n\
             // `{}_task_cancel`).",
            g.w
        );
    }
    let _ = writeln!(h, "{};", prototype(g, f));
    if f.asynchronous.is_some() {
        async_export_items(g, f, h, c)?;
    }
    h.push('\n');

    let export = export_name(&f.core_name, &format!("export `{}`", f.function.name))?;
    let (ps, ret) = core_sig(&f.signature.params, &f.signature.results, true)?;
    let mut b = Body::new(g, Some(f), Mode::Export);
    drive(&f.call, &mut b).map_err(|e| e.writing(f))?;
    let _ = writeln!(
        c,
        "__attribute__((__export_name__({})))\n{} {{\n{}}}\n",
        c_string(&export),
        function_head(&ret, &format!("__wasm_export_{name}{ps}")),
        b.finish()
    );
    if let Some(post) = &f.post_return {
        let mut b = Body::new(g, Some(f), Mode::PostReturn);
        drive(&post.steps, &mut b).map_err(|e| e.writing(f))?;
        let _ = writeln!(
            c,
            "// Frees what `{name}` handed over, once the host has read it.\n\
             __attribute__((__export_name__({})))\nvoid __wasm_export_{name}_post_return(uint8_t *arg0) {{\n{}}}\n",
            c_string(&post.name),
            b.out
        );
    }
    Ok(())
}

/// The rest of async export `f`: the `_callback` the user implements and
/// the core export calling it, and the `_return` function (the plan's
/// task-return call, spelled as an import).
fn async_export_items(
    g: &Gen<'_>,
    f: &FunctionPlan,
    h: &mut String,
    c: &mut String,
) -> Result<(), BindError> {
    let name = g.func_name(f);
    let w = &g.w;
    let calls = f
        .asynchronous
        .as_ref()
        .ok_or_else(|| BindError::Internal(format!("`{}` has no async plan", f.function.name)))?;
    let (Some(task_return), Some(callback)) = (&calls.task_return, &calls.callback) else {
        return Err(BindError::Internal(format!(
            "async export `{}` lacks its task-return plan or callback",
            f.function.name
        )));
    };
    let _ = writeln!(h, "uint32_t {name}_callback({w}_event_t *event);");
    let callback = export_name(callback, &format!("the callback of `{}`", f.function.name))?;
    let _ = writeln!(
        c,
        "__attribute__((__export_name__({})))\n\
         int32_t __wasm_export_{name}_callback(int32_t arg0, int32_t arg1, int32_t arg2) {{\n\
         {w}_event_t event = {{ (uint32_t)arg0, (uint32_t)arg1, (uint32_t)arg2 }};\n\
         return (int32_t){name}_callback(&event);\n}}\n",
        c_string(&callback)
    );
    let _ = writeln!(h, "// Gives the task's result (once); the host copies it.");
    import_named(g, task_return, &format!("{name}_return"), h, c)
}

/// A resource's functions: for an imported one, dropping and lending
/// handles; for an exported one also making handles of the user's values
/// and reading them back, and the destructor the user implements.
pub(super) fn resource(
    g: &Gen<'_>,
    r: &ResourcePlan,
    h: &mut String,
    c: &mut String,
) -> Result<(), BindError> {
    let own = g.handle_name(r.resource, true);
    let borrow = g.handle_name(r.resource, false);
    let drop = g.resource_fn(r.resource, "drop_own");
    let _ = writeln!(h, "\n// Resource `{}` of `{}`.\n", r.name, r.owner);
    let _ = writeln!(
        h,
        "// Drops an owned handle (once; it is invalid afterwards).\nvoid {drop}({own} handle);"
    );
    let intrinsic = |f: &CoreFunc, what: &str| -> Result<String, BindError> {
        let symbol = format!("__wasm_import_{}", g.resource_fn(r.resource, what));
        core_import(&f.name, &symbol, &f.signature)
    };
    c.push_str(&intrinsic(&r.drop, "drop")?);
    let _ = writeln!(
        c,
        "\nvoid {drop}({own} handle) {{\n__wasm_import_{}(handle.__handle);\n}}\n",
        g.resource_fn(r.resource, "drop")
    );
    match (&r.new, &r.rep, &r.dtor) {
        (Some(new), Some(rep), Some(dtor)) => {
            let ty = g.rep_name(r.resource);
            let new_fn = g.resource_fn(r.resource, "new");
            let rep_fn = g.resource_fn(r.resource, "rep");
            let destructor = g.resource_fn(r.resource, "destructor");
            let _ = writeln!(
                h,
                "// A new handle owning `rep`; `{destructor}` frees `rep` once the last\n\
                 // handle to it is dropped.\n{own} {new_fn}({ty} *rep);\n\
                 // The value an owned handle was made from.\n{ty} *{rep_fn}({own} handle);\n\
                 // Implement it: frees `rep` (called once, when the last handle is dropped).\n\
                 void {destructor}({ty} *rep);"
            );
            c.push_str(&intrinsic(new, "new")?);
            c.push_str(&intrinsic(rep, "rep")?);
            let dtor_name = export_name(&dtor.name, &format!("the destructor of `{}`", r.name))?;
            let (ps, _) = core_sig(&dtor.signature.params, &dtor.signature.results, true)?;
            let _ = writeln!(
                c,
                "\n{own} {new_fn}({ty} *rep) {{\nreturn ({own}){{ __wasm_import_{new_fn}((int32_t)(uintptr_t)rep) }};\n}}\n\n\
                 {ty} *{rep_fn}({own} handle) {{\nreturn ({ty} *)(uintptr_t)__wasm_import_{rep_fn}(handle.__handle);\n}}\n\n\
                 __attribute__((__export_name__({})))\nvoid __wasm_export_{}{ps} {{\n{destructor}(({ty} *)(uintptr_t)arg0);\n}}\n",
                c_string(&dtor_name),
                g.resource_fn(r.resource, "dtor"),
            );
        }
        _ => {
            let lend = borrow.trim_end_matches("_t");
            let _ = writeln!(
                h,
                "// Lends an owned handle, for a call.\n{borrow} {lend}({own} handle);"
            );
            let _ = writeln!(
                c,
                "{borrow} {lend}({own} handle) {{\nreturn ({borrow}){{ handle.__handle }};\n}}\n"
            );
        }
    }
    Ok(())
}

/// `s` as a C string literal.
fn c_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_ascii_graphic() || c == ' ' => out.push(c),
            c => {
                let mut buf = [0u8; 4];
                // Octal: a `\x` escape would swallow a hex digit after it.
                for b in c.encode_utf8(&mut buf).bytes() {
                    let _ = write!(out, "\\{b:03o}");
                }
            }
        }
    }
    out.push('"');
    out
}
