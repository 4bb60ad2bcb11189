//! The seed project's manifests parse, and every field of its CRD spec is accepted.
//!
//! The manifests below are our own re-typings of the seed's `config/samples` (same
//! fields and values), not copies; the seed-only quirks they contain are noted inline.

use engine::spec::{BudAIScaler, InferenceServer, MetricSourceType, MetricTarget, ScalingStrategy};
use engine::time::seconds;

fn yaml(text: &str) -> BudAIScaler {
    serde_saphyr::from_str(text).unwrap_or_else(|e| panic!("manifest parses: {e}"))
}

const SEED_HPA: &str = r#"
apiVersion: scaler.bud.studio/v1alpha1
kind: BudAIScaler
metadata:
  name: web-server-hpa
  namespace: default
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: web-server
  minReplicas: 2
  maxReplicas: 10
  scalingStrategy: HPA
  metricsSources:
    - metricSourceType: resource
      targetMetric: cpu
      targetValue: "80"
    - metricSourceType: resource
      targetMetric: memory
      targetValue: "70"
  behavior:
    scaleUp:
      stabilizationWindowSeconds: 30
      policies:
        - type: Pods
          value: 4
          periodSeconds: 15
    scaleDown:
      stabilizationWindowSeconds: 300
      policies:
        - type: Percent
          value: 10
          periodSeconds: 60
"#;

// The seed's KPA sample puts its knobs in annotations; `"60"` is not even a valid Go
// duration there. We keep annotations verbatim and read knobs from `kpaConfig` only.
const SEED_KPA: &str = r#"
apiVersion: scaler.bud.studio/v1alpha1
kind: BudAIScaler
metadata:
  name: api-gateway-kpa
  namespace: default
  annotations:
    scaler.bud.studio/panic-threshold: "200"
    scaler.bud.studio/panic-window: "60"
    scaler.bud.studio/stable-window: "180"
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: api-gateway
  minReplicas: 1
  maxReplicas: 20
  scalingStrategy: KPA
  metricsSources:
    - metricSourceType: pod
      targetMetric: requests_per_second
      targetValue: "100"
      port: "8080"
      path: /metrics
  behavior:
    scaleUp:
      stabilizationWindowSeconds: 0
    scaleDown:
      stabilizationWindowSeconds: 300
"#;

// The seed's full sample: `vgpuEnabled` and `maxSpotPercentage` are not in its CRD (its
// API server drops them); we accept both, `vgpuEnabled` as an alias of `vgpuSupport`.
const SEED_FULL: &str = r#"
apiVersion: scaler.bud.studio/v1alpha1
kind: BudAIScaler
metadata:
  name: llm-inference-full
  namespace: ai-production
  annotations:
    scaler.bud.studio/scale-up-rate: "2.0"
    scaler.bud.studio/scale-down-rate: "0.5"
    scaler.bud.studio/tolerance: "10"
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: llm-inference-server
  minReplicas: 2
  maxReplicas: 50
  scalingStrategy: BudScaler
  metricsSources:
    - metricSourceType: inferenceEngine
      targetMetric: gpu_cache_usage_perc
      targetValue: "70"
      inferenceEngineConfig:
        engineType: vllm
        metricsPort: 8000
        metricsPath: /metrics
    - metricSourceType: inferenceEngine
      targetMetric: num_requests_waiting
      targetValue: "10"
      inferenceEngineConfig:
        engineType: vllm
        metricsPort: 8000
    - metricSourceType: prometheus
      targetMetric: request_latency_p99
      targetValue: "2000"
      endpoint: http://prometheus.monitoring:9090
      promQL: |
        histogram_quantile(0.99,
          sum(rate(vllm_request_latency_bucket{namespace="ai-production"}[5m]))
          by (le, pod)
        )
  gpuConfig:
    enabled: true
    gpuMemoryThreshold: 80
    gpuComputeThreshold: 85
    topologyAware: true
    vgpuEnabled: false
  costConfig:
    enabled: true
    budgetPerHour: "100.00"
    preferSpotInstances: true
    maxSpotPercentage: 70
  predictionConfig:
    enabled: true
    lookAheadMinutes: 30
    historicalDataDays: 14
    enableLearning: true
  scheduleHints:
    - name: business-hours-start
      cronExpression: "0 8 * * 1-5"
      targetReplicas: 20
      duration: 12h
    - name: off-hours
      cronExpression: "0 20 * * 1-5"
      targetReplicas: 5
      duration: 12h
    - name: weekend
      cronExpression: "0 0 * * 0,6"
      targetReplicas: 2
      duration: 24h
  behavior:
    scaleUp:
      stabilizationWindowSeconds: 30
      selectPolicy: Max
      policies:
        - type: Pods
          value: 4
          periodSeconds: 30
        - type: Percent
          value: 100
          periodSeconds: 60
    scaleDown:
      stabilizationWindowSeconds: 300
      selectPolicy: Min
      policies:
        - type: Pods
          value: 2
          periodSeconds: 60
        - type: Percent
          value: 10
          periodSeconds: 120
