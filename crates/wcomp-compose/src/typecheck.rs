//! Does an export provide what an import needs? Compared in WIT terms across
//! two `Resolve`s (each component's WIT is decoded on its own); when not, the
//! first difference, with both declarations side by side.
//!
//! Rules (component-model subtyping, strict where unsure):
//! - every function of the import exists in the export under the same name
//!   (the export may have more), of the same kind (function, method, static,
//!   constructor, getter, setter; async or not; of the same resource), with
//!   the same parameter count, names and types and the same result;
//! - types compare structurally, recursively; aliases are transparent;
//!   records, variants, enums, flags and resources must also have the same
//!   name (whatever interface defines them); fields, cases and flags compare
//!   in order, names first, then the types they carry; handles agree on
//!   own/borrow and on the resource's name;
//! - a type the import's interface declares is compared with the export's
//!   type of that name; one missing from the export is an error only when a
//!   function of the import reaches it (wit-component puts in an import's
//!   instance type the types its functions use).

use std::collections::HashSet;

use wcomp_wit::signature::{function as signature, type_name};
use wit_parser::{
    Function, FunctionKind, Handle, InterfaceId, Resolve, Type, TypeDef, TypeDefKind, TypeId,
};

/// Deeper than this, types are not compared (and the check fails).
const MAX_DEPTH: usize = 100;

/// What an export lacks, or where it differs, for the import it would satisfy.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Mismatch {
    /// The item that differs: `function get`, `type error`, `resource file`.
    pub item: String,
    /// The importer's declaration as WIT, e.g. `get: func(key: string) -> result<payload, error>`
    /// (for a type: its definition, e.g. `variant error { not-found, other(string) }`);
    /// `None` when the import does not have it.
    pub import: Option<String>,
    /// The exporter's declaration; `None` when the export lacks the item.
    pub export: Option<String>,
    /// The first difference, with the path to it: `in function set, parameter 2 is named
    /// value in the import but val in the export`, `in function get, result (result<payload,
    /// error>): in type error, case storage-full is missing from the export`.
    pub difference: String,
}

/// Checks that interface `export` of `exporter` provides what interface
/// `import` of `importer` needs: functions first, in the import's order,
/// then the types the import declares.
pub fn check_interface(
    importer: &Resolve,
    import: InterfaceId,
    exporter: &Resolve,
    export: InterfaceId,
) -> Result<(), Mismatch> {
    let (Some(ai), Some(bi)) = (
        importer.interfaces.get(import),
        exporter.interfaces.get(export),
    ) else {
        let difference = "the interface is not in its decoded WIT".to_string();
        return Err(mismatch("interface".to_string(), None, None, difference));
    };
    let mut cx = Checker::new(importer, exporter);
    for (name, fa) in &ai.functions {
        let Some(fb) = bi.functions.get(name) else {
            return Err(missing_function(importer, fa, &bi.types));
        };
        cx.function(fa, fb)
            .map_err(|d| d.finish("", || function_item(&cx, fa, fb)))?;
    }
    let used = reachable(importer, ai.functions.values());
    for (name, &ta) in &ai.types {
        let item = type_item(importer, ta, name);
        match bi.types.get(name) {
            Some(&tb) => cx.ty(&Type::Id(ta), &Type::Id(tb), 0).map_err(|d| {
                let (import, export) = (definition(importer, ta), definition(exporter, tb));
                d.finish(&item, || Item(item.clone(), import, Some(export)))
            })?,
            None if used.contains(&ta) => {
                let difference = format!("{item} is missing from the export");
                return Err(mismatch(
                    item,
                    Some(definition(importer, ta)),
                    None,
                    difference,
                ));
            }
            None => {}
        }
    }
    Ok(())
}

/// Same for a world-level function import satisfied by a function export.
pub fn check_function(
    importer: &Resolve,
    import: &Function,
    exporter: &Resolve,
    export: &Function,
) -> Result<(), Mismatch> {
    let mut cx = Checker::new(importer, exporter);
    let result = cx.function(import, export);
    result.map_err(|d| d.finish("", || function_item(&cx, import, export)))
}

/// The item a mismatch is about: its name, and both declarations.
struct Item(String, String, Option<String>);

type Found = Result<(), Diff>;

/// A difference on its way out of the recursion.
struct Diff {
    /// Where it is, innermost first: `in type error`, `parameter value (payload)`.
    path: Vec<String>,
    text: String,
    /// A difference at the type itself: both sides, for the caller to say
    /// "X is A in the import but B in the export" once it knows X.
    pending: Option<(String, String)>,
    /// The innermost named type holding the difference.
    item: Option<Item>,
}

