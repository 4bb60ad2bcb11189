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
    /// `metadata.creationTimestamp`: with `ready_transition_time` it gives the cold
    /// start (creation → Ready) a forecasting scaler looks ahead by. `None` when the
    /// driver does not know it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_time: Option<Micros>,
    /// The pod runs on spot (preemptible) capacity: it costs the spot price and may be
    /// reclaimed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub spot: bool,
}

impl PodStatus {
    /// A pod created, started and ready at `since`, serving since then (a driver's
    /// stand-ins, such as the activator, and tests).
    pub fn ready_since(name: impl Into<String>, since: crate::time::Micros) -> PodStatus {
        PodStatus {
            name: name.into(),
            phase: PodPhase::Running,
            ready: true,
            start_time: Some(since),
            ready_transition_time: Some(since),
            deleting: false,
            creation_time: Some(since),
            spot: false,
        }
    }

    /// A pod that serves traffic: running, ready and not being deleted. Every strategy
    /// decides readiness with this one rule.
    pub fn is_ready(&self) -> bool {
        self.phase == PodPhase::Running && self.ready && !self.deleting
    }
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

/// What capacity costs and what was spent, as the driver bills it.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CostObservation {
    /// Price of one replica-hour on on-demand capacity (all its GPUs), in the budget's
    /// currency.
    pub on_demand_per_replica_hour: f64,
    /// Price of one replica-hour on spot capacity.
    pub spot_per_replica_hour: f64,
    /// Spend since the driver started, in the same currency (only differences are
    /// used: a restarted driver may start again from zero).
    pub spent: f64,
    /// Spot interruption notices the driver saw in the last hour (fallback to
    /// on-demand follows them).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub spot_interruptions_last_hour: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// GPU telemetry of one pod (dcgm-exporter fields): one reading per GPU it holds. A
/// tensor-parallel replica holds several and a MIG slice is one; the strategy
/// aggregates them per replica ([`crate::budscaler::gpu`]).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GpuSample {
    pub devices: Vec<GpuDevice>,
}

/// One GPU (or MIG instance) of a pod. Fields the exporter did not export are `None`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GpuDevice {
    /// The `gpu` index, followed by `/` and `GPU_I_ID` for a MIG instance.
    pub id: String,
    /// `modelName`, e.g. `NVIDIA H100 80GB HBM3`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// `DCGM_FI_DEV_GPU_UTIL`, percent 0..=100: the share of time a kernel ran. Near
    /// 100 whenever a batch runs, so it is reported, not scaled on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utilization_percent: Option<f64>,
    /// `DCGM_FI_DEV_FB_USED`, MiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_used_mib: Option<f64>,
    /// `DCGM_FI_DEV_FB_FREE`, MiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_free_mib: Option<f64>,
    /// `DCGM_FI_DEV_POWER_USAGE`, watts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub power_watts: Option<f64>,
    /// `DCGM_FI_DEV_POWER_MGMT_LIMIT`, watts (not in dcgm-exporter's default list).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub power_limit_watts: Option<f64>,
    /// `DCGM_FI_PROF_PIPE_TENSOR_ACTIVE`, 0..=1: the share of cycles the tensor pipe
    /// was busy. It grows with the batch until the step is compute-bound, which is what
    /// a busy LLM replica running out of compute looks like.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tensor_active: Option<f64>,
}

impl GpuDevice {
    /// Framebuffer used ÷ (used + free), 0..=1.
    pub fn memory_fraction(&self) -> Option<f64> {
        let used = self.memory_used_mib?;
        let total = used + self.memory_free_mib?;
        (total > 0.0).then(|| (used / total).clamp(0.0, 1.0))
    }

    /// Compute pressure, 0..=1: tensor-pipe activity, else power draw ÷ power limit.
    pub fn compute_fraction(&self) -> Option<f64> {
        if let Some(active) = self.tensor_active {
            return Some(active.clamp(0.0, 1.0));
        }
        let (power, limit) = (self.power_watts?, self.power_limit_watts?);
        (limit > 0.0).then(|| (power / limit).clamp(0.0, 1.0))
    }
}

/// A latency histogram over one scrape interval (from bucket deltas), in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LatencyWindow {
    /// Observations in the interval.
    pub count: f64,
    pub mean_s: f64,
    /// Quantiles interpolated linearly within the histogram's buckets.
    pub p50_s: f64,
    pub p90_s: f64,
    pub p99_s: f64,
}

/// Engine-independent serving signals of one pod. Gauges are the latest scrape's;
/// rates and latency windows cover `window`, the interval between the pod's two latest
/// distinct scrapes (counter resets handled: a counter that went down restarted from
/// zero). Rates and windows are `None` until the pod has been scraped twice.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServingSample {
    /// When the latest scrape was taken.
    pub timestamp: Micros,
    /// The interval the rates and latency windows cover (0 before a second scrape).
    pub window: Micros,
    /// Requests in the running batch.
    pub running: Option<f64>,
    /// Requests waiting to be scheduled.
    pub waiting: Option<f64>,
    /// KV-cache use as a fraction 0..=1.
    pub kv_cache_usage: Option<f64>,
    /// Prompt tokens processed per second.
    pub prompt_tokens_per_s: Option<f64>,
    /// Tokens generated per second.
    pub generation_tokens_per_s: Option<f64>,
    /// Requests finished per second.
    pub requests_per_s: Option<f64>,
    /// Time to first token of the requests whose first token came in the window.
    pub ttft: Option<LatencyWindow>,
    /// Inter-token latency (time per output token) in the window.
    pub itl: Option<LatencyWindow>,
    /// Time from arrival to first being scheduled, of requests scheduled in the window
    /// (load shows here before it shows in TTFT, and long prompts do not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_time: Option<LatencyWindow>,
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
    /// Unix time of `now` in microseconds, when the driver knows the calendar (seasonal
    /// learning and schedule hints need it; `now` alone is only a monotonic clock).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wall_clock: Option<Micros>,
    /// Per pod name, the engine-independent serving signals (filled for BudScaler,
    /// which sizes the fleet from token rates, queues and latencies).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub serving: BTreeMap<String, ServingSample>,
    /// Prices and spend, when the driver knows them (cost-aware scaling).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<CostObservation>,
    /// Per configured source the driver could not read (a pod endpoint, a PromQL query,
    /// a metrics API), why. Its metrics are missing from the observation, so the
    /// strategy holds as it does on missing metrics; the decision names them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub source_errors: BTreeMap<String, String>,
}
