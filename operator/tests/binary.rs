//! The `budscaler-operator` binary end to end: it reaches the fake API server over real
//! HTTP through a kubeconfig (no cluster here), takes the Lease, scales the target,
//! serves its probes and metrics, and on SIGTERM saves every scaler's learning to its
//! ConfigMap and releases the Lease before exiting 0.

mod common;

use common::{Cluster, exporter_pods, free_port, scaler_object, serve_http};
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const PORT: u16 = 9401;

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_scales_serves_probes_and_saves_learning_on_sigterm() {
    let mut cluster = Cluster::default();
    cluster
        .deployments
        .insert("llm/llama".to_string(), (2, 2, "app=llama".to_string()));
    let (exporters, pods) = exporter_pods(19, PORT, 16.0, 0.0, 1_796_378_400).await;
    cluster.pods.insert("llm".to_string(), pods);
    let spec = json!({
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "llama"},
        "minReplicas": 1, "maxReplicas": 8, "scalingStrategy": "HPA",
        "metricsSources": [{"metricSourceType": "pod", "targetMetric": "vllm:num_requests_running",
                            "targetValue": "8", "port": PORT.to_string()}]
    });
    cluster.scalers.insert(
        "llm/llama".to_string(),
        scaler_object("llm", "llama", "uid-1", spec),
    );
    let cluster = Arc::new(Mutex::new(cluster));
    let api = serve_http(cluster.clone()).await;

    let dir =
        std::env::temp_dir().join(format!("budscaler-operator-binary-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let kubeconfig = dir.join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: http://{api}\nusers:\n- name: fake\n  user: {{}}\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    user: fake\n    namespace: default\ncurrent-context: fake\n"
        ),
    )
    .unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let logs = dir.join("logs");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_budscaler-operator"))
        .args([
            "--listen",
            &listen,
            "--leader-election",
            "--lease-namespace",
            "ops",
            "--log-scrapes",
        ])
        .arg("--observation-log")
        .arg(&logs)
        .env("KUBECONFIG", &kubeconfig)
        .env("POD_NAME", "operator-0")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();

    wait_until("the scale-up", || {
        cluster.lock().unwrap().replicas("llm/llama") == 4
    })
    .await;
    {
        let c = cluster.lock().unwrap();
        assert_eq!(
            c.leases["ops/budscaler-operator"]["spec"]["holderIdentity"],
            "operator-0"
        );
        assert_eq!(c.status("llm/llama")["desiredScale"], 4);
        assert_eq!(c.events[0]["reportingInstance"], "operator-0");
        assert!(
            !c.config_maps.contains_key("llm/llama-learning-data"),
            "not saved before 300 s"
        );
    }
    let http = operator::http::Http::new(Duration::from_secs(5));
    let none = Default::default();
    assert_eq!(
        http.get(&format!("http://{listen}/readyz"), &none)
            .await
            .unwrap(),
        "ready\n"
    );
    let metrics = http
        .get(&format!("http://{listen}/metrics"), &none)
        .await
        .unwrap();
    assert!(metrics.contains("budscaler_operator_leader 1"), "{metrics}");
    assert!(
        metrics.contains("budscaler_operator_decisions_total{scaler=\"llm/llama\""),
        "{metrics}"
    );

    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no exit after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert!(status.success(), "{status}: {stderr}");
    let c = cluster.lock().unwrap();
    let saved = &c.config_maps["llm/llama-learning-data"];
    assert!(
        saved["data"]["state.json"]
            .as_str()
            .unwrap()
            .starts_with("{\"version\":1")
    );
    assert!(
        c.leases["ops/budscaler-operator"]["spec"]["holderIdentity"].is_null(),
        "released"
    );
    let log = std::fs::read_to_string(logs.join("llm_llama.jsonl")).unwrap();
    let replayed = control::log::replay(&log).unwrap();
    assert!(replayed.scalers[0].1 >= 1);
    assert!(logs.join("llm_llama.scrapes.jsonl").exists());
    drop(c);
    drop(exporters);
    std::fs::remove_dir_all(&dir).unwrap();
}
