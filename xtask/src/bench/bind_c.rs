//! `cargo xtask bench bind`, its C half: `wcomp bind --lang c` against `wit-bindgen c` (when
//! installed) on the same worlds as the Rust half:
//!
//! - the generated lines and bytes of the header and the source (the component type is
//!   counted apart: wcomp writes it as a C file, wit-bindgen as an object file), and the
//!   median time to generate them;
//! - the median time of `clang-16 -O2 -c` of the generated `.c` files (the user's build of the
//!   bindings), when the C toolchain is here.
//!
//! Written to `target/bench/bind-c.json`.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::Context;
use super::bind::WORLDS;
use super::measure::{
    Stats, Tool, io_err, json_num, json_object, json_str, measure_command, stats, stats_of,
    timed_runs, warm_up,
};
use super::wasm32::{WitBindgen, find_wit_bindgen};
use crate::c_toolchain::{self, CRoute};

/// Compiles are quick but not free: at most this many timed ones per generator.
const COMPILE_RUNS: usize = 3;

/// One generator's output for one world.
struct Row {
    name: &'static str,
    version: String,
    generate: Stats,
    /// Lines and bytes of the header and source files.
    lines: usize,
    bytes: u64,
    /// Lines of the component type, when it is source.
    type_lines: Option<usize>,
    compile: Option<Stats>,
}

pub fn run(ctx: &Context) -> Result<(), String> {
    let peer = find_wit_bindgen()
        .map_err(|why| eprintln!("==> skipping wit-bindgen c: {why}"))
        .ok();
    let clang = c_toolchain::detect()
        .map_err(|why| eprintln!("==> skipping the C compiles: {why}"))
        .ok();
    let mut worlds = Vec::new();
    for world in WORLDS {
        let rows = bench_world(
            ctx,
            world.label,
            world.wit,
            world.world,
            peer.as_ref(),
            clang.as_ref(),
        )?;
        print!("{}", report(world.label, &rows));
        worlds.push((world.label, rows));
    }
    let json = ctx.dir.join("bind-c.json");
    fs::write(
        &json,
        to_json(&worlds, ctx.runs, peer.is_some(), clang.as_ref()),
    )
    .map_err(io_err("cannot write", &json))?;
    eprintln!("==> wrote {}", json.display());
    Ok(())
}

fn bench_world(
    ctx: &Context,
    label: &str,
    wit: &str,
    world: &str,
    peer: Option<&WitBindgen>,
    clang: Option<&CRoute>,
) -> Result<Vec<Row>, String> {
    let wit = ctx.root.join(wit);
    let dir = |name: &str| ctx.dir.join(format!("bind-c-{label}-{name}"));
    eprintln!("==> C bindings of the {label} world");
    let mut tools = Vec::new();
    let mut args: Vec<OsString> = vec!["bind".into(), wit.clone().into()];
    args.extend(["--world", world, "--lang", "c", "--out-dir"].map(OsString::from));
    args.push(dir("wcomp").into());
    tools.push(Tool::new("wcomp", ctx.wcomp.clone(), args, &dir("wcomp")));
    if let Some(peer) = peer {
        let mut args: Vec<OsString> = vec!["c".into(), wit.clone().into()];
        args.extend(["--world".into(), world.into(), "--out-dir".into()]);
        args.push(dir("wit-bindgen").into());
        tools.push(Tool::new(
            "wit-bindgen",
            peer.program.clone(),
            args,
            &dir("wit-bindgen"),
        ));
    }
    for name in ["wcomp", "wit-bindgen"] {
        let _ = fs::remove_dir_all(dir(name));
        fs::create_dir_all(dir(name)).map_err(io_err("cannot create", &dir(name)))?;
    }
    warm_up(&mut tools)?;
    timed_runs(&mut tools, ctx.runs, &format!(" (C, {label})"))?;
    let mut rows = Vec::new();
    for tool in &tools {
        let out = dir(tool.name);
        let (mut lines, mut bytes, mut type_lines) = (0, 0, None);
        let mut sources = Vec::new();
        for (name, text) in files(&out)? {
            if name.ends_with("_component_type.c") {
                type_lines = Some(text.lines().count());
                sources.push(out.join(&name));
            } else if name.ends_with(".h") || name.ends_with(".c") {
                lines += text.lines().count();
                bytes += text.len() as u64;
                if name.ends_with(".c") {
                    sources.push(out.join(&name));
                }
            }
        }
        let compile = match clang {
            Some(c) => Some(time_compiles(c, &out, &sources)?),
            None => None,
        };
        rows.push(Row {
            name: tool.name,
            version: tool.version.clone(),
            generate: stats(tool),
            lines,
            bytes,
            type_lines,
            compile,
        });
    }
    Ok(rows)
}

