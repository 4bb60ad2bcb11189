//! Invariants of the stateful HPA over random configurations and decision sequences.

use engine::hpa::{
    Behavior, Hpa, HpaConfig, HpaOutcome, HpaReason, HpaState, MetricSource, MetricTarget,
    PolicyKind, ScalingPolicy, ScalingRulesSpec, SelectPolicy, Tolerances,
};
use engine::observation::{Observation, PodPhase, PodSample, PodStatus};
use engine::time::{Micros, SECOND, seconds};
use proptest::prelude::*;
use std::collections::BTreeMap;

const OBJECT: &str = "queue";
const PODS: &str = "qps";

/// One tick of a scenario: time advance and the metric values seen.
#[derive(Debug, Clone)]
struct Tick {
    advance_s: i64,
    /// Object metric value; `None` = the metric is missing (the metric fails).
    object: Option<f64>,
    /// Per-pod metric value; `None` = no samples at all (the metric fails).
    per_pod: Option<f64>,
}

fn tick() -> impl Strategy<Value = Tick> {
    (
        1i64..60,
        prop::option::weighted(0.9, 0.0f64..40.0),
        prop::option::weighted(0.8, 0.0f64..10.0),
    )
        .prop_map(|(advance_s, object, per_pod)| Tick {
            advance_s,
            object,
            per_pod,
        })
}

fn policy() -> impl Strategy<Value = ScalingPolicy> {
    (any::<bool>(), 1i32..200, 1i64..=120).prop_map(|(pods, value, period_s)| {
        if pods {
            ScalingPolicy::pods(value.min(20), seconds(period_s))
        } else {
            ScalingPolicy::percent(value, seconds(period_s))
        }
    })
}

fn rules() -> impl Strategy<Value = ScalingRulesSpec> {
    (
        prop::option::of(0i64..=300),
        prop::option::of(prop_oneof![
            Just(SelectPolicy::Max),
            Just(SelectPolicy::Min),
            Just(SelectPolicy::Disabled)
        ]),
        prop::option::of(prop::collection::vec(policy(), 1..4)),
    )
        .prop_map(|(window, select, policies)| ScalingRulesSpec {
            stabilization_window: window.map(seconds),
            select_policy: select,
            policies,
        })
}

fn behavior() -> impl Strategy<Value = Option<Behavior>> {
    prop::option::of(
        (prop::option::of(rules()), prop::option::of(rules())).prop_map(
            |(scale_up, scale_down)| Behavior {
                scale_up,
                scale_down,
            },
        ),
    )
}

/// An object metric and a pods metric, so that either can fail alone.
fn config() -> impl Strategy<Value = HpaConfig> {
    (1i32..5, 0i32..30, behavior(), 0.0f64..0.3, 0.0f64..0.3).prop_map(
        |(min, span, behavior, up, down)| {
            let mut c = HpaConfig::new(
                min,
                min + span,
                vec![
                    MetricTarget {
                        name: OBJECT.into(),
                        source: MetricSource::ObjectValue { target: 10.0 },
                    },
                    MetricTarget {
                        name: PODS.into(),
                        source: MetricSource::PodsAverageValue { target: 5.0 },
                    },
                ],
            );
            c.behavior = behavior;
            c.tolerance = Tolerances {
                scale_up: up,
                scale_down: down,
            };
            c
        },
    )
}

/// `current` ready pods, with the tick's metric values.
fn observation(now: Micros, current: i32, t: &Tick) -> Observation {
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
    let mut pod_metrics = BTreeMap::new();
    if let Some(v) = t.per_pod {
        let samples = pods
            .iter()
            .map(|p| {
                let sample = PodSample {
                    timestamp: now,
                    window: 60 * SECOND,
                    value: v,
                };
                (p.name.clone(), sample)
            })
            .collect();
        pod_metrics.insert(PODS.to_string(), samples);
    }
    Observation {
        now,
        current_replicas: current,
        pods,
        pod_metrics,
        object_metrics: t
            .object
            .map(|v| (OBJECT.to_string(), v))
            .into_iter()
            .collect(),
        gpu: BTreeMap::new(),
        resource_requests: BTreeMap::new(),
        ..Observation::default()
    }
}

/// Runs a scenario, applying every decision; returns (observation, outcome) pairs.
fn run(
    hpa: &mut Hpa,
    config: &HpaConfig,
    start: i32,
    ticks: &[Tick],
    t0: Micros,
) -> Vec<(Observation, HpaOutcome)> {
    let mut now = t0;
    let mut current = start;
    let mut log = Vec::new();
    for t in ticks {
        now += seconds(t.advance_s);
        let obs = observation(now, current, t);
        let outcome = hpa
            .decide(config, &obs)
            .expect("generated configs are valid");
        current = outcome.desired_replicas;
        log.push((obs, outcome));
    }
    log
}

fn start_in(config: &HpaConfig, pick: u32) -> i32 {
    let span = (config.max_replicas - config.min_replicas + 1) as u32;
    config.min_replicas + (pick % span) as i32
}

