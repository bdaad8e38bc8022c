//! Functions: spelling the plan's [`Step`]s as Rust.
//!
//! The operand stack holds Rust expressions. Lowering works on *places* of
//! the value (`key`, `(*e)`, `t3.name`), so that nothing is moved or copied
//! before the call: a string's pointer stays valid for as long as the
//! caller's value lives. Compound results are bound to `tN` temporaries so
//! that every expression is evaluated once, in order.

use std::fmt::Write as _;

use wit_parser::abi::WasmType;
use wit_parser::{FunctionKind, TypeDefKind};

use super::names::{camel, snake};
use super::resource::{fn_name, owner_resource, shim_stem};
use super::{Gen, docs, flags_repr};
use crate::abi::{Block, Cast, CoreName, FunctionPlan, MemType, Place, Step, ValuePlan};

/// The Rust spelling of a core wasm type on wasm32.
fn core_ty(t: WasmType) -> &'static str {
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

/// The interpreter of one function body.
struct Body<'a, 'b> {
    g: &'a Gen<'b>,
    /// The module the function is written in (for type paths).
    path: &'a [String],
    rt: String,
    out: String,
    tmps: usize,
    /// The current base address (a `*mut u8` variable).
    base: String,
    /// Buffers an import's lowering allocated, freed after the call.
    cleanup: bool,
    /// Lowering a value the bindings own (an export's result): places are
    /// borrowed mutably, so strings and lists can hand their buffers over
    /// instead of being copied.
    owned: bool,
    /// An owned lowering took something out of the value.
    took: bool,
    /// An owned lowering left heap memory in the value, so it must be
    /// dropped rather than forgotten.
    leftover: bool,
}

impl Body<'_, '_> {
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

    /// Runs `block` on a fresh stack seeded with `seed`, writing its
    /// statements into a separate buffer; returns (statements, outputs).
    fn block(&mut self, steps: &[Step], seed: Vec<String>) -> (String, Vec<String>) {
        let saved = std::mem::take(&mut self.out);
        let mut stack = seed;
        self.run(steps, &mut stack);
        let body = std::mem::replace(&mut self.out, saved);
        (body, stack)
    }

    /// Runs `steps` inline, on `stack`.
    fn run(&mut self, steps: &[Step], stack: &mut Vec<String>) {
        for step in steps {
            self.step(step, stack);
        }
    }

    fn pop_n(stack: &mut Vec<String>, n: usize) -> Vec<String> {
        stack.split_off(stack.len() - n)
    }

