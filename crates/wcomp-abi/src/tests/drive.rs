//! The driver: every plan driven for a recording backend, and every kind
//! of mismatch between a sequence, its declared effects and a backend
//! reported as a typed error.

use wit_parser::Type;
use wit_parser::abi::WasmType;

use super::*;
use crate::test_support::KEYSTORE;

/// Names its outputs `o1`, `o2`, ..., seeds blocks with fresh names, and
/// logs every call.
#[derive(Default)]
struct Recorder {
    next: usize,
    log: Vec<String>,
    /// Open compound steps: (name, blocks entered).
    open: Vec<(&'static str, usize)>,
    /// Copy lists of numbers as bytes.
    bytes: bool,
    /// Return one operand too many from every simple step.
    extra: bool,
    /// Seed blocks with one operand too few.
    short_seed: bool,
}

impl Recorder {
    fn fresh(&mut self, n: usize) -> Vec<String> {
        (0..n)
            .map(|_| {
                self.next += 1;
                format!("o{}", self.next)
            })
            .collect()
    }
}

impl Backend for Recorder {
    type Operand = String;
    type Error = DriveError;

    fn list_as_bytes(&mut self, element: &Type) -> bool {
        self.bytes && matches!(element, Type::U8 | Type::U32)
    }

    fn step(&mut self, step: &Step, operands: Vec<String>) -> Result<Vec<String>, DriveError> {
        self.log
            .push(format!("{} {}", step.name(), operands.join(" ")));
        let n = step.effect().pushes.len() + usize::from(self.extra);
        Ok(self.fresh(n))
    }

    fn begin(
        &mut self,
        step: &Step,
        operands: Vec<String>,
        as_bytes: bool,
    ) -> Result<(), DriveError> {
        self.log.push(format!(
            "begin {} {}{}",
            step.name(),
            operands.join(" "),
            if as_bytes { " (bytes)" } else { "" }
        ));
        self.open.push((step.name(), 0));
        Ok(())
    }

    fn enter(&mut self, index: usize) -> Result<Vec<String>, DriveError> {
        let (name, entered) = self.open.last_mut().expect("an open step");
        assert_eq!(*entered, index, "blocks in order");
        *entered += 1;
        let name = *name;
        self.log.push(format!("enter {name} {index}"));
        Ok(Vec::new())
    }

    fn leave(&mut self, results: Vec<String>) -> Result<(), DriveError> {
        self.log.push(format!("leave {}", results.join(" ")));
        Ok(())
    }

    fn end(&mut self) -> Result<Vec<String>, DriveError> {
        let (name, _) = self.open.pop().expect("an open step");
        self.log.push(format!("end {name}"));
        Ok(Vec::new())
    }
}

/// A recorder that seeds each block with what it declares: the driver
/// hands the step back to `enter` only by index, so the test keeps the
/// seeds per open step.
struct Seeding {
    inner: Recorder,
    seeds: Vec<Vec<usize>>,
    pushes: Vec<usize>,
}

impl Backend for Seeding {
    type Operand = String;
    type Error = DriveError;

    fn list_as_bytes(&mut self, element: &Type) -> bool {
        self.inner.list_as_bytes(element)
    }

    fn step(&mut self, step: &Step, operands: Vec<String>) -> Result<Vec<String>, DriveError> {
        self.inner.step(step, operands)
    }

    fn begin(
        &mut self,
        step: &Step,
        operands: Vec<String>,
        as_bytes: bool,
    ) -> Result<(), DriveError> {
        let short = usize::from(self.inner.short_seed);
        self.seeds.push(
            step.blocks()
                .iter()
                .map(|b| b.params.len().saturating_sub(short))
                .collect(),
        );
        self.pushes.push(step.effect().pushes.len());
        self.inner.begin(step, operands, as_bytes)
    }

    fn enter(&mut self, index: usize) -> Result<Vec<String>, DriveError> {
        self.inner.enter(index)?;
        let n = self.seeds.last().map_or(0, |s| s[index]);
        Ok(self.inner.fresh(n))
    }

    fn leave(&mut self, results: Vec<String>) -> Result<(), DriveError> {
        self.inner.leave(results)
    }

