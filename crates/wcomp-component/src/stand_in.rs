//! A light stand-in for a big core module while wit-component wraps it.
//!
//! On the way to a component, wit-component copies the module it is given
//! five times (stripping its world, looking for duplicate imports, adding
//! producers, placing it in the component, finishing the component), yet it
//! never reads the main module's function bodies or the bytes of its data
//! segments. On a 31.5 MB module those copies, and the fresh memory each one
//! touches, were half of `wcomp new`'s time. So wit-component is given a
//! stand-in whose code section holds one empty body per function and whose
//! data segments are empty, and the real sections are put back into the
//! component it returns. Whenever the stand-in's sections are not found
//! unchanged in that component, [`StandIn::restore`] says so and the caller
//! encodes the real module.

use wasm_encoder::Encode;
use wasmparser::{Chunk, Parser, Payload};

const CUSTOM: u8 = 0;
const CODE: u8 = 10;
const DATA: u8 = 11;
/// A core module section, in a component.
const CORE_MODULE: u8 = 1;
/// A function body of size 2: no locals, `end`.
const EMPTY_BODY: [u8; 3] = [2, 0, 0x0b];

/// A module with its code and data sections lightened (see the module docs).
#[derive(Debug)]
pub struct StandIn<'a> {
    /// The stand-in module, to give wit-component.
    pub module: Vec<u8>,
    /// The sections that were lightened, in module order.
    swaps: Vec<Swap<'a>>,
}

#[derive(Debug)]
struct Swap<'a> {
    id: u8,
    /// The stand-in section's contents.
    light: Vec<u8>,
    /// The real section's contents.
    real: &'a [u8],
}

impl<'a> StandIn<'a> {
    /// The stand-in of a core module; `None` when the module cannot be read
    /// (its own errors are reported by encoding it) or has nothing to lighten.
    pub fn of(module: &'a [u8]) -> Option<StandIn<'a>> {
        let mut out = module.get(..8)?.to_vec();
        let mut swaps = Vec::new();
        for_each_section(module, |payload, id, contents| {
            match lightened(module, payload)? {
                Some(light) => {
                    push_section(&mut out, id, &light);
                    swaps.push(Swap {
                        id,
                        light,
                        real: contents,
                    });
                }
                None => push_section(&mut out, id, contents),
            }
            Some(())
        })?;
        if swaps.is_empty() {
            return None;
        }
        Some(StandIn { module: out, swaps })
    }

    /// `component` (wit-component's output for the stand-in) with the real
    /// sections put back; `None` unless exactly one core module of it holds
    /// every stand-in section, unchanged and in order.
    pub fn restore(&self, component: &[u8]) -> Option<Vec<u8>> {
        let mut found = None;
        for_each_section(component, |_, id, contents| {
            if id == CORE_MODULE && self.holds(contents).is_some() {
                if found.is_some() {
                    return None;
                }
                found = Some(contents);
            }
            Some(())
        })?;
        let module = found?;
        let swapped = self.holds(module)?;
        // Offsets of the module (and its sections) within the component.
        let start = offset_in(component, module);
        let head = section_start(component, start, module.len(), CORE_MODULE)?;
        // The module's pieces between its lightened sections, and its new size.
        let mut pieces = Vec::with_capacity(2 * swapped.len() + 1);
        let mut at = 0;
        for (section, swap) in swapped.iter().zip(&self.swaps) {
            let begin = offset_in(module, section);
            let section_head = section_start(module, begin, section.len(), swap.id)?;
            pieces.push(Piece::Bytes(&module[at..section_head]));
            pieces.push(Piece::Section(swap.id, swap.real));
            at = begin + section.len();
        }
        pieces.push(Piece::Bytes(&module[at..]));
        let size: usize = pieces.iter().map(Piece::len).sum();
        let tail = &component[start + module.len()..];
        let mut out = Vec::with_capacity(head + 1 + 10 + size + tail.len());
        out.extend_from_slice(&component[..head]);
        out.push(CORE_MODULE);
        out.extend_from_slice(&leb(size as u64));
        for piece in pieces {
            match piece {
                Piece::Bytes(bytes) => out.extend_from_slice(bytes),
                Piece::Section(id, contents) => push_section(&mut out, id, contents),
            }
        }
        out.extend_from_slice(tail);
        Some(out)
    }

    /// The contents of `module`'s lightened sections, if they are exactly
    /// the stand-in's (same ids, same bytes, same order).
    fn holds<'m>(&self, module: &'m [u8]) -> Option<Vec<&'m [u8]>> {
        if !module.starts_with(b"\0asm") {
            return None;
        }
        let mut lightened = Vec::new();
        for_each_section(module, |_, id, contents| {
            if id == CODE || id == DATA {
                lightened.push((id, contents));
            }
            Some(())
        })?;
        let same = lightened.len() == self.swaps.len()
            && lightened
                .iter()
                .zip(&self.swaps)
                .all(|((id, contents), swap)| *id == swap.id && *contents == swap.light);
        same.then(|| lightened.into_iter().map(|(_, c)| c).collect())
    }
}

