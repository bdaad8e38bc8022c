//! `wcomp new` and `wcomp embed`: a core module and its WIT world in, a
//! validated component (or a module carrying its world) out.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::path::PathBuf;

use wcomp_wit::LoadOptions;
use wit_component::StringEncoding;
use wit_component::metadata::Bindgen;

use crate::adapter::{self, Adapter, AdapterSpec};
use crate::check::{self, CoreShape};
use crate::error::ComponentError;
use crate::input::{self, WasmInput};
use crate::stand_in::StandIn;

/// The WIT to embed when a module carries none (or more than it carries).
#[derive(Debug, Clone, Default)]
pub struct WitSource {
    /// A `.wit` file, a directory with `deps/`, or a wasm-encoded package.
    pub path: PathBuf,
    /// The world to use; may be omitted when the package has one world.
    pub world: Option<String>,
    /// `@unstable` features to enable.
    pub load: LoadOptions,
}

/// Options of [`new_component`].
#[derive(Debug, Clone, Default)]
pub struct NewOptions {
    /// WIT to embed first (`--wit`/`--world`).
    pub wit: Option<WitSource>,
    /// `--adapt` overrides; the preview 1 adapter is picked automatically.
    pub adapters: Vec<AdapterSpec>,
}

/// A component and what went into it.
#[derive(Debug, Clone)]
pub struct Wrapped {
    pub bytes: Vec<u8>,
    /// `ns:pkg/world@version` of the world the module implements; `None`
    /// for a WASI command that declares none.
    pub world: Option<String>,
    /// `name (origin)` of each adapter used.
    pub adapters: Vec<String>,
    /// What is worth saying about a component that was made all the same.
    pub warnings: Vec<String>,
}

const ALREADY_COMPONENT: &str = "it is already a component: `wcomp inspect` shows what is inside, and `wcomp compose` plugs components together";

/// `wcomp new`: wraps a core module into a validated component.
///
/// wit-component decides what it accepts: whatever it encodes into a valid
/// component is written. Only when it refuses (or builds an invalid
/// component) do wcomp's checks run, to name the cause in WIT terms.
pub fn new_component(input: &WasmInput, opts: &NewOptions) -> Result<Wrapped, ComponentError> {
    input.expect_module(Some(ALREADY_COMPONENT))?;
    // The structure gives the imports and exports that pick adapters (and
    // explain failures); bodies are validated below.
    let structure = input.validate_structure()?;
    let shape = CoreShape::of(&structure.types);
    let section = match &opts.wit {
        Some(wit) => Some(world_section(input, wit)?),
        None => None,
    };
    let (has_world, bindgen) =
        decode_metadata(input, &structure.world_sections, section.as_deref())?;
    // A WASI command needs no world: the adapter exports `wasi:cli/run`.
    // Anything else without one becomes an empty component, which
    // wit-component allows and is almost never what the user meant.
    let p1_command =
        shape.imports_from(check::WASI_P1).next().is_some() && shape.exports_func("_start");
    let no_world = !has_world && !p1_command;
    let mut warnings = Vec::new();
    if no_world {
        warnings.push(format!(
            "`{}` carries no WIT world, so the component imports and exports nothing: give the world it implements with `--wit PATH [--world NAME]`, or embed it once with `wcomp embed`",
            input.path.display()
        ));
    }
    let adapters = adapter::select(&input.path, &shape, &opts.adapters)?;
    // The module's function bodies, most of the work of validating, are
    // validated on the other cores while wit-component encodes; in the
    // output they are not validated again: wit-component carries the module
    // unchanged (custom sections aside), or the stand-in of it.
    let stand_in = StandIn::of(&input.bytes);
    let (encoded, bodies) = std::thread::scope(|scope| {
        let bodies = scope.spawn(|| input::validate(&input.bytes));
        let encoded = stand_in
            .as_ref()
            .and_then(|light| encode_light(input, light, section.as_deref(), &adapters))
            .unwrap_or_else(|| {
                let module = with_section(&input.bytes, section.as_deref());
                encode_checked(input, &module, &adapters)
            });
        let bodies = bodies
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (encoded, bodies)
    });
    let refused = match (encoded, bodies) {
        // A function body of the input is invalid: the input's doing.
        (Ok(_), Err(e)) => input.invalid(&e),
        (Ok(encoded), Ok(_)) => {
            return Ok(Wrapped {
                bytes: encoded,
                world: has_world.then(|| world_name(&bindgen)),
                adapters: adapters
                    .iter()
                    .map(|a| format!("{} ({})", a.name, a.origin))
                    .collect(),
                warnings,
            });
        }
        (Err(e), _) => e,
    };
    // The encoder does not validate function bodies: an invalid one is the
    // next suspect, then a missing world, then wit-component's own message.
    Err(explain(input, &shape, &bindgen, &adapters)
        .or_else(|| input.validate().err())
        .or_else(|| {
            no_world.then(|| ComponentError::NoWorld {
                path: input.path.clone(),
            })
        })
        .unwrap_or(refused))
}

