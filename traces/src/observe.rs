//! Scraped text and pod statuses → the engine's [`Observation`].
//!
//! The simulator and the operator both call this: each pod's model-server scrape (and
//! its GPUs' dcgm-exporter lines, when available) parsed with
//! [`crate::metrics::prometheus`], plus the pod statuses, become the one struct every
//! scaling decision reads. Doing it in one place means a simulated decision and a live
//! one see the same numbers for the same text.
//!
//! An [`Observer`] is stateful: per pod (by name) it keeps the counters and histogram
//! buckets of the pod's latest distinct scrape and that scrape's time, and reads every
//! counter and histogram over the interval between the pod's two latest distinct scrapes
//! (see [`crate::metrics::window`]: a counter that went down was reset and counts from
//! zero). A scrape seen again (same time: the scrape interval is longer than the tick)
//! keeps the previous interval's values, never a zero-length window. Before a pod's
//! second scrape, windowed values are absent. A pod missing from a call is forgotten.
//!
//! # Manifest metrics
//!
//! A manifest metric (`ResolvedSpec.metrics[i].name`) is read from a scrape, first match
//! wins:
//! 1. `concurrency` / `in_flight` (Knative's concurrency): running + waiting requests;
//! 2. a family named exactly so, as written or with the engine's prefix (`vllm:`);
//! 3. an engine-independent [`Signal`] by name or alias (`num_requests_waiting` → queue
//!    length, `gpu_cache_usage_perc` / `kv_cache_usage` → KV-cache fraction,
//!    `prompt_tokens`, `generation_tokens`, `requests_finished`, `ttft`, `itl` / `tpot`,
//!    `e2e_latency`, `queue_time`, ...), read with the engine's names;
//! 4. a GPU field: `gpu_utilization` / `gpu_util` (percent, mean over the pod's GPUs),
//!    `gpu_memory_used` (MiB, summed), `gpu_power` (W, summed), or any exact
//!    `DCGM_FI_*` name (mean over the pod's GPUs).
//!
//! A name ending in `_p50`, `_p90` or `_p99` (`ttft_p90`) names that quantile of the
//! histogram the rest of the name finds (2. or 3.). What each kind of source gives, per
//! pod:
//!
//! | source | value | kind |
//! |---|---|---|
//! | gauge (queue length, running, batch size, concurrency, a gauge family) | the latest scrape, summed over the pod's series | additive load |
//! | KV-cache use | the latest scrape, mean over the pod's series (engines, ranks) | fraction 0..=1 |
//! | counter (token and request counters, preemptions, a counter family) | increase over the last interval per second: tokens/s, requests/s | additive load (a rate) |
//! | histogram (TTFT, ITL, end-to-end latency, queue time, a histogram or summary family) | mean over the last interval (`Δsum / Δcount`, 0 without observations) | latency, seconds |
//! | `…_p50` / `_p90` / `_p99` of a histogram | that quantile over the last interval (PromQL's `histogram_quantile` on bucket increases) | latency, seconds |
//! | Triton's cumulative µs counters (queue time, request duration) | `Δduration / Δrequests` over the last interval | latency, seconds |
//! | GPU fields | the latest scrape | percent, MiB, W |
//!
//! Gauges keep the configured scrape interval as their sample's `window`; windowed
//! values report the interval they cover. Pod-level sources land in `pod_metrics` per
//! pod; workload-level sources (external, or a PromQL query this function cannot
//! evaluate) land in `object_metrics` over the pods not being deleted: summed, except
//! latencies, which are averaged weighted by their observation counts. Resource metrics
//! (`cpu`, `memory`) come from the metrics API, not from scrapes: a live driver passes
//! them with the pods' requests through [`Observer::set_resource_usage`]; without it
//! they are left out (and a scaler on them holds).
//!
//! # Serving signals
//!
//! For the BudScaler strategy every pod with an engine scrape (the activator pseudo-pod
//! included) also gets a [`ServingSample`] in `Observation.serving`: running, waiting
//! and KV use from the latest scrape, and over the last interval prompt and generation
//! tokens/s, finished requests/s and the TTFT and inter-token-latency windows. HPA and
//! KPA observers skip this work and keep no state for gauge-only manifests.

use crate::metrics::dcgm;
use crate::metrics::prometheus::{Histogram, MetricKind, Scrape};
use crate::metrics::resource_usage;
use crate::metrics::signals::{self, ModelServer, Reading, Signal};
use crate::metrics::window;
use engine::observation::{GpuDevice, GpuSample, Observation, PodSample, PodStatus, ServingSample};
use engine::spec::{self, MetricSourceType, ResolvedMetric, ResolvedSpec, ScalingStrategy};
use engine::time::Micros;
use std::collections::BTreeMap;

/// One pod as a driver saw it at a scrape.
#[derive(Debug, Clone, Copy)]
pub struct PodScrape<'a> {
    pub status: &'a PodStatus,
    /// The model server's `/metrics`, parsed; `None` when the endpoint did not answer
    /// (a pod still loading its model).
    pub engine: Option<&'a Scrape>,
    /// dcgm-exporter lines of this pod's GPUs, parsed; `None` without GPU telemetry.
    pub gpu: Option<&'a Scrape>,
    /// When the scrape was taken.
    pub scraped_at: Micros,
}

