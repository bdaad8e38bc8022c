//! Cross-check of our host bindings against wasmtime's own `bindgen!`:
//! the kitchen-sink guest (`fixtures/bind-rust/kitchen-sink`) is called
//! with the edge values of `host_roundtrip.rs`, once through
//! `wcomp_tests::host_bindings::echo` (`wcomp bind --lang rust --host`)
//! and once through `bindgen!` on the same world of the same WIT file, on
//! two instances of the same component, and every answer must agree.
//!
//! The two sets of types are distinct Rust types (and their `Debug` output
//! differs: `bindgen!` writes `Color::Red` where a derive writes `Red`), so
//! `bindgen!`'s answers are converted into our types field by field and
//! case by case ([`Cross`], exhaustive matches: a new case fails to
//! compile) and compared as our `Debug` text, which keeps NaN equal to
//! itself and `-0.0` apart from `0.0`. Each call is written once and
//! expanded for both bindings ([`cross!`]), so both get the same values.
//!
//! `bindgen!` is test-only here: wcomp never depends on it. Skipped (with a
//! note) where no wasm32 route exists; CI installs one.

#[path = "common/bind_guest.rs"]
mod bind_guest;

use std::collections::BTreeSet;
use std::fmt::Debug;

use wasmtime::Store;
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, Linker};
use wcomp_tests::host::shared_engine;
use wcomp_tests::host_bindings::echo as ours;

/// What `bindgen!` makes of the kitchen sink's `echo` world.
mod theirs {
    wasmtime::component::bindgen!({
        path: "../crates/wcomp-bindgen/src/rust/sink.wit",
        world: "echo",
    });
}

use ours::types as o;
use theirs::test::rsink::types as t;

/// What a call site of [`cross!`] names `t` in our expansion: our types,
/// and [`arg`](ours_side::arg) to pass a compound argument by value.
mod ours_side {
    pub use super::o::*;
    pub fn arg<T: ToOwned + ?Sized>(x: &T) -> T::Owned {
        x.to_owned()
    }
}

/// The same for `bindgen!`'s expansion, which takes compound arguments by
/// reference.
mod theirs_side {
    pub use super::t::*;
    pub fn arg<T: ?Sized>(x: &T) -> &T {
        x
    }
}

const INTERFACE: &str = "test:rsink/funcs@0.1.0";

/// A value of `bindgen!`'s types as the same value of ours.
trait Cross {
    type Ours;
    fn cross(&self) -> Self::Ours;
}

/// Types both bindings spell the same way.
macro_rules! same {
    ($($ty:ty),*) => {$(
        impl Cross for $ty {
            type Ours = $ty;
            fn cross(&self) -> $ty {
                self.clone()
            }
        }
    )*};
}
same!((), bool, u8, u16, u32, u64, f32, f64, char, String);

impl<T: Cross> Cross for Vec<T> {
    type Ours = Vec<T::Ours>;
    fn cross(&self) -> Self::Ours {
        self.iter().map(Cross::cross).collect()
    }
}

impl<T: Cross> Cross for Option<T> {
    type Ours = Option<T::Ours>;
    fn cross(&self) -> Self::Ours {
        self.as_ref().map(Cross::cross)
    }
}

impl<A: Cross, B: Cross> Cross for Result<A, B> {
    type Ours = Result<A::Ours, B::Ours>;
    fn cross(&self) -> Self::Ours {
        match self {
            Ok(a) => Ok(a.cross()),
            Err(b) => Err(b.cross()),
        }
    }
}

impl<A: Cross, B: Cross> Cross for (A, B) {
    type Ours = (A::Ours, B::Ours);
    fn cross(&self) -> Self::Ours {
        (self.0.cross(), self.1.cross())
    }
}

