//! One tick's inputs fetched live: every pod endpoint of the scrape plan concurrently,
//! then the workload values (PromQL queries against the Prometheus HTTP API, external
//! JSON sources). A source that fails is named with why, never dropped silently: the
//! pod's scrape is then missing (the engine holds on missing metrics) and the failure
//! goes into the status.

use crate::http::{Http, encode_query_value};
use control::scrape_plan::ScrapePlan;
use engine::spec::{MetricSourceType, ResolvedSpec};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use traces::metrics::prometheus::Scrape;
use traces::metrics::workload_value;

/// What a tick fetched.
#[derive(Debug, Clone, Default)]
pub struct Gathered {
    /// Per pod, its endpoints' scrapes merged.
    pub scrapes: BTreeMap<String, Scrape>,
    /// Per workload metric (by name), its value or why there is none.
    pub workload: Vec<(String, Result<f64, String>)>,
    /// Per failed source (`pod URL` or `metric NAME`), why.
    pub errors: BTreeMap<String, String>,
    /// How long each fetch took.
    pub latencies: Vec<Duration>,
    /// Every body that arrived, by pod (or `dcgm HOST` for a node's GPU exporter),
    /// for the raw scrape log.
    pub raw: Vec<(String, String)>,
    /// Per pod, its GPUs' DCGM series (split from its node's exporter scrape).
    pub gpu: BTreeMap<String, Scrape>,
}

/// Fetches everything `plan` names; PromQL metrics without an `endpoint` of their own
/// query `prometheus_url`.
pub async fn gather(
    spec: &ResolvedSpec,
    plan: &ScrapePlan,
    http: &Http,
    prometheus_url: Option<&str>,
) -> Gathered {
    let mut gathered = Gathered::default();
    let pod_fetches = plan.pods.iter().map(|target| {
        let headers = target
            .metrics
            .first()
            .map(|&index| spec.metrics[index].headers.clone())
            .unwrap_or_default();
        async move {
            let started = Instant::now();
            let body = http.get(&target.url, &headers).await;
            (target, body, started.elapsed())
        }
    });
    for (target, body, took) in futures::future::join_all(pod_fetches).await {
        gathered.latencies.push(took);
        let source = format!("{} {}", target.pod, target.url);
        if let Ok(text) = &body {
            gathered.raw.push((target.pod.clone(), text.clone()));
        }
        match body.map_err(|e| e.to_string()).and_then(|text| {
            Scrape::parse(&text)
                .map_err(|e| format!("{}: malformed exposition text: {e}", target.url))
        }) {
            Ok(scrape) => gathered
                .scrapes
                .entry(target.pod.clone())
                .or_default()
                .families
                .extend(scrape.families),
            Err(why) => {
                gathered.errors.insert(source, why);
            }
        }
    }
    let workload_fetches = plan.workload.iter().map(|&index| {
        let metric = &spec.metrics[index];
        async move {
            let started = Instant::now();
            let value = workload_value_of(metric, http, prometheus_url).await;
            (metric.name.clone(), value, started.elapsed())
        }
    });
    for (name, value, took) in futures::future::join_all(workload_fetches).await {
        gathered.latencies.push(took);
        if let Err(why) = &value {
            gathered
                .errors
                .insert(format!("metric {name}"), why.clone());
        }
        gathered.workload.push((name, value));
    }
    gathered
}

/// Where a scaler's GPU telemetry comes from (`gpuConfig.dcgmEndpoint` / `promQL`,
/// else the operator's `--dcgm-port` on each pod's node).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GpuSource {
    /// `URL` with `{hostIP}` or `{node}` replaced by each node's IP, scraped once per
    /// node; a URL without a placeholder is scraped once.
    Endpoint(String),
    /// A PromQL query whose result series are dcgm-exporter fields.
    Query(String),
}

impl GpuSource {
    /// The source a manifest names, with the per-node default on `port`.
    pub fn of(gpu: &engine::spec::ResolvedGpu, port: u16) -> GpuSource {
        match (&gpu.prom_ql, &gpu.dcgm_endpoint) {
            (Some(query), _) => GpuSource::Query(query.clone()),
            (None, Some(url)) => GpuSource::Endpoint(url.clone()),
            (None, None) => GpuSource::Endpoint(format!("http://{{hostIP}}:{port}/metrics")),
        }
    }
}

/// The URLs an endpoint template gives for `nodes`: one per node with a placeholder,
/// else the template itself once. IPv6 addresses are bracketed.
pub fn endpoint_urls(template: &str, nodes: &[String]) -> Vec<(String, String)> {
    let placeholder = ["{hostIP}", "{node}"]
        .into_iter()
        .find(|p| template.contains(p));
    match placeholder {
        None => vec![(template.to_string(), template.to_string())],
        Some(placeholder) => nodes
            .iter()
            .map(|host| {
                let host_part = if host.contains(':') {
                    format!("[{host}]")
                } else {
                    host.clone()
                };
                (host.clone(), template.replace(placeholder, &host_part))
            })
            .collect(),
    }
}

