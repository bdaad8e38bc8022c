//! One copy of each identical core module.
//!
//! Inputs built by one toolchain carry the same core modules (the WASI
//! preview 1 adapter, componentize-py's libc and interpreter support), and a
//! composition embeds every input whole, so each copy would ship. This pass
//! takes the composed component and, for every core module that two or more
//! of its nested components define byte for byte, defines it once at the
//! outer level and passes it to each of them: the nested component's module
//! definition becomes an import of a core module of the same type at the
//! same position (so no index in it moves), and each instantiation of that
//! component gets one more `with` argument. Nothing else changes.
//!
//! The outer level and its nested components may come from different
//! buffers ([`plan_split`]): `wcomp compose` plans over wasm-compose's
//! output of the inputs' light copies and writes the real inputs in their
//! places, in the one copy that writes the result.
//!
//! Only the components the outer level defines directly are rewritten (the
//! inputs of a composition); modules nested deeper stay where they are.
//! Where rewriting could move an index (a core type defined after the first
//! shared module, an import name already taken) or change a type that
//! something else checks (a component passed or exported as a value), that
//! component keeps its modules.

use std::collections::BTreeMap;
use std::ops::Range;

use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
use wasm_encoder::{
    ComponentExportKind, ComponentImportSection, ComponentInstanceSection, ComponentSectionId,
    ComponentTypeRef, CoreTypeSection, Encode, EntityType, ModuleType,
};
use wasmparser::{
    Chunk, ComponentAlias, ComponentExternalKind, ComponentInstance, ComponentOuterAliasKind,
    ComponentTypeRef as ParsedTypeRef, ExternalKind, Parser, Payload, TypeRef,
};

/// The prefix of the import names a rewritten component receives its shared
/// modules under (`wcomp-shared-m0`, ...).
pub const IMPORT_PREFIX: &str = "wcomp-shared-m";

/// What the pass did.
#[derive(Debug, Clone, Default)]
pub struct Deduped {
    pub bytes: Vec<u8>,
    /// The modules now defined once, in the order the result defines them.
    pub shared: Vec<SharedModule>,
}

/// One module defined once at the outer level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedModule {
    /// Its size in bytes.
    pub size: usize,
    /// The nested components that receive it, by their position among the
    /// outer level's component definitions (one entry per copy removed).
    pub users: Vec<usize>,
}

impl SharedModule {
    /// The bytes the pass saved: every copy but one.
    pub fn saved(&self) -> usize {
        self.size * self.users.len().saturating_sub(1)
    }
}

/// `bytes` (a component) with each core module that two or more of its
/// nested components define identically defined once; unchanged (with no
/// shared modules) when there is none.
pub fn dedup(bytes: &[u8]) -> Result<Deduped, String> {
    let outer = Outer::read(bytes)?;
    let children: Vec<&[u8]> = outer
        .components
        .iter()
        .map(|c| &bytes[c.body.clone()])
        .collect();
    let plan = plan_read(outer, &children)?;
    let mut out = Vec::with_capacity(bytes.len());
    plan.write(bytes, &children, &mut out)?;
    Ok(Deduped {
        bytes: out,
        shared: plan.shared,
    })
}

/// What the pass will do to a component: decided first, so that the
/// caller knows what is shared before the one copy that writes the result.
pub struct Plan {
    /// The modules to define once, in the order the result defines them.
    pub shared: Vec<SharedModule>,
    /// Their first copies: in which nested component, where in its bytes.
    first_copy: Vec<(usize, Range<usize>)>,
    outer: Outer,
    rewritten: BTreeMap<usize, Rewritten>,
}

