//! Reconcile paths through a real `kube::Client` against the fake API server of
//! `common` (no cluster here), with fake vLLM exporters on loopback HTTP: create, scale
//! up and down, shadow, conflicts (two scalers on one target, a 409 on the scale
//! update), a missing target, a deleted scaler, failing sources, restart with the saved
//! learning, leader election, and the observation log replaying to the same decisions.

mod common;

use common::{Cluster, Exporter, Shared, client, exporter_pods, scaler_object};
use engine::time::SECOND;
use operator::http::Http;
use operator::leader::LeaderElector;
use operator::metrics::OperatorMetrics;
use operator::operator::{Operator, Settings};
use operator::runner::Context;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const NS: &str = "llm";
const TARGET: &str = "llm/llama";
const PORT: u16 = 9400;
/// 2026-12-04T10:00:00Z in Unix µs.
const T0: i64 = 1_796_378_400 * SECOND;

fn hpa_spec(mode: &str, target: &str) -> Value {
    json!({
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target},
        "minReplicas": 1, "maxReplicas": 8, "mode": mode, "scalingStrategy": "HPA",
        "metricsSources": [{"metricSourceType": "pod", "targetMetric": "vllm:num_requests_running",
                            "targetValue": "8", "port": PORT.to_string()}]
    })
}

struct Fixture {
    cluster: Shared,
    exporters: Vec<Exporter>,
    metrics: Arc<OperatorMetrics>,
    net: u8,
}

impl Fixture {
    /// A Deployment `llm/llama` at 2 replicas with 2 ready pods on 127.0.`net`.1 and .2,
    /// each exporter serving `running` requests; `scalers` as (name, spec).
    async fn new(net: u8, running: f64, scalers: &[(&str, Value)]) -> Fixture {
        let mut cluster = Cluster::default();
        cluster
            .deployments
            .insert(TARGET.to_string(), (2, 2, "app=llama".to_string()));
        let (exporters, pods) = exporter_pods(net, PORT, running, 0.0, T0 / SECOND).await;
        cluster.pods.insert(NS.to_string(), pods);
        for (i, (name, spec)) in scalers.iter().enumerate() {
            cluster.scalers.insert(
                format!("{NS}/{name}"),
                scaler_object(NS, name, &format!("uid-{i}"), spec.clone()),
            );
        }
        Fixture {
            cluster: Arc::new(Mutex::new(cluster)),
            exporters,
            metrics: Arc::new(OperatorMetrics::default()),
            net,
        }
    }

    fn operator(&self, settings: Settings) -> Operator {
        let ctx = Context {
            client: client(self.cluster.clone()),
            http: Http::new(Duration::from_millis(1000)),
            prometheus_url: None,
            dcgm_port: 9400,
            prices: std::sync::Arc::new(control::pricing::PriceCatalog::builtin().clone()),
            instance: "test-operator".to_string(),
            metrics: self.metrics.clone(),
        };
        Operator::new(ctx, settings)
    }

    fn set_running(&self, running: f64) {
        for exporter in &self.exporters {
            exporter.set_vllm(running, 0.0);
        }
    }

    fn cluster(&self) -> std::sync::MutexGuard<'_, Cluster> {
        self.cluster.lock().unwrap()
    }
}

/// Steps `operator` through `n` HPA sync periods from `T0`.
async fn ticks(operator: &mut Operator, n: i64) {
    for k in 0..n {
        operator.step(T0 + k * 15 * SECOND).await.unwrap();
    }
}

fn puts(cluster: &Cluster) -> usize {
    cluster
        .writes()
        .iter()
        .filter(|w| w.starts_with("PUT") && w.ends_with("/scale"))
        .count()
}

#[tokio::test]
async fn a_new_scaler_scales_up_at_once_and_down_only_after_the_stabilization_window() {
    let f = Fixture::new(1, 16.0, &[("llama", hpa_spec("Active", "llama"))]).await;
    let mut operator = f.operator(Settings::default());
    operator.step(T0).await.unwrap();
    {
        let c = f.cluster();
        assert_eq!(c.replicas(TARGET), 4, "2 pods × 16 running / 8 per pod");
        let status = c.status(TARGET);
        assert_eq!(status["desiredScale"], 4);
        assert_eq!(status["actualScale"], 2);
        assert_eq!(status["scalingHistory"][0]["success"], true);
        assert_eq!(c.condition(TARGET, "MetricsAvailable")["status"], "True");
        assert_eq!(c.event_reasons(), ["SuccessfulRescale"]);
        assert!(
            c.events[0]["note"]
                .as_str()
                .unwrap()
                .starts_with("New size: 4")
        );
    }
    // Not due again before the HPA's 15 s sync period.
    operator.step(T0 + 5 * SECOND).await.unwrap();
    assert_eq!(
        f.cluster()
            .requests
            .iter()
            .filter(|r| r.ends_with("/scale"))
            .count(),
        2
    );
    f.set_running(2.0);
    let mut replicas = Vec::new();
    for k in 1..=22 {
        operator.step(T0 + k * 15 * SECOND).await.unwrap();
        replicas.push(f.cluster().replicas(TARGET));
    }
    // Recommendations of the last 300 s hold the scale until the high one ages out.
    assert!(replicas[..19].iter().all(|&r| r == 4), "{replicas:?}");
    assert_eq!(*replicas.last().unwrap(), 1, "{replicas:?}");
    assert_eq!(f.metrics.errors("source"), 0);
}

