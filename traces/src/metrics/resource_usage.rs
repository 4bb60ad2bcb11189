//! Pod resource usage from the resource metrics API (`metrics.k8s.io/v1beta1`
//! `PodMetricsList`, what metrics-server serves and the HPA reads): per pod, the summed
//! usage of its containers in milli-units (CPU millicores, memory milli-bytes, as
//! `Quantity.MilliValue`), with the sample's time and window.
//!
//! ```json
//! {"kind": "PodMetricsList", "items": [{"metadata": {"name": "llama-0"},
//!   "timestamp": "2026-12-04T10:00:00Z", "window": "15s",
//!   "containers": [{"name": "vllm", "usage": {"cpu": "250m", "memory": "2Gi"}}]}]}
//! ```

use engine::observation::PodSample;
use engine::spec::{parse_go_duration, parse_milli};
use serde_json::Value;
use std::collections::BTreeMap;

/// Why a body is not a usable `PodMetricsList`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ResourceUsageError {
    #[error("not JSON: {0}")]
    Json(String),
    #[error("{path}: {why}")]
    Field { path: String, why: String },
}

fn field(path: String, why: impl Into<String>) -> ResourceUsageError {
    ResourceUsageError::Field {
        path,
        why: why.into(),
    }
}

/// Per resource name (`cpu`, `memory`), per pod name, the pod's usage.
pub type Usage = BTreeMap<String, BTreeMap<String, PodSample>>;

/// Per resource name, per pod name, the pod's summed container requests in milli-units.
pub type Requests = BTreeMap<String, BTreeMap<String, i64>>;

/// An item's `timestamp` (RFC 3339) in Unix µs: the metrics APIs all write one.
pub(crate) fn timestamp_us(item: &Value) -> Result<i64, String> {
    let text = item
        .get("timestamp")
        .and_then(Value::as_str)
        .ok_or("missing")?;
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.timestamp_micros())
        .map_err(|e| format!("`{text}`: {e}"))
}

/// The usage in a `PodMetricsList` body.
pub fn pod_metrics_list(body: &str) -> Result<Usage, ResourceUsageError> {
    let root: Value =
        serde_json::from_str(body).map_err(|e| ResourceUsageError::Json(e.to_string()))?;
    let items = root
        .get("items")
        .and_then(Value::as_array)
        .ok_or_else(|| field("items".to_string(), "missing or not a list"))?;
    let mut usage = Usage::new();
    for (index, item) in items.iter().enumerate() {
        let at = |name: &str| format!("items[{index}].{name}");
        let pod = item
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .ok_or_else(|| field(at("metadata.name"), "missing"))?;
        let timestamp = timestamp_us(item).map_err(|why| field(at("timestamp"), why))?;
        let window = item
            .get("window")
            .and_then(Value::as_str)
            .ok_or_else(|| field(at("window"), "missing"))?;
        let window = parse_go_duration(window)
            .map_err(|e| field(at("window"), format!("`{window}`: {e}")))?;
        let containers = item
            .get("containers")
            .and_then(Value::as_array)
            .ok_or_else(|| field(at("containers"), "missing or not a list"))?;
        let mut totals: BTreeMap<String, i64> = BTreeMap::new();
        for (c, container) in containers.iter().enumerate() {
            let Some(resources) = container.get("usage").and_then(Value::as_object) else {
                return Err(field(
                    at(&format!("containers[{c}].usage")),
                    "missing or not an object",
                ));
            };
            for (resource, quantity) in resources {
                let text = quantity
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| quantity.to_string());
                let milli = parse_milli(&text).map_err(|e| {
                    field(
                        at(&format!("containers[{c}].usage.{resource}")),
                        format!("`{text}`: {e}"),
                    )
                })?;
                *totals.entry(resource.clone()).or_default() += milli;
            }
        }
        for (resource, milli) in totals {
            usage.entry(resource).or_default().insert(
                pod.to_string(),
                PodSample {
                    timestamp,
                    window,
                    value: milli as f64,
                },
            );
        }
    }
    Ok(usage)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any body gives finite usage or an error, never a panic.
        #[test]
        fn any_body_gives_usage_or_an_error(body in ".{0,200}") {
            if let Ok(usage) = pod_metrics_list(&body) {
                prop_assert!(usage.values().flat_map(|p| p.values()).all(|s| s.value.is_finite()));
            }
        }

        /// Millicores written per container come back summed per pod.
        #[test]
        fn written_millicores_are_summed(cores in proptest::collection::vec(0u32..100_000, 1..5)) {
            let containers: Vec<String> = cores
                .iter()
                .enumerate()
                .map(|(i, m)| format!(r#"{{"name":"c{i}","usage":{{"cpu":"{m}m"}}}}"#))
                .collect();
            let body = format!(
                r#"{{"items":[{{"metadata":{{"name":"p"}},"timestamp":"2026-12-04T10:00:00Z","window":"30s","containers":[{}]}}]}}"#,
                containers.join(",")
            );
            let usage = pod_metrics_list(&body).unwrap();
            prop_assert_eq!(usage["cpu"]["p"].value, cores.iter().map(|&m| f64::from(m)).sum::<f64>());
        }
    }

    #[test]
    fn containers_are_summed_per_pod_in_milli_units() {
        let body = r#"{"kind":"PodMetricsList","apiVersion":"metrics.k8s.io/v1beta1","items":[
            {"metadata":{"name":"a"},"timestamp":"2026-12-04T10:00:00Z","window":"15.03s",
             "containers":[{"name":"vllm","usage":{"cpu":"1500000000n","memory":"1Gi"}},
                           {"name":"sidecar","usage":{"cpu":"250m","memory":"1024Ki"}}]}]}"#;
        let usage = pod_metrics_list(body).unwrap();
        let cpu = usage["cpu"]["a"];
        assert_eq!(cpu.value, 1750.0);
        assert_eq!(cpu.window, 15_030_000);
        assert_eq!(cpu.timestamp, 1_796_378_400_000_000);
        assert_eq!(
            usage["memory"]["a"].value,
            ((1i64 << 30) + (1 << 20)) as f64 * 1000.0
        );
    }

    #[test]
    fn bad_bodies_name_the_field() {
        assert!(matches!(
            pod_metrics_list("nope"),
            Err(ResourceUsageError::Json(_))
        ));
        let error = pod_metrics_list(r#"{"items":[{"metadata":{"name":"a"},"timestamp":"2026-12-04T10:00:00Z","window":"15s","containers":[{"usage":{"cpu":"lots"}}]}]}"#)
            .unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("items[0].containers[0].usage.cpu: `lots`"),
            "{error}"
        );
        let error = pod_metrics_list(r#"{"items":[{"metadata":{"name":"a"},"timestamp":"yesterday","window":"15s","containers":[]}]}"#)
            .unwrap_err();
        assert!(
            error.to_string().starts_with("items[0].timestamp"),
            "{error}"
        );
    }
}
