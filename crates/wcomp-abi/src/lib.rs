//! The canonical ABI of a world, worked out once for every language: the
//! plans that every bindings backend of `wcomp-bindgen` spells, and the
//! facts `wcomp-component`'s pre-checks compare a core module against.
//!
//! # What a plan says
//!
//! [`WorldPlan::new`] answers, for each function a guest imports or
//! exports ([`FunctionPlan`]):
//!
//! * its flat core signature (wit-parser's `Resolve::wasm_signature`) and
//!   its core name in both manglings ([`Mangling`]: the legacy one,
//!   `$root`/`ns:pkg/iface#f`, and the standard `cm32p2` one), of which a
//!   backend picks one through [`Options::mangling`];
//! * whether parameters go through memory and the result through a return
//!   area, with the areas' size and alignment (from wit-parser's
//!   [`SizeAlign`](wit_parser::SizeAlign), wrapped by [`Layouts`]), and
//!   whether the module needs a memory, `cabi_realloc` and a post-return
//!   function;
//! * the [`Step`]s that lift or lower every parameter and result
//!   ([`ValuePlan`]), the steps a post-return function runs
//!   ([`PostReturn`]), and the whole **call sequence**
//!   ([`FunctionPlan::call`]): getting the arguments, the parameter and
//!   return areas, the core call or the call of the user's implementation,
//!   freeing the parameter area and temporaries, returning. No backend
//!   writes that order itself.
//!
//! [`WorldPlan::resources`] lists the resource intrinsics
//! (`[resource-drop]`, `[resource-new]`, `[resource-rep]` imports and
//! destructor exports) of every resource the world's guest uses, in both
//! manglings. [`WorldPlan::types`] gives lift, lower and free plans for a
//! single type ([`TypePlans`]), with a free mode that also drops owned
//! handles ([`FreeMode`]), and for the element type of a future or stream
//! the plans of a read or write buffer ([`TypePlans::element`]).
//!
//! # The machine
//!
//! A sequence of [`Step`]s runs on an operand stack. Operands are of two
//! [`Kind`]s: *values* (the language's own representation of a WIT value)
//! and *core values* (a core wasm value of some `WasmType`). Every step
//! declares what it pops and pushes ([`Step::effect`]); [`drive`] checks
//! those effects at every step while a backend spells the steps.
//!
//! There is also an implicit *base address*: [`Step::Load`], [`Step::Store`]
//! and the free steps read and write at `base + offset`. The base is the
//! area the last [`Step::Area`] named (a function's parameter or return
//! area); a list's element block runs with the base at the element.
//!
//! Compound steps carry nested [`Block`]s. A block runs on a fresh stack
//! seeded with its [`params`](Block::params) (which the backend supplies:
//! a field of the record, the payload of a variant case, ...) and must
//! leave exactly its [`results`](Block::results), which are handed back to
//! the step. Blocks run with the step's base address (list elements aside).
//!
//! Four kinds of value plans are built from the same steps (see [`TypePlans`]):
//!
//! * **flat lower**: `[value] -> [c1 .. cn]`, the core values of the type's
//!   flattening (wit-parser's `push_flat`), in order;
//! * **flat lift**: `[c1 .. cn] -> [value]`;
//! * **store** (lower into memory): `[value] -> []`, writes at `base`;
//! * **load** (lift from memory): `[] -> [value]`, reads at `base`;
//!
//! and **free** plans (`[] -> []`) release what a value stored at `base`
//! owns. A function's **call sequence** ([`FunctionPlan::call`]) strings
//! them together with the steps of the call itself (getting arguments,
//! the areas, the core call or the user's implementation, returning).
//! A plan never needs the backend to flatten a type, compute an offset or
//! decide the order of a call.
//!
//! # Driving a plan
//!
//! A backend implements [`Backend`], which spells one step at a time, and
//! calls [`drive`] with a step sequence. The driver owns the operand stack
//! and the nested blocks: it hands each step its operands, takes back what
//! the backend made of it, and checks every step's declared stack effect
//! ([`Step::effect`]) in every build; a mismatch is a [`DriveError`],
//! never undefined behaviour. Language choices stay out of the plan: the
//! per-element steps of a list are always there, and whether a list is
//! copied as bytes instead is the backend's answer
//! ([`Backend::list_as_bytes`], helped by [`plain_data`]).
//!
//! # Scope
//!
//! The plans are for guests on wasm32. Async functions are planned with
//! the callback ABI (WASI 0.3) when a backend asks for them
//! ([`Options::async_calls`]; see [`AsyncCall`], [`Step::AwaitSubtask`]
//! and [`Step::SpawnTask`]), and refused otherwise; so are the readable
//! ends of `future`s and `stream`s, planned as handles when asked
//! ([`Options::streams`], [`Step::PayloadLower`], [`Step::PayloadLift`]).
//! `error-context` and fixed-length lists are refused with an
//! [`AbiError`] naming the item (also in a type no function uses: a
//! backend spells every type), or skipped and listed
//! ([`Options::skip_unsupported`]) for a reader such as a checker that
//! only needs the functions it can plan.
//!
//! The core facts of the async ABI are planned apart too:
//! [`AsyncWorldPlan`] names and types every `async func`'s entry, callback
//! and `task.return`, the intrinsics of each future and stream a function
//! passes, and the task intrinsics, with the protocol's numbers in
//! [`codes`]; the call plans take their names from it.
//!
//! # Nominal ids
//!
//! wit-parser gives an interface one set of ids however often a world uses
//! it, but an interface a world both imports and exports (or imports under
//! two names) is two interfaces in the component model, with their own
//! types and resources. A plan is therefore made on a copy of the resolve
//! with nominal ids for the world (`Resolve::generate_nominal_type_ids`),
//! [`WorldPlan::resolve`]; every id in the plan is one of that copy's, and
//! a backend spells types from it.
//!
//! # Layout of the crate
//!
//! `world` plans a world (functions, skipped functions, resources, the
//! exported interfaces), `function` one function (its facts and call
//! sequence), `planner` the steps of one type (and [`TypePlans`]), `step`
//! the steps and their declared effects, `drive` the driver, `resource`
//! the resource intrinsics, `task` the async ABI's names and intrinsics, `layout` sizes, alignments and offsets over
//! wit-parser's `SizeAlign`, `print` the plan dumps (`Display`). The tests
//! check every plan against wit-parser's own answers, run every plan on an
//! abstract machine written independently of [`Step::effect`], and drive
//! every plan.

