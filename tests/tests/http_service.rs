//! The key store as an HTTP service, served for real: `fixtures/app-http`
//! (bound with `wcomp bind --lang rust`, world `service`) composed with each
//! key store the project builds (`fixtures/keystore-{rust,c,go}`) by `wcomp compose --target wasi:http/proxy@0.2.12`,
//! served by `wcomp_tests::http_host` (wasmtime's `wasi:http`, one instance)
//! on an ephemeral 127.0.0.1 port, and driven by a plain HTTP/1.1 client:
//! set, get, delete, not found, invalid key, TTL expiry on the host's clock,
//! a 1 MiB value, 64 concurrent clients each with its own keys, and
//! malformed requests answered with 4xx, never a trap. Every store gives
//! the same answers. The Go store is wrapped with the proxy adapter, whose
//! imports `wasi:http/proxy` allows. Stores without a toolchain here are
//! skipped (with a note); CI has them all.

#[path = "common/bind_guest.rs"]
mod bind_guest;

use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use bind_guest::{LANGUAGES, build_in};
use wcomp_tests::http_host::{Clock, Server};
use wcomp_tests::{build_guest, target_dir, text, wcomp_bin, workspace_root};

/// The app, bound afresh and built once (`None` without a wasm32 route).
fn app_http() -> Option<PathBuf> {
    static BUILT: OnceLock<Option<PathBuf>> = OnceLock::new();
    BUILT
        .get_or_init(|| rust_fixture("app-http", "service"))
        .clone()
}

/// The Rust guest `fixtures/NAME` (a copy, bound to `world` of `wit/`
/// afresh), built and wrapped.
fn rust_fixture(name: &str, world: &str) -> Option<PathBuf> {
    rust_fixture_of(name, &workspace_root().join("wit"), world)
}

/// As [`rust_fixture`], bound to `world` of `wit`.
fn rust_fixture_of(name: &str, wit: &Path, world: &str) -> Option<PathBuf> {
    let dir = target_dir().join("http-service").join(name);
    fs::create_dir_all(dir.join("src")).unwrap();
    let fixture = workspace_root().join("fixtures").join(name);
    fs::copy(fixture.join("Cargo.toml"), dir.join("Cargo.toml")).unwrap();
    // Every source file (the store shares `keys.rs`), not the old bindings.
    for entry in fs::read_dir(fixture.join("src")).unwrap() {
        let name = entry.unwrap().file_name();
        if name != "bindings.rs" {
            fs::copy(fixture.join("src").join(&name), dir.join("src").join(&name)).unwrap();
        }
    }
    let out = Command::new(wcomp_bin())
        .args(["bind", "--world", world, "--lang", "rust", "-o"])
        .arg(dir.join("src/bindings.rs"))
        .arg(wit)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let core = build_guest(&dir.join("Cargo.toml"))
        .unwrap_or_else(|e| panic!("{name} did not build:\n{e}"))?;
    Some(wcomp(&["new"], &core, &dir.join(format!("{name}.wasm"))))
}

/// `wcomp ARGS CORE -o OUT`, which must succeed.
fn wcomp(args: &[&str], input: &Path, out: &Path) -> PathBuf {
    let result = Command::new(wcomp_bin())
        .args(args)
        .arg(input)
        .arg("-o")
        .arg(out)
        .output()
        .unwrap();
    assert!(
        result.status.success(),
        "wcomp {args:?} {} failed:\n{}",
        input.display(),
        text(&result.stderr)
    );
    out.to_path_buf()
}

