//! `spec.metricsSources[]`: what to measure, where, and the target per metric.
//!
//! The seed gives every source a `targetMetric` name and a `targetValue` string and
//! derives how the value is compared from the source type (its HPA builder turns
//! `resource` into a utilization percentage, `custom` into a per-pod average value and
//! `external` into a total value). We keep that as the default and let `targetType`
//! (our addition, spelled as Kubernetes' `MetricTarget.type`) say it explicitly.

use super::defaults;
use super::quantity::{Quantity, ScalarText};
use super::validate::{Problems, field};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

manifest_enum! {
    /// `metricSourceType`: how the metric is fetched.
    MetricSourceType {
        /// `http://pod_ip:port/path` on each pod.
        Pod = "pod",
        /// Kubernetes resource metrics (`cpu`, `memory`).
        Resource = "resource",
        /// Kubernetes custom metrics API (per pod).
        Custom = "custom",
        /// An external service (one value for the workload).
        External = "external",
        /// A PromQL query.
        Prometheus = "prometheus",
        /// An inference engine's own metrics endpoint.
        InferenceEngine = "inferenceEngine",
    }
}

manifest_enum! {
    /// `targetType`: how the observed value is compared with `targetValue`.
    TargetType {
        /// Percent of the pods' resource requests (resource sources only).
        Utilization = "Utilization",
        /// Average per ready pod.
        AverageValue = "AverageValue",
        /// One total value for the workload.
        Value = "Value",
    }
}

manifest_enum! {
    /// `protocolType` for pod and external sources.
    Protocol {
        Http = "http",
        Https = "https",
    }
}

manifest_enum! {
    /// `inferenceEngineConfig.engineType`.
    InferenceServer {
        Vllm = "vllm",
        Tgi = "tgi",
        Sglang = "sglang",
        Triton = "triton",
    }
}

/// One metric source as written.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct MetricSource {
    /// Required: `pod`, `resource`, `custom`, `external`, `prometheus` or `inferenceEngine`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric_source_type: Option<String>,
    /// Required: the metric's name (`cpu`, `gpu_cache_usage_perc`, `num_requests_waiting`…);
    /// `predictionConfig` refers to sources by this name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_metric: Option<String>,
    /// Required: the desired value. A whole percentage for `Utilization` (`"80"`),
    /// otherwise a Kubernetes quantity (`"500m"`, `"10"`, `"1Gi"`). String or number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_value: Option<Quantity>,
    /// Our addition: `Utilization`, `AverageValue` or `Value`. Default: `Utilization`
    /// for resource, `Value` for external, `AverageValue` otherwise (the seed's rules).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_type: Option<String>,
    /// `http` (default) or `https`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol_type: Option<String>,
    /// Prometheus server URL or external service endpoint; passed to the operator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// Path of the pod metrics endpoint, default `/metrics`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Port of the pod metrics endpoint; the seed writes it as a string, numbers work too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<ScalarText>,
    /// The query of a `prometheus` source (required there).
    #[serde(default, rename = "promQL", skip_serializing_if = "Option::is_none")]
    pub prom_ql: Option<String>,
    /// Request headers for external endpoints.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// Required for `inferenceEngine` sources, rejected for others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inference_engine_config: Option<InferenceEngineConfig>,
}

/// `inferenceEngineConfig`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct InferenceEngineConfig {
    /// Required: `vllm`, `tgi`, `sglang` or `triton`; selects the metric names to read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine_type: Option<String>,
    /// Default 8000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics_port: Option<i32>,
    /// Default `/metrics`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics_path: Option<String>,
}

/// The target of a resolved metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "type")]
pub enum MetricTarget {
    /// Percent of requested resources (`80` = 80%).
    Utilization { percent: i32 },
    /// Per-pod average, in milli-units.
    AverageValue { milli: i64 },
    /// Workload total, in milli-units.
    Value { milli: i64 },
}

impl MetricTarget {
    /// The target in the unit its reading is reported in: percent for utilization,
    /// plain units otherwise.
    pub fn value(self) -> f64 {
        match self {
            MetricTarget::Utilization { percent } => f64::from(percent),
            MetricTarget::AverageValue { milli } | MetricTarget::Value { milli } => {
                milli as f64 / 1000.0
            }
        }
    }
}