fn vs(lead: &str, a: impl std::fmt::Display, b: impl std::fmt::Display) -> Diff {
    Diff::said(format!("{lead} {a} in the import but {b} in the export"))
}

impl Diff {
    fn new(text: String, pending: Option<(String, String)>) -> Diff {
        let (path, item) = (Vec::new(), None);
        Diff {
            path,
            text,
            pending,
            item,
        }
    }

    fn said(text: String) -> Diff {
        Diff::new(text, None)
    }

    fn pending(a: String, b: String) -> Diff {
        Diff::new(String::new(), Some((a, b)))
    }

    fn within(mut self, segment: String) -> Diff {
        self.path.push(segment);
        self
    }

    /// Back in the parent: name what differs, or say where the difference is.
    /// An anonymous step (`in the ok type`) is left out when the path already
    /// names the type it leads to (`in type error`).
    fn under(mut self, subject: &str, segment: String, anonymous: bool) -> Diff {
        let named = anonymous && self.path.last().is_some_and(|s| s.starts_with("in type "));
        if !self.settle(subject) && !named {
            self.path.push(segment);
        }
        self
    }

    /// Names the subject of a pending difference; whether there was one.
    fn settle(&mut self, subject: &str) -> bool {
        let Some((a, b)) = self.pending.take() else {
            return false;
        };
        self.text = vs(&format!("{subject} is"), a, b).text;
        true
    }

    fn finish(mut self, subject: &str, fallback: impl FnOnce() -> Item) -> Mismatch {
        self.settle(subject);
        let mut difference = String::new();
        for segment in self.path.iter().rev() {
            let comma = segment.starts_with("in ");
            difference += &format!("{segment}{}", if comma { ", " } else { ": " });
        }
        difference += &self.text;
        let Item(item, import, export) = self.item.take().unwrap_or_else(fallback);
        mismatch(item, Some(import), export, difference)
    }
}

struct Checker<'a> {
    a: &'a Resolve,
    b: &'a Resolve,
    /// Pairs of types found equal (keeps shared subtrees linear).
    equal: HashSet<(TypeId, TypeId)>,
}

