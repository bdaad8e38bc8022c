//! The plan of one function: its core facts, the steps of each value, and
//! its call sequence.

use wit_parser::abi::{AbiVariant, WasmSignature, WasmType};
use wit_parser::{
    Function, FunctionKind, Param, Resolve, Type, WasmExport, WasmExportKind, WasmImport, WorldKey,
};

use crate::planner::{At, Planner, flat_types, has_memory};
use crate::step::{Area, FreeMode, Kind, Step, cores};
use crate::task::AsyncFunctionPlan;
use crate::{AbiError, CoreName, Direction, Layout, Mangled, Mangling};

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
    /// Its core export name (`cabi_post_...`) in the plan's mangling.
    pub name: String,
    /// Its core export name in each mangling.
    pub names: Mangled<String>,
    /// The function's steps (`[] -> []`): a [`Step::Area`] naming the
    /// return area the function receives as its one core parameter
    /// (`[i32] -> []`), then the steps freeing what the result owns
    /// ([`FreeMode::Buffers`]).
    pub steps: Vec<Step>,
}

/// What an `async func` adds to its plan (the callback ABI; see
/// [`AsyncFunctionPlan`] for its names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsyncCall {
    /// Exports: `[callback][async-lift]K#f`, `(event, handle, payload) ->
    /// code`, which the host calls on each event of the task until it
    /// returns `EXIT`.
    pub callback: Option<CoreName>,
    /// Exports: how the result leaves, by calling `[task-return]f` of
    /// module `[export]K` once: the plan of an import taking the result as
    /// its one parameter (none without a result), which is how
    /// `task.return` takes it: flat up to 16 core values, else a pointer
    /// to them. The result is borrowed for that call (the host copies it),
    /// so what lowering it allocated is freed after it.
    pub task_return: Option<Box<FunctionPlan>>,
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
    /// wit-parser's `wasm_signature` for the direction (its async variant
    /// for an `async func`).
    pub signature: WasmSignature,
    /// The core name in the plan's mangling ([`Options::mangling`]).
    ///
    /// [`Options::mangling`]: crate::Options::mangling
    pub core_name: CoreName,
    /// The core name in each mangling.
    pub core_names: Mangled<CoreName>,
    pub params: Vec<ValuePlan>,
    /// `None` without a result, and for an async export, whose result
    /// crosses as the parameter of [`AsyncCall::task_return`].
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
    /// The function passes something through linear memory (strings,
    /// lists, a parameter or return area), so the module must export its
    /// memory.
    pub needs_memory: bool,
    /// The function needs the module to export `cabi_realloc`: an export
    /// receiving strings/lists or indirect parameters, an import returning
    /// strings/lists.
    pub needs_realloc: bool,
    /// For exports whose result owns memory (strings, lists); never for
    /// an `async func`, whose result the host copies at `task.return`.
    pub post_return: Option<PostReturn>,
    /// `Some` for an `async func`: its callback and task-return plan.
    pub asynchronous: Option<AsyncCall>,
    /// The whole call sequence (`[] -> []`), in order. For an import (the
    /// body of the function the guest's code calls):
    ///
    /// 1. [`Step::Area`] of the parameter area, when parameters are
    ///    indirect;
    /// 2. per parameter, [`Step::GetArg`] and its lower steps;
    /// 3. [`Step::AreaAddress`] of the parameter area, then [`Step::Area`]
    ///    and [`Step::AreaAddress`] of the return area, where used;
    /// 4. [`Step::CallImport`]; for an `async func`, it returns the
    ///    subtask's status, which [`Step::AwaitSubtask`] then waits on;
    /// 5. the result's lift steps;
    /// 6. [`Step::FreeTemporaries`] (the result passing through) and
    ///    [`Step::Return`].
    ///
    /// For an export (the body of the core export the host calls):
    ///
    /// 1. [`Step::Area`] of the parameter area, when parameters are
    ///    indirect;
    /// 2. per parameter, its [`Step::CoreArg`]s (when flat), its lift
    ///    steps and [`Step::ArgLifted`];
    /// 3. [`Step::FreeArea`] of the parameter area, where used;
    /// 4. [`Step::CallImpl`];
    /// 5. the result's lower steps: flat, or between [`Step::Area`] and
    ///    [`Step::AreaAddress`] of the return area;
    /// 6. [`Step::Return`] of the core results.
    ///
    /// For an async export, 4 to 6 are [`Step::SpawnTask`] and the
    /// [`Step::Return`] of the callback code it leaves; the result leaves
    /// through [`AsyncCall::task_return`].
    pub call: Vec<Step>,
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

