//! Compound steps: lists, records and tuples, variants, and the free
//! steps with blocks. Each is open while the driver walks its blocks:
//! [`Open`] keeps what the step needs (its operands, the names of its
//! temporaries, the text of the match arms or loop body written so far).

use std::fmt::Write as _;

use wcomp_abi::Step;
use wit_parser::TypeDefKind;
use wit_parser::TypeId;

use super::{Body, mem_ty, two};
use crate::BindError;
use crate::rust::names::snake;

/// The loop of a list's element block: index and base variables, and
/// the base and output saved while the body is written.
pub(super) struct Loop {
    i: String,
    base: String,
    saved_base: String,
    saved_out: String,
}

/// A compound step while its blocks are written.
pub(super) enum Open {
    /// A list copied (or handed over) as bytes, or lifted as bytes: its
    /// operands are ready.
    Done(Vec<String>),
    /// A list stored element by element into `buf` (`t` is the list).
    ListLower {
        t: String,
        buf: String,
        size: usize,
        align: usize,
        realloc: bool,
        /// The element variable.
        e: String,
        lp: Option<Loop>,
    },
    /// A list loaded element by element from `p` into `v`.
    ListLift {
        p: String,
        n: String,
        v: String,
        size: usize,
        align: usize,
        lp: Option<Loop>,
    },
    /// A map stored entry by entry into `buf` (`t` is the map).
    MapLower {
        t: String,
        /// The entry count, read before an owned map is consumed.
        n: String,
        buf: String,
        size: usize,
        align: usize,
        realloc: bool,
        /// The key and value variables.
        k: String,
        v: String,
        lp: Option<Loop>,
    },
    /// A map loaded entry by entry from `p` into `m`.
    MapLift {
        p: String,
        n: String,
        m: String,
        size: usize,
        align: usize,
        lp: Option<Loop>,
    },
    /// Record or tuple fields lowered from `t.name`, inline.
    FieldsLower {
        t: String,
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
    /// `match &v { Case(e) => { ..; (i, joined..) } .. }`.
    VariantLower {
        v: String,
        arms: Vec<(String, bool)>,
        text: String,
        width: usize,
        case: usize,
        pattern: String,
        saved: String,
    },
    /// `match d { i => { ..; Case(payload) } .. }` over the joined values.
    VariantLift {
        d: String,
        values: Vec<String>,
        arms: Vec<(String, bool)>,
        text: String,
        case: usize,
        saved: String,
    },
    /// A list's elements freed (when they own something), then its buffer.
    FreeList {
        p: String,
        n: String,
        size: usize,
        align: usize,
        elements: bool,
        lp: Option<Loop>,
    },
    /// `match d { i => { payload frees } .. }`, arms that free nothing left out.
    FreeVariant {
        d: String,
        arms: String,
        case: usize,
        saved: String,
    },
}

impl Body<'_, '_> {
    fn pop_open(&mut self) -> Result<Open, BindError> {
        self.open
            .pop()
            .ok_or_else(|| self.internal("a block of no open step"))
    }

    /// Starts a loop body: the base moves to the element, the body is
    /// written into a buffer of its own.
    fn begin_loop(&mut self, i: String, base: String) -> Loop {
        let saved_base = std::mem::replace(&mut self.base, base.clone());
        Loop {
            i,
            base,
            saved_base,
            saved_out: self.divert(),
        }
    }

    /// Ends a loop body: returns the index and base variables and the body.
    fn end_loop(&mut self, lp: Option<Loop>) -> Result<(String, String, String), BindError> {
        let lp = lp.ok_or_else(|| self.internal("a list block left without being entered"))?;
        let body = self.resume(lp.saved_out);
        self.base = lp.saved_base;
        Ok((lp.i, lp.base, body))
    }

