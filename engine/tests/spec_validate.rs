//! Validation reports every problem of a manifest at once, each with its path.

use engine::spec::BudAIScaler;

fn parse(yaml: &str) -> BudAIScaler {
    serde_saphyr::from_str(yaml).expect("test manifest parses")
}

fn problems(yaml: &str) -> Vec<String> {
    parse(yaml)
        .validate()
        .expect_err("manifest should be invalid")
        .lines()
}

const VALID_HPA: &str = "
apiVersion: scaler.bud.studio/v1alpha1
kind: BudAIScaler
metadata: { name: web }
spec:
  scaleTargetRef: { kind: Deployment, name: web }
  maxReplicas: 10
  scalingStrategy: HPA
  metricsSources:
    - { metricSourceType: resource, targetMetric: cpu, targetValue: '80' }
";

#[test]
fn many_problems_are_reported_at_once() {
    let yaml = r#"
apiVersion: scaler.bud.studio/v1beta1
kind: BudAIScaler
metadata:
  name: Bad_Name
spec:
  scaleTargetRef:
    kind: Deployment
  minReplicas: 5
  maxReplicas: 3
  scalingStrategy: HPA
  metricsSources:
    - metricSourceType: inferenceEngine
      targetMetric: num_requests_waiting
      targetValue: "ten"
      inferenceEngineConfig:
        engineType: llamacpp
    - metricSourceType: resource
      targetMetric: gpu
      targetValue: "80.5"
  scheduleHints:
    - name: morning
      cronExpression: "0 25 * * *"
      targetReplicas: 2
      duration: "60"
  behavior:
    scaleUp:
      stabilizationWindowSeconds: 4000
      policies:
        - type: Pods
          value: 4
          periodSeconds: 15
        - type: Percent
          value: 0
          periodSeconds: 0
      tolerance: "10"
    scaleDown:
      selectPolicy: Min
      policies: []
  kpaConfig:
    panicThresholdPercentage: 2
"#;
    let expected = [
        r#"apiVersion: must be scaler.bud.studio/v1alpha1 (found "scaler.bud.studio/v1beta1")"#,
        r#"metadata.name: must be a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters (found "Bad_Name")"#,
        "spec.scaleTargetRef.name: is required",
        "spec.minReplicas: must be <= maxReplicas (found 5 > 3)",
        r#"spec.metricsSources[0].targetValue: not a Kubernetes quantity (found "ten"): expected a number with an optional suffix, such as 500m, 2, 0.1, 1.5Gi or 1e3"#,
        r#"spec.metricsSources[0].inferenceEngineConfig.engineType: must be one of vllm, tgi, sglang, triton (found "llamacpp")"#,
        r#"spec.metricsSources[1].targetMetric: must be cpu or memory for metricSourceType resource (found "gpu")"#,
        r#"spec.metricsSources[1].targetValue: must be a whole percentage >= 1 for targetType Utilization (found "80.5")"#,
        r#"spec.scheduleHints[0].cronExpression: invalid cron expression "0 25 * * *": hour field: 25 is out of range 0..=23"#,
        r#"spec.scheduleHints[0].duration: duration "60" has no unit: write "60s" for seconds"#,
        "spec.behavior.scaleUp.stabilizationWindowSeconds: must be in 0..=3600 (found 4000)",
        "spec.behavior.scaleUp.policies[1].value: must be >= 1 (found 0)",
        "spec.behavior.scaleUp.policies[1].periodSeconds: must be in 1..=1800 (found 0)",
        r#"spec.behavior.scaleUp.tolerance: must be a ratio in 0..1, e.g. 0.1 for 10% (found "10")"#,
        "spec.behavior.scaleDown.policies: must list at least one policy unless selectPolicy is Disabled",
        "spec.kpaConfig.panicThresholdPercentage: must be in 110..=1000 (found 2)",
        "spec.kpaConfig: applies only to scalingStrategy KPA or BudScaler (found HPA)",
    ];
    let err = parse(yaml).validate().unwrap_err();
    assert_eq!(err.lines(), expected);
    assert_eq!(err.to_string(), expected.join("\n"));
}

#[test]
fn a_valid_manifest_passes() {
    parse(VALID_HPA).validate().unwrap();
}

#[test]
fn empty_spec_names_each_required_field() {
    let yaml = "apiVersion: scaler.bud.studio/v1alpha1\nkind: BudAIScaler\nmetadata: { name: x }\nspec: {}\n";
    assert_eq!(
        problems(yaml),
        [
            "spec.scaleTargetRef: is required",
            "spec.maxReplicas: is required",
            "spec.metricsSources: at least one metric source or schedule hint is required for scalingStrategy BudScaler",
        ]
    );
}

