//! `cargo xtask bench http`: the key-store service as a platform serves it. `cargo xtask
//! demo` builds `target/demo/service.wasm` (the HTTP app over the Rust key store, a
//! `wasi:http/proxy` component); the `http-load` binary of the tests crate serves it on
//! 127.0.0.1 with wasmtime's `wasi:http` (one instance, the debug build of the host, as the
//! other host benches) and times `GET /kv/k` of a 16-byte value: p50 and p99 latency for one
//! client on a kept-alive connection, and requests per second for one and for eight
//! clients. Bounded: 2,000 requests per client per round, loopback only. Median of the
//! rounds; written to `target/bench/http.json` with the service's size.

use std::fs;
use std::path::Path;

use super::Context;
use super::host::demo_artifact;
use super::measure::{file_size, io_err};
use crate::guests::{self, grouped};

const REQUESTS: usize = 2000;
const CLIENTS: usize = 8;

/// One round of `http-load`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Round {
    p50_us: f64,
    p99_us: f64,
    one_client_rps: f64,
    concurrent_rps: f64,
}

pub fn run(ctx: &Context) -> Result<(), String> {
    let Some(composed) = demo_artifact(ctx)? else {
        println!("\nhttp: skipped, no wasm32 toolchain (`cargo xtask toolchain --install`)");
        return Ok(());
    };
    let service = composed.with_file_name("service.wasm");
    let mut rounds = Vec::new();
    for round in 0..ctx.runs {
        eprintln!(
            "==> cargo run -q -p wcomp-tests --bin http-load -- {} (round {} of {})",
            service.display(),
            round + 1,
            ctx.runs
        );
        rounds.push(load(ctx, &service)?);
    }
    let median = |f: fn(&Round) -> f64| {
        let mut v: Vec<f64> = rounds.iter().map(f).collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let m = Round {
        p50_us: median(|r| r.p50_us),
        p99_us: median(|r| r.p99_us),
        one_client_rps: median(|r| r.one_client_rps),
        concurrent_rps: median(|r| r.concurrent_rps),
    };
    let size = file_size(&service);
    println!(
        "\nhttp: GET /kv/k (16 B) through {} ({} bytes), served by wasmtime's wasi:http on \
         127.0.0.1, median of {} rounds of {REQUESTS} requests per client\n  \
         one client:    p50 {:.0} µs, p99 {:.0} µs, {:.0} requests/s\n  \
         {CLIENTS} clients:     {:.0} requests/s",
        service.display(),
        grouped(size),
        ctx.runs,
        m.p50_us,
        m.p99_us,
        m.one_client_rps,
        m.concurrent_rps
    );
    let json = format!(
        "{{\n  \"service\": \"{}\",\n  \"service_bytes\": {size},\n  \"requests_per_client\": {REQUESTS},\n  \
         \"clients\": {CLIENTS},\n  \"rounds\": {},\n  \"p50_us\": {:.1},\n  \"p99_us\": {:.1},\n  \
         \"one_client_rps\": {:.0},\n  \"concurrent_rps\": {:.0}\n}}\n",
        service.display(),
        ctx.runs,
        m.p50_us,
        m.p99_us,
        m.one_client_rps,
        m.concurrent_rps
    );
    let path = ctx.dir.join("http.json");
    fs::write(&path, json).map_err(io_err("cannot write", &path))?;
    eprintln!("==> wrote {}", path.display());
    Ok(())
}

/// One `http-load` run.
fn load(ctx: &Context, service: &Path) -> Result<Round, String> {
    let mut cargo = guests::cargo(&ctx.root);
    cargo.args(["run", "-q", "-p", "wcomp-tests", "--bin", "http-load", "--"]);
    cargo.arg(service);
    cargo.args(["--requests", &REQUESTS.to_string()]);
    cargo.args(["--clients", &CLIENTS.to_string()]);
    let out = cargo
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "http-load failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    parse(&String::from_utf8_lossy(&out.stdout))
        .ok_or_else(|| "http-load printed no figures".to_string())
}

/// The figures of `http-load`'s one JSON line.
fn parse(json: &str) -> Option<Round> {
    let field = |key: &str| -> Option<f64> {
        let at = json.find(&format!("\"{key}\": "))? + key.len() + 4;
        let rest = &json[at..];
        let end = rest.find([',', '}'])?;
        rest[..end].trim().parse().ok()
    };
    Some(Round {
        p50_us: field("p50_us")?,
        p99_us: field("p99_us")?,
        one_client_rps: field("one_client_rps")?,
        concurrent_rps: field("concurrent_rps")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_http_load_prints() {
        let line = "{\"requests\": 2000, \"clients\": 8, \"p50_us\": 210.7, \"p99_us\": 4271.3, \
                    \"one_client_rps\": 2128, \"concurrent_rps\": 5409}";
        assert_eq!(
            parse(line),
            Some(Round {
                p50_us: 210.7,
                p99_us: 4271.3,
                one_client_rps: 2128.0,
                concurrent_rps: 5409.0
            })
        );
        assert_eq!(parse("nothing"), None);
    }
}