    fn step(&mut self, step: &Step, stack: &mut Vec<String>) {
        let g = self.g;
        let path = self.path;
        let mut unary = |f: &dyn Fn(&str) -> String| {
            let v = stack.operand("operand");
            stack.push(f(&v));
        };
        match step {
            Step::I32FromBool => unary(&|v| format!("i32::from({v})")),
            Step::I32FromU8 | Step::I32FromS8 | Step::I32FromU16 | Step::I32FromS16 => {
                unary(&|v| format!("i32::from({v})"))
            }
            Step::I32FromU32 => unary(&|v| format!("({v} as i32)")),
            Step::I64FromU64 => unary(&|v| format!("({v} as i64)")),
            Step::I32FromS32
            | Step::I64FromS64
            | Step::CoreF32FromF32
            | Step::CoreF64FromF64
            | Step::S32FromI32
            | Step::S64FromI64 => unary(&|v| v.to_string()),
            Step::I32FromChar => unary(&|v| format!("(u32::from({v}) as i32)")),
            Step::BoolFromI32 => unary(&|v| format!("({v} != 0)")),
            Step::U8FromI32 => unary(&|v| format!("({v} as u8)")),
            Step::S8FromI32 => unary(&|v| format!("({v} as i8)")),
            Step::U16FromI32 => unary(&|v| format!("({v} as u16)")),
            Step::S16FromI32 => unary(&|v| format!("({v} as i16)")),
            Step::U32FromI32 => unary(&|v| format!("({v} as u32)")),
            Step::U64FromI64 => unary(&|v| format!("({v} as u64)")),
            // NaN payloads are kept: canonicalisation is for the
            // deterministic profile only (see the step's docs).
            Step::F32FromCoreF32 | Step::F64FromCoreF64 => unary(&|v| v.to_string()),
            Step::CharFromI32 => {
                let rt = self.rt.clone();
                unary(&|v| format!("char::from_u32({v} as u32).unwrap_or_else(|| {rt}::invalid())"))
            }
            Step::Load { offset, ty } => {
                let read = format!("*{}.add({offset}).cast::<{}>()", self.base, mem_ty(*ty));
                stack.push(match ty {
                    MemType::U8 | MemType::S8 | MemType::U16 | MemType::S16 => {
                        format!("i32::from({read})")
                    }
                    _ => format!("({read})"),
                });
            }
            Step::Store { offset, ty } => {
                let v = stack.operand("operand");
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
            }
            Step::Casts(casts) => {
                let vs = Self::pop_n(stack, casts.len());
                for (v, c) in vs.iter().zip(casts) {
                    stack.push(cast(v, *c));
                }
            }
            Step::Zeros(types) => stack.extend(types.iter().map(|t| zero(*t).to_string())),
            Step::Drop { count } => {
                Self::pop_n(stack, *count);
            }
            Step::StringLower { realloc } if *realloc && self.owned => {
                // Hand the string's own buffer over (exact-size, as the
                // post-return function frees it), leaving an empty one.
                let v = stack.operand("operand");
                self.took = true;
                let t = self.bind(&format!("core::mem::take(&mut {v}).into_boxed_str()"));
                let len = self.bind(&format!("{t}.len()"));
                let p = self.bind(&format!("Box::into_raw({t}).cast::<u8>()"));
                stack.push(p);
                stack.push(len);
            }
            Step::StringLower { realloc } => {
                self.leftover |= self.owned;
                let v = stack.operand("operand");
                let t = self.bind(&format!("&{v}"));
                if *realloc {
                    let p = self.bind(&format!(
                        "{}::copy_out({t}.as_ptr(), {t}.len(), 1)",
                        self.rt
                    ));
                    stack.push(p);
                } else {
                    stack.push(format!("{t}.as_ptr().cast_mut()"));
                }
                stack.push(format!("{t}.len()"));
            }
            Step::StringLift => {
                let len = stack.operand("operand");
                let ptr = stack.operand("operand");
                let t = self.bind(&format!("{}::string_lift({ptr}, {len})", self.rt));
                stack.push(t);
            }
            Step::ListLower {
                byte_copy: true,
                realloc: true,
                ..
            } if self.owned => {
                // As for strings: the vector's buffer, shrunk to its length.
                let v = stack.operand("operand");
                self.took = true;
                let t = self.bind(&format!("core::mem::take(&mut {v}).into_boxed_slice()"));
                let len = self.bind(&format!("{t}.len()"));
                let p = self.bind(&format!("Box::into_raw({t}).cast::<u8>()"));
                stack.push(p);
                stack.push(len);
            }
            Step::ListLower {
                layout,
                store,
                byte_copy,
                realloc,
                ..
            } => {
                let v = stack.operand("operand");
                // Owned: the vector itself is taken (its elements are then
                // taken one by one, and it is freed here, emptied).
                let t = if self.owned && *realloc {
                    self.took = true;
                    let t = self.tmp();
                    let _ = writeln!(self.out, "let mut {t} = core::mem::take(&mut {v});");
                    t
                } else {
                    self.leftover |= self.owned;
                    self.bind(&format!("&{v}"))
                };
                let (size, align) = (layout.size, layout.align);
                if *byte_copy && !*realloc {
                    // The slice's own storage is the canonical layout.
                    stack.push(format!("{t}.as_ptr().cast::<u8>().cast_mut()"));
                } else if *byte_copy {
                    let p = self.bind(&format!(
                        "{}::copy_out({t}.as_ptr().cast::<u8>(), {t}.len() * {size}, {align})",
                        self.rt
                    ));
                    stack.push(p);
                } else {
                    let buf =
                        self.bind(&format!("{}::alloc({t}.len() * {size}, {align})", self.rt));
                    let (i, e, base) = (self.tmp(), self.tmp(), self.tmp());
                    let saved = std::mem::replace(&mut self.base, base.clone());
                    let (body, left) = self.block(store, vec![format!("(*{e})")]);
                    self.base = saved;
                    debug_assert!(left.is_empty(), "a store plan leaves nothing");
                    let _ = writeln!(
                        self.out,
                        "for ({i}, {e}) in {t}.{}().enumerate() {{\nlet {base} = {buf}.add({i} * {size});\n{body}}}",
                        if self.owned { "iter_mut" } else { "iter" }
                    );
                    if !*realloc {
                        self.cleanup = true;
                        let _ = writeln!(
                            self.out,
                            "cleanup.push(({buf}, {t}.len() * {size}, {align}));"
                        );
                    }
                    stack.push(buf);
                }
                stack.push(format!("{t}.len()"));
            }
            Step::ListLift {
                element,
                layout,
                load,
                byte_copy,
            } => {
                let len = stack.operand("operand");
                let ptr = stack.operand("operand");
                if *byte_copy {
                    let elem = g.ty(element, path);
                    let t = self.bind(&format!("{}::list_lift::<{elem}>({ptr}, {len})", self.rt));
                    stack.push(t);
                } else {
                    let (size, align) = (layout.size, layout.align);
                    let p = self.bind(&ptr);
                    let n = self.bind(&len);
                    let v = self.tmp();
                    let (i, base) = (self.tmp(), self.tmp());
                    let saved = std::mem::replace(&mut self.base, base.clone());
                    let (body, left) = self.block(load, Vec::new());
                    self.base = saved;
                    let _ = writeln!(
                        self.out,
                        "let mut {v} = Vec::with_capacity({n});\n\
                         for {i} in 0..{n} {{\nlet {base} = {p}.add({i} * {size});\n{body}{v}.push({});\n}}\n\
                         {}::free({p}, {n} * {size}, {align});",
                        left[0], self.rt
                    );
                    stack.push(v);
                }
            }
            Step::RecordLower { ty, fields } | Step::TupleLower { ty, fields } => {
                let v = stack.operand("operand");
                let t = self.bind(&format!("{}{v}", self.borrow()));
                let names = self.field_names(*ty);
                for (name, block) in names.iter().zip(fields) {
                    let mut s = vec![format!("{t}.{name}")];
                    self.run(&block.steps, &mut s);
                    stack.extend(s);
                }
            }
            Step::RecordLift { ty, fields } | Step::TupleLift { ty, fields } => {
                let values = self.lift_fields(fields, stack);
                let expr = match &g.resolve.types[*ty].kind {
                    TypeDefKind::Record(r) => {
                        let mut s = format!("{} {{ ", g.type_path(*ty, path));
                        for (f, v) in r.fields.iter().zip(&values) {
                            let _ = write!(s, "{}: {v}, ", snake(&f.name));
                        }
                        s.push('}');
                        s
                    }
                    _ => format!("({},)", values.join(", ")),
                };
                let t = self.bind(&expr);
                stack.push(t);
            }
            Step::FlagsLower { words, .. } => {
                let v = stack.operand("operand");
                let t = self.bind(&format!("{v}.bits()"));
                for w in 0..*words {
                    stack.push(format!("(({t} >> {}) as i32)", 32 * w));
                }
            }
            Step::FlagsLift { ty, count, words } => {
                let ws = Self::pop_n(stack, *words);
                let repr = flags_repr(*count);
                let bits: Vec<String> = ws
                    .iter()
                    .enumerate()
                    .map(|(i, w)| format!("(({w} as u32 as {repr}) << {})", 32 * i))
                    .collect();
                let t = self.bind(&format!(
                    "{}::from_bits_truncate({})",
                    g.type_path(*ty, path),
                    bits.join(" | ")
                ));
                stack.push(t);
            }
            Step::EnumLower { .. } => unary(&|v| format!("({v} as i32)")),
            Step::EnumLift { ty, cases } => {
                let d = stack.operand("operand");
                let d = self.bind(&d);
                let repr = super::int_repr(*cases);
                // The enum is `repr(uN)` with cases in declaration order,
                // so a checked index is a valid discriminant.
                let t = self.bind(&format!(
                    "if ({d} as u32) < {cases} {{ core::mem::transmute::<{repr}, {}>({d} as {repr}) }} else {{ {}::invalid() }}",
                    g.type_path(*ty, path),
                    self.rt
                ));
                stack.push(t);
            }
            Step::VariantLower { ty, cases } => {
                let arms = self.variant_arms(*ty);
                self.lower_variant(&arms, cases, stack);
            }
            Step::OptionLower { none, some, .. } => {
                let arms = [("None".to_string(), false), ("Some".to_string(), true)];
                self.lower_variant(&arms, &[none.clone(), some.clone()], stack);
            }
            Step::ResultLower { ty, ok, err } => {
                let TypeDefKind::Result(r) = &g.resolve.types[*ty].kind else {
                    unreachable!()
                };
                let arms = [
                    ("Ok".to_string(), r.ok.is_some()),
                    ("Err".to_string(), r.err.is_some()),
                ];
                self.lower_variant(&arms, &[ok.clone(), err.clone()], stack);
            }
            Step::VariantLift { ty, joined, cases } => {
                let arms = self.variant_arms(*ty);
                self.lift_variant(&arms, joined.len(), cases, stack);
            }
            Step::OptionLift {
                joined, none, some, ..
            } => {
                let arms = [("None".to_string(), false), ("Some".to_string(), true)];
                self.lift_variant(&arms, joined.len(), &[none.clone(), some.clone()], stack);
            }
            Step::ResultLift {
                ty,
                joined,
                ok,
                err,
            } => {
                let TypeDefKind::Result(r) = &g.resolve.types[*ty].kind else {
                    unreachable!()
                };
                // `Ok(())` for a missing payload: the arm has a payload
                // expression in Rust either way.
                let arms = [
                    (
                        if r.ok.is_some() { "Ok" } else { "Ok(())" }.to_string(),
                        r.ok.is_some(),
                    ),
                    (
                        if r.err.is_some() { "Err" } else { "Err(())" }.to_string(),
                        r.err.is_some(),
                    ),
                ];
                self.lift_variant(&arms, joined.len(), &[ok.clone(), err.clone()], stack);
            }
            // An owned handle is taken from its value (which then drops
            // nothing); a borrowed one is lent.
            Step::HandleLower { own, .. } => {
                let method = if *own { "take_handle" } else { "handle" };
                unary(&|v| format!("({v}.{method}() as i32)"))
            }
            Step::HandleLift {
                resource,
                own,
                exported,
            } => {
                let v = stack.operand("operand");
                let lifted = if *own {
                    format!(
                        "{}::from_handle(({v}) as u32)",
                        g.type_path(*resource, path)
                    )
                } else if *exported {
                    // A borrow of the guest's own resource is its rep: the
                    // address of the user's value (see `_wrap`).
                    format!(
                        "&*(({v}) as u32 as usize as *const T::{})",
                        g.camel_of(*resource)
                    )
                } else {
                    // Lent for the call: a handle value that must not drop it.
                    let t = self.bind(&format!(
                        "core::mem::ManuallyDrop::new({}::from_handle(({v}) as u32))",
                        g.type_path(*resource, path)
                    ));
                    format!("&*{t}")
                };
                stack.push(lifted);
            }
            Step::FreeString { offset } => {
                let _ = writeln!(
                    self.out,
                    "{}::free(*{b}.add({offset}).cast::<*mut u8>(), *{b}.add({}).cast::<usize>(), 1);",
                    self.rt,
                    offset + 4,
                    b = self.base
                );
            }
            Step::FreeList {
                offset,
                layout,
                element,
            } => {
                let b = self.base.clone();
                let p = self.bind(&format!("*{b}.add({offset}).cast::<*mut u8>()"));
                let n = self.bind(&format!("*{b}.add({}).cast::<usize>()", offset + 4));
                if !element.is_empty() {
                    let (i, base) = (self.tmp(), self.tmp());
                    let saved = std::mem::replace(&mut self.base, base.clone());
                    let (body, _) = self.block(element, Vec::new());
                    self.base = saved;
                    let _ = writeln!(
                        self.out,
                        "for {i} in 0..{n} {{\nlet {base} = {p}.add({i} * {});\n{body}}}",
                        layout.size
                    );
                }
                let _ = writeln!(
                    self.out,
                    "{}::free({p}, {n} * {}, {});",
                    self.rt, layout.size, layout.align
                );
            }
            Step::FreeVariant {
                offset,
                discriminant,
                cases,
            } => {
                let mut arms = String::new();
                for (i, c) in cases.iter().enumerate() {
                    let (body, _) = self.block(c, Vec::new());
                    if !body.is_empty() {
                        let _ = writeln!(arms, "{i} => {{\n{body}}}");
                    }
                }
                let d = format!(
                    "*{}.add({offset}).cast::<{}>()",
                    self.base,
                    mem_ty(*discriminant)
                );
                let _ = writeln!(self.out, "match {d} {{\n{arms}_ => {{}}\n}}");
            }
        }
    }

