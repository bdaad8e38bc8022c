//! `run-script COMPONENT SCRIPT [--real-clock]`: runs the keystore demo
//! script (format: `wcomp_tests::script`) through a component that exports
//! `wcomp:keystore/handler@0.1.0`, in wasmtime with WASI preview 2, printing
//! each command with its answer. Exit 0 when every answer is right, 1 when
//! one is wrong, 2 when the script or component cannot be run.
//!
//! The monotonic clock is virtual unless `--real-clock`: `wait` moves it on
//! and nothing sleeps, so a TTL test is fast and cannot flake on a busy
//! machine.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use wasmtime::component::{Component, Linker, TypedFunc};
use wasmtime::{Engine, Store};
use wasmtime_wasi::{HostMonotonicClock, WasiCtxBuilder};
use wcomp_tests::host::WasiHost;
use wcomp_tests::script::{self, Step};

const INTERFACE: &str = "wcomp:keystore/handler@0.1.0";
const FUNCTION: &str = "handle";

/// A monotonic clock that only moves when the script says `wait`.
#[derive(Clone, Default)]
struct VirtualClock(Arc<AtomicU64>);

impl VirtualClock {
    fn advance(&self, by: Duration) {
        let nanos = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        self.0.fetch_add(nanos, Ordering::SeqCst);
    }
}

impl HostMonotonicClock for VirtualClock {
    fn resolution(&self) -> u64 {
        1
    }
    fn now(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// Why a run stopped: a wrong answer (exit 1) or no run at all (exit 2).
enum Failure {
    Wrong(String),
    Setup(String),
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (paths, flags): (Vec<&String>, Vec<&String>) =
        args.iter().partition(|a| !a.starts_with("--"));
    let real_clock = match flags.as_slice() {
        [] => false,
        [flag] if *flag == "--real-clock" => true,
        _ => return usage(),
    };
    let [component, script] = paths.as_slice() else {
        return usage();
    };
    match run(Path::new(component), Path::new(script), real_clock) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Wrong(why)) => {
            eprintln!("error: {why}");
            ExitCode::from(1)
        }
        Err(Failure::Setup(why)) => {
            eprintln!("error: {why}");
            ExitCode::from(2)
        }
    }
}

fn usage() -> ExitCode {
    eprintln!("usage: run-script COMPONENT SCRIPT [--real-clock]");
    ExitCode::from(2)
}

fn run(component: &Path, script: &Path, real_clock: bool) -> Result<(), Failure> {
    let text = std::fs::read_to_string(script)
        .map_err(|e| Failure::Setup(format!("cannot read {}: {e}", script.display())))?;
    let steps = script::parse(&text).map_err(Failure::Setup)?;
    let engine = Engine::default();
    let loaded = Instant::now();
    let compiled = Component::from_file(&engine, component).map_err(|e| {
        Failure::Setup(format!(
            "wasmtime cannot load {}: {e:?}",
            component.display()
        ))
    })?;
    let clock = VirtualClock::default();
    let mut wasi = WasiCtxBuilder::new();
    // The guest's panics and prints show up; nothing else is granted.
    wasi.inherit_stderr();
    if !real_clock {
        wasi.monotonic_clock(clock.clone());
    }
    let mut store = Store::new(&engine, WasiHost::new(wasi.build()));
    let mut linker = Linker::new(&engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker)
        .map_err(|e| Failure::Setup(format!("{e:?}")))?;
    let handle = instantiate(&linker, &mut store, &compiled).map_err(Failure::Setup)?;
    println!(
        "{} through {} in wasmtime (compiled in {:.2}s); monotonic clock: {}",
        script.display(),
        component.display(),
        loaded.elapsed().as_secs_f64(),
        if real_clock {
            "real, `wait` sleeps"
        } else {
            "simulated, `wait` moves it on at once"
        }
    );

    let width = steps
        .iter()
        .filter_map(|l| match &l.step {
            Step::Send { command, .. } => Some(command.chars().count()),
            Step::Wait(_) => None,
        })
        .max()
        .unwrap_or(0);
    let (mut sent, mut wrong) = (0, Vec::new());
    for line in &steps {
        match &line.step {
            Step::Wait(by) if real_clock => {
                std::thread::sleep(*by);
                println!("  {:width$}  (slept {}s)", line.text, by.as_secs_f64());
            }
            Step::Wait(by) => {
                clock.advance(*by);
                println!(
                    "  {:width$}  (simulated: the clock moved on {}s)",
                    line.text,
                    by.as_secs_f64()
                );
            }
            Step::Send { command, expect } => {
                let (answer,) = handle.call(&mut store, (command.clone(),)).map_err(|e| {
                    Failure::Wrong(format!(
                        "script:{}: `{command}` trapped: {e:?}",
                        line.number
                    ))
                })?;
                sent += 1;
                if answer == *expect {
                    println!("  {command:width$}  => {answer}");
                } else {
                    println!("  {command:width$}  => {answer}    WRONG, expected: {expect}");
                    wrong.push(format!(
                        "script:{}: `{command}` answered {answer:?}, expected {expect:?}",
                        line.number
                    ));
                }
            }
        }
    }
    if wrong.is_empty() {
        println!("{sent} commands, every answer right");
        Ok(())
    } else {
        Err(Failure::Wrong(format!(
            "{} of {sent} answers wrong:\n  {}",
            wrong.len(),
            wrong.join("\n  ")
        )))
    }
}

/// Instantiates the component and finds `handle` in its handler export.
fn instantiate(
    linker: &Linker<WasiHost>,
    store: &mut Store<WasiHost>,
    component: &Component,
) -> Result<TypedFunc<(String,), (String,)>, String> {
    let instance = linker
        .instantiate(&mut *store, component)
        .map_err(|e| format!("cannot instantiate the component: {e:?}"))?;
    let iface = instance
        .get_export_index(&mut *store, None, INTERFACE)
        .ok_or_else(|| format!("the component does not export `{INTERFACE}`"))?;
    let func = instance
        .get_export_index(&mut *store, Some(&iface), FUNCTION)
        .ok_or_else(|| format!("`{INTERFACE}` has no function `{FUNCTION}`"))?;
    instance
        .get_typed_func(&mut *store, func)
        .map_err(|e| format!("`{INTERFACE}#{FUNCTION}` is not `func(string) -> string`: {e}"))
}