/// The light contents of a code section (one empty body per function) or
/// a data section (every segment empty); `Some(None)` for other sections,
/// `None` when the section cannot be read.
fn lightened<'a>(module: &'a [u8], payload: &Payload<'a>) -> Option<Option<Vec<u8>>> {
    Some(match payload {
        Payload::CodeSectionStart { count, .. } => {
            let mut light = leb(u64::from(*count));
            for _ in 0..*count {
                light.extend_from_slice(&EMPTY_BODY);
            }
            Some(light)
        }
        Payload::DataSection(reader) => {
            let mut light = leb(u64::from(reader.count()));
            for data in reader.clone() {
                let data = data.ok()?;
                light.extend_from_slice(segment_head(module, &data)?);
                light.push(0);
            }
            Some(light)
        }
        _ => None,
    })
}

/// `bytes` (a component or a core module) with only what its types need:
/// in every core module, at any depth, one empty body per function, empty
/// data segments and no custom sections. Nothing that reads only types (a
/// component's world, the type checks of a composition) can tell it from
/// the real one, and it is a fraction of its size. `None` when the bytes
/// cannot be read (the real ones then report why).
pub fn typed_only(bytes: &[u8]) -> Option<Vec<u8>> {
    let module = bytes.get(4..8)? == [1, 0, 0, 0];
    let mut out = bytes.get(..8)?.to_vec();
    for_each_section(bytes, |payload, id, contents| {
        if module {
            match lightened(bytes, payload)? {
                Some(light) => push_section(&mut out, id, &light),
                None if id == CUSTOM => {}
                None => push_section(&mut out, id, contents),
            }
            return Some(());
        }
        match payload {
            Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => {
                push_section(&mut out, id, &typed_only(contents)?)
            }
            _ => push_section(&mut out, id, contents),
        }
        Some(())
    })?;
    Some(out)
}

/// Part of a restored module: bytes kept, or a real section put back.
enum Piece<'a> {
    Bytes(&'a [u8]),
    Section(u8, &'a [u8]),
}

impl Piece<'_> {
    fn len(&self) -> usize {
        match self {
            Piece::Bytes(bytes) => bytes.len(),
            Piece::Section(_, contents) => 1 + leb(contents.len() as u64).len() + contents.len(),
        }
    }
}

/// Calls `f` with each top-level section of a module or component: its
/// payload, id and contents. Nested modules and components are passed whole
/// (as their section), not entered. `None` if the bytes cannot be read or
/// `f` gives up.
fn for_each_section<'a>(
    bytes: &'a [u8],
    mut f: impl FnMut(&Payload<'a>, u8, &'a [u8]) -> Option<()>,
) -> Option<()> {
    let mut parser = Parser::new(0);
    let mut offset = 0;
    loop {
        let (payload, consumed) = match parser.parse(bytes.get(offset..)?, true).ok()? {
            Chunk::Parsed { payload, consumed } => (payload, consumed),
            Chunk::NeedMoreData(_) => return None,
        };
        offset += consumed;
        if let Payload::End(_) = payload {
            return Some(());
        }
        if let Some((id, range)) = payload.as_section() {
            let range = usize::try_from(range.start).ok()?..usize::try_from(range.end).ok()?;
            f(&payload, id, bytes.get(range.clone())?)?;
            // Code entries and nested modules are not looked into (the
            // parser steps over a nested one by itself).
            match payload {
                Payload::CodeSectionStart { .. } => {
                    parser.skip_section();
                    offset = range.end;
                }
                Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => {
                    offset = range.end;
                }
                _ => {}
            }
        }
    }
}

