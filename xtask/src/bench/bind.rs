//! `cargo xtask bench bind`: how compact `wcomp bind --lang rust` output is (and, in
//! `bind_c`, `--lang c`), against
//! `wit-bindgen rust` (when installed), for the keystore world and for a large one, the WASI
//! 0.2 `wasi:cli/command` world vendored in `fixtures/wasi`:
//!
//! - the generated lines and bytes, and the median time to generate them;
//! - the time of `cargo build --release` for wasm32 of a crate whose `src/lib.rs` is the
//!   generator's `--stubs` output (bindings plus a stub of every export). Each timed build
//!   follows a touch of `src/lib.rs`, so that only that crate recompiles: std (build-std)
//!   and wit-bindgen's runtime crate are built by the warm-up build and not timed.
//!
//! wit-bindgen runs with `--format` (its output is then formatted Rust, as wcomp's is) and
//! `--generate-all` (which it needs for interfaces from other packages). Written to
//! `target/bench/bind.json`.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use super::Context;
use super::measure::{
    Sample, Stats, Tool, bytes, dur, io_err, json_num, json_object, json_str, mb, run_quiet, stats,
    stats_of, timed_runs, tool_json, warm_up,
};
use super::wasm32::{
    Builder, WIT_BINDGEN_FIXTURE, WitBindgen, find_wit_bindgen, only_rs_file, pinned_wit_bindgen,
    touch, write_if_changed, write_manifest,
};

/// Builds are slow (seconds each): at most this many timed ones per crate.
const BUILD_RUNS: usize = 3;
/// Timing noise allowed before "no slower" counts as missed (as in the other benches).
const NOISE: f64 = 1.02;

/// A world to bind: `wit` relative to the workspace root.
pub(super) struct World {
    pub label: &'static str,
    pub wit: &'static str,
    pub world: &'static str,
}

/// The worlds of both halves, Rust (here) and C (`bind_c`).
pub(super) const WORLDS: &[World] = &[
    World {
        label: "keystore",
        wit: "wit",
        world: "keystore",
    },
    World {
        label: "wasi-command",
        wit: "fixtures/wasi",
        world: "command",
    },
];

/// The row of `wcomp bind --rustfmt`: the same bindings piped through rustfmt, which
/// costs most of the time and changes the line count (not built: the same code).
const FORMATTED: &str = "wcomp --rustfmt";

/// One generator on one world.
struct Row {
    tool: Tool,
    stats: Stats,
    lines: usize,
    build: Build,
}

enum Build {
    Timed(Stats),
    /// Why the build was skipped.
    Skipped(String),
    /// Not built: the same code as another row, or no wasm32 toolchain.
    NotBuilt,
}

struct Outcome {
    world: &'static World,
    rows: Vec<Row>,
}

pub fn run(ctx: &Context) -> Result<(), String> {
    let mut skipped: Vec<(String, String)> = Vec::new();
    let mut skip = |what: &str, why: String| {
        eprintln!("==> skipping {what}: {why}");
        skipped.push((what.to_string(), why));
    };
    let peer = find_wit_bindgen()
        .map_err(|why| skip("wit-bindgen", why))
        .ok();
    let builder = Builder::new(ctx)
        .map_err(|why| skip("the builds (no wasm32 toolchain)", why))
        .ok();
    let runs = ctx.runs.min(BUILD_RUNS);
    let mut outcomes = Vec::new();
    for world in WORLDS {
        let outcome = bench_world(ctx, world, peer.as_ref(), builder.as_ref(), runs)?;
        for row in &outcome.rows {
            if let Build::Skipped(why) = &row.build {
                skip(
                    &format!("the build of {}'s {}", row.tool.name, world.label),
                    why.clone(),
                );
            }
        }
        print!("{}", report(&outcome, ctx.runs, runs));
        outcomes.push(outcome);
    }
    println!("\n{}", about_builds(builder.as_ref(), runs));
    if !skipped.is_empty() {
        println!("\nskipped:");
        for (what, why) in &skipped {
            let why = why.lines().next().unwrap_or_default();
            println!("  {what}: {why}");
        }
    }
    let json = ctx.dir.join("bind.json");
    let text = to_json(&outcomes, &skipped, ctx.runs, runs, builder.as_ref());
    fs::write(&json, text).map_err(io_err("cannot write", &json))?;
    eprintln!("==> wrote {}", json.display());
    super::bind_c::run(ctx)
}

