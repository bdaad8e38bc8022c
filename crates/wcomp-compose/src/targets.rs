//! Does a component fit a world, such as a platform's (`wasi:http/proxy`,
//! which Spin, wasmCloud and `wasmtime serve` run)? It fits when every
//! import is one the world has (so its host provides it: the same
//! interface, a version that satisfies the import's as in compose, the
//! types the import needs) and every export the world requires is there (a
//! version the world's satisfies, the types the platform calls). Extra
//! exports are allowed: the platform calls what it knows. `wcomp targets`
//! and `wcomp compose --target` report it.

use serde::Serialize;
use wit_parser::{Resolve, WorldId, WorldItem, WorldKey};

use crate::input::{Component, Item, ItemKind};
use crate::provenance::SECTION;
use crate::typecheck::{self, Mismatch};
use crate::version::{self, InterfaceName};

/// Whether a component fits a world, and if not, every reason.
#[derive(Debug, Serialize)]
pub struct TargetReport {
    /// The component, as messages name it.
    pub component: String,
    /// The world, qualified: `wasi:http/proxy@0.2.12`.
    pub world: String,
    pub fits: bool,
    /// The component's imports the world does not provide as needed.
    pub imports: Vec<Problem>,
    /// The world's exports the component lacks or mistypes.
    pub exports: Vec<Problem>,
}

/// One import or export that does not fit.
#[derive(Debug, Serialize)]
pub struct Problem {
    /// The import (the component's name for it) or export (the world's).
    pub name: String,
    /// Why, in a phrase: `the world does not import it`, a version
    /// mismatch, `its types differ: ...`.
    pub why: String,
    /// For an import of a composition made by wcomp: the inputs that
    /// asked for it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub asked_by: Vec<String>,
    /// Where the types differ, both declarations side by side.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mismatch: Option<Mismatch>,
}

/// Checks `component` against world `world` of `resolve`.
pub fn check(component: &Component, resolve: &Resolve, world: WorldId) -> TargetReport {
    let w = &resolve.worlds[world];
    let items = |list: &mut dyn Iterator<Item = (&WorldKey, &WorldItem)>| -> Vec<Item> {
        list.map(|(key, item)| {
            let name = resolve.name_world_key(key);
            let kind = match item {
                WorldItem::Interface { id, .. } => ItemKind::Interface(*id),
                WorldItem::Function(_) => ItemKind::Function,
                WorldItem::Type { .. } => ItemKind::Type,
            };
            Item {
                interface: match kind {
                    ItemKind::Interface(_) => InterfaceName::parse(&name),
                    _ => None,
                },
                name,
                kind,
            }
        })
        .collect()
    };
    let allowed = items(&mut w.imports.iter());
    let required = items(&mut w.exports.iter());
    let asked = asked_by(&component.bytes);

    let mut imports = Vec::new();
    for import in &component.imports {
        if import.kind == ItemKind::Type {
            continue;
        }
        let problem = |why: String, mismatch: Option<Mismatch>| Problem {
            name: import.name.clone(),
            why,
            asked_by: asked
                .iter()
                .find(|(n, _)| *n == import.name)
                .map(|(_, who)| who.clone())
                .unwrap_or_default(),
            mismatch,
        };
        let Some(host) = counterpart(import, &allowed) else {
            imports.push(problem("the world does not import it".into(), None));
            continue;
        };
        // The host's interface (or function) plays the export's part.
        if let (Some(i), Some(h)) = (&import.interface, &host.interface)
            && let Err(why) = version::satisfies(i.version.as_ref(), h.version.as_ref())
        {
            imports.push(problem(format!("the world has {}: {why}", host.name), None));
            continue;
        }
        if let Err(m) = types_fit(
            &component.resolve,
            component.world,
            import,
            resolve,
            world,
            host,
        ) {
            let m = sides(m, "the component", "the world");
            imports.push(problem(
                format!("its types differ: {}", m.difference),
                Some(m),
            ));
        }
    }

    let mut exports = Vec::new();
    for export in required.iter().filter(|e| e.kind != ItemKind::Type) {
        let problem = |why: String, mismatch: Option<Mismatch>| Problem {
            name: export.name.clone(),
            why,
            asked_by: Vec::new(),
            mismatch,
        };
        let Some(ours) = counterpart(export, &component.exports) else {
            exports.push(problem("the component does not export it".into(), None));
            continue;
        };
        if let (Some(e), Some(o)) = (&export.interface, &ours.interface)
            && let Err(why) = version::satisfies(e.version.as_ref(), o.version.as_ref())
        {
            exports.push(problem(
                format!("the component exports {}: {why}", ours.name),
                None,
            ));
            continue;
        }
        // The platform imports what the component exports.
        if let Err(m) = types_fit(
            resolve,
            world,
            export,
            &component.resolve,
            component.world,
            ours,
        ) {
            let m = sides(m, "the world", "the component");
            exports.push(problem(
                format!("its types differ: {}", m.difference),
                Some(m),
            ));
        }
    }

    let qualified = match w.package {
        Some(p) => {
            let n = &resolve.packages[p].name;
            match &n.version {
                Some(v) => format!("{}:{}/{}@{v}", n.namespace, n.name, w.name),
                None => format!("{}:{}/{}", n.namespace, n.name, w.name),
            }
        }
        None => w.name.clone(),
    };
    TargetReport {
        component: component.label.clone(),
        world: qualified,
        fits: imports.is_empty() && exports.is_empty(),
        imports,
        exports,
    }
}