/// The service over the key store in `lang`, composed and checked against
/// `wasi:http/proxy`: the demo's stores, `fixtures/keystore-rust`, `-c` and
/// `-go` (the last two through the `keystore` case of `fixtures/bind-rust`,
/// whose guests they are).
fn service(lang: &str) -> Option<PathBuf> {
    let app = app_http()?;
    let mut store = match lang {
        "rust" => rust_fixture("keystore-rust", "keystore")?,
        _ => build_in("keystore", LANGUAGES.iter().find(|l| l.lang == lang)?)?,
    };
    let dir = target_dir().join("http-service");
    if lang == "go" {
        // Go's runtime imports more of WASI preview 1 than the proxy world
        // allows through the reactor adapter; the proxy adapter serves it
        // with only what `wasi:http/proxy` has.
        let core = store.with_file_name("keystore.core.wasm");
        let (wit, world) = bind_guest::wit_and_world("keystore");
        let wit = workspace_root().join(wit);
        let args = [
            "new",
            "--adapt",
            "wasi_snapshot_preview1=proxy",
            "--world",
            world.as_str(),
            "--wit",
            wit.to_str().unwrap(),
        ];
        store = wcomp(&args, &core, &dir.join("keystore-go-proxy.wasm"));
    }
    let composed = dir.join(format!("service-{lang}.wasm"));
    let out = Command::new(wcomp_bin())
        .arg("compose")
        .arg(&app)
        .arg("--with")
        .arg(&store)
        .args(["--target", "wasi:http/proxy@0.2.12", "-o"])
        .arg(&composed)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the {lang} service does not compose into a wasi:http/proxy component:\n{}",
        text(&out.stderr)
    );
    Some(composed)
}

/// One HTTP/1.1 exchange on a fresh connection: (status, body).
fn request(addr: SocketAddr, method: &str, target: &str, body: &[u8]) -> (u16, Vec<u8>) {
    let mut head = format!(
        "{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    head.extend_from_slice(body);
    raw(addr, &head)
}

/// Sends `bytes` as they are; reads the whole answer: (status, body).
fn raw(addr: SocketAddr, bytes: &[u8]) -> (u16, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    // The server may answer (413) before reading a whole large body.
    let _ = stream.write_all(bytes);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    parse(&answer).unwrap_or_else(|| {
        panic!(
            "not an HTTP answer: {:?}",
            String::from_utf8_lossy(&answer[..answer.len().min(200)])
        )
    })
}

/// (status, body) of an HTTP/1.1 response, its body de-chunked.
fn parse(answer: &[u8]) -> Option<(u16, Vec<u8>)> {
    // `100 Continue` never comes: the client sends no `Expect`.
    let end = answer.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&answer[..end]).to_lowercase();
    let status: u16 = head.split_whitespace().nth(1)?.parse().ok()?;
    let mut body = &answer[end + 4..];
    if !head.contains("transfer-encoding: chunked") {
        return Some((status, body.to_vec()));
    }
    let mut out = Vec::new();
    loop {
        let line_end = body.windows(2).position(|w| w == b"\r\n")?;
        let size =
            usize::from_str_radix(std::str::from_utf8(&body[..line_end]).ok()?.trim(), 16).ok()?;
        body = &body[line_end + 2..];
        if size == 0 {
            return Some((status, out));
        }
        out.extend_from_slice(body.get(..size)?);
        body = body.get(size + 2..)?;
    }
}

/// Each request of the script with its status and body.
type Transcript = Vec<(String, u16, String)>;

/// The scripted part of the test: every answer, in order, to compare
/// across stores.
fn script(addr: SocketAddr, clock: &Clock) -> Transcript {
    let mut log = Vec::new();
    let mut ask = |method: &str, target: &str, body: &str| {
        let (status, answer) = request(addr, method, target, body.as_bytes());
        let answer = String::from_utf8_lossy(&answer).into_owned();
        log.push((format!("{method} {target}"), status, answer));
    };
    ask("GET", "/kv/greeting", "");
    ask("PUT", "/kv/greeting", "hello");
    ask("GET", "/kv/greeting", "");
    ask("PUT", "/kv/greeting", "hello, world");
    ask("GET", "/kv/greeting", "");
    ask("DELETE", "/kv/greeting", "");
    ask("GET", "/kv/greeting", "");
    ask("DELETE", "/kv/greeting", "");
    ask("PUT", "/kv/", "empty key");
    ask("GET", "/kv/%00ctl", "");
    ask("PUT", "/kv/a%20b", "percent-decoded");
    ask("GET", "/kv/a%20b", "");
    ask("PUT", "/kv/session?ttl=1", "abc123");
    ask("PUT", "/kv/theme?ttl=3600", "dark");
    ask("GET", "/kv/session", "");
    clock.advance(1_200_000_000);
    ask("GET", "/kv/session", "");
    ask("GET", "/kv/theme", "");
    ask("PUT", "/kv/theme?ttl=soon", "light");
    ask("POST", "/kv/theme", "");
    ask("GET", "/elsewhere", "");
    ask("GET", "/kv/%zz", "");
    log
}

