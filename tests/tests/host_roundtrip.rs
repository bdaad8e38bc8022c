//! Round trips through generated host bindings (`wcomp bind --lang rust
//! --host`, compiled into `wcomp_tests::host_bindings` by `build.rs`), with
//! the guests of `fixtures/bind-rust`:
//!
//! * host to guest: the kitchen sink's exports, called with the edge values
//!   of its `calls` script, answer the same through typed calls;
//! * guest to host: the resource user's guest calls `counters`, which the
//!   host implements through the generated `HostCounter` trait; every
//!   handle is dropped exactly once;
//! * host to guest resources: the `counting` guest's counters are
//!   `ResourceAny`s to the host, dropped once with `resource_drop`;
//! * traps: a host function's `Err` traps the guest, and the export call
//!   returns it as an `Err` (no panic).
//!
//! Skipped (with a note) where no wasm32 route exists; CI installs one.

#[path = "common/bind_guest.rs"]
mod bind_guest;

use std::collections::BTreeSet;

use bind_guest::build;
use wasmtime::component::{Component, Linker, Resource, ResourceTable};
use wasmtime::{Engine, Store};
use wcomp_tests::host::shared_engine;
use wcomp_tests::host_bindings::{counting, echo, user};

fn component(engine: &Engine, name: &str) -> Option<Component> {
    let path = build(name)?;
    Some(Component::from_file(engine, &path).unwrap())
}

#[test]
fn kitchen_sink_exports_through_typed_calls() {
    use echo::exports::funcs::Guest;
    use echo::types::{Color, Error, Fl8, Fl32, Nested, Point, Shape, Type};

    let engine = shared_engine();
    let Some(component) = component(engine, "kitchen-sink") else {
        return;
    };
    let mut store = Store::new(engine, ());
    let linker = Linker::new(engine);
    let world = echo::Echo::instantiate(&mut store, &component, &linker).unwrap();
    let f: &Guest = world.funcs();
    let s = &mut store;

    let prims = f.call_prims(
        &mut *s,
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
        'ß',
    );
    assert_eq!(prims.unwrap(), 'ß');
    for text in ["", "héllo wörld ✓ 🦀"] {
        assert_eq!(f.call_echo_str(&mut *s, text).unwrap(), text);
    }
    assert_eq!(f.call_bytes(&mut *s, &[1, 2, 255]).unwrap(), [255, 2, 1]);
    assert_eq!(f.call_bytes(&mut *s, &[]).unwrap(), Vec::<u8>::new());
    assert_eq!(
        f.call_words(&mut *s, &[0, 7, u32::MAX]).unwrap(),
        [0.0, 7.0, 4294967295.0]
    );
    let strings = ["a", "bc", ""].map(String::from);
    assert_eq!(
        f.call_strings(&mut *s, &strings).unwrap(),
        vec![vec!["a", "bc", ""], vec!["", "bc", "a"]]
    );
    assert_eq!(f.call_opt(&mut *s, None).unwrap(), None);
    assert_eq!(f.call_opt(&mut *s, Some(0)).unwrap(), Some(None));
    assert_eq!(
        f.call_opt(&mut *s, Some(42)).unwrap(),
        Some(Some("42".into()))
    );
    assert_eq!(f.call_res_none(&mut *s, Ok(())).unwrap(), Ok(()));
    assert_eq!(f.call_res_none(&mut *s, Err(())).unwrap(), Err(()));
    assert_eq!(f.call_res_ok(&mut *s, Ok(5)).unwrap(), Ok(()));
    assert_eq!(f.call_res_ok(&mut *s, Err(())).unwrap(), Err(1.5));
    assert_eq!(f.call_res_err(&mut *s, Ok(())).unwrap(), Ok(0.5));
    for (e, n) in [
        (Error::NotFound, 0),
        (Error::InvalidKey("abc".into()), 3),
        (Error::StorageFull, u64::MAX),
    ] {
        assert_eq!(f.call_res_err(&mut *s, Err(e)).unwrap(), Err(n));
    }
    assert_eq!(
        f.call_res_str(&mut *s, Ok("abc".into())).unwrap(),
        Ok("ABC".into())
    );
    assert_eq!(
        f.call_res_str(&mut *s, Err(vec![1, 2])).unwrap(),
        Err(Error::Other("2 bytes".into()))
    );
    assert_eq!(
        f.call_tup(&mut *s, (7, "zed".into(), 2.5)).unwrap(),
        ('z', 8)
    );
    let p = |a, b, c| Point { a, b, c };
    assert_eq!(
        f.call_rec(&mut *s, p(1, 2, 3), p(255, 10, 20)).unwrap(),
        p(0, 12, 23)
    );
    let nested = Nested {
        name: "n".into(),
        shapes: vec![
            Shape::Empty,
            Shape::Circle(1.5),
            Shape::Rect((u64::MAX, -2.5)),
            Shape::Label("l".into()),
            Shape::Pts(vec![p(1, 2, 3)]),
        ],
        tags: vec!["x".into(), "y".into()],
        opt: Some(None),
    };
    assert_eq!(f.call_nest(&mut *s, nested.clone()).unwrap(), nested);
    for shape in [Shape::Label("ünï".into()), Shape::Rect((1, 0.5))] {
        assert_eq!(f.call_var(&mut *s, shape.clone()).unwrap(), shape);
    }
    assert_eq!(
        f.call_shapes(
            &mut *s,
            &[Shape::Circle(1.0), Shape::Pts(vec![]), Shape::Empty]
        )
        .unwrap(),
        [Shape::Empty, Shape::Pts(vec![]), Shape::Circle(1.0)]
    );
    assert_eq!(f.call_en(&mut *s, Color::Red).unwrap(), Color::Green);
    assert_eq!(f.call_en(&mut *s, Color::Blue).unwrap(), Color::Red);
    assert_eq!(
        f.call_fl(&mut *s, Fl8::B0 | Fl8::B3, Fl32::B30).unwrap(),
        Fl32::B0 | Fl32::B3 | Fl32::B30
    );
    let kw = Type {
        r#type: 1,
        self_: "s".into(),
        r#match: true,
    };
    assert_eq!(f.call_kw(&mut *s, kw.clone()).unwrap(), kw);
    let many = f.call_many(
        &mut *s, 1, "abcd", 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    );
    assert_eq!(many.unwrap(), 20);
    let (a, b) = f.call_floats(&mut *s, f32::NAN, -0.0).unwrap();
    assert!(a.is_nan() && b == 0.0 && b.is_sign_negative());
    assert_eq!(
        f.call_floats(&mut *s, f32::NEG_INFINITY, f64::INFINITY)
            .unwrap(),
        (f32::NEG_INFINITY, f64::INFINITY)
    );
    assert_eq!(
        f.call_floats(&mut *s, f32::MIN, 5e-324).unwrap(),
        (f32::MIN, 5e-324)
    );
    f.call_nothing(&mut *s).unwrap();
}

