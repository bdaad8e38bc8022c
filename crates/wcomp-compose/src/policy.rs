//! Capabilities: the imports a composition keeps, and `--deny`/`--allow`
//! patterns over them. A pattern is `namespace:package/interface` with `*`
//! for any run of characters; versions are ignored on both sides.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::error::ComposeError;
use crate::version::InterfaceName;

/// A checked `--deny`/`--allow` pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern(String);

impl std::str::FromStr for Pattern {
    type Err = ComposeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |message: &str| ComposeError::BadPattern {
            pattern: s.to_string(),
            message: message.to_string(),
        };
        if s.is_empty() {
            return Err(bad("it is empty"));
        }
        if s.chars().any(|c| c.is_ascii_uppercase()) {
            return Err(bad(&format!(
                "WIT names are lowercase, so it would match nothing; write `{}`",
                s.to_ascii_lowercase()
            )));
        }
        if !s.contains(':') && !s.contains('*') && !s.contains('/') {
            // A world-level import has a plain name, but a bare namespace
            // is the likelier meaning, and silently matching nothing would
            // open a hole in the policy.
            return Err(bad(&format!(
                "it names no interface; for every interface of the namespace write `{s}:*`, for a world-level function import `{s}*`"
            )));
        }
        if let Some(c) = s.chars().find(|c| {
            !(c.is_ascii_alphanumeric() || matches!(c, '-' | ':' | '/' | '*' | '.' | '@'))
        }) {
            return Err(bad(&format!("`{c}` cannot appear in an import name")));
        }
        // A version in the pattern would never match: say so instead.
        let body = s.split('@').next().unwrap_or(s);
        if body.matches('/').count() > 1 {
            return Err(bad("an import name has at most one `/`"));
        }
        Ok(Pattern(body.to_string()))
    }
}

impl std::fmt::Display for Pattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Pattern {
    /// Whether the import `name` (with or without a version) matches.
    pub fn matches(&self, name: &str) -> bool {
        let name = InterfaceName::parse(name).map_or_else(|| name.to_string(), |n| n.unversioned());
        glob(self.0.as_bytes(), name.as_bytes())
    }
}

