//! The resource intrinsics of a world: the core functions a guest imports
//! to drop handles (and, for resources it implements, to make and read
//! them), and the destructors it exports.

use wit_parser::abi::{WasmSignature, WasmType};
use wit_parser::{
    Resolve, ResourceIntrinsic, TypeDefKind, TypeId, TypeOwner, WasmExport, WasmImport, World,
    WorldItem, WorldKey,
};

use crate::{CoreName, Direction, Mangled, Mangling};

/// A core function the canonical ABI defines for a resource: its name and
/// flat signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoreFunc {
    /// The name in the plan's mangling.
    pub name: CoreName,
    /// The name in each mangling.
    pub names: Mangled<CoreName>,
    pub signature: WasmSignature,
}

/// What the canonical ABI asks of a guest for one resource.
///
/// For an imported resource (its owner is an imported interface, or it is
/// a world-level type), only `drop` is set: the core import
/// `[resource-drop]NAME` (`(i32) -> ()`), which the guest calls once when
/// it drops an owned handle (borrowed handles are never dropped).
///
/// For a resource the guest exports (its owner is an exported interface),
/// every field is set, all with the module `[export]ns:pkg/iface@ver`:
/// `new` is `[resource-new]NAME` (`(i32 rep) -> (i32 handle)`), `rep` is
/// `[resource-rep]NAME` (`(i32 handle) -> (i32 rep)`), `drop` is
/// `[resource-drop]NAME` (`(i32 handle) -> ()`), and `dtor` is the core
/// export `ns:pkg/iface@ver#[dtor]NAME` (`(i32 rep) -> ()`), which the
/// host calls exactly once, when the last handle is dropped, to free the
/// representation. (Those are the legacy names; in the `cm32p2` mangling
/// they are `NAME_new` and so on, of the module `cm32p2|_ex_ns:pkg/iface@ver`,
/// and the export `cm32p2|ns:pkg/iface@ver|NAME_dtor`.)
///
/// `direction` follows the rule behind the `exported` flag of
/// [`Step::HandleLower`](super::Step::HandleLower) and
/// [`Step::HandleLift`](super::Step::HandleLift), so the two always agree.
/// An interface both imported and exported by the world is two interfaces
/// in the plan's nominal resolve ([`WorldPlan::resolve`]), so its resource
/// is planned twice: once imported, once exported.
///
/// [`WorldPlan::resolve`]: crate::WorldPlan::resolve
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourcePlan {
    /// The resource definition (aliases from `use` followed), as in the
    /// handle steps.
    pub resource: TypeId,
    /// The resource's WIT name.
    pub name: String,
    /// The world key of the interface that owns it, `None` at world level.
    pub interface: Option<WorldKey>,
    /// `test:sink/counters@0.1.0`, or `world sink` at world level.
    pub owner: String,
    pub direction: Direction,
    pub drop: CoreFunc,
    /// Exported resources only.
    pub new: Option<CoreFunc>,
    /// Exported resources only.
    pub rep: Option<CoreFunc>,
    /// Exported resources only.
    pub dtor: Option<CoreFunc>,
}

impl ResourcePlan {
    /// Every core function of the resource: `drop`, then `new`, `rep` and
    /// `dtor` when set.
    pub fn core_funcs(&self) -> impl Iterator<Item = &CoreFunc> {
        std::iter::once(&self.drop)
            .chain(&self.new)
            .chain(&self.rep)
            .chain(&self.dtor)
    }
}

fn sig(params: &[WasmType], results: &[WasmType]) -> WasmSignature {
    WasmSignature {
        params: params.to_vec(),
        results: results.to_vec(),
        indirect_params: false,
        retptr: false,
    }
}

/// The resources of `world`, in world order (imports, then exports), each
/// interface's in type order; each resource once.
pub(crate) fn plan_resources(
    resolve: &Resolve,
    w: &World,
    exported: &dyn Fn(TypeId) -> bool,
    mangling: Mangling,
) -> Vec<ResourcePlan> {
    let mut plans: Vec<ResourcePlan> = Vec::new();
    for (key, item) in w.imports.iter().chain(&w.exports) {
        let (interface, types): (Option<&WorldKey>, Vec<TypeId>) = match item {
            WorldItem::Interface { id, .. } => (
                Some(key),
                resolve.interfaces[*id].types.values().copied().collect(),
            ),
            WorldItem::Type { id, .. } => (None, vec![*id]),
            WorldItem::Function(_) => continue,
        };
        for id in types {
            let def = &resolve.types[id];
            // Only definitions: a `use` is an alias, planned with its owner.
            if !matches!(def.kind, TypeDefKind::Resource) {
                continue;
            }
            if plans.iter().any(|p| p.resource == id) {
                continue;
            }
            let direction = if exported(id) {
                Direction::Export
            } else {
                Direction::Import
            };
            // An exported resource needs its owning interface's key.
            let interface = match (direction, interface, def.owner) {
                (Direction::Export, None, _) | (_, _, TypeOwner::None) => continue,
                (_, interface, _) => interface,
            };
            plans.push(plan_resource(
                resolve, w, id, interface, direction, mangling,
            ));
        }
    }
    plans
}

fn plan_resource(
    resolve: &Resolve,
    w: &World,
    resource: TypeId,
    interface: Option<&WorldKey>,
    direction: Direction,
    mangling: Mangling,
) -> ResourcePlan {
    use WasmType::I32;
    let func = |names: Mangled<CoreName>, signature| CoreFunc {
        name: names.get(mangling).clone(),
        names,
        signature,
    };
    let import = |intrinsic: fn() -> ResourceIntrinsic, signature| {
        let names = Mangled::each(|m| {
            let (module, field) = resolve.wasm_import_name(
                m.wit_parser(),
                WasmImport::ResourceIntrinsic {
                    interface,
                    resource,
                    intrinsic: intrinsic(),
                },
            );
            CoreName::Import { module, field }
        });
        func(names, signature)
    };
    let owner = match interface {
        Some(key) => resolve.name_world_key(key),
        None => format!("world {}", w.name),
    };
    let name = resolve.types[resource].name.clone().unwrap_or_default();
    match (direction, interface) {
        (Direction::Export, Some(key)) => ResourcePlan {
            resource,
            name,
            interface: Some(key.clone()),
            owner,
            direction,
            drop: import(|| ResourceIntrinsic::ExportedDrop, sig(&[I32], &[])),
            new: Some(import(
                || ResourceIntrinsic::ExportedNew,
                sig(&[I32], &[I32]),
            )),
            rep: Some(import(
                || ResourceIntrinsic::ExportedRep,
                sig(&[I32], &[I32]),
            )),
            dtor: Some(func(
                Mangled::each(|m| CoreName::Export {
                    name: resolve.wasm_export_name(
                        m.wit_parser(),
                        WasmExport::ResourceDtor {
                            interface: key,
                            resource,
                        },
                    ),
                }),
                sig(&[I32], &[]),
            )),
        },
        _ => ResourcePlan {
            resource,
            name,
            interface: interface.cloned(),
            owner,
            direction: Direction::Import,
            drop: import(|| ResourceIntrinsic::ImportedDrop, sig(&[I32], &[])),
            new: None,
            rep: None,
            dtor: None,
        },
    }
}
