//! No input makes `wcomp new`, `wcomp embed`, `wcomp inspect` or
//! `wcomp compose` (as the app or as a dependency) panic, hang,
//! or write an output when it fails: a seeded loop feeds them a few hundred
//! mutated modules and components (byte flips, truncations, spliced,
//! duplicated and zeroed ranges, overlong LEBs), and each run must end in
//! exit 0 (with a wasm output) or exit 1 (with a diagnostic and no output).
//! Inputs that break this are saved under `target/mutate-wasm-failures/`.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use wcomp_tests::{text, wcomp, wcomp_bin, workspace_root};

/// The generator's seed; `MUTATE_WASM_SEED=0x...` explores other inputs.
const SEED: u64 = 0xe3485;
const CASES: usize = 320;
const WORKERS: usize = 3;
/// A run that takes longer than this hangs.
const DEADLINE: Duration = Duration::from_secs(20);
const SENTINEL: &[u8] = b"sentinel: a failed run must leave this file alone\n";

const WIT: &str = "package wcomp:m@0.1.0;
interface api { add: func(a: s32, b: s32) -> s32; greet: func(name: string) -> string; }
world m { export api; }
world user { import api; export run: func() -> s32; }
";

/// Implements world `user`: `run` calls the imported `add`, so composing it
/// with the `m` component plugs something.
const USER_WAT: &str = r#"(module
  (import "wcomp:m/api@0.1.0" "add" (func $add (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
  (func (export "run") (result i32) (call $add (i32.const 2) (i32.const 3))))
"#;

const EMPTY_WIT: &str = "package wcomp:e;\n\nworld empty {}\n";

/// Implements world `m`: a bump allocator, `add`, and `greet` (which returns
/// its argument through the return area at 16).
const MODULE_WAT: &str = r#"(module
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $ptr i32)
    (local.set $ptr (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (local.get 3)))
    (local.get $ptr))
  (func (export "wcomp:m/api@0.1.0#add") (param i32 i32) (result i32)
    (i32.add (local.get 0) (local.get 1)))
  (func (export "wcomp:m/api@0.1.0#greet") (param i32 i32) (result i32)
    (i32.store (i32.const 16) (local.get 0))
    (i32.store offset=4 (i32.const 16) (local.get 1))
    (i32.const 16))
  (data (i32.const 64) "hello"))
"#;

/// A WASI preview 1 command: `new` wraps it with the bundled adapter.
const WASIP1_WAT: &str = r#"(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 64) "hello from wasip1\n")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 64))
    (i32.store (i32.const 4) (i32.const 18))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))
"#;

/// A small deterministic generator (splitmix64), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// A range of at most `max` bytes inside `lo..hi`.
    fn range(&mut self, (lo, hi): (usize, usize), max: usize) -> (usize, usize) {
        let start = lo + self.below(hi - lo + 1);
        (start, (start + self.below(max + 1)).min(hi))
    }
}

struct Seed {
    name: &'static str,
    bytes: Vec<u8>,
    /// A core module, so `new --wit` applies too.
    core: bool,
}

/// Reads a LEB128 number at `*pos`, moving past it.
fn leb(bytes: &[u8], pos: &mut usize) -> Option<usize> {
    let mut value = 0;
    for shift in (0..35).step_by(7) {
        let byte = *bytes.get(*pos)?;
        *pos += 1;
        value |= usize::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return Some(value);
        }
    }
    None
}

/// The top-level sections of a wasm binary, as far as they parse:
/// (id, start, payload start, end).
fn sections(bytes: &[u8]) -> Vec<(u8, usize, usize, usize)> {
    let (mut found, mut pos) = (Vec::new(), 8);
    while bytes.starts_with(b"\0asm") && pos < bytes.len() {
        let (id, start) = (bytes[pos], pos);
        pos += 1;
        match leb(bytes, &mut pos).map(|size| pos + size) {
            Some(end) if end <= bytes.len() => found.push((id, start, pos, end)),
            _ => break,
        }
        pos = found.last().unwrap().3;
    }
    found
}

/// `module` without its `component-type` custom sections.
fn strip_world(module: &[u8]) -> Vec<u8> {
    let mut out = module[..8].to_vec();
    for (id, start, payload, end) in sections(module) {
        if id != 0 || !module[payload..end].starts_with(b"\x0ecomponent-type") {
            out.extend_from_slice(&module[start..end]);
        }
    }
    out
}

