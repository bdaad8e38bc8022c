//! The whole of `wcomp compose` as one call: read, plan, encode, police,
//! record provenance, strip, validate.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::ComposeError;
use crate::input::{self, Component};
use crate::light;
use crate::plan::{self, ImportReport, Plan, Plug};
use crate::policy::{self, Capabilities, Pattern};
use crate::provenance::Provenance;
use crate::{dedup, graph, strip, unify};

/// `IMPORT=DEP.wasm[:EXPORT]`, before DEP is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlugSpec {
    pub spec: String,
    pub import: String,
    pub path: PathBuf,
    pub export: Option<String>,
}

impl std::str::FromStr for PlugSpec {
    type Err = ComposeError;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let bad = |message: &str| {
            ComposeError::BadPlug {
            spec: spec.to_string(),
            message: message.to_string(),
            help: Some("write `--plug IMPORT=DEP.wasm` or `--plug IMPORT=DEP.wasm:EXPORT`, e.g. `--plug wcomp:keystore/store=keystore.wasm`".into()),
        }
        };
        let (import, rest) = spec
            .split_once('=')
            .filter(|(i, r)| !i.is_empty() && !r.is_empty())
            .ok_or_else(|| bad("expected IMPORT=DEP.wasm[:EXPORT]"))?;
        // `:EXPORT` follows a file name ending in .wasm/.wat; a colon in an
        // export name (`ns:pkg/iface`) is part of it.
        let (path, export) = match [".wasm:", ".wat:"].iter().find_map(|ext| {
            rest.find(ext)
                .map(|i| (&rest[..i + ext.len() - 1], &rest[i + ext.len()..]))
        }) {
            Some((path, export)) if !export.is_empty() => (path, Some(export.to_string())),
            Some((path, _)) => (path, None),
            None => (rest, None),
        };
        Ok(PlugSpec {
            spec: spec.to_string(),
            import: import.to_string(),
            path: PathBuf::from(path),
            export,
        })
    }
}

/// What to compose and under which policy.
#[derive(Debug, Clone, Default)]
pub struct ComposeOptions {
    pub app: PathBuf,
    pub with: Vec<PathBuf>,
    pub plugs: Vec<PlugSpec>,
    pub deny: Vec<Pattern>,
    pub allow: Vec<Pattern>,
    /// Fail, rather than warn, when a `--with` component satisfies nothing.
    pub strict: bool,
    /// Drop debug custom sections from the result.
    pub strip: bool,
    /// Keep every copy of identical core modules (`--no-dedup`); by
    /// default each is defined once (see [`dedup`](crate::dedup)).
    pub no_dedup: bool,
}

/// The components read, before planning (kept for `--explain`).
pub struct Inputs {
    pub components: Vec<Component>,
    pub plugs: Vec<Plug>,
}

/// A finished composition.
pub struct Composition {
    pub bytes: Vec<u8>,
    pub plan: Plan,
    pub capabilities: Capabilities,
    /// Labels of the components, by input index (0 is the app).
    pub labels: Vec<String>,
    /// Things worth saying that do not stop the composition.
    pub warnings: Vec<String>,
    /// The core modules defined once for several components.
    pub shared: Vec<Shared>,
}

/// A core module the composition defines once for several components.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Shared {
    /// Its size in bytes.
    pub size: usize,
    /// The labels of the components that use it, one per copy removed
    /// (a component with two copies is named twice).
    pub users: Vec<String>,
}

