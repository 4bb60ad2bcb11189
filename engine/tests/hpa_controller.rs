//! The stateful HPA through whole reconciles (upstream `reconcileAutoscaler`).

use engine::hpa::{
    Behavior, ConfigError, Hpa, HpaConfig, HpaReason, LimitReason, MetricError, MetricSource,
    MetricTarget, ResourceKind, ResourceRequests, ScaleEvent, StabilizationReason,
};
use engine::observation::{Observation, PodPhase, PodSample, PodStatus};
use engine::time::{Micros, seconds};
use std::collections::BTreeMap;

const T0: Micros = seconds(100_000);

fn cpu_config(min: i32, max: i32) -> HpaConfig {
    HpaConfig::new(
        min,
        max,
        vec![MetricTarget {
            name: "cpu".into(),
            source: MetricSource::ResourceUtilization {
                target_percent: 50,
                resource: ResourceKind::Cpu,
                requests: ResourceRequests::uniform(1000),
            },
        }],
    )
}

fn object_config(min: i32, max: i32) -> HpaConfig {
    HpaConfig::new(
        min,
        max,
        vec![MetricTarget {
            name: "queue".into(),
            source: MetricSource::ObjectValue { target: 10.0 },
        }],
    )
}

/// `current` long-running ready pods, each using `usage_milli` CPU.
fn cpu_obs(now: Micros, current: i32, usage_milli: f64) -> Observation {
    let pods: Vec<PodStatus> = (0..current)
        .map(|i| PodStatus {
            name: format!("p{i}"),
            phase: PodPhase::Running,
            ready: true,
            start_time: Some(now - seconds(3600)),
            ready_transition_time: Some(now - seconds(3590)),
            deleting: false,
            creation_time: None,
            spot: false,
        })
        .collect();
    let samples = pods
        .iter()
        .map(|p| {
            let sample = PodSample {
                timestamp: now,
                window: seconds(60),
                value: usage_milli,
            };
            (p.name.clone(), sample)
        })
        .collect();
    Observation {
        now,
        current_replicas: current,
        pods,
        pod_metrics: BTreeMap::from([("cpu".to_string(), samples)]),
        ..Observation::default()
    }
}

#[test]
fn the_first_recommendation_is_the_current_count_and_holds_a_legacy_scale_down() {
    let config = cpu_config(1, 10);
    let mut hpa = Hpa::new();
    // 10% of request vs a 50% target: the calculator proposes 1.
    let first = hpa.decide(&config, &cpu_obs(T0, 5, 100.0)).unwrap();
    assert_eq!(first.desired_replicas, 5);
    assert_eq!(
        first.reason,
        HpaReason::Normalized {
            metric_replicas: 1,
            stabilization: StabilizationReason::ScaleDownStabilized,
            limit: LimitReason::DesiredWithinRange,
            invalid_metrics: 0,
        }
    );
    assert_eq!(hpa.state().recommendations.len(), 2);

    // 5 minutes later both entries sit exactly on the cutoff and still count.
    let held = hpa
        .decide(&config, &cpu_obs(T0 + seconds(300), 5, 100.0))
        .unwrap();
    assert_eq!(held.desired_replicas, 5);
    // One microsecond later they are outside the window.
    let released = hpa
        .decide(&config, &cpu_obs(T0 + seconds(300) + 1, 5, 100.0))
        .unwrap();
    assert_eq!(released.desired_replicas, 1);
    assert!(
        hpa.state().scale_events.down.is_empty(),
        "no events without a behavior"
    );
}

#[test]
fn zero_replicas_with_a_nonzero_minimum_disables_scaling() {
    let mut hpa = Hpa::new();
    let outcome = hpa
        .decide(&cpu_config(1, 10), &cpu_obs(T0, 0, 900.0))
        .unwrap();
    assert_eq!(outcome.desired_replicas, 0);
    assert_eq!(outcome.reason, HpaReason::ScalingDisabled);
    assert!(outcome.proposals.is_empty());
}

#[test]
fn out_of_range_counts_are_clamped_without_reading_metrics_and_stored_as_events() {
    let mut config = cpu_config(2, 10);
    config.behavior = Some(Behavior::default());
    let mut hpa = Hpa::new();
    let above = hpa.decide(&config, &cpu_obs(T0, 12, 900.0)).unwrap();
    assert_eq!(
        (above.desired_replicas, above.reason),
        (10, HpaReason::AboveMaxReplicas)
    );
    assert!(above.proposals.is_empty());
    assert_eq!(
        hpa.state().scale_events.down,
        vec![ScaleEvent {
            at: T0,
            change: 2,
            outdated: false
        }]
    );
    let below = hpa
        .decide(&config, &cpu_obs(T0 + seconds(15), 1, 900.0))
        .unwrap();
    assert_eq!(
        (below.desired_replicas, below.reason),
        (2, HpaReason::BelowMinReplicas)
    );
    assert_eq!(hpa.state().scale_events.up.len(), 1);
}

#[test]
fn failing_metrics_keep_the_current_count() {
    let mut hpa = Hpa::new();
    let mut obs = cpu_obs(T0, 4, 100.0);
    obs.pod_metrics.clear();
    let outcome = hpa.decide(&cpu_config(1, 10), &obs).unwrap();
    assert_eq!(outcome.desired_replicas, 4);
    assert_eq!(
        outcome.reason,
        HpaReason::MetricsInvalid {
            invalid: 1,
            total: 1
        }
    );
    assert_eq!(
        outcome.proposals[0].result,
        Err(MetricError::NoSamples {
            metric: "cpu".into()
        })
    );
}

#[test]
fn an_object_metric_scales_from_zero() {
    let mut hpa = Hpa::new();
    let obs = Observation {
        now: T0,
        current_replicas: 0,
        object_metrics: BTreeMap::from([("queue".to_string(), 25.0)]),
        ..Observation::default()
    };
    let outcome = hpa.decide(&object_config(0, 10), &obs).unwrap();
    assert_eq!(outcome.desired_replicas, 3);
}

#[test]
fn default_behavior_allows_four_pods_or_double_per_fifteen_seconds() {
    let mut config = cpu_config(1, 100);
    config.behavior = Some(Behavior::default());
    let mut hpa = Hpa::new();
    // 100% vs 50% from 3 pods proposes 6: within max(3+4, 3*2)=7.
    let first = hpa.decide(&config, &cpu_obs(T0, 3, 1000.0)).unwrap();
    assert_eq!(first.desired_replicas, 6);
    // 10 s later 12 is proposed, but the period started at 3: at most max(7, 6)=7.
    let second = hpa
        .decide(&config, &cpu_obs(T0 + seconds(10), 6, 1000.0))
        .unwrap();
    assert_eq!(second.desired_replicas, 7);
    assert!(matches!(
        second.reason,
        HpaReason::Normalized {
            limit: LimitReason::ScaleUpLimit,
            ..
        }
    ));
}

#[test]
fn an_invalid_config_is_refused_without_touching_the_state() {
    let mut hpa = Hpa::new();
    let err = hpa
        .decide(&cpu_config(0, 10), &cpu_obs(T0, 2, 100.0))
        .unwrap_err();
    let ConfigError::Invalid { field, .. } = err;
    assert_eq!(field, "min_replicas");
    assert_eq!(hpa, Hpa::new());
}
