//! Running a component outside wasmtime: `jco transpile` turns it into an
//! ES module plus core wasm, and node calls its exported
//! `wcomp:keystore/handler@0.1.0#handle` once per command of a script.
//!
//! The script is the demo's, read by [`crate::script`] as the wasmtime
//! runner reads it: `COMMAND => ANSWER` lines, and `wait SECONDS`, for which
//! the driver really sleeps, so that the component's clock sees the time
//! pass.
//!
//! jco is found in `WCOMP_JCO_DIR` (an `npm install --prefix` folder, as
//! `.ci/run` makes it), else `~/.cache/wcomp/jco`, else as `jco` on `PATH`.
//! Tests skip with a `skipped:` note when it is missing, unless
//! `WCOMP_REQUIRE_JCO=1` (CI) makes that a failure.

use std::fmt::Write as _;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::script::{self, Line, Step};
use crate::{text, which};

/// The interface whose `handle` a script drives.
pub const HANDLER: &str = "wcomp:keystore/handler@0.1.0";

/// The npm package that provides the WASI imports of transpiled components.
const SHIM: &str = "@bytecodealliance/preview2-shim";

/// How long node may take beyond the script's own waits: instantiating a
/// Python component takes seconds; a component that blocks takes forever.
const RUN_TIMEOUT: Duration = Duration::from_secs(180);

/// A call of a script: its line number, command and expected answer.
fn call(line: &Line) -> Option<(usize, &str, &str)> {
    match &line.step {
        Step::Send { command, expect } => Some((line.number, command, expect)),
        Step::Wait(_) => None,
    }
}

/// Compares the answers of a run with the script's expectations: the first
/// difference, with its line, is the error.
pub fn compare(steps: &[Line], answers: &[String]) -> Result<(), String> {
    let calls: Vec<(usize, &str, &str)> = steps.iter().filter_map(call).collect();
    for (i, (line, command, expected)) in calls.iter().enumerate() {
        match answers.get(i) {
            Some(answer) if answer == expected => {}
            Some(answer) => {
                return Err(format!(
                    "script line {line}: `{command}`\n  expected: {expected:?}\n  answered: {answer:?}"
                ));
            }
            None => {
                return Err(format!(
                    "script line {line}: `{command}` got no answer ({} answers for {} commands)",
                    answers.len(),
                    calls.len()
                ));
            }
        }
    }
    if answers.len() > calls.len() {
        return Err(format!(
            "{} answers for {} commands",
            answers.len(),
            calls.len()
        ));
    }
    Ok(())
}

/// An installed jco, and the node that runs it and the transpiled code.
#[derive(Debug, Clone)]
pub struct JcoTool {
    pub node: PathBuf,
    /// The `jco` command (`node_modules/.bin/jco` or the one on `PATH`).
    pub jco: PathBuf,
    /// The `node_modules` from which `@bytecodealliance/preview2-shim`
    /// resolves as jco itself resolves it.
    pub node_modules: PathBuf,
    /// What `jco --version` says.
    pub version: String,
    /// Flags node needs for the wasm that toolchains emit today.
    pub node_flags: Vec<String>,
}

/// jco, if it is installed where the tests look (see the module docs).
pub fn find_jco() -> Option<&'static JcoTool> {
    locate().as_ref().ok()
}

fn locate() -> &'static Result<JcoTool, String> {
    static FOUND: OnceLock<Result<JcoTool, String>> = OnceLock::new();
    FOUND.get_or_init(|| {
        let node = which("node").ok_or("`node` is not on PATH")?;
        let mut looked = Vec::new();
        let mut dirs = Vec::new();
        if let Some(dir) = std::env::var_os("WCOMP_JCO_DIR").filter(|d| !d.is_empty()) {
            dirs.push(PathBuf::from(dir));
        }
        if let Some(home) = std::env::var_os("HOME").filter(|d| !d.is_empty()) {
            dirs.push(Path::new(&home).join(".cache/wcomp/jco"));
        }
        let mut candidates: Vec<PathBuf> = dirs
            .iter()
            .map(|d| d.join("node_modules/.bin/jco"))
            .collect();
        let on_path = which("jco");
        candidates.extend(on_path.clone());
        for jco in candidates {
            match tool(&node, &jco) {
                Ok(tool) => return Ok(tool),
                Err(why) => looked.push(why),
            }
        }
        if on_path.is_none() {
            looked.push("no `jco` on PATH".into());
        }
        Err(format!("jco not found: {}", looked.join("; ")))
    })
}

