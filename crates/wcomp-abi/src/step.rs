//! The steps of a plan, and the stack effect each one declares.
//!
//! See the crate docs, [the machine](crate#the-machine).

use std::fmt;

use wit_parser::abi::WasmType;
use wit_parser::{Type, TypeId};

use crate::layout::{Layout, MemType};
use crate::task::PayloadKind;

/// One step of a plan; see [the machine](crate#the-machine) it runs on,
/// and [`Step::effect`] for what each one pops and pushes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    // ---- primitives, lowering: pop a value, push one core value ----
    /// `bool` -> `i32`: 1 for true, 0 for false.
    I32FromBool,
    /// `u8` -> `i32`, zero-extended.
    I32FromU8,
    /// `s8` -> `i32`, sign-extended.
    I32FromS8,
    /// `u16` -> `i32`, zero-extended.
    I32FromU16,
    /// `s16` -> `i32`, sign-extended.
    I32FromS16,
    /// `u32` -> `i32`, same bits.
    I32FromU32,
    /// `s32` -> `i32`.
    I32FromS32,
    /// `u64` -> `i64`, same bits.
    I64FromU64,
    /// `s64` -> `i64`.
    I64FromS64,
    /// `f32` -> core `f32`. Any NaN may be passed as it is (the spec lets
    /// the lowering side scramble NaN payloads).
    CoreF32FromF32,
    /// `f64` -> core `f64`, like [`Step::CoreF32FromF32`].
    CoreF64FromF64,
    /// `char` -> `i32`: the Unicode scalar value.
    I32FromChar,

    // ---- primitives, lifting: pop one core value, push a value ----
    /// `i32` -> `bool`: any non-zero value is true.
    BoolFromI32,
    /// `i32` -> `u8`: keep the low 8 bits.
    U8FromI32,
    /// `i32` -> `s8`: keep the low 8 bits, as signed.
    S8FromI32,
    /// `i32` -> `u16`: keep the low 16 bits.
    U16FromI32,
    /// `i32` -> `s16`: keep the low 16 bits, as signed.
    S16FromI32,
    /// `i32` -> `u32`, same bits.
    U32FromI32,
    /// `i32` -> `s32`.
    S32FromI32,
    /// `i64` -> `u64`, same bits.
    U64FromI64,
    /// `i64` -> `s64`.
    S64FromI64,
    /// core `f32` -> `f32`. The spec's `canonicalize_nan32` replaces any NaN
    /// with the canonical NaN `0x7fc0_0000`; this is required only in the
    /// deterministic profile, so a backend may keep the bits as they are.
    F32FromCoreF32,
    /// core `f64` -> `f64`; NaN as for [`Step::F32FromCoreF32`], canonical
    /// NaN `0x7ff8_0000_0000_0000`.
    F64FromCoreF64,
    /// `i32` -> `char`: must be a Unicode scalar value (below 0x110000 and
    /// not a surrogate), otherwise trap.
    CharFromI32,

    // ---- memory ----
    /// Push the core value of type `ty.core()` read at `base + offset`
    /// (narrow integers zero- or sign-extended to `i32`).
    Load { offset: usize, ty: MemType },
    /// Pop a core value and write it as `ty` at `base + offset`.
    Store { offset: usize, ty: MemType },

    // ---- joining variant payloads (flat plans only) ----
    /// Pop `casts.len()` core values and push each converted by its cast
    /// (the first cast applies to the deepest of them). Emitted only when
    /// some cast is not the identity.
    Casts(Vec<Cast>),
    /// Push a zero of each core type, in order (padding a variant case to
    /// the joined flat types).
    Zeros(Vec<WasmType>),
    /// Pop and discard core values of these types (the first is the
    /// deepest): the joined slots a variant case does not use.
    Drop(Vec<WasmType>),

    // ---- strings and lists ----
    /// Pop a string, push its UTF-8 bytes as (pointer, length in bytes).
    /// With `realloc`, the bytes must be in memory allocated with
    /// `cabi_realloc` (align 1) whose ownership passes to the receiver (an
    /// export's result, freed by its post-return function); without, the
    /// memory is only borrowed until the call returns.
    StringLower { realloc: bool },
    /// Pop (pointer, length), push the string made from those UTF-8 bytes.
    /// The receiver owns the bytes (allocated with `cabi_realloc`, align 1).
    /// Invalid UTF-8 must trap.
    StringLift,
    /// Pop a list, push (pointer, element count). The elements are laid out
    /// `layout.size` bytes apart in a buffer aligned to `layout.align`;
    /// `store` (a store plan, `[value] -> []`) writes one element with the
    /// base at it. A backend whose own storage of the list already is that
    /// buffer copies it as bytes instead ([`Backend::list_as_bytes`]; the
    /// block is then not driven). `realloc` as for [`Step::StringLower`]
    /// (without it, a buffer the backend had to fill is freed at
    /// [`Step::FreeTemporaries`]).
    ///
    /// [`Backend::list_as_bytes`]: crate::Backend::list_as_bytes
    ListLower {
        element: Type,
        layout: Layout,
        store: Block,
        realloc: bool,
    },
    /// Pop (pointer, element count), push the list. `load` (a load plan,
    /// `[] -> [value]`) reads one element with the base at it, unless the
    /// backend takes the buffer as its storage, as bytes. The receiver owns
    /// the buffer (`count * layout.size` bytes, align `layout.align`,
    /// allocated with `cabi_realloc`): keep it or free it once the
    /// elements are read.
    ListLift {
        element: Type,
        layout: Layout,
        load: Block,
    },
    /// Pop a map, push (pointer, entry count). A `map<key, value>` crosses
    /// as a `list<tuple<key, value>>`: entries `layout.size` bytes apart
    /// (`layout` is the entry's), the key at offset 0 and the value at
    /// `value_offset`. `store` (`[value, value] -> []`: the key, then the
    /// value on top) writes one entry with the base at it, in the order
    /// the backend's map iterates. `realloc` as for [`Step::ListLower`].
    MapLower {
        key: Type,
        value: Type,
        layout: Layout,
        value_offset: usize,
        store: Block,
        realloc: bool,
    },
    /// Pop (pointer, entry count), push the map. `load` (`[] -> [value,
    /// value]`: the key, then the value) reads one entry with the base at
    /// it; of entries with equal keys the last one's value counts (the
    /// component model does not forbid repeats). The receiver owns the
    /// buffer, as for [`Step::ListLift`].
    MapLift {
        key: Type,
        value: Type,
        layout: Layout,
        value_offset: usize,
        load: Block,
    },

    // ---- records and tuples ----
    /// Pop a record of type `ty`; run `fields[i]` seeded with field `i`'s
    /// value; push what the blocks leave, in field order.
    RecordLower { ty: TypeId, fields: Vec<Block> },
    /// Pop the core values every field block takes (none in a load plan),
    /// run `fields[i]` seeded with its share of them, in order; each leaves
    /// the field's value; push the record.
    RecordLift { ty: TypeId, fields: Vec<Block> },
    /// As [`Step::RecordLower`], for a tuple.
    TupleLower { ty: TypeId, fields: Vec<Block> },
    /// As [`Step::RecordLift`], for a tuple.
    TupleLift { ty: TypeId, fields: Vec<Block> },

    // ---- flags and enums ----
    /// Pop a flags value, push `words` core `i32`s: flag `i` (declaration
    /// order) is bit `i % 32` of word `i / 32`.
    FlagsLower {
        ty: TypeId,
        count: usize,
        words: usize,
    },
    /// Pop `words` core `i32`s, push the flags value (bits past `count`
    /// are ignored).
    FlagsLift {
        ty: TypeId,
        count: usize,
        words: usize,
    },
    /// Pop an enum value, push its case index as a core `i32`.
    EnumLower { ty: TypeId, cases: usize },
    /// Pop a core `i32`, push the enum case with that index (trap if
    /// `>= cases`).
    EnumLift { ty: TypeId, cases: usize },

    // ---- variants, options, results ----
    /// Pop a variant value of case `i`; push the case index as a core `i32`,
    /// then run `cases[i]` seeded with the payload (or nothing) and push
    /// what it leaves: in a flat plan, the joined payload values; in a
    /// store plan, nothing (the payload is stored; a `Store` of the
    /// discriminant follows the step). Every case leaves the same kinds.
    VariantLower { ty: TypeId, cases: Vec<Block> },
    /// Pop `joined.len()` core values (the joined payload, none in a load
    /// plan) and, below them, the discriminant `i` (a core `i32`); trap if
    /// `i >= cases.len()`; run `cases[i]` seeded with the joined values; it
    /// leaves the payload (or nothing); push the variant.
    VariantLift {
        ty: TypeId,
        joined: Vec<WasmType>,
        cases: Vec<Block>,
    },
    /// [`Step::VariantLower`] for `option<T>`: cases `[none, some]`.
    OptionLower {
        ty: TypeId,
        none: Block,
        some: Block,
    },
    /// [`Step::VariantLift`] for `option<T>`.
    OptionLift {
        ty: TypeId,
        joined: Vec<WasmType>,
        none: Block,
        some: Block,
    },
    /// [`Step::VariantLower`] for `result<T, E>`: cases `[ok, err]`, each
    /// seeded with its payload if it has one.
    ResultLower { ty: TypeId, ok: Block, err: Block },
    /// [`Step::VariantLift`] for `result<T, E>`.
    ResultLift {
        ty: TypeId,
        joined: Vec<WasmType>,
        ok: Block,
        err: Block,
    },

    // ---- resources ----
    /// Pop a handle to `resource`, push its core `i32`. `own`: ownership
    /// passes to the receiver (the sender must not drop it); borrow: the
    /// handle stays the sender's. `exported`: the resource is implemented
    /// by this guest, so the `i32` is a handle from `[resource-new]` (own)
    /// or, for a borrow returned to the host, not allowed by the spec.
    HandleLower {
        resource: TypeId,
        own: bool,
        exported: bool,
    },
    /// Pop a core `i32`, push a handle to `resource`. For an imported
    /// resource the `i32` is a handle index (own: the receiver must drop it
    /// once; borrow: valid for the call only). For a resource this guest
    /// exports, a `borrow` is the representation itself (what the guest
    /// gave `[resource-new]`; the receiver of an exported method gets it as
    /// a core pointer), and an `own` is a handle to turn into the
    /// representation with `[resource-rep]`, owning it from then on.
    HandleLift {
        resource: TypeId,
        own: bool,
        exported: bool,
    },

    // ---- futures and streams ----
    /// Pop the readable end of a future or stream of type `ty` (the end
    /// that crosses a call), push its core `i32` handle: the end passes to
    /// the receiver, and the sender must not use or drop it any more.
    PayloadLower { ty: TypeId, kind: PayloadKind },
    /// Pop the core `i32` handle of the readable end of a future or stream
    /// of type `ty`, push the language's reader of it: the receiver owns
    /// it, and drops it (`[future-drop-readable]`, `[stream-drop-readable]`)
    /// when done. See [`PayloadPlan`] for the intrinsics that read it.
    ///
    /// [`PayloadPlan`]: crate::PayloadPlan
    PayloadLift { ty: TypeId, kind: PayloadKind },

    // ---- free plans: pop and push nothing ----
    /// Free the string whose (pointer, length) is at `base + offset`
    /// (align 1).
    FreeString { offset: usize },
    /// Free the list whose (pointer, count) is at `base + offset`: first
    /// run `element` (`[] -> []`) with the base at each element (an empty
    /// block when elements own nothing), then free the buffer
    /// (`count * layout.size` bytes, align `layout.align`).
    FreeList {
        offset: usize,
        layout: Layout,
        element: Block,
    },
    /// Read the discriminant `i` stored as `discriminant` at `base +
    /// offset` and run `cases[i]` (`[] -> []`: payload frees, offsets
    /// already final).
    FreeVariant {
        offset: usize,
        discriminant: MemType,
        cases: Vec<Block>,
    },
    /// Drop the owned handle to `resource` stored at `base + offset` (its
    /// `[resource-drop]`), in [`FreeMode::BuffersAndHandles`] plans only.
    FreeHandle {
        offset: usize,
        resource: TypeId,
        exported: bool,
    },

    // ---- the call sequence (see `FunctionPlan::call`) ----
    /// `[] -> [value]`: the language's value of parameter `index` (an
    /// import's caller passes it; a borrowed parameter is a place, not a
    /// copy).
    GetArg { index: usize },
    /// `[] -> [core]`: core parameter `index` of an export, of type `ty`.
    CoreArg { index: usize, ty: WasmType },
    /// `[] -> []`: from here on the base address is `area` (`layout` bytes
    /// and alignment). An import provides both areas for the duration of
    /// the call (the stack will do). An export's parameter area is the
    /// address in its core parameter 0 (the caller allocated it with
    /// `cabi_realloc`); its return area is memory of the export's own that
    /// must stay valid until the post-return function has run (a static
    /// will do: the guest runs one call at a time). In a post-return
    /// function, the return area is the address it receives.
    Area { area: Area, layout: Layout },
    /// `[] -> [core pointer]`: the address of `area`, as a core argument
    /// (an import's parameter or return area) or a core result (an
    /// export's return area).
    AreaAddress { area: Area },
    /// `[params] -> [results]`: call the core import of the function
    /// (`FunctionPlan::core_name`) with the core values on the stack.
    CallImport {
        params: Vec<WasmType>,
        results: Vec<WasmType>,
    },
    /// `[results] -> [results]`: the import returned and its result is
    /// lifted (`results` is what the function returns: a value, or
    /// nothing): free what lowering the arguments allocated for the call
    /// only (buffers of lists stored element by element,
    /// [`Step::ListLower`] without `realloc`), if anything. The result
    /// passes through: a backend whose operands are lazy expressions
    /// evaluates it first.
    FreeTemporaries { results: Vec<Kind> },
    /// `[value] -> [value]`: the export's argument `index` is lifted. The
    /// value must no longer read the parameter area, which may be freed
    /// next: a backend whose operands are lazy expressions evaluates this
    /// one now.
    ArgLifted { index: usize },
    /// `[] -> []`: free `area` (`layout`): an export's parameter area,
    /// once every argument is lifted.
    FreeArea { area: Area, layout: Layout },
    /// `[values] -> [values]`: call the user's implementation of the
    /// export with `params` argument values; it returns `results` (0 or 1)
    /// values. What the results own passes to the caller (lowered with
    /// `realloc`, freed by the post-return function).
    CallImpl { params: usize, results: usize },
    /// `[i32] -> []`: the status an async import returned (`handle << 4 |
    /// status`, see [`codes::subtask`]): unless it is `RETURNED`, suspend
    /// the calling task until the subtask has returned (its `SUBTASK`
    /// event), then drop the subtask. After it the return area holds the
    /// result; the parameter area and what the arguments lent are no
    /// longer read, so both must live until here.
    ///
    /// [`codes::subtask`]: crate::codes::subtask
    AwaitSubtask,
    /// `[values] -> [i32]`: an async export's task starts: the user's async
    /// implementation is called with `params` argument values, and when
    /// its result is ready, the function's task-return sequence
    /// ([`AsyncCall::task_return`]) runs with it as argument 0. Push the
    /// callback code of the task's first run (`EXIT` when it finished at
    /// once, else what to wait for; see [`codes::callback`]).
    ///
    /// [`AsyncCall::task_return`]: crate::AsyncCall::task_return
    /// [`codes::callback`]: crate::codes::callback
    SpawnTask { params: usize },
    /// `[results] -> []`: return these from the function: an import's
    /// lifted result (a value, or nothing), or an export's core results.
    Return { results: Vec<Kind> },
}