/// A record whose fields have the same names in both bindings.
macro_rules! record {
    ($name:ident { $($field:ident),* }) => {
        impl Cross for t::$name {
            type Ours = o::$name;
            fn cross(&self) -> o::$name {
                // Destructured, so that a field missing here fails to compile.
                let t::$name { $($field),* } = self;
                o::$name { $($field: $field.cross()),* }
            }
        }
    };
}
record!(Point { a, b, c });
record!(Nested {
    name,
    shapes,
    tags,
    opt
});

/// Flags: each of ours that `bindgen!`'s value contains.
macro_rules! flags {
    ($name:ident { $($flag:ident),* }) => {
        impl Cross for t::$name {
            type Ours = o::$name;
            fn cross(&self) -> o::$name {
                let none = o::$name::B0 & !o::$name::B0;
                let all = [$((t::$name::$flag, o::$name::$flag)),*];
                all.into_iter()
                    .filter(|(theirs, _)| self.contains(*theirs))
                    .fold(none, |set, (_, flag)| set | flag)
            }
        }
    };
}
flags!(Fl8 {
    B0,
    B1,
    B2,
    B3,
    B4,
    B5,
    B6,
    B7
});
flags!(Fl32 {
    B0,
    B1,
    B2,
    B3,
    B4,
    B5,
    B6,
    B7,
    B8,
    B9,
    B10,
    B11,
    B12,
    B13,
    B14,
    B15,
    B16,
    B17,
    B18,
    B19,
    B20,
    B21,
    B22,
    B23,
    B24,
    B25,
    B26,
    B27,
    B28,
    B29,
    B30,
    B31
});

impl Cross for t::Color {
    type Ours = o::Color;
    fn cross(&self) -> o::Color {
        match self {
            t::Color::Red => o::Color::Red,
            t::Color::Green => o::Color::Green,
            t::Color::Blue => o::Color::Blue,
        }
    }
}

impl Cross for t::Shape {
    type Ours = o::Shape;
    fn cross(&self) -> o::Shape {
        match self {
            t::Shape::Empty => o::Shape::Empty,
            t::Shape::Circle(r) => o::Shape::Circle(r.cross()),
            t::Shape::Rect(wh) => o::Shape::Rect(wh.cross()),
            t::Shape::Label(l) => o::Shape::Label(l.cross()),
            t::Shape::Pts(pts) => o::Shape::Pts(pts.cross()),
        }
    }
}

impl Cross for t::Error {
    type Ours = o::Error;
    fn cross(&self) -> o::Error {
        match self {
            t::Error::NotFound => o::Error::NotFound,
            t::Error::InvalidKey(k) => o::Error::InvalidKey(k.cross()),
            t::Error::StorageFull => o::Error::StorageFull,
            t::Error::Other(m) => o::Error::Other(m.cross()),
        }
    }
}

/// The keyword record: `bindgen!` names its fields `type_`, `self_` and
/// `match_`, ours `r#type`, `self_` and `r#match`.
impl Cross for t::Type {
    type Ours = o::Type;
    fn cross(&self) -> o::Type {
        let t::Type {
            type_,
            self_,
            match_,
        } = self;
        o::Type {
            r#type: *type_,
            self_: self_.clone(),
            r#match: *match_,
        }
    }
}

/// Two instances of the kitchen sink, one driven through each bindings,
/// and the exports called so far.
struct Pair {
    ours: ours::Echo,
    ours_store: Store<()>,
    theirs: theirs::Echo,
    theirs_store: Store<()>,
    called: BTreeSet<String>,
}

