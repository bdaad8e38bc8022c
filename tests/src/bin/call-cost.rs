//! `call-cost COMPONENT [--sizes N,N,...] [--calls N]`: what one call of
//! `get` and `set` of `wcomp:keystore/store@0.1.0` costs in a key store
//! component, for `cargo xtask bench guest`. Prints JSON on stdout:
//!
//! ```text
//! {"component": "...", "calls": 20, "cases": [
//!   {"function": "set", "payload_bytes": 16, "fuel_median": 812, "fuel_min": 812,
//!    "fuel_max": 812, "wall_ns_median": 2100}, ...]}
//! ```
//!
//! Fuel is wasmtime's count of the wasm operators the call ran (plus one per
//! byte that `memory.copy` and `memory.fill` move): deterministic, so two
//! guests compare on any machine. It covers all guest code the call runs:
//! the `cabi_realloc` calls that place the arguments, the export, and its
//! post-return function. Wall time is measured apart, on an engine without
//! fuel metering, and includes wasmtime's own lifting and lowering of the
//! dynamic values (the same for every guest).
//!
//! For each payload size, in order: `set` of one key `calls` times (after a
//! warm-up; every call after the first replaces the value), then `get` of
//! that key `calls` times, each answer checked. Exit 0 on success, 1 when the
//! component cannot be run or a call fails or answers wrong, 2 on bad usage.

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use wasmtime::component::{Component, Func, Linker, Val};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::WasiCtxBuilder;
use wcomp_tests::host::WasiHost;

const INTERFACE: &str = "wcomp:keystore/store@0.1.0";
const DEFAULT_SIZES: &[usize] = &[16, 65536];
const DEFAULT_CALLS: usize = 20;
/// Calls made before measuring: the first `set` of a key inserts it, later
/// ones replace, and the allocator settles.
const WARM_UP: usize = 3;
/// Plenty for every call; what matters is what each call takes from it.
const FUEL: u64 = 1 << 62;

/// One function at one payload size.
struct Case {
    function: &'static str,
    payload: usize,
    fuel: Vec<u64>,
    wall_ns: Vec<u64>,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((component, sizes, calls)) = parse(&args) else {
        eprintln!("usage: call-cost COMPONENT [--sizes N,N,...] [--calls N]");
        return ExitCode::from(2);
    };
    match run(Path::new(&component), &sizes, calls) {
        Ok(cases) => {
            print!("{}", to_json(&component, calls, &cases));
            ExitCode::SUCCESS
        }
        Err(why) => {
            eprintln!("error: {why}");
            ExitCode::from(1)
        }
    }
}

fn parse(args: &[String]) -> Option<(String, Vec<usize>, usize)> {
    let (component, mut rest) = args.split_first()?;
    let (mut sizes, mut calls) = (DEFAULT_SIZES.to_vec(), DEFAULT_CALLS);
    while let [flag, value, more @ ..] = rest {
        match flag.as_str() {
            "--sizes" => {
                sizes = value
                    .split(',')
                    .map(|s| s.parse().ok())
                    .collect::<Option<_>>()?
            }
            "--calls" => calls = value.parse().ok().filter(|&n| n > 0)?,
            _ => return None,
        }
        rest = more;
    }
    (rest.is_empty() && !component.starts_with("--")).then_some((component.clone(), sizes, calls))
}

fn run(path: &Path, sizes: &[usize], calls: usize) -> Result<Vec<Case>, String> {
    let mut metered = Config::new();
    metered.consume_fuel(true);
    let metered = Engine::new(&metered).map_err(|e| format!("{e:?}"))?;
    let mut fuel = Bench::new(&metered, path, true)?;
    let mut wall = Bench::new(&Engine::default(), path, false)?;
    let mut cases = Vec::new();
    // Both instances see the same calls in the same order, so their heaps
    // stay alike.
    for &payload in sizes {
        let key = format!("key-{payload}");
        let value: Vec<u8> = (0..payload).map(|i| (i % 251) as u8).collect();
        for function in ["set", "get"] {
            let fuel = fuel.measure(function, &key, &value, calls)?;
            let wall_ns = wall.measure(function, &key, &value, calls)?;
            cases.push(Case {
                function,
                payload,
                fuel,
                wall_ns,
            });
        }
    }
    Ok(cases)
}

/// One instance of the component, with its `set` and `get`.
struct Bench {
    store: Store<WasiHost>,
    set: Func,
    get: Func,
    /// Whether samples are fuel (else nanoseconds).
    metered: bool,
}

