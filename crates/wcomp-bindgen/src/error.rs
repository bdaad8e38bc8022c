//! Why bindings could not be generated: the input (a user error, exit 1
//! in the CLI) or a bug in wcomp (an internal error, exit 2).

use wcomp_abi::{AbiError, DriveError, FunctionPlan};

/// An error of [`generate`](crate::generate) or a backend.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum BindError {
    /// The world uses what the canonical-ABI plans do not cover (async
    /// functions and types, fixed-length lists), or a type too large
    /// to lay out.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Abi(#[from] AbiError),

    /// A shape of world this backend cannot express (so far).
    #[error("world `{world}` {what}; the {backend} backend cannot express that yet")]
    #[diagnostic(code(wcomp::bind::backend_unsupported), help("{help}"))]
    BackendWorld {
        world: String,
        backend: &'static str,
        what: String,
        help: &'static str,
    },

    /// A plan and a backend disagree (internal).
    #[error("{source}{}", within(.function))]
    #[diagnostic(code(wcomp::bind::internal), help("{REPORT}"))]
    Drive {
        source: DriveError,
        /// The function being written, once known.
        function: Option<String>,
    },

    /// A backend met a plan it cannot make sense of (internal).
    #[error("wcomp bug: {0}")]
    #[diagnostic(code(wcomp::bind::internal), help("{REPORT}"))]
    Internal(String),

    /// wit-component could not encode the world's component type
    /// (internal: the world was resolved already).
    #[error("wcomp bug: cannot encode the component type of world `{world}`: {message}")]
    #[diagnostic(code(wcomp::bind::internal), help("{REPORT}"))]
    Encode { world: String, message: String },
}

const REPORT: &str = "this is a bug in wcomp: please report it with the WIT that caused it";

fn within(function: &Option<String>) -> String {
    function
        .as_ref()
        .map(|f| format!(" (writing {f})"))
        .unwrap_or_default()
}

impl From<DriveError> for BindError {
    fn from(source: DriveError) -> Self {
        BindError::Drive {
            source,
            function: None,
        }
    }
}

impl BindError {
    /// A bug in wcomp rather than a property of the input.
    pub fn is_internal(&self) -> bool {
        matches!(
            self,
            BindError::Drive { .. } | BindError::Internal(_) | BindError::Encode { .. }
        )
    }

    /// Names the function being written in a driver error.
    pub(crate) fn writing(self, f: &FunctionPlan) -> Self {
        match self {
            BindError::Drive {
                source,
                function: None,
            } => BindError::Drive {
                source,
                function: Some(format!(
                    "{} `{}` of `{}`",
                    match f.direction {
                        wcomp_abi::Direction::Import => "import",
                        wcomp_abi::Direction::Export => "export",
                    },
                    f.function.name,
                    f.owner
                )),
            },
            other => other,
        }
    }
}