impl<'a> Checker<'a> {
    fn new(a: &'a Resolve, b: &'a Resolve) -> Checker<'a> {
        let equal = HashSet::new();
        Checker { a, b, equal }
    }

    fn function(&mut self, fa: &Function, fb: &Function) -> Found {
        let result = self.function_body(fa, fb);
        result.map_err(|d| d.within(format!("in function {}", fa.name)))
    }

    fn function_body(&mut self, fa: &Function, fb: &Function) -> Found {
        let (a, b) = (self.a, self.b);
        if fa.name != fb.name {
            return Err(vs("it is named", &fa.name, &fb.name));
        }
        let (ka, kb) = (kind(a, &fa.kind), kind(b, &fb.kind));
        if ka != kb {
            return Err(vs("it is", ka, kb));
        }
        if fa.params.len() != fb.params.len() {
            let lead = "the number of parameters is";
            return Err(vs(lead, fa.params.len(), fb.params.len()));
        }
        for (i, (pa, pb)) in fa.params.iter().zip(&fb.params).enumerate() {
            let lead = format!("parameter {} is named", i + 1);
            if pa.name != pb.name {
                return Err(vs(&lead, &pa.name, &pb.name));
            }
            self.ty(&pa.ty, &pb.ty, 0).map_err(|d| {
                let segment = format!("parameter {} ({})", pa.name, display(a, &pa.ty));
                d.under(
                    &format!("the type of parameter {}", pa.name),
                    segment,
                    false,
                )
            })?;
        }
        match (&fa.result, &fb.result) {
            (None, None) => Ok(()),
            (Some(ra), None) => Err(vs("it returns", shown(a, ra), "nothing")),
            (None, Some(rb)) => Err(vs("it returns", "nothing", shown(b, rb))),
            (Some(ra), Some(rb)) => self.ty(ra, rb, 0).map_err(|d| {
                let segment = format!("result ({})", display(a, ra));
                d.under("the result type", segment, false)
            }),
        }
    }

    /// Compares two types; a difference at this very type comes back pending.
    fn ty(&mut self, ta: &Type, tb: &Type, depth: usize) -> Found {
        if depth > MAX_DEPTH {
            let text = format!("types nest more than {MAX_DEPTH} levels deep, too deep to compare");
            return Err(Diff::said(text));
        }
        let (Some((ea, na)), Some((eb, nb))) = (dealias(self.a, ta), dealias(self.b, tb)) else {
            let text = "an alias refers to a missing type or nests too deep".to_string();
            return Err(Diff::said(text));
        };
        let result = match (ea, eb) {
            (Type::Id(x), Type::Id(y)) if self.equal.contains(&(x, y)) => return Ok(()),
            (Type::Id(x), Type::Id(y)) => self.defs(x, y, depth).map(|()| {
                self.equal.insert((x, y));
            }),
            _ if ea == eb => Ok(()),
            _ => Err(Diff::pending(shown(self.a, &ea), shown(self.b, &eb))),
        };
        result.map_err(|mut d| {
            // A difference at this type itself is best shown by the enclosing
            // declaration unless both sides are named.
            let wanted = d.pending.is_none() || (na.is_some() && nb.is_some());
            let named = (na.map(|id| (self.a, id))).or(nb.map(|id| (self.b, id)));
            if let (None, true, Some((r, id))) = (&d.item, wanted, named) {
                let side = |r: &Resolve, n: Option<TypeId>, t: &Type| {
                    n.map_or_else(|| shown(r, t), |id| definition(r, id))
                };
                let name = def(r, id).and_then(|d| d.name.as_deref());
                let name = name.unwrap_or_default();
                let (import, export) = (side(self.a, na, &ea), side(self.b, nb, &eb));
                d.item = Some(Item(type_item(r, id, name), import, Some(export)));
            }
            d
        })
    }

    fn defs(&mut self, x: TypeId, y: TypeId, depth: usize) -> Found {
        let (a, b, d) = (self.a, self.b, depth + 1);
        let (Some(da), Some(db)) = (def(a, x), def(b, y)) else {
            let text = "a type refers to a type missing from its WIT".to_string();
            return Err(Diff::said(text));
        };
        let pending = || Diff::pending(shown(a, &Type::Id(x)), shown(b, &Type::Id(y)));
        use TypeDefKind as K;
        if nominal(&da.kind) || nominal(&db.kind) {
            if !nominal(&da.kind) || !nominal(&db.kind) || da.name != db.name {
                return Err(pending());
            }
            let name = da.name.as_deref().unwrap_or_default();
            return (self.nominal(da, db, d)).map_err(|e| e.within(format!("in type {name}")));
        }
        match (&da.kind, &db.kind) {
            (K::List(ta), K::List(tb)) => self.step(ta, tb, d, "the element type"),
            (K::FixedLengthList(ta, n), K::FixedLengthList(tb, m)) => match n == m {
                true => self.step(ta, tb, d, "the element type"),
                false => Err(vs("the length is", n, m)),
            },
            (K::Map(ka, va), K::Map(kb, vb)) => {
                self.step(ka, kb, d, "the key type")?;
                self.step(va, vb, d, "the value type")
            }
            (K::Option(ta), K::Option(tb)) => self.step(ta, tb, d, "the option's type"),
            (K::Result(ra), K::Result(rb)) => {
                self.optional(&ra.ok, &rb.ok, d, "the ok type")?;
                self.optional(&ra.err, &rb.err, d, "the err type")
            }
            (K::Tuple(ta), K::Tuple(tb)) => {
                if ta.types.len() != tb.types.len() {
                    return Err(vs("the tuple's length is", ta.types.len(), tb.types.len()));
                }
                for (i, (ea, eb)) in ta.types.iter().zip(&tb.types).enumerate() {
                    self.step(ea, eb, d, &format!("element {} of the tuple", i + 1))?;
                }
                Ok(())
            }
            (K::Handle(ha), K::Handle(hb)) => {
                let own = |h: &Handle| matches!(h, Handle::Own(_));
                let (Handle::Own(ra) | Handle::Borrow(ra), Handle::Own(rb) | Handle::Borrow(rb)) =
                    (ha, hb);
                match (resource_name(a, *ra), resource_name(b, *rb)) {
                    (Some(na), Some(nb)) if own(ha) == own(hb) && na == nb => Ok(()),
                    _ => Err(pending()),
                }
            }
            (K::Future(ta), K::Future(tb)) => self.optional(ta, tb, d, "the future's type"),
            (K::Stream(ta), K::Stream(tb)) => self.optional(ta, tb, d, "the stream's type"),
            _ => Err(pending()),
        }
    }

    /// Records, variants, enums, flags and resources of the same name.
    fn nominal(&mut self, da: &TypeDef, db: &TypeDef, depth: usize) -> Found {
        use TypeDefKind as K;
        match (&da.kind, &db.kind) {
            (K::Record(ra), K::Record(rb)) => {
                same_names("field", &ra.fields, &rb.fields, |f| &f.name)?;
                for (fa, fb) in ra.fields.iter().zip(&rb.fields) {
                    self.ty(&fa.ty, &fb.ty, depth).map_err(|e| {
                        let subject = format!("the type of field {}", fa.name);
                        e.under(&subject, format!("in field {}", fa.name), false)
                    })?;
                }
                Ok(())
            }
            (K::Variant(va), K::Variant(vb)) => {
                same_names("case", &va.cases, &vb.cases, |c| &c.name)?;
                for (ca, cb) in va.cases.iter().zip(&vb.cases) {
                    let lead = format!("the payload of case {} is", ca.name);
                    match (&ca.ty, &cb.ty) {
                        (None, None) => {}
                        (Some(t), None) => return Err(vs(&lead, shown(self.a, t), "absent")),
                        (None, Some(t)) => return Err(vs(&lead, "absent", shown(self.b, t))),
                        (Some(ta), Some(tb)) => self.ty(ta, tb, depth).map_err(|e| {
                            let subject = format!("the payload of case {}", ca.name);
                            e.under(&subject, format!("in case {}", ca.name), false)
                        })?,
                    }
                }
                Ok(())
            }
            (K::Enum(ea), K::Enum(eb)) => same_names("case", &ea.cases, &eb.cases, |c| &c.name),
            (K::Flags(fa), K::Flags(fb)) => same_names("flag", &fa.flags, &fb.flags, |f| &f.name),
            (K::Resource, K::Resource) => Ok(()),
            (ka, kb) => Err(vs("it is", nominal_word(ka), nominal_word(kb))),
        }
    }

    /// An anonymous step into a type: the element type, the ok type, ...
    fn step(&mut self, ta: &Type, tb: &Type, depth: usize, what: &str) -> Found {
        let result = self.ty(ta, tb, depth);
        result.map_err(|e| e.under(what, format!("in {what}"), true))
    }

    fn optional(&mut self, ta: &Option<Type>, tb: &Option<Type>, d: usize, what: &str) -> Found {
        match (ta, tb) {
            (None, None) => Ok(()),
            (Some(t), None) => Err(vs(&format!("{what} is"), shown(self.a, t), "absent")),
            (None, Some(t)) => Err(vs(&format!("{what} is"), "absent", shown(self.b, t))),
            (Some(ta), Some(tb)) => self.step(ta, tb, d, what),
        }
    }
}