/// Reads the app, every `--with` and every `--plug` file (each once).
pub fn read_inputs(opts: &ComposeOptions) -> Result<Inputs, ComposeError> {
    let mut paths: Vec<PathBuf> = vec![opts.app.clone()];
    let index_of = |path: &Path, paths: &mut Vec<PathBuf>| -> usize {
        match paths.iter().position(|p| same_file(p, path)) {
            Some(i) => i,
            None => {
                paths.push(path.to_path_buf());
                paths.len() - 1
            }
        }
    };
    for w in &opts.with {
        index_of(w, &mut paths);
    }
    let mut plugs = Vec::new();
    for spec in &opts.plugs {
        let component = index_of(&spec.path, &mut paths);
        if component == 0 {
            return Err(ComposeError::BadPlug {
                spec: spec.spec.clone(),
                message: "the app cannot satisfy imports: it is instantiated last".into(),
                help: None,
            });
        }
        plugs.push(Plug {
            spec: spec.spec.clone(),
            import: spec.import.clone(),
            component,
            export: spec.export.clone(),
        });
    }
    // Reading, hashing and decoding one component does not depend on the
    // others: one thread each (errors are reported in input order).
    let results: Vec<Result<Component, ComposeError>> = std::thread::scope(|scope| {
        let workers: Vec<_> = paths
            .iter()
            .map(|p| scope.spawn(move || Component::read(p)))
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    let mut components = results.into_iter().collect::<Result<Vec<_>, _>>()?;
    input::unique_labels(&mut components);
    Ok(Inputs { components, plugs })
}

/// Plans and encodes the composition of `inputs`.
pub fn compose(inputs: &Inputs, opts: &ComposeOptions) -> Result<Composition, ComposeError> {
    let components = &inputs.components;
    let mut plan = plan::plan(components, &inputs.plugs).map_err(|f| f.error)?;
    // The output embeds each input unchanged, so its function bodies are
    // the inputs': those (most of the work) are validated on the other
    // cores while everything else runs, and only the structure of the
    // output after. The errors keep their order: those of the plan and the
    // policy, then an invalid body, then those of the encoding.
    let used: Vec<&Component> = plan.order.iter().map(|&c| &components[c]).collect();
    let (bytes, shared, prepared) = std::thread::scope(|scope| {
        let validator = scope.spawn(|| {
            let inputs: Vec<&[u8]> = used.iter().map(|c| &c.bytes[..]).collect();
            // Core modules the inputs share are validated once.
            wcomp_component::input::validate_all(&inputs).map_err(|(i, _)| used[i].path.clone())
        });
        let mut prepared = prepare(components, &mut plan, opts)?;
        let renamed = std::mem::take(&mut prepared.renamed);
        let encoded = encode(components, renamed, &plan, &prepared.labels, opts);
        let bodies = validator
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        if let Err(path) = bodies
            && let Some(c) = components.iter().find(|c| c.path == path)
        {
            // Again, alone, for the error with its place and help.
            wcomp_component::WasmInput {
                path: c.path.clone(),
                bytes: c.bytes.clone(),
                encoding: wasmparser::Encoding::Component,
            }
            .validate()?;
        }
        let (bytes, shared) = encoded?;
        Ok::<_, ComposeError>((bytes, shared, prepared))
    })?;
    Ok(Composition {
        bytes,
        capabilities: Capabilities::new(&prepared.remaining),
        plan,
        labels: prepared.labels,
        warnings: prepared.warnings,
        shared,
    })
}

/// What the plan needs before it is encoded.
struct Prepared {
    /// Components whose imports `unify` renamed: their new bytes, and
    /// their new light copies.
    renamed: BTreeMap<usize, (Vec<u8>, Option<Vec<u8>>)>,
    labels: Vec<String>,
    warnings: Vec<String>,
    /// The imports that remain, and who imports each.
    remaining: BTreeMap<String, Vec<String>>,
}

/// Unifies the remaining imports, collects the warnings and enforces the
/// policy.
fn prepare(
    components: &[Component],
    plan: &mut Plan,
    opts: &ComposeOptions,
) -> Result<Prepared, ComposeError> {
    // One import per semver-compatible interface (see `unify`).
    let unified = unify::unify(components, &plan.remaining);
    plan.remaining = unified.remaining;
    let mut renamed = BTreeMap::new();
    for (c, renames) in &unified.renames {
        let rename = |bytes: &[u8]| {
            unify::rename_imports(bytes, renames).map_err(|e| {
                ComposeError::Internal(format!(
                    "renaming the imports of {}: {e}",
                    components[*c].label
                ))
            })
        };
        let light = components[*c].light.as_deref().map(rename).transpose()?;
        renamed.insert(*c, (rename(&components[*c].bytes)?, light));
    }
    let labels: Vec<String> = components.iter().map(|c| c.label.clone()).collect();
    let mut warnings = Vec::new();
    for &u in &plan.unused {
        let error = ComposeError::Unused {
            component: labels[u].clone(),
            exports: components[u]
                .exports
                .iter()
                .map(|e| e.name.clone())
                .collect(),
        };
        if opts.strict {
            return Err(error);
        }
        warnings.push(format!("{error}; it is left out"));
    }
    let remaining: BTreeMap<String, Vec<String>> = plan
        .remaining
        .iter()
        .map(|(name, who)| {
            let mut who: Vec<String> = who.iter().map(|&c| labels[c].clone()).collect();
            who.dedup();
            (name.clone(), who)
        })
        .collect();
    policy::enforce(&remaining, &opts.deny, &opts.allow)?;
    Ok(Prepared {
        renamed,
        labels,
        warnings,
        remaining,
    })
}

/// The output of [`compose`] but for the validation of function bodies,
/// and the core modules it shares.
fn encode(
    components: &[Component],
    renamed: BTreeMap<usize, (Vec<u8>, Option<Vec<u8>>)>,
    plan: &Plan,
    labels: &[String],
    opts: &ComposeOptions,
) -> Result<(Vec<u8>, Vec<Shared>), ComposeError> {
    let real = |c: usize| -> &[u8] {
        match renamed.get(&c) {
            Some((bytes, _)) => bytes,
            None => &components[c].bytes,
        }
    };
    let light = |c: usize| -> &[u8] {
        match renamed.get(&c) {
            Some((bytes, light)) => light.as_deref().unwrap_or(bytes),
            None => components[c].light_or_bytes(),
        }
    };
    // wasm-compose composes the light copies, and the real components take
    // their places as the output is written: in the same copy that shares
    // modules. Should the light copies not be found in its output (they
    // always have been), it composes the real ones.
    let composed = graph::encode(components, light, plan)?;
    let lights: Vec<&[u8]> = plan.order.iter().map(|&c| light(c)).collect();
    let reals: Vec<&[u8]> = plan.order.iter().map(|&c| real(c)).collect();
    let fits = light::defines_exactly(&composed, &lights);
    let sharing =
        |e: String| ComposeError::Internal(format!("sharing identical core modules: {e}"));
    // The outer level's bytes and the nested components', apart or whole.
    let whole: Vec<u8>;
    let (outer, children): (&[u8], Vec<&[u8]>) = if fits && !opts.strip {
        (&composed, reals)
    } else {
        let mut bytes = match fits {
            true => light::splice(&composed, &lights, &reals)
                .ok_or_else(|| ComposeError::Internal("the light copies moved".into()))?,
            false => graph::encode(components, real, plan)?,
        };
        // Before sharing: modules that differ only in debug sections are
        // then the same.
        if opts.strip {
            bytes = strip::strip(&bytes).map_err(ComposeError::Internal)?;
        }
        whole = bytes;
        (&whole, dedup::nested(&whole).map_err(sharing)?)
    };
    let deduped = match opts.no_dedup {
        true => dedup::Plan::none(outer),
        false => dedup::plan_split(outer, &children),
    }
    .map_err(sharing)?;
    // wasm-compose defines the components in the order they were added to
    // its graph: the plan's order.
    let shared: Vec<Shared> = deduped
        .shared
        .iter()
        .map(|m| Shared {
            size: m.size,
            users: m
                .users
                .iter()
                .map(|&u| {
                    plan.order
                        .get(u)
                        .map_or_else(String::new, |&c| labels[c].clone())
                })
                .collect(),
        })
        .collect();
    let provenance = Provenance::new(components, plan, &shared).section();
    // One copy, with room for the provenance.
    let size: usize = outer.len() + children.iter().map(|c| c.len() + 10).sum::<usize>();
    let mut bytes = Vec::with_capacity(size + provenance.len());
    deduped
        .write(outer, &children, &mut bytes)
        .map_err(sharing)?;
    bytes.extend(provenance);
    if let Err(e) = wcomp_component::input::validate_structure(&bytes) {
        return Err(ComposeError::InvalidOutput {
            offset: e.offset(),
            message: e.message().to_string(),
        });
    }
    Ok((bytes, shared))
}

/// The `--explain` text: per component, each import and what plugged it
/// (with every candidate and its verdict); the imports that nothing
/// exports are listed last, one line per package, since a WASI app has
/// dozens of them and each would say the same.
pub fn explain(components: &[Component], plan: &Plan) -> String {
    let mut out = String::new();
    let mut start = 0;
    while start < plan.reports.len() {
        let component = plan.reports[start].component;
        let end = plan.reports[start..]
            .iter()
            .position(|r| r.component != component)
            .map_or(plan.reports.len(), |n| start + n);
        explain_component(components, component, &plan.reports[start..end], &mut out);
        start = end;
    }
    for &u in &plan.unused {
        out.push_str(&format!(
            "{} (dependency) satisfies no import and is left out\n",
            components[u].label
        ));
    }
    out
}

fn explain_component(
    components: &[Component],
    component: usize,
    reports: &[ImportReport],
    out: &mut String,
) {
    let role = if component == 0 { "app" } else { "dependency" };
    out.push_str(&format!(
        "{} ({role}) imports:\n",
        components[component].label
    ));
    // Imports with no candidate at all, by package: `wasi:io` -> `poll@0.2.12`, ...
    let mut unprovided: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for r in reports {
        if r.plugged.is_none() && r.candidates.is_empty() {
            let (package, item) = split_package(&r.import);
            unprovided.entry(package).or_default().push(item);
            continue;
        }
        let outcome = match &r.plugged {
            Some((c, export)) => format!(
                "plugged by {}{}{}",
                components[*c].label,
                if *export == r.import {
                    String::new()
                } else {
                    format!(" (`{export}`)")
                },
                if r.explicit { ", by --plug" } else { "" }
            ),
            None => "stays an import".into(),
        };
        out.push_str(&format!("  {}: {outcome}\n", r.import));
        for c in &r.candidates {
            let verdict = match &c.rejected {
                None => "fits".to_string(),
                Some(why) => format!("rejected, {why}"),
            };
            out.push_str(&format!(
                "    candidate `{}` of {}: {verdict}\n",
                c.export, components[c.component].label
            ));
        }
    }
    if unprovided.is_empty() {
        return;
    }
    let count: usize = unprovided.values().map(Vec::len).sum();
    out.push_str(&format!(
        "  left to the host (no component exports {}):\n",
        if count == 1 { "it" } else { "them" }
    ));
    let width = unprovided.keys().map(|p| p.len()).max().unwrap_or(0);
    for (package, mut items) in unprovided {
        items.sort_unstable();
        out.push_str(&format!("    {package:<width$}  {}\n", items.join(", ")));
    }
}

/// `wasi:io/poll@0.2.12` -> (`wasi:io`, `poll@0.2.12`); a name of the
/// world itself (a function, an inline interface) has none: (`(world)`, name).
fn split_package(import: &str) -> (&str, &str) {
    match import.split_once('/') {
        Some((package, item)) if package.contains(':') => (package, item),
        _ => ("(world)", import),
    }
}

/// The same file, by canonical path when both resolve, else by spelling.
fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STORE: &str = r#"(component
      (core module $m
        (memory (export "memory") 1)
        (func (export "get") (result i32) i32.const 40 i32.const 2 i32.add)
        (data (i32.const 0) "the store's data"))
      (core instance $i (instantiate $m))
      (func $get (result u32) (canon lift (core func $i "get")))
      (instance $store (export "get" (func $get)))
      (export "t:s/store" (instance $store)))"#;

    const APP: &str = r#"(component
      (import "t:s/store" (instance $store (export "get" (func (result u32)))))
      (alias export $store "get" (func $get))
      (core func $lowered (canon lower (func $get)))
      (core instance $imports (export "get" (func $lowered)))
      (core module $m
        (import "s" "get" (func $g (result i32)))
        (func (export "run") (result i32) call $g i32.const 1 i32.add))
      (core instance $i (instantiate $m (with "s" (instance $imports))))
      (func (export "run") (result u32) (canon lift (core func $i "run"))))"#;

    #[test]
    fn wasm_compose_reads_light_copies_and_the_real_ones_are_spliced_in() {
        let component = |name: &str, wat: &str| {
            let input =
                wcomp_component::WasmInput::from_bytes(name.as_ref(), wat.as_bytes().to_vec())
                    .unwrap();
            Component::from_input(input).unwrap()
        };
        let components = vec![component("app.wat", APP), component("store.wat", STORE)];
        let plan = plan::plan(&components, &[]).map_err(|f| f.error).unwrap();
        assert_eq!(plan.links.len(), 1);
        let light = |c: usize| components[c].light_or_bytes();
        let real = |c: usize| &components[c].bytes[..];
        let lights: Vec<&[u8]> = plan.order.iter().map(|&c| light(c)).collect();
        let reals: Vec<&[u8]> = plan.order.iter().map(|&c| real(c)).collect();
        assert!(lights.iter().zip(&reals).all(|(l, r)| l.len() < r.len()));
        let composed = graph::encode(&components, light, &plan).unwrap();
        let spliced =
            light::splice(&composed, &lights, &reals).expect("the light copies are found");
        assert_eq!(spliced, graph::encode(&components, real, &plan).unwrap());
    }

    #[test]
    fn plug_specs_parse() {
        let p: PlugSpec = "wcomp:keystore/store=ks.wasm".parse().unwrap();
        assert_eq!(
            (p.import.as_str(), p.path.as_path(), p.export),
            ("wcomp:keystore/store", Path::new("ks.wasm"), None)
        );
        let p: PlugSpec = "a:b/c@1.0.0=dir/x.wasm:a:b/d@1.2.0".parse().unwrap();
        assert_eq!(p.path, Path::new("dir/x.wasm"));
        assert_eq!(p.export.as_deref(), Some("a:b/d@1.2.0"));
        assert!("=x.wasm".parse::<PlugSpec>().is_err());
        assert!("a:b/c".parse::<PlugSpec>().is_err());
    }
}
