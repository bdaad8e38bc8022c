//! The `calls` script of a `fixtures/new` or `fixtures/compose` case: what
//! to call in a component (wrapped or composed), with which values, and what
//! must come back. Shared by `tests/new.rs` and `tests/compose.rs`; the
//! format is described in `fixtures/new/README.md`; in short, one step a line:
//!
//! ```text
//! # a comment
//! host IFACE#FUNC -> RESULT        the host import returns RESULT
//! call IFACE#FUNC(ARG, ...) -> RESULT
//! let NAME = call FUNC(ARG, ...)   keep the result, pass it on as `$NAME`
//! drop $NAME                       drop a resource handle, or every one
//!                                  inside a kept value
//! run                              call `wasi:cli/run`, expect `ok`
//! stdout "TEXT"                    everything printed so far
//! ```
//!
//! An `async func` export is called through wasmtime's event loop, and an
//! `async func` import given by a `host` line completes when polled a
//! second time, so the guest waits for it.
//!
//! Values are WAVE text, read against the types the component declares.
//! An argument `$NAME.PATH` passes a part of a kept value: `ok`, `err` and
//! `some` unwrap results and options, a field name picks a record field,
//! a number a list or tuple element (`$made.ok`, `$pair.item`, `$all.0`).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use wasmtime::component::types::{ComponentFunc, ComponentItem};
use wasmtime::component::{Accessor, Component, Func, Instance, Linker, Type, Val};
use wasmtime::{Engine, Store};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wcomp_tests::host::WasiHost;

/// A parsed script: the host functions to define, then the steps to run.
pub struct Script {
    hosts: Vec<HostLine>,
    steps: Vec<(usize, Step)>,
}

/// `host TARGET [-> RESULT]`
struct HostLine {
    line: usize,
    target: Target,
    result: Option<String>,
}

/// `IFACE#FUNC`, or `FUNC` for a function of the world itself.
struct Target {
    iface: Option<String>,
    func: String,
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.iface {
            Some(iface) => write!(f, "{iface}#{}", self.func),
            None => f.write_str(&self.func),
        }
    }
}

enum Arg {
    Wave(String),
    Var(String),
}

enum Step {
    Call {
        bind: Option<String>,
        target: Target,
        args: Vec<Arg>,
        expect: Option<String>,
    },
    Drop(String),
    Run,
    Stdout(String),
}

impl Script {
    /// Reads a script; errors name the line.
    pub fn parse(text: &str) -> Result<Script, String> {
        let mut script = Script {
            hosts: Vec::new(),
            steps: Vec::new(),
        };
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let src = raw.trim();
            if src.is_empty() || src.starts_with('#') {
                continue;
            }
            let at = |e: String| format!("calls:{line}: {e}\n  {src}");
            let (word, rest) = src.split_once(char::is_whitespace).unwrap_or((src, ""));
            let rest = rest.trim();
            match word {
                "host" => {
                    let (target, result) = match rest.split_once("->") {
                        Some((t, r)) => (t.trim(), Some(r.trim().to_string())),
                        None => (rest, None),
                    };
                    let target = parse_target(target).map_err(at)?;
                    script.hosts.push(HostLine {
                        line,
                        target,
                        result,
                    });
                }
                "call" => {
                    let step = parse_call(None, rest).map_err(at)?;
                    script.steps.push((line, step));
                }
                "let" => {
                    let (name, call) = rest
                        .split_once('=')
                        .ok_or_else(|| at("expected `let NAME = call ...`".into()))?;
                    let call = call
                        .trim()
                        .strip_prefix("call")
                        .ok_or_else(|| at("expected `call` after `=`".into()))?;
                    let step =
                        parse_call(Some(name.trim().to_string()), call.trim()).map_err(at)?;
                    script.steps.push((line, step));
                }
                "drop" => {
                    let name = rest
                        .strip_prefix('$')
                        .ok_or_else(|| at("expected `drop $NAME`".into()))?;
                    script.steps.push((line, Step::Drop(name.to_string())));
                }
                "run" if rest.is_empty() => script.steps.push((line, Step::Run)),
                "stdout" => {
                    let text = wasm_wave::from_str::<Val>(&Type::String, rest)
                        .map_err(|e| at(format!("expected a string in WAVE syntax: {e}")))?;
                    let Val::String(text) = text else {
                        unreachable!("a string type reads as a string")
                    };
                    script.steps.push((line, Step::Stdout(text)));
                }
                _ => return Err(at(format!("unknown step `{word}`"))),
            }
        }
        Ok(script)
    }
}

