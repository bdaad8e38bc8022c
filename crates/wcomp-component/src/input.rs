//! Reading a wasm input: binary or WAT text, what kind it is, and whether it
//! is well-formed, with the offset where parsing stopped when it is not.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use wasmparser::types::Types;
use wasmparser::{
    BinaryReaderError, Encoding, FuncToValidate, FuncValidatorAllocations, FunctionBody, Parser,
    Payload, ValidPayload, Validator, ValidatorResources, WasmFeatures,
};

use crate::error::{ComponentError, WasmKind};

/// A wasm binary read from a file (WAT text is converted on the way in).
#[derive(Debug, Clone)]
pub struct WasmInput {
    pub path: PathBuf,
    pub bytes: Vec<u8>,
    /// Module or component, from the header; a WIT package is a component here.
    pub encoding: Encoding,
}

impl WasmInput {
    /// Reads `path`, accepting a wasm binary or WAT text.
    pub fn read(path: &Path) -> Result<WasmInput, ComponentError> {
        let bytes = std::fs::read(path).map_err(|e| ComponentError::io(path, e))?;
        WasmInput::from_bytes(path, bytes)
    }

    /// `bytes` as read from `path` (only used to name it in errors).
    pub fn from_bytes(path: &Path, bytes: Vec<u8>) -> Result<WasmInput, ComponentError> {
        let path = path.to_path_buf();
        let bytes = if bytes.starts_with(b"\0asm") {
            bytes
        } else if looks_like_wat(&bytes) {
            let text = String::from_utf8_lossy(&bytes);
            match wat::Parser::new().parse_str(Some(&path), &text) {
                Ok(b) => b,
                Err(e) => {
                    return Err(ComponentError::Wat {
                        path,
                        message: e.to_string(),
                    });
                }
            }
        } else {
            return Err(ComponentError::NotWasm {
                found: describe_start(&bytes),
                path,
            });
        };
        let encoding = header(&path, &bytes)?;
        Ok(WasmInput {
            path,
            bytes,
            encoding,
        })
    }

    /// Fails unless this is a core module.
    pub fn expect_module(&self, help: Option<&str>) -> Result<(), ComponentError> {
        if self.encoding == Encoding::Module {
            return Ok(());
        }
        Err(ComponentError::WrongKind {
            path: self.path.clone(),
            expected: WasmKind::Module,
            found: WasmKind::Component,
            help: help.map(str::to_string),
        })
    }

    /// Validates all but function bodies (see [`validate_structure`]).
    pub fn validate_structure(&self) -> Result<Structure, ComponentError> {
        validate_structure(&self.bytes).map_err(|e| self.invalid(&e))
    }

    pub(crate) fn invalid(&self, e: &BinaryReaderError) -> ComponentError {
        ComponentError::Malformed {
            path: self.path.clone(),
            offset: e.offset(),
            message: match function_at(&self.bytes, e.offset()) {
                Some(place) => format!("{}, in {place}", e.message()),
                None => e.message().to_string(),
            },
            help: malformed_help(e.message(), e.offset(), self.bytes.len()),
        }
    }

    /// Validates every section, reporting the first error with its offset;
    /// the types it returns describe the module's imports and exports.
    pub fn validate(&self) -> Result<Structure, ComponentError> {
        validate(&self.bytes).map_err(|e| self.invalid(&e))
    }
}

/// Validates a module or component with every feature wit-component may
/// use. Function bodies, most of the work on a big module, are checked on
/// every core; the error reported is the one earliest in the file.
pub fn validate(bytes: &[u8]) -> Result<Structure, BinaryReaderError> {
    validate_except(bytes, None)
}

/// [`validate`], but the function bodies of a nested core module that has
/// the same sections as `known` (custom sections aside) are not validated
/// again: they are `known`'s, validated already, in the same context.
pub fn validate_except(bytes: &[u8], known: Option<&[u8]>) -> Result<Structure, BinaryReaderError> {
    let mut is_known = |module: &[u8]| known.is_some_and(|k| same_sections(k, module));
    let (structure, bodies) = structure(bytes, Some(&mut is_known));
    earliest(structure, validate_bodies(bodies).err())
}