/// Names of fields, cases or flags, in order.
fn same_names<T>(what: &str, a: &[T], b: &[T], name: fn(&T) -> &String) -> Found {
    let (a, b): (Vec<_>, Vec<_>) = (a.iter().map(name).collect(), b.iter().map(name).collect());
    for i in 0..a.len().max(b.len()) {
        let (x, y) = (a.get(i), b.get(i));
        if x == y {
            continue;
        }
        let text = if let Some(x) = x.filter(|x| !b.contains(x)) {
            format!("{what} {x} is missing from the export")
        } else if let Some(y) = y.filter(|y| !a.contains(y)) {
            format!("the export has an extra {what} {y}")
        } else {
            let (x, y) = (
                x.map_or("nothing", |s| s.as_str()),
                y.map_or("nothing", |s| s.as_str()),
            );
            return Err(vs(&format!("{what} {} is named", i + 1), x, y));
        };
        return Err(Diff::said(text));
    }
    Ok(())
}

fn def(resolve: &Resolve, id: TypeId) -> Option<&TypeDef> {
    resolve.types.get(id)
}

fn def_of<'r>(resolve: &'r Resolve, ty: &Type) -> Option<&'r TypeDef> {
    match ty {
        Type::Id(id) => def(resolve, *id),
        _ => None,
    }
}

/// Follows aliases (`type a = b`) to the type they stand for, with the last
/// named type met on the way (the alias itself for `type size = u32`).
fn dealias(resolve: &Resolve, ty: &Type) -> Option<(Type, Option<TypeId>)> {
    let (mut ty, mut named) = (*ty, None);
    for _ in 0..=MAX_DEPTH {
        let Type::Id(id) = ty else {
            return Some((ty, named));
        };
        let d = def(resolve, id)?;
        named = d.name.as_ref().map_or(named, |_| Some(id));
        match d.kind {
            TypeDefKind::Type(inner) => ty = inner,
            _ => return Some((ty, named)),
        }
    }
    None
}

fn resource_name(resolve: &Resolve, id: TypeId) -> Option<&str> {
    let (end, _) = dealias(resolve, &Type::Id(id))?;
    def_of(resolve, &end)?.name.as_deref()
}

fn nominal(kind: &TypeDefKind) -> bool {
    use TypeDefKind as K;
    matches!(
        kind,
        K::Record(_) | K::Variant(_) | K::Enum(_) | K::Flags(_) | K::Resource
    )
}

