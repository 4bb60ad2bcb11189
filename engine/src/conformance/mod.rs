//! Conformance cases: upstream HPA and Knative test expectations as JSON data.
//!
//! The format is described in `shared/conformance/SCHEMA.md`. A case is parsed strictly
//! (unknown fields are errors, so a typo cannot silently pass) and checked against the
//! engine; the result lists every field that differed. Reading files is the caller's
//! job: this module only sees text, which keeps the engine free of IO.

mod hpa_cases;
mod kpa_cases;
mod window_cases;

use serde::Deserialize;
use serde_json::Value;

/// The common envelope of every case.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope {
    id: String,
    kind: String,
    #[serde(default)]
    #[allow(dead_code)] // documentation for humans; parsed so that it is not an unknown field
    source: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    note: Option<String>,
    input: Value,
    expect: Value,
}

/// Why a case could not be run at all (as opposed to running and failing).
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    #[error("not a conformance case: {0}")]
    Envelope(serde_json::Error),
    #[error(
        "case {id}: unknown kind `{kind}` (expected hpa_replicas, hpa_behavior, hpa_stabilization, kpa_decider or window_average)"
    )]
    UnknownKind { id: String, kind: String },
    #[error("case {id}: {field}: {message}")]
    Field {
        id: String,
        field: String,
        message: String,
    },
}

/// The result of running one case.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseReport {
    pub id: String,
    pub kind: String,
    /// One line per expectation that differed; empty when the case passed.
    pub mismatches: Vec<String>,
}

impl CaseReport {
    pub fn passed(&self) -> bool {
        self.mismatches.is_empty()
    }
}

/// A problem in a case's `input` or `expect`, before the case id is known to the adapter.
#[derive(Debug)]
pub(crate) struct InputError {
    pub field: String,
    pub message: String,
}

impl InputError {
    pub(crate) fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        InputError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Parses `value` strictly as `T`, naming `field` in the error.
pub(crate) fn parse<T: serde::de::DeserializeOwned>(
    field: &str,
    value: Value,
) -> Result<T, InputError> {
    serde_json::from_value(value).map_err(|e| InputError::new(field, e.to_string()))
}

/// Runs one case given as JSON text.
pub fn run_case(text: &str) -> Result<CaseReport, CaseError> {
    let envelope: Envelope = serde_json::from_str(text).map_err(CaseError::Envelope)?;
    let Envelope {
        id,
        kind,
        input,
        expect,
        ..
    } = envelope;
    let result = match kind.as_str() {
        "hpa_replicas" => hpa_cases::check_replicas(input, expect),
        "hpa_behavior" => hpa_cases::check_behavior(input, expect),
        "hpa_stabilization" => hpa_cases::check_stabilization(input, expect),
        "kpa_decider" => kpa_cases::check_decider(input, expect),
        "window_average" => window_cases::check_window(input, expect),
        _ => return Err(CaseError::UnknownKind { id, kind }),
    };
    match result {
        Ok(mismatches) => Ok(CaseReport {
            id,
            kind,
            mismatches,
        }),
        Err(InputError { field, message }) => Err(CaseError::Field { id, field, message }),
    }
}

/// Formats a mismatch line the same way for every kind.
pub(crate) fn mismatch(
    what: &str,
    expected: impl std::fmt::Display,
    got: impl std::fmt::Display,
) -> String {
    format!("{what}: expected {expected}, got {got}")
}