/// A type check's difference in this check's words: the importing side is
/// `importer` (the component for an import, the world for an export).
fn sides(mut m: Mismatch, importer: &str, exporter: &str) -> Mismatch {
    m.difference = m
        .difference
        .replace("the import", "\u{0}")
        .replace("the export", exporter)
        .replace('\u{0}', importer);
    m
}

/// The item of `among` that `item` pairs with: the same interface (any
/// version: the caller checks it), or the same plain name.
fn counterpart<'a>(item: &Item, among: &'a [Item]) -> Option<&'a Item> {
    match &item.interface {
        Some(name) => among.iter().find(|o| {
            o.interface
                .as_ref()
                .is_some_and(|n| n.unversioned() == name.unversioned())
        }),
        None => among
            .iter()
            .find(|o| o.name == item.name && o.kind == item.kind),
    }
}

/// Whether what `importer` needs of `import` is what `exporter` has in
/// `export`: interfaces compared function by function, world-level
/// functions by signature.
fn types_fit(
    importer: &Resolve,
    importer_world: WorldId,
    import: &Item,
    exporter: &Resolve,
    exporter_world: WorldId,
    export: &Item,
) -> Result<(), Mismatch> {
    match (import.kind, export.kind) {
        (ItemKind::Interface(a), ItemKind::Interface(b)) => {
            typecheck::check_interface(importer, a, exporter, b)
        }
        (ItemKind::Function, ItemKind::Function) => {
            let function = |resolve: &Resolve, world: WorldId, name: &str| {
                let w = &resolve.worlds[world];
                w.imports
                    .values()
                    .chain(w.exports.values())
                    .find_map(|item| match item {
                        WorldItem::Function(f) if f.name == name => Some(f.clone()),
                        _ => None,
                    })
            };
            match (
                function(importer, importer_world, &import.name),
                function(exporter, exporter_world, &export.name),
            ) {
                (Some(a), Some(b)) => typecheck::check_function(importer, &a, exporter, &b),
                _ => Ok(()),
            }
        }
        _ => Err(Mismatch {
            item: import.name.clone(),
            import: None,
            export: None,
            difference: "one is an interface and the other a function".into(),
        }),
    }
}