/// How one manifest metric is read, worked out once per spec.
#[derive(Debug, Clone, PartialEq)]
struct MetricPlan {
    name: String,
    workload: bool,
    concurrency: bool,
    exact: Vec<String>,
    signal: Option<Signal>,
    gpu: Option<GpuField>,
    engine: Option<ModelServer>,
    /// `_p50` / `_p90` / `_p99`: this quantile of a histogram.
    quantile: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum GpuField {
    Mean(&'static str),
    Sum(&'static str),
    Exact,
}

/// A reading that only means something over an interval: a counter's total, a
/// histogram's cumulative buckets, or the two counters of a ratio.
#[derive(Debug, Clone, PartialEq)]
enum Cumulative {
    Counter(f64),
    Histogram(Histogram),
    Ratio { numerator: f64, denominator: f64 },
}

/// A [`Cumulative`] read over the interval between two scrapes.
#[derive(Debug, Clone, PartialEq)]
enum Windowed {
    /// Per second.
    Rate(f64),
    /// The observations of the interval.
    Latency(Histogram),
    /// `Δnumerator / Δdenominator` (0 when the denominator did not move), weighted by
    /// `Δdenominator`.
    Ratio { value: f64, weight: f64 },
}

/// What a source gives at one scrape.
enum Source {
    Value(f64),
    Cumulative(Cumulative),
}

/// Whose cumulative reading: one of the serving signals, or a manifest metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Serving(usize),
    Plan(usize),
}

/// The counters and histograms of the serving sample, in [`Key::Serving`] order.
const SERVING_CUMULATIVE: [Signal; 6] = [
    Signal::PromptTokensTotal,
    Signal::GenerationTokensTotal,
    Signal::RequestsFinishedTotal,
    Signal::Ttft,
    Signal::Itl,
    Signal::QueueTime,
];

/// Every family the serving sample reads.
const SERVING_SIGNALS: [Signal; 9] = [
    Signal::RunningRequests,
    Signal::QueueLength,
    Signal::KvCacheUsage,
    Signal::PromptTokensTotal,
    Signal::GenerationTokensTotal,
    Signal::RequestsFinishedTotal,
    Signal::Ttft,
    Signal::Itl,
    Signal::QueueTime,
];

/// One pod's latest distinct scrape: its cumulative readings and what they gave over
/// the interval since the scrape before.
#[derive(Debug, Clone, PartialEq)]
struct PodHistory {
    at: Micros,
    readings: Vec<(Key, Cumulative)>,
    /// 0 before a second scrape.
    interval: Micros,
    windows: Vec<(Key, Windowed)>,
}

impl PodHistory {
    fn window(&self, key: Key) -> Option<&Windowed> {
        self.windows.iter().find(|(k, _)| *k == key).map(|(_, w)| w)
    }
}

/// Reads a spec's metrics out of scrapes; build once per scaler, call per decision.
#[derive(Debug, Clone, PartialEq)]
pub struct Observer {
    plans: Vec<MetricPlan>,
    /// GPU telemetry is read (a GPU metric, or `gpuConfig.enabled`).
    gpu: bool,
    /// Sampling window reported with each gauge sample (the scrape interval).
    window: Micros,
    /// Serving samples are built (the BudScaler strategy).
    serving: bool,
    /// The engine named by the first metric that names one, for the serving signals.
    engine: Option<ModelServer>,
    /// Per pod name, its latest distinct scrape's cumulative readings.
    history: BTreeMap<String, PodHistory>,
    /// Workload values a driver read itself (a PromQL query, an external source) for
    /// the next observation, by metric name; an error leaves the metric out.
    workload_values: BTreeMap<String, Result<f64, String>>,
    /// The manifest's resource metrics (`cpu`, `memory`): their names are the resource
    /// names.
    resource_metrics: Vec<String>,
    /// Prices and spend for the next observation (`Observation.cost`).
    cost: Option<engine::observation::CostObservation>,
    /// Sources the driver could not read for the next observation
    /// (`Observation.source_errors`).
    source_errors: BTreeMap<String, String>,
    /// Per-pod values a driver read from the custom metrics API, by metric name, for
    /// the next observation.
    pod_values: BTreeMap<String, BTreeMap<String, PodSample>>,
    /// Resource usage and requests for the next observation.
    resources: Option<(resource_usage::Usage, resource_usage::Requests)>,
}

fn engine_type(engine: spec::InferenceServer) -> ModelServer {
    match engine {
        spec::InferenceServer::Vllm => ModelServer::Vllm,
        spec::InferenceServer::Tgi => ModelServer::Tgi,
        spec::InferenceServer::Sglang => ModelServer::Sglang,
        spec::InferenceServer::Triton => ModelServer::Triton,
    }
}

fn prefix(engine: ModelServer) -> &'static str {
    match engine {
        ModelServer::Vllm => "vllm:",
        ModelServer::Sglang => "sglang:",
        ModelServer::Tgi => "tgi_",
        ModelServer::Triton => "nv_",
    }
}

/// Signals whose value only means something over an interval.
fn is_cumulative(signal: Signal) -> bool {
    matches!(
        signal,
        Signal::PromptTokensTotal
            | Signal::GenerationTokensTotal
            | Signal::RequestsFinishedTotal
            | Signal::Preemptions
            | Signal::Ttft
            | Signal::Itl
            | Signal::E2eLatency
            | Signal::QueueTime
    )
}

/// `ttft_p90` → (`ttft`, 0.9).
fn split_quantile(name: &str) -> (&str, Option<f64>) {
    let lower = name.to_ascii_lowercase();
    for (suffix, q) in [("_p50", 0.5), ("_p90", 0.9), ("_p99", 0.99)] {
        if lower.ends_with(suffix) && name.len() > suffix.len() {
            return (&name[..name.len() - suffix.len()], Some(q));
        }
    }
    (name, None)
}

fn plan(metric: &ResolvedMetric) -> Option<MetricPlan> {
    if metric.source == MetricSourceType::Resource {
        return None;
    }
    let name = metric.name.clone();
    let (base, quantile) = split_quantile(&name);
    let key = base.trim().to_ascii_lowercase().replace(['-', ' '], "_");
    let engine = metric.engine.as_ref().map(|e| engine_type(e.engine_type));
    let mut exact = vec![base.to_string()];
    for candidate in ModelServer::ALL {
        let prefixed = format!("{}{base}", prefix(candidate));
        if engine.is_none_or(|e| e == candidate) && !exact.contains(&prefixed) {
            exact.push(prefixed);
        }
    }
    let signal = if key.ends_with("cache_usage_perc") {
        // vLLM v0's `gpu_cache_usage_perc`, renamed `kv_cache_usage_perc` in v1.
        Some(Signal::KvCacheUsage)
    } else {
        key.parse::<Signal>().ok()
    };
    let gpu = match key.as_str() {
        _ if quantile.is_some() => None,
        "gpu_utilization" | "gpu_util" | "gpu_utilization_percent" => {
            Some(GpuField::Mean(dcgm::GPU_UTIL))
        }
        "gpu_memory_used" | "gpu_memory_used_mib" | "fb_used" => Some(GpuField::Sum(dcgm::FB_USED)),
        "gpu_power" | "gpu_power_watts" | "power_usage" => Some(GpuField::Sum(dcgm::POWER_USAGE)),
        _ if name.starts_with("DCGM_FI_") => Some(GpuField::Exact),
        _ => None,
    };
    Some(MetricPlan {
        workload: metric.is_workload_value(),
        concurrency: quantile.is_none() && matches!(key.as_str(), "concurrency" | "in_flight"),
        name,
        exact,
        signal,
        gpu,
        engine,
        quantile,
    })
}

/// Whether `family` is read for one of `signals` on one of `engines`: the candidate's
/// family itself (with or without `_total`), a histogram's family for its `_sum` /
/// `_count`, or a ratio's denominator.
fn signals_read(engines: &[ModelServer], signals: &[Signal], family: &str) -> bool {
    let base = |n: &str| n.strip_suffix("_total").unwrap_or(n).to_string();
    engines.iter().any(|&engine| {
        signals.iter().any(|&signal| {
            signals::candidates(engine, signal).iter().any(|candidate| {
                let name = candidate.name;
                name == family
                    || base(name) == base(family)
                    || name
                        .strip_suffix("_sum")
                        .or_else(|| name.strip_suffix("_count"))
                        .is_some_and(|histogram| histogram == family)
                    || matches!(candidate.reading, Reading::CounterRatio { denominator } if base(denominator) == base(family))
            })
        })
    })
}

impl Observer {
    /// The reading plan of every metric of `spec`; `window` is the scrape interval,
    /// reported as each gauge sample's window.
    pub fn new(spec: &ResolvedSpec, window: Micros) -> Observer {
        let plans: Vec<MetricPlan> = spec.metrics.iter().filter_map(plan).collect();
        Observer {
            gpu: spec.gpu.enabled || plans.iter().any(|plan| plan.gpu.is_some()),
            engine: plans.iter().find_map(|plan| plan.engine),
            plans,
            window,
            serving: spec.strategy == ScalingStrategy::BudScaler,
            history: BTreeMap::new(),
            workload_values: BTreeMap::new(),
            resource_metrics: spec
                .metrics
                .iter()
                .filter(|m| m.source == MetricSourceType::Resource)
                .map(|m| m.name.clone())
                .collect(),
            resources: None,
            pod_values: BTreeMap::new(),
            source_errors: BTreeMap::new(),
            cost: None,
        }
    }

    /// A workload metric's value as the driver read it for the next observation (the
    /// body of a Prometheus query or an external source, parsed with
    /// [`crate::metrics::workload_value`]): it replaces the sum over the pods' scrapes
    /// that stands in for it otherwise, and an error leaves the metric out of the
    /// observation (the engine then holds, as for any failed metric).
    pub fn set_workload_value(&mut self, metric: &str, value: Result<f64, String>) {
        self.workload_values.insert(metric.to_string(), value);
    }

    /// Resource usage (per resource, per pod, milli-units: [`crate::metrics::resource_usage`])
    /// and the pods' summed container requests (per resource, per pod, milli-units) for
    /// the next observation, where they become `pod_metrics` of the manifest's resource
    /// metrics and `resource_requests`, as the HPA reads them.
    pub fn set_resource_usage(
        &mut self,
        usage: resource_usage::Usage,
        requests: resource_usage::Requests,
    ) {
        self.resources = Some((usage, requests));
    }

