//! `wcomp.toml`: a composition written down (components, wiring, policy)
//! for repeatable builds. Paths are relative to the file.
//!
//! ```toml
//! app = "app.wasm"
//! with = ["keystore.wasm"]
//! output = "composed.wasm"
//! strip = true
//!
//! [[plug]]
//! import = "wcomp:keystore/store"
//! component = "keystore.wasm"
//!
//! [policy]
//! deny = ["wasi:filesystem/*", "wasi:sockets/*"]
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::composition::{ComposeOptions, PlugSpec};
use crate::error::ComposeError;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    app: PathBuf,
    #[serde(default)]
    with: Vec<PathBuf>,
    output: Option<PathBuf>,
    #[serde(default)]
    strict: bool,
    #[serde(default)]
    strip: bool,
    /// `false` keeps every copy of identical core modules (`--no-dedup`).
    dedup: Option<bool>,
    #[serde(default)]
    plug: Vec<PlugEntry>,
    #[serde(default)]
    policy: Policy,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PlugEntry {
    import: String,
    component: PathBuf,
    export: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Policy {
    #[serde(default)]
    deny: Vec<String>,
    #[serde(default)]
    allow: Vec<String>,
}

/// A loaded `wcomp.toml`: the options, and the output it names.
pub struct Config {
    pub options: ComposeOptions,
    pub output: Option<PathBuf>,
}

/// Reads `path`; relative paths inside are taken from its folder.
pub fn load(path: &Path) -> Result<Config, ComposeError> {
    let text = std::fs::read_to_string(path).map_err(|e| ComposeError::Config {
        path: path.to_path_buf(),
        message: e.to_string(),
        help: None,
    })?;
    let file: File = toml::from_str(&text).map_err(|e| ComposeError::Config {
        path: path.to_path_buf(),
        message: e.to_string().trim_end().to_string(),
        help: Some(
            "keys are `app`, `with`, `output`, `strict`, `strip`, `dedup`, `[[plug]]` (`import`, `component`, `export`) and `[policy]` (`deny`, `allow`)".into(),
        ),
    })?;
    let dir = path.parent().unwrap_or(Path::new(""));
    let at = |p: &Path| {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            dir.join(p)
        }
    };
    let pattern = |s: &String| s.parse();
    let options = ComposeOptions {
        app: at(&file.app),
        with: file.with.iter().map(|p| at(p)).collect(),
        plugs: file
            .plug
            .iter()
            .map(|p| PlugSpec {
                spec: format!(
                    "{}={}{}",
                    p.import,
                    p.component.display(),
                    p.export
                        .as_deref()
                        .map(|e| format!(":{e}"))
                        .unwrap_or_default()
                ),
                import: p.import.clone(),
                path: at(&p.component),
                export: p.export.clone(),
            })
            .collect(),
        deny: file
            .policy
            .deny
            .iter()
            .map(pattern)
            .collect::<Result<_, _>>()?,
        allow: file
            .policy
            .allow
            .iter()
            .map(pattern)
            .collect::<Result<_, _>>()?,
        strict: file.strict,
        strip: file.strip,
        no_dedup: file.dedup == Some(false),
    };
    Ok(Config {
        options,
        output: file.output.as_deref().map(at),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_reads_relative_to_its_folder() {
        let dir = std::env::temp_dir().join(format!("wcomp-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("wcomp.toml");
        std::fs::write(
            &path,
            "app = \"app.wasm\"\nwith = [\"ks.wasm\"]\noutput = \"out.wasm\"\n[[plug]]\nimport = \"a:b/c\"\ncomponent = \"ks.wasm\"\n[policy]\ndeny = [\"wasi:filesystem/*\"]\n",
        )
        .unwrap();
        let c = load(&path).unwrap();
        assert_eq!(c.options.app, dir.join("app.wasm"));
        assert_eq!(c.options.with, vec![dir.join("ks.wasm")]);
        assert_eq!(c.output, Some(dir.join("out.wasm")));
        assert_eq!(c.options.plugs[0].spec, "a:b/c=ks.wasm");
        assert_eq!(c.options.deny.len(), 1);
        std::fs::write(&path, "app = \"a.wasm\"\nwiht = []\n").unwrap();
        let e = load(&path).err().unwrap().to_string();
        assert!(e.contains("wiht"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
