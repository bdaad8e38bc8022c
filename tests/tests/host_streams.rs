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
//!   is read by the host, and a stream of nothing (`stream`) counts ticks;
//! * a stream of records holding every kind of value (flags, enums,
//!   variants, floats with NaN, chars, options, results, lists of tuples)
//!   goes host → guest → host unchanged;
//! * the other way round, the host implements the store's imports for the
//!   app of the same case (`fixtures/bind-rust/stream-app`), and the app
//!   answers its calls as it does over the Rust store: streams and futures
//!   of bytes, strings, records, handles and streams, both directions.
//!
//! Skipped (with a note) where no wasm32 route exists; CI installs one.

#[path = "common/bind_guest.rs"]
mod bind_guest;

use std::collections::BTreeMap;
use std::pin::Pin;
use std::task::{Context, Poll};

use bind_guest::build;
use tokio::sync::oneshot;
use wasmtime::component::{
    Accessor, Component, FutureConsumer, FutureReader, HasSelf, Linker, Resource, Source,
    StreamConsumer, StreamReader, StreamResult,
};
use wasmtime::{Engine, Store, StoreContextMut};
use wcomp_tests::host::shared_engine;
use wcomp_tests::host_bindings::stream_app::App as StreamApp;
use wcomp_tests::host_bindings::stream_app::blobs::{self, Entry, Token};
use wcomp_tests::host_bindings::stream_store::Store as StreamStore;
use wcomp_tests::host_bindings::stream_store::exports::blobs::{Color, Perms, Sample, Shape};

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

        // Every kind of value, written by the host (wasmtime lowers them),
        // read and written back by the guest (its plans), read by the host.
        let sent: Vec<Sample> = (0..60).map(host_sample).collect();
        let input = StreamReader::new(&mut store, sent.clone()).unwrap();
        let back = step("echo", blobs.call_echo(&mut store, input, 7))
            .await
            .unwrap();
        let (collect, rx) = Collect::new();
        back.pipe(&mut store, collect).unwrap();
        let (got, _) = step("echo's stream", received(&mut store, rx)).await;
        // Debug text: equal NaNs print alike.
        assert_eq!(format!("{got:?}"), format!("{sent:?}"));
    });
}

/// Sample `i` made by the host: every kind of value, edges included.
fn host_sample(i: u32) -> Sample {
    let text = ["", "host", "ünïcødé ✓", "\u{10ffff}", "a\0b"][i as usize % 5];
    Sample {
        name: format!("{text}/{i}"),
        perms: [
            Perms::empty(),
            Perms::READ,
            Perms::WRITE | Perms::EXEC,
            Perms::all(),
        ][i as usize % 4],
        color: [Color::Red, Color::Green, Color::Blue][i as usize % 3],
        shape: match i % 4 {
            0 => Shape::None,
            1 => Shape::Num(i64::MAX - i as i64),
            2 => Shape::Text(text.repeat(i as usize % 4)),
            _ => Shape::Many((0..i % 5).map(|k| format!("{text}{k}")).collect()),
        },
        score: [f64::NAN, 1e300, -2.5, f64::NEG_INFINITY][i as usize % 4],
        letter: ['\0', 'z', 'é', '\u{10ffff}'][i as usize % 4],
        maybe: i
            .is_multiple_of(2)
            .then(|| (0..i % 6).map(|k| u16::MAX - k as u16).collect()),
        outcome: match i % 3 {
            0 => Err(text.to_string()),
            _ => Ok(-(i as i8)),
        },
        pairs: (0..i % 4)
            .map(|k| (255 - k as u8, text.repeat(2)))
            .collect(),
    }
}

/// Takes up to `per_read` items a time until it has `limit` (then drops the
/// stream) or the stream ends, and sends them on.
struct UpTo<T> {
    items: Vec<T>,
    per_read: usize,
    limit: usize,
    done: Option<oneshot::Sender<Vec<T>>>,
}

impl<T> UpTo<T> {
    fn new(per_read: usize, limit: usize) -> (Self, oneshot::Receiver<Vec<T>>) {
        let (tx, rx) = oneshot::channel();
        let up_to = UpTo {
            items: Vec::new(),
            per_read,
            limit,
            done: Some(tx),
        };
        (up_to, rx)
    }
}

impl<T> Drop for UpTo<T> {
    fn drop(&mut self) {
        if let Some(done) = self.done.take() {
            let _ = done.send(std::mem::take(&mut self.items));
        }
    }
}