/// A validated metric source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResolvedMetric {
    pub source: MetricSourceType,
    /// `targetMetric`.
    pub name: String,
    pub target: MetricTarget,
    pub protocol: Protocol,
    pub endpoint: Option<String>,
    /// Pod metrics path (default `/metrics`).
    pub path: String,
    pub port: Option<u16>,
    pub prom_ql: Option<String>,
    pub headers: BTreeMap<String, String>,
    /// Present for `inferenceEngine` sources.
    pub engine: Option<ResolvedEngine>,
}

impl ResolvedMetric {
    /// Whether the metric is one value for the whole workload (an external source, or
    /// a PromQL query) rather than one sample per pod. Decided here once for every
    /// driver and strategy.
    pub fn is_workload_value(&self) -> bool {
        self.source == MetricSourceType::External || self.prom_ql.is_some()
    }
}

impl InferenceServer {
    /// The port each server exports `/metrics` on when `metricsPort` is not written:
    /// vLLM's OpenAI server 8000; TGI 80 (its container image's `PORT`; the launcher
    /// run by hand defaults to 3000); SGLang 30000; Triton's metrics port 8002 (HTTP
    /// inference is 8000, gRPC 8001).
    pub fn default_metrics_port(self) -> u16 {
        match self {
            InferenceServer::Vllm => defaults::ENGINE_METRICS_PORT,
            InferenceServer::Tgi => 80,
            InferenceServer::Sglang => 30000,
            InferenceServer::Triton => 8002,
        }
    }
}

/// A validated `inferenceEngineConfig`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResolvedEngine {
    pub engine_type: InferenceServer,
    pub metrics_port: u16,
    pub metrics_path: String,
}

impl MetricSource {
    /// The default target type of a source type, as the seed derives it.
    pub fn default_target_type(source: MetricSourceType) -> TargetType {
        match source {
            MetricSourceType::Resource => TargetType::Utilization,
            MetricSourceType::External => TargetType::Value,
            _ => TargetType::AverageValue,
        }
    }

    /// Checks this source (at `path`) and returns it resolved; problems go to `p`.
    pub(crate) fn resolve(&self, path: &str, p: &mut Problems) -> ResolvedMetric {
        let source = p
            .required_word(
                &field(path, "metricSourceType"),
                self.metric_source_type.as_deref(),
            )
            .unwrap_or(MetricSourceType::Pod);
        let name = non_empty(
            p,
            &field(path, "targetMetric"),
            self.target_metric.as_deref(),
        );
        if source == MetricSourceType::Resource
            && !name.is_empty()
            && name != "cpu"
            && name != "memory"
        {
            p.push(
                field(path, "targetMetric"),
                format!("must be cpu or memory for metricSourceType resource (found {name:?})"),
            );
        }
        let target_type = p.word(
            &field(path, "targetType"),
            self.target_type.as_deref(),
            Self::default_target_type(source),
        );
        if target_type == TargetType::Utilization && source != MetricSourceType::Resource {
            p.push(
                field(path, "targetType"),
                format!("Utilization applies only to metricSourceType resource (found metricSourceType {source})"),
            );
        }
        let target = resolve_target(
            &field(path, "targetValue"),
            self.target_value.as_ref(),
            target_type,
            p,
        );
        let protocol = p.word(
            &field(path, "protocolType"),
            self.protocol_type.as_deref(),
            defaults::PROTOCOL,
        );
        let port = self
            .port
            .as_ref()
            .and_then(|port| parse_port(p, &field(path, "port"), port.as_str()));
        let metrics_path = self
            .path
            .clone()
            .unwrap_or_else(|| defaults::METRICS_PATH.to_string());
        check_http_path(p, &field(path, "path"), &metrics_path);
        if source == MetricSourceType::Prometheus {
            non_empty(p, &field(path, "promQL"), self.prom_ql.as_deref());
        } else if self.prom_ql.is_some() {
            p.push(
                field(path, "promQL"),
                format!(
                    "applies only to metricSourceType prometheus (found metricSourceType {source})"
                ),
            );
        }
        let engine_path = field(path, "inferenceEngineConfig");
        let engine = match (&self.inference_engine_config, source) {
            (Some(config), MetricSourceType::InferenceEngine) => {
                Some(config.resolve(&engine_path, p))
            }
            (None, MetricSourceType::InferenceEngine) => {
                p.push(
                    engine_path,
                    "is required for metricSourceType inferenceEngine",
                );
                None
            }
            (Some(_), other) => {
                p.push(engine_path, format!("applies only to metricSourceType inferenceEngine (found metricSourceType {other})"));
                None
            }
            (None, _) => None,
        };
        ResolvedMetric {
            source,
            name,
            target,
            protocol,
            endpoint: self.endpoint.clone(),
            path: metrics_path,
            port,
            prom_ql: self.prom_ql.clone(),
            headers: self.headers.clone(),
            engine,
        }
    }
}

