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

use std::collections::BTreeSet;
use std::fmt::Write as _;

use wcomp_abi::{
    AsyncWorldPlan, CoreName, FunctionPlan, PayloadKind, PayloadOp, PlainData, plain_data,
};
use wcomp_wit::signature::type_name;
use wit_parser::{Resolve, Type, TypeDefKind, TypeId, WorldItem};

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
pub(super) const EXECUTOR: &str = r#"
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
/// own events only), and futures and streams of other than numbers (or
/// nothing).
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

    #[cfg(target_arch = "wasm32")]
    #[link(wasm_import_module = "$root")]
    unsafe extern "C" {
        #[link_name = "[waitable-set-new]"]
        fn waitable_set_new() -> i32;
        #[link_name = "[waitable-set-drop]"]
        fn waitable_set_drop(set: i32);
        #[link_name = "[waitable-set-poll]"]
        fn waitable_set_poll(set: i32, out: *mut u32) -> i32;
        #[link_name = "[waitable-join]"]
        fn waitable_join(waitable: i32, set: i32);
        #[link_name = "[subtask-drop]"]
        fn subtask_drop(subtask: i32);
        #[link_name = "[subtask-cancel]"]
        fn subtask_cancel(subtask: i32) -> i32;
        #[link_name = "[context-get-0]"]
        fn context_get() -> i32;
        #[link_name = "[context-set-0]"]
        fn context_set(value: i32);
    }
    #[cfg(target_arch = "wasm32")]
    #[link(wasm_import_module = "[export]$root")]
    unsafe extern "C" {
        #[link_name = "[task-cancel]"]
        fn task_cancel();
    }
    #[cfg(not(target_arch = "wasm32"))]
    unsafe fn waitable_set_new() -> i32 { unreachable!() }
    #[cfg(not(target_arch = "wasm32"))]
    unsafe fn waitable_set_drop(_: i32) { unreachable!() }
    #[cfg(not(target_arch = "wasm32"))]
    unsafe fn waitable_set_poll(_: i32, _: *mut u32) -> i32 { unreachable!() }
    #[cfg(not(target_arch = "wasm32"))]
    unsafe fn waitable_join(_: i32, _: i32) { unreachable!() }
    #[cfg(not(target_arch = "wasm32"))]
    unsafe fn subtask_drop(_: i32) { unreachable!() }
    #[cfg(not(target_arch = "wasm32"))]
    unsafe fn subtask_cancel(_: i32) -> i32 { unreachable!() }
    #[cfg(not(target_arch = "wasm32"))]
    unsafe fn task_cancel() { unreachable!() }
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
            let event = unsafe { waitable_set_poll(set, out.as_mut_ptr()) } as u32;
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

