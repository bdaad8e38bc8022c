//! Async functions in C (the component model's callback ABI), spelled
//! without an executor: C has no futures, so the user writes each task as
//! the state machine the protocol is. What this module adds once per world
//! that has an async function: the event and code macros (the abi crate's
//! `codes`), and functions over the task intrinsics (the abi crate's
//! `TaskIntrinsic`: module, name and signature of each).

use std::fmt::Write as _;

use heck::ToShoutySnakeCase;
use wcomp_abi::{PayloadKind, PayloadOp, PayloadPlan, TaskIntrinsic, codes};

use super::Gen;
use super::func::core_import;
use crate::BindError;

/// The intrinsics offered, by the name of their C function (after the
/// world's prefix), its C prototype's parameters and result, and how the
/// body calls the core import with them.
struct Offered {
    intrinsic: TaskIntrinsic,
    name: &'static str,
    params: &'static str,
    ret: &'static str,
    call: &'static str,
    doc: &'static str,
}

const OFFERED: [Offered; 11] = [
    Offered {
        intrinsic: TaskIntrinsic::WaitableSetNew,
        name: "waitable_set_new",
        params: "void",
        ret: "uint32_t",
        call: "return (uint32_t)IMPORT();",
        doc: "A new, empty waitable set.",
    },
    Offered {
        intrinsic: TaskIntrinsic::WaitableSetDrop,
        name: "waitable_set_drop",
        params: "uint32_t set",
        ret: "void",
        call: "IMPORT((int32_t)set);",
        doc: "Drops an empty waitable set.",
    },
    Offered {
        intrinsic: TaskIntrinsic::WaitableJoin,
        name: "waitable_join",
        params: "uint32_t waitable, uint32_t set",
        ret: "void",
        call: "IMPORT((int32_t)waitable, (int32_t)set);",
        doc: "Adds a subtask (or a stream or future end) to `set`; set 0 takes it out of its set.",
    },
    Offered {
        intrinsic: TaskIntrinsic::WaitableSetPoll,
        name: "waitable_set_poll",
        params: "uint32_t set, W_event_t *event",
        ret: "uint32_t",
        call: "uint32_t out[2];\nevent->event = (uint32_t)IMPORT((int32_t)set, (uint8_t *)out);\nevent->waitable = out[0];\nevent->code = out[1];\nreturn event->event;",
        doc: "The next event of `set`, without waiting: `BIG_EVENT_NONE` when there is none.",
    },
    Offered {
        intrinsic: TaskIntrinsic::SubtaskDrop,
        name: "subtask_drop",
        params: "uint32_t subtask",
        ret: "void",
        call: "IMPORT((int32_t)subtask);",
        doc: "Drops a subtask that has returned (or was cancelled).",
    },
    Offered {
        intrinsic: TaskIntrinsic::SubtaskCancel,
        name: "subtask_cancel",
        params: "uint32_t subtask",
        ret: "uint32_t",
        call: "return (uint32_t)IMPORT((int32_t)subtask);",
        doc: "Cancels a subtask, waiting until the callee has stopped: its final state\n(`BIG_SUBTASK_RETURNED` if it returned first). Drop it afterwards.",
    },
    Offered {
        intrinsic: TaskIntrinsic::ContextGet,
        name: "context_get",
        params: "void",
        ret: "void *",
        call: "return (void *)(uintptr_t)IMPORT();",
        doc: "The current task's word: its state, set with `W_context_set`.",
    },
    Offered {
        intrinsic: TaskIntrinsic::ContextSet,
        name: "context_set",
        params: "void *value",
        ret: "void",
        call: "IMPORT((int32_t)(uintptr_t)value);",
        doc: "Sets the current task's word (0 when the task starts).",
    },
    Offered {
        intrinsic: TaskIntrinsic::TaskCancel,
        name: "task_cancel",
        params: "void",
        ret: "void",
        call: "IMPORT();",
        doc: "Ends a task its caller cancelled (`BIG_EVENT_CANCELLED`), instead of\nits `_return`; then answer `BIG_CALLBACK_EXIT`.",
    },
    Offered {
        intrinsic: TaskIntrinsic::BackpressureInc,
        name: "backpressure_inc",
        params: "void",
        ret: "void",
        call: "IMPORT();",
        doc: "Holds back new calls of this component's exports until as many\n`W_backpressure_dec` calls.",
    },
    Offered {
        intrinsic: TaskIntrinsic::BackpressureDec,
        name: "backpressure_dec",
        params: "void",
        ret: "void",
        call: "IMPORT();",
        doc: "Lets new calls of this component's exports in again.",
    },
];

