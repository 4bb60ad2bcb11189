//! What the operator's tests run against, there being no cluster here: a fake API
//! server behind a real `kube::Client` (kube-rs' `tower-test` pattern: the client's
//! requests arrive on a mock handle, and a task answers them from an in-memory cluster
//! that keeps scalers, scale subresources, pods, ConfigMaps, Events and Leases, and
//! records every request), and fake vLLM exporters on real loopback HTTP (each pod on
//! its own 127.0.0.N address) whose metrics the test changes as it goes.

#![allow(dead_code)]

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use kube::client::Body;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use traces::metrics::prometheus::{MetricFamily, MetricKind, Sample, Scrape, render_text};

/// The in-memory cluster.
#[derive(Debug, Default)]
pub struct Cluster {
    /// `namespace/name` → BudAIScaler object.
    pub scalers: BTreeMap<String, Value>,
    /// `namespace/name` of a Deployment → (spec replicas, status replicas, selector).
    pub deployments: BTreeMap<String, (i32, i32, String)>,
    pub resource_versions: BTreeMap<String, u64>,
    /// `namespace` → pods.
    pub pods: BTreeMap<String, Vec<Value>>,
    pub config_maps: BTreeMap<String, Value>,
    pub leases: BTreeMap<String, Value>,
    /// `group/version` → its APIResourceList (discovery of custom workload kinds).
    pub api_resources: BTreeMap<String, Value>,
    /// `namespace/metric` → the custom or external metrics API's value list.
    pub metric_values: BTreeMap<String, Value>,
    /// `namespace` → the resource metrics API's PodMetricsList.
    pub pod_metrics: BTreeMap<String, Value>,
    /// Node name → Node object.
    pub nodes: BTreeMap<String, Value>,
    pub events: Vec<Value>,
    /// Every request: `METHOD path`.
    pub requests: Vec<String>,
    /// Scale updates to answer with 409 before accepting one.
    pub scale_conflicts: usize,
    /// Scale updates to refuse with 500.
    pub scale_failures: usize,
}

impl Cluster {
    pub fn scaler(&self, key: &str) -> &Value {
        &self.scalers[key]
    }

    pub fn status(&self, key: &str) -> Value {
        self.scalers[key]["status"].clone()
    }

    pub fn condition(&self, key: &str, kind: &str) -> Value {
        let status = self.status(key);
        status["conditions"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["type"] == kind).cloned())
            .unwrap_or(Value::Null)
    }

    /// The message of condition `kind` of scaler `key`.
    pub fn message(&self, key: &str, kind: &str) -> String {
        self.condition(key, kind)["message"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub fn replicas(&self, key: &str) -> i32 {
        self.deployments[key].0
    }

    /// Requests that wrote something.
    pub fn writes(&self) -> Vec<String> {
        self.requests
            .iter()
            .filter(|r| !r.starts_with("GET"))
            .cloned()
            .collect()
    }

    pub fn event_reasons(&self) -> Vec<String> {
        self.events
            .iter()
            .map(|e| e["reason"].as_str().unwrap_or("").to_string())
            .collect()
    }

    fn bump(&mut self, key: &str) -> u64 {
        let version = self.resource_versions.entry(key.to_string()).or_insert(1);
        *version += 1;
        *version
    }
}

pub type Shared = Arc<Mutex<Cluster>>;

/// A real `kube::Client` whose requests the fake cluster answers.
pub fn client(cluster: Shared) -> kube::Client {
    let (service, mut handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    tokio::spawn(async move {
        while let Some((request, send)) = handle.next_request().await {
            send.send_response(respond(&cluster, request).await.map(Body::from));
        }
    });
    kube::Client::new(service, "default")
}

/// The same fake API server on real HTTP at 127.0.0.1 (for the operator binary, which
/// reaches it through a kubeconfig); returns its address.
pub async fn serve_http(cluster: Shared) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let cluster = cluster.clone();
            tokio::spawn(async move {
                let service =
                    hyper::service::service_fn(move |request: Request<hyper::body::Incoming>| {
                        let cluster = cluster.clone();
                        async move {
                            let response = respond(&cluster, request).await;
                            Ok::<_, std::convert::Infallible>(
                                response.map(|body| Full::new(Bytes::from(body))),
                            )
                        }
                    });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    address
}

/// One request answered from the fake cluster, as JSON, whatever the transport.
async fn respond<B: hyper::body::Body>(cluster: &Shared, request: Request<B>) -> Response<Vec<u8>> {
    let (parts, body) = request.into_parts();
    let bytes = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let (status, value) = answer(cluster, &parts.method, &parts.uri, &bytes);
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&value).unwrap())
        .unwrap()
}

fn not_found(what: &str) -> (StatusCode, Value) {
    (
        StatusCode::NOT_FOUND,
        json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound",
               "message": format!("{what} not found"), "code": 404}),
    )
}