impl Plan {
    /// Appends the result to `out`: the outer level's sections from
    /// `outer`, and its nested components from `children` (see
    /// [`plan_split`]).
    pub fn write(&self, outer: &[u8], children: &[&[u8]], out: &mut Vec<u8>) -> Result<(), String> {
        out.extend_from_slice(&outer[..8]);
        for (c, range) in &self.first_copy {
            out.push(ComponentSectionId::CoreModule as u8);
            leb128(out, range.len());
            out.extend_from_slice(&children[*c][range.clone()]);
        }
        let mut child = 0;
        for section in &self.outer.sections {
            match section {
                OuterSection::Component => {
                    let bytes = children[child];
                    out.push(ComponentSectionId::Component as u8);
                    match self.rewritten.get(&child) {
                        Some((pieces, _)) => {
                            // Its size comes first, then the pieces, copied
                            // once.
                            let size: usize = 8 + pieces.iter().map(Piece::len).sum::<usize>();
                            leb128(out, size);
                            out.extend_from_slice(&bytes[..8]);
                            for piece in pieces {
                                match piece {
                                    Piece::Input(range) => {
                                        out.extend_from_slice(&bytes[range.clone()])
                                    }
                                    Piece::New(new) => out.extend_from_slice(new),
                                }
                            }
                        }
                        None => {
                            leb128(out, bytes.len());
                            out.extend_from_slice(bytes);
                        }
                    }
                    child += 1;
                }
                OuterSection::Instances(range) => {
                    instances(&outer[range.clone()], &self.outer, &self.rewritten, out)?;
                }
                OuterSection::Other(range) => out.extend_from_slice(&outer[range.clone()]),
            }
        }
        Ok(())
    }
}

/// Decides which core modules of `bytes` (a component) to define once.
pub fn plan(bytes: &[u8]) -> Result<Plan, String> {
    let outer = Outer::read(bytes)?;
    let children: Vec<&[u8]> = outer
        .components
        .iter()
        .map(|c| &bytes[c.body.clone()])
        .collect();
    plan_read(outer, &children)
}

/// The nested components `bytes` (a component) defines at its outer level,
/// in order: what [`Plan::write`] takes when they are where they are.
pub fn nested(bytes: &[u8]) -> Result<Vec<&[u8]>, String> {
    let outer = Outer::read(bytes)?;
    Ok(outer
        .components
        .iter()
        .map(|c| &bytes[c.body.clone()])
        .collect())
}

/// As [`plan`], for a component whose outer level is `outer` but whose
/// nested components (the ones it defines, in order) are `children`: the
/// composition of the inputs' light copies, whose real bytes are then
/// written in their places. `outer`'s own nested components are not read.
pub fn plan_split(outer: &[u8], children: &[&[u8]]) -> Result<Plan, String> {
    let read = Outer::read(outer)?;
    if read.components.len() != children.len() {
        return Err(format!(
            "{} nested components given for {} definitions",
            children.len(),
            read.components.len()
        ));
    }
    plan_read(read, children)
}

fn plan_read(outer: Outer, bytes: &[&[u8]]) -> Result<Plan, String> {
    if outer.defines_modules {
        // Shared modules go first in the outer level's module index space:
        // that is only free of moves when the outer level has no modules.
        return Ok(Plan::unchanged(outer));
    }
    let mut children: Vec<Child> = bytes
        .iter()
        .enumerate()
        .map(|(i, c)| Child::read(c, !outer.not_only_instantiated.contains(&i)))
        .collect::<Result<_, _>>()?;
    let groups = group(bytes, &children);
    if groups.is_empty() {
        return Ok(Plan::unchanged(outer));
    }
    // A child that cannot take an import keeps its copies; the groups are
    // formed again without them (a copy alone is not shared).
    let mut shared: Vec<SharedModule> = Vec::new();
    let mut first_copy: Vec<(usize, Range<usize>)> = Vec::new();
    for group in &groups {
        let members: Vec<(usize, usize)> = group
            .iter()
            .copied()
            .filter(|&(c, _)| children[c].eligible)
            .collect();
        if members.len() < 2 {
            continue;
        }
        let g = shared.len();
        let (c0, m0) = members[0];
        let range = children[c0].modules[m0].range.clone();
        let ty = match module_type(&bytes[c0][range.clone()]) {
            Ok(ty) => ty,
            // A module whose type this pass cannot restate keeps its copies.
            Err(_) => continue,
        };
        // Each user restates the module's type and imports it: sharing a
        // module smaller than that would make the result bigger.
        let mut encoded = Vec::new();
        ty.encode(&mut encoded);
        let cost = members.len() * (encoded.len() + import_name(g, 1).len() + 8);
        if range.len() * (members.len() - 1) <= cost {
            continue;
        }
        for &(c, m) in &members {
            children[c].modules[m].shared = Some((g, ty.clone()));
        }
        shared.push(SharedModule {
            size: range.len(),
            users: members.iter().map(|&(c, _)| c).collect(),
        });
        first_copy.push((c0, range));
    }
    if shared.is_empty() {
        return Ok(Plan::unchanged(outer));
    }
    let mut rewritten: BTreeMap<usize, Rewritten> = BTreeMap::new();
    for (i, child) in children.iter().enumerate() {
        if child.modules.iter().any(|m| m.shared.is_some()) {
            rewritten.insert(i, child.rewrite());
        }
    }
    Ok(Plan {
        shared,
        first_copy,
        outer,
        rewritten,
    })
}

