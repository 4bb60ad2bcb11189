//! Values from the Kubernetes custom and external metrics APIs, what the HPA reads for
//! `Pods`/`Object` and `External` metrics (served by an adapter such as
//! prometheus-adapter or KEDA):
//!
//! - `custom.metrics.k8s.io/v1beta2` `MetricValueList`
//!   (`GET …/namespaces/NS/pods/*/METRIC?labelSelector=…`): one item per pod,
//!   `{"describedObject": {"kind": "Pod", "name": …}, "timestamp": RFC 3339,
//!   "windowSeconds": 60, "value": QUANTITY}` → per pod a sample in plain units;
//! - `external.metrics.k8s.io/v1beta1` `ExternalMetricValueList`
//!   (`GET …/namespaces/NS/METRIC?labelSelector=…`): `{"items": [{"value": QUANTITY}, …]}`
//!   → the items' sum, as the HPA sums them (no items is an error, not zero).
//!
//! Quantities are Kubernetes quantities (`500m`, `12`, `1.5k`), read exactly to
//! milli-units and reported in plain units.

use engine::observation::PodSample;
use engine::spec::parse_milli;
use serde_json::Value;
use std::collections::BTreeMap;

/// Why a body is not a usable metric value list.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MetricsApiError {
    #[error("not JSON: {0}")]
    Json(String),
    #[error("{path}: {why}")]
    Field { path: String, why: String },
    #[error("the external metric has no items")]
    Empty,
}

fn field(path: String, why: impl Into<String>) -> MetricsApiError {
    MetricsApiError::Field {
        path,
        why: why.into(),
    }
}

fn items(body: &str) -> Result<Vec<Value>, MetricsApiError> {
    let root: Value =
        serde_json::from_str(body).map_err(|e| MetricsApiError::Json(e.to_string()))?;
    match root.get("items") {
        Some(Value::Array(items)) => Ok(items.clone()),
        _ => Err(field("items".to_string(), "missing or not a list")),
    }
}

fn quantity(item: &Value, path: String) -> Result<f64, MetricsApiError> {
    let value = item
        .get("value")
        .ok_or_else(|| field(path.clone(), "missing"))?;
    let text = value
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| value.to_string());
    let milli = parse_milli(&text).map_err(|e| field(path, format!("`{text}`: {e}")))?;
    Ok(milli as f64 / 1000.0)
}

/// Per pod, its value in a `MetricValueList` (items describing other kinds are skipped).
pub fn metric_value_list(body: &str) -> Result<BTreeMap<String, PodSample>, MetricsApiError> {
    let mut samples = BTreeMap::new();
    for (index, item) in items(body)?.iter().enumerate() {
        let at = |name: &str| format!("items[{index}].{name}");
        let described = item
            .get("describedObject")
            .ok_or_else(|| field(at("describedObject"), "missing"))?;
        if described
            .get("kind")
            .and_then(Value::as_str)
            .is_some_and(|kind| kind != "Pod")
        {
            continue;
        }
        let pod = described
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| field(at("describedObject.name"), "missing"))?;
        let timestamp =
            super::resource_usage::timestamp_us(item).map_err(|why| field(at("timestamp"), why))?;
        let window_s = item
            .get("windowSeconds")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        let value = quantity(item, at("value"))?;
        samples.insert(
            pod.to_string(),
            PodSample {
                timestamp,
                window: window_s.saturating_mul(1_000_000),
                value,
            },
        );
    }
    Ok(samples)
}

/// The sum of an `ExternalMetricValueList`'s values.
pub fn external_metric_value_list(body: &str) -> Result<f64, MetricsApiError> {
    let items = items(body)?;
    if items.is_empty() {
        return Err(MetricsApiError::Empty);
    }
    items
        .iter()
        .enumerate()
        .map(|(index, item)| quantity(item, format!("items[{index}].value")))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn pod_values_and_external_sums_in_plain_units() {
        let body = r#"{"kind":"MetricValueList","apiVersion":"custom.metrics.k8s.io/v1beta2","metadata":{},"items":[
            {"describedObject":{"kind":"Pod","namespace":"llm","name":"a","apiVersion":"/v1"},
             "metric":{"name":"queue"},"timestamp":"2026-12-04T10:00:00Z","windowSeconds":60,"value":"1500m"},
            {"describedObject":{"kind":"Service","name":"svc"},"timestamp":"2026-12-04T10:00:00Z","value":"9"}]}"#;
        let samples = metric_value_list(body).unwrap();
        assert_eq!(samples.len(), 1);
        assert_eq!(samples["a"].value, 1.5);
        assert_eq!(samples["a"].window, 60_000_000);
        let external = r#"{"kind":"ExternalMetricValueList","items":[{"metricName":"q","value":"7"},{"metricName":"q","value":"500m"}]}"#;
        assert_eq!(external_metric_value_list(external).unwrap(), 7.5);
        assert_eq!(
            external_metric_value_list(r#"{"items":[]}"#),
            Err(MetricsApiError::Empty)
        );
        let error = metric_value_list(r#"{"items":[{"describedObject":{"name":"a"},"timestamp":"2026-12-04T10:00:00Z","value":"x"}]}"#)
            .unwrap_err();
        assert!(
            error.to_string().starts_with("items[0].value: `x`"),
            "{error}"
        );
    }

    proptest! {
        /// Any body gives finite values or an error, never a panic.
        #[test]
        fn any_body_gives_values_or_an_error(body in ".{0,200}") {
            if let Ok(samples) = metric_value_list(&body) {
                prop_assert!(samples.values().all(|s| s.value.is_finite()));
            }
            if let Ok(value) = external_metric_value_list(&body) {
                prop_assert!(value.is_finite());
            }
        }
    }
}
