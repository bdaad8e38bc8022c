//! `wcomp wit upgrade` on mutated old WIT (2022–2023 forms): every run ends
//! in exit 0 (the file upgraded, or nothing to do) or exit 1 (a diagnostic,
//! and the file byte for byte as it was), never exit 2 (an internal error)
//! or a crash, and leaves no temporary file. The library's own loop
//! (`crates/wcomp-wit/tests/mutations.rs`) upgrades many more mutants; this
//! runs the real CLI on a sample of them.

use std::fs;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Instant;

use wcomp_tests::{run, temporaries, text};

#[path = "../../crates/wcomp-wit/tests/common/mutate.rs"]
mod mutate;
use mutate::{OLD, Rng, mutate};

const SEED: u64 = 0x0c11_2022;
const CASES: usize = 200;
const WORKERS: usize = 2;

#[test]
fn upgrade_of_mutated_old_wit_exits_0_or_1_and_writes_only_on_0() {
    let started = Instant::now();
    let mut rng = Rng(SEED);
    let mutants: Vec<(usize, &str, String)> = (0..CASES)
        .map(|i| {
            let (name, base) = OLD[i % OLD.len()];
            (i, name, mutate(base, &mut rng))
        })
        .collect();
    let next = AtomicUsize::new(0);
    let (written, refused) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let failures: Vec<String> = thread::scope(|s| {
        let workers: Vec<_> = (0..WORKERS)
            .map(|_| {
                s.spawn(|| {
                    let mut failures = Vec::new();
                    while let Some((i, name, src)) =
                        mutants.get(next.fetch_add(1, Ordering::SeqCst))
                    {
                        match check(name, src) {
                            Ok(true) => written.fetch_add(1, Ordering::SeqCst),
                            Ok(false) => refused.fetch_add(1, Ordering::SeqCst),
                            Err(why) => {
                                failures.push(format!("mutant {i} of {name}: {why}\n{src}"));
                                0
                            }
                        };
                    }
                    failures
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| {
                w.join()
                    .unwrap_or_else(|_| vec!["a worker panicked".into()])
            })
            .collect()
    });
    let (written, refused) = (written.into_inner(), refused.into_inner());
    eprintln!(
        "{CASES} runs of `wcomp wit upgrade` in {:.1?}: {written} exit 0, {refused} exit 1",
        started.elapsed()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(
        written > 20 && refused > 100,
        "exit 0: {written}, exit 1: {refused}"
    );
}

/// Runs the upgrade on `src` as file `name`: `Ok(true)` for exit 0,
/// `Ok(false)` for exit 1 with the file left alone.
fn check(name: &str, src: &str) -> Result<bool, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let path = dir.path().join(name);
    fs::write(&path, src).map_err(|e| e.to_string())?;
    let out = run(["wit", "upgrade", name], dir.path());
    let stderr = text(&out.stderr);
    let after = fs::read(&path).map_err(|e| e.to_string())?;
    if let Some(tmp) = temporaries(dir.path()).first() {
        return Err(format!("left {} behind", tmp.display()));
    }
    match out.status.code() {
        Some(0) => Ok(true),
        Some(1) if after == src.as_bytes() => {
            if stderr.trim().is_empty() {
                return Err("exit 1 without a diagnostic".into());
            }
            Ok(false)
        }
        Some(1) => Err(format!("exit 1, but the file changed:\n{stderr}")),
        other => Err(format!("exit {other:?}:\n{stderr}")),
    }
}
