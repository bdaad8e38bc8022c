//! Which export satisfies which import: matching by interface name and
//! semver, explicit `--plug` wiring, type checks, the instantiation order,
//! and a record of every candidate considered, for `--explain`.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde::Serialize;
use wit_parser::{Function, WorldItem};

use crate::error::ComposeError;
use crate::input::{Component, Item, ItemKind};
use crate::typecheck::{self, Mismatch};
use crate::version;

/// `--plug IMPORT=DEP[:EXPORT]`, with DEP resolved to an input index.
#[derive(Debug, Clone)]
pub struct Plug {
    /// As the user wrote it, for messages.
    pub spec: String,
    /// An import name, with or without its version (`wcomp:keystore/store`).
    pub import: String,
    /// Index into the components (never 0, the app).
    pub component: usize,
    /// The export to use; by default the one matching the import's interface.
    pub export: Option<String>,
}

/// What composing will do.
#[derive(Debug, Serialize)]
pub struct Plan {
    /// Components to instantiate, dependencies before their importers; the
    /// app (index 0) is last.
    pub order: Vec<usize>,
    pub links: Vec<Link>,
    /// Imports that stay imports of the result, by name, with who asked.
    pub remaining: BTreeMap<String, Vec<usize>>,
    /// Dependencies that satisfy no import.
    pub unused: Vec<usize>,
    /// Every import of every instantiated component, and what was considered.
    pub reports: Vec<ImportReport>,
}

/// One plugged import.
#[derive(Debug, Clone, Serialize)]
pub struct Link {
    pub importer: usize,
    pub import: String,
    pub exporter: usize,
    pub export: String,
}

#[derive(Debug, Serialize)]
pub struct ImportReport {
    pub component: usize,
    pub import: String,
    /// The exporter and export chosen, if any.
    pub plugged: Option<(usize, String)>,
    /// `--plug` decided it.
    pub explicit: bool,
    pub candidates: Vec<Candidate>,
}

/// An export considered for an import, and the verdict.
#[derive(Debug, Serialize)]
pub struct Candidate {
    pub component: usize,
    pub export: String,
    /// `None` when it fits; else why not.
    pub rejected: Option<Rejection>,
}

#[derive(Debug, Clone, Serialize)]
pub enum Rejection {
    /// A different name that looks like a mistake for this one.
    Name(String),
    Version(String),
    Types(Box<Mismatch>),
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rejection::Name(why) => write!(f, "name: {why}"),
            Rejection::Version(why) => write!(f, "version: {why}"),
            Rejection::Types(m) => write!(f, "types: {}", m.difference),
        }
    }
}

/// A plan that could not be completed: the first error, and the plan as
/// far as it got (every import is still reported, for `--explain`).
#[derive(Debug)]
pub struct Failed {
    pub error: ComposeError,
    pub partial: Plan,
}

impl From<Failed> for ComposeError {
    fn from(f: Failed) -> Self {
        f.error
    }
}

/// Plans the composition of `components[0]` (the app) with the others.
pub fn plan(components: &[Component], plugs: &[Plug]) -> Result<Plan, Box<Failed>> {
    let mut links = Vec::new();
    let mut reports = Vec::new();
    let mut first_error = None;
    let mut used = BTreeSet::from([0usize]);
    let mut queue = VecDeque::from([0usize]);
    let mut plugs_used = vec![false; plugs.len()];
    while let Some(c) = queue.pop_front() {
        for import in &components[c].imports {
            if import.kind == ItemKind::Type {
                continue;
            }
            let outcome = match explicit_plug(components, plugs, c, import) {
                Ok(Some((index, report))) => {
                    plugs_used[index] = true;
                    Ok(report)
                }
                Ok(None) => match_import(components, c, import),
                Err(e) => Err((e, unplugged(c, import, Vec::new()))),
            };
            let report = match outcome {
                Ok(report) => report,
                Err((error, report)) => {
                    first_error.get_or_insert(error);
                    report
                }
            };
            if let Some((exporter, export)) = &report.plugged {
                links.push(Link {
                    importer: c,
                    import: import.name.clone(),
                    exporter: *exporter,
                    export: export.clone(),
                });
                if used.insert(*exporter) {
                    queue.push_back(*exporter);
                }
            }
            reports.push(report);
        }
    }
    if let Some(i) = plugs_used.iter().position(|u| !u) {
        first_error.get_or_insert(unmatched_plug(components, &used, &plugs[i]));
    }
    let order = match instantiation_order(components, &used, &links) {
        Ok(order) => order,
        Err(e) => {
            first_error.get_or_insert(e);
            Vec::new()
        }
    };
    let mut remaining: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for r in &reports {
        if r.plugged.is_none() {
            remaining
                .entry(r.import.clone())
                .or_default()
                .push(r.component);
        }
    }
    let unused = (1..components.len())
        .filter(|i| !used.contains(i))
        .collect();
    let plan = Plan {
        order,
        links,
        remaining,
        unused,
        reports,
    };
    match first_error {
        None => Ok(plan),
        Some(error) => Err(Box::new(Failed {
            error,
            partial: plan,
        })),
    }
}