#[tokio::test]
async fn shadow_mode_decides_and_reports_but_never_patches() {
    let f = Fixture::new(2, 16.0, &[("llama", hpa_spec("Shadow", "llama"))]).await;
    let mut operator = f.operator(Settings::default());
    ticks(&mut operator, 3).await;
    let c = f.cluster();
    assert_eq!(puts(&c), 0);
    assert_eq!(c.replicas(TARGET), 2);
    let status = c.status(TARGET);
    assert_eq!(status["desiredScale"], 4);
    assert_eq!(status["actualScale"], 2);
    assert!(status.get("lastScaleTime").is_none());
    let history = status["scalingHistory"].as_array().unwrap();
    assert_eq!(
        history.len(),
        3,
        "each tick wanted 4 of 2 again: the engine was told none was applied"
    );
    assert!(history.iter().all(|h| h["success"] == false));
    assert!(f.metrics.render().contains("outcome=\"shadow\"} 3"));
}

#[tokio::test]
async fn two_scalers_on_one_target_both_report_the_conflict_and_neither_acts() {
    let f = Fixture::new(
        3,
        16.0,
        &[
            ("a", hpa_spec("Active", "llama")),
            ("b", hpa_spec("Active", "llama")),
        ],
    )
    .await;
    let mut operator = f.operator(Settings::default());
    operator.step(T0).await.unwrap();
    let c = f.cluster();
    assert_eq!(puts(&c), 0);
    for (me, other) in [("llm/a", "llm/b"), ("llm/b", "llm/a")] {
        let condition = c.condition(me, "AbleToScale");
        assert_eq!(
            (condition["status"].as_str(), condition["reason"].as_str()),
            (Some("False"), Some("AmbiguousTarget"))
        );
        assert!(
            condition["message"].as_str().unwrap().contains(other),
            "{condition}"
        );
    }
}

#[tokio::test]
async fn a_missing_target_is_reported_and_a_deleted_scaler_is_forgotten() {
    let f = Fixture::new(4, 16.0, &[("ghost", hpa_spec("Active", "ghost"))]).await;
    let mut operator = f.operator(Settings::default());
    operator.step(T0).await.unwrap();
    {
        let c = f.cluster();
        let condition = c.condition("llm/ghost", "AbleToScale");
        assert_eq!(condition["reason"], "FailedGetScale");
        assert!(
            condition["message"]
                .as_str()
                .unwrap()
                .contains("Deployment llm/ghost does not exist")
        );
        assert_eq!(c.event_reasons(), ["FailedGetScale"]);
        assert_eq!(c.events[0]["type"], "Warning");
        assert_eq!(puts(&c), 0);
    }
    let key = operator::resource::ScalerKey {
        namespace: NS.to_string(),
        name: "ghost".to_string(),
    };
    assert!(operator.runner(&key).is_some());
    {
        let mut c = f.cluster();
        c.scalers.clear();
        c.requests.clear();
    }
    operator.step(T0 + 15 * SECOND).await.unwrap();
    assert!(operator.runner(&key).is_none());
    assert_eq!(
        f.cluster().requests,
        ["GET /apis/scaler.bud.studio/v1alpha1/budaiscalers"]
    );
}