/// The allowed extreme for one direction, recomputed from the applied history alone
/// (independently of the engine's stored events).
fn allowed(
    up: bool,
    current: i32,
    now: Micros,
    applied: &[(Micros, i32)],
    select: SelectPolicy,
    policies: &[ScalingPolicy],
) -> i64 {
    let per_policy = policies.iter().map(|p| {
        let start: i64 = i64::from(current)
            - applied
                .iter()
                .filter(|(at, _)| *at > now - p.period)
                .map(|(_, change)| i64::from(*change))
                .sum::<i64>();
        match (up, p.kind) {
            (true, PolicyKind::Pods) => start + i64::from(p.value),
            (true, PolicyKind::Percent) => {
                (start as f64 * (1.0 + f64::from(p.value) / 100.0)).ceil() as i64
            }
            (false, PolicyKind::Pods) => start - i64::from(p.value),
            (false, PolicyKind::Percent) => {
                (start as f64 * (1.0 - f64::from(p.value) / 100.0)).trunc() as i64
            }
        }
    });
    let most_permissive_is_max = up == (select == SelectPolicy::Max);
    let limit = if most_permissive_is_max {
        per_policy.max()
    } else {
        per_policy.min()
    }
    .unwrap_or(i64::from(current));
    if up {
        limit.max(i64::from(current))
    } else {
        limit.min(i64::from(current))
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn desired_stays_within_min_and_max(
        config in config(),
        pick in any::<u32>(),
        ticks in prop::collection::vec(tick(), 1..40),
    ) {
        let mut hpa = Hpa::new();
        let start = start_in(&config, pick);
        for (obs, outcome) in run(&mut hpa, &config, start, &ticks, seconds(1000)) {
            match outcome.reason {
                HpaReason::MetricsInvalid { .. } | HpaReason::ScalingDisabled => {
                    prop_assert_eq!(outcome.desired_replicas, obs.current_replicas);
                }
                _ => {
                    prop_assert!(outcome.desired_replicas >= config.min_replicas, "{:?}", outcome);
                    prop_assert!(outcome.desired_replicas <= config.max_replicas, "{:?}", outcome);
                }
            }
        }
    }

    #[test]
    fn rate_policies_are_never_exceeded(
        config in config(),
        pick in any::<u32>(),
        ticks in prop::collection::vec(tick(), 1..40),
    ) {
        let Some(behavior) = &config.behavior else { return Ok(()) };
        let resolved = behavior.resolve(config.downscale_stabilization);
        let mut hpa = Hpa::new();
        let start = start_in(&config, pick);
        // Net change per applied decision, signed.
        let mut applied: Vec<(Micros, i32)> = Vec::new();
        for (obs, outcome) in run(&mut hpa, &config, start, &ticks, seconds(1000)) {
            let (now, current, new) = (obs.now, obs.current_replicas, outcome.desired_replicas);
            if new > current {
                let limit = allowed(true, current, now, &applied, resolved.scale_up.select_policy, &resolved.scale_up.policies);
                let limit = if resolved.scale_up.select_policy == SelectPolicy::Disabled { i64::from(current) } else { limit };
                prop_assert!(i64::from(new) <= limit, "up to {} beyond limit {} at {}: {:?}", new, limit, now, applied);
            } else if new < current {
                let limit = allowed(false, current, now, &applied, resolved.scale_down.select_policy, &resolved.scale_down.policies);
                let limit = if resolved.scale_down.select_policy == SelectPolicy::Disabled { i64::from(current) } else { limit };
                prop_assert!(i64::from(new) >= limit, "down to {} beyond limit {} at {}: {:?}", new, limit, now, applied);
            }
            if new != current {
                applied.push((now, new - current));
            }
        }
    }

    #[test]
    fn a_failed_metric_never_lets_the_hpa_scale_down(
        config in config(),
        pick in any::<u32>(),
        ticks in prop::collection::vec(tick(), 1..40),
    ) {
        let mut hpa = Hpa::new();
        let start = start_in(&config, pick);
        for (obs, outcome) in run(&mut hpa, &config, start, &ticks, seconds(1000)) {
            if outcome.proposals.iter().any(|p| p.result.is_err()) {
                prop_assert!(outcome.desired_replicas >= obs.current_replicas, "{:?}", outcome);
            }
        }
    }

    #[test]
    fn same_inputs_give_the_same_outcomes(
        config in config(),
        pick in any::<u32>(),
        ticks in prop::collection::vec(tick(), 1..40),
    ) {
        let start = start_in(&config, pick);
        let mut a = Hpa::new();
        let mut b = Hpa::new();
        let first = run(&mut a, &config, start, &ticks, seconds(1000));
        let second = run(&mut b, &config, start, &ticks, seconds(1000));
        prop_assert_eq!(first, second);
        prop_assert_eq!(a.state(), b.state());
    }

    #[test]
    fn saved_state_continues_identically(
        config in config(),
        pick in any::<u32>(),
        before in prop::collection::vec(tick(), 1..30),
        after in prop::collection::vec(tick(), 1..30),
    ) {
        let start = start_in(&config, pick);
        let mut original = Hpa::new();
        let log = run(&mut original, &config, start, &before, seconds(1000));
        let (last_obs, last) = log.last().expect("at least one tick");
        let resume_at = last_obs.now;
        let current = last.desired_replicas;

        let json = serde_json::to_string(original.state()).expect("state serializes");
        let state: HpaState = serde_json::from_str(&json).expect("state deserializes");
        prop_assert_eq!(&state, original.state());
        let mut restored = Hpa::from_state(state);

        let a = run(&mut original, &config, current, &after, resume_at);
        let b = run(&mut restored, &config, current, &after, resume_at);
        prop_assert_eq!(a, b);
    }
}