fn nominal_word(kind: &TypeDefKind) -> &'static str {
    match kind {
        TypeDefKind::Record(_) => "a record",
        TypeDefKind::Variant(_) => "a variant",
        TypeDefKind::Enum(_) => "an enum",
        TypeDefKind::Flags(_) => "a flags type",
        _ => "a resource",
    }
}

/// What a function is, for comparing kinds: `a method of file`.
fn kind(resolve: &Resolve, kind: &FunctionKind) -> String {
    use FunctionKind as F;
    let (what, resource) = match kind {
        F::Freestanding => ("a function", None),
        F::AsyncFreestanding => ("an async function", None),
        F::Getter => ("a getter", None),
        F::Setter => ("a setter", None),
        F::Method(r) => ("a method", Some(r)),
        F::AsyncMethod(r) => ("an async method", Some(r)),
        F::MethodGetter(r) => ("a getter", Some(r)),
        F::MethodSetter(r) => ("a setter", Some(r)),
        F::Static(r) => ("a static function", Some(r)),
        F::AsyncStatic(r) => ("an async static function", Some(r)),
        F::StaticGetter(r) => ("a static getter", Some(r)),
        F::StaticSetter(r) => ("a static setter", Some(r)),
        F::Constructor(r) => ("the constructor", Some(r)),
    };
    match resource.map(|r| resource_name(resolve, *r).unwrap_or("an unknown resource")) {
        Some(r) => format!("{what} of {r}"),
        None => what.to_string(),
    }
}

/// `resource file` or `type error`.
fn type_item(resolve: &Resolve, id: TypeId, name: &str) -> String {
    match def(resolve, id).map(|d| &d.kind) {
        Some(TypeDefKind::Resource) => format!("resource {name}"),
        _ => format!("type {name}"),
    }
}

fn function_item(cx: &Checker, fa: &Function, fb: &Function) -> Item {
    let (import, export) = (signature(cx.a, fa), Some(signature(cx.b, fb)));
    Item(format!("function {}", fa.name), import, export)
}

fn mismatch(
    item: String,
    import: Option<String>,
    export: Option<String>,
    difference: String,
) -> Mismatch {
    Mismatch {
        item,
        import,
        export,
        difference,
    }
}

/// A function the export lacks; when its resource is missing too, that.
fn missing_function(
    resolve: &Resolve,
    f: &Function,
    export_types: &wit_parser::IndexMap<String, TypeId>,
) -> Mismatch {
    if let Some(name) = f.kind.resource().and_then(|r| resource_name(resolve, r))
        && !export_types.contains_key(name)
    {
        let (item, needs) = (format!("resource {name}"), &f.name);
        let difference = format!("{item} is missing from the export (function {needs} needs it)");
        return mismatch(item.clone(), Some(item), None, difference);
    }
    let item = format!("function {}", f.name);
    let difference = format!("{item} is missing from the export");
    mismatch(item, Some(signature(resolve, f)), None, difference)
}

/// A type where it differs: an alias as what it stands for (`list<u8>`, not
/// `payload`), `own<file>` spelled out, else as WIT writes it.
fn shown(resolve: &Resolve, ty: &Type) -> String {
    match def_of(resolve, ty) {
        Some(d) if !nominal(&d.kind) => structure(resolve, d),
        _ => type_name(resolve, ty),
    }
}

/// A parameter's or result's type, with what an alias stands for: `payload = list<u8>`.
fn display(resolve: &Resolve, ty: &Type) -> String {
    let (name, structure) = (type_name(resolve, ty), shown(resolve, ty));
    match def_of(resolve, ty) {
        Some(d) if d.name.is_some() && name != structure => format!("{name} = {structure}"),
        _ => name,
    }
}

/// One level of a type definition, whatever its own name.
fn structure(resolve: &Resolve, d: &TypeDef) -> String {
    let n = |t: &Type| type_name(resolve, t);
    let opt = |t: &Option<Type>| t.as_ref().map_or_else(|| "_".to_string(), n);
    let generic = |word: &str, t: &Option<Type>| match t {
        Some(t) => format!("{word}<{}>", n(t)),
        None => word.to_string(),
    };
    use TypeDefKind as K;
    match &d.kind {
        K::List(t) => format!("list<{}>", n(t)),
        K::FixedLengthList(t, len) => format!("list<{}, {len}>", n(t)),
        K::Map(k, v) => format!("map<{}, {}>", n(k), n(v)),
        K::Option(t) => format!("option<{}>", n(t)),
        K::Result(r) if r.ok.is_none() && r.err.is_none() => "result".to_string(),
        K::Result(r) if r.err.is_none() => format!("result<{}>", opt(&r.ok)),
        K::Result(r) => format!("result<{}, {}>", opt(&r.ok), opt(&r.err)),
        K::Tuple(t) => format!(
            "tuple<{}>",
            t.types.iter().map(n).collect::<Vec<_>>().join(", ")
        ),
        K::Handle(Handle::Own(r)) => format!("own<{}>", n(&Type::Id(*r))),
        K::Handle(Handle::Borrow(r)) => format!("borrow<{}>", n(&Type::Id(*r))),
        K::Future(t) => generic("future", t),
        K::Stream(t) => generic("stream", t),
        K::Type(t) => n(t),
        kind => d.name.clone().unwrap_or_else(|| kind.as_str().to_string()),
    }
}

