//! How the CLI talks to the user: diagnostics on stderr, rendered by miette
//! (no colour under `NO_COLOR` or when stderr is not a terminal), and the
//! exit code: 1 for bad input, 2 for an internal error.

use std::process::ExitCode;

use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme};

/// Output settings from the global flags.
pub struct Ui {
    pub quiet: bool,
    pub verbose: bool,
    pub color: bool,
}

/// Why a command failed.
pub enum Failure {
    /// Bad input: printed, exit 1.
    User(Box<dyn Diagnostic + Send + Sync>),
    /// A bug: printed, exit 2.
    Internal(Box<dyn Diagnostic + Send + Sync>),
    /// Already reported (several inputs, some failed): exit 1.
    Reported,
}

impl From<wcomp_wit::WitError> for Failure {
    fn from(e: wcomp_wit::WitError) -> Self {
        if e.is_internal() {
            Failure::Internal(Box::new(e))
        } else {
            Failure::User(Box::new(e))
        }
    }
}

impl From<wcomp_component::ComponentError> for Failure {
    fn from(e: wcomp_component::ComponentError) -> Self {
        if e.is_internal() {
            Failure::Internal(Box::new(e))
        } else {
            Failure::User(Box::new(e))
        }
    }
}

impl From<wcomp_compose::ComposeError> for Failure {
    fn from(e: wcomp_compose::ComposeError) -> Self {
        if e.is_internal() {
            Failure::Internal(Box::new(e))
        } else {
            Failure::User(Box::new(e))
        }
    }
}

impl From<wcomp_bindgen::BindError> for Failure {
    fn from(e: wcomp_bindgen::BindError) -> Self {
        if e.is_internal() {
            Failure::Internal(Box::new(e))
        } else {
            Failure::User(Box::new(e))
        }
    }
}

impl From<crate::output::WriteError> for Failure {
    fn from(e: crate::output::WriteError) -> Self {
        Failure::User(Box::new(e))
    }
}

impl From<crate::output::OverwriteInput> for Failure {
    fn from(e: crate::output::OverwriteInput) -> Self {
        Failure::User(Box::new(e))
    }
}

impl Ui {
    /// Prints a diagnostic to stderr.
    pub fn error(&self, diag: &dyn Diagnostic) {
        let theme = if self.color {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::unicode_nocolor()
        };
        let mut out = String::new();
        let handler = GraphicalReportHandler::new_themed(theme)
            .with_width(100)
            .with_links(false)
            .with_break_words(false)
            .with_word_splitter(textwrap::WordSplitter::NoHyphenation)
            // Break only at spaces so a `path:line:col` stays whole and clickable.
            .with_word_separator(textwrap::WordSeparator::AsciiSpace);
        if handler.render_report(&mut out, diag).is_err() {
            out = format!("error: {diag}\n");
        }
        eprint!("{out}");
    }

    /// A progress or result line, unless `--quiet`.
    pub fn info(&self, line: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("{}", line.as_ref());
        }
    }

    /// Detail shown with `--verbose`.
    pub fn detail(&self, line: impl AsRef<str>) {
        if self.verbose {
            eprintln!("{}", line.as_ref());
        }
    }

    pub fn fail(&self, failure: Failure) -> ExitCode {
        match failure {
            Failure::User(d) => {
                self.error(d.as_ref());
                ExitCode::from(1)
            }
            Failure::Internal(d) => {
                self.error(d.as_ref());
                ExitCode::from(2)
            }
            Failure::Reported => ExitCode::from(1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bug in the bindings generator exits 2, a world it cannot bind 1.
    #[test]
    fn bind_errors_exit_by_kind() {
        let internal = wcomp_bindgen::BindError::Internal("a plan the backend cannot read".into());
        assert!(matches!(Failure::from(internal), Failure::Internal(_)));
        let user = wcomp_bindgen::BindError::BackendWorld {
            world: "w".into(),
            backend: "Rust",
            what: "both imports and exports `a:b/i`".into(),
            help: "move it",
        };
        assert!(matches!(Failure::from(user), Failure::User(_)));
        let drive = wcomp_bindgen::BindError::from(wcomp_bindgen::abi::DriveError::Inputs {
            expected: 1,
            got: 0,
        });
        assert!(matches!(Failure::from(drive), Failure::Internal(_)));
    }
}
