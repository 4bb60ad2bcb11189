//! Left-out fields take the documented defaults; written values, `false` included, stay.

use engine::spec::{
    BudAIScaler, CostOptimizationMode, FederationMode, PolicyType, Protocol, ResolvedPolicy,
    ScalingStrategy, SelectPolicy, defaults,
};
use engine::time::{Micros, seconds};

fn resolve(yaml: &str) -> engine::spec::ResolvedSpec {
    let scaler: BudAIScaler = serde_saphyr::from_str(yaml).unwrap();
    scaler.resolved().unwrap_or_else(|e| panic!("valid:\n{e}"))
}

const MINIMAL: &str = "
apiVersion: scaler.bud.studio/v1alpha1
kind: BudAIScaler
metadata: { name: minimal }
spec:
  scaleTargetRef: { kind: Deployment, name: llm }
  maxReplicas: 4
  metricsSources:
    - { metricSourceType: inferenceEngine, targetMetric: num_requests_waiting, targetValue: 5, inferenceEngineConfig: { engineType: vllm } }
";

#[test]
fn a_minimal_manifest_gets_every_default() {
    let spec = resolve(MINIMAL);
    assert_eq!(spec.min_replicas, 1);
    assert_eq!(spec.strategy, ScalingStrategy::BudScaler);
    let metric = &spec.metrics[0];
    assert_eq!(metric.protocol, Protocol::Http);
    assert_eq!(metric.path, "/metrics");
    let engine = metric.engine.as_ref().unwrap();
    assert_eq!(
        (engine.metrics_port, engine.metrics_path.as_str()),
        (8000, "/metrics")
    );

    // Kubernetes HPA behavior defaults.
    let up = &spec.behavior.scale_up;
    assert_eq!(up.stabilization_window, 0);
    assert_eq!(up.select_policy, SelectPolicy::Max);
    assert_eq!(
        up.policies,
        [
            ResolvedPolicy {
                kind: PolicyType::Pods,
                value: 4,
                period: seconds(15)
            },
            ResolvedPolicy {
                kind: PolicyType::Percent,
                value: 100,
                period: seconds(15)
            },
        ]
    );
    assert_eq!(up.tolerance, 0.1);
    assert_eq!(up.max_scale_rate, None);
    let down = &spec.behavior.scale_down;
    assert_eq!(down.stabilization_window, seconds(300));
    assert_eq!(down.select_policy, SelectPolicy::Max);
    assert_eq!(
        down.policies,
        [ResolvedPolicy {
            kind: PolicyType::Percent,
            value: 100,
            period: seconds(15)
        }]
    );
    assert_eq!(down.tolerance, 0.1);

    // Knative defaults.
    let kpa = &spec.kpa;
    assert_eq!(kpa.stable_window, seconds(60));
    assert_eq!(kpa.panic_window_percentage, 10.0);
    assert_eq!(kpa.panic_window(), seconds(6));
    assert_eq!(kpa.panic_threshold_percentage, 200.0);
    assert_eq!(kpa.panic_threshold_ratio(), 2.0);
    assert_eq!(
        (kpa.max_scale_up_rate, kpa.max_scale_down_rate),
        (1000.0, 2.0)
    );
    assert_eq!(kpa.target_burst_capacity, 211.0);
    assert_eq!(kpa.scale_to_zero_grace_period, seconds(30));
    assert_eq!(
        (kpa.scale_down_delay, kpa.scale_to_zero_pod_retention_period),
        (0, 0)
    );
    assert_eq!((kpa.activation_scale, kpa.initial_scale), (1, 1));
    assert!(!kpa.allow_zero_initial_scale);

    // BudScaler hints.
    assert!(!spec.prediction.enabled);
    assert!(spec.prediction.enable_learning);
    assert_eq!(
        (
            spec.prediction.look_ahead_minutes,
            spec.prediction.historical_data_days
        ),
        (15, 7)
    );
    assert_eq!(spec.prediction.prediction_metrics, ["num_requests_waiting"]);
    assert_eq!(spec.prediction.seasonal_metrics, ["num_requests_waiting"]);
    assert!(!spec.gpu.enabled && !spec.gpu.topology_aware && !spec.gpu.vgpu_support);
    assert_eq!(
        (
            spec.gpu.memory_threshold_percent,
            spec.gpu.compute_threshold_percent
        ),
        (80, 80)
    );
    assert!(
        !spec.cost.enabled
            && !spec.cost.prefer_spot_instances
            && spec.cost.spot_fallback_to_on_demand
    );
    assert_eq!(spec.cost.mode, CostOptimizationMode::Balanced);
    assert_eq!(spec.cost.max_spot_percentage, 100);
    assert_eq!(
        spec.multi_cluster.federation_mode,
        FederationMode::LoadBalanced
    );
    assert!(!spec.multi_cluster.enabled && spec.multi_cluster.failover_enabled);
    assert!(spec.schedule_hints.is_empty());
}

#[test]
fn defaults_module_agrees_with_the_resolved_spec() {
    let spec = resolve(MINIMAL);
    assert_eq!(spec.behavior.scale_up.policies, defaults::SCALE_UP_POLICIES);
    assert_eq!(
        spec.behavior.scale_down.policies,
        defaults::SCALE_DOWN_POLICIES
    );
    assert_eq!(spec.kpa.stable_window, defaults::KPA_STABLE_WINDOW);
    assert_eq!(
        spec.kpa.target_burst_capacity,
        defaults::KPA_TARGET_BURST_CAPACITY
    );
}

