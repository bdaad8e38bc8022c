//! Function bodies: the Rust spelling of each [`Step`], as a [`Backend`]
//! the abi driver walks a function's call sequence with.
//!
//! Operands are Rust expressions. Lowering works on *places* of the value
//! (`key`, `(*e)`, `t3.name`), so that nothing is moved or copied before
//! the call: a string's pointer stays valid for as long as the caller's
//! value lives. Compound results are bound to `tN` temporaries so that
//! every expression is evaluated once, in order. Compound steps are the
//! `blocks` module's.

use std::fmt::Write as _;
use std::rc::Rc;

use wcomp_abi::{Area, Backend, Cast, FunctionPlan, MemType, PlainData, Step, plain_data};
use wit_parser::abi::WasmType;
use wit_parser::{FunctionKind, Type, TypeDefKind, TypeId};

mod blocks;

use blocks::Open;

use super::names::{camel, snake};
use super::resource::fn_name;
use super::{Gen, flags_repr, int_repr};
use crate::BindError;

/// The Rust spelling of a core wasm type on wasm32.
pub(super) fn core_ty(t: WasmType) -> &'static str {
    match t {
        WasmType::I32 => "i32",
        WasmType::I64 => "i64",
        WasmType::F32 => "f32",
        WasmType::F64 => "f64",
        WasmType::Pointer => "*mut u8",
        WasmType::Length => "usize",
        // A core i64 that may carry a pointer (joined variant payloads).
        WasmType::PointerOrI64 => "i64",
    }
}

fn zero(t: WasmType) -> &'static str {
    match t {
        WasmType::I32 => "0i32",
        WasmType::I64 | WasmType::PointerOrI64 => "0i64",
        WasmType::F32 => "0f32",
        WasmType::F64 => "0f64",
        WasmType::Pointer => "core::ptr::null_mut::<u8>()",
        WasmType::Length => "0usize",
    }
}

/// Converts `e` between core types as [`Cast`] says: through the raw 64
/// bits, which covers every pair the joining rules produce (widen by zero
/// extension, narrow by wrapping, floats by their bits).
fn cast(e: &str, c: Cast) -> String {
    if c.from == c.to {
        return e.to_string();
    }
    let raw = match c.from {
        WasmType::I32 => format!("(({e}) as u32 as i64)"),
        WasmType::F32 => format!("(({e}).to_bits() as i64)"),
        WasmType::F64 => format!("(({e}).to_bits() as i64)"),
        WasmType::Pointer => format!("(({e}) as usize as i64)"),
        WasmType::Length => format!("(({e}) as i64)"),
        WasmType::I64 | WasmType::PointerOrI64 => format!("({e})"),
    };
    match c.to {
        WasmType::I32 => format!("({raw} as i32)"),
        WasmType::F32 => format!("f32::from_bits({raw} as u32)"),
        WasmType::F64 => format!("f64::from_bits({raw} as u64)"),
        WasmType::Pointer => format!("({raw} as usize as *mut u8)"),
        WasmType::Length => format!("({raw} as usize)"),
        WasmType::I64 | WasmType::PointerOrI64 => raw,
    }
}

fn mem_ty(t: MemType) -> &'static str {
    match t {
        MemType::U8 => "u8",
        MemType::S8 => "i8",
        MemType::U16 => "u16",
        MemType::S16 => "i16",
        MemType::I32 => "i32",
        MemType::I64 => "i64",
        MemType::F32 => "f32",
        MemType::F64 => "f64",
        MemType::Pointer => "*mut u8",
        MemType::Length => "usize",
    }
}

/// Which body is being written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// An imported function: the guest's code calls it.
    Import,
    /// The shim of an export: the host calls it.
    Export,
    /// An export's post-return function.
    PostReturn,
}

