//! Stage 1: what one observation says about the workload.
//!
//! BudScaler sizes the fleet in *work*: tokens per second, with a prompt token counted
//! as [`PREFILL_WEIGHT`] of a generated one (prefill is compute-bound and batches many
//! tokens per step; decode is memory-bound and pays the weights and KV reads per
//! token). Capacity is learned in the same unit on the traffic actually served, so the
//! weight only matters when the prompt/output mix shifts.
//!
//! Each manifest metric is read by its kind, which decides how it becomes a replica
//! count ([`SignalKind`]):
//! - **loads** (queue length, running requests, concurrency, token or request rates)
//!   add up over pods: `ceil(total ÷ per-replica target)`;
//! - **fractions** (KV-cache use 0..1, GPU utilization %) are per replica:
//!   `ceil(ready × mean ÷ target)`;
//! - **latencies** (TTFT, ITL/TPOT, E2E, queue time; windowed means or quantiles) do not
//!   scale linearly with replicas and say nothing about how many fewer would do: over
//!   target they ask for `ceil(ready × min(value ÷ target, 2))`, under it nothing.

use crate::observation::{Observation, PodPhase, PodStatus, ServingSample};
use crate::spec::ResolvedMetric;

/// A prompt token's work relative to a generated token's.
pub const PREFILL_WEIGHT: f64 = 0.3;

/// The pseudo-pod a driver adds when no replica is ready and requests wait at the
/// gateway (Knative's activator); its `waiting` is that queue.
pub const ACTIVATOR_POD: &str = "activator";

/// KV-cache use at which a replica counts as saturated. vLLM preempts near full, and
/// near the top the cache fills much faster than throughput grows (on the default
/// scenario a replica at 56% served 12.6k work/s, at 73% 13.6k, at 90% 14k): reading
/// capacity at three quarters learns it before the SLO breaks, at a small discount.
pub const KV_SATURATED: f64 = 0.75;

/// How a metric becomes a replica count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignalKind {
    Load,
    Fraction,
    Latency,
}

impl SignalKind {
    /// Classifies a manifest metric by its name.
    pub fn of(name: &str) -> SignalKind {
        let key = name.to_ascii_lowercase();
        const LATENCY: [&str; 9] = [
            "ttft",
            "time_to_first",
            "itl",
            "tpot",
            "inter_token",
            "time_per_output",
            "latency",
            "e2e",
            "queue_time",
        ];
        const FRACTION: [&str; 6] = [
            "kv",
            "cache_usage",
            "utilization",
            "util",
            "_perc",
            "percent",
        ];
        if LATENCY.iter().any(|k| key.contains(k)) {
            SignalKind::Latency
        } else if FRACTION.iter().any(|k| key.contains(k)) {
            SignalKind::Fraction
        } else {
            SignalKind::Load
        }
    }
}

/// A latency limit from a manifest latency metric, checked per replica: a replica
/// over it serves all it can at that latency (capacity learning reads it as saturated).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatencyLimit {
    pub which: LatencyKind,
    /// `None` = mean, else the quantile (0.5, 0.9, 0.99).
    pub quantile: Option<f64>,
    pub target_s: f64,
}

/// Which latency a limit is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LatencyKind {
    Ttft,
    Itl,
    QueueTime,
}

/// Observations a latency window needs before it counts.
pub const MIN_LATENCY_COUNT: f64 = 5.0;

impl LatencyLimit {
    /// The limit a manifest metric sets, when it names TTFT or ITL/TPOT.
    pub fn of(metric: &ResolvedMetric) -> Option<LatencyLimit> {
        let key = metric.name.to_ascii_lowercase();
        let which = if key.contains("ttft") || key.contains("time_to_first") {
            LatencyKind::Ttft
        } else if ["itl", "tpot", "inter_token", "time_per_output"]
            .iter()
            .any(|k| key.contains(k))
        {
            LatencyKind::Itl
        } else if key.contains("queue_time") || key.contains("queue_duration") {
            LatencyKind::QueueTime
        } else {
            return None;
        };
        let quantile = [("_p50", 0.5), ("_p90", 0.9), ("_p99", 0.99)]
            .iter()
            .find(|(suffix, _)| key.ends_with(suffix))
            .map(|&(_, q)| q);
        Some(LatencyLimit {
            which,
            quantile,
            target_s: metric.target.value(),
        })
    }