/// What calling a function through the canonical ABI asks of the core
/// module, for any ABI variant (async ones too): the one rule that both
/// the plans and `wcomp-component`'s pre-checks read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CoreNeeds {
    /// Something passes through linear memory (strings, lists, maps, a
    /// parameter or return area): the module must export its memory.
    pub memory: bool,
    /// The host must allocate in the module (`cabi_realloc`), and for
    /// what: an export receiving strings, lists or indirect parameters, an
    /// import whose results hold strings or lists.
    pub realloc: Option<ReallocFor>,
}

/// What the host allocates in the module with `cabi_realloc`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReallocFor {
    /// An export's parameters.
    Params,
    /// An import's results.
    Results,
}

impl CoreNeeds {
    /// The needs of `func` called with `variant` (a guest import or export,
    /// sync or async).
    pub fn of(resolve: &Resolve, func: &Function, variant: AbiVariant) -> CoreNeeds {
        let signature = resolve.wasm_signature(variant, func);
        let params = func.params.iter().any(|p| has_memory(resolve, &p.ty));
        let result = func.result.is_some_and(|t| has_memory(resolve, &t));
        let export = matches!(
            variant,
            AbiVariant::GuestExport
                | AbiVariant::GuestExportAsync
                | AbiVariant::GuestExportAsyncStackful
        );
        CoreNeeds {
            memory: params || result || signature.retptr || signature.indirect_params,
            realloc: match export {
                true => (params || signature.indirect_params).then_some(ReallocFor::Params),
                false => result.then_some(ReallocFor::Results),
            },
        }
    }
}

/// The core name of `func` in `mangling`.
fn core_name(
    resolve: &Resolve,
    interface: Option<&WorldKey>,
    func: &Function,
    direction: Direction,
    mangling: Mangling,
) -> CoreName {
    match direction {
        Direction::Import => {
            let (module, field) = resolve
                .wasm_import_name(mangling.wit_parser(), WasmImport::Func { interface, func });
            CoreName::Import { module, field }
        }
        Direction::Export => CoreName::Export {
            name: export_name(resolve, interface, func, WasmExportKind::Normal, mangling),
        },
    }
}

/// The core export name of exported `func` (or of its post-return
/// function) in `mangling`.
fn export_name(
    resolve: &Resolve,
    interface: Option<&WorldKey>,
    func: &Function,
    kind: WasmExportKind,
    mangling: Mangling,
) -> String {
    resolve.wasm_export_name(
        mangling.wit_parser(),
        WasmExport::Func {
            interface,
            func,
            kind,
        },
    )
}

