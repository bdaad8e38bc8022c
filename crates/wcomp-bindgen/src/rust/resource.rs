//! Resources: the Rust handle type of each resource, the traits a guest
//! implements for the resources it exports, and what `export!` adds for
//! them.
//!
//! Every resource gets a handle type named after it (`Pollable`) that owns
//! one handle and drops it (`[resource-drop]`) when dropped. The handle sits
//! in an `AtomicU32` so that lowering an owned handle can take it through a
//! shared reference (the lowering code works on places, not moved values):
//! taking leaves `u32::MAX`, which `Drop` skips. (Handle `u32::MAX` cannot
//! occur: handle tables are far smaller.)
//!
//! * Imported resources: the handle type carries the resource's functions
//!   as inherent methods (`new` for the constructor, `&self` methods,
//!   associated functions for statics).
//! * Exported resources: the user picks a type for the representation
//!   (`type Counter = MyCounter;` in the interface's `Guest` impl) and
//!   implements `GuestCounter` for it. The representation lives in a `Box`
//!   whose address is the `rep` the host stores; `export!` defines the
//!   destructor export (which frees the box, once, when the host says so)
//!   and `Counter::new(MyCounter)` / `counter.get() -> &MyCounter`, tied to
//!   the user's type so that they cannot disagree with the destructor.

use std::fmt::Write as _;

use wit_parser::{FunctionKind, Resolve, Type, TypeDefKind, TypeId};

use super::Gen;
use super::names::snake;
use crate::BindError;
use crate::abi::{CoreFunc, CoreName, FunctionPlan, ResourcePlan};

/// The core import of `f` as a Rust `extern` item named `name`, with a
/// host-side stand-in so that the bindings also compile off wasm32.
fn extern_import(f: &CoreFunc, name: &str) -> Result<String, BindError> {
    let CoreName::Import { module, field } = &f.name else {
        return Err(BindError::Internal(format!(
            "resource intrinsic `{name}` has an export's core name"
        )));
    };
    let params: Vec<&str> = f.signature.params.iter().map(|_| "_: i32").collect();
    let ret = if f.signature.results.is_empty() {
        ""
    } else {
        " -> i32"
    };
    let sig = format!("({}){ret}", params.join(", "));
    Ok(format!(
        "#[cfg(target_arch = \"wasm32\")]\n#[link(wasm_import_module = {module:?})]\n\
         unsafe extern \"C\" {{\n#[link_name = {field:?}]\nfn {name}{sig};\n}}\n\
         #[cfg(not(target_arch = \"wasm32\"))]\nunsafe extern \"C\" fn {name}{sig} {{ unreachable!() }}\n"
    ))
}

