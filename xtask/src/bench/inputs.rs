//! The input pairs of `cargo xtask bench compose`, built once and cached under `target/bench`
//! in a folder named after a hash of their sources and of the versions of the tools that
//! built them:
//!
//! - small: a WAT key store and an app that uses it, wrapped with `wcomp new`;
//! - large: the same pair in Python (about 18 MB each: the interpreter and its standard
//!   library), built with componentize-py from the repository's `wit/keystore.wit`;
//! - stack: three Python components, app -> cache -> key store (`STACK_WIT`), whose shared
//!   modules make dedup count twice.

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::Context;
use super::measure::{file_size, io_err, mb, on_path, run_quiet, secs, version_of};

/// Components to compose: `app` with `deps` plugged into its imports (and theirs).
pub struct Pair {
    pub name: &'static str,
    /// What the pair is, for the report.
    pub about: String,
    pub app: PathBuf,
    pub deps: Vec<PathBuf>,
    /// The imports that `deps` satisfy: a composition that still imports one has not
    /// plugged everything.
    pub plugged: Vec<&'static str>,
    /// What the composition must export.
    pub export: &'static str,
    /// For more than one dependency, which `wac plug` does not chain: the WAC script for
    /// `wac compose` and its `--dep NAME=FILE` arguments.
    pub wac_script: Option<(PathBuf, Vec<String>)>,
}

const SMALL_WIT: &str = "package wcomp:kv@0.1.0;

/// A store of u32 values under u32 keys.
interface store {
  set: func(key: u32, value: u32);
  get: func(key: u32) -> option<u32>;
}

/// `op` 0 stores `value` under `key` (and answers none), 1 answers what is stored under `key`.
interface handler {
  handle: func(op: u32, key: u32, value: u32) -> option<u32>;
}

world keystore {
  export store;
}

world app {
  import store;
  export handler;
}
";

/// 64 slots of (present, key, value) from address 1024, the slot of a key being its value
/// mod 64; a key replaces another in its slot (a cache more than a store: enough to bench).
const SMALL_KEYSTORE: &str = r#"(module
  (memory (export "memory") 1)
  (func $slot (param $key i32) (result i32)
    (i32.add (i32.const 1024)
      (i32.mul (i32.and (local.get $key) (i32.const 63)) (i32.const 12))))
  (func (export "wcomp:kv/store@0.1.0#set") (param $key i32) (param $value i32)
    (local $at i32)
    (local.set $at (call $slot (local.get $key)))
    (i32.store (local.get $at) (i32.const 1))
    (i32.store offset=4 (local.get $at) (local.get $key))
    (i32.store offset=8 (local.get $at) (local.get $value)))
  ;; option<u32> in the return area at 16: tag at +0, value at +4.
  (func (export "wcomp:kv/store@0.1.0#get") (param $key i32) (result i32)
    (local $at i32)
    (local.set $at (call $slot (local.get $key)))
    (i32.store8 (i32.const 16)
      (i32.and (i32.load (local.get $at))
        (i32.eq (i32.load offset=4 (local.get $at)) (local.get $key))))
    (i32.store offset=4 (i32.const 16) (i32.load offset=8 (local.get $at)))
    (i32.const 16))
)
"#;

/// `handle` passes each request on to the store.
const SMALL_APP: &str = r#"(module
  (import "wcomp:kv/store@0.1.0" "set" (func $set (param i32 i32)))
  ;; get(key, return area): the option<u32> lands at the address given.
  (import "wcomp:kv/store@0.1.0" "get" (func $get (param i32 i32)))
  (memory (export "memory") 1)
  ;; option<u32> in the return area at 32: tag at +0, value at +4.
  (func (export "wcomp:kv/handler@0.1.0#handle")
    (param $op i32) (param $key i32) (param $value i32) (result i32)
    (if (i32.eqz (local.get $op))
      (then
        (call $set (local.get $key) (local.get $value))
        (i32.store8 (i32.const 32) (i32.const 0)))
      (else (call $get (local.get $key) (i32.const 32))))
    (i32.const 32))
)
"#;

/// Where the Python sources of the large pair live (the compose tests use them too).
const PYTHON_FIXTURE: &str = "fixtures/compose/python-keystore";

/// The stack's WIT: each layer imports the one below.
const STACK_WIT: &str = include_str!("stack/stack.wit");
/// The stack for `wac compose`, which `wac plug` cannot chain.
const STACK_WAC: &str = include_str!("stack/stack.wac");
const STACK_KEYSTORE: &str = include_str!("stack/keystore.py");
const STACK_CACHE: &str = include_str!("stack/cache.py");
const STACK_APP: &str = include_str!("stack/app.py");

