//! Layouts and flat signatures for every type kind, checked against
//! wit-parser's own answers, and every plan run through an abstract machine
//! that checks the stack effects the step docs promise.

use wit_parser::abi::{AbiVariant, WasmType};
use wit_parser::{Resolve, SizeAlign, Type, TypeDefKind, TypeId, WorldId};

use super::*;

mod resources;

use crate::test_support::{KEYSTORE, SINK, load};

fn sink() -> (Resolve, WorldId, WorldPlan) {
    let (mut resolve, world) = load(SINK, "sink");
    widen_flags(&mut resolve);
    let plan = WorldPlan::new(&resolve, world).expect("plannable");
    (resolve, world, plan)
}

/// wit-parser 0.263 refuses more than 32 flags in WIT text (the spec caps
/// them there now), but the ABI still defines wider flags: widen `fl33` and
/// `fl64` in the resolved types.
fn widen_flags(resolve: &mut Resolve) {
    for (_, ty) in resolve.types.iter_mut() {
        let want = match ty.name.as_deref() {
            Some("fl33") => 33,
            Some("fl64") => 64,
            _ => continue,
        };
        if let TypeDefKind::Flags(f) = &mut ty.kind {
            while f.flags.len() < want {
                let mut flag = f.flags[0].clone();
                flag.name = format!("b{}", f.flags.len());
                f.flags.push(flag);
            }
        }
    }
}

fn type_named(resolve: &Resolve, iface: &str, name: &str) -> Type {
    let (_, i) = resolve
        .interfaces
        .iter()
        .find(|(_, i)| i.name.as_deref() == Some(iface))
        .expect("interface");
    Type::Id(i.types[name])
}

fn filled(resolve: &Resolve) -> SizeAlign {
    let mut sizes = SizeAlign::default();
    sizes.fill(resolve).unwrap();
    sizes
}

/// Our layout against wit-parser's `SizeAlign`.
fn check_layout(resolve: &Resolve, layouts: &Layouts, ty: &Type) -> TypeLayout {
    let sizes = filled(resolve);
    let l = layouts.type_layout(resolve, ty);
    assert_eq!(l.size, sizes.size(ty).size_wasm32(), "size of {ty:?}");
    assert_eq!(l.align, sizes.align(ty).align_wasm32(), "align of {ty:?}");
    if let Shape::Fields(offsets) = &l.shape {
        let Type::Id(mut id) = *ty else { panic!() };
        while let TypeDefKind::Type(Type::Id(next)) = resolve.types[id].kind {
            id = next;
        }
        let types: Vec<&Type> = match &resolve.types[id].kind {
            TypeDefKind::Record(r) => r.fields.iter().map(|f| &f.ty).collect(),
            TypeDefKind::Tuple(t) => t.types.iter().collect(),
            k => panic!("fields of {k:?}"),
        };
        let theirs: Vec<usize> = sizes
            .field_offsets(types)
            .into_iter()
            .map(|(o, _)| o.size_wasm32())
            .collect();
        assert_eq!(offsets, &theirs);
    }
    l
}

#[test]
fn primitive_layouts() {
    let (resolve, _, plan) = sink();
    let cases = [
        (Type::Bool, 1, 1, MemType::U8),
        (Type::U8, 1, 1, MemType::U8),
        (Type::S8, 1, 1, MemType::S8),
        (Type::U16, 2, 2, MemType::U16),
        (Type::S16, 2, 2, MemType::S16),
        (Type::U32, 4, 4, MemType::I32),
        (Type::S32, 4, 4, MemType::I32),
        (Type::U64, 8, 8, MemType::I64),
        (Type::S64, 8, 8, MemType::I64),
        (Type::F32, 4, 4, MemType::F32),
        (Type::F64, 8, 8, MemType::F64),
        (Type::Char, 4, 4, MemType::I32),
    ];
    for (ty, size, align, mem) in cases {
        let l = check_layout(&resolve, &plan.layouts, &ty);
        assert_eq!(
            (l.size, l.align, l.shape),
            (size, align, Shape::Scalar(mem))
        );
        assert_eq!(mem.size(), size);
    }
    let l = check_layout(&resolve, &plan.layouts, &Type::String);
    assert_eq!((l.size, l.align, l.shape), (8, 4, Shape::PointerLength));
}