    /// The cases of variant `ty` as match patterns (`path::Case`), and
    /// whether each has a payload.
    fn variant_arms(&self, ty: wit_parser::TypeId) -> Vec<(String, bool)> {
        let TypeDefKind::Variant(v) = &self.g.resolve.types[ty].kind else {
            unreachable!("the plan's variant steps name variants")
        };
        let tp = self.g.type_path(ty, self.path);
        v.cases
            .iter()
            .map(|c| (format!("{tp}::{}", camel(&c.name)), c.ty.is_some()))
            .collect()
    }

    /// Field accessors of a record (`name`) or a tuple (`0`, `1`, ...).
    fn field_names(&self, ty: wit_parser::TypeId) -> Vec<String> {
        match &self.g.resolve.types[ty].kind {
            TypeDefKind::Record(r) => r.fields.iter().map(|f| snake(&f.name)).collect(),
            TypeDefKind::Tuple(t) => (0..t.types.len()).map(|i| i.to_string()).collect(),
            _ => unreachable!("fields of a record or tuple"),
        }
    }

    fn lift_fields(&mut self, fields: &[Block], stack: &mut Vec<String>) -> Vec<String> {
        let total: usize = fields.iter().map(|f| f.inputs).sum();
        let mut inputs = Self::pop_n(stack, total).into_iter();
        let mut values = Vec::new();
        for f in fields {
            let mut s: Vec<String> = inputs.by_ref().take(f.inputs).collect();
            self.run(&f.steps, &mut s);
            values.push(s.operand("a field value"));
        }
        values
    }

