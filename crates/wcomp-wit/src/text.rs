//! WIT out: canonical text and the wasm-encoded package.

use std::collections::BTreeSet;
use wit_component::WitPrinter;

use wit_parser::{
    InterfaceId, PackageId, Resolve, Type, TypeDefKind, TypeId, TypeOwner, WorldId, WorldItem,
};

use crate::{Wit, WitError};

/// Canonical WIT text of the loaded package. With `world`, only that world
/// is kept (with every interface of the package, which it may use).
pub fn print(wit: &Wit, world: Option<WorldId>) -> Result<String, WitError> {
    let mut resolve;
    let resolve = match world {
        Some(world) => {
            resolve = wit.resolve.clone();
            resolve.packages[wit.package]
                .worlds
                .retain(|_, id| *id == world);
            &resolve
        }
        None => &wit.resolve,
    };
    // WIT read from wasm has no `deps/` beside it: print the packages it
    // uses as nested packages, so the text resolves on its own.
    let nested: Vec<_> = match wit.origin {
        crate::Origin::Component(_) | crate::Origin::WasmPackage => {
            used_packages(resolve, wit.package)
        }
        crate::Origin::File | crate::Origin::Directory => Vec::new(),
    };
    let mut printer = WitPrinter::default();
    printer
        .print(resolve, wit.package, &nested)
        .map_err(|e| WitError::Internal(format!("printing WIT failed: {e:#}")))?;
    Ok(printer.output.to_string())
}

/// The packages `main` refers to, directly or through other packages, in
/// the resolve's order (so printing is deterministic).
fn used_packages(resolve: &Resolve, main: PackageId) -> Vec<PackageId> {
    let mut used = BTreeSet::from([main]);
    loop {
        let before = used.len();
        let mut reached = Vec::new();
        for pkg in &used {
            let package = &resolve.packages[*pkg];
            for world in package.worlds.values() {
                let w = &resolve.worlds[*world];
                for item in w.imports.values().chain(w.exports.values()) {
                    match item {
                        WorldItem::Interface { id, .. } => {
                            reached.extend(iface_package(resolve, *id))
                        }
                        WorldItem::Type { id, .. } => reached.extend(type_package(resolve, *id)),
                        WorldItem::Function(_) => {}
                    }
                }
            }
            for iface in package.interfaces.values() {
                for ty in resolve.interfaces[*iface].types.values() {
                    // A `use` is an alias to a type owned elsewhere.
                    if let TypeDefKind::Type(Type::Id(target)) = resolve.types[*ty].kind {
                        reached.extend(type_package(resolve, target));
                    }
                }
            }
        }
        used.extend(reached);
        if used.len() == before {
            break;
        }
    }
    resolve
        .packages
        .iter()
        .map(|(id, _)| id)
        .filter(|id| *id != main && used.contains(id))
        .collect()
}

fn iface_package(resolve: &Resolve, id: InterfaceId) -> Option<PackageId> {
    resolve.interfaces[id].package
}

fn type_package(resolve: &Resolve, id: TypeId) -> Option<PackageId> {
    match resolve.types[id].owner {
        TypeOwner::Interface(i) => iface_package(resolve, i),
        TypeOwner::World(w) => resolve.worlds[w].package,
        TypeOwner::None => None,
    }
}

/// The loaded package as a wasm-encoded WIT package, validated.
pub fn encode(wit: &Wit) -> Result<Vec<u8>, WitError> {
    let bytes =
        wit_component::encode(&wit.resolve, wit.package, false).map_err(|e| WitError::Encode {
            message: format!("{e:#}"),
        })?;
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(&bytes)
        .map_err(|e| WitError::Internal(format!("encoded package does not validate: {e}")))?;
    Ok(bytes)
}
