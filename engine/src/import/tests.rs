//! The importer on the manifests users write (`scenarios/imports/`) and on every
//! refusal, each checked for the path it names.

use super::*;
use crate::Scaler;
use crate::spec::{MetricSourceType, MetricTarget, ScalingStrategy};
use crate::time::SECOND;

fn yaml(text: &str) -> Value {
    serde_saphyr::from_str(text).unwrap()
}

/// A manifest of `scenarios/imports/`, embedded at compile time (the engine reads no
/// files, not even in its tests).
macro_rules! import_file {
    ($name:literal) => {
        yaml(include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../scenarios/imports/",
            $name
        )))
    };
}

/// Imports, checks the result builds a scaler, returns it.
fn imported(value: &Value) -> Imported {
    let imported = import(value).unwrap();
    if let Err(error) = Scaler::new(&imported.manifest) {
        panic!("{error}\n{:#?}", imported.manifest);
    }
    imported
}

fn refused(value: &Value) -> (String, String) {
    match import(value) {
        Err(ImportError::Refused { path, message }) => (path, message),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn mapping_says(imported: &Imported, text: &str) {
    assert!(
        imported.mapping.iter().any(|line| line.contains(text)),
        "no mapping line contains {text:?}:\n{}",
        imported.mapping.join("\n")
    );
}

#[test]
fn hpa_pods_metric_and_behavior_map_one_to_one() {
    let i = imported(&import_file!("hpa.yaml"));
    assert_eq!(i.kind, ImportKind::HorizontalPodAutoscaler);
    assert_eq!(i.manifest.name(), "hpa-imported");
    let spec = i.manifest.spec.resolved().unwrap();
    assert_eq!(spec.strategy, ScalingStrategy::Hpa);
    assert_eq!((spec.min_replicas, spec.max_replicas), (1, 16));
    assert_eq!(spec.metrics[0].source, MetricSourceType::Pod);
    assert_eq!(spec.metrics[0].name, "vllm:num_requests_waiting");
    assert_eq!(
        spec.metrics[0].target,
        MetricTarget::AverageValue { milli: 4000 }
    );
    assert_eq!(spec.behavior.scale_down.stabilization_window, 120 * SECOND);
    assert_eq!(spec.behavior.scale_down.policies[0].value, 50);
    // Unwritten directions keep the HPA's defaults.
    assert_eq!(spec.behavior.scale_up.policies.len(), 2);
    mapping_says(
        &i,
        "spec.metrics[0]: Pods vllm:num_requests_waiting AverageValue 4 → metricsSources[0]: pod",
    );
    mapping_says(
        &i,
        "spec.behavior.scaleDown (stabilization 120s, Percent 50/30s) → behavior.scaleDown",
    );
}

#[test]
fn hpa_cpu_utilization_and_a_pods_metric_map_to_two_sources_with_min_default_1() {
    let i = imported(&import_file!("hpa-cpu-pods.yaml"));
    let spec = i.manifest.spec.resolved().unwrap();
    assert_eq!(spec.min_replicas, 1);
    assert_eq!(spec.metrics[0].source, MetricSourceType::Resource);
    assert_eq!(
        spec.metrics[0].target,
        MetricTarget::Utilization { percent: 70 }
    );
    assert_eq!(spec.metrics[1].name, "num_requests_running");
    mapping_says(&i, "spec.minReplicas 1 (default)");
    mapping_says(
        &i,
        "Resource cpu Utilization 70 → metricsSources[0]: resource cpu, Utilization 70",
    );
}

#[test]
fn hpa_without_metrics_gets_upstreams_cpu_default_and_external_maps() {
    let i = imported(&yaml(
        r#"
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: { name: h }
spec:
  scaleTargetRef: { apiVersion: apps/v1, kind: Deployment, name: llm }
  maxReplicas: 5
"#,
    ));
    let spec = i.manifest.spec.resolved().unwrap();
    assert_eq!(
        spec.metrics[0].target,
        MetricTarget::Utilization { percent: 80 }
    );
    let i = imported(&yaml(
        r#"
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: { name: h }
spec:
  scaleTargetRef: { kind: Deployment, name: llm }
  minReplicas: 0
  maxReplicas: 5
  metrics:
    - type: External
      external:
        metric: { name: queue_depth }
        target: { type: AverageValue, averageValue: 30 }
"#,
    ));
    let spec = i.manifest.spec.resolved().unwrap();
    assert_eq!(spec.metrics[0].source, MetricSourceType::External);
    assert_eq!(
        spec.metrics[0].target,
        MetricTarget::AverageValue { milli: 30_000 }
    );
    assert_eq!(spec.min_replicas, 0);
}

#[test]
fn hpa_refusals_name_their_path() {
    let (path, message) = refused(&import_file!("hpa-pods-selector.yaml"));
    assert_eq!(path, "spec.metrics[0].pods.metric.selector");
    assert!(message.contains("every series"), "{message}");
    let base = |metric: &str| {
        yaml(&format!(
            "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {{ name: h }}\nspec:\n  scaleTargetRef: {{ kind: Deployment, name: llm }}\n  maxReplicas: 5\n  metrics:\n    - {metric}\n"
        ))
    };
    for (metric, want) in [
        ("{ type: Object, object: {} }", "spec.metrics[0].type"),
        (
            "{ type: ContainerResource, containerResource: {} }",
            "spec.metrics[0].type",
        ),
        (
            "{ type: Pods, pods: { metric: { name: q }, target: { type: Value, value: 3 } } }",
            "spec.metrics[0].pods.target.type",
        ),
        (
            "{ type: Resource, resource: { name: gpu, target: { type: Utilization, averageUtilization: 5 } } }",
            "spec.metrics[0].resource.name",
        ),
        (
            "{ type: Resource, resource: { name: cpu, target: { type: Utilization } } }",
            "spec.metrics[0].resource.target.averageUtilization",
        ),
        (
            "{ type: Pods, pods: { metric: { name: q }, target: { type: AverageValue, averageValue: 1 } }, extra: 1 }",
            "spec.metrics[0].extra",
        ),
        (
            "{ type: External, external: { metric: { name: q, selector: { matchLabels: { a: b } } }, target: { type: Value, value: 1 } } }",
            "spec.metrics[0].external.metric.selector",
        ),
    ] {
        let (path, message) = refused(&base(metric));
        assert_eq!(path, want, "{metric}: {message}");
    }
    let (path, _) = refused(&yaml(
        "apiVersion: autoscaling/v1\nkind: HorizontalPodAutoscaler\nmetadata: { name: h }\n",
    ));
    assert_eq!(path, "apiVersion");
    let (path, _) = refused(&yaml("apiVersion: apps/v1\nkind: Deployment\n"));
    assert_eq!(path, "kind");
}

#[test]
fn keda_prometheus_and_cron_map_to_an_external_metric_and_a_hint() {
    let i = imported(&import_file!("keda.yaml"));
    assert_eq!(i.kind, ImportKind::KedaScaledObject);
    let spec = i.manifest.spec.resolved().unwrap();
    assert_eq!(spec.strategy, ScalingStrategy::Hpa);
    assert_eq!((spec.min_replicas, spec.max_replicas), (1, 16));
    let m = &spec.metrics[0];
    assert_eq!(m.source, MetricSourceType::External);
    assert_eq!(m.name, "vllm:num_requests_waiting");
    assert_eq!(m.target, MetricTarget::AverageValue { milli: 4000 });
    let hint = &spec.schedule_hints[0];
    assert_eq!(hint.name, "business-hours");
    assert_eq!(hint.target_replicas, 3);
    assert_eq!(hint.duration, (10 * 3600 + 30 * 60) * SECOND);
    assert_eq!(spec.behavior.scale_down.stabilization_window, 180 * SECOND);
    assert!(spec.needs_wall_clock());
    mapping_says(
        &i,
        "KEDA trigger 0 (prometheus `sum(vllm:num_requests_waiting{namespace=\"llm\", model_name=\"llama\"})`, threshold 4, metricType AverageValue) → metricsSources[0]: external vllm:num_requests_waiting, AverageValue 4: ceil(total ÷ 4) replicas",
    );
    mapping_says(
        &i,
        "→ scheduleHints[0] business-hours: cronExpression `0 8 * * 1-5`, duration 10h30m, targetReplicas 3, timeZone Europe/Berlin",
    );
    mapping_says(&i, "spec.pollingInterval 15s → not a manifest field");
}

fn keda(spec: &str) -> Value {
    yaml(&format!(
        "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata: {{ name: k }}\nspec:\n  scaleTargetRef: {{ name: llm }}\n{spec}"
    ))
}

const PROM: &str = "    - type: prometheus\n      metadata: { serverAddress: http://p:9090, query: 'sum(vllm:num_requests_waiting)', threshold: '4' }\n";

#[test]
fn keda_defaults_value_avg_rates_cpu_and_a_cron_past_midnight() {
    // minReplicaCount 0 and maxReplicaCount 100 by default; sum() keeps scale to zero.
    let i = imported(&keda(&format!("  triggers:\n{PROM}")));
    let spec = i.manifest.spec.resolved().unwrap();
    assert_eq!((spec.min_replicas, spec.max_replicas), (0, 100));
    mapping_says(&i, "spec.cooldownPeriod 300s (KEDA's default)");
    // metricType Value on sum; avg with Value is the per-pod average; rates.
    let i = imported(&keda(
        "  minReplicaCount: 1\n  cooldownPeriod: 60\n  triggers:\n    - type: prometheus\n      metricType: Value\n      metadata: { query: 'sum(x)', threshold: '10' }\n    - type: prometheus\n      metricType: Value\n      metadata: { query: 'avg(vllm:kv_cache_usage_perc)', threshold: '0.8' }\n    - type: prometheus\n      metadata: { query: 'sum(rate(vllm:request_success_total[1m]))', threshold: '2' }\n    - type: cpu\n      metricType: Utilization\n      metadata: { value: '60' }\n    - type: cron\n      metadata: { timezone: UTC, start: 0 22 * * *, end: 30 1 * * *, desiredReplicas: '2' }\n",
    ));
    let spec = i.manifest.spec.resolved().unwrap();
    assert_eq!(
        spec.metrics[0].target,
        MetricTarget::Value { milli: 10_000 }
    );
    assert_eq!(spec.metrics[0].source, MetricSourceType::External);
    assert_eq!(spec.metrics[1].source, MetricSourceType::Pod);
    assert_eq!(
        spec.metrics[1].target,
        MetricTarget::AverageValue { milli: 800 }
    );
    assert_eq!(spec.metrics[2].name, "vllm:request_success_total");
    assert_eq!(spec.metrics[3].source, MetricSourceType::Resource);
    assert_eq!(spec.schedule_hints[0].name, "cron-4");
    assert_eq!(
        spec.schedule_hints[0].duration,
        (3 * 3600 + 30 * 60) * SECOND
    );
    mapping_says(&i, "spec.cooldownPeriod 60s → dropped");
    mapping_says(&i, "not [1m]");
    mapping_says(&i, "duration 3h30m (past midnight)");
}

#[test]
fn keda_refusals_name_their_path() {
    let (path, message) = refused(&import_file!("keda-unmappable.yaml"));
    assert_eq!(path, "spec.triggers[1].metadata.query");
    assert!(message.contains("unexpected"), "{message}");
    for (spec, want) in [
        // Scale to zero needs a workload-level metric.
        (
            "  triggers:\n    - type: cpu\n      metadata: { value: '60' }\n".to_string(),
            "spec.minReplicaCount",
        ),
        (format!("  cooldownPeriod: 30\n  triggers:\n{PROM}"), "spec.cooldownPeriod"),
        (
            format!("  minReplicaCount: 1\n  fallback: {{ failureThreshold: 3, replicas: 6 }}\n  triggers:\n{PROM}"),
            "spec.fallback",
        ),
        (format!("  idleReplicaCount: 0\n  triggers:\n{PROM}"), "spec.idleReplicaCount"),
        (
            format!("  advanced: {{ scalingModifiers: {{ formula: a }} }}\n  triggers:\n{PROM}"),
            "spec.advanced.scalingModifiers",
        ),
        (
            "  minReplicaCount: 1\n  triggers:\n    - type: prometheus\n      metadata: { query: 'avg(x)', threshold: '3' }\n".to_string(),
            "spec.triggers[0].metadata.query",
        ),
        (
            "  minReplicaCount: 1\n  triggers:\n    - type: prometheus\n      metadata: { query: 'max(x)', threshold: '3' }\n".to_string(),
            "spec.triggers[0].metadata.query",
        ),
        (
            "  triggers:\n    - type: prometheus\n      metadata: { query: 'sum(x)', threshold: '3', activationThreshold: '1' }\n".to_string(),
            "spec.triggers[0].metadata.activationThreshold",
        ),
        (
            "  triggers:\n    - type: kafka\n      metadata: {}\n".to_string(),
            "spec.triggers[0].type",
        ),
        (
            "  triggers:\n    - type: cron\n      metadata: { timezone: UTC, start: 0 8 * * *, end: 0 9 * * *, desiredReplicas: '2' }\n".to_string(),
            "spec.triggers",
        ),
        (
            format!("  triggers:\n{PROM}    - type: cron\n      metadata: {{ timezone: UTC, start: 0 8 * * 1-5, end: 0 9 * * *, desiredReplicas: '2' }}\n"),
            "spec.triggers[1].metadata.end",
        ),
        (
            format!("  triggers:\n{PROM}    - type: cron\n      metadata: {{ timezone: UTC, start: '*/5 8 * * *', end: 0 9 * * *, desiredReplicas: '2' }}\n"),
            "spec.triggers[1].metadata.start",
        ),
        (
            format!("  triggers:\n{PROM}    - type: cron\n      metadata: {{ timezone: UTC, start: 0 22 * * 1-5, end: 0 2 * * 1-5, desiredReplicas: '2' }}\n"),
            "spec.triggers[1].metadata.end",
        ),
        (
            format!("  triggers:\n{PROM}    - type: prometheus\n      metadata: {{ query: 'sum(x)', threshold: '3', unknownKey: 1 }}\n"),
            "spec.triggers[1].metadata.unknownKey",
        ),
        (
            format!("  initialCooldownPeriod: 60\n  triggers:\n{PROM}"),
            "spec.initialCooldownPeriod",
        ),
        (
            format!("  maxReplicaCount: 4\n  triggers:\n{PROM}    - type: cron\n      metadata: {{ timezone: UTC, start: 0 8 * * *, end: 0 9 * * *, desiredReplicas: '6' }}\n"),
            "spec.triggers[1].metadata.desiredReplicas",
        ),
        (
            "  triggers:\n    - type: prometheus\n      metadata: { query: 'sum(irate(x_total[1m]))', threshold: '3' }\n    - type: prometheus\n      metricType: Utilization\n      metadata: { query: 'sum(x)', threshold: '3' }\n".to_string(),
            "spec.triggers[1].metricType",
        ),
    ] {
        let (path, message) = refused(&keda(&spec));
        assert_eq!(path, want, "{spec}: {message}");
    }
}

fn knative(annotations: &str) -> Value {
    yaml(&format!(
        "apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata: {{ name: kn }}\nspec:\n  template:\n    metadata:\n      annotations:\n{annotations}    spec:\n      containerConcurrency: 0\n"
    ))
}

#[test]
fn knative_default_kpa_on_concurrency_multiplies_target_by_utilization() {
    let i = imported(&import_file!("knative.yaml"));
    assert_eq!(i.kind, ImportKind::KnativeService);
    let spec = i.manifest.spec.resolved().unwrap();
    assert_eq!(spec.strategy, ScalingStrategy::Kpa);
    assert_eq!(spec.metrics[0].name, "concurrency");
    // 16 × 70%.
    assert_eq!(
        spec.metrics[0].target,
        MetricTarget::AverageValue { milli: 11_200 }
    );
    assert_eq!((spec.min_replicas, spec.max_replicas), (1, 16));
    mapping_says(
        &i,
        "target-utilization-percentage 70 (Knative's default) → metricsSources[0]: pod concurrency, AverageValue 11.2",
    );
    // Knative's defaults: target 100, utilization 70, min-scale 0 (scale to zero).
    let i = imported(&knative("        autoscaling.knative.dev/max-scale: '4'\n"));
    let spec = i.manifest.spec.resolved().unwrap();
    assert_eq!(
        spec.metrics[0].target,
        MetricTarget::AverageValue { milli: 70_000 }
    );
    assert_eq!(spec.min_replicas, 0);
    // containerConcurrency is the target without an annotation, and caps one.
    let cc = |annotations: &str| {
        let mut v = knative(annotations);
        v["spec"]["template"]["spec"]["containerConcurrency"] = 10.into();
        imported(&v).manifest.spec.resolved().unwrap().metrics[0].target
    };
    assert_eq!(
        cc("        autoscaling.knative.dev/max-scale: '4'\n"),
        MetricTarget::AverageValue { milli: 7_000 }
    );
    assert_eq!(
        cc(
            "        autoscaling.knative.dev/max-scale: '4'\n        autoscaling.knative.dev/target: '50'\n"
        ),
        MetricTarget::AverageValue { milli: 7_000 }
    );
}

#[test]
fn knative_rps_and_kpa_knobs_map_to_kpa_config() {
    let i = imported(&import_file!("knative-rps.yaml"));
    let spec = i.manifest.spec.resolved().unwrap();
    assert_eq!(spec.metrics[0].name, "requests_per_second");
    assert_eq!(
        spec.metrics[0].target,
        MetricTarget::AverageValue { milli: 4_000 }
    );
    assert_eq!(spec.kpa.stable_window, 120 * SECOND);
    assert_eq!(spec.kpa.scale_down_delay, 120 * SECOND);
    mapping_says(
        &i,
        "[\"autoscaling.knative.dev/window\"] 120s → kpaConfig.stableWindow",
    );
    let i = imported(&knative(
        "        autoscaling.knative.dev/maxScale: '8'\n        autoscaling.knative.dev/minScale: '2'\n        autoscaling.knative.dev/initial-scale: '3'\n        autoscaling.knative.dev/panic-window-percentage: '20'\n        autoscaling.knative.dev/panic-threshold-percentage: '300'\n        autoscaling.knative.dev/activation-scale: '2'\n        autoscaling.knative.dev/scale-to-zero-pod-retention-period: 1m\n        autoscaling.knative.dev/target-burst-capacity: '0'\n",
    ));
    let spec = i.manifest.spec.resolved().unwrap();
    assert_eq!((spec.min_replicas, spec.max_replicas), (2, 8));
    assert_eq!(spec.kpa.initial_scale, 3);
    assert_eq!(spec.kpa.panic_window_percentage, 20.0);
    assert_eq!(spec.kpa.activation_scale, 2);
    assert_eq!(spec.kpa.target_burst_capacity, 0.0);
}

#[test]
fn knative_hpa_class_maps_cpu_and_memory() {
    let i = imported(&import_file!("knative-hpa-cpu.yaml"));
    let spec = i.manifest.spec.resolved().unwrap();
    assert_eq!(spec.strategy, ScalingStrategy::Hpa);
    assert_eq!(
        spec.metrics[0].target,
        MetricTarget::Utilization { percent: 75 }
    );
    assert_eq!((spec.min_replicas, spec.max_replicas), (1, 10));
    let i = imported(&knative(
        "        autoscaling.knative.dev/class: hpa.autoscaling.knative.dev\n        autoscaling.knative.dev/metric: memory\n        autoscaling.knative.dev/target: '512'\n        autoscaling.knative.dev/max-scale: '4'\n",
    ));
    let spec = i.manifest.spec.resolved().unwrap();
    assert_eq!(
        spec.metrics[0].target,
        MetricTarget::AverageValue {
            milli: 512 * 1024 * 1024 * 1000
        }
    );
    assert_eq!(spec.min_replicas, 1);
    mapping_says(&i, "class hpa does not scale to zero");
}

#[test]
fn knative_refusals_name_their_path() {
    let key =
        |k: &str| format!("spec.template.metadata.annotations[\"autoscaling.knative.dev/{k}\"]");
    for (annotations, want) in [
        (
            "        autoscaling.knative.dev/target: '10'\n",
            key("max-scale"),
        ),
        (
            "        autoscaling.knative.dev/max-scale: '4'\n        autoscaling.knative.dev/metric: cpu\n",
            key("metric"),
        ),
        (
            "        autoscaling.knative.dev/max-scale: '4'\n        autoscaling.knative.dev/class: hpa.autoscaling.knative.dev\n",
            key("target"),
        ),
        (
            "        autoscaling.knative.dev/max-scale: '4'\n        autoscaling.knative.dev/class: hpa.autoscaling.knative.dev\n        autoscaling.knative.dev/target: '50'\n        autoscaling.knative.dev/window: 60s\n",
            key("window"),
        ),
        (
            "        autoscaling.knative.dev/max-scale: '4'\n        autoscaling.knative.dev/class: custom.example.com\n",
            key("class"),
        ),
        (
            "        autoscaling.knative.dev/max-scale: '4'\n        autoscaling.knative.dev/class: hpa.autoscaling.knative.dev\n        autoscaling.knative.dev/metric: concurrency\n        autoscaling.knative.dev/target: '10'\n",
            key("metric"),
        ),
        (
            "        autoscaling.knative.dev/max-scale: '4'\n        autoscaling.knative.dev/stable-window: 60s\n",
            key("stable-window"),
        ),
        (
            "        autoscaling.knative.dev/max-scale: '4'\n        autoscaling.knative.dev/target-utilization-percentage: '150'\n",
            key("target-utilization-percentage"),
        ),
    ] {
        let (path, message) = refused(&knative(annotations));
        assert_eq!(path, want, "{annotations}: {message}");
    }
}

#[test]
fn a_budaiscaler_passes_through_and_bad_ones_say_why() {
    let text = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../scenarios/scalers/budscaler.yaml"
    ));
    let value = yaml(text);
    let i = import(&value).unwrap();
    assert_eq!(i.kind, ImportKind::BudAIScaler);
    assert!(i.mapping.is_empty());
    let direct: crate::spec::BudAIScaler = serde_saphyr::from_str(text).unwrap();
    assert_eq!(i.manifest, direct);
    let error = import(&yaml(
        "apiVersion: scaler.bud.studio/v1alpha1\nkind: BudAIScaler\nspec: { bogus: 1 }\n",
    ))
    .unwrap_err();
    assert!(matches!(error, ImportError::Manifest(_)), "{error}");
    assert!(error.to_string().contains("bogus"), "{error}");
}

