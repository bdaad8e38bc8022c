//! WASI 0.3 services (`wasi:http/service@0.3.0`): the one instance is
//! called through wasmtime-wasi-http's `p3` host, on the store's event
//! loop (`run_concurrent`), which runs the guest's tasks while the
//! response body is collected: a guest writes its body after `handle`
//! returned. The body is then sent whole.

use std::sync::atomic::Ordering;
use std::time::Duration;

use http_body_util::BodyExt;
use hyper::body::Bytes;
use wasmtime::Store;
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime_wasi::WasiCtx;
use wasmtime_wasi_http::WasiHttpCtx;
use wasmtime_wasi_http::p3::bindings::Service;

use super::{Body, Clock, Host, NoOutgoing, Shared, failure};

/// The export that makes a component a WASI 0.3 service.
pub const HANDLER: &str = "wasi:http/handler@0.3.0";

/// A request may take this long, body included.
const LIMIT: Duration = Duration::from_secs(60);

pub(super) struct Instance {
    store: Store<Host>,
    service: Service,
}

pub(super) fn linker(engine: &wasmtime::Engine) -> wasmtime::Result<Linker<Host>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p3::add_to_linker(&mut linker)?;
    wasmtime_wasi_http::p3::add_to_linker(&mut linker)?;
    Ok(linker)
}

pub(super) async fn instantiate(
    component: &Component,
    linker: &Linker<Host>,
    clock: &Clock,
) -> wasmtime::Result<Instance> {
    let mut wasi = WasiCtx::builder();
    wasi.inherit_stderr().monotonic_clock(clock.clone());
    let host = Host {
        wasi: wasi.build(),
        http: WasiHttpCtx::new(),
        hooks: NoOutgoing,
        table: ResourceTable::new(),
    };
    let mut store = Store::new(component.engine(), host);
    let service = Service::instantiate_async(&mut store, component, linker).await?;
    Ok(Instance { store, service })
}

/// One request through the instance (made anew after a trap), answered
/// with the whole body the guest wrote.
pub(super) async fn respond(
    shared: &Shared,
    request: hyper::Request<hyper::body::Incoming>,
) -> hyper::Response<Body> {
    let mut slot = shared.instance3.lock().await;
    if slot.is_none() {
        match instantiate(&shared.component, &shared.linker, &shared.clock).await {
            Ok(instance) => *slot = Some(instance),
            Err(e) => return failure(format!("cannot instantiate the component: {e:?}")),
        }
    }
    let Some(instance) = slot.as_mut() else {
        return failure("no instance".into());
    };
    let outcome = tokio::time::timeout(LIMIT, call(instance, request)).await;
    shared.served.fetch_add(1, Ordering::SeqCst);
    match outcome {
        Ok(Ok(Ok(response))) => response,
        Ok(Ok(Err(code))) => failure(format!("the component answered with error {code:?}")),
        Ok(Err(e)) => {
            // A trapped instance cannot be entered again.
            shared.traps.fetch_add(1, Ordering::SeqCst);
            *slot = None;
            failure(format!("the component trapped: {e:?}"))
        }
        Err(_) => {
            shared.traps.fetch_add(1, Ordering::SeqCst);
            *slot = None;
            failure(format!("no answer in {} s", LIMIT.as_secs()))
        }
    }
}

type Answer =
    Result<hyper::Response<Body>, wasmtime_wasi_http::p3::bindings::http::types::ErrorCode>;

async fn call(
    instance: &mut Instance,
    request: hyper::Request<hyper::body::Incoming>,
) -> wasmtime::Result<Answer> {
    let request =
        request.map(|body| body.map_err(|_| wasmtime_wasi_http::Error::HttpProtocolError));
    let hooks = &mut instance.store.data_mut().hooks;
    let (request, consumed) = wasmtime_wasi_http::p3::Request::from_http(hooks, request);
    let service = &instance.service;
    instance
        .store
        .run_concurrent(async |store| {
            let answer = async {
                let response = match service.handle(store, request).await? {
                    Ok(response) => response,
                    Err(code) => return Ok(Err(code)),
                };
                let response = store.with(|store| response.into_http(store, async { Ok(()) }))?;
                let (parts, body) = response.into_parts();
                let body = body.collect().await?.to_bytes();
                wasmtime::Result::Ok(Ok((parts, body)))
            };
            // The request's body is done with once the guest says so (or
            // drops the request).
            let (answer, _) = tokio::join!(answer, consumed);
            answer.map(|answer| answer.map(|(parts, body)| whole(parts, body)))
        })
        .await?
}

fn whole(parts: hyper::http::response::Parts, body: Bytes) -> hyper::Response<Body> {
    let body = http_body_util::Full::new(body)
        .map_err(|never| match never {})
        .boxed_unsync();
    hyper::Response::from_parts(parts, body)
}
