//! Go types: the spelling of every WIT type, and the declaration of every
//! named one (records as structs, variants as a struct of a `Case` and a
//! field per payload, enums and flags as unsigned integers with
//! constants, aliases as Go aliases, imported resources as handles).
//! Anonymous types are spelled in place: `[]T`, `map[K]V`, `Option[T]`,
//! `Result[T, E]`, `TupleN[..]`.

use std::fmt::Write as _;

use wit_parser::{FlagsRepr, Handle, Type, TypeDefKind, TypeId, TypeOwner, WorldItem};

use super::{Gen, camel, docs, top_doc};

/// The doc paragraph of an exported resource's handle type.
const EXPORTED_HANDLE: &str = "A handle to a value of [{name}Impl] this component implements: make one\nwith [New{name}]; [{name}.Rep] is its value. The value is let go of once\nthe last handle is dropped (its `Drop` method, if any, is called then).";
use crate::BindError;

impl Gen<'_> {
    /// The Go type of `ty`.
    pub fn gty(&self, ty: &Type) -> String {
        match ty {
            Type::Bool => "bool".into(),
            Type::U8 => "uint8".into(),
            Type::S8 => "int8".into(),
            Type::U16 => "uint16".into(),
            Type::S16 => "int16".into(),
            Type::U32 => "uint32".into(),
            Type::S32 => "int32".into(),
            Type::U64 => "uint64".into(),
            Type::S64 => "int64".into(),
            Type::F32 => "float32".into(),
            Type::F64 => "float64".into(),
            Type::Char => "rune".into(),
            Type::String => "string".into(),
            // The plan refuses worlds that use it: never spelled.
            Type::ErrorContext => "int32".into(),
            Type::Id(id) => {
                let def = &self.resolve.types[*id];
                if def.name.is_some() && def.owner != TypeOwner::None {
                    return self.type_name(*id);
                }
                self.kind_ty(&def.kind)
            }
        }
    }

    /// The Go spelling of an anonymous type of `kind`.
    fn kind_ty(&self, kind: &TypeDefKind) -> String {
        match kind {
            TypeDefKind::Type(t) => self.gty(t),
            TypeDefKind::List(Type::U8) => "[]byte".into(),
            TypeDefKind::List(t) => format!("[]{}", self.gty(t)),
            TypeDefKind::Map(k, v) => format!("map[{}]{}", self.gty(k), self.gty(v)),
            TypeDefKind::Option(t) => {
                self.use_helper("Option");
                format!("{}[{}]", self.helper("Option"), self.gty(t))
            }
            TypeDefKind::Result(r) => {
                self.use_helper("Result");
                format!(
                    "{}[{}, {}]",
                    self.helper("Result"),
                    self.side(&r.ok),
                    self.side(&r.err)
                )
            }
            TypeDefKind::Tuple(t) => match t.types.len() {
                0 => "struct{}".into(),
                1 => self.gty(&t.types[0]),
                n => {
                    let name = format!("Tuple{n}");
                    self.use_helper(&name);
                    let args: Vec<String> = t.types.iter().map(|t| self.gty(t)).collect();
                    format!("{name}[{}]", args.join(", "))
                }
            },
            // A borrow of the guest's own resource is the user's value.
            TypeDefKind::Handle(Handle::Borrow(r)) if self.is_exported_resource(*r) => {
                let r = crate::abi::resource_of(self.resolve, *r);
                format!("{}Impl", self.type_name(r))
            }
            TypeDefKind::Handle(Handle::Own(r) | Handle::Borrow(r)) => self.type_name(*r),
            TypeDefKind::Future(e) => self.payload_ty(wcomp_abi::PayloadKind::Future, e),
            TypeDefKind::Stream(e) => self.payload_ty(wcomp_abi::PayloadKind::Stream, e),
            _ => "int32".into(),
        }
    }

    /// A result side: its type, or `struct{}` without a payload.
    pub fn side(&self, t: &Option<Type>) -> String {
        t.as_ref()
            .map_or_else(|| "struct{}".to_string(), |t| self.gty(t))
    }

    /// Whether a 1-tuple: Go spells it as its element.
    pub fn is_single_tuple(&self, ty: TypeId) -> bool {
        matches!(&self.resolve.types[ty].kind, TypeDefKind::Tuple(t) if t.types.len() == 1)
    }

    /// The error type `E` of a function result `result<T, E>` that Go spells
    /// as `(T, error)`: a named variant, enum or record, which gets an
    /// `Error` method.
    pub fn error_style(&self, result: &Option<Type>) -> Option<(Option<Type>, TypeId)> {
        let Type::Id(id) = self.unalias(result.as_ref()?) else {
            return None;
        };
        let TypeDefKind::Result(r) = &self.resolve.types[id].kind else {
            return None;
        };
        let Type::Id(e) = self.unalias(r.err.as_ref()?) else {
            return None;
        };
        let def = &self.resolve.types[e];
        match def.kind {
            TypeDefKind::Variant(_) | TypeDefKind::Enum(_) | TypeDefKind::Record(_)
                if def.name.is_some() =>
            {
                Some((r.ok, e))
            }
            _ => None,
        }
    }

    /// The error of a fallible constructor (`result<r, E>`): `Some(E)`, with
    /// `Some(None)` for `result<r>`.
    pub fn constructor_error(&self, f: &crate::abi::FunctionPlan) -> Option<Option<Type>> {
        let Type::Id(id) = self.unalias(f.function.result.as_ref()?) else {
            return None;
        };
        match &self.resolve.types[id].kind {
            TypeDefKind::Result(r) => Some(r.err),
            _ => None,
        }
    }

    /// Declarations of every named type of the world.
    pub(super) fn types(&self) -> Result<String, BindError> {
        let w = &self.resolve.worlds[self.world];
        let mut errors: Vec<TypeId> = self
            .plan
            .imports
            .iter()
            .chain(&self.plan.exports)
            .filter_map(|f| self.error_style(&f.function.result).map(|(_, e)| e))
            .collect();
        errors.sort();
        errors.dedup();
        let mut s = String::new();
        for item in w.imports.values().chain(w.exports.values()) {
            let ids: Vec<TypeId> = match item {
                WorldItem::Interface { id, .. } => self.resolve.interfaces[*id]
                    .types
                    .values()
                    .copied()
                    .collect(),
                WorldItem::Type { id, .. } => vec![*id],
                WorldItem::Function(_) => continue,
            };
            for id in ids {
                self.declare(id, errors.contains(&id), &mut s)?;
            }
        }
        Ok(s)
    }

    fn declare(&self, id: TypeId, is_error: bool, s: &mut String) -> Result<(), BindError> {
        let def = &self.resolve.types[id];
        let Some(wit_name) = &def.name else {
            return Ok(());
        };
        let name = self.type_name(id);
        s.push('\n');
        let fallback = format!("{name} is `{wit_name}`.");
        let more: &[&str] = match &def.kind {
            TypeDefKind::Resource if self.is_exported_resource(id) => &[EXPORTED_HANDLE],
            TypeDefKind::Resource => {
                &["A handle: call `Drop` once when an owned one is no longer needed."]
            }
            _ => &[],
        };
        let more: Vec<String> = more.iter().map(|m| m.replace("{name}", &name)).collect();
        let more: Vec<&str> = more.iter().map(String::as_str).collect();
        s.push_str(&top_doc(&def.docs, &fallback, &more));
        match &def.kind {
            TypeDefKind::Record(r) => {
                let fields: Vec<(String, String, String)> = r
                    .fields
                    .iter()
                    .map(|f| {
                        let mut d = String::new();
                        docs(&f.docs, &mut d);
                        (field_name(&f.name), self.gty(&f.ty), d)
                    })
                    .collect();
                let _ = writeln!(s, "type {name} struct {{\n{}}}", aligned(&fields));
            }
            TypeDefKind::Variant(v) => {
                let tag = format!("{name}Case");
                let mut fields = vec![("Case".to_string(), tag.clone(), String::new())];
                for c in &v.cases {
                    if let Some(t) = &c.ty {
                        let mut d = String::new();
                        docs(&c.docs, &mut d);
                        let _ = writeln!(
                            d,
                            "// The payload when `Case` is `{}`.",
                            self.case_of(id, &c.name)
                        );
                        fields.push((payload_field(&c.name), self.gty(t), d));
                    }
                }
                let _ = writeln!(
                    s,
                    "type {name} struct {{\n{}}}\n\n// {tag} is which case a [{name}] is.\ntype {tag} {}\n\nconst (",
                    aligned(&fields),
                    uint(v.cases.len().max(1) as u64 - 1)
                );
                for (i, c) in v.cases.iter().enumerate() {
                    docs(&c.docs, s);
                    let cn = self.case_name(id, i);
                    if i == 0 {
                        let _ = writeln!(s, "{cn} {tag} = iota");
                    } else {
                        let _ = writeln!(s, "{cn}");
                    }
                }
                s.push_str(")\n");
                if is_error {
                    let _ = writeln!(
                        s,
                        "\n// Error says which case, with a string payload.\nfunc (e {name}) Error() string {{\nswitch e.Case {{"
                    );
                    for (i, c) in v.cases.iter().enumerate() {
                        let text = if self.unalias_is_string(&c.ty) {
                            format!("\"{}: \" + e.{}", c.name, payload_field(&c.name))
                        } else {
                            format!("\"{}\"", c.name)
                        };
                        let _ = writeln!(s, "case {}:\nreturn {text}", self.case_name(id, i));
                    }
                    let _ = writeln!(s, "}}\nreturn \"{wit_name}\"\n}}");
                }
            }
            TypeDefKind::Enum(e) => {
                let _ = writeln!(
                    s,
                    "type {name} {}\n\nconst (",
                    uint(e.cases.len().max(1) as u64 - 1)
                );
                for (i, c) in e.cases.iter().enumerate() {
                    docs(&c.docs, s);
                    let cn = self.case_name(id, i);
                    if i == 0 {
                        let _ = writeln!(s, "{cn} {name} = iota");
                    } else {
                        let _ = writeln!(s, "{cn}");
                    }
                }
                s.push_str(")\n");
                if is_error {
                    let _ = writeln!(
                        s,
                        "\n// Error says which case.\nfunc (e {name}) Error() string {{\nswitch e {{"
                    );
                    for (i, c) in e.cases.iter().enumerate() {
                        let _ =
                            writeln!(s, "case {}:\nreturn \"{}\"", self.case_name(id, i), c.name);
                    }
                    let _ = writeln!(s, "}}\nreturn \"{wit_name}\"\n}}");
                }
            }
            TypeDefKind::Flags(f) => {
                let _ = writeln!(s, "type {name} {}\n\nconst (", flags_int(f.repr()));
                for (i, flag) in f.flags.iter().enumerate() {
                    docs(&flag.docs, s);
                    let cn = self.case_name(id, i);
                    if i == 0 {
                        let _ = writeln!(s, "{cn} {name} = 1 << iota");
                    } else {
                        let _ = writeln!(s, "{cn}");
                    }
                }
                s.push_str(")\n");
            }
            TypeDefKind::Resource if self.is_exported_resource(id) => {
                let _ = writeln!(s, "type {name} struct {{\nhandle int32\n}}");
                let _ = writeln!(
                    s,
                    "\n// {name}Impl is what a `{wit_name}` is: implement its methods."
                );
                let _ = writeln!(s, "type {name}Impl interface {{");
                for f in self.plan.exports.iter().filter(|f| {
                    matches!(f.function.kind, wit_parser::FunctionKind::Method(r) if crate::abi::resource_of(self.resolve, r) == id)
                }) {
                    docs(&f.function.docs, s);
                    let _ = writeln!(s, "{}{}", self.func_name(f), super::func::signature(self, f));
                }
                s.push_str("}\n");
            }
            TypeDefKind::Resource => {
                let _ = writeln!(s, "type {name} struct {{\nhandle int32\n}}");
            }
            TypeDefKind::Type(Type::Id(r))
                if matches!(
                    self.resolve.types[crate::abi::resource_of(self.resolve, *r)].kind,
                    TypeDefKind::Resource
                ) =>
            {
                let _ = writeln!(s, "type {name} = {}", self.type_name(*r));
            }
            TypeDefKind::Type(t) => {
                let _ = writeln!(s, "type {name} = {}", self.gty(t));
            }
            TypeDefKind::List(_)
            | TypeDefKind::Map(..)
            | TypeDefKind::Option(_)
            | TypeDefKind::Result(_)
            | TypeDefKind::Tuple(_)
            | TypeDefKind::Future(_)
            | TypeDefKind::Stream(_)
            | TypeDefKind::Handle(_) => {
                let structural = self.structural(&def.kind);
                let _ = writeln!(s, "type {name} = {structural}");
            }
            // Kinds the plan refuses never reach a backend.
            _ => {
                return Err(BindError::Internal(format!(
                    "type `{wit_name}` is of a kind the Go backend does not know"
                )));
            }
        }
        if is_error && matches!(def.kind, TypeDefKind::Record(_)) {
            let _ = writeln!(
                s,
                "\n// Error names the type.\nfunc (e {name}) Error() string {{\nreturn \"{wit_name}\"\n}}"
            );
        }
        Ok(())
    }

    /// The structure of a named list, option, ... spelled in place.
    fn structural(&self, kind: &TypeDefKind) -> String {
        self.kind_ty(kind)
    }

    fn unalias_is_string(&self, t: &Option<Type>) -> bool {
        matches!(t.as_ref().map(|t| self.unalias(t)), Some(Type::String))
    }

    /// The constant of the case of variant `id` named `case`.
    fn case_of(&self, id: TypeId, case: &str) -> String {
        match &self.resolve.types[id].kind {
            TypeDefKind::Variant(v) => v
                .cases
                .iter()
                .position(|c| c.name == case)
                .map(|i| self.case_name(id, i))
                .unwrap_or_default(),
            _ => String::new(),
        }
    }

    /// The Go field names of a record's fields or a tuple's (`F0`, ...).
    pub fn field_names(&self, ty: TypeId) -> Option<Vec<String>> {
        match &self.resolve.types[ty].kind {
            TypeDefKind::Record(r) => Some(r.fields.iter().map(|f| field_name(&f.name)).collect()),
            TypeDefKind::Tuple(t) => Some((0..t.types.len()).map(|i| format!("F{i}")).collect()),
            _ => None,
        }
    }

    /// The payload field of case `i` of variant `ty`, if it has a payload.
    pub fn payload_of(&self, ty: TypeId, i: usize) -> Option<String> {
        match &self.resolve.types[ty].kind {
            TypeDefKind::Variant(v) => v
                .cases
                .get(i)
                .and_then(|c| c.ty.map(|_| payload_field(&c.name))),
            _ => None,
        }
    }
}