#[tokio::test]
async fn a_conflicting_scale_update_is_read_again_and_retried_and_a_failed_one_reported() {
    let f = Fixture::new(5, 16.0, &[("llama", hpa_spec("Active", "llama"))]).await;
    f.cluster().scale_conflicts = 1;
    let mut operator = f.operator(Settings::default());
    operator.step(T0).await.unwrap();
    {
        let c = f.cluster();
        assert_eq!(c.replicas(TARGET), 4);
        assert_eq!(puts(&c), 2, "one 409, one retry");
    }
    let f = Fixture::new(6, 16.0, &[("llama", hpa_spec("Active", "llama"))]).await;
    f.cluster().scale_failures = 1;
    let mut operator = f.operator(Settings::default());
    operator.step(T0).await.unwrap();
    {
        let c = f.cluster();
        assert_eq!(c.replicas(TARGET), 2);
        assert_eq!(c.event_reasons(), ["FailedRescale"]);
        assert_eq!(c.status(TARGET)["scalingHistory"][0]["success"], false);
    }
    // Not applied, so the next tick asks again and succeeds.
    operator.step(T0 + 15 * SECOND).await.unwrap();
    assert_eq!(f.cluster().replicas(TARGET), 4);
    assert_eq!(f.metrics.errors("set_replicas"), 1);
}

#[tokio::test]
async fn failing_sources_are_named_in_the_status_and_never_panic() {
    let f = Fixture::new(7, 16.0, &[("llama", hpa_spec("Active", "llama"))]).await;
    // Pod 1 answers too late, pod 2 serves garbage.
    *f.exporters[0].delay.lock().unwrap() = Duration::from_secs(3);
    f.exporters[1].set_text("vllm:num_requests_running{model_name=\"llama\" 3\n");
    let mut operator = f.operator(Settings::default());
    operator.step(T0).await.unwrap();
    {
        let c = f.cluster();
        let condition = c.condition(TARGET, "MetricsAvailable");
        assert_eq!(
            (condition["status"].as_str(), condition["reason"].as_str()),
            (Some("False"), Some("SourceFailed"))
        );
        let message = condition["message"].as_str().unwrap();
        assert!(
            message.contains(&format!("llama-1 http://127.0.{}.1:9400/metrics", f.net)),
            "{message}"
        );
        assert!(message.contains("no answer within 1000 ms"), "{message}");
        assert!(message.contains("malformed exposition text"), "{message}");
        // No metric at all: the HPA holds, and its decision names the sources.
        assert_eq!(c.replicas(TARGET), 2);
        let decided = c.condition(TARGET, "ScalingActive")["message"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            decided.contains("sources not read: llama-1 http://"),
            "{decided}"
        );
        assert_eq!(c.status(TARGET)["desiredScale"], 2);
    }
    assert_eq!(f.metrics.errors("source"), 2);
    // An endpoint that is down: nothing listens on pod 2's address any more.
    *f.exporters[0].delay.lock().unwrap() = Duration::ZERO;
    let mut f = f;
    f.exporters.truncate(1);
    tokio::time::sleep(Duration::from_millis(50)).await;
    operator.step(T0 + 15 * SECOND).await.unwrap();
    let c = f.cluster();
    let message = c.message(TARGET, "MetricsAvailable");
    assert!(
        message.starts_with(&format!("llama-2 http://127.0.{}.2:9400/metrics", f.net)),
        "{message}"
    );
    assert!(!message.contains("llama-1"), "{message}");
    assert!(
        !message.contains("malformed"),
        "down, not serving garbage: {message}"
    );
}

/// Replicas after each of 30 ticks: high load for 3 ticks, then low; with a restart
/// (learning saved, a new operator restoring it) after tick `restart_after`.
async fn run_with_restart(net: u8, restart_after: Option<i64>, forget_learning: bool) -> Vec<i32> {
    let f = Fixture::new(net, 16.0, &[("llama", hpa_spec("Active", "llama"))]).await;
    let mut operator = f.operator(Settings::default());
    let mut replicas = Vec::new();
    for k in 0..30 {
        if k == 3 {
            f.set_running(2.0);
        }
        let now = T0 + k * 15 * SECOND;
        operator.step(now).await.unwrap();
        replicas.push(f.cluster().replicas(TARGET));
        if restart_after == Some(k) {
            operator.save_all(now).await;
            if forget_learning {
                f.cluster().config_maps.clear();
            }
            operator = f.operator(Settings::default());
        }
    }
    replicas
}

#[tokio::test]
async fn a_restarted_operator_restores_learning_and_decides_identically() {
    let straight = run_with_restart(8, None, false).await;
    let restarted = run_with_restart(9, Some(6), false).await;
    assert_eq!(straight, restarted);
    // Without its learning the new operator forgets the recent high recommendation and
    // scales down at once: what the restore prevents.
    let amnesiac = run_with_restart(10, Some(6), true).await;
    assert_ne!(straight, amnesiac, "the test would not notice a lost state");
}

