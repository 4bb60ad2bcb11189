//! The trace formats the reader knows, by name, and how a file stores its rows.

use crate::error::TraceError;
use std::fmt;
use std::str::FromStr;

/// A trace schema. The names are the ones `trace inspect` prints and scenarios accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TraceFormat {
    /// Azure LLM inference trace 2023 (and the 2024 week-long files):
    /// `TIMESTAMP,ContextTokens,GeneratedTokens`, wall-clock datetimes without zone.
    AzureLlm2023,
    /// BurstGPT: `Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type`,
    /// seconds from the trace start.
    BurstGpt,
    /// Mooncake JSON lines: `timestamp` (ms), `input_length`, `output_length`, `hash_ids`.
    Mooncake,
    /// A vLLM benchmark recording's `requests.jsonl` (`arrival_time` is a Unix epoch).
    VllmRecording,
    /// The project's own columns (see [`crate::canonical`]), CSV, JSON lines or Parquet.
    Canonical,
    /// Any CSV, JSON lines or Parquet file read through a [`crate::ColumnMapping`].
    Generic,
}

impl TraceFormat {
    pub const ALL: [TraceFormat; 6] = [
        TraceFormat::AzureLlm2023,
        TraceFormat::BurstGpt,
        TraceFormat::Mooncake,
        TraceFormat::VllmRecording,
        TraceFormat::Canonical,
        TraceFormat::Generic,
    ];

    pub fn name(self) -> &'static str {
        match self {
            TraceFormat::AzureLlm2023 => "azure-llm-2023",
            TraceFormat::BurstGpt => "burstgpt",
            TraceFormat::Mooncake => "mooncake",
            TraceFormat::VllmRecording => "vllm-recording",
            TraceFormat::Canonical => "canonical",
            TraceFormat::Generic => "generic",
        }
    }
}

impl fmt::Display for TraceFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for TraceFormat {
    type Err = TraceError;

    /// Accepts the names above; `azure-llm-2024` and `azure` name the Azure format too.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let lower = text.trim().to_ascii_lowercase();
        if lower == "azure" || lower == "azure-llm-2024" {
            return Ok(TraceFormat::AzureLlm2023);
        }
        TraceFormat::ALL
            .into_iter()
            .find(|format| format.name() == lower)
            .ok_or_else(|| TraceError::InvalidOption {
                option: "format".to_string(),
                expected:
                    "one of azure-llm-2023, burstgpt, mooncake, vllm-recording, canonical, generic"
                        .to_string(),
                found: text.to_string(),
            })
    }
}

/// How a file stores its rows, found from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Container {
    Csv,
    Jsonl,
    Parquet,
}

impl Container {
    pub fn name(self) -> &'static str {
        match self {
            Container::Csv => "csv",
            Container::Jsonl => "jsonl",
            Container::Parquet => "parquet",
        }
    }
}

impl fmt::Display for Container {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for format in TraceFormat::ALL {
            assert_eq!(format.name().parse::<TraceFormat>().unwrap(), format);
        }
        assert_eq!(
            "azure-llm-2024".parse::<TraceFormat>().unwrap(),
            TraceFormat::AzureLlm2023
        );
        assert!("csv".parse::<TraceFormat>().is_err());
    }
}
