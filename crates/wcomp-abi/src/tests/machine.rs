//! Every plan run through an abstract machine that checks, independently
//! of the driver, what the step docs promise: stack effects with exact
//! core types, memory accesses inside their area and aligned.

use wit_parser::abi::WasmType;
use wit_parser::{Resolve, TypeDefKind, TypeId};

use super::*;
use crate::test_support::KEYSTORE;

/// Every function, both directions: wit-parser's signature, the places of
/// the values, and the steps' stack effects.
#[test]
fn every_plan_matches_wit_parser_and_runs() {
    let (resolve, _, plan) = sink();
    assert!(plan.imports.len() > 25 && plan.exports.len() > 25);
    for f in plan.imports.iter().chain(&plan.exports) {
        check_plan(&resolve, f);
    }
    let (resolve, world) = load(KEYSTORE, "app");
    let plan = WorldPlan::new(&resolve, world).unwrap();
    for f in plan.imports.iter().chain(&plan.exports) {
        check_plan(&resolve, f);
    }
}

/// Maps cross as lists of (key, value) entries: every map shape the
/// wit-parser corpus has, in both directions, runs; the entry layout is
/// `tuple<key, value>`'s; a map's buffer and what its entries own are
/// freed after an export's result.
#[test]
fn map_plans_run() {
    let text = "package test:m@0.1.0;
interface maps {
    record person { name: string, age: u32 }
    type names = map<string, u32>;
    type nested = map<string, map<u8, string>>;
    get: func(m: names, key: string) -> option<u32>;
    people: func(m: map<u64, person>, many: list<map<char, option<list<u32>>>>) -> map<string, person>;
    nest: func(m: nested) -> nested;
    pairs: func(m: map<bool, s8>) -> tuple<map<s16, f64>, u32>;
}
world w { import maps; export maps; }
";
    let (resolve, world) = load(text, "w");
    let plan = WorldPlan::new(&resolve, world).unwrap();
    assert_eq!((plan.imports.len(), plan.exports.len()), (4, 4));
    for f in plan.imports.iter().chain(&plan.exports) {
        check_plan(plan.resolve(), f);
    }
    let people = plan
        .function(Direction::Import, Some("test:m/maps@0.1.0"), "people")
        .unwrap();
    // `map<u64, person>`: the u64 key at 0, the record at 8, 24 bytes.
    let Step::MapLower {
        layout,
        value_offset,
        store,
        ..
    } = &people.params[0].steps[0]
    else {
        panic!("{:?}", people.params[0].steps);
    };
    assert_eq!((layout.size, layout.align, *value_offset), (24, 8, 8));
    assert_eq!(store.params, [Kind::Value, Kind::Value]);
    let people = plan
        .function(Direction::Export, Some("test:m/maps@0.1.0"), "people")
        .unwrap();
    let post = people.post_return.as_ref().expect("a map result is freed");
    assert!(
        post.steps
            .iter()
            .any(|s| matches!(s, Step::FreeList { layout, .. } if layout.size == 20)),
        "{:?}",
        post.steps
    );
}

