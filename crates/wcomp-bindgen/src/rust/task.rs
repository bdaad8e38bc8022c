//! Async functions (the component model's callback ABI): the executor
//! written into `_rt` once per file, and the items around an async export
//! (its task-return function and its `[callback]` export).
//!
//! The bodies stay the plan's: an async import is an `async fn` whose
//! sequence awaits the subtask ([`Step::AwaitSubtask`]); an async export's
//! shim lifts the arguments and spawns a task ([`Step::SpawnTask`]) whose
//! future awaits the user's implementation and hands the result to the
//! task-return function, spelled like an import from its own plan.
//!
//! [`Step::AwaitSubtask`]: crate::abi::Step::AwaitSubtask
//! [`Step::SpawnTask`]: crate::abi::Step::SpawnTask

use std::fmt::Write as _;

use wcomp_abi::{CoreName, FunctionPlan, TaskIntrinsic};

use super::func::{self, ImportSpelling};
use super::{Gen, resource};
use crate::BindError;

/// The name of the task-return function of async export `f`.
pub(super) fn task_return_fn(g: &Gen<'_>, f: &FunctionPlan) -> String {
    format!("_task_return_{}", resource::shim_stem(g, f))
}

/// The argument that passes the result to the task-return function: its
/// parameter is spelled as an import's, so strings, lists and maps are
/// lent.
pub(super) fn task_return_arg(g: &Gen<'_>, f: &FunctionPlan, path: &[String]) -> Option<String> {
    let ty = f.function.result?;
    Some(match g.param_ty(&ty, path).starts_with('&') {
        true => "&result".to_string(),
        false => "result".to_string(),
    })
}

/// The items of async export `f` beside its shim: the task-return
/// function, and the `[callback]` export in the `export!` macro.
pub(super) fn export_items(
    g: &Gen<'_>,
    f: &FunctionPlan,
    path: &[String],
    out: &mut String,
    macro_body: &mut String,
) -> Result<(), BindError> {
    let calls = f
        .asynchronous
        .as_ref()
        .ok_or_else(|| BindError::Internal(format!("`{}` has no async plan", f.function.name)))?;
    let (Some(task_return), Some(CoreName::Export { name: callback })) =
        (&calls.task_return, &calls.callback)
    else {
        return Err(BindError::Internal(format!(
            "async export `{}` lacks its task-return plan or callback",
            f.function.name
        )));
    };
    func::import_with(
        g,
        task_return,
        path,
        out,
        ImportSpelling {
            name: task_return_fn(g, f),
            public: false,
            docs: false,
        },
    )?;
    let stem = resource::shim_stem(g, f);
    let rt = g.rt(path);
    let _ = writeln!(
        out,
        "#[doc(hidden)]\npub unsafe fn _callback_{stem}(event: i32, handle: i32, payload: i32) -> i32 {{\n\
         unsafe {{ {rt}::task::callback(event, handle, payload) }}\n}}"
    );
    let mpath = path.join("::");
    let sep = if mpath.is_empty() { "" } else { "::" };
    let unique = super::names::path_ident(path);
    let _ = writeln!(
        macro_body,
        "#[unsafe(export_name = {callback:?})]\n\
         unsafe extern \"C\" fn {unique}_callback_{stem}(event: i32, handle: i32, payload: i32) -> i32 {{\n\
         unsafe {{ $PATH{sep}{mpath}::_callback_{stem}(event, handle, payload) }}\n}}"
    );
    Ok(())
}

