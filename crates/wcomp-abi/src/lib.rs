//! The canonical ABI of a world, worked out once for every language: the
//! plans that every bindings backend of `wcomp-bindgen` spells.
//!
//! [`WorldPlan::new`] answers, for each function a guest imports or exports:
//! its flat core signature and core name (from wit-parser's
//! [`Resolve::wasm_signature`] and `wasm_import_name`/`wasm_export_name`,
//! legacy sync mangling), whether parameters go through memory and results
//! through a return area (with the area's size and alignment from
//! [`SizeAlign`](wit_parser::SizeAlign)), whether `cabi_realloc` and a
//! post-return function are needed, and the [`Step`]s that lift or lower
//! every parameter and result. Layouts come from [`Layouts`], a thin wrapper
//! over `SizeAlign`. [`WorldPlan::resources`] lists the resource intrinsics
//! (`[resource-drop]`, `[resource-new]`, `[resource-rep]` imports and
//! `#[dtor]` exports) of every resource the world's guest uses.
//!
//! The plans are for guest bindings on wasm32, with the synchronous ABI.
//! Async functions, `future`, `stream` and `error-context` are refused with
//! an [`AbiError`] naming the item.

mod layout;
mod print;
mod resource;
mod step;
#[cfg(any(test, feature = "test-support"))]
pub mod test_support;
#[cfg(test)]
mod tests;

use wit_parser::abi::{AbiVariant, WasmSignature, WasmType};
use wit_parser::{
    Function, LiftLowerAbi, ManglingAndAbi, Resolve, Type, TypeDefKind, TypeId, TypeOwner,
    WasmExport, WasmExportKind, WasmImport, WorldId, WorldItem, WorldKey,
};

pub use layout::{FlagsLayout, Layout, Layouts, MemType, Shape, TypeLayout};
pub use resource::{CoreFunc, ResourcePlan};
pub use step::{Block, Cast, Step, flat_types, has_memory};

pub use step::resource_of;
use step::{At, Planner};

/// Which way a function crosses the component boundary, from the guest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// The guest imports the function and calls it: it lowers the
    /// parameters and lifts the result.
    Import,
    /// The guest exports the function and implements it: it lifts the
    /// parameters and lowers the result.
    Export,
}

impl Direction {
    /// wit-parser's ABI variant for this direction (synchronous).
    pub fn abi_variant(self) -> AbiVariant {
        match self {
            Direction::Import => AbiVariant::GuestImport,
            Direction::Export => AbiVariant::GuestExport,
        }
    }
}

/// The name of a function in the core module.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CoreName {
    /// A core import `(import "module" "field" ...)`.
    Import { module: String, field: String },
    /// A core export.
    Export { name: String },
}

/// Where a parameter's or result's core values are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// Flat: the core values `signature.params[first..first + count]`
    /// (parameters) or `signature.results` (a result).
    Flat { first: usize, count: usize },
    /// In memory at `offset` from the base address: the parameter area
    /// (`signature.params[0]` of an export with indirect parameters, or an
    /// area of [`FunctionPlan::params_area`] the importing guest fills and
    /// passes), or the return area (offset 0).
    Memory { offset: usize },
}

/// One parameter or result of a function and how it crosses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValuePlan {
    /// The parameter's WIT name, or `"result"`.
    pub name: String,
    pub ty: Type,
    pub layout: Layout,
    /// The type's own flattening (whether or not it is passed flat).
    pub flat: Vec<WasmType>,
    pub place: Place,
    /// Lower steps (import parameters, export results) or lift steps
    /// (export parameters, import results); a flat plan for
    /// [`Place::Flat`], a store or load plan for [`Place::Memory`].
    pub steps: Vec<Step>,
}

/// An export's post-return function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostReturn {
    /// Its core export name (`cabi_post_...`).
    pub name: String,
    /// Free steps run with the base at the return area pointer the
    /// function receives (`[i32] -> []`).
    pub steps: Vec<Step>,
}

