//! The async canonical ABI with callbacks (component-model async, the ABI
//! of WASI 0.3): the core names and signatures of `async func`s, of the
//! intrinsics of each `future<T>` and `stream<T>` a function mentions, and
//! of the task intrinsics every async guest imports; and the numbers that
//! cross between them ([`codes`]).
//!
//! Names come from wit-parser's legacy mangling with the callback ABI
//! (`ManglingAndAbi::Legacy(LiftLowerAbi::AsyncCallback)`), the only one
//! wit-parser spells async in; signatures from its `wasm_signature` and,
//! for the intrinsics, from the component-model explainer as wit-component
//! checks them. The tests compare every name and signature with
//! wit-component's own dummy module and wrap a module made from them.
//!
//! What a guest does with them (the callback protocol):
//!
//! * an **async export** `f` is the core export `[async-lift]K#f`, whose
//!   parameters are flat (at most 16, else one pointer) and whose `i32`
//!   result is a [`codes::callback`] code; the host then calls
//!   `[callback][async-lift]K#f(event, handle, payload) -> code` on every
//!   [`codes::event`] until it returns `EXIT`; the result goes out through
//!   the import `[task-return]f` of module `[export]K`, exactly once;
//! * an **async import** `f` is `[async-lower]f` of module `K`: at most 4
//!   flat parameters (else one pointer to a parameter area the caller
//!   keeps until the subtask has started), then a pointer to the return
//!   area when there is a result; it returns a packed
//!   [`codes::subtask`] status;
//! * a `future`/`stream` is an `i32` handle; its intrinsics are named
//!   after the function and the position `N` of its type among the
//!   function's futures and streams (`[stream-read-N]f`).

use wit_parser::abi::{AbiVariant, WasmSignature, WasmType};
use wit_parser::{
    Function, FutureIntrinsic, LiftLowerAbi, ManglingAndAbi, Resolve, StreamIntrinsic, Type,
    TypeDefKind, TypeId, WasmExport, WasmExportKind, WasmImport, WorldId, WorldKey,
};

use crate::{
    AbiError, Block, CoreName, Direction, FreeMode, Layout, Layouts, TypePlans, has_own_handle,
    has_payload, world_functions,
};

/// The mangling and ABI of every async name.
const ASYNC: ManglingAndAbi = ManglingAndAbi::Legacy(LiftLowerAbi::AsyncCallback);

/// The numbers of the callback protocol, as wasmtime and the explainer
/// define them.
pub mod codes {
    /// What `[async-lift]` and `[callback]` exports return: a code in the
    /// low 4 bits, a waitable set above them (for `WAIT`).
    pub mod callback {
        /// The task is done; `task.return` has been called.
        pub const EXIT: u32 = 0;
        /// Call the callback again soon, with event `NONE`.
        pub const YIELD: u32 = 1;
        /// Call the callback on the next event of waitable set `set`.
        pub const WAIT: u32 = 2;

        /// `WAIT` on `set`.
        pub const fn wait(set: u32) -> u32 {
            WAIT | (set << 4)
        }
    }

    /// The event a `[callback]` receives, with a handle and a payload.
    pub mod event {
        pub const NONE: u32 = 0;
        /// A subtask's status changed: the handle is the subtask's, the
        /// payload its new [`subtask`](super::subtask) status.
        pub const SUBTASK: u32 = 1;
        /// A read or write of a stream or future finished: the handle is
        /// the end's, the payload a [`copy`](super::copy) result.
        pub const STREAM_READ: u32 = 2;
        pub const STREAM_WRITE: u32 = 3;
        pub const FUTURE_READ: u32 = 4;
        pub const FUTURE_WRITE: u32 = 5;
        /// The caller cancelled the task.
        pub const CANCELLED: u32 = 6;
    }

    /// The status of a call through `[async-lower]`: returned as
    /// `handle << 4 | status` (handle 0 when it has returned already).
    pub mod subtask {
        pub const STARTING: u32 = 0;
        /// The parameters are read: the parameter area may be freed.
        pub const STARTED: u32 = 1;
        /// The result is in the return area.
        pub const RETURNED: u32 = 2;
        pub const START_CANCELLED: u32 = 3;
        pub const RETURN_CANCELLED: u32 = 4;
    }

    /// The result of a stream or future read or write: `BLOCKED`, or the
    /// count of values moved `<< 4 |` how it ended.
    pub mod copy {
        /// Not finished: wait for its event on a waitable set.
        pub const BLOCKED: u32 = 0xffff_ffff;
        pub const COMPLETED: u32 = 0;
        /// The other end is dropped: no more values will come.
        pub const DROPPED: u32 = 1;
        pub const CANCELLED: u32 = 2;
        /// The most values one read or write may move.
        pub const MAX_COUNT: u32 = (1 << 28) - 1;
    }
}