#[tokio::test]
async fn learning_is_saved_to_an_owned_config_map_and_a_foreign_state_is_refused() {
    let f = Fixture::new(11, 16.0, &[("llama", hpa_spec("Active", "llama"))]).await;
    let mut operator = f.operator(Settings {
        save_every: 30 * SECOND,
        ..Settings::default()
    });
    ticks(&mut operator, 3).await;
    {
        let c = f.cluster();
        let map = &c.config_maps["llm/llama-learning-data"];
        assert_eq!(map["metadata"]["ownerReferences"][0]["uid"], "uid-0");
        assert_eq!(map["metadata"]["ownerReferences"][0]["kind"], "BudAIScaler");
        let saved: Value =
            serde_json::from_str(map["data"]["state.json"].as_str().unwrap()).unwrap();
        assert_eq!(saved["version"], 1);
    }
    // A state saved by another strategy (or garbage) is refused, reported, not fatal.
    let f = Fixture::new(12, 16.0, &[("llama", hpa_spec("Active", "llama"))]).await;
    f.cluster().config_maps.insert(
        "llm/llama-learning-data".to_string(),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "llama-learning-data"},
               "data": {"state.json": "{\"version\": 99, \"state\": {}}"}}),
    );
    let mut operator = f.operator(Settings::default());
    operator.step(T0).await.unwrap();
    let c = f.cluster();
    let condition = c.condition(TARGET, "LearningRestored");
    assert_eq!(
        (condition["status"].as_str(), condition["reason"].as_str()),
        (Some("False"), Some("SavedStateRefused"))
    );
    assert!(
        condition["message"].as_str().unwrap().contains("format 99"),
        "{condition}"
    );
    assert_eq!(
        c.event_reasons(),
        ["SavedStateRefused", "SuccessfulRescale"]
    );
    assert_eq!(c.replicas(TARGET), 4);
}