/// What the build column times, for the report.
fn about_builds(builder: Option<&Builder>, runs: usize) -> String {
    let Some(b) = builder else {
        return "build: not timed (no wasm32 toolchain)".into();
    };
    format!(
        "build: `cargo build --release` for wasm32 ({}) of a crate whose src/lib.rs is the \
         generator's `--stubs` output; median of {runs} builds after 1 warm-up, each after a \
         touch of src/lib.rs, so that only that crate recompiles (std and the wit-bindgen \
         runtime crate are built in the warm-up, not timed); cpu includes rustc's",
        b.route.describe()
    )
}

fn bench_world(
    ctx: &Context,
    world: &'static World,
    peer: Option<&WitBindgen>,
    builder: Option<&Builder>,
    build_runs: usize,
) -> Result<Outcome, String> {
    let wit = ctx.root.join(world.wit);
    // `target/bench/bind-keystore-wcomp.rs`, `...-wit-bindgen/` and so on.
    let path = |suffix: &str| ctx.dir.join(format!("bind-{}-{suffix}", world.label));
    eprintln!(
        "==> {} world: {} --world {}",
        world.label, world.wit, world.world
    );

    let mut tools = Vec::new();
    let mut args: Vec<OsString> = vec!["bind".into(), wit.clone().into()];
    args.extend(["--world", world.world, "--lang", "rust", "-o"].map(OsString::from));
    args.push(path("wcomp.rs").into());
    let mut tool = Tool::new("wcomp", ctx.wcomp.clone(), args.clone(), &path("wcomp"));
    tool.output = path("wcomp.rs");
    tools.push(tool);
    args.pop();
    args.push(path("wcomp-rustfmt.rs").into());
    args.push("--rustfmt".into());
    let mut tool = Tool::new(FORMATTED, ctx.wcomp.clone(), args, &path("wcomp-rustfmt"));
    tool.output = path("wcomp-rustfmt.rs");
    tools.push(tool);
    if let Some(peer) = peer {
        let out = path("wit-bindgen");
        // A fresh folder, so that the one file in it after the warm-up is the output.
        let _ = fs::remove_dir_all(&out);
        fs::create_dir_all(&out).map_err(io_err("cannot create", &out))?;
        let mut args: Vec<OsString> = ["rust", "--format", "--generate-all"]
            .map(Into::into)
            .into();
        args.extend([wit.clone().into(), "--world".into(), world.world.into()]);
        args.extend(["--out-dir".into(), out.clone().into()]);
        tools.push(Tool::new("wit-bindgen", peer.program.clone(), args, &out));
    }
    warm_up(&mut tools)?;
    if let Some(tool) = tools.iter_mut().find(|t| t.name == "wit-bindgen") {
        tool.output = only_rs_file(&path("wit-bindgen"))?;
    }
    timed_runs(&mut tools, ctx.runs, &format!(" ({})", world.label))?;

    let mut rows = Vec::new();
    for tool in tools {
        let text = fs::read_to_string(&tool.output).map_err(io_err("cannot read", &tool.output))?;
        let build = match builder {
            _ if tool.name == FORMATTED => Build::NotBuilt,
            Some(b) => {
                let krate = path(&format!("{}-crate", tool.name));
                let built = stub_crate(ctx, world, &tool, peer, &krate)
                    .and_then(|manifest| time_builds(b, &manifest, build_runs));
                // Only the peer may fail to build (its runtime crate may not download).
                match built {
                    Ok(stats) => Build::Timed(stats),
                    Err(why) if tool.name == "wcomp" => {
                        return Err(format!("the stubs of {} did not build: {why}", world.label));
                    }
                    Err(why) => Build::Skipped(why),
                }
            }
            // Said once, in `run`.
            None => Build::NotBuilt,
        };
        rows.push(Row {
            stats: stats(&tool),
            lines: text.lines().count(),
            tool,
            build,
        });
    }
    Ok(Outcome { world, rows })
}

