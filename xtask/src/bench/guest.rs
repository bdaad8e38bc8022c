//! `cargo xtask bench guest`: what wcomp's Rust bindings cost a guest, against wit-bindgen's.
//! The key store of `fixtures/keystore-rust` (its `lib.rs`, with bindings that the wcomp under
//! test generates afresh) and the same code on wit-bindgen's `generate!`
//! (`fixtures/bench/keystore-wit-bindgen`, skipped when it cannot be built, e.g. offline) are
//! built for wasm32 with the same profile and wrapped with `wcomp new`; the bench reports
//! their core module, code section and component sizes, and the cost of one call of `get`
//! and `set` at a few payload sizes, measured by the `call-cost` binary of the tests crate
//! in wasmtime:
//!
//! - fuel: the wasm operators the call ran, plus one per byte that `memory.copy` and
//!   `memory.fill` move: deterministic, so the ratio means the same on every machine. It
//!   covers all guest code of the call: `cabi_realloc` for the arguments, the export, and
//!   its post-return function;
//! - wall time: the median of the calls, on an engine without fuel metering; it includes
//!   wasmtime's conversion of the dynamic values, which is the same for both guests.
//!
//! The target (issue 6): no bigger and no slower. Then the same key store in C
//! (`fixtures/keystore-c` on `wcomp bind --lang c`, built by clang-16 with `-Os`) is measured
//! the same way, beside the Rust one, and so is the Go one (`fixtures/keystore-go` on
//! `wcomp bind --lang go`, built by `go build` for wasip1): one interface, three languages.
//! Written to `target/bench/guest.json`.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use super::Context;
use super::measure::{file_size, io_err, json_num, json_object, json_str, run_quiet};
use super::wasm32::{
    Builder, CODE, WIT_BINDGEN_FIXTURE, pinned_wit_bindgen, section_sizes, write_if_changed,
};
use crate::guests::grouped;

/// The guest whose bindings wcomp generates.
const OURS: &str = "fixtures/keystore-rust";
/// The same key store in C.
const C_STORE: &str = "fixtures/keystore-c/keystore.c";
/// The same key store in Go (a module: `go.mod` and `main.go`).
const GO_STORE: &str = "fixtures/keystore-go";
/// Payload sizes of the calls: a small value and a large one.
const SIZES: &str = "16,65536";
/// Calls measured per function and size (fuel barely varies; the wall time does).
const CALLS: usize = 20;

/// One guest, built, wrapped and measured.
struct Guest {
    name: &'static str,
    /// The crate it was built from, for the report.
    source: String,
    core: PathBuf,
    component: PathBuf,
    core_bytes: u64,
    code_bytes: u64,
    component_bytes: u64,
    calls: Vec<Call>,
}

/// What `call-cost` measured for one function at one payload size.
#[derive(Debug, PartialEq)]
struct Call {
    function: String,
    payload: u64,
    fuel: u64,
    fuel_min: u64,
    fuel_max: u64,
    wall_ns: u64,
}

pub fn run(ctx: &Context) -> Result<(), String> {
    let mut skipped: Vec<(String, String)> = Vec::new();
    let builder = match Builder::new(ctx) {
        Ok(b) => b,
        Err(why) => {
            eprintln!("==> skipping the guest bench: no wasm32 toolchain: {why}");
            skipped.push(("the guest bench (no wasm32 toolchain)".into(), why));
            println!("\nguest: skipped, no wasm32 toolchain (`cargo xtask toolchain --install`)");
            return write_json(ctx, &[], &skipped, None);
        }
    };
    let mut guests = vec![ours(ctx, &builder)?];
    match theirs(ctx, &builder) {
        Ok(guest) => guests.push(guest),
        Err(why) => {
            eprintln!("==> skipping wit-bindgen's guest: {why}");
            skipped.push(("wit-bindgen's guest".into(), why));
        }
    }
    for guest in &mut guests {
        guest.calls = call_cost(ctx, &guest.component)?;
    }
    print!("{}", report(&guests, &builder));
    let mut others = Vec::new();
    for (language, store) in [
        ("C", c_store as fn(&Context) -> Result<Guest, String>),
        ("Go", go_store),
    ] {
        match store(ctx) {
            Ok(mut other) => {
                other.calls = call_cost(ctx, &other.component)?;
                print!("{}", report_other(&guests[0], &other, language));
                others.push(other);
            }
            Err(why) => {
                eprintln!("==> skipping the {language} key store: {why}");
                skipped.push((format!("the {language} key store"), why));
            }
        }
    }
    guests.extend(others);
    if !skipped.is_empty() {
        println!("\nskipped:");
        for (what, why) in &skipped {
            let why = why.lines().next().unwrap_or_default();
            println!("  {what}: {why}");
        }
    }
    write_json(ctx, &guests, &skipped, Some(&builder))
}