"#;

/// Every property of the seed CRD's `spec` schema, plus a `status` as its controller
/// writes it.
const EVERY_SEED_FIELD: &str = r#"{
  "apiVersion": "scaler.bud.studio/v1alpha1",
  "kind": "BudAIScaler",
  "metadata": {"name": "all-fields", "namespace": "ns", "labels": {"app": "llm"},
               "annotations": {"note": "x"}, "uid": "0b7c", "resourceVersion": "12", "generation": 2},
  "spec": {
    "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "llm", "namespace": "ns",
                       "fieldPath": "spec", "resourceVersion": "7", "uid": "u-1"},
    "subTargetSelector": {"roleName": "decode"},
    "minReplicas": 1,
    "maxReplicas": 8,
    "scalingStrategy": "BudScaler",
    "metricsSources": [
      {"metricSourceType": "prometheus", "targetMetric": "queue", "targetValue": "5", "protocolType": "https",
       "endpoint": "https://prom:9090", "path": "/metrics", "port": "9090", "promQL": "sum(q)",
       "headers": {"Authorization": "Bearer t"}},
      {"metricSourceType": "inferenceEngine", "targetMetric": "num_requests_waiting", "targetValue": "3",
       "inferenceEngineConfig": {"engineType": "sglang", "metricsPort": 30000, "metricsPath": "/metrics"}}
    ],
    "gpuConfig": {"enabled": true, "gpuMemoryThreshold": 85, "gpuComputeThreshold": 75, "topologyAware": false,
                  "preferredGPUType": "nvidia-h100", "vgpuSupport": true},
    "costConfig": {"enabled": true, "cloudProvider": "gcp", "budgetPerHour": "12.5", "budgetPerDay": 300,
                   "preferSpotInstances": true, "spotFallbackToOnDemand": false,
                   "costOptimizationMode": "cost-optimized"},
    "predictionConfig": {"enabled": true, "lookAheadMinutes": 20, "historicalDataDays": 30, "enableLearning": false,
                         "predictionMetrics": ["queue"], "seasonalMetrics": ["num_requests_waiting"]},
    "scheduleHints": [{"name": "am", "cronExpression": "30 7 * * MON-FRI", "targetReplicas": 4, "duration": "2h30m"}],
    "multiClusterConfig": {"enabled": false, "federationMode": "active-passive", "targetClusters": ["a", "b"],
                           "clusterWeights": {"a": 3, "b": 1}, "failoverEnabled": false},
    "behavior": {
      "scaleUp": {"stabilizationWindowSeconds": 0, "selectPolicy": "Max",
                  "policies": [{"type": "Pods", "value": 2, "periodSeconds": 30}],
                  "maxScaleRate": "2.0", "tolerance": "0.05"},
      "scaleDown": {"stabilizationWindowSeconds": 120, "selectPolicy": "Min",
                    "policies": [{"type": "Percent", "value": 50, "periodSeconds": 60}],
                    "maxScaleRate": "4", "tolerance": "100m"}
    }
  },
  "status": {"desiredScale": 3, "actualScale": 3, "lastScaleTime": "2024-05-01T10:00:00Z",
             "conditions": [{"type": "Ready", "status": "True", "reason": "Ok", "message": "",
                             "lastTransitionTime": "2024-05-01T10:00:00Z"}],
             "scalingHistory": [{"timestamp": "2024-05-01T10:00:00Z", "previousScale": 2, "newScale": 3,
                                 "reason": "load", "algorithm": "BudScaler", "success": true}]}
}"#;

#[test]
fn seed_hpa_sample() {
    let scaler = yaml(SEED_HPA);
    let spec = scaler.resolved().unwrap();
    assert_eq!(scaler.name(), "web-server-hpa");
    assert_eq!(spec.strategy, ScalingStrategy::Hpa);
    assert_eq!((spec.min_replicas, spec.max_replicas), (2, 10));
    assert_eq!(
        spec.metrics[0].target,
        MetricTarget::Utilization { percent: 80 }
    );
    assert_eq!(
        spec.metrics[1].target,
        MetricTarget::Utilization { percent: 70 }
    );
    assert_eq!(spec.behavior.scale_up.stabilization_window, seconds(30));
    assert_eq!(spec.behavior.scale_down.policies.len(), 1);
    assert_eq!(spec.behavior.scale_down.policies[0].period, seconds(60));
}