/// A core function of the async ABI: where it is and its flat signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intrinsic {
    pub name: CoreName,
    pub signature: WasmSignature,
}

/// The async facts of one `async func` a guest imports or exports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsyncFunctionPlan {
    /// The interface the function belongs to, `None` at world level.
    pub interface: Option<WorldKey>,
    pub function: Function,
    pub direction: Direction,
    /// The function itself: `[async-lower]f` of module `K` (import) or the
    /// export `[async-lift]K#f`, with wit-parser's async signature.
    pub entry: Intrinsic,
    /// Exports only: `[callback][async-lift]K#f`,
    /// `(event: i32, handle: i32, payload: i32) -> i32`.
    pub callback: Option<Intrinsic>,
    /// Exports only: `[task-return]f` of module `[export]K`, taking the
    /// result flat (at most 16 core values, else a pointer to it).
    pub task_return: Option<Intrinsic>,
    /// Imports with more than 4 flat parameters: the area holding them,
    /// which the caller keeps until the subtask has started.
    pub params_area: Option<Layout>,
    /// Imports with a result: the area it is written to, which the caller
    /// keeps until the subtask has returned.
    pub return_area: Option<Layout>,
}

/// Future or stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PayloadKind {
    Future,
    Stream,
}

/// An operation on a future or stream end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PayloadOp {
    /// `() -> i64`: a new pair, the readable end in the low 32 bits and the
    /// writable end in the high 32.
    New,
    /// `[async-lower]`: `(end, ptr[, count]) -> copy result`.
    Read,
    /// `[async-lower]`: `(end, ptr[, count]) -> copy result`.
    Write,
    /// `(end) -> copy result`.
    CancelRead,
    /// `(end) -> copy result`.
    CancelWrite,
    /// `(end) -> ()`.
    DropReadable,
    /// `(end) -> ()`.
    DropWritable,
}

impl PayloadOp {
    pub const ALL: [PayloadOp; 7] = [
        PayloadOp::New,
        PayloadOp::Read,
        PayloadOp::Write,
        PayloadOp::CancelRead,
        PayloadOp::CancelWrite,
        PayloadOp::DropReadable,
        PayloadOp::DropWritable,
    ];

    /// Reads and writes are lowered async (they may block, and a
    /// synchronous read or write needs a feature wasmtime leaves off);
    /// the rest are synchronous.
    fn is_async(self) -> bool {
        matches!(self, PayloadOp::Read | PayloadOp::Write)
    }
}

/// A `future<T>` or `stream<T>` type as one function uses it, and the
/// intrinsics that create, move and drop its values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadPlan {
    pub interface: Option<WorldKey>,
    /// The function's WIT name.
    pub function: String,
    pub direction: Direction,
    /// Its position among the function's futures and streams (parameters,
    /// then the result; an inner one before the one holding it), the `N`
    /// of `[stream-read-N]`.
    pub index: usize,
    pub ty: TypeId,
    pub kind: PayloadKind,
    /// `T`, `None` for a `future`/`stream` without one.
    pub element: Option<Type>,
    /// `T`'s size and alignment: a read or write buffer holds its values
    /// back to back.
    pub element_layout: Option<Layout>,
    /// One per [`PayloadOp`], in [`PayloadOp::ALL`] order.
    pub intrinsics: Vec<(PayloadOp, Intrinsic)>,
}

/// The intrinsics of tasks, subtasks and waitable sets that the callback
/// protocol uses, each imported once per module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaskIntrinsic {
    /// `[task-cancel]` of `[export]$root`: `() -> ()`, ends a cancelled
    /// task instead of `task.return`.
    TaskCancel,
    /// `() -> ()`: stop (`inc`) and resume (`dec`) new calls to exports.
    BackpressureInc,
    BackpressureDec,
    /// `() -> i32`.
    WaitableSetNew,
    /// `(set, out: ptr) -> event`, the handle and payload at `out`.
    WaitableSetWait,
    /// As `wait`, but `NONE` at once when nothing is ready.
    WaitableSetPoll,
    /// `(set) -> ()`.
    WaitableSetDrop,
    /// `(waitable, set) -> ()`; set 0 takes it out of its set.
    WaitableJoin,
    /// `() -> i32`: let other tasks run; 1 when this one was cancelled.
    ThreadYield,
    /// `(subtask) -> ()`, once it has returned or was cancelled.
    SubtaskDrop,
    /// `(subtask) -> status`.
    SubtaskCancel,
    /// `() -> i32` and `(i32) -> ()`: the task's own word (its state).
    ContextGet,
    ContextSet,
}