/// Worlds that use an interface twice (imported and exported, under two
/// names) and borrowed handles inside records, tuples, options, lists and
/// variants: every plan, on the plan's nominal resolve.
#[test]
fn nominal_and_lent_plans_run() {
    let text = "package test:n@0.1.0;
interface api {
    resource thing {
        constructor(v: string);
        try-new: static func(v: string) -> result<thing, string>;
        value: func() -> string;
    }
    record view { item: borrow<thing>, times: u32 }
    variant either { one(borrow<thing>), two(tuple<borrow<thing>, u32>) }
    render: func(v: view, vs: list<view>, o: option<borrow<thing>>, e: either) -> string;
    sizes: func(items: list<borrow<thing>>, pair: tuple<borrow<thing>, option<borrow<thing>>>) -> list<u32>;
    make: func(values: list<string>) -> result<list<thing>, string>;
}
world w {
    import api;
    import other: api;
    export api;
}
";
    let (resolve, world) = load(text, "w");
    let plan = WorldPlan::new(&resolve, world).unwrap();
    assert_eq!(plan.imports.len(), 12);
    assert_eq!(plan.exports.len(), 6);
    for f in plan.imports.iter().chain(&plan.exports) {
        check_plan(plan.resolve(), f);
    }
    // The borrows inside values are lent, never dropped or freed.
    let render = plan
        .function(Direction::Export, Some("test:n/api@0.1.0"), "render")
        .unwrap();
    fn frees_handles(steps: &[Step]) -> bool {
        steps.iter().any(|s| {
            matches!(s, Step::FreeHandle { .. })
                || s.blocks().iter().any(|b| frees_handles(&b.steps))
        })
    }
    assert!(!frees_handles(&render.call), "{render}");
    let lifts = render
        .params
        .iter()
        .map(|p| format!("{:?}", p.steps))
        .collect::<String>();
    assert!(lifts.contains("own: false"), "{render}");
}

pub(super) fn check_plan(resolve: &Resolve, f: &FunctionPlan) {
    let name = format!("{} {:?}", f.function.name, f.direction);
    let sig = resolve.wasm_signature(f.direction.abi_variant(), &f.function);
    assert_eq!(f.signature, sig, "{name}");
    let layouts = Layouts::new(resolve).unwrap();
    // Parameters.
    let mut flat_params = Vec::new();
    for p in &f.params {
        assert_eq!(p.flat, flat_types(resolve, &p.ty), "{name}");
        match p.place {
            Place::Flat { first, count } => {
                assert!(!sig.indirect_params);
                assert_eq!(first, flat_params.len(), "{name}");
                assert_eq!(count, p.flat.len());
                flat_params.extend(p.flat.iter().copied());
            }
            Place::Memory { offset } => {
                assert!(sig.indirect_params);
                let area = f.params_area.unwrap();
                let m = Machine::new(resolve, offset + p.layout.size, &name);
                assert!(offset + p.layout.size <= area.size);
                assert_eq!(offset % p.layout.align, 0);
                match f.direction {
                    Direction::Import => m.expect(&p.steps, vec![Op::Value], vec![]),
                    Direction::Export => m.expect(&p.steps, vec![], vec![Op::Value]),
                }
            }
        }
        if let Place::Flat { .. } = p.place {
            let m = Machine::new(resolve, 0, &name);
            let cores: Vec<Op> = p.flat.iter().map(|t| Op::Core(*t)).collect();
            match f.direction {
                Direction::Import => m.expect(&p.steps, vec![Op::Value], cores),
                Direction::Export => m.expect(&p.steps, cores, vec![Op::Value]),
            }
        }
    }
    if sig.indirect_params {
        assert!(f.params_area.is_some());
        let area = layouts.record_of(f.function.params.iter().map(|p| &p.ty));
        assert_eq!(f.params_area, Some(area));
    } else {
        let mut expected = sig.params.clone();
        if sig.retptr && f.direction == Direction::Import {
            assert_eq!(expected.pop(), Some(WasmType::Pointer));
        }
        // Exported methods receive the representation as a pointer.
        if let (Some(first), Some(WasmType::Pointer)) = (flat_params.first_mut(), expected.first())
        {
            *first = WasmType::Pointer;
        }
        assert_eq!(flat_params, expected, "{name}");
    }
    // Result.
    match &f.result {
        None => assert!(sig.results.is_empty() && !sig.retptr),
        Some(r) => {
            let m = Machine::new(resolve, r.layout.size, &name);
            match r.place {
                Place::Flat { first: 0, count } => {
                    assert!(!sig.retptr);
                    assert_eq!(r.flat, sig.results, "{name}");
                    assert_eq!(count, r.flat.len());
                    let cores: Vec<Op> = r.flat.iter().map(|t| Op::Core(*t)).collect();
                    match f.direction {
                        Direction::Import => m.expect(&r.steps, cores, vec![Op::Value]),
                        Direction::Export => m.expect(&r.steps, vec![Op::Value], cores),
                    }
                }
                Place::Memory { offset: 0 } => {
                    assert!(sig.retptr);
                    assert_eq!(f.return_area, Some(r.layout));
                    match f.direction {
                        Direction::Import => m.expect(&r.steps, vec![], vec![Op::Value]),
                        Direction::Export => m.expect(&r.steps, vec![Op::Value], vec![]),
                    }
                }
                p => panic!("{name}: result at {p:?}"),
            }
        }
    }
    // Realloc and post-return.
    let result_memory = f.function.result.is_some_and(|t| has_memory(resolve, &t));
    let params_memory = f.function.params.iter().any(|p| has_memory(resolve, &p.ty));
    match f.direction {
        Direction::Import => {
            assert_eq!(f.needs_realloc, result_memory, "{name}");
            assert!(f.post_return.is_none());
            assert!(matches!(f.core_name, CoreName::Import { .. }));
        }
        Direction::Export => {
            assert_eq!(
                f.needs_realloc,
                params_memory || sig.indirect_params,
                "{name}"
            );
            assert_eq!(f.post_return.is_some(), result_memory, "{name}");
            if let Some(post) = &f.post_return {
                assert!(post.name.starts_with("cabi_post_"), "{name}");
                assert_eq!(post.names.legacy, post.name);
                assert!(post.names.standard.ends_with("_post"), "{name}");
                assert!(matches!(
                    post.steps[0],
                    Step::Area {
                        area: Area::Return,
                        ..
                    }
                ));
                assert!(post.steps.len() > 1);
                Machine::new(resolve, 0, &name).expect(&post.steps, vec![], vec![]);
            }
        }
    }
    assert_eq!(
        f.needs_memory,
        result_memory || params_memory || sig.retptr || sig.indirect_params,
        "{name}"
    );
    // The whole call sequence: `[] -> []`, areas and all.
    Machine::new(resolve, 0, &name).expect(&f.call, vec![], vec![]);
}

