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

/// The series of a Prometheus instant-query vector as a scrape: each series a gauge
/// sample named by its `__name__` label, with its other labels (a query for raw
/// exporter series, such as dcgm-exporter's fields, reads back as that exporter's
/// scrape). A series without `__name__` (the result of an expression) is an error, as
/// is an empty vector.
pub fn prometheus_series(body: &str) -> Result<super::prometheus::Scrape, WorkloadValueError> {
    use super::prometheus::{MetricFamily, MetricKind, Sample, Scrape};
    let root: Value =
        serde_json::from_str(body).map_err(|e| WorkloadValueError::Json(e.to_string()))?;
    if root.get("status").and_then(Value::as_str) != Some("success") {
        // The single-value reader words every failure; reuse it.
        prometheus_query(body)?;
        return Err(shape("a \"status\" of success", &root));
    }
    let data = root
        .get("data")
        .ok_or_else(|| shape("a \"data\" object", &root))?;
    if data.get("resultType").and_then(Value::as_str) != Some("vector") {
        return Err(shape(
            "resultType vector (an instant query of series)",
            data,
        ));
    }
    let series = data
        .get("result")
        .and_then(Value::as_array)
        .ok_or_else(|| shape("a vector (a list of series)", data))?;
    if series.is_empty() {
        return Err(WorkloadValueError::Empty);
    }
    let mut scrape = Scrape::default();
    for one in series {
        let metric = one
            .get("metric")
            .and_then(Value::as_object)
            .ok_or_else(|| shape("a series with a \"metric\" object", one))?;
        let name = metric
            .get("__name__")
            .and_then(Value::as_str)
            .ok_or_else(|| shape("a series with a __name__ label", one))?
            .to_string();
        let mut labels: Vec<(String, String)> = metric
            .iter()
            .filter(|(key, _)| key.as_str() != "__name__")
            .map(|(key, value)| (key.clone(), value.as_str().unwrap_or_default().to_string()))
            .collect();
        labels.sort();
        let value = sample_value(
            one.get("value")
                .ok_or_else(|| shape("a series with \"value\"", one))?,
        )?;
        let sample = Sample {
            name: name.clone(),
            labels,
            value,
            timestamp_ms: None,
        };
        match scrape.families.iter_mut().find(|f| f.name == name) {
            Some(family) => family.samples.push(sample),
            None => scrape.families.push(MetricFamily {
                name,
                help: None,
                unit: None,
                kind: MetricKind::Gauge,
                samples: vec![sample],
            }),
        }
    }
    Ok(scrape)
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
    #[test]
    fn a_vector_of_exporter_series_reads_back_as_their_scrape() {
        let body = r#"{"status":"success","data":{"resultType":"vector","result":[
            {"metric":{"__name__":"DCGM_FI_DEV_FB_USED","gpu":"0","pod":"llm-0"},"value":[1,"70000"]},
            {"metric":{"__name__":"DCGM_FI_DEV_FB_USED","gpu":"1","pod":"llm-0"},"value":[1,"71000"]},
            {"metric":{"__name__":"DCGM_FI_PROF_PIPE_TENSOR_ACTIVE","gpu":"0","pod":"llm-0"},"value":[1,"0.25"]}]}}"#;
        let scrape = super::prometheus_series(body).unwrap();
        assert_eq!(scrape.families.len(), 2);
        assert_eq!(scrape.families[0].samples.len(), 2);
        assert_eq!(scrape.families[0].samples[1].value, 71000.0);
        assert_eq!(
            scrape.families[1].samples[0].labels,
            vec![
                ("gpu".to_string(), "0".to_string()),
                ("pod".to_string(), "llm-0".to_string())
            ]
        );
    }

    #[test]
    fn series_without_a_name_or_an_error_body_are_refused_with_why() {
        let unnamed = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"pod":"a"},"value":[1,"3"]}]}}"#;
        let why = super::prometheus_series(unnamed).unwrap_err().to_string();
        assert!(why.contains("__name__"), "{why}");
        let error = r#"{"status":"error","errorType":"bad_data","error":"parse error"}"#;
        let why = super::prometheus_series(error).unwrap_err().to_string();
        assert!(
            why.contains("bad_data") && why.contains("parse error"),
            "{why}"
        );
        let empty = r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#;
        assert_eq!(
            super::prometheus_series(empty).unwrap_err(),
            super::WorkloadValueError::Empty
        );
    }

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
            if let Ok(scrape) = prometheus_series(&body) {
                prop_assert!(scrape.families.iter().flat_map(|f| &f.samples).all(|s| s.value.is_finite()));
            }
        }

        /// A vector of named series reads back with every series, whatever the names,
        /// labels and values.
        #[test]
        fn named_series_read_back_whole(
            series in proptest::collection::vec(("[A-Z_]{1,12}", "[a-z]{1,6}", -1e6f64..1e6), 1..8)
        ) {
            let result: Vec<serde_json::Value> = series
                .iter()
                .map(|(name, pod, value)| serde_json::json!({
                    "metric": {"__name__": name, "pod": pod},
                    "value": [1, value.to_string()]
                }))
                .collect();
            let body = serde_json::json!({"status": "success", "data": {"resultType": "vector", "result": result}});
            let scrape = prometheus_series(&body.to_string()).unwrap();
            let total: usize = scrape.families.iter().map(|f| f.samples.len()).sum();
            prop_assert_eq!(total, series.len());
        }
    }
}