impl TaskIntrinsic {
    pub const ALL: [TaskIntrinsic; 13] = [
        TaskIntrinsic::TaskCancel,
        TaskIntrinsic::BackpressureInc,
        TaskIntrinsic::BackpressureDec,
        TaskIntrinsic::WaitableSetNew,
        TaskIntrinsic::WaitableSetWait,
        TaskIntrinsic::WaitableSetPoll,
        TaskIntrinsic::WaitableSetDrop,
        TaskIntrinsic::WaitableJoin,
        TaskIntrinsic::ThreadYield,
        TaskIntrinsic::SubtaskDrop,
        TaskIntrinsic::SubtaskCancel,
        TaskIntrinsic::ContextGet,
        TaskIntrinsic::ContextSet,
    ];

    /// Its core import.
    pub fn intrinsic(self) -> Intrinsic {
        use WasmType::{I32, Pointer};
        let (field, params, results): (&str, &[WasmType], &[WasmType]) = match self {
            TaskIntrinsic::TaskCancel => ("[task-cancel]", &[], &[]),
            TaskIntrinsic::BackpressureInc => ("[backpressure-inc]", &[], &[]),
            TaskIntrinsic::BackpressureDec => ("[backpressure-dec]", &[], &[]),
            TaskIntrinsic::WaitableSetNew => ("[waitable-set-new]", &[], &[I32]),
            TaskIntrinsic::WaitableSetWait => ("[waitable-set-wait]", &[I32, Pointer], &[I32]),
            TaskIntrinsic::WaitableSetPoll => ("[waitable-set-poll]", &[I32, Pointer], &[I32]),
            TaskIntrinsic::WaitableSetDrop => ("[waitable-set-drop]", &[I32], &[]),
            TaskIntrinsic::WaitableJoin => ("[waitable-join]", &[I32, I32], &[]),
            TaskIntrinsic::ThreadYield => ("[thread-yield]", &[], &[I32]),
            TaskIntrinsic::SubtaskDrop => ("[subtask-drop]", &[I32], &[]),
            TaskIntrinsic::SubtaskCancel => ("[subtask-cancel]", &[I32], &[I32]),
            TaskIntrinsic::ContextGet => ("[context-get-0]", &[], &[I32]),
            TaskIntrinsic::ContextSet => ("[context-set-0]", &[I32], &[]),
        };
        let module = match self {
            TaskIntrinsic::TaskCancel => "[export]$root",
            _ => "$root",
        };
        Intrinsic {
            name: CoreName::Import {
                module: module.into(),
                field: field.into(),
            },
            signature: signature(params, results),
        }
    }
}

/// The async ABI of a world: its async functions, every future and stream
/// its functions mention, and the task intrinsics (when there is any of
/// those; a world without either needs none).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AsyncWorldPlan {
    pub functions: Vec<AsyncFunctionPlan>,
    pub payloads: Vec<PayloadPlan>,
    pub task: Vec<(TaskIntrinsic, Intrinsic)>,
}

impl AsyncWorldPlan {
    /// Plans `world` of `resolve`, functions in [`world_functions`] order.
    pub fn new(resolve: &Resolve, world: WorldId) -> Result<AsyncWorldPlan, AbiError> {
        let layouts = Layouts::new(resolve)?;
        let mut functions = Vec::new();
        let mut payloads = Vec::new();
        for f in world_functions(resolve, world) {
            if f.function.kind.is_async() {
                functions.push(AsyncFunctionPlan::new(
                    resolve,
                    &layouts,
                    f.interface,
                    f.function,
                    f.direction,
                ));
            }
            payloads.extend(PayloadPlan::of(
                resolve,
                &layouts,
                f.interface,
                f.function,
                f.direction,
            ));
        }
        let task = match functions.is_empty() && payloads.is_empty() {
            true => Vec::new(),
            false => TaskIntrinsic::ALL
                .iter()
                .map(|&t| (t, t.intrinsic()))
                .collect(),
        };
        Ok(AsyncWorldPlan {
            functions,
            payloads,
            task,
        })
    }
}

