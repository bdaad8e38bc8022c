//! A component to compose: its bytes, a digest, and its world's imports and
//! exports as WIT, which matching and type checks read.

use std::path::{Path, PathBuf};

use std::io::Read;

use sha2::{Digest, Sha256};
use wasmparser::Encoding;
use wcomp_component::{ComponentError, WasmInput};
use wit_component::DecodedWasm;
use wit_parser::{InterfaceId, Resolve, WorldId, WorldItem, WorldKey};

use crate::error::ComposeError;
use crate::version::InterfaceName;

/// One input component.
pub struct Component {
    pub path: PathBuf,
    /// How messages name it: the file name, made unique among the inputs.
    pub label: String,
    pub bytes: Vec<u8>,
    /// `bytes` with only what their types need (`typed_only`): what the
    /// decoder and wasm-compose read instead. `None` when it could not be
    /// made; `bytes` then stand in.
    pub light: Option<Vec<u8>>,
    /// Lowercase hex SHA-256 of `bytes`, for provenance.
    pub sha256: String,
    pub resolve: Resolve,
    pub world: WorldId,
    pub imports: Vec<Item>,
    pub exports: Vec<Item>,
}

/// An import or export of a component's world.
#[derive(Debug, Clone)]
pub struct Item {
    /// The name in the binary: `wcomp:keystore/store@0.1.0`, or `log` for a
    /// world-level function or an inline interface.
    pub name: String,
    /// `name` split, when it names a package's interface.
    pub interface: Option<InterfaceName>,
    pub kind: ItemKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    Interface(InterfaceId),
    /// A world-level function: the import and export carry its name.
    Function,
    /// A type exported or imported by the world itself.
    Type,
}

impl Component {
    /// Reads `path` (a component, binary or WAT) and decodes its world.
    pub fn read(path: &Path) -> Result<Component, ComposeError> {
        let (bytes, sha256) =
            read_hashed(path).map_err(|e| ComposeError::from(ComponentError::io(path, e)))?;
        if !bytes.starts_with(b"\0asm") {
            // WAT: the digest is of the binary it stands for.
            return Component::from_input(WasmInput::from_bytes(path, bytes)?);
        }
        Component::decode(WasmInput::from_bytes(path, bytes)?, sha256)
    }

    pub fn from_input(input: WasmInput) -> Result<Component, ComposeError> {
        let sha256 = hex(&Sha256::digest(&input.bytes));
        Component::decode(input, sha256)
    }

    /// `input` with `sha256`, the digest of the bytes as read.
    fn decode(input: WasmInput, sha256: String) -> Result<Component, ComposeError> {
        if input.encoding == Encoding::Module {
            return Err(ComposeError::CoreModule { path: input.path });
        }
        let decode = |bytes: &[u8]| {
            wcomp_wit::catch_library_panic(|| wit_component::decode(bytes))
                .map_err(|panic| format!("the decoder crashed on it: {panic}"))
                .and_then(|r| r.map_err(|e| format!("{e:#}")))
        };
        // The world is in the types: the light copy decodes in a fraction
        // of the time. Should it fail, the real bytes say why.
        let light = wcomp_component::typed_only(&input.bytes);
        let decoded = match light.as_deref().map(decode) {
            Some(Ok(decoded)) => Ok(decoded),
            _ => decode(&input.bytes),
        };
        let (resolve, world) = match decoded {
            Ok(DecodedWasm::Component(resolve, world)) => (resolve, world),
            Ok(DecodedWasm::WitPackage(..)) => {
                return Err(ComposeError::WitPackage { path: input.path });
            }
            Err(message) => {
                // The validator's error carries the offset and help; the
                // decoder's is the fallback for what only it rejects.
                input.validate_structure()?;
                return Err(ComposeError::Decode {
                    path: input.path,
                    message,
                });
            }
        };
        let w = &resolve.worlds[world];
        let items = |entries: &mut dyn Iterator<Item = (&WorldKey, &WorldItem)>| -> Vec<Item> {
            entries
                .map(|(key, item)| {
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
        let imports = items(&mut w.imports.iter());
        let exports = items(&mut w.exports.iter());
        let label = input.path.file_name().map_or_else(
            || input.path.display().to_string(),
            |f| f.to_string_lossy().into_owned(),
        );
        Ok(Component {
            path: input.path,
            label,
            bytes: input.bytes,
            light,
            sha256,
            resolve,
            world,
            imports,
            exports,
        })
    }

    /// What wasm-compose reads: the light copy, else the bytes.
    pub fn light_or_bytes(&self) -> &[u8] {
        self.light.as_deref().unwrap_or(&self.bytes)
    }

    pub fn import(&self, name: &str) -> Option<&Item> {
        self.imports.iter().find(|i| i.name == name)
    }

    pub fn export(&self, name: &str) -> Option<&Item> {
        self.exports.iter().find(|e| e.name == name)
    }
}

/// The file's bytes and their SHA-256, hashed a chunk at a time as it is
/// read, while the chunk is still in the cache (hashing the whole afterwards
/// reads 18 MB from memory again).
fn read_hashed(path: &Path) -> std::io::Result<(Vec<u8>, String)> {
    const CHUNK: usize = 1 << 20;
    let mut file = std::fs::File::open(path)?;
    let size = file.metadata().map_or(0, |m| m.len() as usize);
    // One byte more than the size, so that the read that finds the end
    // needs no growth.
    let mut bytes = Vec::with_capacity(size + 1);
    let mut hasher = Sha256::new();
    loop {
        let start = bytes.len();
        let n = (&mut file).take(CHUNK as u64).read_to_end(&mut bytes)?;
        if n == 0 {
            break;
        }
        hasher.update(&bytes[start..]);
    }
    Ok((bytes, hex(&hasher.finalize())))
}

/// Lowercase hex.
fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Makes labels unique: components are named by their file names, and where
/// two collide, each by the shortest tail of its path that tells them apart
/// (`v1/keystore.wasm`, `v2/keystore.wasm`); the same file given twice is
/// numbered.
pub fn unique_labels(components: &mut [Component]) {
    let tail = |path: &Path, n: usize| -> String {
        let parts: Vec<String> = path
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        parts[parts.len().saturating_sub(n)..].join("/")
    };
    let labels: Vec<String> = (0..components.len())
        .map(|i| {
            let path = &components[i].path;
            let depth = path.components().count().max(1);
            (1..=depth)
                .map(|n| tail(path, n))
                .find(|label| {
                    components.iter().enumerate().all(|(j, other)| {
                        j == i || tail(&other.path, label.matches('/').count() + 1) != *label
                    })
                })
                .unwrap_or_else(|| path.display().to_string())
        })
        .collect();
    for (i, label) in labels.into_iter().enumerate() {
        let same = components[..i].iter().filter(|c| c.label == label).count();
        components[i].label = if same > 0 {
            format!("{label} ({})", same + 1)
        } else {
            label
        };
    }
}