    /// `match &v { Case(e) => { ..; (i, joined..) } .. }`: a lowered
    /// variant pushes its discriminant, then what the case blocks leave.
    fn lower_variant(&mut self, arms: &[(String, bool)], cases: &[Block], stack: &mut Vec<String>) {
        let v = stack.operand("operand");
        let mut text = String::new();
        let mut width = 0;
        for (i, ((pat, payload), block)) in arms.iter().zip(cases).enumerate() {
            let e = self.tmp();
            let (pattern, seed) = if *payload {
                (format!("{pat}({e})"), vec![format!("(*{e})")])
            } else if pat == "Ok" || pat == "Err" {
                (format!("{pat}(_)"), Vec::new())
            } else {
                (pat.clone(), Vec::new())
            };
            let (body, left) = self.block(&block.steps, seed);
            width = left.len();
            let _ = writeln!(
                text,
                "{pattern} => {{\n{body}({i}i32, {})\n}}",
                left.join(", ")
            );
        }
        let outs: Vec<String> = (0..=width).map(|_| self.tmp()).collect();
        let _ = writeln!(
            self.out,
            "let ({},) = match {}{v} {{\n{text}}};",
            outs.join(", "),
            self.borrow()
        );
        stack.extend(outs);
    }

    /// `match d { i => { ..; Case(payload) } .. }` over the joined values.
    fn lift_variant(
        &mut self,
        arms: &[(String, bool)],
        joined: usize,
        cases: &[Block],
        stack: &mut Vec<String>,
    ) {
        let values = Self::pop_n(stack, joined);
        let values: Vec<String> = values.iter().map(|v| self.bind(v)).collect();
        let d = stack.operand("discriminant");
        let mut text = String::new();
        for (i, ((ctor, payload), block)) in arms.iter().zip(cases).enumerate() {
            let (body, mut left) = self.block(&block.steps, values.clone());
            let value = if *payload {
                format!("{ctor}({})", left.operand("payload"))
            } else {
                ctor.clone()
            };
            let _ = writeln!(text, "{i} => {{\n{body}{value}\n}}");
        }
        let t = self.bind(&format!(
            "match {d} {{\n{text}_ => {}::invalid(),\n}}",
            self.rt
        ));
        stack.push(t);
    }
}