/// A type's definition as WIT: `record point { x: u32, y: u32 }`, `type payload = list<u8>`.
fn definition(resolve: &Resolve, id: TypeId) -> String {
    let Some(d) = def(resolve, id) else {
        return "an unknown type".to_string();
    };
    let name = d.name.as_deref().unwrap_or("_");
    let n = |t: &Type| type_name(resolve, t);
    let body = |word: &str, items: Vec<String>| match items.is_empty() {
        true => format!("{word} {name} {{}}"),
        false => format!("{word} {name} {{ {} }}", items.join(", ")),
    };
    use TypeDefKind as K;
    match &d.kind {
        K::Record(r) => body(
            "record",
            r.fields
                .iter()
                .map(|f| format!("{}: {}", f.name, n(&f.ty)))
                .collect(),
        ),
        K::Variant(v) => body(
            "variant",
            (v.cases.iter())
                .map(|c| {
                    c.ty.as_ref()
                        .map_or(c.name.clone(), |t| format!("{}({})", c.name, n(t)))
                })
                .collect(),
        ),
        K::Enum(e) => body("enum", e.cases.iter().map(|c| c.name.clone()).collect()),
        K::Flags(f) => body("flags", f.flags.iter().map(|f| f.name.clone()).collect()),
        K::Resource => format!("resource {name}"),
        _ if d.name.is_some() => format!("type {name} = {}", structure(resolve, d)),
        _ => structure(resolve, d),
    }
}

