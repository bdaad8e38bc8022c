//! Function bodies: the Go spelling of each [`Step`], as a [`Backend`] the
//! abi driver walks a call sequence with.
//!
//! Operands are Go expressions; what a step makes is bound to a `tN`
//! variable once, in order. Lowering reads places of the value (`key`,
//! `t3.Name`), so nothing is copied before the call. Every pointer handed
//! to the host is kept reachable: for an import, in `keep` until the call
//! returns; for an export's result, in the package's pins until
//! post-return. Lifting copies out of the receive buffer, which is reset
//! once an export's arguments or an import's results are lifted.

use std::fmt::Write as _;

use wcomp_abi::{Area, Backend, Cast, FunctionPlan, Kind, MemType, PlainData, Step, plain_data};
use wit_parser::abi::WasmType;
use wit_parser::{Type, TypeDefKind, TypeId};

use super::Gen;
use crate::BindError;

/// The Go spelling of a core wasm type.
pub(super) fn core_ty(t: WasmType) -> &'static str {
    match t {
        WasmType::I32 => "int32",
        WasmType::I64 | WasmType::PointerOrI64 => "int64",
        WasmType::F32 => "float32",
        WasmType::F64 => "float64",
        WasmType::Pointer => "unsafe.Pointer",
        WasmType::Length => "uint32",
    }
}

fn zero(t: WasmType) -> &'static str {
    match t {
        WasmType::I32 => "int32(0)",
        WasmType::I64 | WasmType::PointerOrI64 => "int64(0)",
        WasmType::F32 => "float32(0)",
        WasmType::F64 => "float64(0)",
        WasmType::Pointer => "unsafe.Pointer(nil)",
        WasmType::Length => "uint32(0)",
    }
}

/// The Go type a memory type is read and written as.
fn mem_ty(t: MemType) -> &'static str {
    match t {
        MemType::U8 => "uint8",
        MemType::S8 => "int8",
        MemType::U16 => "uint16",
        MemType::S16 => "int16",
        MemType::I32 => "int32",
        MemType::I64 => "int64",
        MemType::F32 => "float32",
        MemType::F64 => "float64",
        MemType::Pointer | MemType::Length => "uint32",
    }
}

/// Converts `e` between core types as [`Cast`] says, through the raw 64
/// bits (widen by zero extension, narrow by wrapping, floats by bits).
fn cast(e: &str, c: Cast) -> String {
    if c.from == c.to {
        return e.to_string();
    }
    let raw = match c.from {
        WasmType::I32 => format!("int64(uint32({e}))"),
        WasmType::F32 => format!("int64(math.Float32bits({e}))"),
        WasmType::F64 => format!("int64(math.Float64bits({e}))"),
        WasmType::Pointer => format!("int64(uintptr({e}))"),
        WasmType::Length => format!("int64({e})"),
        WasmType::I64 | WasmType::PointerOrI64 => e.to_string(),
    };
    match c.to {
        WasmType::I32 => format!("int32({raw})"),
        WasmType::F32 => format!("math.Float32frombits(uint32({raw}))"),
        WasmType::F64 => format!("math.Float64frombits(uint64({raw}))"),
        WasmType::Pointer => format!("unsafe.Add(nil, uintptr({raw}))"),
        WasmType::Length => format!("uint32({raw})"),
        WasmType::I64 | WasmType::PointerOrI64 => raw,
    }
}

/// Which body is being written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// An imported function: the guest's code calls it.
    Import,
    /// The core export the host calls.
    Export,
    /// An export's post-return function.
    PostReturn,
    /// A future's or stream's value stored into or loaded from a read or
    /// write buffer: what it lends joins `keep`.
    Element,
}

/// The cases of a variant-like step.
#[derive(Clone)]
enum Cases {
    /// A variant: each case's constant and payload field.
    Variant(Vec<(String, Option<String>)>),
    Option,
    /// `result`: whether ok and err have payloads.
    Result(bool, bool),
}

impl Cases {
    fn tag(&self, place: &str) -> String {
        match self {
            Cases::Variant(_) => format!("{place}.Case"),
            Cases::Option => format!("cabiTag({place}.IsSome)"),
            Cases::Result(..) => format!("cabiTag({place}.IsErr)"),
        }
    }

    fn label(&self, i: usize) -> String {
        match self {
            Cases::Variant(cases) => cases.get(i).map_or(i.to_string(), |(c, _)| c.clone()),
            _ => i.to_string(),
        }
    }

    fn payload(&self, place: &str, i: usize) -> Option<String> {
        match (self, i) {
            (Cases::Variant(cases), _) => cases
                .get(i)
                .and_then(|(_, f)| f.as_ref())
                .map(|f| format!("{place}.{f}")),
            (Cases::Option, 1) => Some(format!("{place}.Value")),
            (Cases::Result(true, _), 0) => Some(format!("{place}.Ok")),
            (Cases::Result(_, true), 1) => Some(format!("{place}.Err")),
            _ => None,
        }
    }