/// Modules carry [`ALLOW`](super::ALLOW); world-level functions sit at the
/// root of the file, which may be the user's crate root, so they carry it
/// themselves.
fn root_allow(path: &[String], out: &mut String) {
    if path.is_empty() {
        out.push_str(super::ALLOW);
        out.push('\n');
    }
}

fn new_body<'a, 'b>(g: &'a Gen<'b>, path: &'a [String]) -> Body<'a, 'b> {
    Body {
        g,
        path,
        rt: g.rt(path),
        out: String::new(),
        tmps: 0,
        base: "base".into(),
        cleanup: false,
        owned: false,
        took: false,
        leftover: false,
    }
}

fn signature(params: &[WasmType], results: &[WasmType], names: bool) -> String {
    let ps: Vec<String> = params
        .iter()
        .enumerate()
        .map(|(i, t)| {
            if names {
                format!("arg{i}: {}", core_ty(*t))
            } else {
                format!("_: {}", core_ty(*t))
            }
        })
        .collect();
    let ret = match results {
        [] => String::new(),
        [r] => format!(" -> {}", core_ty(*r)),
        _ => unreachable!("guest signatures have at most one result"),
    };
    format!("({}){ret}", ps.join(", "))
}

fn result_ty(g: &Gen<'_>, f: &FunctionPlan, path: &[String]) -> String {
    match &f.function.result {
        Some(t) => format!(" -> {}", g.ty(t, path)),
        None => String::new(),
    }
}