/// A record field's Go name.
pub(super) fn field_name(name: &str) -> String {
    camel(name)
}

/// A variant payload's field: the case's name, never `Case`.
fn payload_field(name: &str) -> String {
    let n = camel(name);
    if n == "Case" { "CaseValue".into() } else { n }
}

/// `name type` lines with the types in one column, as gofmt aligns
/// consecutive fields; a field with docs starts a new column group.
fn aligned(fields: &[(String, String, String)]) -> String {
    let mut s = String::new();
    let mut i = 0;
    while i < fields.len() {
        // A group: this field and the following ones without docs.
        let mut j = i + 1;
        while j < fields.len() && fields[j].2.is_empty() {
            j += 1;
        }
        let width = fields[i..j].iter().map(|f| f.0.len()).max().unwrap_or(0);
        s.push_str(&fields[i].2);
        for f in &fields[i..j] {
            let _ = writeln!(s, "{:<width$} {}", f.0, f.1);
        }
        i = j;
    }
    s
}

/// The smallest unsigned type holding `max`.
fn uint(max: u64) -> &'static str {
    match max {
        0..=0xff => "uint8",
        0x100..=0xffff => "uint16",
        0x1_0000..=0xffff_ffff => "uint32",
        _ => "uint64",
    }
}

fn flags_int(repr: FlagsRepr) -> &'static str {
    match repr {
        FlagsRepr::U8 => "uint8",
        FlagsRepr::U16 => "uint16",
        FlagsRepr::U32(1) => "uint32",
        FlagsRepr::U32(_) => "uint64",
    }
}