/// The first error by offset, of the structure's and the bodies'.
fn earliest(
    structure: Result<Structure, BinaryReaderError>,
    body_error: Option<BinaryReaderError>,
) -> Result<Structure, BinaryReaderError> {
    match (structure, body_error) {
        (Ok(s), None) => Ok(s),
        (Ok(_), Some(e)) => Err(e),
        (Err(e), None) => Err(e),
        (Err(a), Some(b)) => Err(if b.offset() < a.offset() { b } else { a }),
    }
}

/// Validates several components (or modules) in full, but the function
/// bodies of a nested core module byte-identical to one met before (in the
/// same input or an earlier one) are validated once: a core module's
/// validity depends on nothing around it. Composed inputs from one
/// toolchain share their runtime's modules, so this is a fifth of the work
/// on two componentize-py components. Bodies of every input are validated
/// together on all cores. On failure, the index of the first input (in
/// order) that has an error, and the earliest error in it.
pub fn validate_all(inputs: &[&[u8]]) -> Result<(), (usize, BinaryReaderError)> {
    let (first_error, bodies) = structures_of(inputs);
    // Bodies are kept in input order, so the earliest error of the
    // earliest failing input is the one with the least (input, offset).
    let body_error = validate_bodies_of(bodies).err();
    match (first_error, body_error) {
        (None, None) => Ok(()),
        (Some(e), None) | (None, Some(e)) => Err(e),
        (Some(a), Some(b)) => Err(if (b.0, b.1.offset()) < (a.0, a.1.offset()) {
            b
        } else {
            a
        }),
    }
}

/// The structure pass of [`validate_all`]: its first error, and the bodies
/// left to validate, tagged by input.
#[allow(clippy::type_complexity)]
fn structures_of<'a>(
    inputs: &[&'a [u8]],
) -> (
    Option<(usize, BinaryReaderError)>,
    Vec<(usize, BodyToValidate<'a>)>,
) {
    let mut seen: HashMap<usize, Vec<&[u8]>> = HashMap::new();
    let mut first_error = None;
    let mut all_bodies = Vec::new();
    for (i, bytes) in inputs.iter().enumerate() {
        let mut is_known = |module: &'a [u8]| {
            let same_size = seen.entry(module.len()).or_default();
            if same_size.contains(&module) {
                return true;
            }
            same_size.push(module);
            false
        };
        let (structure, bodies) = structure(bytes, Some(&mut is_known));
        if let Err(e) = structure
            && first_error.is_none()
        {
            first_error = Some((i, e));
        }
        all_bodies.extend(bodies.into_iter().map(|b| (i, b)));
    }
    (first_error, all_bodies)
}

/// What one pass over a module without its function bodies learns.
pub struct Structure {
    pub types: Types,
    /// Its `component-type` custom sections, each encoded (id, size,
    /// contents) as in the module, ready to decode without the rest.
    pub world_sections: Vec<u8>,
}

/// Validates everything but function bodies: what wrapping needs to know
/// (types, imports, exports) at a fraction of the cost. The bodies are
/// validated as part of the output.
pub fn validate_structure(bytes: &[u8]) -> Result<Structure, BinaryReaderError> {
    structure(bytes, None).0
}

type BodyToValidate<'a> = (FuncToValidate<ValidatorResources>, FunctionBody<'a>);
type Bodies<'a> = Vec<BodyToValidate<'a>>;

