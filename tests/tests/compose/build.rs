//! The `build` file of a `fixtures/compose` case: which components to make
//! before composing, one a line (blank lines and `#` comments skipped):
//!
//! ```text
//! keystore.wasm = part keystore version=0.1.3 bias=1000
//! v2/keystore.wasm = part keystore
//! core.wasm = core keystore
//! app.wasm = python app
//! ```
//!
//! - `part NAME [VAR=VALUE ...]`: `wcomp new module.wat --wit world.wit
//!   [args]` of `fixtures/compose/parts/NAME/`, after replacing each
//!   `${VAR}` in `module.wat` and `world.wit` with its value (from the line,
//!   else from the part's `vars` file); a part whose `wit-from` names a WIT
//!   directory of the repository (`wit`, with its `deps/`) is given that as
//!   `--wit` instead (no `${VAR}`s there), a file of the repository is used
//!   as `world.wit`;
//! - `core NAME [VAR=VALUE ...]`: the same part, but `wcomp embed`: a core
//!   module (with its world embedded), not a component;
//! - `python DIR`: `componentize-py -d wit -w WORLD componentize app` of
//!   `DIR/app.py` (`DIR` relative to the case's folder, maybe in another
//!   case), against the repository's `wit` directory; the world is the
//!   last name of `DIR`. Built components are cached under
//!   `target/compose-fixtures/`, keyed by the sources and the version of
//!   componentize-py.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};

use wcomp_tests::{fnv_key, normalize, run, split_args, target_dir, text, which, workspace_root};

/// One line of a `build` file.
pub struct Build {
    line: usize,
    /// The file it writes, in the case's folder.
    pub file: String,
    source: Source,
}

enum Source {
    Part {
        name: String,
        vars: BTreeMap<String, String>,
        core: bool,
    },
    Python {
        dir: String,
    },
}

/// Reads a `build` file; errors name the line.
pub fn parse(text: &str) -> Result<Vec<Build>, String> {
    let mut builds = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let src = raw.trim();
        if src.is_empty() || src.starts_with('#') {
            continue;
        }
        let at = |e: &str| format!("build:{line}: {e}\n  {src}");
        let (file, rest) = src
            .split_once('=')
            .ok_or_else(|| at("expected `FILE = part|core|python NAME ...`"))?;
        let file = file.trim().to_string();
        let words = split_args(rest).map_err(|e| at(&e))?;
        let (kind, name, extra) = match &words[..] {
            [kind, name, extra @ ..] => (kind.as_str(), name.clone(), extra),
            _ => return Err(at("expected `part|core|python NAME` after `=`")),
        };
        let source = match kind {
            "part" | "core" => {
                let mut vars = BTreeMap::new();
                for word in extra {
                    let (k, v) = word
                        .split_once('=')
                        .ok_or_else(|| at(&format!("expected `VAR=VALUE`, found `{word}`")))?;
                    vars.insert(k.to_string(), v.to_string());
                }
                Source::Part {
                    name,
                    vars,
                    core: kind == "core",
                }
            }
            "python" if extra.is_empty() => Source::Python { dir: name },
            "python" => return Err(at("`python DIR` takes nothing more")),
            _ => return Err(at(&format!("unknown kind `{kind}`"))),
        };
        let inside = Path::new(&file)
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
        if file.is_empty() || !inside {
            return Err(at("the file is a relative path inside the case's folder"));
        }
        builds.push(Build { line, file, source });
    }
    Ok(builds)
}

/// Whether a case needs componentize-py.
pub fn needs_python(builds: &[Build]) -> bool {
    builds
        .iter()
        .any(|b| matches!(b.source, Source::Python { .. }))
}