/// `_rt::task`, up to its closing brace: the executor of async exports, in
/// every file whose world has an async function or a future or stream.
const EXECUTOR: &str = r#"
/// The executor of async exports (the component model's callback ABI), and
/// the ends of futures and streams.
///
/// Each call of an async export is a task: the export's future, and the
/// futures [`spawn`]ed inside it, polled first when the call starts and
/// again whenever the host delivers an event to the export's `[callback]`.
/// The export's own future returns its result (`task.return`); the task
/// ends (`EXIT`) once every one of its futures has. The task lives in a
/// box whose address is the task's context word (`context.set`), which is
/// how the callback, and the futures awaiting an import or a read or write,
/// find it. Something that does not finish at once (an import's subtask, a
/// read or write) joins the task's waitable set until its event arrives;
/// the export then tells the host to `WAIT` on that set. A future woken
/// while it is polled is polled again (`YIELD`). No threads, no allocation
/// beyond the task's box and its futures.
///
/// Cancellation goes both ways. Dropping the future of an async import's
/// call before it has returned cancels the call (`subtask.cancel`, which
/// waits until the callee has stopped, so that nothing writes to the
/// call's memory afterwards); its result, if it came meanwhile, is lost.
/// When the caller of an async export cancels it, the task's futures are
/// dropped (so their own calls, reads and writes are cancelled in turn)
/// and the task ends with `task.cancel` instead of a result.
///
/// Not offered (yet): waking a task from another one (a task runs at its
/// own events only).
pub mod task {
    extern crate alloc;
    use alloc::boxed::Box;
    use alloc::sync::Arc;
    use alloc::task::Wake;
    use alloc::vec::Vec;
    use core::cell::{Cell, RefCell};
    use core::future::Future;
    use core::pin::Pin;
    use core::sync::atomic::{AtomicBool, Ordering};
    use core::task::{Context, Poll, Waker};

    /// Callback codes: done, call again soon, wait on a set (`| set << 4`).
    const EXIT: i32 = 0;
    const YIELD: i32 = 1;
    const WAIT: i32 = 2;
    /// No event; events that concern a waitable (a subtask, a future or
    /// stream end).
    const EVENT_NONE: u32 = 0;
    const EVENT_SUBTASK: u32 = 1;
    const EVENT_FUTURE_WRITE: u32 = 5;
    /// The caller cancelled the task.
    const EVENT_CANCELLED: u32 = 6;
    /// A subtask's status once it has returned.
    const RETURNED: u32 = 2;

    // {TASK_INTRINSICS}

    /// Set when the task's waker is woken.
    struct Woken(AtomicBool);

    impl Wake for Woken {
        fn wake(self: Arc<Self>) {
            self.0.store(true, Ordering::Relaxed);
        }
    }

    type Job = Pin<Box<dyn Future<Output = ()>>>;

    /// One call of an async export. Only shared references to it are made:
    /// its futures are taken out while they are polled.
    struct Task {
        futures: Cell<Vec<Job>>,
        /// Futures spawned while the others were polled.
        spawned: RefCell<Vec<Job>>,
        /// The waitable set things join while they wait, 0 until one does.
        set: Cell<i32>,
        /// Events that came for waitables, `(handle, event, payload)`,
        /// until the future waiting on each takes its own.
        events: RefCell<Vec<(u32, u32, u32)>>,
        woken: Arc<Woken>,
    }

    /// Starts the task of an async export's call, running `future` until
    /// it first waits; returns the callback code for the host.
    #[doc(hidden)]
    pub fn start(future: impl Future<Output = ()> + 'static) -> i32 {
        let task = Box::into_raw(Box::new(Task {
            futures: Cell::new(alloc::vec![Box::pin(future) as Job]),
            spawned: RefCell::new(Vec::new()),
            set: Cell::new(0),
            events: RefCell::new(Vec::new()),
            woken: Arc::new(Woken(AtomicBool::new(false))),
        }));
        unsafe {
            context_set(task as i32);
            run(task)
        }
    }

    /// Runs `future` inside the current task, beside the export's own: the
    /// task (the export's call) ends only when it has finished too, so it
    /// may go on after the export has returned its result, to write a
    /// stream it returned, say.
    pub fn spawn(future: impl Future<Output = ()> + 'static) {
        current().spawned.borrow_mut().push(Box::pin(future));
    }

    /// The `[callback]` of every async export: records the event for the
    /// current task and runs it again.
    #[doc(hidden)]
    pub unsafe fn callback(event: i32, handle: i32, payload: i32) -> i32 {
        unsafe {
            let task = context_get() as *mut Task;
            if event as u32 == EVENT_CANCELLED {
                return cancelled(task);
            }
            (*task).record(event as u32, handle as u32, payload as u32);
            run(task)
        }
    }

    /// The caller cancelled the task: its futures are dropped (with the
    /// context still set, so that what they wait on is cancelled too), and
    /// the task ends without a result.
    unsafe fn cancelled(task: *mut Task) -> i32 {
        let t = unsafe { &*task };
        drop(t.futures.take());
        drop(core::mem::take(&mut *t.spawned.borrow_mut()));
        unsafe {
            task_cancel();
            end(task)
        }
    }

