//! Function bodies: the C spelling of each [`Step`], as a [`Backend`] the
//! abi driver walks a call sequence (or a free plan) with.
//!
//! Operands are C expressions. Lowering reads *places* of the value
//! (`(*key)`, `(*key).val`), so nothing is copied before the call; what
//! lifting makes (strings, lists, records, variants, checked values) is
//! bound to a `tN` temporary once, in order. C's layout of every type is
//! the canonical one, so lists and maps cross as their buffers and their
//! per-element blocks are never driven, except when freeing.

use std::fmt::Write as _;

use wcomp_abi::{Area, Backend, Cast, FunctionPlan, MemType, Step};
use wit_parser::abi::WasmType;
use wit_parser::{FunctionKind, Type, TypeDefKind, TypeId};

use super::Gen;
use super::types::field_names;
use crate::BindError;

/// The C spelling of a core wasm type on wasm32.
pub(super) fn core_ty(t: WasmType) -> &'static str {
    match t {
        WasmType::I32 => "int32_t",
        WasmType::I64 | WasmType::PointerOrI64 => "int64_t",
        WasmType::F32 => "float",
        WasmType::F64 => "double",
        WasmType::Pointer => "uint8_t *",
        WasmType::Length => "size_t",
    }
}

fn zero(t: WasmType) -> &'static str {
    match t {
        WasmType::I32 | WasmType::I64 | WasmType::PointerOrI64 => "0",
        WasmType::F32 => "0.0f",
        WasmType::F64 => "0.0",
        WasmType::Pointer => "NULL",
        WasmType::Length => "(size_t)0",
    }
}

/// The helper suffix of a memory type (`wcomp_load_u8`).
fn mem(t: MemType) -> &'static str {
    match t {
        MemType::U8 => "u8",
        MemType::S8 => "s8",
        MemType::U16 => "u16",
        MemType::S16 => "s16",
        MemType::I32 => "i32",
        MemType::I64 => "i64",
        MemType::F32 => "f32",
        MemType::F64 => "f64",
        MemType::Pointer => "ptr",
        MemType::Length => "len",
    }
}

/// Converts `e` between core types as [`Cast`] says, through the raw 64
/// bits (widen by zero extension, narrow by wrapping, floats by bits).
fn cast(e: &str, c: Cast) -> String {
    if c.from == c.to {
        return e.to_string();
    }
    let raw = match c.from {
        WasmType::I32 => format!("(int64_t)(uint32_t)({e})"),
        WasmType::F32 => format!("wcomp_f32_bits({e})"),
        WasmType::F64 => format!("wcomp_f64_bits({e})"),
        WasmType::Pointer => format!("(int64_t)(uintptr_t)({e})"),
        WasmType::Length => format!("(int64_t)({e})"),
        WasmType::I64 | WasmType::PointerOrI64 => format!("({e})"),
    };
    match c.to {
        WasmType::I32 => format!("((int32_t)({raw}))"),
        WasmType::F32 => format!("wcomp_f32_from_bits({raw})"),
        WasmType::F64 => format!("wcomp_f64_from_bits({raw})"),
        WasmType::Pointer => format!("((uint8_t *)(uintptr_t)({raw}))"),
        WasmType::Length => format!("((size_t)({raw}))"),
        WasmType::I64 | WasmType::PointerOrI64 => raw,
    }
}