/// A memory area a function's call sequence uses; see [`Step::Area`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Area {
    /// Where parameters are passed when they do not fit the flat core
    /// parameters (`signature.indirect_params`).
    Params,
    /// Where a result is passed that does not fit the flat core result
    /// (`signature.retptr`).
    Return,
}

/// What a free plan releases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum FreeMode {
    /// The buffers of strings and lists: what a post-return function frees
    /// (handles in the value were handed over with it).
    #[default]
    Buffers,
    /// Buffers, and every owned handle ([`Step::FreeHandle`]): what
    /// dropping a whole value that is still owned releases (a C `_free`).
    BuffersAndHandles,
}

/// The kind of an operand on the stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A value in the language's own representation.
    Value,
    /// A core wasm value.
    Core(WasmType),
}

impl Kind {
    /// Whether an operand of kind `self` may stand where `want` is
    /// expected: values for values, and core values of the same wasm32
    /// type (`Pointer` and `Length` are `i32`, `PointerOrI64` is `i64`),
    /// which is what wasm validation checks. (The receiver of an exported
    /// method is a core `Pointer` lifted as an `i32` handle, for one.)
    pub fn fits(self, want: Kind) -> bool {
        match (self, want) {
            (Kind::Value, Kind::Value) => true,
            (Kind::Core(a), Kind::Core(b)) => core32(a) == core32(b),
            _ => false,
        }
    }
}