impl Plan {
    /// A plan that shares nothing: written, the outer level of `outer` with
    /// the nested components given to [`Plan::write`] in their places.
    pub fn none(outer: &[u8]) -> Result<Plan, String> {
        Ok(Plan::unchanged(Outer::read(outer)?))
    }

    /// Nothing shared: the result is the input.
    fn unchanged(outer: Outer) -> Plan {
        Plan {
            shared: Vec::new(),
            first_copy: Vec::new(),
            outer,
            rewritten: BTreeMap::new(),
        }
    }
}

/// Groups of identical modules (two or more copies), in order of first
/// appearance: by size, then by hash, then by bytes.
fn group(bytes: &[&[u8]], children: &[Child]) -> Vec<Vec<(usize, usize)>> {
    let mut by_size: BTreeMap<usize, Vec<(usize, usize)>> = BTreeMap::new();
    for (c, child) in children.iter().enumerate() {
        for (m, module) in child.modules.iter().enumerate() {
            by_size.entry(module.range.len()).or_default().push((c, m));
        }
    }
    let body = |&(c, m): &(usize, usize)| &bytes[c][children[c].modules[m].range.clone()];
    let mut groups: Vec<Vec<(usize, usize)>> = Vec::new();
    for same_size in by_size.into_values().filter(|v| v.len() > 1) {
        // Compared byte for byte with the first of each group so far: two
        // modules that differ mostly differ early, and modules that are
        // equal are read once more at memory speed (hashing them first
        // would read them at hash speed).
        let mut same: Vec<Vec<(usize, usize)>> = Vec::new();
        for member in same_size {
            match same.iter_mut().find(|g| body(&g[0]) == body(&member)) {
                Some(g) => g.push(member),
                None => same.push(vec![member]),
            }
        }
        groups.extend(same.into_iter().filter(|g| g.len() > 1));
    }
    groups.sort();
    groups
}

/// The outer level, as far as this pass needs it.
struct Outer {
    sections: Vec<OuterSection>,
    components: Vec<Nested>,
    /// Whether anything is in the outer level's core module index space.
    defines_modules: bool,
    /// Component definitions (by position) used otherwise than by
    /// `instantiate`: their type must stay as it is.
    not_only_instantiated: Vec<usize>,
    /// The component index of each definition, and back.
    index_of_definition: Vec<u32>,
}

enum OuterSection {
    Component,
    Instances(Range<usize>),
    Other(Range<usize>),
}

struct Nested {
    /// The component's own bytes.
    body: Range<usize>,
}