fn failure(code: StatusCode, reason: &str) -> (StatusCode, Value) {
    (
        code,
        json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": reason,
               "message": reason, "code": code.as_u16()}),
    )
}

fn list(kind: &str, items: Vec<Value>) -> (StatusCode, Value) {
    (
        StatusCode::OK,
        json!({"kind": kind, "apiVersion": "v1", "metadata": {}, "items": items}),
    )
}

/// Answers one request as an API server would.
fn answer(cluster: &Shared, method: &Method, uri: &http::Uri, body: &[u8]) -> (StatusCode, Value) {
    let mut c = cluster.lock().unwrap();
    let path = uri.path().to_string();
    c.requests.push(format!("{method} {path}"));
    let query = uri.query().unwrap_or("");
    let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (method, segments.as_slice()) {
        (&Method::GET, ["apis", "scaler.bud.studio", "v1alpha1", "budaiscalers"]) => {
            list("BudAIScalerList", c.scalers.values().cloned().collect())
        }
        (
            &Method::PATCH,
            [
                "apis",
                "scaler.bud.studio",
                "v1alpha1",
                "namespaces",
                ns,
                "budaiscalers",
                name,
                "status",
            ],
        ) => {
            let key = format!("{ns}/{name}");
            assert!(
                query.contains("fieldManager=budscaler-operator"),
                "status by SSA: {query}"
            );
            match c.scalers.get_mut(&key) {
                Some(scaler) => {
                    scaler["status"] = body["status"].clone();
                    (StatusCode::OK, scaler.clone())
                }
                None => not_found(&key),
            }
        }
        (
            &Method::GET,
            [
                "apis",
                _group,
                _version,
                "namespaces",
                ns,
                _plural,
                name,
                "scale",
            ],
        ) => {
            let key = format!("{ns}/{name}");
            let version = c.resource_versions.get(&key).copied().unwrap_or(1);
            match c.deployments.get(&key) {
                Some((spec, status, selector)) => (
                    StatusCode::OK,
                    scale(ns, name, *spec, *status, selector, version),
                ),
                None => not_found(&key),
            }
        }
        (
            &Method::PUT,
            [
                "apis",
                _group,
                _version,
                "namespaces",
                ns,
                _plural,
                name,
                "scale",
            ],
        ) => {
            let key = format!("{ns}/{name}");
            if !c.deployments.contains_key(&key) {
                return not_found(&key);
            }
            if c.scale_conflicts > 0 {
                c.scale_conflicts -= 1;
                c.bump(&key);
                return failure(StatusCode::CONFLICT, "Conflict");
            }
            if c.scale_failures > 0 {
                c.scale_failures -= 1;
                return failure(StatusCode::INTERNAL_SERVER_ERROR, "InternalError");
            }
            let version = c.resource_versions.get(&key).copied().unwrap_or(1);
            if body["metadata"]["resourceVersion"] != json!(version.to_string()) {
                return failure(StatusCode::CONFLICT, "Conflict");
            }
            let replicas = body["spec"]["replicas"].as_i64().unwrap() as i32;
            let entry = c.deployments.get_mut(&key).unwrap();
            entry.0 = replicas;
            entry.1 = replicas;
            let selector = entry.2.clone();
            let version = c.bump(&key);
            (
                StatusCode::OK,
                scale(ns, name, replicas, replicas, &selector, version),
            )
        }
        (&Method::GET, ["api", "v1", "nodes", name]) => match c.nodes.get(*name) {
            Some(node) => (StatusCode::OK, node.clone()),
            None => not_found(name),
        },
        (&Method::GET, ["api", "v1", "namespaces", ns, "pods"]) => {
            assert!(
                query.contains("labelSelector="),
                "pods by the scale's selector: {query}"
            );
            list("PodList", c.pods.get(*ns).cloned().unwrap_or_default())
        }
        (
            &Method::GET,
            [
                "apis",
                "metrics.k8s.io",
                "v1beta1",
                "namespaces",
                ns,
                "pods",
            ],
        ) => {
            assert!(
                query.contains("labelSelector="),
                "pod metrics by the scale's selector: {query}"
            );
            match c.pod_metrics.get(*ns) {
                Some(list) => (StatusCode::OK, list.clone()),
                None => failure(StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable"),
            }
        }
        (
            &Method::GET,
            [
                "apis",
                "custom.metrics.k8s.io",
                "v1beta2",
                "namespaces",
                ns,
                "pods",
                "*",
                metric,
            ],
        ) => {
            assert!(
                query.contains("labelSelector="),
                "custom metrics by the scale's selector: {query}"
            );
            match c.metric_values.get(&format!("{ns}/{metric}")) {
                Some(list) => (StatusCode::OK, list.clone()),
                None => not_found(metric),
            }
        }
        (
            &Method::GET,
            [
                "apis",
                "external.metrics.k8s.io",
                "v1beta1",
                "namespaces",
                ns,
                metric,
            ],
        ) => match c.metric_values.get(&format!("{ns}/{metric}")) {
            Some(list) => (StatusCode::OK, list.clone()),
            None => not_found(metric),
        },
        (&Method::GET, ["apis", group, version]) => {
            match c.api_resources.get(&format!("{group}/{version}")) {
                Some(list) => (StatusCode::OK, list.clone()),
                None => not_found(&format!("{group}/{version}")),
            }
        }
        (&Method::POST, ["apis", "events.k8s.io", "v1", "namespaces", _ns, "events"]) => {
            c.events.push(body.clone());
            (StatusCode::CREATED, body)
        }
        (&Method::GET, ["api", "v1", "namespaces", ns, "configmaps", name]) => {
            match c.config_maps.get(&format!("{ns}/{name}")) {
                Some(map) => (StatusCode::OK, map.clone()),
                None => not_found(name),
            }
        }
        (&Method::PATCH, ["api", "v1", "namespaces", ns, "configmaps", name]) => {
            assert!(
                query.contains("fieldManager=budscaler-operator"),
                "ConfigMap by SSA: {query}"
            );
            c.config_maps.insert(format!("{ns}/{name}"), body.clone());
            (StatusCode::OK, body)
        }
        (
            &Method::GET,
            [
                "apis",
                "coordination.k8s.io",
                "v1",
                "namespaces",
                ns,
                "leases",
                name,
            ],
        ) => match c.leases.get(&format!("{ns}/{name}")) {
            Some(lease) => (StatusCode::OK, lease.clone()),
            None => not_found(name),
        },
        (
            &Method::POST,
            [
                "apis",
                "coordination.k8s.io",
                "v1",
                "namespaces",
                ns,
                "leases",
            ],
        ) => {
            let key = format!("{ns}/{}", body["metadata"]["name"].as_str().unwrap());
            if c.leases.contains_key(&key) {
                return failure(StatusCode::CONFLICT, "AlreadyExists");
            }
            let mut lease = body.clone();
            lease["metadata"]["resourceVersion"] = json!("1");
            c.leases.insert(key, lease.clone());
            (StatusCode::CREATED, lease)
        }
        (
            &Method::PUT,
            [
                "apis",
                "coordination.k8s.io",
                "v1",
                "namespaces",
                ns,
                "leases",
                name,
            ],
        ) => {
            let key = format!("{ns}/{name}");
            let Some(current) = c.leases.get(&key) else {
                return not_found(name);
            };
            let version: u64 = current["metadata"]["resourceVersion"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap();
            if body["metadata"]["resourceVersion"] != json!(version.to_string()) {
                return failure(StatusCode::CONFLICT, "Conflict");
            }
            let mut lease = body.clone();
            lease["metadata"]["resourceVersion"] = json!((version + 1).to_string());
            c.leases.insert(key, lease.clone());
            (StatusCode::OK, lease)
        }
        _ => panic!("the fake API server has no route for {method} {path}?{query}"),
    }
}

fn scale(ns: &str, name: &str, spec: i32, status: i32, selector: &str, version: u64) -> Value {
    json!({
        "apiVersion": "autoscaling/v1", "kind": "Scale",
        "metadata": {"name": name, "namespace": ns, "resourceVersion": version.to_string()},
        "spec": {"replicas": spec},
        "status": {"replicas": status, "selector": selector}
    })
}

/// A scaler object as the API returns it.
pub fn scaler_object(namespace: &str, name: &str, uid: &str, spec: Value) -> Value {
    json!({
        "apiVersion": "scaler.bud.studio/v1alpha1", "kind": "BudAIScaler",
        "metadata": {"name": name, "namespace": namespace, "uid": uid, "resourceVersion": "1", "generation": 1},
        "spec": spec
    })
}

/// A running, ready pod at `ip`, created `created_s` (Unix seconds) and ready 60 s later.
pub fn ready_pod(name: &str, ip: &str, created_s: i64) -> Value {
    let time = |s: i64| {
        chrono::DateTime::from_timestamp(s, 0)
            .unwrap()
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string()
    };
    json!({
        "metadata": {"name": name, "labels": {"app": "llama"}, "creationTimestamp": time(created_s)},
        "status": {"phase": "Running", "podIP": ip, "startTime": time(created_s + 1),
                   "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": time(created_s + 60)}]}
    })
}