/// Reads the GPU telemetry of `source` (for the pods on `nodes`) and splits it into
/// per-pod GPU series by their `pod` label (`control::scrape_plan::split_dcgm_by_pod`).
/// A failed endpoint or query is named in `gathered.errors` (`dcgm HOST` or
/// `dcgm query`).
pub async fn gather_gpu(
    gathered: &mut Gathered,
    source: &GpuSource,
    nodes: &[String],
    prometheus_url: Option<&str>,
    http: &Http,
) {
    let mut scrapes: Vec<Scrape> = Vec::new();
    match source {
        GpuSource::Endpoint(template) => {
            let fetches =
                endpoint_urls(template, nodes)
                    .into_iter()
                    .map(|(host, url)| async move {
                        let started = Instant::now();
                        let body = http.get(&url, &BTreeMap::new()).await;
                        (host, url, body, started.elapsed())
                    });
            for (host, url, body, took) in futures::future::join_all(fetches).await {
                gathered.latencies.push(took);
                let parsed = body.map_err(|e| e.to_string()).and_then(|text| {
                    gathered.raw.push((format!("dcgm {host}"), text.clone()));
                    Scrape::parse(&text)
                        .map_err(|e| format!("{url}: malformed exposition text: {e}"))
                });
                match parsed {
                    Ok(scrape) => scrapes.push(scrape),
                    Err(why) => {
                        gathered.errors.insert(format!("dcgm {host}"), why);
                    }
                }
            }
        }
        GpuSource::Query(query) => {
            let started = Instant::now();
            let result = gpu_query(query, prometheus_url, http).await;
            gathered.latencies.push(started.elapsed());
            match result {
                Ok(scrape) => scrapes.push(scrape),
                Err(why) => {
                    gathered.errors.insert("dcgm query".to_string(), why);
                }
            }
        }
    }
    for scrape in &scrapes {
        for (pod, series) in control::scrape_plan::split_dcgm_by_pod(scrape) {
            gathered
                .gpu
                .entry(pod)
                .or_default()
                .families
                .extend(series.families);
        }
    }
}

async fn gpu_query(
    query: &str,
    prometheus_url: Option<&str>,
    http: &Http,
) -> Result<Scrape, String> {
    let base = prometheus_url.ok_or("gpuConfig.promQL needs the operator's --prometheus-url")?;
    let url = format!(
        "{}/api/v1/query?query={}",
        base.trim_end_matches('/'),
        encode_query_value(query)
    );
    let body = http
        .get(&url, &BTreeMap::new())
        .await
        .map_err(|e| e.to_string())?;
    workload_value::prometheus_series(&body).map_err(|e| format!("{url}: {e}"))
}

/// A workload metric's value: its PromQL query's result, or its external source's.
async fn workload_value_of(
    metric: &engine::spec::ResolvedMetric,
    http: &Http,
    prometheus_url: Option<&str>,
) -> Result<f64, String> {
    if let Some(query) = &metric.prom_ql {
        let base = metric
            .endpoint
            .as_deref()
            .or(prometheus_url)
            .ok_or("a PromQL metric needs an `endpoint` or the operator's --prometheus-url")?;
        let url = format!(
            "{}/api/v1/query?query={}",
            base.trim_end_matches('/'),
            encode_query_value(query)
        );
        let body = http
            .get(&url, &metric.headers)
            .await
            .map_err(|e| e.to_string())?;
        return workload_value::prometheus_query(&body).map_err(|e| format!("{url}: {e}"));
    }
    debug_assert_eq!(metric.source, MetricSourceType::External);
    let url = metric
        .endpoint
        .as_deref()
        .ok_or("an external metric needs an `endpoint`")?;
    let body = http
        .get(url, &metric.headers)
        .await
        .map_err(|e| e.to_string())?;
    workload_value::external_json(&body).map_err(|e| format!("{url}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endpoint_template_is_scraped_per_node_and_a_plain_url_once() {
        let nodes = vec!["10.0.0.1".to_string(), "fd00::2".to_string()];
        assert_eq!(
            endpoint_urls("http://{hostIP}:9400/metrics", &nodes),
            vec![
                (
                    "10.0.0.1".to_string(),
                    "http://10.0.0.1:9400/metrics".to_string()
                ),
                (
                    "fd00::2".to_string(),
                    "http://[fd00::2]:9400/metrics".to_string()
                ),
            ]
        );
        assert_eq!(
            endpoint_urls("http://{node}:1/m", &nodes[..1])[0].1,
            "http://10.0.0.1:1/m"
        );
        let proxy = "http://dcgm.gpu-operator:9400/metrics";
        assert_eq!(
            endpoint_urls(proxy, &nodes),
            vec![(proxy.to_string(), proxy.to_string())]
        );
    }

    #[test]
    fn the_manifest_chooses_the_gpu_source_and_the_port_is_the_default() {
        let mut gpu = engine::spec::ResolvedGpu {
            enabled: true,
            memory_threshold_percent: 80,
            compute_threshold_percent: 80,
            topology_aware: false,
            preferred_gpu_type: None,
            vgpu_support: false,
            dcgm_endpoint: None,
            prom_ql: None,
        };
        assert_eq!(
            GpuSource::of(&gpu, 9400),
            GpuSource::Endpoint("http://{hostIP}:9400/metrics".to_string())
        );
        gpu.dcgm_endpoint = Some("http://x/metrics".to_string());
        assert_eq!(
            GpuSource::of(&gpu, 9400),
            GpuSource::Endpoint("http://x/metrics".to_string())
        );
        gpu.prom_ql = Some("{__name__=~\"DCGM_FI_.*\"}".to_string());
        assert!(matches!(GpuSource::of(&gpu, 9400), GpuSource::Query(_)));
    }
}