#[test]
fn missing_header_fields_say_what_is_expected() {
    let yaml = "metadata: {}\nspec: { scaleTargetRef: { kind: Deployment, name: a }, maxReplicas: 2, scalingStrategy: KPA, metricsSources: [ { metricSourceType: pod, targetMetric: concurrency, targetValue: 10 } ] }";
    assert_eq!(
        problems(yaml),
        [
            "apiVersion: is required (expected scaler.bud.studio/v1alpha1)",
            "kind: is required (expected BudAIScaler)",
            "metadata.name: is required"
        ]
    );
}

#[test]
fn zero_min_replicas_depends_on_the_strategy() {
    let hpa_zero = VALID_HPA.replace("maxReplicas: 10", "minReplicas: 0\n  maxReplicas: 10");
    assert_eq!(
        problems(&hpa_zero),
        [
            "spec.minReplicas: 0 needs scalingStrategy KPA or BudScaler, or an external metric source with HPA (found 0)"
        ]
    );
    let hpa_external = hpa_zero.replace(
        "{ metricSourceType: resource, targetMetric: cpu, targetValue: '80' }",
        "{ metricSourceType: external, targetMetric: queue_depth, targetValue: '30', endpoint: 'http://lb/metrics' }",
    );
    parse(&hpa_external).validate().unwrap();
    let kpa_zero = hpa_zero.replace("scalingStrategy: HPA", "scalingStrategy: KPA");
    parse(&kpa_zero).validate().unwrap();
    let budscaler_zero = hpa_zero.replace("scalingStrategy: HPA", "scalingStrategy: BudScaler");
    parse(&budscaler_zero).validate().unwrap();
}

#[test]
fn hpa_and_kpa_need_a_metric_source() {
    for strategy in ["HPA", "KPA"] {
        let yaml = format!(
            "apiVersion: scaler.bud.studio/v1alpha1\nkind: BudAIScaler\nmetadata: {{ name: a }}\nspec: {{ scaleTargetRef: {{ kind: Deployment, name: a }}, maxReplicas: 2, scalingStrategy: {strategy} }}"
        );
        assert_eq!(
            problems(&yaml),
            [format!(
                "spec.metricsSources: at least one metric source is required for scalingStrategy {strategy}"
            )]
        );
    }
}

#[test]
fn disabled_direction_may_have_no_policies() {
    let yaml = format!(
        "{VALID_HPA}  behavior:\n    scaleDown:\n      selectPolicy: Disabled\n      policies: []\n"
    );
    let resolved = parse(&yaml).resolved().unwrap();
    assert!(resolved.behavior.scale_down.policies.is_empty());
}

#[test]
fn words_outside_their_set_are_listed_with_the_allowed_ones() {
    let yaml = VALID_HPA
        .replace("scalingStrategy: HPA", "scalingStrategy: hpa")
        .replace("metricSourceType: resource", "metricSourceType: prom");
    assert_eq!(
        problems(&yaml),
        [
            r#"spec.scalingStrategy: must be one of HPA, KPA, BudScaler (found "hpa")"#,
            r#"spec.metricsSources[0].metricSourceType: must be one of pod, resource, custom, external, prometheus, inferenceEngine (found "prom")"#,
        ]
    );
}

#[test]
fn kpa_knobs_are_checked_as_knative_checks_them() {
    let yaml = format!(
        "{}  kpaConfig:\n    stableWindow: 5s\n    panicWindowPercentage: 0.5\n    maxScaleUpRate: 1\n    maxScaleDownRate: 0.5\n    targetBurstCapacity: -2\n    scaleToZeroGracePeriod: 0s\n    scaleDownDelay: 1500ms\n    activationScale: 20\n    initialScale: 0\n",
        VALID_HPA.replace("scalingStrategy: HPA", "scalingStrategy: KPA")
    );
    assert_eq!(
        problems(&yaml),
        [
            "spec.kpaConfig.stableWindow: must be in 6s..=3600s (found 5s)",
            "spec.kpaConfig.panicWindowPercentage: must be in 1..=100 (found 0.5)",
            "spec.kpaConfig.maxScaleUpRate: must be > 1 (found 1)",
            "spec.kpaConfig.maxScaleDownRate: must be > 1 (found 0.5)",
            "spec.kpaConfig.targetBurstCapacity: must be >= 0, or -1 for unlimited (found -2)",
            "spec.kpaConfig.scaleToZeroGracePeriod: must be > 0s (found 0s)",
            "spec.kpaConfig.scaleDownDelay: must be a whole number of seconds (found 1.5s)",
            "spec.kpaConfig.activationScale: must be in 1..=10 (found 20)",
            "spec.kpaConfig.initialScale: must be >= 1, or 0 with allowZeroInitialScale: true (found 0)",
        ]
    );
    let allowed = yaml.replace(
        "initialScale: 0\n",
        "initialScale: 0\n    allowZeroInitialScale: true\n",
    );
    assert!(
        !problems(&allowed)
            .iter()
            .any(|l| l.contains("initialScale"))
    );
}

