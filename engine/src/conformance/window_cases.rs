//! Kind `window_average`: Knative's bucketed averages, or the smoothing coefficient alone.

use super::{InputError, mismatch, parse};
use crate::time::{Micros, from_secs_f64};
use crate::window::{Algorithm, AverageWindow, smoothing_coefficient};
use serde::Deserialize;
use serde_json::Value;

/// Absolute tolerance for linear averages and the smoothing coefficient.
const LINEAR_TOLERANCE: f64 = 1e-6;
/// Absolute tolerance for weighted averages (a product of many powers).
const WEIGHTED_TOLERANCE: f64 = 1e-5;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AlphaInput {
    alpha_for_buckets: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AverageInput {
    algorithm: Algorithm,
    window_s: f64,
    granularity_s: f64,
    records: Vec<Record>,
    query_at_s: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Record {
    at_s: f64,
    value: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    value: f64,
}

fn seconds(field: &str, s: f64) -> Result<Micros, InputError> {
    if s.is_finite() {
        Ok(from_secs_f64(s))
    } else {
        Err(InputError::new(
            field,
            format!("expected a finite number of seconds, found {s}"),
        ))
    }
}

/// Computes the requested value and compares it with `expect.value`.
pub(super) fn check_window(input: Value, expect: Value) -> Result<Vec<String>, InputError> {
    let expect: Expect = parse("expect", expect)?;
    let is_alpha = input.get("alpha_for_buckets").is_some();
    let (got, tolerance) = if is_alpha {
        let input: AlphaInput = parse("input", input)?;
        if input.alpha_for_buckets == 0 {
            return Err(InputError::new(
                "input.alpha_for_buckets",
                "expected at least 1 bucket, found 0",
            ));
        }
        (
            smoothing_coefficient(f64::from(input.alpha_for_buckets)),
            LINEAR_TOLERANCE,
        )
    } else {
        let input: AverageInput = parse("input", input)?;
        let window = seconds("input.window_s", input.window_s)?;
        let granularity = seconds("input.granularity_s", input.granularity_s)?;
        let mut w = AverageWindow::new(input.algorithm, window, granularity)
            .map_err(|e| InputError::new("input.window_s/granularity_s", e.to_string()))?;
        for (i, r) in input.records.iter().enumerate() {
            w.record(
                seconds(&format!("input.records[{i}].at_s"), r.at_s)?,
                r.value,
            );
        }
        let tolerance = match input.algorithm {
            Algorithm::Linear => LINEAR_TOLERANCE,
            Algorithm::Weighted => WEIGHTED_TOLERANCE,
        };
        (
            w.average(seconds("input.query_at_s", input.query_at_s)?),
            tolerance,
        )
    };
    if (got - expect.value).abs() <= tolerance {
        Ok(Vec::new())
    } else {
        Ok(vec![mismatch(
            &format!("value (±{tolerance:e})"),
            expect.value,
            got,
        )])
    }
}