/// One pass of the validator; with `known`, the function bodies to
/// validate are kept, but for those of a nested module that `known` says
/// are validated already (see [`validate_except`] and [`validate_all`]).
fn structure<'a>(
    bytes: &'a [u8],
    mut known: Option<&mut dyn FnMut(&'a [u8]) -> bool>,
) -> (Result<Structure, BinaryReaderError>, Bodies<'a>) {
    let mut validator = Validator::new_with_features(WasmFeatures::all());
    let mut kept = Vec::new();
    let mut types = None;
    let mut world_sections = Vec::new();
    // Nesting depth, and the depth of the module whose bodies are skipped.
    let mut depth = 0usize;
    let mut skipping: Option<usize> = None;
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = match payload {
            Ok(p) => p,
            Err(e) => return (Err(e), kept),
        };
        if let Payload::CustomSection(c) = &payload
            && c.name().starts_with("component-type")
        {
            let section = wasm_encoder::CustomSection {
                name: c.name().into(),
                data: c.data().into(),
            };
            wasm_encoder::Section::append_to(&section, &mut world_sections);
        }
        match &payload {
            Payload::ModuleSection {
                unchecked_range, ..
            } => {
                depth += 1;
                let module = usize::try_from(unchecked_range.start)
                    .ok()
                    .zip(usize::try_from(unchecked_range.end).ok())
                    .and_then(|(a, b)| bytes.get(a..b));
                if skipping.is_none()
                    && let (Some(known), Some(module)) = (known.as_mut(), module)
                    && known(module)
                {
                    skipping = Some(depth);
                }
            }
            Payload::ComponentSection { .. } => depth += 1,
            Payload::End(_) => {
                if skipping == Some(depth) {
                    skipping = None;
                }
                depth = depth.saturating_sub(1);
            }
            _ => {}
        }
        match validator.payload(&payload) {
            Ok(ValidPayload::Func(func, body)) if known.is_some() && skipping.is_none() => {
                kept.push((func, body))
            }
            // The outermost `End` comes last.
            Ok(ValidPayload::End(t)) => types = Some(t),
            Ok(_) => {}
            Err(e) => return (Err(e), kept),
        }
    }
    // Payloads always end in `End` or an error; should they not, the plain
    // validator gives the answer.
    let types = match types {
        Some(t) => Ok(t),
        None => Validator::new_with_features(WasmFeatures::all()).validate_all(bytes),
    };
    (
        types.map(|types| Structure {
            types,
            world_sections,
        }),
        kept,
    )
}

/// Whether two modules have the same sections, custom sections aside.
fn same_sections(a: &[u8], b: &[u8]) -> bool {
    fn sections(bytes: &[u8]) -> Option<Vec<&[u8]>> {
        let mut out = Vec::new();
        let mut parser = Parser::new(0);
        let mut offset = 0usize;
        loop {
            let (payload, consumed) = match parser.parse(bytes.get(offset..)?, true).ok()? {
                wasmparser::Chunk::Parsed { payload, consumed } => (payload, consumed),
                wasmparser::Chunk::NeedMoreData(_) => return None,
            };
            let start = offset;
            offset += consumed;
            match payload {
                Payload::End(_) => return Some(out),
                Payload::CustomSection(_) | Payload::Version { .. } => {}
                // Nested modules and components carry their own sections.
                Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => return None,
                Payload::CodeSectionStart {
                    unchecked_range, ..
                } => {
                    let end = usize::try_from(unchecked_range.end).ok()?;
                    out.push(bytes.get(start..end)?);
                    parser.skip_section();
                    offset = end;
                }
                _ => out.push(&bytes[start..offset]),
            }
        }
    }
    matches!((sections(a), sections(b)), (Some(x), Some(y)) if x == y)
}

/// Validates bodies on all cores; the earliest error wins.
fn validate_bodies(bodies: Bodies<'_>) -> Result<(), BinaryReaderError> {
    validate_bodies_of(bodies.into_iter().map(|b| (0, b)).collect()).map_err(|(_, e)| e)
}

