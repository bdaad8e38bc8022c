//! Writing outputs: `-` is stdout; a file is written to a temporary file in
//! the same directory and renamed over the target, so that a failed run never
//! leaves a half-written or clobbered output.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use miette::Diagnostic;
use thiserror::Error;

#[derive(Debug, Error, Diagnostic)]
#[error("cannot write `{}`: {reason}", path.display())]
#[diagnostic(code(wcomp::write))]
pub struct WriteError {
    pub path: PathBuf,
    pub reason: std::io::Error,
    #[help]
    pub help: Option<String>,
}

impl WriteError {
    fn new(path: &Path, reason: std::io::Error) -> Self {
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
        let help = match dir {
            Some(d) if !d.is_dir() => format!(
                "the directory `{}` does not exist: create it first",
                d.display()
            ),
            _ => "check that the directory is writable and has room".to_string(),
        };
        WriteError {
            path: path.to_path_buf(),
            reason,
            help: Some(help),
        }
    }
}

/// Writes `bytes` to `path` atomically, or to stdout when `path` is `-`.
pub fn write_output(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    if path == Path::new("-") {
        let mut out = std::io::stdout().lock();
        return out
            .write_all(bytes)
            .and_then(|()| out.flush())
            .map_err(|e| WriteError::new(path, e));
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".into());
    let tmp = dir.join(format!(".{name}.{}.wcomp-tmp", std::process::id()));
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        // No fsync: the rename already keeps a failed run from leaving a
        // half-written file, and an fsync costs more than the rest of a
        // small `wcomp new`.
        f.write_all(bytes)?;
        fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(WriteError::new(path, e));
    }
    Ok(())
}

/// Refuses to write `output` over one of `inputs` (a typo such as
/// `-o keystore.wasm` for an input would destroy it). Compares canonical
/// paths, so `./a.wasm` and `a.wasm` are one file; an output that does not
/// exist yet clobbers nothing.
pub fn refuse_overwriting_input(output: &Path, inputs: &[PathBuf]) -> Result<(), OverwriteInput> {
    if output == Path::new("-") {
        return Ok(());
    }
    let Ok(out) = output.canonicalize() else {
        return Ok(());
    };
    match inputs
        .iter()
        .find(|i| i.canonicalize().is_ok_and(|i| i == out))
    {
        Some(input) => Err(OverwriteInput {
            output: output.to_path_buf(),
            // Named only where the spelling differs (`./a.wasm` and `a.wasm`).
            alias: (input != output).then(|| format!(" (`{}`)", input.display())),
        }),
        None => Ok(()),
    }
}

#[derive(Debug, Error, Diagnostic)]
#[error("the output `{}` is one of the inputs{}: writing it would destroy that input", output.display(), alias.as_deref().unwrap_or_default())]
#[diagnostic(
    code(wcomp::output_is_input),
    help("name another output file with `-o FILE`; the inputs are only read")
)]
pub struct OverwriteInput {
    pub output: PathBuf,
    /// How the input was spelled, when not as the output is.
    pub alias: Option<String>,
}

/// How messages name an output: `stdout` for `-`, else its path.
pub fn shown(path: &Path) -> String {
    if path == Path::new("-") {
        "stdout".to_string()
    } else {
        path.display().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_and_leaves_no_temporary() {
        let dir = std::env::temp_dir().join(format!("wcomp-out-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let target = dir.join("a.wasm");
        fs::write(&target, b"old").unwrap();
        write_output(&target, b"new").unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"new");
        let left: Vec<_> = fs::read_dir(&dir).unwrap().collect();
        assert_eq!(left.len(), 1);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn missing_directory_is_an_error_and_writes_nothing() {
        let target = std::env::temp_dir().join("wcomp-no-such-dir/x/a.wasm");
        assert!(write_output(&target, b"x").is_err());
        assert!(!target.exists());
    }
}