#[test]
fn a_written_false_stays_false() {
    let yaml = format!(
        "{MINIMAL}  costConfig: {{ spotFallbackToOnDemand: false }}\n  predictionConfig: {{ enableLearning: false }}\n  multiClusterConfig: {{ failoverEnabled: false }}\n"
    );
    let scaler: BudAIScaler = serde_saphyr::from_str(&yaml).unwrap();
    let spec = scaler.resolved().unwrap();
    assert!(!spec.cost.spot_fallback_to_on_demand);
    assert!(!spec.prediction.enable_learning);
    assert!(!spec.multi_cluster.failover_enabled);
    // The manifest layer keeps what was written, and says so after a round trip.
    let cost = scaler.spec.cost_config.as_ref().unwrap();
    assert_eq!(cost.spot_fallback_to_on_demand, Some(false));
    assert!(!cost.spot_fallback_to_on_demand());
    let json = serde_json::to_string(&scaler).unwrap();
    assert!(json.contains(r#""spotFallbackToOnDemand":false"#), "{json}");
    let back: BudAIScaler = serde_json::from_str(&json).unwrap();
    assert!(!back.resolved().unwrap().cost.spot_fallback_to_on_demand);
}

#[test]
fn written_zeroes_stay_zero() {
    let yaml = format!(
        "{}  behavior:\n    scaleDown: {{ stabilizationWindowSeconds: 0, tolerance: 0 }}\n",
        MINIMAL.replace("maxReplicas: 4", "minReplicas: 0\n  maxReplicas: 4")
    );
    let spec = resolve(&yaml);
    assert_eq!(spec.min_replicas, 0);
    assert_eq!(spec.behavior.scale_down.stabilization_window, 0);
    assert_eq!(spec.behavior.scale_down.tolerance, 0.0);
}

#[test]
fn rules_default_field_by_field() {
    // Only the window is written: the default policies still apply, as in Kubernetes.
    let yaml = format!("{MINIMAL}  behavior:\n    scaleUp: {{ stabilizationWindowSeconds: 45 }}\n");
    let up = resolve(&yaml).behavior.scale_up;
    assert_eq!(up.stabilization_window, seconds(45));
    assert_eq!(up.policies, defaults::SCALE_UP_POLICIES);
}

#[test]
fn durations_accept_go_strings_and_integer_seconds() {
    let yaml = format!(
        "{MINIMAL}  kpaConfig: {{ stableWindow: 2m, scaleToZeroGracePeriod: 45, scaleDownDelay: 1m30s, panicWindowPercentage: 5 }}\n"
    );
    let kpa = resolve(&yaml).kpa;
    assert_eq!(kpa.stable_window, seconds(120));
    assert_eq!(kpa.scale_to_zero_grace_period, seconds(45));
    assert_eq!(kpa.scale_down_delay, seconds(90));
    assert_eq!(kpa.panic_window(), seconds(6));
}

#[test]
fn panic_window_never_drops_below_one_bucket() {
    let yaml = format!("{MINIMAL}  kpaConfig: {{ stableWindow: 6s, panicWindowPercentage: 1 }}\n");
    assert_eq!(resolve(&yaml).kpa.panic_window(), seconds(1) as Micros);
}

#[test]
fn resource_quantities_are_milli_units() {
    let yaml = MINIMAL.replace(
        "    - { metricSourceType: inferenceEngine, targetMetric: num_requests_waiting, targetValue: 5, inferenceEngineConfig: { engineType: vllm } }",
        "    - { metricSourceType: resource, targetMetric: cpu, targetType: AverageValue, targetValue: 500m }
    - { metricSourceType: resource, targetMetric: memory, targetType: AverageValue, targetValue: 1Gi }
    - { metricSourceType: external, targetMetric: queue, targetValue: 1.5 }",
    );
    let spec = resolve(&yaml);
    use engine::spec::MetricTarget::*;
    assert_eq!(spec.metrics[0].target, AverageValue { milli: 500 });
    assert_eq!(
        spec.metrics[1].target,
        AverageValue {
            milli: 1_073_741_824_000
        }
    );
    assert_eq!(spec.metrics[2].target, Value { milli: 1500 });
}

#[test]
fn calendar_time_is_needed_by_budscaler_schedule_hints_and_the_seasonal_predictor_only() {
    assert!(!resolve(MINIMAL).needs_wall_clock());
    let hints = "  scheduleHints:\n    - { name: day, cronExpression: \"0 8 * * 1-5\", targetReplicas: 2, duration: 10h }\n";
    let prediction = "  predictionConfig: { enabled: true, predictor: seasonal }\n";
    assert!(resolve(&format!("{MINIMAL}{hints}")).needs_wall_clock());
    assert!(resolve(&format!("{MINIMAL}{prediction}")).needs_wall_clock());
    assert!(
        !resolve(&format!(
            "{MINIMAL}  predictionConfig: {{ enabled: true }}\n"
        ))
        .needs_wall_clock(),
        "combined uses the seasonal profile only when calendar time is known"
    );
    assert!(
        !resolve(&format!(
            "{MINIMAL}  predictionConfig: {{ enabled: false }}\n"
        ))
        .needs_wall_clock()
    );
    let hpa = MINIMAL.replace("maxReplicas: 4", "maxReplicas: 4\n  scalingStrategy: HPA");
    assert!(!resolve(&hpa).needs_wall_clock());
}