/// The readers and writers of futures and streams, inside `_rt::task`, in
/// files whose world has a future or stream.
pub(super) const PAYLOADS: &str = r#"
    use core::marker::PhantomData;

    /// A read or write not finished yet; else `count << 4 | how it ended`.
    const BLOCKED: u32 = 0xffff_ffff;
    const DROPPED: u32 = 1;

    /// A read or write of `end` that began with `code`: its final code,
    /// waiting for it if it blocked. If the waiting is given up (the future
    /// dropped), the copy is cancelled first, so that the buffer is no
    /// longer written or read.
    async fn copied(end: u32, code: u32, cancel: unsafe fn(i32) -> i32) -> u32 {
        if code != BLOCKED {
            return code;
        }
        /// Cancels the copy unless it finished: a copy whose end was
        /// delivered cannot be cancelled.
        struct InFlight(u32, unsafe fn(i32) -> i32, bool);
        impl Drop for InFlight {
            fn drop(&mut self) {
                if !self.2 && forget(self.0).is_none() {
                    unsafe { (self.1)(self.0 as i32) };
                }
            }
        }
        let mut in_flight = InFlight(end, cancel, false);
        let code = event(end).await;
        in_flight.2 = true;
        code
    }

    /// The intrinsics of streams of `Self`, bound to the imports of one
    /// function that passes such a stream (any will do: they are one type).
    /// Implemented by the bindings for each element type the world uses.
    #[doc(hidden)]
    pub unsafe trait StreamPayload: Sized + 'static {
        unsafe fn new() -> i64;
        unsafe fn read(end: i32, buf: *mut u8, count: usize) -> i32;
        unsafe fn write(end: i32, buf: *const u8, count: usize) -> i32;
        unsafe fn cancel_read(end: i32) -> i32;
        unsafe fn cancel_write(end: i32) -> i32;
        unsafe fn drop_readable(end: i32);
        unsafe fn drop_writable(end: i32);
    }

    /// As [`StreamPayload`], for futures of `Self`.
    #[doc(hidden)]
    pub unsafe trait FuturePayload: Sized + 'static {
        unsafe fn new() -> i64;
        unsafe fn read(end: i32, buf: *mut u8) -> i32;
        unsafe fn write(end: i32, buf: *const u8) -> i32;
        unsafe fn cancel_read(end: i32) -> i32;
        unsafe fn cancel_write(end: i32) -> i32;
        unsafe fn drop_readable(end: i32);
        unsafe fn drop_writable(end: i32);
    }

    /// A new stream: the end to write values to, and the end to read them
    /// from (pass that one on, in a call or a result).
    pub fn stream_new<T: StreamPayload>() -> (StreamWriter<T>, StreamReader<T>) {
        let ends = unsafe { T::new() } as u64;
        (
            StreamWriter { end: (ends >> 32) as u32, done: false, _t: PhantomData },
            StreamReader::from_handle(ends as u32 as i32),
        )
    }

    /// The readable end of a `stream<T>`: dropping it tells the writer that
    /// nothing more will be read.
    pub struct StreamReader<T: StreamPayload> {
        /// 0 once handed over (passed on in a call or a result).
        end: Cell<u32>,
        done: bool,
        _t: PhantomData<T>,
    }

    impl<T: StreamPayload> core::fmt::Debug for StreamReader<T> {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            write!(f, "StreamReader({})", self.end.get())
        }
    }

    impl<T: StreamPayload> StreamReader<T> {
        #[doc(hidden)]
        pub fn from_handle(end: i32) -> Self {
            StreamReader { end: Cell::new(end as u32), done: false, _t: PhantomData }
        }

        /// The end's handle, handed over: this reader no longer owns it.
        #[doc(hidden)]
        pub fn take_handle(&self) -> i32 {
            self.end.replace(0) as i32
        }

        /// Up to `max` values (at least one), waiting until some come;
        /// `None` once the writer is gone and every value was read.
        pub async fn read(&mut self, max: usize) -> Option<Vec<T>> {
            let end = self.end.get();
            if self.done || end == 0 {
                return None;
            }
            let max = max.max(1);
            let mut buf: Vec<T> = Vec::with_capacity(max);
            let code = unsafe { T::read(end as i32, buf.as_mut_ptr().cast(), max) } as u32;
            let code = copied(end, code, T::cancel_read).await;
            let count = (code >> 4) as usize;
            unsafe { buf.set_len(count) };
            if code & 0xf == DROPPED {
                self.done = true;
            }
            match count {
                0 if self.done => None,
                _ => Some(buf),
            }
        }

        /// Every value until the writer is gone, read `chunk` at a time.
        pub async fn read_all(&mut self, chunk: usize) -> Vec<T> {
            let mut all = Vec::new();
            while let Some(mut values) = self.read(chunk).await {
                all.append(&mut values);
            }
            all
        }
    }

    impl<T: StreamPayload> Drop for StreamReader<T> {
        fn drop(&mut self) {
            let end = self.end.get();
            if end != 0 {
                unsafe { T::drop_readable(end as i32) };
            }
        }
    }

    /// The writable end of a `stream<T>`: dropping it ends the stream.
    pub struct StreamWriter<T: StreamPayload> {
        end: u32,
        done: bool,
        _t: PhantomData<T>,
    }

    impl<T: StreamPayload> StreamWriter<T> {
        /// Writes some of `values`, waiting until the reader takes them:
        /// how many it took (0 once the reader is gone).
        pub async fn write(&mut self, values: &[T]) -> usize {
            if self.done || values.is_empty() {
                return 0;
            }
            let code = unsafe { T::write(self.end as i32, values.as_ptr().cast(), values.len()) }
                as u32;
            let code = copied(self.end, code, T::cancel_write).await;
            if code & 0xf == DROPPED {
                self.done = true;
            }
            (code >> 4) as usize
        }

        /// Writes all of `values`: how many the reader took before it went
        /// away (all of them, unless it did).
        pub async fn write_all(&mut self, values: &[T]) -> usize {
            let mut written = 0;
            while written < values.len() {
                let n = self.write(&values[written..]).await;
                if n == 0 && self.done {
                    break;
                }
                written += n;
            }
            written
        }

        /// The reader is gone: nothing written will be read.
        pub fn is_closed(&self) -> bool {
            self.done
        }
    }

    impl<T: StreamPayload> Drop for StreamWriter<T> {
        fn drop(&mut self) {
            unsafe { T::drop_writable(self.end as i32) };
        }
    }

    /// A new future: the end to write its value to (once), and the end to
    /// read it from (pass that one on, in a call or a result).
    pub fn future_new<T: FuturePayload>() -> (FutureWriter<T>, FutureReader<T>) {
        let ends = unsafe { T::new() } as u64;
        (
            FutureWriter { end: (ends >> 32) as u32, _t: PhantomData },
            FutureReader::from_handle(ends as u32 as i32),
        )
    }

    /// The readable end of a `future<T>`.
    pub struct FutureReader<T: FuturePayload> {
        /// 0 once handed over or read.
        end: Cell<u32>,
        _t: PhantomData<T>,
    }

    impl<T: FuturePayload> core::fmt::Debug for FutureReader<T> {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            write!(f, "FutureReader({})", self.end.get())
        }
    }

    impl<T: FuturePayload> FutureReader<T> {
        #[doc(hidden)]
        pub fn from_handle(end: i32) -> Self {
            FutureReader { end: Cell::new(end as u32), _t: PhantomData }
        }

        /// The end's handle, handed over: this reader no longer owns it.
        #[doc(hidden)]
        pub fn take_handle(&self) -> i32 {
            self.end.replace(0) as i32
        }

        /// The value, once it is written; `None` if the writer went away
        /// without writing it.
        pub async fn read(self) -> Option<T> {
            let end = self.take_handle() as u32;
            assert!(end != 0, "a future read after it was handed over");
            // Dropped last, however the read ends: given up, the read is
            // cancelled first (`copied`), then the end dropped, so that the
            // writer learns the reader is gone.
            let _end = Owned(end, T::drop_readable);
            let mut value = core::mem::MaybeUninit::<T>::uninit();
            let code = unsafe { T::read(end as i32, value.as_mut_ptr().cast()) } as u32;
            let code = copied(end, code, T::cancel_read).await;
            match code & 0xf {
                DROPPED => None,
                _ => Some(unsafe { value.assume_init() }),
            }
        }
    }

    impl<T: FuturePayload> Drop for FutureReader<T> {
        fn drop(&mut self) {
            let end = self.end.get();
            if end != 0 {
                unsafe { T::drop_readable(end as i32) };
            }
        }
    }

    /// The writable end of a `future<T>`.
    pub struct FutureWriter<T: FuturePayload> {
        end: u32,
        _t: PhantomData<T>,
    }

    impl<T: FuturePayload> FutureWriter<T> {
        /// Writes the value, waiting until the reader takes it: whether it
        /// did (`false`: the reader went away first).
        ///
        /// The component model wants every future written once: a writer
        /// dropped without writing, or whose write is given up (its future
        /// dropped) before the reader took the value, traps.
        pub async fn write(self, value: T) -> bool {
            let end = self.end;
            core::mem::forget(self);
            let _end = Owned(end, T::drop_writable);
            let value = core::mem::ManuallyDrop::new(value);
            let code = unsafe { T::write(end as i32, (&*value as *const T).cast()) } as u32;
            let code = copied(end, code, T::cancel_write).await;
            code & 0xf != DROPPED
        }
    }

    /// A future's end taken out of its reader or writer, dropped with it.
    struct Owned(u32, unsafe fn(i32));

    impl Drop for Owned {
        fn drop(&mut self) {
            unsafe { (self.1)(self.0 as i32) };
        }
    }

    impl<T: FuturePayload> Drop for FutureWriter<T> {
        fn drop(&mut self) {
            unsafe { T::drop_writable(self.end as i32) };
        }
    }