/// One mutation of `input`, half the time inside one section (a custom one
/// as often as not, where a change is likeliest to get past the parser);
/// returns what it did, for failure messages.
fn mutate(input: &mut Vec<u8>, seeds: &[Seed], rng: &mut Rng) -> String {
    let secs = sections(input);
    let custom: Vec<_> = secs.iter().filter(|s| s.0 == 0 && s.3 > s.2).collect();
    let window = match rng.below(4) {
        2 if !custom.is_empty() => {
            let s = custom[rng.below(custom.len())];
            (s.2, s.3)
        }
        2 | 3 if !secs.is_empty() => {
            let s = secs[rng.below(secs.len())];
            (s.1, s.3)
        }
        _ => (0, input.len()),
    };
    let (lo, hi) = window;
    if hi == lo {
        return "nothing (empty)".into();
    }
    let what = match rng.below(6) {
        0 => {
            let at: Vec<usize> = (0..1 + rng.below(8))
                .map(|_| lo + rng.below(hi - lo))
                .collect();
            for &i in &at {
                input[i] ^= [1 << rng.below(8), 1 + rng.below(255) as u8][rng.below(2)];
            }
            format!("flip bytes at {at:?}")
        }
        1 => {
            let at = lo + rng.below(hi - lo);
            input.truncate(at);
            format!("truncate at {at}")
        }
        2 => {
            let other = &seeds[rng.below(seeds.len())];
            let (from, to) = rng.range((0, other.bytes.len()), 64);
            let (start, end) = rng.range(window, 16);
            input.splice(start..end, other.bytes[from..to].iter().copied());
            format!("replace {start}..{end} with {from}..{to} of {}", other.name)
        }
        3 => {
            let (start, end) = rng.range(window, 48);
            let at = rng.range(window, 0).0;
            let copy = input[start..end].to_vec();
            input.splice(at..at, copy);
            format!("copy {start}..{end} to {at}")
        }
        4 => {
            let (start, end) = rng.range(window, 32);
            input[start..end].fill(0);
            format!("zero {start}..{end}")
        }
        _ => {
            // A byte below 0x80 ends a LEB128 number: 0xff makes it run on.
            let ends: Vec<usize> = (lo..hi).filter(|&i| input[i] < 0x80).collect();
            let at: Vec<usize> = (0..1 + rng.below(3).min(ends.len()))
                .filter_map(|_| ends.get(rng.below(ends.len())).copied())
                .collect();
            at.iter().for_each(|&i| input[i] = 0xff);
            format!("set LEB-looking bytes at {at:?} to 0xff")
        }
    };
    format!("{what} (in {lo}..{hi})")
}

/// Runs `wcomp args` in `dir` and panics unless it succeeds: seeds must be valid.
fn run_ok(dir: &Path, args: &str) {
    let out = wcomp(args.split(' '), dir).output().unwrap();
    let (status, stderr) = (out.status, text(&out.stderr));
    assert!(status.success(), "seed `wcomp {args}`: {status}\n{stderr}");
}

fn build_seeds(dir: &Path) -> Vec<Seed> {
    let files = [
        ("w.wit", WIT),
        ("empty.wit", EMPTY_WIT),
        ("module.wat", MODULE_WAT),
        ("wasip1.wat", WASIP1_WAT),
        ("user.wat", USER_WAT),
    ];
    for (name, contents) in files {
        fs::write(dir.join(name), contents).unwrap();
    }
    run_ok(dir, "embed module.wat --wit w.wit --world m -o core.wasm");
    run_ok(dir, "new core.wasm -o component.wasm");
    run_ok(dir, "new user.wat --wit w.wit --world user -o user.wasm");
    run_ok(
        dir,
        "compose user.wasm --with component.wasm -o composed.wasm",
    );
    run_ok(dir, "embed wasip1.wat --wit empty.wit -o e.wasm");
    let read = |name: &str| fs::read(dir.join(name)).unwrap();
    fs::write(dir.join("plain.wasm"), strip_world(&read("core.wasm"))).unwrap();
    fs::write(dir.join("wasip1.wasm"), strip_world(&read("e.wasm"))).unwrap();
    run_ok(dir, "new plain.wasm --wit w.wit --world m -o p.wasm");
    run_ok(dir, "new wasip1.wasm -o wasip1-component.wasm");
    for name in ["plain.wasm", "wasip1.wasm"] {
        assert!(!read(name).windows(14).any(|w| w == b"component-type"));
    }
    let mut seeds = Vec::new();
    for (name, core) in [
        ("core.wasm", true),
        ("component.wasm", false),
        ("plain.wasm", true),
        ("wasip1.wasm", true),
        ("wasip1-component.wasm", false),
        ("module.wat", true),
        ("user.wasm", false),
        ("composed.wasm", false),
    ] {
        run_ok(dir, &format!("inspect {name}"));
        let bytes = read(name);
        seeds.push(Seed { name, bytes, core });
    }
    seeds
}