    /// A compound step begins: what its blocks will need.
    pub(super) fn open_step(
        &mut self,
        step: &Step,
        ops: Vec<String>,
        as_bytes: bool,
    ) -> Result<Open, BindError> {
        let rt = self.rt.clone();
        let open = match step {
            Step::ListLower { realloc: true, .. } if as_bytes && self.owned => {
                // As for strings: the vector's buffer, shrunk to its length.
                let v = self.one(ops)?;
                self.took = true;
                let t = self.bind(&format!("core::mem::take(&mut {v}).into_boxed_slice()"));
                let len = self.bind(&format!("{t}.len()"));
                let p = self.bind(&format!("Box::into_raw({t}).cast::<u8>()"));
                Open::Done(vec![p, len])
            }
            Step::ListLower {
                layout, realloc, ..
            } => {
                let v = self.one(ops)?;
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
                if as_bytes && !*realloc {
                    // The slice's own storage is the canonical layout.
                    let p = format!("{t}.as_ptr().cast::<u8>().cast_mut()");
                    Open::Done(vec![p, format!("{t}.len()")])
                } else if as_bytes {
                    let p = self.bind(&format!(
                        "{rt}::copy_out({t}.as_ptr().cast::<u8>(), {t}.len() * {size}, {align})"
                    ));
                    Open::Done(vec![p, format!("{t}.len()")])
                } else {
                    let buf = self.bind(&format!("{rt}::alloc({t}.len() * {size}, {align})"));
                    Open::ListLower {
                        t,
                        buf,
                        size,
                        align,
                        realloc: *realloc,
                        e: String::new(),
                        lp: None,
                    }
                }
            }
            Step::ListLift {
                element, layout, ..
            } => {
                let [ptr, len] = two(self, ops)?;
                if as_bytes {
                    let elem = self.g.ty(element, self.path);
                    Open::Done(vec![
                        self.bind(&format!("{rt}::list_lift::<{elem}>({ptr}, {len})")),
                    ])
                } else {
                    let p = self.bind(&ptr);
                    let n = self.bind(&len);
                    let v = self.tmp();
                    Open::ListLift {
                        p,
                        n,
                        v,
                        size: layout.size,
                        align: layout.align,
                        lp: None,
                    }
                }
            }
            Step::MapLower {
                layout, realloc, ..
            } => {
                let v = self.one(ops)?;
                // Owned: the map is taken and its entries moved out one by
                // one (emptied as they are lowered, then dropped).
                let t = if self.owned && *realloc {
                    self.took = true;
                    self.bind(&format!("core::mem::take(&mut {v})"))
                } else {
                    self.leftover |= self.owned;
                    self.bind(&format!("&{v}"))
                };
                let (size, align) = (layout.size, layout.align);
                let n = self.bind(&format!("{t}.len()"));
                let buf = self.bind(&format!("{rt}::alloc({n} * {size}, {align})"));
                Open::MapLower {
                    t,
                    n,
                    buf,
                    size,
                    align,
                    realloc: *realloc,
                    k: String::new(),
                    v: String::new(),
                    lp: None,
                }
            }
            Step::MapLift { layout, .. } => {
                let [ptr, len] = two(self, ops)?;
                let p = self.bind(&ptr);
                let n = self.bind(&len);
                let m = self.tmp();
                Open::MapLift {
                    p,
                    n,
                    m,
                    size: layout.size,
                    align: layout.align,
                    lp: None,
                }
            }
            Step::RecordLower { ty, .. } | Step::TupleLower { ty, .. } => {
                let v = self.one(ops)?;
                let t = self.bind(&format!("{}{v}", self.borrow()));
                Open::FieldsLower {
                    t,
                    names: self.field_names(*ty)?,
                    outs: Vec::new(),
                }
            }
            Step::RecordLift { ty, fields } | Step::TupleLift { ty, fields } => Open::FieldsLift {
                ty: *ty,
                inputs: ops.into_iter(),
                counts: fields.iter().map(|f| f.params.len()).collect(),
                values: Vec::new(),
            },
            Step::VariantLower { ty, .. } => {
                self.open_variant_lower(ops, self.variant_arms(*ty)?)?
            }
            Step::OptionLower { .. } => self.open_variant_lower(
                ops,
                vec![("None".to_string(), false), ("Some".to_string(), true)],
            )?,
            Step::ResultLower { ty, .. } => {
                let (ok, err) = self.result_payloads(*ty)?;
                self.open_variant_lower(
                    ops,
                    vec![("Ok".to_string(), ok), ("Err".to_string(), err)],
                )?
            }
            Step::VariantLift { ty, .. } => self.open_variant_lift(ops, self.variant_arms(*ty)?),
            Step::OptionLift { .. } => self.open_variant_lift(
                ops,
                vec![("None".to_string(), false), ("Some".to_string(), true)],
            ),
            Step::ResultLift { ty, .. } => {
                // `Ok(())` for a missing payload: the arm has a payload
                // expression in Rust either way.
                let (ok, err) = self.result_payloads(*ty)?;
                let arm = |name: &str, payload: bool| {
                    let ctor = if payload {
                        name.to_string()
                    } else {
                        format!("{name}(())")
                    };
                    (ctor, payload)
                };
                self.open_variant_lift(ops, vec![arm("Ok", ok), arm("Err", err)])
            }
            Step::FreeList {
                offset,
                layout,
                element,
            } => {
                let b = self.base.clone();
                let p = self.bind(&format!("*{b}.add({offset}).cast::<*mut u8>()"));
                let n = self.bind(&format!("*{b}.add({}).cast::<usize>()", offset + 4));
                Open::FreeList {
                    p,
                    n,
                    size: layout.size,
                    align: layout.align,
                    elements: !element.steps.is_empty(),
                    lp: None,
                }
            }
            Step::FreeVariant {
                offset,
                discriminant,
                ..
            } => Open::FreeVariant {
                d: format!(
                    "*{}.add({offset}).cast::<{}>()",
                    self.base,
                    mem_ty(*discriminant)
                ),
                arms: String::new(),
                case: 0,
                saved: String::new(),
            },
            _ => return Err(self.internal(&format!("step `{}` has no blocks", step.name()))),
        };
        Ok(open)
    }

