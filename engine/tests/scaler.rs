//! The top-level `Scaler`: manifests in, decisions out, state that survives restarts.

use engine::observation::{Observation, PodPhase, PodSample, PodStatus};
use engine::spec::BudAIScaler;
use engine::time::{Micros, seconds};
use engine::{Reason, Scaler, ScalerError, ScalerState};
use proptest::prelude::*;
use std::collections::BTreeMap;

fn manifest(name: &str) -> BudAIScaler {
    let path = format!(
        "{}/../scenarios/scalers/{name}.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap();
    serde_saphyr::from_str(&text).unwrap()
}

fn inline(yaml: &str) -> BudAIScaler {
    serde_saphyr::from_str(yaml).unwrap()
}

fn pod(name: &str, started: Micros) -> PodStatus {
    PodStatus {
        name: name.into(),
        phase: PodPhase::Running,
        ready: true,
        start_time: Some(started),
        ready_transition_time: Some(started),
        deleting: false,
        creation_time: None,
        spot: false,
    }
}

/// `pods` ready pods, each reporting `value` for `metric`.
fn observe(now: Micros, current: i32, pods: i32, metric: &str, value: f64) -> Observation {
    let pods: Vec<PodStatus> = (0..pods).map(|i| pod(&format!("p{i}"), 0)).collect();
    let samples = pods
        .iter()
        .map(|p| {
            let sample = PodSample {
                timestamp: now,
                window: seconds(15),
                value,
            };
            (p.name.clone(), sample)
        })
        .collect();
    Observation {
        now,
        current_replicas: current,
        pods,
        pod_metrics: BTreeMap::from([(metric.to_string(), samples)]),
        ..Observation::default()
    }
}

#[test]
fn hpa_scales_up_on_queue_per_pod_within_the_default_rate() {
    let mut scaler = Scaler::new(&manifest("hpa")).unwrap();
    // 2 pods with 20 waiting each vs a target of 4: ratio 5 -> 10 pods, but the
    // default scale-up policy allows max(4 pods, 100%) = +4 per 15 s.
    let decision = scaler.decide(&observe(seconds(1000), 2, 2, "num_requests_waiting", 20.0));
    assert_eq!(decision.desired_replicas, 6);
    assert_eq!(decision.reason, Reason::ScaleUpLimit);
    assert_eq!(decision.metrics[0].proposed_replicas, Some(10));
    assert_eq!(decision.metrics[0].value, Some(20.0));
    assert!(
        decision.message.contains("ScaleUpLimit"),
        "{}",
        decision.message
    );
}

#[test]
fn hpa_cpu_utilization_reads_requests_from_the_observation() {
    let mut scaler = Scaler::new(&inline(
        r#"
apiVersion: scaler.bud.studio/v1alpha1
kind: BudAIScaler
metadata: { name: cpu }
spec:
  scaleTargetRef: { kind: Deployment, name: app }
  minReplicas: 1
  maxReplicas: 10
  scalingStrategy: HPA
  metricsSources:
    - { metricSourceType: resource, targetMetric: cpu, targetValue: "50" }
"#,
    ))
    .unwrap();
    // Pods started long ago (outside the CPU initialization period).
    let mut obs = observe(seconds(3600), 3, 3, "cpu", 1500.0);
    for pod in &mut obs.pods {
        pod.start_time = Some(0);
        pod.ready_transition_time = Some(seconds(10));
    }
    // 1500m of a 1000m request = 150% vs 50% -> 9 pods; +4 per 15 s allows 7.
    let requests = obs.pods.iter().map(|p| (p.name.clone(), 1000)).collect();
    obs.resource_requests.insert("cpu".into(), requests);
    let decision = scaler.decide(&obs);
    assert_eq!(decision.metrics[0].value, Some(150.0));
    assert_eq!(decision.metrics[0].proposed_replicas, Some(9));
    assert_eq!(decision.desired_replicas, 7);

    // Without requests the utilization metric fails and nothing changes.
    let mut fresh = Scaler::new(&scaler_manifest_cpu()).unwrap();
    obs.resource_requests.clear();
    let decision = fresh.decide(&obs);
    assert_eq!(decision.desired_replicas, 3);
    assert_eq!(decision.reason, Reason::MetricsUnavailable);
    assert!(decision.metrics[0].error.is_some());
}

#[test]
fn sources_a_driver_could_not_read_are_named_in_the_decision_and_decide_nothing() {
    let mut obs = observe(seconds(3600), 3, 3, "cpu", 1500.0);
    for pod in &mut obs.pods {
        pod.start_time = Some(0);
        pod.ready_transition_time = Some(seconds(10));
    }
    obs.resource_requests.clear();
    let plain = Scaler::new(&scaler_manifest_cpu()).unwrap().decide(&obs);
    obs.source_errors
        .insert("metrics.k8s.io".into(), "HTTP 503".into());
    let named = Scaler::new(&scaler_manifest_cpu()).unwrap().decide(&obs);
    assert_eq!(named.desired_replicas, plain.desired_replicas);
    assert_eq!(named.reason, plain.reason);
    assert_eq!(
        named.message,
        format!(
            "{}; sources not read: metrics.k8s.io: HTTP 503",
            plain.message
        )
    );
}

fn scaler_manifest_cpu() -> BudAIScaler {
    inline(
        r#"
apiVersion: scaler.bud.studio/v1alpha1
kind: BudAIScaler
metadata: { name: cpu }
spec:
  scaleTargetRef: { kind: Deployment, name: app }
  maxReplicas: 10
  scalingStrategy: HPA
  metricsSources:
    - { metricSourceType: resource, targetMetric: cpu, targetValue: "50" }
"#,
    )
}

#[test]
fn kpa_follows_concurrency_and_panics_on_a_burst() {
    let mut scaler = Scaler::new(&manifest("kpa")).unwrap();
    let mut t = seconds(10);
    // Steady: 2 pods x 16 in flight = 32 total vs 16 per pod -> 2.
    let mut last = None;
    for _ in 0..40 {
        last = Some(scaler.decide(&observe(t, 2, 2, "concurrency", 16.0)));
        t += seconds(2);
    }
    let steady = last.unwrap();
    assert_eq!(steady.desired_replicas, 2, "{}", steady.message);
    assert!(!steady.in_panic);
    // Burst: 2 pods x 80 = 160 total -> panic (>= 2x capacity), desired 10.
    let burst = scaler.decide(&observe(t, 2, 2, "concurrency", 80.0));
    assert!(burst.in_panic, "{}", burst.message);
    assert!(burst.desired_replicas > 2);
    assert_eq!(burst.reason, Reason::Panic);
}

#[test]
fn an_invalid_manifest_reports_every_problem() {
    let error = Scaler::new(&inline(
        r#"
apiVersion: scaler.bud.studio/v1alpha1
kind: BudAIScaler
metadata: { name: bad }
spec:
  scaleTargetRef: { kind: Deployment, name: app }
  minReplicas: 5
  maxReplicas: 2
  scalingStrategy: HPA
  behavior:
    scaleUp:
      policies: [{ type: Pods, value: 4, periodSeconds: 0 }]
"#,
    ))
    .unwrap_err();
    let ScalerError::Invalid(errors) = &error else {
        panic!("expected a validation error, got {error}")
    };
    let text = error.to_string();
    assert!(errors.len() >= 3, "{text}");
    assert!(
        text.contains("spec.behavior.scaleUp.policies[0].periodSeconds"),
        "{text}"
    );
    assert!(
        text.contains("spec.minReplicas") || text.contains("spec.maxReplicas"),
        "{text}"
    );
}

#[test]
fn a_snapshot_of_another_strategy_is_refused() {
    let hpa = Scaler::new(&manifest("hpa")).unwrap();
    let error = Scaler::restore(&manifest("kpa"), hpa.snapshot()).unwrap_err();
    assert!(
        matches!(error, ScalerError::SnapshotMismatch { .. }),
        "{error}"
    );
}

/// A valid BudScaler manifest with `kpa` as its `kpaConfig` (a YAML flow mapping).
fn budscaler_with_kpa(strategy: &str, kpa: &str) -> BudAIScaler {
    inline(&format!(
        r#"
apiVersion: scaler.bud.studio/v1alpha1
kind: BudAIScaler
metadata: {{ name: kpa-fields }}
spec:
  scaleTargetRef: {{ kind: Deployment, name: app }}
  minReplicas: 1
  maxReplicas: 8
  scalingStrategy: {strategy}
  metricsSources:
    - {{ metricSourceType: pod, targetMetric: num_requests_waiting, targetValue: "4" }}
  kpaConfig: {kpa}
"#
    ))
}

#[test]
fn budscaler_accepts_the_kpa_fields_it_reads() {
    let manifest = budscaler_with_kpa(
        "BudScaler",
        "{ stableWindow: 90s, panicThresholdPercentage: 300, scaleToZeroGracePeriod: 45s, \
         targetUtilizationPercentage: 65 }",
    );
    let scaler = Scaler::new(&manifest).unwrap();
    assert_eq!(scaler.spec().kpa.target_utilization, 0.65);
    assert_eq!(scaler.spec().kpa.stable_window, seconds(90));
    assert_eq!(scaler.spec().kpa.panic_threshold_percentage, 300.0);
    assert_eq!(scaler.spec().kpa.scale_to_zero_grace_period, seconds(45));
    Scaler::new(&budscaler_with_kpa("BudScaler", "{}")).unwrap();
}

#[test]
fn budscaler_refuses_every_kpa_field_it_does_not_read() {
    let ignored = [
        ("panicWindowPercentage", "5"),
        ("maxScaleUpRate", "10"),
        ("maxScaleDownRate", "4"),
        ("targetBurstCapacity", "-1"),
        ("scaleToZeroPodRetentionPeriod", "1m"),
        ("scaleDownDelay", "2m"),
        ("activationScale", "2"),
        ("initialScale", "2"),
        ("allowZeroInitialScale", "false"),
    ];
    for (name, value) in ignored {
        // Beside the fields BudScaler reads, so those are no excuse.
        let kpa = format!("{{ stableWindow: 60s, {name}: {value} }}");
        let error = Scaler::new(&budscaler_with_kpa("BudScaler", &kpa)).unwrap_err();
        let ScalerError::Unsupported { field, message } = &error else {
            panic!("{name}: expected Unsupported, got {error}")
        };
        assert_eq!(field, &format!("spec.kpaConfig.{name}"));
        assert!(message.contains("BudScaler does not read it"), "{message}");
        // The same field is KPA's own and stays accepted there.
        Scaler::new(&budscaler_with_kpa("KPA", &kpa))
            .unwrap_or_else(|error| panic!("KPA refused {name}: {error}"));
    }
}

#[test]
fn target_utilization_is_budscalers_alone_and_in_range() {
    let error = Scaler::new(&budscaler_with_kpa(
        "KPA",
        "{ targetUtilizationPercentage: 70 }",
    ))
    .unwrap_err();
    let ScalerError::Unsupported { field, message } = &error else {
        panic!("expected Unsupported, got {error}")
    };
    assert_eq!(field, "spec.kpaConfig.targetUtilizationPercentage");
    assert!(
        message.contains("already the target after utilization"),
        "{message}"
    );
    let error = Scaler::new(&budscaler_with_kpa(
        "BudScaler",
        "{ targetUtilizationPercentage: 120 }",
    ))
    .unwrap_err()
    .to_string();
    assert!(
        error
            .contains("spec.kpaConfig.targetUtilizationPercentage: must be in 1..=100 (found 120)"),
        "{error}"
    );
    // Not written: 80 %.
    let scaler = Scaler::new(&budscaler_with_kpa("BudScaler", "{}")).unwrap();
    assert_eq!(scaler.spec().kpa.target_utilization, 0.8);
}

#[test]
fn budscaler_reports_an_invalid_kpa_value_before_refusing_the_field() {
    // Validation runs first: a bad value is reported as such, with every problem.
    let error = Scaler::new(&budscaler_with_kpa(
        "BudScaler",
        "{ stableWindow: 5s, maxScaleUpRate: 1 }",
    ))
    .unwrap_err();
    let ScalerError::Invalid(_) = &error else {
        panic!("expected a validation error, got {error}")
    };
    let text = error.to_string();
    assert!(text.contains("spec.kpaConfig.stableWindow"), "{text}");
    assert!(text.contains("spec.kpaConfig.maxScaleUpRate"), "{text}");
}

/// A random but valid sequence of observations for `metric`.
fn observations(metric: &'static str) -> impl Strategy<Value = Vec<(i64, i32, i32, f64)>> {
    // (seconds since last, current replicas, ready pods, per-pod value)
    prop::collection::vec((1i64..60, 0i32..20, 0i32..20, 0.0f64..200.0), 1..40).prop_map(
        move |steps| {
            let _ = metric;
            steps
        },
    )
}

fn replay(
    scaler: &mut Scaler,
    metric: &str,
    steps: &[(i64, i32, i32, f64)],
    start: Micros,
) -> Vec<String> {
    let mut t = start;
    steps
        .iter()
        .map(|&(dt, current, pods, value)| {
            t += seconds(dt);
            let decision = scaler.decide(&observe(t, current, pods, metric, value));
            serde_json::to_string(&decision).unwrap()
        })
        .collect()
}

const CASES: [(&str, &str); 3] = [
    ("hpa", "num_requests_waiting"),
    ("kpa", "concurrency"),
    ("budscaler", "num_requests_waiting"),
];

proptest! {
    #[test]
    fn desired_stays_within_min_and_max(steps in observations("any"), which in 0usize..3) {
        let (name, metric) = CASES[which];
        let manifest = manifest(name);
        let mut scaler = Scaler::new(&manifest).unwrap();
        let (min, max) = (scaler.spec().min_replicas, scaler.spec().max_replicas);
        let mut t = 0;
        for &(dt, current, pods, value) in &steps {
            t += seconds(dt);
            let current = current.clamp(min.max(1), max);
            let decision = scaler.decide(&observe(t, current, pods, metric, value));
            prop_assert!(decision.desired_replicas >= min && decision.desired_replicas <= max,
                "{}: {} outside [{min}, {max}]: {}", name, decision.desired_replicas, decision.message);
        }
    }

    #[test]
    fn same_inputs_give_the_same_decisions(steps in observations("any"), which in 0usize..3) {
        let (name, metric) = CASES[which];
        let mut a = Scaler::new(&manifest(name)).unwrap();
        let mut b = Scaler::new(&manifest(name)).unwrap();
        prop_assert_eq!(replay(&mut a, metric, &steps, 0), replay(&mut b, metric, &steps, 0));
    }

    #[test]
    fn snapshot_and_restore_continue_identically(
        before in observations("any"), after in observations("any"), which in 0usize..3,
    ) {
        let (name, metric) = CASES[which];
        let manifest = manifest(name);
        let mut original = Scaler::new(&manifest).unwrap();
        replay(&mut original, metric, &before, 0);
        let saved = serde_json::to_string(&original.snapshot()).unwrap();
        let state: ScalerState = serde_json::from_str(&saved).unwrap();
        let mut restored = Scaler::restore(&manifest, state).unwrap();
        let start = seconds(before.iter().map(|s| s.0).sum::<i64>());
        prop_assert_eq!(
            replay(&mut original, metric, &after, start),
            replay(&mut restored, metric, &after, start)
        );
    }
}

#[test]
fn the_proof_variants_are_valid_manifests() {
    for name in ["hpa-running", "hpa-kv", "kpa-c32"] {
        let scaler = Scaler::new(&manifest(&format!("variants/{name}")));
        assert!(scaler.is_ok(), "{name}: {}", scaler.unwrap_err());
    }
}

/// KEDA's cron scaler on the HPA: while a hint is active its `targetReplicas` joins the
/// metric proposals (the largest wins), then the HPA's behavior applies.
#[test]
fn hpa_schedule_hints_join_the_metric_proposals_as_keda_cron_does() {
    let mut scaler = Scaler::new(&inline(
        r#"
apiVersion: scaler.bud.studio/v1alpha1
kind: BudAIScaler
metadata: { name: keda }
spec:
  scaleTargetRef: { kind: Deployment, name: llm }
  scalingStrategy: HPA
  minReplicas: 1
  maxReplicas: 20
  metricsSources:
    - { metricSourceType: pod, targetMetric: num_requests_waiting, targetValue: "4" }
  scheduleHints:
    - { name: morning, cronExpression: "0 8 * * *", targetReplicas: 6, duration: 1h }
"#,
    ))
    .unwrap();
    assert!(scaler.spec().needs_wall_clock());
    // 2026-06-01T08:30:00Z.
    let eight_thirty: Micros = 1_780_302_600 * 1_000_000;
    let at = |offset_s: i64, current: i32, waiting: f64| {
        let mut obs = observe(
            seconds(1000 + offset_s),
            current,
            current,
            "num_requests_waiting",
            waiting,
        );
        obs.wall_clock = Some(eight_thirty + seconds(offset_s));
        obs
    };
    // Inside the window, 4 pods with 1 waiting each propose 1; the hint proposes 6.
    let d = scaler.decide(&at(0, 4, 1.0));
    assert_eq!(d.desired_replicas, 6, "{}", d.message);
    assert_eq!(d.reason, Reason::ScheduleHint);
    let by = d.decided_by.as_ref().unwrap();
    assert_eq!((by.name.as_str(), by.replicas), ("morning", 6));
    assert_eq!(d.schedule_hint.as_ref().unwrap().target_replicas, 6);
    assert!(
        d.message.contains("hint morning floor 6 set the proposal"),
        "{}",
        d.message
    );
    // Only the manifest's metrics are listed as readings.
    assert_eq!(d.metrics.len(), 1);
    // A metric asking for more wins over the hint: 6 pods × 8 waiting / 4 = 12.
    let d = scaler.decide(&at(60, 6, 8.0));
    assert_eq!(d.desired_replicas, 12, "{}", d.message);
    assert!(d.decided_by.is_none());
    assert!(d.schedule_hint.is_some());
    // The window ends at 09:00 (offset 1800 s): the metric alone decides, and the
    // scale-down stabilization holds the last 5 minutes' highest recommendation.
    let d = scaler.decide(&at(1700, 12, 1.0));
    assert_eq!(
        (d.desired_replicas, d.reason),
        (6, Reason::ScheduleHint),
        "{}",
        d.message
    );
    let d = scaler.decide(&at(1900, 6, 0.5));
    assert!(d.schedule_hint.is_none(), "{}", d.message);
    assert_eq!(
        (d.desired_replicas, d.reason),
        (6, Reason::ScaleDownStabilized),
        "{}",
        d.message
    );
    // 6 × 0.5 / 4 = 0.75 → 1, within the scale-down rate (100% per 15 s).
    let d = scaler.decide(&at(1900 + 400, 6, 0.5));
    assert_eq!(d.desired_replicas, 1, "{}", d.message);
}

#[test]
fn hpa_without_a_calendar_never_activates_hints() {
    let mut scaler = Scaler::new(&inline(
        r#"
apiVersion: scaler.bud.studio/v1alpha1
kind: BudAIScaler
metadata: { name: keda }
spec:
  scaleTargetRef: { kind: Deployment, name: llm }
  scalingStrategy: HPA
  maxReplicas: 20
  metricsSources:
    - { metricSourceType: pod, targetMetric: num_requests_waiting, targetValue: "4" }
  scheduleHints:
    - { name: always, cronExpression: "* * * * *", targetReplicas: 6, duration: 1h }
"#,
    ))
    .unwrap();
    let d = scaler.decide(&observe(seconds(1000), 2, 2, "num_requests_waiting", 4.0));
    assert_eq!(d.desired_replicas, 2, "{}", d.message);
    assert!(d.schedule_hint.is_none());
}

#[test]
fn mode_is_active_unless_written_and_an_unknown_mode_is_refused() {
    use engine::spec::Mode;
    let active = Scaler::new(&budscaler_with_kpa("KPA", "{}")).unwrap();
    assert_eq!(active.spec().mode, Mode::Active);
    let mut shadow_manifest = budscaler_with_kpa("KPA", "{}");
    shadow_manifest.spec.mode = Some("Shadow".into());
    let shadow = Scaler::new(&shadow_manifest).unwrap();
    assert_eq!(shadow.spec().mode, Mode::Shadow);
    let mut bad = budscaler_with_kpa("KPA", "{}");
    bad.spec.mode = Some("Passive".into());
    let error = Scaler::new(&bad).unwrap_err().to_string();
    assert!(error.contains("spec.mode"), "{error}");
    assert!(error.contains("Passive"), "{error}");
}

/// A change that was never applied (shadow mode, a failed patch) must not use up the
/// HPA's rate budget: with 1 pod per minute, a shadow scaler that never scaled would
/// otherwise be refused its next scale-up.
#[test]
fn a_decision_not_applied_leaves_no_scale_event() {
    let yaml = |strategy: &str| {
        inline(&format!(
            r#"
apiVersion: scaler.bud.studio/v1alpha1
kind: BudAIScaler
metadata: {{ name: shadow }}
spec:
  scaleTargetRef: {{ kind: Deployment, name: llm }}
  scalingStrategy: {strategy}
  minReplicas: 1
  maxReplicas: 20
  metricsSources:
    - {{ metricSourceType: pod, targetMetric: num_requests_waiting, targetValue: "4" }}
  behavior:
    scaleUp:
      stabilizationWindowSeconds: 0
      policies: [{{ type: Pods, value: 1, periodSeconds: 60 }}]
"#
        ))
    };
    for strategy in ["HPA", "BudScaler"] {
        let (mut applied, mut shadow) = (
            Scaler::new(&yaml(strategy)).unwrap(),
            Scaler::new(&yaml(strategy)).unwrap(),
        );
        // One pod with 40 waiting: both ask for 2 (the policy's +1).
        let busy = |t: i64| observe(seconds(t), 1, 1, "num_requests_waiting", 40.0);
        let first = applied.decide(&busy(15));
        assert_eq!(first.desired_replicas, 2, "{strategy}: {}", first.message);
        let first_shadow = shadow.decide(&busy(15));
        assert_eq!(first_shadow, first);
        shadow.not_applied(&first_shadow);
        // 15 s later the target still has 1 replica (nothing was applied). A scaler that
        // counts its change as made has no budget left this minute; one told the change
        // was not applied asks again.
        let counted = applied.decide(&busy(30));
        assert_eq!(
            counted.desired_replicas, 1,
            "{strategy}: {}",
            counted.message
        );
        let again = shadow.decide(&busy(30));
        assert_eq!(again.desired_replicas, 2, "{strategy}: {}", again.message);
    }
}

/// `AbleToScale`, `ScalingActive` and `ScalingLimited` come out separately, as the
/// Kubernetes HPA sets them, where `reason` keeps one word.
#[test]
fn conditions_are_kept_apart() {
    let manifest = |max: i32| {
        inline(&format!(
            r#"
apiVersion: scaler.bud.studio/v1alpha1
kind: BudAIScaler
metadata: {{ name: c }}
spec:
  scaleTargetRef: {{ kind: Deployment, name: llm }}
  scalingStrategy: HPA
  minReplicas: 1
  maxReplicas: {max}
  metricsSources:
    - {{ metricSourceType: pod, targetMetric: num_requests_waiting, targetValue: "4" }}
  behavior:
    scaleUp: {{ stabilizationWindowSeconds: 0, policies: [{{ type: Pods, value: 100, periodSeconds: 15 }}] }}
    scaleDown: {{ stabilizationWindowSeconds: 300 }}
"#
        ))
    };
    // 4 pods × 40 waiting ÷ 4 = 40, clamped to 6.
    let mut scaler = Scaler::new(&manifest(6)).unwrap();
    let d = scaler.decide(&observe(seconds(15), 4, 4, "num_requests_waiting", 40.0));
    assert_eq!((d.desired_replicas, d.reason), (6, Reason::TooManyReplicas));
    let c = &d.conditions;
    assert!(c.scaling_limited.status);
    assert_eq!(c.scaling_limited.reason, "TooManyReplicas");
    assert_eq!(
        (c.able_to_scale.status, c.able_to_scale.reason.as_str()),
        (true, "ReadyForNewScale")
    );
    assert_eq!(
        (c.scaling_active.status, c.scaling_active.reason.as_str()),
        (true, "ValidMetricFound")
    );
    // Load falls: the 5-minute window holds the count up.
    let d = scaler.decide(&observe(seconds(30), 6, 6, "num_requests_waiting", 0.0));
    assert_eq!(d.desired_replicas, 6);
    assert_eq!(d.conditions.able_to_scale.reason, "ScaleDownStabilized");
    assert!(!d.conditions.scaling_limited.status);
    // No sample from any pod: no usable metric.
    let mut blind = observe(seconds(45), 6, 6, "num_requests_waiting", 0.0);
    blind.pod_metrics.clear();
    let d = scaler.decide(&blind);
    assert_eq!(d.reason, Reason::MetricsUnavailable);
    assert_eq!(
        (
            d.conditions.scaling_active.status,
            d.conditions.scaling_active.reason.as_str()
        ),
        (false, "FailedGetMetrics")
    );
    // The KPA reports its rate cap as ScalingLimited.
    let c = engine::decision::Conditions::from_reason(Reason::MaxScaleUpRate);
    assert_eq!(
        (c.scaling_limited.status, c.scaling_limited.reason.as_str()),
        (true, "ScaleUpLimit")
    );
}