/// The wasm32 core type of a flat type.
fn core32(t: WasmType) -> WasmType {
    match t {
        WasmType::I32 | WasmType::Pointer | WasmType::Length => WasmType::I32,
        WasmType::I64 | WasmType::PointerOrI64 => WasmType::I64,
        other => other,
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Kind::Value => f.write_str("value"),
            Kind::Core(WasmType::I32) => f.write_str("i32"),
            Kind::Core(WasmType::I64) => f.write_str("i64"),
            Kind::Core(WasmType::F32) => f.write_str("f32"),
            Kind::Core(WasmType::F64) => f.write_str("f64"),
            Kind::Core(WasmType::Pointer) => f.write_str("pointer"),
            Kind::Core(WasmType::Length) => f.write_str("length"),
            Kind::Core(WasmType::PointerOrI64) => f.write_str("pointer-or-i64"),
        }
    }
}

/// `[value, i32, pointer]`.
pub(crate) fn kinds(list: &[Kind]) -> String {
    let items: Vec<String> = list.iter().map(Kind::to_string).collect();
    format!("[{}]", items.join(", "))
}

/// Core values of these types, as kinds.
pub(crate) fn cores(types: &[WasmType]) -> Vec<Kind> {
    types.iter().map(|t| Kind::Core(*t)).collect()
}