#[test]
fn record_layout_pinned() {
    let (resolve, _, plan) = sink();
    let point = type_named(&resolve, "types", "point");
    let l = check_layout(&resolve, &plan.layouts, &point);
    assert_eq!(
        (l.size, l.align, l.shape.clone()),
        (12, 4, Shape::Fields(vec![0, 4, 8]))
    );
    // An alias has its target's layout.
    let alias = type_named(&resolve, "types", "alias-point");
    assert_eq!(check_layout(&resolve, &plan.layouts, &alias), l);
    // `use` gives the same layout in the using interface.
    let used = type_named(&resolve, "funcs", "point");
    assert_eq!(check_layout(&resolve, &plan.layouts, &used), l);
}

#[test]
fn flags_layouts() {
    let (resolve, _, plan) = sink();
    let cases = [
        ("fl8", 1, 1, 1, MemType::U8),
        ("fl16", 2, 2, 1, MemType::U16),
        ("fl32", 4, 4, 1, MemType::I32),
        ("fl33", 8, 4, 2, MemType::I32),
        ("fl64", 8, 4, 2, MemType::I32),
    ];
    for (name, size, align, words, word) in cases {
        let ty = type_named(&resolve, "types", name);
        let l = check_layout(&resolve, &plan.layouts, &ty);
        let count = name[2..].parse().unwrap();
        assert_eq!(
            (l.size, l.align, l.shape),
            (
                size,
                align,
                Shape::Flags(FlagsLayout { count, words, word })
            ),
            "{name}"
        );
        assert_eq!(
            flat_types(&resolve, &ty),
            vec![WasmType::I32; words],
            "{name}"
        );
    }
}

#[test]
fn variant_enum_layouts() {
    let (resolve, _, plan) = sink();
    let v = |name| {
        check_layout(
            &resolve,
            &plan.layouts,
            &type_named(&resolve, "types", name),
        )
    };
    let variant = |discriminant, payload_offset| Shape::Variant {
        discriminant,
        payload_offset,
    };
    let color = v("color");
    assert_eq!(
        (color.size, color.align, color.shape),
        (1, 1, variant(MemType::U8, 1))
    );
    let error = v("error");
    assert_eq!(
        (error.size, error.align, error.shape),
        (12, 4, variant(MemType::U8, 4))
    );
    // shape: its largest payload is tuple<u64, f32> (16 bytes, align 8).
    let shape = v("shape");
    assert_eq!(
        (shape.size, shape.align, shape.shape),
        (24, 8, variant(MemType::U8, 8))
    );
    let flat = flat_types(&resolve, &type_named(&resolve, "types", "shape"));
    // discriminant, then f32 / (i64, f32) / (ptr, len) / (ptr, len) joined.
    assert_eq!(
        flat,
        [WasmType::I32, WasmType::PointerOrI64, WasmType::Length]
    );
}

