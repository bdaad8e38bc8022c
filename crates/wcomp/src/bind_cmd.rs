//! `wcomp bind WIT --lang rust|c|go [--host]`: guest bindings, or with
//! `--host` typed wasmtime host bindings (Rust), one file set per world.
//!
//! Without `--world` every world of the root package is bound; without
//! `-o` the files go to the current folder (or `--out-dir`), named by the
//! backend after the world. Every world is generated before anything is
//! written, so a refusal in one world leaves no file of another behind.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use miette::{Diagnostic as _, MietteDiagnostic};
use wcomp_wit::wit_parser::WorldId;
use wcomp_wit::{Origin, Wit};

use crate::output::{refuse_overwriting_input, shown, write_output};
use crate::report::{Failure, Ui};
use crate::wit_cmd::Features;

/// The languages `wcomp bind` writes.
#[derive(Clone, Copy, ValueEnum)]
pub enum Lang {
    Rust,
    C,
    Go,
}

#[derive(Args)]
pub struct BindArgs {
    /// The WIT: a `.wit` file, a package directory (with `deps/`) or a wasm-encoded package.
    wit: PathBuf,
    /// The world to bind (default: every world of the package).
    #[arg(long, value_name = "NAME")]
    world: Option<String>,
    /// The guest's language.
    #[arg(long, value_enum)]
    lang: Lang,
    /// The file to write, for one world (`-` is stdout).
    #[arg(short, long, conflicts_with = "out_dir")]
    output: Option<PathBuf>,
    /// The folder to write each world's files into, named after the world
    /// (default: the current folder).
    #[arg(long, value_name = "DIR")]
    out_dir: Option<PathBuf>,
    /// Where the guest crate puts the file, for `export!(T)` (default `crate::bindings`).
    #[arg(long, value_name = "PATH")]
    bindings_module: Option<String>,
    /// Also write a stub implementation of every export, so the file alone is a crate root.
    #[arg(long)]
    stubs: bool,
    /// Write host bindings instead: typed Rust for embedding the component in
    /// wasmtime (`<world>_host.rs`), not a guest's bindings.
    #[arg(long, conflicts_with_all = ["stubs", "bindings_module", "rustfmt"])]
    host: bool,
    /// Pipe the output through `rustfmt` (found on PATH). Off by default: the
    /// bindings are laid out already, and without it they are the same on
    /// every machine.
    #[arg(long)]
    rustfmt: bool,
    /// The Go package's name, and its folder's (default: the world's name in
    /// lowercase letters and digits).
    #[arg(long, value_name = "NAME")]
    package: Option<String>,
    #[command(flatten)]
    features: Features,
}

/// One file to write: where, what, and how to describe it.
struct Planned {
    path: PathBuf,
    text: String,
    world: String,
}

