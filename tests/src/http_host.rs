//! Serves a `wasi:http/proxy` component on 127.0.0.1 with wasmtime's
//! `wasi:http` (wasmtime-wasi-http on hyper), as `wasmtime serve` does, but
//! with one instance for the whole server: requests run through it one at
//! a time, so an in-memory key store keeps its values between requests
//! (`wasmtime serve` makes an instance per request, which would forget
//! them). The monotonic clock is the host's [`Clock`], which tests move on;
//! the rest of WASI is wasmtime-wasi's, granting nothing (no files, no
//! environment); outgoing requests are refused.
//!
//! A component exporting `wasi:http/handler@0.3.0` (WASI 0.3) is served
//! through wasmtime's `p3` host instead ([`p3`]).

mod p3;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

use http_body_util::BodyExt;
use hyper::server::conn::http1;
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Engine, Store};
use wasmtime_wasi::{HostMonotonicClock, WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::bindings::sync::Proxy;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView};

/// The service's monotonic clock, in nanoseconds: simulated (moved on by
/// [`Clock::advance`]) or real (since the server started). Never 0: Go's
/// runtime refuses a clock that reads 0.
#[derive(Clone)]
pub struct Clock {
    simulated: Option<Arc<AtomicU64>>,
    start: Instant,
}

impl Clock {
    pub fn simulated() -> Clock {
        Clock {
            simulated: Some(Arc::new(AtomicU64::new(1))),
            start: Instant::now(),
        }
    }

    pub fn real() -> Clock {
        Clock {
            simulated: None,
            start: Instant::now(),
        }
    }

    /// Moves a simulated clock on by `nanos` (a real one is left alone).
    pub fn advance(&self, nanos: u64) {
        if let Some(now) = &self.simulated {
            now.fetch_add(nanos, Ordering::SeqCst);
        }
    }
}

impl HostMonotonicClock for Clock {
    fn resolution(&self) -> u64 {
        1
    }

    fn now(&self) -> u64 {
        match &self.simulated {
            Some(now) => now.load(Ordering::SeqCst),
            None => u64::try_from(self.start.elapsed().as_nanos())
                .unwrap_or(u64::MAX)
                .saturating_add(1),
        }
    }
}

/// A response body as hyper sends it.
type Body = HyperOutgoingBody;

/// The store's data: WASI, `wasi:http`, and their table.
struct Host {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    hooks: NoOutgoing,
    table: ResourceTable,
}

impl WasiView for Host {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for Host {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}

/// The service may not make requests of its own.
struct NoOutgoing;

impl WasiHttpHooks for NoOutgoing {
    fn send_request(
        &mut self,
        _request: hyper::Request<wasmtime_wasi_http::WasiBody>,
        _options: Option<wasmtime_wasi_http::RequestOptions>,
        _fut: Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
    ) -> Box<
        dyn Future<
                Output = Result<
                    (
                        hyper::Response<wasmtime_wasi_http::WasiBody>,
                        Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
                    ),
                    wasmtime_wasi_http::Error,
                >,
            > + Send,
    > {
        Box::new(async { Err(wasmtime_wasi_http::Error::HttpRequestDenied) })
    }
}

/// The one instance, and how to make it again after a trap.
struct Instance {
    store: Store<Host>,
    proxy: Proxy,
}

struct Shared {
    engine: Engine,
    component: Component,
    linker: Linker<Host>,
    clock: Clock,
    instance: Mutex<Option<Instance>>,
    /// A WASI 0.3 service's instance (`p3`), locked across the awaits of
    /// a request.
    instance3: tokio::sync::Mutex<Option<p3::Instance>>,
    p3: bool,
    served: AtomicUsize,
    traps: AtomicUsize,
}

impl Shared {
    fn instantiate(&self) -> wasmtime::Result<Instance> {
        let mut wasi = WasiCtx::builder();
        wasi.inherit_stderr().monotonic_clock(self.clock.clone());
        let host = Host {
            wasi: wasi.build(),
            http: WasiHttpCtx::new(),
            hooks: NoOutgoing,
            table: ResourceTable::new(),
        };
        let mut store = Store::new(&self.engine, host);
        let proxy = Proxy::instantiate(&mut store, &self.component, &self.linker)?;
        Ok(Instance { store, proxy })
    }

