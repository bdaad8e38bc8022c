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
///
/// Only a regular file is replaced by a rename. An existing device or pipe
/// (`-o /dev/null`, `-o /dev/stdout`, a FIFO) is written in place: a rename
/// would replace the device node itself, and as root `/dev/null` would become
/// a regular file that every later `2>/dev/null` fills. A symbolic link is
/// followed, so the link stays and the file it names is replaced.
/// Writes `text` to stdout. A reader that went away (`wcomp inspect x.wasm |
/// head`) is not an error, nor a reason to panic as `print!` does: the rest
/// is dropped.
pub fn print_out(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

pub fn write_output(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    if path == Path::new("-") {
        let mut out = std::io::stdout().lock();
        return out
            .write_all(bytes)
            .and_then(|()| out.flush())
            .map_err(|e| WriteError::new(path, e));
    }
    let target = match fs::metadata(path) {
        Ok(meta) if !meta.is_file() => {
            return write_in_place(path, bytes).map_err(|e| WriteError::new(path, e));
        }
        // Through a symbolic link: the link's target is what gets replaced.
        Ok(_) => path.canonicalize().unwrap_or_else(|_| path.to_path_buf()),
        Err(_) => path.to_path_buf(),
    };
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = target
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
        drop(f);
        replace(&tmp, &target)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(WriteError::new(path, e));
    }
    Ok(())
}

/// Puts `tmp` in the place of `target` atomically: a reader sees the old
/// file or the new one, never a mix.
///
/// On Linux an existing target is swapped with `tmp` (`RENAME_EXCHANGE`)
/// and the old file, now named `tmp`, removed: ext4 flushes the data of a
/// file renamed over another (`auto_da_alloc`), which on a 30 MB output
/// costs more than the write itself, and it does not for an exchange.
/// Where the target is new or the exchange is not supported, a rename.
fn replace(tmp: &Path, target: &Path) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    if exchange(tmp, target).is_ok() {
        // Only the old contents are lost if this fails: the new file is in place.
        let _ = fs::remove_file(tmp);
        return Ok(());
    }
    fs::rename(tmp, target)
}

#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| CString::new(p.as_os_str().as_bytes()).map_err(std::io::Error::other);
    let (a, b) = (c(a)?, c(b)?);
    // The raw call: musl's libc crate has no renameat2 wrapper.
    // SAFETY: both are NUL-terminated paths that live across the call.
    let r = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Writes to something that is not a regular file (a device or a pipe),
/// which has no half-written state to protect.
fn write_in_place(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = fs::OpenOptions::new().write(true).open(path)?;
    f.write_all(bytes)?;
    f.flush()
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
    fn a_symbolic_link_stays_and_its_file_is_replaced() {
        let dir = std::env::temp_dir().join(format!("wcomp-out-link-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let real = dir.join("real.wasm");
        let link = dir.join("link.wasm");
        fs::write(&real, b"old").unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        write_output(&link, b"new").unwrap();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read(&real).unwrap(), b"new");
        fs::remove_dir_all(&dir).unwrap();
    }

    /// A pipe is written through, not replaced: the same path as
    /// `-o /dev/null`, tested without touching the real device.
    #[test]
    fn a_pipe_is_written_in_place_not_replaced() {
        use std::os::unix::fs::FileTypeExt;
        let dir = std::env::temp_dir().join(format!("wcomp-out-fifo-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("pipe");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if !made.is_ok_and(|s| s.success()) {
            eprintln!("skipped: no mkfifo");
            return;
        }
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || fs::read(&fifo).unwrap())
        };
        write_output(&fifo, b"through the pipe").unwrap();
        assert_eq!(reader.join().unwrap(), b"through the pipe");
        assert!(fs::metadata(&fifo).unwrap().file_type().is_fifo());
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1, "no temporary left");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn missing_directory_is_an_error_and_writes_nothing() {
        let target = std::env::temp_dir().join("wcomp-no-such-dir/x/a.wasm");
        assert!(write_output(&target, b"x").is_err());
        assert!(!target.exists());
    }
}
