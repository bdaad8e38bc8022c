//! The errors this crate returns, as miette diagnostics.
//!
//! Every error names the file it is about; errors inside WIT text carry the
//! text itself, a labelled span and, where the fix is knowable, a help line.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use miette::{Diagnostic, LabeledSpan, NamedSource, SourceCode};
use thiserror::Error;

/// Everything that can go wrong while loading, resolving or writing WIT.
#[derive(Debug, Error, Diagnostic)]
pub enum WitError {
    /// A problem located in WIT source text.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Source(Box<SourceDiagnostic>),

    #[error("`{}` does not exist", path.display())]
    #[diagnostic(code(wit::not_found))]
    NotFound {
        path: PathBuf,
        #[help]
        help: Option<String>,
    },

    #[error("cannot read `{}`: {source}", path.display())]
    #[diagnostic(code(wcomp::io))]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("`{}` contains no `.wit` files", path.display())]
    #[diagnostic(
        code(wit::empty_dir),
        help(
            "a WIT package directory holds one or more `*.wit` files, and its dependencies in a `deps/` folder beside them"
        )
    )]
    EmptyDir { path: PathBuf },

    #[error("`{}` is not a WIT file: {what}", path.display())]
    #[diagnostic(code(wit::not_wit))]
    NotWit {
        path: PathBuf,
        what: String,
        #[help]
        help: Option<String>,
    },

    #[error("`{}` is wasm, but not a WIT package or component: {message}", path.display())]
    #[diagnostic(code(wit::bad_wasm))]
    BadWasm {
        path: PathBuf,
        message: String,
        #[help]
        help: Option<String>,
    },

    #[error("{message}")]
    #[diagnostic(code(wit::world))]
    World {
        message: String,
        #[help]
        help: Option<String>,
    },

    #[error("failed to encode the WIT package: {message}")]
    #[diagnostic(code(wit::encode))]
    Encode { message: String },

    #[error("`{value}` is not a package name: {reason}")]
    #[diagnostic(
        code(wit::package_name),
        help(
            "a package name is `namespace:name` or `namespace:name@version`, in kebab-case, e.g. `my-org:keystore@0.1.0`"
        )
    )]
    PackageName { value: String, reason: String },

    /// The upgraded text has errors (listed on their own): nothing was written.
    #[error("{message}")]
    #[diagnostic(code(wit::upgrade_not_written))]
    NotWritten {
        message: String,
        #[help]
        help: Option<String>,
    },

    /// A bug in wcomp or in a library under it, not in the input.
    #[error("internal error: {0}")]
    #[diagnostic(
        code(wcomp::internal),
        help("this is a bug in wcomp; please report it with the input that caused it")
    )]
    Internal(String),
}

impl WitError {
    /// True when the input was fine and wcomp failed (exit code 2, not 1).
    pub fn is_internal(&self) -> bool {
        matches!(self, WitError::Internal(_))
    }

    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        if source.kind() == std::io::ErrorKind::NotFound {
            WitError::NotFound {
                path: path.to_path_buf(),
                help: None,
            }
        } else {
            WitError::Io {
                path: path.to_path_buf(),
                source,
            }
        }
    }

    /// The diagnostic located in source text, if this is one.
    pub fn source_diagnostic(&self) -> Option<&SourceDiagnostic> {
        match self {
            WitError::Source(d) => Some(d),
            _ => None,
        }
    }
}

/// An error at a place in a WIT file: message, labelled spans, help.
#[derive(Debug)]
pub struct SourceDiagnostic {
    /// A stable identifier for the kind of problem, e.g. `wit::unknown_name`.
    pub code: String,
    /// wit-parser's message (first line), or ours.
    pub message: String,
    /// The file the spans point into.
    pub path: String,
    pub(crate) source: NamedSource<String>,
    /// The primary label first.
    pub labels: Vec<Label>,
    pub help: Option<String>,
}

/// Lines longer than this are not shown as snippets (they are unreadable,
/// and miette's renderer cannot pad past 65535 columns): the location is
/// printed in the message instead.
const MAX_SNIPPET_LINE: usize = 1000;

/// A labelled byte range in the diagnostic's file.
#[derive(Debug, Clone)]
pub struct Label {
    pub span: Range<usize>,
    pub text: String,
}

impl SourceDiagnostic {
    pub(crate) fn new(
        code: impl Into<String>,
        message: impl Into<String>,
        path: &str,
        text: &str,
    ) -> Self {
        SourceDiagnostic {
            code: code.into(),
            message: message.into(),
            path: path.to_string(),
            source: NamedSource::new(path, text.to_string()),
            labels: Vec::new(),
            help: None,
        }
    }

    pub(crate) fn label(mut self, span: Range<usize>, text: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            text: text.into(),
        });
        self
    }

    /// The source text the spans point into.
    pub fn text(&self) -> &str {
        self.source.inner()
    }

    /// 1-based line and column of the primary label.
    pub fn line_col(&self) -> Option<(usize, usize)> {
        let span = &self.labels.first()?.span;
        Some(line_col(self.text(), span.start))
    }
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..floor_char_boundary(text, offset)];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit_once('\n')
        .map_or(before, |(_, l)| l)
        .chars()
        .count()
        + 1;
    (line, col)
}

pub(crate) fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

impl SourceDiagnostic {
    /// True when a label sits on a line too long to show.
    fn snippet_too_wide(&self) -> bool {
        let text = self.text();
        self.labels.iter().any(|l| {
            let start = floor_char_boundary(text, l.span.start.min(text.len()));
            let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
            let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
            line_end - line_start > MAX_SNIPPET_LINE
        })
    }
}

impl fmt::Display for SourceDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if self.snippet_too_wide()
            && let Some((line, col)) = self.line_col()
        {
            write!(f, "\n  --> {}:{line}:{col}", self.path)?;
        }
        Ok(())
    }
}

impl std::error::Error for SourceDiagnostic {}

impl Diagnostic for SourceDiagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(&self.code))
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        (!self.snippet_too_wide()).then_some(&self.source as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.snippet_too_wide() {
            return None;
        }
        Some(Box::new(self.labels.iter().enumerate().map(|(i, l)| {
            let span = (l.span.start, l.span.end - l.span.start);
            let text = (!l.text.is_empty()).then(|| l.text.clone());
            if i == 0 {
                LabeledSpan::new_primary_with_span(text, span)
            } else {
                LabeledSpan::new_with_span(text, span)
            }
        })))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display + 'a>)
    }
}

impl From<SourceDiagnostic> for WitError {
    fn from(d: SourceDiagnostic) -> Self {
        WitError::Source(Box::new(d))
    }
}