/// A copy of the keystore fixture in `target/bench/guest-wcomp` with freshly generated
/// bindings (the fixture itself is left alone), built and wrapped.
fn ours(ctx: &Context, builder: &Builder) -> Result<Guest, String> {
    let fixture = ctx.root.join(OURS);
    let dir = ctx.dir.join("guest-wcomp");
    let src = dir.join("src");
    fs::create_dir_all(&src).map_err(io_err("cannot create", &src))?;
    // The manifest and every source file (`keys.rs` too), not the old bindings.
    let mut files = vec![PathBuf::from("Cargo.toml")];
    let sources = fixture.join("src");
    for entry in fs::read_dir(&sources).map_err(io_err("cannot read", &sources))? {
        let name = entry.map_err(io_err("cannot read", &sources))?.file_name();
        if name != "bindings.rs" {
            files.push(Path::new("src").join(name));
        }
    }
    for file in files {
        let from = fixture.join(&file);
        let text = fs::read(&from).map_err(io_err("cannot read", &from))?;
        write_if_changed(&dir.join(&file), &text)?;
    }
    let fresh = dir.join("bindings.rs");
    let wit = ctx.root.join("wit");
    let args = [
        "bind".as_ref(),
        wit.as_os_str(),
        "--world".as_ref(),
        "keystore".as_ref(),
        "--lang".as_ref(),
        "rust".as_ref(),
        "-o".as_ref(),
        fresh.as_os_str(),
    ];
    run_quiet(&ctx.wcomp, &args, None)?;
    let text = fs::read(&fresh).map_err(io_err("cannot read", &fresh))?;
    write_if_changed(&src.join("bindings.rs"), &text)?;
    let source = format!("{OURS}/src/lib.rs + `wcomp bind wit --world keystore --lang rust`");
    build(
        ctx,
        builder,
        "wcomp",
        &dir.join("Cargo.toml"),
        "keystore-rust",
        source,
    )
}

/// `wcomp bind wit --world keystore --lang LANG --out-dir OUT`.
fn bind_keystore(ctx: &Context, lang: &str, out: &Path) -> Result<(), String> {
    let wit = ctx.root.join("wit");
    let args = [
        "bind".as_ref(),
        wit.as_os_str(),
        "--world".as_ref(),
        "keystore".as_ref(),
        "--lang".as_ref(),
        lang.as_ref(),
        "--out-dir".as_ref(),
        out.as_os_str(),
    ];
    run_quiet(&ctx.wcomp, &args, None).map(|_| ())
}

