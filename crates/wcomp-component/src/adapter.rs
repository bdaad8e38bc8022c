//! Adapters: core modules that implement an import module (WASI preview 1)
//! in terms of component imports. The preview 1 adapters from wasmtime's
//! release are bundled, so a wasip1 module wraps with no flags.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use wasi_preview1_component_adapter_provider as provider;

use crate::check::{CoreShape, WASI_P1};
use crate::error::ComponentError;

/// The bundled preview 1 adapters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bundled {
    /// For modules with `_start`: exports `wasi:cli/run`.
    Command,
    /// For libraries: exports only what the world exports.
    Reactor,
    /// For `wasi:http` proxies: no filesystem or CLI.
    Proxy,
}

impl Bundled {
    pub fn bytes(self) -> &'static [u8] {
        match self {
            Bundled::Command => provider::WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER,
            Bundled::Reactor => provider::WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
            Bundled::Proxy => provider::WASI_SNAPSHOT_PREVIEW1_PROXY_ADAPTER,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Bundled::Command => "command",
            Bundled::Reactor => "reactor",
            Bundled::Proxy => "proxy",
        }
    }
}

/// Where an adapter comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdapterSource {
    Bundled(Bundled),
    File(PathBuf),
}

/// `--adapt NAME=PATH`, or `--adapt wasi_snapshot_preview1=command|reactor|proxy`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdapterSpec {
    /// The core import module the adapter implements.
    pub name: String,
    pub source: AdapterSource,
}

impl std::str::FromStr for AdapterSpec {
    type Err = ComponentError;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let bad = |message: &str| ComponentError::BadAdapter {
            spec: spec.to_string(),
            message: message.to_string(),
        };
        let (name, value) = match spec.split_once('=') {
            Some((n, v)) if !n.is_empty() && !v.is_empty() => (n, v),
            Some(_) => return Err(bad("both NAME and PATH are needed")),
            // A bare path: the adapter is named after its file (`wasi_snapshot_preview1.reactor.wasm`).
            None => {
                let stem = Path::new(spec)
                    .file_name()
                    .and_then(|f| f.to_str())
                    .and_then(|f| f.split('.').next())
                    .filter(|s| !s.is_empty())
                    .ok_or_else(|| bad("no NAME given and none in the file name"))?;
                (stem, spec)
            }
        };
        let bundled = match value {
            "command" => Some(Bundled::Command),
            "reactor" => Some(Bundled::Reactor),
            "proxy" => Some(Bundled::Proxy),
            _ => None,
        };
        let source = match bundled {
            Some(b) if name == WASI_P1 => AdapterSource::Bundled(b),
            Some(_) => {
                return Err(bad(&format!(
                    "the bundled adapters implement `{WASI_P1}`, not `{name}`"
                )));
            }
            None => AdapterSource::File(PathBuf::from(value)),
        };
        Ok(AdapterSpec {
            name: name.to_string(),
            source,
        })
    }
}

/// An adapter ready to hand to the encoder.
#[derive(Debug, Clone)]
pub struct Adapter {
    pub name: String,
    /// `command`, `reactor`, `proxy`, or the file it was read from.
    pub origin: String,
    pub bytes: Vec<u8>,
}

