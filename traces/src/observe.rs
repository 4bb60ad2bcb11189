//! Scraped text and pod statuses → the engine's [`Observation`].
//!
//! The simulator and the operator both call this: each pod's model-server scrape (and
//! its GPUs' dcgm-exporter lines, when available) parsed with
//! [`crate::metrics::prometheus`], plus the pod statuses, become the one struct every
//! scaling decision reads. Doing it in one place means a simulated decision and a live
//! one see the same numbers for the same text.
//!
//! A manifest metric (`ResolvedSpec.metrics[i].name`) is read from a scrape, first match
//! wins:
//! 1. `concurrency` / `in_flight` (Knative's concurrency): running + waiting requests;
//! 2. a family named exactly so, as written or with the engine's prefix (`vllm:`):
//!    gauges and counters summed over series, histograms as their mean since start;
//! 3. an engine-independent [`Signal`] by name or alias (`num_requests_waiting` → queue
//!    length, `gpu_cache_usage_perc` / `kv_cache_usage` → KV-cache fraction, ...), read
//!    with [`signals::find`] under the engine's names;
//! 4. a GPU field: `gpu_utilization` / `gpu_util` (percent, mean over the pod's GPUs),
//!    `gpu_memory_used` (MiB, summed), `gpu_power` (W, summed), or any exact
//!    `DCGM_FI_*` name (mean over the pod's GPUs).
//!
//! Pod-level sources land in `pod_metrics` per pod; workload-level sources (external,
//! or a PromQL query this function cannot evaluate) land in `object_metrics` as the sum
//! of that per-pod value over the pods not being deleted. Resource metrics (`cpu`,
//! `memory`) come from the metrics API, not from scrapes, and are left out.

use crate::metrics::dcgm;
use crate::metrics::prometheus::{MetricKind, Scrape};
use crate::metrics::signals::{self, EngineType, Signal};
use engine::observation::{GpuSample, Observation, PodSample, PodStatus};
use engine::spec::{self, MetricSourceType, ResolvedMetric, ResolvedSpec};
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
    engine: Option<EngineType>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum GpuField {
    Mean(&'static str),
    Sum(&'static str),
    Exact,
}

/// Reads a spec's metrics out of scrapes; build once per scaler, call per decision.
#[derive(Debug, Clone, PartialEq)]
pub struct Observer {
    plans: Vec<MetricPlan>,
    /// GPU telemetry is read (a GPU metric, or `gpuConfig.enabled`).
    gpu: bool,
    /// Sampling window reported with each pod sample (the scrape interval).
    window: Micros,
}

fn engine_type(engine: spec::EngineType) -> EngineType {
    match engine {
        spec::EngineType::Vllm => EngineType::Vllm,
        spec::EngineType::Tgi => EngineType::Tgi,
        spec::EngineType::Sglang => EngineType::Sglang,
        spec::EngineType::Triton => EngineType::Triton,
    }
}

fn prefix(engine: EngineType) -> &'static str {
    match engine {
        EngineType::Vllm => "vllm:",
        EngineType::Sglang => "sglang:",
        EngineType::Tgi => "tgi_",
        EngineType::Triton => "nv_",
    }
}

fn plan(metric: &ResolvedMetric) -> Option<MetricPlan> {
    if metric.source == MetricSourceType::Resource {
        return None;
    }
    let name = metric.name.clone();
    let key = name.trim().to_ascii_lowercase().replace(['-', ' '], "_");
    let engine = metric.engine.as_ref().map(|e| engine_type(e.engine_type));
    let mut exact = vec![name.clone()];
    for candidate in EngineType::ALL {
        let prefixed = format!("{}{name}", prefix(candidate));
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
        concurrency: matches!(key.as_str(), "concurrency" | "in_flight"),
        name,
        exact,
        signal,
        gpu,
        engine,
    })
}

impl Observer {
    /// The reading plan of every metric of `spec`; `window` is the scrape interval,
    /// reported as each pod sample's window.
    pub fn new(spec: &ResolvedSpec, window: Micros) -> Observer {
        let plans: Vec<MetricPlan> = spec.metrics.iter().filter_map(plan).collect();
        Observer {
            gpu: spec.gpu.enabled || plans.iter().any(|plan| plan.gpu.is_some()),
            plans,
            window,
        }
    }

    /// Whether any metric may be read from the family named `family` (a scraper that
    /// only keeps these families builds the same observation).
    pub fn reads_family(&self, family: &str) -> bool {
        self.plans.iter().any(|plan| plan.may_read(family))
    }

    /// Whether GPU telemetry (dcgm-exporter) is read at all.
    pub fn reads_gpu(&self) -> bool {
        self.gpu
    }

    /// The observation at `now` from the pods' statuses and scrapes.
    pub fn observe(
        &self,
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
        for plan in &self.plans {
            let mut per_pod: BTreeMap<String, PodSample> = BTreeMap::new();
            let mut total: Option<f64> = None;
            for pod in pods {
                let Some(value) = plan.read(pod) else {
                    continue;
                };
                if plan.workload {
                    if !pod.status.deleting {
                        *total.get_or_insert(0.0) += value;
                    }
                } else {
                    per_pod.insert(
                        pod.status.name.clone(),
                        PodSample {
                            timestamp: pod.scraped_at,
                            window: self.window,
                            value,
                        },
                    );
                }
            }
            if plan.workload {
                if let Some(total) = total {
                    obs.object_metrics.insert(plan.name.clone(), total);
                }
            } else if !per_pod.is_empty() {
                obs.pod_metrics.insert(plan.name.clone(), per_pod);
            }
        }
        obs
    }
}