impl Outer {
    fn read(bytes: &[u8]) -> Result<Outer, String> {
        let mut outer = Outer {
            sections: Vec::new(),
            components: Vec::new(),
            defines_modules: false,
            not_only_instantiated: Vec::new(),
            index_of_definition: Vec::new(),
        };
        let mut components: u32 = 0;
        let mut other_uses: Vec<u32> = Vec::new();
        walk(bytes, |start, payload, end| {
            match payload {
                Payload::ComponentSection {
                    unchecked_range, ..
                } => {
                    let body = within(bytes.len(), &unchecked_range)?;
                    // Outer aliases of components from inside reach this level.
                    outer_component_aliases(&bytes[body.clone()], 1, &mut other_uses)?;
                    outer.components.push(Nested { body });
                    outer.index_of_definition.push(components);
                    components += 1;
                    outer.sections.push(OuterSection::Component);
                    return Ok(());
                }
                Payload::ModuleSection { .. } => outer.defines_modules = true,
                Payload::ComponentImportSection(reader) => {
                    for import in reader {
                        match import.map_err(|e| e.to_string())?.ty {
                            ParsedTypeRef::Module(_) => outer.defines_modules = true,
                            ParsedTypeRef::Component(_) => components += 1,
                            _ => {}
                        }
                    }
                }
                Payload::ComponentAliasSection(reader) => {
                    for alias in reader {
                        match alias.map_err(|e| e.to_string())? {
                            ComponentAlias::InstanceExport {
                                kind: ComponentExternalKind::Module,
                                ..
                            }
                            | ComponentAlias::Outer {
                                kind: ComponentOuterAliasKind::CoreModule,
                                ..
                            } => outer.defines_modules = true,
                            ComponentAlias::InstanceExport {
                                kind: ComponentExternalKind::Component,
                                ..
                            }
                            | ComponentAlias::Outer {
                                kind: ComponentOuterAliasKind::Component,
                                ..
                            } => components += 1,
                            _ => {}
                        }
                    }
                }
                Payload::ComponentExportSection(reader) => {
                    for export in reader {
                        let export = export.map_err(|e| e.to_string())?;
                        match export.kind {
                            ComponentExternalKind::Module => outer.defines_modules = true,
                            ComponentExternalKind::Component => {
                                other_uses.push(export.index);
                                components += 1;
                            }
                            _ => {}
                        }
                    }
                }
                Payload::ComponentInstanceSection(reader) => {
                    for instance in reader {
                        let args: Vec<(ComponentExternalKind, u32)> =
                            match instance.map_err(|e| e.to_string())? {
                                ComponentInstance::Instantiate { args, .. } => {
                                    args.iter().map(|a| (a.kind, a.index)).collect()
                                }
                                ComponentInstance::FromExports(exports) => {
                                    exports.iter().map(|e| (e.kind, e.index)).collect()
                                }
                            };
                        for (kind, index) in args {
                            if kind == ComponentExternalKind::Component {
                                other_uses.push(index);
                            }
                        }
                    }
                    outer.sections.push(OuterSection::Instances(start..end));
                    return Ok(());
                }
                _ => {}
            }
            outer.sections.push(OuterSection::Other(start..end));
            Ok(())
        })?;
        outer.not_only_instantiated = outer
            .index_of_definition
            .iter()
            .enumerate()
            .filter(|(_, index)| other_uses.contains(index))
            .map(|(i, _)| i)
            .collect();
        Ok(outer)
    }

    fn definition_of_index(&self, index: u32) -> Option<usize> {
        self.index_of_definition.iter().position(|&i| i == index)
    }
}

/// The component instance section at `section` (header included), with
/// each instantiation of a rewritten component given its shared modules.
fn instances(
    section: &[u8],
    outer: &Outer,
    rewritten: &BTreeMap<usize, Rewritten>,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    let mut reader = wasmparser::BinaryReader::new(section, 0);
    reader.read_u8().map_err(|e| e.to_string())?;
    let size = reader.read_var_u32().map_err(|e| e.to_string())? as usize;
    let body = &section[reader.current_position()..];
    if body.len() != size {
        return Err("a component instance section has a wrong size".into());
    }
    let instances =
        wasmparser::ComponentInstanceSectionReader::new(wasmparser::BinaryReader::new(body, 0))
            .map_err(|e| e.to_string())?;
    let mut encoded = ComponentInstanceSection::new();
    for instance in instances {
        match instance.map_err(|e| e.to_string())? {
            ComponentInstance::Instantiate {
                component_index,
                args,
            } => {
                let mut args: Vec<(String, ComponentExportKind, u32)> = args
                    .iter()
                    .map(|a| (a.name.to_string(), export_kind(a.kind), a.index))
                    .collect();
                if let Some((_, extra)) = outer
                    .definition_of_index(component_index)
                    .and_then(|d| rewritten.get(&d))
                {
                    for (name, module) in extra {
                        args.push((name.clone(), ComponentExportKind::Module, *module));
                    }
                }
                encoded.instantiate(
                    component_index,
                    args.iter().map(|(n, k, i)| (n.as_str(), *k, *i)),
                );
            }
            ComponentInstance::FromExports(exports) => {
                encoded.export_items(
                    exports
                        .iter()
                        .map(|e| (e.name.name, export_kind(e.kind), e.index)),
                );
            }
        }
    }
    out.push(ComponentSectionId::Instance as u8);
    encoded.encode(out);
    Ok(())
}

