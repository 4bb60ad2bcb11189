//! The one error type of the crate: every message starts with `FILE:LINE:` and says what
//! was expected and what was found, so that a user can fix the input without a debugger.

use std::fmt;
use std::sync::Arc;

/// Where a problem is: a file and a 1-based line (0 when the problem is the whole file or
/// has no line, e.g. a missing file). Displays as `FILE:LINE` or `FILE`. The name is
/// shared (`Arc`) because readers make one per row and must not allocate for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: Arc<str>,
    pub line: u64,
}

impl Location {
    pub fn new(file: impl Into<Arc<str>>, line: u64) -> Self {
        Self {
            file: file.into(),
            line,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.file)
        } else {
            write!(f, "{}:{}", self.file, self.line)
        }
    }
}

/// Everything that can go wrong reading, converting or writing a trace.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// The file could not be opened or read.
    #[error("{at}: expected a readable file, found an I/O error: {source}")]
    Io {
        at: Location,
        #[source]
        source: std::io::Error,
    },
    /// The file has no content at all.
    #[error("{at}: expected a header line or a first record, found an empty file")]
    Empty { at: Location },
    /// Neither the header nor the first JSON object matches a known format.
    #[error(
        "{at}: expected a known trace format (azure-llm-2023, burstgpt, mooncake, vllm-recording, canonical) or a --columns mapping, found {found}"
    )]
    UnknownFormat { at: Location, found: String },
    /// A column (CSV) or key (JSON) the format needs is absent.
    #[error("{at}: expected a column {column}, found {found}")]
    MissingColumn {
        at: Location,
        column: String,
        found: String,
    },
    /// A value has the wrong type or an impossible value (negative, NaN, absurd).
    #[error("{at}: column {column}: expected {expected}, found {found:?}")]
    InvalidField {
        at: Location,
        column: String,
        expected: String,
        found: String,
    },
    /// A line or record that is not well formed (bad JSON, not an object, ...).
    #[error("{at}: expected {expected}, found {found}")]
    Malformed {
        at: Location,
        expected: String,
        found: String,
    },
    /// An arrival earlier than the one before it; sorting is only done on request.
    #[error(
        "{at}: expected arrivals in non-decreasing time order (previous arrival at {previous_us} us), found {found_us} us; sort explicitly (--sort) to accept it"
    )]
    OutOfOrder {
        at: Location,
        previous_us: i64,
        found_us: i64,
    },
    /// The gzip stream ends before its trailer.
    #[error("{at}: expected more gzip-compressed data, found a truncated gzip stream")]
    TruncatedGzip { at: Location },
    /// A command-line or API option that cannot be understood.
    #[error("{option}: expected {expected}, found {found:?}")]
    InvalidOption {
        option: String,
        expected: String,
        found: String,
    },
    /// Writing the output failed.
    #[error("{at}: expected a writable output, found an I/O error: {source}")]
    Write {
        at: Location,
        #[source]
        source: std::io::Error,
    },
}

impl TraceError {
    /// The location the error names, when it names one.
    pub fn location(&self) -> Option<&Location> {
        match self {
            TraceError::Io { at, .. }
            | TraceError::Empty { at }
            | TraceError::UnknownFormat { at, .. }
            | TraceError::MissingColumn { at, .. }
            | TraceError::InvalidField { at, .. }
            | TraceError::Malformed { at, .. }
            | TraceError::OutOfOrder { at, .. }
            | TraceError::TruncatedGzip { at }
            | TraceError::Write { at, .. } => Some(at),
            TraceError::InvalidOption { .. } => None,
        }
    }

    /// The 1-based line the error names (0 for the whole file), when it names a file.
    pub fn line(&self) -> Option<u64> {
        self.location().map(|at| at.line)
    }

    pub(crate) fn invalid(
        at: Location,
        column: &str,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> Self {
        TraceError::InvalidField {
            at,
            column: column.to_string(),
            expected: expected.into(),
            found: found.into(),
        }
    }

    pub(crate) fn malformed(
        at: Location,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> Self {
        TraceError::Malformed {
            at,
            expected: expected.into(),
            found: found.into(),
        }
    }

    /// Classifies a read error: a gzip stream cut short reads as "unexpected end of file".
    pub(crate) fn from_read(at: Location, source: std::io::Error, gzip: bool) -> Self {
        let truncated = source.kind() == std::io::ErrorKind::UnexpectedEof;
        if gzip && truncated {
            TraceError::TruncatedGzip { at }
        } else if gzip && source.kind() == std::io::ErrorKind::InvalidInput {
            TraceError::malformed(
                at,
                "a valid gzip stream",
                format!("corrupt gzip data ({source})"),
            )
        } else {
            TraceError::Io { at, source }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_starts_with_file_and_line() {
        let error = TraceError::invalid(
            Location::new("data.csv", 17),
            "ContextTokens",
            "a non-negative integer",
            "abc",
        );
        assert_eq!(
            error.to_string(),
            "data.csv:17: column ContextTokens: expected a non-negative integer, found \"abc\""
        );
        assert_eq!(error.line(), Some(17));
    }

    #[test]
    fn whole_file_location_has_no_line() {
        let error = TraceError::Empty {
            at: Location::new("x.csv", 0),
        };
        assert!(error.to_string().starts_with("x.csv: expected"));
    }
}