/// `T name`, or `T *name` for a pointer type.
pub(super) fn declare(ty: &str, name: &str) -> String {
    match ty.strip_suffix('*') {
        Some(base) => format!("{}*{name}", base),
        None => format!("{ty} {name}"),
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
    /// A type's `_free` function (`base` is the value).
    Free,
}

/// The cases of a variant-like step, for spelling its arms.
#[derive(Clone)]
enum Cases {
    /// A `variant`: each case's macro (its index, by name) and the member
    /// of its payload, if any.
    Variant(Vec<(String, Option<String>)>),
    Option,
    /// `result`: whether ok and err have payloads.
    Result(bool, bool),
}

impl Cases {
    /// The tag of a value at `place`, as a switch's operand.
    fn tag(&self, place: &str) -> String {
        match self {
            Cases::Variant(_) => format!("{place}.tag"),
            Cases::Option => format!("(uint32_t){place}.is_some"),
            Cases::Result(..) => format!("(uint32_t){place}.is_err"),
        }
    }

    /// The payload place of case `i` of the value at `place`.
    fn payload(&self, place: &str, i: usize) -> Option<String> {
        match (self, i) {
            (Cases::Variant(cases), _) => cases
                .get(i)
                .and_then(|(_, member)| member.as_ref())
                .map(|m| format!("{place}.val.{m}")),
            (Cases::Option, 1) => Some(format!("{place}.val")),
            (Cases::Result(true, _), 0) => Some(format!("{place}.val.ok")),
            (Cases::Result(_, true), 1) => Some(format!("{place}.val.err")),
            _ => None,
        }
    }

    /// How a switch names case `i`: a variant's by its macro.
    fn label(&self, i: usize) -> String {
        match self {
            Cases::Variant(cases) => cases.get(i).map_or(i.to_string(), |(m, _)| m.clone()),
            _ => i.to_string(),
        }
    }

    /// Statements making `var` case `i` with `payload`.
    fn make(&self, var: &str, i: usize, payload: Option<&String>) -> String {
        let mut s = match self {
            Cases::Variant(_) => format!("{var}.tag = {};\n", self.label(i)),
            Cases::Option => format!("{var}.is_some = {};\n", i == 1),
            Cases::Result(..) => format!("{var}.is_err = {};\n", i == 1),
        };
        if let (Some(p), Some(v)) = (self.payload(var, i), payload) {
            let _ = writeln!(s, "{p} = {v};");
        }
        s
    }
}

/// A compound step while its blocks are written.
enum Open {
    /// Its operands are ready (a list or map taken as bytes).
    Done(Vec<String>),
    /// Record or tuple fields lowered from `place.name`, inline.
    FieldsLower {
        place: String,
        names: Vec<String>,
        outs: Vec<String>,
    },
    /// Record or tuple fields lifted, inline.
    FieldsLift {
        ty: TypeId,
        inputs: std::vec::IntoIter<String>,
        counts: Vec<usize>,
        values: Vec<String>,
    },
    /// `switch (place.tag) { case i: ...; outs = ..; }`.
    VariantLower {
        place: String,
        cases: Cases,
        outs: Vec<String>,
        kinds: Vec<WasmType>,
        text: String,
        case: usize,
        saved: String,
    },
    /// `switch (d) { case i: var = case i(payload); }`.
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
    /// A list's elements freed (when they own something), then its buffer.
    FreeList {
        p: String,
        n: String,
        size: usize,
        /// While the element block is written: the index and base
        /// variables, and the base and output it replaced.
        lp: Option<(String, String, String, String)>,
        /// The loop over the elements, when they own something.
        each: Option<String>,
    },
    /// `switch (d) { case i: payload frees }`, cases freeing nothing left out.
    FreeVariant {
        d: String,
        arms: String,
        case: usize,
        saved: String,
    },
}

/// The writer of one body.
pub(super) struct Body<'a, 'b> {
    g: &'a Gen<'b>,
    f: Option<&'a FunctionPlan>,
    mode: Mode,
    pub out: String,
    tmps: usize,
    /// The current base address (a `uint8_t *` expression).
    base: String,
    open: Vec<Open>,
    /// The real output while steps are spelled into nothing (see
    /// [`Body::discard`]).
    kept: Option<String>,
    /// The C name of the function whose core import `CallImport` calls
    /// (`__wasm_import_{name}`), when not the function's own.
    pub import_name: Option<String>,
}

impl<'a, 'b> Body<'a, 'b> {
    pub fn new(g: &'a Gen<'b>, f: Option<&'a FunctionPlan>, mode: Mode) -> Self {
        Body {
            g,
            f,
            mode,
            out: String::new(),
            tmps: 0,
            base: "base".into(),
            open: Vec::new(),
            kept: None,
            import_name: None,
        }
    }

    /// From here on, steps are spelled into nothing: an async import's
    /// stores into its arguments' own memory (the `args` struct is the
    /// parameter area, C's layout being the canonical one), and what
    /// follows the start of its subtask.
    fn discard(&mut self) {
        if self.kept.is_none() {
            self.kept = Some(std::mem::take(&mut self.out));
        }
    }

    /// Steps are spelled again.
    fn keep(&mut self) {
        if let Some(kept) = self.kept.take() {
            self.out = kept;
        }
    }

    /// The body written (what was discarded left out).
    pub fn finish(mut self) -> String {
        self.keep();
        self.out
    }

    /// The function is an async import.
    fn async_import(&self) -> bool {
        self.mode == Mode::Import && self.f.is_some_and(|f| f.asynchronous.is_some())
    }

    fn tmp(&mut self) -> String {
        self.tmps += 1;
        format!("t{}", self.tmps)
    }

    /// Binds `expr` to a fresh temporary of C type `ty`.
    fn bind(&mut self, ty: &str, expr: &str) -> String {
        let t = self.tmp();
        let _ = writeln!(self.out, "{} = {expr};", declare(ty, &t));
        t
    }

    fn internal(&self, what: &str) -> BindError {
        let within = self
            .f
            .map(|f| format!(" (writing `{}` of `{}`)", f.function.name, f.owner))
            .unwrap_or_default();
        BindError::Internal(format!("{what}{within}"))
    }

    fn function(&self) -> Result<&'a FunctionPlan, BindError> {
        self.f
            .ok_or_else(|| self.internal("a call step outside a function"))
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

    /// `base + offset`.
    fn at(&self, offset: usize) -> String {
        match offset {
            0 => self.base.clone(),
            _ => format!("{} + {offset}", self.base),
        }
    }

    /// Starts writing into a buffer of its own; returns the saved output.
    fn divert(&mut self) -> String {
        std::mem::take(&mut self.out)
    }

    /// Ends a buffer: returns its text and restores `saved`.
    fn resume(&mut self, saved: String) -> String {
        std::mem::replace(&mut self.out, saved)
    }

    fn cases(&self, step: &Step) -> Result<Cases, BindError> {
        let ty = match step {
            Step::VariantLower { ty, .. } | Step::VariantLift { ty, .. } => *ty,
            Step::OptionLower { .. } | Step::OptionLift { .. } => return Ok(Cases::Option),
            Step::ResultLower { ty, .. } | Step::ResultLift { ty, .. } => {
                return match &self.g.resolve.types[*ty].kind {
                    TypeDefKind::Result(r) => Ok(Cases::Result(r.ok.is_some(), r.err.is_some())),
                    _ => Err(self.internal("a result step names a type that is no result")),
                };
            }
            _ => return Err(self.internal("not a variant step")),
        };
        let name = self.g.cty(&Type::Id(ty));
        match &self.g.resolve.types[ty].kind {
            TypeDefKind::Variant(v) => Ok(Cases::Variant(
                v.cases
                    .iter()
                    .map(|c| {
                        let member = c.ty.map(|_| super::ident(&c.name));
                        (Gen::macro_name(&name, &c.name), member)
                    })
                    .collect(),
            )),
            _ => Err(self.internal("a variant step names a type that is no variant")),
        }
    }

    /// The place of import parameter `index`: compound parameters are
    /// pointers.
    fn arg_place(&self, index: usize) -> Result<String, BindError> {
        let f = self.function()?;
        let Some(p) = f.function.params.get(index) else {
            return Err(self.internal("an argument the function does not have"));
        };
        let name = super::func::param_name(f, index);
        if self.async_import() && f.params_area.is_some() {
            return Ok(format!("args->{name}"));
        }
        Ok(match self.g.by_value(&p.ty) {
            true => name,
            false => format!("(*{name})"),
        })
    }

    /// Calls the user's implementation of the export with the lifted
    /// arguments `args`; returns the result's place, if any.
    fn call_impl(&mut self, args: &[String]) -> Result<Vec<String>, BindError> {
        let f = self.function()?;
        let mut list = self.impl_args(args)?;
        let name = self.g.func_name(f);
        let Some(result) = &f.function.result else {
            let _ = writeln!(self.out, "{name}({});", list.join(", "));
            return Ok(Vec::new());
        };
        let ty = self.g.cty(result);
        if self.g.by_value(result) {
            let _ = writeln!(self.out, "{ty} result = {name}({});", list.join(", "));
        } else {
            list.push("&result".into());
            let _ = writeln!(self.out, "{ty} result;\n{name}({});", list.join(", "));
        }
        Ok(vec!["result".into()])
    }

    /// The lifted arguments `args` as the user's implementation takes them
    /// (compound ones by pointer).
    fn impl_args(&self, args: &[String]) -> Result<Vec<String>, BindError> {
        let f = self.function()?;
        Ok(f.function
            .params
            .iter()
            .zip(args)
            .map(|(p, a)| match self.g.by_value(&p.ty) {
                true => a.clone(),
                false => format!("&{a}"),
            })
            .collect())
    }

    /// A list or map lifted as bytes: the buffer becomes the value's
    /// (NULL when empty, so that it can always be passed to `free`).
    fn lift_buffer(
        &mut self,
        ty: &str,
        elem: &str,
        ops: Vec<String>,
    ) -> Result<Vec<String>, BindError> {
        let [ptr, len] = self.two(ops)?;
        let len = self.bind("size_t", &len);
        Ok(vec![self.bind(
            ty,
            &format!("{{ ({elem} *)({len} > 0 ? {ptr} : NULL), {len} }}"),
        )])
    }

    fn list_name(&self, element: &Type) -> String {
        let list = wit_parser::TypeDefKind::List(*element);
        self.g.structural_name(&list)
    }
}

impl Backend for Body<'_, '_> {
    type Operand = String;
    type Error = BindError;

    /// Every C type's layout is the canonical one.
    fn list_as_bytes(&mut self, _element: &Type) -> bool {
        true
    }

    fn map_as_bytes(&mut self, _key: &Type, _value: &Type) -> bool {
        true
    }

    fn step(&mut self, step: &Step, ops: Vec<String>) -> Result<Vec<String>, BindError> {
        let g = self.g;
        match step {
            Step::I32FromBool
            | Step::I32FromU8
            | Step::I32FromS8
            | Step::I32FromU16
            | Step::I32FromS16
            | Step::I32FromU32
            | Step::I32FromChar
            | Step::EnumLower { .. } => self.unary(ops, |v| format!("(int32_t){v}")),
            Step::I64FromU64 => self.unary(ops, |v| format!("(int64_t){v}")),
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
            Step::U8FromI32 => self.unary(ops, |v| format!("(uint8_t)({v})")),
            Step::S8FromI32 => self.unary(ops, |v| format!("(int8_t)({v})")),
            Step::U16FromI32 => self.unary(ops, |v| format!("(uint16_t)({v})")),
            Step::S16FromI32 => self.unary(ops, |v| format!("(int16_t)({v})")),
            Step::U32FromI32 => self.unary(ops, |v| format!("(uint32_t)({v})")),
            Step::U64FromI64 => self.unary(ops, |v| format!("(uint64_t)({v})")),
            Step::CharFromI32 => {
                let v = self.one(ops)?;
                let t = self.bind("uint32_t", &format!("(uint32_t)({v})"));
                let _ = writeln!(
                    self.out,
                    "if ({t} >= 0x110000 || ({t} >= 0xD800 && {t} <= 0xDFFF)) {{\n__builtin_trap();\n}}"
                );
                Ok(vec![t])
            }
            Step::Load { offset, ty } => Ok(vec![format!("wcomp_load_{}({})", mem(*ty), self.at(*offset))]),
            Step::Store { offset, ty } => {
                let v = self.one(ops)?;
                let helper = match ty {
                    MemType::U8 | MemType::S8 => "u8",
                    MemType::U16 | MemType::S16 => "u16",
                    other => mem(*other),
                };
                let _ = writeln!(self.out, "wcomp_store_{helper}({}, {v});", self.at(*offset));
                Ok(Vec::new())
            }
            Step::Casts(casts) => Ok(ops.iter().zip(casts).map(|(v, c)| cast(v, *c)).collect()),
            Step::Zeros(types) => Ok(types.iter().map(|t| zero(*t).to_string()).collect()),
            Step::Drop(_) => Ok(Vec::new()),
            // An import's argument is lent for the call; an export's result
            // is handed over (freed by post-return): the buffer either way.
            Step::StringLower { .. } => {
                let v = self.one(ops)?;
                Ok(vec![format!("{v}.ptr"), format!("{v}.len")])
            }
            Step::StringLift => {
                let ty = format!("{}_string_t", g.w);
                self.lift_buffer(&ty, "uint8_t", ops)
            }
            Step::FlagsLower { words, .. } => {
                let v = self.one(ops)?;
                Ok(match words {
                    1 => vec![format!("(int32_t){v}")],
                    _ => (0..*words).map(|i| format!("(int32_t){v}.words[{i}]")).collect(),
                })
            }
            Step::FlagsLift { ty, count, words } => {
                let name = g.cty(&Type::Id(*ty));
                // Bits past the last flag are ignored.
                let mask = |i: usize| {
                    let bits = count.saturating_sub(32 * i).min(32);
                    match bits {
                        32 => "0xFFFFFFFFU".to_string(),
                        b => format!("{:#X}U", (1u64 << b) - 1),
                    }
                };
                if *words == 1 {
                    let v = self.one(ops)?;
                    return Ok(vec![format!("(({name})((uint32_t)({v}) & {}))", mask(0))]);
                }
                let items: Vec<String> = ops
                    .iter()
                    .enumerate()
                    .map(|(i, w)| format!("(uint32_t)({w}) & {}", mask(i)))
                    .collect();
                Ok(vec![self.bind(&name, &format!("{{ {{ {} }} }}", items.join(", ")))])
            }
            Step::EnumLift { ty, cases } => {
                let d = self.one(ops)?;
                let d = self.bind("int32_t", &d);
                let _ = writeln!(self.out, "if ((uint32_t){d} >= {cases}) {{\n__builtin_trap();\n}}");
                Ok(vec![format!("({})({d})", g.cty(&Type::Id(*ty)))])
            }
            Step::HandleLower { own, exported, resource } => {
                if *exported && !*own {
                    let f = self.function()?;
                    return Err(BindError::BackendWorld {
                        world: g.resolve.worlds[g.world].name.clone(),
                        backend: "C",
                        what: format!(
                            "passes a borrow of its own resource `{}` out of `{}` of `{}`",
                            g.resolve.types[*resource].name.as_deref().unwrap_or(""),
                            f.function.name,
                            f.owner
                        ),
                        help: "pass an owned handle instead",
                    });
                }
                self.unary(ops, |v| format!("{v}.__handle"))
            }
            Step::HandleLift { resource, own, exported } => {
                let v = self.one(ops)?;
                Ok(vec![if *own {
                    format!("(({}){{ (int32_t)({v}) }})", g.handle_name(*resource, true))
                } else if *exported {
                    // A borrow of the guest's own resource is its rep.
                    format!("(({} *)(uintptr_t)({v}))", g.rep_name(*resource))
                } else {
                    format!("(({}){{ (int32_t)({v}) }})", g.handle_name(*resource, false))
                }])
            }
            Step::FreeString { offset } => {
                let _ = writeln!(
                    self.out,
                    "if (wcomp_load_len({}) > 0) {{\nfree(wcomp_load_ptr({}));\n}}",
                    self.at(offset + 4),
                    self.at(*offset)
                );
                Ok(Vec::new())
            }
            Step::FreeHandle { offset, resource, .. } => {
                let _ = writeln!(
                    self.out,
                    "{}(({}){{ wcomp_load_i32({}) }});",
                    g.resource_fn(*resource, "drop_own"),
                    g.handle_name(*resource, true),
                    self.at(*offset)
                );
                Ok(Vec::new())
            }
            Step::GetArg { index } => Ok(vec![self.arg_place(*index)?]),
            Step::CoreArg { index, .. } => Ok(vec![format!("arg{index}")]),
            Step::Area { area, layout } => {
                match (self.mode, area) {
                    (Mode::Import, Area::Params) if self.async_import() => {
                        // The `args` struct is the area, and must outlive
                        // the call: the stores into it would rewrite it.
                        let _ = writeln!(self.out, "uint8_t *base = (uint8_t *)args;");
                        self.base = "base".into();
                        self.discard();
                    }
                    (Mode::Import, Area::Return) if self.async_import() => {
                        self.keep();
                        // The result goes where the caller said, when the
                        // subtask returns.
                        let _ = writeln!(self.out, "uint8_t *ret_base = (uint8_t *)ret;");
                        self.base = "ret_base".into();
                    }
                    (Mode::Import, Area::Params) => {
                        let _ = writeln!(
                            self.out,
                            "_Alignas({}) uint8_t params_area[{}];\nuint8_t *base = params_area;",
                            layout.align, layout.size
                        );
                        self.base = "base".into();
                    }
                    (Mode::Import, Area::Return) => {
                        let _ = writeln!(
                            self.out,
                            "_Alignas({}) uint8_t ret_area[{}];\nuint8_t *ret_base = ret_area;",
                            layout.align, layout.size
                        );
                        self.base = "ret_base".into();
                    }
                    // The caller's area, or the area post-return receives.
                    (Mode::Export, Area::Params) | (Mode::PostReturn, _) => self.base = "arg0".into(),
                    (Mode::Export, Area::Return) => {
                        let _ = writeln!(self.out, "uint8_t *base = {}_ret_area;", g.w);
                        self.base = "base".into();
                    }
                    (Mode::Free, _) => return Err(self.internal("an area in a free plan")),
                }
                Ok(Vec::new())
            }
            Step::AreaAddress { .. } => {
                self.keep();
                Ok(vec![self.base.clone()])
            }
            // The readable end crosses as its handle.
            Step::PayloadLower { .. } => self.unary(ops, |v| format!("{v}.__handle")),
            Step::PayloadLift { ty, .. } => {
                let name = g.cty(&Type::Id(*ty));
                self.unary(ops, |v| format!("(({name}){{ {v} }})"))
            }
            Step::AwaitSubtask => {
                // C has no futures: the caller gets the status, and waits
                // for the subtask itself; the result lands in `*ret`.
                let status = self.one(ops)?;
                let _ = writeln!(self.out, "return (uint32_t){status};");
                self.discard();
                Ok(Vec::new())
            }
            Step::SpawnTask { .. } => {
                // The user's function starts the task: its answer is the
                // first callback code.
                let f = self.function()?;
                let list = self.impl_args(&ops)?;
                let code = self.bind(
                    "int32_t",
                    &format!("(int32_t){}({})", self.g.func_name(f), list.join(", ")),
                );
                Ok(vec![code])
            }
            Step::CallImport { results, .. } => {
                let f = self.function()?;
                let name = self.import_name.clone().unwrap_or_else(|| g.func_name(f));
                let call = format!("__wasm_import_{name}({})", ops.join(", "));
                match results.as_slice() {
                    [] => {
                        let _ = writeln!(self.out, "{call};");
                        Ok(Vec::new())
                    }
                    [r] => Ok(vec![self.bind(core_ty(*r), &call)]),
                    _ => Err(self.internal("a core import with several results")),
                }
            }
            // Lowering allocated nothing for the call: lists and strings
            // are passed as the caller's buffers.
            Step::FreeTemporaries { .. } => Ok(ops),
            Step::ArgLifted { index } => {
                let f = self.function()?;
                let v = self.one(ops)?;
                let Some(p) = f.function.params.get(*index) else {
                    return Err(self.internal("an argument the function does not have"));
                };
                let a = format!("a{index}");
                let _ = writeln!(self.out, "{} {a} = {v};", g.cty(&p.ty));
                Ok(vec![a])
            }
            Step::FreeArea { .. } => {
                let _ = writeln!(self.out, "free(arg0);");
                Ok(Vec::new())
            }
            Step::CallImpl { .. } => self.call_impl(&ops),
            Step::Return { .. } => {
                let Some(v) = ops.last() else {
                    return Ok(Vec::new());
                };
                let f = self.function()?;
                match (self.mode, &f.function.result) {
                    (Mode::Import, Some(t)) if !g.by_value(t) => {
                        let _ = writeln!(self.out, "*ret = {v};");
                    }
                    _ => {
                        let _ = writeln!(self.out, "return {v};");
                    }
                }
                Ok(Vec::new())
            }
            _ => Err(self.internal(&format!("step `{}` has blocks", step.name()))),
        }
    }

    fn begin(&mut self, step: &Step, ops: Vec<String>, as_bytes: bool) -> Result<(), BindError> {
        let open = match step {
            Step::ListLower { .. } | Step::MapLower { .. } if as_bytes => {
                let v = self.one(ops)?;
                Open::Done(vec![format!("(uint8_t *){v}.ptr"), format!("{v}.len")])
            }
            Step::ListLift { element, .. } if as_bytes => {
                let ty = self.list_name(element);
                let elem = self.g.cty(element);
                Open::Done(self.lift_buffer(&ty, &elem, ops)?)
            }
            Step::MapLift { key, value, .. } if as_bytes => {
                let ty = self.g.structural_name(&TypeDefKind::Map(*key, *value));
                let entry = format!("{}_entry_t", ty.trim_end_matches("_t"));
                Open::Done(self.lift_buffer(&ty, &entry, ops)?)
            }
            Step::ListLower { .. }
            | Step::ListLift { .. }
            | Step::MapLower { .. }
            | Step::MapLift { .. } => {
                return Err(self.internal("a list or map not taken as bytes"));
            }
            Step::RecordLower { ty, .. } | Step::TupleLower { ty, .. } => Open::FieldsLower {
                place: self.one(ops)?,
                names: field_names(self.g, *ty)
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
                                wcomp_abi::Kind::Core(t) => Some(*t),
                                wcomp_abi::Kind::Value => None,
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
                let d = self.bind("int32_t", &d);
                Open::VariantLift {
                    d,
                    values: ops.collect(),
                    cases: self.cases(step)?,
                    var: self.tmp(),
                    ty: self.g.cty(&Type::Id(*ty)),
                    text: String::new(),
                    case: 0,
                    saved: String::new(),
                }
            }
            Step::FreeList { offset, layout, .. } => {
                let p = self.bind(
                    "uint8_t *",
                    &format!("wcomp_load_ptr({})", self.at(*offset)),
                );
                let n = self.bind(
                    "size_t",
                    &format!("wcomp_load_len({})", self.at(offset + 4)),
                );
                Open::FreeList {
                    p,
                    n,
                    size: layout.size,
                    lp: None,
                    each: None,
                }
            }
            Step::FreeVariant {
                offset,
                discriminant,
                ..
            } => Open::FreeVariant {
                d: format!("wcomp_load_{}({})", mem(*discriminant), self.at(*offset)),
                arms: String::new(),
                case: 0,
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
            Open::FieldsLower { place, names, .. } => match names.get(index) {
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
            Open::FreeList { lp, .. } => {
                let (i, base) = (self.tmp(), self.tmp());
                let saved_base = std::mem::replace(&mut self.base, base.clone());
                *lp = Some((i, base, saved_base, self.divert()));
                Vec::new()
            }
            Open::FreeVariant { case, saved, .. } => {
                *case = index;
                *saved = self.divert();
                Vec::new()
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
                let _ = writeln!(text, "case {label}: {{\n{body}{} = {case};", outs[0]);
                for (o, r) in outs.iter().skip(1).zip(&results) {
                    let _ = writeln!(text, "{o} = {r};");
                }
                text.push_str("break;\n}\n");
            }
            Open::VariantLift {
                cases,
                var,
                text,
                case,
                saved,
                ..
            } => {
                let body = self.resume(std::mem::take(saved));
                let make = cases.make(var, *case, results.last());
                let label = cases.label(*case);
                let _ = writeln!(text, "case {label}: {{\n{body}{make}break;\n}}");
            }
            Open::FreeList {
                p,
                n,
                size,
                lp,
                each,
            } => {
                let (i, base, saved_base, saved_out) = lp
                    .take()
                    .ok_or_else(|| self.internal("a list block left without being entered"))?;
                let body = self.resume(saved_out);
                self.base = saved_base;
                if !body.is_empty() {
                    *each = Some(format!(
                        "for (size_t {i} = 0; {i} < {n}; {i}++) {{\nuint8_t *{base} = {p} + {i} * {size};\n{body}}}"
                    ));
                }
            }
            Open::FreeVariant {
                arms, case, saved, ..
            } => {
                let body = self.resume(std::mem::take(saved));
                if !body.is_empty() {
                    let _ = writeln!(arms, "case {case}: {{\n{body}break;\n}}");
                }
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
            Open::FieldsLower { outs, .. } => outs,
            Open::FieldsLift { ty, values, .. } => {
                let names = field_names(self.g, ty)
                    .ok_or_else(|| self.internal("a record step names no record"))?;
                let inits: Vec<String> = names
                    .iter()
                    .zip(&values)
                    .map(|(n, v)| format!(".{n} = {v}"))
                    .collect();
                let cty = self.g.cty(&Type::Id(ty));
                vec![self.bind(&cty, &format!("{{ {} }}", inits.join(", ")))]
            }
            Open::VariantLower {
                place,
                cases,
                outs,
                kinds,
                text,
                ..
            } => {
                let _ = writeln!(self.out, "int32_t {} = 0;", outs[0]);
                for (o, k) in outs.iter().skip(1).zip(&kinds) {
                    let _ = writeln!(self.out, "{} = {};", declare(core_ty(*k), o), zero(*k));
                }
                let _ = writeln!(
                    self.out,
                    "switch ({}) {{\n{text}default: {{\n__builtin_trap();\n}}\n}}",
                    cases.tag(&place)
                );
                outs
            }
            Open::VariantLift {
                d, var, ty, text, ..
            } => {
                let _ = writeln!(
                    self.out,
                    "{ty} {var};\nswitch ({d}) {{\n{text}default: {{\n__builtin_trap();\n}}\n}}"
                );
                vec![var]
            }
            Open::FreeList { p, n, each, .. } => {
                if let Some(each) = each {
                    let _ = writeln!(self.out, "{each}");
                }
                let _ = writeln!(self.out, "if ({n} > 0) {{\nfree({p});\n}}");
                Vec::new()
            }
            Open::FreeVariant { d, arms, .. } => {
                if !arms.is_empty() {
                    let _ = writeln!(
                        self.out,
                        "switch ({d}) {{\n{arms}default: {{\nbreak;\n}}\n}}"
                    );
                }
                Vec::new()
            }
        })
    }
}

/// Whether `f` is a method (its first parameter is `self`).
pub(super) fn is_method(f: &FunctionPlan) -> bool {
    matches!(f.function.kind, FunctionKind::Method(_))
}
