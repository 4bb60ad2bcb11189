//! A decision as taken, and its line in `decisions.jsonl`: one JSON object per engine
//! decision, scalers in scenario order, decisions in time order, keys always in this
//! order:
//!
//! `{"time_s", "scaler", "strategy", "desired", "current", "reason", "in_panic",
//!   "metrics": [{"metric", "value", "target", "proposedReplicas", "error"}], "message"}`
//!
//! `metrics` is the engine's `MetricReading` list as the engine serializes it. BudScaler
//! decisions add, after `message`, `decided_by` (`{"kind", "name", "replicas"}`),
//! `forecast`, `pattern` and `schedule_hint` when present (see `engine::decision`);
//! other strategies' lines are unchanged. [`DecisionEntry`] reads a line back.

use engine::MetricReading;
use engine::decision::{DecidedBy, ForecastReading, HintReading, PatternReading};
use engine::time::Micros;
use serde::{Deserialize, Serialize};
use std::io::{self, Write};

/// One decision of the engine, as taken.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DecisionRecord {
    pub time_us: Micros,
    pub scaler: String,
    pub decision: engine::Decision,
}

/// One line of the file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DecisionLine<'a> {
    pub time_s: f64,
    pub scaler: &'a str,
    pub strategy: &'a str,
    pub desired: i32,
    pub current: i32,
    pub reason: &'static str,
    pub in_panic: bool,
    pub metrics: &'a [MetricReading],
    pub message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<&'a DecidedBy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forecast: Option<&'a ForecastReading>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pattern: Option<&'a PatternReading>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule_hint: Option<&'a HintReading>,
    /// How many of `desired` to place on spot (cost-aware BudScaler only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub desired_spot: Option<i32>,
}

impl<'a> DecisionLine<'a> {
    /// The line for one decision record.
    pub fn of(record: &'a DecisionRecord) -> DecisionLine<'a> {
        let decision = &record.decision;
        DecisionLine {
            time_s: record.time_us as f64 / 1e6,
            scaler: &record.scaler,
            strategy: decision.strategy.as_str(),
            desired: decision.desired_replicas,
            current: decision.current_replicas,
            reason: decision.reason.as_str(),
            in_panic: decision.in_panic,
            metrics: &decision.metrics,
            message: &decision.message,
            decided_by: decision.decided_by.as_ref(),
            forecast: decision.forecast.as_ref(),
            pattern: decision.pattern.as_ref(),
            schedule_hint: decision.schedule_hint.as_ref(),
            desired_spot: decision.desired_spot_replicas,
        }
    }
}

/// Writes `records` as JSON lines.
pub fn write_decisions<'a>(
    out: &mut impl Write,
    records: impl IntoIterator<Item = &'a DecisionRecord>,
) -> io::Result<()> {
    for record in records {
        serde_json::to_writer(&mut *out, &DecisionLine::of(record))?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// One line of `decisions.jsonl` read back, owned (the metric readings are left out).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DecisionEntry {
    pub time_s: f64,
    pub scaler: String,
    pub strategy: String,
    pub desired: i32,
    pub current: i32,
    pub reason: String,
    pub in_panic: bool,
    pub message: String,
    #[serde(default)]
    pub decided_by: Option<DecidedBy>,
    #[serde(default)]
    pub forecast: Option<ForecastReading>,
    #[serde(default)]
    pub pattern: Option<PatternReading>,
    #[serde(default)]
    pub schedule_hint: Option<HintReading>,
    #[serde(default)]
    pub desired_spot: Option<i32>,
}

/// Every line of `text` (blank lines skipped); an error names the 1-based line.
pub fn read_decisions_from(text: &str) -> Result<Vec<DecisionEntry>, (usize, serde_json::Error)> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(index, line)| serde_json::from_str(line).map_err(|e| (index + 1, e)))
        .collect()
}