#[tokio::test]
async fn the_observation_log_of_a_live_run_replays_to_identical_decisions() {
    let dir = std::env::temp_dir().join(format!("budscaler-operator-log-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let f = Fixture::new(
        13,
        16.0,
        &[
            ("llama", hpa_spec("Active", "llama")),
            ("other", hpa_spec("Shadow", "other")),
        ],
    )
    .await;
    f.cluster()
        .deployments
        .insert("llm/other".to_string(), (1, 1, "app=llama".to_string()));
    let settings = Settings {
        logs: operator::runner::Logs {
            observations: Some(dir.clone()),
            scrapes: true,
        },
        ..Settings::default()
    };
    let mut operator = f.operator(settings);
    for k in 0..30 {
        f.set_running(if k < 4 { 16.0 } else { 2.0 + (k % 3) as f64 });
        operator.step(T0 + k * 15 * SECOND).await.unwrap();
    }
    for (file, applied_false) in [("llm_llama.jsonl", false), ("llm_other.jsonl", true)] {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        let replayed = control::log::replay(&text).unwrap();
        assert_eq!(replayed.scalers.len(), 1);
        assert_eq!(replayed.scalers[0].1, 30, "{file}");
        assert_eq!(text.contains("\"applied\":false"), applied_false, "{file}");
        // A tampered decision is caught, naming its line.
        let tampered = text.replacen("\"desiredReplicas\":4", "\"desiredReplicas\":5", 1);
        assert_ne!(
            tampered, text,
            "{file}: no decision for 4 replicas to tamper with"
        );
        let error = control::log::replay(&tampered).unwrap_err();
        assert!(error.to_string().starts_with("line "), "{error}");
    }
    // The raw scrapes, read back by the `trace.series` reader: 30 ticks × 2 pods each.
    let scrapes = traces::metrics::series::read_all(&dir.join("llm_llama.scrapes.jsonl")).unwrap();
    assert_eq!(scrapes.len(), 60);
    assert_eq!(scrapes[0].t_us, T0);
    assert_eq!(scrapes[0].target.as_deref(), Some("llama-1"));
    assert_eq!(
        scrapes[0].scrape.gauge("vllm:num_requests_running", &[]),
        Some(16.0)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn one_replica_leads_until_its_lease_expires_or_it_lets_go() {
    let cluster: Shared = Arc::new(Mutex::new(Cluster::default()));
    let a = LeaderElector::new(
        client(cluster.clone()),
        "ops",
        "budscaler-operator",
        "a",
        15,
    );
    let b = LeaderElector::new(
        client(cluster.clone()),
        "ops",
        "budscaler-operator",
        "b",
        15,
    );
    assert!(a.acquire_or_renew(T0).await.unwrap());
    assert!(!b.acquire_or_renew(T0 + 5 * SECOND).await.unwrap());
    assert!(a.acquire_or_renew(T0 + 10 * SECOND).await.unwrap());
    assert!(
        !b.acquire_or_renew(T0 + 24 * SECOND).await.unwrap(),
        "renewed at 10 s, held until 25 s"
    );
    assert!(
        b.acquire_or_renew(T0 + 26 * SECOND).await.unwrap(),
        "expired"
    );
    assert!(!a.acquire_or_renew(T0 + 27 * SECOND).await.unwrap());
    {
        let c = cluster.lock().unwrap();
        let lease = &c.leases["ops/budscaler-operator"];
        assert_eq!(lease["spec"]["holderIdentity"], "b");
        assert_eq!(lease["spec"]["leaseTransitions"], 1);
    }
    b.release().await.unwrap();
    assert!(
        a.acquire_or_renew(T0 + 28 * SECOND).await.unwrap(),
        "released: taken at once"
    );
}

#[tokio::test]
async fn resource_utilization_comes_from_the_metrics_api_and_the_pods_requests() {
    let spec = json!({
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "llama"},
        "minReplicas": 1, "maxReplicas": 8, "scalingStrategy": "HPA",
        "metricsSources": [{"metricSourceType": "resource", "targetMetric": "cpu", "targetValue": "50"}]
    });
    let f = Fixture::new(14, 0.0, &[("llama", spec)]).await;
    {
        let mut c = f.cluster();
        for pod in c.pods.get_mut(NS).unwrap() {
            pod["spec"] =
                json!({"containers": [{"name": "vllm", "resources": {"requests": {"cpu": "1"}}}]});
        }
    }
    let mut operator = f.operator(Settings::default());
    // metrics-server unavailable: named, and the HPA holds.
    operator.step(T0).await.unwrap();
    {
        let c = f.cluster();
        let message = c.message(TARGET, "MetricsAvailable");
        assert!(message.starts_with("metrics.k8s.io: "), "{message}");
        assert_eq!(c.replicas(TARGET), 2);
    }
    let usage = |pod: &str| {
        json!({"metadata": {"name": pod}, "timestamp": "2026-12-04T10:00:10Z", "window": "15s",
               "containers": [{"name": "vllm", "usage": {"cpu": "900000000n", "memory": "1Gi"}}]})
    };
    f.cluster().pod_metrics.insert(
        NS.to_string(),
        json!({"kind": "PodMetricsList", "apiVersion": "metrics.k8s.io/v1beta1", "metadata": {},
               "items": [usage("llama-1"), usage("llama-2")]}),
    );
    operator.step(T0 + 15 * SECOND).await.unwrap();
    let c = f.cluster();
    assert_eq!(c.condition(TARGET, "MetricsAvailable")["status"], "True");
    assert_eq!(
        c.replicas(TARGET),
        4,
        "90 % of the requested CPU on 2 pods at a 50 % target"
    );
}

/// An HPA on `gpu_utilization` at 50 %.
fn gpu_utilization_spec() -> Value {
    let mut spec = hpa_spec("Active", "llama");
    spec["metricsSources"] = json!([{"metricSourceType": "pod", "targetMetric": "gpu_utilization",
                                     "targetValue": "50", "port": PORT.to_string()}]);
    spec
}

/// Puts every pod of the fixture on the node at `node`.
fn on_node(f: &Fixture, node: &str) {
    let mut c = f.cluster();
    for pod in c.pods.get_mut(NS).unwrap() {
        pod["status"]["hostIP"] = json!(node);
    }
}

#[tokio::test]
async fn gpu_telemetry_comes_from_each_nodes_dcgm_exporter_split_by_pod() {
    let f = Fixture::new(15, 0.0, &[("llama", gpu_utilization_spec())]).await;
    // Both pods on one node whose exporter serves their GPUs (and an unassigned one).
    let node = "127.0.15.200";
    on_node(&f, node);
    let dcgm = Exporter::start(node, 9400).await;
    dcgm.set_text(
        "# TYPE DCGM_FI_DEV_GPU_UTIL gauge\n\
         DCGM_FI_DEV_GPU_UTIL{gpu=\"0\",pod=\"llama-1\",namespace=\"llm\"} 90\n\
         DCGM_FI_DEV_GPU_UTIL{gpu=\"1\",pod=\"llama-2\",namespace=\"llm\"} 100\n\
         DCGM_FI_DEV_GPU_UTIL{gpu=\"2\",pod=\"\"} 0\n",
    );
    let mut operator = f.operator(Settings::default());
    operator.step(T0).await.unwrap();
    {
        let c = f.cluster();
        assert_eq!(
            c.condition(TARGET, "MetricsAvailable")["status"],
            "True",
            "{}",
            c.status(TARGET)
        );
        assert_eq!(
            c.replicas(TARGET),
            4,
            "95 % mean utilization at a 50 % target on 2 pods"
        );
    }
    drop(dcgm);
    tokio::time::sleep(Duration::from_millis(50)).await;
    operator.step(T0 + 15 * SECOND).await.unwrap();
    let c = f.cluster();
    let message = c.message(TARGET, "MetricsAvailable");
    assert!(
        message.starts_with("dcgm 127.0.15.200: http://127.0.15.200:9400/metrics"),
        "{message}"
    );
}

#[tokio::test]
async fn gpu_config_dcgm_endpoint_names_where_each_nodes_exporter_listens() {
    let mut spec = gpu_utilization_spec();
    // Not the operator's --dcgm-port (9400): the manifest's endpoint decides.
    spec["gpuConfig"] = json!({"enabled": true, "dcgmEndpoint": "http://{hostIP}:9555/metrics"});
    let f = Fixture::new(21, 0.0, &[("llama", spec)]).await;
    let node = "127.0.21.200";
    on_node(&f, node);
    let dcgm = Exporter::start(node, 9555).await;
    dcgm.set_text(
        "# TYPE DCGM_FI_DEV_GPU_UTIL gauge\n\
         DCGM_FI_DEV_GPU_UTIL{gpu=\"0\",pod=\"llama-1\",namespace=\"llm\",modelName=\"NVIDIA L4\"} 90\n\
         DCGM_FI_DEV_GPU_UTIL{gpu=\"1\",pod=\"llama-2\",namespace=\"llm\",modelName=\"NVIDIA L4\"} 100\n\
         # TYPE DCGM_FI_PROF_PIPE_TENSOR_ACTIVE gauge\n\
         DCGM_FI_PROF_PIPE_TENSOR_ACTIVE{gpu=\"0\",pod=\"llama-1\",namespace=\"llm\"} 0.3\n\
         DCGM_FI_PROF_PIPE_TENSOR_ACTIVE{gpu=\"1\",pod=\"llama-2\",namespace=\"llm\"} 0.5\n",
    );
    let mut operator = f.operator(Settings::default());
    operator.step(T0).await.unwrap();
    {
        let c = f.cluster();
        assert_eq!(c.replicas(TARGET), 4, "{}", c.status(TARGET));
        let gpu = &c.status(TARGET)["gpuStatus"];
        assert_eq!(gpu["totalGPUs"], 2, "{gpu}");
        assert_eq!(gpu["gpuType"], "NVIDIA L4", "{gpu}");
        assert_eq!(gpu["averageComputeUtilization"], 40.0, "{gpu}");
    }
    drop(dcgm);
    tokio::time::sleep(Duration::from_millis(50)).await;
    operator.step(T0 + 15 * SECOND).await.unwrap();
    let message = f.cluster().message(TARGET, "MetricsAvailable");
    assert!(
        message.starts_with("dcgm 127.0.21.200: http://127.0.21.200:9555/metrics"),
        "{message}"
    );
}

#[tokio::test]
async fn custom_and_external_metrics_come_from_the_metrics_apis() {
    let mut spec = hpa_spec("Active", "llama");
    spec["maxReplicas"] = json!(10);
    spec["metricsSources"] = json!([
        {"metricSourceType": "custom", "targetMetric": "queue_depth", "targetValue": "5"},
        {"metricSourceType": "external", "targetMetric": "pubsub_backlog", "targetType": "AverageValue", "targetValue": "100"}
    ]);
    let f = Fixture::new(16, 0.0, &[("llama", spec)]).await;
    let mut operator = f.operator(Settings::default());
    // Neither adapter serves the metrics yet: both named, the HPA holds.
    operator.step(T0).await.unwrap();
    {
        let c = f.cluster();
        let message = c.message(TARGET, "MetricsAvailable");
        assert!(
            message.contains("custom.metrics.k8s.io queue_depth: ")
                && message.contains("external.metrics.k8s.io pubsub_backlog: "),
            "{message}"
        );
        assert_eq!(c.replicas(TARGET), 2);
        assert!(
            c.requests.iter().all(|r| !r.contains("9400")),
            "custom metrics are not scraped from the pods"
        );
    }
    let pod_value = |pod: &str, value: &str| {
        json!({"describedObject": {"kind": "Pod", "name": pod, "namespace": NS, "apiVersion": "/v1"},
               "metric": {"name": "queue_depth"}, "timestamp": "2026-12-04T10:00:10Z", "windowSeconds": 60, "value": value})
    };
    {
        let mut c = f.cluster();
        c.metric_values.insert(
            "llm/queue_depth".to_string(),
            json!({"kind": "MetricValueList", "apiVersion": "custom.metrics.k8s.io/v1beta2", "metadata": {},
                   "items": [pod_value("llama-1", "12"), pod_value("llama-2", "8")]}),
        );
        c.metric_values.insert(
            "llm/pubsub_backlog".to_string(),
            json!({"kind": "ExternalMetricValueList", "apiVersion": "external.metrics.k8s.io/v1beta1", "metadata": {},
                   "items": [{"metricName": "pubsub_backlog", "timestamp": "2026-12-04T10:00:10Z", "value": "300"},
                             {"metricName": "pubsub_backlog", "timestamp": "2026-12-04T10:00:10Z", "value": "350"}]}),
        );
    }
    operator.step(T0 + 15 * SECOND).await.unwrap();
    {
        let c = f.cluster();
        assert_eq!(
            c.condition(TARGET, "MetricsAvailable")["status"],
            "True",
            "{}",
            c.status(TARGET)
        );
        // Custom: 20 over 2 pods at 5 per pod → 4; external: 650 at 100 per replica → 7;
        // the larger wins, limited by the HPA's default scale-up (+4 pods per 15 s) to 6.
        assert_eq!(c.replicas(TARGET), 6);
    }
    operator.step(T0 + 30 * SECOND).await.unwrap();
    assert_eq!(f.cluster().replicas(TARGET), 7);
}

#[tokio::test]
async fn a_budscaler_status_shows_what_it_learned_and_when_it_was_saved() {
    let spec = json!({
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "llama"},
        "minReplicas": 1, "maxReplicas": 8, "scalingStrategy": "BudScaler",
        "metricsSources": [{"metricSourceType": "inferenceEngine", "targetMetric": "num_requests_waiting",
                            "targetValue": "4", "inferenceEngineConfig": {"engineType": "vllm", "metricsPort": PORT}}],
        "predictionConfig": {"enabled": true}
    });
    let f = Fixture::new(17, 16.0, &[("bud", spec)]).await;
    let mut operator = f.operator(Settings {
        save_every: 30 * SECOND,
        ..Settings::default()
    });
    ticks(&mut operator, 4).await;
    let c = f.cluster();
    let learning = &c.status("llm/bud")["learningStatus"];
    assert_eq!(learning["coldStartSeconds"], 240.0, "{learning}");
    assert_eq!(
        learning["predictors"].as_array().unwrap().len(),
        3,
        "{learning}"
    );
    assert_eq!(
        learning["lastSaved"], "2026-12-04T10:00:30Z",
        "saved at the third tick, shown from the fourth"
    );
}

/// BudScaler on `num_requests_running` (4 per replica) with a 30 USD/h budget on AWS.
fn budgeted_budscaler() -> Value {
    json!({
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "llama"},
        "minReplicas": 1, "maxReplicas": 8, "scalingStrategy": "BudScaler",
        "metricsSources": [{"metricSourceType": "inferenceEngine", "targetMetric": "num_requests_running",
                            "targetValue": "4", "inferenceEngineConfig": {"engineType": "vllm", "metricsPort": PORT}}],
        "costConfig": {"enabled": true, "cloudProvider": "aws", "budgetPerHour": "30"}
    })
}

