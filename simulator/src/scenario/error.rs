//! The one error type of scenario loading: every message names the scenario file, the
//! field path (`trace.generate.rate`, `scalers[2].file`) and, where the YAML parser or a
//! span knows it, the line.

use std::fmt;

/// Where in the scenario a problem is: the file, an optional 1-based line and the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct At {
    pub file: String,
    pub line: Option<u64>,
    pub field: String,
}

impl At {
    pub fn new(file: impl Into<String>, line: Option<u64>, field: impl Into<String>) -> At {
        At {
            file: file.into(),
            line,
            field: field.into(),
        }
    }
}

impl fmt::Display for At {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) if line > 0 => write!(f, "{}:{}: {}", self.file, line, self.field),
            _ => write!(f, "{}: {}", self.file, self.field),
        }
    }
}

/// A scenario that cannot be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// A file the scenario needs could not be read.
    #[error("{at}: cannot read {path}: {error}")]
    Io {
        at: At,
        path: String,
        error: std::io::Error,
    },
    /// The YAML does not parse into the scenario's shape (the parser's message carries
    /// the line and column, and names an unknown key).
    #[error("{file}: {message}")]
    Parse { file: String, message: String },
    /// A value is out of range or inconsistent with another.
    #[error("{at}: expected {expected}, found {found}")]
    Invalid {
        at: At,
        expected: String,
        found: String,
    },
    /// Any other problem at a field (a manifest that does not validate, a trace that does
    /// not read, an unknown catalog entry), with the underlying message.
    #[error("{at}: {message}")]
    At { at: At, message: String },
}

impl ScenarioError {
    /// An out-of-range or inconsistent value.
    pub fn invalid(at: At, expected: impl Into<String>, found: impl fmt::Display) -> Self {
        ScenarioError::Invalid {
            at,
            expected: expected.into(),
            found: found.to_string(),
        }
    }

    /// A problem at a field, with the underlying error's message.
    pub fn at(at: At, message: impl fmt::Display) -> Self {
        ScenarioError::At {
            at,
            message: message.to_string(),
        }
    }

    /// The field path the error is about, when it is about one.
    pub fn field(&self) -> Option<&str> {
        match self {
            ScenarioError::Io { at, .. }
            | ScenarioError::Invalid { at, .. }
            | ScenarioError::At { at, .. } => Some(&at.field),
            ScenarioError::Parse { .. } => None,
        }
    }
}