/// `counters`, implemented by the host: each counter's value lives in a
/// `ResourceTable`, under the rep its `Resource<Counter>` carries.
#[derive(Default)]
struct Counters {
    table: ResourceTable,
    live: BTreeSet<u32>,
    drops: u32,
    /// Make `peek` fail, to see the guest trap.
    fail_peek: bool,
}

type Counter = Resource<user::counters::Counter>;

impl Counters {
    fn add(&mut self, value: u32) -> wasmtime::Result<Counter> {
        let rep = self.table.push(value)?.rep();
        assert!(self.live.insert(rep), "rep {rep} handed out twice");
        Ok(Resource::new_own(rep))
    }
    fn value(&mut self, c: &Counter) -> wasmtime::Result<&mut u32> {
        Ok(self.table.get_mut(&Resource::<u32>::new_borrow(c.rep()))?)
    }
    /// Frees the counter: exactly once per handle, or the test fails.
    fn free(&mut self, c: Counter) -> wasmtime::Result<u32> {
        assert!(self.live.remove(&c.rep()), "rep {} freed twice", c.rep());
        self.drops += 1;
        Ok(self.table.delete(Resource::<u32>::new_own(c.rep()))?)
    }
}

impl user::counters::HostCounter for Counters {
    fn drop(&mut self, rep: Counter) -> wasmtime::Result<()> {
        self.free(rep).map(|_| ())
    }
    fn new(&mut self, start: u32) -> wasmtime::Result<Counter> {
        self.add(start)
    }
    fn inc(&mut self, self_: Counter, by: u32) -> wasmtime::Result<u32> {
        let v = self.value(&self_)?;
        *v += by;
        Ok(*v)
    }
    fn get(&mut self, self_: Counter) -> wasmtime::Result<u32> {
        Ok(*self.value(&self_)?)
    }
    fn plus(&mut self, self_: Counter, other: Counter) -> wasmtime::Result<Counter> {
        let sum = *self.value(&self_)? + *self.value(&other)?;
        self.add(sum)
    }
    fn many(&mut self, n: u32) -> wasmtime::Result<Vec<Counter>> {
        (0..n).map(|i| self.add(i)).collect()
    }
}

impl user::counters::Host for Counters {
    fn take(&mut self, c: Counter) -> wasmtime::Result<u32> {
        self.free(c)
    }
    fn peek(&mut self, c: Counter) -> wasmtime::Result<u32> {
        if self.fail_peek {
            wasmtime::bail!("the host refuses to peek");
        }
        Ok(*self.value(&c)?)
    }
    fn sum(&mut self, cs: Vec<Counter>) -> wasmtime::Result<u32> {
        cs.into_iter().map(|c| self.free(c)).sum()
    }
    fn maybe(&mut self, c: Option<Counter>) -> wasmtime::Result<Option<Counter>> {
        Ok(c)
    }
    fn drops(&mut self) -> wasmtime::Result<u32> {
        Ok(self.drops)
    }
}

fn user_world(fail_peek: bool) -> Option<(Store<Counters>, user::User)> {
    let engine = shared_engine();
    let component = component(engine, "resource-user")?;
    let mut linker = Linker::new(engine);
    user::User::add_to_linker(&mut linker, |c: &mut Counters| c).unwrap();
    let host = Counters {
        fail_peek,
        ..Counters::default()
    };
    let mut store = Store::new(engine, host);
    let world = user::User::instantiate(&mut store, &component, &linker).unwrap();
    Some((store, world))
}