/// The handle type of resource `r`, written in its owner's module.
/// With `lent`, also the type of the resource lent inside a value
/// (`RBorrow<'a>`, exported resources only).
pub(super) fn handle_type(
    r: &ResourcePlan,
    name: &str,
    lent: bool,
    out: &mut String,
) -> Result<(), BindError> {
    let atomic = "core::sync::atomic";
    let _ = writeln!(
        out,
        "#[derive(Debug)]\n#[repr(transparent)]\npub struct {name} {{\nhandle: {atomic}::AtomicU32,\n}}\n\
         impl {name} {{\n\
         /// Takes ownership of `handle`.\n///\n/// # Safety\n///\n\
         /// `handle` must be an owned `{wit}` handle that nothing else drops.\n\
         pub unsafe fn from_handle(handle: u32) -> Self {{\nSelf {{ handle: {atomic}::AtomicU32::new(handle) }}\n}}\n\
         /// Gives the handle up: this value no longer drops it.\n\
         pub fn take_handle(&self) -> u32 {{\nself.handle.swap(u32::MAX, {atomic}::Ordering::Relaxed)\n}}\n\
         /// The handle, still owned by this value.\n\
         pub fn handle(&self) -> u32 {{\nself.handle.load({atomic}::Ordering::Relaxed)\n}}",
        wit = r.name
    );
    if let (Some(new), Some(rep)) = (&r.new, &r.rep) {
        let _ = writeln!(
            out,
            "#[doc(hidden)]\npub fn _wrap<V: 'static>(value: V) -> Self {{\n\
             {}unsafe {{ Self::from_handle(resource_new(Box::into_raw(Box::new(value)) as usize as i32) as u32) }}\n}}\n\
             #[doc(hidden)]\npub fn _rep(&self) -> *mut u8 {{\n\
             {}unsafe {{ resource_rep(self.handle() as i32) as u32 as usize as *mut u8 }}\n}}",
            extern_import(new, "resource_new")?,
            extern_import(rep, "resource_rep")?,
        );
    }
    let _ = writeln!(
        out,
        "}}\nimpl Drop for {name} {{\nfn drop(&mut self) {{\n{}\
         let handle = *self.handle.get_mut();\n\
         if handle != u32::MAX {{\nunsafe {{ resource_drop(handle as i32) }}\n}}\n}}\n}}",
        extern_import(&r.drop, "resource_drop")?
    );
    if lent {
        let _ = writeln!(
            out,
            "/// A `{wit}` of this component lent inside a value, for one call;\n\
             /// `get` (from `export!`) reads the value it was made from.\n\
             #[derive(Clone, Copy, Debug)]\npub struct {name}Borrow<'a> {{\nrep: *mut u8,\n\
             _lent: core::marker::PhantomData<&'a {name}>,\n}}\n\
             impl {name}Borrow<'_> {{\n#[doc(hidden)]\n\
             pub unsafe fn _lift(rep: *mut u8) -> Self {{\nSelf {{ rep, _lent: core::marker::PhantomData }}\n}}\n\
             #[doc(hidden)]\npub fn _rep(&self) -> *mut u8 {{\nself.rep\n}}\n}}",
            wit = r.name
        );
    }
    Ok(())
}

/// What `export!` adds for an exported resource: the destructor export and
/// `new`/`get` on the handle type, typed by the user's representation.
/// `guest` is the path of the interface's `Guest` trait from the macro
/// (with `$PATH`), `handle` the handle type's.
pub(super) fn macro_items(
    r: &ResourcePlan,
    name: &str,
    guest: &str,
    handle: &str,
    unique: &str,
    lent: bool,
) -> Result<String, BindError> {
    let Some(CoreFunc {
        name: CoreName::Export { name: dtor },
        ..
    }) = &r.dtor
    else {
        return Err(BindError::Internal(format!(
            "exported resource `{}` has no destructor export",
            r.name
        )));
    };
    let rep = format!("<$ty as {guest}>::{name}");
    let borrow = match lent {
        true => format!(
            "#[allow(dead_code)]\nimpl {handle}Borrow<'_> {{\n\
             /// The value the lent `{wit}` was made from.\n\
             pub(crate) fn get(&self) -> &{rep} {{\nunsafe {{ &*self._rep().cast::<{rep}>() }}\n}}\n}}\n",
            wit = r.name
        ),
        false => String::new(),
    };
    Ok(format!(
        "#[unsafe(export_name = {dtor:?})]\nunsafe extern \"C\" fn {unique}_dtor_{}(rep: i32) {{\n\
         drop(unsafe {{ Box::from_raw(rep as u32 as usize as *mut {rep}) }});\n}}\n\
         #[allow(dead_code)]\nimpl {handle} {{\n\
         /// A new `{wit}` owning `value`; the host calls the destructor (drops\n\
         /// `value`) once the last handle to it is dropped.\n\
         pub(crate) fn new(value: {rep}) -> Self {{\nSelf::_wrap(value)\n}}\n\
         /// The value this `{wit}` was made from.\n\
         pub(crate) fn get(&self) -> &{rep} {{\nunsafe {{ &*self._rep().cast::<{rep}>() }}\n}}\n}}\n{borrow}",
        snake(&r.name),
        wit = r.name,
    ))
}

/// The resource a resource function belongs to.
pub(super) fn owner_resource(f: &FunctionPlan) -> Option<TypeId> {
    match f.function.kind {
        FunctionKind::Method(r) | FunctionKind::Static(r) | FunctionKind::Constructor(r) => Some(r),
        _ => None,
    }
}

/// The Rust name of a function: its own name, or its name within its
/// resource (`new` for a constructor).
pub(super) fn fn_name(f: &FunctionPlan) -> String {
    match f.function.kind {
        FunctionKind::Constructor(_) => "new".into(),
        _ => snake(f.function.item_name()),
    }
}