/// Runs a key store's build command, then wraps its core module with `wcomp new` (given
/// the WIT when the module carries no component type) and measures it.
fn wrap_store(
    ctx: &Context,
    name: &'static str,
    source: String,
    mut build: std::process::Command,
    core: PathBuf,
    with_wit: bool,
) -> Result<Guest, String> {
    let out = build
        .output()
        .map_err(|e| format!("cannot run {}: {e}", build.get_program().to_string_lossy()))?;
    if !out.status.success() {
        return Err(format!(
            "the {name} key store did not build:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let component = core.with_extension("").with_extension("wasm");
    let wit = ctx.root.join("wit");
    let mut args: Vec<&std::ffi::OsStr> = vec!["new".as_ref(), core.as_os_str()];
    if with_wit {
        args.extend([
            std::ffi::OsStr::new("--wit"),
            wit.as_os_str(),
            std::ffi::OsStr::new("--world"),
            std::ffi::OsStr::new("keystore"),
        ]);
    }
    args.extend([std::ffi::OsStr::new("-o"), component.as_os_str()]);
    run_quiet(&ctx.wcomp, &args, None)?;
    let bytes = fs::read(&core).map_err(io_err("cannot read", &core))?;
    Ok(Guest {
        name,
        source,
        core_bytes: bytes.len() as u64,
        code_bytes: section_sizes(&bytes)[CODE],
        component_bytes: file_size(&component),
        core,
        component,
        calls: Vec::new(),
    })
}

/// The C key store on freshly generated bindings, built and wrapped.
fn c_store(ctx: &Context) -> Result<Guest, String> {
    let c = crate::c_toolchain::detect()?;
    let bindings = ctx.dir.join("guest-c");
    let _ = fs::remove_dir_all(&bindings);
    bind_keystore(ctx, "c", &bindings)?;
    let core = ctx.dir.join("guest-c.core.wasm");
    let sources = [
        ctx.root.join(C_STORE),
        bindings.join("keystore.c"),
        bindings.join("keystore_component_type.c"),
    ];
    eprintln!("==> building the C key store: {C_STORE}");
    let source = format!(
        "{C_STORE} + `wcomp bind wit --world keystore --lang c`, {}",
        c.describe()
    );
    let build = c.build(&sources, &bindings, &core);
    wrap_store(ctx, "wcomp C", source, build, core, false)
}

/// The Go key store on freshly generated bindings, built and wrapped (given the WIT: Go
/// writes no custom sections).
fn go_store(ctx: &Context) -> Result<Guest, String> {
    let go = crate::go_toolchain::detect()?;
    let dir = ctx.dir.join("guest-go");
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).map_err(io_err("cannot create", &dir))?;
    // The module's own files: the store and its key rules (package keys).
    for file in ["go.mod", "main.go", "keys/keys.go"] {
        let from = ctx.root.join(GO_STORE).join(file);
        let to = dir.join(file);
        if let Some(parent) = to.parent() {
            fs::create_dir_all(parent).map_err(io_err("cannot create", parent))?;
        }
        fs::copy(&from, &to).map_err(io_err("cannot copy", &from))?;
    }
    bind_keystore(ctx, "go", &dir)?;
    let core = ctx.dir.join("guest-go.core.wasm");
    eprintln!("==> building the Go key store: {GO_STORE}");
    let source = format!(
        "{GO_STORE}/main.go and keys/ + `wcomp bind wit --world keystore --lang go`, {}",
        go.describe()
    );
    let build = go.build(&dir, &core);
    wrap_store(ctx, "wcomp Go", source, build, core, true)
}

/// Another language's key store beside the Rust one, on wcomp's bindings both.
fn report_other(rust: &Guest, c: &Guest, language: &str) -> String {
    let how = match language {
        "C" => "clang -Os -mbulk-memory, debug info stripped",
        _ => "go build -buildmode=c-shared -ldflags='-s -w', the Go runtime included",
    };
    let mut out = format!(
        "
the same key store in {language}: {}
  ({how}; beside the Rust one above)\n\n",
        c.source
    );
    let ratio = |a: u64, b: u64| format!("{:.3}x", a as f64 / b as f64);
    row(
        &mut out,
        [
            "bytes".into(),
            "Rust".into(),
            language.into(),
            format!("{language}/Rust"),
        ],
    );
    for (what, r, cc) in [
        ("core module", rust.core_bytes, c.core_bytes),
        ("  code section", rust.code_bytes, c.code_bytes),
        ("component", rust.component_bytes, c.component_bytes),
    ] {
        row(
            &mut out,
            [what.into(), grouped(r), grouped(cc), ratio(cc, r)],
        );
    }
    out.push('\n');
    for call in &rust.calls {
        let Some(cc) = matching(c, call) else {
            continue;
        };
        let what = format!("{} {}", call.function, payload(call.payload));
        row(
            &mut out,
            [
                format!("{what:<12} fuel"),
                grouped(call.fuel),
                grouped(cc.fuel),
                ratio(cc.fuel, call.fuel),
            ],
        );
    }
    out
}

/// The wit-bindgen port, built in place (its Cargo.lock pins the crates) and wrapped.
fn theirs(ctx: &Context, builder: &Builder) -> Result<Guest, String> {
    let manifest = ctx.root.join(WIT_BINDGEN_FIXTURE).join("Cargo.toml");
    let version = pinned_wit_bindgen(&ctx.root).unwrap_or_else(|| "?".into());
    let source = format!("{WIT_BINDGEN_FIXTURE} (wit-bindgen {version}, `generate!`)");
    build(
        ctx,
        builder,
        "wit-bindgen",
        &manifest,
        "keystore-wit-bindgen",
        source,
    )
}

fn build(
    ctx: &Context,
    builder: &Builder,
    name: &'static str,
    manifest: &Path,
    package: &str,
    source: String,
) -> Result<Guest, String> {
    eprintln!("==> building {name}'s guest: {}", manifest.display());
    let log = ctx.dir.join(format!("guest-{name}.build.log"));
    builder.build(manifest, &log)?;
    let core = builder.core_module(package);
    let component = ctx.dir.join(format!("guest-{name}.wasm"));
    let args = [
        "new".as_ref(),
        core.as_os_str(),
        "-o".as_ref(),
        component.as_os_str(),
    ];
    run_quiet(&ctx.wcomp, &args, None)?;
    let bytes = fs::read(&core).map_err(io_err("cannot read", &core))?;
    Ok(Guest {
        name,
        source,
        core_bytes: bytes.len() as u64,
        code_bytes: section_sizes(&bytes)[CODE],
        component_bytes: file_size(&component),
        core,
        component,
        calls: Vec::new(),
    })
}

/// `call-cost` on one component, in the tests' (dev) profile so that wasmtime is not built
/// a second time.
fn call_cost(ctx: &Context, component: &Path) -> Result<Vec<Call>, String> {
    let mut cargo = crate::guests::cargo(&ctx.root);
    cargo.args(["run", "-q", "-p", "wcomp-tests", "--bin", "call-cost", "--"]);
    cargo.arg(component);
    cargo.args(["--sizes", SIZES, "--calls", &CALLS.to_string()]);
    eprintln!(
        "==> cargo run -q -p wcomp-tests --bin call-cost -- {} (the first run builds wasmtime)",
        component.display()
    );
    let out = cargo
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(format!("call-cost failed ({}):\n{stderr}", out.status));
    }
    let calls = parse_calls(&String::from_utf8_lossy(&out.stdout));
    if calls.is_empty() {
        return Err("call-cost printed no calls".into());
    }
    Ok(calls)
}

/// The cases of call-cost's JSON: one object a line, with flat fields.
fn parse_calls(json: &str) -> Vec<Call> {
    json.lines()
        .filter_map(|line| {
            let number = |key| field(line, key)?.parse().ok();
            Some(Call {
                function: field(line, "function")?.to_string(),
                payload: number("payload_bytes")?,
                fuel: number("fuel_median")?,
                fuel_min: number("fuel_min")?,
                fuel_max: number("fuel_max")?,
                wall_ns: number("wall_ns_median")?,
            })
        })
        .collect()
}

/// The value of `"key": value` in `line`, without quotes.
fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let at = line.find(&format!("\"{key}\": "))? + key.len() + 4;
    let rest = &line[at..];
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    Some(rest[..end].trim().trim_matches('"'))
}