/// `costConfig` live: each pod's node says its instance type and capacity type, the
/// shared catalog prices it, the budget caps the count, and the status shows the cost.
#[tokio::test]
async fn a_budget_prices_pods_from_their_nodes_and_caps_the_count() {
    let spec = budgeted_budscaler();
    // 16 running on each of 2 pods at 4 per replica: the guard asks for 8.
    let f = Fixture::new(22, 16.0, &[("bud", spec)]).await;
    {
        let mut c = f.cluster();
        for (i, pod) in c.pods.get_mut(NS).unwrap().iter_mut().enumerate() {
            pod["spec"] = json!({"nodeName": format!("node-{i}"), "containers": [
                {"name": "vllm", "resources": {"limits": {"nvidia.com/gpu": "2"}}}]});
        }
        c.nodes.insert(
            "node-0".to_string(),
            json!({"metadata": {"name": "node-0", "labels": {
                "node.kubernetes.io/instance-type": "p5.48xlarge"}}}),
        );
        c.nodes.insert(
            "node-1".to_string(),
            json!({"metadata": {"name": "node-1", "labels": {
                "node.kubernetes.io/instance-type": "p5.48xlarge",
                "karpenter.sh/capacity-type": "spot"}}}),
        );
    }
    let mut operator = f.operator(Settings::default());
    ticks(&mut operator, 2).await;
    let c = f.cluster();
    // A replica of 2 of the 8 GPUs: 55.04 / 4 = 13.76 on demand, 24.80 / 4 = 6.20 spot.
    let cost = &c.status("llm/bud")["costStatus"];
    assert_eq!(cost["onDemandInstancesInUse"], 1, "{cost}");
    assert_eq!(cost["spotInstancesInUse"], 1, "{cost}");
    let hourly = cost["currentHourlyCost"].as_f64().unwrap();
    assert!((hourly - (13.76 + 6.20)).abs() < 1e-9, "{cost}");
    // At the fleet's half-spot mix a replica costs 9.98/h: 30 USD/h buys three, not
    // the eight the guard asks for.
    assert_eq!(c.replicas(TARGET), 3, "{}", c.status("llm/bud"));
    assert!(
        c.message("llm/bud", "ScalingActive")
            .contains("8 replicas would cost 79.84/h"),
        "{}",
        c.status("llm/bud")
    );
    let scaling_limited = c.condition("llm/bud", "ScalingLimited");
    assert_eq!(
        scaling_limited["reason"], "BudgetLimit",
        "{scaling_limited}"
    );
    assert!(
        c.requests.contains(&"GET /api/v1/nodes/node-1".to_string()),
        "{:?}",
        c.requests
    );
}