/// A nested step sequence of a compound step, with its declared effect:
/// it runs on a fresh stack seeded with operands of kinds `params`, and
/// leaves operands of kinds `results`; see each step for its blocks.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Block {
    pub params: Vec<Kind>,
    pub results: Vec<Kind>,
    pub steps: Vec<Step>,
}

/// A conversion of one core value to another core type, used to join the
/// flat payloads of variant cases. Lowering (payload type -> joined type):
/// `f32 -> i32` reinterprets the bits, `i32 -> i64` and `f32 -> i64`
/// zero-extend the (reinterpreted) bits, `f64 -> i64` reinterprets,
/// pointer/length to `i32`/`i64`/`PointerOrI64` keep the address.
/// Lifting is the inverse: wrap to 32 bits, then reinterpret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cast {
    pub from: WasmType,
    pub to: WasmType,
}

/// What a step pops (the first is the deepest) and pushes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Effect {
    pub pops: Vec<Kind>,
    pub pushes: Vec<Kind>,
}

impl Step {
    /// What the step pops and pushes. A compound step's effect follows from
    /// its blocks' declared effects (a variant's from its first case; the
    /// driver checks that the cases agree).
    pub fn effect(&self) -> Effect {
        use Kind::Value;
        use WasmType as W;
        let core = Kind::Core;
        let e = |pops: Vec<Kind>, pushes: Vec<Kind>| Effect { pops, pushes };
        match self {
            Step::I32FromBool
            | Step::I32FromU8
            | Step::I32FromS8
            | Step::I32FromU16
            | Step::I32FromS16
            | Step::I32FromU32
            | Step::I32FromS32
            | Step::I32FromChar
            | Step::EnumLower { .. }
            | Step::HandleLower { .. }
            | Step::PayloadLower { .. } => e(vec![Value], vec![core(W::I32)]),
            Step::I64FromU64 | Step::I64FromS64 => e(vec![Value], vec![core(W::I64)]),
            Step::CoreF32FromF32 => e(vec![Value], vec![core(W::F32)]),
            Step::CoreF64FromF64 => e(vec![Value], vec![core(W::F64)]),
            Step::BoolFromI32
            | Step::U8FromI32
            | Step::S8FromI32
            | Step::U16FromI32
            | Step::S16FromI32
            | Step::U32FromI32
            | Step::S32FromI32
            | Step::CharFromI32
            | Step::EnumLift { .. }
            | Step::HandleLift { .. }
            | Step::PayloadLift { .. } => e(vec![core(W::I32)], vec![Value]),
            Step::U64FromI64 | Step::S64FromI64 => e(vec![core(W::I64)], vec![Value]),
            Step::F32FromCoreF32 => e(vec![core(W::F32)], vec![Value]),
            Step::F64FromCoreF64 => e(vec![core(W::F64)], vec![Value]),
            Step::Load { ty, .. } => e(vec![], vec![core(ty.core())]),
            Step::Store { ty, .. } => e(vec![core(ty.core())], vec![]),
            Step::Casts(casts) => e(
                casts.iter().map(|c| core(c.from)).collect(),
                casts.iter().map(|c| core(c.to)).collect(),
            ),
            Step::Zeros(types) => e(vec![], cores(types)),
            Step::Drop(types) => e(cores(types), vec![]),
            Step::StringLower { .. } | Step::ListLower { .. } | Step::MapLower { .. } => {
                e(vec![Value], vec![core(W::Pointer), core(W::Length)])
            }
            Step::StringLift | Step::ListLift { .. } | Step::MapLift { .. } => {
                e(vec![core(W::Pointer), core(W::Length)], vec![Value])
            }
            Step::RecordLower { fields, .. } | Step::TupleLower { fields, .. } => e(
                vec![Value],
                fields.iter().flat_map(|b| b.results.clone()).collect(),
            ),
            Step::RecordLift { fields, .. } | Step::TupleLift { fields, .. } => e(
                fields.iter().flat_map(|b| b.params.clone()).collect(),
                vec![Value],
            ),
            Step::FlagsLower { words, .. } => e(vec![Value], vec![core(W::I32); *words]),
            Step::FlagsLift { words, .. } => e(vec![core(W::I32); *words], vec![Value]),
            Step::VariantLower { .. } | Step::OptionLower { .. } | Step::ResultLower { .. } => {
                let mut pushes = vec![core(W::I32)];
                if let Some(first) = self.blocks().first() {
                    pushes.extend(first.results.iter().copied());
                }
                e(vec![Value], pushes)
            }
            Step::VariantLift { joined, .. }
            | Step::OptionLift { joined, .. }
            | Step::ResultLift { joined, .. } => {
                let mut pops = vec![core(W::I32)];
                pops.extend(cores(joined));
                e(pops, vec![Value])
            }
            Step::FreeString { .. }
            | Step::FreeList { .. }
            | Step::FreeVariant { .. }
            | Step::FreeHandle { .. }
            | Step::Area { .. }
            | Step::FreeArea { .. } => e(vec![], vec![]),
            Step::FreeTemporaries { results } => e(results.clone(), results.clone()),
            Step::GetArg { .. } => e(vec![], vec![Value]),
            Step::CoreArg { ty, .. } => e(vec![], vec![core(*ty)]),
            Step::AreaAddress { .. } => e(vec![], vec![core(W::Pointer)]),
            Step::CallImport { params, results } => e(cores(params), cores(results)),
            Step::ArgLifted { .. } => e(vec![Value], vec![Value]),
            Step::CallImpl { params, results } => e(vec![Value; *params], vec![Value; *results]),
            Step::Return { results } => e(results.clone(), vec![]),
            Step::AwaitSubtask => e(vec![core(W::I32)], vec![]),
            Step::SpawnTask { params } => e(vec![Value; *params], vec![core(W::I32)]),
        }
    }

