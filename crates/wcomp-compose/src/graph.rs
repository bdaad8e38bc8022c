//! The plan, encoded as one component with wasm-compose's graph API. This
//! is the only module that knows the library: moving to wac-graph (which
//! wasm-compose's README points to) would replace this file alone.

use std::borrow::Cow;
use std::collections::BTreeMap;

use wasm_compose::graph::{self, CompositionGraph, EncodeOptions, InstanceId};
use wasmparser::{Validator, WasmFeatures};

use crate::error::ComposeError;
use crate::input::Component;
use crate::plan::Plan;

/// Encodes `plan` over `components`: each component in the plan is defined
/// once and instantiated once, links become instantiation arguments, every
/// unplugged import becomes an import of the result, and the result exports
/// what the app (component 0) exports. `bytes_of` gives the bytes each
/// component (by input index) is defined with.
pub fn encode<'b>(
    components: &[Component],
    bytes_of: impl Fn(usize) -> &'b [u8],
    plan: &Plan,
) -> Result<Vec<u8>, ComposeError> {
    let fail = |e: &dyn std::fmt::Display| ComposeError::Graph {
        message: e.to_string(),
    };
    let mut graph = CompositionGraph::new();
    let mut validator = Validator::new_with_features(WasmFeatures::all());
    let mut instances: BTreeMap<usize, InstanceId> = BTreeMap::new();
    for &c in &plan.order {
        let component = graph::Component::from_bytes(
            &mut validator,
            instance_name(c),
            Cow::Borrowed(bytes_of(c)),
        )
        .map_err(|e| fail(&format_args!("{}: {e:#}", components[c].label)))?;
        let id = graph
            .add_component(component)
            .map_err(|e| fail(&format_args!("{e:#}")))?;
        let instance = graph
            .instantiate(id)
            .map_err(|e| fail(&format_args!("{e:#}")))?;
        instances.insert(c, instance);
    }
    for link in &plan.links {
        let (source, target) = (instances[&link.exporter], instances[&link.importer]);
        let exporter = graph
            .get_component_of_instance(source)
            .map(|(_, c)| c)
            .ok_or_else(|| ComposeError::Internal("instance without component".into()))?;
        let importer = graph
            .get_component_of_instance(target)
            .map(|(_, c)| c)
            .ok_or_else(|| ComposeError::Internal("instance without component".into()))?;
        let (export, ..) = exporter
            .export_by_name(&link.export)
            .ok_or_else(|| ComposeError::Internal(format!("export `{}` not found", link.export)))?;
        let (import, _) = importer
            .import_by_name(&link.import)
            .ok_or_else(|| ComposeError::Internal(format!("import `{}` not found", link.import)))?;
        graph
            .connect(source, Some(export), target, import)
            .map_err(|e| {
                fail(&format_args!(
                    "plugging `{}` of {} into `{}` of {}: {e:#}",
                    link.export,
                    components[link.exporter].label,
                    link.import,
                    components[link.importer].label
                ))
            })?;
    }
    let app = instances
        .get(&0)
        .copied()
        .ok_or_else(|| ComposeError::Internal("the app is not instantiated".into()))?;
    wcomp_wit::catch_library_panic(|| {
        graph.encode(EncodeOptions {
            define_components: true,
            export: Some(app),
            // Validated once by the caller, bodies in parallel.
            validate: false,
        })
    })
    .map_err(|panic| fail(&format_args!("wasm-compose crashed: {panic}")))?
    .map_err(|e| fail(&format_args!("{e:#}")))
}

/// Names in the graph must be unique and valid kebab-case; labels are for
/// people, so the graph gets `c0`, `c1`, ... by input position.
fn instance_name(index: usize) -> String {
    format!("c{index}")
}