/// A name for the export shim of `f`, unique within its module.
pub(super) fn shim_stem(g: &Gen<'_>, f: &FunctionPlan) -> String {
    let name = fn_name(f);
    let name = name.trim_start_matches("r#");
    match owner_resource(f) {
        Some(r) => format!("{}_{name}", resource_name(g.resolve, r)),
        None => name.to_string(),
    }
}

fn resource_name(resolve: &Resolve, r: TypeId) -> String {
    snake(resolve.types[r].name.as_deref().unwrap_or("resource"))
}

pub(super) use crate::abi::resource_of;

/// Where a type holds handles: `own` and `borrow` ones.
#[derive(Default, Clone, Copy)]
pub(super) struct Handles {
    pub own: bool,
    pub borrow: bool,
}

/// The handles `ty` holds, anywhere inside.
pub(super) fn handles(resolve: &Resolve, ty: &Type) -> Handles {
    let mut h = Handles::default();
    visit(resolve, ty, &mut h);
    h
}

fn visit(resolve: &Resolve, ty: &Type, h: &mut Handles) {
    let Type::Id(id) = ty else { return };
    let opt = |t: &Option<Type>, h: &mut Handles| {
        if let Some(t) = t {
            visit(resolve, t, h)
        }
    };
    match &resolve.types[*id].kind {
        // A future or stream end has one owner, as an owned handle has.
        TypeDefKind::Handle(wit_parser::Handle::Own(_))
        | TypeDefKind::Future(_)
        | TypeDefKind::Stream(_) => h.own = true,
        TypeDefKind::Handle(wit_parser::Handle::Borrow(_)) => h.borrow = true,
        TypeDefKind::Type(t) | TypeDefKind::List(t) | TypeDefKind::Option(t) => {
            visit(resolve, t, h)
        }
        TypeDefKind::Map(k, v) => {
            visit(resolve, k, h);
            visit(resolve, v, h);
        }
        TypeDefKind::Record(r) => r.fields.iter().for_each(|f| visit(resolve, &f.ty, h)),
        TypeDefKind::Tuple(t) => t.types.iter().for_each(|t| visit(resolve, t, h)),
        TypeDefKind::Variant(v) => v.cases.iter().for_each(|c| opt(&c.ty, h)),
        TypeDefKind::Result(r) => {
            opt(&r.ok, h);
            opt(&r.err, h);
        }
        _ => {}
    }
}

/// Adds the resources `ty` borrows inside a value (not `ty` itself when
/// `top`: a parameter of its own), following aliases and named types.
pub(super) fn nested_borrows(
    resolve: &Resolve,
    ty: &Type,
    top: bool,
    out: &mut std::collections::BTreeSet<TypeId>,
) {
    let Type::Id(id) = ty else { return };
    let mut inner = |t: &Type| nested_borrows(resolve, t, false, out);
    match &resolve.types[*id].kind {
        TypeDefKind::Handle(wit_parser::Handle::Borrow(r)) if !top => {
            out.insert(resource_of(resolve, *r));
        }
        TypeDefKind::Type(t) => nested_borrows(resolve, t, top, out),
        TypeDefKind::List(t) | TypeDefKind::Option(t) | TypeDefKind::Map(_, t) => inner(t),
        TypeDefKind::Record(r) => r.fields.iter().for_each(|f| inner(&f.ty)),
        TypeDefKind::Tuple(t) => t.types.iter().for_each(&mut inner),
        TypeDefKind::Variant(v) => v.cases.iter().filter_map(|c| c.ty.as_ref()).for_each(inner),
        TypeDefKind::Result(r) => r.ok.iter().chain(&r.err).for_each(inner),
        _ => {}
    }
}

/// The exported resource of a top-level `borrow<R>` parameter.
pub(super) fn borrowed_resource(g: &Gen<'_>, ty: &Type) -> Option<TypeId> {
    let Type::Id(id) = g.unalias(ty) else {
        return None;
    };
    match g.resolve.types[id].kind {
        TypeDefKind::Handle(wit_parser::Handle::Borrow(r)) => Some(resource_of(g.resolve, r)),
        _ => None,
    }
}
