//! A step is one external command; steps run in order from the workspace root and stop at
//! the first failure.

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

pub struct Step {
    /// Short program name for display (`cargo`), independent of the path actually run.
    label: String,
    program: OsString,
    args: Vec<String>,
}

impl Step {
    /// A cargo invocation. Uses `$CARGO` so nested runs keep the toolchain that runs xtask.
    pub fn cargo(args: &[&str]) -> Step {
        Step {
            label: "cargo".into(),
            program: std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()),
            args: args.iter().map(|a| a.to_string()).collect(),
        }
    }

    /// Runs the step; `Err` holds a one-line reason for the failure.
    fn run(&self, root: &Path) -> Result<(), String> {
        let status = Command::new(&self.program)
            .args(&self.args)
            .current_dir(root)
            .status()
            .map_err(|e| format!("could not start {:?}: {e}", self.program))?;
        if status.success() {
            Ok(())
        } else {
            Err(status.to_string())
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.label)?;
        for arg in &self.args {
            write!(f, " {arg}")?;
        }
        Ok(())
    }
}

/// The workspace root, from where this crate sits in it (compile time, so it also works when
/// the binary is run directly rather than through cargo).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

fn secs(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}

/// Runs `steps` in order, printing each with its wall time; stops at the first failure.
/// Progress goes to stderr so it interleaves correctly with cargo's own output.
pub fn run_all(steps: &[Step]) -> ExitCode {
    let root = workspace_root();
    let total = Instant::now();
    for (i, step) in steps.iter().enumerate() {
        let n = format!("[{}/{}]", i + 1, steps.len());
        eprintln!("==> {n} {step}");
        let start = Instant::now();
        let result = step.run(&root);
        let took = secs(start.elapsed());
        if let Err(why) = result {
            eprintln!("==> FAILED {n} {step} ({why}) after {took}");
            return ExitCode::FAILURE;
        }
        eprintln!("==> ok {n} {step} in {took}");
    }
    eprintln!("==> all steps passed in {}", secs(total.elapsed()));
    ExitCode::SUCCESS
}

/// The first `name` (plus the platform's suffix) in a folder of PATH.
pub fn on_path(name: &str) -> Option<PathBuf> {
    let exe = format!("{name}{}", std::env::consts::EXE_SUFFIX);
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(&exe))
        .find(|p| p.is_file())
}