/// An imported function: a plain Rust function that lowers its arguments,
/// calls the core import and lifts the result.
pub(super) fn import(g: &Gen<'_>, f: &FunctionPlan, path: &[String], out: &mut String) {
    let CoreName::Import { module, field } = &f.core_name else {
        unreachable!("an import's core name")
    };
    let mut b = new_body(g, path);
    let method = matches!(f.function.kind, FunctionKind::Method(_));
    let params = rust_params(f, |p| {
        format!("{}: {}", snake(&p.name), g.param_ty(&p.ty, path))
    });
    docs(&f.function.docs, out);
    root_allow(path, out);
    let _ = writeln!(
        out,
        "pub fn {}({}){} {{\nunsafe {{",
        fn_name(f),
        params.join(", "),
        match f.function.kind {
            FunctionKind::Constructor(_) => " -> Self".to_string(),
            _ => result_ty(g, f, path),
        }
    );
    let sig = signature(&f.signature.params, &f.signature.results, false);
    let _ = writeln!(
        out,
        "#[cfg(target_arch = \"wasm32\")]\n#[link(wasm_import_module = {module:?})]\n\
         unsafe extern \"C\" {{\n#[link_name = {field:?}]\nfn wit_import{sig};\n}}\n\
         #[cfg(not(target_arch = \"wasm32\"))]\nunsafe extern \"C\" fn wit_import{sig} {{ unreachable!() }}"
    );
    let mut args = Vec::new();
    if let Some(area) = f.params_area {
        area_decl(&mut b, "params", area.size, area.align);
    }
    for (i, (p, v)) in f.function.params.iter().zip(&f.params).enumerate() {
        // Borrowed parameters are places behind a reference.
        let name = match i {
            0 if method => "self".to_string(),
            _ => snake(&p.name),
        };
        let place = match method && i == 0 || g.param_ty(&p.ty, path).starts_with('&') {
            true => format!("(*{name})"),
            false => name,
        };
        let mut stack = vec![place];
        b.run(&v.steps, &mut stack);
        args.extend(stack);
    }
    if f.params_area.is_some() {
        args = vec!["base".to_string()];
    }
    let ret = f.return_area.map(|area| {
        b.base = "ret_base".into();
        area_decl(&mut b, "ret", area.size, area.align);
        "ret_base".to_string()
    });
    args.extend(ret);
    let call = format!("wit_import({})", args.join(", "));
    let result = match &f.result {
        Some(r) => {
            let seed = match r.place {
                Place::Flat { .. } => {
                    let _ = writeln!(b.out, "let ret = {call};");
                    vec!["ret".to_string()]
                }
                Place::Memory { .. } => {
                    let _ = writeln!(b.out, "{call};");
                    Vec::new()
                }
            };
            let mut stack = seed;
            b.run(&r.steps, &mut stack);
            let v = stack.operand("the result");
            Some(b.bind(&v))
        }
        None => {
            let _ = writeln!(b.out, "{call};");
            None
        }
    };
    if b.cleanup {
        let _ = writeln!(
            out,
            "let mut cleanup: Vec<(*mut u8, usize, usize)> = Vec::new();"
        );
        let _ = writeln!(
            b.out,
            "for (p, size, align) in cleanup {{ {}::free(p, size, align); }}",
            b.rt
        );
    }
    out.push_str(&b.out);
    if let Some(r) = result {
        let _ = writeln!(out, "{r}");
    }
    out.push_str("}\n}\n");
}