/// A `--plug` whose import no component in the composition has: the
/// import probably meant, and who imports it.
fn unmatched_plug(components: &[Component], used: &BTreeSet<usize>, plug: &Plug) -> ComposeError {
    let mut imports: Vec<(String, usize)> = Vec::new();
    for &c in used {
        for i in &components[c].imports {
            imports.push((i.name.clone(), c));
            if let Some(n) = &i.interface {
                imports.push((n.unversioned(), c));
            }
        }
    }
    let near = wcomp_wit::similar_names(&plug.import, imports.iter().map(|(n, _)| n.as_str()));
    let help = match near.first() {
        Some(n) => {
            let who = imports
                .iter()
                .find(|(i, _)| i == n)
                .map(|(_, c)| *c)
                .unwrap_or(0);
            format!(
                "did you mean `{n}` (imported by {})?",
                components[who].label
            )
        }
        None => "`wcomp compose --explain` lists every import of every component".to_string(),
    };
    ComposeError::BadPlug {
        spec: plug.spec.clone(),
        message: format!("no component imports `{}`", plug.import),
        help: Some(help),
    }
}

fn unplugged(component: usize, import: &Item, candidates: Vec<Candidate>) -> ImportReport {
    ImportReport {
        component,
        import: import.name.clone(),
        plugged: None,
        explicit: false,
        candidates,
    }
}

/// The `--plug` for this import, checked; `None` if no plug names it.
fn explicit_plug(
    components: &[Component],
    plugs: &[Plug],
    importer: usize,
    import: &Item,
) -> Result<Option<(usize, ImportReport)>, ComposeError> {
    let unversioned = import.interface.as_ref().map(|n| n.unversioned());
    let Some(index) = plugs
        .iter()
        .position(|p| p.import == import.name || Some(&p.import) == unversioned.as_ref())
    else {
        return Ok(None);
    };
    let plug = &plugs[index];
    if plug.component == importer {
        return Err(ComposeError::BadPlug {
            spec: plug.spec.clone(),
            message: "a component cannot satisfy its own import".into(),
            help: None,
        });
    }
    let exporter = &components[plug.component];
    let export = match &plug.export {
        Some(name) => exporter.export(name).or_else(|| {
            exporter.exports.iter().find(|e| {
                e.interface
                    .as_ref()
                    .is_some_and(|n| n.unversioned() == *name)
            })
        }),
        None => exporter.exports.iter().find(|e| same_item(import, e)),
    };
    let Some(export) = export else {
        let wanted = plug.export.clone().unwrap_or_else(|| import.name.clone());
        return Err(ComposeError::BadPlug {
            spec: plug.spec.clone(),
            message: format!("{} does not export `{wanted}`", exporter.label),
            help: Some(format!(
                "it exports: {}",
                names(&exporter.exports).unwrap_or_else(|| "nothing".into())
            )),
        });
    };
    // An explicit plug overrides names and versions, never types.
    if let Err(mismatch) = check_types(components, importer, import, plug.component, export) {
        return Err(ComposeError::TypeMismatch {
            importer: components[importer].label.clone(),
            import: import.name.clone(),
            exporter: exporter.label.clone(),
            export: export.name.clone(),
            mismatch: Box::new(mismatch),
        });
    }
    let report = ImportReport {
        component: importer,
        import: import.name.clone(),
        plugged: Some((plug.component, export.name.clone())),
        explicit: true,
        candidates: vec![Candidate {
            component: plug.component,
            export: export.name.clone(),
            rejected: None,
        }],
    };
    Ok(Some((index, report)))
}