    /// Frees the task once nothing of it is left.
    unsafe fn end(task: *mut Task) -> i32 {
        let set = unsafe { (*task).set.get() };
        unsafe {
            if set != 0 {
                waitable_set_drop(set);
            }
            context_set(0);
            drop(Box::from_raw(task));
        }
        EXIT
    }

    impl Task {
        fn record(&self, event: u32, handle: u32, payload: u32) {
            if (EVENT_SUBTASK..=EVENT_FUTURE_WRITE).contains(&event) {
                self.events.borrow_mut().push((handle, event, payload));
            }
        }
    }

    /// Polls the task's futures (and those they spawn) until they wait:
    /// when none is left, the task is freed and `EXIT` returned. A future
    /// that woke itself gets the events already there (`waitable-set.poll`)
    /// before the task yields, as a yielding task is given none.
    unsafe fn run(task: *mut Task) -> i32 {
        let t = unsafe { &*task };
        let waker = Waker::from(t.woken.clone());
        let mut cx = Context::from_waker(&waker);
        let mut futures = t.futures.take();
        loop {
            t.woken.0.store(false, Ordering::Relaxed);
            loop {
                futures.retain_mut(|f| f.as_mut().poll(&mut cx).is_pending());
                let spawned = core::mem::take(&mut *t.spawned.borrow_mut());
                if spawned.is_empty() {
                    break;
                }
                // Newly spawned futures run now, up to their first wait.
                futures.extend(spawned);
            }
            let set = t.set.get();
            if futures.is_empty() || !t.woken.0.load(Ordering::Relaxed) || set == 0 {
                break;
            }
            let mut out = [0u32; 2];
            let event = unsafe { waitable_set_poll(set, out.as_mut_ptr().cast()) } as u32;
            if event == EVENT_NONE {
                break;
            }
            t.record(event, out[0], out[1]);
        }
        if futures.is_empty() {
            return unsafe { end(task) };
        }
        t.futures.set(futures);
        if t.woken.0.load(Ordering::Relaxed) {
            return YIELD;
        }
        match t.set.get() {
            0 => panic!("an async export awaits a future that no component-model event wakes"),
            set => WAIT | (set << 4),
        }
    }

    /// The task whose futures are being polled.
    fn current() -> &'static Task {
        let task = unsafe { context_get() } as *const Task;
        assert!(!task.is_null(), "an async import, read or write was awaited outside an async export");
        unsafe { &*task }
    }

    /// Stops waiting for `handle`: takes it out of the task's set, and
    /// takes back the last event already delivered for it, if any. Called
    /// from the guards of waits, which exist only once a future was polled
    /// in a task and are dropped there (by `run`, or by `cancelled` before
    /// the context is cleared), so the task is always current.
    fn forget(handle: u32) -> Option<u32> {
        let task = current();
        if task.set.get() != 0 {
            unsafe { waitable_join(handle as i32, 0) };
        }
        let mut last = None;
        task.events.borrow_mut().retain(|e| {
            if e.0 != handle {
                return true;
            }
            last = Some(e.2);
            false
        });
        last
    }

    /// Waits for the next event of `handle` (a subtask, or a future or
    /// stream end with a read or write in flight): its payload.
    async fn event(handle: u32) -> u32 {
        let mut joined = false;
        core::future::poll_fn(move |_| {
            let task = current();
            if !joined {
                if task.set.get() == 0 {
                    task.set.set(unsafe { waitable_set_new() });
                }
                unsafe { waitable_join(handle as i32, task.set.get()) };
                joined = true;
            }
            let mut events = task.events.borrow_mut();
            match events.iter().position(|e| e.0 == handle) {
                Some(i) => {
                    let (_, _, payload) = events.remove(i);
                    unsafe { waitable_join(handle as i32, 0) };
                    Poll::Ready(payload)
                }
                None => Poll::Pending,
            }
        })
        .await
    }

    /// Waits until the subtask of an async import's call has returned
    /// (`status` is what `[async-lower]` returned: `handle << 4 | state`),
    /// then drops it. Its result is then in the call's return area. Dropped
    /// before that, it cancels the subtask, and returns once the callee has
    /// stopped: the call's areas are then free to go.
    #[doc(hidden)]
    pub async fn subtask(status: i32) {
        let (handle, mut state) = ((status as u32) >> 4, status as u32 & 0xf);
        if state == RETURNED {
            if handle != 0 {
                unsafe { subtask_drop(handle as i32) };
            }
            return;
        }
        /// Cancels and drops the subtask unless it has returned.
        struct InFlight(u32, bool);
        impl Drop for InFlight {
            fn drop(&mut self) {
                if self.1 {
                    return;
                }
                // A returned subtask cannot be cancelled; one whose return
                // is not delivered yet answers the cancel with it.
                if forget(self.0) != Some(RETURNED) {
                    unsafe { subtask_cancel(self.0 as i32) };
                }
                unsafe { subtask_drop(self.0 as i32) };
            }
        }
        let mut in_flight = InFlight(handle, false);
        while state != RETURNED {
            state = event(handle).await;
        }
        in_flight.1 = true;
        unsafe { subtask_drop(handle as i32) };
    }