/// The writer of one function body.
pub(super) struct Body<'a, 'b> {
    g: &'a Gen<'b>,
    f: &'a FunctionPlan,
    mode: Mode,
    /// The module the function is written in (for type paths).
    path: &'a [String],
    /// The path to the `_rt` helpers (shared: every step may spell it).
    rt: Rc<str>,
    pub out: String,
    tmps: usize,
    /// The current base address (a `*mut u8` variable).
    base: String,
    /// Buffers an import's lowering allocated, freed after the call.
    pub cleanup: bool,
    /// Borrowed handles of imported resources lifted inside values, kept
    /// (in `lent`) until the export returns.
    pub lent: bool,
    /// Lowering a value the bindings own (an export's result): places are
    /// borrowed mutably, so strings and lists can hand their buffers over
    /// instead of being copied.
    owned: bool,
    /// An owned lowering took something out of the value.
    took: bool,
    /// An owned lowering left heap memory in the value, so it must be
    /// dropped rather than forgotten.
    leftover: bool,
    /// Open compound steps, innermost last.
    open: Vec<Open>,
    /// An import's result (bound at `FreeTemporaries`), the function's
    /// last expression.
    pub result: Option<String>,
}

impl<'a, 'b> Body<'a, 'b> {
    pub fn new(g: &'a Gen<'b>, f: &'a FunctionPlan, path: &'a [String], mode: Mode) -> Self {
        Body {
            g,
            f,
            mode,
            path,
            rt: g.rt(path).into(),
            out: String::new(),
            tmps: 0,
            base: "base".into(),
            cleanup: false,
            lent: false,
            owned: false,
            took: false,
            leftover: false,
            open: Vec::new(),
            result: None,
        }
    }

    /// How lowering borrows a place.
    fn borrow(&self) -> &'static str {
        if self.owned { "&mut " } else { "&" }
    }

    fn tmp(&mut self) -> String {
        self.tmps += 1;
        format!("t{}", self.tmps)
    }

    /// Binds `expr` to a fresh temporary and returns its name.
    fn bind(&mut self, expr: &str) -> String {
        let t = self.tmp();
        let _ = writeln!(self.out, "let {t} = {expr};");
        t
    }

    /// Starts writing a block into a buffer of its own; returns the saved
    /// output.
    fn divert(&mut self) -> String {
        std::mem::take(&mut self.out)
    }

    /// Ends a block's buffer: returns its text and restores `saved`.
    fn resume(&mut self, saved: String) -> String {
        std::mem::replace(&mut self.out, saved)
    }

    fn internal(&self, what: &str) -> BindError {
        BindError::Internal(format!(
            "{what} (writing `{}` of `{}`)",
            self.f.function.name, self.f.owner
        ))
    }

    /// The cases of variant `ty` as match patterns (`path::Case`), and
    /// whether each has a payload.
    fn variant_arms(&self, ty: TypeId) -> Result<Vec<(String, bool)>, BindError> {
        let TypeDefKind::Variant(v) = &self.g.resolve.types[ty].kind else {
            return Err(self.internal("a variant step names a type that is no variant"));
        };
        let tp = self.g.type_path(ty, self.path);
        Ok(v.cases
            .iter()
            .map(|c| (format!("{tp}::{}", camel(&c.name)), c.ty.is_some()))
            .collect())
    }

    /// Whether `result<T, E>` `ty` has an ok and an err payload.
    fn result_payloads(&self, ty: TypeId) -> Result<(bool, bool), BindError> {
        match &self.g.resolve.types[ty].kind {
            TypeDefKind::Result(r) => Ok((r.ok.is_some(), r.err.is_some())),
            _ => Err(self.internal("a result step names a type that is no result")),
        }
    }

    /// Field accessors of a record (`name`) or a tuple (`0`, `1`, ...).
    fn field_names(&self, ty: TypeId) -> Result<Vec<String>, BindError> {
        match &self.g.resolve.types[ty].kind {
            TypeDefKind::Record(r) => Ok(r.fields.iter().map(|f| snake(&f.name)).collect()),
            TypeDefKind::Tuple(t) => Ok((0..t.types.len()).map(|i| i.to_string()).collect()),
            _ => Err(self.internal("a record step names a type that is neither record nor tuple")),
        }
    }

    /// A stack area for an import's indirect parameters or result: `base`
    /// or `ret_base` points at it.
    fn area_decl(&mut self, what: &str, size: usize, align: usize) {
        let base = if what == "ret" { "ret_base" } else { "base" };
        let _ = writeln!(
            self.out,
            "#[repr(C, align({align}))]\nstruct Area{what}([core::mem::MaybeUninit<u8>; {size}]);\n\
             let mut {what}_area = Area{what}([core::mem::MaybeUninit::uninit(); {size}]);\n\
             let {base} = {what}_area.0.as_mut_ptr().cast::<u8>();"
        );
        self.base = base.to_string();
    }

    /// The place of import parameter `index`: borrowed parameters are
    /// places behind a reference.
    fn arg_place(&self, index: usize) -> Result<String, BindError> {
        let method = matches!(self.f.function.kind, FunctionKind::Method(_));
        let Some(p) = self.f.function.params.get(index) else {
            return Err(self.internal("an argument the function does not have"));
        };
        let name = match index {
            0 if method => "self".to_string(),
            _ => snake(&p.name),
        };
        Ok(
            match method && index == 0 || self.g.param_ty(&p.ty, self.path).starts_with('&') {
                true => format!("(*{name})"),
                false => name,
            },
        )
    }

    /// The call of the user's implementation of the export.
    fn impl_call(&self, args: &[String]) -> String {
        let args = args.join(", ");
        let fname = fn_name(self.f);
        match self.f.function.kind {
            FunctionKind::Constructor(r) => {
                let fallible = self.g.ctor_error(self.f).is_some();
                let r = self.g.camel_of(r);
                let made = format!("<T::{r} as Guest{r}>::new({args})");
                match fallible {
                    // `constructor(..) -> result<r, e>`: wrap the value made.
                    true => format!("{made}.map({r}::_wrap)"),
                    false => format!("{r}::_wrap({made})"),
                }
            }
            FunctionKind::Method(r) | FunctionKind::Static(r) => {
                let r = self.g.camel_of(r);
                format!("<T::{r} as Guest{r}>::{fname}({args})")
            }
            _ => format!("T::{fname}({args})"),
        }
    }

    /// One operand in, `f` of it out.
    fn unary(
        &self,
        operands: Vec<String>,
        f: impl Fn(&str) -> String,
    ) -> Result<Vec<String>, BindError> {
        Ok(vec![f(&self.one(operands)?)])
    }

    fn one(&self, operands: Vec<String>) -> Result<String, BindError> {
        let mut operands = operands;
        match (operands.pop(), operands.is_empty()) {
            (Some(v), true) => Ok(v),
            _ => Err(self.internal("a step was given other than one operand")),
        }
    }
}