/// Everything the canonical ABI asks of one function in one direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionPlan {
    /// The interface the function belongs to, `None` at world level.
    pub interface: Option<WorldKey>,
    /// `wcomp:keystore/store@0.1.0`, or `world keystore` at world level.
    pub owner: String,
    pub function: Function,
    pub direction: Direction,
    /// wit-parser's `wasm_signature` for the direction.
    pub signature: WasmSignature,
    pub core_name: CoreName,
    pub params: Vec<ValuePlan>,
    pub result: Option<ValuePlan>,
    /// Size and alignment of the parameter area, when parameters are passed
    /// indirectly (`signature.indirect_params`): an importing guest
    /// allocates it (for the call only) and passes its address; an
    /// exporting guest receives it (allocated with `cabi_realloc`) and
    /// frees it after lifting.
    pub params_area: Option<Layout>,
    /// Size and alignment of the return area, when the result goes through
    /// memory (`signature.retptr`): an importing guest passes its address
    /// as the last core parameter; an exporting guest returns its address
    /// (the area must outlive the call until post-return, e.g. a static).
    pub return_area: Option<Layout>,
    /// The function needs the module to export `cabi_realloc`: an export
    /// receiving strings/lists or indirect parameters, an import returning
    /// strings/lists.
    pub needs_realloc: bool,
    /// For exports whose result owns memory (strings, lists).
    pub post_return: Option<PostReturn>,
}

impl FunctionPlan {
    /// Parameters are passed through memory.
    pub fn indirect_params(&self) -> bool {
        self.signature.indirect_params
    }

    /// The result goes through a return area.
    pub fn retptr(&self) -> bool {
        self.signature.retptr
    }
}

/// The plans of every function of a world.
#[derive(Debug)]
pub struct WorldPlan {
    pub world: WorldId,
    pub layouts: Layouts,
    pub imports: Vec<FunctionPlan>,
    pub exports: Vec<FunctionPlan>,
    /// Every resource of the world's interfaces (and world-level resource
    /// types), each once: world order (imports, then exports), then each
    /// interface's type order. See [`ResourcePlan`] for which are exported.
    pub resources: Vec<ResourcePlan>,
}

impl WorldPlan {
    /// Plans every function `world` imports and exports.
    pub fn new(resolve: &Resolve, world: WorldId) -> Result<WorldPlan, AbiError> {
        let layouts = Layouts::new(resolve)?;
        let w = &resolve.worlds[world];
        let exported_ifaces: Vec<_> = w
            .exports
            .values()
            .filter_map(|item| match item {
                WorldItem::Interface { id, .. } => Some(*id),
                _ => None,
            })
            .collect();
        // A resource is the guest's own (exported) when its owner is an
        // exported interface; the handle steps and `resources` both use this.
        let exported = |id: TypeId| match resolve.types[id].owner {
            TypeOwner::Interface(i) => exported_ifaces.contains(&i),
            TypeOwner::World(_) | TypeOwner::None => false,
        };
        let planner = Planner {
            resolve,
            layouts: &layouts,
            exported: &exported,
        };
        let mut plans = [Vec::new(), Vec::new()];
        for (direction, items) in [
            (Direction::Import, &w.imports),
            (Direction::Export, &w.exports),
        ] {
            for (key, item) in items {
                let (interface, funcs): (Option<&WorldKey>, Vec<&Function>) = match item {
                    WorldItem::Function(f) => (None, vec![f]),
                    WorldItem::Interface { id, .. } => (
                        Some(key),
                        resolve.interfaces[*id].functions.values().collect(),
                    ),
                    WorldItem::Type { .. } => continue,
                };
                let owner = match interface {
                    Some(key) => resolve.name_world_key(key),
                    None => format!("world {}", w.name),
                };
                for func in funcs {
                    check_supported(resolve, func, &owner)?;
                    let plan = plan_function(&planner, interface, owner.clone(), func, direction);
                    plans[direction as usize].push(plan);
                }
            }
        }
        let [imports, exports] = plans;
        let resources = resource::plan_resources(resolve, w, &exported);
        Ok(WorldPlan {
            world,
            layouts,
            imports,
            exports,
            resources,
        })
    }

    /// The plan of a resource, by its definition's id (as in the handle
    /// steps, `use` aliases followed).
    pub fn resource(&self, resource: TypeId) -> Option<&ResourcePlan> {
        self.resources.iter().find(|r| r.resource == resource)
    }

    /// The plan of the resource `name` of `interface` (by its
    /// `name_world_key` form), or of the world when `None`.
    pub fn resource_named(
        &self,
        resolve: &Resolve,
        interface: Option<&str>,
        name: &str,
    ) -> Option<&ResourcePlan> {
        self.resources.iter().find(|r| {
            r.name == name
                && r.interface
                    .as_ref()
                    .map(|k| resolve.name_world_key(k))
                    .as_deref()
                    == interface
        })
    }

