//! What a live driver scrapes: per metric source and ready pod, the URL of its
//! `/metrics` endpoint, one request per distinct (pod, URL) however many metrics read
//! it. The URL is `protocolType://POD_IP:PORT/PATH` where the port is the source's
//! `port`, else `inferenceEngineConfig.metricsPort`, else the server's own default
//! ([`engine::spec::InferenceServer::default_metrics_port`]: vLLM 8000, TGI 80, SGLang
//! 30000, Triton 8002), else 8000; the path is `path`, else `metricsPath`, else
//! `/metrics`. Workload-level sources (external, PromQL) are not per-pod scrapes and
//! are listed apart, as are metrics read from the resource, custom and external
//! metrics APIs. A DCGM exporter's node-level scrape is split into per-pod scrapes
//! by its `pod` label ([`split_dcgm_by_pod`]).

use engine::spec::{MetricSourceType, Protocol, ResolvedSpec};
use std::collections::BTreeMap;
use traces::metrics::prometheus::{MetricFamily, Scrape};

/// Port of a pod source that names none and is not an inference server.
pub const DEFAULT_POD_PORT: u16 = 8000;

/// A pod as a driver addresses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodAddress {
    pub name: String,
    pub ip: String,
}

/// One HTTP scrape: a pod's endpoint and the manifest metrics (by index) it serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodTarget {
    pub pod: String,
    pub url: String,
    pub metrics: Vec<usize>,
}

/// Everything a tick needs fetched.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScrapePlan {
    /// Per-pod scrapes, by pod then URL.
    pub pods: Vec<PodTarget>,
    /// Manifest metrics (by index) read once for the workload: PromQL queries and
    /// external sources.
    pub workload: Vec<usize>,
    /// Resource metrics (by index): read from `metrics.k8s.io`, not scraped.
    pub resource: Vec<usize>,
    /// Metrics (by index) read from the custom metrics API (`custom` sources, per pod)
    /// or the external metrics API (`external` sources without an `endpoint`).
    pub metrics_api: Vec<usize>,
}

/// The URL of metric `index`'s endpoint on a pod at `ip`.
pub fn pod_url(spec: &ResolvedSpec, index: usize, ip: &str) -> String {
    let metric = &spec.metrics[index];
    let scheme = match metric.protocol {
        Protocol::Https => "https",
        Protocol::Http => "http",
    };
    let port = metric
        .port
        .or(metric.engine.as_ref().map(|e| e.metrics_port))
        .unwrap_or(DEFAULT_POD_PORT);
    let path = match &metric.engine {
        Some(engine) if metric.path == engine::spec::defaults::METRICS_PATH => &engine.metrics_path,
        _ => &metric.path,
    };
    let host = if ip.contains(':') {
        format!("[{ip}]")
    } else {
        ip.to_string()
    };
    format!("{scheme}://{host}:{port}{path}")
}

/// Whether `metric` is read from a Kubernetes metrics API rather than fetched: a
/// `custom` source (custom.metrics.k8s.io, per pod), or an `external` source that names
/// no `endpoint` of its own (external.metrics.k8s.io, as the HPA reads it).
pub fn reads_metrics_api(metric: &engine::spec::ResolvedMetric) -> bool {
    match metric.source {
        MetricSourceType::Custom => true,
        MetricSourceType::External => metric.endpoint.is_none() && metric.prom_ql.is_none(),
        _ => false,
    }
}

/// The plan for `spec` over `pods`.
pub fn plan(spec: &ResolvedSpec, pods: &[PodAddress]) -> ScrapePlan {
    let mut plan = ScrapePlan::default();
    let mut by_target: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
    for (index, metric) in spec.metrics.iter().enumerate() {
        if metric.source == MetricSourceType::Resource {
            plan.resource.push(index);
        } else if reads_metrics_api(metric) {
            plan.metrics_api.push(index);
        } else if metric.is_workload_value() {
            plan.workload.push(index);
        } else {
            for pod in pods {
                by_target
                    .entry((pod.name.clone(), pod_url(spec, index, &pod.ip)))
                    .or_default()
                    .push(index);
            }
        }
    }
    plan.pods = by_target
        .into_iter()
        .map(|((pod, url), metrics)| PodTarget { pod, url, metrics })
        .collect();
    plan
}

/// A dcgm-exporter scrape (one per node, series labelled with the `pod` their GPU is
/// assigned to, or `exported_pod` once relabelled by Prometheus) split into one scrape
/// per pod; series of unassigned GPUs are left out.
pub fn split_dcgm_by_pod(scrape: &Scrape) -> BTreeMap<String, Scrape> {
    let mut pods: BTreeMap<String, Scrape> = BTreeMap::new();
    for family in &scrape.families {
        for sample in &family.samples {
            let Some(pod) = sample
                .label("pod")
                .or_else(|| sample.label("exported_pod"))
                .filter(|p| !p.is_empty())
            else {
                continue;
            };
            let target = pods.entry(pod.to_string()).or_default();
            if target.families.last().is_none_or(|f| f.name != family.name) {
                target.families.push(MetricFamily {
                    name: family.name.clone(),
                    help: family.help.clone(),
                    unit: family.unit.clone(),
                    kind: family.kind,
                    samples: Vec::new(),
                });
            }
            if let Some(last) = target.families.last_mut() {
                last.samples.push(sample.clone());
            }
        }
    }
    pods
}