"#;

/// The `StreamPayload` and `FuturePayload` impls of every element type the
/// world's futures and streams carry, each bound to the intrinsics of the
/// first function passing one (every function's are the same type's).
/// Elements are numbers or nothing: a Rust number's memory is the
/// canonical ABI's, so buffers are read and written as they are.
pub(super) fn payload_impls(g: &Gen<'_>) -> Result<String, BindError> {
    let world = g.world;
    let refuse = |what: String| BindError::BackendWorld {
        world: g.resolve.worlds[world].name.clone(),
        backend: "Rust",
        what,
        help: "futures and streams of numbers (or of nothing) bind so far; pass a list, or a stream of bytes, instead",
    };
    if let Some((kind, element, owner)) = unbindable_payload(g) {
        return Err(refuse(format!(
            "has a {} of `{}` in `{owner}`",
            kind_name(kind),
            type_name(g.resolve, &element)
        )));
    }
    let plan = AsyncWorldPlan::new(g.resolve, world)?;
    let mut done = BTreeSet::new();
    let mut out = String::new();
    for payload in &plan.payloads {
        let element = match payload.element {
            None => "()".to_string(),
            Some(t) if plain_data(g.resolve, &t) == PlainData::Number => g.ty(&g.unalias(&t), &[]),
            Some(t) => {
                return Err(refuse(format!(
                    "passes a {} of `{}` in `{}`",
                    kind_name(payload.kind),
                    type_name(g.resolve, &t),
                    payload.function
                )));
            }
        };
        if !done.insert((payload.kind == PayloadKind::Stream, element.clone())) {
            continue;
        }
        let (trait_name, count) = match payload.kind {
            PayloadKind::Stream => ("StreamPayload", ", count: usize"),
            PayloadKind::Future => ("FuturePayload", ""),
        };
        let _ = writeln!(out, "unsafe impl task::{trait_name} for {element} {{");
        for (op, intrinsic) in &payload.intrinsics {
            let counted = |args: &str| match count.is_empty() {
                true => args.to_string(),
                false => format!("{args}, count"),
            };
            let (method, args) = match op {
                PayloadOp::New => ("new() -> i64".to_string(), String::new()),
                PayloadOp::Read => (
                    format!("read(end: i32, buf: *mut u8{count}) -> i32"),
                    counted("end, buf"),
                ),
                PayloadOp::Write => (
                    format!("write(end: i32, buf: *const u8{count}) -> i32"),
                    counted("end, buf.cast_mut()"),
                ),
                PayloadOp::CancelRead => ("cancel_read(end: i32) -> i32".into(), "end".into()),
                PayloadOp::CancelWrite => ("cancel_write(end: i32) -> i32".into(), "end".into()),
                PayloadOp::DropReadable => ("drop_readable(end: i32)".into(), "end".into()),
                PayloadOp::DropWritable => ("drop_writable(end: i32)".into(), "end".into()),
            };
            let CoreName::Import { module, field } = &intrinsic.name else {
                return Err(BindError::Internal(
                    "a payload intrinsic that is no import".into(),
                ));
            };
            let sig = func::core_signature(&intrinsic.signature)?;
            let _ = writeln!(
                out,
                "unsafe fn {method} {{\n\
                 #[cfg(target_arch = \"wasm32\")]\n#[link(wasm_import_module = {module:?})]\n\
                 unsafe extern \"C\" {{\n#[link_name = {field:?}]\nfn wit_import{sig};\n}}\n\
                 #[cfg(not(target_arch = \"wasm32\"))]\nunsafe extern \"C\" fn wit_import{sig} {{ unreachable!() }}\n\
                 unsafe {{ wit_import({args}) }}\n}}"
            );
        }
        out.push_str("}\n");
    }
    Ok(out)
}

