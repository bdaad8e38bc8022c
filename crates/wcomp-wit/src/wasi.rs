//! The WASI 0.2 WIT that wcomp carries (`fixtures/wasi/deps`, vendored from
//! wasmtime 48.0.8: packages at 0.2.12), so that a world such as
//! `wasi:http/proxy@0.2.12` can be named without a WIT folder at hand.

use wit_parser::{PackageName, Resolve, WorldId};

/// The version of the WASI packages carried.
pub const VERSION: &str = "0.2.12";

/// The files, each one package, in an order where every package's
/// dependencies come first.
const FILES: [(&str, &str); 7] = [
    ("io.wit", include_str!("../../../fixtures/wasi/deps/io.wit")),
    (
        "clocks.wit",
        include_str!("../../../fixtures/wasi/deps/clocks.wit"),
    ),
    (
        "random.wit",
        include_str!("../../../fixtures/wasi/deps/random.wit"),
    ),
    (
        "filesystem.wit",
        include_str!("../../../fixtures/wasi/deps/filesystem.wit"),
    ),
    (
        "sockets.wit",
        include_str!("../../../fixtures/wasi/deps/sockets.wit"),
    ),
    (
        "cli.wit",
        include_str!("../../../fixtures/wasi/deps/cli.wit"),
    ),
    (
        "http.wit",
        include_str!("../../../fixtures/wasi/deps/http.wit"),
    ),
];

/// The carried WASI packages, resolved.
pub fn resolve() -> Resolve {
    let mut resolve = Resolve::default();
    for (name, text) in FILES {
        // Vendored, checked by this crate's tests: a failure is a bug.
        if let Err(e) = resolve.push_str(name, text) {
            panic!("the vendored WASI file {name} does not resolve: {e:#}");
        }
    }
    resolve
}

/// The world `qualified` names (`wasi:http/proxy@0.2.12`, or without the
/// version: the newest of that package), in `resolve`; `Err` says what is
/// there instead.
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
    if let Some((_, id)) = candidates.last() {
        return Ok(*id);
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
        ] {
            find_world(&resolve, name).unwrap();
        }
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
