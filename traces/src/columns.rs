//! Reading a trace of any shape: a mapping from canonical fields to the file's own column
//! (CSV header) or key (JSON lines) names.
//!
//! Written as comma-separated `field=name` pairs, e.g.
//! `arrival=ts,prompt=in,output=out,arrival_unit=ms`:
//!
//! | field | meaning | required |
//! |---|---|---|
//! | `arrival` | arrival time column | yes |
//! | `prompt` | prompt token count column | yes |
//! | `output` | output token count column | yes |
//! | `prefix` | prefix block ids (space-separated in CSV, an array in JSON) | no |
//! | `tenant`, `model`, `priority`, `failed` | labels and the failed flag | no |
//! | `arrival_unit` | `s` (default), `ms`, `us`: time from the trace start; `epoch_s`, `epoch_ms`, `epoch_us`: Unix time; `datetime`: ISO-8601 / `YYYY-MM-DD HH:MM:SS[.f]` text | no |
//!
//! Relative units are kept as they are; absolute ones (epoch, datetime) are made relative
//! to the first row and give the trace a start time. Names are matched exactly after
//! trimming spaces; a name cannot contain `,` or `=`.

use crate::error::TraceError;
use std::str::FromStr;

/// How the arrival column counts time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ArrivalUnit {
    #[default]
    Seconds,
    Millis,
    Micros,
    EpochSeconds,
    EpochMillis,
    EpochMicros,
    Datetime,
}

impl ArrivalUnit {
    /// Whether times are absolute (a start time is known) rather than from the trace start.
    pub fn is_absolute(self) -> bool {
        !matches!(
            self,
            ArrivalUnit::Seconds | ArrivalUnit::Millis | ArrivalUnit::Micros
        )
    }

    /// Microseconds per unit for numeric units; `None` for datetime text.
    pub fn micros_per_unit(self) -> Option<f64> {
        match self {
            ArrivalUnit::Seconds | ArrivalUnit::EpochSeconds => Some(1e6),
            ArrivalUnit::Millis | ArrivalUnit::EpochMillis => Some(1e3),
            ArrivalUnit::Micros | ArrivalUnit::EpochMicros => Some(1.0),
            ArrivalUnit::Datetime => None,
        }
    }
}

impl FromStr for ArrivalUnit {
    type Err = TraceError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(match text.trim() {
            "s" => ArrivalUnit::Seconds,
            "ms" => ArrivalUnit::Millis,
            "us" => ArrivalUnit::Micros,
            "epoch_s" => ArrivalUnit::EpochSeconds,
            "epoch_ms" => ArrivalUnit::EpochMillis,
            "epoch_us" => ArrivalUnit::EpochMicros,
            "datetime" => ArrivalUnit::Datetime,
            other => {
                return Err(TraceError::InvalidOption {
                    option: "--columns arrival_unit".to_string(),
                    expected: "one of s, ms, us, epoch_s, epoch_ms, epoch_us, datetime".to_string(),
                    found: other.to_string(),
                });
            }
        })
    }
}

/// Canonical field → the file's column name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnMapping {
    pub arrival: String,
    pub prompt: String,
    pub output: String,
    pub prefix: Option<String>,
    pub tenant: Option<String>,
    pub model: Option<String>,
    pub priority: Option<String>,
    pub failed: Option<String>,
    pub arrival_unit: ArrivalUnit,
}

impl ColumnMapping {
    /// The mapped (field, column) pairs that are present, required ones first.
    pub fn columns(&self) -> Vec<(&'static str, &str)> {
        let mut columns = vec![
            ("arrival", self.arrival.as_str()),
            ("prompt", self.prompt.as_str()),
            ("output", self.output.as_str()),
        ];
        let optional = [
            ("prefix", &self.prefix),
            ("tenant", &self.tenant),
            ("model", &self.model),
            ("priority", &self.priority),
            ("failed", &self.failed),
        ];
        columns.extend(
            optional
                .into_iter()
                .filter_map(|(field, name)| name.as_deref().map(|name| (field, name))),
        );
        columns
    }
}

impl FromStr for ColumnMapping {
    type Err = TraceError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = |expected: &str, found: &str| TraceError::InvalidOption {
            option: "--columns".to_string(),
            expected: expected.to_string(),
            found: found.to_string(),
        };
        let (mut arrival, mut prompt, mut output) = (None, None, None);
        let mut mapping = ColumnMapping {
            arrival: String::new(),
            prompt: String::new(),
            output: String::new(),
            prefix: None,
            tenant: None,
            model: None,
            priority: None,
            failed: None,
            arrival_unit: ArrivalUnit::default(),
        };
        for pair in text.split(',').filter(|p| !p.trim().is_empty()) {
            let Some((field, name)) = pair.split_once('=') else {
                return Err(invalid("field=column pairs separated by commas", pair));
            };
            let (field, name) = (field.trim(), name.trim().to_string());
            if name.is_empty() {
                return Err(invalid("a column name after `=`", pair));
            }
            match field {
                "arrival" => arrival = Some(name),
                "prompt" => prompt = Some(name),
                "output" => output = Some(name),
                "prefix" => mapping.prefix = Some(name),
                "tenant" => mapping.tenant = Some(name),
                "model" => mapping.model = Some(name),
                "priority" => mapping.priority = Some(name),
                "failed" => mapping.failed = Some(name),
                "arrival_unit" | "unit" => mapping.arrival_unit = name.parse()?,
                _ => {
                    return Err(invalid(
                        "a field among arrival, prompt, output, prefix, tenant, model, priority, failed, arrival_unit",
                        field,
                    ));
                }
            }
        }
        let required = |value: Option<String>, field: &str| {
            value.ok_or_else(|| invalid(&format!("a `{field}=COLUMN` pair"), text))
        };
        mapping.arrival = required(arrival, "arrival")?;
        mapping.prompt = required(prompt, "prompt")?;
        mapping.output = required(output, "output")?;
        Ok(mapping)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_pairs_and_units() {
        let mapping: ColumnMapping = "arrival=ts, prompt=in,output=out,arrival_unit=ms,tenant=who"
            .parse()
            .unwrap();
        assert_eq!(mapping.arrival, "ts");
        assert_eq!(mapping.prompt, "in");
        assert_eq!(mapping.output, "out");
        assert_eq!(mapping.tenant.as_deref(), Some("who"));
        assert_eq!(mapping.arrival_unit, ArrivalUnit::Millis);
        assert_eq!(mapping.columns().len(), 4);
    }

    #[test]
    fn rejects_missing_required_fields_and_unknown_keys() {
        let error = "arrival=ts,prompt=in".parse::<ColumnMapping>().unwrap_err();
        assert!(error.to_string().contains("output=COLUMN"), "{error}");
        assert!(
            "arrival=ts,prompt=in,output=o,size=x"
                .parse::<ColumnMapping>()
                .is_err()
        );
        assert!(
            "arrival=ts,prompt=in,output=o,arrival_unit=h"
                .parse::<ColumnMapping>()
                .is_err()
        );
        assert!("arrival".parse::<ColumnMapping>().is_err());
    }
}