fn export_kind(kind: ComponentExternalKind) -> ComponentExportKind {
    match kind {
        ComponentExternalKind::Module => ComponentExportKind::Module,
        ComponentExternalKind::Func => ComponentExportKind::Func,
        ComponentExternalKind::Value => ComponentExportKind::Value,
        ComponentExternalKind::Type => ComponentExportKind::Type,
        ComponentExternalKind::Instance => ComponentExportKind::Instance,
        ComponentExternalKind::Component => ComponentExportKind::Component,
    }
}

/// A nested component's new sections, and the `with` arguments its
/// instantiations need: (import name, outer module index).
type Rewritten = (Vec<Piece>, Vec<(String, u32)>);

/// A section of a rewritten component: one of the input, or a new one.
enum Piece {
    Input(Range<usize>),
    New(Vec<u8>),
}

impl Piece {
    fn len(&self) -> usize {
        match self {
            Piece::Input(range) => range.len(),
            Piece::New(bytes) => bytes.len(),
        }
    }
}

/// A component the outer level defines.
struct Child {
    sections: Vec<ChildSection>,
    modules: Vec<ChildModule>,
    /// Whether its module definitions may become imports.
    eligible: bool,
    /// How many core types it defines (new ones follow them).
    core_types: u32,
}

enum ChildSection {
    /// The module at this position of `modules`.
    Module(usize),
    Other(Range<usize>),
}

struct ChildModule {
    /// Its bytes.
    range: Range<usize>,
    /// Its section, header included.
    section: Range<usize>,
    /// The shared module it is a copy of, with that module's type.
    shared: Option<(usize, ModuleType)>,
}

impl Child {
    /// `bytes`: the nested component's own; ranges are within them.
    fn read(bytes: &[u8], instantiated_only: bool) -> Result<Child, String> {
        let mut child = Child {
            sections: Vec::new(),
            modules: Vec::new(),
            eligible: instantiated_only,
            core_types: 0,
        };
        let mut import_names: Vec<String> = Vec::new();
        let len = bytes.len();
        walk(bytes, |start, payload, end| {
            let mut core_types_here = 0;
            match payload {
                Payload::ModuleSection {
                    unchecked_range, ..
                } => {
                    let range = within(len, &unchecked_range)?;
                    child
                        .sections
                        .push(ChildSection::Module(child.modules.len()));
                    child.modules.push(ChildModule {
                        range,
                        section: start..end,
                        shared: None,
                    });
                    return Ok(());
                }
                Payload::CoreTypeSection(reader) => core_types_here = reader.count(),
                Payload::ComponentAliasSection(reader) => {
                    for alias in reader {
                        if let ComponentAlias::Outer {
                            kind: ComponentOuterAliasKind::CoreType,
                            ..
                        } = alias.map_err(|e| e.to_string())?
                        {
                            core_types_here += 1;
                        }
                    }
                }
                Payload::ComponentImportSection(reader) => {
                    for import in reader {
                        import_names.push(import.map_err(|e| e.to_string())?.name.name.to_string());
                    }
                }
                _ => {}
            }
            // New core types are appended to the index space, before the
            // first module that becomes an import: a core type defined
            // after a module would move.
            if core_types_here > 0 && !child.modules.is_empty() {
                child.eligible = false;
            }
            child.core_types += core_types_here;
            child.sections.push(ChildSection::Other(start..end));
            Ok(())
        })?;
        if import_names.iter().any(|n| n.starts_with(IMPORT_PREFIX)) {
            child.eligible = false;
        }
        Ok(child)
    }

    /// The component's new bytes, and the `with` arguments its
    /// instantiations need: (import name, outer module index).
    fn rewrite(&self) -> Rewritten {
        let mut pieces = Vec::new();
        let mut args: Vec<(String, u32)> = Vec::new();
        let mut types_written = false;
        let mut next_type = self.core_types;
        for section in &self.sections {
            match section {
                ChildSection::Other(range) => pieces.push(Piece::Input(range.clone())),
                ChildSection::Module(m) => {
                    let module = &self.modules[*m];
                    let Some((g, _)) = &module.shared else {
                        pieces.push(Piece::Input(module.section.clone()));
                        continue;
                    };
                    let mut out = Vec::new();
                    if !types_written {
                        // One core type section with every type needed,
                        // before the first import that uses one.
                        let mut types = CoreTypeSection::new();
                        for module in self.modules.iter() {
                            if let Some((_, ty)) = &module.shared {
                                types.ty().module(ty);
                            }
                        }
                        out.push(ComponentSectionId::CoreType as u8);
                        types.encode(&mut out);
                        types_written = true;
                    }
                    let copies = args.iter().filter(|(_, m)| *m == *g as u32).count();
                    let name = import_name(*g, copies);
                    let mut imports = ComponentImportSection::new();
                    imports.import(&name, ComponentTypeRef::Module(next_type));
                    next_type += 1;
                    out.push(ComponentSectionId::Import as u8);
                    imports.encode(&mut out);
                    pieces.push(Piece::New(out));
                    args.push((name, *g as u32));
                }
            }
        }
        (pieces, args)
    }
}