/// [`validate_bodies`] of bodies tagged by input; the error with the least
/// (input, offset) wins.
fn validate_bodies_of(
    bodies: Vec<(usize, BodyToValidate<'_>)>,
) -> Result<(), (usize, BinaryReaderError)> {
    if bodies.is_empty() {
        return Ok(());
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = bodies.len().div_ceil(threads).max(64);
    let mut chunks = Vec::new();
    let mut rest = bodies;
    while rest.len() > chunk {
        let tail = rest.split_off(chunk);
        chunks.push(rest);
        rest = tail;
    }
    chunks.push(rest);
    let errors: Vec<(usize, BinaryReaderError)> = std::thread::scope(|scope| {
        let workers: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                scope.spawn(move || {
                    let mut allocs = FuncValidatorAllocations::default();
                    for (input, (func, body)) in chunk {
                        let mut v = func.into_validator(allocs);
                        v.validate(&body).map_err(|e| (input, e))?;
                        allocs = v.into_allocations();
                    }
                    Ok::<(), (usize, BinaryReaderError)>(())
                })
            })
            .collect();
        workers
            .into_iter()
            .filter_map(|w| match w.join() {
                Ok(r) => r.err(),
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    });
    match errors.into_iter().min_by_key(|(i, e)| (*i, e.offset())) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// "function 3 `add`": the core function whose body holds `offset`, named
/// from the `name` section when there is one (WAT `$names` land there).
fn function_at(bytes: &[u8], offset: u64) -> Option<String> {
    let mut imported = 0u32;
    let mut index = None;
    let mut next = 0u32;
    let mut name = None;
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.ok()? {
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    if matches!(import.ok()?.ty, wasmparser::TypeRef::Func(_)) {
                        imported += 1;
                    }
                }
            }
            Payload::CodeSectionEntry(body) => {
                let range = body.range();
                if range.contains(&offset) {
                    index = Some(imported + next);
                }
                next += 1;
            }
            Payload::CustomSection(c) => {
                if let (Some(i), wasmparser::KnownCustom::Name(names)) = (index, c.as_known()) {
                    for sub in names {
                        if let Ok(wasmparser::Name::Function(map)) = sub {
                            name = map
                                .into_iter()
                                .flatten()
                                .find(|n| n.index == i)
                                .map(|n| n.name.to_string());
                        }
                    }
                }
            }
            _ => {}
        }
    }
    let index = index?;
    Some(match name {
        Some(n) => format!("function {index} `{n}`"),
        None => format!("function {index}"),
    })
}

/// The header's encoding; a bad header or version is malformed input.
fn header(path: &Path, bytes: &[u8]) -> Result<Encoding, ComponentError> {
    match Parser::new(0).parse_all(bytes).next() {
        Some(Ok(Payload::Version { encoding, .. })) => Ok(encoding),
        Some(Err(e)) => Err(ComponentError::Malformed {
            path: path.to_path_buf(),
            offset: e.offset(),
            message: e.message().to_string(),
            help: malformed_help(e.message(), e.offset(), bytes.len()),
        }),
        _ => Err(ComponentError::Malformed {
            path: path.to_path_buf(),
            offset: 0,
            message: "no wasm header".to_string(),
            help: None,
        }),
    }
}

fn malformed_help(message: &str, offset: u64, len: usize) -> Option<String> {
    if message.contains("unexpected end") || offset >= len as u64 {
        Some(format!(
            "the file ends early ({len} bytes): it was probably truncated while being copied or downloaded; rebuild it"
        ))
    } else {
        None
    }
}

/// WAT starts (after blanks and comments) with `(`; anything else is not text
/// we can read.
fn looks_like_wat(bytes: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    let mut rest = text.trim_start();
    loop {
        if let Some(r) = rest.strip_prefix(";;") {
            rest = r.split_once('\n').map_or("", |(_, r)| r).trim_start();
        } else if rest.starts_with("(;") {
            rest = rest.split_once(";)").map_or("", |(_, r)| r).trim_start();
        } else {
            return rest.starts_with('(');
        }
    }
}