/// A free TCP port on 127.0.0.1 (bound, then released for the caller).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Two ready pods `llama-1` and `llama-2` on 127.0.`net`.1 and .2 (created an hour
/// before `now_s`), each with a fake vLLM exporter on `port` serving `running` and
/// `waiting` requests.
pub async fn exporter_pods(
    net: u8,
    port: u16,
    running: f64,
    waiting: f64,
    now_s: i64,
) -> (Vec<Exporter>, Vec<Value>) {
    let mut exporters = Vec::new();
    let mut pods = Vec::new();
    for i in 1..=2 {
        let ip = format!("127.0.{net}.{i}");
        pods.push(ready_pod(&format!("llama-{i}"), &ip, now_s - 3600));
        let exporter = Exporter::start(&ip, port).await;
        exporter.set_vllm(running, waiting);
        exporters.push(exporter);
    }
    (exporters, pods)
}

/// A fake vLLM `/metrics` endpoint on `ip:port`; the test sets what it serves.
pub struct Exporter {
    pub text: Arc<Mutex<String>>,
    /// Answer this late (a slow endpoint).
    pub delay: Arc<Mutex<Duration>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Exporter {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Exporter {
    pub async fn start(ip: &str, port: u16) -> Exporter {
        let listener = tokio::net::TcpListener::bind((ip, port)).await.unwrap();
        let text = Arc::new(Mutex::new(String::new()));
        let delay = Arc::new(Mutex::new(Duration::ZERO));
        let (served, wait) = (text.clone(), delay.clone());
        let task = tokio::spawn(async move {
            // Connections live in the set, so stopping the exporter closes them too (the
            // operator's pooled keep-alive connections see the endpoint go down).
            let mut connections = tokio::task::JoinSet::new();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let (served, wait) = (served.clone(), wait.clone());
                connections.spawn(async move {
                    let service = hyper::service::service_fn(move |_request| {
                        let body = served.lock().unwrap().clone();
                        let delay = *wait.lock().unwrap();
                        async move {
                            tokio::time::sleep(delay).await;
                            Ok::<_, std::convert::Infallible>(Response::new(Full::new(
                                Bytes::from(body),
                            )))
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Exporter { text, delay, task }
    }

    /// Serves vLLM's gauges with `running` requests running and `waiting` waiting,
    /// rendered by the project's Prometheus renderer.
    pub fn set_vllm(&self, running: f64, waiting: f64) {
        *self.text.lock().unwrap() = vllm_text(running, waiting);
    }

    pub fn set_text(&self, text: &str) {
        *self.text.lock().unwrap() = text.to_string();
    }
}

/// vLLM's exposition text with the given gauges.
pub fn vllm_text(running: f64, waiting: f64) -> String {
    let gauge = |name: &str, value: f64| MetricFamily {
        name: name.to_string(),
        help: Some(format!("{name} (fake exporter)")),
        unit: None,
        kind: MetricKind::Gauge,
        samples: vec![Sample {
            name: name.to_string(),
            labels: vec![("model_name".to_string(), "llama".to_string())],
            value,
            timestamp_ms: None,
        }],
    };
    render_text(&Scrape {
        families: vec![
            gauge("vllm:num_requests_running", running),
            gauge("vllm:num_requests_waiting", waiting),
            gauge("vllm:gpu_cache_usage_perc", 0.3),
        ],
    })
}