#[test]
fn guest_uses_host_resources_and_drops_each_once() {
    let Some((mut store, world)) = user_world(false) else {
        return;
    };
    let log = world.check().call_run(&mut store).unwrap();
    assert_eq!(
        log,
        [
            "inc 7",
            "peek 7",
            "plus 47",
            "drops 0",
            "drops 1",
            "take 40",
            "drops 2",
            "many 0,1,2",
            "sum 3",
            "drops 5",
            "maybe 47",
            "none true",
            "drops 5",
            "drops 6"
        ]
    );
    let host = store.data();
    assert_eq!(host.drops, 6, "every counter dropped once");
    assert!(
        host.live.is_empty(),
        "counters never dropped: {:?}",
        host.live
    );
}

#[test]
fn host_error_traps_the_guest_and_returns_err() {
    let Some((mut store, world)) = user_world(true) else {
        return;
    };
    let err = world.check().call_run(&mut store).unwrap_err();
    assert!(
        format!("{err:?}").contains("the host refuses to peek"),
        "{err:?}"
    );
}

#[test]
fn host_drives_guest_resources_and_drops_each_once() {
    let engine = shared_engine();
    let Some(component) = component(engine, "resources") else {
        return;
    };
    let mut store = Store::new(engine, ());
    let world =
        counting::Counting::instantiate(&mut store, &component, &Linker::new(engine)).unwrap();
    let f = world.counters();
    let c = f.counter();
    let base = f.call_drops(&mut store).unwrap();
    let a = c.call_constructor(&mut store, 5).unwrap();
    assert_eq!(c.call_inc(&mut store, a, 2).unwrap(), 7);
    assert_eq!(f.call_peek(&mut store, a).unwrap(), 7);
    let b = c.call_constructor(&mut store, 40).unwrap();
    let sum = c.call_plus(&mut store, a, b).unwrap();
    assert_eq!(c.call_get(&mut store, sum).unwrap(), 47);
    assert_eq!(f.call_take(&mut store, b).unwrap(), 40);
    assert_eq!(f.call_drops(&mut store).unwrap() - base, 1);
    let many = c.call_many(&mut store, 3).unwrap();
    assert_eq!(f.call_sum(&mut store, &many).unwrap(), 3);
    assert_eq!(f.call_drops(&mut store).unwrap() - base, 4);
    let back = f.call_maybe(&mut store, Some(sum)).unwrap().unwrap();
    assert_eq!(c.call_get(&mut store, back).unwrap(), 47);
    assert_eq!(f.call_maybe(&mut store, None).unwrap(), None);
    for handle in [a, back] {
        handle.resource_drop(&mut store).unwrap();
    }
    assert_eq!(f.call_drops(&mut store).unwrap() - base, 6);
    // A handle is dropped once: the second drop is an error, not a second destructor run.
    assert!(a.resource_drop(&mut store).is_err());
    assert_eq!(f.call_drops(&mut store).unwrap() - base, 6);
}

/// `map<K, V>` both ways through typed calls: wasmtime's `HashMap`s on
/// the host, the guest's `BTreeMap`s (in key order) on the other side.
#[test]
fn maps_cross_as_hash_maps() {
    use std::collections::HashMap;
    use wcomp_tests::host_bindings::maps::{Provider, exports::store::Person};

    let mut config = wasmtime::Config::new();
    config.wasm_component_model_map(true);
    let engine = Engine::new(&config).unwrap();
    let Some(component) = component(&engine, "maps-provider") else {
        return;
    };
    let mut store = Store::new(&engine, ());
    let linker = Linker::new(&engine);
    let world = Provider::instantiate(&mut store, &component, &linker).unwrap();
    let f = world.store();
    let s = &mut store;

    let words = ["b", "a", "b", "ünï"].map(String::from);
    let counts = f.call_count(&mut *s, &words).unwrap();
    let want: HashMap<String, u32> = [("a", 1), ("b", 2), ("ünï", 1)]
        .map(|(k, v)| (k.to_string(), v))
        .into();
    assert_eq!(counts, want);
    assert_eq!(f.call_get(&mut *s, &counts, "b").unwrap(), Some(2));
    assert_eq!(f.call_get(&mut *s, &HashMap::new(), "b").unwrap(), None);
    let people: HashMap<u64, Person> = [(
        u64::MAX,
        Person {
            name: "bo".into(),
            age: 0,
        },
    )]
    .into();
    let older = f.call_people(&mut *s, &people).unwrap();
    assert_eq!(older["bo"].age, 1);
    let b: HashMap<char, Option<Vec<u32>>> = [('🦀', Some(vec![1, 2])), ('x', None)].into();
    let (halves, numbers) = f
        .call_mixed(&mut *s, &[(true, -2)].into(), Some(b))
        .unwrap();
    assert_eq!((halves, numbers), ([(-2_000_000_000_000, -1.0)].into(), 2));
}