/// Plans `func` (synchronous, of supported types) in `direction`.
pub(crate) fn plan_function(
    planner: &Planner<'_>,
    interface: Option<&WorldKey>,
    owner: String,
    func: &Function,
    direction: Direction,
    mangling: Mangling,
) -> Result<FunctionPlan, AbiError> {
    let resolve = planner.resolve;
    let layouts = planner.layouts;
    // The async ABI's names and signatures have one spelling (wit-parser
    // mangles async only the legacy way): the task module's.
    let async_facts = func
        .kind
        .is_async()
        .then(|| AsyncFunctionPlan::new(resolve, layouts, interface, func, direction));
    let (signature, core_names) = match &async_facts {
        Some(facts) => (
            facts.entry.signature.clone(),
            Mangled::each(|_| facts.entry.name.clone()),
        ),
        None => (
            resolve.wasm_signature(direction.abi_variant(), func),
            Mangled::each(|m| core_name(resolve, interface, func, direction, m)),
        ),
    };
    // Import parameters are borrowed for the call; export results pass
    // ownership to the caller (freed by post-return).
    let types: Vec<&Type> = func.params.iter().map(|p| &p.ty).collect();
    let offsets = layouts.offsets(types.iter().copied());
    let mut first = 0;
    let mut params = Vec::new();
    for (p, offset) in func.params.iter().zip(offsets) {
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
            Direction::Import => planner.lower(&p.ty, at, false, &mut steps)?,
            Direction::Export => planner.lift(&p.ty, at, &mut steps)?,
        }
        params.push(ValuePlan {
            name: p.name.clone(),
            ty: p.ty,
            layout: layouts.layout(&p.ty),
            flat,
            place,
            steps,
        });
    }
    // An async export's result crosses as the task-return plan's parameter.
    let async_export = async_facts.is_some() && direction == Direction::Export;
    let result = match func.result {
        None => None,
        Some(_) if async_export => None,
        Some(ty) => {
            let flat = flat_types(resolve, &ty);
            let (place, at) = if signature.retptr {
                (Place::Memory { offset: 0 }, At::Mem(0))
            } else {
                let count = flat.len();
                (Place::Flat { first: 0, count }, At::Flat)
            };
            let mut steps = Vec::new();
            match direction {
                Direction::Import => planner.lift(&ty, at, &mut steps)?,
                Direction::Export => planner.lower(&ty, at, true, &mut steps)?,
            }
            Some(ValuePlan {
                name: "result".to_string(),
                ty,
                layout: layouts.layout(&ty),
                flat,
                place,
                steps,
            })
        }
    };
    let result_memory = func.result.is_some_and(|t| has_memory(resolve, &t));
    let needs = CoreNeeds::of(resolve, func, direction.abi_variant());
    let params_area = signature
        .indirect_params
        .then(|| layouts.record_of(types.iter().copied()));
    let return_area = signature
        .retptr
        .then(|| func.result.map(|t| layouts.layout(&t)))
        .flatten();
    let post_return = match (direction, func.result, return_area) {
        (Direction::Export, Some(ty), Some(layout)) if result_memory && async_facts.is_none() => {
            let mut steps = vec![Step::Area {
                area: Area::Return,
                layout,
            }];
            planner.free(&ty, 0, FreeMode::Buffers, &mut steps);
            let names = Mangled::each(|m| {
                export_name(resolve, interface, func, WasmExportKind::PostReturn, m)
            });
            Some(PostReturn {
                name: names.get(mangling).clone(),
                names,
                steps,
            })
        }
        _ => None,
    };
    let mut plan = FunctionPlan {
        interface: interface.cloned(),
        owner,
        function: func.clone(),
        direction,
        core_name: core_names.get(mangling).clone(),
        core_names,
        params,
        result,
        params_area,
        return_area,
        needs_memory: needs.memory,
        needs_realloc: needs.realloc.is_some(),
        post_return,
        asynchronous: None,
        signature,
        call: Vec::new(),
    };
    plan.call = match direction {
        Direction::Import => import_call(&plan, async_facts.is_some()),
        Direction::Export => export_call(&plan, async_facts.is_some()),
    };
    if let Some(facts) = async_facts {
        plan.asynchronous = Some(AsyncCall {
            callback: facts.callback.map(|c| c.name),
            task_return: match facts.task_return {
                Some(task_return) => Some(Box::new(task_return_plan(
                    planner,
                    interface,
                    &plan,
                    task_return.name,
                )?)),
                None => None,
            },
        });
    }
    Ok(plan)
}