/// The commands run on each mutant (`{}` is its name; `..` holds `w.wit`).
/// `new --wit` is for core modules only.
const RUNS: &[(&str, &str)] = &[
    ("inspect", "inspect {}"),
    ("new", "new {} -o out-new.wasm"),
    (
        "embed",
        "embed {} --wit ../w.wit --world m -o out-embed.wasm",
    ),
    (
        "new --wit",
        "new {} --wit ../w.wit --world m -o out-new-wit.wasm",
    ),
    (
        "compose app",
        "compose {} --with ../component.wasm -o out-compose.wasm",
    ),
    (
        "compose dep",
        "compose ../user.wasm --with {} -o out-compose-dep.wasm",
    ),
];

type Stats = BTreeMap<&'static str, [usize; 2]>;

/// Runs `wcomp args` in `dir`, stdout and stderr beside it; `None` if it
/// is still running at the deadline (then it is killed).
fn run_with_deadline(dir: &Path, args: &[&str]) -> Option<(ExitStatus, String)> {
    let file = |ext| Stdio::from(File::create(dir.with_extension(ext)).unwrap());
    let mut cmd = wcomp(args, dir);
    let mut child = cmd
        .stdout(file("out"))
        .stderr(file("err"))
        .spawn()
        .expect("cannot run wcomp");
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        thread::sleep(Duration::from_millis(2));
    };
    Some((status, text(&fs::read(dir.with_extension("err")).unwrap())))
}

/// Runs every command on the mutant in `dir`; returns what went wrong.
fn check(dir: &Path, input: &str, index: usize, core: bool, stats: &Mutex<Stats>) -> Vec<String> {
    let mut problems = Vec::new();
    // Every fourth case finds its outputs there already, to be left alone on failure.
    let sentinel = index.is_multiple_of(4);
    for &(label, template) in RUNS.iter().filter(|r| core || r.0 != "new --wit") {
        let mut args: Vec<&str> = template
            .split(' ')
            .map(|a| if a == "{}" { input } else { a })
            .collect();
        if label == "inspect" && index % 2 == 1 {
            args.push("--json");
        }
        let out = args
            .iter()
            .position(|&a| a == "-o")
            .map(|i| dir.join(args[i + 1]));
        if let (Some(out), true) = (&out, sentinel) {
            fs::write(out, SENTINEL).unwrap();
        }
        let mut problem = |why: String| problems.push(format!("`wcomp {}`: {why}", args.join(" ")));
        let Some((status, stderr)) = run_with_deadline(dir, &args) else {
            problem(format!("still running after {DEADLINE:?}: killed"));
            continue;
        };
        let written = out.as_ref().and_then(|o| fs::read(o).ok());
        match status.code() {
            _ if stderr.contains("panicked") => problem(format!("panicked ({status}):\n{stderr}")),
            Some(0) => {
                stats.lock().unwrap().entry(label).or_default()[0] += 1;
                match &written {
                    Some(w) if !w.starts_with(b"\0asm") => {
                        problem(format!("exit 0, but the output is not wasm:\n{stderr}"))
                    }
                    None if out.is_some() => problem(format!("exit 0, but no output:\n{stderr}")),
                    _ => {}
                }
            }
            Some(1) => {
                stats.lock().unwrap().entry(label).or_default()[1] += 1;
                if !stderr.contains('×') && !stderr.to_lowercase().contains("error") {
                    problem(format!("exit 1 without a diagnostic; stderr:\n{stderr}"));
                }
                match (&written, sentinel) {
                    (Some(w), true) if w != SENTINEL => {
                        problem("exit 1, but clobbered the output".into())
                    }
                    (None, true) if out.is_some() => {
                        problem("exit 1, but removed the output".into())
                    }
                    (Some(_), false) => problem("exit 1, but wrote an output".into()),
                    _ => {}
                }
            }
            _ => problem(format!(
                "{status} (1 is a user error, 2 an internal one):\n{stderr}"
            )),
        }
        let known = |n: &String| n == input || RUNS.iter().any(|r| r.1.ends_with(&format!(" {n}")));
        let names = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned());
        for stray in names.filter(|n| !known(n)) {
            problem(format!("left `{stray}` behind"));
            fs::remove_file(dir.join(stray)).unwrap();
        }
    }
    problems
}