impl Bench {
    fn new(engine: &Engine, path: &Path, metered: bool) -> Result<Bench, String> {
        let component = Component::from_file(engine, path)
            .map_err(|e| format!("wasmtime cannot load {}: {e:?}", path.display()))?;
        let mut linker = Linker::new(engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(|e| format!("{e:?}"))?;
        let host = WasiHost::new(WasiCtxBuilder::new().inherit_stderr().build());
        let mut store = Store::new(engine, host);
        if metered {
            store.set_fuel(FUEL).map_err(|e| format!("{e:?}"))?;
        }
        let instance = linker
            .instantiate(&mut store, &component)
            .map_err(|e| format!("cannot instantiate {}: {e:?}", path.display()))?;
        let iface = instance
            .get_export_index(&mut store, None, INTERFACE)
            .ok_or_else(|| format!("{} does not export `{INTERFACE}`", path.display()))?;
        let mut func = |name: &str| {
            let index = instance
                .get_export_index(&mut store, Some(&iface), name)
                .ok_or_else(|| format!("`{INTERFACE}` has no `{name}`"))?;
            instance
                .get_func(&mut store, index)
                .ok_or_else(|| format!("`{INTERFACE}#{name}` is not a function"))
        };
        let (set, get) = (func("set")?, func("get")?);
        Ok(Bench {
            store,
            set,
            get,
            metered,
        })
    }

    /// `WARM_UP` unmeasured calls of `function`, then `calls` measured ones:
    /// the fuel or the nanoseconds of each.
    fn measure(
        &mut self,
        function: &str,
        key: &str,
        value: &[u8],
        calls: usize,
    ) -> Result<Vec<u64>, String> {
        let (func, params) = match function {
            "set" => {
                let list = value.iter().map(|&b| Val::U8(b)).collect();
                let params = vec![Val::String(key.into()), Val::List(list), Val::Option(None)];
                (self.set, params)
            }
            _ => (self.get, vec![Val::String(key.into())]),
        };
        let mut samples = Vec::with_capacity(calls);
        for i in 0..WARM_UP + calls {
            // Arguments are built before the clock or the meter starts.
            let args = params.clone();
            let mut results = [Val::Bool(false)];
            let (fuel, start) = (self.fuel()?, Instant::now());
            func.call(&mut self.store, &args, &mut results)
                .map_err(|e| format!("`{function}` of {} bytes failed: {e:?}", value.len()))?;
            let sample = if self.metered {
                fuel - self.fuel()?
            } else {
                u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX)
            };
            check(function, value, &results[0])?;
            if i >= WARM_UP {
                samples.push(sample);
            }
        }
        Ok(samples)
    }

    fn fuel(&self) -> Result<u64, String> {
        if self.metered {
            self.store.get_fuel().map_err(|e| format!("{e:?}"))
        } else {
            Ok(0)
        }
    }
}

/// `set` answers `ok`, `get` answers `ok(value)`: a guest that answers
/// wrong cannot look cheap.
fn check(function: &str, value: &[u8], got: &Val) -> Result<(), String> {
    let right = match (function, got) {
        ("set", Val::Result(Ok(None))) => true,
        ("get", Val::Result(Ok(Some(list)))) => match &**list {
            Val::List(bytes) => {
                bytes.len() == value.len()
                    && bytes.iter().zip(value).all(|(b, v)| *b == Val::U8(*v))
            }
            _ => false,
        },
        _ => false,
    };
    if right {
        Ok(())
    } else {
        let shown = format!("{got:?}");
        let shown: String = shown.chars().take(200).collect();
        Err(format!(
            "`{function}` of {} bytes answered {shown}, expected ok",
            value.len()
        ))
    }
}

fn median(samples: &[u64]) -> u64 {
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    sorted.get(sorted.len() / 2).copied().unwrap_or(0)
}

fn to_json(component: &str, calls: usize, cases: &[Case]) -> String {
    let mut out = String::from("{");
    let path: String = component
        .chars()
        .flat_map(|c| match c {
            '"' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    let _ = write!(
        out,
        "\"component\": \"{path}\", \"calls\": {calls}, \"cases\": ["
    );
    for (i, c) in cases.iter().enumerate() {
        let sep = if i == 0 { "" } else { "," };
        let (min, max) = (c.fuel.iter().min(), c.fuel.iter().max());
        let _ = write!(
            out,
            "{sep}\n  {{\"function\": \"{}\", \"payload_bytes\": {}, \"fuel_median\": {}, \
             \"fuel_min\": {}, \"fuel_max\": {}, \"wall_ns_median\": {}}}",
            c.function,
            c.payload,
            median(&c.fuel),
            min.unwrap_or(&0),
            max.unwrap_or(&0),
            median(&c.wall_ns)
        );
    }
    out + "\n]}\n"
}
