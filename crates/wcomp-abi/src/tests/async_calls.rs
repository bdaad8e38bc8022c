//! The call plans of `async func`s ([`Options::async_calls`]): the
//! callback ABI's signatures and names, the call sequences pinned, and
//! every sequence (the task-return ones too) run on the abstract machine.

use wit_parser::abi::{AbiVariant, WasmType};

use super::machine::check_plan;
use super::*;
use crate::test_support::load;

const TASKS: &str = include_str!("async.wit");
const BLOBS: &str = "test:tasks/blobs@0.1.0";

/// The `tasks` world's async functions of plain types (the stream and
/// future ones are skipped: their handles are not planned yet).
fn planned() -> WorldPlan {
    let (resolve, world) = load(TASKS, "tasks");
    let options = Options {
        async_calls: true,
        skip_unsupported: true,
        ..Options::default()
    };
    WorldPlan::with_options(&resolve, world, options).expect("plannable")
}

fn names(steps: &[Step]) -> Vec<&'static str> {
    steps.iter().map(Step::name).collect()
}

#[test]
fn async_functions_are_refused_unless_asked_for() {
    let (resolve, world) = load(TASKS, "tasks");
    let refused = WorldPlan::new(&resolve, world).unwrap_err();
    assert!(matches!(refused, AbiError::Async { .. }), "{refused:?}");
}

#[test]
fn every_async_call_plan_matches_the_task_plan_and_runs() {
    let plan = planned();
    let resolve = plan.resolve();
    let world = plan.world;
    let tasks = AsyncWorldPlan::new(resolve, world).unwrap();
    let skipped: Vec<&str> = plan
        .skipped
        .iter()
        .map(|s| s.function.name.as_str())
        .collect();
    assert_eq!(
        skipped,
        ["stream-value", "pump", "nested"].repeat(2),
        "only functions passing streams and futures are left out"
    );
    let mut checked = 0;
    for f in plan.imports.iter().chain(&plan.exports) {
        let name = format!("{} {:?}", f.function.name, f.direction);
        let facts = tasks
            .functions
            .iter()
            .find(|a| a.function.name == f.function.name && a.direction == f.direction)
            .unwrap_or_else(|| panic!("{name}: not in the task plan"));
        let calls = f.asynchronous.as_ref().expect("async");
        assert_eq!(f.core_name, facts.entry.name, "{name}");
        assert_eq!(f.core_names.standard, facts.entry.name, "{name}");
        assert_eq!(f.signature, facts.entry.signature, "{name}");
        assert!(f.post_return.is_none(), "{name}");
        match f.direction {
            Direction::Import => {
                let variant = AbiVariant::GuestImportAsync;
                assert_eq!(f.signature, resolve.wasm_signature(variant, &f.function));
                assert_eq!(f.params_area, facts.params_area, "{name}");
                assert_eq!(f.return_area, facts.return_area, "{name}");
                assert_eq!(f.signature.results, [WasmType::I32], "{name}: a status");
                let at = f
                    .call
                    .iter()
                    .position(|s| matches!(s, Step::CallImport { .. }))
                    .unwrap();
                assert_eq!(f.call[at + 1], Step::AwaitSubtask, "{name}");
                assert!(calls.callback.is_none() && calls.task_return.is_none());
                // At most 4 flat core parameters, then a parameter area.
                let flat = f.params.iter().map(|p| p.flat.len()).sum::<usize>();
                assert_eq!(f.params_area.is_some(), flat > 4, "{name}");
                run(resolve, f);
            }
            Direction::Export => {
                let variant = AbiVariant::GuestExportAsync;
                assert_eq!(f.signature, resolve.wasm_signature(variant, &f.function));
                assert_eq!(
                    calls.callback,
                    facts.callback.as_ref().map(|c| c.name.clone())
                );
                let task_return = calls.task_return.as_ref().expect("a task-return plan");
                let want = facts.task_return.as_ref().unwrap();
                assert_eq!(task_return.core_name, want.name, "{name}");
                assert_eq!(task_return.signature, want.signature, "{name}");
                assert_eq!(
                    task_return.params.len(),
                    usize::from(f.function.result.is_some())
                );
                assert!(f.result.is_none() && f.return_area.is_none(), "{name}");
                assert_eq!(&names(&f.call)[f.call.len() - 2..], ["SpawnTask", "Return"]);
                // The task-return call is a plain (borrowing) import call.
                check_plan(resolve, task_return);
                run(resolve, f);
            }
        }
        checked += 1;
    }
    assert_eq!(checked, 10, "get, set, wide and many both ways, tick, run");
}

/// The whole call sequence on the abstract machine: `[] -> []`.
fn run(resolve: &wit_parser::Resolve, f: &FunctionPlan) {
    let name = format!("{} {:?}", f.function.name, f.direction);
    super::machine::expect_call(resolve, &name, &f.call);
}

