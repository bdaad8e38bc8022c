//! Interface names with versions (`wcomp:keystore/store@0.1.0`) and when an
//! exported version satisfies an imported one.

use std::fmt;

use semver::Version;

/// `namespace:package/interface@version`, split.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InterfaceName {
    /// `namespace:package`.
    pub package: String,
    pub interface: String,
    pub version: Option<Version>,
}

impl InterfaceName {
    /// Parses an import or export name; `None` for plain names (`run`,
    /// a world-level function) and anything else that is not an interface.
    pub fn parse(name: &str) -> Option<InterfaceName> {
        let (path, version) = match name.split_once('@') {
            Some((path, v)) => (path, Some(Version::parse(v).ok()?)),
            None => (name, None),
        };
        let (package, interface) = path.split_once('/')?;
        if !package.contains(':') || interface.is_empty() || interface.contains('/') {
            return None;
        }
        Some(InterfaceName {
            package: package.to_string(),
            interface: interface.to_string(),
            version,
        })
    }

    /// `namespace:package/interface`, the part matching ignores versions of.
    pub fn unversioned(&self) -> String {
        format!("{}/{}", self.package, self.interface)
    }
}

impl fmt::Display for InterfaceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.package, self.interface)?;
        if let Some(v) = &self.version {
            write!(f, "@{v}")?;
        }
        Ok(())
    }
}

/// Whether an export at version `export` can satisfy an import of version
/// `import`, and if not, why not (a sentence for `--explain`).
///
/// Semver as Cargo reads it: the same major version at 1.0 and above, the
/// same minor below 1.0 (0.1.x never satisfies 0.2.x), the exact patch for
/// 0.0.x; within that, the export must be at least as new as the import,
/// since the importer may use what a later release added. An unversioned
/// name only matches an unversioned one.
pub fn satisfies(import: Option<&Version>, export: Option<&Version>) -> Result<(), String> {
    match (import, export) {
        (None, None) => Ok(()),
        (Some(i), None) => Err(format!("the import wants version {i}; the export has none")),
        (None, Some(e)) => Err(format!(
            "the export is version {e}; the import names no version"
        )),
        (Some(i), Some(e)) => {
            if track(i) != track(e) {
                return Err(format!(
                    "{e} is not compatible with {i}: {}",
                    match track(i) {
                        Track::Major(_) => "a different major version",
                        Track::Minor(_) => "below 1.0, a different minor version",
                        Track::Exact(_) => "0.0.x versions match only exactly",
                    }
                ));
            }
            if !i.pre.is_empty() || !e.pre.is_empty() {
                if i == e {
                    return Ok(());
                }
                return Err(format!(
                    "pre-release versions match only exactly ({i} vs {e})"
                ));
            }
            if e < i {
                return Err(format!(
                    "{e} is older than the {i} the import wants: it may lack what {i} added"
                ));
            }
            Ok(())
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Track {
    Major(u64),
    Minor(u64),
    Exact(u64),
}

fn track(v: &Version) -> Track {
    match (v.major, v.minor) {
        (0, 0) => Track::Exact(v.patch),
        (0, minor) => Track::Minor(minor),
        (major, _) => Track::Major(major),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn names_parse() {
        let n = InterfaceName::parse("wcomp:keystore/store@0.1.0").unwrap();
        assert_eq!(n.package, "wcomp:keystore");
        assert_eq!(n.interface, "store");
        assert_eq!(n.version, Some(v("0.1.0")));
        assert_eq!(n.to_string(), "wcomp:keystore/store@0.1.0");
        assert_eq!(n.unversioned(), "wcomp:keystore/store");
        assert!(InterfaceName::parse("run").is_none());
        assert!(InterfaceName::parse("a:b/c@x").is_none());
        assert!(InterfaceName::parse("a:b/c").unwrap().version.is_none());
    }

    #[test]
    fn semver_rules() {
        let ok = |i: &str, e: &str| satisfies(Some(&v(i)), Some(&v(e))).is_ok();
        assert!(ok("0.1.0", "0.1.0"));
        assert!(ok("0.1.0", "0.1.7"));
        assert!(!ok("0.1.3", "0.1.0"), "older export");
        assert!(!ok("0.1.0", "0.2.0"), "across minors below 1.0");
        assert!(!ok("0.2.0", "0.1.9"));
        assert!(ok("1.2.0", "1.9.1"));
        assert!(!ok("1.0.0", "2.0.0"), "across majors");
        assert!(!ok("0.0.1", "0.0.2"), "0.0.x exact");
        assert!(ok("2.0.0-rc.1", "2.0.0-rc.1"));
        assert!(!ok("2.0.0-rc.1", "2.0.0-rc.2"));
        assert!(satisfies(None, None).is_ok());
        assert!(satisfies(Some(&v("1.0.0")), None).is_err());
    }
}