fn parse_target(text: &str) -> Result<Target, String> {
    let text = text.trim();
    let (iface, func) = match text.split_once('#') {
        Some((iface, func)) => (Some(iface.to_string()), func),
        None => (None, text),
    };
    if func.is_empty() || func.contains(char::is_whitespace) {
        return Err(format!("expected `IFACE#FUNC` or `FUNC`, found `{text}`"));
    }
    Ok(Target {
        iface,
        func: func.to_string(),
    })
}

/// `TARGET(ARG, ...) [-> RESULT]`
fn parse_call(bind: Option<String>, text: &str) -> Result<Step, String> {
    let open = text.find('(').ok_or("expected `(` after the function")?;
    let target = parse_target(&text[..open])?;
    let pieces = split_top_level(&text[open + 1..])?;
    let (args, after) = pieces;
    let args = args
        .into_iter()
        .map(|a| match a.strip_prefix('$') {
            Some(var) => Arg::Var(var.to_string()),
            None => Arg::Wave(a),
        })
        .collect();
    let after = after.trim();
    let expect = if after.is_empty() {
        None
    } else {
        let r = after
            .strip_prefix("->")
            .ok_or_else(|| format!("expected `-> RESULT` after the arguments, found `{after}`"))?;
        Some(r.trim().to_string())
    };
    Ok(Step::Call {
        bind,
        target,
        args,
        expect,
    })
}