/// A node the catalog cannot price: named, and the budget is not applied (said).
#[tokio::test]
async fn an_unpriced_node_is_named_and_the_budget_says_it_is_not_applied() {
    let spec = budgeted_budscaler();
    let f = Fixture::new(23, 16.0, &[("bud", spec)]).await;
    {
        let mut c = f.cluster();
        for pod in c.pods.get_mut(NS).unwrap() {
            pod["spec"] = json!({"nodeName": "node-x", "containers": [{"name": "vllm"}]});
        }
        c.nodes.insert(
            "node-x".to_string(),
            json!({"metadata": {"name": "node-x", "labels": {
                "node.kubernetes.io/instance-type": "x9.mega"}}}),
        );
    }
    let mut operator = f.operator(Settings::default());
    ticks(&mut operator, 2).await;
    let c = f.cluster();
    let message = c.message("llm/bud", "MetricsAvailable");
    assert!(
        message.contains("price: unknown aws instance `x9.mega`"),
        "{message}"
    );
    let decided = c.message("llm/bud", "ScalingActive");
    assert!(
        decided.contains("budget not applied: the driver reports no prices"),
        "{decided}"
    );
}

#[tokio::test]
async fn any_kind_with_a_scale_subresource_is_found_by_discovery() {
    let mut spec = hpa_spec("Active", "lws");
    spec["scaleTargetRef"] = json!({"apiVersion": "leaderworkerset.x-k8s.io/v1", "kind": "LeaderWorkerSet", "name": "lws"});
    let mut unknown = hpa_spec("Active", "thing");
    unknown["scaleTargetRef"] =
        json!({"apiVersion": "example.com/v1", "kind": "Thing", "name": "thing"});
    let f = Fixture::new(18, 16.0, &[("lws", spec), ("thing", unknown)]).await;
    {
        let mut c = f.cluster();
        c.deployments
            .insert("llm/lws".to_string(), (2, 2, "app=llama".to_string()));
        c.api_resources.insert(
            "leaderworkerset.x-k8s.io/v1".to_string(),
            json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "leaderworkerset.x-k8s.io/v1",
                   "resources": [
                       {"name": "leaderworkersets", "singularName": "leaderworkerset", "namespaced": true,
                        "kind": "LeaderWorkerSet", "verbs": ["get", "list", "watch", "update", "patch"]},
                       {"name": "leaderworkersets/scale", "singularName": "", "namespaced": true,
                        "group": "autoscaling", "version": "v1", "kind": "Scale", "verbs": ["get", "patch", "update"]}
                   ]}),
        );
    }
    let mut operator = f.operator(Settings::default());
    operator.step(T0).await.unwrap();
    operator.step(T0 + 15 * SECOND).await.unwrap();
    let c = f.cluster();
    assert_eq!(c.replicas("llm/lws"), 4);
    assert!(
        c.requests.contains(
            &"PUT /apis/leaderworkerset.x-k8s.io/v1/namespaces/llm/leaderworkersets/lws/scale"
                .to_string()
        ),
        "{:?}",
        c.requests
    );
    let discoveries = c
        .requests
        .iter()
        .filter(|r| *r == "GET /apis/leaderworkerset.x-k8s.io/v1")
        .count();
    assert_eq!(discoveries, 1, "resolved once, then cached");
    let condition = c.condition("llm/thing", "AbleToScale");
    assert_eq!(condition["reason"], "FailedDiscovery", "{condition}");
    assert!(
        condition["message"]
            .as_str()
            .unwrap()
            .starts_with("Thing llm/thing: "),
        "{condition}"
    );
}