mod drive;
mod function;
mod layout;
mod planner;
mod print;
mod resource;
mod step;
mod task;
#[cfg(any(test, feature = "test-support"))]
pub mod test_support;
#[cfg(test)]
mod tests;
mod world;

use wit_parser::abi::AbiVariant;
use wit_parser::{LiftLowerAbi, ManglingAndAbi};

pub use drive::{Backend, DriveError, drive, drive_block};
pub use function::{AsyncCall, CoreNeeds, FunctionPlan, Place, PostReturn, ReallocFor, ValuePlan};
pub use layout::{FlagsLayout, Layout, Layouts, MemType, Shape, TypeLayout};
pub use planner::{
    PlainData, TypePlans, flat_types, has_memory, has_own_handle, has_payload, plain_data,
    resource_of,
};
pub use resource::{CoreFunc, ResourcePlan};
pub use step::{Area, Block, Cast, Effect, FreeMode, Kind, Step};
pub use task::{
    AsyncFunctionPlan, AsyncWorldPlan, ElementPlan, Intrinsic, PayloadKind, PayloadOp, PayloadPlan,
    TaskIntrinsic, codes, moves_handles,
};
pub use world::{Options, Skipped, WorldFunction, WorldPlan, world_functions};

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
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CoreName {
    /// A core import `(import "module" "field" ...)`.
    Import { module: String, field: String },
    /// A core export.
    Export { name: String },
}

/// How core names are spelled, as wit-component accepts both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Mangling {
    /// The names wit-bindgen has always written: `$root`, `ns:pkg/iface`,
    /// `ns:pkg/iface#f`, `cabi_post_...`, `cabi_realloc`, `_initialize`.
    #[default]
    Legacy,
    /// The standard `cm32p2` names: `cm32p2|ns:pkg/iface`,
    /// `cm32p2|ns:pkg/iface|f`, `..._post`, `cm32p2_realloc`,
    /// `cm32p2_initialize`.
    Standard,
}

