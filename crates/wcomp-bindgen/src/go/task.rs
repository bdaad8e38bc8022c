//! Async functions in Go (the component model's callback ABI), spelled for
//! goroutines: Go code blocks, and the bindings turn blocking into the
//! protocol's events.
//!
//! An async export runs the user's method on a goroutine of its own. What a
//! goroutine waits for (the subtask of an async import, later a read or a
//! write) joins the waitable set of the task that is current (whose export
//! or callback is running), and the goroutine blocks on a channel. Every
//! export and callback runs goroutines until none can run — the runtime's
//! own count of runnable goroutines (`runtime/metrics`) is exact on
//! `GOARCH=wasm`, which has one thread — and then answers the host for its
//! task. Mainline Go has no hook for "the scheduler is idle", which is why
//! the count is read.
//!
//! What this module adds once per world that has an async function: the
//! codes (the abi crate's `codes`), the task intrinsics' imports (the abi
//! crate's `TaskIntrinsic`: module, name and signature of each) and the
//! scheduler.

use std::fmt::Write as _;

use wcomp_abi::{TaskIntrinsic, codes};

use super::Gen;
use super::func::wasmimport;
use crate::BindError;

/// The task intrinsics the scheduler calls, by their Go name.
const USED: [(TaskIntrinsic, &str); 7] = [
    (TaskIntrinsic::TaskCancel, "cabiTaskCancel"),
    (TaskIntrinsic::WaitableSetNew, "cabiWaitableSetNew"),
    (TaskIntrinsic::WaitableSetDrop, "cabiWaitableSetDrop"),
    (TaskIntrinsic::WaitableJoin, "cabiWaitableJoin"),
    (TaskIntrinsic::SubtaskDrop, "cabiSubtaskDrop"),
    (TaskIntrinsic::ContextGet, "cabiContextGet"),
    (TaskIntrinsic::ContextSet, "cabiContextSet"),
];