    /// The composite literal of case `i` of type `ty` with `payload`.
    fn make(&self, ty: &str, i: usize, payload: Option<&String>) -> String {
        let field = self.payload("", i);
        let with = match (field, payload) {
            (Some(f), Some(v)) => format!(", {}: {v}", f.trim_start_matches('.')),
            _ => String::new(),
        };
        match self {
            Cases::Variant(_) => format!("{ty}{{Case: {}{with}}}", self.label(i)),
            Cases::Option if i == 1 => format!("{ty}{{IsSome: true{with}}}"),
            Cases::Option => format!("{ty}{{}}"),
            Cases::Result(..) if i == 1 => format!("{ty}{{IsErr: true{with}}}"),
            Cases::Result(..) => match with.strip_prefix(", ") {
                Some(w) => format!("{ty}{{{w}}}"),
                None => format!("{ty}{{}}"),
            },
        }
    }
}

/// The loop of a list's element block.
struct Loop {
    i: String,
    base: String,
    saved_base: String,
    saved_out: String,
}

/// A compound step while its blocks are written.
enum Open {
    Done(Vec<String>),
    ListLower {
        t: String,
        buf: String,
        size: usize,
        lp: Option<Loop>,
    },
    ListLift {
        p: String,
        v: String,
        size: usize,
        lp: Option<Loop>,
    },
    MapLower {
        t: String,
        buf: String,
        size: usize,
        k: String,
        v: String,
        lp: Option<Loop>,
    },
    MapLift {
        p: String,
        n: String,
        m: String,
        size: usize,
        lp: Option<Loop>,
    },
    FieldsLower {
        place: String,
        names: Vec<String>,
        outs: Vec<String>,
    },
    FieldsLift {
        ty: TypeId,
        inputs: std::vec::IntoIter<String>,
        counts: Vec<usize>,
        values: Vec<String>,
    },
    VariantLower {
        place: String,
        cases: Cases,
        outs: Vec<String>,
        kinds: Vec<WasmType>,
        text: String,
        case: usize,
        saved: String,
    },
    VariantLift {
        d: String,
        values: Vec<String>,
        cases: Cases,
        var: String,
        ty: String,
        text: String,
        case: usize,
        saved: String,
    },
    /// A free step: Go's collector frees, so its blocks' text is
    /// dropped (`saved` is the output while a block is written).
    Free {
        saved: String,
    },
}

/// The writer of one body.
pub(super) struct Body<'a, 'b> {
    g: &'a Gen<'b>,
    f: &'a FunctionPlan,
    mode: Mode,
    pub out: String,
    tmps: usize,
    base: String,
    open: Vec<Open>,
    /// An import's lowering kept pointers in `keep`.
    pub keeps: bool,
    /// An import's result, returned by the function.
    pub result: Option<String>,
    /// The core import's Go name, when not the function's own
    /// (`wasmimport` and its glue name): for a task's `task.return`.
    pub symbol: Option<String>,
}

impl<'a, 'b> Body<'a, 'b> {
    pub fn new(g: &'a Gen<'b>, f: &'a FunctionPlan, mode: Mode) -> Self {
        Body {
            g,
            f,
            mode,
            out: String::new(),
            tmps: 0,
            base: "base".into(),
            open: Vec::new(),
            keeps: false,
            result: None,
            symbol: None,
        }
    }

    fn tmp(&mut self) -> String {
        self.tmps += 1;
        format!("t{}", self.tmps)
    }

    fn bind(&mut self, expr: &str) -> String {
        let t = self.tmp();
        let _ = writeln!(self.out, "{t} := {expr}");
        t
    }

    fn internal(&self, what: &str) -> BindError {
        BindError::Internal(format!(
            "{what} (writing `{}` of `{}`)",
            self.f.function.name, self.f.owner
        ))
    }

    fn one(&self, ops: Vec<String>) -> Result<String, BindError> {
        let mut ops = ops;
        match (ops.pop(), ops.is_empty()) {
            (Some(v), true) => Ok(v),
            _ => Err(self.internal("a step was given other than one operand")),
        }
    }

    fn two(&self, ops: Vec<String>) -> Result<[String; 2], BindError> {
        <[String; 2]>::try_from(ops).map_err(|_| {
            self.internal("a pointer-and-length step was given other than two operands")
        })
    }

    fn unary(
        &self,
        ops: Vec<String>,
        f: impl Fn(&str) -> String,
    ) -> Result<Vec<String>, BindError> {
        Ok(vec![f(&self.one(ops)?)])
    }

    /// `unsafe.Add(base, offset)`.
    fn at(&self, offset: usize) -> String {
        match offset {
            0 => self.base.clone(),
            _ => format!("unsafe.Add({}, {offset})", self.base),
        }
    }