/// Why wit-component refused the module (or built an invalid component of
/// it), when one of wcomp's checks finds the cause.
fn explain(
    input: &WasmInput,
    shape: &CoreShape,
    bindgen: &Bindgen,
    adapters: &[Adapter],
) -> Option<ComponentError> {
    let adapted: BTreeSet<String> = adapters.iter().map(|a| a.name.clone()).collect();
    check::explain(
        &input.path,
        shape,
        &bindgen.resolve,
        bindgen.world,
        &adapted,
    )
}

/// `wcomp embed`: the module with a `component-type` section for `wit`'s
/// world. It is refused when `wcomp new` would refuse it, so mistakes
/// surface now: wit-component is asked to encode it (and the result is
/// dropped), and the checks explain a refusal.
pub fn embed(input: &WasmInput, wit: &WitSource) -> Result<Vec<u8>, ComponentError> {
    input.expect_module(Some(ALREADY_COMPONENT))?;
    // Full validation: the output is a module nobody validates after us.
    let structure = input.validate()?;
    let shape = CoreShape::of(&structure.types);
    let section = world_section(input, wit)?;
    let (_, bindgen) = decode_metadata(input, &structure.world_sections, Some(&section))?;
    // Appending a custom section to a valid module keeps it valid.
    let module = [&input.bytes[..], &section].concat();
    // Which preview 1 adapter `wcomp new` will use is its business (and its
    // flags'): any fits for trying the encoder.
    let adapters =
        adapter::select(&input.path, &shape, &[]).unwrap_or_else(|_| adapter::fallback(&shape));
    let refused = match encode(input, &module, &adapters) {
        // The module's bodies are valid (above), and the rest of the
        // component is wit-component's: its structure is the question.
        Ok(encoded) => match input::validate_structure(&encoded) {
            Ok(_) => return Ok(module),
            Err(e) => ComponentError::Encode {
                path: input.path.clone(),
                message: format!(
                    "wit-component cannot make a valid component of it with this world: {} (at byte offset {:#x} of the component)",
                    e.message(),
                    e.offset()
                ),
                help: Some("compare the module's embedded world (`wcomp wit print MODULE`) with the WIT given by `--wit`: they are merged, and must agree".into()),
            },
        },
        Err(e) => e,
    };
    Err(explain(input, &shape, &bindgen, &adapters).unwrap_or(refused))
}

/// A `component-type` custom section (id and contents) for the chosen world.
fn world_section(input: &WasmInput, wit: &WitSource) -> Result<Vec<u8>, ComponentError> {
    let loaded = wcomp_wit::load(&wit.path, &wit.load)?;
    let world = loaded.world(wit.world.as_deref())?;
    // wit-component appends the section to the bytes it is given: give it none.
    let mut section = Vec::new();
    wit_component::embed_component_metadata(
        &mut section,
        &loaded.resolve,
        world,
        StringEncoding::UTF8,
        false,
    )
    .map_err(|e| ComponentError::Encode {
        path: input.path.clone(),
        message: format!("{e:#}"),
        help: None,
    })?;
    Ok(section)
}