/// One-shot form of [`Observer::observe`].
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
        let engines: &[EngineType] = match &self.engine {
            Some(engine) => std::slice::from_ref(engine),
            None => &EngineType::ALL,
        };
        let mut signals: Vec<Signal> = self.signal.into_iter().collect();
        if self.concurrency {
            signals.extend([Signal::RunningRequests, Signal::QueueLength]);
        }
        engines.iter().any(|&engine| {
            signals.iter().any(|&signal| {
                signals::candidates(engine, signal).iter().any(|candidate| {
                    let name = candidate.name;
                    let base = |n: &str| n.strip_suffix("_total").unwrap_or(n).to_string();
                    name == family
                        || base(name) == base(family)
                        || name
                            .strip_suffix("_sum")
                            .or_else(|| name.strip_suffix("_count"))
                            .is_some_and(|histogram| histogram == family)
                        || matches!(candidate.reading, signals::Reading::CounterRatio { denominator } if base(denominator) == base(family))
                })
            })
        })
    }

    fn read(&self, pod: &PodScrape<'_>) -> Option<f64> {
        if let Some(scrape) = pod.engine {
            let engine = self
                .engine
                .or_else(|| EngineType::detect(scrape))
                .unwrap_or(EngineType::Vllm);
            if self.concurrency {
                let running = signals::find(scrape, engine, Signal::RunningRequests);
                let waiting = signals::find(scrape, engine, Signal::QueueLength);
                if running.is_some() || waiting.is_some() {
                    return Some(running.unwrap_or(0.0) + waiting.unwrap_or(0.0));
                }
            }
            if let Some(value) = self.exact.iter().find_map(|name| read_family(scrape, name)) {
                return Some(value);
            }
            if let Some(value) = self.signal.and_then(|s| signals::find(scrape, engine, s)) {
                return Some(value);
            }
        }
        let gpu = pod.gpu?;
        match self.gpu? {
            GpuField::Mean(field) => gpu_mean(gpu, field),
            GpuField::Sum(field) => gpu.sum(field, &[]),
            GpuField::Exact => gpu_mean(gpu, &self.name),
        }
    }
}

/// A family by exact name: histograms as their mean since start, others summed.
fn read_family(scrape: &Scrape, name: &str) -> Option<f64> {
    let family = scrape.family(name)?;
    match family.kind {
        MetricKind::Histogram | MetricKind::Summary => {
            let sum = scrape.sum(&format!("{name}_sum"), &[])?;
            let count = scrape.sum(&format!("{name}_count"), &[])?;
            Some(if count > 0.0 { sum / count } else { 0.0 })
        }
        _ => scrape.counter(name, &[]),
    }
}

fn gpu_mean(scrape: &Scrape, field: &str) -> Option<f64> {
    scrape.mean(field, &[])
}

/// The pod's GPUs: utilization averaged, memory and power added.
fn gpu_sample(scrape: &Scrape) -> Option<GpuSample> {
    let utilization = scrape.mean(dcgm::GPU_UTIL, &[]);
    let used = scrape.sum(dcgm::FB_USED, &[]);
    let free = scrape.sum(dcgm::FB_FREE, &[]);
    let power = scrape.sum(dcgm::POWER_USAGE, &[]);
    if utilization.is_none() && used.is_none() && free.is_none() && power.is_none() {
        return None;
    }
    Some(GpuSample {
        utilization_percent: utilization.unwrap_or(0.0),
        memory_used_mib: used.unwrap_or(0.0),
        memory_free_mib: free.unwrap_or(0.0),
        power_watts: power.unwrap_or(0.0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::prometheus::parse_text;
    use engine::observation::PodPhase;
    use engine::spec::BudAIScaler;

    fn spec(metrics: serde_json::Value) -> ResolvedSpec {
        let manifest: BudAIScaler = serde_json::from_value(serde_json::json!({
            "apiVersion": "scaler.bud.studio/v1alpha1",
            "kind": "BudAIScaler",
            "metadata": {"name": "t"},
            "spec": {
                "scaleTargetRef": {"kind": "Deployment", "name": "llm"},
                "maxReplicas": 8,
                "scalingStrategy": "BudScaler",
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
        assert_eq!(value("vllm:time_to_first_token_seconds"), 0.5);
        assert_eq!(value("gpu_utilization"), 60.0);
        assert_eq!(obs.pod_metrics["concurrency"]["a"].timestamp, 7);
        assert_eq!(obs.pod_metrics["concurrency"]["a"].window, 15);
        assert!(!obs.pod_metrics["concurrency"].contains_key("b"));
        assert_eq!(obs.pods.len(), 2);
        assert_eq!(obs.gpu["a"].memory_used_mib, 140000.0);
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
        let spec = spec(serde_json::json!([
            {"metricSourceType": "pod", "targetMetric": "concurrency", "targetValue": "16"},
            {"metricSourceType": "pod", "targetMetric": "ttft", "targetValue": "1"},
        ]));
        let observer = Observer::new(&spec, 15);
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
        let read = |scrape: &Scrape| {
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
}