impl AsyncFunctionPlan {
    /// The plan of `func`, an `async func` of `interface` (`None` at world
    /// level), imported or exported.
    pub fn new(
        resolve: &Resolve,
        layouts: &Layouts,
        interface: Option<&WorldKey>,
        func: &Function,
        direction: Direction,
    ) -> AsyncFunctionPlan {
        let key = interface;
        match direction {
            Direction::Import => {
                let signature = resolve.wasm_signature(AbiVariant::GuestImportAsync, func);
                let (module, field) = resolve.wasm_import_name(
                    ASYNC,
                    WasmImport::Func {
                        interface: key,
                        func,
                    },
                );
                let params_area = signature
                    .indirect_params
                    .then(|| layouts.record_of(func.params.iter().map(|p| &p.ty)));
                let return_area = func.result.as_ref().map(|r| layouts.layout(r));
                AsyncFunctionPlan {
                    interface: interface.cloned(),
                    function: func.clone(),
                    direction,
                    entry: Intrinsic {
                        name: CoreName::Import { module, field },
                        signature,
                    },
                    callback: None,
                    task_return: None,
                    params_area,
                    return_area,
                }
            }
            Direction::Export => {
                let export = |kind| {
                    resolve.wasm_export_name(
                        ASYNC,
                        WasmExport::Func {
                            interface: key,
                            func,
                            kind,
                        },
                    )
                };
                let (module, field, task_return) =
                    func.task_return_import(resolve, key, ASYNC.mangling());
                AsyncFunctionPlan {
                    interface: interface.cloned(),
                    function: func.clone(),
                    direction,
                    entry: Intrinsic {
                        name: CoreName::Export {
                            name: export(WasmExportKind::Normal),
                        },
                        signature: resolve.wasm_signature(AbiVariant::GuestExportAsync, func),
                    },
                    callback: Some(Intrinsic {
                        name: CoreName::Export {
                            name: export(WasmExportKind::Callback),
                        },
                        signature: signature(&[WasmType::I32; 3], &[WasmType::I32]),
                    }),
                    task_return: Some(Intrinsic {
                        name: CoreName::Import { module, field },
                        signature: task_return,
                    }),
                    params_area: None,
                    return_area: None,
                }
            }
        }
    }
}

impl PayloadPlan {
    /// Every future and stream `func` mentions, in the order that numbers
    /// them. Both an async and a sync function may pass them.
    pub fn of(
        resolve: &Resolve,
        layouts: &Layouts,
        interface: Option<&WorldKey>,
        func: &Function,
        direction: Direction,
    ) -> Vec<PayloadPlan> {
        let types = func.find_futures_and_streams(resolve);
        let mut out = Vec::new();
        for (index, &ty) in types.iter().enumerate() {
            // An interned type met twice is numbered by its first place.
            if types[..index].contains(&ty) {
                continue;
            }
            let (kind, element) = match &resolve.types[ty].kind {
                TypeDefKind::Future(t) => (PayloadKind::Future, *t),
                TypeDefKind::Stream(t) => (PayloadKind::Stream, *t),
                _ => continue,
            };
            let intrinsics = PayloadOp::ALL
                .iter()
                .map(|&op| {
                    let (module, field) =
                        payload_name(resolve, interface, func, direction, ty, kind, op);
                    let signature = payload_signature(kind, op);
                    (
                        op,
                        Intrinsic {
                            name: CoreName::Import { module, field },
                            signature,
                        },
                    )
                })
                .collect();
            out.push(PayloadPlan {
                interface: interface.cloned(),
                function: func.name.clone(),
                direction,
                index,
                ty,
                kind,
                element,
                element_layout: element.as_ref().map(|t| layouts.layout(t)),
                intrinsics,
            });
        }
        out
    }

    /// The intrinsic of `op`.
    pub fn intrinsic(&self, op: PayloadOp) -> &Intrinsic {
        let i = PayloadOp::ALL.iter().position(|&o| o == op).unwrap_or(0);
        &self.intrinsics[i].1
    }
}