"#;

/// The task intrinsics the executor calls, by the Rust names it calls them
/// (and their parameters).
const EXECUTOR_INTRINSICS: [(TaskIntrinsic, &str, &[&str]); 9] = [
    (TaskIntrinsic::WaitableSetNew, "waitable_set_new", &[]),
    (
        TaskIntrinsic::WaitableSetDrop,
        "waitable_set_drop",
        &["set"],
    ),
    (
        TaskIntrinsic::WaitableSetPoll,
        "waitable_set_poll",
        &["set", "out"],
    ),
    (
        TaskIntrinsic::WaitableJoin,
        "waitable_join",
        &["waitable", "set"],
    ),
    (TaskIntrinsic::SubtaskDrop, "subtask_drop", &["subtask"]),
    (TaskIntrinsic::SubtaskCancel, "subtask_cancel", &["subtask"]),
    (TaskIntrinsic::ContextGet, "context_get", &[]),
    (TaskIntrinsic::ContextSet, "context_set", &["value"]),
    (TaskIntrinsic::TaskCancel, "task_cancel", &[]),
];

/// The executor (`EXECUTOR`), its intrinsics' imports spelled from the abi
/// crate's plan (module, name and core signature of each).
pub(super) fn executor() -> Result<String, BindError> {
    let mut modules: Vec<(String, String)> = Vec::new();
    let mut stubs = String::new();
    for (intrinsic, name, params) in EXECUTOR_INTRINSICS {
        let planned = intrinsic.intrinsic();
        let CoreName::Import { module, field } = &planned.name else {
            return Err(BindError::Internal(
                "a task intrinsic that is no import".into(),
            ));
        };
        let sig = func::core_signature(&planned.signature)?;
        if params.len() != planned.signature.params.len() {
            return Err(BindError::Internal(format!(
                "`{field}` takes other parameters"
            )));
        }
        let named: Vec<String> = params
            .iter()
            .zip(&planned.signature.params)
            .map(|(p, t)| format!("{p}: {}", super::body::core_ty(*t)))
            .collect();
        let ret = sig.rsplit_once(')').map_or("", |(_, ret)| ret);
        let line = format!(
            "        #[link_name = {field:?}]\n        fn {name}({}){ret};\n",
            named.join(", ")
        );
        match modules.iter_mut().find(|(m, _)| m == module) {
            Some((_, lines)) => lines.push_str(&line),
            None => modules.push((module.clone(), line)),
        }
        let _ = writeln!(
            stubs,
            "    #[cfg(not(target_arch = \"wasm32\"))]\n    unsafe fn {name}{sig} {{ unreachable!() }}"
        );
    }
    let mut imports = String::new();
    for (module, lines) in modules {
        let _ = write!(
            imports,
            "    #[cfg(target_arch = \"wasm32\")]\n    #[link(wasm_import_module = {module:?})]\n    \
             unsafe extern \"C\" {{\n{lines}    }}\n"
        );
    }
    imports.push_str(&stubs);
    Ok(EXECUTOR.replace("    // {TASK_INTRINSICS}\n", &imports))
}