#[cfg(test)]
mod tests {
    use super::*;
    use engine::spec::BudAIScaler;

    fn spec(metrics: &str) -> ResolvedSpec {
        let manifest: BudAIScaler = serde_json::from_str(&format!(
            r#"{{"apiVersion":"scaler.bud.studio/v1alpha1","kind":"BudAIScaler","metadata":{{"name":"s"}},
               "spec":{{"scaleTargetRef":{{"kind":"Deployment","name":"d"}},"maxReplicas":4,"scalingStrategy":"HPA",
               "metricsSources":[{metrics}]}}}}"#
        ))
        .unwrap();
        manifest.spec.resolved().unwrap()
    }

    fn pods() -> Vec<PodAddress> {
        vec![
            PodAddress {
                name: "a".into(),
                ip: "10.0.0.1".into(),
            },
            PodAddress {
                name: "b".into(),
                ip: "fd00::2".into(),
            },
        ]
    }

    #[test]
    fn each_server_has_its_own_default_port_and_shared_endpoints_are_scraped_once() {
        for (server, port) in [
            ("vllm", 8000),
            ("tgi", 80),
            ("sglang", 30000),
            ("triton", 8002),
        ] {
            let s = spec(&format!(
                r#"{{"metricSourceType":"inferenceEngine","targetMetric":"num_requests_waiting","targetValue":"4","inferenceEngineConfig":{{"engineType":"{server}"}}}}"#
            ));
            assert_eq!(
                pod_url(&s, 0, "10.0.0.1"),
                format!("http://10.0.0.1:{port}/metrics"),
                "{server}"
            );
        }
        let s = spec(
            r#"{"metricSourceType":"inferenceEngine","targetMetric":"num_requests_waiting","targetValue":"4","inferenceEngineConfig":{"engineType":"vllm","metricsPort":9000,"metricsPath":"/m"}},
               {"metricSourceType":"inferenceEngine","targetMetric":"gpu_cache_usage_perc","targetValue":"0.8","inferenceEngineConfig":{"engineType":"vllm","metricsPort":9000,"metricsPath":"/m"}},
               {"metricSourceType":"pod","targetMetric":"queue","targetValue":"2","protocolType":"https","port":"8443","path":"/stats"},
               {"metricSourceType":"external","targetMetric":"backlog","targetValue":"10","endpoint":"http://lb/backlog"},
               {"metricSourceType":"resource","targetMetric":"cpu","targetValue":"80"},
               {"metricSourceType":"custom","targetMetric":"queue_depth","targetValue":"5"},
               {"metricSourceType":"external","targetMetric":"pubsub_backlog","targetValue":"100"}"#,
        );
        let plan = plan(&s, &pods());
        assert_eq!(plan.workload, [3]);
        assert_eq!(plan.resource, [4]);
        assert_eq!(plan.metrics_api, [5, 6]);
        let urls: Vec<(&str, &str, &[usize])> = plan
            .pods
            .iter()
            .map(|t| (t.pod.as_str(), t.url.as_str(), t.metrics.as_slice()))
            .collect();
        assert_eq!(
            urls,
            [
                ("a", "http://10.0.0.1:9000/m", &[0, 1][..]),
                ("a", "https://10.0.0.1:8443/stats", &[2][..]),
                ("b", "http://[fd00::2]:9000/m", &[0, 1][..]),
                ("b", "https://[fd00::2]:8443/stats", &[2][..]),
            ]
        );
    }

    #[test]
    fn a_dcgm_scrape_splits_by_pod_label() {
        let scrape = Scrape::parse(
            "# TYPE DCGM_FI_DEV_GPU_UTIL gauge\n\
             DCGM_FI_DEV_GPU_UTIL{gpu=\"0\",pod=\"a\"} 90\n\
             DCGM_FI_DEV_GPU_UTIL{gpu=\"1\",pod=\"a\"} 70\n\
             DCGM_FI_DEV_GPU_UTIL{gpu=\"2\",exported_pod=\"b\"} 10\n\
             DCGM_FI_DEV_GPU_UTIL{gpu=\"3\"} 0\n\
             # TYPE DCGM_FI_DEV_FB_USED gauge\n\
             DCGM_FI_DEV_FB_USED{gpu=\"0\",pod=\"a\"} 70000\n",
        )
        .unwrap();
        let pods = split_dcgm_by_pod(&scrape);
        assert_eq!(pods.keys().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(pods["a"].families.len(), 2);
        assert_eq!(
            pods["a"].families[0].samples.len(),
            2,
            "one series per GPU of a TP-2 pod"
        );
        assert_eq!(pods["b"].families[0].samples.len(), 1);
    }
}