/// Runs a whole call sequence, which must be `[] -> []`.
pub(super) fn expect_call(resolve: &Resolve, name: &str, call: &[Step]) {
    Machine::new(resolve, 0, name).expect(call, vec![], vec![]);
}

/// An abstract operand: a language value or a core value of some type.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Value,
    Core(WasmType),
}

fn ops(kinds: &[Kind]) -> Vec<Op> {
    kinds
        .iter()
        .map(|k| match k {
            Kind::Value => Op::Value,
            Kind::Core(t) => Op::Core(*t),
        })
        .collect()
}

/// Runs steps on abstract operands, checking every documented effect with
/// exact core types, and that memory accesses stay inside the current
/// area (`limit` bytes, set by `Area` steps) and are aligned.
struct Machine<'a> {
    resolve: &'a Resolve,
    limit: std::cell::Cell<usize>,
    name: &'a str,
}

impl Machine<'_> {
    fn new<'a>(resolve: &'a Resolve, limit: usize, name: &'a str) -> Machine<'a> {
        Machine {
            resolve,
            limit: std::cell::Cell::new(limit),
            name,
        }
    }

    fn expect(&self, steps: &[Step], input: Vec<Op>, output: Vec<Op>) {
        assert_eq!(self.run(steps, input), output, "{}: {steps:#?}", self.name);
    }

    fn at(&self, limit: usize) -> Machine<'_> {
        Machine::new(self.resolve, limit, self.name)
    }

    /// Runs a block seeded with its declared params; it must leave its
    /// declared results.
    fn block(&self, b: &Block) {
        self.expect(&b.steps, ops(&b.params), ops(&b.results));
    }

    fn mem(&self, offset: usize, ty: MemType) {
        let limit = self.limit.get();
        assert!(
            offset + ty.size() <= limit,
            "{}: {offset} {ty:?} past {limit}",
            self.name,
        );
        assert_eq!(
            offset % ty.size(),
            0,
            "{}: misaligned {ty:?} at {offset}",
            self.name
        );
    }

    fn pop(&self, stack: &mut Vec<Op>, want: Op) {
        assert_eq!(stack.pop(), Some(want), "{}", self.name);
    }

    fn pop_n(&self, stack: &mut Vec<Op>, n: usize) -> Vec<Op> {
        assert!(stack.len() >= n, "{}: stack underflow", self.name);
        stack.split_off(stack.len() - n)
    }

    fn pop_all(&self, stack: &mut Vec<Op>, want: &[Op]) {
        assert_eq!(self.pop_n(stack, want.len()), want, "{}", self.name);
    }

    /// Which cases of a variant-like type carry a payload.
    fn payloads(&self, ty: TypeId) -> Vec<bool> {
        match &self.resolve.types[ty].kind {
            TypeDefKind::Variant(v) => v.cases.iter().map(|c| c.ty.is_some()).collect(),
            TypeDefKind::Option(_) => vec![false, true],
            TypeDefKind::Result(r) => vec![r.ok.is_some(), r.err.is_some()],
            k => panic!("{k:?}"),
        }
    }

    fn run(&self, steps: &[Step], mut stack: Vec<Op>) -> Vec<Op> {
        use Op::{Core, Value};
        use WasmType as W;
        for step in steps {
            let s = &mut stack;
            match step {
                Step::I32FromBool
                | Step::I32FromU8
                | Step::I32FromS8
                | Step::I32FromU16
                | Step::I32FromS16
                | Step::I32FromU32
                | Step::I32FromS32
                | Step::I32FromChar => {
                    self.pop(s, Value);
                    s.push(Core(W::I32));
                }
                Step::I64FromU64 | Step::I64FromS64 => {
                    self.pop(s, Value);
                    s.push(Core(W::I64));
                }
                Step::CoreF32FromF32 => {
                    self.pop(s, Value);
                    s.push(Core(W::F32));
                }
                Step::CoreF64FromF64 => {
                    self.pop(s, Value);
                    s.push(Core(W::F64));
                }
                Step::BoolFromI32
                | Step::U8FromI32
                | Step::S8FromI32
                | Step::U16FromI32
                | Step::S16FromI32
                | Step::U32FromI32
                | Step::S32FromI32
                | Step::CharFromI32 => {
                    self.pop(s, Core(W::I32));
                    s.push(Value);
                }
                Step::U64FromI64 | Step::S64FromI64 => {
                    self.pop(s, Core(W::I64));
                    s.push(Value);
                }
                Step::F32FromCoreF32 => {
                    self.pop(s, Core(W::F32));
                    s.push(Value);
                }
                Step::F64FromCoreF64 => {
                    self.pop(s, Core(W::F64));
                    s.push(Value);
                }
                Step::Load { offset, ty } => {
                    self.mem(*offset, *ty);
                    s.push(Core(ty.core()));
                }
                Step::Store { offset, ty } => {
                    self.mem(*offset, *ty);
                    self.pop(s, Core(ty.core()));
                }
                Step::Casts(casts) => {
                    let vals = self.pop_n(s, casts.len());
                    for (v, c) in vals.into_iter().zip(casts) {
                        assert_eq!(v, Core(c.from), "{}", self.name);
                        s.push(Core(c.to));
                    }
                }
                Step::Zeros(tys) => s.extend(tys.iter().map(|t| Core(*t))),
                Step::Drop(tys) => {
                    let want: Vec<Op> = tys.iter().map(|t| Core(*t)).collect();
                    self.pop_all(s, &want);
                }
                Step::StringLower { .. } => {
                    self.pop(s, Value);
                    s.extend([Core(W::Pointer), Core(W::Length)]);
                }
                Step::StringLift => {
                    self.pop(s, Core(W::Length));
                    self.pop(s, Core(W::Pointer));
                    s.push(Value);
                }
                Step::ListLower { layout, store, .. } => {
                    self.pop(s, Value);
                    assert_eq!(
                        (&store.params[..], &store.results[..]),
                        (&[Kind::Value][..], &[][..])
                    );
                    self.at(layout.size).block(store);
                    s.extend([Core(W::Pointer), Core(W::Length)]);
                }
                Step::ListLift { layout, load, .. } => {
                    self.pop(s, Core(W::Length));
                    self.pop(s, Core(W::Pointer));
                    assert_eq!(
                        (&load.params[..], &load.results[..]),
                        (&[][..], &[Kind::Value][..])
                    );
                    self.at(layout.size).block(load);
                    s.push(Value);
                }
                Step::MapLower { layout, store, .. } => {
                    self.pop(s, Value);
                    assert_eq!(
                        (&store.params[..], &store.results[..]),
                        (&[Kind::Value, Kind::Value][..], &[][..])
                    );
                    self.at(layout.size).block(store);
                    s.extend([Core(W::Pointer), Core(W::Length)]);
                }
                Step::MapLift { layout, load, .. } => {
                    self.pop(s, Core(W::Length));
                    self.pop(s, Core(W::Pointer));
                    assert_eq!(
                        (&load.params[..], &load.results[..]),
                        (&[][..], &[Kind::Value, Kind::Value][..])
                    );
                    self.at(layout.size).block(load);
                    s.push(Value);
                }
                Step::RecordLower { fields, .. } | Step::TupleLower { fields, .. } => {
                    self.pop(s, Value);
                    for b in fields {
                        assert_eq!(b.params, [Kind::Value]);
                        let out = self.run(&b.steps, vec![Value]);
                        assert_eq!(out, ops(&b.results), "{}", self.name);
                        s.extend(out);
                    }
                }
                Step::RecordLift { fields, .. } | Step::TupleLift { fields, .. } => {
                    let total = fields.iter().map(|b| b.params.len()).sum();
                    let mut vals = self.pop_n(s, total).into_iter();
                    for b in fields {
                        let seed: Vec<Op> = vals.by_ref().take(b.params.len()).collect();
                        assert_eq!(seed, ops(&b.params), "{}", self.name);
                        assert_eq!(b.results, [Kind::Value]);
                        assert_eq!(self.run(&b.steps, seed), vec![Value], "{}", self.name);
                    }
                    s.push(Value);
                }
                Step::FlagsLower { words, .. } => {
                    self.pop(s, Value);
                    s.extend(vec![Core(W::I32); *words]);
                }
                Step::FlagsLift { words, .. } => {
                    assert_eq!(self.pop_n(s, *words), vec![Core(W::I32); *words]);
                    s.push(Value);
                }
                Step::EnumLower { .. } | Step::HandleLower { .. } => {
                    self.pop(s, Value);
                    s.push(Core(W::I32));
                }
                Step::EnumLift { .. } => {
                    self.pop(s, Core(W::I32));
                    s.push(Value);
                }
                Step::HandleLift { exported, own, .. } => {
                    // The receiver of an exported method is the rep, as a
                    // pointer (wit-parser's signature says so).
                    let top = s.pop();
                    let rep = *exported && !*own && top == Some(Core(W::Pointer));
                    assert!(rep || top == Some(Core(W::I32)), "{}: {top:?}", self.name);
                    s.push(Value);
                }
                Step::VariantLower { ty, cases } => self.variant_lower(s, *ty, cases.iter()),
                Step::OptionLower { ty, none, some } => {
                    self.variant_lower(s, *ty, [none, some].into_iter())
                }
                Step::ResultLower { ty, ok, err } => {
                    self.variant_lower(s, *ty, [ok, err].into_iter())
                }
                Step::VariantLift { ty, joined, cases } => {
                    self.variant_lift(s, *ty, joined, cases.iter())
                }
                Step::OptionLift {
                    ty,
                    joined,
                    none,
                    some,
                } => self.variant_lift(s, *ty, joined, [none, some].into_iter()),
                Step::ResultLift {
                    ty,
                    joined,
                    ok,
                    err,
                } => self.variant_lift(s, *ty, joined, [ok, err].into_iter()),
                Step::FreeString { offset } => {
                    self.mem(*offset, MemType::Pointer);
                    self.mem(*offset + 4, MemType::Length);
                }
                Step::FreeList {
                    offset,
                    layout,
                    element,
                } => {
                    self.mem(*offset, MemType::Pointer);
                    self.mem(*offset + 4, MemType::Length);
                    self.at(layout.size).block(element);
                }
                Step::FreeVariant {
                    offset,
                    discriminant,
                    cases,
                } => {
                    self.mem(*offset, *discriminant);
                    for c in cases {
                        self.block(c);
                    }
                }
                Step::FreeHandle { offset, .. } => self.mem(*offset, MemType::I32),
                Step::GetArg { .. } => s.push(Value),
                Step::CoreArg { ty, .. } => s.push(Core(*ty)),
                Step::Area { layout, .. } => self.limit.set(layout.size),
                Step::AreaAddress { .. } => s.push(Core(W::Pointer)),
                Step::CallImport { params, results } => {
                    let want: Vec<Op> = params.iter().map(|t| Core(*t)).collect();
                    self.pop_all(s, &want);
                    s.extend(results.iter().map(|t| Core(*t)));
                }
                Step::FreeArea { .. } => {}
                Step::FreeTemporaries { results } => {
                    self.pop_all(s, &ops(results));
                    s.extend(ops(results));
                }
                Step::ArgLifted { .. } => {
                    self.pop(s, Value);
                    s.push(Value);
                }
                Step::CallImpl { params, results } => {
                    self.pop_all(s, &vec![Value; *params]);
                    s.extend(vec![Value; *results]);
                }
                Step::Return { results } => self.pop_all(s, &ops(results)),
                Step::AwaitSubtask => self.pop(s, Core(W::I32)),
                Step::PayloadLower { .. } => {
                    self.pop(s, Value);
                    s.push(Core(W::I32));
                }
                Step::PayloadLift { .. } => {
                    self.pop(s, Core(W::I32));
                    s.push(Value);
                }
                Step::SpawnTask { params } => {
                    self.pop_all(s, &vec![Value; *params]);
                    s.push(Core(W::I32));
                }
            }
        }
        stack
    }

    fn variant_lower<'b>(
        &self,
        s: &mut Vec<Op>,
        ty: TypeId,
        cases: impl Iterator<Item = &'b Block>,
    ) {
        self.pop(s, Op::Value);
        let mut outs = Vec::new();
        for (b, payload) in cases.zip(self.payloads(ty)) {
            let seed = if payload { vec![Op::Value] } else { vec![] };
            assert_eq!(seed, ops(&b.params), "{}", self.name);
            let out = self.run(&b.steps, seed);
            assert_eq!(out, ops(&b.results), "{}", self.name);
            outs.push(out);
        }
        assert!(
            outs.windows(2).all(|w| w[0] == w[1]),
            "{}: cases differ: {outs:?}",
            self.name
        );
        s.push(Op::Core(WasmType::I32));
        s.extend(outs.pop().unwrap());
    }

    fn variant_lift<'b>(
        &self,
        s: &mut Vec<Op>,
        ty: TypeId,
        joined: &[WasmType],
        cases: impl Iterator<Item = &'b Block>,
    ) {
        let seed: Vec<Op> = joined.iter().map(|t| Op::Core(*t)).collect();
        assert_eq!(self.pop_n(s, joined.len()), seed, "{}", self.name);
        self.pop(s, Op::Core(WasmType::I32));
        for (b, payload) in cases.zip(self.payloads(ty)) {
            assert_eq!(ops(&b.params), seed);
            let out = if payload { vec![Op::Value] } else { vec![] };
            assert_eq!(ops(&b.results), out);
            assert_eq!(self.run(&b.steps, seed.clone()), out, "{}", self.name);
        }
        s.push(Op::Value);
    }
}