    /// Keeps pointer `p` reachable while the host may read it.
    fn pin(&mut self, p: &str) {
        match self.mode {
            Mode::Import | Mode::Element => {
                self.keeps = true;
                let _ = writeln!(self.out, "keep = append(keep, {p})");
            }
            _ => {
                let _ = writeln!(self.out, "cabiPin({p})");
            }
        }
    }

    fn divert(&mut self) -> String {
        std::mem::take(&mut self.out)
    }

    fn resume(&mut self, saved: String) -> String {
        std::mem::replace(&mut self.out, saved)
    }

    fn begin_loop(&mut self) -> Loop {
        let (i, base) = (self.tmp(), self.tmp());
        let saved_base = std::mem::replace(&mut self.base, base.clone());
        Loop {
            i,
            base,
            saved_base,
            saved_out: self.divert(),
        }
    }

    fn end_loop(&mut self, lp: Option<Loop>) -> Result<(String, String, String), BindError> {
        let lp = lp.ok_or_else(|| self.internal("a list block left without being entered"))?;
        let body = self.resume(lp.saved_out);
        self.base = lp.saved_base;
        Ok((lp.i, lp.base, body))
    }

    fn cases(&self, step: &Step) -> Result<Cases, BindError> {
        match step {
            Step::OptionLower { .. } | Step::OptionLift { .. } => Ok(Cases::Option),
            Step::ResultLower { ty, .. } | Step::ResultLift { ty, .. } => {
                match &self.g.resolve.types[*ty].kind {
                    TypeDefKind::Result(r) => Ok(Cases::Result(r.ok.is_some(), r.err.is_some())),
                    _ => Err(self.internal("a result step names a type that is no result")),
                }
            }
            Step::VariantLower { ty, .. } | Step::VariantLift { ty, .. } => {
                match &self.g.resolve.types[*ty].kind {
                    TypeDefKind::Variant(v) => Ok(Cases::Variant(
                        (0..v.cases.len())
                            .map(|i| (self.g.case_name(*ty, i), self.g.payload_of(*ty, i)))
                            .collect(),
                    )),
                    _ => Err(self.internal("a variant step names a type that is no variant")),
                }
            }
            _ => Err(self.internal("not a variant step")),
        }
    }

    /// The place of parameter `index` of the function.
    fn arg_place(&self, index: usize) -> Result<String, BindError> {
        if index >= self.f.function.params.len() {
            return Err(self.internal("an argument the function does not have"));
        }
        Ok(super::func::param_name(self.f, index))
    }

    /// The call of the user's implementation, binding `result` when there
    /// is one.
    fn call_impl(&mut self, args: &[String]) -> Result<Vec<String>, BindError> {
        let g = self.g;
        let name = g.func_name(self.f);
        let call = match self.f.function.kind {
            wit_parser::FunctionKind::Method(_) => {
                format!("{}.{name}({})", args[0], args[1..].join(", "))
            }
            // The user makes the value; the bindings make its handle.
            wit_parser::FunctionKind::Constructor(r) => {
                let call = format!("cabiExports.{name}({})", args.join(", "));
                let new = format!("New{}", g.type_name(r));
                let Some(result) = &self.f.function.result else {
                    return Err(self.internal("a constructor without a result"));
                };
                let ty = g.gty(result);
                let what = format!("{}.{name}", g.helper("Exports"));
                match (
                    g.error_style(&self.f.function.result),
                    g.constructor_error(self.f),
                ) {
                    (Some((_, e)), _) => {
                        let _ = writeln!(
                            self.out,
                            "v, err := {call}\nvar result {ty}\nif err != nil {{\nresult = {ty}{{IsErr: true, Err: cabiAsError[{}](err, \"{what}\")}}\n}} else {{\nresult = {ty}{{Ok: {new}(v)}}\n}}",
                            g.type_name(e)
                        );
                    }
                    (None, Some(_)) => {
                        let _ = writeln!(
                            self.out,
                            "made := {call}\nresult := {ty}{{IsErr: made.IsErr, Err: made.Err}}\nif !made.IsErr {{\nresult.Ok = {new}(made.Ok)\n}}"
                        );
                    }
                    (None, None) => {
                        let _ = writeln!(self.out, "result := {new}({call})");
                    }
                }
                return Ok(vec!["result".into()]);
            }
            _ => format!("cabiExports.{name}({})", args.join(", ")),
        };
        let Some(result) = &self.f.function.result else {
            let _ = writeln!(self.out, "{call}");
            return Ok(Vec::new());
        };
        match g.error_style(&self.f.function.result) {
            Some((ok, e)) => {
                let ty = g.gty(result);
                let ename = g.type_name(e);
                let what = format!("{}.{name}", g.helper("Exports"));
                match ok {
                    Some(_) => {
                        let _ = writeln!(
                            self.out,
                            "v, err := {call}\nresult := {ty}{{Ok: v}}\nif err != nil {{\nresult = {ty}{{IsErr: true, Err: cabiAsError[{ename}](err, \"{what}\")}}\n}}"
                        );
                    }
                    None => {
                        let _ = writeln!(
                            self.out,
                            "var result {ty}\nif err := {call}; err != nil {{\nresult = {ty}{{IsErr: true, Err: cabiAsError[{ename}](err, \"{what}\")}}\n}}"
                        );
                    }
                }
            }
            None => {
                let _ = writeln!(self.out, "result := {call}");
            }
        }
        Ok(vec!["result".into()])
    }