impl<D, T> StreamConsumer<D> for UpTo<T>
where
    T: wasmtime::component::Lift + Send + Sync + Unpin + 'static,
{
    type Item = T;

    fn poll_consume(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        mut store: StoreContextMut<D>,
        mut source: Source<'_, T>,
        _finish: bool,
    ) -> Poll<wasmtime::Result<StreamResult>> {
        let this = self.get_mut();
        let mut some = Vec::with_capacity(this.per_read);
        source.read(&mut store, &mut some)?;
        this.items.append(&mut some);
        Poll::Ready(Ok(match this.items.len() >= this.limit {
            true => StreamResult::Dropped,
            false => StreamResult::Completed,
        }))
    }
}

/// `blobs` implemented by the host, as `fixtures/bind-rust/stream-store`'s
/// guest implements it, through the generated host trait: its streams and
/// futures are wasmtime's, read with consumers and made from values.
#[derive(Default)]
struct HostBlobs {
    values: BTreeMap<String, Vec<u8>>,
    total: u64,
    /// `hold` calls answered.
    answered: u32,
    /// Live tokens, by handle.
    tokens: BTreeMap<u32, String>,
    next_token: u32,
    dropped: u32,
}

impl HostBlobs {
    fn token(&mut self, name: String) -> Resource<Token> {
        self.next_token += 1;
        self.tokens.insert(self.next_token, name);
        Resource::new_own(self.next_token)
    }

    /// Drops a token the host owns: the one place tokens are counted.
    fn drop_token(&mut self, token: Resource<Token>) -> Option<String> {
        self.dropped += 1;
        self.tokens.remove(&token.rep())
    }
}

type Access<'a, T> = &'a Accessor<T, HasSelf<HostBlobs>>;