/// `16 B`, `64 KiB`.
fn payload(bytes: u64) -> String {
    if bytes >= 1024 && bytes.is_multiple_of(1024) {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{bytes} B")
    }
}

/// `guest`'s call of the same function and payload as `call`.
fn matching<'a>(guest: &'a Guest, call: &Call) -> Option<&'a Call> {
    guest
        .calls
        .iter()
        .find(|c| c.function == call.function && c.payload == call.payload)
}

/// One line of the report's tables.
fn row(out: &mut String, [a, b, c, d]: [String; 4]) {
    let _ = writeln!(out, "{a:<22}{b:>12}{c:>14}{d:>9}");
}

fn report(guests: &[Guest], builder: &Builder) -> String {
    let mut out = String::from("\nguest: the keystore guest on each generator's bindings\n");
    for g in guests {
        let _ = writeln!(out, "  {:<12}{}", g.name, g.source);
    }
    let _ = writeln!(
        out,
        "  release profile (opt-level \"s\", panic=abort), wasm32 via {}\n",
        builder.route.describe()
    );
    let theirs = guests.get(1);
    let ours = &guests[0];
    let ratio = |a: f64, b: Option<f64>| match b {
        Some(b) if b > 0.0 => format!("{:.3}x", a / b),
        _ => String::new(),
    };
    let peer = theirs.map_or("", |t| t.name);
    let head = if theirs.is_some() { "ratio" } else { "" };
    row(
        &mut out,
        ["bytes".into(), ours.name.into(), peer.into(), head.into()],
    );
    let sizes = [
        ("core module", ours.core_bytes, theirs.map(|t| t.core_bytes)),
        (
            "  code section",
            ours.code_bytes,
            theirs.map(|t| t.code_bytes),
        ),
        (
            "component",
            ours.component_bytes,
            theirs.map(|t| t.component_bytes),
        ),
    ];
    for (what, size, theirs_size) in sizes {
        let cells = [
            what.into(),
            grouped(size),
            theirs_size.map_or(String::new(), grouped),
            ratio(size as f64, theirs_size.map(|s| s as f64)),
        ];
        row(&mut out, cells);
    }
    let _ = writeln!(
        out,
        "\nper call: fuel = wasm operators run + bytes moved by memory.copy/fill (deterministic; \
         median of {CALLS}); wall = median of {CALLS} calls on an unmetered engine, including \
         wasmtime's dynamic-value conversion (the same for both); `set` replaces the value of \
         one key, `get` reads it back, after a few warm-up calls\n"
    );
    for call in &ours.calls {
        let theirs_call = theirs.and_then(|t| matching(t, call));
        let what = format!("{} {}", call.function, payload(call.payload));
        let fuel = [
            format!("{what:<12} fuel"),
            grouped(call.fuel),
            theirs_call.map_or(String::new(), |c| grouped(c.fuel)),
            ratio(call.fuel as f64, theirs_call.map(|c| c.fuel as f64)),
        ];
        row(&mut out, fuel);
        let us = |c: &Call| format!("{:.1}", c.wall_ns as f64 / 1e3);
        let wall = [
            format!("{:<12} wall µs", ""),
            us(call),
            theirs_call.map_or(String::new(), us),
            ratio(call.wall_ns as f64, theirs_call.map(|c| c.wall_ns as f64)),
        ];
        row(&mut out, wall);
        for (g, c) in [(ours, Some(call)), (theirs.unwrap_or(ours), theirs_call)] {
            // Allocator state moves a call's fuel a little; say so when it is more than 1%.
            if let Some(c) = c.filter(|c| (c.fuel_max - c.fuel_min) * 100 > c.fuel) {
                let (min, max) = (c.fuel_min, c.fuel_max);
                let _ = writeln!(out, "  ({}: fuel varied from {min} to {max})", g.name);
            }
        }
    }
    let Some(theirs) = theirs else {
        out += "\nno ratio: wit-bindgen's guest was not built (see skipped)\n";
        return out;
    };
    let excess = ours.core_bytes as i64 - theirs.core_bytes as i64;
    let slower: Vec<String> = theirs
        .calls
        .iter()
        .filter_map(|t| {
            let o = matching(ours, t)?;
            (o.fuel > t.fuel).then(|| {
                let pct = (o.fuel as f64 / t.fuel as f64 - 1.0) * 100.0;
                format!("{} {} +{pct:.1}%", t.function, payload(t.payload))
            })
        })
        .collect();
    let _ = writeln!(
        out,
        "\ntargets: no bigger (core module {excess:+} B): {}; no slower (fuel, every call): {}",
        if excess <= 0 { "met" } else { "missed" },
        if slower.is_empty() {
            "met".to_string()
        } else {
            format!("missed ({})", slower.join(", "))
        }
    );
    out
}