    /// An async import: the host may read its arguments and write its
    /// result after the core call returns, until the subtask returns.
    fn async_import(&self) -> bool {
        self.mode == Mode::Import && self.f.asynchronous.is_some()
    }

    /// An async export's task: the user's method runs on a goroutine, and
    /// its result leaves through the `task.return` function
    /// ([`task_return_name`]).
    fn spawn(&mut self, args: &[String]) -> Result<Vec<String>, BindError> {
        if self.f.needs_realloc {
            // The arguments are copied: the receive buffer is free.
            let _ = writeln!(self.out, "cabiReset()");
        }
        let saved = self.divert();
        let result = self.call_impl(args)?;
        let run = self.resume(saved);
        let give = task_return_name(self.g, self.f);
        let _ = writeln!(
            self.out,
            "code := cabiSpawn(func() func() {{\n{run}return func() {{\n{give}({})\n}}\n}})",
            result.join(", ")
        );
        Ok(vec!["code".into()])
    }

    fn list_elem(&self, element: &Type) -> String {
        self.g.gty(element)
    }
}

/// The Go function giving async export `f`'s result (`task.return`).
pub(super) fn task_return_name(g: &Gen<'_>, f: &FunctionPlan) -> String {
    format!("cabiReturn{}", g.glue_name(f))
}