/// Makes every component of `builds` of the case `case` in `work`, the
/// folder where it runs.
pub fn build_all(builds: &[Build], case: &Path, work: &Path) -> Result<(), String> {
    for build in builds {
        let out = work.join(&build.file);
        if let Some(dir) = out.parent() {
            fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let done = match &build.source {
            Source::Part { name, vars, core } => part(name, vars, *core, &out),
            Source::Python { dir } => python(&case.join(dir), &out),
        };
        done.map_err(|e| format!("build:{}: cannot make {}: {e}", build.line, build.file))?;
    }
    Ok(())
}

/// The folder of the shared component sources.
pub fn parts_dir() -> PathBuf {
    workspace_root().join("fixtures/compose/parts")
}

/// `wcomp new` (or `embed`) of a part, its `${VAR}`s replaced, into `out`.
fn part(
    name: &str,
    given: &BTreeMap<String, String>,
    core: bool,
    out: &Path,
) -> Result<(), String> {
    let dir = parts_dir().join(name);
    if !dir.is_dir() {
        return Err(format!("no part `{name}` in {}", parts_dir().display()));
    }
    let read = |file: &str| {
        fs::read_to_string(dir.join(file)).map_err(|e| format!("cannot read {name}/{file}: {e}"))
    };
    let mut vars = BTreeMap::new();
    if dir.join("vars").exists() {
        for line in read("vars")?.lines().filter(|l| !l.trim().is_empty()) {
            let (k, v) = line
                .split_once('=')
                .ok_or_else(|| format!("{name}/vars: expected `VAR=VALUE`, found `{line}`"))?;
            vars.insert(k.trim().to_string(), v.trim().to_string());
        }
    }
    for (k, v) in given {
        if !vars.contains_key(k) {
            return Err(format!(
                "part `{name}` has no variable `{k}` (see its `vars`)"
            ));
        }
        vars.insert(k.clone(), v.clone());
    }
    let scratch = tempfile::tempdir().map_err(|e| e.to_string())?;
    let wit_from = match dir.join("wit-from").exists() {
        true => Some(workspace_root().join(read("wit-from")?.trim())),
        false => None,
    };
    // A WIT directory (a package with `deps/`) cannot be one `world.wit`.
    let wit_dir = wit_from.clone().filter(|from| from.is_dir());
    for file in ["module.wat", "world.wit"] {
        let mut source = match (file, &wit_from) {
            ("world.wit", Some(_)) if wit_dir.is_some() => continue,
            ("world.wit", Some(from)) => fs::read_to_string(from)
                .map_err(|e| format!("cannot read {}: {e}", from.display()))?,
            _ => read(file)?,
        };
        for (k, v) in &vars {
            source = source.replace(&format!("${{{k}}}"), v);
        }
        if let Some(at) = source.find("${") {
            let rest = &source[at..];
            let end = rest.find('}').map_or(rest.len(), |i| i + 1);
            return Err(format!(
                "{name}/{file} uses `{}`, which its `vars` does not give",
                &rest[..end]
            ));
        }
        fs::write(scratch.path().join(file), source).map_err(|e| e.to_string())?;
    }
    let extra = if dir.join("args").exists() {
        split_args(&read("args")?)?
    } else {
        Vec::new()
    };
    let command = if core { "embed" } else { "new" };
    let wit = wit_dir.map_or("world.wit".into(), |d| d.to_string_lossy().into_owned());
    let mut args: Vec<String> = [command, "module.wat", "--wit", &wit, "-o"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.push(out.to_string_lossy().into_owned());
    args.extend(extra);
    let done = run(&args, scratch.path());
    if !done.status.success() {
        return Err(format!(
            "`wcomp {}` of part `{name}` failed ({}):\n{}",
            args.join(" "),
            done.status,
            normalize(&text(&done.stderr), scratch.path())
        ));
    }
    Ok(())
}

/// componentize-py and its version, if it is installed.
pub fn componentize_py() -> Option<&'static (PathBuf, String)> {
    static FOUND: OnceLock<Option<(PathBuf, String)>> = OnceLock::new();
    FOUND
        .get_or_init(|| {
            let program = which("componentize-py")?;
            let out = Command::new(&program)
                .arg("--version")
                .stdin(Stdio::null())
                .output()
                .ok()?;
            out.status
                .success()
                .then(|| (program, text(&out.stdout).trim().to_string()))
        })
        .as_ref()
}

/// `componentize-py` of `dir/app.py` for the world named like `dir` of the
/// `wit` directory, into `out`, through the cache.
fn python(dir: &Path, out: &Path) -> Result<(), String> {
    let (program, version) = componentize_py().ok_or("componentize-py is not installed")?;
    let world = dir
        .file_name()
        .ok_or("`python DIR` needs a folder name")?
        .to_string_lossy()
        .into_owned();
    let world = world.as_str();
    let wit_dir = workspace_root().join("wit");
    let mut wit = Vec::new();
    for file in wit_files(&wit_dir)? {
        wit.extend(fs::read(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?);
    }
    let app = fs::read(dir.join("app.py"))
        .map_err(|e| format!("cannot read {}/app.py: {e}", dir.display()))?;
    let key = fnv_key(&[&app, &wit, world.as_bytes(), version.as_bytes()]);
    let cache = target_dir().join("compose-fixtures");
    let cached = cache.join(format!("python-{world}-{key}.wasm"));
    // One build at a time, so that two cases that need the same component
    // build it once.
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    if !cached.is_file() {
        fs::create_dir_all(&cache).map_err(|e| e.to_string())?;
        // Built in a copy: componentize-py may leave files beside app.py.
        let scratch = tempfile::tempdir().map_err(|e| e.to_string())?;
        fs::write(scratch.path().join("app.py"), &app).map_err(|e| e.to_string())?;
        let partial = cache.join(format!("python-{world}-{key}.{}.part", std::process::id()));
        let done = Command::new(program)
            .arg("-d")
            .arg(&wit_dir)
            .args(["-w", world, "componentize", "app", "-o"])
            .arg(&partial)
            .current_dir(scratch.path())
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run componentize-py: {e}"))?;
        if !done.status.success() {
            let _ = fs::remove_file(&partial);
            return Err(format!(
                "`componentize-py -w {world} componentize app` failed ({}):\n{}{}",
                done.status,
                text(&done.stdout),
                text(&done.stderr)
            ));
        }
        fs::rename(&partial, &cached).map_err(|e| e.to_string())?;
    }
    fs::copy(&cached, out).map_err(|e| format!("cannot copy {}: {e}", cached.display()))?;
    Ok(())
}

/// The `.wit` files of a package directory and of its `deps/`, sorted: what
/// a build against the directory reads.
fn wit_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for d in [dir.to_path_buf(), dir.join("deps")] {
        let entries = fs::read_dir(&d).map_err(|e| format!("cannot read {}: {e}", d.display()))?;
        for entry in entries {
            let path = entry.map_err(|e| e.to_string())?.path();
            if path.extension().is_some_and(|x| x == "wit") {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}