    /// Prices and spend as the driver bills them, for the next observation's `cost`.
    pub fn set_cost(&mut self, cost: Option<engine::observation::CostObservation>) {
        self.cost = cost;
    }

    /// The sources the driver could not read this time, source → why, for the next
    /// observation's `source_errors`.
    pub fn set_source_errors(&mut self, errors: BTreeMap<String, String>) {
        self.source_errors = errors;
    }

    /// A pod metric's per-pod values as the driver read them (the custom metrics API's
    /// `MetricValueList`: [`crate::metrics::metrics_api`]) for the next observation: they
    /// replace what the pods' scrapes give for it.
    pub fn set_pod_values(&mut self, metric: &str, samples: BTreeMap<String, PodSample>) {
        self.pod_values.insert(metric.to_string(), samples);
    }

    /// Whether any metric (or serving signal) may be read from the family named
    /// `family`, or from the histogram whose `_bucket` / `_sum` / `_count` series it
    /// names: a scraper that only keeps these builds the same observation.
    pub fn reads_family(&self, family: &str) -> bool {
        self.reads(family)
            || ["_bucket", "_sum", "_count"]
                .iter()
                .filter_map(|suffix| family.strip_suffix(suffix))
                .any(|histogram| self.reads(histogram))
    }

    fn reads(&self, family: &str) -> bool {
        if self.plans.iter().any(|plan| plan.may_read(family)) {
            return true;
        }
        if !self.serving {
            return false;
        }
        let engines: &[ModelServer] = match &self.engine {
            Some(engine) => std::slice::from_ref(engine),
            None => &ModelServer::ALL,
        };
        signals_read(engines, &SERVING_SIGNALS, family)
    }

    /// Whether GPU telemetry (dcgm-exporter) is read at all.
    pub fn reads_gpu(&self) -> bool {
        self.gpu
    }

    /// Whether serving samples are built (the BudScaler strategy).
    pub fn builds_serving(&self) -> bool {
        self.serving
    }

    /// The observation at `now` from the pods' statuses and scrapes. Remembers each
    /// pod's cumulative readings for the next call (see the module docs) and forgets
    /// pods not in `pods`.
    pub fn observe(
        &mut self,
        now: Micros,
        current_replicas: i32,
        pods: &[PodScrape<'_>],
    ) -> Observation {
        let mut obs = Observation {
            now,
            current_replicas,
            pods: pods.iter().map(|pod| pod.status.clone()).collect(),
            ..Observation::default()
        };
        for pod in pods {
            let Some(gpu) = pod.gpu else { continue };
            if let Some(sample) = gpu_sample(gpu) {
                obs.gpu.insert(pod.status.name.clone(), sample);
            }
        }
        let plans = &self.plans;
        let mut per_pod: Vec<BTreeMap<String, PodSample>> = vec![BTreeMap::new(); plans.len()];
        let mut totals: Vec<Option<Total>> = vec![None; plans.len()];
        let mut reads: Vec<Option<Read>> = Vec::with_capacity(plans.len());
        for pod in pods {
            reads.clear();
            let mut cumulative: Vec<(Key, Cumulative)> = Vec::new();
            for (index, plan) in plans.iter().enumerate() {
                reads.push(match plan.read(pod) {
                    Some(Source::Value(value)) => Some(Read {
                        value,
                        weight: 0.0,
                        latency: false,
                        window: self.window,
                    }),
                    Some(Source::Cumulative(reading)) => {
                        cumulative.push((Key::Plan(index), reading));
                        None
                    }
                    None => None,
                });
            }
            let serving = pod.engine.filter(|_| self.serving).map(|scrape| {
                let engine = self
                    .engine
                    .or_else(|| ModelServer::detect(scrape))
                    .unwrap_or(ModelServer::Vllm);
                (scrape, engine)
            });
            if let Some((scrape, engine)) = serving {
                for (index, &signal) in SERVING_CUMULATIVE.iter().enumerate() {
                    if let Some(reading) = signal_cumulative(scrape, engine, signal) {
                        cumulative.push((Key::Serving(index), reading));
                    }
                }
            }
            let history = if cumulative.is_empty() {
                None
            } else {
                Some(remember(&mut self.history, pod, cumulative))
            };
            if let Some(history) = history {
                for (index, plan) in plans.iter().enumerate() {
                    let key = Key::Plan(index);
                    if history.readings.iter().any(|(k, _)| *k == key) {
                        reads[index] = history.window(key).and_then(|w| plan.windowed(w)).map(
                            |(value, weight, latency)| Read {
                                value,
                                weight,
                                latency,
                                window: history.interval,
                            },
                        );
                    }
                }
            }
            for (index, plan) in plans.iter().enumerate() {
                let Some(read) = reads[index] else {
                    continue;
                };
                if plan.workload {
                    if !pod.status.deleting {
                        let total = totals[index].get_or_insert_default();
                        if read.latency {
                            total.latency = true;
                            total.weighted += read.value * read.weight;
                            total.weight += read.weight;
                        } else {
                            total.sum += read.value;
                        }
                    }
                } else {
                    per_pod[index].insert(
                        pod.status.name.clone(),
                        PodSample {
                            timestamp: pod.scraped_at,
                            window: read.window,
                            value: read.value,
                        },
                    );
                }
            }
            if let Some((scrape, engine)) = serving {
                obs.serving.insert(
                    pod.status.name.clone(),
                    serving_sample(scrape, engine, pod.scraped_at, history),
                );
            }
        }
        if !self.history.is_empty() {
            self.history
                .retain(|name, _| pods.iter().any(|pod| pod.status.name == *name));
        }
        for (index, plan) in self.plans.iter().enumerate() {
            if plan.workload {
                if let Some(total) = totals[index] {
                    obs.object_metrics.insert(plan.name.clone(), total.value());
                }
            } else if !per_pod[index].is_empty() {
                obs.pod_metrics
                    .insert(plan.name.clone(), std::mem::take(&mut per_pod[index]));
            }
        }
        if let Some((mut usage, requests)) = self.resources.take() {
            for resource in &self.resource_metrics {
                if let Some(samples) = usage.remove(resource) {
                    obs.pod_metrics.insert(resource.clone(), samples);
                }
            }
            obs.resource_requests = requests;
        }
        obs.source_errors = std::mem::take(&mut self.source_errors);
        obs.cost = self.cost.take();
        for (metric, samples) in std::mem::take(&mut self.pod_values) {
            obs.pod_metrics.insert(metric, samples);
        }
        for (metric, value) in std::mem::take(&mut self.workload_values) {
            match value {
                Ok(value) => obs.object_metrics.insert(metric, value),
                Err(_) => obs.object_metrics.remove(&metric),
            };
        }
        obs
    }
}

/// One manifest metric of one pod.
#[derive(Debug, Clone, Copy)]
struct Read {
    value: f64,
    /// Observations behind a latency (its count), for averaging over pods.
    weight: f64,
    latency: bool,
    window: Micros,
}

/// A workload metric over pods: loads add up, latencies average by observation count.
#[derive(Debug, Clone, Copy, Default)]
struct Total {
    sum: f64,
    weighted: f64,
    weight: f64,
    latency: bool,
}

impl Total {
    fn value(self) -> f64 {
        match (self.latency, self.weight > 0.0) {
            (false, _) => self.sum,
            (true, true) => self.weighted / self.weight,
            (true, false) => 0.0,
        }
    }
}

/// Records `readings`, the pod's scrape at `pod.scraped_at`, and works out what they
/// give over the interval since its previous distinct scrape. A scrape no newer than
/// the recorded one changes nothing: its windows are the ones already worked out.
fn remember<'h>(
    history: &'h mut BTreeMap<String, PodHistory>,
    pod: &PodScrape<'_>,
    readings: Vec<(Key, Cumulative)>,
) -> &'h PodHistory {
    let name = &pod.status.name;
    let at = pod.scraped_at;
    if !history.contains_key(name) {
        return history.entry(name.clone()).or_insert(PodHistory {
            at,
            readings,
            interval: 0,
            windows: Vec::new(),
        });
    }
    let entry = history
        .get_mut(name)
        .expect("checked to be present just above");
    if at > entry.at {
        let interval = at - entry.at;
        let windows = readings
            .iter()
            .filter_map(|(key, current)| {
                let (_, previous) = entry.readings.iter().find(|(k, _)| k == key)?;
                windowed(previous, current, interval).map(|w| (*key, w))
            })
            .collect();
        *entry = PodHistory {
            at,
            readings,
            interval,
            windows,
        };
    }
    entry
}