/// What every service answers to [`script`], in order.
const WANT: &[(u16, &str)] = &[
    (404, "not found\n"),
    (204, ""),
    (200, "hello"),
    (204, ""),
    (200, "hello, world"),
    (204, ""),
    (404, "not found\n"),
    (404, "not found\n"),
    (400, "invalid key: empty key\n"),
    (400, "invalid key: key contains a control character\n"),
    (204, ""),
    (200, "percent-decoded"),
    (204, ""),
    (204, ""),
    (200, "abc123"),
    (404, "not found\n"),
    (200, "dark"),
    (400, "ttl must be a whole number of seconds, not `soon`\n"),
    (405, "method not allowed: use GET, PUT or DELETE\n"),
    (404, "no such resource `/elsewhere`: use /kv/{key}\n"),
    (400, "the key is not valid percent-encoded UTF-8\n"),
];

#[test]
fn the_service_answers_over_every_key_store() {
    let mut first: Option<(String, Transcript)> = None;
    for lang in ["rust", "c", "go"] {
        let Some(composed) = service(lang) else {
            eprintln!("skipped: the service over the {lang} key store (no toolchain)");
            continue;
        };
        let clock = Clock::simulated();
        let server = Server::start(&composed, clock.clone(), 0)
            .unwrap_or_else(|e| panic!("{lang}: the server did not start: {e}"));
        let addr = server.addr;

        let log = script(addr, &clock);
        for ((what, status, body), (want_status, want_body)) in log.iter().zip(WANT) {
            assert_eq!(
                (*status, body.as_str()),
                (*want_status, *want_body),
                "{lang}: {what}"
            );
        }
        assert_eq!(log.len(), WANT.len());
        match &first {
            Some((other, theirs)) => {
                assert_eq!(&log, theirs, "{lang} and {other} answer differently")
            }
            None => first = Some((lang.to_string(), log)),
        }

        // A 1 MiB value, both ways, byte for byte.
        let value: Vec<u8> = (0..1u32 << 20).map(|i| (i * 7 % 251) as u8).collect();
        assert_eq!(request(addr, "PUT", "/kv/big", &value).0, 204, "{lang}");
        let (status, back) = request(addr, "GET", "/kv/big", b"");
        assert!(
            status == 200 && back == value,
            "{lang}: the 1 MiB value changed"
        );

        // Past the app's limit: 413, and the server carries on.
        let oversized = vec![b'x'; (4 << 20) + 1];
        assert_eq!(
            request(addr, "PUT", "/kv/huge", &oversized).0,
            413,
            "{lang}"
        );
        // Not HTTP at all: hyper answers 400 without calling the component.
        assert_eq!(raw(addr, b"HELLO THERE\r\n\r\n").0, 400, "{lang}");
        assert_eq!(request(addr, "GET", "/kv/huge", b"").0, 404, "{lang}");

        // 64 clients at once, each with its own keys: no write lost.
        let clients: Vec<_> = (0..64)
            .map(|c| {
                std::thread::spawn(move || {
                    for k in 0..4 {
                        let target = format!("/kv/client-{c}-{k}");
                        let body = format!("value {c} {k}");
                        assert_eq!(request(addr, "PUT", &target, body.as_bytes()).0, 204);
                        let (status, back) = request(addr, "GET", &target, b"");
                        assert_eq!((status, back), (200, body.into_bytes()));
                    }
                })
            })
            .collect();
        for client in clients {
            client
                .join()
                .unwrap_or_else(|_| panic!("{lang}: a client got a wrong answer"));
        }
        for c in 0..64 {
            for k in 0..4 {
                let (status, back) = request(addr, "GET", &format!("/kv/client-{c}-{k}"), b"");
                assert_eq!((status, back), (200, format!("value {c} {k}").into_bytes()));
            }
        }
        assert_eq!(server.traps(), 0, "{lang}: the component trapped");
        eprintln!("{lang}: {} requests served", server.served());
        server.stop();
    }
}

