//! The engine-internal, normalized HPA configuration.
//!
//! This is what the Kubernetes API server and the controller-manager flags would have
//! handed the HPA controller after defaulting: min/max replicas, the metric targets, the
//! tolerances, the behavior and the readiness timings. The `BudAIScaler` manifest is
//! translated into it by the caller; nothing here knows about YAML.

use super::behavior::Behavior;
use crate::time::{Micros, seconds};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The controller's `--horizontal-pod-autoscaler-tolerance` default.
pub const DEFAULT_TOLERANCE: f64 = 0.1;
/// The controller's `--horizontal-pod-autoscaler-cpu-initialization-period` default.
pub const DEFAULT_CPU_INITIALIZATION_PERIOD: Micros = seconds(5 * 60);
/// The controller's `--horizontal-pod-autoscaler-initial-readiness-delay` default.
pub const DEFAULT_INITIAL_READINESS_DELAY: Micros = seconds(30);
/// The controller's `--horizontal-pod-autoscaler-downscale-stabilization` default: the
/// legacy max-window, and the scale-down window of a behavior that leaves it unset.
pub const DEFAULT_DOWNSCALE_STABILIZATION: Micros = seconds(5 * 60);

/// Everything one HPA decision depends on besides the observation and the state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HpaConfig {
    /// `spec.minReplicas`; 0 is allowed only with an object or external metric
    /// (the `HPAScaleToZero` rule).
    pub min_replicas: i32,
    /// `spec.maxReplicas`.
    pub max_replicas: i32,
    /// `spec.metrics`, in order; the largest proposal wins.
    pub metrics: Vec<MetricTarget>,
    /// Usage-ratio band inside which a metric proposes the current replica count.
    pub tolerance: Tolerances,
    /// `spec.behavior`; `None` selects the legacy normalization (300 s max-window,
    /// `max(2 x current, 4)` scale-up cap).
    pub behavior: Option<Behavior>,
    /// When a pod's CPU sample is trusted (applies to CPU resource metrics only).
    pub cpu_readiness: CpuReadiness,
    /// The controller-wide downscale stabilization window (see
    /// [`DEFAULT_DOWNSCALE_STABILIZATION`]).
    pub downscale_stabilization: Micros,
}

impl HpaConfig {
    /// A configuration with every controller default: tolerance 0.1, CPU initialization
    /// period 5 min, readiness delay 30 s, downscale stabilization 5 min, no behavior.
    pub fn new(min_replicas: i32, max_replicas: i32, metrics: Vec<MetricTarget>) -> Self {
        HpaConfig {
            min_replicas,
            max_replicas,
            metrics,
            tolerance: Tolerances::default(),
            behavior: None,
            cpu_readiness: CpuReadiness::default(),
            downscale_stabilization: DEFAULT_DOWNSCALE_STABILIZATION,
        }
    }

    /// Checks what the Kubernetes API server would reject, so that no decision ever
    /// divides by a zero target or reads an empty policy list.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |field: &str, message: String| ConfigError::Invalid {
            field: field.to_string(),
            message,
        };
        if self.max_replicas < 1 {
            return Err(invalid(
                "max_replicas",
                format!("must be at least 1, found {}", self.max_replicas),
            ));
        }
        if self.min_replicas < 0 || self.min_replicas > self.max_replicas {
            return Err(invalid(
                "min_replicas",
                format!(
                    "must be between 0 and max_replicas ({}), found {}",
                    self.max_replicas, self.min_replicas
                ),
            ));
        }
        if self.metrics.is_empty() {
            return Err(invalid("metrics", "at least one metric is required".into()));
        }
        if self.min_replicas == 0
            && !self
                .metrics
                .iter()
                .any(|m| m.source.is_object_or_external())
        {
            return Err(invalid(
                "min_replicas",
                "0 requires at least one object or external metric".into(),
            ));
        }
        for (i, metric) in self.metrics.iter().enumerate() {
            metric
                .source
                .validate()
                .map_err(|message| invalid(&format!("metrics[{i}] ({})", metric.name), message))?;
        }
        self.tolerance
            .validate()
            .map_err(|m| invalid("tolerance", m))?;
        if self.cpu_readiness.initialization_period < 0 {
            return Err(invalid(
                "cpu_readiness.initialization_period",
                "must not be negative".into(),
            ));
        }
        if self.cpu_readiness.initial_readiness_delay < 0 {
            return Err(invalid(
                "cpu_readiness.initial_readiness_delay",
                "must not be negative".into(),
            ));
        }
        if self.downscale_stabilization < 0 {
            return Err(invalid(
                "downscale_stabilization",
                "must not be negative".into(),
            ));
        }
        if let Some(behavior) = &self.behavior {
            behavior
                .validate()
                .map_err(|(field, m)| invalid(&field, m))?;
        }
        Ok(())
    }
}

/// A configuration the API server would have refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid HPA config: {field}: {message}")]
    Invalid { field: String, message: String },
}

/// Per-direction tolerance (`behavior.scale{Up,Down}.tolerance`): a usage ratio in
/// `[1 - scale_down, 1 + scale_up]` keeps the current replica count.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Tolerances {
    pub scale_up: f64,
    pub scale_down: f64,
}

impl Default for Tolerances {
    fn default() -> Self {
        Tolerances::symmetric(DEFAULT_TOLERANCE)
    }
}

impl Tolerances {
    /// The same tolerance in both directions (the cluster-wide flag).
    pub fn symmetric(tolerance: f64) -> Self {
        Tolerances {
            scale_up: tolerance,
            scale_down: tolerance,
        }
    }

