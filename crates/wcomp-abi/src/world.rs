//! The plans of a whole world: every function it imports and exports, and
//! every resource.

use wit_parser::{
    Function, InterfaceId, Resolve, Type, TypeId, World, WorldId, WorldItem, WorldKey,
};

use crate::function::{FunctionPlan, plan_function};
use crate::planner::{Planner, TypePlans, unsupported};
use crate::resource::{self, ResourcePlan};
use crate::{AbiError, Direction, Layouts, Mangling};

/// How to plan a world.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// The mangling of [`FunctionPlan::core_name`], [`PostReturn::name`]
    /// and [`CoreFunc::name`] (both are always in their `names`).
    ///
    /// [`PostReturn::name`]: crate::PostReturn::name
    /// [`CoreFunc::name`]: crate::CoreFunc::name
    pub mangling: Mangling,
    /// Skip functions that cannot be planned (async ones, and those using
    /// `future`, `stream`, `error-context` or fixed-length lists),
    /// listing them in [`WorldPlan::skipped`], instead of refusing the
    /// world: for a reader that checks what it can. (Without it, a type
    /// of the world using those is refused too, used or not: a backend
    /// spells every type.)
    pub skip_unsupported: bool,
    /// Plan `async func`s with the callback ABI ([`AsyncCall`]) instead of
    /// refusing them: for a backend that spells [`Step::AwaitSubtask`] and
    /// [`Step::SpawnTask`].
    ///
    /// [`AsyncCall`]: crate::AsyncCall
    /// [`Step::AwaitSubtask`]: crate::Step::AwaitSubtask
    /// [`Step::SpawnTask`]: crate::Step::SpawnTask
    pub async_calls: bool,
    /// Plan the readable ends of `future`s and `stream`s as handles
    /// ([`Step::PayloadLower`], [`Step::PayloadLift`]) instead of refusing
    /// them: for a backend that spells them, and the reads, writes and
    /// drops of [`PayloadPlan`]'s intrinsics.
    ///
    /// [`Step::PayloadLower`]: crate::Step::PayloadLower
    /// [`Step::PayloadLift`]: crate::Step::PayloadLift
    /// [`PayloadPlan`]: crate::PayloadPlan
    pub streams: bool,
}

/// A function [`Options::skip_unsupported`] left out of a plan.
#[derive(Debug, Clone)]
pub struct Skipped {
    pub interface: Option<WorldKey>,
    pub owner: String,
    pub function: Function,
    pub direction: Direction,
    /// Why it cannot be planned.
    pub reason: AbiError,
}

/// A function a world imports or exports, where it sits.
#[derive(Debug, Clone, Copy)]
pub struct WorldFunction<'a> {
    pub direction: Direction,
    /// The interface's key in the world, `None` at world level.
    pub interface: Option<&'a WorldKey>,
    pub function: &'a Function,
}

/// Every function `world` imports, then every one it exports, in world
/// order (an interface's functions in their order): the one walk of a
/// world that the plans and `wcomp-component`'s pre-checks share.
pub fn world_functions(resolve: &Resolve, world: WorldId) -> Vec<WorldFunction<'_>> {
    let w = &resolve.worlds[world];
    let mut out = Vec::new();
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
            out.extend(funcs.into_iter().map(|function| WorldFunction {
                direction,
                interface,
                function,
            }));
        }
    }
    out
}

/// The plans of every function of a world.
#[derive(Debug)]
pub struct WorldPlan {
    pub world: WorldId,
    pub options: Options,
    pub layouts: Layouts,
    pub imports: Vec<FunctionPlan>,
    pub exports: Vec<FunctionPlan>,
    /// Every resource of the world's interfaces (and world-level resource
    /// types), each once: world order (imports, then exports), then each
    /// interface's type order. See [`ResourcePlan`] for which are exported.
    pub resources: Vec<ResourcePlan>,
    /// Functions left out (with [`Options::skip_unsupported`] only).
    pub skipped: Vec<Skipped>,
    /// The interfaces the world exports: their resources are the guest's.
    exported: Vec<InterfaceId>,
    /// The resolve every id of the plan refers to (see [`WorldPlan::resolve`]).
    resolve: Resolve,
}

impl WorldPlan {
    /// Plans every function `world` imports and exports, in the legacy
    /// mangling, refusing what cannot be planned.
    pub fn new(resolve: &Resolve, world: WorldId) -> Result<WorldPlan, AbiError> {
        WorldPlan::with_options(resolve, world, Options::default())
    }