/// Everything `stream` yields (read through `Collect`).
async fn collect<T, U>(accessor: Access<'_, T>, stream: StreamReader<U>) -> wasmtime::Result<Vec<U>>
where
    T: 'static,
    U: wasmtime::component::Lift + Send + Sync + Unpin + 'static,
{
    let (consumer, rx) = Collect::new();
    accessor.with(|mut access| stream.pipe(&mut access, consumer))?;
    Ok(rx.await.map(|(items, _)| items).unwrap_or_default())
}

/// A future's value (read through `Take`).
async fn take<T, U>(accessor: Access<'_, T>, future: FutureReader<U>) -> Option<U>
where
    T: 'static,
    U: wasmtime::component::Lift + Send + Sync + Unpin + 'static,
{
    let (tx, rx) = oneshot::channel();
    accessor
        .with(|mut access| future.pipe(&mut access, Take(Some(tx))))
        .ok()?;
    rx.await.ok()
}

impl blobs::HostToken for HostBlobs {
    fn drop(&mut self, token: Resource<Token>) -> wasmtime::Result<()> {
        self.drop_token(token);
        Ok(())
    }
    fn new(&mut self, name: String) -> wasmtime::Result<Resource<Token>> {
        Ok(self.token(name))
    }
    fn name(&mut self, token: Resource<Token>) -> wasmtime::Result<String> {
        self.tokens
            .get(&token.rep())
            .cloned()
            .ok_or_else(|| wasmtime::format_err!("no token {}", token.rep()))
    }
}

impl blobs::Host for HostBlobs {
    async fn get<T: 'static>(
        accessor: Access<'_, T>,
        key: String,
        _chunk: u32,
    ) -> wasmtime::Result<Option<StreamReader<u8>>> {
        accessor.with(|mut access| {
            let Some(value) = access.get().values.get(&key).cloned() else {
                return Ok(None);
            };
            StreamReader::new(&mut access, value).map(Some)
        })
    }

    async fn put<T: 'static>(
        accessor: Access<'_, T>,
        key: String,
        value: StreamReader<u8>,
    ) -> wasmtime::Result<u64> {
        let bytes = collect(accessor, value).await?;
        let n = bytes.len() as u64;
        accessor.with(|mut access| {
            let blobs = access.get();
            blobs.values.insert(key, bytes);
            blobs.total += n;
        });
        Ok(n)
    }

    async fn put_some<T: 'static>(
        accessor: Access<'_, T>,
        key: String,
        value: StreamReader<u8>,
        limit: u32,
    ) -> wasmtime::Result<u64> {
        let (consumer, rx) = UpTo::new(1000, limit as usize);
        accessor.with(|mut access| value.pipe(&mut access, consumer))?;
        let bytes = rx.await.unwrap_or_default();
        let n = bytes.len() as u64;
        accessor.with(|mut access| access.get().values.insert(key, bytes));
        Ok(n)
    }

    async fn total<T: 'static>(accessor: Access<'_, T>) -> wasmtime::Result<FutureReader<u64>> {
        accessor.with(|mut access| {
            let total = access.get().total;
            FutureReader::new(
                &mut access,
                async move { Ok::<u64, wasmtime::Error>(total) },
            )
        })
    }

    async fn add<T: 'static>(
        accessor: Access<'_, T>,
        amount: FutureReader<u64>,
    ) -> wasmtime::Result<u64> {
        let amount = take(accessor, amount).await.unwrap_or(0);
        Ok(accessor.with(|mut access| {
            let blobs = access.get();
            blobs.total += amount;
            blobs.total
        }))
    }

    async fn ticks<T: 'static>(
        accessor: Access<'_, T>,
        count: u32,
    ) -> wasmtime::Result<StreamReader<()>> {
        accessor.with(|mut access| StreamReader::new(&mut access, vec![(); count as usize]))
    }

    async fn hold<T: 'static>(
        accessor: Access<'_, T>,
        release: FutureReader<u32>,
    ) -> wasmtime::Result<u32> {
        let value = take(accessor, release).await.unwrap_or(0);
        accessor.with(|mut access| access.get().answered += 1);
        Ok(value)
    }

    fn holds(&mut self) -> wasmtime::Result<String> {
        Ok(format!("{} answered", self.answered))
    }

    async fn entries<T: 'static>(
        accessor: Access<'_, T>,
        _chunk: u32,
    ) -> wasmtime::Result<StreamReader<Entry>> {
        accessor.with(|mut access| {
            let entries: Vec<Entry> = access
                .get()
                .values
                .iter()
                .map(|(key, value)| Entry {
                    key: key.clone(),
                    size: value.len() as u64,
                    tags: match value.len() {
                        0 => vec!["empty".into()],
                        n if n > 10_000 => vec!["big".into(), format!("{}k", n / 1000)],
                        _ => vec!["small".into()],
                    },
                })
                .collect();
            StreamReader::new(&mut access, entries)
        })
    }

    async fn join<T: 'static>(
        accessor: Access<'_, T>,
        words: StreamReader<String>,
        _chunk: u32,
    ) -> wasmtime::Result<String> {
        Ok(collect(accessor, words).await?.join(" "))
    }

    async fn tokens<T: 'static>(
        accessor: Access<'_, T>,
        prefix: String,
        count: u32,
    ) -> wasmtime::Result<StreamReader<Resource<Token>>> {
        accessor.with(|mut access| {
            let blobs = access.get();
            let tokens: Vec<Resource<Token>> = (0..count)
                .map(|i| blobs.token(format!("{prefix}-{i}")))
                .collect();
            StreamReader::new(&mut access, tokens)
        })
    }

    async fn names<T: 'static>(
        accessor: Access<'_, T>,
        tokens: StreamReader<Resource<Token>>,
        limit: u32,
    ) -> wasmtime::Result<String> {
        let (consumer, rx) = UpTo::new(1, limit as usize);
        accessor.with(|mut access| tokens.pipe(&mut access, consumer))?;
        let taken = rx.await.unwrap_or_default();
        let names: Vec<String> = accessor.with(|mut access| {
            let blobs = access.get();
            taken
                .into_iter()
                .filter_map(|t| blobs.drop_token(t))
                .collect()
        });
        Ok(names.join(","))
    }

    async fn mint<T: 'static>(
        accessor: Access<'_, T>,
        name: String,
    ) -> wasmtime::Result<FutureReader<Result<Resource<Token>, String>>> {
        accessor.with(|mut access| {
            let minted = match name.is_empty() {
                true => Err("a token needs a name".to_string()),
                false => Ok(access.get().token(name)),
            };
            FutureReader::new(&mut access, async move { Ok::<_, wasmtime::Error>(minted) })
        })
    }

    async fn nested<T: 'static>(
        accessor: Access<'_, T>,
        count: u32,
    ) -> wasmtime::Result<StreamReader<StreamReader<u8>>> {
        accessor.with(|mut access| {
            let inner = (0..count)
                .map(|i| StreamReader::new(&mut access, vec![i as u8; i as usize]))
                .collect::<wasmtime::Result<Vec<_>>>()?;
            StreamReader::new(&mut access, inner)
        })
    }

    fn dropped(&mut self) -> wasmtime::Result<u32> {
        Ok(self.dropped)
    }

    async fn echo<T: 'static>(
        accessor: Access<'_, T>,
        input: StreamReader<blobs::Sample>,
        _chunk: u32,
    ) -> wasmtime::Result<StreamReader<blobs::Sample>> {
        let samples = collect(accessor, input).await?;
        accessor.with(|mut access| StreamReader::new(&mut access, samples))
    }

    async fn firsts<T: 'static>(
        accessor: Access<'_, T>,
        streams: StreamReader<StreamReader<u8>>,
        limit: u32,
    ) -> wasmtime::Result<Vec<Vec<u8>>> {
        let (consumer, rx) = UpTo::new(1, limit as usize);
        accessor.with(|mut access| streams.pipe(&mut access, consumer))?;
        let mut firsts = Vec::new();
        for inner in rx.await.unwrap_or_default() {
            firsts.push(collect(accessor, inner).await?);
        }
        Ok(firsts)
    }

    async fn words<T: 'static>(
        accessor: Access<'_, T>,
        text: String,
        _chunk: u32,
    ) -> wasmtime::Result<StreamReader<Vec<char>>> {
        let words: Vec<Vec<char>> = text
            .split_whitespace()
            .map(|w| w.chars().collect())
            .collect();
        accessor.with(|mut access| StreamReader::new(&mut access, words))
    }

    async fn sums<T: 'static>(
        accessor: Access<'_, T>,
        lists: StreamReader<Vec<i32>>,
    ) -> wasmtime::Result<Vec<i64>> {
        let lists = collect(accessor, lists).await?;
        Ok(lists
            .iter()
            .map(|l| l.iter().copied().map(i64::from).sum())
            .collect())
    }

    async fn initial<T: 'static>(
        accessor: Access<'_, T>,
        text: String,
    ) -> wasmtime::Result<FutureReader<char>> {
        let initial = text.chars().next().unwrap_or('?');
        accessor.with(|mut access| {
            FutureReader::new(
                &mut access,
                async move { Ok::<char, wasmtime::Error>(initial) },
            )
        })
    }

    async fn negate<T: 'static>(
        accessor: Access<'_, T>,
        n: FutureReader<i32>,
    ) -> wasmtime::Result<i32> {
        Ok(-take(accessor, n).await.unwrap_or(0))
    }
}

