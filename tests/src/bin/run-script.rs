//! `run-script COMPONENT SCRIPT [--real-clock]`: runs the keystore demo
//! script (format: `wcomp_tests::script`) through a component that exports
//! `wcomp:keystore/handler@0.1.0` (in wasmtime with WASI preview 2) or the
//! WASI 0.3 `wcomp:keystore/async-handler@0.1.0` (called with wasmtime's
//! async API, on the WASI 0.3 clock), printing each command with its answer. Exit 0 when every answer is right, 1 when
//! one is wrong, 2 when the script or component cannot be run.
//!
//! The component is driven through generated host bindings (`wcomp bind
//! --lang rust --host` of `fixtures/demo/host/world.wit`, compiled into
//! `wcomp_tests::host_bindings`): `handle` is a typed call, and the host
//! implements `wasi:clocks/monotonic-clock` itself through the generated
//! `Host` trait. The clock is virtual unless `--real-clock`: `wait` moves it
//! on and nothing sleeps, so a TTL test is fast and cannot flake on a busy
//! machine. The rest of WASI (what the guests' standard library imports)
//! comes from `wasmtime-wasi`. The WASI 0.3 composition imports the clock
//! alone (its Rust guests are built for `wasm32-unknown-unknown`), so
//! nothing else is linked for it.

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use wasmtime::component::{Accessor, Component, HasSelf, Linker, ResourceTable};
use wasmtime::{Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wcomp_tests::host_bindings::demo::{Composed, wasi::clocks::monotonic_clock};
use wcomp_tests::host_bindings::demo_async::{
    ComposedAsync, wasi::clocks::monotonic_clock as monotonic_clock_p3, wasi::clocks::types,
};
use wcomp_tests::script::{self, Step};

/// The monotonic clock the host gives the component: simulated (moved on
/// by `wait`) or real (time since the run started).
enum Clock {
    Simulated(u64),
    Real(Instant),
}

/// The async export's name, by which a WASI 0.3 composition is told apart.
const ASYNC_HANDLER: &str = "wcomp:keystore/async-handler@0.1.0";

impl Clock {
    fn advance(&mut self, by: Duration) {
        if let Clock::Simulated(now) = self {
            let nanos = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
            *now = now.saturating_add(nanos);
        }
    }

    fn read(&self) -> u64 {
        match self {
            Clock::Simulated(now) => *now,
            Clock::Real(start) => u64::try_from(start.elapsed().as_nanos())
                .unwrap_or(u64::MAX)
                .saturating_add(1),
        }
    }

    /// How long a wait until `when` takes: none on the simulated clock,
    /// which jumps there.
    fn wait_until(&mut self, when: u64) -> Duration {
        match self {
            Clock::Simulated(now) => {
                *now = (*now).max(when);
                Duration::ZERO
            }
            Clock::Real(_) => Duration::from_nanos(when.saturating_sub(self.read())),
        }
    }
}

impl monotonic_clock::Host for Clock {
    fn now(&mut self) -> wasmtime::Result<monotonic_clock::Instant> {
        Ok(self.read())
    }
    fn resolution(&mut self) -> wasmtime::Result<monotonic_clock::Duration> {
        Ok(1)
    }
    // Pollables are `wasmtime-wasi`'s (the bindings' `with`), which this
    // clock cannot make: a component that subscribes to it traps with why
    // (the key stores only read it).
    fn subscribe_instant(
        &mut self,
        _when: monotonic_clock::Instant,
    ) -> wasmtime::Result<wasmtime::component::Resource<monotonic_clock::Pollable>> {
        wasmtime::bail!("run-script's clock has no pollables (subscribe-instant)")
    }
    fn subscribe_duration(
        &mut self,
        _when: monotonic_clock::Duration,
    ) -> wasmtime::Result<wasmtime::component::Resource<monotonic_clock::Pollable>> {
        wasmtime::bail!("run-script's clock has no pollables (subscribe-duration)")
    }
}

type Access<'a, T> = &'a Accessor<T, HasSelf<Clock>>;

/// The WASI 0.3 clock: its waits are async, and sleep only on the real
/// clock.
impl monotonic_clock_p3::Host for Clock {
    fn now(&mut self) -> wasmtime::Result<monotonic_clock_p3::Mark> {
        Ok(self.read())
    }
    fn get_resolution(&mut self) -> wasmtime::Result<monotonic_clock_p3::Duration> {
        Ok(1)
    }
    async fn wait_until<T: 'static>(
        accessor: Access<'_, T>,
        when: monotonic_clock_p3::Mark,
    ) -> wasmtime::Result<()> {
        let sleep = accessor.with(|mut a| a.get().wait_until(when));
        tokio::time::sleep(sleep).await;
        Ok(())
    }
    async fn wait_for<T: 'static>(
        accessor: Access<'_, T>,
        how_long: monotonic_clock_p3::Duration,
    ) -> wasmtime::Result<()> {
        let sleep = accessor.with(|mut a| {
            let clock = a.get();
            let when = clock.read().saturating_add(how_long);
            clock.wait_until(when)
        });
        tokio::time::sleep(sleep).await;
        Ok(())
    }
}