    fn exceeded(&self, sample: &ServingSample) -> bool {
        let window = match self.which {
            LatencyKind::Ttft => sample.ttft,
            LatencyKind::Itl => sample.itl,
            LatencyKind::QueueTime => sample.queue_time,
        };
        let Some(w) = window.filter(|w| w.count >= MIN_LATENCY_COUNT) else {
            return false;
        };
        let value = match self.quantile {
            None => w.mean_s,
            Some(q) if q <= 0.5 => w.p50_s,
            Some(q) if q <= 0.9 => w.p90_s,
            Some(_) => w.p99_s,
        };
        self.target_s > 0.0 && value > self.target_s
    }
}

/// One ready replica's contribution.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplicaLoad {
    pub pod: String,
    /// Work served per second over the sample's window.
    pub work: f64,
    pub waiting: f64,
    pub kv: Option<f64>,
    /// Over a manifest latency limit in this window.
    pub over_latency: bool,
    /// Ready for the whole window the rates cover (a replica that just became ready
    /// has not had a full window to show its capacity).
    pub full_window: bool,
}

/// The workload at one observation.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Workload {
    /// Ready replicas (the activator excluded).
    pub ready: i32,
    /// Replicas created but not ready yet (not being deleted).
    pub starting: i32,
    /// Ready replicas with windowed rates.
    pub replicas: Vec<ReplicaLoad>,
    /// Ready replicas without a serving sample (their scrape failed).
    pub missing: Vec<String>,
    /// Work served per second over ready replicas with rates.
    pub served: f64,
    /// Requests waiting, ready replicas and the activator.
    pub waiting: f64,
    /// Requests waiting at the activator.
    pub activator_waiting: f64,
    pub running: f64,
    pub prompt_tokens_per_s: f64,
    pub generation_tokens_per_s: f64,
    pub requests_per_s: f64,
    pub kv_mean: Option<f64>,
    pub kv_max: Option<f64>,
}

fn work(sample: &ServingSample) -> Option<f64> {
    let generated = sample.generation_tokens_per_s?;
    let prompt = sample.prompt_tokens_per_s.unwrap_or(0.0);
    Some(generated + PREFILL_WEIGHT * prompt)
}

fn is_activator(pod: &PodStatus) -> bool {
    pod.name == ACTIVATOR_POD
}

/// A pod created and not ready yet, still coming.
fn is_starting(pod: &PodStatus) -> bool {
    !pod.deleting && !pod.is_ready() && matches!(pod.phase, PodPhase::Pending | PodPhase::Running)
}