mod identity {
    use super::*;
    use proptest::prelude::*;

    fn manifests() -> impl Strategy<Value = Value> {
        (
            proptest::option::of(0i32..4),
            1i32..50,
            prop_oneof![Just("HPA"), Just("KPA"), Just("BudScaler")],
            proptest::collection::vec(("[a-z_:]{1,20}", 1u32..100_000), 0..3),
            proptest::option::of((0i32..3600, prop_oneof![Just("Max"), Just("Min")])),
            proptest::collection::btree_map("[a-z]{1,8}", "[a-z0-9 ]{0,8}", 0..3),
        )
            .prop_map(|(min, max, strategy, metrics, behavior, labels)| {
                let mut v = serde_json::json!({
                    "apiVersion": crate::spec::API_VERSION,
                    "kind": crate::spec::KIND,
                    "metadata": {"name": "p", "labels": labels},
                    "spec": {
                        "scaleTargetRef": {"kind": "Deployment", "name": "llm"},
                        "maxReplicas": max,
                        "scalingStrategy": strategy,
                        "metricsSources": metrics.iter().map(|(name, milli)| serde_json::json!({
                            "metricSourceType": "pod", "targetMetric": name, "targetValue": format!("{milli}m")
                        })).collect::<Vec<_>>(),
                    }
                });
                if let Some(min) = min {
                    v["spec"]["minReplicas"] = min.into();
                }
                if let Some((window, select)) = behavior {
                    v["spec"]["behavior"] = serde_json::json!({"scaleDown": {"stabilizationWindowSeconds": window, "selectPolicy": select}});
                }
                v
            })
    }

    proptest! {
        #[test]
        fn importing_a_budaiscaler_is_the_identity(value in manifests()) {
            let direct: crate::spec::BudAIScaler = serde_json::from_value(value.clone()).unwrap();
            let i = import(&value).unwrap();
            prop_assert_eq!(i.kind, ImportKind::BudAIScaler);
            prop_assert!(i.mapping.is_empty());
            prop_assert_eq!(serde_json::to_value(&i.manifest).unwrap(), serde_json::to_value(&direct).unwrap());
            prop_assert_eq!(i.manifest, direct);
        }
    }
}
