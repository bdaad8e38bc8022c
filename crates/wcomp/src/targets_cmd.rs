//! `wcomp targets COMPONENT --world WORLD [--wit PATH] [--json]`: does the
//! component fit a world, such as the one a platform runs
//! (`wasi:http/proxy@0.2.12`)? Exit 0 when it fits, 1 with every reason
//! when it does not. `wcomp compose --target WORLD` runs the same check.

use std::path::{Path, PathBuf};

use clap::Args;
use miette::MietteDiagnostic;
use wcomp_compose::input::Component;
use wcomp_compose::targets::{self, TargetReport};
use wcomp_wit::wit_parser::{Resolve, WorldId};

use crate::report::Failure;

#[derive(Args)]
pub struct TargetsArgs {
    /// The component to check (binary or WAT).
    component: PathBuf,
    /// The world it must fit, qualified: `wasi:http/proxy@0.2.12` (from the
    /// WASI 0.2 WIT wcomp carries, or from `--wit`).
    #[arg(long, value_name = "WORLD")]
    world: String,
    /// The WIT defining the world, when it is not WASI's: a `.wit` file or
    /// a package folder (with `deps/`).
    #[arg(long, value_name = "PATH")]
    wit: Option<PathBuf>,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    json: bool,
}

pub fn run(args: TargetsArgs) -> Result<(), Failure> {
    let component = Component::read(&args.component)?;
    let (resolve, world) = target_world(&args.world, args.wit.as_deref())?;
    let report = targets::check(&component, &resolve, world);
    if args.json {
        crate::output::print_out(&format!(
            "{}\n",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        ));
    } else {
        crate::output::print_out(&report.text());
    }
    verdict(&report)
}

/// Fits: `Ok`; does not: exit 1, the report being printed already.
fn verdict(report: &TargetReport) -> Result<(), Failure> {
    if report.fits {
        Ok(())
    } else {
        Err(Failure::Reported)
    }
}

/// World `name`: qualified, from `wit` or else the WASI WIT wcomp carries;
/// with `wit`, also a world of its own package by plain name.
pub fn target_world(name: &str, wit: Option<&Path>) -> Result<(Resolve, WorldId), Failure> {
    let (resolve, plain) = match wit {
        Some(path) => {
            let loaded = wcomp_wit::load(path, &Default::default())?;
            let plain = (!name.contains('/'))
                .then(|| loaded.world(Some(name)))
                .transpose()?;
            (loaded.resolve, plain)
        }
        None => (wcomp_wit::wasi::resolve(), None),
    };
    if let Some(world) = plain {
        return Ok((resolve, world));
    }
    match wcomp_wit::wasi::find_world(&resolve, name) {
        Ok(world) => Ok((resolve, world)),
        Err(why) => Err(Failure::User(Box::new(
            MietteDiagnostic::new(why)
                .with_code("wcomp::targets::world")
                .with_help(match wit {
                    Some(_) => "name a world of that WIT, qualified (`namespace:package/world@version`) or by its name in the root package".to_string(),
                    None => format!(
                        "wcomp carries WASI {}: `wasi:http/proxy@0.2.12`, `wasi:cli/command@0.2.12`, `wasi:http/service@0.3.0`, `wasi:cli/command@0.3.0`, ...; for another world, give its WIT with `--wit PATH`",
                        wcomp_wit::wasi::VERSIONS.join(" and ")
                    ),
                }),
        ))),
    }
}

/// `wcomp compose --target WORLD`: the composition must fit before it is
/// written; `Err` (exit 1) with the report otherwise.
pub fn check_composition(
    output: &Path,
    bytes: &[u8],
    target: &(Resolve, WorldId),
) -> Result<(), Failure> {
    let input = wcomp_component::WasmInput::from_bytes(output, bytes.to_vec())?;
    let component = Component::from_input(input)?;
    let report = targets::check(&component, &target.0, target.1);
    if report.fits {
        return Ok(());
    }
    Err(Failure::User(Box::new(
        MietteDiagnostic::new(format!(
            "the composition does not fit {}; nothing was written\n{}",
            report.world,
            report.text().trim_end()
        ))
        .with_code("wcomp::compose::target")
        .with_help("compose in a component that provides what it lacks, or drop the import that the world does not allow (`--deny` names them at compose time)"),
    )))
}