#[test]
fn async_call_sequences_pinned() {
    let plan = planned();
    let get = plan
        .function(Direction::Import, Some(BLOBS), "get")
        .unwrap();
    // `key` flat, then the return area; the status is awaited before the
    // result is read.
    assert_eq!(
        names(&get.call),
        [
            "GetArg",
            "StringLower",
            "Area",
            "AreaAddress",
            "CallImport",
            "AwaitSubtask",
            "Load",
            "OptionLift",
            "FreeTemporaries",
            "Return"
        ]
    );
    let wide = plan
        .function(Direction::Import, Some(BLOBS), "wide")
        .unwrap();
    // Five flat parameters: more than an async import passes flat.
    assert_eq!(wide.params_area.map(|l| (l.size, l.align)), Some((20, 4)));
    assert_eq!(
        wide.signature.params,
        [WasmType::Pointer, WasmType::Pointer]
    );
    let run = plan.function(Direction::Export, None, "run").unwrap();
    assert_eq!(
        names(&run.call),
        [
            "CoreArg",
            "CoreArg",
            "ListLift",
            "ArgLifted",
            "SpawnTask",
            "Return"
        ]
    );
    let task_return = run
        .asynchronous
        .as_ref()
        .unwrap()
        .task_return
        .as_ref()
        .unwrap();
    // `result<u32, string>` flat: 3 core values, lowered and passed.
    assert_eq!(
        names(&task_return.call),
        [
            "GetArg",
            "ResultLower",
            "CallImport",
            "FreeTemporaries",
            "Return"
        ]
    );
    assert_eq!(
        task_return.core_name,
        CoreName::Import {
            module: "[export]$root".into(),
            field: "[task-return]run".into()
        }
    );
    let wide = plan
        .function(Direction::Export, Some(BLOBS), "wide")
        .unwrap();
    let task_return = wide
        .asynchronous
        .as_ref()
        .unwrap()
        .task_return
        .as_ref()
        .unwrap();
    // `big` is 17 flat values: more than 16, so it is passed by pointer.
    assert_eq!(task_return.signature.params, [WasmType::Pointer]);
    assert_eq!(task_return.params_area.map(|l| l.size), Some(17 * 8));
}

/// The steps of a plan and of every block inside it, in order.
fn all_steps(steps: &[Step]) -> Vec<&Step> {
    let mut out = Vec::new();
    for step in steps {
        out.push(step);
        for block in step.blocks() {
            out.extend(all_steps(&block.steps));
        }
    }
    out
}

/// How many future or stream ends `steps` lower and lift.
fn ends(steps: &[Step]) -> (usize, usize) {
    let all = all_steps(steps);
    let lowered = all
        .iter()
        .filter(|s| matches!(s, Step::PayloadLower { .. }))
        .count();
    let lifted = all
        .iter()
        .filter(|s| matches!(s, Step::PayloadLift { .. }))
        .count();
    (lowered, lifted)
}

#[test]
fn futures_and_streams_are_planned_as_handles_when_asked() {
    let (resolve, world) = load(TASKS, "tasks");
    let options = Options {
        async_calls: true,
        streams: true,
        ..Options::default()
    };
    let plan = WorldPlan::with_options(&resolve, world, options).expect("plannable");
    assert!(plan.skipped.is_empty());
    assert_eq!((plan.imports.len(), plan.exports.len()), (8, 8));
    for f in plan.imports.iter().chain(&plan.exports) {
        let name = format!("{} {:?}", f.function.name, f.direction);
        run(plan.resolve(), f);
        if let Some(task_return) = f.asynchronous.as_ref().and_then(|a| a.task_return.as_ref()) {
            run(plan.resolve(), task_return);
        }
        // Every end crosses as one `i32`.
        for value in f.params.iter().chain(&f.result) {
            if matches!(value.steps.last(), Some(Step::PayloadLower { .. }))
                || matches!(value.steps.first(), Some(Step::PayloadLift { .. }))
            {
                assert_eq!(value.flat, [WasmType::I32], "{name}");
                assert_eq!((value.layout.size, value.layout.align), (4, 4), "{name}");
            }
        }
    }
    // A sync import returning a stream: its handle is lifted into a reader.
    let stream_value = plan
        .function(Direction::Import, Some(BLOBS), "stream-value")
        .unwrap();
    assert_eq!(
        names(&stream_value.call),
        [
            "GetArg",
            "StringLower",
            "CallImport",
            "PayloadLift",
            "FreeTemporaries",
            "Return"
        ]
    );
    // Only the outer ends cross: a `future<future<u32>>` is one handle (the
    // inner one is its value, read through the future's intrinsics).
    let nested = plan
        .function(Direction::Export, Some(BLOBS), "nested")
        .unwrap();
    assert_eq!(ends(&nested.call), (0, 3), "x, y and z are lifted");
    let task_return = nested.asynchronous.as_ref().unwrap().task_return.as_ref();
    assert_eq!(
        ends(&task_return.unwrap().call),
        (1, 0),
        "the result is lowered"
    );
    let nested = plan
        .function(Direction::Import, Some(BLOBS), "nested")
        .unwrap();
    assert_eq!(ends(&nested.call), (3, 1));
    // A type of `future`s stays refused without the option.
    let e = WorldPlan::with_options(
        &resolve,
        world,
        Options {
            async_calls: true,
            ..Options::default()
        },
    )
    .unwrap_err();
    assert!(e.to_string().contains("`stream`"), "{e}");
}
