//! wasm-compose reads every component it is given through a validator,
//! core modules and all, and copies each into its output whole, yet only
//! their types matter to it. So it composes the inputs' light copies
//! (`wcomp_component::typed_only`: no function bodies, no data bytes), and
//! the real components take their places as the output is written: by the
//! dedup pass's writer, which reads the outer level from wasm-compose's
//! output and the nested components from the inputs ([`defines_exactly`]
//! says when that holds), or by [`splice`] where the whole is needed first
//! (`--strip`). On the Python pair that skips reading 37 MB through the
//! validator and copying it once more.
use wasmparser::{Chunk, Parser, Payload};

/// `composed` (wasm-compose's output, which defines the light components
/// `light` in that order at its outer level) with each light component
/// replaced by the real one of the same position; `None` unless the outer
/// level defines exactly those components, unchanged and in order.
pub fn splice(composed: &[u8], light: &[&[u8]], real: &[&[u8]]) -> Option<Vec<u8>> {
    if !defines_exactly(composed, light) {
        return None;
    }
    let grown: usize = real.iter().map(|r| r.len() + 10).sum();
    let mut out = Vec::with_capacity(composed.len() + grown);
    // The dedup pass's writer, sharing nothing.
    let plan = crate::dedup::Plan::none(composed).ok()?;
    plan.write(composed, real, &mut out).ok()?;
    Some(out)
}

/// Whether `composed` defines exactly the components `light` at its outer
/// level, unchanged and in order: then the real ones may take their places.
pub fn defines_exactly(composed: &[u8], light: &[&[u8]]) -> bool {
    let mut parser = Parser::new(0);
    let mut offset = 0;
    let mut next = 0;
    loop {
        let Some(rest) = composed.get(offset..) else {
            return false;
        };
        let (payload, consumed) = match parser.parse(rest, true) {
            Ok(Chunk::Parsed { payload, consumed }) => (payload, consumed),
            _ => return false,
        };
        offset += consumed;
        match payload {
            Payload::End(_) => return next == light.len() && offset == composed.len(),
            Payload::ComponentSection {
                ref unchecked_range,
                ..
            } => {
                let Some(range) = usize_range(unchecked_range) else {
                    return false;
                };
                if composed.get(range.clone()) != light.get(next).copied() {
                    return false;
                }
                next += 1;
                offset = range.end;
            }
            Payload::ModuleSection {
                ref unchecked_range,
                ..
            } => match usize_range(unchecked_range) {
                Some(range) => offset = range.end,
                None => return false,
            },
            _ => {}
        }
    }
}

fn usize_range(range: &std::ops::Range<u64>) -> Option<std::ops::Range<usize>> {
    Some(usize::try_from(range.start).ok()?..usize::try_from(range.end).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_encoder::ComponentSectionId;

    fn component(wat: &str) -> Vec<u8> {
        wat::parse_str(wat).unwrap()
    }

    #[test]
    fn real_components_take_the_light_ones_places() {
        let real_a =
            component("(component (core module (func (export \"f\") (result i32) i32.const 7)))");
        let real_b = component("(component (core module (memory 1) (data (i32.const 0) \"xyz\")))");
        let light_a = wcomp_component::typed_only(&real_a).unwrap();
        let light_b = wcomp_component::typed_only(&real_b).unwrap();
        assert!(light_a != real_a && light_b != real_b);
        let outer = |a: &[u8], b: &[u8]| {
            let mut c = wasm_encoder::Component::new();
            c.section(&wasm_encoder::RawSection {
                id: ComponentSectionId::Component as u8,
                data: a,
            });
            c.section(&wasm_encoder::RawSection {
                id: ComponentSectionId::Component as u8,
                data: b,
            });
            c.finish()
        };
        let spliced = splice(
            &outer(&light_a, &light_b),
            &[&light_a, &light_b],
            &[&real_a, &real_b],
        );
        assert_eq!(spliced, Some(outer(&real_a, &real_b)));
        // Not the components it was told of: no splice.
        assert_eq!(
            splice(
                &outer(&light_a, &light_b),
                &[&light_b, &light_a],
                &[&real_b, &real_a]
            ),
            None
        );
        assert_eq!(
            splice(&outer(&light_a, &light_b), &[&light_a], &[&real_a]),
            None
        );
    }
}