/// Finds the export that satisfies `import` among the other components.
fn match_import(
    components: &[Component],
    importer: usize,
    import: &Item,
) -> Result<ImportReport, (ComposeError, ImportReport)> {
    let mut candidates = Vec::new();
    for (d, dep) in components.iter().enumerate().skip(1) {
        if d == importer {
            continue;
        }
        for export in dep.exports.iter().filter(|e| !same_item(import, e)) {
            if let Some(why) = near_name(import, export) {
                candidates.push(Candidate {
                    component: d,
                    export: export.name.clone(),
                    rejected: Some(Rejection::Name(why)),
                });
            }
        }
        for export in dep.exports.iter().filter(|e| same_item(import, e)) {
            let rejected = check_version(import, export)
                .map_err(Rejection::Version)
                .and_then(|()| {
                    check_types(components, importer, import, d, export)
                        .map_err(|m| Rejection::Types(Box::new(m)))
                })
                .err();
            candidates.push(Candidate {
                component: d,
                export: export.name.clone(),
                rejected,
            });
        }
    }
    let fits: Vec<&Candidate> = candidates.iter().filter(|c| c.rejected.is_none()).collect();
    let label = |i: usize| components[i].label.clone();
    match fits.as_slice() {
        [] => {
            // Something exports this interface, but not in a usable form:
            // leaving the import open would hide the mistake.
            if let Some(c) = candidates
                .iter()
                .find(|c| !matches!(c.rejected, Some(Rejection::Name(_))))
            {
                let exporter = label(c.component);
                let error = match c.rejected.clone() {
                    Some(Rejection::Types(mismatch)) => ComposeError::TypeMismatch {
                        importer: label(importer),
                        import: import.name.clone(),
                        exporter,
                        export: c.export.clone(),
                        mismatch,
                    },
                    Some(Rejection::Version(reason)) => ComposeError::IncompatibleVersion {
                        importer: label(importer),
                        import: import.name.clone(),
                        exporter,
                        export: c.export.clone(),
                        reason,
                        help: Some(format!(
                            "rebuild one against the other's version, or wire it anyway if the types agree: `--plug {}={}`",
                            import.name,
                            components[c.component].path.display()
                        )),
                    },
                    Some(Rejection::Name(_)) | None => {
                        ComposeError::Internal("a fitting candidate was not chosen".into())
                    }
                };
                return Err((error, unplugged(importer, import, candidates)));
            }
        }
        [one] => {
            return Ok(ImportReport {
                component: importer,
                import: import.name.clone(),
                plugged: Some((one.component, one.export.clone())),
                explicit: false,
                candidates,
            });
        }
        several => {
            let paths: Vec<String> = several
                .iter()
                .map(|c| format!("{} (`{}`)", label(c.component), c.export))
                .collect();
            let first = &components[several[0].component];
            let error = ComposeError::Ambiguous {
                import: import.name.clone(),
                importer: label(importer),
                candidates: paths,
                help: format!(
                    "pick one: `--plug {}={}`",
                    import
                        .interface
                        .as_ref()
                        .map_or(import.name.clone(), |n| n.unversioned()),
                    first.path.display()
                ),
            };
            return Err((error, unplugged(importer, import, candidates)));
        }
    }
    Ok(unplugged(importer, import, candidates))
}

/// Same interface (ignoring versions), or the same world-level function.
fn same_item(import: &Item, export: &Item) -> bool {
    match (&import.interface, &export.interface) {
        (Some(i), Some(e)) => i.unversioned() == e.unversioned(),
        (None, None) => {
            import.name == export.name
                && matches!(
                    (import.kind, export.kind),
                    (ItemKind::Function, ItemKind::Function)
                        | (ItemKind::Interface(_), ItemKind::Interface(_))
                )
        }
        _ => false,
    }
}

