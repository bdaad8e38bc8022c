//! A short description of loaded WIT: packages, interfaces and worlds.
//! `wcomp wit check` prints it as a tree or as JSON.

use std::fmt::Write;

use serde::Serialize;
use wit_parser::{Resolve, WorldItem, WorldKey};

use crate::Wit;

#[derive(Debug, Serialize)]
pub struct Summary {
    /// The file or directory that was loaded.
    pub path: String,
    /// The package the input defines.
    pub package: String,
    /// Every package loaded, dependencies first, the input's package last.
    pub packages: Vec<PackageSummary>,
}

#[derive(Debug, Serialize)]
pub struct PackageSummary {
    pub name: String,
    pub interfaces: Vec<InterfaceSummary>,
    pub worlds: Vec<WorldSummary>,
}

#[derive(Debug, Serialize)]
pub struct InterfaceSummary {
    pub name: String,
    pub functions: usize,
    pub types: usize,
}

#[derive(Debug, Serialize)]
pub struct WorldSummary {
    pub name: String,
    pub imports: Vec<String>,
    pub exports: Vec<String>,
}

impl Summary {
    pub fn of(wit: &Wit) -> Summary {
        let r = &wit.resolve;
        let packages = r
            .topological_packages()
            .into_iter()
            .map(|id| {
                let p = &r.packages[id];
                PackageSummary {
                    name: p.name.to_string(),
                    interfaces: p
                        .interfaces
                        .iter()
                        .map(|(name, id)| InterfaceSummary {
                            name: name.clone(),
                            functions: r.interfaces[*id].functions.len(),
                            types: r.interfaces[*id].types.len(),
                        })
                        .collect(),
                    worlds: p
                        .worlds
                        .iter()
                        .map(|(name, id)| {
                            let w = &r.worlds[*id];
                            WorldSummary {
                                name: name.clone(),
                                imports: items(r, &w.imports),
                                exports: items(r, &w.exports),
                            }
                        })
                        .collect(),
                }
            })
            .collect();
        Summary {
            path: wit.path.display().to_string(),
            package: r.packages[wit.package].name.to_string(),
            packages,
        }
    }

    /// The tree `wcomp wit check` prints: the input's package in full, its
    /// dependencies one line each.
    pub fn to_tree(&self) -> String {
        let mut out = String::new();
        let Some(main) = self.packages.iter().find(|p| p.name == self.package) else {
            return out;
        };
        let _ = writeln!(out, "{}  ({})", main.name, self.path);
        let mut rows: Vec<(String, Vec<String>)> = Vec::new();
        for i in &main.interfaces {
            rows.push((
                format!(
                    "interface {}  {}, {}",
                    i.name,
                    count(i.functions, "function"),
                    count(i.types, "type")
                ),
                Vec::new(),
            ));
        }
        for w in &main.worlds {
            let mut lines: Vec<String> = w.imports.iter().map(|i| format!("import {i}")).collect();
            lines.extend(w.exports.iter().map(|e| format!("export {e}")));
            rows.push((format!("world {}", w.name), lines));
        }
        let deps: Vec<&PackageSummary> = self
            .packages
            .iter()
            .filter(|p| p.name != self.package)
            .collect();
        if !deps.is_empty() {
            let lines = deps
                .iter()
                .map(|d| {
                    format!(
                        "{}  {}, {}",
                        d.name,
                        count(d.interfaces.len(), "interface"),
                        count(d.worlds.len(), "world")
                    )
                })
                .collect();
            rows.push(("dependencies".into(), lines));
        }
        let last = rows.len().saturating_sub(1);
        for (n, (head, lines)) in rows.iter().enumerate() {
            let (branch, stem) = if n == last {
                ("└─", "  ")
            } else {
                ("├─", "│ ")
            };
            let _ = writeln!(out, "{branch} {head}");
            for line in lines {
                let _ = writeln!(out, "{stem}   {line}");
            }
        }
        out
    }
}

fn count(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

fn items(r: &Resolve, items: &wit_parser::IndexMap<WorldKey, WorldItem>) -> Vec<String> {
    items
        .iter()
        .map(|(key, item)| match item {
            WorldItem::Interface { id, .. } => match key {
                WorldKey::Name(name) => format!("{name}: interface ({})", interface_name(r, *id)),
                WorldKey::Interface(_) => interface_name(r, *id),
            },
            WorldItem::Function(f) => format!("{}: func ({} params)", f.name, f.params.len()),
            WorldItem::Type { id, .. } => {
                format!("type {}", r.types[*id].name.as_deref().unwrap_or("?"))
            }
        })
        .collect()
}

fn interface_name(r: &Resolve, id: wit_parser::InterfaceId) -> String {
    r.id_of(id).unwrap_or_else(|| "<anonymous>".into())
}
