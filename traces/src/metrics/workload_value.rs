//! One value for a whole workload, read from the sources that give one rather than a
//! scrape per pod:
//!
//! - **Prometheus's HTTP API** (`GET /api/v1/query?query=…`): `{"status":"success",
//!   "data":{"resultType":"vector"|"scalar", …}}`. A vector's series are summed (a
//!   query for a workload total, or per pod: the total either way); an empty vector is
//!   an error (no data is not zero); `matrix` and `string` results are refused; a
//!   `{"status":"error","errorType","error"}` body is an error carrying both.
//! - **External JSON sources**: a number (`42`, `"42"`), or an object whose `value` is
//!   one (`{"value": 42}`, as many exporters and the custom/external metrics APIs'
//!   `value` fields read once parsed).
//!
//! Values must be finite: `NaN` and `±Inf` (which Prometheus writes as strings) are
//! errors, never numbers a scaler would divide by.

use serde_json::Value;

/// Why a body gave no value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WorkloadValueError {
    #[error("not JSON: {0}")]
    Json(String),
    #[error("Prometheus error ({kind}): {message}")]
    Prometheus { kind: String, message: String },
    #[error("expected {expected}, found {found}")]
    Shape {
        expected: &'static str,
        found: String,
    },
    #[error("the query returned no series")]
    Empty,
    #[error("not a finite number: {0}")]
    NotFinite(String),
}

fn shape(expected: &'static str, found: &Value) -> WorkloadValueError {
    let mut text = found.to_string();
    if text.len() > 80 {
        let mut end = 80;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    WorkloadValueError::Shape {
        expected,
        found: text,
    }
}

/// The value of a Prometheus `/api/v1/query` response body.
pub fn prometheus_query(body: &str) -> Result<f64, WorkloadValueError> {
    let root: Value =
        serde_json::from_str(body).map_err(|e| WorkloadValueError::Json(e.to_string()))?;
    match root.get("status").and_then(Value::as_str) {
        Some("success") => {}
        Some("error") => {
            return Err(WorkloadValueError::Prometheus {
                kind: root
                    .get("errorType")
                    .and_then(Value::as_str)
                    .unwrap_or("unknown")
                    .to_string(),
                message: root
                    .get("error")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
            });
        }
        _ => return Err(shape("a \"status\" of success or error", &root)),
    }
    let data = root
        .get("data")
        .ok_or_else(|| shape("a \"data\" object", &root))?;
    let result = data
        .get("result")
        .ok_or_else(|| shape("\"data.result\"", data))?;
    match data.get("resultType").and_then(Value::as_str) {
        Some("scalar") => sample_value(result),
        Some("vector") => {
            let series = result
                .as_array()
                .ok_or_else(|| shape("a vector (a list of series)", result))?;
            if series.is_empty() {
                return Err(WorkloadValueError::Empty);
            }
            series.iter().try_fold(0.0, |total, one| {
                let value = one
                    .get("value")
                    .ok_or_else(|| shape("a series with \"value\"", one))?;
                Ok(total + sample_value(value)?)
            })
        }
        _ => Err(shape(
            "resultType vector or scalar (an instant query)",
            data,
        )),
    }
}

/// `[<unix time>, "<value>"]`.
fn sample_value(sample: &Value) -> Result<f64, WorkloadValueError> {
    match sample.as_array().map(Vec::as_slice) {
        Some([_, value]) => number(value),
        _ => Err(shape("a [time, \"value\"] pair", sample)),
    }
}

/// A finite number written as a JSON number or a numeric string.
fn number(value: &Value) -> Result<f64, WorkloadValueError> {
    let parsed = match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .ok_or_else(|| shape("a number", value))?;
    if parsed.is_finite() {
        Ok(parsed)
    } else {
        Err(WorkloadValueError::NotFinite(value.to_string()))
    }
}

/// The value of an external JSON source's body: a number, or `{"value": number}`.
pub fn external_json(body: &str) -> Result<f64, WorkloadValueError> {
    let root: Value =
        serde_json::from_str(body).map_err(|e| WorkloadValueError::Json(e.to_string()))?;
    match &root {
        Value::Object(map) => number(
            map.get("value")
                .ok_or_else(|| shape("a \"value\" field", &root))?,
        ),
        other => number(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn vectors_sum_scalars_read_and_errors_carry_prometheus_words() {
        let vector = r#"{"status":"success","data":{"resultType":"vector","result":[
            {"metric":{"pod":"a"},"value":[1700000000.5,"3"]},
            {"metric":{"pod":"b"},"value":[1700000000.5,"4.5"]}]}}"#;
        assert_eq!(prometheus_query(vector), Ok(7.5));
        let scalar =
            r#"{"status":"success","data":{"resultType":"scalar","result":[1700000000,"0.25"]}}"#;
        assert_eq!(prometheus_query(scalar), Ok(0.25));
        let error = r#"{"status":"error","errorType":"bad_data","error":"parse error at char 5"}"#;
        assert_eq!(
            prometheus_query(error),
            Err(WorkloadValueError::Prometheus {
                kind: "bad_data".into(),
                message: "parse error at char 5".into()
            })
        );
        let empty = r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#;
        assert_eq!(prometheus_query(empty), Err(WorkloadValueError::Empty));
        let nan = r#"{"status":"success","data":{"resultType":"scalar","result":[1,"NaN"]}}"#;
        assert!(matches!(
            prometheus_query(nan),
            Err(WorkloadValueError::NotFinite(_))
        ));
        let matrix = r#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#;
        assert!(matches!(
            prometheus_query(matrix),
            Err(WorkloadValueError::Shape { .. })
        ));
        assert!(matches!(
            prometheus_query("<html>"),
            Err(WorkloadValueError::Json(_))
        ));
    }

    #[test]
    fn external_json_is_a_number_or_a_value_field() {
        assert_eq!(external_json("42"), Ok(42.0));
        assert_eq!(external_json("\"1.5\""), Ok(1.5));
        assert_eq!(
            external_json(r#"{"value": 7, "unit": "requests"}"#),
            Ok(7.0)
        );
        assert!(matches!(
            external_json(r#"{"count": 7}"#),
            Err(WorkloadValueError::Shape { .. })
        ));
        assert!(matches!(
            external_json("[1]"),
            Err(WorkloadValueError::Shape { .. })
        ));
    }

    proptest! {
        /// Any body gives a finite value or an error, never a panic.
        #[test]
        fn any_body_gives_a_finite_value_or_an_error(body in ".{0,200}") {
            for value in [prometheus_query(&body), external_json(&body)].into_iter().flatten() {
                prop_assert!(value.is_finite());
            }
        }
    }
}