/// Rust answers the list question with the element's plain-data facts:
/// only numbers, whose memory form is Rust's, are copied as bytes.
fn as_bytes(g: &Gen<'_>, element: &Type) -> bool {
    plain_data(g.resolve, element) == PlainData::Number
}

impl Backend for Body<'_, '_> {
    type Operand = String;
    type Error = BindError;

    fn list_as_bytes(&mut self, element: &Type) -> bool {
        as_bytes(self.g, element)
    }

    fn step(&mut self, step: &Step, ops: Vec<String>) -> Result<Vec<String>, BindError> {
        let g = self.g;
        let path = self.path;
        let rt = self.rt.clone();
        match step {
            Step::I32FromBool
            | Step::I32FromU8
            | Step::I32FromS8
            | Step::I32FromU16
            | Step::I32FromS16 => self.unary(ops, |v| format!("i32::from({v})")),
            Step::I32FromU32 => self.unary(ops, |v| format!("({v} as i32)")),
            Step::I64FromU64 => self.unary(ops, |v| format!("({v} as i64)")),
            Step::I32FromS32
            | Step::I64FromS64
            | Step::CoreF32FromF32
            | Step::CoreF64FromF64
            | Step::S32FromI32
            | Step::S64FromI64 => Ok(ops),
            Step::I32FromChar => self.unary(ops, |v| format!("(u32::from({v}) as i32)")),
            Step::BoolFromI32 => self.unary(ops, |v| format!("({v} != 0)")),
            Step::U8FromI32 => self.unary(ops, |v| format!("({v} as u8)")),
            Step::S8FromI32 => self.unary(ops, |v| format!("({v} as i8)")),
            Step::U16FromI32 => self.unary(ops, |v| format!("({v} as u16)")),
            Step::S16FromI32 => self.unary(ops, |v| format!("({v} as i16)")),
            Step::U32FromI32 => self.unary(ops, |v| format!("({v} as u32)")),
            Step::U64FromI64 => self.unary(ops, |v| format!("({v} as u64)")),
            // NaN payloads are kept: canonicalisation is for the
            // deterministic profile only (see the step's docs).
            Step::F32FromCoreF32 | Step::F64FromCoreF64 => Ok(ops),
            Step::CharFromI32 => self.unary(ops, |v| {
                format!("char::from_u32({v} as u32).unwrap_or_else(|| {rt}::invalid())")
            }),
            Step::Load { offset, ty } => {
                let read = format!("*{}.add({offset}).cast::<{}>()", self.base, mem_ty(*ty));
                Ok(vec![match ty {
                    MemType::U8 | MemType::S8 | MemType::U16 | MemType::S16 => {
                        format!("i32::from({read})")
                    }
                    _ => format!("({read})"),
                }])
            }
            Step::Store { offset, ty } => {
                let v = self.one(ops)?;
                let v = match ty {
                    MemType::U8 | MemType::S8 | MemType::U16 | MemType::S16 => {
                        format!("({v}) as {}", mem_ty(*ty))
                    }
                    _ => v,
                };
                let _ = writeln!(
                    self.out,
                    "*{}.add({offset}).cast::<{}>() = {v};",
                    self.base,
                    mem_ty(*ty)
                );
                Ok(Vec::new())
            }
            Step::Casts(casts) => Ok(ops.iter().zip(casts).map(|(v, c)| cast(v, *c)).collect()),
            Step::Zeros(types) => Ok(types.iter().map(|t| zero(*t).to_string()).collect()),
            Step::Drop(_) => Ok(Vec::new()),
            Step::StringLower { realloc } if *realloc && self.owned => {
                // Hand the string's own buffer over (exact-size, as the
                // post-return function frees it), leaving an empty one.
                let v = self.one(ops)?;
                self.took = true;
                let t = self.bind(&format!("core::mem::take(&mut {v}).into_boxed_str()"));
                let len = self.bind(&format!("{t}.len()"));
                let p = self.bind(&format!("Box::into_raw({t}).cast::<u8>()"));
                Ok(vec![p, len])
            }
            Step::StringLower { realloc } => {
                self.leftover |= self.owned;
                let v = self.one(ops)?;
                let t = self.bind(&format!("&{v}"));
                let p = if *realloc {
                    self.bind(&format!("{rt}::copy_out({t}.as_ptr(), {t}.len(), 1)"))
                } else {
                    format!("{t}.as_ptr().cast_mut()")
                };
                Ok(vec![p, format!("{t}.len()")])
            }
            Step::StringLift => {
                let [ptr, len] = two(self, ops)?;
                let t = self.bind(&format!("{rt}::string_lift({ptr}, {len})"));
                Ok(vec![t])
            }
            Step::FlagsLower { words, .. } => {
                let v = self.one(ops)?;
                let t = self.bind(&format!("{v}.bits()"));
                Ok((0..*words)
                    .map(|w| format!("(({t} >> {}) as i32)", 32 * w))
                    .collect())
            }
            Step::FlagsLift { ty, count, .. } => {
                let repr = flags_repr(*count);
                let bits: Vec<String> = ops
                    .iter()
                    .enumerate()
                    .map(|(i, w)| format!("(({w} as u32 as {repr}) << {})", 32 * i))
                    .collect();
                let t = self.bind(&format!(
                    "{}::from_bits_truncate({})",
                    g.type_path(*ty, path),
                    bits.join(" | ")
                ));
                Ok(vec![t])
            }
            Step::EnumLower { .. } => self.unary(ops, |v| format!("({v} as i32)")),
            Step::EnumLift { ty, cases } => {
                let d = self.one(ops)?;
                let d = self.bind(&d);
                let repr = int_repr(*cases);
                // The enum is `repr(uN)` with cases in declaration order,
                // so a checked index is a valid discriminant.
                let t = self.bind(&format!(
                    "if ({d} as u32) < {cases} {{ core::mem::transmute::<{repr}, {}>({d} as {repr}) }} else {{ {rt}::invalid() }}",
                    g.type_path(*ty, path),
                ));
                Ok(vec![t])
            }
            // An owned handle is taken from its value (which then drops
            // nothing); a borrowed one is lent.
            Step::HandleLower { own, .. } => {
                let method = if *own { "take_handle" } else { "handle" };
                self.unary(ops, |v| format!("({v}.{method}() as i32)"))
            }
            Step::HandleLift {
                resource,
                own,
                exported,
            } => {
                let v = self.one(ops)?;
                let lifted = if *own {
                    format!(
                        "{}::from_handle(({v}) as u32)",
                        g.type_path(*resource, path)
                    )
                } else if *exported && (!self.open.is_empty() || !g.same_module(*resource, self.f))
                {
                    // Inside a value, or a resource of another interface:
                    // the type's `RBorrow`, which the user's `get` reads (a
                    // field, or another interface's trait, cannot name `T`).
                    format!(
                        "{}Borrow::_lift(({v}) as u32 as usize as *mut u8)",
                        g.type_path(*resource, path)
                    )
                } else if *exported {
                    // A borrow of the guest's own resource is its rep: the
                    // address of the user's value (see `_wrap`).
                    format!(
                        "&*(({v}) as u32 as usize as *const T::{})",
                        g.camel_of(*resource)
                    )
                } else if !self.open.is_empty() {
                    // Inside a value (a list element, a field): the handle
                    // lives in `lent` until the call returns, so the
                    // reference outlives the block that lifted it. The
                    // handle type is a transparent `AtomicU32`.
                    self.lent = true;
                    let b = self.bind(&format!(
                        "Box::new(core::sync::atomic::AtomicU32::new(({v}) as u32))"
                    ));
                    let p = self.bind(&format!(
                        "&*{b} as *const core::sync::atomic::AtomicU32 as *const {}",
                        g.type_path(*resource, path)
                    ));
                    let _ = writeln!(self.out, "lent.push({b});");
                    format!("&*{p}")
                } else {
                    // Lent for the call: a handle value that must not drop it.
                    let t = self.bind(&format!(
                        "core::mem::ManuallyDrop::new({}::from_handle(({v}) as u32))",
                        g.type_path(*resource, path)
                    ));
                    format!("&*{t}")
                };
                Ok(vec![lifted])
            }
            Step::FreeString { offset } => {
                let _ = writeln!(
                    self.out,
                    "{rt}::free(*{b}.add({offset}).cast::<*mut u8>(), *{b}.add({}).cast::<usize>(), 1);",
                    offset + 4,
                    b = self.base
                );
                Ok(Vec::new())
            }
            Step::FreeHandle {
                offset, resource, ..
            } => {
                let _ = writeln!(
                    self.out,
                    "drop({}::from_handle(*{}.add({offset}).cast::<u32>()));",
                    g.type_path(*resource, path),
                    self.base
                );
                Ok(Vec::new())
            }
            Step::GetArg { index } => Ok(vec![self.arg_place(*index)?]),
            Step::CoreArg { index, .. } => Ok(vec![format!("arg{index}")]),
            Step::Area { area, layout } => {
                match (self.mode, area) {
                    (Mode::Import, Area::Params) => {
                        self.area_decl("params", layout.size, layout.align)
                    }
                    (Mode::Import, Area::Return) => {
                        self.area_decl("ret", layout.size, layout.align)
                    }
                    // The caller's area, or the area post-return receives.
                    (Mode::Export, Area::Params) | (Mode::PostReturn, _) => {
                        self.base = "arg0".into()
                    }
                    (Mode::Export, Area::Return) => {
                        let _ = writeln!(
                            self.out,
                            "let base = (&raw mut {rt}::RET_AREA).cast::<u8>();"
                        );
                        self.base = "base".into();
                    }
                }
                Ok(Vec::new())
            }
            Step::AreaAddress { .. } => Ok(vec![self.base.clone()]),
            Step::CallImport { results, .. } => {
                let call = format!("wit_import({})", ops.join(", "));
                if results.is_empty() {
                    let _ = writeln!(self.out, "{call};");
                    Ok(Vec::new())
                } else {
                    let _ = writeln!(self.out, "let ret = {call};");
                    Ok(vec!["ret".to_string()])
                }
            }
            Step::FreeTemporaries { .. } => {
                // The result first: it is then complete.
                let result: Vec<String> = ops.iter().map(|v| self.bind(v)).collect();
                if self.cleanup {
                    let _ = writeln!(
                        self.out,
                        "for (p, size, align) in cleanup {{ {rt}::free(p, size, align); }}"
                    );
                }
                Ok(result)
            }
            Step::ArgLifted { index } => {
                // Bound now: the parameter area may be freed before the call.
                let v = self.one(ops)?;
                let a = format!("a{index}");
                let _ = writeln!(self.out, "let {a} = {v};");
                Ok(vec![a])
            }
            Step::FreeArea { layout, .. } => {
                let _ = writeln!(
                    self.out,
                    "{rt}::free(arg0, {}, {});",
                    layout.size, layout.align
                );
                Ok(Vec::new())
            }
            Step::CallImpl { results, .. } => {
                let call = self.impl_call(&ops);
                if *results == 0 {
                    let _ = writeln!(self.out, "{call};");
                    return Ok(Vec::new());
                }
                let _ = writeln!(self.out, "let mut result = {call};");
                // What follows lowers the result, which the bindings own.
                self.owned = true;
                Ok(vec!["result".to_string()])
            }
            Step::PayloadLower { .. } => {
                let v = self.one(ops)?;
                Ok(vec![self.bind(&format!("{v}.take_handle()"))])
            }
            Step::PayloadLift { ty, .. } => {
                let v = self.one(ops)?;
                let reader = self.g.ty(&Type::Id(*ty), self.path);
                Ok(vec![self.bind(&format!("<{reader}>::from_handle({v})"))])
            }
            Step::AwaitSubtask => {
                let v = self.one(ops)?;
                let _ = writeln!(self.out, "{rt}::task::subtask({v}).await;");
                Ok(Vec::new())
            }
            Step::SpawnTask { .. } => {
                let call = self.impl_call(&ops);
                let task_return = super::task::task_return_fn(self.g, self.f);
                // Borrowed handles lifted in the arguments live as long as
                // the task, and are given back before it returns.
                let keep = if self.lent { "drop(lent);\n" } else { "" };
                let body = match super::task::task_return_arg(self.g, self.f, self.path) {
                    Some(arg) => {
                        format!("let result = {call}.await;\n{keep}{task_return}({arg});")
                    }
                    None => format!("{call}.await;\n{keep}{task_return}();"),
                };
                let _ = writeln!(
                    self.out,
                    "let code = {rt}::task::start(async move {{\n{body}\n}});"
                );
                Ok(vec!["code".to_string()])
            }
            Step::Return { .. } => {
                let Some(v) = ops.last() else {
                    return Ok(Vec::new());
                };
                if self.mode == Mode::Import {
                    self.result = Some(v.clone());
                    return Ok(Vec::new());
                }
                // What owned memory was handed over; the rest is plain data
                // and emptied containers, not worth a drop.
                if self.f.return_area.is_some() && self.took && !self.leftover {
                    let _ = writeln!(self.out, "core::mem::forget(result);");
                }
                let _ = writeln!(self.out, "{v}");
                Ok(Vec::new())
            }
            _ => Err(self.internal(&format!("step `{}` has blocks", step.name()))),
        }
    }
    fn begin(&mut self, step: &Step, ops: Vec<String>, as_bytes: bool) -> Result<(), BindError> {
        let open = self.open_step(step, ops, as_bytes)?;
        self.open.push(open);
        Ok(())
    }

    fn enter(&mut self, index: usize) -> Result<Vec<String>, BindError> {
        self.enter_block(index)
    }

    fn leave(&mut self, results: Vec<String>) -> Result<(), BindError> {
        self.leave_block(results)
    }

    fn end(&mut self) -> Result<Vec<String>, BindError> {
        self.close_step()
    }
}

/// The two operands of a (pointer, length) step.
fn two(body: &Body<'_, '_>, ops: Vec<String>) -> Result<[String; 2], BindError> {
    <[String; 2]>::try_from(ops)
        .map_err(|_| body.internal("a pointer-and-length step was given other than two operands"))
}