/// Checks one candidate `jco` command.
fn tool(node: &Path, jco: &Path) -> Result<JcoTool, String> {
    let real = fs::canonicalize(jco).map_err(|_| format!("no {}", jco.display()))?;
    // From jco's own folder up, the first `node_modules` holding the shim.
    let node_modules = real
        .ancestors()
        .map(|dir| dir.join("node_modules"))
        .find(|nm| nm.join(SHIM).join("package.json").is_file())
        .ok_or_else(|| format!("{} has no {SHIM} beside it", jco.display()))?;
    let out = Command::new(node)
        .arg(&real)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", jco.display()))?;
    if !out.status.success() {
        return Err(format!(
            "`{} --version` failed: {}",
            jco.display(),
            text(&out.stderr).trim()
        ));
    }
    Ok(JcoTool {
        node: node.to_path_buf(),
        jco: real,
        node_modules,
        version: text(&out.stdout).trim().to_string(),
        node_flags: node_flags(node),
    })
}

/// Node 20's V8 has extended constant expressions (standard wasm, which
/// wasi-libc and CPython as componentize-py builds them use) behind a flag;
/// later versions have them on.
fn node_flags(node: &Path) -> Vec<String> {
    const OFF: &str = "default: --no-experimental-wasm-extended-const";
    let options = Command::new(node)
        .arg("--v8-options")
        .stdin(Stdio::null())
        .output()
        .map(|out| text(&out.stdout))
        .unwrap_or_default();
    if options.contains(OFF) {
        vec!["--experimental-wasm-extended-const".into()]
    } else {
        Vec::new()
    }
}

/// Whether CI asked for jco to be there (`WCOMP_REQUIRE_JCO=1`).
pub fn jco_required() -> bool {
    std::env::var_os("WCOMP_REQUIRE_JCO").is_some_and(|v| v == "1")
}

/// jco for the test `test`; `Ok(None)`, after a `skipped:` note, when it is
/// not installed, or an error when `WCOMP_REQUIRE_JCO=1`.
pub fn jco_or_skip(test: &str) -> Result<Option<&'static JcoTool>, String> {
    match locate() {
        Ok(tool) => Ok(Some(tool)),
        Err(why) if jco_required() => Err(format!(
            "{test}: WCOMP_REQUIRE_JCO=1 but {why} (`.ci/run` installs it)"
        )),
        Err(why) => {
            eprintln!(
                "skipped: {test}: {why}; `npm install --prefix ~/.cache/wcomp/jco @bytecodealliance/jco` installs it"
            );
            Ok(None)
        }
    }
}

/// What a script run under jco gave.
#[derive(Debug, Clone)]
pub struct ScriptRun {
    /// One answer per command, in order.
    pub answers: Vec<String>,
    /// What the component printed through WASI.
    pub stdout: String,
    pub stderr: String,
    pub transpile_time: Duration,
    /// From starting node to its exit, the waits included.
    pub run_time: Duration,
}

impl JcoTool {
    /// `jco transpile` of `component` into `out_dir`; returns the ES module
    /// to import.
    pub fn transpile(&self, component: &Path, out_dir: &Path) -> Result<PathBuf, String> {
        let out = Command::new(&self.node)
            .arg(&self.jco)
            .arg("transpile")
            .arg(component)
            .arg("-o")
            .arg(out_dir)
            .args(["--name", "component", "--no-typescript", "--quiet"])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run jco: {e}"))?;
        let module = out_dir.join("component.js");
        if !out.status.success() || !module.is_file() {
            return Err(format!(
                "`jco transpile {}` failed ({}):\n{}{}",
                component.display(),
                out.status,
                text(&out.stdout),
                text(&out.stderr)
            ));
        }
        Ok(module)
    }

