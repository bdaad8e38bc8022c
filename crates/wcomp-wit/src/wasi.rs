//! The WASI WIT that wcomp carries, so that a world such as
//! `wasi:http/proxy@0.2.12` or `wasi:cli/command@0.3.0` can be named
//! without a WIT folder at hand: WASI 0.2 (`fixtures/wasi/deps`, packages
//! at 0.2.12) and WASI 0.3 (`fixtures/wasi-0.3/deps`, at 0.3.0), both
//! vendored from wasmtime 48.0.8.

use wit_parser::{PackageName, Resolve, WorldId};

/// The versions of the WASI packages carried, oldest first.
pub const VERSIONS: [&str; 2] = ["0.2.12", "0.3.0"];

macro_rules! wit_files {
    ($dir:literal: $($name:literal),*) => {
        [$(($name, include_str!(concat!("../../../fixtures/", $dir, "/deps/", $name)))),*]
    };
}

/// The files, each one package, in an order where every package's
/// dependencies come first.
const FILES_0_2: [(&str, &str); 7] = wit_files!("wasi": "io.wit", "clocks.wit", "random.wit",
    "filesystem.wit", "sockets.wit", "cli.wit", "http.wit");
const FILES_0_3: [(&str, &str); 6] = wit_files!("wasi-0.3": "clocks.wit", "random.wit",
    "filesystem.wit", "sockets.wit", "cli.wit", "http.wit");

/// The carried WASI packages, resolved.
pub fn resolve() -> Resolve {
    let mut resolve = Resolve::default();
    for (name, text) in FILES_0_2.iter().chain(&FILES_0_3) {
        // Vendored, checked by this crate's tests: a failure is a bug.
        if let Err(e) = resolve.push_str(name, text) {
            panic!("the vendored WASI file {name} does not resolve: {e:#}");
        }
    }
    resolve
}

/// The world `qualified` names (`wasi:http/proxy@0.2.12`, or without the
/// version when only one version of the package has it), in `resolve`;
/// `Err` says what is there instead, or which versions to choose from.
pub fn find_world(resolve: &Resolve, qualified: &str) -> Result<WorldId, String> {
    let (path, version) = match qualified.split_once('@') {
        Some((p, v)) => (p, Some(v)),
        None => (qualified, None),
    };
    let Some((package, world)) = path.split_once('/') else {
        return Err(format!(
            "`{qualified}` is not a qualified world name (`namespace:package/world@version`)"
        ));
    };
    let Some((namespace, name)) = package.split_once(':') else {
        return Err(format!(
            "`{qualified}` is not a qualified world name (`namespace:package/world@version`)"
        ));
    };
    let mut candidates: Vec<(&PackageName, WorldId)> = resolve
        .packages
        .iter()
        .filter(|(_, p)| p.name.namespace == namespace && p.name.name == name)
        .filter(|(_, p)| match version {
            Some(v) => p
                .name
                .version
                .as_ref()
                .is_some_and(|pv| pv.to_string() == v),
            None => true,
        })
        .filter_map(|(_, p)| p.worlds.get(world).map(|w| (&p.name, *w)))
        .collect();
    candidates.sort_by(|a, b| a.0.version.cmp(&b.0.version));
    match &candidates[..] {
        [(_, id)] => return Ok(*id),
        [] => {}
        several => {
            // WASI 0.2 and 0.3 worlds differ in kind (0.3 is async): the
            // user says which.
            let names: Vec<String> = several
                .iter()
                .map(|(p, _)| match &p.version {
                    Some(v) => format!("`{path}@{v}`"),
                    None => format!("`{path}`"),
                })
                .collect();
            return Err(format!(
                "`{qualified}` is in {} versions: name one of {}",
                several.len(),
                names.join(", ")
            ));
        }
    }
    // With and without the version, as the name was given.
    let known: Vec<String> = resolve
        .worlds
        .iter()
        .filter_map(|(_, w)| {
            let p = &resolve.packages[w.package?].name;
            let plain = format!("{}:{}/{}", p.namespace, p.name, w.name);
            Some(match (&p.version, version) {
                (Some(v), Some(_)) => format!("{plain}@{v}"),
                _ => plain,
            })
        })
        .collect();
    let near = crate::similar_names(qualified, known.iter().map(String::as_str));
    Err(match near.first() {
        Some(n) => format!("no world `{qualified}` here; did you mean `{n}`?"),
        None => format!("no world `{qualified}` here"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vendored_worlds_are_found_by_qualified_name() {
        let resolve = resolve();
        for name in [
            "wasi:http/proxy@0.2.12",
            "wasi:http/proxy",
            "wasi:cli/command@0.2.12",
            "wasi:cli/command@0.3.0",
            "wasi:http/service@0.3.0",
            "wasi:http/service",
        ] {
            find_world(&resolve, name).unwrap();
        }
        let p2 = find_world(&resolve, "wasi:cli/command@0.2.12").unwrap();
        let p3 = find_world(&resolve, "wasi:cli/command@0.3.0").unwrap();
        assert_ne!(p2, p3);
        let err = find_world(&resolve, "wasi:cli/command").unwrap_err();
        assert!(
            err.contains(
                "in 2 versions: name one of `wasi:cli/command@0.2.12`, `wasi:cli/command@0.3.0`"
            ),
            "{err}"
        );
        let err = find_world(&resolve, "wasi:http/proxi@0.2.12").unwrap_err();
        assert!(
            err.contains("did you mean `wasi:http/proxy@0.2.12`"),
            "{err}"
        );
        let err = find_world(&resolve, "wasi:http/proxi").unwrap_err();
        assert!(err.contains("did you mean `wasi:http/proxy`"), "{err}");
        assert!(
            find_world(&resolve, "proxy")
                .unwrap_err()
                .contains("qualified")
        );
    }
}