/// Whether the module carries a world (its `component-type` sections, plus
/// `extra`, one to be appended), and the merged world they describe. Only
/// those sections are decoded, so a 30 MB module is not copied again.
fn decode_metadata(
    input: &WasmInput,
    sections: &[u8],
    extra: Option<&[u8]>,
) -> Result<(bool, Bindgen), ComponentError> {
    let mut metadata = b"\0asm\x01\0\0\0".to_vec();
    metadata.extend_from_slice(sections);
    metadata.extend_from_slice(extra.unwrap_or_default());
    let decoded = wcomp_wit::catch_library_panic(|| wit_component::metadata::decode(&metadata))
        .map_err(|panic| format!("the decoder crashed on it: {panic}"))
        .and_then(|r| r.map_err(|e| format!("{e:#}")));
    let (stripped, bindgen) = decoded.map_err(|e| {
        // wasmparser refuses some types WIT can spell (`stream<char>`):
        // the world is at fault, not the tool that wrote it.
        let help = match e.contains("is not valid at this time") {
            true => "the module's world names a type the component model does not accept (yet): change it in the WIT, then bind and build again",
            false => "the section was written by an incompatible tool or damaged; rebuild the module, or replace the WIT with `wcomp embed`",
        };
        ComponentError::Encode {
            path: input.path.clone(),
            message: format!("its `component-type` section cannot be read: {e}"),
            help: Some(help.to_string()),
        }
    })?;
    Ok((stripped.is_some(), bindgen))
}

/// The module with the `component-type` section to embed appended, if any.
fn with_section<'a>(module: &'a [u8], section: Option<&[u8]>) -> Cow<'a, [u8]> {
    match section {
        Some(section) => Cow::Owned([module, section].concat()),
        None => Cow::Borrowed(module),
    }
}

/// wit-component's component for `module`, its structure validated (the
/// module's bodies are validated apart, on the input).
fn encode_checked(
    input: &WasmInput,
    module: &[u8],
    adapters: &[Adapter],
) -> Result<Vec<u8>, ComponentError> {
    let encoded = encode(input, module, adapters)?;
    match input::validate_except(&encoded, Some(module)) {
        Ok(_) => Ok(encoded),
        // wit-component accepted a world it cannot encode (metadata that
        // merges into clashing names, say).
        Err(e) => Err(ComponentError::Encode {
            path: input.path.clone(),
            message: format!(
                "wit-component built an invalid component from it: {} (at byte offset {:#x} of the output)",
                e.message(),
                e.offset()
            ),
            help: Some("compare the module's embedded world (`wcomp wit print MODULE`) with the WIT given by `--wit`: they are merged, and must agree; if the module carries no embedded world, please report this with the module".into()),
        }),
    }
}

/// [`encode_checked`] on the module's stand-in, with the real sections put
/// back; `None` when that does not work out, to encode the real module
/// (which also gives wit-component's own errors their real offsets).
fn encode_light(
    input: &WasmInput,
    light: &StandIn,
    section: Option<&[u8]>,
    adapters: &[Adapter],
) -> Option<Result<Vec<u8>, ComponentError>> {
    let module = with_section(&light.module, section);
    let encoded = encode_checked(input, &module, adapters).ok()?;
    light.restore(&encoded).map(Ok)
}

fn encode(
    input: &WasmInput,
    bytes: &[u8],
    adapters: &[Adapter],
) -> Result<Vec<u8>, ComponentError> {
    wcomp_wit::catch_library_panic(|| encode_unguarded(input, bytes, adapters)).unwrap_or_else(
        |panic| {
            Err(ComponentError::Encode {
                path: input.path.clone(),
                message: format!("wit-component crashed on it: {panic}"),
                help: Some(
                    "the module passed every check wcomp knows, so this is likely a wit-component bug; please report it with the module".to_string(),
                ),
            })
        },
    )
}