/// Writes the crate of `tool`'s `--stubs` output for `world` into `dir`; its manifest.
fn stub_crate(
    ctx: &Context,
    world: &World,
    tool: &Tool,
    peer: Option<&WitBindgen>,
    dir: &Path,
) -> Result<PathBuf, String> {
    let name = format!("bench-stubs-{}-{}", world.label, tool.name);
    let wit = ctx.root.join(world.wit);
    let lib = dir.join("src").join("lib.rs");
    let (stubs, dependencies) = match peer.filter(|_| tool.name == "wit-bindgen") {
        None => {
            let out = dir.join("stubs.rs");
            fs::create_dir_all(dir).map_err(io_err("cannot create", dir))?;
            let args = [
                "bind".as_ref(),
                wit.as_os_str(),
                "--world".as_ref(),
                world.world.as_ref(),
                "--lang".as_ref(),
                "rust".as_ref(),
                "--stubs".as_ref(),
                "-o".as_ref(),
                out.as_os_str(),
            ];
            run_quiet(&ctx.wcomp, &args, None)?;
            (out, String::new())
        }
        Some(peer) => {
            let out = dir.join("stubs");
            let _ = fs::remove_dir_all(&out);
            fs::create_dir_all(&out).map_err(io_err("cannot create", &out))?;
            let mut args: Vec<&std::ffi::OsStr> = ["rust", "--format", "--generate-all", "--stubs"]
                .map(AsRef::as_ref)
                .into();
            args.extend([wit.as_os_str(), "--world".as_ref(), world.world.as_ref()]);
            args.extend(["--out-dir".as_ref(), out.as_os_str()]);
            run_quiet(&peer.program, &args, None)?;
            // The runtime crate of the same release as the CLI.
            let version = &peer.version;
            let lock = ctx.root.join(WIT_BINDGEN_FIXTURE).join("Cargo.lock");
            if pinned_wit_bindgen(&ctx.root).as_deref() == Some(version.as_str())
                && !dir.join("Cargo.lock").is_file()
            {
                // The fixture's resolution: nothing new to download.
                let copied = fs::copy(&lock, dir.join("Cargo.lock"));
                copied.map_err(io_err("cannot copy", &lock))?;
            }
            let dependency = format!("wit-bindgen = \"={version}\"\n");
            (only_rs_file(&out)?, dependency)
        }
    };
    let manifest = write_manifest(dir, &name, &dependencies)?;
    let text = fs::read(&stubs).map_err(io_err("cannot read", &stubs))?;
    write_if_changed(&lib, &text)?;
    Ok(manifest)
}

/// One warm-up build, then `runs` timed builds, each after a touch of `src/lib.rs`.
fn time_builds(builder: &Builder, manifest: &Path, runs: usize) -> Result<Stats, String> {
    let dir = manifest.parent().unwrap_or(Path::new("."));
    let (lib, log) = (dir.join("src").join("lib.rs"), dir.join("build.log"));
    eprintln!("==> warm-up build: {}", manifest.display());
    builder.build(manifest, &log)?;
    let mut samples: Vec<Sample> = Vec::new();
    for run in 1..=runs {
        touch(&lib)?;
        let sample = builder.build(manifest, &log)?;
        let wall = sample.wall.as_secs_f64();
        eprintln!("==> build {run}/{runs}: {} {wall:.3}s", dir.display());
        samples.push(sample);
    }
    Ok(stats_of(&samples, 0))
}

/// wcomp's value over wit-bindgen's.
fn ratio(ours: f64, theirs: f64) -> Option<f64> {
    (theirs > 0.0).then(|| ours / theirs)
}

/// (lines, bytes, generate time, build time) ratios of wcomp's row over wit-bindgen's, when
/// wit-bindgen ran.
fn ratios(o: &Outcome) -> Option<[Option<f64>; 4]> {
    let row = |name| o.rows.iter().find(|r| r.tool.name == name);
    let (ours, theirs) = (row("wcomp")?, row("wit-bindgen")?);
    let build = match (&ours.build, &theirs.build) {
        (Build::Timed(a), Build::Timed(b)) => ratio(a.median, b.median),
        _ => None,
    };
    Some([
        ratio(ours.lines as f64, theirs.lines as f64),
        ratio(ours.stats.output as f64, theirs.stats.output as f64),
        ratio(ours.stats.median, theirs.stats.median),
        build,
    ])
}