    fn end(&mut self) -> Result<Vec<String>, DriveError> {
        self.inner.end()?;
        self.seeds.pop();
        let n = self.pushes.pop().unwrap_or(0);
        Ok(self.inner.fresh(n))
    }
}

fn seeding() -> Seeding {
    Seeding {
        inner: Recorder::default(),
        seeds: Vec::new(),
        pushes: Vec::new(),
    }
}

/// Every call sequence and post-return function of the kitchen-sink and
/// keystore worlds drives to the end, with every block entered in order.
#[test]
fn every_plan_drives() {
    let (resolve, _, sink) = sink();
    let (ks_resolve, world) = load(KEYSTORE, "app");
    let app = WorldPlan::new(&ks_resolve, world).unwrap();
    let mut count = 0;
    for (plan, _) in [(&sink, &resolve), (&app, &ks_resolve)] {
        for f in plan.imports.iter().chain(&plan.exports) {
            for bytes in [false, true] {
                let mut b = seeding();
                b.inner.bytes = bytes;
                drive(&f.call, &mut b).unwrap_or_else(|e| panic!("{f}: {e}"));
                assert!(b.inner.open.is_empty());
                if let Some(post) = &f.post_return {
                    drive(&post.steps, &mut b).unwrap_or_else(|e| panic!("{f}: {e}"));
                }
                count += 1;
            }
        }
    }
    assert!(count > 100, "{count}");
}

/// The import `set` of the app, step by step: the driver hands each step
/// the operands the previous ones made.
#[test]
fn keystore_set_is_driven_in_order() {
    let (resolve, world) = load(KEYSTORE, "app");
    let app = WorldPlan::new(&resolve, world).unwrap();
    let set = func(
        &app,
        Direction::Import,
        Some("wcomp:keystore/store@0.1.0"),
        "set",
    );
    let mut b = seeding();
    b.inner.bytes = true;
    drive(&set.call, &mut b).unwrap();
    let log = b.inner.log.join("\n");
    println!("{log}");
    assert!(log.starts_with("GetArg \nStringLower o1\nGetArg \nbegin ListLower o4 (bytes)\nend ListLower\nGetArg \nbegin OptionLower o7\n"), "{log}");
    // The list was copied as bytes: its element block never ran.
    assert!(!log.contains("enter ListLower"), "{log}");
    // The core call gets the string, the list, the option and the return area.
    assert!(
        log.contains("\nCallImport o2 o3 o5 o6 o11 o12 o13\n"),
        "{log}"
    );
    assert!(
        log.ends_with("end ResultLift\nFreeTemporaries o23\nReturn o24"),
        "{log}"
    );
}

#[test]
fn a_step_without_its_operands_is_an_error() {
    let mut b = Recorder::default();
    let err = drive(&[Step::GetArg { index: 0 }, Step::StringLift], &mut b).unwrap_err();
    assert_eq!(
        err,
        DriveError::Operands {
            step: "StringLift",
            needed: "[pointer, length]".into(),
            found: "[value]".into()
        }
    );
    assert_eq!(
        err.to_string(),
        "wcomp bug: step `StringLift` pops [pointer, length], but the operand stack ends in [value]"
    );
    // Core types are checked as wasm32 types: an i64 is no pointer.
    let steps = [
        Step::Zeros(vec![WasmType::I64, WasmType::I32]),
        Step::StringLift,
    ];
    let err = drive(&steps, &mut b).unwrap_err();
    assert!(matches!(err, DriveError::Operands { .. }), "{err}");
}

#[test]
fn a_backend_answering_with_too_many_operands_is_an_error() {
    let mut b = Recorder {
        extra: true,
        ..Recorder::default()
    };
    let err = drive(&[Step::GetArg { index: 0 }], &mut b).unwrap_err();
    assert_eq!(
        err,
        DriveError::Outputs {
            step: "GetArg",
            expected: 1,
            got: 2
        }
    );
}

#[test]
fn a_short_seed_is_an_error() {
    let (_, _, plan) = sink();
    let rec = func(
        &plan,
        Direction::Import,
        Some("test:sink/funcs@0.1.0"),
        "rec",
    );
    let mut b = seeding();
    b.inner.short_seed = true;
    let err = drive(&rec.call, &mut b).unwrap_err();
    assert_eq!(
        err,
        DriveError::Seed {
            step: "RecordLower",
            block: 0,
            expected: 1,
            got: 0
        }
    );
}

#[test]
fn blocks_that_break_their_declared_effect_are_errors() {
    let value_block = |steps: Vec<Step>, results: Vec<Kind>| Block {
        params: vec![Kind::Value],
        results,
        steps,
    };
    // A field block that leaves a value where it declares an i32.
    let (resolve, _, _) = sink();
    let ty = resource(&resolve, "types", "blob");
    let bad = Step::RecordLower {
        ty,
        fields: vec![value_block(vec![], vec![Kind::Core(WasmType::I32)])],
    };
    let mut b = seeding();
    let err = drive(&[Step::GetArg { index: 0 }, bad], &mut b).unwrap_err();
    assert_eq!(
        err,
        DriveError::BlockResults {
            step: "RecordLower",
            block: 0,
            declared: "[i32]".into(),
            found: "[value]".into()
        }
    );
    // Cases of a variant that leave different kinds.
    let bad = Step::OptionLower {
        ty,
        none: Block::default(),
        some: value_block(vec![Step::I32FromU32], vec![Kind::Core(WasmType::I32)]),
    };
    let err = drive(&[Step::GetArg { index: 0 }, bad], &mut b).unwrap_err();
    assert!(
        matches!(
            &err,
            DriveError::Malformed {
                step: "OptionLower",
                ..
            }
        ),
        "{err}"
    );
    // A lift case that does not take the joined payload.
    let bad = Step::OptionLift {
        ty,
        joined: vec![WasmType::I32],
        none: Block::default(),
        some: Block::default(),
    };
    let steps = [Step::Zeros(vec![WasmType::I32, WasmType::I32]), bad];
    let err = drive(&steps, &mut b).unwrap_err();
    assert!(
        err.to_string()
            .contains("a case takes [] where the joined payload is [i32]"),
        "{err}"
    );
}

#[test]
fn sequences_check_their_inputs_and_leftovers() {
    let mut b = Recorder::default();
    let err = drive(&[Step::GetArg { index: 0 }], &mut b).unwrap_err();
    assert_eq!(
        err,
        DriveError::Leftover {
            declared: "[]".into(),
            found: "[value]".into()
        }
    );
    let block = Block {
        params: vec![Kind::Value],
        results: vec![Kind::Core(WasmType::I32)],
        steps: vec![Step::I32FromU32],
    };
    let err = drive_block(&block, Vec::new(), &mut b).unwrap_err();
    assert_eq!(
        err,
        DriveError::Inputs {
            expected: 1,
            got: 0
        }
    );
    let out = drive_block(&block, vec!["x".into()], &mut b).unwrap();
    assert_eq!(b.log.last().map(String::as_str), Some("I32FromU32 x"));
    assert_eq!(out.len(), 1);
}

/// The type plans of a single type run through the driver with their
/// declared effects; the handles free mode drops owned handles.
#[test]
fn type_plans_drive_and_free_handles() {
    let text = "package test:t@0.1.0;
interface i {
    resource r;
    record holder { name: string, handle: r, more: list<tuple<r, string>> }
    variant v { a(holder), b(u32) }
    f: func(x: v);
}
world w { import i; }
";
    let (resolve, world) = load(text, "w");
    let plan = WorldPlan::new(&resolve, world).unwrap();
    let types = plan.types();
    let v = type_named(&resolve, "i", "v");
    for block in [
        types.lower_flat(&v, false).unwrap(),
        types.lift_flat(&v).unwrap(),
        types.store(&v, true).unwrap(),
        types.load(&v).unwrap(),
        types.free(&v, FreeMode::Buffers).unwrap(),
        types.free(&v, FreeMode::BuffersAndHandles).unwrap(),
    ] {
        let mut b = seeding();
        let inputs = b.inner.fresh(block.params.len());
        let out = drive_block(&block, inputs, &mut b).unwrap();
        assert_eq!(out.len(), block.results.len());
    }
    let free_handles = |mode| {
        let block = types.free(&v, mode).unwrap();
        let mut found = 0;
        fn count(steps: &[Step], found: &mut usize) {
            for s in steps {
                if let Step::FreeHandle { exported, .. } = s {
                    assert!(!exported);
                    *found += 1;
                }
                for b in s.blocks() {
                    count(&b.steps, found);
                }
            }
        }
        count(&block.steps, &mut found);
        found
    };
    // `handle`, and the one in each element of `more`.
    assert_eq!(free_handles(FreeMode::BuffersAndHandles), 2);
    assert_eq!(free_handles(FreeMode::Buffers), 0);
    assert!(has_own_handle(&resolve, &v));
    let err = types
        .lower_flat(&Type::ErrorContext, false)
        .unwrap_err()
        .to_string();
    assert!(err.contains("`error-context`"), "{err}");
}

/// The buffer plans of futures' and streams' elements: values holding
/// handles, futures or streams cannot be lent; a stored value's strings
/// are its own copies, freed once written; every block drives with its
/// declared effect.
#[test]
fn element_plans_lend_only_what_holds_no_handles() {
    let text = "package test:e@0.1.0;
interface i {
    resource r;
    record entry { key: string, tags: list<string>, size: u64 }
    type held = result<r, string>;
    type inner = stream<u8>;
    words: func() -> stream<entry>;
    later: func() -> future<held>;
    streams: func() -> stream<inner>;
    numbers: func() -> stream<u32>;
}
world w { import i; }
";
    let (resolve, world) = load(text, "w");
    let options = Options {
        streams: true,
        ..Options::default()
    };
    let plan = WorldPlan::with_options(&resolve, world, options).unwrap();
    let types = plan.types();
    let entry = types.element(&type_named(&resolve, "i", "entry")).unwrap();
    let held = types.element(&type_named(&resolve, "i", "held")).unwrap();
    let inner = types.element(&type_named(&resolve, "i", "inner")).unwrap();
    let number = types.element(&Type::U32).unwrap();
    assert_eq!((entry.layout.size, entry.layout.align), (24, 8));
    assert_eq!((held.layout.size, held.layout.align), (12, 4));
    assert_eq!((inner.layout.size, number.layout.size), (4, 4));
    let moves: Vec<bool> = [&entry, &held, &inner, &number]
        .iter()
        .map(|e| e.moves_handles)
        .collect();
    assert_eq!(moves, [false, true, true, false]);
    assert!(entry.lend.is_some() && number.lend.is_some());
    assert!(held.lend.is_none() && inner.lend.is_none());

    fn all(steps: &[Step], out: &mut Vec<Step>) {
        for s in steps {
            out.push(s.clone());
            for b in s.blocks() {
                all(&b.steps, out);
            }
        }
    }
    let steps = |b: &Block| {
        let mut out = Vec::new();
        all(&b.steps, &mut out);
        out
    };
    // Lent strings are borrowed; stored ones are copies the buffer owns.
    let lent = steps(entry.lend.as_ref().unwrap());
    assert!(lent.contains(&Step::StringLower { realloc: false }));
    assert!(!lent.contains(&Step::StringLower { realloc: true }));
    let stored = steps(&entry.store);
    assert!(stored.contains(&Step::StringLower { realloc: true }));
    // Written: the key and the tags (each tag, then the list) are freed.
    let freed = steps(&entry.free_written);
    let strings = freed
        .iter()
        .filter(|s| matches!(s, Step::FreeString { .. }))
        .count();
    assert_eq!(strings, 2, "{freed:?}");
    // A written handle went to the reader: nothing drops it.
    assert!(
        !steps(&held.free_written)
            .iter()
            .any(|s| matches!(s, Step::FreeHandle { .. }))
    );
    assert!(steps(&inner.load).contains(&Step::PayloadLift {
        ty: match type_named(&resolve, "i", "inner") {
            Type::Id(id) => id,
            _ => unreachable!(),
        },
        kind: PayloadKind::Stream,
    }));
    for e in [&entry, &held, &inner, &number] {
        let blocks = [Some(&e.store), e.lend.as_ref(), Some(&e.load)];
        for block in blocks.into_iter().flatten().chain([&e.free_written]) {
            let mut b = seeding();
            let inputs = b.inner.fresh(block.params.len());
            let out = drive_block(block, inputs, &mut b).unwrap();
            assert_eq!(out.len(), block.results.len());
        }
    }
}
