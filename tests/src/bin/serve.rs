//! `serve COMPONENT [--port N]`: serves a `wasi:http/proxy` (WASI 0.2) or
//! `wasi:http/service@0.3.0` (WASI 0.3) component on 127.0.0.1 (port 8080
//! by default) with one instance, until
//! interrupted: `cargo xtask demo --serve` runs it on the composed key-store
//! service. See `wcomp_tests::http_host`.

use std::path::Path;
use std::process::ExitCode;

use wcomp_tests::http_host::{Clock, Server};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut component = None;
    let mut port: u16 = 8080;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--port" => match it.next().and_then(|p| p.parse().ok()) {
                Some(p) => port = p,
                None => return usage(),
            },
            a if !a.starts_with("--") && component.is_none() => component = Some(a.to_string()),
            _ => return usage(),
        }
    }
    let Some(component) = component else {
        return usage();
    };
    // TTLs run on real time here: nothing moves a simulated clock.
    let server = match Server::start(Path::new(&component), Clock::real(), port) {
        Ok(server) => server,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    println!(
        "serving {component} on http://{} (Ctrl-C stops it)",
        server.addr
    );
    loop {
        std::thread::park();
    }
}

fn usage() -> ExitCode {
    eprintln!("usage: serve COMPONENT [--port N]");
    ExitCode::from(2)
}
