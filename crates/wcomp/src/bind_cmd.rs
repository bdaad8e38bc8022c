//! `wcomp bind WIT --world NAME --lang rust -o FILE`: guest bindings.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use crate::output::{shown, write_output};
use crate::report::{Failure, Ui};
use crate::wit_cmd::Features;

/// The languages `wcomp bind` writes.
#[derive(Clone, Copy, ValueEnum)]
pub enum Lang {
    Rust,
}

#[derive(Args)]
pub struct BindArgs {
    /// The WIT: a `.wit` file, a package directory (with `deps/`) or a wasm-encoded package.
    wit: PathBuf,
    /// The world to bind (needed when the package has more than one).
    #[arg(long, value_name = "NAME")]
    world: Option<String>,
    /// The guest's language.
    #[arg(long, value_enum)]
    lang: Lang,
    /// Where to write the bindings (`-` is stdout).
    #[arg(short, long)]
    output: PathBuf,
    /// Where the guest crate puts the file, for `export!(T)` (default `crate::bindings`).
    #[arg(long, value_name = "PATH")]
    bindings_module: Option<String>,
    /// Also write a stub implementation of every export, so the file alone is a crate root.
    #[arg(long)]
    stubs: bool,
    /// Pipe the output through `rustfmt` (found on PATH). Off by default: the
    /// bindings are laid out already, and without it they are the same on
    /// every machine.
    #[arg(long)]
    rustfmt: bool,
    #[command(flatten)]
    features: Features,
}

pub fn run(args: BindArgs, ui: &Ui) -> Result<(), Failure> {
    let wit = wcomp_wit::load(&args.wit, &args.features.options())?;
    let world = wit.world(args.world.as_deref())?;
    let files = match args.lang {
        Lang::Rust => wcomp_bindgen::rust::Opts {
            bindings_module: args.bindings_module,
            rustfmt: args.rustfmt,
            stubs: args.stubs,
        }
        .generate(&wit.resolve, world)
        .map_err(|e| Failure::User(Box::new(e)))?,
    };
    // One file per world for Rust: it goes where `-o` says.
    let Some((_, src)) = files.iter().next() else {
        return Err(Failure::Internal(Box::new(miette::MietteDiagnostic::new(
            "internal error: the Rust backend wrote no file",
        ))));
    };
    write_output(&args.output, src.as_bytes())?;
    ui.info(format!(
        "wrote {}: Rust bindings of world {}, {} lines",
        shown(&args.output),
        wit.resolve.worlds[world].name,
        src.lines().count()
    ));
    Ok(())
}
