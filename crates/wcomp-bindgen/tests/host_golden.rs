//! Host bindings kept as golden files: `fixtures/bind-host/<case>/` names
//! a WIT and its worlds (`source`) and holds each world's expected
//! `<world>_host.rs`. `BLESS=1` rewrites them. Every case is checked, and
//! every difference reported, before the test fails.

use std::fs;
use std::path::Path;

use wcomp_bindgen::{Lang, generate, rust_host};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .and_then(Path::parent)
        .expect("the workspace root")
}

#[test]
fn host_bindings_match_their_golden_files() {
    let cases = root().join("fixtures/bind-host");
    let bless = std::env::var_os("BLESS").is_some();
    let mut failures = Vec::new();
    let mut checked = 0;
    let mut entries: Vec<_> = fs::read_dir(&cases)
        .expect("fixtures/bind-host")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    entries.sort();
    for case in entries {
        let source = fs::read_to_string(case.join("source")).expect("a `source` file");
        let mut words = source.split_whitespace();
        let wit = words.next().expect("a WIT path in `source`");
        let wit = wcomp_wit::load(&root().join(wit), &Default::default())
            .unwrap_or_else(|e| panic!("{}: {e}", case.display()));
        for world in words {
            let id = wit
                .world(Some(world))
                .unwrap_or_else(|e| panic!("{}: {e}", case.display()));
            let files = generate(
                &wit.resolve,
                id,
                &Lang::RustHost(rust_host::Opts::default()),
            )
            .unwrap_or_else(|e| panic!("{}: world `{world}`: {e}", case.display()));
            for (name, text) in files.iter() {
                let expected = case.join(name);
                checked += 1;
                if bless {
                    fs::write(&expected, text).unwrap();
                    continue;
                }
                match fs::read_to_string(&expected) {
                    Ok(old) if old == text => {}
                    Ok(old) => failures.push(format!(
                        "{}: differs from the generated text:\n{}",
                        expected.display(),
                        similar::TextDiff::from_lines(old.as_str(), text)
                            .unified_diff()
                            .header("expected", "generated")
                    )),
                    Err(e) => failures.push(format!("{}: {e}", expected.display())),
                }
            }
        }
    }
    assert!(checked >= 4, "only {checked} golden files were checked");
    assert!(
        failures.is_empty(),
        "{}\n(run with BLESS=1 to accept the new output)",
        failures.join("\n\n")
    );
}