    /// Upstream `Tolerances.isWithin`: both bounds inclusive.
    pub fn is_within(&self, usage_ratio: f64) -> bool {
        (1.0 - self.scale_down) <= usage_ratio && usage_ratio <= (1.0 + self.scale_up)
    }

    fn validate(&self) -> Result<(), String> {
        for (name, t) in [("scale_up", self.scale_up), ("scale_down", self.scale_down)] {
            if !t.is_finite() || t < 0.0 {
                return Err(format!("{name} must be a finite number >= 0, found {t}"));
            }
        }
        Ok(())
    }
}

/// The two readiness timings of upstream `groupPods` for CPU samples.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CpuReadiness {
    /// A pod younger than this only counts when Ready and sampled a full window after
    /// its last readiness transition.
    pub initialization_period: Micros,
    /// After the initialization period, a not-Ready pod whose readiness last changed
    /// within this delay of its start is treated as never having been ready.
    pub initial_readiness_delay: Micros,
}

impl Default for CpuReadiness {
    fn default() -> Self {
        CpuReadiness {
            initialization_period: DEFAULT_CPU_INITIALIZATION_PERIOD,
            initial_readiness_delay: DEFAULT_INITIAL_READINESS_DELAY,
        }
    }
}

/// One entry of `spec.metrics`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricTarget {
    /// The key in [`crate::observation::Observation::pod_metrics`] (resource and pods
    /// metrics) or [`crate::observation::Observation::object_metrics`] (object and
    /// external metrics).
    pub name: String,
    pub source: MetricSource,
}

/// Which upstream calculation a metric uses, with its target.
///
/// Plain values (pods, object, external) are in the metric's own units and converted
/// to milli-units as `resource.Quantity.MilliValue()` does; resource values and
/// targets are already milli-units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum MetricSource {
    /// `Resource` with `averageUtilization`: usage as a whole percentage of requests.
    ResourceUtilization {
        target_percent: i32,
        resource: ResourceKind,
        requests: ResourceRequests,
    },
    /// `Resource` with `averageValue` (milli-units per pod).
    ResourceAverageValue {
        target_milli: i64,
        resource: ResourceKind,
    },
    /// `Pods` with `averageValue`.
    PodsAverageValue { target: f64 },
    /// `Object` with `value`: the total is compared with the target, times ready pods.
    ObjectValue { target: f64 },
    /// `Object` with `averageValue`: the total divided by the target per pod.
    ObjectAverageValue { target: f64 },
    /// `External` with `value`.
    ExternalValue { target: f64 },
    /// `External` with `averageValue`.
    ExternalAverageValue { target: f64 },
}

impl MetricSource {
    /// Object and external metrics are the only ones that can scale from zero.
    pub fn is_object_or_external(&self) -> bool {
        matches!(
            self,
            MetricSource::ObjectValue { .. }
                | MetricSource::ObjectAverageValue { .. }
                | MetricSource::ExternalValue { .. }
                | MetricSource::ExternalAverageValue { .. }
        )
    }

    fn validate(&self) -> Result<(), String> {
        let positive = |what: &str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(format!("{what} must be a finite number > 0, found {v}"))
            }
        };
        match self {
            MetricSource::ResourceUtilization {
                target_percent,
                requests,
                ..
            } => {
                if *target_percent <= 0 {
                    return Err(format!(
                        "target_percent must be > 0, found {target_percent}"
                    ));
                }
                requests.validate()
            }
            MetricSource::ResourceAverageValue { target_milli, .. } => {
                if *target_milli <= 0 {
                    return Err(format!("target_milli must be > 0, found {target_milli}"));
                }
                Ok(())
            }
            MetricSource::PodsAverageValue { target }
            | MetricSource::ObjectValue { target }
            | MetricSource::ObjectAverageValue { target }
            | MetricSource::ExternalValue { target }
            | MetricSource::ExternalAverageValue { target } => {
                positive("target", *target)?;
                if super::quantity::milli_value(*target) <= 0 {
                    return Err(format!("target {target} is below one milli-unit"));
                }
                Ok(())
            }
        }
    }
}

/// Which readiness rules a resource metric gets: upstream applies the CPU
/// initialization-period rules to the `cpu` resource only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResourceKind {
    Cpu,
    /// Memory and any other resource: only Pending/Failed/deleting pods are set aside.
    Other,
}

/// Resource requests in milli-units, per pod.
///
/// The HPA reads them from each pod's spec; a pod without one makes the utilization
/// metric fail, as upstream. Usually all pods share the template's request
/// (`per_pod_milli`); `by_pod` overrides it per pod name (rolling updates, tests).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ResourceRequests {
    pub per_pod_milli: Option<i64>,
    pub by_pod: BTreeMap<String, i64>,
}

impl ResourceRequests {
    /// Every pod requests `milli`.
    pub fn uniform(milli: i64) -> Self {
        ResourceRequests {
            per_pod_milli: Some(milli),
            by_pod: BTreeMap::new(),
        }
    }

    /// The request of the named pod, if it has one.
    pub fn for_pod(&self, pod: &str) -> Option<i64> {
        self.by_pod.get(pod).copied().or(self.per_pod_milli)
    }

    fn validate(&self) -> Result<(), String> {
        let bad = self
            .per_pod_milli
            .into_iter()
            .chain(self.by_pod.values().copied())
            .find(|r| *r < 0);
        match bad {
            Some(r) => Err(format!("requests must not be negative, found {r}")),
            None => Ok(()),
        }
    }
}