/// Only numbers are laid out in Go's memory as the canonical ABI has them.
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
        match step {
            Step::I32FromBool => self.unary(ops, |v| format!("cabiBool({v})")),
            Step::I32FromU8
            | Step::I32FromS8
            | Step::I32FromU16
            | Step::I32FromS16
            | Step::I32FromU32
            | Step::I32FromChar
            | Step::EnumLower { .. } => self.unary(ops, |v| format!("int32({v})")),
            Step::I64FromU64 => self.unary(ops, |v| format!("int64({v})")),
            Step::I32FromS32
            | Step::I64FromS64
            | Step::CoreF32FromF32
            | Step::CoreF64FromF64
            | Step::S32FromI32
            | Step::S64FromI64
            // NaN payloads are kept: canonicalisation is for the
            // deterministic profile only (see the step's docs).
            | Step::F32FromCoreF32
            | Step::F64FromCoreF64 => Ok(ops),
            Step::BoolFromI32 => self.unary(ops, |v| format!("({v} != 0)")),
            Step::U8FromI32 => self.unary(ops, |v| format!("uint8({v})")),
            Step::S8FromI32 => self.unary(ops, |v| format!("int8({v})")),
            Step::U16FromI32 => self.unary(ops, |v| format!("uint16({v})")),
            Step::S16FromI32 => self.unary(ops, |v| format!("int16({v})")),
            Step::U32FromI32 => self.unary(ops, |v| format!("uint32({v})")),
            Step::U64FromI64 => self.unary(ops, |v| format!("uint64({v})")),
            Step::CharFromI32 => {
                let v = self.one(ops)?;
                Ok(vec![self.bind(&format!("cabiChar({v})"))])
            }
            Step::Load { offset, ty } => {
                let read = format!("*(*{})({})", mem_ty(*ty), self.at(*offset));
                Ok(vec![match ty {
                    MemType::U8 | MemType::S8 | MemType::U16 | MemType::S16 => {
                        format!("int32({read})")
                    }
                    MemType::Pointer => format!("unsafe.Add(nil, {read})"),
                    _ => read,
                }])
            }
            Step::Store { offset, ty } => {
                let v = self.one(ops)?;
                let v = match ty {
                    MemType::U8 | MemType::S8 | MemType::U16 | MemType::S16 => {
                        format!("{}({v})", mem_ty(*ty))
                    }
                    MemType::Pointer => format!("uint32(uintptr({v}))"),
                    _ => v,
                };
                let _ = writeln!(
                    self.out,
                    "*(*{})({}) = {v}",
                    mem_ty(*ty),
                    self.at(*offset)
                );
                Ok(Vec::new())
            }
            Step::Casts(casts) => Ok(ops.iter().zip(casts).map(|(v, c)| cast(v, *c)).collect()),
            Step::Zeros(types) => Ok(types.iter().map(|t| zero(*t).to_string()).collect()),
            Step::Drop(_) => {
                for v in ops {
                    if v.starts_with('t') && v[1..].chars().all(|c| c.is_ascii_digit()) {
                        let _ = writeln!(self.out, "_ = {v}");
                    }
                }
                Ok(Vec::new())
            }
            Step::StringLower { .. } => {
                let v = self.one(ops)?;
                let t = self.bind(&v);
                let p = self.bind(&format!("unsafe.Pointer(unsafe.StringData({t}))"));
                self.pin(&p);
                Ok(vec![p, format!("uint32(len({t}))")])
            }
            Step::StringLift => {
                let [p, n] = self.two(ops)?;
                Ok(vec![self.bind(&format!("cabiString({p}, {n})"))])
            }
            Step::FlagsLower { words, .. } => {
                let v = self.one(ops)?;
                Ok(match words {
                    1 => vec![format!("int32({v})")],
                    _ => (0..*words)
                        .map(|w| match w {
                            0 => format!("int32(uint32({v}))"),
                            _ => format!("int32(uint32({v} >> {}))", 32 * w),
                        })
                        .collect(),
                })
            }
            Step::FlagsLift { ty, count, .. } => {
                let name = g.gty(&Type::Id(*ty));
                let mask = if *count >= 64 {
                    u64::MAX
                } else {
                    (1u64 << count) - 1
                };
                let bits: Vec<String> = ops
                    .iter()
                    .enumerate()
                    .map(|(i, w)| match i {
                        0 => format!("{name}(uint32({w}))"),
                        _ => format!("{name}(uint32({w}))<<{}", 32 * i),
                    })
                    .collect();
                let t = self.bind(&format!("({}) & {mask:#x}", bits.join(" | ")));
                Ok(vec![t])
            }
            Step::EnumLift { ty, cases } => {
                let d = self.one(ops)?;
                let name = g.gty(&Type::Id(*ty));
                Ok(vec![self.bind(&format!("{name}(cabiCase({d}, {cases}))"))])
            }
            Step::HandleLower { .. } => self.unary(ops, |v| format!("{v}.handle")),
            // A borrow of the guest's own resource is the rep: its value.
            Step::HandleLift {
                resource,
                own: false,
                exported: true,
            } => {
                // The core parameter may be typed as a pointer.
                let v = self.one(ops)?;
                Ok(vec![format!("{}.get(int32(uintptr({v})))", g.table_of(*resource))])
            }
            Step::HandleLift { resource, .. } => {
                let v = self.one(ops)?;
                let name = g.type_name(*resource);
                Ok(vec![format!("{name}{{handle: {v}}}")])
            }
            // Go's collector frees what the guest made; the receive
            // buffer is reset instead of freed.
            Step::FreeString { .. } | Step::FreeHandle { .. } | Step::FreeArea { .. } => {
                Ok(Vec::new())
            }
            Step::GetArg { index } => Ok(vec![self.arg_place(*index)?]),
            Step::CoreArg { index, .. } => Ok(vec![format!("arg{index}")]),
            Step::Area { area, layout } => {
                let words = layout.size.div_ceil(8);
                match (self.mode, area) {
                    // The host reads and writes them after the call: they
                    // live on the heap, kept until the subtask returns.
                    (Mode::Import, Area::Params) if self.async_import() => {
                        let _ = writeln!(
                            self.out,
                            "base := unsafe.Pointer(new([{words}]uint64))"
                        );
                        self.base = "base".into();
                        self.pin("base");
                    }
                    (Mode::Import, Area::Return) if self.async_import() => {
                        let _ = writeln!(
                            self.out,
                            "retBase := unsafe.Pointer(new([{words}]uint64))"
                        );
                        self.base = "retBase".into();
                        self.pin("retBase");
                    }
                    (Mode::Import, Area::Params) => {
                        let _ = writeln!(
                            self.out,
                            "var paramsArea [{words}]uint64\nbase := unsafe.Pointer(&paramsArea)"
                        );
                        self.base = "base".into();
                    }
                    (Mode::Import, Area::Return) => {
                        let _ = writeln!(
                            self.out,
                            "var retArea [{words}]uint64\nretBase := unsafe.Pointer(&retArea)"
                        );
                        self.base = "retBase".into();
                    }
                    (Mode::Export, Area::Params) | (Mode::PostReturn, _) => {
                        self.base = "arg0".into()
                    }
                    (Mode::Export, Area::Return) => {
                        let _ = writeln!(self.out, "base := unsafe.Pointer(&cabiRetArea)");
                        self.base = "base".into();
                    }
                    (Mode::Element, _) => {
                        return Err(self.internal("an area in a buffer value's plan"));
                    }
                }
                Ok(Vec::new())
            }
            Step::AreaAddress { .. } => Ok(vec![self.base.clone()]),
            Step::CallImport { results, .. } => {
                let symbol = match &self.symbol {
                    Some(s) => s.clone(),
                    None => format!("wasmimport{}", g.glue_name(self.f)),
                };
                let call = format!("{symbol}({})", ops.join(", "));
                if self.async_import() && self.f.needs_realloc {
                    let _ = writeln!(self.out, "cabiInFlight++");
                }
                match results.len() {
                    0 => {
                        let _ = writeln!(self.out, "{call}");
                        if self.keeps {
                            let _ = writeln!(self.out, "runtime.KeepAlive(keep)");
                        }
                        Ok(Vec::new())
                    }
                    _ => {
                        let _ = writeln!(self.out, "ret := {call}");
                        if self.keeps {
                            let _ = writeln!(self.out, "runtime.KeepAlive(keep)");
                        }
                        Ok(vec!["ret".into()])
                    }
                }
            }
            Step::FreeTemporaries { results } => {
                if self.async_import() && self.f.needs_realloc {
                    let _ = writeln!(self.out, "cabiInFlight--");
                }
                // The result is lifted (copied): the receive buffer is free.
                if self.f.needs_realloc && results.contains(&Kind::Value) {
                    let _ = writeln!(self.out, "cabiReset()");
                }
                Ok(ops)
            }
            // The readable end crosses as its handle, given away.
            Step::PayloadLower { ty, .. } => {
                let payload = g.payload_ops(*ty)?;
                self.unary(ops, |v| format!("{v}.end.give(&{payload})"))
            }
            Step::PayloadLift { ty, .. } => {
                let v = self.one(ops)?;
                let ops = g.payload_ops(*ty)?;
                let end = g.gty(&Type::Id(*ty));
                Ok(vec![self.bind(&format!("{end}{{end: {ops}.lift({v})}}"))])
            }
            Step::AwaitSubtask => {
                let status = self.one(ops)?;
                self.keeps = true;
                let _ = writeln!(self.out, "cabiAwaitSubtask({status}, keep)");
                Ok(Vec::new())
            }
            Step::SpawnTask { .. } => self.spawn(&ops),
            Step::ArgLifted { index } => {
                let v = self.one(ops)?;
                let a = format!("a{index}");
                let _ = writeln!(self.out, "{a} := {v}");
                Ok(vec![a])
            }
            Step::CallImpl { .. } => {
                if self.f.needs_realloc {
                    // The arguments are copied: the receive buffer is free.
                    let _ = writeln!(self.out, "cabiReset()");
                }
                self.call_impl(&ops)
            }
            Step::Return { .. } => {
                let Some(v) = ops.last() else {
                    return Ok(Vec::new());
                };
                match self.mode {
                    Mode::Import => self.result = Some(v.clone()),
                    _ => {
                        let _ = writeln!(self.out, "return {v}");
                    }
                }
                Ok(Vec::new())
            }
            _ => Err(self.internal(&format!("step `{}` has blocks", step.name()))),
        }
    }

    fn begin(&mut self, step: &Step, ops: Vec<String>, as_bytes: bool) -> Result<(), BindError> {
        let open = match step {
            Step::ListLower { .. } if as_bytes => {
                let v = self.one(ops)?;
                let t = self.bind(&v);
                let p = self.bind(&format!("unsafe.Pointer(unsafe.SliceData({t}))"));
                self.pin(&p);
                Open::Done(vec![p, format!("uint32(len({t}))")])
            }
            Step::ListLower { layout, .. } => {
                let v = self.one(ops)?;
                let t = self.bind(&v);
                let buf = self.bind(&format!("cabiAlloc(len({t}) * {})", layout.size));
                self.pin(&buf);
                Open::ListLower {
                    t,
                    buf,
                    size: layout.size,
                    lp: None,
                }
            }
            Step::ListLift { element, .. } if as_bytes => {
                let [p, n] = self.two(ops)?;
                let elem = self.list_elem(element);
                Open::Done(vec![self.bind(&format!("cabiList[{elem}]({p}, {n})"))])
            }
            Step::ListLift {
                element, layout, ..
            } => {
                let [p, n] = self.two(ops)?;
                let (p, n) = (self.bind(&p), self.bind(&n));
                let v = self.tmp();
                let elem = self.list_elem(element);
                let _ = writeln!(self.out, "{v} := make([]{elem}, {n})");
                Open::ListLift {
                    p,
                    v,
                    size: layout.size,
                    lp: None,
                }
            }
            Step::MapLower { layout, .. } => {
                let v = self.one(ops)?;
                let t = self.bind(&v);
                let buf = self.bind(&format!("cabiAlloc(len({t}) * {})", layout.size));
                self.pin(&buf);
                Open::MapLower {
                    t,
                    buf,
                    size: layout.size,
                    k: String::new(),
                    v: String::new(),
                    lp: None,
                }
            }
            Step::MapLift {
                key, value, layout, ..
            } => {
                let [p, n] = self.two(ops)?;
                let (p, n) = (self.bind(&p), self.bind(&n));
                let m = self.tmp();
                let (k, v) = (self.g.gty(key), self.g.gty(value));
                let _ = writeln!(self.out, "{m} := make(map[{k}]{v}, {n})");
                Open::MapLift {
                    p,
                    n,
                    m,
                    size: layout.size,
                    lp: None,
                }
            }
            Step::RecordLower { ty, .. } | Step::TupleLower { ty, .. }
                if self.g.is_single_tuple(*ty) =>
            {
                Open::FieldsLower {
                    place: self.one(ops)?,
                    names: vec![String::new()],
                    outs: Vec::new(),
                }
            }
            Step::RecordLower { ty, .. } | Step::TupleLower { ty, .. } => Open::FieldsLower {
                place: self.one(ops)?,
                names: self
                    .g
                    .field_names(*ty)
                    .ok_or_else(|| self.internal("a record step names no record"))?,
                outs: Vec::new(),
            },
            Step::RecordLift { ty, fields } | Step::TupleLift { ty, fields } => Open::FieldsLift {
                ty: *ty,
                inputs: ops.into_iter(),
                counts: fields.iter().map(|f| f.params.len()).collect(),
                values: Vec::new(),
            },
            Step::VariantLower { .. } | Step::OptionLower { .. } | Step::ResultLower { .. } => {
                let kinds: Vec<WasmType> = step
                    .blocks()
                    .first()
                    .map(|b| {
                        b.results
                            .iter()
                            .filter_map(|k| match k {
                                Kind::Core(t) => Some(*t),
                                Kind::Value => None,
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let outs = (0..=kinds.len()).map(|_| self.tmp()).collect();
                Open::VariantLower {
                    place: self.one(ops)?,
                    cases: self.cases(step)?,
                    outs,
                    kinds,
                    text: String::new(),
                    case: 0,
                    saved: String::new(),
                }
            }
            Step::VariantLift { ty, .. }
            | Step::OptionLift { ty, .. }
            | Step::ResultLift { ty, .. } => {
                let mut ops = ops.into_iter();
                let d = ops
                    .next()
                    .ok_or_else(|| self.internal("a variant lift without a discriminant"))?;
                let d = self.bind(&d);
                let values = ops.map(|v| self.bind(&v)).collect();
                Open::VariantLift {
                    d,
                    values,
                    cases: self.cases(step)?,
                    var: self.tmp(),
                    ty: self.g.gty(&Type::Id(*ty)),
                    text: String::new(),
                    case: 0,
                    saved: String::new(),
                }
            }
            Step::FreeList { .. } | Step::FreeVariant { .. } => Open::Free {
                saved: String::new(),
            },
            _ => return Err(self.internal(&format!("step `{}` has no blocks", step.name()))),
        };
        self.open.push(open);
        Ok(())
    }

    fn enter(&mut self, index: usize) -> Result<Vec<String>, BindError> {
        let mut open = self
            .open
            .pop()
            .ok_or_else(|| self.internal("a block of no open step"))?;
        let seed = match &mut open {
            Open::Done(_) => Vec::new(),
            Open::Free { saved } => {
                *saved = self.divert();
                Vec::new()
            }
            Open::ListLower { t, lp, .. } => {
                let l = self.begin_loop();
                let seed = vec![format!("{t}[{}]", l.i)];
                *lp = Some(l);
                seed
            }
            Open::ListLift { lp, .. } | Open::MapLift { lp, .. } => {
                *lp = Some(self.begin_loop());
                Vec::new()
            }
            Open::MapLower { k, v, lp, .. } => {
                let (key, value) = (self.tmp(), self.tmp());
                *lp = Some(self.begin_loop());
                (*k, *v) = (key.clone(), value.clone());
                vec![key, value]
            }
            Open::FieldsLower { place, names, .. } => match names.get(index) {
                Some(n) if n.is_empty() => vec![place.clone()],
                Some(n) => vec![format!("{place}.{n}")],
                None => return Err(self.internal("a field block past the type's fields")),
            },
            Open::FieldsLift { inputs, counts, .. } => match counts.get(index) {
                Some(n) => inputs.by_ref().take(*n).collect(),
                None => return Err(self.internal("a field block past the step's fields")),
            },
            Open::VariantLower {
                place,
                cases,
                case,
                saved,
                ..
            } => {
                *case = index;
                *saved = self.divert();
                cases.payload(place, index).into_iter().collect()
            }
            Open::VariantLift {
                values,
                case,
                saved,
                ..
            } => {
                *case = index;
                *saved = self.divert();
                values.clone()
            }
        };
        self.open.push(open);
        Ok(seed)
    }

    fn leave(&mut self, results: Vec<String>) -> Result<(), BindError> {
        let mut open = self
            .open
            .pop()
            .ok_or_else(|| self.internal("a block of no open step"))?;
        match &mut open {
            Open::Done(_) => {}
            Open::Free { saved } => {
                self.resume(std::mem::take(saved));
            }
            Open::ListLower { t, buf, size, lp } => {
                let (i, base, body) = self.end_loop(lp.take())?;
                let _ = writeln!(
                    self.out,
                    "for {i} := range {t} {{\n{base} := unsafe.Add({buf}, {i}*{size})\n{body}}}"
                );
            }
            Open::ListLift { p, v, size, lp } => {
                let (i, base, body) = self.end_loop(lp.take())?;
                let value = results.last().cloned().unwrap_or_default();
                let _ = writeln!(
                    self.out,
                    "for {i} := range {v} {{\n{base} := unsafe.Add({p}, {i}*{size})\n{body}{v}[{i}] = {value}\n}}"
                );
            }
            Open::MapLower {
                t,
                buf,
                size,
                k,
                v,
                lp,
            } => {
                let (i, base, body) = self.end_loop(lp.take())?;
                let _ = writeln!(
                    self.out,
                    "{i} := 0\nfor {k}, {v} := range {t} {{\n{base} := unsafe.Add({buf}, {i}*{size})\n{body}{i}++\n}}"
                );
            }
            Open::MapLift { p, n, m, size, lp } => {
                let (i, base, body) = self.end_loop(lp.take())?;
                let [key, value] = <[String; 2]>::try_from(results).map_err(|_| {
                    self.internal("a map entry block left other than a key and a value")
                })?;
                // Of repeated keys the last entry's value stays, as the
                // component model asks.
                let _ = writeln!(
                    self.out,
                    "for {i} := uint32(0); {i} < {n}; {i}++ {{\n{base} := unsafe.Add({p}, {i}*{size})\n{body}{m}[{key}] = {value}\n}}"
                );
            }
            Open::FieldsLower { outs, .. } => outs.extend(results),
            Open::FieldsLift { values, .. } => {
                values.push(results.last().cloned().unwrap_or_default())
            }
            Open::VariantLower {
                cases,
                outs,
                text,
                case,
                saved,
                ..
            } => {
                let body = self.resume(std::mem::take(saved));
                let label = cases.label(*case);
                let _ = writeln!(text, "case {label}:\n{body}{} = {case}", outs[0]);
                for (o, r) in outs.iter().skip(1).zip(&results) {
                    let _ = writeln!(text, "{o} = {r}");
                }
            }
            Open::VariantLift {
                cases,
                var,
                ty,
                text,
                case,
                saved,
                ..
            } => {
                let body = self.resume(std::mem::take(saved));
                let make = cases.make(ty, *case, results.last());
                let _ = writeln!(text, "case {case}:\n{body}{var} = {make}");
            }
        }
        self.open.push(open);
        Ok(())
    }

    fn end(&mut self) -> Result<Vec<String>, BindError> {
        let open = self
            .open
            .pop()
            .ok_or_else(|| self.internal("no open step"))?;
        Ok(match open {
            Open::Done(ops) => ops,
            Open::Free { .. } => Vec::new(),
            Open::ListLower { t, buf, .. } => vec![buf, format!("uint32(len({t}))")],
            Open::ListLift { v, .. } => vec![v],
            Open::MapLower { t, buf, .. } => vec![buf, format!("uint32(len({t}))")],
            Open::MapLift { m, .. } => vec![m],
            Open::FieldsLower { outs, .. } => outs,
            Open::FieldsLift { ty, values, .. } => {
                if self.g.is_single_tuple(ty) {
                    return Ok(values);
                }
                let names = self
                    .g
                    .field_names(ty)
                    .ok_or_else(|| self.internal("a record step names no record"))?;
                let inits: Vec<String> = names
                    .iter()
                    .zip(&values)
                    .map(|(n, v)| format!("{n}: {v}"))
                    .collect();
                let gty = self.g.gty(&Type::Id(ty));
                vec![self.bind(&format!("{gty}{{{}}}", inits.join(", ")))]
            }
            Open::VariantLower {
                place,
                cases,
                outs,
                kinds,
                text,
                ..
            } => {
                let _ = writeln!(self.out, "var {} int32", outs[0]);
                for (o, k) in outs.iter().skip(1).zip(&kinds) {
                    let _ = writeln!(self.out, "{o} := {}", zero(*k));
                }
                let _ = writeln!(
                    self.out,
                    "switch {} {{\n{text}default:\npanic(\"{}: a value of no case\")\n}}",
                    cases.tag(&place),
                    self.g.pkg
                );
                outs
            }
            Open::VariantLift {
                d, var, ty, text, ..
            } => {
                let _ = writeln!(
                    self.out,
                    "var {var} {ty}\nswitch {d} {{\n{text}default:\npanic(\"{}: a case index out of range\")\n}}",
                    self.g.pkg
                );
                vec![var]
            }
        })
    }
}
