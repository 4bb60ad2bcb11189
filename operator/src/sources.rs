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

/// Scrapes the DCGM exporter of every node in `nodes` (`http://HOST_IP:PORT/metrics`,
/// dcgm-exporter's DaemonSet on the host network or a hostPort) and splits each scrape
/// into per-pod GPU series by their `pod` label (`control::scrape_plan::split_dcgm_by_pod`).
pub async fn gather_gpu(gathered: &mut Gathered, nodes: &[String], port: u16, http: &Http) {
    let fetches = nodes.iter().map(|host| async move {
        let host_part = if host.contains(':') {
            format!("[{host}]")
        } else {
            host.clone()
        };
        let url = format!("http://{host_part}:{port}/metrics");
        let started = Instant::now();
        let body = http.get(&url, &BTreeMap::new()).await;
        (host, url, body, started.elapsed())
    });
    for (host, url, body, took) in futures::future::join_all(fetches).await {
        gathered.latencies.push(took);
        let parsed = body.map_err(|e| e.to_string()).and_then(|text| {
            gathered.raw.push((format!("dcgm {host}"), text.clone()));
            Scrape::parse(&text).map_err(|e| format!("{url}: malformed exposition text: {e}"))
        });
        match parsed {
            Ok(scrape) => {
                for (pod, series) in control::scrape_plan::split_dcgm_by_pod(&scrape) {
                    gathered
                        .gpu
                        .entry(pod)
                        .or_default()
                        .families
                        .extend(series.families);
                }
            }
            Err(why) => {
                gathered.errors.insert(format!("dcgm {host}"), why);
            }
        }
    }
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
