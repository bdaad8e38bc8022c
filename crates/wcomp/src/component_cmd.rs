//! `wcomp new`, `wcomp embed` and `wcomp inspect`.

use std::path::PathBuf;

use clap::Args;
use wcomp_component::adapter::AdapterSpec;
use wcomp_component::wrap::{self, NewOptions, WitSource};
use wcomp_component::{WasmInput, inspect};

use crate::output::{shown, write_output};
use crate::report::{Failure, Ui};
use crate::wit_cmd::Features;

/// `--wit PATH [--world NAME]`.
#[derive(Args)]
pub struct WitArgs {
    /// The WIT the module implements: a `.wit` file, a package directory or a wasm-encoded package.
    #[arg(long, value_name = "PATH")]
    wit: Option<PathBuf>,
    /// The world in that WIT (needed when it has more than one).
    #[arg(long, value_name = "NAME", requires = "wit")]
    world: Option<String>,
    #[command(flatten)]
    features: Features,
}

impl WitArgs {
    fn source(&self) -> Option<WitSource> {
        self.wit.as_ref().map(|path| WitSource {
            path: path.clone(),
            world: self.world.clone(),
            load: self.features.options(),
        })
    }
}

#[derive(Args)]
pub struct NewArgs {
    /// A core wasm module (binary or WAT) carrying its WIT world, or given one with `--wit`.
    input: PathBuf,
    /// Where to write the component (`-` is stdout).
    #[arg(short, long)]
    output: PathBuf,
    #[command(flatten)]
    wit: WitArgs,
    /// Implement import module NAME with the core module at PATH
    /// (`wasi_snapshot_preview1=command|reactor|proxy` picks a bundled adapter).
    #[arg(long, value_name = "NAME=PATH", value_parser = parse_adapt)]
    adapt: Vec<AdapterSpec>,
}

#[derive(Args)]
pub struct EmbedArgs {
    /// A core wasm module (binary or WAT).
    input: PathBuf,
    /// Where to write the module with its `component-type` section (`-` is stdout).
    #[arg(short, long)]
    output: PathBuf,
    /// The WIT the module implements: a `.wit` file, a package directory or a wasm-encoded package.
    #[arg(long, value_name = "PATH")]
    wit: PathBuf,
    /// The world in that WIT (needed when it has more than one).
    #[arg(long, value_name = "NAME")]
    world: Option<String>,
    #[command(flatten)]
    features: Features,
}

#[derive(Args)]
pub struct InspectArgs {
    /// A core module, a component or a WIT package (binary or WAT).
    input: PathBuf,
    /// Print JSON for scripts.
    #[arg(long)]
    json: bool,
}

fn parse_adapt(s: &str) -> Result<AdapterSpec, String> {
    s.parse::<AdapterSpec>().map_err(|e| {
        use miette::Diagnostic;
        match e.help() {
            Some(h) => format!("{e}\n  help: {h}"),
            None => e.to_string(),
        }
    })
}

pub fn new(args: NewArgs, ui: &Ui) -> Result<(), Failure> {
    let input = WasmInput::read(&args.input)?;
    let opts = NewOptions {
        wit: args.wit.source(),
        adapters: args.adapt,
    };
    let wrapped = wrap::new_component(&input, &opts)?;
    write_output(&args.output, &wrapped.bytes)?;
    for w in &wrapped.warnings {
        ui.info(format!("warning: {w}"));
    }
    let adapters = if wrapped.adapters.is_empty() {
        String::new()
    } else {
        format!(", adapted with {}", wrapped.adapters.join(", "))
    };
    let what = match (&wrapped.world, wrapped.adapters.is_empty()) {
        (Some(w), _) => format!("component of world {w}"),
        (None, false) => "component of a WASI command".to_string(),
        (None, true) => "empty component (no world)".to_string(),
    };
    ui.info(format!(
        "wrote {}: {what}{adapters}, {} bytes",
        shown(&args.output),
        wrapped.bytes.len()
    ));
    Ok(())
}

pub fn embed(args: EmbedArgs, ui: &Ui) -> Result<(), Failure> {
    let input = WasmInput::read(&args.input)?;
    let source = WitSource {
        path: args.wit,
        world: args.world,
        load: args.features.options(),
    };
    let bytes = wrap::embed(&input, &source)?;
    write_output(&args.output, &bytes)?;
    ui.info(format!(
        "wrote {}: core module with its world embedded, {} bytes",
        shown(&args.output),
        bytes.len()
    ));
    Ok(())
}

pub fn inspect(args: InspectArgs) -> Result<(), Failure> {
    let input = WasmInput::read(&args.input)?;
    let inspection = inspect::inspect(&input)?;
    if args.json {
        let json = serde_json::to_string_pretty(&inspection)
            .map_err(|e| wcomp_component::ComponentError::Internal(e.to_string()))?;
        crate::output::print_out(&format!("{json}\n"));
    } else {
        crate::output::print_out(&inspection.to_text());
    }
    Ok(())
}