/// The plan of an async export's `[task-return]` call: a synchronous
/// import, named `name`, of a function whose one parameter is `export`'s
/// result (wit-parser derives `task.return`'s signature the same way).
fn task_return_plan(
    planner: &Planner<'_>,
    interface: Option<&WorldKey>,
    export: &FunctionPlan,
    name: CoreName,
) -> Result<FunctionPlan, AbiError> {
    let mut func = export.function.clone();
    func.kind = FunctionKind::Freestanding;
    func.params = export
        .function
        .result
        .map(|ty| Param {
            name: "result".to_string(),
            ty,
            span: Default::default(),
        })
        .into_iter()
        .collect();
    func.result = None;
    let mut plan = plan_function(
        planner,
        interface,
        export.owner.clone(),
        &func,
        Direction::Import,
        Mangling::Legacy,
    )?;
    plan.core_names = Mangled::each(|_| name.clone());
    plan.core_name = name;
    Ok(plan)
}

/// The call sequence of an import; see [`FunctionPlan::call`].
fn import_call(f: &FunctionPlan, asynchronous: bool) -> Vec<Step> {
    let mut call = Vec::new();
    if let Some(layout) = f.params_area {
        call.push(Step::Area {
            area: Area::Params,
            layout,
        });
    }
    for (index, p) in f.params.iter().enumerate() {
        call.push(Step::GetArg { index });
        call.extend(p.steps.iter().cloned());
    }
    if f.params_area.is_some() {
        call.push(Step::AreaAddress { area: Area::Params });
    }
    if let Some(layout) = f.return_area {
        call.push(Step::Area {
            area: Area::Return,
            layout,
        });
        call.push(Step::AreaAddress { area: Area::Return });
    }
    call.push(Step::CallImport {
        params: f.signature.params.clone(),
        results: f.signature.results.clone(),
    });
    if asynchronous {
        call.push(Step::AwaitSubtask);
    }
    if let Some(r) = &f.result {
        call.extend(r.steps.iter().cloned());
    }
    let results: Vec<Kind> = f.result.iter().map(|_| Kind::Value).collect();
    call.push(Step::FreeTemporaries {
        results: results.clone(),
    });
    call.push(Step::Return { results });
    call
}

/// The call sequence of an export; see [`FunctionPlan::call`].
fn export_call(f: &FunctionPlan, asynchronous: bool) -> Vec<Step> {
    let mut call = Vec::new();
    if let Some(layout) = f.params_area {
        call.push(Step::Area {
            area: Area::Params,
            layout,
        });
    }
    for (index, p) in f.params.iter().enumerate() {
        if let Place::Flat { first, count } = p.place {
            for (index, ty) in f
                .signature
                .params
                .iter()
                .enumerate()
                .skip(first)
                .take(count)
            {
                call.push(Step::CoreArg { index, ty: *ty });
            }
        }
        call.extend(p.steps.iter().cloned());
        call.push(Step::ArgLifted { index });
    }
    if let Some(layout) = f.params_area {
        call.push(Step::FreeArea {
            area: Area::Params,
            layout,
        });
    }
    if asynchronous {
        call.push(Step::SpawnTask {
            params: f.params.len(),
        });
        call.push(Step::Return {
            results: cores(&f.signature.results),
        });
        return call;
    }
    call.push(Step::CallImpl {
        params: f.params.len(),
        results: usize::from(f.result.is_some()),
    });
    if let Some(r) = &f.result {
        match f.return_area {
            Some(layout) => {
                call.push(Step::Area {
                    area: Area::Return,
                    layout,
                });
                call.extend(r.steps.iter().cloned());
                call.push(Step::AreaAddress { area: Area::Return });
            }
            None => call.extend(r.steps.iter().cloned()),
        }
    }
    call.push(Step::Return {
        results: cores(&f.signature.results),
    });
    call
}