/// What the first bytes look like, for a "not wasm" message.
fn describe_start(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "the file is empty".to_string();
    }
    let head = &bytes[..bytes.len().min(8)];
    let hex = head
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ");
    let what = if bytes.starts_with(b"\x7fELF") {
        " (a native ELF binary)"
    } else if bytes.starts_with(b"PK\x03\x04") {
        " (a zip archive)"
    } else if bytes.starts_with(b"\x1f\x8b") {
        " (gzip data)"
    } else if let Ok(text) = std::str::from_utf8(bytes) {
        let first = text.split_whitespace().next().unwrap_or("");
        if ["package", "interface", "world", "///"].contains(&first) {
            " (WIT text: pass WIT with `--wit PATH`, and the module as the input)"
        } else {
            " (text, but not WAT)"
        }
    } else {
        ""
    };
    format!("it starts with {hex}{what}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wat_and_binary_are_read_and_garbage_is_not() {
        let p = Path::new("x.wasm");
        let m = WasmInput::from_bytes(p, b";; hi\n(module)".to_vec()).unwrap();
        assert_eq!(m.encoding, Encoding::Module);
        let c = WasmInput::from_bytes(p, b"(component)".to_vec()).unwrap();
        assert_eq!(c.encoding, Encoding::Component);
        let e = WasmInput::from_bytes(p, b"hello".to_vec()).unwrap_err();
        assert!(e.to_string().contains("text, but not WAT"), "{e}");
        let e = WasmInput::from_bytes(p, b"\x7fELF\x02".to_vec()).unwrap_err();
        assert!(e.to_string().contains("ELF"), "{e}");
    }

    #[test]
    fn truncation_reports_an_offset() {
        let bytes =
            wat::parse_str("(module (func (export \"f\") (result i32) i32.const 7))").unwrap();
        let cut = bytes[..bytes.len() - 3].to_vec();
        let input = WasmInput::from_bytes(Path::new("t.wasm"), cut).unwrap();
        let Err(e) = input.validate() else {
            panic!("a truncated module validated")
        };
        assert!(matches!(e, ComponentError::Malformed { .. }), "{e}");
        assert!(e.to_string().contains("offset"), "{e}");
    }

    /// The bodies of a nested module equal to a known one are skipped, and
    /// only those: an invalid body in it passes, the same in another fails.
    #[test]
    fn bodies_of_a_known_module_are_not_validated_again() {
        let bad = "(func (result i32) i64.const 1)";
        let known = wat::parse_str(format!("(module {bad} (@custom \"c\" \"x\"))")).unwrap();
        let component =
            |module: &str| wat::parse_str(format!("(component (core module {module}))")).unwrap();
        let same = component(bad);
        assert!(validate(&same).is_err(), "the body is invalid");
        assert!(validate_except(&same, Some(&known)).is_ok());
        let other = component(&format!("{bad} (func)"));
        assert!(validate_except(&other, Some(&known)).is_err());
    }

    /// Inputs sharing a core module validate its bodies once; an error is
    /// the first failing input's.
    #[test]
    fn validate_all_validates_a_shared_module_once() {
        let shared = "(func (param i32) (result i32) local.get 0) (func)";
        let app = wat::parse_str(format!(
            "(component (core module {shared}) (core module (func)))"
        ))
        .unwrap();
        let dep = wat::parse_str(format!("(component (core module {shared}))")).unwrap();
        let (error, bodies) = structures_of(&[&app, &dep]);
        assert!(error.is_none());
        // Two of the shared module's and one of the app's own: the copy in
        // `dep` is not validated again.
        assert_eq!(bodies.len(), 3);
        assert!(validate_all(&[&app, &dep]).is_ok());

        let bad =
            wat::parse_str("(component (core module (func (result i32) i64.const 1)))").unwrap();
        assert_eq!(validate_all(&[&app, &bad]).unwrap_err().0, 1);
        assert_eq!(validate_all(&[&bad, &app, &bad]).unwrap_err().0, 0);
        let truncated = &app[..app.len() - 2];
        assert_eq!(validate_all(&[&dep, truncated, &bad]).unwrap_err().0, 1);
    }
}