impl Workload {
    /// Reads the serving samples of `obs`, checking each replica against `limits`.
    pub fn read(obs: &Observation, limits: &[LatencyLimit]) -> Workload {
        let mut w = Workload::default();
        let mut kv_sum = 0.0;
        let mut kv_n = 0usize;
        for pod in &obs.pods {
            let sample = obs.serving.get(&pod.name);
            if is_activator(pod) {
                w.activator_waiting += sample.and_then(|s| s.waiting).unwrap_or(0.0);
                continue;
            }
            if is_starting(pod) {
                w.starting += 1;
                continue;
            }
            if !pod.is_ready() {
                continue;
            }
            w.ready += 1;
            let Some(sample) = sample else {
                w.missing.push(pod.name.clone());
                continue;
            };
            let waiting = sample.waiting.unwrap_or(0.0);
            w.waiting += waiting;
            w.running += sample.running.unwrap_or(0.0);
            if let Some(kv) = sample.kv_cache_usage {
                kv_sum += kv;
                kv_n += 1;
                w.kv_max = Some(w.kv_max.map_or(kv, |m: f64| m.max(kv)));
            }
            // A replica scraped once has no window yet: it is new, not missing.
            let Some(work) = work(sample).filter(|_| sample.window > 0) else {
                continue;
            };
            w.served += work;
            w.prompt_tokens_per_s += sample.prompt_tokens_per_s.unwrap_or(0.0);
            w.generation_tokens_per_s += sample.generation_tokens_per_s.unwrap_or(0.0);
            w.requests_per_s += sample.requests_per_s.unwrap_or(0.0);
            let full_window = pod
                .ready_transition_time
                .is_none_or(|ready_at| ready_at <= sample.timestamp - sample.window);
            w.replicas.push(ReplicaLoad {
                pod: pod.name.clone(),
                work,
                waiting,
                kv: sample.kv_cache_usage,
                over_latency: limits.iter().any(|l| l.exceeded(sample)),
                full_window,
            });
        }
        w.waiting += w.activator_waiting;
        if kv_n > 0 {
            w.kv_mean = Some(kv_sum / kv_n as f64);
        }
        w
    }

    /// Work per finished request, when requests finished in the window.
    pub fn work_per_request(&self) -> Option<f64> {
        (self.requests_per_s > 0.0 && self.served > 0.0).then(|| self.served / self.requests_per_s)
    }
}

/// One manifest metric's reading and the replica count it asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct GuardReading {
    pub metric: String,
    pub kind: SignalKind,
    /// The value compared with the target (total for loads, mean for the others).
    pub value: Option<f64>,
    pub target: f64,
    /// `None` when the metric has no opinion (a latency under target, no samples).
    pub proposal: Option<i32>,
    pub error: Option<String>,
}

/// Reads one manifest metric of `kind` over the ready pods (and the activator for
/// loads).
pub fn guard(
    metric: &ResolvedMetric,
    kind: SignalKind,
    obs: &Observation,
    ready: i32,
) -> GuardReading {
    let target = metric.target.value();
    let mut reading = GuardReading {
        metric: metric.name.clone(),
        kind,
        value: None,
        target,
        proposal: None,
        error: None,
    };
    let values: Vec<f64> = if metric.is_workload_value() {
        obs.object_metrics
            .get(&metric.name)
            .copied()
            .into_iter()
            .collect()
    } else {
        let Some(samples) = obs.pod_metrics.get(&metric.name) else {
            reading.error = Some(format!("no samples of `{}`", metric.name));
            return reading;
        };
        obs.pods
            .iter()
            .filter(|p| p.is_ready() && (kind == SignalKind::Load || !is_activator(p)))
            .filter_map(|p| samples.get(&p.name).map(|s| s.value))
            .collect()
    };
    if values.is_empty() {
        reading.error = Some(format!("no samples of `{}` from ready pods", metric.name));
        return reading;
    }
    let total: f64 = values.iter().sum();
    let mean = total / values.len() as f64;
    let replicas = f64::from(ready.max(1));
    let ceil = |x: f64| x.ceil().min(f64::from(i32::MAX)) as i32;
    match kind {
        SignalKind::Load => {
            reading.value = Some(total);
            reading.proposal = (target > 0.0).then(|| ceil(total / target));
        }
        SignalKind::Fraction => {
            let value = if metric.is_workload_value() {
                total
            } else {
                mean
            };
            reading.value = Some(value);
            reading.proposal = (target > 0.0).then(|| ceil(replicas * value / target));
        }
        SignalKind::Latency => {
            reading.value = Some(mean);
            reading.proposal = (target > 0.0 && mean > target)
                .then(|| ceil(replicas * (mean / target).min(2.0)).max(ready + 1));
        }
    }
    reading
}