#[test]
fn metric_source_shapes_are_checked() {
    let yaml = VALID_HPA.replace(
        "    - { metricSourceType: resource, targetMetric: cpu, targetValue: '80' }",
        "    - { metricSourceType: prometheus, targetMetric: p99, targetValue: '0', port: '99999', path: metrics }
    - { metricSourceType: inferenceEngine, targetMetric: q, targetValue: 1, targetType: Utilization, promQL: 'up' }
    - { metricSourceType: pod, targetMetric: '', inferenceEngineConfig: { engineType: vllm, metricsPort: 0 } }",
    );
    assert_eq!(
        problems(&yaml),
        [
            r#"spec.metricsSources[0].targetValue: must be > 0 (found "0")"#,
            r#"spec.metricsSources[0].port: must be a port number in 1..=65535 (found "99999")"#,
            r#"spec.metricsSources[0].path: must start with / (found "metrics")"#,
            "spec.metricsSources[0].promQL: is required",
            "spec.metricsSources[1].targetType: Utilization applies only to metricSourceType resource (found metricSourceType inferenceEngine)",
            "spec.metricsSources[1].promQL: applies only to metricSourceType prometheus (found metricSourceType inferenceEngine)",
            "spec.metricsSources[1].inferenceEngineConfig: is required for metricSourceType inferenceEngine",
            "spec.metricsSources[2].targetMetric: must not be empty",
            "spec.metricsSources[2].targetValue: is required",
            "spec.metricsSources[2].inferenceEngineConfig: applies only to metricSourceType inferenceEngine (found metricSourceType pod)",
        ]
    );
}

#[test]
fn hints_are_checked() {
    let yaml = format!(
        "{}  scheduleHints:\n    - {{ name: a, cronExpression: '0 9 * * 1-5', targetReplicas: 11, duration: 1h }}\n    - {{ name: a, cronExpression: '0 9 * *', targetReplicas: 2, duration: 0 }}\n    - {{ name: c }}\n  predictionConfig: {{ lookAheadMinutes: 2, predictionMetrics: [cpu, rps] }}\n  gpuConfig: {{ gpuMemoryThreshold: 101 }}\n  costConfig: {{ cloudProvider: ibm, budgetPerHour: '-5', maxSpotPercentage: 70 }}\n  multiClusterConfig: {{ federationMode: mesh, clusterWeights: {{ east: -1 }} }}\n",
        VALID_HPA.replace("scalingStrategy: HPA", "scalingStrategy: BudScaler")
    );
    assert_eq!(
        problems(&yaml),
        [
            r#"spec.gpuConfig.gpuMemoryThreshold: must be in 0..=100 (found 101)"#,
            r#"spec.costConfig.cloudProvider: must be one of aws, gcp, azure (found "ibm")"#,
            r#"spec.costConfig.budgetPerHour: must be >= 0 (found "-5")"#,
            "spec.predictionConfig.lookAheadMinutes: must be in 5..=60 (found 2)",
            r#"spec.predictionConfig.predictionMetrics[1]: must name a metricsSources[].targetMetric (found "rps"; known: cpu)"#,
            "spec.scheduleHints[0].targetReplicas: must be in 1..=10 (found 11)",
            r#"spec.scheduleHints[1].name: must be unique (found "a", also scheduleHints[0].name)"#,
            r#"spec.scheduleHints[1].cronExpression: invalid cron expression "0 9 * *": expected 5 fields (minute hour day-of-month month day-of-week), found 4"#,
            "spec.scheduleHints[1].duration: must be > 0 (found 0)",
            "spec.scheduleHints[2].cronExpression: is required",
            "spec.scheduleHints[2].targetReplicas: is required",
            "spec.scheduleHints[2].duration: is required",
            r#"spec.multiClusterConfig.federationMode: must be one of active-active, active-passive, load-balanced (found "mesh")"#,
            "spec.multiClusterConfig.clusterWeights.east: must be >= 0 (found -1)",
        ]
    );
}

#[test]
fn unknown_fields_in_spec_are_rejected_when_parsing() {
    let json = r#"{"apiVersion":"scaler.bud.studio/v1alpha1","kind":"BudAIScaler","metadata":{"name":"a"},
        "spec":{"scaleTargetRef":{"kind":"Deployment","name":"a"},"maxReplicas":3,"maxReplica":4}}"#;
    let err = serde_json::from_str::<BudAIScaler>(json)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("unknown field `maxReplica`, expected one of"),
        "{err}"
    );

    let yaml = "spec:\n  behavior:\n    scaleUp:\n      stabilizationWindow: 30\n";
    let err = serde_saphyr::from_str::<BudAIScaler>(yaml)
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown field `stabilizationWindow`"), "{err}");
    assert!(err.contains("line 4"), "{err}");
}

#[test]
fn unknown_metadata_fields_are_accepted() {
    let yaml = VALID_HPA.replace("metadata: { name: web }", "metadata: { name: web, uid: 1234, generation: 3, creationTimestamp: '2024-01-01T00:00:00Z' }");
    parse(&yaml).validate().unwrap();
}