impl Gen<'_> {
    /// The scheduler of async functions, with its imports.
    pub(super) fn async_support(&self, glue: &mut String) -> Result<(), BindError> {
        use codes::{callback, copy, event, subtask};
        let pkg = &self.pkg;
        let _ = write!(
            glue,
            r#"
// Async functions run on goroutines. An async export's task runs the
// user's method on a goroutine of its own; what a goroutine waits for (an
// async import's subtask) joins the waitable set of the current task (whose
// export or callback is running), and the goroutine blocks until its event
// comes. Each export and callback runs goroutines until none can run, then
// tells the host what its task waits for.

// Callback codes, events and subtask states of the async ABI.
const (
	cabiCallbackExit    = {exit}
	cabiCallbackYield   = {yield_}
	cabiCallbackWait    = {wait}
	cabiEventNone       = {none}
	cabiEventCancelled  = {cancelled}
	cabiSubtaskReturned = {returned}
	cabiCopyBlocked     = 0x{blocked:x}
	cabiCopyCompleted   = {copy_completed}
	cabiCopyDropped     = {copy_dropped}
	cabiCopyCancelled   = {copy_cancelled}
	cabiMaxCount        = {max_count}
)

// cabiTask is one call of an async export.
type cabiTask struct {{
	// The waitable set of what the task's goroutines wait for; 0 until one does.
	set uint32
	// Per waitable, the goroutine waiting for its event.
	waiting map[uint32]*cabiWaiter
	// The result was given (`task.return`), or the task ended cancelled.
	returned bool
	// The caller cancelled the task: reads and writes it waits for were
	// cancelled, and it ends without a result.
	cancelled bool
	// Gives the result: set when the user's method returned while another
	// task was current, and called at the task's next turn (the host takes
	// a task's result only from that task).
	giveResult func()
}}

// cabiWaiter is a goroutine waiting for an event.
type cabiWaiter struct {{
	event chan uint32
	// What the host may still read or write until the event: areas, and the
	// buffers the call lent.
	keep []unsafe.Pointer
	// Cancels what it waits for, answering the final code (nil for a
	// subtask, which runs on to its end).
	cancel func() uint32
}}

var (
	// The task whose export or callback is running, nil between them.
	cabiCurrent *cabiTask
	// The tasks that have not ended, by the word in their context slot.
	cabiTasks    = map[int32]*cabiTask{{}}
	cabiLastTask int32
	// The runtime's count of runnable goroutines.
	cabiRunnable = []metrics.Sample{{{{Name: "/sched/goroutines/runnable:goroutines"}}}}
	// Async calls whose results the host may still write into the receive
	// buffer: it is not reused before they are copied out.
	cabiInFlight int
)

// cabiSpawn starts the task of an async export: `run` calls the user's
// method and answers how to give its result.
func cabiSpawn(run func() func()) int32 {{
	for {{
		cabiLastTask++
		if cabiLastTask > 0 && cabiTasks[cabiLastTask] == nil {{
			break
		}}
		if cabiLastTask < 0 {{
			cabiLastTask = 0
		}}
	}}
	id := cabiLastTask
	t := &cabiTask{{waiting: map[uint32]*cabiWaiter{{}}}}
	cabiTasks[id] = t
	cabiCurrent = t
	go func() {{
		give := run()
		if cabiCurrent == t {{
			t.end(give)
		}} else {{
			t.giveResult = give
		}}
	}}()
	return cabiSettle(id, t)
}}

// end gives the task's result, or ends it without one when it was cancelled.
func (t *cabiTask) end(give func()) {{
	if t.cancelled {{
		cabiTaskCancel()
	}} else {{
		give()
	}}
	t.returned = true
}}

// cabiCallback is the callback of every async export: the event goes to the
// goroutine waiting for it.
func cabiCallback(event, handle, payload int32) int32 {{
	id := cabiContextGet()
	t := cabiTasks[id]
	if t == nil {{
		panic("{pkg}: a callback of a task that has ended")
	}}
	cabiContextSet(0)
	cabiCurrent = t
	if t.giveResult != nil {{
		give := t.giveResult
		t.giveResult = nil
		t.end(give)
	}}
	switch event {{
	case cabiEventNone:
		// The turn the task asked for.
	case cabiEventCancelled:
		// Go cannot stop a goroutine: the reads and writes the task waits
		// for are cancelled (they answer ErrCancelled), async imports run
		// on, and the task ends without a result once its method returns.
		t.cancelled = true
		for waitable, w := range t.waiting {{
			if w.cancel != nil {{
				delete(t.waiting, waitable)
				// Out of the set first: a cancel waits for its end.
				cabiWaitableJoin(int32(waitable), 0)
				w.event <- w.cancel()
			}}
		}}
	default:
		w := t.waiting[uint32(handle)]
		if w == nil {{
			panic("{pkg}: an event of a waitable no goroutine waits for")
		}}
		delete(t.waiting, uint32(handle))
		cabiWaitableJoin(handle, 0)
		w.event <- uint32(payload)
	}}
	return cabiSettle(id, t)
}}

// cabiSettle runs goroutines until none can run, then answers the host for
// task `t`: wait for an event of its set, end (its result is given and none
// of its goroutines waits), or come back soon (its goroutines wait on
// channels or timers only, such as another task's).
func cabiSettle(id int32, t *cabiTask) int32 {{
	// Each turn lets the scheduler fire Go timers that are due, too.
	for {{
		runtime.Gosched()
		metrics.Read(cabiRunnable)
		if cabiRunnable[0].Value.Uint64() == 0 {{
			break
		}}
	}}
	cabiCurrent = nil
	switch {{
	case len(t.waiting) > 0:
		cabiContextSet(id)
		return int32(cabiCallbackWait | t.set<<4)
	case t.returned:
		if t.set != 0 {{
			cabiWaitableSetDrop(int32(t.set))
		}}
		delete(cabiTasks, id)
		return cabiCallbackExit
	default:
		cabiContextSet(id)
		return cabiCallbackYield
	}}
}}

// cabiWait blocks the calling goroutine until `waitable` has an event, and
// answers its payload; `keep` stays reachable until then. `cancel` cancels
// what it waits for if the task is cancelled.
func cabiWait(waitable uint32, keep []unsafe.Pointer, cancel func() uint32) uint32 {{
	t := cabiCurrent
	if t == nil {{
		panic("{pkg}: an async import was called outside the goroutines of an async export")
	}}
	if t.set == 0 {{
		t.set = uint32(cabiWaitableSetNew())
	}}
	cabiWaitableJoin(int32(waitable), int32(t.set))
	w := &cabiWaiter{{event: make(chan uint32, 1), keep: keep, cancel: cancel}}
	t.waiting[waitable] = w
	return <-w.event
}}

// cabiAwaitSubtask blocks until the subtask of an async import has returned
// (`status` is what the import answered); `keep` stays reachable until then.
func cabiAwaitSubtask(status int32, keep []unsafe.Pointer) {{
	if uint32(status)&0xf == cabiSubtaskReturned {{
		return
	}}
	subtask := uint32(status) >> 4
	for cabiWait(subtask, keep, nil) != cabiSubtaskReturned {{
	}}
	cabiSubtaskDrop(int32(subtask))
}}
"#,
            exit = callback::EXIT,
            yield_ = callback::YIELD,
            wait = callback::WAIT,
            none = event::NONE,
            cancelled = event::CANCELLED,
            returned = subtask::RETURNED,
            blocked = copy::BLOCKED,
            copy_completed = copy::COMPLETED,
            copy_dropped = copy::DROPPED,
            copy_cancelled = copy::CANCELLED,
            max_count = copy::MAX_COUNT,
        );
        for (intrinsic, name) in USED {
            let core = intrinsic.intrinsic();
            glue.push_str(&wasmimport(&core.name, name, &core.signature)?);
        }
        Ok(())
    }
}