fn report(o: &Outcome, runs: usize, build_runs: usize) -> String {
    let w = o.world;
    let mut out = format!(
        "\n{} world ({} --world {}): generate {runs} runs after 1 warm-up, build {build_runs}\n\n",
        w.label, w.wit, w.world
    );
    let mut line = |[a, b, c, d, e, f, g]: [String; 7]| {
        let _ = writeln!(out, "{a:<19}{b:>8}{c:>13}{d:>10}{e:>10}{f:>11}{g:>10}");
    };
    let head = [
        "generator",
        "lines",
        "bytes",
        "generate",
        "build",
        "build cpu",
        "peak RSS",
    ];
    line(head.map(String::from));
    for row in &o.rows {
        let (build, cpu, rss) = match &row.build {
            Build::Timed(s) => (
                dur(s.median),
                s.cpu.map_or("-".into(), dur),
                s.rss_kib.map_or("-".into(), |k| mb(k * 1024)),
            ),
            Build::Skipped(_) | Build::NotBuilt => ("-".into(), "-".into(), "-".into()),
        };
        line([
            row.tool.name.into(),
            row.lines.to_string(),
            bytes(row.stats.output),
            dur(row.stats.median),
            build,
            cpu,
            rss,
        ]);
    }
    out.push('\n');
    for t in o
        .rows
        .iter()
        .map(|r| &r.tool)
        .filter(|t| t.name != FORMATTED)
    {
        let (name, version, program) = (t.name, &t.version, t.program.display());
        let _ = writeln!(out, "{name:<19}{version}  ({program})");
    }
    let _ = writeln!(
        out,
        "({FORMATTED}: the same bindings piped through rustfmt, as `--rustfmt` asks; \
         not built: the same code, laid out by rustfmt)"
    );
    let Some([lines, size, time, build]) = ratios(o) else {
        out += "no ratio: wit-bindgen did not run (see skipped)\n";
        return out;
    };
    let x = |r: Option<f64>| r.map_or("-".into(), |r| format!("{r:.2}x"));
    let _ = writeln!(
        out,
        "wcomp/wit-bindgen: {} lines, {} bytes, {} generate time, {} build time",
        x(lines),
        x(size),
        x(time),
        x(build)
    );
    let verdict = |met: Option<bool>| match met {
        Some(true) => "met",
        Some(false) => "missed",
        None => "not judged",
    };
    let _ = writeln!(
        out,
        "targets: no more lines than wit-bindgen: {}; no slower build: {}",
        verdict(lines.map(|r| r <= 1.0)),
        verdict(build.map(|r| r <= NOISE))
    );
    out
}

fn to_json(
    outcomes: &[Outcome],
    skipped: &[(String, String)],
    runs: usize,
    build_runs: usize,
    builder: Option<&Builder>,
) -> String {
    let mut worlds = Vec::new();
    for o in outcomes {
        let mut rows = Vec::new();
        for row in &o.rows {
            let mut fields = tool_json(&row.tool, &row.stats);
            fields.push(("lines", row.lines.to_string()));
            let build = match &row.build {
                Build::Timed(s) => json_object(&[
                    ("median_s", json_num(Some(s.median))),
                    ("min_s", json_num(Some(s.min))),
                    ("cpu_median_s", json_num(s.cpu)),
                    (
                        "peak_rss_kib",
                        s.rss_kib.map_or("null".into(), |k| k.to_string()),
                    ),
                ]),
                Build::Skipped(why) => json_object(&[("skipped", json_str(why))]),
                Build::NotBuilt => "null".into(),
            };
            fields.push(("build", build));
            rows.push(format!("        {}", json_object(&fields)));
        }
        let r = ratios(o).unwrap_or([None; 4]);
        let w = o.world;
        let fields = [
            ("label", json_str(w.label)),
            ("wit", json_str(w.wit)),
            ("world", json_str(w.world)),
            ("ratio_lines", json_num(r[0])),
            ("ratio_bytes", json_num(r[1])),
            ("ratio_generate_time", json_num(r[2])),
            ("ratio_build_time", json_num(r[3])),
        ];
        let fields: Vec<String> = fields
            .iter()
            .map(|(k, v)| format!("\"{k}\": {v}"))
            .collect();
        worlds.push(format!(
            "    {{\n      {},\n      \"generators\": [\n{}\n      ]\n    }}",
            fields.join(",\n      "),
            rows.join(",\n")
        ));
    }
    let skipped: Vec<String> = skipped
        .iter()
        .map(|(what, why)| json_object(&[("what", json_str(what)), ("why", json_str(why))]))
        .collect();
    let route = builder.map_or("null".into(), |b| json_str(&b.route.describe()));
    format!(
        "{{\n  \"runs\": {runs},\n  \"build_runs\": {build_runs},\n  \"build_route\": {route},\n  \
         \"worlds\": [\n{}\n  ],\n  \"skipped\": [{}]\n}}\n",
        worlds.join(",\n"),
        skipped.join(", ")
    )
}
