//! One import per semver-compatible interface in the result.
//!
//! Components built by different toolchains import different patch (or,
//! from 1.0, minor) releases of the same interface: componentize-py's
//! `wasi:io/poll@0.2.9` beside a Rust guest's `wasi:io/poll@0.2.12`. Left
//! as two imports, each brings its own copy of every resource type, so an
//! import both share and that refers to them (`wasi:io/streams@0.2.9`,
//! whose `input-stream.subscribe` returns a `pollable`) cannot be typed for
//! both: the composition is invalid. As the semver rules of [`version`]
//! already let a newer export satisfy an older import, an older import that
//! stays in the result is renamed to the newest compatible version another
//! input imports, and wasm-compose then unions the imports of one name into
//! a single instance. The rename only changes the import's name: its type
//! (the functions the component uses) stays, and a newer release has them.
//!
//! A component that imports both versions itself keeps both (renaming would
//! give it two imports of one name).
//!
//! [`version`]: crate::version

use std::collections::BTreeMap;

use wasm_encoder::reencode::{ReencodeComponent, RoundtripReencoder};
use wasm_encoder::{ComponentSection, Encode};
use wasmparser::{Chunk, Parser, Payload};

use crate::input::Component;
use crate::version::{InterfaceName, satisfies};

/// What unifying decided: per component, its renamed imports (old name ->
/// new name), and the remaining imports after renaming.
#[derive(Debug, Default)]
pub struct Unified {
    pub renames: BTreeMap<usize, BTreeMap<String, String>>,
    pub remaining: BTreeMap<String, Vec<usize>>,
}

/// Picks, for each remaining import, the newest compatible version any
/// component imports; `remaining` maps import names to who imports them.
pub fn unify(components: &[Component], remaining: &BTreeMap<String, Vec<usize>>) -> Unified {
    let targets = targets(remaining.keys().map(String::as_str));
    let mut unified = Unified::default();
    for (name, who) in remaining {
        let target = &targets[name];
        for &c in who {
            let already = components[c].imports.iter().any(|i| i.name == *target);
            let to = if target != name && !already {
                unified
                    .renames
                    .entry(c)
                    .or_default()
                    .insert(name.clone(), target.clone());
                target
            } else {
                name
            };
            let entry = unified.remaining.entry(to.clone()).or_default();
            if !entry.contains(&c) {
                entry.push(c);
            }
        }
    }
    // Who imports what, in input order (the app first), as before renaming.
    for who in unified.remaining.values_mut() {
        who.sort_unstable();
    }
    unified
}

/// For each name, the name of the newest version among `names` that
/// satisfies it (itself, when none is newer or it has no version).
fn targets<'a>(names: impl Iterator<Item = &'a str> + Clone) -> BTreeMap<String, String> {
    let mut by_interface: BTreeMap<String, Vec<(semver::Version, &str)>> = BTreeMap::new();
    for name in names.clone() {
        if let Some(n) = InterfaceName::parse(name)
            && let Some(v) = n.version.clone()
        {
            by_interface
                .entry(n.unversioned())
                .or_default()
                .push((v, name));
        }
    }
    names
        .map(|name| {
            let target = InterfaceName::parse(name)
                .filter(|n| n.version.is_some())
                .and_then(|n| {
                    by_interface[&n.unversioned()]
                        .iter()
                        .filter(|(v, _)| satisfies(n.version.as_ref(), Some(v)).is_ok())
                        .max_by(|a, b| a.0.cmp(&b.0))
                        .map(|(_, newest)| newest.to_string())
                })
                .unwrap_or_else(|| name.to_string());
            (name.to_string(), target)
        })
        .collect()
}

