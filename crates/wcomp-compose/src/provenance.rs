//! The `wcomp-provenance` custom section: which components went into a
//! composition (file name, SHA-256, what each provided), so that a deployed
//! artifact says what it is made of. `wcomp inspect` prints it.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::composition::Shared;
use crate::input::Component;
use crate::plan::Plan;

/// The custom section's name.
pub const SECTION: &str = "wcomp-provenance";

#[derive(Debug, Serialize)]
pub struct Provenance {
    /// `wcomp 0.1.0`.
    pub tool: String,
    pub inputs: Vec<InputRecord>,
    /// The core modules defined once for several inputs (absent when none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub shared: Vec<Shared>,
    /// The imports the composition keeps (its capabilities), each with the
    /// inputs that asked for it: `wcomp targets` names them.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub imports: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Serialize)]
pub struct InputRecord {
    /// The file name only: the same inputs in another folder give the same bytes.
    pub file: String,
    pub sha256: String,
    /// `app` or `dependency`.
    pub role: &'static str,
    /// The imports of other components this one satisfied, by export name.
    pub provides: Vec<String>,
}

impl Provenance {
    pub fn new(components: &[Component], plan: &Plan, shared: &[Shared]) -> Provenance {
        let inputs = plan
            .order
            .iter()
            .rev()
            .map(|&c| {
                let mut provides: Vec<String> = plan
                    .links
                    .iter()
                    .filter(|l| l.exporter == c)
                    .map(|l| l.export.clone())
                    .collect();
                provides.sort();
                provides.dedup();
                let component = &components[c];
                InputRecord {
                    file: component.path.file_name().map_or_else(
                        || component.label.clone(),
                        |f| f.to_string_lossy().into_owned(),
                    ),
                    sha256: component.sha256.clone(),
                    role: if c == 0 { "app" } else { "dependency" },
                    provides,
                }
            })
            .collect();
        let file = |c: usize| {
            let component = &components[c];
            component.path.file_name().map_or_else(
                || component.label.clone(),
                |f| f.to_string_lossy().into_owned(),
            )
        };
        let imports = plan
            .remaining
            .iter()
            .map(|(name, who)| {
                let mut who: Vec<String> = who.iter().map(|&c| file(c)).collect();
                who.sort();
                who.dedup();
                (name.clone(), who)
            })
            .collect();
        Provenance {
            tool: format!("wcomp {}", env!("CARGO_PKG_VERSION")),
            inputs,
            shared: shared.to_vec(),
            imports,
        }
    }

    /// The section, encoded (id, size, name, compact JSON), to append.
    pub fn section(&self) -> Vec<u8> {
        let json = serde_json::to_vec(self).unwrap_or_default();
        let section = wasm_encoder::CustomSection {
            name: SECTION.into(),
            data: json.into(),
        };
        let mut out = Vec::new();
        wasm_encoder::Section::append_to(&section, &mut out);
        out
    }
}