/// The types the functions reach, through any nesting.
fn reachable<'a>(resolve: &Resolve, funcs: impl Iterator<Item = &'a Function>) -> HashSet<TypeId> {
    let mut stack = Vec::new();
    for f in funcs {
        stack.extend(f.params.iter().map(|p| p.ty).chain(f.result));
        stack.extend(f.kind.resource().map(Type::Id));
    }
    let mut seen = HashSet::new();
    while let Some(ty) = stack.pop() {
        let Type::Id(id) = ty else { continue };
        let Some(d) = def(resolve, id).filter(|_| seen.insert(id)) else {
            continue;
        };
        use TypeDefKind as K;
        match &d.kind {
            K::Record(r) => stack.extend(r.fields.iter().map(|f| f.ty)),
            K::Variant(v) => stack.extend(v.cases.iter().filter_map(|c| c.ty)),
            K::Tuple(t) => stack.extend(t.types.iter().copied()),
            K::List(t) | K::Option(t) | K::Type(t) | K::FixedLengthList(t, _) => stack.push(*t),
            K::Map(k, v) => stack.extend([*k, *v]),
            K::Result(r) => stack.extend(r.ok.iter().chain(&r.err).copied()),
            K::Handle(Handle::Own(r) | Handle::Borrow(r)) => stack.push(Type::Id(*r)),
            K::Future(t) | K::Stream(t) => stack.extend(*t),
            K::Enum(_) | K::Flags(_) | K::Resource | K::Unknown => {}
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    const STORE: &str = "
        type payload = list<u8>;
        variant error { not-found, storage-full, other(string) }
        enum color { red, green, blue }
        record entry { key: string, value: payload }
        resource file {
            constructor(path: string);
            read: func(n: u32) -> list<u8>;
            size: func() -> u64;
        }
        set: func(key: string, value: payload, ttl: option<u32>) -> result<_, error>;
        get: func(key: string) -> result<payload, error>;
        delete: func(key: string) -> result<_, error>;
        put-many: func(entries: list<entry>) -> result<_, error>;
        paint: func(c: color);
        peek: func(f: borrow<file>) -> u64;
    ";

    fn store(body: &str) -> (Resolve, InterfaceId) {
        let mut resolve = Resolve::default();
        let text = format!("package wcomp:keystore@0.1.0;\ninterface store {{\n{body}\n}}\n");
        let package = resolve
            .push_str("store.wit", &text)
            .expect("test WIT parses");
        let id = resolve.packages[package].interfaces["store"];
        (resolve, id)
    }

    fn check(import: &str, export: &str) -> Result<(), Mismatch> {
        let ((a, ia), (b, ib)) = (store(import), store(export));
        check_interface(&a, ia, &b, ib)
    }

    /// `STORE` with `from` (which must occur) replaced by `to`.
    fn edited(from: &str, to: &str) -> String {
        assert!(STORE.contains(from), "{from} is not in the test WIT");
        STORE.replacen(from, to, 1)
    }

    /// The mismatch when the export is `STORE` edited.
    fn export_with(from: &str, to: &str) -> Mismatch {
        check(STORE, &edited(from, to)).expect_err("the export differs")
    }

    /// What a mismatch shows: the item and both declarations.
    fn shows(m: &Mismatch) -> (&str, Option<&str>, Option<&str>) {
        (&m.item, m.import.as_deref(), m.export.as_deref())
    }

    #[test]
    fn identical_and_larger_exports_fit() {
        assert_eq!(check(STORE, STORE), Ok(()));
        let more = format!("{STORE}\nextra: func(n: u32);\nrecord unused {{ a: u8 }}");
        assert_eq!(check(STORE, &more), Ok(()));
        // An alias and what it stands for are the same type.
        let direct = edited("-> result<payload, error>", "-> result<list<u8>, error>");
        assert_eq!(check(STORE, &direct), Ok(()));
    }

    #[test]
    fn missing_functions_methods_and_resources() {
        let m = export_with("delete: func(key: string) -> result<_, error>;", "");
        let delete = "delete: func(key: string) -> result<_, error>";
        assert_eq!(shows(&m), ("function delete", Some(delete), None));
        assert_eq!(m.difference, "function delete is missing from the export");
        let m = export_with("size: func() -> u64;", "");
        assert_eq!(
            m.difference,
            "function [method]file.size is missing from the export"
        );
        // A method turned static is another function.
        let m = export_with("size: func() -> u64;", "size: static func() -> u64;");
        assert_eq!(
            (m.item.as_str(), m.export),
            ("function [method]file.size", None)
        );
        // Without the resource, that is what is missing.
        let export = edited("resource file {", "/*").replacen("}\n        set", "*/ set", 1);
        let export = export.replacen("peek: func(f: borrow<file>) -> u64;", "", 1);
        let m = check(STORE, &export).expect_err("no resource");
        assert_eq!(shows(&m), ("resource file", Some("resource file"), None));
        let needs = "(function [constructor]file needs it)";
        assert_eq!(
            m.difference,
            format!("resource file is missing from the export {needs}")
        );
    }

    #[test]
    fn a_renamed_parameter() {
        let m = export_with("value: payload, ttl", "val: payload, ttl");
        let set = "set: func(key: string, val: payload, ttl: option<u32>) -> result<_, error>";
        assert_eq!(
            (m.item.as_str(), m.export.as_deref()),
            ("function set", Some(set))
        );
        let expected =
            "in function set, parameter 2 is named value in the import but val in the export";
        assert_eq!(m.difference, expected);
    }

    #[test]
    fn a_changed_ok_type_behind_an_alias() {
        let get = "get: func(key: string) -> result<payload, error>;";
        let m = export_with(
            get,
            "type text = string;\nget: func(key: string) -> result<text, error>;",
        );
        assert_eq!(
            m.difference,
            "in function get, result (result<payload, error>): \
             the ok type is list<u8> in the import but string in the export"
        );
        let alias = Some("type payload = list<u8>");
        assert_eq!(
            shows(&m),
            ("type payload", alias, Some("type text = string"))
        );
        // An alias's element type, at a parameter.
        let m = export_with("type payload = list<u8>;", "type payload = list<s8>;");
        assert_eq!(
            m.difference,
            "in function set, parameter value (payload = list<u8>): \
             the element type is u8 in the import but s8 in the export"
        );
    }

    #[test]
    fn a_variant_case_missing() {
        let m = export_with("not-found, storage-full, other", "not-found, other");
        assert_eq!(
            m.difference,
            "in function set, result (result<_, error>): \
             in type error, case storage-full is missing from the export"
        );
        let import = Some("variant error { not-found, storage-full, other(string) }");
        let export = Some("variant error { not-found, other(string) }");
        assert_eq!(shows(&m), ("type error", import, export));
        let m = export_with("other(string)", "other");
        let payload = "the payload of case other is string in the import but absent in the export";
        assert!(m.difference.ends_with(payload), "{}", m.difference);
    }

    #[test]
    fn a_record_field_nested_in_a_list() {
        let m = export_with("value: payload }", "value: string }");
        assert_eq!(
            m.difference,
            "in function put-many, parameter entries (list<entry>): in type entry, \
             the type of field value is list<u8> in the import but string in the export"
        );
        let import = Some("record entry { key: string, value: payload }");
        let export = Some("record entry { key: string, value: string }");
        assert_eq!(shows(&m), ("type entry", import, export));
    }

    #[test]
    fn own_is_not_borrow() {
        let m = export_with("peek: func(f: borrow<file>)", "peek: func(f: file)");
        assert_eq!(
            m.difference,
            "in function peek, the type of parameter f is borrow<file> in the import \
             but own<file> in the export"
        );
        assert_eq!(m.item, "function peek");
    }

    #[test]
    fn enum_cases_in_another_order() {
        let m = export_with("red, green, blue", "green, red, blue");
        assert_eq!(
            m.difference,
            "in function paint, parameter c (color): \
             in type color, case 1 is named red in the import but green in the export"
        );
        assert_eq!(m.export.as_deref(), Some("enum color { green, red, blue }"));
    }

    #[test]
    fn kinds_counts_and_results() {
        let differs = |from, to| export_with(from, to).difference;
        let paint = "paint: func(c: color);";
        let count = "the number of parameters is 1 in the import but 2 in the export";
        assert_eq!(
            differs(paint, "paint: func(c: color, d: u8);"),
            format!("in function paint, {count}")
        );
        let kind = "it is a function in the import but an async function in the export";
        assert_eq!(
            differs(paint, "paint: async func(c: color);"),
            format!("in function paint, {kind}")
        );
        assert_eq!(
            differs("(f: borrow<file>) -> u64;", "(f: borrow<file>);"),
            "in function peek, it returns u64 in the import but nothing in the export"
        );
        assert_eq!(
            differs(
                "option<u32>) -> result<_, error>",
                "option<u32>) -> result<u8, error>"
            ),
            "in function set, result (result<_, error>): \
             the ok type is absent in the import but u8 in the export"
        );
    }

    #[test]
    fn declared_types() {
        let import = format!("{STORE}\nflags perms {{ read, write }}\nrecord point {{ x: u32 }}");
        // Unused by the functions and missing from the export: fine.
        assert_eq!(check(&import, STORE), Ok(()));
        // Unused but present and different: compared.
        let export = format!("{STORE}\nflags perms {{ read, exec }}");
        let m = check(&import, &export).expect_err("flags differ");
        let perms = Some("flags perms { read, write }");
        assert_eq!(
            shows(&m),
            ("type perms", perms, Some("flags perms { read, exec }"))
        );
        assert_eq!(
            m.difference,
            "in type perms, flag write is missing from the export"
        );
        // Used: the functions agree, but the import's instance type exports `payload`.
        let export = edited("type payload = list<u8>;", "").replace("payload", "list<u8>");
        let m = check(STORE, &export).expect_err("no payload type");
        assert_eq!((m.item.as_str(), m.export), ("type payload", None));
        assert_eq!(m.difference, "type payload is missing from the export");
    }

    #[test]
    fn world_functions_and_deep_types() {
        let world = |ty: &str| {
            let mut resolve = Resolve::default();
            let text = format!("package a:b;\nworld w {{ import f: func(x: {ty}); }}");
            let package = resolve.push_str("w.wit", &text).expect("test WIT parses");
            let imports = &resolve.worlds[resolve.packages[package].worlds["w"]].imports;
            let Some(wit_parser::WorldItem::Function(f)) = imports.values().next().cloned() else {
                panic!("no function import");
            };
            (resolve, f)
        };
        let ((a, fa), (b, fb)) = (world("list<list<u8>>"), world("list<list<u8>>"));
        assert_eq!(check_function(&a, &fa, &b, &fb), Ok(()));
        let (c, fc) = world("list<list<u16>>");
        let m = check_function(&a, &fa, &c, &fc).expect_err("u8 is not u16");
        assert_eq!(
            m.difference,
            "in function f, parameter x (list<list<u8>>): in the element type, \
             the element type is u8 in the import but u16 in the export"
        );
        // wit-parser bounds nesting in text, not through named types.
        let chain: String = (1..150)
            .map(|i| format!("type t{i} = list<t{}>;", i - 1))
            .collect();
        let deep = format!("type t0 = u8;\n{chain}\nf: func(x: t149);");
        let m = check(&deep, &deep).expect_err("too deep");
        assert!(
            m.difference.ends_with("too deep to compare"),
            "{}",
            m.difference
        );
    }
}