    /// Block `index` of the innermost open step begins: its seed.
    pub(super) fn enter_block(&mut self, index: usize) -> Result<Vec<String>, BindError> {
        let mut open = self.pop_open()?;
        let seed = match &mut open {
            Open::ListLower { e, lp, .. } => {
                let (i, el, base) = (self.tmp(), self.tmp(), self.tmp());
                *lp = Some(self.begin_loop(i, base));
                let seed = vec![format!("(*{el})")];
                *e = el;
                seed
            }
            Open::ListLift { lp, .. } => {
                let (i, base) = (self.tmp(), self.tmp());
                *lp = Some(self.begin_loop(i, base));
                Vec::new()
            }
            Open::MapLower { k, v, lp, .. } => {
                let (i, key, value, base) = (self.tmp(), self.tmp(), self.tmp(), self.tmp());
                *lp = Some(self.begin_loop(i, base));
                // Borrowed entries are references; owned ones are moved
                // into the loop's bindings, places the lowering may empty.
                let seed = if self.owned {
                    vec![format!("({key})"), format!("({value})")]
                } else {
                    vec![format!("(*{key})"), format!("(*{value})")]
                };
                (*k, *v) = (key, value);
                seed
            }
            Open::MapLift { lp, .. } => {
                let (i, base) = (self.tmp(), self.tmp());
                *lp = Some(self.begin_loop(i, base));
                Vec::new()
            }
            Open::FreeList {
                lp, elements: true, ..
            } => {
                let (i, base) = (self.tmp(), self.tmp());
                *lp = Some(self.begin_loop(i, base));
                Vec::new()
            }
            Open::FreeList { .. } | Open::Done(_) => Vec::new(),
            // Fields are written inline, in the step's own output.
            Open::FieldsLower { t, names, .. } => match names.get(index) {
                Some(n) => vec![format!("{t}.{n}")],
                None => return Err(self.internal("a field block past the type's fields")),
            },
            Open::FieldsLift { inputs, counts, .. } => match counts.get(index) {
                Some(n) => inputs.by_ref().take(*n).collect(),
                None => return Err(self.internal("a field block past the step's fields")),
            },
            Open::VariantLower {
                arms,
                case,
                pattern,
                saved,
                ..
            } => {
                let Some((pat, payload)) = arms.get(index).cloned() else {
                    return Err(self.internal("a case block past the type's cases"));
                };
                let e = self.tmp();
                let (p, seed) = if payload {
                    (format!("{pat}({e})"), vec![format!("(*{e})")])
                } else if pat == "Ok" || pat == "Err" {
                    (format!("{pat}(_)"), Vec::new())
                } else {
                    (pat, Vec::new())
                };
                *case = index;
                *pattern = p;
                *saved = self.divert();
                seed
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
            Open::FreeVariant { case, saved, .. } => {
                *case = index;
                *saved = self.divert();
                Vec::new()
            }
        };
        self.open.push(open);
        Ok(seed)
    }

    /// The block that began last ends, leaving `results`.
    pub(super) fn leave_block(&mut self, results: Vec<String>) -> Result<(), BindError> {
        let mut open = self.pop_open()?;
        match &mut open {
            Open::ListLower {
                t,
                buf,
                size,
                e,
                lp,
                ..
            } => {
                let (i, base, body) = self.end_loop(lp.take())?;
                let _ = writeln!(
                    self.out,
                    "for ({i}, {e}) in {t}.{}().enumerate() {{\nlet {base} = {buf}.add({i} * {size});\n{body}}}",
                    if self.owned { "iter_mut" } else { "iter" }
                );
            }
            Open::ListLift {
                p, n, v, size, lp, ..
            } => {
                let (i, base, body) = self.end_loop(lp.take())?;
                let value = results.last().cloned().unwrap_or_default();
                let _ = writeln!(
                    self.out,
                    "let mut {v} = Vec::with_capacity({n});\n\
                     for {i} in 0..{n} {{\nlet {base} = {p}.add({i} * {size});\n{body}{v}.push({value});\n}}"
                );
            }
            Open::MapLower {
                t,
                buf,
                size,
                k,
                v,
                lp,
                ..
            } => {
                let (i, base, body) = self.end_loop(lp.take())?;
                let head = if self.owned {
                    // `mut`: the lowering may take strings and lists out.
                    format!(
                        "#[allow(unused_mut)]\nfor ({i}, (mut {k}, mut {v})) in {t}.into_iter().enumerate()"
                    )
                } else {
                    format!("for ({i}, ({k}, {v})) in {t}.iter().enumerate()")
                };
                let _ = writeln!(
                    self.out,
                    "{head} {{\nlet {base} = {buf}.add({i} * {size});\n{body}}}"
                );
            }
            Open::MapLift {
                p, n, m, size, lp, ..
            } => {
                let (i, base, body) = self.end_loop(lp.take())?;
                let [key, value] = <[String; 2]>::try_from(results).map_err(|_| {
                    self.internal("a map entry block left other than a key and a value")
                })?;
                // Of repeated keys the last entry's value stays, as the
                // component model asks.
                let _ = writeln!(
                    self.out,
                    "let mut {m} = ::std::collections::BTreeMap::new();\n\
                     for {i} in 0..{n} {{\nlet {base} = {p}.add({i} * {size});\n{body}{m}.insert({key}, {value});\n}}"
                );
            }
            Open::FreeList { p, n, size, lp, .. } => {
                if lp.is_some() {
                    let (i, base, body) = self.end_loop(lp.take())?;
                    let _ = writeln!(
                        self.out,
                        "for {i} in 0..{n} {{\nlet {base} = {p}.add({i} * {size});\n{body}}}"
                    );
                }
            }
            Open::FieldsLower { outs, .. } => outs.extend(results),
            Open::FieldsLift { values, .. } => {
                values.push(results.last().cloned().unwrap_or_default())
            }
            Open::VariantLower {
                text,
                width,
                case,
                pattern,
                saved,
                ..
            } => {
                let body = self.resume(std::mem::take(saved));
                *width = results.len();
                let _ = writeln!(
                    text,
                    "{pattern} => {{\n{body}({case}i32, {})\n}}",
                    results.join(", ")
                );
            }
            Open::VariantLift {
                arms,
                text,
                case,
                saved,
                ..
            } => {
                let body = self.resume(std::mem::take(saved));
                let Some((ctor, payload)) = arms.get(*case).cloned() else {
                    return Err(self.internal("a case block past the type's cases"));
                };
                let value = match results.last() {
                    Some(v) if payload => format!("{ctor}({v})"),
                    _ => ctor,
                };
                let _ = writeln!(text, "{case} => {{\n{body}{value}\n}}");
            }
            Open::FreeVariant {
                arms, case, saved, ..
            } => {
                let body = self.resume(std::mem::take(saved));
                if !body.is_empty() {
                    let _ = writeln!(arms, "{case} => {{\n{body}}}");
                }
            }
            Open::Done(_) => {}
        }
        self.open.push(open);
        Ok(())
    }

    /// The innermost open step ends: what it pushes.
    pub(super) fn close_step(&mut self) -> Result<Vec<String>, BindError> {
        let open = self.pop_open()?;
        let rt = self.rt.clone();
        Ok(match open {
            Open::Done(ops) => ops,
            Open::ListLower {
                t,
                buf,
                size,
                align,
                realloc,
                ..
            } => {
                if !realloc {
                    self.cleanup = true;
                    let _ = writeln!(
                        self.out,
                        "cleanup.push(({buf}, {t}.len() * {size}, {align}));"
                    );
                }
                vec![buf, format!("{t}.len()")]
            }
            Open::ListLift {
                p,
                n,
                v,
                size,
                align,
                ..
            } => {
                let _ = writeln!(self.out, "{rt}::free({p}, {n} * {size}, {align});");
                vec![v]
            }
            Open::MapLower {
                n,
                buf,
                size,
                align,
                realloc,
                ..
            } => {
                if !realloc {
                    self.cleanup = true;
                    let _ = writeln!(self.out, "cleanup.push(({buf}, {n} * {size}, {align}));");
                }
                vec![buf, n]
            }
            Open::MapLift {
                p,
                n,
                m,
                size,
                align,
                ..
            } => {
                let _ = writeln!(self.out, "{rt}::free({p}, {n} * {size}, {align});");
                vec![m]
            }
            Open::FieldsLower { outs, .. } => outs,
            Open::FieldsLift { ty, values, .. } => {
                let expr = match &self.g.resolve.types[ty].kind {
                    TypeDefKind::Record(r) => {
                        let mut s = format!("{} {{ ", self.g.type_path(ty, self.path));
                        for (f, v) in r.fields.iter().zip(&values) {
                            let _ = write!(s, "{}: {v}, ", snake(&f.name));
                        }
                        s.push('}');
                        s
                    }
                    _ => format!("({},)", values.join(", ")),
                };
                vec![self.bind(&expr)]
            }
            Open::VariantLower { v, text, width, .. } => {
                let outs: Vec<String> = (0..=width).map(|_| self.tmp()).collect();
                let _ = writeln!(
                    self.out,
                    "let ({},) = match {}{v} {{\n{text}}};",
                    outs.join(", "),
                    self.borrow()
                );
                outs
            }
            Open::VariantLift { d, text, .. } => {
                vec![self.bind(&format!("match {d} {{\n{text}_ => {rt}::invalid(),\n}}"))]
            }
            Open::FreeList {
                p, n, size, align, ..
            } => {
                let _ = writeln!(self.out, "{rt}::free({p}, {n} * {size}, {align});");
                Vec::new()
            }
            Open::FreeVariant { d, arms, .. } => {
                let _ = writeln!(self.out, "match {d} {{\n{arms}_ => {{}}\n}}");
                Vec::new()
            }
        })
    }

    fn open_variant_lower(
        &mut self,
        ops: Vec<String>,
        arms: Vec<(String, bool)>,
    ) -> Result<Open, BindError> {
        Ok(Open::VariantLower {
            v: self.one(ops)?,
            arms,
            text: String::new(),
            width: 0,
            case: 0,
            pattern: String::new(),
            saved: String::new(),
        })
    }

    fn open_variant_lift(&mut self, ops: Vec<String>, arms: Vec<(String, bool)>) -> Open {
        let mut ops = ops.into_iter();
        let d = ops.next().unwrap_or_default();
        let values = ops.map(|v| self.bind(&v)).collect();
        Open::VariantLift {
            d,
            values,
            arms,
            text: String::new(),
            case: 0,
            saved: String::new(),
        }
    }
}
