//! Type aliases, followed the same way by every backend.

use wit_parser::{Resolve, Type, TypeDefKind};

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
