//! Futures and streams through generated host bindings (`wcomp bind --lang
//! rust --host`): the host calls the exports of the Rust guest of
//! `fixtures/bind-rust/stream-store`, passing and receiving wasmtime's
//! `StreamReader` and `FutureReader`, which the bindings name for
//! `stream<T>` and `future<T>`:
//!
//! * a stream the host makes (from a `Vec`) is read to its end by the
//!   guest, and one the guest returns is read by the host to its end, in
//!   the chunks the guest writes;
//! * a future the host makes is read by the guest, one the guest returns
//!   is read by the host, and a stream of nothing (`stream`) counts ticks.
//!
//! Skipped (with a note) where no wasm32 route exists; CI installs one.

#[path = "common/bind_guest.rs"]
mod bind_guest;

use std::pin::Pin;
use std::task::{Context, Poll};

use bind_guest::build;
use tokio::sync::oneshot;
use wasmtime::component::{
    Component, FutureConsumer, FutureReader, Linker, Source, StreamConsumer, StreamReader,
    StreamResult,
};
use wasmtime::{Engine, Store, StoreContextMut};
use wcomp_tests::host::shared_engine;
use wcomp_tests::host_bindings::stream_store::Store as StreamStore;

/// Takes everything a stream yields, and sends it on when the stream ends.
struct Collect<T> {
    items: Vec<T>,
    /// How many writes the items came in.
    writes: usize,
    done: Option<oneshot::Sender<(Vec<T>, usize)>>,
}

impl<T> Collect<T> {
    fn new() -> (Self, oneshot::Receiver<(Vec<T>, usize)>) {
        let (tx, rx) = oneshot::channel();
        let collect = Collect {
            items: Vec::new(),
            writes: 0,
            done: Some(tx),
        };
        (collect, rx)
    }
}

impl<T> Drop for Collect<T> {
    fn drop(&mut self) {
        if let Some(done) = self.done.take() {
            let _ = done.send((std::mem::take(&mut self.items), self.writes));
        }
    }
}

impl<D, T> StreamConsumer<D> for Collect<T>
where
    T: wasmtime::component::Lift + Send + Sync + Unpin + 'static,
{
    type Item = T;

    fn poll_consume(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        store: StoreContextMut<D>,
        mut source: Source<'_, T>,
        _finish: bool,
    ) -> Poll<wasmtime::Result<StreamResult>> {
        let (this, mut store) = (self.get_mut(), store);
        let before = this.items.len();
        // A `Vec` takes as many items as it has room for.
        this.items.reserve(source.remaining(&mut store));
        source.read(store, &mut this.items)?;
        if this.items.len() > before {
            this.writes += 1;
        }
        Poll::Ready(Ok(StreamResult::Completed))
    }
}

/// Takes a future's value.
struct Take<T>(Option<oneshot::Sender<T>>);

impl<D, T> FutureConsumer<D> for Take<T>
where
    T: wasmtime::component::Lift + Send + Sync + Unpin + 'static,
{
    type Item = T;

    fn poll_consume(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        store: StoreContextMut<D>,
        mut source: Source<'_, T>,
        _finish: bool,
    ) -> Poll<wasmtime::Result<()>> {
        let mut value = None;
        source.read(store, &mut value)?;
        if let (Some(value), Some(tx)) = (value, self.get_mut().0.take()) {
            let _ = tx.send(value);
        }
        Poll::Ready(Ok(()))
    }
}

/// `future`'s output, or a panic naming `step` when it takes more than
/// ten seconds (a bug would otherwise hang the suite).
async fn step<F: std::future::Future>(step: &str, future: F) -> F::Output {
    match tokio::time::timeout(std::time::Duration::from_secs(10), future).await {
        Ok(output) => output,
        Err(_) => panic!("{step}: no answer in 10 s"),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

async fn instantiate(engine: &Engine, component: &Component) -> (Store<()>, StreamStore) {
    let linker = Linker::new(engine);
    let mut store = Store::new(engine, ());
    let world = StreamStore::instantiate_async(&mut store, component, &linker)
        .await
        .unwrap();
    (store, world)
}

/// Runs the store's event loop until `rx` has its value: the guest's
/// tasks write what they returned after their calls have returned.
async fn received<T: Send + 'static>(store: &mut Store<()>, rx: oneshot::Receiver<T>) -> T {
    store
        .run_concurrent(async |_| rx.await)
        .await
        .unwrap()
        .expect("the consumer was dropped without a value")
}

#[test]
fn streams_and_futures_cross_the_host_boundary() {
    let engine = shared_engine();
    let Some(path) = build("stream-store") else {
        return;
    };
    let component = Component::from_file(engine, &path).unwrap();
    runtime().block_on(async {
        let (mut store, world) = instantiate(engine, &component).await;
        let blobs = world.blobs();

        // Host to guest: 100,000 bytes, read to the end.
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let value = StreamReader::new(&mut store, data.clone()).unwrap();
        let stored = step("put", blobs.call_put(&mut store, "k", value))
            .await
            .unwrap();
        assert_eq!(stored, 100_000);

        // Guest to host: written 4096 bytes at a time after `get` returned.
        let back = step("get", blobs.call_get(&mut store, "k", 4096))
            .await
            .unwrap();
        let back = back.expect("the value is there");
        let (collect, rx) = Collect::new();
        back.pipe(&mut store, collect).unwrap();
        let (got, writes) = step("read", received(&mut store, rx)).await;
        assert!(got == data, "the bytes came back changed");
        assert_eq!(writes, 100_000usize.div_ceil(4096), "one write per chunk");
        let missing = blobs.call_get(&mut store, "nobody", 1).await.unwrap();
        assert!(missing.is_none());

        // Futures both ways.
        let total = blobs.call_total(&mut store).await.unwrap();
        let (tx, rx) = oneshot::channel();
        total.pipe(&mut store, Take(Some(tx))).unwrap();
        assert_eq!(received(&mut store, rx).await, 100_000);
        let amount =
            FutureReader::new(&mut store, async { Ok::<u64, wasmtime::Error>(5) }).unwrap();
        assert_eq!(blobs.call_add(&mut store, amount).await.unwrap(), 100_005);

        // A stream of nothing.
        let ticks = blobs.call_ticks(&mut store, 3).await.unwrap();
        let (collect, rx) = Collect::<()>::new();
        ticks.pipe(&mut store, collect).unwrap();
        let (ticked, _) = received(&mut store, rx).await;
        assert_eq!(ticked.len(), 3);
    });
}