impl Mangling {
    /// wit-parser's name for this mangling, with the synchronous ABI.
    pub fn wit_parser(self) -> ManglingAndAbi {
        match self {
            Mangling::Legacy => ManglingAndAbi::Legacy(LiftLowerAbi::Sync),
            Mangling::Standard => ManglingAndAbi::Standard32,
        }
    }

    /// The core export of the allocator the host calls to pass strings and
    /// lists in.
    pub fn realloc(self) -> &'static str {
        match self {
            Mangling::Legacy => "cabi_realloc",
            Mangling::Standard => "cm32p2_realloc",
        }
    }

    /// The core export called once before any other.
    pub fn initialize(self) -> &'static str {
        match self {
            Mangling::Legacy => "_initialize",
            Mangling::Standard => "cm32p2_initialize",
        }
    }

    /// The core export of the module's memory.
    pub fn memory(self) -> &'static str {
        match self {
            Mangling::Legacy => "memory",
            Mangling::Standard => "cm32p2_memory",
        }
    }
}

/// Something spelled in each [`Mangling`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Mangled<T> {
    pub legacy: T,
    pub standard: T,
}

impl<T> Mangled<T> {
    /// Spells `f` in both manglings.
    pub(crate) fn each(f: impl Fn(Mangling) -> T) -> Mangled<T> {
        Mangled {
            legacy: f(Mangling::Legacy),
            standard: f(Mangling::Standard),
        }
    }

    /// The spelling in `mangling`.
    pub fn get(&self, mangling: Mangling) -> &T {
        match mangling {
            Mangling::Legacy => &self.legacy,
            Mangling::Standard => &self.standard,
        }
    }
}

/// Where a feature a backend refused binds all the same, as the end of a
/// help text: futures and streams in every backend of `wcomp bind`.
pub fn elsewhere(feature: &str) -> &'static str {
    match feature {
        "`future`" | "`stream`" => {
            "; `wcomp bind` binds futures and streams of any type for Rust (guests, and hosts with `--host`), C and Go"
        }
        _ => "",
    }
}

/// Why a world, a function or a type cannot be planned.
#[derive(Debug, Clone, thiserror::Error, miette::Diagnostic)]
pub enum AbiError {
    #[error(
        "function `{function}` of `{owner}` is async; this backend does not bind async functions yet"
    )]
    #[diagnostic(
        code(wcomp::bind::unsupported),
        help(
            "`wcomp bind` binds them for Rust (guest, or `--host`), C and Go; else declare it without `async`, or leave it out of the world being bound"
        )
    )]
    Async { function: String, owner: String },

    #[error(
        "function `{function}` of `{owner}` uses {feature} (in {place}), which this backend does not bind yet"
    )]
    #[diagnostic(
        code(wcomp::bind::unsupported),
        help("change the function's types, or leave it out of the world being bound{elsewhere}")
    )]
    Unsupported {
        function: String,
        owner: String,
        feature: &'static str,
        /// `parameter `x`` or `the result`.
        place: String,
        /// Where else it binds (see [`elsewhere`]).
        elsewhere: &'static str,
    },

    /// A type of the world that plans do not cover.
    #[error("type `{name}` of `{owner}` uses {feature}, which this backend does not bind yet")]
    #[diagnostic(
        code(wcomp::bind::unsupported),
        help("change the type, or leave its interface out of the world being bound{elsewhere}")
    )]
    UnsupportedTypeDef {
        name: String,
        owner: String,
        feature: &'static str,
        elsewhere: &'static str,
    },

    /// A type asked for through [`TypePlans`] that plans do not cover.
    #[error("the type uses {feature}, which wcomp cannot plan yet")]
    #[diagnostic(code(wcomp::bind::unsupported))]
    UnsupportedType { feature: &'static str },

    #[error("cannot compute the memory layout of the world's types: {0}")]
    #[diagnostic(code(wcomp::bind::layout))]
    Layout(String),
}
