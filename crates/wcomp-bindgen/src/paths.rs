//! Where an interface's items go, for every backend: the path of segments
//! (`namespace`, `package`, `interface`) a world key gives, which the Rust
//! backend nests as modules and the C backend joins into a prefix.

use std::collections::{BTreeMap, BTreeSet};

use wit_parser::{InterfaceId, Resolve, WorldId, WorldItem, WorldKey};

/// The packages (namespace and name) the world reaches in more than one
/// version, such as `a:a/foo@1.0.0` and `a:a/foo@2.0.0`: their paths carry
/// the version, or both would be `a/a/foo`.
pub(crate) fn packages_in_several_versions(
    resolve: &Resolve,
    world: WorldId,
) -> BTreeSet<(String, String)> {
    let w = &resolve.worlds[world];
    let mut versions: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for item in w.imports.values().chain(w.exports.values()) {
        if let WorldItem::Interface { id, .. } = item
            && let Some(p) = resolve.interfaces[*id].package
        {
            let name = &resolve.packages[p].name;
            versions
                .entry((name.namespace.clone(), name.name.clone()))
                .or_default()
                .insert(
                    name.version
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                );
        }
    }
    versions
        .into_iter()
        .filter(|(_, v)| v.len() > 1)
        .map(|(k, _)| k)
        .collect()
}

/// The path of interface `id`, bound in `world` under `key`: its name for
/// an interface of the world's own package or a named import, else
/// namespace, package and name (the package with its version, `a_v1_0_0`,
/// when `versioned` holds it). `spell` turns a WIT name into a segment.
pub(crate) fn key_path(
    resolve: &Resolve,
    world: WorldId,
    key: &WorldKey,
    id: InterfaceId,
    versioned: &BTreeSet<(String, String)>,
    spell: impl Fn(&str) -> String,
) -> Vec<String> {
    match key {
        WorldKey::Name(n) => vec![spell(n)],
        WorldKey::Interface(_) => {
            let iface = &resolve.interfaces[id];
            let name = spell(iface.name.as_deref().unwrap_or("interface"));
            let own = resolve.worlds[world].package;
            match iface.package {
                Some(p) if Some(p) != own => {
                    let pkg = &resolve.packages[p].name;
                    let mut pkg_segment = spell(&pkg.name);
                    if versioned.contains(&(pkg.namespace.clone(), pkg.name.clone()))
                        && let Some(v) = &pkg.version
                    {
                        // `a_v1_0_0`: every character an identifier cannot
                        // hold becomes `_`.
                        let v: String = v
                            .to_string()
                            .chars()
                            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                            .collect();
                        pkg_segment = format!("{pkg_segment}_v{}", v.to_ascii_lowercase());
                    }
                    vec![spell(&pkg.namespace), pkg_segment, name]
                }
                _ => vec![name],
            }
        }
    }
}
