//! Layouts of every type kind against wit-parser's `SizeAlign`.

use wit_parser::abi::WasmType;
use wit_parser::{Resolve, SizeAlign, Type, TypeDefKind};

use super::*;

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
        plan.function(Direction::Export, Some("test:sink/funcs@0.1.0"), name)
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
    let f = func(
        &plan,
        Direction::Import,
        Some("test:sink/funcs@0.1.0"),
        "borrow-blob",
    );
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