#[test]
fn mutated_wasm_never_panics_hangs_or_writes_on_failure() {
    wcomp_bin();
    let started = Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    let seeds = build_seeds(tmp.path());
    let var = std::env::var("MUTATE_WASM_SEED").unwrap_or_default();
    let seed = u64::from_str_radix(var.trim_start_matches("0x"), 16).unwrap_or(SEED);
    let mut rng = Rng(seed);
    let cases: Vec<(usize, Vec<u8>, String)> = (0..CASES)
        .map(|index| {
            let mut bytes = seeds[index % seeds.len()].bytes.clone();
            let steps: Vec<String> = (0..1 + rng.below(4) / 3)
                .map(|_| mutate(&mut bytes, &seeds, &mut rng))
                .collect();
            (index, bytes, steps.join(", then "))
        })
        .collect();

    let target = std::env::var_os("CARGO_TARGET_DIR").unwrap_or_else(|| "target".into());
    let failures_dir = workspace_root().join(target).join("mutate-wasm-failures");
    let _ = fs::remove_dir_all(&failures_dir);
    let (next, stats) = (AtomicUsize::new(0), Mutex::new(Stats::new()));
    let failures = Mutex::new(BTreeMap::new());
    let worker = || {
        while let Some((index, bytes, what)) = cases.get(next.fetch_add(1, Ordering::Relaxed)) {
            let from = &seeds[index % seeds.len()];
            let input = format!("mutant.{}", from.name.rsplit('.').next().unwrap());
            let case = format!("case-{index:03}");
            let dir = tmp.path().join(&case);
            fs::create_dir(&dir).unwrap();
            fs::write(dir.join(&input), bytes).unwrap();
            let problems = check(&dir, &input, *index, from.core, &stats);
            if problems.is_empty() {
                continue;
            }
            let saved = failures_dir.join(&case);
            fs::create_dir_all(&saved).unwrap();
            fs::write(failures_dir.join("w.wit"), WIT).unwrap();
            fs::write(saved.join(&input), bytes).unwrap();
            let (name, saved) = (from.name, saved.display());
            let problems = problems.join("\n  ");
            let message = format!(
                "case {index} of seed {seed:#x}, {name} mutated: {what}\n  \
                 saved; reproduce in {saved}:\n  {problems}"
            );
            failures.lock().unwrap().insert(*index, message);
        }
    };
    thread::scope(|s| {
        for _ in 0..WORKERS {
            s.spawn(worker);
        }
    });

    let stats = stats.into_inner().unwrap();
    eprintln!(
        "mutate_wasm: {CASES} mutants of seed {seed:#x} in {:.1?}",
        started.elapsed()
    );
    for (label, [ok, failed]) in &stats {
        eprintln!("  {label:<10} exit 0: {ok:>4}  exit 1: {failed:>4}");
    }
    let failures: Vec<String> = failures.into_inner().unwrap().into_values().collect();
    let (n, all) = (failures.len(), failures.join("\n\n"));
    assert!(n == 0, "{n} of {CASES} mutants broke wcomp:\n\n{all}");
    // The loop must get past the parser, and be rejected too, to mean anything.
    let count = |label: &str, exit: usize| stats.get(label).map_or(0, |s| s[exit]);
    for (label, _) in RUNS {
        assert!(count(label, 1) > 0, "`{label}` never failed");
    }
    let made = count("new", 0) + count("new --wit", 0);
    assert!(
        made > 0 && count("embed", 0) > 0,
        "none was wrapped or embedded"
    );
    assert!(
        count("compose app", 0) > 0 && count("compose dep", 0) > 0,
        "no mutant was composed"
    );
    let inspected = count("inspect", 0);
    assert!(
        inspected * 20 >= CASES,
        "only {inspected} could be inspected"
    );
}