/// The text files of `dir`, by name (object files are skipped).
fn files(dir: &Path) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir)
        .map_err(io_err("cannot read", dir))?
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Ok(text) = fs::read_to_string(entry.path()) {
            out.push((name, text));
        }
    }
    out.sort();
    Ok(out)
}

/// `clang -O2 -c` of `sources` (with `dir` on the include path), timed.
fn time_compiles(c: &CRoute, dir: &Path, sources: &[PathBuf]) -> Result<Stats, String> {
    let log = dir.join("compile.stderr");
    let command = || {
        let mut cmd = Command::new(&c.clang);
        cmd.arg("--target=wasm32-wasi");
        if let Some(sysroot) = &c.sysroot {
            cmd.arg(format!("--sysroot={}", sysroot.display()));
        }
        cmd.args(["-std=c11", "-O2", "-c", "-I"])
            .arg(dir)
            .args(sources)
            .current_dir(dir);
        cmd
    };
    // A warm-up, then the timed compiles.
    measure_command(&mut command(), &log, "clang -c (warm-up)")?;
    let mut samples = Vec::new();
    for _ in 0..COMPILE_RUNS {
        samples.push(measure_command(&mut command(), &log, "clang -c")?);
    }
    Ok(stats_of(&samples, 0))
}

fn ms(seconds: f64) -> String {
    format!("{:.1}", seconds * 1e3)
}

fn report(label: &str, rows: &[Row]) -> String {
    let mut out = format!(
        "\nbind (C): the {label} world (lines and bytes of .h + .c; generate and compile: medians, ms)\n"
    );
    let _ = writeln!(
        out,
        "  {:<12}{:>8}{:>10}{:>12}{:>12}{:>14}",
        "", "lines", "bytes", "generate", "clang -c", "type lines"
    );
    for r in rows {
        let _ = writeln!(
            out,
            "  {:<12}{:>8}{:>10}{:>12}{:>12}{:>14}",
            r.name,
            r.lines,
            r.bytes,
            ms(r.generate.median),
            r.compile.as_ref().map_or("-".into(), |s| ms(s.median)),
            r.type_lines.map_or("(object)".into(), |n| n.to_string()),
        );
    }
    if let [ours, theirs] = rows {
        let _ = writeln!(
            out,
            "  ratio       {:>8.3}{:>10.3}{:>12.3}{:>12}",
            ours.lines as f64 / theirs.lines as f64,
            ours.bytes as f64 / theirs.bytes as f64,
            ours.generate.median / theirs.generate.median,
            match (&ours.compile, &theirs.compile) {
                (Some(a), Some(b)) => format!("{:.3}", a.median / b.median),
                _ => "-".into(),
            }
        );
    } else {
        out.push_str("  (no ratio: wit-bindgen is not installed)\n");
    }
    out
}

fn to_json(worlds: &[(&str, Vec<Row>)], runs: usize, peer: bool, clang: Option<&CRoute>) -> String {
    let entries: Vec<String> = worlds
        .iter()
        .map(|(label, rows)| {
            let rows: Vec<String> = rows
                .iter()
                .map(|r| {
                    json_object(&[
                        ("generator", json_str(r.name)),
                        ("version", json_str(&r.version)),
                        ("lines", r.lines.to_string()),
                        ("bytes", r.bytes.to_string()),
                        (
                            "component_type_lines",
                            r.type_lines.map_or("null".into(), |n| n.to_string()),
                        ),
                        ("generate_s_median", json_num(Some(r.generate.median))),
                        (
                            "compile_s_median",
                            json_num(r.compile.as_ref().map(|s| s.median)),
                        ),
                    ])
                })
                .collect();
            format!(
                "    {{\"world\": {}, \"rows\": [\n      {}\n    ]}}",
                json_str(label),
                rows.join(",\n      ")
            )
        })
        .collect();
    format!(
        "{{\n  \"runs\": {runs},\n  \"wit_bindgen\": {peer},\n  \"clang\": {},\n  \"worlds\": [\n{}\n  ]\n}}\n",
        clang.map_or("null".into(), |c| json_str(&c.describe())),
        entries.join(",\n")
    )
}