/// `wcomp-shared-m3`, and for a second copy in one component `wcomp-shared-m3-copy2`.
fn import_name(group: usize, copies_before: usize) -> String {
    if copies_before == 0 {
        format!("{IMPORT_PREFIX}{group}")
    } else {
        format!("{IMPORT_PREFIX}{group}-copy{}", copies_before + 1)
    }
}

/// A core module's type, restated: its types in order (so that indices in
/// the declaration are the module's own), every import and every export.
pub fn module_type(module: &[u8]) -> Result<ModuleType, String> {
    let mut ty = ModuleType::new();
    let mut re = RoundtripReencoder;
    let mut funcs: Vec<u32> = Vec::new();
    let mut tables = Vec::new();
    let mut memories = Vec::new();
    let mut globals = Vec::new();
    let mut tags = Vec::new();
    let mut imported: Vec<(String, String)> = Vec::new();
    let err = |e: &dyn std::fmt::Display| e.to_string();
    walk(module, |_, payload, _| {
        match payload {
            Payload::TypeSection(reader) => {
                for group in reader {
                    re.parse_recursive_type_group(ty.ty(), group.map_err(|e| err(&e))?)
                        .map_err(|e| err(&e))?;
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    let import = import.map_err(|e| err(&e))?;
                    let key = (import.module.to_string(), import.name.to_string());
                    // A module type holds one import per name.
                    if imported.contains(&key) {
                        return Err(format!(
                            "imports `{}` `{}` twice",
                            import.module, import.name
                        ));
                    }
                    imported.push(key);
                    match import.ty {
                        TypeRef::Func(t) | TypeRef::FuncExact(t) => funcs.push(t),
                        TypeRef::Table(t) => tables.push(t),
                        TypeRef::Memory(t) => memories.push(t),
                        TypeRef::Global(t) => globals.push(t),
                        TypeRef::Tag(t) => tags.push(t),
                    }
                    let entity = re.entity_type(import.ty).map_err(|e| err(&e))?;
                    ty.import(import.module, import.name, entity);
                }
            }
            Payload::FunctionSection(reader) => {
                for f in reader {
                    funcs.push(f.map_err(|e| err(&e))?);
                }
            }
            Payload::TableSection(reader) => {
                for t in reader {
                    tables.push(t.map_err(|e| err(&e))?.ty);
                }
            }
            Payload::MemorySection(reader) => {
                for m in reader {
                    memories.push(m.map_err(|e| err(&e))?);
                }
            }
            Payload::GlobalSection(reader) => {
                for g in reader {
                    globals.push(g.map_err(|e| err(&e))?.ty);
                }
            }
            Payload::TagSection(reader) => {
                for t in reader {
                    tags.push(t.map_err(|e| err(&e))?);
                }
            }
            Payload::ExportSection(reader) => {
                for export in reader {
                    let export = export.map_err(|e| err(&e))?;
                    let i = export.index as usize;
                    let missing = || format!("export `{}` names no item", export.name);
                    let entity = match export.kind {
                        ExternalKind::Func => {
                            EntityType::Function(*funcs.get(i).ok_or_else(missing)?)
                        }
                        ExternalKind::FuncExact => {
                            EntityType::FunctionExact(*funcs.get(i).ok_or_else(missing)?)
                        }
                        ExternalKind::Table => re
                            .table_type(*tables.get(i).ok_or_else(missing)?)
                            .map(EntityType::Table)
                            .map_err(|e| err(&e))?,
                        ExternalKind::Memory => re
                            .memory_type(*memories.get(i).ok_or_else(missing)?)
                            .map(EntityType::Memory)
                            .map_err(|e| err(&e))?,
                        ExternalKind::Global => re
                            .global_type(*globals.get(i).ok_or_else(missing)?)
                            .map(EntityType::Global)
                            .map_err(|e| err(&e))?,
                        ExternalKind::Tag => re
                            .tag_type(*tags.get(i).ok_or_else(missing)?)
                            .map(EntityType::Tag)
                            .map_err(|e| err(&e))?,
                    };
                    ty.export(export.name, entity);
                }
            }
            _ => {}
        }
        Ok(())
    })?;
    Ok(ty)
}