/// The adapters `shape` needs: each `--adapt`, plus the bundled preview 1
/// adapter when the module imports preview 1 and no `--adapt` names it.
pub(crate) fn select(
    path: &Path,
    shape: &CoreShape,
    specs: &[AdapterSpec],
) -> Result<Vec<Adapter>, ComponentError> {
    let mut adapters = Vec::new();
    let mut named = BTreeSet::new();
    for spec in specs {
        if !named.insert(spec.name.clone()) {
            return Err(ComponentError::BadAdapter {
                spec: spec.name.clone(),
                message: "given twice".to_string(),
            });
        }
        adapters.push(match &spec.source {
            AdapterSource::Bundled(b) => Adapter {
                name: spec.name.clone(),
                origin: b.name().to_string(),
                bytes: b.bytes().to_vec(),
            },
            AdapterSource::File(file) => Adapter {
                name: spec.name.clone(),
                origin: file.display().to_string(),
                bytes: crate::WasmInput::read(file)?.bytes,
            },
        });
    }
    let uses_p1 = shape.imports_from(WASI_P1).next().is_some();
    if uses_p1 && !named.contains(WASI_P1) {
        let kind = preview1_kind(path, shape)?;
        adapters.push(Adapter {
            name: WASI_P1.to_string(),
            origin: kind.name().to_string(),
            bytes: kind.bytes().to_vec(),
        });
    }
    if shape.imports_from("wasi_unstable").next().is_some() && !named.contains("wasi_unstable") {
        return Err(ComponentError::Encode {
            path: path.to_path_buf(),
            message: "it imports `wasi_unstable` (WASI preview 0), which no bundled adapter implements".to_string(),
            help: Some("rebuild with a current WASI SDK or Rust `wasm32-wasip1` target, which import `wasi_snapshot_preview1`".to_string()),
        });
    }
    Ok(adapters)
}

/// An adapter to try the encoder with when [`select`] cannot pick one (the
/// module exports both entry points, or a malformed one): the bundled
/// reactor, if the module imports preview 1.
pub(crate) fn fallback(shape: &CoreShape) -> Vec<Adapter> {
    if shape.imports_from(WASI_P1).next().is_none() {
        return Vec::new();
    }
    let reactor = Bundled::Reactor;
    vec![Adapter {
        name: WASI_P1.to_string(),
        origin: reactor.name().to_string(),
        bytes: reactor.bytes().to_vec(),
    }]
}

/// Command or reactor, from the module's entry points.
fn preview1_kind(path: &Path, shape: &CoreShape) -> Result<Bundled, ComponentError> {
    let start = shape.exports_func("_start");
    let initialize = shape.exports_func("_initialize");
    // The adapters call these with no arguments and expect no results.
    for entry in ["_start", "_initialize"] {
        if let Some(Some(ty)) = shape.exports.get(entry)
            && !(ty.params().is_empty() && ty.results().is_empty())
        {
            return Err(ComponentError::WrongSignature {
                path: path.to_path_buf(),
                export: entry.to_string(),
                function: "the WASI preview 1 entry point".to_string(),
                expected: "() -> ()".to_string(),
                found: crate::check::FlatSig::of_core(ty).to_string(),
                help: format!(
                    "the WASI adapter calls `{entry}` with no arguments and expects nothing back; export a `{entry}` of type `(func)`"
                ),
            });
        }
    }
    match (start, initialize) {
        (true, true) => Err(ComponentError::AmbiguousAdapter {
            path: path.to_path_buf(),
            reason: "it exports both `_start` (a command) and `_initialize` (a reactor)"
                .to_string(),
        }),
        (true, false) => Ok(Bundled::Command),
        (false, _) => Ok(Bundled::Reactor),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse() {
        let s: AdapterSpec = "wasi_snapshot_preview1=reactor".parse().unwrap();
        assert_eq!(s.source, AdapterSource::Bundled(Bundled::Reactor));
        let s: AdapterSpec = "foo=a/b.wasm".parse().unwrap();
        assert_eq!(
            (s.name.as_str(), s.source),
            ("foo", AdapterSource::File("a/b.wasm".into()))
        );
        let s: AdapterSpec = "x/wasi_snapshot_preview1.command.wasm".parse().unwrap();
        assert_eq!(s.name, "wasi_snapshot_preview1");
        assert!("foo=command".parse::<AdapterSpec>().is_err());
        assert!("=x".parse::<AdapterSpec>().is_err());
    }

    #[test]
    fn bundled_adapters_are_wasm() {
        for b in [Bundled::Command, Bundled::Reactor, Bundled::Proxy] {
            assert!(b.bytes().starts_with(b"\0asm"), "{}", b.name());
        }
    }
}
