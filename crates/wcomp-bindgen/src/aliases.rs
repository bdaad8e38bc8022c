//! Type aliases, followed the same way by every backend.

use wcomp_abi::has_payload;
use wit_parser::{Handle, Resolve, Type, TypeDefKind, WorldId, WorldItem};

use crate::abi::resource_of;

/// `ty` with `type a = b` aliases (and `use`s) followed to what they name.
pub(crate) fn unalias(resolve: &Resolve, ty: &Type) -> Type {
    let mut ty = *ty;
    while let Type::Id(id) = ty {
        match resolve.types[id].kind {
            TypeDefKind::Type(t) => ty = t,
            _ => break,
        }
    }
    ty
}

/// What makes two types one type to a backend: aliases followed all the
/// way down (`type a = list<u8>` is `list<u8>`), named types by identity.
/// Future and stream elements equal by it share their glue.
pub(crate) fn identity(resolve: &Resolve, ty: &Type) -> String {
    let Type::Id(id) = ty else {
        return format!("{ty:?}");
    };
    let of = |t: &Type| identity(resolve, t);
    let opt = |t: &Option<Type>| t.as_ref().map(of).unwrap_or_default();
    match &resolve.types[*id].kind {
        TypeDefKind::Type(t) => of(t),
        TypeDefKind::Option(t) => format!("option<{}>", of(t)),
        TypeDefKind::List(t) => format!("list<{}>", of(t)),
        TypeDefKind::Map(k, v) => format!("map<{},{}>", of(k), of(v)),
        TypeDefKind::Result(r) => format!("result<{},{}>", opt(&r.ok), opt(&r.err)),
        TypeDefKind::Tuple(t) => {
            let types: Vec<String> = t.types.iter().map(of).collect();
            format!("tuple<{}>", types.join(","))
        }
        TypeDefKind::Future(t) => format!("future<{}>", opt(t)),
        TypeDefKind::Stream(t) => format!("stream<{}>", opt(t)),
        TypeDefKind::Handle(Handle::Own(r)) => format!("own#{}", resource_of(resolve, *r).index()),
        _ => format!("#{}", id.index()),
    }
}

/// The world names a future or stream in one of its types (used by a
/// function or not: every type is spelled).
pub(crate) fn world_has_payloads(resolve: &Resolve, world: WorldId) -> bool {
    let w = &resolve.worlds[world];
    w.imports
        .values()
        .chain(w.exports.values())
        .any(|item| match item {
            WorldItem::Interface { id, .. } => resolve.interfaces[*id]
                .types
                .values()
                .any(|t| has_payload(resolve, &Type::Id(*t))),
            WorldItem::Type { id, .. } => has_payload(resolve, &Type::Id(*id)),
            WorldItem::Function(_) => false,
        })
}
