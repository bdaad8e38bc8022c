//! Async functions through generated host bindings (`wcomp bind --lang
//! rust --host`), with each guest of `fixtures/bind-rust/async-calls` (Rust,
//! C and Go), whose async exports await async imports:
//!
//! * the host implements the imports through the generated traits, each
//!   call suspending once before it answers, so that every guest call
//!   waits on its subtask and is called back;
//! * the host calls the exports with `call_async`, one at a time and
//!   several at once (`join`), each answer its own;
//! * a host import's `Err` traps the guest, and the export's call returns
//!   it as an `Err`.
//!
//! Skipped (with a note) where no wasm32 route exists; CI installs one.

#[path = "common/bind_guest.rs"]
mod bind_guest;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bind_guest::{build_in, languages_of};
use wasmtime::component::{Accessor, Component, HasSelf, Linker, ResourceTable};
use wasmtime::{Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wcomp_tests::host::shared_engine;
use wcomp_tests::host_bindings::async_calls::{self, AsyncCalls, clock, store};

/// The host's store and clock, and WASI 0.2 for the guests whose language
/// runtime reaches the host through the preview1 adapter (C, Go).
struct Backend {
    values: HashMap<String, Vec<u8>>,
    now: u64,
    calls: Vec<String>,
    /// `put` fails with a trap instead of answering.
    trap_put: bool,
    wasi: WasiCtx,
    table: ResourceTable,
}

impl Default for Backend {
    fn default() -> Self {
        Backend {
            values: HashMap::new(),
            now: 0,
            calls: Vec::new(),
            trap_put: false,
            wasi: WasiCtx::builder().build(),
            table: ResourceTable::new(),
        }
    }
}

impl WasiView for Backend {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// Pending the first time it is polled (waking at once), ready the next:
/// the guest's call does not return at once.
struct PendingOnce(bool);

impl Future for PendingOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

type Access<'a, T> = &'a Accessor<T, HasSelf<Backend>>;

fn log<T>(accessor: Access<'_, T>, what: String) {
    accessor.with(|mut a| a.get().calls.push(what));
}

impl clock::Host for Backend {
    async fn sleep<T: 'static>(accessor: Access<'_, T>, ms: u32) -> wasmtime::Result<()> {
        PendingOnce(false).await;
        accessor.with(|mut a| a.get().now += u64::from(ms));
        log(accessor, format!("sleep {ms}"));
        Ok(())
    }

    async fn now<T: 'static>(accessor: Access<'_, T>) -> wasmtime::Result<u64> {
        PendingOnce(false).await;
        Ok(accessor.with(|mut a| a.get().now))
    }
}

impl store::Host for Backend {
    async fn get<T: 'static>(
        accessor: Access<'_, T>,
        key: String,
    ) -> wasmtime::Result<Result<Vec<u8>, store::Error>> {
        PendingOnce(false).await;
        log(accessor, format!("get {key}"));
        let found = accessor.with(|mut a| a.get().values.get(&key).cloned());
        Ok(found.ok_or(store::Error::NotFound))
    }

    async fn put<T: 'static>(
        accessor: Access<'_, T>,
        e: store::Entry,
    ) -> wasmtime::Result<Result<(), store::Error>> {
        PendingOnce(false).await;
        if accessor.with(|mut a| a.get().trap_put) {
            wasmtime::bail!("the host refuses to store {}", e.key);
        }
        log(accessor, format!("put {} {:?}", e.key, e.tags));
        accessor.with(|mut a| a.get().values.insert(e.key, e.value));
        Ok(Ok(()))
    }

    async fn wide<T: 'static>(
        accessor: Access<'_, T>,
        a: u32,
        b: u64,
        c: String,
        d: Vec<u8>,
        e: Option<String>,
    ) -> wasmtime::Result<(u32, u64, String, Vec<u8>, Option<String>)> {
        PendingOnce(false).await;
        log(accessor, format!("wide {a} {b} {c} {d:?} {e:?}"));
        Ok((
            a * 2,
            b * 2,
            c.to_uppercase(),
            d.into_iter().rev().collect(),
            e,
        ))
    }

    async fn touch<T: 'static>(accessor: Access<'_, T>) -> wasmtime::Result<()> {
        PendingOnce(false).await;
        log(accessor, "touch".into());
        Ok(())
    }
}

