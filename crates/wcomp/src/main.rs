//! `wcomp`: the command line over the wcomp libraries. Parsing arguments,
//! printing diagnostics and writing files happen here; everything else is a
//! library call that a build script can make too.

mod bind_cmd;
mod component_cmd;
mod compose_cmd;
mod output;
mod report;
mod targets_cmd;
mod wit_cmd;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

use report::Ui;

/// One toolchain for WebAssembly components: WIT, bindings, wrapping, composition.
#[derive(Parser)]
#[command(name = "wcomp", version, about, long_about = None, propagate_version = true)]
struct Cli {
    /// Print only errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// Print more about what is done.
    #[arg(short, long, global = true)]
    verbose: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check, print, encode and upgrade WIT.
    #[command(subcommand)]
    Wit(wit_cmd::WitCommand),
    /// Wrap a core wasm module into a component.
    New(component_cmd::NewArgs),
    /// Write guest bindings for a WIT world (Rust, C, Go), or host bindings (Rust).
    Bind(bind_cmd::BindArgs),
    /// Embed a WIT world into a core module (a `component-type` section) for `wcomp new`.
    Embed(component_cmd::EmbedArgs),
    /// Show what a wasm file is: its world, capabilities, modules and sections.
    Inspect(component_cmd::InspectArgs),
    /// Plug components together into one: imports satisfied by other components' exports.
    Compose(compose_cmd::ComposeArgs),
    /// Check that a component fits a world, such as a platform's (`wasi:http/proxy@0.2.12`).
    Targets(targets_cmd::TargetsArgs),
    /// Print a shell completion script.
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
}

fn main() -> ExitCode {
    // A usage error is the user's, so it exits 1 (clap's own default is 2,
    // which wcomp keeps for internal errors).
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let ui = Ui {
        quiet: cli.quiet,
        verbose: cli.verbose,
        color: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            && std::io::stderr().is_terminal(),
    };
    let result = match cli.command {
        Command::Wit(cmd) => wit_cmd::run(cmd, &ui),
        Command::New(args) => component_cmd::new(args, &ui),
        Command::Embed(args) => component_cmd::embed(args, &ui),
        Command::Bind(args) => bind_cmd::run(args, &ui),
        Command::Inspect(args) => component_cmd::inspect(args),
        Command::Compose(args) => compose_cmd::run(args, &ui),
        Command::Targets(args) => targets_cmd::run(args),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "wcomp", &mut std::io::stdout());
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => ui.fail(failure),
    }
}