    /// The step's nested blocks, in the order they are driven (none for a
    /// simple step).
    pub fn blocks(&self) -> Vec<&Block> {
        match self {
            Step::ListLower { store: b, .. }
            | Step::ListLift { load: b, .. }
            | Step::MapLower { store: b, .. }
            | Step::MapLift { load: b, .. }
            | Step::FreeList { element: b, .. } => vec![b],
            Step::RecordLower { fields, .. }
            | Step::RecordLift { fields, .. }
            | Step::TupleLower { fields, .. }
            | Step::TupleLift { fields, .. } => fields.iter().collect(),
            Step::VariantLower { cases, .. }
            | Step::VariantLift { cases, .. }
            | Step::FreeVariant { cases, .. } => cases.iter().collect(),
            Step::OptionLower { none, some, .. } | Step::OptionLift { none, some, .. } => {
                vec![none, some]
            }
            Step::ResultLower { ok, err, .. } | Step::ResultLift { ok, err, .. } => vec![ok, err],
            _ => Vec::new(),
        }
    }

    /// The step's name, as in the plan dumps (`ListLower`).
    pub fn name(&self) -> &'static str {
        match self {
            Step::I32FromBool => "I32FromBool",
            Step::I32FromU8 => "I32FromU8",
            Step::I32FromS8 => "I32FromS8",
            Step::I32FromU16 => "I32FromU16",
            Step::I32FromS16 => "I32FromS16",
            Step::I32FromU32 => "I32FromU32",
            Step::I32FromS32 => "I32FromS32",
            Step::I64FromU64 => "I64FromU64",
            Step::I64FromS64 => "I64FromS64",
            Step::CoreF32FromF32 => "CoreF32FromF32",
            Step::CoreF64FromF64 => "CoreF64FromF64",
            Step::I32FromChar => "I32FromChar",
            Step::BoolFromI32 => "BoolFromI32",
            Step::U8FromI32 => "U8FromI32",
            Step::S8FromI32 => "S8FromI32",
            Step::U16FromI32 => "U16FromI32",
            Step::S16FromI32 => "S16FromI32",
            Step::U32FromI32 => "U32FromI32",
            Step::S32FromI32 => "S32FromI32",
            Step::U64FromI64 => "U64FromI64",
            Step::S64FromI64 => "S64FromI64",
            Step::F32FromCoreF32 => "F32FromCoreF32",
            Step::F64FromCoreF64 => "F64FromCoreF64",
            Step::CharFromI32 => "CharFromI32",
            Step::Load { .. } => "Load",
            Step::Store { .. } => "Store",
            Step::Casts(_) => "Casts",
            Step::Zeros(_) => "Zeros",
            Step::Drop(_) => "Drop",
            Step::StringLower { .. } => "StringLower",
            Step::StringLift => "StringLift",
            Step::ListLower { .. } => "ListLower",
            Step::ListLift { .. } => "ListLift",
            Step::MapLower { .. } => "MapLower",
            Step::MapLift { .. } => "MapLift",
            Step::RecordLower { .. } => "RecordLower",
            Step::RecordLift { .. } => "RecordLift",
            Step::TupleLower { .. } => "TupleLower",
            Step::TupleLift { .. } => "TupleLift",
            Step::FlagsLower { .. } => "FlagsLower",
            Step::FlagsLift { .. } => "FlagsLift",
            Step::EnumLower { .. } => "EnumLower",
            Step::EnumLift { .. } => "EnumLift",
            Step::VariantLower { .. } => "VariantLower",
            Step::VariantLift { .. } => "VariantLift",
            Step::OptionLower { .. } => "OptionLower",
            Step::OptionLift { .. } => "OptionLift",
            Step::ResultLower { .. } => "ResultLower",
            Step::ResultLift { .. } => "ResultLift",
            Step::HandleLower { .. } => "HandleLower",
            Step::HandleLift { .. } => "HandleLift",
            Step::PayloadLower { .. } => "PayloadLower",
            Step::PayloadLift { .. } => "PayloadLift",
            Step::FreeString { .. } => "FreeString",
            Step::FreeList { .. } => "FreeList",
            Step::FreeVariant { .. } => "FreeVariant",
            Step::FreeHandle { .. } => "FreeHandle",
            Step::GetArg { .. } => "GetArg",
            Step::CoreArg { .. } => "CoreArg",
            Step::Area { .. } => "Area",
            Step::AreaAddress { .. } => "AreaAddress",
            Step::CallImport { .. } => "CallImport",
            Step::FreeTemporaries { .. } => "FreeTemporaries",
            Step::ArgLifted { .. } => "ArgLifted",
            Step::FreeArea { .. } => "FreeArea",
            Step::CallImpl { .. } => "CallImpl",
            Step::Return { .. } => "Return",
            Step::AwaitSubtask => "AwaitSubtask",
            Step::SpawnTask { .. } => "SpawnTask",
        }
    }
}