impl Gen<'_> {
    /// The async declarations (header) and the intrinsics' imports and
    /// functions (source).
    pub(super) fn async_support(&self, h: &mut String, c: &mut String) -> Result<(), BindError> {
        let w = &self.w;
        let big = w.to_shouty_snake_case();
        let _ = writeln!(
            h,
            "\n// Async functions (the component model's callback ABI). An async export\n\
             // is a task: its function starts it and answers a callback code; then, each\n\
             // time an event it waits for comes, the host calls its `_callback`, until a\n\
             // code says it is done ({big}_CALLBACK_EXIT). The task gives its result with\n\
             // the export's `_return` function, once. An async import starts a subtask\n\
             // and answers its status; what a task waits for (subtasks, reads, writes)\n\
             // joins a waitable set, and {big}_CALLBACK_WAIT(set) waits for its next event.\n\
             // Unless an import returned at once, join its subtask ({big}_SUBTASK_HANDLE)\n\
             // to a set: its {big}_EVENT_SUBTASK events say its state; once it has\n\
             // returned, drop it with `{w}_subtask_drop`. Keep a task's state on the heap,\n\
             // found with `{w}_context_get`.\n\n\
             typedef struct {w}_event {{\n\
             // {big}_EVENT_...\nuint32_t event;\n\
             // The subtask (or end) the event is about.\nuint32_t waitable;\n\
             // A subtask's state ({big}_SUBTASK_...), or a read's or write's result.\nuint32_t code;\n\
             }} {w}_event_t;\n"
        );
        let events = [
            ("NONE", codes::event::NONE),
            ("SUBTASK", codes::event::SUBTASK),
            ("STREAM_READ", codes::event::STREAM_READ),
            ("STREAM_WRITE", codes::event::STREAM_WRITE),
            ("FUTURE_READ", codes::event::FUTURE_READ),
            ("FUTURE_WRITE", codes::event::FUTURE_WRITE),
            ("CANCELLED", codes::event::CANCELLED),
        ];
        for (name, value) in events {
            let _ = writeln!(h, "#define {big}_EVENT_{name} {value}");
        }
        let _ = writeln!(
            h,
            "\n// What an export's function and `_callback` answer.\n\
             #define {big}_CALLBACK_EXIT {}\n#define {big}_CALLBACK_YIELD {}\n\
             #define {big}_CALLBACK_WAIT(set) ({}u | ((uint32_t)(set) << 4))\n\n\
             // An async import's status: its state, and its subtask's handle (0 when it\n\
             // returned at once).\n\
             #define {big}_SUBTASK_STARTING {}\n#define {big}_SUBTASK_STARTED {}\n\
             #define {big}_SUBTASK_RETURNED {}\n\
             #define {big}_SUBTASK_STATE(status) ((status) & 0xfu)\n\
             #define {big}_SUBTASK_HANDLE(status) ((status) >> 4)\n",
            codes::callback::EXIT,
            codes::callback::YIELD,
            codes::callback::WAIT,
            codes::subtask::STARTING,
            codes::subtask::STARTED,
            codes::subtask::RETURNED,
        );
        // `BIG_` is the world's macro prefix, `W_` its function prefix
        // (`W_` first: the macro prefix may well be `W_`).
        let spell = |text: &str| {
            text.replace("W_", &format!("{w}_"))
                .replace("BIG_", &format!("{big}_"))
        };
        for offered in &OFFERED {
            let planned = offered.intrinsic.intrinsic();
            let symbol = format!("__wasm_import_{w}_{}", offered.name);
            c.push_str(&core_import(&planned.name, &symbol, &planned.signature)?);
            let params = spell(offered.params);
            let head =
                super::body::declare(offered.ret, &format!("{w}_{}({params})", offered.name));
            for line in offered.doc.lines() {
                let _ = writeln!(h, "// {}", spell(line));
            }
            let _ = writeln!(h, "{head};");
            let body = spell(offered.call).replace("IMPORT", &symbol);
            let _ = writeln!(c, "\n{head} {{\n{body}\n}}\n");
        }
        Ok(())
    }
}

