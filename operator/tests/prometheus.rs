//! The operator's PromQL source against a real Prometheus server (Debian's `prometheus`
//! package, installed by `.ci/run`; skipped with a message where it is missing): the
//! test serves fake vLLM exporters on loopback, starts Prometheus on 127.0.0.1 scraping
//! them every second, and runs a scaler whose metric is a PromQL query through the
//! operator. Then a bad query and a stopped server: errors named, decisions held.

mod common;

use common::{Cluster, client, exporter_pods, free_port, scaler_object};
use engine::time::SECOND;
use operator::http::Http;
use operator::metrics::OperatorMetrics;
use operator::operator::{Operator, Settings};
use operator::runner::Context;
use serde_json::json;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const T0: i64 = 1_796_378_400 * SECOND;

/// `MetricsAvailable` is true on `llm/llama` (its status shown when not).
fn assert_sources_read(c: &Cluster) {
    assert_eq!(
        c.condition("llm/llama", "MetricsAvailable")["status"],
        "True",
        "{}",
        c.status("llm/llama")
    );
}
const EXPORTER_PORT: u16 = 9402;

struct Server {
    child: Child,
    dir: std::path::PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Prometheus scraping `targets` every second, on 127.0.0.1; `None` when not installed.
fn start_prometheus(targets: &[String]) -> Option<(Server, String)> {
    if Command::new("prometheus")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipping: prometheus is not installed (.ci/run installs Debian's package)");
        return None;
    }
    let dir = std::env::temp_dir().join(format!("budscaler-prometheus-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let config = format!(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: vllm\n    static_configs:\n      - targets: [{}]\n",
        targets
            .iter()
            .map(|t| format!("'{t}'"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    std::fs::write(dir.join("prometheus.yml"), config).unwrap();
    let address = format!("127.0.0.1:{}", free_port());
    let child = Command::new("prometheus")
        .arg(format!(
            "--config.file={}",
            dir.join("prometheus.yml").display()
        ))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address={address}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Some((Server { child, dir }, format!("http://{address}")))
}

/// Waits until `query` evaluates to `want` on the server (scrapes take a few seconds).
async fn wait_for(http: &Http, base: &str, query: &str, want: f64) {
    let url = format!(
        "{base}/api/v1/query?query={}",
        operator::http::encode_query_value(query)
    );
    let started = Instant::now();
    loop {
        if let Ok(body) = http.get(&url, &Default::default()).await
            && traces::metrics::workload_value::prometheus_query(&body).ok() == Some(want)
        {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{query} never reached {want}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test]
async fn a_promql_metric_reads_a_real_prometheus_and_a_failing_one_holds() {
    let (_exporters, pods) = exporter_pods(30, EXPORTER_PORT, 16.0, 3.0, T0 / SECOND).await;
    // A dcgm-exporter for both pods' GPUs, for `gpuConfig.promQL`.
    let dcgm = common::Exporter::start("127.0.30.9", EXPORTER_PORT).await;
    dcgm.set_text(
        "# TYPE DCGM_FI_DEV_GPU_UTIL gauge\n\
         DCGM_FI_DEV_GPU_UTIL{gpu=\"0\",pod=\"llama-1\",namespace=\"llm\",modelName=\"NVIDIA H100 80GB HBM3\"} 90\n\
         DCGM_FI_DEV_GPU_UTIL{gpu=\"1\",pod=\"llama-2\",namespace=\"llm\",modelName=\"NVIDIA H100 80GB HBM3\"} 100\n",
    );
    let mut targets: Vec<String> = (1..=2)
        .map(|i| format!("127.0.30.{i}:{EXPORTER_PORT}"))
        .collect();
    targets.push(format!("127.0.30.9:{EXPORTER_PORT}"));
    let Some((server, base)) = start_prometheus(&targets) else {
        return;
    };
    let http = Http::new(Duration::from_secs(2));
    wait_for(&http, &base, "sum(vllm:num_requests_running)", 32.0).await;
    wait_for(&http, &base, "sum(DCGM_FI_DEV_GPU_UTIL)", 190.0).await;

    let spec = |query: &str| {
        json!({
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "llama"},
            "minReplicas": 1, "maxReplicas": 8, "scalingStrategy": "HPA",
            "metricsSources": [{"metricSourceType": "prometheus", "targetMetric": "running",
                                "targetValue": "8", "promQL": query}]
        })
    };
    let mut cluster = Cluster::default();
    cluster
        .deployments
        .insert("llm/llama".to_string(), (2, 2, "app=llama".to_string()));
    cluster.pods.insert("llm".to_string(), pods);
    cluster.scalers.insert(
        "llm/llama".to_string(),
        scaler_object("llm", "llama", "u", spec("sum(vllm:num_requests_running)")),
    );
    let cluster = Arc::new(Mutex::new(cluster));
    let ctx = Context {
        client: client(cluster.clone()),
        http: http.clone(),
        prometheus_url: Some(base.clone()),
        dcgm_port: 9400,
        prices: std::sync::Arc::new(control::pricing::PriceCatalog::builtin().clone()),
        instance: "test".to_string(),
        metrics: Arc::new(OperatorMetrics::default()),
    };
    let mut operator = Operator::new(ctx, Settings::default());
    operator.step(T0).await.unwrap();
    {
        let c = cluster.lock().unwrap();
        assert_sources_read(&c);
        assert_eq!(
            c.replicas("llm/llama"),
            4,
            "32 running in all / 8 per replica"
        );
    }

    // A query Prometheus rejects: its own error, named; the scaler holds.
    cluster.lock().unwrap().scalers.insert(
        "llm/llama".to_string(),
        scaler_object("llm", "llama", "u", spec("sum(vllm:num_requests_running")),
    );
    operator.step(T0 + 15 * SECOND).await.unwrap();
    {
        let c = cluster.lock().unwrap();
        let condition = c.condition("llm/llama", "MetricsAvailable");
        let message = condition["message"].as_str().unwrap();
        assert!(message.starts_with("metric running: "), "{message}");
        assert!(
            message.contains("HTTP 400") && message.contains("parse error"),
            "{message}"
        );
        assert_eq!(c.replicas("llm/llama"), 4);
        assert_eq!(c.status("llm/llama")["desiredScale"], 4);
    }

    // GPU telemetry from the same Prometheus (`gpuConfig.promQL`): the series split by
    // their `pod` label, 95 % mean utilization at a 50 % target on 2 pods.
    cluster.lock().unwrap().scalers.insert(
        "llm/llama".to_string(),
        scaler_object(
            "llm",
            "llama",
            "u",
            json!({
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "llama"},
                "minReplicas": 1, "maxReplicas": 8, "scalingStrategy": "HPA",
                "metricsSources": [{"metricSourceType": "pod", "targetMetric": "gpu_utilization",
                                    "targetValue": "50", "port": EXPORTER_PORT.to_string()}],
                "gpuConfig": {"enabled": true, "promQL": "{__name__=~\"DCGM_FI_.*\",namespace=\"llm\"}"}
            }),
        ),
    );
    cluster
        .lock()
        .unwrap()
        .deployments
        .insert("llm/llama".to_string(), (2, 2, "app=llama".to_string()));
    operator.step(T0 + 20 * SECOND).await.unwrap();
    {
        let c = cluster.lock().unwrap();
        assert_sources_read(&c);
        assert_eq!(c.replicas("llm/llama"), 4, "{}", c.status("llm/llama"));
        let gpu = &c.status("llm/llama")["gpuStatus"];
        assert_eq!(gpu["totalGPUs"], 2, "{gpu}");
        assert_eq!(gpu["gpuType"], "NVIDIA H100 80GB HBM3", "{gpu}");
        assert_eq!(gpu["averageGpuUtilization"], 95.0, "{gpu}");
    }

    // The server gone: connection refused, named; still holding.
    cluster.lock().unwrap().scalers.insert(
        "llm/llama".to_string(),
        scaler_object("llm", "llama", "u", spec("sum(vllm:num_requests_running)")),
    );
    drop(server);
    operator.step(T0 + 30 * SECOND).await.unwrap();
    let c = cluster.lock().unwrap();
    let message = c.message("llm/llama", "MetricsAvailable");
    assert!(message.contains(&base), "{message}");
    assert_eq!(c.replicas("llm/llama"), 4);
    drop(dcgm);
}
