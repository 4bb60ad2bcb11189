//! What a driver saw at one instant: the input of every decision.
//!
//! The simulator builds an [`Observation`] from the metrics its virtual replicas
//! export; the operator builds the same struct from scraped Prometheus text and the
//! Kubernetes API. Nothing in here is specific to either driver.

use crate::time::Micros;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Kubernetes pod phase, as reported in `status.phase`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PodPhase {
    Pending,
    Running,
    Succeeded,
    Failed,
    Unknown,
}

/// The parts of a pod's status that scaling decisions depend on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodStatus {
    pub name: String,
    pub phase: PodPhase,
    /// The `Ready` condition is `True`.
    pub ready: bool,
    /// `status.startTime`; `None` when the kubelet has not started the pod yet.
    pub start_time: Option<Micros>,
    /// `lastTransitionTime` of the `Ready` condition.
    pub ready_transition_time: Option<Micros>,
    /// `metadata.deletionTimestamp` is set.
    pub deleting: bool,
}

/// One metric sample of one pod (resource usage in milli-units, or a pod metric value).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSample {
    /// When the sample was taken.
    pub timestamp: Micros,
    /// The sampling window the value covers (metrics-server reports one).
    pub window: Micros,
    /// The value: milli-units for resources (CPU millicores, memory milli-bytes), plain
    /// units for pod metrics.
    pub value: f64,
}

/// GPU telemetry of one pod (DCGM exporter fields), optional.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GpuSample {
    /// `DCGM_FI_DEV_GPU_UTIL`, percent 0..=100.
    pub utilization_percent: f64,
    /// `DCGM_FI_DEV_FB_USED`, MiB.
    pub memory_used_mib: f64,
    /// `DCGM_FI_DEV_FB_FREE`, MiB.
    pub memory_free_mib: f64,
    /// `DCGM_FI_DEV_POWER_USAGE`, watts.
    pub power_watts: f64,
}

/// Everything a scaler may look at for one decision.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Observation {
    /// The instant of the decision.
    pub now: Micros,
    /// `scale.spec.replicas` of the target.
    pub current_replicas: i32,
    /// The target's pods (selected by its label selector).
    pub pods: Vec<PodStatus>,
    /// Per metric name (as named in the spec's metric source), per pod name, the
    /// latest sample. Pods without a sample are simply absent.
    pub pod_metrics: BTreeMap<String, BTreeMap<String, PodSample>>,
    /// Per metric name, the value of an object or external metric.
    pub object_metrics: BTreeMap<String, f64>,
    /// Per pod name, GPU telemetry when a GPU source is configured.
    pub gpu: BTreeMap<String, GpuSample>,
    /// Per resource name (`cpu`, `memory`), per pod name, the pod's summed container
    /// requests in milli-units: the denominator of resource utilization targets.
    pub resource_requests: BTreeMap<String, BTreeMap<String, i64>>,
}