/// The stream app's calls (`fixtures/bind-rust/stream-app/calls`) with the
/// host, not the Rust store, behind its imports: the same answers, so the
/// guest's reads, writes and buffers of every element type agree with
/// wasmtime's own lifting and lowering. (`cancel` is left out: a host
/// function's future is not where a cancelled call's read ends.)
#[test]
fn the_stream_app_answers_the_same_over_a_host_store() {
    let engine = shared_engine();
    let Some(path) = build("stream-app") else {
        return;
    };
    let component = Component::from_file(engine, &path).unwrap();
    let calls = std::fs::read_to_string(
        wcomp_tests::workspace_root().join("fixtures/bind-rust/stream-app/calls"),
    )
    .unwrap();
    // `call NAME(ARGS) -> "ANSWER"`: the answer, unescaped.
    let answer = |name: &str| -> String {
        let line = calls
            .lines()
            .find(|l| l.starts_with(&format!("call {name}(")))
            .unwrap_or_else(|| panic!("no `{name}` call in the script"));
        let quoted = line.split_once(" -> ").unwrap().1;
        serde_json::from_str::<String>(quoted).unwrap()
    };
    runtime().block_on(async {
        let mut linker = Linker::new(engine);
        StreamApp::add_to_linker(&mut linker, |blobs: &mut HostBlobs| blobs).unwrap();
        let mut store = Store::new(engine, HostBlobs::default());
        let app = StreamApp::instantiate_async(&mut store, &component, &linker)
            .await
            .unwrap();
        let run = step("run", app.call_run(&mut store, 1 << 20, 65536, 4096)).await;
        assert_eq!(run.unwrap(), answer("run"));
        let run = step("run", app.call_run(&mut store, 20000, 1, 7)).await;
        assert_eq!(run.unwrap(), "stored 20000, read 20000 bytes, same");
        let abandon = step("abandon", app.call_abandon(&mut store)).await;
        assert_eq!(abandon.unwrap(), answer("abandon"));
        let futures = step("futures", app.call_futures(&mut store)).await;
        assert_eq!(futures.unwrap(), answer("futures"));
        let typed = step("typed", app.call_typed(&mut store)).await;
        assert_eq!(typed.unwrap(), answer("typed"));
        let samples = step("samples", app.call_samples(&mut store, 200, 7)).await;
        assert_eq!(samples.unwrap(), answer("samples"));
        assert!(store.data().tokens.is_empty(), "a token was not dropped");
    });
}