fn encode_unguarded(
    input: &WasmInput,
    bytes: &[u8],
    adapters: &[Adapter],
) -> Result<Vec<u8>, ComponentError> {
    let fail = |e: &dyn std::fmt::Display| ComponentError::Encode {
        path: input.path.clone(),
        message: e.to_string(),
        help: None,
    };
    let mut encoder = wit_component::ComponentEncoder::default();
    // Validation happens once, below, with every feature and our own error.
    encoder.validate(false);
    encoder
        .module(bytes)
        .map_err(|e| fail(&format_args!("{e:#}")))?;
    for a in adapters {
        encoder
            .adapter(&a.name, &a.bytes)
            .map_err(|e| ComponentError::BadAdapter {
                spec: format!("{}={}", a.name, a.origin),
                message: format!("{e:#}"),
            })?;
    }
    encoder.encode().map_err(|e| fail(&format_args!("{e:#}")))
}

fn world_name(bindgen: &Bindgen) -> String {
    check::world_display(&bindgen.resolve, bindgen.world)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// The stand-in changes how fast `wcomp new` is, never what it writes:
    /// on every `wcomp new` case that wraps, the component is the one
    /// wit-component makes of the real module, byte for byte; where
    /// wit-component refuses the real module, the stand-in path steps aside
    /// so that its error is the one reported.
    #[test]
    fn the_stand_in_gives_the_very_same_component() {
        let cases = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/new");
        let mut dirs: Vec<_> = std::fs::read_dir(&cases)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|d| d.join("module.wat").is_file())
            .collect();
        dirs.sort();
        let (mut wrapped, mut refused) = (0, 0);
        for dir in dirs {
            let Ok(input) = WasmInput::read(&dir.join("module.wat")) else {
                continue;
            };
            if input.expect_module(None).is_err() {
                continue;
            }
            let args = std::fs::read_to_string(dir.join("args")).unwrap_or_default();
            let args: Vec<&str> = args.split_whitespace().collect();
            let arg = |flag: &str| {
                let at = args.iter().position(|a| *a == flag)?;
                args.get(at + 1).map(|s| s.to_string())
            };
            let wit = ["world.wit", "wit"]
                .into_iter()
                .map(|name| dir.join(name))
                .find(|path| path.exists());
            let section = wit.map(|path| {
                let source = WitSource {
                    path,
                    world: arg("--world"),
                    load: LoadOptions::default(),
                };
                world_section(&input, &source)
            });
            let section = match section.transpose() {
                Ok(section) => section,
                Err(_) => continue,
            };
            let Ok(structure) = input.validate_structure() else {
                continue;
            };
            let shape = CoreShape::of(&structure.types);
            let specs: Vec<AdapterSpec> = arg("--adapt")
                .map(|spec| spec.parse().unwrap())
                .into_iter()
                .collect();
            let Ok(adapters) = adapter::select(&input.path, &shape, &specs) else {
                continue;
            };
            let real = with_section(&input.bytes, section.as_deref());
            let plain = encode_checked(&input, &real, &adapters);
            let light = StandIn::of(&input.bytes)
                .and_then(|light| encode_light(&input, &light, section.as_deref(), &adapters));
            let case = dir.file_name().unwrap().to_string_lossy().to_string();
            match plain {
                Ok(plain) => {
                    let light =
                        light.unwrap_or_else(|| panic!("{case}: the stand-in was not used"));
                    assert!(light.unwrap() == plain, "{case}: the components differ");
                    wrapped += 1;
                }
                Err(_) => {
                    assert!(light.is_none(), "{case}: the stand-in hid a refusal");
                    refused += 1;
                }
            }
        }
        assert!(
            wrapped >= 12 && refused >= 5,
            "{wrapped} wrapped, {refused} refused"
        );
    }
}