impl InferenceEngineConfig {
    fn resolve(&self, path: &str, p: &mut Problems) -> ResolvedEngine {
        let engine_type = p
            .required_word(&field(path, "engineType"), self.engine_type.as_deref())
            .unwrap_or(InferenceServer::Vllm);
        let metrics_port = match self.metrics_port {
            None => engine_type.default_metrics_port(),
            Some(port) => {
                let port_path = field(path, "metricsPort");
                if p.in_range(&port_path, i64::from(port), 1, 65535) {
                    port as u16
                } else {
                    engine_type.default_metrics_port()
                }
            }
        };
        let metrics_path = self
            .metrics_path
            .clone()
            .unwrap_or_else(|| defaults::METRICS_PATH.to_string());
        check_http_path(p, &field(path, "metricsPath"), &metrics_path);
        ResolvedEngine {
            engine_type,
            metrics_port,
            metrics_path,
        }
    }
}

fn resolve_target(
    path: &str,
    value: Option<&Quantity>,
    target_type: TargetType,
    p: &mut Problems,
) -> MetricTarget {
    let placeholder = match target_type {
        TargetType::Utilization => MetricTarget::Utilization { percent: 1 },
        TargetType::AverageValue => MetricTarget::AverageValue { milli: 1 },
        TargetType::Value => MetricTarget::Value { milli: 1 },
    };
    let Some(value) = value else {
        p.required(path);
        return placeholder;
    };
    let milli = match value.milli() {
        Ok(milli) => milli,
        Err(err) => {
            p.push(path, err.to_string());
            return placeholder;
        }
    };
    match target_type {
        TargetType::Utilization => {
            if milli % 1000 != 0 || milli < 1000 || milli > i64::from(i32::MAX) * 1000 {
                p.push(
                    path,
                    format!(
                        "must be a whole percentage >= 1 for targetType Utilization (found {:?})",
                        value.as_str()
                    ),
                );
                return placeholder;
            }
            MetricTarget::Utilization {
                percent: (milli / 1000) as i32,
            }
        }
        _ if milli <= 0 => {
            p.push(path, format!("must be > 0 (found {:?})", value.as_str()));
            placeholder
        }
        TargetType::AverageValue => MetricTarget::AverageValue { milli },
        TargetType::Value => MetricTarget::Value { milli },
    }
}

fn parse_port(p: &mut Problems, path: &str, text: &str) -> Option<u16> {
    match text.parse::<u16>() {
        Ok(port) if port >= 1 => Some(port),
        _ => {
            p.push(
                path,
                format!("must be a port number in 1..=65535 (found {text:?})"),
            );
            None
        }
    }
}

fn check_http_path(p: &mut Problems, path: &str, value: &str) {
    if !value.starts_with('/') {
        p.push(path, format!("must start with / (found {value:?})"));
    }
}

/// A required, non-empty string; reports and returns `""` otherwise.
pub(crate) fn non_empty(p: &mut Problems, path: &str, value: Option<&str>) -> String {
    match value {
        None => {
            p.required(path);
            String::new()
        }
        Some(v) if v.trim().is_empty() => {
            p.push(path, "must not be empty");
            String::new()
        }
        Some(v) => v.to_string(),
    }
}