/// Why an export with another name may have been meant for this import:
/// the same interface in another package, or a name a typo away.
fn near_name(import: &Item, export: &Item) -> Option<String> {
    let (i, e) = (import.interface.as_ref()?, export.interface.as_ref()?);
    if i.interface == e.interface {
        return Some(format!("package `{}` is not `{}`", e.package, i.package));
    }
    // Within one package, an interface name a typo away.
    let close = i.package == e.package
        && !wcomp_wit::similar_names(&i.interface, std::iter::once(e.interface.as_str()))
            .is_empty();
    close.then(|| format!("`{}` is not `{}`", e.unversioned(), i.unversioned()))
}

fn check_version(import: &Item, export: &Item) -> Result<(), String> {
    match (&import.interface, &export.interface) {
        (Some(i), Some(e)) => version::satisfies(i.version.as_ref(), e.version.as_ref()),
        _ => Ok(()),
    }
}

fn check_types(
    components: &[Component],
    importer: usize,
    import: &Item,
    exporter: usize,
    export: &Item,
) -> Result<(), Mismatch> {
    let a = &components[importer];
    let b = &components[exporter];
    match (import.kind, export.kind) {
        (ItemKind::Interface(i), ItemKind::Interface(e)) => {
            typecheck::check_interface(&a.resolve, i, &b.resolve, e)
        }
        (ItemKind::Function, ItemKind::Function) => {
            let (Some(fi), Some(fe)) = (
                world_function(a, &import.name, true),
                world_function(b, &export.name, false),
            ) else {
                return Ok(());
            };
            typecheck::check_function(&a.resolve, fi, &b.resolve, fe)
        }
        _ => Err(Mismatch {
            item: import.name.clone(),
            import: None,
            export: None,
            difference: "one is an interface and the other a function".into(),
        }),
    }
}

fn world_function<'a>(c: &'a Component, name: &str, import: bool) -> Option<&'a Function> {
    let w = &c.resolve.worlds[c.world];
    let items = if import { &w.imports } else { &w.exports };
    items.iter().find_map(|(key, item)| match item {
        WorldItem::Function(f) if c.resolve.name_world_key(key) == name => Some(f),
        _ => None,
    })
}

/// Dependencies first (a depth-first post-order from the app), or the
/// cycle that makes an order impossible.
fn instantiation_order(
    components: &[Component],
    used: &BTreeSet<usize>,
    links: &[Link],
) -> Result<Vec<usize>, ComposeError> {
    let mut deps: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for l in links {
        let list = deps.entry(l.importer).or_default();
        if !list.contains(&l.exporter) {
            list.push(l.exporter);
        }
    }
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
    }
    let mut mark = vec![Mark::New; components.len()];
    let mut order = Vec::new();
    // Explicit stack: (node, next child index); a path shows the cycle.
    let mut stack: Vec<(usize, usize)> = vec![(0, 0)];
    mark[0] = Mark::Active;
    while let Some(&mut (node, ref mut next)) = stack.last_mut() {
        let children = deps.get(&node).map_or(&[][..], Vec::as_slice);
        if let Some(&child) = children.get(*next) {
            *next += 1;
            match mark[child] {
                Mark::New => {
                    mark[child] = Mark::Active;
                    stack.push((child, 0));
                }
                Mark::Active => {
                    let start = stack.iter().position(|(n, _)| *n == child).unwrap_or(0);
                    let mut cycle: Vec<String> = stack[start..]
                        .iter()
                        .map(|(n, _)| components[*n].label.clone())
                        .collect();
                    cycle.push(components[child].label.clone());
                    return Err(ComposeError::Cycle { cycle });
                }
                Mark::Done => {}
            }
        } else {
            mark[node] = Mark::Done;
            order.push(node);
            stack.pop();
        }
    }
    debug_assert_eq!(order.len(), used.len());
    Ok(order)
}

fn names(items: &[Item]) -> Option<String> {
    if items.is_empty() {
        return None;
    }
    Some(
        items
            .iter()
            .map(|i| format!("`{}`", i.name))
            .collect::<Vec<_>>()
            .join(", "),
    )
}