    /// Some function needs the module to export `cabi_realloc`.
    pub fn needs_realloc(&self) -> bool {
        self.imports
            .iter()
            .chain(&self.exports)
            .any(|f| f.needs_realloc)
    }

    /// The plan of the function `name` (of `interface`, by its
    /// `name_world_key` form, or at world level) in `direction`.
    pub fn function(
        &self,
        resolve: &Resolve,
        direction: Direction,
        interface: Option<&str>,
        name: &str,
    ) -> Option<&FunctionPlan> {
        let list = match direction {
            Direction::Import => &self.imports,
            Direction::Export => &self.exports,
        };
        list.iter().find(|f| {
            f.function.name == name
                && f.interface
                    .as_ref()
                    .map(|k| resolve.name_world_key(k))
                    .as_deref()
                    == interface
        })
    }
}

fn plan_function(
    planner: &Planner<'_>,
    interface: Option<&WorldKey>,
    owner: String,
    func: &Function,
    direction: Direction,
) -> FunctionPlan {
    let resolve = planner.resolve;
    let layouts = planner.layouts;
    let signature = resolve.wasm_signature(direction.abi_variant(), func);
    let mangling = ManglingAndAbi::Legacy(LiftLowerAbi::Sync);
    let core_name = match direction {
        Direction::Import => {
            let (module, field) =
                resolve.wasm_import_name(mangling, WasmImport::Func { interface, func });
            CoreName::Import { module, field }
        }
        Direction::Export => CoreName::Export {
            name: resolve.wasm_export_name(
                mangling,
                WasmExport::Func {
                    interface,
                    func,
                    kind: WasmExportKind::Normal,
                },
            ),
        },
    };
    // Import parameters are borrowed for the call; export results pass
    // ownership to the caller (freed by post-return).
    let types: Vec<&Type> = func.params.iter().map(|p| &p.ty).collect();
    let offsets = layouts.offsets(types.iter().copied());
    let mut first = 0;
    let params = func
        .params
        .iter()
        .zip(offsets)
        .map(|(p, offset)| {
            let flat = flat_types(resolve, &p.ty);
            let place = if signature.indirect_params {
                Place::Memory { offset }
            } else {
                first += flat.len();
                Place::Flat {
                    first: first - flat.len(),
                    count: flat.len(),
                }
            };
            let at = match place {
                Place::Flat { .. } => At::Flat,
                Place::Memory { offset } => At::Mem(offset),
            };
            let mut steps = Vec::new();
            match direction {
                Direction::Import => planner.lower(&p.ty, at, false, &mut steps),
                Direction::Export => planner.lift(&p.ty, at, &mut steps),
            }
            ValuePlan {
                name: p.name.clone(),
                ty: p.ty,
                layout: layouts.layout(&p.ty),
                flat,
                place,
                steps,
            }
        })
        .collect();
    let result = func.result.map(|ty| {
        let flat = flat_types(resolve, &ty);
        let (place, at) = if signature.retptr {
            (Place::Memory { offset: 0 }, At::Mem(0))
        } else {
            let count = flat.len();
            (Place::Flat { first: 0, count }, At::Flat)
        };
        let mut steps = Vec::new();
        match direction {
            Direction::Import => planner.lift(&ty, at, &mut steps),
            Direction::Export => planner.lower(&ty, at, true, &mut steps),
        }
        ValuePlan {
            name: "result".to_string(),
            ty,
            layout: layouts.layout(&ty),
            flat,
            place,
            steps,
        }
    });
    let params_memory = func.params.iter().any(|p| has_memory(resolve, &p.ty));
    let result_memory = func.result.is_some_and(|t| has_memory(resolve, &t));
    let needs_realloc = match direction {
        Direction::Import => result_memory,
        Direction::Export => params_memory || signature.indirect_params,
    };
    let post_return = match (direction, func.result) {
        (Direction::Export, Some(ty)) if result_memory => {
            let mut steps = Vec::new();
            planner.free(&ty, 0, &mut steps);
            Some(PostReturn {
                name: resolve.wasm_export_name(
                    mangling,
                    WasmExport::Func {
                        interface,
                        func,
                        kind: WasmExportKind::PostReturn,
                    },
                ),
                steps,
            })
        }
        _ => None,
    };
    FunctionPlan {
        interface: interface.cloned(),
        owner,
        function: func.clone(),
        direction,
        params_area: signature
            .indirect_params
            .then(|| layouts.record_of(types.iter().copied())),
        return_area: signature
            .retptr
            .then(|| func.result.map(|t| layouts.layout(&t)))
            .flatten(),
        signature,
        core_name,
        params,
        result,
        needs_realloc,
        post_return,
    }
}