fn write_json(
    ctx: &Context,
    guests: &[Guest],
    skipped: &[(String, String)],
    builder: Option<&Builder>,
) -> Result<(), String> {
    let peer = guests.iter().find(|g| g.name == "wit-bindgen");
    let mut entries = Vec::new();
    for g in guests {
        let calls: Vec<String> = g
            .calls
            .iter()
            .map(|c| {
                let theirs = peer.filter(|_| g.name == "wcomp");
                let ours_over_theirs = theirs
                    .and_then(|t| matching(t, c))
                    .map(|t| c.fuel as f64 / t.fuel as f64);
                let mut fields = vec![
                    ("function", json_str(&c.function)),
                    ("payload_bytes", c.payload.to_string()),
                    ("fuel_median", c.fuel.to_string()),
                    ("fuel_min", c.fuel_min.to_string()),
                    ("fuel_max", c.fuel_max.to_string()),
                    ("wall_ns_median", c.wall_ns.to_string()),
                ];
                if g.name == "wcomp" {
                    fields.push(("fuel_ratio_vs_wit_bindgen", json_num(ours_over_theirs)));
                }
                format!("        {}", json_object(&fields))
            })
            .collect();
        let fields = [
            ("name", json_str(g.name)),
            ("source", json_str(&g.source)),
            ("core_module", json_str(&g.core.display().to_string())),
            ("component", json_str(&g.component.display().to_string())),
            ("core_bytes", g.core_bytes.to_string()),
            ("code_section_bytes", g.code_bytes.to_string()),
            ("component_bytes", g.component_bytes.to_string()),
        ];
        let fields: Vec<String> = fields
            .iter()
            .map(|(k, v)| format!("\"{k}\": {v}"))
            .collect();
        entries.push(format!(
            "    {{\n      {},\n      \"calls\": [\n{}\n      ]\n    }}",
            fields.join(",\n      "),
            calls.join(",\n")
        ));
    }
    let skipped: Vec<String> = skipped
        .iter()
        .map(|(what, why)| json_object(&[("what", json_str(what)), ("why", json_str(why))]))
        .collect();
    let route = builder.map_or("null".into(), |b| json_str(&b.route.describe()));
    let size_ratio = match (guests.first(), peer) {
        (Some(ours), Some(theirs)) => Some(ours.core_bytes as f64 / theirs.core_bytes as f64),
        _ => None,
    };
    let text = format!(
        "{{\n  \"calls_per_case\": {CALLS},\n  \"route\": {route},\n  \
         \"core_size_ratio\": {},\n  \"guests\": [\n{}\n  ],\n  \"skipped\": [{}]\n}}\n",
        json_num(size_ratio),
        entries.join(",\n"),
        skipped.join(", ")
    );
    let json = ctx.dir.join("guest.json");
    fs::write(&json, text).map_err(io_err("cannot write", &json))?;
    eprintln!("==> wrote {}", json.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_call_cost_prints() {
        let json = "{\"component\": \"/x, y.wasm\", \"calls\": 20, \"cases\": [\n  \
            {\"function\": \"set\", \"payload_bytes\": 16, \"fuel_median\": 1969, \
            \"fuel_min\": 1956, \"fuel_max\": 1970, \"wall_ns_median\": 3578},\n  \
            {\"function\": \"get\", \"payload_bytes\": 65536, \"fuel_median\": 67391, \
            \"fuel_min\": 67391, \"fuel_max\": 67391, \"wall_ns_median\": 1672737}\n]}\n";
        let calls = parse_calls(json);
        assert_eq!(calls.len(), 2);
        assert_eq!(
            calls[0],
            Call {
                function: "set".into(),
                payload: 16,
                fuel: 1969,
                fuel_min: 1956,
                fuel_max: 1970,
                wall_ns: 3578,
            }
        );
        assert_eq!((calls[1].payload, calls[1].fuel), (65536, 67391));
        assert_eq!(payload(65536), "64 KiB");
        assert_eq!(payload(16), "16 B");
    }
}
