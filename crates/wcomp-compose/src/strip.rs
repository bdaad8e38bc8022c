//! `--strip`: drop debug custom sections (names, producers, DWARF, source
//! maps) from a component and every module and component nested in it.
//! Sections are length-prefixed, so this is a copy that skips some ranges
//! and rewrites the sizes of the nested sections around them.

use wasmparser::{Parser, Payload};

/// Whether a custom section only serves debuggers and tool reports.
pub fn is_debug_section(name: &str) -> bool {
    matches!(
        name,
        "name" | "component-name" | "producers" | "sourceMappingURL" | "external_debug_info"
    ) || name.starts_with(".debug_")
}

/// `bytes` (a module or component) without debug custom sections, at any depth.
pub fn strip(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(bytes.len());
    strip_into(bytes, &mut out)?;
    Ok(out)
}

/// Where stripped bytes go: a buffer, or a count of them (a nested
/// section's size is written before its contents, so it is counted first
/// rather than built in a buffer of its own and copied again).
trait Sink {
    fn put(&mut self, bytes: &[u8]);
}

impl Sink for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

struct Count(usize);

impl Sink for Count {
    fn put(&mut self, bytes: &[u8]) {
        self.0 += bytes.len();
    }
}

/// Appends `bytes` (a whole module or component) to `out`, stripped.
fn strip_into(bytes: &[u8], out: &mut impl Sink) -> Result<(), String> {
    // The 8-byte preamble (magic and version/layer) is kept as is.
    out.put(&bytes[..bytes.len().min(8)]);
    let mut parser = Parser::new(0);
    let mut offset = 0usize;
    loop {
        let chunk = parser
            .parse(&bytes[offset..], true)
            .map_err(|e| e.to_string())?;
        let (payload, consumed) = match chunk {
            wasmparser::Chunk::Parsed { payload, consumed } => (payload, consumed),
            // With `eof` set the parser errors instead of asking for more.
            wasmparser::Chunk::NeedMoreData(_) => break,
        };
        let start = offset;
        offset += consumed;
        match payload {
            Payload::Version { .. } => {}
            Payload::End(_) => break,
            Payload::CustomSection(c) if is_debug_section(c.name()) => {}
            Payload::ModuleSection {
                unchecked_range, ..
            }
            | Payload::ComponentSection {
                unchecked_range, ..
            } => {
                // Only the header (id and size) was consumed; the outer
                // parser already counts the nested bytes as read, so the
                // input just moves past them.
                let range = within(bytes, &unchecked_range)?;
                nested(bytes[start], &bytes[range.clone()], out)?;
                offset = range.end;
            }
            Payload::CodeSectionStart {
                unchecked_range, ..
            } => {
                // Copy the whole code section and skip its entries.
                let range = within(bytes, &unchecked_range)?;
                out.put(&bytes[start..range.end]);
                parser.skip_section();
                offset = range.end;
            }
            _ => out.put(&bytes[start..offset]),
        }
    }
    Ok(())
}

/// A nested module or component section (`id`, then `body` stripped).
fn nested(id: u8, body: &[u8], out: &mut impl Sink) -> Result<(), String> {
    let mut size = Count(0);
    strip_into(body, &mut size)?;
    let mut header = vec![id];
    leb128(&mut header, size.0);
    out.put(&header);
    strip_into(body, out)
}

/// A parser range as a slice range, checked against the bytes we have.
fn within(bytes: &[u8], range: &std::ops::Range<u64>) -> Result<std::ops::Range<usize>, String> {
    let start = usize::try_from(range.start).unwrap_or(usize::MAX);
    let end = usize::try_from(range.end).unwrap_or(usize::MAX);
    if start <= end && end <= bytes.len() {
        Ok(start..end)
    } else {
        Err(format!(
            "a section ({start}..{end}) runs past the end ({})",
            bytes.len()
        ))
    }
}

fn leb128(out: &mut Vec<u8>, mut n: usize) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_nested_debug_sections_and_keeps_the_rest_valid() {
        let wasm = wat::parse_str(
            r#"(component
                 (core module $m (func $f (export "f")) (@custom "keep" "k") (@producers (language "wat" "1")))
                 (component $inner (core module (func $g)))
                 (@custom "name-not" "x")
               )"#,
        )
        .unwrap();
        let out = strip(&wasm).unwrap();
        wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
            .validate_all(&out)
            .unwrap();
        let names: Vec<String> = Parser::new(0)
            .parse_all(&out)
            .filter_map(|p| match p.unwrap() {
                Payload::CustomSection(c) => Some(c.name().to_string()),
                _ => None,
            })
            .collect();
        assert!(names.contains(&"keep".to_string()), "{names:?}");
        assert!(names.contains(&"name-not".to_string()), "{names:?}");
        assert!(
            !names
                .iter()
                .any(|n| n == "name" || n == "producers" || n == "component-name"),
            "{names:?}"
        );
        assert!(out.len() < wasm.len());
        assert_eq!(strip(&out).unwrap(), out, "stripping twice changes nothing");
    }
}