fn payload_name(
    resolve: &Resolve,
    interface: Option<&WorldKey>,
    func: &Function,
    direction: Direction,
    ty: TypeId,
    kind: PayloadKind,
    op: PayloadOp,
) -> (String, String) {
    let exported = direction == Direction::Export;
    let async_ = op.is_async();
    let ty = Some(ty);
    let import = match kind {
        PayloadKind::Future => WasmImport::FutureIntrinsic {
            interface,
            func,
            ty,
            intrinsic: match op {
                PayloadOp::New => FutureIntrinsic::New,
                PayloadOp::Read => FutureIntrinsic::Read,
                PayloadOp::Write => FutureIntrinsic::Write,
                PayloadOp::CancelRead => FutureIntrinsic::CancelRead,
                PayloadOp::CancelWrite => FutureIntrinsic::CancelWrite,
                PayloadOp::DropReadable => FutureIntrinsic::DropReadable,
                PayloadOp::DropWritable => FutureIntrinsic::DropWritable,
            },
            exported,
            async_,
        },
        PayloadKind::Stream => WasmImport::StreamIntrinsic {
            interface,
            func,
            ty,
            intrinsic: match op {
                PayloadOp::New => StreamIntrinsic::New,
                PayloadOp::Read => StreamIntrinsic::Read,
                PayloadOp::Write => StreamIntrinsic::Write,
                PayloadOp::CancelRead => StreamIntrinsic::CancelRead,
                PayloadOp::CancelWrite => StreamIntrinsic::CancelWrite,
                PayloadOp::DropReadable => StreamIntrinsic::DropReadable,
                PayloadOp::DropWritable => StreamIntrinsic::DropWritable,
            },
            exported,
            async_,
        },
    };
    resolve.wasm_import_name(ASYNC, import)
}

fn payload_signature(kind: PayloadKind, op: PayloadOp) -> WasmSignature {
    use WasmType::{I32, I64, Length, Pointer};
    match (op, kind) {
        (PayloadOp::New, _) => signature(&[], &[I64]),
        (PayloadOp::Read | PayloadOp::Write, PayloadKind::Future) => {
            signature(&[I32, Pointer], &[I32])
        }
        (PayloadOp::Read | PayloadOp::Write, PayloadKind::Stream) => {
            signature(&[I32, Pointer, Length], &[I32])
        }
        (PayloadOp::CancelRead | PayloadOp::CancelWrite, _) => signature(&[I32], &[I32]),
        (PayloadOp::DropReadable | PayloadOp::DropWritable, _) => signature(&[I32], &[]),
    }
}

fn signature(params: &[WasmType], results: &[WasmType]) -> WasmSignature {
    WasmSignature {
        params: params.to_vec(),
        results: results.to_vec(),
        indirect_params: false,
        retptr: false,
    }
}

/// How the values of a future's or stream's element type cross in a read
/// or write buffer: back to back, `layout.size` bytes apart, each in its
/// memory form. A read or write names the buffer and a count; the
/// canonical ABI copies the values between the writer's and the reader's
/// memory, strings and lists included (into the reader's `cabi_realloc`
/// memory), and moves the handles they hold to the reader.
///
/// From [`TypePlans::element`]. Every block runs with the base at one
/// value in the buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElementPlan {
    pub element: Type,
    pub layout: Layout,
    /// A value holds owned handles, futures or streams, which a write
    /// moves to the reader: the writer owns the values it stores until it
    /// knows which were written ([`ElementPlan::store`]).
    pub moves_handles: bool,
    /// `[value] -> []`: stores a value the writer keeps, lending its
    /// strings and lists (they must outlive the write); buffers of lists
    /// stored element by element are freed at the end of the write as
    /// after an import's call ([`Step::FreeTemporaries`]). `None` when
    /// values move handles: a lent value cannot give them up.
    pub lend: Option<Block>,
    /// `[value] -> []`: stores a value handed over whole: strings and lists
    /// in `cabi_realloc` memory of their own, handles taken from it.
    pub store: Block,
    /// `[] -> [value]`: lifts a value read into the buffer (the reader owns
    /// what it points to), or takes back a stored value that was not
    /// written.
    pub load: Block,
    /// `[] -> []`: frees a stored value once written: its strings and
    /// lists (the reader has copies); its handles went to the reader.
    pub free_written: Block,
}

impl TypePlans<'_> {
    /// The buffer plan of `element`, the `T` of a `future<T>` or
    /// `stream<T>`.
    pub fn element(&self, element: &Type) -> Result<ElementPlan, AbiError> {
        let resolve = self.planner.resolve;
        Ok(ElementPlan {
            element: *element,
            layout: self.planner.layouts.layout(element),
            moves_handles: moves_handles(resolve, element),
            lend: match moves_handles(resolve, element) {
                true => None,
                false => Some(self.store(element, false)?),
            },
            store: self.store(element, true)?,
            load: self.load(element)?,
            free_written: self.free(element, FreeMode::Buffers)?,
        })
    }
}

/// Whether a value of `ty` holds an owned handle, a future or a stream:
/// something whose ownership passes with the value.
pub fn moves_handles(resolve: &Resolve, ty: &Type) -> bool {
    has_own_handle(resolve, ty) || has_payload(resolve, ty)
}