impl Pair {
    /// Both answers are `Ok` and the same value: `bindgen!`'s, converted
    /// into our types, prints as ours does.
    fn agree<O: Debug, T: Cross<Ours = O>>(
        &mut self,
        call: &str,
        ours: wasmtime::Result<O>,
        theirs: wasmtime::Result<T>,
    ) {
        let ours = ours.unwrap_or_else(|e| panic!("ours: `{call}` failed: {e:?}"));
        let theirs = theirs.unwrap_or_else(|e| panic!("bindgen!: `{call}` failed: {e:?}"));
        let (ours, theirs) = (format!("{ours:?}"), format!("{:?}", theirs.cross()));
        assert_eq!(
            ours, theirs,
            "`{call}`: ours (left) and bindgen!'s (right) differ"
        );
        // `f.call_echo_str(s, ..)` calls the export `echo-str`.
        let name = call.split("call_").nth(1).and_then(|r| r.split('(').next());
        let name = name.unwrap_or_else(|| panic!("`{call}` names no `call_` method"));
        self.called.insert(name.trim().replace('_', "-"));
    }
}

/// Runs `$call` through both bindings, with `$f` the interface's typed
/// functions, `$s` the store and `$t` the module of the world's types, and
/// checks that the answers agree.
macro_rules! cross {
    ($pair:ident, |$f:ident, $s:ident, $t:ident| $call:expr) => {{
        let ours = {
            #[allow(unused_imports)]
            use ours_side as $t;
            let ($f, $s) = ($pair.ours.funcs(), &mut $pair.ours_store);
            $call
        };
        let theirs = {
            #[allow(unused_imports)]
            use theirs_side as $t;
            let ($f, $s) = ($pair.theirs.test_rsink_funcs(), &mut $pair.theirs_store);
            $call
        };
        $pair.agree(stringify!($call), ours, theirs);
    }};
}

/// The functions the kitchen sink's `funcs` interface exports, from the
/// component's own type.
fn exported_funcs(component: &Component) -> BTreeSet<String> {
    let engine = shared_engine();
    let ty = component.component_type();
    let export = ty.get_export(engine, INTERFACE).map(|e| e.ty);
    let Some(ComponentItem::ComponentInstance(funcs)) = export else {
        panic!("the kitchen sink exports no `{INTERFACE}`");
    };
    funcs
        .exports(engine)
        .filter(|(_, item)| matches!(item.ty, ComponentItem::ComponentFunc(_)))
        .map(|(name, _)| name.to_string())
        .collect()
}

