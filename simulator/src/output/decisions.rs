//! `decisions.jsonl`: one JSON object per engine decision, scalers in scenario order,
//! decisions in time order, keys always in this order:
//!
//! `{"time_s", "scaler", "strategy", "desired", "current", "reason", "in_panic",
//!   "metrics": [{"metric", "value", "target", "proposedReplicas", "error"}], "message"}`
//!
//! `metrics` is the engine's `MetricReading` list as the engine serializes it.

use crate::fleet::DecisionRecord;
use engine::MetricReading;
use serde::Serialize;
use std::io::{self, Write};

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