    /// Runs `steps` against the transpiled `module` in node, from `work_dir`:
    /// the answers, without comparing them (a failing call ends the run and
    /// is the error).
    pub fn call_handler(
        &self,
        module: &Path,
        steps: &[Line],
        work_dir: &Path,
    ) -> Result<(Vec<String>, String, String), String> {
        let io = |e: std::io::Error| format!("in {}: {e}", work_dir.display());
        // The transpiled code imports the shim by package name: let it
        // resolve from the work folder.
        let link = work_dir.join("node_modules");
        if !link.exists() {
            symlink_dir(&self.node_modules, &link).map_err(io)?;
        }
        let driver = work_dir.join("driver.mjs");
        fs::write(&driver, DRIVER).map_err(io)?;
        let steps_file = work_dir.join("steps.txt");
        let mut listing = String::new();
        let mut waits = Duration::ZERO;
        for step in steps {
            match &step.step {
                Step::Send { command, .. } => writeln!(listing, "call {}", hex(command)),
                Step::Wait(time) => {
                    waits += *time;
                    writeln!(listing, "wait {}", time.as_secs_f64())
                }
            }
            .map_err(|e| e.to_string())?;
        }
        fs::write(&steps_file, listing).map_err(io)?;
        let answers_file = work_dir.join("answers.txt");
        let (stdout_file, stderr_file) = (work_dir.join("stdout"), work_dir.join("stderr"));
        let mut child = Command::new(&self.node)
            .args(&self.node_flags)
            .args([driver.as_os_str(), module.as_os_str(), HANDLER.as_ref()])
            .args([steps_file.as_os_str(), answers_file.as_os_str()])
            .current_dir(work_dir)
            .stdin(Stdio::null())
            .stdout(File::create(&stdout_file).map_err(io)?)
            .stderr(File::create(&stderr_file).map_err(io)?)
            .spawn()
            .map_err(|e| format!("cannot run node: {e}"))?;
        let deadline = Instant::now() + waits + RUN_TIMEOUT;
        let status = loop {
            if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
                break Some(status);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let read = |p: &Path| fs::read(p).map(|b| text(&b)).unwrap_or_default();
        let (stdout, stderr) = (read(&stdout_file), read(&stderr_file));
        let mut answers = Vec::new();
        for record in read(&answers_file).lines() {
            let (kind, value) = record.split_once(' ').unwrap_or((record, ""));
            let value = unhex(value).ok_or_else(|| format!("bad answer record `{record}`"))?;
            match kind {
                "answer" => answers.push(value),
                "fatal" => return Err(format!("under jco, before any command: {value}")),
                _ => {
                    let call = steps.iter().filter_map(call).nth(answers.len());
                    let at = call.map_or(String::new(), |(line, command, _)| {
                        format!("script line {line}: `{command}` ")
                    });
                    return Err(format!("{at}failed under jco: {value}"));
                }
            }
        }
        match status {
            Some(status) if status.success() => Ok((answers, stdout, stderr)),
            Some(status) => Err(format!(
                "node {} failed ({status}) after {} answers:\n{stderr}",
                driver.display(),
                answers.len()
            )),
            None => Err(format!(
                "node {} did not finish within {:?} (after {} answers)",
                driver.display(),
                waits + RUN_TIMEOUT,
                answers.len()
            )),
        }
    }
}

/// Transpiles `component` with jco and runs `script` through its handler,
/// in `work_dir`; an error if jco is missing, the script is bad, the run
/// fails, or an answer differs from the script's (the first, by line).
pub fn run_handler_script(
    component: &Path,
    script_text: &str,
    work_dir: &Path,
) -> Result<ScriptRun, String> {
    let steps = script::parse(script_text)?;
    let tool = locate().as_ref().map_err(Clone::clone)?;
    fs::create_dir_all(work_dir)
        .map_err(|e| format!("cannot create {}: {e}", work_dir.display()))?;
    let start = Instant::now();
    let module = tool.transpile(component, &work_dir.join("out"))?;
    let transpile_time = start.elapsed();
    let start = Instant::now();
    let (answers, stdout, stderr) = tool.call_handler(&module, &steps, work_dir)?;
    let run_time = start.elapsed();
    compare(&steps, &answers)?;
    Ok(ScriptRun {
        answers,
        stdout,
        stderr,
        transpile_time,
        run_time,
    })
}

/// For an end-to-end test (the demo's: `target/demo/composed.wasm` and
/// `fixtures/demo/script`): `component` answers the script file `script`
/// under jco. `Ok(None)` when jco is missing and not required (a note is
/// printed); the timings go to stderr.
pub fn check_script_file(
    test: &str,
    component: &Path,
    script: &Path,
) -> Result<Option<ScriptRun>, String> {
    if jco_or_skip(test)?.is_none() {
        return Ok(None);
    }
    let text =
        fs::read_to_string(script).map_err(|e| format!("cannot read {}: {e}", script.display()))?;
    let work = tempfile::tempdir().map_err(|e| e.to_string())?;
    let run = run_handler_script(component, &text, work.path()).map_err(|e| {
        format!(
            "{} under jco, {}: {e}",
            component.display(),
            script.display()
        )
    })?;
    eprintln!(
        "jco: {test}: transpile {:.2?}, run {:.2?} ({} commands)",
        run.transpile_time,
        run.run_time,
        run.answers.len()
    );
    Ok(Some(run))
}

/// Calls `handle` per command, sleeps on `wait`, and appends each answer to
/// the answers file (stdout belongs to the component's WASI side). Text
/// travels as hex of its UTF-8 bytes, so that no quoting can go wrong.
const DRIVER: &str = r#"import { appendFileSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [modulePath, iface, stepsPath, answersPath] = process.argv.slice(2);
const fromHex = (hex) => Buffer.from(hex, 'hex').toString('utf8');
const toHex = (s) => Buffer.from(s, 'utf8').toString('hex');
const record = (kind, s) => appendFileSync(answersPath, `${kind} ${toHex(s)}\n`);

let handler;
try {
  const mod = await import(pathToFileURL(modulePath).href);
  // jco exports an interface under its full name (and its short name).
  handler = mod[iface];
  if (typeof handler?.handle !== 'function') {
    record('fatal', `the component does not export ${iface} with \`handle\`; its exports: ${Object.keys(mod).join(', ')}`);
    process.exit(3);
  }
} catch (e) {
  record('fatal', `cannot instantiate the component: ${e?.stack ?? e}`);
  process.exit(3);
}
for (const step of readFileSync(stepsPath, 'utf8').split('\n').filter(Boolean)) {
  const [kind, arg] = step.split(' ');
  if (kind === 'wait') {
    await new Promise((resolve) => setTimeout(resolve, Number(arg) * 1000));
    continue;
  }
  let answer;
  try {
    answer = handler.handle(fromHex(arg ?? ''));
  } catch (e) {
    record('error', String(e?.stack ?? e));
    process.exit(4);
  }
  if (typeof answer !== 'string') {
    record('error', `handle returned ${typeof answer}, not a string`);
    process.exit(4);
  }
  record('answer', answer);
}
"#;

fn hex(s: &str) -> String {
    s.bytes().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

fn unhex(s: &str) -> Option<String> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    let bytes = (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    String::from_utf8(bytes).ok()
}

#[cfg(unix)]
fn symlink_dir(target: &Path, link: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

#[cfg(windows)]
fn symlink_dir(target: &Path, link: &Path) -> std::io::Result<()> {
    std::os::windows::fs::symlink_dir(target, link)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_answers() {
        let steps = script::parse("a => 1\nwait 0.1\nb => 2\n").unwrap();
        assert_eq!(compare(&steps, &["1".into(), "2".into()]), Ok(()));
        let err = compare(&steps, &["1".into(), "3".into()]).unwrap_err();
        assert_eq!(
            err,
            "script line 3: `b`\n  expected: \"2\"\n  answered: \"3\""
        );
        let err = compare(&steps, &["1".into()]).unwrap_err();
        assert_eq!(
            err,
            "script line 3: `b` got no answer (1 answers for 2 commands)"
        );
        let err = compare(&steps, &["1".into(), "2".into(), "3".into()]).unwrap_err();
        assert_eq!(err, "3 answers for 2 commands");
    }

    #[test]
    fn hex_round_trips() {
        for s in ["", "get a", "λ => \"x\"\n"] {
            assert_eq!(unhex(&hex(s)).as_deref(), Some(s));
        }
        assert_eq!(unhex("0"), None);
        assert_eq!(unhex("ff"), None);
    }
}