impl types::Host for Clock {}

/// The store's data: WASI for the rest, and the clock.
struct Host {
    wasi: WasiCtx,
    table: ResourceTable,
    clock: Clock,
}

impl WasiView for Host {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
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
    let mut wasi = WasiCtxBuilder::new();
    // The guest's panics and prints show up; nothing else is granted.
    wasi.inherit_stderr();
    let clock = if real_clock {
        Clock::Real(Instant::now())
    } else {
        // Not 0: Go's runtime refuses a clock that reads 0.
        Clock::Simulated(1)
    };
    let host = Host {
        wasi: wasi.build(),
        table: ResourceTable::new(),
        clock,
    };
    let mut session = Session::new(&engine, &compiled, host).map_err(Failure::Setup)?;
    println!(
        "{} through {} in wasmtime{} (compiled in {:.2}s); monotonic clock: {}",
        script.display(),
        component.display(),
        match session {
            Session::Sync { .. } => "",
            Session::Async { .. } => ", called async (WASI 0.3)",
        },
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
                session.clock().advance(*by);
                println!(
                    "  {:width$}  (simulated: the clock moved on {}s)",
                    line.text,
                    by.as_secs_f64()
                );
            }
            Step::Send { command, expect } => {
                let answer = session.send(command).map_err(|e| {
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

/// An instance of the composition, and how to call it.
enum Session {
    /// `handler`, called synchronously.
    Sync { store: Store<Host>, app: Composed },
    /// `async-handler`, called with `call_async` on a runtime of its own.
    Async {
        store: Store<Host>,
        app: ComposedAsync,
        runtime: tokio::runtime::Runtime,
    },
}

impl Session {
    /// Instantiates `component` for the handler it exports.
    fn new(engine: &Engine, component: &Component, host: Host) -> Result<Session, String> {
        let ty = component.component_type();
        let is_async = ty.exports(engine).any(|(name, _)| name == ASYNC_HANDLER);
        if !is_async {
            let mut store = Store::new(engine, host);
            let app = instantiate(engine, &mut store, component)?;
            return Ok(Session::Sync { store, app });
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .map_err(|e| format!("cannot start a runtime: {e}"))?;
        // WASI 0.2 too: a guest whose language runtime reaches the host
        // through the preview1 adapter (Go's) imports it.
        let mut linker = Linker::new(engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(|e| format!("{e:?}"))?;
        ComposedAsync::add_to_linker(&mut linker, |host: &mut Host| &mut host.clock)
            .map_err(|e| format!("{e:?}"))?;
        let mut store = Store::new(engine, host);
        let app = runtime
            .block_on(ComposedAsync::instantiate_async(
                &mut store, component, &linker,
            ))
            .map_err(|e| format!("cannot instantiate the component: {e:?}"))?;
        Ok(Session::Async {
            store,
            app,
            runtime,
        })
    }

    fn send(&mut self, command: &str) -> wasmtime::Result<String> {
        match self {
            Session::Sync { store, app } => {
                app.wcomp_keystore_handler().call_handle(store, command)
            }
            Session::Async {
                store,
                app,
                runtime,
            } => runtime.block_on(
                app.wcomp_keystore_async_handler()
                    .call_handle(&mut *store, command),
            ),
        }
    }

    fn clock(&mut self) -> &mut Clock {
        match self {
            Session::Sync { store, .. } => &mut store.data_mut().clock,
            Session::Async { store, .. } => &mut store.data_mut().clock,
        }
    }
}

/// Links WASI and the host's own clock (which replaces WASI's), and
/// instantiates the component through its host bindings.
fn instantiate(
    engine: &Engine,
    store: &mut Store<Host>,
    component: &Component,
) -> Result<Composed, String> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(|e| format!("{e:?}"))?;
    linker.allow_shadowing(true);
    monotonic_clock::add_to_linker(&mut linker, |host: &mut Host| &mut host.clock)
        .map_err(|e| format!("{e:?}"))?;
    Composed::instantiate(&mut *store, component, &linker)
        .map_err(|e| format!("cannot instantiate the component: {e:?}"))
}