/// A stack area for an import's indirect parameters or result: `base` or
/// `ret_base` points at it.
fn area_decl(b: &mut Body<'_, '_>, what: &str, size: usize, align: usize) {
    let base = if what == "ret" { "ret_base" } else { "base" };
    let _ = writeln!(
        b.out,
        "#[repr(C, align({align}))]\nstruct Area{what}([core::mem::MaybeUninit<u8>; {size}]);\n\
         let mut {what}_area = Area{what}([core::mem::MaybeUninit::uninit(); {size}]);\n\
         let {base} = {what}_area.0.as_mut_ptr().cast::<u8>();"
    );
}

/// The Rust parameters of `f`: `&self` for a method's receiver, `spell`
/// for every other parameter.
fn rust_params(f: &FunctionPlan, spell: impl Fn(&wit_parser::Param) -> String) -> Vec<String> {
    let method = matches!(f.function.kind, FunctionKind::Method(_));
    f.function
        .params
        .iter()
        .enumerate()
        .map(|(i, p)| match i {
            0 if method => "&self".to_string(),
            _ => spell(p),
        })
        .collect()
}

/// The signature of the trait method a user implements for export `f`,
/// spelled from module `path`; `prefix` goes before parameter names.
fn trait_sig(g: &Gen<'_>, f: &FunctionPlan, path: &[String], prefix: &str) -> String {
    let own = owner_resource(f);
    let params = rust_params(f, |p| {
        let name = snake(&p.name);
        let name = match prefix {
            "" => name,
            _ => format!("{prefix}{}", name.trim_start_matches("r#")),
        };
        format!("{name}: {}", g.trait_param_ty(&p.ty, path, own))
    });
    let result = match f.function.kind {
        FunctionKind::Constructor(_) => " -> Self".to_string(),
        _ => result_ty(g, f, path),
    };
    format!("fn {}({}){result}", fn_name(f), params.join(", "))
}

/// The trait method a user implements for an export.
pub(super) fn trait_method(g: &Gen<'_>, f: &FunctionPlan, path: &[String], out: &mut String) {
    docs(&f.function.docs, out);
    let _ = writeln!(out, "{};", trait_sig(g, f, path, ""));
}

/// A stub of an export's trait method, written at the file's root.
pub(super) fn stub_method(g: &Gen<'_>, f: &FunctionPlan, out: &mut String) {
    let _ = writeln!(
        out,
        "{} {{\nunimplemented!()\n}}",
        trait_sig(g, f, &[], "_")
    );
}