/// The WAT pair, wrapped by the wcomp under test.
pub fn small(ctx: &Context) -> Result<Pair, String> {
    let version = version_of(&ctx.wcomp);
    let sources = [SMALL_WIT, SMALL_KEYSTORE, SMALL_APP, &version];
    let key = hash(sources.iter().map(|s| s.as_bytes()));
    let dir = cached(
        &ctx.dir,
        "compose-small",
        key,
        &["app.wasm", "keystore.wasm"],
        |tmp| {
            fs::write(tmp.join("kv.wit"), SMALL_WIT).map_err(io_err("cannot write to", tmp))?;
            for (world, wat) in [("keystore", SMALL_KEYSTORE), ("app", SMALL_APP)] {
                let source = tmp.join(format!("{world}.wat"));
                fs::write(&source, wat).map_err(io_err("cannot write", &source))?;
                let (wat, wasm) = (format!("{world}.wat"), format!("{world}.wasm"));
                let args = [
                    "new", &wat, "--wit", "kv.wit", "--world", world, "-o", &wasm,
                ];
                let args = args.map(OsStr::new);
                run_quiet(&ctx.wcomp, &args, Some(tmp))?;
            }
            Ok(())
        },
    )?;
    Ok(Pair {
        name: "small",
        about: format!("WAT key store pair, wrapped by {version}"),
        app: dir.join("app.wasm"),
        deps: vec![dir.join("keystore.wasm")],
        plugged: vec!["wcomp:kv/store@0.1.0"],
        export: "wcomp:kv/handler@0.1.0",
        wac_script: None,
    })
}

/// The Python pair; `Err` says why there is none (componentize-py is missing or failed),
/// which skips the pair rather than the bench.
pub fn large(ctx: &Context) -> Result<Pair, String> {
    let (program, version) = componentize_py()?;
    let wit = ctx.root.join("wit");
    let mut wit_files = Vec::new();
    collect_files(&wit, &mut wit_files).map_err(io_err("cannot read", &wit))?;
    let mut sources = vec![(version.clone().into_bytes())];
    for file in &wit_files {
        sources.push(
            file.strip_prefix(&wit)
                .unwrap()
                .display()
                .to_string()
                .into(),
        );
        sources.push(fs::read(file).map_err(io_err("cannot read", file))?);
    }
    let mut python = Vec::new();
    for side in ["keystore", "app"] {
        let path = ctx.root.join(PYTHON_FIXTURE).join(side).join("app.py");
        let text = fs::read_to_string(&path).map_err(io_err("cannot read", &path))?;
        sources.push(text.clone().into_bytes());
        python.push((side, text));
    }
    let key = hash(sources.iter().map(Vec::as_slice));
    let files = ["app.wasm", "keystore.wasm"];
    let dir = cached(&ctx.dir, "compose-large", key, &files, |tmp| {
        for (world, text) in &python {
            componentize(&program, &wit, tmp, world, world, text)?;
        }
        Ok(())
    })?;
    Ok(Pair {
        name: "large",
        about: format!("Python key store pair, built by {version}"),
        app: dir.join("app.wasm"),
        deps: vec![dir.join("keystore.wasm")],
        plugged: vec!["wcomp:keystore/store@0.1.0"],
        export: "wcomp:keystore/handler@0.1.0",
        wac_script: None,
    })
}

/// componentize-py and its version; `Err` says why there is none.
fn componentize_py() -> Result<(PathBuf, String), String> {
    let install = "install it with `pip install componentize-py`";
    let Some(program) = on_path("componentize-py") else {
        return Err(format!("componentize-py is not on PATH: {install}"));
    };
    // A pyenv shim is on PATH even where the Python in use lacks the package.
    let version = version_of(&program);
    if version.is_empty() {
        let shown = program.display();
        return Err(format!("{shown} does not run (`--version`): {install}"));
    }
    Ok((program, version))
}

/// Builds `{tmp}/{name}.wasm` from `app.py` (`text`) for `world` of the WIT at `wit`.
fn componentize(
    program: &Path,
    wit: &Path,
    tmp: &Path,
    name: &str,
    world: &str,
    text: &str,
) -> Result<(), String> {
    let start = Instant::now();
    let src = tmp.join(name);
    fs::create_dir_all(&src).map_err(io_err("cannot create", &src))?;
    fs::write(src.join("app.py"), text).map_err(io_err("cannot write to", &src))?;
    let output = tmp.join(format!("{name}.wasm"));
    let args = [
        "-d".as_ref(),
        wit.as_os_str(),
        "-w".as_ref(),
        world.as_ref(),
        "componentize".as_ref(),
        "app".as_ref(),
        "-o".as_ref(),
        output.as_os_str(),
    ];
    run_quiet(program, &args, Some(&src))?;
    let size = mb(file_size(&output));
    eprintln!(
        "==> componentize-py built {name}.wasm ({size}) in {}",
        secs(start)
    );
    Ok(())
}