    /// Plans every function `world` imports and exports.
    ///
    /// The plan is made on a copy of `resolve` whose ids are nominal for
    /// `world` (wit-parser's `Resolve::generate_nominal_type_ids`): an
    /// interface the world both imports and exports, or imports (or
    /// exports) under two names, is a separate interface on each side,
    /// with its own types and resources, as the component model has it.
    /// Every id in the plan refers to that copy, [`WorldPlan::resolve`];
    /// for a world that uses each interface once it equals `resolve`.
    pub fn with_options(
        resolve: &Resolve,
        world: WorldId,
        options: Options,
    ) -> Result<WorldPlan, AbiError> {
        let mut nominal = resolve.clone();
        nominal.generate_nominal_type_ids(world);
        let resolve = &nominal;
        let layouts = Layouts::new(resolve)?;
        let w = &resolve.worlds[world];
        // A resource is the guest's own (exported) when its owner is an
        // exported interface; the handle steps and `resources` both use this.
        let exported: Vec<InterfaceId> = w
            .exports
            .values()
            .filter_map(|item| match item {
                WorldItem::Interface { id, .. } => Some(*id),
                _ => None,
            })
            .collect();
        let planner = Planner {
            resolve,
            layouts: &layouts,
            exported: &exported,
            streams: options.streams,
        };
        let mut plans = [Vec::new(), Vec::new()];
        let mut skipped = Vec::new();
        for WorldFunction {
            direction,
            interface,
            function: func,
        } in world_functions(resolve, world)
        {
            let owner = match interface {
                Some(key) => resolve.name_world_key(key),
                None => format!("world {}", w.name),
            };
            let planned = check_supported(resolve, func, &owner, options).and_then(|()| {
                plan_function(
                    &planner,
                    interface,
                    owner.clone(),
                    func,
                    direction,
                    options.mangling,
                )
            });
            match planned {
                Ok(plan) => plans[direction as usize].push(plan),
                Err(reason) if options.skip_unsupported => skipped.push(Skipped {
                    interface: interface.cloned(),
                    owner,
                    function: func.clone(),
                    direction,
                    reason,
                }),
                Err(e) => return Err(e),
            }
        }
        if !options.skip_unsupported {
            check_types(resolve, w, options)?;
        }
        let [imports, exports] = plans;
        let resources =
            resource::plan_resources(resolve, w, &|id| planner.is_exported(id), options.mangling);
        Ok(WorldPlan {
            world,
            options,
            imports,
            exports,
            resources,
            skipped,
            exported,
            layouts,
            resolve: nominal,
        })
    }

    /// The resolve the plan's ids (types, interfaces, world keys) refer to:
    /// the one given to [`WorldPlan::with_options`], with nominal ids for
    /// the world. Backends spell types from this one.
    pub fn resolve(&self) -> &Resolve {
        &self.resolve
    }

    /// Lift, lower and free plans of single types of [`WorldPlan::resolve`].
    pub fn types(&self) -> TypePlans<'_> {
        TypePlans {
            planner: Planner {
                resolve: &self.resolve,
                layouts: &self.layouts,
                exported: &self.exported,
                streams: self.options.streams,
            },
        }
    }

    /// The plan of a resource, by its definition's id (as in the handle
    /// steps, `use` aliases followed).
    pub fn resource(&self, resource: TypeId) -> Option<&ResourcePlan> {
        self.resources.iter().find(|r| r.resource == resource)
    }

    /// The plan of the resource `name` of `interface` (by its
    /// `name_world_key` form), or of the world when `None`. Of an interface
    /// both imported and exported, the imported one comes first.
    pub fn resource_named(&self, interface: Option<&str>, name: &str) -> Option<&ResourcePlan> {
        let resolve = &self.resolve;
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

    /// Some function is an `async func` (planned with
    /// [`Options::async_calls`]).
    pub fn has_async_calls(&self) -> bool {
        self.imports
            .iter()
            .chain(&self.exports)
            .any(|f| f.asynchronous.is_some())
    }

    /// The plan of the function that passes `payload` (a future or stream
    /// type of its), whose intrinsics and element plan are the payload's.
    pub fn passing(&self, payload: &crate::PayloadPlan) -> Option<&FunctionPlan> {
        let list = match payload.direction {
            Direction::Import => &self.imports,
            Direction::Export => &self.exports,
        };
        list.iter()
            .find(|f| f.interface == payload.interface && f.function.name == payload.function)
    }

    /// The plan of the function `name` (of `interface`, by its
    /// `name_world_key` form, or at world level) in `direction`.
    pub fn function(
        &self,
        direction: Direction,
        interface: Option<&str>,
        name: &str,
    ) -> Option<&FunctionPlan> {
        let resolve = &self.resolve;
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

/// Refuses a world whose interfaces (or world-level types) define a type
/// the plans do not cover, even one no function uses: a backend spells
/// every type of the world.
fn check_types(resolve: &Resolve, w: &World, options: Options) -> Result<(), AbiError> {
    for (key, item) in w.imports.iter().chain(&w.exports) {
        let (owner, types): (String, Vec<TypeId>) = match item {
            WorldItem::Interface { id, .. } => (
                resolve.name_world_key(key),
                resolve.interfaces[*id].types.values().copied().collect(),
            ),
            WorldItem::Type { id, .. } => (format!("world {}", w.name), vec![*id]),
            WorldItem::Function(_) => continue,
        };
        for id in types {
            if let Some(feature) = unsupported(resolve, &Type::Id(id), options.streams) {
                return Err(AbiError::UnsupportedTypeDef {
                    name: resolve.types[id].name.clone().unwrap_or_default(),
                    owner,
                    feature,
                    elsewhere: crate::elsewhere(feature),
                });
            }
        }
    }
    Ok(())
}

fn check_supported(
    resolve: &Resolve,
    func: &Function,
    owner: &str,
    options: Options,
) -> Result<(), AbiError> {
    if func.kind.is_async() && !options.async_calls {
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
        if let Some(feature) = unsupported(resolve, ty, options.streams) {
            return Err(AbiError::Unsupported {
                function: func.name.clone(),
                owner: owner.to_string(),
                feature,
                place,
                elsewhere: crate::elsewhere(feature),
            });
        }
    }
    Ok(())
}