/// `current` over the `interval_us` since `previous`; `None` when they are of
/// different kinds.
fn windowed(previous: &Cumulative, current: &Cumulative, interval_us: Micros) -> Option<Windowed> {
    Some(match (previous, current) {
        (Cumulative::Counter(p), Cumulative::Counter(c)) => {
            Windowed::Rate(window::counter_rate(*p, *c, interval_us))
        }
        (Cumulative::Histogram(p), Cumulative::Histogram(c)) => {
            Windowed::Latency(window::histogram_increase(p, c))
        }
        (
            Cumulative::Ratio {
                numerator: pn,
                denominator: pd,
            },
            Cumulative::Ratio {
                numerator: cn,
                denominator: cd,
            },
        ) => {
            let (numerator, denominator) = if cd < pd || cn < pn {
                (cn.max(0.0), cd.max(0.0))
            } else {
                (cn - pn, cd - pd)
            };
            Windowed::Ratio {
                value: if denominator > 0.0 {
                    numerator / denominator
                } else {
                    0.0
                },
                weight: denominator,
            }
        }
        _ => return None,
    })
}

/// The serving sample of one pod's scrape (see [`ServingSample`]).
fn serving_sample(
    scrape: &Scrape,
    engine: ModelServer,
    at: Micros,
    history: Option<&PodHistory>,
) -> ServingSample {
    let window = |index: usize| history.and_then(|h| h.window(Key::Serving(index)));
    let rate = |index: usize| match window(index) {
        Some(Windowed::Rate(rate)) => Some(*rate),
        _ => None,
    };
    let latency = |index: usize| match window(index) {
        Some(Windowed::Latency(histogram)) => Some(window::latency_window(histogram)),
        _ => None,
    };
    ServingSample {
        timestamp: at,
        window: history.map_or(0, |h| h.interval),
        running: signals::find(scrape, engine, Signal::RunningRequests),
        waiting: signals::find(scrape, engine, Signal::QueueLength),
        kv_cache_usage: signals::find(scrape, engine, Signal::KvCacheUsage),
        prompt_tokens_per_s: rate(0),
        generation_tokens_per_s: rate(1),
        requests_per_s: rate(2),
        ttft: latency(3),
        itl: latency(4),
        queue_time: latency(5),
    }
}