/// A data segment up to (not including) the length of its bytes: its flags,
/// memory and offset expression, whatever their encoding.
fn segment_head<'a>(module: &'a [u8], data: &wasmparser::Data<'a>) -> Option<&'a [u8]> {
    let start = usize::try_from(data.range.start).ok()?;
    let bytes_at = offset_in(module, data.data);
    let head = module.get(start..bytes_at)?;
    // The length is a LEB128 ending the head: its last byte has the high bit
    // clear, the ones before it set. What precedes it (a flag, a memory
    // index or the `end` of an expression) ends with a clear high bit.
    let (&last, rest) = head.split_last()?;
    if last & 0x80 != 0 {
        return None;
    }
    let continued = rest.iter().rev().take_while(|b| *b & 0x80 != 0).count();
    let head = &rest[..rest.len() - continued];
    (!head.is_empty()).then_some(head)
}

/// Where `part` (a subslice of `whole`) begins in `whole`.
fn offset_in(whole: &[u8], part: &[u8]) -> usize {
    part.as_ptr() as usize - whole.as_ptr() as usize
}

/// Where the section whose contents begin at `contents` starts (its id byte),
/// checked to be `id` followed by the contents' length.
fn section_start(bytes: &[u8], contents: usize, len: usize, id: u8) -> Option<usize> {
    let size = leb(len as u64);
    let start = contents.checked_sub(size.len() + 1)?;
    let head = bytes.get(start..contents)?;
    (head[0] == id && head[1..] == size[..]).then_some(start)
}

fn push_section(out: &mut Vec<u8>, id: u8, contents: &[u8]) {
    out.push(id);
    out.extend_from_slice(&leb(contents.len() as u64));
    out.extend_from_slice(contents);
}

