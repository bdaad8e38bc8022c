//! What a backend writes: files by name, in memory. Generation never
//! touches the disk; the caller (the CLI, a `build.rs`) writes or checks
//! them.

use std::collections::BTreeMap;

/// Generated files, by name (a path relative to the output directory,
/// `/`-separated), in name order: the same set and order on every run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Files {
    files: BTreeMap<String, String>,
}

impl Files {
    /// The files, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.files.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The contents of file `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.files.get(name).map(String::as_str)
    }

    /// How many files.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Adds (or replaces) file `name`.
    pub(crate) fn insert(&mut self, name: String, contents: String) {
        self.files.insert(name, contents);
    }
}

impl IntoIterator for Files {
    type Item = (String, String);
    type IntoIter = std::collections::btree_map::IntoIter<String, String>;

    /// The files, in name order.
    fn into_iter(self) -> Self::IntoIter {
        self.files.into_iter()
    }
}