/// What a wcomp composition's provenance says asked for each import it
/// keeps: (import, inputs). Empty for other components.
fn asked_by(bytes: &[u8]) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    // Nested modules' and components' sections are theirs: only the outer
    // component's count.
    let mut depth = 0usize;
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        let Ok(payload) = payload else { break };
        match payload {
            wasmparser::Payload::ModuleSection { .. }
            | wasmparser::Payload::ComponentSection { .. } => depth += 1,
            wasmparser::Payload::End(_) => depth = depth.saturating_sub(1),
            wasmparser::Payload::CustomSection(c) if depth == 0 && c.name() == SECTION => {
                let Ok(json) = serde_json::from_slice::<serde_json::Value>(c.data()) else {
                    continue;
                };
                if let Some(map) = json.get("imports").and_then(|m| m.as_object()) {
                    for (name, who) in map {
                        let who = who
                            .as_array()
                            .map(|a| {
                                a.iter()
                                    .filter_map(|v| v.as_str().map(String::from))
                                    .collect()
                            })
                            .unwrap_or_default();
                        out.push((name.clone(), who));
                    }
                }
            }
            _ => {}
        }
    }
    out
}

impl TargetReport {
    /// The report as text: one line when it fits, else each problem.
    pub fn text(&self) -> String {
        if self.fits {
            return format!(
                "{} fits {}: every import is one the world has, and every export it requires is there\n",
                self.component, self.world
            );
        }
        let mut s = format!("{} does not fit {}:\n", self.component, self.world);
        if !self.imports.is_empty() {
            s.push_str("  imports the world does not provide:\n");
            for p in &self.imports {
                s.push_str(&problem_line(p));
            }
        }
        if !self.exports.is_empty() {
            s.push_str("  exports the world requires:\n");
            for p in &self.exports {
                s.push_str(&problem_line(p));
            }
        }
        s
    }
}

fn problem_line(p: &Problem) -> String {
    let mut s = format!("    {}: {}", p.name, p.why);
    if !p.asked_by.is_empty() {
        s.push_str(&format!(" (asked for by {})", p.asked_by.join(", ")));
    }
    s.push('\n');
    if let Some(m) = &p.mismatch {
        if let Some(i) = &m.import {
            s.push_str(&format!("      needed:   {i}\n"));
        }
        if let Some(e) = &m.export {
            s.push_str(&format!("      provided: {e}\n"));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn component(wat: &str) -> Component {
        let input =
            wcomp_component::WasmInput::from_bytes("c.wat".as_ref(), wat.as_bytes().to_vec())
                .unwrap();
        Component::from_input(input).unwrap()
    }

    fn command() -> (Resolve, WorldId) {
        let resolve = wcomp_wit::wasi::resolve();
        let world = wcomp_wit::wasi::find_world(&resolve, "wasi:cli/command@0.2.12").unwrap();
        (resolve, world)
    }

    const RUN: &str = r#"(component
      (import "wasi:random/random@0.2.0" (instance (export "get-random-u64" (func (result u64)))))
      (core module $m (func (export "run") (result i32) i32.const 0))
      (core instance $i (instantiate $m))
      (func $run (result (result)) (canon lift (core func $i "run")))
      (instance $r (export "run" (func $run)))
      (export "wasi:cli/run@0.2.13" (instance $r)))"#;

    #[test]
    fn a_command_fits_across_compatible_versions() {
        // Imports 0.2.0 (the host's 0.2.12 satisfies it), exports 0.2.13
        // (which satisfies the world's 0.2.12).
        let (resolve, world) = command();
        let report = check(&component(RUN), &resolve, world);
        assert!(report.fits, "{}", report.text());
    }

    #[test]
    fn each_reason_is_listed() {
        let (resolve, world) = command();
        let wat = RUN
            .replace("wasi:random/random@0.2.0", "wasi:nothing/here@0.1.0")
            .replace("wasi:cli/run@0.2.13", "wasi:cli/walk@0.2.12");
        let report = check(&component(&wat), &resolve, world);
        assert!(!report.fits);
        assert_eq!(report.imports.len(), 1, "{}", report.text());
        assert_eq!(report.imports[0].why, "the world does not import it");
        assert_eq!(report.exports.len(), 1);
        assert_eq!(report.exports[0].name, "wasi:cli/run@0.2.12");
        assert_eq!(report.exports[0].why, "the component does not export it");
    }

    #[test]
    fn type_differences_name_the_sides() {
        let m = Mismatch {
            item: "function run".into(),
            import: None,
            export: None,
            difference: "the result is result in the import but u32 in the export".into(),
        };
        assert_eq!(
            sides(m, "the world", "the component").difference,
            "the result is result in the world but u32 in the component"
        );
    }
}