/// One-shot form of [`Observer::observe`] (no previous scrape: windowed values are
/// absent).
pub fn observe(
    spec: &ResolvedSpec,
    window: Micros,
    now: Micros,
    current_replicas: i32,
    pods: &[PodScrape<'_>],
) -> Observation {
    Observer::new(spec, window).observe(now, current_replicas, pods)
}

impl MetricPlan {
    /// The engine families this plan may read, over every engine it may meet.
    fn may_read(&self, family: &str) -> bool {
        if self.exact.iter().any(|name| name == family) {
            return true;
        }
        let engines: &[ModelServer] = match &self.engine {
            Some(engine) => std::slice::from_ref(engine),
            None => &ModelServer::ALL,
        };
        let mut signals: Vec<Signal> = self.signal.into_iter().collect();
        if self.concurrency {
            signals.extend([Signal::RunningRequests, Signal::QueueLength]);
        }
        signals_read(engines, &signals, family)
    }

    /// What this plan reads from one pod: a value, or a cumulative reading to window.
    fn read(&self, pod: &PodScrape<'_>) -> Option<Source> {
        if let Some(scrape) = pod.engine {
            let engine = self
                .engine
                .or_else(|| ModelServer::detect(scrape))
                .unwrap_or(ModelServer::Vllm);
            if self.concurrency {
                let running = signals::find(scrape, engine, Signal::RunningRequests);
                let waiting = signals::find(scrape, engine, Signal::QueueLength);
                if running.is_some() || waiting.is_some() {
                    return Some(Source::Value(
                        running.unwrap_or(0.0) + waiting.unwrap_or(0.0),
                    ));
                }
            }
            let quantile = self.quantile.is_some();
            if let Some(source) = self
                .exact
                .iter()
                .find_map(|name| read_family(scrape, name, quantile))
            {
                return Some(source);
            }
            match self.signal {
                Some(signal) if is_cumulative(signal) => {
                    if let Some(reading) = signal_cumulative(scrape, engine, signal) {
                        return Some(Source::Cumulative(reading));
                    }
                }
                Some(signal) if !quantile => {
                    if let Some(value) = signals::find(scrape, engine, signal) {
                        return Some(Source::Value(value));
                    }
                }
                _ => {}
            }
        }
        let gpu = pod.gpu?;
        Some(Source::Value(match self.gpu? {
            GpuField::Mean(field) => gpu_mean(gpu, field)?,
            GpuField::Sum(field) => gpu.sum(field, &[])?,
            GpuField::Exact => gpu_mean(gpu, &self.name)?,
        }))
    }

    /// This plan's value from a window: `(value, weight, is a latency)`; `None` when
    /// the plan asks a quantile of something that is not a histogram.
    fn windowed(&self, window: &Windowed) -> Option<(f64, f64, bool)> {
        match (window, self.quantile) {
            (Windowed::Rate(rate), None) => Some((*rate, 0.0, false)),
            (Windowed::Latency(histogram), quantile) => {
                let value = match quantile {
                    Some(q) => histogram.quantile(q),
                    None => histogram.mean(),
                };
                let value = value.filter(|v| v.is_finite()).unwrap_or(0.0);
                Some((value, histogram.count, true))
            }
            (Windowed::Ratio { value, weight }, None) => Some((*value, *weight, true)),
            _ => None,
        }
    }
}

/// A family by exact name: histograms and summaries, and counters, as cumulative
/// readings; other families summed over series. With `quantile`, only histograms.
fn read_family(scrape: &Scrape, name: &str, quantile: bool) -> Option<Source> {
    let family = scrape.family(name)?;
    match family.kind {
        MetricKind::Histogram | MetricKind::Summary => Some(Source::Cumulative(
            Cumulative::Histogram(scrape.histogram(name, &[])?),
        )),
        _ if quantile => None,
        MetricKind::Counter => Some(Source::Cumulative(Cumulative::Counter(
            scrape.counter(name, &[])?,
        ))),
        _ => scrape.counter(name, &[]).map(Source::Value),
    }
}

/// The cumulative reading behind a counter or latency `signal`, from the first
/// candidate name present (the order [`signals::find`] tries them in).
fn signal_cumulative(scrape: &Scrape, engine: ModelServer, signal: Signal) -> Option<Cumulative> {
    signals::candidates(engine, signal)
        .iter()
        .find_map(|candidate| {
            let selector = candidate.selector;
            let scale = candidate.scale;
            match candidate.reading {
                Reading::Sum | Reading::Mean => scrape
                    .counter(candidate.name, selector)
                    .map(|value| Cumulative::Counter(value * scale)),
                Reading::HistogramMean => {
                    let mut histogram = scrape.histogram(candidate.name, selector)?;
                    if scale != 1.0 {
                        for bucket in &mut histogram.buckets {
                            bucket.0 *= scale;
                        }
                        histogram.sum *= scale;
                    }
                    Some(Cumulative::Histogram(histogram))
                }
                Reading::CounterRatio { denominator } => Some(Cumulative::Ratio {
                    numerator: scrape.counter(candidate.name, selector)? * scale,
                    denominator: scrape.counter(denominator, selector)?,
                }),
            }
        })
}

fn gpu_mean(scrape: &Scrape, field: &str) -> Option<f64> {
    scrape.mean(field, &[])
}

/// The pod's GPUs, one device per GPU (or MIG instance) in its DCGM series.
fn gpu_sample(scrape: &Scrape) -> Option<GpuSample> {
    let devices: Vec<GpuDevice> = dcgm::gpu_samples(scrape)
        .into_iter()
        .map(|gpu| GpuDevice {
            id: match (&gpu.id.gpu, &gpu.id.mig_instance) {
                (Some(index), Some(mig)) => format!("{index}/{mig}"),
                (Some(index), None) => index.clone(),
                (None, _) => gpu.id.uuid.clone().unwrap_or_default(),
            },
            model: gpu.model_name.clone(),
            utilization_percent: gpu.field(dcgm::GPU_UTIL),
            memory_used_mib: gpu.fb_used_mib(),
            memory_free_mib: gpu.fb_free_mib(),
            power_watts: gpu.power_w(),
            power_limit_watts: gpu.field(dcgm::POWER_LIMIT),
            tensor_active: gpu.field(dcgm::TENSOR_ACTIVE),
        })
        .collect();
    (!devices.is_empty()).then_some(GpuSample { devices })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::prometheus::parse_text;
    use engine::observation::PodPhase;
    use engine::spec::BudAIScaler;

    fn spec(metrics: serde_json::Value) -> ResolvedSpec {
        spec_with("BudScaler", metrics)
    }

    fn spec_with(strategy: &str, metrics: serde_json::Value) -> ResolvedSpec {
        let manifest: BudAIScaler = serde_json::from_value(serde_json::json!({
            "apiVersion": "scaler.bud.studio/v1alpha1",
            "kind": "BudAIScaler",
            "metadata": {"name": "t"},
            "spec": {
                "scaleTargetRef": {"kind": "Deployment", "name": "llm"},
                "maxReplicas": 8,
                "scalingStrategy": strategy,
                "metricsSources": metrics,
            }
        }))
        .unwrap();
        manifest.resolved().unwrap()
    }

    fn pod(name: &str, ready: bool, deleting: bool) -> PodStatus {
        PodStatus {
            name: name.into(),
            phase: PodPhase::Running,
            ready,
            start_time: Some(0),
            ready_transition_time: Some(0),
            deleting,
            creation_time: None,
            spot: false,
        }
    }

    const VLLM: &str = "# TYPE vllm:num_requests_running gauge\n\
        vllm:num_requests_running{engine=\"0\",model_name=\"m\"} 5\n\
        # TYPE vllm:num_requests_waiting gauge\n\
        vllm:num_requests_waiting{engine=\"0\",model_name=\"m\"} 3\n\
        # TYPE vllm:kv_cache_usage_perc gauge\n\
        vllm:kv_cache_usage_perc{engine=\"0\",model_name=\"m\"} 0.25\n\
        # TYPE vllm:time_to_first_token_seconds histogram\n\
        vllm:time_to_first_token_seconds_bucket{engine=\"0\",le=\"+Inf\",model_name=\"m\"} 4\n\
        vllm:time_to_first_token_seconds_sum{engine=\"0\",model_name=\"m\"} 2\n\
        vllm:time_to_first_token_seconds_count{engine=\"0\",model_name=\"m\"} 4\n";

    const DCGM: &str = "# TYPE DCGM_FI_DEV_GPU_UTIL gauge\n\
        DCGM_FI_DEV_GPU_UTIL{gpu=\"0\",pod=\"a\"} 80\n\
        DCGM_FI_DEV_GPU_UTIL{gpu=\"1\",pod=\"a\"} 40\n\
        # TYPE DCGM_FI_DEV_FB_USED gauge\n\
        DCGM_FI_DEV_FB_USED{gpu=\"0\",pod=\"a\"} 70000\n\
        DCGM_FI_DEV_FB_USED{gpu=\"1\",pod=\"a\"} 70000\n";

    #[test]
    fn mig_instances_are_devices_of_their_own_with_their_fields() {
        let text = "# TYPE DCGM_FI_DEV_FB_USED gauge\n\
            DCGM_FI_DEV_FB_USED{gpu=\"0\",GPU_I_ID=\"1\",pod=\"a\",modelName=\"NVIDIA A100-SXM4-80GB\"} 9000\n\
            DCGM_FI_DEV_FB_USED{gpu=\"0\",GPU_I_ID=\"2\",pod=\"a\",modelName=\"NVIDIA A100-SXM4-80GB\"} 1000\n\
            # TYPE DCGM_FI_DEV_FB_FREE gauge\n\
            DCGM_FI_DEV_FB_FREE{gpu=\"0\",GPU_I_ID=\"1\",pod=\"a\"} 1000\n\
            DCGM_FI_DEV_FB_FREE{gpu=\"0\",GPU_I_ID=\"2\",pod=\"a\"} 9000\n\
            # TYPE DCGM_FI_PROF_PIPE_TENSOR_ACTIVE gauge\n\
            DCGM_FI_PROF_PIPE_TENSOR_ACTIVE{gpu=\"0\",GPU_I_ID=\"1\",pod=\"a\"} 0.7\n";
        let scrape = parse_text(text).unwrap();
        let sample = gpu_sample(&scrape).unwrap();
        let ids: Vec<&str> = sample.devices.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, ["0/1", "0/2"]);
        assert_eq!(sample.devices[0].memory_fraction(), Some(0.9));
        assert_eq!(sample.devices[1].memory_fraction(), Some(0.1));
        assert_eq!(sample.devices[0].compute_fraction(), Some(0.7));
        assert_eq!(sample.devices[1].compute_fraction(), None);
        assert_eq!(
            sample.devices[0].model.as_deref(),
            Some("NVIDIA A100-SXM4-80GB")
        );
    }

    #[test]
    fn reads_names_aliases_concurrency_histograms_and_gpus() {
        let spec = spec(serde_json::json!([
            {"metricSourceType": "inferenceEngine", "targetMetric": "num_requests_waiting",
             "targetValue": "4", "inferenceEngineConfig": {"engineType": "vllm"}},
            {"metricSourceType": "pod", "targetMetric": "gpu_cache_usage_perc", "targetValue": "0.8"},
            {"metricSourceType": "pod", "targetMetric": "concurrency", "targetValue": "16"},
            {"metricSourceType": "pod", "targetMetric": "vllm:time_to_first_token_seconds", "targetValue": "1"},
            {"metricSourceType": "pod", "targetMetric": "gpu_utilization", "targetValue": "70"},
        ]));
        let engine = parse_text(VLLM).unwrap();
        let gpu = parse_text(DCGM).unwrap();
        let (a, b) = (pod("a", true, false), pod("b", false, false));
        let pods = [
            PodScrape {
                status: &a,
                engine: Some(&engine),
                gpu: Some(&gpu),
                scraped_at: 7,
            },
            PodScrape {
                status: &b,
                engine: None,
                gpu: None,
                scraped_at: 7,
            },
        ];
        let obs = observe(&spec, 15, 10, 2, &pods);
        let value = |metric: &str| obs.pod_metrics[metric]["a"].value;
        assert_eq!(value("num_requests_waiting"), 3.0);
        assert_eq!(value("gpu_cache_usage_perc"), 0.25);
        assert_eq!(value("concurrency"), 8.0);
        // A histogram reads over an interval: nothing before a second scrape.
        assert!(
            !obs.pod_metrics
                .contains_key("vllm:time_to_first_token_seconds")
        );
        assert_eq!(value("gpu_utilization"), 60.0);
        assert_eq!(obs.pod_metrics["concurrency"]["a"].timestamp, 7);
        assert_eq!(obs.pod_metrics["concurrency"]["a"].window, 15);
        assert!(!obs.pod_metrics["concurrency"].contains_key("b"));
        assert_eq!(obs.pods.len(), 2);
        // One device per GPU of the pod, each with its own reading.
        let devices = &obs.gpu["a"].devices;
        assert_eq!(devices.len(), 2);
        assert_eq!((devices[0].id.as_str(), devices[1].id.as_str()), ("0", "1"));
        assert_eq!(devices[0].utilization_percent, Some(80.0));
        assert_eq!(devices[1].utilization_percent, Some(40.0));
        assert_eq!(devices[1].memory_used_mib, Some(70000.0));
        assert_eq!(devices[1].tensor_active, None);
        assert_eq!((obs.now, obs.current_replicas), (10, 2));
    }

    #[test]
    fn workload_sources_sum_over_pods_not_being_deleted() {
        let spec = spec(serde_json::json!([
            {"metricSourceType": "external", "targetMetric": "num_requests_waiting",
             "targetValue": "10", "endpoint": "http://x"},
        ]));
        let engine = parse_text(VLLM).unwrap();
        let (a, b, c) = (
            pod("a", true, false),
            pod("b", true, false),
            pod("c", true, true),
        );
        let pods: Vec<PodScrape> = [&a, &b, &c]
            .into_iter()
            .map(|status| PodScrape {
                status,
                engine: Some(&engine),
                gpu: None,
                scraped_at: 0,
            })
            .collect();
        let obs = observe(&spec, 15, 0, 3, &pods);
        assert_eq!(obs.object_metrics["num_requests_waiting"], 6.0);
        assert!(obs.pod_metrics.is_empty());
    }

    #[test]
    fn a_value_the_driver_read_replaces_the_scrape_sum_for_one_observation() {
        let spec = spec(serde_json::json!([
            {"metricSourceType": "prometheus", "targetMetric": "backlog", "targetValue": "10",
             "promQL": "sum(vllm:num_requests_waiting)"},
        ]));
        let engine = parse_text(VLLM).unwrap();
        let a = pod("a", true, false);
        let pods = [PodScrape {
            status: &a,
            engine: Some(&engine),
            gpu: None,
            scraped_at: 0,
        }];
        let mut observer = Observer::new(&spec, 15);
        let body = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"42"]}]}}"#;
        observer.set_workload_value(
            "backlog",
            crate::metrics::workload_value::prometheus_query(body).map_err(|e| e.to_string()),
        );
        assert_eq!(
            observer.observe(0, 1, &pods).object_metrics["backlog"],
            42.0
        );
        // Used once: the next observation falls back to what the scrapes give.
        assert!(observer.observe(15, 1, &pods).object_metrics.get("backlog") != Some(&42.0));
        // A failed query leaves the metric out (the engine holds on a failed metric).
        observer.set_workload_value("backlog", Err("Prometheus error (timeout)".into()));
        assert!(
            !observer
                .observe(30, 1, &pods)
                .object_metrics
                .contains_key("backlog")
        );
    }

    #[test]
    fn unknown_names_and_resource_metrics_give_no_samples() {
        let spec = spec(serde_json::json!([
            {"metricSourceType": "pod", "targetMetric": "no_such_metric", "targetValue": "1"},
        ]));
        let engine = parse_text(VLLM).unwrap();
        let a = pod("a", true, false);
        let obs = observe(
            &spec,
            15,
            0,
            1,
            &[PodScrape {
                status: &a,
                engine: Some(&engine),
                gpu: None,
                scraped_at: 0,
            }],
        );
        assert!(obs.pod_metrics.is_empty());
    }

    #[test]
    fn family_filter_keeps_what_the_metrics_read() {
        let spec = spec_with(
            "HPA",
            serde_json::json!([
                {"metricSourceType": "pod", "targetMetric": "concurrency", "targetValue": "16"},
                {"metricSourceType": "pod", "targetMetric": "ttft", "targetValue": "1"},
            ]),
        );
        let mut observer = Observer::new(&spec, 15);
        assert!(observer.reads_family("vllm:num_requests_running"));
        assert!(observer.reads_family("vllm:num_requests_waiting"));
        assert!(observer.reads_family("vllm:time_to_first_token_seconds"));
        assert!(!observer.reads_family("vllm:kv_cache_usage_perc"));
        assert!(!observer.reads_gpu());
        let full = parse_text(VLLM).unwrap();
        let kept = Scrape {
            families: full
                .families
                .iter()
                .filter(|family| observer.reads_family(&family.name))
                .cloned()
                .collect(),
        };
        assert!(kept.families.len() < full.families.len());
        let a = pod("a", true, false);
        let mut read = |scrape: &Scrape| {
            observer.observe(
                0,
                1,
                &[PodScrape {
                    status: &a,
                    engine: Some(scrape),
                    gpu: None,
                    scraped_at: 0,
                }],
            )
        };
        assert_eq!(read(&full), read(&kept));
    }

    /// vLLM v1 text: gauges, token and request counters, and a TTFT and an ITL
    /// histogram over bounds 0.1 / 0.5 / 1 / +Inf given as per-bucket counts.
    fn vllm_text(
        (running, waiting, kv): (u32, u32, f64),
        (prompt, generation, finished): (u64, u64, u64),
        ttft: [u64; 4],
        ttft_sum: f64,
        itl: [u64; 4],
        itl_sum: f64,
    ) -> Scrape {
        let mut text = format!(
            "# TYPE vllm:num_requests_running gauge\n\
             vllm:num_requests_running{{engine=\"0\",model_name=\"m\"}} {running}\n\
             # TYPE vllm:num_requests_waiting gauge\n\
             vllm:num_requests_waiting{{engine=\"0\",model_name=\"m\"}} {waiting}\n\
             # TYPE vllm:kv_cache_usage_perc gauge\n\
             vllm:kv_cache_usage_perc{{engine=\"0\",model_name=\"m\"}} {kv}\n\
             # TYPE vllm:prompt_tokens_total counter\n\
             vllm:prompt_tokens_total{{engine=\"0\",model_name=\"m\"}} {prompt}\n\
             # TYPE vllm:generation_tokens_total counter\n\
             vllm:generation_tokens_total{{engine=\"0\",model_name=\"m\"}} {generation}\n\
             # TYPE vllm:request_success_total counter\n\
             vllm:request_success_total{{engine=\"0\",finished_reason=\"stop\",model_name=\"m\"}} {finished}\n"
        );
        for (name, counts, sum) in [
            ("vllm:time_to_first_token_seconds", ttft, ttft_sum),
            ("vllm:inter_token_latency_seconds", itl, itl_sum),
        ] {
            text.push_str(&format!("# TYPE {name} histogram\n"));
            let mut cumulative = 0;
            for (le, count) in ["0.1", "0.5", "1.0", "+Inf"].iter().zip(counts) {
                cumulative += count;
                text.push_str(&format!(
                    "{name}_bucket{{engine=\"0\",le=\"{le}\",model_name=\"m\"}} {cumulative}\n"
                ));
            }
            text.push_str(&format!(
                "{name}_sum{{engine=\"0\",model_name=\"m\"}} {sum}\n\
                 {name}_count{{engine=\"0\",model_name=\"m\"}} {cumulative}\n"
            ));
        }
        parse_text(&text).unwrap()
    }

    fn one<'a>(status: &'a PodStatus, scrape: &'a Scrape, at: Micros) -> [PodScrape<'a>; 1] {
        [PodScrape {
            status,
            engine: Some(scrape),
            gpu: None,
            scraped_at: at,
        }]
    }

    /// Two pods showing the same scrape.
    fn both<'a>(
        a: &'a PodStatus,
        b: &'a PodStatus,
        scrape: &'a Scrape,
        at: Micros,
    ) -> [PodScrape<'a>; 2] {
        let [x] = one(a, scrape, at);
        let [y] = one(b, scrape, at);
        [x, y]
    }

    const S: Micros = 1_000_000;

    #[test]
    fn serving_rates_and_latencies_cover_the_last_interval() {
        let spec = spec(serde_json::json!([
            {"metricSourceType": "pod", "targetMetric": "num_requests_waiting", "targetValue": "4"},
        ]));
        let mut observer = Observer::new(&spec, 15 * S);
        let a = pod("a", true, false);
        let first = vllm_text(
            (3, 1, 0.5),
            (1000, 200, 10),
            [10, 0, 0, 0],
            0.5,
            [100, 0, 0, 0],
            2.0,
        );
        let obs = observer.observe(15 * S, 1, &one(&a, &first, 14 * S));
        let sample = obs.serving["a"];
        assert_eq!(sample.timestamp, 14 * S);
        assert_eq!(sample.window, 0);
        assert_eq!(
            (sample.running, sample.waiting, sample.kv_cache_usage),
            (Some(3.0), Some(1.0), Some(0.5))
        );
        assert_eq!(sample.prompt_tokens_per_s, None);
        assert_eq!(sample.ttft, None);
        // 15 s later: +3000 prompt tokens, +600 generated, +30 requests; TTFT gains 20
        // in (0.1, 0.5] and 10 in (0.5, 1] (sum +12.5); ITL gains 300 at most 0.1 s.
        let second = vllm_text(
            (4, 0, 0.25),
            (4000, 800, 40),
            [10, 20, 10, 0],
            13.0,
            [400, 0, 0, 0],
            8.0,
        );
        let obs = observer.observe(30 * S, 1, &one(&a, &second, 29 * S));
        let sample = obs.serving["a"];
        assert_eq!(sample.window, 15 * S);
        assert_eq!(sample.prompt_tokens_per_s, Some(200.0));
        assert_eq!(sample.generation_tokens_per_s, Some(40.0));
        assert_eq!(sample.requests_per_s, Some(2.0));
        let ttft = sample.ttft.unwrap();
        assert_eq!(ttft.count, 30.0);
        assert!((ttft.mean_s - 12.5 / 30.0).abs() < 1e-12);
        // p50: rank 15 of 30, within (0.1, 0.5] holding ranks 0..20: 0.1 + 0.4 × 15/20.
        assert!((ttft.p50_s - 0.4).abs() < 1e-12);
        // p90: rank 27, within (0.5, 1] holding 20..30: 0.5 + 0.5 × 7/10.
        assert!((ttft.p90_s - 0.85).abs() < 1e-12);
        assert!((ttft.p99_s - 0.985).abs() < 1e-12);
        let itl = sample.itl.unwrap();
        assert_eq!(itl.count, 300.0);
        assert!((itl.mean_s - 0.02).abs() < 1e-12);
        assert!((itl.p99_s - 0.099).abs() < 1e-12);
        // The same scrape again (ticks faster than scrapes): the same window, not an
        // empty one.
        let again = observer.observe(31 * S, 1, &one(&a, &second, 29 * S));
        assert_eq!(again.serving["a"], sample);
        // A restart: counters below the previous values count from zero.
        let restarted = vllm_text(
            (0, 0, 0.0),
            (150, 30, 3),
            [3, 0, 0, 0],
            0.15,
            [27, 0, 0, 0],
            0.5,
        );
        let obs = observer.observe(45 * S, 1, &one(&a, &restarted, 44 * S));
        let sample = obs.serving["a"];
        assert_eq!(sample.prompt_tokens_per_s, Some(10.0));
        assert_eq!(sample.requests_per_s, Some(0.2));
        assert_eq!(sample.ttft.unwrap().count, 3.0);
        assert!((sample.ttft.unwrap().mean_s - 0.05).abs() < 1e-12);
    }

    #[test]
    fn manifest_counters_read_as_rates_and_histograms_as_windows() {
        let spec = spec(serde_json::json!([
            {"metricSourceType": "pod", "targetMetric": "prompt_tokens_total", "targetValue": "1000"},
            {"metricSourceType": "pod", "targetMetric": "generation_tokens", "targetValue": "1000"},
            {"metricSourceType": "pod", "targetMetric": "requests_finished", "targetValue": "1"},
            {"metricSourceType": "pod", "targetMetric": "ttft", "targetValue": "1"},
            {"metricSourceType": "pod", "targetMetric": "ttft_p90", "targetValue": "1"},
            {"metricSourceType": "pod", "targetMetric": "tpot", "targetValue": "1"},
            {"metricSourceType": "pod", "targetMetric": "vllm:time_to_first_token_seconds_p50", "targetValue": "1"},
            {"metricSourceType": "pod", "targetMetric": "kv_cache_usage_p90", "targetValue": "1"},
            {"metricSourceType": "external", "targetMetric": "generation_tokens_total",
             "targetValue": "1000", "endpoint": "http://x"},
            {"metricSourceType": "external", "targetMetric": "ttft_p99",
             "targetValue": "1", "endpoint": "http://x"},
        ]));
        let mut observer = Observer::new(&spec, 15 * S);
        let (a, b) = (pod("a", true, false), pod("b", true, false));
        let first = vllm_text(
            (3, 1, 0.5),
            (1000, 200, 10),
            [10, 0, 0, 0],
            0.5,
            [100, 0, 0, 0],
            2.0,
        );
        let second = vllm_text(
            (4, 0, 0.25),
            (4000, 800, 40),
            [10, 20, 10, 0],
            13.0,
            [400, 0, 0, 0],
            8.0,
        );
        let obs = observer.observe(15 * S, 2, &both(&a, &b, &first, 15 * S));
        assert!(obs.pod_metrics.is_empty(), "nothing windowed yet");
        assert!(obs.object_metrics.is_empty());
        let obs = observer.observe(30 * S, 2, &both(&a, &b, &second, 30 * S));
        let value = |metric: &str| obs.pod_metrics[metric]["a"].value;
        assert_eq!(value("prompt_tokens_total"), 200.0);
        assert_eq!(value("generation_tokens"), 40.0);
        assert_eq!(value("requests_finished"), 2.0);
        assert!((value("ttft") - 12.5 / 30.0).abs() < 1e-12);
        assert!((value("ttft_p90") - 0.85).abs() < 1e-12);
        assert!((value("tpot") - 0.02).abs() < 1e-12);
        assert!((value("vllm:time_to_first_token_seconds_p50") - 0.4).abs() < 1e-12);
        assert!(
            !obs.pod_metrics.contains_key("kv_cache_usage_p90"),
            "a gauge has no quantile"
        );
        assert_eq!(obs.pod_metrics["ttft"]["a"].window, 15 * S);
        // Workload values: rates add up over pods, latencies average.
        assert_eq!(obs.object_metrics["generation_tokens_total"], 80.0);
        assert!((obs.object_metrics["ttft_p99"] - 0.985).abs() < 1e-12);
    }

    /// What imported autoscalers read: Knative's `rps` (a KPA metric) as each pod's
    /// finished requests per second, and KEDA's `sum(gauge)` / `sum(rate(counter))`
    /// as workload totals under the metric's own name.
    #[test]
    fn imported_names_read_requests_per_second_and_workload_totals() {
        let kpa = spec_with(
            "KPA",
            serde_json::json!([
                {"metricSourceType": "pod", "targetMetric": "requests_per_second", "targetValue": "4"},
            ]),
        );
        let hpa = spec_with(
            "HPA",
            serde_json::json!([
                {"metricSourceType": "external", "targetMetric": "vllm:num_requests_waiting", "targetType": "AverageValue", "targetValue": "4"},
                {"metricSourceType": "external", "targetMetric": "vllm:request_success_total", "targetType": "AverageValue", "targetValue": "1"},
            ]),
        );
        let (a, b) = (pod("a", true, false), pod("b", true, false));
        let first = vllm_text((3, 1, 0.5), (0, 0, 10), [0; 4], 0.0, [0; 4], 0.0);
        let second = vllm_text((3, 2, 0.5), (0, 0, 40), [0; 4], 0.0, [0; 4], 0.0);
        let mut observer = Observer::new(&kpa, 15 * S);
        observer.observe(15 * S, 2, &both(&a, &b, &first, 15 * S));
        let obs = observer.observe(30 * S, 2, &both(&a, &b, &second, 30 * S));
        // 30 requests in 15 s.
        assert_eq!(obs.pod_metrics["requests_per_second"]["a"].value, 2.0);
        assert_eq!(obs.pod_metrics["requests_per_second"]["b"].value, 2.0);
        let mut observer = Observer::new(&hpa, 15 * S);
        observer.observe(15 * S, 2, &both(&a, &b, &first, 15 * S));
        let obs = observer.observe(30 * S, 2, &both(&a, &b, &second, 30 * S));
        assert_eq!(obs.object_metrics["vllm:num_requests_waiting"], 4.0);
        assert_eq!(obs.object_metrics["vllm:request_success_total"], 4.0);
    }

    #[test]
    fn pods_that_go_away_are_forgotten() {
        let spec = spec(serde_json::json!([
            {"metricSourceType": "pod", "targetMetric": "kv_cache_usage", "targetValue": "0.8"},
        ]));
        let mut observer = Observer::new(&spec, 15 * S);
        let (a, b) = (pod("a", true, false), pod("b", true, false));
        let first = vllm_text(
            (1, 0, 0.1),
            (100, 10, 1),
            [1, 0, 0, 0],
            0.05,
            [9, 0, 0, 0],
            0.1,
        );
        let second = vllm_text(
            (1, 0, 0.1),
            (400, 40, 4),
            [4, 0, 0, 0],
            0.2,
            [36, 0, 0, 0],
            0.4,
        );
        observer.observe(0, 2, &both(&a, &b, &first, 0));
        // b is gone for a tick: its history goes with it.
        let obs = observer.observe(15 * S, 1, &one(&a, &second, 15 * S));
        assert_eq!(obs.serving["a"].prompt_tokens_per_s, Some(20.0));
        assert!(!obs.serving.contains_key("b"));
        assert_eq!(observer.history.len(), 1);
        // b is back (a new pod of the same name): no window until its second scrape.
        let obs = observer.observe(30 * S, 2, &both(&a, &b, &second, 30 * S));
        assert_eq!(obs.serving["b"].prompt_tokens_per_s, None);
        assert_eq!(obs.serving["b"].window, 0);
        assert_eq!(obs.serving["a"].prompt_tokens_per_s, Some(0.0));
        // A listed pod without a scrape keeps its history but gets no sample.
        let status = pod("a", true, false);
        let obs = observer.observe(
            45 * S,
            1,
            &[PodScrape {
                status: &status,
                engine: None,
                gpu: None,
                scraped_at: 45 * S,
            }],
        );
        assert!(obs.serving.is_empty());
        assert!(observer.history.contains_key("a"));
    }

    #[test]
    fn the_activator_reports_the_gateway_queue() {
        let spec = spec(serde_json::json!([
            {"metricSourceType": "pod", "targetMetric": "num_requests_waiting", "targetValue": "4"},
        ]));
        let mut observer = Observer::new(&spec, 15 * S);
        let activator = PodStatus {
            name: "activator".into(),
            ..pod("activator", true, false)
        };
        let queue = vllm_text((0, 7, 0.0), (0, 0, 0), [0; 4], 0.0, [0; 4], 0.0);
        observer.observe(15 * S, 0, &one(&activator, &queue, 15 * S));
        let obs = observer.observe(30 * S, 0, &one(&activator, &queue, 30 * S));
        let sample = obs.serving["activator"];
        assert_eq!(sample.waiting, Some(7.0));
        assert_eq!(sample.running, Some(0.0));
        assert_eq!(sample.requests_per_s, Some(0.0));
        assert_eq!(sample.ttft.unwrap().count, 0.0);
        assert_eq!(
            obs.pod_metrics["num_requests_waiting"]["activator"].value,
            7.0
        );
    }

    #[test]
    fn hpa_and_kpa_build_no_serving_samples_and_keep_no_state() {
        for strategy in ["HPA", "KPA"] {
            let spec = spec_with(
                strategy,
                serde_json::json!([
                    {"metricSourceType": "pod", "targetMetric": "concurrency", "targetValue": "16"},
                    {"metricSourceType": "pod", "targetMetric": "num_requests_waiting", "targetValue": "4"},
                ]),
            );
            let mut observer = Observer::new(&spec, 15 * S);
            assert!(!observer.builds_serving());
            assert!(!observer.reads_family("vllm:prompt_tokens_total"));
            let a = pod("a", true, false);
            let scrape = vllm_text((3, 2, 0.5), (1, 1, 1), [1, 0, 0, 0], 0.1, [1, 0, 0, 0], 0.1);
            for at in [0, 15 * S] {
                let obs = observer.observe(at, 1, &one(&a, &scrape, at));
                assert!(obs.serving.is_empty());
                assert_eq!(obs.pod_metrics["concurrency"]["a"].value, 5.0);
                assert_eq!(obs.pod_metrics["concurrency"]["a"].window, 15 * S);
            }
            assert!(observer.history.is_empty(), "{strategy}");
        }
    }

    #[test]
    fn budscaler_keeps_every_family_its_serving_samples_read() {
        let spec = spec(serde_json::json!([
            {"metricSourceType": "pod", "targetMetric": "num_requests_waiting", "targetValue": "4"},
        ]));
        let observer = Observer::new(&spec, 15 * S);
        for family in [
            "vllm:num_requests_running",
            "vllm:num_requests_waiting",
            "vllm:kv_cache_usage_perc",
            "vllm:prompt_tokens_total",
            "vllm:prompt_tokens",
            "vllm:generation_tokens_total",
            "vllm:request_success_total",
            "vllm:time_to_first_token_seconds",
            "vllm:time_to_first_token_seconds_bucket",
            "vllm:inter_token_latency_seconds",
            "vllm:inter_token_latency_seconds_count",
            "sglang:gen_throughput",
            "tgi_request_generated_tokens",
        ] {
            let expected = family != "sglang:gen_throughput";
            assert_eq!(observer.reads_family(family), expected, "{family}");
        }
        // Filtering by these families changes nothing, over two scrapes.
        let full = vllm_text(
            (3, 1, 0.5),
            (1000, 200, 10),
            [10, 0, 0, 0],
            0.5,
            [100, 0, 0, 0],
            2.0,
        );
        let full2 = vllm_text(
            (4, 0, 0.25),
            (4000, 800, 40),
            [10, 20, 10, 0],
            13.0,
            [400, 0, 0, 0],
            8.0,
        );
        let keep = |scrape: &Scrape| Scrape {
            families: scrape
                .families
                .iter()
                .filter(|family| observer.reads_family(&family.name))
                .cloned()
                .collect(),
        };
        let a = pod("a", true, false);
        let (mut x, mut y) = (observer.clone(), observer.clone());
        for (at, scrape) in [(0, &full), (15 * S, &full2)] {
            let kept = keep(scrape);
            assert_eq!(
                x.observe(at, 1, &one(&a, scrape, at)),
                y.observe(at, 1, &one(&a, &kept, at))
            );
        }
    }
}
