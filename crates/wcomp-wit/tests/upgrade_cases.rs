//! The upgrade rewriter, case by case: every folder under `fixtures/upgrade/`
//! is one test (see the README there). `BLESS=1` rewrites the expectations.

use std::fs;
use std::path::{Path, PathBuf};

use libtest_mimic::{Arguments, Failed, Trial};
use wcomp_wit::diagnostic::line_col;
use wcomp_wit::legacy::{self, Context, Upgrade};
use wcomp_wit::wit_parser::ParseErrorKind;
use wcomp_wit::{LoadOptions, load_str};

fn main() {
    let args = Arguments::from_args();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/upgrade");
    let mut cases: Vec<PathBuf> = fs::read_dir(&root)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(!cases.is_empty(), "no cases under {}", root.display());
    let trials = cases
        .into_iter()
        .map(|dir| {
            let name = dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            Trial::test(name, move || check(&dir))
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}

fn bless() -> bool {
    std::env::var_os("BLESS").is_some_and(|v| !v.is_empty())
}

fn check(case: &Path) -> Result<(), Failed> {
    let inputs: Vec<PathBuf> = fs::read_dir(case)?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "wit"))
        .collect();
    let [input] = inputs.as_slice() else {
        return Err(format!("expected one `.wit` input, found {}", inputs.len()).into());
    };
    let file_name = input
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = input
        .file_stem()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let src = fs::read_to_string(input)?;
    let mut cx = Context::for_file(&stem);
    if let Ok(package) = fs::read_to_string(case.join("package")) {
        cx.package = Some(package.trim().to_string());
    }
    let result = legacy::upgrade(&src, &cx);
    let stuck = result.unfixable().next().is_some();

    let mut problems = Vec::new();
    let expected = case.join("upgraded").join(&file_name);
    let output = (!stuck).then_some(result.text.as_str());
    expect(&expected, output, &mut problems)?;
    expect(
        &case.join("report"),
        Some(&report(&src, &result, &file_name)),
        &mut problems,
    )?;

    if !stuck {
        let again = legacy::upgrade(&result.text, &cx);
        if again.changed() {
            problems.push(format!(
                "upgrading the output again changes it:\n{}",
                again.diff(&result.text, &file_name)
            ));
        }
        let mut map = wcomp_wit::wit_parser::SourceMap::new();
        map.push_str(&file_name, result.text.as_str());
        // Syntax only: a name the snippet never declares is fine here.
        if let Err((_, e)) = map.parse()
            && matches!(
                e.kind(),
                ParseErrorKind::Syntax { .. } | ParseErrorKind::Lex(_)
            )
        {
            problems.push(format!("the output does not parse: {e}"));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n").into())
    }
}

/// What the upgrade found and whether its output loads, as the `report` file.
fn report(src: &str, result: &Upgrade, name: &str) -> String {
    let mut out = format!("summary: {}\n", result.summary());
    for (title, fixable) in [("rewritten", true), ("no mechanical rewrite", false)] {
        let uses: Vec<_> = result
            .uses
            .iter()
            .filter(|u| u.fixable == fixable)
            .collect();
        if uses.is_empty() {
            continue;
        }
        out.push_str(&format!("{title}:\n"));
        for u in uses {
            let (line, col) = line_col(src, u.span.start);
            let found = u.found.split_whitespace().collect::<Vec<_>>().join(" ");
            out.push_str(&format!("  {line}:{col} `{found}`: now {}\n", u.now));
        }
    }
    if !result.notes.is_empty() {
        out.push_str("notes:\n");
        for note in &result.notes {
            out.push_str(&format!("  {note}\n"));
        }
    }
    if result.unfixable().next().is_none() {
        let loads = match load_str(name, &result.text, &LoadOptions::default()) {
            Ok(_) => "yes".to_string(),
            Err(e) => {
                let code = e
                    .source_diagnostic()
                    .map_or("error".to_string(), |d| d.code.clone());
                format!("no, {code}: {e}")
            }
        };
        out.push_str(&format!("output loads: {loads}\n"));
    }
    out
}

/// Compares `path` with `actual` (`None`: the file must not exist), or
/// writes it under `BLESS`.
fn expect(path: &Path, actual: Option<&str>, problems: &mut Vec<String>) -> std::io::Result<()> {
    let name = path.display();
    if bless() {
        match actual {
            Some(text) => {
                if let Some(dir) = path.parent() {
                    fs::create_dir_all(dir)?;
                }
                fs::write(path, text)?;
            }
            None if path.exists() => fs::remove_file(path)?,
            None => {}
        }
        return Ok(());
    }
    let found = fs::read_to_string(path).ok();
    match (found.as_deref(), actual) {
        (Some(a), Some(b)) if a == b => {}
        (None, None) => {}
        (Some(_), None) => problems.push(format!("{name} should not exist (BLESS=1 removes it)")),
        (None, Some(_)) => problems.push(format!("{name} is missing (BLESS=1 writes it)")),
        (Some(want), Some(got)) => {
            let diff = similar::TextDiff::from_lines(want, got)
                .unified_diff()
                .header("expected", "actual")
                .to_string();
            problems.push(format!("{name} differs (BLESS=1 accepts it):\n{diff}"));
        }
    }
    Ok(())
}
