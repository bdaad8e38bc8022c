//! Project automation, run as `cargo xtask <command>` (alias in `.cargo/config.toml`).
//!
//! Nearly std only on purpose: xtask is built before every task, so it must stay cheap to
//! compile (`bench` adds wasm-encoder and libc, both small).

mod bench;
mod c_toolchain;
mod demo;
mod demo_async;
mod go_toolchain;
mod guests;
mod step;
mod toolchain;

use std::env;
use std::process::ExitCode;

use step::Step;

/// One `cargo xtask` command: its name, a one-line summary and what it runs.
struct Command {
    name: &'static str,
    about: &'static str,
    run: Run,
}

enum Run {
    /// Steps run in order; the command takes no arguments.
    Steps(fn() -> Vec<Step>),
    /// Code of its own, given the arguments after the command name.
    Args(fn(&[String]) -> ExitCode),
}

/// Every command; the usage text is generated from this table, so adding a row is all it takes.
const COMMANDS: &[Command] = &[
    Command {
        name: "test",
        about: "the whole test suite: fmt check, clippy (-D warnings), cargo test",
        run: Run::Steps(test_steps),
    },
    Command {
        name: "demo",
        about: demo::ABOUT,
        run: Run::Args(demo::run),
    },
    Command {
        name: "bench",
        about: bench::ABOUT,
        run: Run::Args(bench::run),
    },
    Command {
        name: "toolchain",
        about: toolchain::ABOUT,
        run: Run::Args(toolchain::run),
    },
    Command {
        name: "build-guest",
        about: toolchain::BUILD_GUEST_ABOUT,
        run: Run::Args(toolchain::build_guest),
    },
    Command {
        name: "random-worlds",
        about: "round-trip the random WIT worlds of SEEDS (`7`, `1,5`, `100..200`) through a Rust \
                guest and wasmtime host bindings: the one-command repro of a failing seed",
        run: Run::Args(random_worlds),
    },
    Command {
        name: "build-fixtures",
        about: guests::BUILD_FIXTURES_ABOUT,
        run: Run::Args(guests::build_fixtures),
    },
];

fn test_steps() -> Vec<Step> {
    vec![
        Step::cargo(&["fmt", "--all", "--check"]),
        Step::cargo(&[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]),
        Step::cargo(&["test", "--workspace"]),
    ]
}

/// `cargo xtask random-worlds SEEDS`: `tests/random_worlds.rs` on those
/// seeds alone (its `build.rs` regenerates the typed host side for them).
fn random_worlds(args: &[String]) -> ExitCode {
    let [seeds] = args else {
        eprintln!("usage: cargo xtask random-worlds SEEDS   (e.g. `7`, `1,5,9`, `100..200`)");
        return ExitCode::from(1);
    };
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = std::process::Command::new(cargo)
        .args([
            "test",
            "--workspace",
            "--test",
            "random_worlds",
            "--",
            "--nocapture",
        ])
        .env("WCOMP_RANDOM_SEEDS", seeds)
        .status();
    match status {
        Ok(s) if s.success() => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: cannot run cargo: {e}");
            ExitCode::FAILURE
        }
    }
}

fn usage() -> String {
    let mut text = String::from("usage: cargo xtask <command>\n\ncommands:\n");
    let width = COMMANDS.iter().map(|c| c.name.len()).max().unwrap_or(0);
    for c in COMMANDS {
        text += &format!("  {:width$}  {}\n", c.name, c.about);
    }
    text += &format!("  {:width$}  print this message\n", "help");
    text
}

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let (name, rest) = match args.split_first() {
        None => ("help", &[][..]),
        Some((name, rest)) => (name.as_str(), rest),
    };
    if matches!(name, "help" | "-h" | "--help") {
        print!("{}", usage());
        return ExitCode::SUCCESS;
    }
    match COMMANDS.iter().find(|c| c.name == name) {
        Some(command) => match (&command.run, rest) {
            (Run::Args(run), _) => run(rest),
            (Run::Steps(steps), []) => step::run_all(&steps()),
            (Run::Steps(_), [extra, ..]) => {
                eprintln!("error: unexpected argument `{extra}`\n\n{}", usage());
                ExitCode::FAILURE
            }
        },
        None => {
            eprintln!("error: unknown command `{name}`\n\n{}", usage());
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_lists_every_command() {
        let text = usage();
        for c in COMMANDS {
            assert!(text.contains(c.name), "{} missing from usage", c.name);
        }
    }

    #[test]
    fn test_runs_fmt_first_and_tests_last() {
        let steps: Vec<String> = test_steps().iter().map(Step::to_string).collect();
        assert_eq!(steps.first().unwrap(), "cargo fmt --all --check");
        assert_eq!(steps.last().unwrap(), "cargo test --workspace");
    }
}