/// Option, result (every payload shape), tuple and list layouts, found on
/// the `funcs` parameters and results.
#[test]
fn anonymous_type_layouts() {
    let (resolve, _, plan) = sink();
    let func = |name: &str| {
        plan.function(
            &resolve,
            Direction::Export,
            Some("test:sink/funcs@0.1.0"),
            name,
        )
        .unwrap_or_else(|| panic!("{name}"))
    };
    let layout = |ty: &Type| check_layout(&resolve, &plan.layouts, ty);
    let variant = |discriminant, payload_offset| Shape::Variant {
        discriminant,
        payload_offset,
    };
    let cases: [(&str, bool, usize, usize, Shape); 11] = [
        ("opt", false, 8, 4, variant(MemType::U8, 4)),
        ("opt", true, 16, 4, variant(MemType::U8, 4)),
        ("res-none", false, 1, 1, variant(MemType::U8, 1)),
        ("res-ok", false, 16, 8, variant(MemType::U8, 8)),
        ("res-ok", true, 8, 4, variant(MemType::U8, 4)),
        ("res-err", false, 16, 4, variant(MemType::U8, 4)),
        ("res-err", true, 16, 8, variant(MemType::U8, 8)),
        ("tup", false, 24, 8, Shape::Fields(vec![0, 4, 16])),
        ("tup", true, 8, 4, Shape::Fields(vec![0, 4])),
        ("bytes", false, 8, 4, Shape::PointerLength),
        ("strings", true, 8, 4, Shape::PointerLength),
    ];
    for (name, result, size, align, shape) in cases {
        let f = func(name);
        let ty = if result {
            f.result.as_ref().unwrap().ty
        } else {
            f.params[0].ty
        };
        let l = layout(&ty);
        assert_eq!(
            (l.size, l.align, l.shape),
            (size, align, shape),
            "{name} {result}"
        );
    }
}

#[test]
fn handle_layouts() {
    let (resolve, _, plan) = sink();
    let f = plan
        .function(
            &resolve,
            Direction::Import,
            Some("test:sink/funcs@0.1.0"),
            "borrow-blob",
        )
        .unwrap();
    let l = check_layout(&resolve, &plan.layouts, &f.params[0].ty);
    assert_eq!(
        (l.size, l.align, l.shape),
        (4, 4, Shape::Scalar(MemType::I32))
    );
    assert_eq!(f.params[0].flat, [WasmType::I32]);
    assert_eq!(
        f.params[0].steps,
        [Step::HandleLower {
            resource: resource(&resolve, "types", "blob"),
            own: false,
            exported: false
        }]
    );
}

fn resource(resolve: &Resolve, iface: &str, name: &str) -> TypeId {
    let Type::Id(id) = type_named(resolve, iface, name) else {
        panic!()
    };
    id
}

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

fn check_plan(resolve: &Resolve, f: &FunctionPlan) {
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
                assert!(!post.steps.is_empty());
                let size = f.return_area.unwrap().size;
                Machine::new(resolve, size, &name).expect(&post.steps, vec![], vec![]);
            }
        }
    }
}

/// An abstract operand: a language value or a core value of some type.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Value,
    Core(WasmType),
}

/// Runs steps on abstract operands, checking every documented effect and
/// that memory accesses stay inside `limit` bytes and are aligned.
struct Machine<'a> {
    resolve: &'a Resolve,
    limit: usize,
    name: &'a str,
}