impl Gen<'_> {
    /// Per future or stream type the world's functions pass: making a pair
    /// of ends, reading, writing, cancelling and dropping, over the
    /// intrinsics of the first function passing it (every function's are
    /// the same type's). C's layout of every type being the canonical
    /// one, a buffer is an array of the element's C type.
    pub(super) fn payload_functions(
        &self,
        payloads: &[PayloadPlan],
        h: &mut String,
        c: &mut String,
    ) -> Result<(), BindError> {
        let big = self.w.to_shouty_snake_case();
        let _ = writeln!(
            h,
            "\n// A read's or write's result: {big}_COPY_BLOCKED (wait for the end's\n\
             // {big}_EVENT_..._READ or _WRITE event, whose code is the result), or how many\n\
             // values moved and how it ended. Values read are yours (free them with\n\
             // their type's `_free`); a write lends the values' strings and lists until\n\
             // it has finished, and hands the handles in the values it moved over.\n\
             #define {big}_COPY_BLOCKED 0x{:x}u\n#define {big}_COPY_COMPLETED {}\n\
             #define {big}_COPY_DROPPED {}\n#define {big}_COPY_CANCELLED {}\n\
             #define {big}_COPY_STATUS(code) ((code) & 0xfu)\n\
             #define {big}_COPY_COUNT(code) ((code) >> 4)",
            codes::copy::BLOCKED,
            codes::copy::COMPLETED,
            codes::copy::DROPPED,
            codes::copy::CANCELLED,
        );
        let mut done = std::collections::BTreeSet::new();
        for payload in payloads {
            // By structure: a named `type s = stream<T>` is a typedef of it.
            let reader = self.structural_name(&self.resolve.types[payload.ty].kind);
            if !done.insert(reader.clone()) {
                continue;
            }
            let base = reader.trim_end_matches("_t").to_string();
            let writer = format!("{base}_writer_t");
            let element = match &payload.element {
                Some(t) => self.cty(t),
                None => "void".to_string(),
            };
            let (what, count, n) = match payload.kind {
                PayloadKind::Stream => ("stream", ", size_t count", ", count"),
                PayloadKind::Future => ("future", "", ""),
            };
            let drops = match payload.kind {
                PayloadKind::Stream => "Drops an end (once).",
                PayloadKind::Future => {
                    "Drops an end (once). A writable end dropped unwritten traps,\n\
                     // unless the reader dropped its end first."
                }
            };
            let _ = writeln!(
                h,
                "\n// A new {what}: its readable end, and its writable end in `*writer`.\n\
                 {reader} {base}_new({writer} *writer);\n\
                 // Reads {} into `buf`; see {big}_COPY_...\n\
                 uint32_t {base}_read({reader} end, {element} *buf{count});\n\
                 // Writes {} at `buf`; see {big}_COPY_...\n\
                 uint32_t {base}_write({writer} end, const {element} *buf{count});\n\
                 // Cancels a read or write that blocked: its result.\n\
                 uint32_t {base}_cancel_read({reader} end);\n\
                 uint32_t {base}_cancel_write({writer} end);\n\
                 // {drops}\n\
                 void {base}_drop_readable({reader} end);\n\
                 void {base}_drop_writable({writer} end);",
                if count.is_empty() {
                    "the value"
                } else {
                    "up to `count` values"
                },
                if count.is_empty() {
                    "the value (once)"
                } else {
                    "up to `count` values"
                },
            );
            for (op, intrinsic) in &payload.intrinsics {
                let name = match op {
                    PayloadOp::New => "new",
                    PayloadOp::Read => "read",
                    PayloadOp::Write => "write",
                    PayloadOp::CancelRead => "cancel_read",
                    PayloadOp::CancelWrite => "cancel_write",
                    PayloadOp::DropReadable => "drop_readable",
                    PayloadOp::DropWritable => "drop_writable",
                };
                let symbol = format!("__wasm_import_{base}_{name}");
                c.push_str(&core_import(
                    &intrinsic.name,
                    &symbol,
                    &intrinsic.signature,
                )?);
                let body = match op {
                    PayloadOp::New => format!(
                        "{reader} {base}_new({writer} *writer) {{\n\
                         int64_t ends = {symbol}();\n\
                         writer->__handle = (int32_t)(ends >> 32);\n\
                         return ({reader}){{ (int32_t)ends }};\n}}"
                    ),
                    PayloadOp::Read => format!(
                        "uint32_t {base}_read({reader} end, {element} *buf{count}) {{\n\
                         return (uint32_t){symbol}(end.__handle, (uint8_t *)buf{n});\n}}"
                    ),
                    PayloadOp::Write => format!(
                        "uint32_t {base}_write({writer} end, const {element} *buf{count}) {{\n\
                         return (uint32_t){symbol}(end.__handle, (uint8_t *)buf{n});\n}}"
                    ),
                    PayloadOp::CancelRead => format!(
                        "uint32_t {base}_cancel_read({reader} end) {{\n\
                         return (uint32_t){symbol}(end.__handle);\n}}"
                    ),
                    PayloadOp::CancelWrite => format!(
                        "uint32_t {base}_cancel_write({writer} end) {{\n\
                         return (uint32_t){symbol}(end.__handle);\n}}"
                    ),
                    PayloadOp::DropReadable => format!(
                        "void {base}_drop_readable({reader} end) {{\n{symbol}(end.__handle);\n}}"
                    ),
                    PayloadOp::DropWritable => format!(
                        "void {base}_drop_writable({writer} end) {{\n{symbol}(end.__handle);\n}}"
                    ),
                };
                let _ = writeln!(c, "\n{body}\n");
            }
        }
        Ok(())
    }
}