/// `bytes` (a component) with its top-level imports renamed as `renames`
/// says; every other byte is copied as it is.
pub fn rename_imports(bytes: &[u8], renames: &BTreeMap<String, String>) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut parser = Parser::new(0);
    let mut offset = 0;
    loop {
        let (payload, consumed) = match parser
            .parse(&bytes[offset..], true)
            .map_err(|e| e.to_string())?
        {
            Chunk::Parsed { payload, consumed } => (payload, consumed),
            Chunk::NeedMoreData(_) => return Err("the component ends early".into()),
        };
        match payload {
            Payload::ModuleSection {
                unchecked_range, ..
            }
            | Payload::ComponentSection {
                unchecked_range, ..
            } => {
                // Only the header counts as consumed, but the parser has
                // moved past the nested bytes: copy them whole.
                let end = usize::try_from(unchecked_range.end).map_err(|e| e.to_string())?;
                out.extend_from_slice(&bytes[offset..end]);
                offset = end;
                continue;
            }
            Payload::ComponentImportSection(reader) => {
                let mut section = wasm_encoder::ComponentImportSection::new();
                for import in reader {
                    let import = import.map_err(|e| e.to_string())?;
                    let full = import.name.full_name();
                    let name = match renames.get(full.as_ref()) {
                        // A versioned name may be split into a base and a
                        // suffix; the new name is written whole.
                        Some(new) if import.name.implements.is_none() => {
                            wasmparser::ComponentExternName {
                                name: new.as_str(),
                                version_suffix: None,
                                ..import.name
                            }
                        }
                        _ => import.name,
                    };
                    let ty = RoundtripReencoder
                        .component_type_ref(import.ty)
                        .map_err(|e| e.to_string())?;
                    section.import(name, ty);
                }
                out.push(section.id());
                section.encode(&mut out);
            }
            Payload::End(_) => break,
            _ => out.extend_from_slice(&bytes[offset..offset + consumed]),
        }
        offset += consumed;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_compatible_version_wins() {
        let names = [
            "wasi:io/poll@0.2.9",
            "wasi:io/poll@0.2.12",
            "wasi:io/poll@0.2.3",
            "wasi:io/poll@0.3.0",
            "wasi:io/streams@0.2.9",
            "a:b/c@1.2.0",
            "a:b/c@1.9.1",
            "a:b/c@2.0.0",
            "a:b/d@0.0.1",
            "a:b/d@0.0.2",
            "a:b/e@1.0.0-rc.1",
            "a:b/e@1.0.0",
            "a:b/f",
            "run",
        ];
        let t = targets(names.iter().copied());
        let want = [
            ("wasi:io/poll@0.2.9", "wasi:io/poll@0.2.12"),
            ("wasi:io/poll@0.2.3", "wasi:io/poll@0.2.12"),
            ("wasi:io/poll@0.2.12", "wasi:io/poll@0.2.12"),
            // 0.3 is another track below 1.0, as 2.0 is above.
            ("wasi:io/poll@0.3.0", "wasi:io/poll@0.3.0"),
            ("wasi:io/streams@0.2.9", "wasi:io/streams@0.2.9"),
            ("a:b/c@1.2.0", "a:b/c@1.9.1"),
            ("a:b/c@2.0.0", "a:b/c@2.0.0"),
            // 0.0.x and pre-releases match only exactly.
            ("a:b/d@0.0.1", "a:b/d@0.0.1"),
            ("a:b/e@1.0.0-rc.1", "a:b/e@1.0.0-rc.1"),
            ("a:b/f", "a:b/f"),
            ("run", "run"),
        ];
        for (from, to) in want {
            assert_eq!(t[from], to, "{from}");
        }
    }

    #[test]
    fn renaming_changes_only_the_names() {
        let wat = r#"(component
            (import "a:b/c@0.1.0" (func $f))
            (import "a:b/d@0.1.0" (instance (export "g" (func))))
            (core module $m (func (export "x")))
            (core instance (instantiate $m))
        )"#;
        let bytes = wat::parse_str(wat).unwrap();
        let renames: BTreeMap<String, String> =
            [("a:b/c@0.1.0".to_string(), "a:b/c@0.1.7".to_string())].into();
        let out = rename_imports(&bytes, &renames).unwrap();
        wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
            .validate_all(&out)
            .unwrap();
        let mut names = Vec::new();
        for payload in Parser::new(0).parse_all(&out) {
            if let Payload::ComponentImportSection(r) = payload.unwrap() {
                for i in r {
                    names.push(i.unwrap().name.full_name().into_owned());
                }
            }
        }
        assert_eq!(names, ["a:b/c@0.1.7", "a:b/d@0.1.0"]);
        // Same length names: only those bytes differ.
        let same = wat.replace("a:b/c@0.1.0", "a:b/c@0.1.7");
        assert_eq!(out, wat::parse_str(&same).unwrap());
    }
}