impl Machine<'_> {
    fn new<'a>(resolve: &'a Resolve, limit: usize, name: &'a str) -> Machine<'a> {
        Machine {
            resolve,
            limit,
            name,
        }
    }

    fn expect(&self, steps: &[Step], input: Vec<Op>, output: Vec<Op>) {
        assert_eq!(self.run(steps, input), output, "{}: {steps:#?}", self.name);
    }

    fn at(&self, limit: usize) -> Machine<'_> {
        Machine {
            resolve: self.resolve,
            limit,
            name: self.name,
        }
    }

    fn mem(&self, offset: usize, ty: MemType) {
        assert!(
            offset + ty.size() <= self.limit,
            "{}: {offset} {ty:?} past {}",
            self.name,
            self.limit
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
                Step::Drop { count } => {
                    self.pop_n(s, *count);
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
                    self.at(layout.size).expect(store, vec![Value], vec![]);
                    s.extend([Core(W::Pointer), Core(W::Length)]);
                }
                Step::ListLift { layout, load, .. } => {
                    self.pop(s, Core(W::Length));
                    self.pop(s, Core(W::Pointer));
                    self.at(layout.size).expect(load, vec![], vec![Value]);
                    s.push(Value);
                }
                Step::RecordLower { fields, .. } | Step::TupleLower { fields, .. } => {
                    self.pop(s, Value);
                    for b in fields {
                        assert_eq!(b.inputs, 0);
                        let out = self.run(&b.steps, vec![Value]);
                        s.extend(out);
                    }
                }
                Step::RecordLift { fields, .. } | Step::TupleLift { fields, .. } => {
                    let total = fields.iter().map(|b| b.inputs).sum();
                    let mut vals = self.pop_n(s, total).into_iter();
                    for b in fields {
                        let seed: Vec<Op> = vals.by_ref().take(b.inputs).collect();
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
                Step::EnumLift { .. } | Step::HandleLift { .. } => {
                    self.pop(s, Core(W::I32));
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
                    self.at(layout.size).expect(element, vec![], vec![]);
                }
                Step::FreeVariant {
                    offset,
                    discriminant,
                    cases,
                } => {
                    self.mem(*offset, *discriminant);
                    for c in cases {
                        self.expect(c, vec![], vec![]);
                    }
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
            outs.push(self.run(&b.steps, seed));
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
            assert_eq!(b.inputs, joined.len());
            let out = if payload { vec![Op::Value] } else { vec![] };
            assert_eq!(self.run(&b.steps, seed.clone()), out, "{}", self.name);
        }
        s.push(Op::Value);
    }
}

#[test]
fn keystore_signatures_pinned() {
    use WasmType::{I32, Length as Len, Pointer as Ptr};
    let (resolve, world) = load(KEYSTORE, "app");
    let app = WorldPlan::new(&resolve, world).unwrap();
    let world = resolve.select_world(&[resolve.worlds[world].package.unwrap()], Some("keystore"));
    let keystore = WorldPlan::new(&resolve, world.unwrap()).unwrap();
    let store = Some("wcomp:keystore/store@0.1.0");
    let import = |name| {
        app.function(&resolve, Direction::Import, store, name)
            .unwrap()
    };
    let export = |name| {
        keystore
            .function(&resolve, Direction::Export, store, name)
            .unwrap()
    };

    let set = import("set");
    assert_eq!(set.signature.params, [Ptr, Len, Ptr, Len, I32, I32, Ptr]);
    assert!(set.signature.results.is_empty());
    assert!(set.retptr() && !set.indirect_params());
    assert_eq!(set.return_area, Some(Layout { size: 16, align: 4 }));
    assert_eq!(
        set.core_name,
        CoreName::Import {
            module: "wcomp:keystore/store@0.1.0".into(),
            field: "set".into()
        }
    );
    // `result<_, error>` can carry an `invalid-key(string)` back.
    assert!(set.needs_realloc);
    assert_eq!(set.result.as_ref().unwrap().flat, [I32, I32, Ptr, Len]);

    let set = export("set");
    assert_eq!(set.signature.params, [Ptr, Len, Ptr, Len, I32, I32]);
    assert_eq!(set.signature.results, [Ptr]);
    assert!(set.retptr() && !set.indirect_params() && set.needs_realloc);
    assert_eq!(
        set.core_name,
        CoreName::Export {
            name: "wcomp:keystore/store@0.1.0#set".into()
        }
    );
    let post = set.post_return.as_ref().unwrap();
    assert_eq!(post.name, "cabi_post_wcomp:keystore/store@0.1.0#set");

    let get = import("get");
    assert_eq!(get.signature.params, [Ptr, Len, Ptr]);
    assert_eq!(get.return_area, Some(Layout { size: 16, align: 4 }));
    let get = export("get");
    assert_eq!(get.signature.params, [Ptr, Len]);
    assert_eq!(get.signature.results, [Ptr]);
    // ok's (ptr, len) joined with err's (tag, ptr, len).
    assert_eq!(get.result.as_ref().unwrap().flat, [I32, Ptr, Ptr, Len]);

    let delete = import("delete");
    assert_eq!(delete.signature.params, [Ptr, Len, Ptr]);
    assert!(delete.needs_realloc);
    let delete = export("delete");
    assert_eq!(delete.signature.params, [Ptr, Len]);
    assert_eq!(delete.signature.results, [Ptr]);
    assert!(delete.post_return.is_some());

    // The app's own export takes a string and returns one.
    let handle = app
        .function(
            &resolve,
            Direction::Export,
            Some("wcomp:keystore/handler@0.1.0"),
            "handle",
        )
        .unwrap();
    assert_eq!(handle.signature.params, [Ptr, Len]);
    assert_eq!(handle.signature.results, [Ptr]);
    assert_eq!(handle.return_area, Some(Layout { size: 8, align: 4 }));
    assert_eq!(
        handle.post_return.as_ref().unwrap().steps,
        [Step::FreeString { offset: 0 }]
    );
    assert!(app.needs_realloc() && keystore.needs_realloc());
}

#[test]
fn keystore_set_steps_pinned() {
    let (resolve, world) = load(KEYSTORE, "app");
    let app = WorldPlan::new(&resolve, world).unwrap();
    let set = app
        .function(
            &resolve,
            Direction::Import,
            Some("wcomp:keystore/store@0.1.0"),
            "set",
        )
        .unwrap();
    assert_eq!(set.params[0].steps, [Step::StringLower { realloc: false }]);
    assert_eq!(
        set.params[1].steps,
        [Step::ListLower {
            element: Type::U8,
            layout: Layout { size: 1, align: 1 },
            store: vec![
                Step::I32FromU8,
                Step::Store {
                    offset: 0,
                    ty: MemType::U8
                }
            ],
            byte_copy: true,
            realloc: false,
        }]
    );
    let Step::OptionLower { none, some, .. } = &set.params[2].steps[0] else {
        panic!("{:?}", set.params[2].steps)
    };
    assert_eq!(none.steps, [Step::Zeros(vec![WasmType::I32])]);
    assert_eq!(some.steps, [Step::I32FromU32]);
    // The result is read back from the return area.
    let r = &set.result.as_ref().unwrap().steps;
    assert_eq!(
        r[0],
        Step::Load {
            offset: 0,
            ty: MemType::U8
        }
    );
    let Step::ResultLift {
        joined, ok, err, ..
    } = &r[1]
    else {
        panic!("{r:?}")
    };
    assert!(joined.is_empty() && ok.steps.is_empty());
    assert_eq!(
        err.steps[0],
        Step::Load {
            offset: 4,
            ty: MemType::U8
        }
    );
    let Step::VariantLift { cases, .. } = &err.steps[1] else {
        panic!("{:?}", err.steps)
    };
    assert_eq!(
        cases[1].steps,
        [
            Step::Load {
                offset: 8,
                ty: MemType::Pointer
            },
            Step::Load {
                offset: 12,
                ty: MemType::Length
            },
            Step::StringLift
        ]
    );
    println!("{set}");
    let world = resolve.select_world(&[resolve.worlds[world].package.unwrap()], Some("keystore"));
    let keystore = WorldPlan::new(&resolve, world.unwrap()).unwrap();
    let set = keystore
        .function(
            &resolve,
            Direction::Export,
            Some("wcomp:keystore/store@0.1.0"),
            "set",
        )
        .unwrap();
    println!("{set}");
    assert_eq!(
        set.params[1].steps[0],
        Step::ListLift {
            element: Type::U8,
            layout: Layout { size: 1, align: 1 },
            load: vec![
                Step::Load {
                    offset: 0,
                    ty: MemType::U8
                },
                Step::U8FromI32
            ],
            byte_copy: true,
        }
    );
}

#[test]
fn indirect_params() {
    let (resolve, _, plan) = sink();
    for dir in [Direction::Import, Direction::Export] {
        let f = plan
            .function(&resolve, dir, Some("test:sink/funcs@0.1.0"), "many")
            .unwrap();
        assert!(f.indirect_params());
        assert_eq!(f.signature.params, [WasmType::Pointer]);
        assert_eq!(f.params_area, Some(Layout { size: 68, align: 4 }));
        assert_eq!(f.params[16].place, Place::Memory { offset: 64 });
        // The host allocates an export's parameter area.
        assert_eq!(f.needs_realloc, dir == Direction::Export);
    }
}

#[test]
fn variant_joins_cast_and_pad() {
    let (resolve, _, plan) = sink();
    let f = plan
        .function(
            &resolve,
            Direction::Import,
            Some("test:sink/funcs@0.1.0"),
            "var",
        )
        .unwrap();
    let Step::VariantLower { cases, .. } = &f.params[0].steps[0] else {
        panic!()
    };
    use WasmType::{F32, I32, I64, Length, Pointer, PointerOrI64};
    // empty: all padding; circle(f32): f32 -> i64 bits, then a length.
    assert_eq!(cases[0].steps, [Step::Zeros(vec![PointerOrI64, Length])]);
    assert_eq!(
        cases[1].steps[1..],
        [
            Step::Casts(vec![Cast {
                from: F32,
                to: PointerOrI64
            }]),
            Step::Zeros(vec![Length])
        ]
    );
    // rect(tuple<u64, f32>): the f32 travels in the length slot as i32 bits.
    assert_eq!(
        cases[2].steps.last(),
        Some(&Step::Casts(vec![
            Cast {
                from: I64,
                to: PointerOrI64
            },
            Cast {
                from: F32,
                to: Length
            }
        ]))
    );
    let _ = (I32, Pointer);
    // Lists of records are not byte-copied; lists of numbers are.
    let Step::ListLower { byte_copy, .. } = &cases[4].steps[0] else {
        panic!("{:?}", cases[4].steps)
    };
    assert!(!byte_copy);
    let words = plan
        .function(
            &resolve,
            Direction::Export,
            Some("test:sink/funcs@0.1.0"),
            "words",
        )
        .unwrap();
    assert!(matches!(
        words.params[0].steps[0],
        Step::ListLift {
            byte_copy: true,
            ..
        }
    ));
    assert!(matches!(
        words.result.as_ref().unwrap().steps[0],
        Step::ListLower {
            byte_copy: true,
            realloc: true,
            ..
        }
    ));
}

#[test]
fn flags_steps() {
    let (resolve, _, plan) = sink();
    let f = plan
        .function(
            &resolve,
            Direction::Export,
            Some("test:sink/funcs@0.1.0"),
            "get-fl33",
        )
        .unwrap();
    // 33 flags: two i32 words, returned through memory.
    assert!(f.retptr());
    let steps = &f.result.as_ref().unwrap().steps;
    assert!(matches!(
        steps[0],
        Step::FlagsLower {
            count: 33,
            words: 2,
            ..
        }
    ));
    assert_eq!(
        steps[1..],
        [
            Step::Store {
                offset: 4,
                ty: MemType::I32
            },
            Step::Store {
                offset: 0,
                ty: MemType::I32
            }
        ]
    );
}

#[test]
fn resources_and_world_functions() {
    let (resolve, _, plan) = sink();
    let counter = resource(&resolve, "counters", "counter");
    let bump = plan
        .function(
            &resolve,
            Direction::Export,
            Some("test:sink/counters@0.1.0"),
            "[method]counter.bump",
        )
        .unwrap();
    assert_eq!(bump.signature.params, [WasmType::Pointer, WasmType::I32]);
    assert_eq!(
        bump.params[0].steps,
        [Step::HandleLift {
            resource: counter,
            own: false,
            exported: true
        }]
    );
    let take = plan
        .function(
            &resolve,
            Direction::Export,
            Some("test:sink/counters@0.1.0"),
            "[static]counter.take",
        )
        .unwrap();
    assert!(matches!(
        take.params[0].steps[0],
        Step::HandleLift {
            own: true,
            exported: true,
            ..
        }
    ));
    let ctor = plan
        .function(
            &resolve,
            Direction::Export,
            Some("test:sink/counters@0.1.0"),
            "[constructor]counter",
        )
        .unwrap();
    assert!(matches!(
        ctor.result.as_ref().unwrap().steps[0],
        Step::HandleLower {
            own: true,
            exported: true,
            ..
        }
    ));
    // Imported resource, used through `use`.
    let own = plan
        .function(
            &resolve,
            Direction::Import,
            Some("test:sink/funcs@0.1.0"),
            "own-blob",
        )
        .unwrap();
    let blob = resource(&resolve, "types", "blob");
    assert_eq!(
        own.params[0].steps,
        [Step::HandleLower {
            resource: blob,
            own: true,
            exported: false
        }]
    );
    // World-level functions.
    let top = plan
        .function(&resolve, Direction::Import, None, "top")
        .unwrap();
    assert_eq!(
        top.core_name,
        CoreName::Import {
            module: "$root".into(),
            field: "top".into()
        }
    );
    assert!(top.needs_realloc && top.retptr());
    let run = plan
        .function(&resolve, Direction::Export, None, "run")
        .unwrap();
    assert_eq!(run.core_name, CoreName::Export { name: "run".into() });
    assert_eq!(run.post_return.as_ref().unwrap().name, "cabi_post_run");
    assert!(matches!(
        run.post_return.as_ref().unwrap().steps[..],
        [Step::FreeVariant { offset: 0, .. }]
    ));
    assert_eq!(run.owner, "world sink");
}

#[test]
fn wit_parser_flat_signatures_for_every_kind() {
    let (resolve, _, plan) = sink();
    use WasmType::*;
    let cases: &[(&str, &[WasmType], &[WasmType])] = &[
        (
            "prims",
            &[I32, I32, I32, I32, I32, I32, I32, I64, I64, F32, F64, I32],
            &[I32],
        ),
        ("echo-b", &[I32], &[I32]),
        ("echo-i64", &[I64], &[I64]),
        ("echo-floats", &[F32], &[F64]),
        ("echo-str", &[Pointer, Length], &[Pointer]),
        ("opt", &[I32, I32], &[Pointer]),
        ("res-none", &[I32], &[I32]),
        ("res-ok", &[I32, I64], &[Pointer]),
        ("tup", &[I32, Pointer, Length, F64], &[Pointer]),
        ("rec", &[I32, I32, I32, I32, I32, I32], &[Pointer]),
        ("en", &[I32], &[I32]),
        ("fl", &[I32, I32, I32, I32, I32, I32, I32], &[Pointer]),
        ("own-blob", &[I32], &[I32]),
        ("nothing", &[], &[]),
    ];
    for (name, params, results) in cases {
        let f = plan
            .function(
                &resolve,
                Direction::Export,
                Some("test:sink/funcs@0.1.0"),
                name,
            )
            .unwrap();
        let sig = resolve.wasm_signature(AbiVariant::GuestExport, &f.function);
        assert_eq!(
            (&sig.params[..], &sig.results[..]),
            (*params, *results),
            "{name}"
        );
        assert_eq!(f.signature, sig);
    }
}

#[test]
fn unsupported_features_are_named() {
    let cases = [
        (
            "fetch: async func();",
            "function `fetch` of `test:x/api@0.1.0` is async; wcomp bind does not support async yet",
        ),
        (
            "f: func(x: future<u8>);",
            "function `f` of `test:x/api@0.1.0` uses `future` (in parameter `x`)",
        ),
        (
            "f: func() -> option<stream<u8>>;",
            "function `f` of `test:x/api@0.1.0` uses `stream` (in the result)",
        ),
        (
            "f: func(e: list<error-context>);",
            "uses `error-context` (in parameter `e`)",
        ),
    ];
    for (func, message) in cases {
        let text = format!(
            "package test:x@0.1.0;\ninterface api {{ {func} }}\nworld w {{ export api; }}\n"
        );
        let (resolve, world) = load(&text, "w");
        let err = WorldPlan::new(&resolve, world).unwrap_err();
        assert!(err.to_string().contains(message), "{err}");
    }
}