/// An export: a generic shim lifting the arguments, calling `T`'s trait
/// method and lowering the result (plus its post-return), and the
/// `export!` macro's core export calling the shim.
pub(super) fn export(
    g: &Gen<'_>,
    f: &FunctionPlan,
    path: &[String],
    out: &mut String,
    macro_body: &mut String,
) {
    let CoreName::Export { name } = &f.core_name else {
        unreachable!("an export's core name")
    };
    let fname = fn_name(f);
    let stem = shim_stem(g, f);
    let shim = format!("_export_{stem}");
    let mut b = new_body(g, path);
    let sig = signature(&f.signature.params, &f.signature.results, true);
    root_allow(path, out);
    let _ = writeln!(
        out,
        "#[doc(hidden)]\npub unsafe fn {shim}<T: Guest>{sig} {{\nunsafe {{"
    );
    let mut args = Vec::new();
    if f.indirect_params() {
        b.base = "arg0".into();
    }
    for (i, v) in f.params.iter().enumerate() {
        let seed = match v.place {
            Place::Flat { first, count } => {
                (first..first + count).map(|i| format!("arg{i}")).collect()
            }
            Place::Memory { .. } => Vec::new(),
        };
        let mut stack = seed;
        b.run(&v.steps, &mut stack);
        let value = stack.operand("a parameter");
        // Bound now: the parameter area is freed before the call.
        let a = format!("a{i}");
        let _ = writeln!(b.out, "let {a} = {value};");
        args.push(a);
    }
    if let Some(area) = f.params_area {
        let _ = writeln!(
            b.out,
            "{}::free(arg0, {}, {});",
            b.rt, area.size, area.align
        );
    }
    let args = args.join(", ");
    let call = match f.function.kind {
        FunctionKind::Constructor(r) => {
            let r = g.camel_of(r);
            format!("{r}::_wrap(<T::{r} as Guest{r}>::new({args}))")
        }
        FunctionKind::Method(r) | FunctionKind::Static(r) => {
            let r = g.camel_of(r);
            format!("<T::{r} as Guest{r}>::{fname}({args})")
        }
        _ => format!("T::{fname}({args})"),
    };
    match &f.result {
        Some(r) => {
            let _ = writeln!(b.out, "let mut result = {call};");
            b.owned = true;
            lower_result(&mut b, r);
        }
        None => {
            let _ = writeln!(b.out, "{call};");
        }
    }
    out.push_str(&b.out);
    out.push_str("}\n}\n");

    let mpath = path.join("::");
    let sep = if mpath.is_empty() { "" } else { "::" };
    // The core exports of every interface share the macro's scope.
    let unique = path.join("_");
    let args: Vec<String> = (0..f.signature.params.len())
        .map(|i| format!("arg{i}"))
        .collect();
    let _ = writeln!(
        macro_body,
        "#[unsafe(export_name = {name:?})]\nunsafe extern \"C\" fn {unique}{shim}{sig} {{\n\
         unsafe {{ $PATH{sep}{mpath}::{shim}::<$ty>({}) }}\n}}",
        args.join(", ")
    );

    if let Some(post) = &f.post_return {
        let post_fn = format!("_post_{stem}");
        let mut b = new_body(g, path);
        b.base = "arg0".into();
        let mut stack = Vec::new();
        b.run(&post.steps, &mut stack);
        root_allow(path, out);
        let _ = writeln!(
            out,
            "#[doc(hidden)]\npub unsafe fn {post_fn}(arg0: *mut u8) {{\nunsafe {{\n{}}}\n}}",
            b.out
        );
        let _ = writeln!(
            macro_body,
            "#[unsafe(export_name = {:?})]\nunsafe extern \"C\" fn {unique}{post_fn}(arg0: *mut u8) {{\n\
             unsafe {{ $PATH{sep}{mpath}::{post_fn}(arg0) }}\n}}",
            post.name
        );
    }
}

fn lower_result(b: &mut Body<'_, '_>, r: &ValuePlan) {
    match r.place {
        Place::Flat { .. } => {
            let mut stack = vec!["result".to_string()];
            b.run(&r.steps, &mut stack);
            let v = stack.operand("the core result");
            let _ = writeln!(b.out, "{v}");
        }
        Place::Memory { .. } => {
            let _ = writeln!(
                b.out,
                "let base = (&raw mut {}::RET_AREA).cast::<u8>();",
                b.rt
            );
            let mut stack = vec!["result".to_string()];
            b.run(&r.steps, &mut stack);
            // What owned memory was handed over; the rest is plain data
            // and emptied containers, not worth a drop.
            if b.took && !b.leftover {
                let _ = writeln!(b.out, "core::mem::forget(result);");
            }
            let _ = writeln!(b.out, "base");
        }
    }
}

/// Taking operands off the expression stack.
trait Operands {
    fn operand(&mut self, what: &str) -> String;
}

impl Operands for Vec<String> {
    /// The next operand. The abi plan fixes every step's stack effect (its
    /// tests run each plan through an abstract machine), so an empty stack
    /// here is a bug in the plan or in this spelling of it, never a
    /// property of the input.
    fn operand(&mut self, what: &str) -> String {
        self.pop()
            .unwrap_or_else(|| panic!("wcomp bug: no {what} on the operand stack"))
    }
}