/// Calls `f(start, payload, end)` for each section of a module or
/// component at its top level (nested modules and components and code
/// entries are passed over whole; `end` is past them).
fn walk<'a>(
    bytes: &'a [u8],
    mut f: impl FnMut(usize, Payload<'a>, usize) -> Result<(), String>,
) -> Result<(), String> {
    let mut parser = Parser::new(0);
    let mut offset = 0usize;
    loop {
        let (payload, consumed) = match parser
            .parse(&bytes[offset..], true)
            .map_err(|e| e.to_string())?
        {
            Chunk::Parsed { payload, consumed } => (payload, consumed),
            Chunk::NeedMoreData(_) => return Err("the input ends early".into()),
        };
        let start = offset;
        offset += consumed;
        match payload {
            Payload::Version { .. } => continue,
            Payload::End(_) => return Ok(()),
            Payload::ModuleSection {
                ref unchecked_range,
                ..
            }
            | Payload::ComponentSection {
                ref unchecked_range,
                ..
            } => offset = within(bytes.len(), unchecked_range)?.end,
            Payload::CodeSectionStart {
                ref unchecked_range,
                ..
            } => {
                parser.skip_section();
                offset = within(bytes.len(), unchecked_range)?.end;
            }
            _ => {}
        }
        f(start, payload, offset)?;
    }
}

/// Outer aliases of components, from anywhere inside `bytes` (a component
/// at `depth` below the level they would reach), by index.
fn outer_component_aliases(bytes: &[u8], depth: u32, found: &mut Vec<u32>) -> Result<(), String> {
    walk(bytes, |_, payload, _| {
        match payload {
            Payload::ComponentSection {
                unchecked_range, ..
            } => {
                let range = within(bytes.len(), &unchecked_range)?;
                outer_component_aliases(&bytes[range], depth + 1, found)?;
            }
            Payload::ComponentAliasSection(reader) => {
                for alias in reader {
                    if let ComponentAlias::Outer {
                        kind: ComponentOuterAliasKind::Component,
                        count,
                        index,
                    } = alias.map_err(|e| e.to_string())?
                        && count == depth
                    {
                        found.push(index);
                    }
                }
            }
            _ => {}
        }
        Ok(())
    })
}