/// Splits the text after `(` into the arguments (on commas outside strings,
/// chars and brackets) and what follows the matching `)`.
fn split_top_level(text: &str) -> Result<(Vec<String>, &str), String> {
    let (mut args, mut cur) = (Vec::new(), String::new());
    let (mut depth, mut quote, mut escaped) = (0usize, None::<char>, false);
    for (i, c) in text.char_indices() {
        if let Some(q) = quote {
            cur.push(c);
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                _ if c == q => quote = None,
                _ => {}
            }
            continue;
        }
        match c {
            '"' | '\'' => quote = Some(c),
            '(' | '[' | '{' => depth += 1,
            ')' if depth == 0 => {
                if !cur.trim().is_empty() || !args.is_empty() {
                    args.push(cur.trim().to_string());
                }
                return Ok((args, &text[i + 1..]));
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                args.push(std::mem::take(&mut cur).trim().to_string());
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    Err("no `)` closes the arguments".into())
}

/// Instantiates `component` and runs the script against it. The first step
/// that fails ends the run; the error names its line.
pub fn run(engine: &Engine, component: &Component, script: &Script) -> Result<(), String> {
    let stdout = MemoryOutputPipe::new(1 << 20);
    let stderr = MemoryOutputPipe::new(1 << 20);
    let wasi = wasmtime_wasi::WasiCtxBuilder::new()
        .stdout(stdout.clone())
        .stderr(stderr.clone())
        .build();
    let mut store = Store::new(engine, WasiHost::new(wasi));
    let linker = linker(engine, component, script)?;
    // A store with an async host function takes only wasmtime's async
    // calls; they run on this runtime.
    let asynchronous = imports_async(engine, component);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .map_err(|e| format!("no runtime: {e}"))?;
    let instance = match asynchronous {
        true => runtime.block_on(linker.instantiate_async(&mut store, component)),
        false => linker.instantiate(&mut store, component),
    }
    .map_err(|e| format!("cannot instantiate the component: {e:?}"))?;
    let mut runner = Runner {
        engine,
        component,
        instance,
        store,
        vars: HashMap::new(),
        runtime: asynchronous.then_some(runtime),
    };
    for (line, step) in &script.steps {
        let done = match step {
            Step::Call {
                bind,
                target,
                args,
                expect,
            } => runner.call(target, args, expect.as_deref(), bind.as_deref()),
            Step::Drop(name) => runner.drop_var(name),
            Step::Run => runner.run(),
            Step::Stdout(want) => {
                let got = String::from_utf8_lossy(&stdout.contents()).into_owned();
                if got == *want {
                    Ok(())
                } else {
                    Err(format!(
                        "stdout: expected {want:?}\n            got {got:?}"
                    ))
                }
            }
        };
        done.map_err(|e| {
            let printed = String::from_utf8_lossy(&stderr.contents()).into_owned();
            let printed = if printed.is_empty() {
                String::new()
            } else {
                format!("\n(the component's stderr: {printed:?})")
            };
            format!("calls:{line}: {e}{printed}")
        })?;
    }
    Ok(())
}

/// Whether the component imports an `async func` (one that is not WASI's).
fn imports_async(engine: &Engine, component: &Component) -> bool {
    let ty = component.component_type();
    ty.imports(engine).any(|(_, import)| match import.ty {
        ComponentItem::ComponentFunc(f) => f.async_(),
        ComponentItem::ComponentInstance(i) => i
            .exports(engine)
            .any(|(_, e)| matches!(e.ty, ComponentItem::ComponentFunc(f) if f.async_())),
        _ => false,
    })
}

/// WASI if the component imports any of it, the `host` lines, and a trap for
/// every other import.
fn linker(
    engine: &Engine,
    component: &Component,
    script: &Script,
) -> Result<Linker<WasiHost>, String> {
    let ty = component.component_type();
    let mut linker = Linker::new(engine);
    if ty
        .imports(engine)
        .any(|(name, _)| name.starts_with("wasi:"))
    {
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(|e| format!("{e:?}"))?;
    }
    for host in &script.hosts {
        let at = |e: String| format!("calls:{}: `host {}`: {e}", host.line, host.target);
        let func = imported_func(engine, component, &host.target).map_err(at)?;
        let result = match (func.results().next(), &host.result) {
            (Some(ty), Some(text)) => Some(
                wasm_wave::from_str::<Val>(&ty, text)
                    .map_err(|e| at(format!("cannot read result `{text}`: {e}")))?,
            ),
            (None, None) => None,
            (Some(_), None) => {
                return Err(at("the function returns a value: add `-> VALUE`".into()));
            }
            (None, Some(_)) => return Err(at("the function returns nothing".into())),
        };
        let mut instance = match &host.target.iface {
            Some(iface) => linker.instance(iface),
            None => Ok(linker.root()),
        }
        .map_err(|e| at(format!("{e:?}")))?;
        let name = &host.target.func;
        let defined = if func.async_() {
            // An `async func` import must be defined as one (wasmtime
            // checks). It completes after being polled once, so the guest
            // sees a started subtask and takes its wait path.
            instance.func_new_concurrent(
                name,
                concurrent(move |_, _, _, results| {
                    let result = result.clone();
                    Box::pin(async move {
                        PendingOnce::default().await;
                        if let Some(r) = result {
                            results[0] = r;
                        }
                        Ok(())
                    })
                }),
            )
        } else {
            instance.func_new(
                name,
                move |_: wasmtime::StoreContextMut<'_, WasiHost>,
                      _: ComponentFunc,
                      _: &[Val],
                      results: &mut [Val]| {
                    if let Some(r) = &result {
                        results[0] = r.clone();
                    }
                    Ok(())
                },
            )
        };
        defined.map_err(|e| at(format!("{e:?}")))?;
    }
    trap_other_imports(engine, component, script, &mut linker).map_err(|e| format!("{e:?}"))?;
    Ok(linker)
}

/// Defines every function import that is neither WASI nor given by a `host`
/// line as a function that traps. (Not `define_unknown_imports_as_traps`:
/// it would also stub types that WASI interfaces re-export, such as the
/// `error` of `wasi:io/streams`, with new resource types that do not match.)
fn trap_other_imports(
    engine: &Engine,
    component: &Component,
    script: &Script,
    linker: &mut Linker<WasiHost>,
) -> wasmtime::Result<()> {
    let hosted = |iface: Option<&str>, func: &str| {
        script
            .hosts
            .iter()
            .any(|h| h.target.iface.as_deref() == iface && h.target.func == func)
    };
    let ty = component.component_type();
    for (name, import) in ty.imports(engine) {
        match import.ty {
            _ if name.starts_with("wasi:") => {}
            ComponentItem::ComponentFunc(f) if !hosted(None, name) => {
                define_trap(&mut linker.root(), name, &f, name.to_string())?;
            }
            ComponentItem::ComponentInstance(instance) => {
                let mut defined = linker.instance(name)?;
                for (func, item) in instance.exports(engine) {
                    if let ComponentItem::ComponentFunc(f) = item.ty
                        && !hosted(Some(name), func)
                    {
                        define_trap(&mut defined, func, &f, format!("{name}#{func}"))?;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Defines `name`, of type `ty`, as a function that traps, an async one for
/// an `async func`.
fn define_trap(
    instance: &mut wasmtime::component::LinkerInstance<'_, WasiHost>,
    name: &str,
    ty: &ComponentFunc,
    shown: String,
) -> wasmtime::Result<()> {
    if !ty.async_() {
        return instance.func_new(name, trap(shown));
    }
    instance.func_new_concurrent(
        name,
        concurrent(move |_, _, _, _| {
            let shown = shown.clone();
            Box::pin(async move { Err(unhosted(&shown)) })
        }),
    )
}

fn unhosted(name: &str) -> wasmtime::Error {
    wasmtime::format_err!(
        "import `{name}` was called, but the calls script gives no `host` line for it"
    )
}

/// The type of an async host function, spelled once so that closures get
/// its higher-ranked lifetimes.
fn concurrent<F>(f: F) -> F
where
    F: for<'a> Fn(
            &'a Accessor<WasiHost>,
            ComponentFunc,
            &'a [Val],
            &'a mut [Val],
        ) -> Pin<Box<dyn Future<Output = wasmtime::Result<()>> + Send + 'a>>
        + Send
        + Sync
        + 'static,
{
    f
}

/// A future that is pending the first time it is polled (waking itself)
/// and ready the second.
#[derive(Default)]
struct PendingOnce(bool);

impl Future for PendingOnce {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        if self.0 {
            return std::task::Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    }
}

type HostFunc = dyn Fn(
        wasmtime::StoreContextMut<'_, WasiHost>,
        ComponentFunc,
        &[Val],
        &mut [Val],
    ) -> wasmtime::Result<()>
    + Send
    + Sync;

fn trap(name: String) -> Box<HostFunc> {
    Box::new(move |_, _, _, _| Err(unhosted(&name)))
}

/// The type of the imported function `target`.
fn imported_func(
    engine: &Engine,
    component: &Component,
    target: &Target,
) -> Result<ComponentFunc, String> {
    let ty = component.component_type();
    let item = match &target.iface {
        None => ty.get_import(engine, &target.func).map(|e| e.ty),
        Some(iface) => match ty.get_import(engine, iface).map(|e| e.ty) {
            Some(ComponentItem::ComponentInstance(i)) => {
                i.get_export(engine, &target.func).map(|e| e.ty)
            }
            _ => return Err(format!("the component imports no interface `{iface}`")),
        },
    };
    match item {
        Some(ComponentItem::ComponentFunc(f)) => Ok(f),
        _ => Err("the component imports no such function".into()),
    }
}

struct Runner<'a> {
    engine: &'a Engine,
    component: &'a Component,
    instance: Instance,
    store: Store<WasiHost>,
    vars: HashMap<String, Val>,
    /// Set when the store takes only async calls (see [`run`]).
    runtime: Option<tokio::runtime::Runtime>,
}

impl Runner<'_> {
    fn func(&mut self, target: &Target) -> Result<Func, String> {
        let parent = match &target.iface {
            Some(iface) => Some(
                self.instance
                    .get_export_index(&mut self.store, None, iface)
                    .ok_or_else(|| format!("the component exports no `{iface}`"))?,
            ),
            None => None,
        };
        let index = self
            .instance
            .get_export_index(&mut self.store, parent.as_ref(), &target.func)
            .ok_or_else(|| format!("the component exports no function `{target}`"))?;
        self.instance
            .get_func(&mut self.store, index)
            .ok_or_else(|| format!("`{target}` is not a function"))
    }

    fn call(
        &mut self,
        target: &Target,
        args: &[Arg],
        expect: Option<&str>,
        bind: Option<&str>,
    ) -> Result<(), String> {
        let func = self.func(target)?;
        let ty = func.ty(&self.store);
        let params: Vec<(String, Type)> = ty.params().map(|(n, t)| (n.to_string(), t)).collect();
        if params.len() != args.len() {
            return Err(format!(
                "`{target}` takes {} argument(s), given {}",
                params.len(),
                args.len()
            ));
        }
        let mut values = Vec::new();
        for (arg, (name, ty)) in args.iter().zip(&params) {
            values.push(match arg {
                Arg::Var(var) => {
                    let (name, path) = match var.split_once('.') {
                        Some((name, path)) => (name, Some(path)),
                        None => (var.as_str(), None),
                    };
                    let value = self
                        .vars
                        .get(name)
                        .ok_or_else(|| format!("no `let {name} = ...` before"))?;
                    match path {
                        Some(path) => project(value, path)?,
                        None => {
                            let value = value.clone();
                            // Ownership moves into the callee.
                            if matches!(ty, Type::Own(_)) {
                                self.vars.remove(name);
                            }
                            value
                        }
                    }
                }
                Arg::Wave(text) => wasm_wave::from_str::<Val>(ty, text)
                    .map_err(|e| format!("argument `{name}`: cannot read `{text}`: {e}"))?,
            });
        }
        let result_ty = ty.results().next();
        let mut results = vec![Val::Bool(false); ty.results().len()];
        let called = match (&self.runtime, ty.async_()) {
            (Some(runtime), _) => {
                runtime.block_on(func.call_async(&mut self.store, &values, &mut results))
            }
            // An async export is called through wasmtime's event loop,
            // which runs the guest's callbacks until it returns.
            (None, true) => tokio::runtime::Builder::new_current_thread()
                .build()
                .map_err(|e| format!("no runtime for `{target}`: {e}"))?
                .block_on(func.call_async(&mut self.store, &values, &mut results)),
            (None, false) => func.call(&mut self.store, &values, &mut results),
        };
        called.map_err(|e| format!("`{target}` failed: {e:?}"))?;
        match (expect, results.first()) {
            (Some(want), Some(got)) => {
                let ty = result_ty.expect("a result has a type");
                let want = wasm_wave::from_str::<Val>(&ty, want)
                    .map_err(|e| format!("cannot read the expected result `{want}`: {e}"))?;
                let (want, got) = (show(&want), show(got));
                if want != got {
                    return Err(format!("`{target}` returned {got}, expected {want}"));
                }
            }
            (Some(_), None) => return Err(format!("`{target}` returns nothing")),
            (None, Some(got)) if bind.is_none() => {
                return Err(format!(
                    "`{target}` returned {}: check it with `-> VALUE` or keep it with `let`",
                    show(got)
                ));
            }
            (None, None) if bind.is_some() => {
                return Err(format!("`{target}` returns nothing to keep"));
            }
            _ => {}
        }
        if let (Some(name), Some(value)) = (bind, results.into_iter().next()) {
            self.vars.insert(name.to_string(), value);
        }
        Ok(())
    }

    fn drop_var(&mut self, name: &str) -> Result<(), String> {
        let Some(value) = self.vars.remove(name) else {
            return Err(format!(
                "no `${name}` to drop (never kept, moved or dropped)"
            ));
        };
        let mut handles = Vec::new();
        resources(&value, &mut handles);
        if handles.is_empty() {
            return Err(format!("`${name}` holds no resource"));
        }
        for r in handles {
            match &self.runtime {
                Some(runtime) => runtime.block_on(r.resource_drop_async(&mut self.store)),
                None => r.resource_drop(&mut self.store),
            }
            .map_err(|e| format!("dropping `${name}` failed: {e:?}"))?;
        }
        Ok(())
    }

    /// Calls `run` of the exported `wasi:cli/run@*` and expects `ok`.
    fn run(&mut self) -> Result<(), String> {
        let ty = self.component.component_type();
        let iface = ty
            .exports(self.engine)
            .map(|(name, _)| name)
            .find(|name| name.starts_with("wasi:cli/run@"))
            .ok_or("the component exports no `wasi:cli/run`")?
            .to_string();
        let target = Target {
            iface: Some(iface),
            func: "run".into(),
        };
        self.call(&target, &[], Some("ok"), None)
    }
}

/// Every resource handle inside `value`.
fn resources(value: &Val, out: &mut Vec<wasmtime::component::ResourceAny>) {
    match value {
        Val::Resource(r) => out.push(*r),
        Val::List(vs) | Val::Tuple(vs) => vs.iter().for_each(|v| resources(v, out)),
        Val::Record(fields) => fields.iter().for_each(|(_, v)| resources(v, out)),
        Val::Option(Some(v)) | Val::Variant(_, Some(v)) => resources(v, out),
        Val::Result(Ok(Some(v)) | Err(Some(v))) => resources(v, out),
        _ => {}
    }
}

/// The part of `value` at `path` (`ok`, `err`, `some`, a field name or an
/// element index, dot-separated).
fn project(value: &Val, path: &str) -> Result<Val, String> {
    let mut value = value;
    for seg in path.split('.') {
        let inner = match (value, seg) {
            (Val::Result(Ok(Some(v))), "ok") | (Val::Result(Err(Some(v))), "err") => Some(&**v),
            (Val::Option(Some(v)), "some") => Some(&**v),
            (Val::Record(fields), _) => fields.iter().find(|(n, _)| n == seg).map(|(_, v)| v),
            (Val::List(vs) | Val::Tuple(vs), _) => {
                seg.parse::<usize>().ok().and_then(|i| vs.get(i))
            }
            _ => None,
        };
        value = inner.ok_or_else(|| format!("`{seg}` is not a part of {}", show(value)))?;
    }
    Ok(value.clone())
}

/// A value as WAVE text (resources have none).
fn show(value: &Val) -> String {
    match value {
        Val::Resource(_) => "a resource handle".into(),
        v => wasm_wave::to_string(v).unwrap_or_else(|e| format!("<{e}>")),
    }
}

/// Checks the script reader on tricky lines (run as its own trial: this
/// test target has no libtest harness to run `#[test]` functions). Only
/// `tests/new.rs` runs it.
#[allow(dead_code)]
pub fn self_check() -> Result<(), String> {
    let (args, rest) = split_top_level(r#""a, b", [1, 2], ',', ok("(")) -> 3"#)?;
    check(
        args == [r#""a, b""#, "[1, 2]", "','", r#"ok("(")"#],
        "arguments",
    )?;
    check(rest == " -> 3", "text after the arguments")?;
    let (args, rest) = split_top_level(")")?;
    check(args.is_empty() && rest.is_empty(), "no arguments")?;
    check(split_top_level("1, 2").is_err(), "unclosed `(`")?;
    let script = Script::parse(
        "# comment\nhost a:b/c@1.0.0#f -> 1\nlet x = call i#[constructor]r(5)\n\
         call g($x) -> \"s\"\ndrop $x\nrun\nstdout \"hi\\n\"\n",
    )?;
    check(script.hosts.len() == 1, "one host line")?;
    check(
        script.hosts[0].target.to_string() == "a:b/c@1.0.0#f",
        "host target",
    )?;
    check(script.steps.len() == 5, "five steps")?;
    check(
        matches!(&script.steps[0].1, Step::Call { bind: Some(b), target, .. }
            if b == "x" && target.func == "[constructor]r"),
        "a `let` step",
    )?;
    check(matches!(&script.steps[3].1, Step::Run), "a `run` step")?;
    check(
        matches!(&script.steps[4].1, Step::Stdout(s) if s == "hi\n"),
        "a `stdout` step",
    )?;
    check(Script::parse("call f(1").is_err(), "unclosed call")?;
    check(Script::parse("frobnicate").is_err(), "unknown step")
}

fn check(ok: bool, what: &str) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(format!("script reader: {what}"))
    }
}