fn kind_name(kind: PayloadKind) -> &'static str {
    match kind {
        PayloadKind::Future => "future",
        PayloadKind::Stream => "stream",
    }
}

/// Every future and stream in a type of the world (used or not: every
/// type is spelled), with its element and where it is.
pub(super) fn world_payloads(g: &Gen<'_>) -> Vec<(PayloadKind, Option<Type>, String)> {
    let resolve = g.resolve;
    let w = &resolve.worlds[g.world];
    let mut seen = BTreeSet::new();
    let mut found = Vec::new();
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
            let mut here = Vec::new();
            payloads_in(resolve, &Type::Id(id), &mut seen, &mut here);
            found.extend(here.into_iter().map(|(k, t)| (k, t, owner.clone())));
        }
    }
    found
}

/// The first future or stream of other than numbers (or nothing) in a type
/// of the world: its kind, element and where it is.
fn unbindable_payload(g: &Gen<'_>) -> Option<(PayloadKind, Type, String)> {
    world_payloads(g)
        .into_iter()
        .find_map(|(kind, element, owner)| {
            let element = element?;
            (plain_data(g.resolve, &element) != PlainData::Number).then_some((kind, element, owner))
        })
}

fn payloads_in(
    resolve: &Resolve,
    ty: &Type,
    seen: &mut BTreeSet<TypeId>,
    out: &mut Vec<(PayloadKind, Option<Type>)>,
) {
    let Type::Id(id) = ty else { return };
    if !seen.insert(*id) {
        return;
    }
    match &resolve.types[*id].kind {
        TypeDefKind::Future(t) => out.push((PayloadKind::Future, *t)),
        TypeDefKind::Stream(t) => out.push((PayloadKind::Stream, *t)),
        _ => {}
    }
    let mut visit = |t: &Type| payloads_in(resolve, t, seen, out);
    match &resolve.types[*id].kind {
        TypeDefKind::Future(Some(t)) | TypeDefKind::Stream(Some(t)) => visit(t),
        TypeDefKind::Type(t) | TypeDefKind::List(t) | TypeDefKind::Option(t) => visit(t),
        TypeDefKind::Map(k, v) => {
            visit(k);
            visit(v);
        }
        TypeDefKind::Record(r) => r.fields.iter().for_each(|f| visit(&f.ty)),
        TypeDefKind::Tuple(t) => t.types.iter().for_each(visit),
        TypeDefKind::Variant(v) => v.cases.iter().flat_map(|c| &c.ty).for_each(visit),
        TypeDefKind::Result(r) => r.ok.iter().chain(&r.err).for_each(visit),
        _ => {}
    }
}