/// Unsigned LEB128, as short as it gets (wasm-encoder's, as it writes
/// sizes).
fn leb(n: u64) -> Vec<u8> {
    let mut out = Vec::new();
    n.encode(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wat(text: &str) -> Vec<u8> {
        wat::parse_str(text).unwrap()
    }

    /// A component that carries `module` as it is, as wit-component does.
    fn component_of(module: &[u8]) -> Vec<u8> {
        let mut component = wasm_encoder::Component::new();
        component.section(&wasm_encoder::RawSection {
            id: CORE_MODULE,
            data: module,
        });
        component.finish()
    }

    const SEGMENTS: &str = r#"(module
        (memory 1) (memory $two 1)
        (func $f (result i32) (i32.const 7))
        (func (export "g") (param i32) (result i32) (local i64) (call $f))
        (data (i32.const 16) "active, memory 0")
        (data (memory $two) (i32.add (i32.const 1) (i32.const 2)) "active, memory 1")
        (data "passive")
        (data (i32.const 0) ""))"#;

    #[test]
    fn every_segment_kind_keeps_its_head_and_loses_its_bytes() {
        let module = wat(SEGMENTS);
        let light = StandIn::of(&module).unwrap();
        assert_eq!(light.swaps.len(), 2);
        // The stand-in is a well-formed module of the same shape.
        crate::input::validate_structure(&light.module).unwrap();
        let data = light.swaps.iter().find(|s| s.id == DATA).unwrap();
        assert!(!data.light.windows(7).any(|w| w == b"passive"));
        assert_eq!(
            light.restore(&component_of(&light.module)).unwrap(),
            component_of(&module)
        );
    }

    #[test]
    fn a_padded_length_is_still_found() {
        // One passive segment "ab", its length spelled in three bytes.
        let mut module = b"\0asm\x01\0\0\0".to_vec();
        module.extend_from_slice(&[12, 1, 1]); // data count: 1
        let segment = [1, 0x82, 0x80, 0x00, b'a', b'b'];
        module.extend_from_slice(&[DATA, 7, 1]);
        module.extend_from_slice(&segment);
        let light = StandIn::of(&module).unwrap();
        assert_eq!(light.swaps[0].light, [1, 1, 0]);
        crate::input::validate_structure(&light.module).unwrap();
        assert_eq!(
            light.restore(&component_of(&light.module)).unwrap(),
            component_of(&module)
        );
    }

    #[test]
    fn a_module_changed_or_carried_twice_is_not_restored() {
        let module = wat(SEGMENTS);
        let light = StandIn::of(&module).unwrap();
        // The real module: its sections are not the stand-in's.
        assert!(light.restore(&component_of(&module)).is_none());
        // Two candidates: which one is the module is not known.
        let mut twice = wasm_encoder::Component::new();
        for _ in 0..2 {
            twice.section(&wasm_encoder::RawSection {
                id: CORE_MODULE,
                data: &light.module,
            });
        }
        assert!(light.restore(&twice.finish()).is_none());
        // Not wasm at all.
        assert!(light.restore(b"not wasm").is_none());
    }

    #[test]
    fn a_module_with_nothing_to_lighten_has_no_stand_in() {
        assert!(StandIn::of(&wat("(module (memory 1))")).is_none());
        assert!(StandIn::of(b"\0asm").is_none());
    }

    #[test]
    fn a_typed_only_component_has_the_same_world_and_no_code() {
        let component = wat(r#"(component
          (import "get" (func $get (param "k" string) (result u32)))
          (core module $m
            (memory (export "memory") 1)
            (func (export "run") (result i32) i32.const 7 i32.const 8 i32.add)
            (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) i32.const 16)
            (data (i32.const 0) "a great deal of data"))
          (core instance $i (instantiate $m))
          (func (export "run") (result u32)
            (canon lift (core func $i "run")))
          (component (core module (func (export "f") (result i32) i32.const 1)))
        )"#);
        let light = typed_only(&component).unwrap();
        assert!(light.len() < component.len());
        let world = |bytes: &[u8]| match wit_component::decode(bytes).unwrap() {
            wit_component::DecodedWasm::Component(resolve, world) => {
                let mut printer = wit_component::WitPrinter::default();
                let package = resolve.worlds[world].package.unwrap();
                printer.print(&resolve, package, &[]).unwrap();
                printer.output.to_string()
            }
            _ => panic!("not a component"),
        };
        assert_eq!(world(&light), world(&component));
        // Every body is `end` alone, every data segment empty, at any depth.
        let (mut bodies, mut segments) = (0, 0);
        for payload in Parser::new(0).parse_all(&light) {
            match payload.unwrap() {
                Payload::CodeSectionEntry(body) => {
                    let ops: Vec<_> = body.get_operators_reader().unwrap().into_iter().collect();
                    assert!(matches!(ops[..], [Ok(wasmparser::Operator::End)]));
                    bodies += 1;
                }
                Payload::DataSection(reader) => {
                    for data in reader {
                        assert!(data.unwrap().data.is_empty());
                        segments += 1;
                    }
                }
                _ => {}
            }
        }
        assert_eq!((bodies, segments), (3, 1));
        // A core module alone loses its custom sections (its names here).
        let module = wat("(module (func $named (export \"f\") (result i32) i32.const 1))");
        let light = typed_only(&module).unwrap();
        assert!(light.len() < module.len());
        let custom = |bytes: &[u8]| {
            Parser::new(0)
                .parse_all(bytes)
                .filter(|p| matches!(p, Ok(Payload::CustomSection(_))))
                .count()
        };
        assert_eq!((custom(&module) > 0, custom(&light)), (true, 0));
        // Bytes that are not wasm.
        assert!(typed_only(b"not wasm").is_none());
    }
}