/// `*` matches any run (also empty); everything else matches itself.
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if p < pattern.len() && pattern[p] == text[t] {
            p += 1;
            t += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

/// The imports left, grouped by package, each with the components that asked.
#[derive(Debug, Clone, Serialize)]
pub struct Capabilities {
    /// `wasi:filesystem` → [(`types@0.2.0`, [`keystore.wasm`])]; world-level
    /// functions and inline interfaces are under `(world)`.
    pub groups: BTreeMap<String, Vec<(String, Vec<String>)>>,
}

impl Capabilities {
    pub fn new(remaining: &BTreeMap<String, Vec<String>>) -> Capabilities {
        let mut groups: BTreeMap<String, Vec<(String, Vec<String>)>> = BTreeMap::new();
        for (name, who) in remaining {
            let (group, item) = match InterfaceName::parse(name) {
                Some(n) => {
                    let item = match &n.version {
                        Some(v) => format!("{}@{v}", n.interface),
                        None => n.interface.clone(),
                    };
                    (n.package, item)
                }
                None => ("(world)".to_string(), name.clone()),
            };
            groups.entry(group).or_default().push((item, who.clone()));
        }
        // `stderr@0.2.9` before `stderr@0.2.12`: versions sort as versions.
        for items in groups.values_mut() {
            items.sort_by_cached_key(|(item, _)| {
                let (name, version) = item.split_once('@').unwrap_or((item, ""));
                (name.to_string(), semver::Version::parse(version).ok())
            });
        }
        Capabilities { groups }
    }

    /// `{"wasi:clocks": {"monotonic-clock@0.2.0": ["keystore.wasm"]}}`.
    pub fn to_json(&self) -> serde_json::Value {
        let groups = self.groups.iter().map(|(group, items)| {
            let items = items
                .iter()
                .map(|(item, who)| (item.clone(), serde_json::json!(who)));
            (group.clone(), serde_json::Value::Object(items.collect()))
        });
        serde_json::Value::Object(groups.collect())
    }

    /// One line per package and interface, indented, with who asked.
    pub fn to_text(&self) -> String {
        if self.groups.is_empty() {
            return "capabilities: none (the composition imports nothing)\n".to_string();
        }
        let mut out = String::from("capabilities (imports the host must provide):\n");
        let width = self
            .groups
            .values()
            .flatten()
            .map(|(i, _)| i.len())
            .max()
            .unwrap_or(0);
        for (group, items) in &self.groups {
            out.push_str(&format!("  {group}\n"));
            for (item, who) in items {
                out.push_str(&format!("    {item:width$}  ({})\n", who.join(", ")));
            }
        }
        out
    }
}

/// Fails when a remaining import matches a `deny`, or, when `allow` is not
/// empty, matches none of them.
pub fn enforce(
    remaining: &BTreeMap<String, Vec<String>>,
    deny: &[Pattern],
    allow: &[Pattern],
) -> Result<(), ComposeError> {
    // Grouped by the rule that stops them, each import with who asked.
    let mut refused: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, who) in remaining {
        let rule = if let Some(p) = deny.iter().find(|p| p.matches(name)) {
            format!("matching --deny {p}")
        } else if !allow.is_empty() && !allow.iter().any(|p| p.matches(name)) {
            "matching no --allow".to_string()
        } else {
            continue;
        };
        refused
            .entry(rule)
            .or_default()
            .push(format!("    {name}  (asked for by {})", who.join(", ")));
    }
    if refused.is_empty() {
        return Ok(());
    }
    let allow_list = refused.keys().all(|rule| rule == "matching no --allow");
    let denied = refused
        .into_iter()
        .flat_map(|(rule, lines)| std::iter::once(format!("  {rule}:")).chain(lines))
        .collect();
    Err(ComposeError::Policy {
        allow_list,
        help: "plug a component that provides the import (`--with`), remove the need for it from the component that asks, or change the policy".to_string(),
        denied,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Pattern {
        s.parse().unwrap()
    }

    #[test]
    fn patterns_match_unversioned_names() {
        assert!(p("wasi:filesystem/*").matches("wasi:filesystem/types@0.2.0"));
        assert!(p("wasi:*").matches("wasi:sockets/tcp@0.2.9"));
        assert!(!p("wasi:filesystem/*").matches("wasi:io/streams@0.2.0"));
        assert!(p("wcomp:keystore/store").matches("wcomp:keystore/store@0.1.0"));
        assert!(p("*").matches("log"));
        assert!(p("wasi:cli/*-stdout").matches("wasi:cli/terminal-stdout@0.2.0"));
        assert!(!p("wasi:cli/*-stdout").matches("wasi:cli/stdout@0.2.0"));
        assert!("wasi:fs/a/b".parse::<Pattern>().is_err());
        assert!("wasi fs".parse::<Pattern>().is_err());
        assert!("".parse::<Pattern>().is_err());
        assert!("wasi".parse::<Pattern>().is_err());
        assert!("WASI:filesystem/*".parse::<Pattern>().is_err());
        assert!(p("log*").matches("log"));
    }

    #[test]
    fn deny_and_allow() {
        let mut remaining = BTreeMap::new();
        remaining.insert(
            "wasi:filesystem/types@0.2.0".to_string(),
            vec!["ks.wasm".to_string()],
        );
        remaining.insert(
            "wasi:clocks/monotonic-clock@0.2.0".to_string(),
            vec!["ks.wasm".to_string()],
        );
        assert!(enforce(&remaining, &[p("wasi:sockets/*")], &[]).is_ok());
        let e = enforce(&remaining, &[p("wasi:filesystem/*")], &[]).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("matching --deny wasi:filesystem/*:\n    wasi:filesystem/types@0.2.0  (asked for by ks.wasm)"), "{text}");
        assert!(!text.contains("monotonic"), "{text}");
        assert!(enforce(&remaining, &[], &[p("wasi:*")]).is_ok());
        let e = enforce(&remaining, &[], &[p("wasi:clocks/*")]).unwrap_err();
        assert!(e.to_string().contains("does not allow"), "{e}");
    }
}