pub fn run(args: BindArgs, ui: &Ui) -> Result<(), Failure> {
    check_lang_options(&args)?;
    let wit = wcomp_wit::load(&args.wit, &args.features.options())?;
    let worlds = chosen_worlds(&wit, args.world.as_deref())?;
    if args.package.is_some() && worlds.len() > 1 {
        return Err(Failure::User(Box::new(
            MietteDiagnostic::new(format!(
                "`--package` names one Go package, and {} worlds would be bound",
                worlds.len()
            ))
            .with_code("wcomp::bind::option")
            .with_help("pick the world with `--world NAME`"),
        )));
    }
    let mut generated = Vec::new();
    // With every world of a package to bind, one the backend refuses (an
    // async world for C, say) is skipped with a warning, so that the rest
    // are still bound; a world asked for by name fails the command.
    let mut skipped = Vec::new();
    let skip_refused = args.world.is_none() && worlds.len() > 1;
    let mut lang_name = "";
    for &world in &worlds {
        let lang = match args.lang {
            Lang::Rust if args.host => {
                wcomp_bindgen::Lang::RustHost(wcomp_bindgen::rust_host::Opts::default())
            }
            Lang::Rust => wcomp_bindgen::Lang::Rust(wcomp_bindgen::rust::Opts {
                bindings_module: args.bindings_module.clone(),
                rustfmt: args.rustfmt,
                stubs: args.stubs,
            }),
            Lang::C => wcomp_bindgen::Lang::C(wcomp_bindgen::c::Opts::default()),
            Lang::Go => wcomp_bindgen::Lang::Go(wcomp_bindgen::go::Opts {
                package: args.package.clone(),
            }),
        };
        lang_name = lang.name();
        let files = match wcomp_bindgen::generate(&wit.resolve, world, &lang) {
            Ok(files) => files,
            Err(e) if skip_refused && !e.is_internal() => {
                skipped.push((wit.resolve.worlds[world].name.clone(), e));
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        let files: Vec<(String, String)> = files
            .iter()
            .map(|(name, text)| (name.to_string(), text.to_string()))
            .collect();
        if files.is_empty() {
            return Err(internal("the backend wrote no file"));
        }
        generated.push((wit.resolve.worlds[world].name.clone(), files));
    }
    if generated.is_empty() && !skipped.is_empty() {
        return Err(skipped.swap_remove(0).1.into());
    }

    let planned = match &args.output {
        Some(output) => single_file(output, generated)?,
        None => {
            let dir = args.out_dir.clone().unwrap_or_else(|| PathBuf::from("."));
            in_folder(&dir, generated)?
        }
    };
    for p in &planned {
        refuse_overwriting_input(&p.path, &wit_inputs(&wit))?;
    }
    // The output folder, and the folders backends put files in (a Go
    // package's).
    let mut folders: Vec<PathBuf> = args.out_dir.iter().cloned().collect();
    folders.extend(
        planned
            .iter()
            .filter(|p| p.path != Path::new("-"))
            .filter_map(|p| p.path.parent().map(Path::to_path_buf))
            .filter(|d| !d.as_os_str().is_empty()),
    );
    folders.dedup();
    for dir in &folders {
        std::fs::create_dir_all(dir).map_err(|e| {
            Failure::User(Box::new(
                MietteDiagnostic::new(format!("cannot create `{}`: {e}", dir.display()))
                    .with_code("wcomp::write")
                    .with_help("check that the parent folder exists and is writable"),
            ))
        })?;
    }
    for p in &planned {
        write_output(&p.path, p.text.as_bytes())?;
        ui.info(format!(
            "wrote {}: {lang_name} bindings of world {}, {} lines, {} bytes",
            shown(&p.path),
            p.world,
            p.text.lines().count(),
            p.text.len()
        ));
    }
    for (world, e) in &skipped {
        let help = e.help().map_or(String::new(), |h| format!("\n  help: {h}"));
        ui.info(format!(
            "warning: world {world} is not bound: {e}{help}\n  (`--world {world}` makes this an error)"
        ));
    }
    Ok(())
}

/// Refuses options that belong to another language's backend.
fn check_lang_options(args: &BindArgs) -> Result<(), Failure> {
    if args.package.is_some() && !matches!(args.lang, Lang::Go) {
        return Err(Failure::User(Box::new(
            MietteDiagnostic::new("`--package` is an option of the Go backend")
                .with_code("wcomp::bind::option")
                .with_help("drop `--package`, or use `--lang go`"),
        )));
    }
    if let Some(p) = &args.package
        && (p.is_empty()
            || !p
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            || p.starts_with(|c: char| c.is_ascii_digit()))
    {
        return Err(Failure::User(Box::new(
            MietteDiagnostic::new(format!("`{p}` is not a Go package name"))
                .with_code("wcomp::bind::option")
                .with_help("use lowercase letters and digits, starting with a letter (`keystore`)"),
        )));
    }
    let lang = match args.lang {
        Lang::Rust => return Ok(()),
        Lang::C => "c",
        Lang::Go => "go",
    };
    let rust_only = [
        (args.host, "--host"),
        (args.stubs, "--stubs"),
        (args.bindings_module.is_some(), "--bindings-module"),
        (args.rustfmt, "--rustfmt"),
    ];
    match rust_only.iter().find(|(set, _)| *set) {
        Some((_, flag)) => Err(Failure::User(Box::new(
            MietteDiagnostic::new(format!(
                "`{flag}` is an option of the Rust backend, not of `--lang {lang}`"
            ))
            .with_code("wcomp::bind::option")
            .with_help(format!("drop `{flag}`, or use `--lang rust`")),
        ))),
        None => Ok(()),
    }
}

/// The worlds to bind: the one named; else the component's own world; else
/// every world of the root package (not of its dependencies).
fn chosen_worlds(wit: &Wit, name: Option<&str>) -> Result<Vec<WorldId>, Failure> {
    if name.is_some() || matches!(wit.origin, Origin::Component(_)) {
        return Ok(vec![wit.world(name)?]);
    }
    let worlds: Vec<WorldId> = wit.resolve.packages[wit.package]
        .worlds
        .values()
        .copied()
        .collect();
    if worlds.is_empty() {
        // The library's message, with its help on adding a world.
        return Ok(vec![wit.world(None)?]);
    }
    Ok(worlds)
}

/// `-o FILE`: one world, one file.
fn single_file(
    output: &Path,
    generated: Vec<(String, Vec<(String, String)>)>,
) -> Result<Vec<Planned>, Failure> {
    if generated.len() > 1 {
        let names: Vec<String> = generated.iter().map(|(w, _)| format!("`{w}`")).collect();
        return Err(Failure::User(Box::new(
            MietteDiagnostic::new(format!(
                "`-o {}` names one file, but the package has {} worlds: {}",
                output.display(),
                generated.len(),
                names.join(", ")
            ))
            .with_code("wcomp::bind::several_worlds")
            .with_help(format!(
                "pass `--world {}` to bind one world into `{}`, or drop `-o` (or use `--out-dir DIR`) to write one file per world, named after it",
                generated[0].0,
                output.display()
            )),
        )));
    }
    let Some((world, mut files)) = generated.into_iter().next() else {
        return Err(internal("no world was bound"));
    };
    if files.len() > 1 {
        let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
        return Err(Failure::User(Box::new(
            MietteDiagnostic::new(format!(
                "world `{world}` is bound as {} files ({}), and `-o` names one",
                files.len(),
                names.join(", ")
            ))
            .with_code("wcomp::bind::several_files")
            .with_help("use `--out-dir DIR` instead of `-o`"),
        )));
    }
    let (_, text) = files.remove(0);
    Ok(vec![Planned {
        path: output.to_path_buf(),
        text,
        world,
    }])
}

/// `--out-dir DIR` (or the current folder): every file of every world, by its own name.
fn in_folder(
    dir: &Path,
    generated: Vec<(String, Vec<(String, String)>)>,
) -> Result<Vec<Planned>, Failure> {
    let mut planned: Vec<Planned> = Vec::new();
    for (world, files) in generated {
        for (name, text) in files {
            let path = if dir == Path::new(".") {
                PathBuf::from(&name)
            } else {
                dir.join(&name)
            };
            if let Some(other) = planned.iter().find(|p| p.path == path) {
                return Err(internal(&format!(
                    "worlds `{}` and `{world}` are both bound into `{name}`",
                    other.world
                )));
            }
            planned.push(Planned {
                path,
                text,
                world: world.clone(),
            });
        }
    }
    Ok(planned)
}

/// The files the WIT was read from, as far as an output could clobber one:
/// the input itself, and for a directory or a file with `deps/` beside it,
/// the `.wit` and `.wasm` files under those folders.
fn wit_inputs(wit: &Wit) -> Vec<PathBuf> {
    let mut inputs = vec![wit.path.clone()];
    let dirs: Vec<PathBuf> = if wit.path.is_dir() {
        vec![wit.path.clone()]
    } else {
        let parent = wit.path.parent().unwrap_or(Path::new(""));
        vec![parent.join("deps")]
    };
    for dir in dirs {
        collect_wit_files(&dir, &mut inputs);
    }
    inputs
}

fn collect_wit_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_wit_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "wit" || e == "wasm") {
            out.push(path);
        }
    }
}

fn internal(what: &str) -> Failure {
    Failure::Internal(Box::new(MietteDiagnostic::new(format!(
        "internal error: {what}; this is a bug in wcomp"
    ))))
}
