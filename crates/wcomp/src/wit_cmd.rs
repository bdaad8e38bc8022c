//! `wcomp wit ...`

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use wcomp_wit::summary::Summary;
use wcomp_wit::{LoadOptions, Wit};

use crate::output::write_output;
use crate::report::{Failure, Ui};

#[derive(Subcommand)]
pub enum WitCommand {
    /// Load and resolve WIT, and show what it defines.
    Check {
        /// `.wit` files, package directories (with `deps/`) or wasm-encoded packages.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Print a JSON array, one object per input.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        features: Features,
    },
    /// Print canonical WIT text.
    Print {
        /// A `.wit` file, a package directory, a wasm-encoded package or a component.
        path: PathBuf,
        /// Print only this world of the package.
        #[arg(long)]
        world: Option<String>,
        /// Where to write the text (`-` is stdout).
        #[arg(short, long, default_value = "-")]
        output: PathBuf,
        #[command(flatten)]
        features: Features,
    },
    /// Encode a WIT package as wasm.
    Encode {
        /// A `.wit` file or a package directory.
        path: PathBuf,
        /// Where to write the package (`-` is stdout).
        #[arg(short, long)]
        output: PathBuf,
        #[command(flatten)]
        features: Features,
    },
    /// Rewrite WIT of 2022–2023 (no `;`, `expected`, `union`, ...) in current syntax, in place.
    Upgrade {
        /// A `.wit` file, or a package directory (its `deps/` too).
        path: PathBuf,
        /// Print the diff instead of writing.
        #[arg(long)]
        dry_run: bool,
        /// The package of files without a `package` line (default: `local:NAME` after the file or directory).
        #[arg(long, value_name = "NS:NAME[@VERSION]")]
        package: Option<String>,
    },
}

/// `@unstable` feature gates, as in wasm-tools.
#[derive(Args)]
pub(crate) struct Features {
    /// Enable these `@unstable` features (comma separated).
    #[arg(long, value_delimiter = ',')]
    features: Vec<String>,
    /// Enable every `@unstable` feature.
    #[arg(long)]
    all_features: bool,
}

impl Features {
    pub(crate) fn options(&self) -> LoadOptions {
        LoadOptions {
            features: self.features.clone(),
            all_features: self.all_features,
        }
    }
}

pub fn run(cmd: WitCommand, ui: &Ui) -> Result<(), Failure> {
    match cmd {
        WitCommand::Check {
            paths,
            json,
            features,
        } => check(&paths, json, &features.options(), ui),
        WitCommand::Print {
            path,
            world,
            output,
            features,
        } => {
            let wit = load(&path, &features.options(), ui)?;
            let world = match &world {
                Some(name) => Some(wit.world(Some(name))?),
                None => None,
            };
            let text = wcomp_wit::print(&wit, world)?;
            write_output(&output, text.as_bytes())?;
            Ok(())
        }
        WitCommand::Encode {
            path,
            output,
            features,
        } => {
            let wit = load(&path, &features.options(), ui)?;
            let bytes = wcomp_wit::encode(&wit)?;
            write_output(&output, &bytes)?;
            if output != Path::new("-") {
                ui.info(format!(
                    "wrote {} ({} bytes, package {})",
                    output.display(),
                    bytes.len(),
                    wit.resolve.packages[wit.package].name
                ));
            }
            Ok(())
        }
        WitCommand::Upgrade {
            path,
            dry_run,
            package,
        } => upgrade(&path, dry_run, package, ui),
    }
}

fn load(path: &Path, opts: &LoadOptions, ui: &Ui) -> Result<Wit, Failure> {
    let wit = wcomp_wit::load(path, opts)?;
    ui.detail(format!(
        "loaded {} ({} packages)",
        path.display(),
        wit.resolve.packages.len()
    ));
    Ok(wit)
}

fn check(paths: &[PathBuf], json: bool, opts: &LoadOptions, ui: &Ui) -> Result<(), Failure> {
    let mut summaries = Vec::new();
    let mut failed = 0;
    for path in paths {
        match load(path, opts, ui) {
            Ok(wit) => summaries.push(Summary::of(&wit)),
            Err(Failure::User(d)) if paths.len() > 1 => {
                ui.error(d.as_ref());
                failed += 1;
            }
            Err(e) => return Err(e),
        }
    }
    if json {
        let text = serde_json::to_string_pretty(&summaries).map_err(|e| {
            Failure::from(wcomp_wit::WitError::Internal(format!("JSON output: {e}")))
        })?;
        crate::output::print_out(&format!("{text}\n"));
    } else if !ui.quiet {
        for s in &summaries {
            crate::output::print_out(&s.to_tree());
        }
    }
    if failed > 0 {
        ui.info(format!("{failed} of {} inputs failed", paths.len()));
        return Err(Failure::Reported);
    }
    Ok(())
}

fn upgrade(path: &Path, dry_run: bool, package: Option<String>, ui: &Ui) -> Result<(), Failure> {
    let opts = wcomp_wit::upgrade::UpgradeOptions { package };
    let set = wcomp_wit::upgrade::upgrade_path(path, &opts)?;
    if dry_run {
        for file in set.changed() {
            crate::output::print_out(&file.diff());
        }
    }
    if let Some(not_written) = set.not_written(dry_run) {
        for error in &set.errors {
            ui.error(error);
        }
        return Err(not_written.into());
    }
    let mut changed = 0;
    for file in set.changed() {
        changed += 1;
        let name = file.path.display();
        if !dry_run {
            write_output(&file.path, file.upgrade.text.as_bytes())?;
            ui.info(format!("upgraded {name}: {}", file.upgrade.summary()));
        }
        for note in &file.upgrade.notes {
            ui.info(format!("note: {name}: {note}"));
        }
    }
    if changed == 0 {
        ui.info(format!(
            "{}: already current syntax, nothing to do",
            path.display()
        ));
    }
    Ok(())
}