    /// Runs one request through the instance (made anew after a trap).
    fn handle(
        &self,
        request: hyper::Request<hyper::body::Incoming>,
        sender: tokio::sync::oneshot::Sender<
            Result<
                hyper::Response<HyperOutgoingBody>,
                wasmtime_wasi_http::p2::bindings::http::types::ErrorCode,
            >,
        >,
    ) -> wasmtime::Result<()> {
        let mut slot = self.instance.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_none() {
            *slot = Some(self.instantiate()?);
        }
        let Some(instance) = slot.as_mut() else {
            wasmtime::bail!("no instance");
        };
        let store = &mut instance.store;
        let request = store
            .data_mut()
            .http()
            .new_incoming_request(Scheme::Http, request)?;
        let out = store.data_mut().http().new_response_outparam(sender)?;
        let result =
            instance
                .proxy
                .wasi_http_incoming_handler()
                .call_handle(&mut *store, request, out);
        self.served.fetch_add(1, Ordering::SeqCst);
        if result.is_err() {
            // A trapped instance cannot be entered again.
            self.traps.fetch_add(1, Ordering::SeqCst);
            *slot = None;
        }
        result
    }
}

/// A running server; [`Server::stop`] (or dropping it) shuts it down.
pub struct Server {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Serves `component` on 127.0.0.1:`port` (0: any free port).
    pub fn start(component: &Path, clock: Clock, port: u16) -> Result<Server, String> {
        let engine = Engine::default();
        let component = Component::from_file(&engine, component)
            .map_err(|e| format!("wasmtime cannot load {}: {e:?}", component.display()))?;
        let is_p3 = component
            .component_type()
            .exports(&engine)
            .any(|(name, _)| name == p3::HANDLER);
        let linker = match is_p3 {
            true => p3::linker(&engine).map_err(|e| format!("{e:?}"))?,
            false => {
                let mut linker = Linker::new(&engine);
                wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(|e| format!("{e:?}"))?;
                wasmtime_wasi_http::p2::add_only_http_to_linker_sync(&mut linker)
                    .map_err(|e| format!("{e:?}"))?;
                linker
            }
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start tokio: {e}"))?;
        let shared = Arc::new(Shared {
            engine,
            component,
            linker,
            clock,
            instance: Mutex::new(None),
            instance3: tokio::sync::Mutex::new(None),
            p3: is_p3,
            served: AtomicUsize::new(0),
            traps: AtomicUsize::new(0),
        });
        // Instantiated before the first request: a component that does not
        // fit the host fails here, with why.
        let fail = |e: wasmtime::Error| format!("cannot instantiate the component: {e:?}");
        if is_p3 {
            let first = runtime
                .block_on(p3::instantiate(
                    &shared.component,
                    &shared.linker,
                    &shared.clock,
                ))
                .map_err(fail)?;
            *shared.instance3.blocking_lock() = Some(first);
        } else {
            let first = shared.instantiate().map_err(fail)?;
            *shared.instance.lock().unwrap_or_else(|e| e.into_inner()) = Some(first);
        }

        let listener = runtime
            .block_on(tokio::net::TcpListener::bind(("127.0.0.1", port)))
            .map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e}"))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = shared.clone();
        let thread = std::thread::spawn(move || {
            runtime.block_on(accept(listener, serving, stopped));
            runtime.shutdown_background();
        });
        Ok(Server {
            addr,
            shared,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Requests answered so far.
    pub fn served(&self) -> usize {
        self.shared.served.load(Ordering::SeqCst)
    }

    /// Requests during which the component trapped.
    pub fn traps(&self) -> usize {
        self.shared.traps.load(Ordering::SeqCst)
    }

    /// Stops accepting and waits for the server thread.
    pub fn stop(mut self) {
        self.shut_down();
    }

    fn shut_down(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shut_down();
    }
}

/// Accepts connections until `stopped`, each served on a task of its own.
async fn accept(
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    mut stopped: tokio::sync::oneshot::Receiver<()>,
) {
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(_) => continue,
            },
            _ = &mut stopped => return,
        };
        // The head and the body go out in separate writes: without this,
        // Nagle's algorithm holds the body for the client's delayed ACK.
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        tokio::spawn(async move {
            let io = wasmtime_wasi_http::io::TokioIo::new(stream);
            let service = hyper::service::service_fn(move |request| {
                let shared = shared.clone();
                async move { respond(shared, request).await }
            });
            let _ = http1::Builder::new()
                .keep_alive(true)
                .serve_connection(io, service)
                .await;
        });
    }
}

/// One request: the component runs on a blocking thread (the bindings are
/// synchronous) while this task hands hyper the response as soon as the
/// component sets it, so the body streams as it is written.
async fn respond(
    shared: Arc<Shared>,
    request: hyper::Request<hyper::body::Incoming>,
) -> Result<hyper::Response<Body>, std::convert::Infallible> {
    if shared.p3 {
        return Ok(p3::respond(&shared, request).await);
    }
    let (sender, receiver) = tokio::sync::oneshot::channel();
    let running = shared.clone();
    let task = tokio::task::spawn_blocking(move || running.handle(request, sender));
    let why = match receiver.await {
        Ok(Ok(response)) => return Ok(response),
        Ok(Err(code)) => format!("the component answered with error {code:?}"),
        Err(_) => match task.await {
            Ok(Ok(())) => "the component set no response".to_string(),
            Ok(Err(e)) => format!("the component trapped: {e:?}"),
            Err(e) => format!("the request task failed: {e}"),
        },
    };
    Ok(failure(why))
}

/// `500 Internal Server Error`, saying why.
fn failure(why: String) -> hyper::Response<Body> {
    let body = http_body_util::Full::new(hyper::body::Bytes::from(why + "\n"))
        .map_err(|never| match never {})
        .boxed_unsync();
    let mut response = hyper::Response::new(body);
    *response.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
    response
}