/// The case's component in each language that builds here.
fn components(engine: &Engine) -> Vec<(&'static str, Component)> {
    languages_of("async-calls")
        .into_iter()
        .filter_map(|language| {
            let path = build_in("async-calls", language)?;
            Some((language.lang, Component::from_file(engine, &path).unwrap()))
        })
        .collect()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

async fn instantiate(
    engine: &Engine,
    component: &Component,
    backend: Backend,
) -> (Store<Backend>, AsyncCalls) {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).unwrap();
    AsyncCalls::add_to_linker(&mut linker, |b: &mut Backend| b).unwrap();
    let mut store = Store::new(engine, backend);
    let world = AsyncCalls::instantiate_async(&mut store, component, &linker)
        .await
        .unwrap();
    (store, world)
}

#[test]
fn async_exports_await_async_host_imports() {
    let engine = shared_engine();
    for (lang, component) in components(engine) {
        runtime().block_on(async {
            let (mut store, world) = instantiate(engine, &component, Backend::default()).await;
            let s = world.store();
            let entry = async_calls::exports::store::Entry {
                key: "k".into(),
                value: vec![1, 2],
                tags: vec!["t".into()],
            };
            s.call_put(&mut store, entry).await.unwrap().unwrap();
            let got = s.call_get(&mut store, "k").await.unwrap().unwrap();
            assert_eq!(got, [1, 2, b'k'], "{lang}: the stored value, then the key");
            let missing = s.call_get(&mut store, "nope").await.unwrap();
            assert!(matches!(
                missing,
                Err(async_calls::exports::store::Error::NotFound)
            ));
            let empty = async_calls::exports::store::Entry {
                key: String::new(),
                value: Vec::new(),
                tags: Vec::new(),
            };
            let refused = s.call_put(&mut store, empty).await.unwrap();
            assert!(matches!(
                refused,
                Err(async_calls::exports::store::Error::Invalid(why)) if why == "empty key"
            ));
            let wide = s
                .call_wide(&mut store, 3, 1 << 40, "ab", &[1, 2, 3], Some("x".into()))
                .await
                .unwrap();
            assert_eq!(
                wide,
                (
                    3 + 6,
                    (1 << 40) * 3,
                    "abAB".to_string(),
                    vec![1, 2, 3, 3, 2, 1],
                    Some("x".into())
                )
            );
            s.call_touch(&mut store).await.unwrap();
            let ran = world.call_run(&mut store, &["k".into()]).await.unwrap();
            assert_eq!(ran, Ok("k=2 in 0ms".to_string()));
            assert_eq!(world.call_twice(&mut store, 21).await.unwrap(), 42);
            assert_eq!(
                store.data().calls,
                [
                    "put k [\"t\"]",
                    "sleep 1",
                    "get k",
                    "sleep 1",
                    "get nope",
                    "wide 3 1099511627776 ab [1, 2, 3] Some(\"x\")",
                    "touch",
                    "get k",
                ],
                "{lang}"
            );
            assert_eq!(store.data().now, 2, "{lang}: two sleeps of 1 ms");
        });
    }
}

#[test]
fn concurrent_calls_each_get_their_answer() {
    let engine = shared_engine();
    for (lang, component) in components(engine) {
        runtime().block_on(async {
            let mut backend = Backend::default();
            for (key, len) in [("a", 1), ("bb", 2), ("ccc", 3)] {
                backend.values.insert(key.into(), vec![7; len]);
            }
            let (mut store, world) = instantiate(engine, &component, backend).await;
            let s = world.store();
            // Three calls of the same export in flight at once: each task waits
            // on its own subtasks, and each result goes to its own caller.
            let answers = store
                .run_concurrent(async |accessor| {
                    let one = s.call_get_concurrent(accessor, "a".into());
                    let two = s.call_get_concurrent(accessor, "bb".into());
                    let three = s.call_get_concurrent(accessor, "ccc".into());
                    tokio::join!(one, two, three)
                })
                .await
                .unwrap();
            let (one, two, three) = answers;
            assert_eq!(one.unwrap().unwrap(), [7, b'a'], "{lang}");
            assert_eq!(two.unwrap().unwrap(), [7, 7, b'b', b'b'], "{lang}");
            assert_eq!(
                three.unwrap().unwrap(),
                [7, 7, 7, b'c', b'c', b'c'],
                "{lang}"
            );
        });
    }
}

#[test]
fn a_host_error_traps_the_async_guest() {
    let engine = shared_engine();
    for (lang, component) in components(engine) {
        runtime().block_on(async {
            let backend = Backend {
                trap_put: true,
                ..Backend::default()
            };
            let (mut store, world) = instantiate(engine, &component, backend).await;
            let entry = async_calls::exports::store::Entry {
                key: "k".into(),
                value: vec![1],
                tags: Vec::new(),
            };
            let err = world.store().call_put(&mut store, entry).await.unwrap_err();
            assert!(
                format!("{err:?}").contains("the host refuses to store k"),
                "{lang}: {err:?}"
            );
        });
    }
}