#[test]
fn seed_kpa_sample() {
    let scaler = yaml(SEED_KPA);
    let spec = scaler.resolved().unwrap();
    assert_eq!(spec.strategy, ScalingStrategy::Kpa);
    assert_eq!(spec.metrics[0].source, MetricSourceType::Pod);
    assert_eq!(spec.metrics[0].port, Some(8080));
    assert_eq!(
        spec.metrics[0].target,
        MetricTarget::AverageValue { milli: 100_000 }
    );
    // Annotations are kept but do not configure anything.
    assert_eq!(
        scaler.metadata.annotations["scaler.bud.studio/stable-window"],
        "180"
    );
    assert_eq!(spec.kpa.stable_window, seconds(60));
}

#[test]
fn seed_full_sample() {
    let scaler = yaml(SEED_FULL);
    let spec = scaler.resolved().unwrap();
    assert_eq!(spec.strategy, ScalingStrategy::BudScaler);
    assert_eq!(spec.metrics.len(), 3);
    assert_eq!(
        spec.metrics[0].engine.as_ref().unwrap().engine_type,
        InferenceServer::Vllm
    );
    assert_eq!(
        spec.metrics[1].engine.as_ref().unwrap().metrics_path,
        "/metrics"
    );
    assert!(
        spec.metrics[2]
            .prom_ql
            .as_deref()
            .unwrap()
            .starts_with("histogram_quantile(0.99,")
    );
    assert!(spec.gpu.enabled && spec.gpu.topology_aware && !spec.gpu.vgpu_support);
    assert_eq!(spec.gpu.compute_threshold_percent, 85);
    assert_eq!(spec.cost.budget_per_hour_milli, Some(100_000));
    assert_eq!(spec.cost.max_spot_percentage, 70);
    assert_eq!(spec.prediction.look_ahead_minutes, 30);
    assert_eq!(spec.prediction.prediction_metrics, ["gpu_cache_usage_perc"]);
    assert_eq!(spec.schedule_hints.len(), 3);
    assert_eq!(spec.schedule_hints[2].duration, seconds(24 * 3600));
    assert!(spec.schedule_hints[2].schedule.matches(0, 0, 6, 7, 6));
}

#[test]
fn every_seed_crd_field_is_accepted() {
    let scaler: BudAIScaler = serde_json::from_str(EVERY_SEED_FIELD).unwrap();
    let spec = scaler.resolved().unwrap();
    assert_eq!(spec.target_role.as_deref(), Some("decode"));
    assert_eq!(spec.metrics[0].headers["Authorization"], "Bearer t");
    assert_eq!(spec.metrics[1].engine.as_ref().unwrap().metrics_port, 30000);
    assert_eq!(spec.cost.budget_per_day_milli, Some(300_000));
    assert!(!spec.cost.spot_fallback_to_on_demand);
    assert!(!spec.prediction.enable_learning);
    assert!(!spec.multi_cluster.failover_enabled);
    assert_eq!(spec.multi_cluster.cluster_weights["a"], 3);
    assert_eq!(spec.behavior.scale_up.tolerance, 0.05);
    assert_eq!(spec.behavior.scale_down.tolerance, 0.1);
    assert_eq!(spec.behavior.scale_up.max_scale_rate, Some(2.0));
    // The seed's deprecated rates feed KPA when `kpaConfig` leaves them out.
    assert_eq!(spec.kpa.max_scale_up_rate, 2.0);
    assert_eq!(spec.kpa.max_scale_down_rate, 4.0);
    assert_eq!(spec.schedule_hints[0].duration, seconds(9000));
    assert!(scaler.status.is_some());
}

#[test]
fn seed_percent_tolerance_is_rejected_not_guessed() {
    let text = SEED_HPA.replace(
        "      stabilizationWindowSeconds: 30\n",
        "      stabilizationWindowSeconds: 30\n      tolerance: \"10\"\n",
    );
    let err = yaml(&text).validate().unwrap_err().to_string();
    assert_eq!(
        err,
        r#"spec.behavior.scaleUp.tolerance: must be a ratio in 0..1, e.g. 0.1 for 10% (found "10")"#
    );
}