/// A parser's range, checked against the `len` bytes it is within.
fn within(len: usize, range: &Range<u64>) -> Result<Range<usize>, String> {
    let start = usize::try_from(range.start).unwrap_or(usize::MAX);
    let end = usize::try_from(range.end).unwrap_or(usize::MAX);
    if start <= end && end <= len {
        Ok(start..end)
    } else {
        Err(format!(
            "a section ({start}..{end}) runs past the end ({len})"
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

    fn validate(bytes: &[u8]) {
        wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
            .validate_all(bytes)
            .unwrap_or_else(|e| panic!("invalid: {e}"));
    }

    /// Core modules anywhere in `bytes`: (depth, size).
    fn modules(bytes: &[u8]) -> Vec<(u32, usize)> {
        let mut found = Vec::new();
        fn go(bytes: &[u8], depth: u32, found: &mut Vec<(u32, usize)>) {
            walk(bytes, |_, payload, _| {
                match payload {
                    Payload::ModuleSection {
                        unchecked_range, ..
                    } => found.push((depth, within(bytes.len(), &unchecked_range)?.len())),
                    Payload::ComponentSection {
                        unchecked_range, ..
                    } => go(
                        &bytes[within(bytes.len(), &unchecked_range)?],
                        depth + 1,
                        found,
                    ),
                    _ => {}
                }
                Ok(())
            })
            .unwrap();
        }
        go(bytes, 0, &mut found);
        found
    }

    /// A component as wasm-compose writes one: two inputs, each with its
    /// own copy of `$env` and `$m` (imports, memory, table, global, a
    /// function), and one module of its own.
    fn composed(b_extra: &str) -> Vec<u8> {
        // Big enough to be worth sharing.
        let filler = "x".repeat(300);
        let inner = |own: &str| {
            format!(
                r#"
                (core module $env (func (export "f") (param i32)) (@custom "filler" "{filler}"))
                (core module $m
                  (type $t (func (param i32) (result i32)))
                  (import "env" "f" (func (param i32)))
                  (memory (export "mem") 1)
                  (table (export "tab") 1 funcref)
                  (global (export "g") i32 (i32.const 1))
                  (func (export "run") (type $t) local.get 0)
                  (data (i32.const 0) "{filler}"))
                (core module $own {own})
                (core instance $e (instantiate $env))
                (core instance $i (instantiate $m (with "env" (instance $e))))
                (core instance $o (instantiate $own))
                (func (export "run") (param "x" u32) (result u32) (canon lift (core func $i "run")))"#
            )
        };
        wat::parse_str(format!(
            r#"(component
                 (component $a {})
                 (component $b {} {b_extra})
                 (instance $ia (instantiate $a))
                 (instance $ib (instantiate $b))
                 (export "a" (instance $ia))
                 (export "b" (instance $ib)))"#,
            inner("(func (export \"x\"))"),
            inner("(func (export \"y\"))"),
        ))
        .unwrap()
    }

    #[test]
    fn identical_modules_are_defined_once_and_imported() {
        let bytes = composed("");
        validate(&bytes);
        let out = dedup(&bytes).unwrap();
        validate(&out.bytes);
        assert_eq!(out.shared.len(), 2, "{:?}", out.shared);
        assert!(out.shared.iter().all(|m| m.users == [0, 1]));
        // Two modules at the outer level, one of its own in each input.
        let mut depths: Vec<u32> = modules(&out.bytes).iter().map(|m| m.0).collect();
        depths.sort();
        assert_eq!(depths, [0, 0, 1, 1]);
        assert!(out.bytes.len() < bytes.len());
        assert_eq!(dedup(&bytes).unwrap().bytes, out.bytes, "deterministic");
        // Nothing is left to share a second time.
        assert!(dedup(&out.bytes).unwrap().shared.is_empty());
    }

    #[test]
    fn a_module_smaller_than_its_type_is_not_shared() {
        let bytes = wat::parse_str(
            r#"(component
                 (component $a (core module (func (export "x"))))
                 (component $b (core module (func (export "x"))))
                 (instance (instantiate $a))
                 (instance (instantiate $b)))"#,
        )
        .unwrap();
        let out = dedup(&bytes).unwrap();
        assert!(out.shared.is_empty());
        assert_eq!(out.bytes, bytes);
    }

    #[test]
    fn nothing_shared_leaves_the_bytes_alone() {
        let bytes = wat::parse_str(
            r#"(component
                 (component $a (core module (func (export "x"))))
                 (component $b (core module (func (export "y"))))
                 (instance (instantiate $a))
                 (instance (instantiate $b)))"#,
        )
        .unwrap();
        let out = dedup(&bytes).unwrap();
        assert!(out.shared.is_empty());
        assert_eq!(out.bytes, bytes);
    }

    #[test]
    fn a_core_type_after_a_module_keeps_that_components_copies() {
        // A core type defined after the modules of `$b` would move if new
        // types were added before them: `$b` keeps its copies, and `$a`
        // alone has nothing to share with.
        let bytes = composed("(core type (module))");
        validate(&bytes);
        let out = dedup(&bytes).unwrap();
        assert!(out.shared.is_empty(), "{:?}", out.shared);
        assert_eq!(out.bytes, bytes);
    }

    #[test]
    fn a_module_type_restates_imports_and_exports() {
        let module = wat::parse_str(
            r#"(module
                 (import "a" "f" (func (param i32)))
                 (import "a" "m" (memory 1))
                 (func (export "g") (result i64) i64.const 1)
                 (global (export "x") (mut f32) (f32.const 0))
                 (export "m" (memory 0)))"#,
        )
        .unwrap();
        let ty = module_type(&module).unwrap();
        let mut types = CoreTypeSection::new();
        types.ty().module(&ty);
        let mut component = wasm_encoder::Component::new();
        component.section(&types);
        let mut imports = ComponentImportSection::new();
        imports.import("m", ComponentTypeRef::Module(0));
        component.section(&imports);
        validate(&component.finish());
    }
}