/// The WASI 0.3 service (`fixtures/app-http-async`, which passes request
/// and response bodies to and from the store as streams) over the async
/// Rust store, composed and served by wasmtime's WASI 0.3 host: the same
/// answers as the WASI 0.2 services, a 1 MiB value both ways, a value past
/// the store's 16 MiB cap refused with the old one kept, and concurrent
/// clients.
#[test]
fn the_wasi_0_3_service_answers_as_the_0_2_one() {
    // `app-http-async` includes `app-http`'s `route.rs`: its copy first.
    let Some(_) = app_http() else {
        eprintln!("skipped: no wasm32 route for Rust guests");
        return;
    };
    let wit = workspace_root().join("fixtures/app-http-async/wit");
    let Some(app) = rust_fixture_of("app-http-async", &wit, "service") else {
        return;
    };
    let Some(store) = rust_fixture("keystore-async", "async-keystore") else {
        return;
    };
    let composed = target_dir().join("http-service/service-async.wasm");
    let out = Command::new(wcomp_bin())
        .arg("compose")
        .arg(&app)
        .arg("--with")
        .arg(&store)
        .args(["--target", "wasi:http/service@0.3.0", "-o"])
        .arg(&composed)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the WASI 0.3 service does not compose into a wasi:http/service@0.3.0 component:\n{}",
        text(&out.stderr)
    );
    let clock = Clock::simulated();
    let server = Server::start(&composed, clock.clone(), 0)
        .unwrap_or_else(|e| panic!("the WASI 0.3 server did not start: {e}"));
    let addr = server.addr;

    let log = script(addr, &clock);
    for ((what, status, body), (want_status, want_body)) in log.iter().zip(WANT) {
        assert_eq!(
            (*status, body.as_str()),
            (*want_status, *want_body),
            "{what}"
        );
    }
    assert_eq!(log.len(), WANT.len());

    // 1 MiB both ways: the request body is the stream the store reads,
    // the stream the store writes is the response body.
    let value: Vec<u8> = (0..1u32 << 20).map(|i| (i * 7 % 251) as u8).collect();
    assert_eq!(request(addr, "PUT", "/kv/big", &value).0, 204);
    let (status, back) = request(addr, "GET", "/kv/big", b"");
    assert!(status == 200 && back == value, "the 1 MiB value changed");

    // Past the store's cap: refused, and the old value stays.
    let oversized = vec![b'x'; (16 << 20) + 1];
    let (status, body) = request(addr, "PUT", "/kv/big", &oversized);
    assert_eq!((status, text(&body).as_str()), (507, "storage full\n"));
    let (status, back) = request(addr, "GET", "/kv/big", b"");
    assert!(
        status == 200 && back == value,
        "the refused value replaced the old one"
    );

    // 16 clients at once, each with its own keys.
    let clients: Vec<_> = (0..16)
        .map(|c| {
            std::thread::spawn(move || {
                for k in 0..4 {
                    let target = format!("/kv/client-{c}-{k}");
                    let body = format!("value {c} {k}");
                    assert_eq!(request(addr, "PUT", &target, body.as_bytes()).0, 204);
                    let (status, back) = request(addr, "GET", &target, b"");
                    assert_eq!((status, back), (200, body.into_bytes()));
                }
            })
        })
        .collect();
    for client in clients {
        client.join().expect("a client got a wrong answer");
    }
    assert_eq!(server.traps(), 0, "the component trapped");
    eprintln!("WASI 0.3: {} requests served", server.served());
    server.stop();
}