/// The three-component Python stack; `Err` says why there is none.
pub fn stack(ctx: &Context) -> Result<Pair, String> {
    let (program, version) = componentize_py()?;
    let parts = [
        ("keystore", "keystore", STACK_KEYSTORE),
        ("cache", "cache-layer", STACK_CACHE),
        ("app", "app", STACK_APP),
    ];
    let mut sources = vec![
        version.as_bytes(),
        STACK_WIT.as_bytes(),
        STACK_WAC.as_bytes(),
    ];
    sources.extend(parts.iter().map(|(_, _, text)| text.as_bytes()));
    let key = hash(sources.into_iter());
    let files = ["app.wasm", "cache.wasm", "keystore.wasm", "stack.wac"];
    let dir = cached(&ctx.dir, "compose-stack", key, &files, |tmp| {
        let wit = tmp.join("stack.wit");
        fs::write(&wit, STACK_WIT).map_err(io_err("cannot write", &wit))?;
        for (name, world, text) in parts {
            componentize(&program, &wit, tmp, name, world, text)?;
        }
        let wac = tmp.join("stack.wac");
        fs::write(&wac, STACK_WAC).map_err(io_err("cannot write", &wac))
    })?;
    let dep = |name: &str| {
        format!(
            "bench:{name}={}",
            dir.join(format!("{name}.wasm")).display()
        )
    };
    Ok(Pair {
        name: "stack",
        about: format!("Python app -> cache -> key store, built by {version}"),
        app: dir.join("app.wasm"),
        deps: vec![dir.join("cache.wasm"), dir.join("keystore.wasm")],
        plugged: vec!["bench:stack/cache@0.1.0", "bench:stack/store@0.1.0"],
        export: "bench:stack/handler@0.1.0",
        wac_script: Some((
            dir.join("stack.wac"),
            ["keystore", "cache", "app"].map(dep).to_vec(),
        )),
    })
}

/// `dir/{prefix}-{key}` with `files` in it, built by `build` into an
/// empty folder and renamed into place when it is missing, so that an interrupted build never
/// leaves a bad cache. The folders of other keys are removed.
fn cached(
    dir: &Path,
    prefix: &str,
    key: u64,
    files: &[&str],
    build: impl FnOnce(&Path) -> Result<(), String>,
) -> Result<PathBuf, String> {
    let done = dir.join(format!("{prefix}-{key:016x}"));
    let files: Vec<PathBuf> = files.iter().map(|f| done.join(f)).collect();
    if files.iter().all(|f| f.is_file()) {
        eprintln!("==> reusing {}", done.display());
        return Ok(done);
    }
    let tmp = dir.join(format!("{prefix}.tmp"));
    let _ = fs::remove_dir_all(&tmp);
    fs::create_dir_all(&tmp).map_err(io_err("cannot create", &tmp))?;
    eprintln!("==> building {}", done.display());
    build(&tmp)?;
    let stale = fs::read_dir(dir).map_err(io_err("cannot read", dir))?;
    for entry in stale.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let old_key = name.strip_prefix(prefix).and_then(|k| k.strip_prefix('-'));
        let is_key = |k: &str| k.len() == 16 && k.bytes().all(|b| b.is_ascii_hexdigit());
        if old_key.is_some_and(is_key) && entry.path().is_dir() {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
    fs::rename(&tmp, &done).map_err(io_err("cannot rename", &tmp))?;
    Ok(done)
}

/// Every file under `dir`, in a stable order.
fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect_files(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

/// FNV-1a over each part and its length: stable across Rust versions and machines, unlike
/// std's hasher, and plenty for a cache key.
fn hash<'a>(parts: impl Iterator<Item = &'a [u8]>) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    };
    for part in parts {
        eat(&(part.len() as u64).to_le_bytes());
        eat(part);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_separates_parts_and_is_stable() {
        let h = |parts: &[&str]| hash(parts.iter().map(|s| s.as_bytes()));
        assert_ne!(h(&["ab", "c"]), h(&["a", "bc"]));
        assert_eq!(h(&[]), 0xcbf2_9ce4_8422_2325);
        assert_eq!(h(&["wit"]), h(&["wit"]));
    }
}
