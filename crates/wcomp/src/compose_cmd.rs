//! `wcomp compose`.

use std::path::{Path, PathBuf};

use clap::Args;
use wcomp_compose::composition::{ComposeOptions, read_inputs};
use wcomp_compose::policy::Pattern;
use wcomp_compose::{ComposeError, PlugSpec, config, plan};

use crate::output::{refuse_overwriting_input, shown, write_output};
use crate::report::{Failure, Ui};

/// Where the composition goes when neither `-o` nor `wcomp.toml` says.
const DEFAULT_OUTPUT: &str = "composed.wasm";

#[derive(Args)]
pub struct ComposeArgs {
    /// The app: the component whose exports the result exports. Optional
    /// with `--config` (or a `wcomp.toml` in the current folder).
    app: Option<PathBuf>,
    /// A component that may satisfy imports (repeatable); each is
    /// instantiated at most once and shared.
    #[arg(long = "with", value_name = "DEP.wasm")]
    with: Vec<PathBuf>,
    /// Where to write the composed component (`-` is stdout; default
    /// `composed.wasm`, or `output` of `wcomp.toml`).
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Satisfy IMPORT (a name, with or without version) with DEP's export
    /// EXPORT (by default the one of the same interface).
    #[arg(long, value_name = "IMPORT=DEP.wasm[:EXPORT]")]
    plug: Vec<String>,
    /// Read the composition from a `wcomp.toml` (flags add to it).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Print every import of every component, what satisfied it, and why
    /// each other candidate was rejected. Without `-o`, only explain and
    /// write nothing.
    #[arg(long)]
    explain: bool,
    /// Fail if an import that remains matches PATTERN (`wasi:filesystem/*`).
    #[arg(long, value_name = "PATTERN")]
    deny: Vec<String>,
    /// Fail if an import that remains matches no `--allow` PATTERN.
    #[arg(long, value_name = "PATTERN")]
    allow: Vec<String>,
    /// Fail, rather than warn, when a `--with` component satisfies nothing.
    #[arg(long)]
    strict: bool,
    /// Drop debug custom sections (names, producers, DWARF) from the result.
    #[arg(long)]
    strip: bool,
    /// Keep every copy of core modules that several components carry
    /// byte for byte (by default each is defined once and shared).
    #[arg(long)]
    no_dedup: bool,
    /// Print the plan and capabilities as JSON on stdout.
    #[arg(long)]
    json: bool,
    /// Check that the result fits WORLD (`wasi:http/proxy@0.2.12`, as
    /// `wcomp targets` does) before writing it.
    #[arg(long, value_name = "WORLD")]
    target: Option<String>,
    /// The WIT defining the `--target` world, when it is not WASI's.
    #[arg(long, value_name = "PATH", requires = "target")]
    target_wit: Option<PathBuf>,
}

pub fn run(args: ComposeArgs, ui: &Ui) -> Result<(), Failure> {
    let config_path = args.config.clone().or_else(|| {
        let default = PathBuf::from("wcomp.toml");
        (args.app.is_none() && default.is_file()).then_some(default)
    });
    let (mut opts, config_output) = match &config_path {
        Some(path) => {
            let c = config::load(path)?;
            (c.options, c.output)
        }
        None => (ComposeOptions::default(), None),
    };
    match (&args.app, &config_path) {
        (Some(app), _) => opts.app = app.clone(),
        (None, Some(_)) => {}
        (None, None) => return Err(ComposeError::NoApp.into()),
    }
    opts.with.extend(args.with);
    // Parsed here rather than by clap, so a bad value gets a full diagnostic.
    for plug in &args.plug {
        opts.plugs.push(plug.parse::<PlugSpec>()?);
    }
    for pattern in &args.deny {
        opts.deny.push(pattern.parse::<Pattern>()?);
    }
    for pattern in &args.allow {
        opts.allow.push(pattern.parse::<Pattern>()?);
    }
    opts.strict |= args.strict;
    opts.strip |= args.strip;
    opts.no_dedup |= args.no_dedup;
    let output = args.output.or(config_output);

    let inputs = read_inputs(&opts)?;
    if args.explain {
        let (plan, error) = match plan::plan(&inputs.components, &inputs.plugs) {
            Ok(plan) => (plan, None),
            Err(failed) => (failed.partial, Some(failed.error)),
        };
        crate::output::print_out(&wcomp_compose::explain(&inputs.components, &plan));
        if let Some(e) = error {
            return Err(e.into());
        }
        if output.is_none() {
            ui.info(format!(
                "nothing was written: `--explain` alone only explains; add `-o {DEFAULT_OUTPUT}` to write the composition too"
            ));
            return Ok(());
        }
    }
    // What users type first, `wcomp compose app.wasm --with keystore.wasm`,
    // writes the artifact they asked for.
    let output = output.unwrap_or_else(|| PathBuf::from(DEFAULT_OUTPUT));
    let input_paths: Vec<PathBuf> = inputs.components.iter().map(|c| c.path.clone()).collect();
    refuse_overwriting_input(&output, &input_paths)?;
    // The target world is read before composing: a typo fails fast.
    let target = args
        .target
        .as_deref()
        .map(|world| crate::targets_cmd::target_world(world, args.target_wit.as_deref()))
        .transpose()?;
    let composition = wcomp_compose::compose(&inputs, &opts)?;
    for w in &composition.warnings {
        ui.info(format!("warning: {w}"));
    }
    if let Some(target) = &target {
        crate::targets_cmd::check_composition(&output, &composition.bytes, target)?;
    }
    write_output(&output, &composition.bytes)?;
    let mut order = composition.plan.order.clone();
    order.sort_unstable();
    let used: Vec<&str> = order
        .iter()
        .map(|&c| composition.labels[c].as_str())
        .collect();
    ui.info(format!(
        "wrote {}: {} ({} component{}), {} bytes",
        shown(&output),
        used.join(" + "),
        used.len(),
        if used.len() == 1 { "" } else { "s" },
        composition.bytes.len()
    ));
    if !composition.shared.is_empty() {
        let saved: usize = composition
            .shared
            .iter()
            .map(|m| m.size * m.users.len().saturating_sub(1))
            .sum();
        let n = composition.shared.len();
        ui.info(format!(
            "shared {n} identical core module{} between components, {saved} bytes saved (`--no-dedup` keeps every copy)",
            if n == 1 { "" } else { "s" }
        ));
    }
    if args.json {
        let json = serde_json::json!({
            "output": output,
            "bytes": composition.bytes.len(),
            "components": composition.labels,
            "links": composition.plan.links,
            "capabilities": composition.capabilities.to_json(),
            "shared": composition.shared,
            "warnings": composition.warnings,
        });
        crate::output::print_out(&format!(
            "{}\n",
            serde_json::to_string_pretty(&json).unwrap_or_default()
        ));
    } else if output != Path::new("-") {
        crate::output::print_out(&composition.capabilities.to_text());
    }
    Ok(())
}
