//! No input makes the WIT front end panic: seeded loops mutate the keystore
//! WIT (and a legacy variant) a few thousand ways, load each, and render
//! every error the way the CLI does; and mutate old WIT (2022–2023 forms)
//! and upgrade each, which must end in an upgrade or a user error, never
//! an internal error.

use std::fs;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Instant;

use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme};
use wcomp_wit::upgrade::{UpgradeOptions, upgrade_path};
use wcomp_wit::{LoadOptions, WitError, legacy, load_str};

mod common;
use common::mutate::{OLD, Rng, mutate};

const KEYSTORE: &str = include_str!("../../../wit/keystore.wit");

/// Renders `e` as the CLI does; the text must not be empty.
fn render(handler: &GraphicalReportHandler, e: &dyn Diagnostic) -> Result<String, String> {
    let mut out = String::new();
    handler
        .render_report(&mut out, e)
        .map_err(|_| "cannot render the error".to_string())?;
    if out.is_empty() {
        return Err("the rendered error is empty".into());
    }
    Ok(out)
}

#[test]
fn mutated_wit_never_panics() {
    // Mutants are loaded as lone text, without `wit/deps`: drop the WASI
    // import, or nearly every mutant would stop at the missing package.
    let clock = "import wasi:clocks/monotonic-clock@0.2.12;";
    assert!(KEYSTORE.contains(clock), "update the import mutants drop");
    let keystore = KEYSTORE.replace(clock, "");
    let legacy_src = keystore.replace("result<_, error>", "expected<unit, error>");
    let handler = GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor());
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let (mut ok, mut failed) = (0, 0);
    for i in 0..3000 {
        let base = if i % 3 == 0 { &legacy_src } else { &keystore };
        let text = mutate(base, &mut rng);
        let _ = legacy::upgrade(&text, &legacy::Context::default());
        match load_str("mutant.wit", &text, &LoadOptions::default()) {
            Ok(_) => ok += 1,
            Err(e) => {
                failed += 1;
                assert!(
                    !e.is_internal(),
                    "internal error on input {i}:\n{text}\n{e}"
                );
                if let Err(why) = render(&handler, &e) {
                    panic!("{why}, for input {i}:\n{text}");
                }
            }
        }
    }
    // The loop must exercise both paths to mean anything.
    assert!(ok > 50 && failed > 1000, "ok {ok}, failed {failed}");
}

/// How many mutants of old WIT are upgraded (the CLI runs a sample of its own).
const OLD_MUTANTS: usize = 1500;

#[test]
fn mutated_old_wit_upgrades_or_fails_as_the_users_error() {
    let started = Instant::now();
    let handler = GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor());
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut rng = Rng(0x0001_d5a7_2022);
    // Upgraded and written; upgraded but not loadable; refused (no rewrite).
    let (mut clean, mut unloadable, mut refused) = (0, 0, 0);
    for i in 0..OLD_MUTANTS {
        let (name, base) = OLD[i % OLD.len()];
        let text = mutate(base, &mut rng);
        let path = dir.path().join(name);
        fs::write(&path, &text).expect("write the mutant");
        let fail = |why: String| -> ! { panic!("{why}, for mutant {i} of {name}:\n{text}") };
        let result = catch_unwind(AssertUnwindSafe(|| {
            upgrade_path(&path, &UpgradeOptions::default())
        }))
        .unwrap_or_else(|_| fail("upgrading panicked".into()));
        let not_written = result.as_ref().ok().and_then(|set| set.not_written(false));
        let errors: Vec<&WitError> = match &result {
            Ok(set) if set.errors.is_empty() => {
                clean += 1;
                Vec::new()
            }
            Ok(set) => {
                unloadable += 1;
                set.errors.iter().chain(not_written.as_ref()).collect()
            }
            Err(e) => {
                refused += 1;
                vec![e]
            }
        };
        for e in errors {
            if e.is_internal() {
                fail(format!("internal error: {e}"));
            }
            if let Err(why) = render(&handler, e) {
                fail(why);
            }
        }
        // The library never writes; the CLI's own sample checks what it writes.
        let after = fs::read_to_string(&path).unwrap_or_default();
        if after != text {
            fail("the library changed the file".into());
        }
        if let Ok(set) = &result
            && set.errors.is_empty()
        {
            // What is written loads, and upgrading it again changes nothing.
            for file in set.changed() {
                let again = legacy::upgrade(&file.upgrade.text, &legacy::Context::for_file("x"));
                if again.changed() && again.unfixable().next().is_none() {
                    let diff = again.diff(&file.upgrade.text, name);
                    fail(format!("upgrading the output again changes it:\n{diff}"));
                }
            }
        }
    }
    let took = started.elapsed();
    eprintln!(
        "{OLD_MUTANTS} old-WIT mutants in {took:.1?}: {clean} upgraded, {unloadable} upgraded but not loadable, {refused} refused"
    );
    assert!(
        clean > 100 && unloadable > 300 && refused > 20,
        "clean {clean}, unloadable {unloadable}, refused {refused}"
    );
}
