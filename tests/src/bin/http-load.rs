//! `http-load SERVICE [--requests N] [--clients C]`: serves a
//! `wasi:http/proxy` component (`wcomp_tests::http_host`, one instance,
//! loopback only), stores a 16-byte value under `k`, and times `GET /kv/k`:
//! first one client on a kept-alive connection (latency p50 and p99, in
//! microseconds), then C clients at once (requests per second). Prints
//! one JSON object; `cargo xtask bench http` reads it. Bounded: N requests
//! per client, then the server stops.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use wcomp_tests::http_host::{Clock, Server};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mut requests, mut clients) = (2000usize, 8usize);
    let mut component = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let number = |it: &mut std::slice::Iter<'_, String>| it.next().and_then(|n| n.parse().ok());
        match arg.as_str() {
            "--requests" => match number(&mut it) {
                Some(n) if n > 0 => requests = n,
                _ => return usage(),
            },
            "--clients" => match number(&mut it) {
                Some(n) if n > 0 => clients = n,
                _ => return usage(),
            },
            a if component.is_none() && !a.starts_with("--") => component = Some(a.to_string()),
            _ => return usage(),
        }
    }
    let Some(component) = component else {
        return usage();
    };
    match run(Path::new(&component), requests, clients) {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn usage() -> ExitCode {
    eprintln!("usage: http-load SERVICE [--requests N] [--clients C]");
    ExitCode::from(2)
}

fn run(component: &Path, requests: usize, clients: usize) -> Result<String, String> {
    let server = Server::start(component, Clock::simulated(), 0)?;
    let addr = server.addr;
    let mut one = Client::connect(addr)?;
    let status = one.send("PUT", "/kv/k", b"sixteen bytes!!!")?.0;
    if status != 204 {
        return Err(format!("PUT /kv/k answered {status}"));
    }
    // Warm up: the first calls compile lazily and fill caches.
    for _ in 0..100 {
        one.get_k()?;
    }
    let mut latencies = Vec::with_capacity(requests);
    for _ in 0..requests {
        let start = Instant::now();
        one.get_k()?;
        latencies.push(start.elapsed());
    }
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
    let micros = |d: Duration| d.as_secs_f64() * 1e6;

    let start = Instant::now();
    let threads: Vec<_> = (0..clients)
        .map(|_| {
            std::thread::spawn(move || -> Result<(), String> {
                let mut client = Client::connect(addr)?;
                for _ in 0..requests {
                    client.get_k()?;
                }
                Ok(())
            })
        })
        .collect();
    for t in threads {
        t.join().map_err(|_| "a client panicked".to_string())??;
    }
    let concurrent = start.elapsed();
    let traps = server.traps();
    server.stop();
    if traps > 0 {
        return Err(format!("the component trapped {traps} times"));
    }
    Ok(format!(
        "{{\"requests\": {requests}, \"clients\": {clients}, \"p50_us\": {:.1}, \"p99_us\": {:.1}, \
         \"one_client_rps\": {:.0}, \"concurrent_rps\": {:.0}}}",
        micros(at(0.50)),
        micros(at(0.99)),
        requests as f64 / latencies.iter().sum::<Duration>().as_secs_f64(),
        (requests * clients) as f64 / concurrent.as_secs_f64()
    ))
}

/// An HTTP/1.1 client on one kept-alive connection.
struct Client {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Client {
    fn connect(addr: SocketAddr) -> Result<Client, String> {
        let stream = TcpStream::connect(addr).map_err(|e| format!("cannot connect: {e}"))?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .map_err(|e| e.to_string())?;
        let writer = stream.try_clone().map_err(|e| e.to_string())?;
        Ok(Client {
            reader: BufReader::new(stream),
            writer,
        })
    }

    fn get_k(&mut self) -> Result<(), String> {
        match self.send("GET", "/kv/k", b"")? {
            (200, body) if body == b"sixteen bytes!!!" => Ok(()),
            (status, _) => Err(format!("GET /kv/k answered {status}")),
        }
    }

    /// One request; (status, body), the body de-chunked.
    fn send(&mut self, method: &str, target: &str, body: &[u8]) -> Result<(u16, Vec<u8>), String> {
        let mut request = format!(
            "{method} {target} HTTP/1.1\r\nHost: load\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        request.extend_from_slice(body);
        self.writer
            .write_all(&request)
            .map_err(|e| format!("cannot send: {e}"))?;
        let io = |e: std::io::Error| format!("cannot read the answer: {e}");
        let mut line = String::new();
        self.reader.read_line(&mut line).map_err(io)?;
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("not a status line: {line:?}"))?;
        let (mut length, mut chunked) = (0usize, false);
        loop {
            line.clear();
            self.reader.read_line(&mut line).map_err(io)?;
            let header = line.trim_end().to_ascii_lowercase();
            if header.is_empty() {
                break;
            }
            if let Some(v) = header.strip_prefix("content-length:") {
                length = v.trim().parse().unwrap_or(0);
            }
            if header == "transfer-encoding: chunked" {
                chunked = true;
            }
        }
        let mut body = Vec::new();
        if !chunked {
            body.resize(length, 0);
            self.reader.read_exact(&mut body).map_err(io)?;
            return Ok((status, body));
        }
        loop {
            line.clear();
            self.reader.read_line(&mut line).map_err(io)?;
            let size = usize::from_str_radix(line.trim(), 16)
                .map_err(|_| format!("not a chunk size: {line:?}"))?;
            let mut chunk = vec![0; size + 2];
            self.reader.read_exact(&mut chunk).map_err(io)?;
            if size == 0 {
                return Ok((status, body));
            }
            body.extend_from_slice(&chunk[..size]);
        }
    }
}