#[test]
fn kitchen_sink_answers_the_same_through_bindgen() {
    let engine = shared_engine();
    let Some(path) = bind_guest::build("kitchen-sink") else {
        return;
    };
    let component = Component::from_file(engine, &path).unwrap();
    let linker = Linker::new(engine);
    let mut ours_store = Store::new(engine, ());
    let ours = ours::Echo::instantiate(&mut ours_store, &component, &linker).unwrap();
    let mut theirs_store = Store::new(engine, ());
    let theirs = theirs::Echo::instantiate(&mut theirs_store, &component, &linker).unwrap();
    let mut c = Pair {
        ours,
        ours_store,
        theirs,
        theirs_store,
        called: BTreeSet::new(),
    };

    cross!(c, |f, s, t| f.call_prims(
        s,
        true,
        255,
        -128,
        65535,
        -32768,
        u32::MAX,
        i32::MIN,
        u64::MAX,
        i64::MIN,
        1.5,
        -0.0,
        'ß'
    ));
    for text in ["", "héllo wörld ✓ 🦀"] {
        cross!(c, |f, s, t| f.call_echo_str(s, text));
    }
    cross!(c, |f, s, t| f.call_bytes(s, &[1, 2, 255]));
    cross!(c, |f, s, t| f.call_bytes(s, &[]));
    cross!(c, |f, s, t| f.call_words(s, &[0, 7, u32::MAX]));
    let strings = ["a", "bc", ""].map(String::from);
    cross!(c, |f, s, t| f.call_strings(s, &strings));
    for x in [None, Some(0), Some(42)] {
        cross!(c, |f, s, t| f.call_opt(s, x));
    }
    for x in [Ok(()), Err(())] {
        cross!(c, |f, s, t| f.call_res_none(s, x));
    }
    for x in [Ok(5), Err(())] {
        cross!(c, |f, s, t| f.call_res_ok(s, x));
    }
    cross!(c, |f, s, t| f.call_res_err(s, Ok(())));
    cross!(c, |f, s, t| f
        .call_res_err(s, Err(t::arg(&t::Error::NotFound))));
    cross!(c, |f, s, t| f.call_res_err(
        s,
        Err(t::arg(&t::Error::InvalidKey("abc".into())))
    ));
    cross!(c, |f, s, t| f
        .call_res_err(s, Err(t::arg(&t::Error::StorageFull))));
    cross!(c, |f, s, t| f.call_res_str(s, Ok(t::arg("abc"))));
    cross!(c, |f, s, t| f.call_res_str(s, Err(t::arg(&[1, 2][..]))));
    cross!(c, |f, s, t| f.call_tup(s, (7, t::arg("zed"), 2.5)));
    cross!(c, |f, s, t| f.call_rec(
        s,
        t::Point { a: 1, b: 2, c: 3 },
        t::Point {
            a: 255,
            b: 10,
            c: 20
        }
    ));
    cross!(c, |f, s, t| f.call_nest(
        s,
        t::arg(&t::Nested {
            name: "n".into(),
            shapes: vec![
                t::Shape::Empty,
                t::Shape::Circle(1.5),
                t::Shape::Rect((u64::MAX, -2.5)),
                t::Shape::Label("l".into()),
                t::Shape::Pts(vec![t::Point { a: 1, b: 2, c: 3 }]),
            ],
            tags: vec!["x".into(), "y".into()],
            opt: Some(None),
        })
    ));
    cross!(c, |f, s, t| f
        .call_var(s, t::arg(&t::Shape::Label("ünï".into()))));
    cross!(c, |f, s, t| f
        .call_var(s, t::arg(&t::Shape::Rect((1, 0.5)))));
    cross!(c, |f, s, t| f.call_shapes(
        s,
        &[
            t::Shape::Circle(1.0),
            t::Shape::Pts(vec![]),
            t::Shape::Empty
        ]
    ));
    cross!(c, |f, s, t| f.call_en(s, t::Color::Red));
    cross!(c, |f, s, t| f.call_en(s, t::Color::Blue));
    cross!(c, |f, s, t| f.call_fl(
        s,
        t::Fl8::B0 | t::Fl8::B3,
        t::Fl32::B30
    ));
    // The keyword record's fields are spelled apart (see `Cross for t::Type`).
    let ours_kw = o::Type {
        r#type: 1,
        self_: "s".into(),
        r#match: true,
    };
    let theirs_kw = t::Type {
        type_: 1,
        self_: "s".into(),
        match_: true,
    };
    assert_eq!(format!("{:?}", theirs_kw.cross()), format!("{ours_kw:?}"));
    let kw = (c.ours.funcs()).call_kw(&mut c.ours_store, ours_kw);
    let theirs_answer = (c.theirs.test_rsink_funcs()).call_kw(&mut c.theirs_store, &theirs_kw);
    c.agree("f.call_kw(s, type)", kw, theirs_answer);
    cross!(c, |f, s, t| f.call_many(
        s, 1, "abcd", 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1
    ));
    cross!(c, |f, s, t| f.call_floats(s, f32::NAN, -0.0));
    cross!(c, |f, s, t| f.call_floats(
        s,
        f32::NEG_INFINITY,
        f64::INFINITY
    ));
    cross!(c, |f, s, t| f.call_floats(s, f32::MIN, 5e-324));
    cross!(c, |f, s, t| f.call_nothing(s));

    // Every export was cross-checked: a function added to `funcs` fails
    // here until it is called above.
    let missing: Vec<String> = exported_funcs(&component)
        .difference(&c.called)
        .cloned()
        .collect();
    assert!(
        missing.is_empty(),
        "exports never cross-checked: {missing:?}"
    );
}