/// Why a world cannot be planned.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum AbiError {
    #[error("function `{function}` of `{owner}` is async; wcomp bind does not support async yet")]
    #[diagnostic(
        code(wcomp::bind::unsupported),
        help("declare it without `async`, or leave it out of the world being bound")
    )]
    Async { function: String, owner: String },

    #[error(
        "function `{function}` of `{owner}` uses {feature} (in {place}); wcomp bind does not support {feature} yet"
    )]
    #[diagnostic(
        code(wcomp::bind::unsupported),
        help("change the function's types, or leave it out of the world being bound")
    )]
    Unsupported {
        function: String,
        owner: String,
        feature: &'static str,
        /// `parameter `x`` or `the result`.
        place: String,
    },

    /// Valid in the canonical ABI, but beyond what a language backend
    /// spells (so far).
    #[error(
        "function `{function}` of `{owner}` has {what} ({place}); the {backend} backend cannot express that yet"
    )]
    #[diagnostic(code(wcomp::bind::backend_unsupported), help("{help}"))]
    BackendUnsupported {
        function: String,
        owner: String,
        backend: &'static str,
        what: &'static str,
        place: String,
        help: &'static str,
    },

    /// A shape of world a language backend cannot express (so far).
    #[error("world `{world}` {what}; the {backend} backend cannot express that yet")]
    #[diagnostic(code(wcomp::bind::backend_unsupported), help("{help}"))]
    BackendWorld {
        world: String,
        backend: &'static str,
        what: String,
        help: &'static str,
    },

    #[error("cannot compute the memory layout of the world's types: {0}")]
    #[diagnostic(code(wcomp::bind::layout))]
    Layout(String),
}

fn check_supported(resolve: &Resolve, func: &Function, owner: &str) -> Result<(), AbiError> {
    if func.kind.is_async() {
        return Err(AbiError::Async {
            function: func.name.clone(),
            owner: owner.to_string(),
        });
    }
    let places = func
        .params
        .iter()
        .map(|p| (format!("parameter `{}`", p.name), &p.ty))
        .chain(func.result.iter().map(|t| ("the result".to_string(), t)));
    for (place, ty) in places {
        if let Some(feature) = unsupported(resolve, ty) {
            return Err(AbiError::Unsupported {
                function: func.name.clone(),
                owner: owner.to_string(),
                feature,
                place,
            });
        }
    }
    Ok(())
}

/// The first unsupported feature `ty` uses.
fn unsupported(resolve: &Resolve, ty: &Type) -> Option<&'static str> {
    let id = match ty {
        Type::ErrorContext => return Some("`error-context`"),
        Type::Id(id) => *id,
        _ => return None,
    };
    let all = |mut types: std::slice::Iter<'_, Type>| types.find_map(|t| unsupported(resolve, t));
    let opt = |t: &Option<Type>| t.as_ref().and_then(|t| unsupported(resolve, t));
    match &resolve.types[id].kind {
        TypeDefKind::Future(_) => Some("`future`"),
        TypeDefKind::Stream(_) => Some("`stream`"),
        TypeDefKind::Map(..) => Some("`map`"),
        TypeDefKind::FixedLengthList(..) => Some("fixed-length lists"),
        TypeDefKind::Type(t) | TypeDefKind::List(t) | TypeDefKind::Option(t) => {
            unsupported(resolve, t)
        }
        TypeDefKind::Record(r) => r.fields.iter().find_map(|f| unsupported(resolve, &f.ty)),
        TypeDefKind::Tuple(t) => all(t.types.iter()),
        TypeDefKind::Variant(v) => v.cases.iter().find_map(|c| opt(&c.ty)),
        TypeDefKind::Result(r) => opt(&r.ok).or_else(|| opt(&r.err)),
        TypeDefKind::Handle(_)
        | TypeDefKind::Flags(_)
        | TypeDefKind::Enum(_)
        | TypeDefKind::Resource
        | TypeDefKind::Unknown => None,
    }
}
