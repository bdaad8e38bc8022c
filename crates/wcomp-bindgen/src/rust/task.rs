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

use wcomp_abi::{CoreName, FunctionPlan};

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

/// `_rt::task`: the executor of async exports, in every file whose world
/// has an async function.
pub(super) const TASK_RUNTIME: &str = r#"
/// The executor of async exports (the component model's callback ABI).
///
/// Each call of an async export is a task: the export's future, polled
/// first when the call starts ([`spawn`]) and again whenever the host
/// delivers an event to the export's `[callback]` ([`callback`]). The task
/// lives in a box whose address is the task's context word (`context.set`),
/// which is how the callback, and an async import awaited inside the
/// future, find it. An async import that has not returned at once joins
/// the task's waitable set; the export then tells the host to `WAIT` on
/// that set, and the import's future completes when its subtask's
/// `RETURNED` event arrives. A future woken while it is polled is polled
/// again (`YIELD`). No threads, no allocation beyond the task's box.
///
/// Not offered (yet): cancellation (a cancelled task runs to its end), and
/// waking a task from another one (a task runs at its own events only).
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
    /// The event of a subtask's new status, and the status of one done.
    const EVENT_SUBTASK: i32 = 1;
    const RETURNED: u32 = 2;

    #[cfg(target_arch = "wasm32")]
    #[link(wasm_import_module = "$root")]
    unsafe extern "C" {
        #[link_name = "[waitable-set-new]"]
        fn waitable_set_new() -> i32;
        #[link_name = "[waitable-set-drop]"]
        fn waitable_set_drop(set: i32);
        #[link_name = "[waitable-join]"]
        fn waitable_join(waitable: i32, set: i32);
        #[link_name = "[subtask-drop]"]
        fn subtask_drop(subtask: i32);
        #[link_name = "[context-get-0]"]
        fn context_get() -> i32;
        #[link_name = "[context-set-0]"]
        fn context_set(value: i32);
    }
    #[cfg(not(target_arch = "wasm32"))]
    unsafe fn waitable_set_new() -> i32 { unreachable!() }
    #[cfg(not(target_arch = "wasm32"))]
    unsafe fn waitable_set_drop(_: i32) { unreachable!() }
    #[cfg(not(target_arch = "wasm32"))]
    unsafe fn waitable_join(_: i32, _: i32) { unreachable!() }
    #[cfg(not(target_arch = "wasm32"))]
    unsafe fn subtask_drop(_: i32) { unreachable!() }
    #[cfg(not(target_arch = "wasm32"))]
    unsafe fn context_get() -> i32 { unreachable!() }
    #[cfg(not(target_arch = "wasm32"))]
    unsafe fn context_set(_: i32) { unreachable!() }

    /// Set when the task's waker is woken.
    struct Woken(AtomicBool);

    impl Wake for Woken {
        fn wake(self: Arc<Self>) {
            self.0.store(true, Ordering::Relaxed);
        }
    }

    /// One call of an async export. Only shared references to it are made:
    /// the future is taken out while it is polled.
    struct Task {
        future: Cell<Option<Pin<Box<dyn Future<Output = ()>>>>>,
        /// The waitable set its subtasks join, 0 until one does.
        set: Cell<i32>,
        /// Subtasks whose `RETURNED` event came and that no future took yet.
        returned: RefCell<Vec<u32>>,
        woken: Arc<Woken>,
    }

    /// Starts the task of an async export's call, running `future` until
    /// it first waits; returns the callback code for the host.
    pub fn spawn(future: impl Future<Output = ()> + 'static) -> i32 {
        let task = Box::into_raw(Box::new(Task {
            future: Cell::new(Some(Box::pin(future))),
            set: Cell::new(0),
            returned: RefCell::new(Vec::new()),
            woken: Arc::new(Woken(AtomicBool::new(false))),
        }));
        unsafe {
            context_set(task as i32);
            run(task)
        }
    }

    /// The `[callback]` of every async export: records the event for the
    /// current task and runs it again.
    pub unsafe fn callback(event: i32, handle: i32, payload: i32) -> i32 {
        unsafe {
            let task = context_get() as *mut Task;
            if event == EVENT_SUBTASK && payload as u32 == RETURNED {
                (*task).returned.borrow_mut().push(handle as u32);
            }
            run(task)
        }
    }

    /// Polls the task's future: when it is done (its result was returned),
    /// the task is freed and `EXIT` returned.
    unsafe fn run(task: *mut Task) -> i32 {
        let t = unsafe { &*task };
        let Some(mut future) = t.future.take() else {
            unreachable!("a task ran while it was running");
        };
        t.woken.0.store(false, Ordering::Relaxed);
        let waker = Waker::from(t.woken.clone());
        let ready = future.as_mut().poll(&mut Context::from_waker(&waker)).is_ready();
        if ready {
            drop(future);
            let set = t.set.get();
            unsafe {
                if set != 0 {
                    waitable_set_drop(set);
                }
                context_set(0);
                drop(Box::from_raw(task));
            }
            return EXIT;
        }
        t.future.set(Some(future));
        if t.woken.0.load(Ordering::Relaxed) {
            return YIELD;
        }
        match t.set.get() {
            0 => panic!("an async export awaits a future that no component-model event wakes"),
            set => WAIT | (set << 4),
        }
    }

    /// The task whose future is being polled.
    fn current() -> &'static Task {
        let task = unsafe { context_get() } as *const Task;
        assert!(!task.is_null(), "an async import was awaited outside an async export");
        unsafe { &*task }
    }

    /// Waits until the subtask of an async import's call has returned
    /// (`status` is what `[async-lower]` returned: `handle << 4 | state`),
    /// then drops it. Its result is then in the call's return area.
    pub async fn subtask(status: i32) {
        let (handle, state) = ((status as u32) >> 4, status as u32 & 0xf);
        if state == RETURNED {
            return;
        }
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
            let mut returned = task.returned.borrow_mut();
            match returned.iter().position(|h| *h == handle) {
                Some(i) => {
                    returned.swap_remove(i);
                    unsafe { subtask_drop(handle as i32) };
                    Poll::Ready(())
                }
                None => Poll::Pending,
            }
        })
        .await
    }
}
"#;
